//! `/api/v1` for connectivity: whether each school reaches Préau, and its links (read
//! where the school is readable; kept by the administrator and the school's technician).

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{NaiveDate, Utc};
use preau_core::connectivity;
use preau_core::write_tx;
use preau_domain::connectivity::LinkInput;
use serde::{Deserialize, Serialize};

use super::schema::{List, input};
use super::types;
use super::{Answer, Created, Patch, body, created, merge, version};
use crate::AppState;
use crate::error::ApiError;
use crate::session::ApiAuth;

/// Every readable school, offline first.
pub(super) async fn statuses(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
) -> Answer<List<types::SchoolConnectivity>> {
    let items = connectivity::statuses(&s.db, &p)
        .await?
        .iter()
        .map(types::SchoolConnectivity::from)
        .collect();
    Ok(Json(List { items, next: None }))
}

pub(super) async fn links(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    Path(id): Path<i64>,
) -> Answer<List<types::SchoolLink>> {
    let items = connectivity::links(&s.db, &p, id)
        .await?
        .iter()
        .map(types::SchoolLink::from)
        .collect();
    Ok(Json(List { items, next: None }))
}

/// A link as the API takes it: bandwidths in Mbit/s and the price in cents, as numbers.
#[derive(Deserialize, Serialize, Default)]
pub(super) struct LinkBody {
    technology: String,
    role: String,
    #[serde(default)]
    operator_id: Option<i64>,
    #[serde(default)]
    contract_ref: String,
    #[serde(default)]
    line_number: String,
    down_mbps: f64,
    up_mbps: f64,
    #[serde(default)]
    monthly_cents: Option<i64>,
    #[serde(default)]
    commissioned_on: Option<NaiveDate>,
}

input! {
    /// A link: technology, role, bandwidths in Mbit/s (decimals allowed), the monthly price
    /// in cents.
    LinkDoc for LinkBody {
        /// `ftth`, `ftto`, `vdsl`, `adsl`, `4g5g`, `satellite` or `radio`.
        technology: String,
        /// `principal` or `secours`.
        role: String,
        operator_id: Option<i64>,
        contract_ref: String,
        line_number: String,
        down_mbps: f64,
        up_mbps: f64,
        monthly_cents: Option<i64>,
        commissioned_on: Option<NaiveDate>,
    }
}

impl LinkBody {
    /// The same checks as the form's.
    fn check(&self) -> Result<preau_domain::connectivity::Link, preau_core::AppError> {
        let number = |x: f64| x.to_string();
        let mut errors = Vec::new();
        let cents = match self.monthly_cents {
            Some(c) if c < 0 => {
                errors.push(preau_domain::FieldError::new(
                    "monthly_cents",
                    "out_of_range",
                ));
                String::new()
            }
            Some(c) => preau_domain::device::plain_euros(c),
            None => String::new(),
        };
        let checked = LinkInput {
            technology: self.technology.clone(),
            role: self.role.clone(),
            operator_id: self.operator_id.map(|i| i.to_string()).unwrap_or_default(),
            contract_ref: self.contract_ref.clone(),
            line_number: self.line_number.clone(),
            down_mbps: number(self.down_mbps),
            up_mbps: number(self.up_mbps),
            monthly_price: cents,
            commissioned_on: self
                .commissioned_on
                .map(|d| d.to_string())
                .unwrap_or_default(),
        }
        .check();
        match checked {
            Ok(l) if errors.is_empty() => Ok(l),
            Ok(_) => Err(preau_core::AppError::Invalid(errors)),
            Err(mut e) => {
                e.append(&mut errors);
                Err(preau_core::AppError::Invalid(e))
            }
        }
    }

    fn of(l: &connectivity::SchoolLink) -> LinkBody {
        LinkBody {
            technology: l.technology.code().into(),
            role: l.role.code().into(),
            operator_id: l.operator_id,
            contract_ref: l.contract_ref.clone(),
            line_number: l.line_number.clone(),
            down_mbps: l.down_kbps as f64 / 1000.0,
            up_mbps: l.up_kbps as f64 / 1000.0,
            monthly_cents: l.monthly_cents,
            commissioned_on: l.commissioned_on,
        }
    }
}

async fn link_of(
    s: &AppState,
    p: &preau_domain::Principal,
    id: i64,
) -> Result<connectivity::SchoolLink, ApiError> {
    // A link is found through its school's links, so that scope applies.
    let school = connectivity::link_school(&s.db, p, id).await?;
    connectivity::links(&s.db, p, school)
        .await?
        .into_iter()
        .find(|l| l.id == id)
        .ok_or_else(|| preau_core::AppError::NotFound.into())
}

pub(super) async fn link_create(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    Path(id): Path<i64>,
    b: Result<Json<LinkBody>, JsonRejection>,
) -> Created<types::SchoolLink> {
    connectivity::editor(&p, id)?;
    let b = body(b)?;
    let link = write_tx!(s.db, tx => {
        let l = b.check()?;
        connectivity::add_link(tx, &p, id, &l, Utc::now()).await?
    })?;
    created((&link_of(&s, &p, link).await?).into())
}

pub(super) async fn link_patch(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    Path(id): Path<i64>,
    b: Result<Json<Patch>, JsonRejection>,
) -> Answer<types::SchoolLink> {
    let current = link_of(&s, &p, id).await?;
    connectivity::editor(&p, current.school_id)?;
    let patch = body(b)?;
    let ver = version(&patch)?;
    let input: LinkBody = merge(&LinkBody::of(&current), &patch.fields)?;
    write_tx!(s.db, tx => {
        let l = input.check()?;
        connectivity::update_link(tx, &p, id, ver, &l, Utc::now()).await?
    })?;
    Ok(Json((&link_of(&s, &p, id).await?).into()))
}

pub(super) async fn link_delete(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    write_tx!(s.db, tx => connectivity::delete_link(tx, &p, id, Utc::now()).await?)?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
pub(super) struct OutagesQuery {
    #[serde(default, deserialize_with = "preau_domain::text::opt_i64")]
    school: Option<i64>,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
}

input! {
    /// Which outages: one school's or all, started between two days (by default the last
    /// twelve months).
    OutagesQueryDoc for OutagesQuery {
        school: Option<i64>,
        /// First day, included.
        from: Option<NaiveDate>,
        /// Last day, included.
        to: Option<NaiveDate>,
    }
}

pub(super) async fn outages(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    q: Result<axum::extract::Query<OutagesQuery>, axum::extract::rejection::QueryRejection>,
) -> Answer<List<types::Outage>> {
    let q = super::query(q)?;
    let now = Utc::now();
    let today = preau_domain::paris::day(now);
    let to = q.to.unwrap_or(today);
    let from = q.from.unwrap_or(to - chrono::Duration::days(365));
    if from > to {
        return Err(ApiError::invalid(vec![preau_domain::FieldError::new(
            "to",
            "dates_order",
        )]));
    }
    let at = |d: NaiveDate| {
        preau_domain::paris::instant(d.and_hms_opt(0, 0, 0).unwrap_or_default()).unwrap_or(now)
    };
    let items = connectivity::outages_between(
        &s.db,
        &p,
        q.school,
        at(from),
        at(to + chrono::Duration::days(1)),
    )
    .await?
    .iter()
    .map(types::Outage::from)
    .collect();
    Ok(Json(List { items, next: None }))
}

/// A school's Wi-Fi register.
pub(super) async fn wifi(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    Path(id): Path<i64>,
) -> Answer<List<types::AccessPoint>> {
    let items = connectivity::wifi_register(&s.db, &p, id)
        .await?
        .iter()
        .map(types::AccessPoint::from)
        .collect();
    Ok(Json(List { items, next: None }))
}

/// A school's probe.
pub(super) async fn probe(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    Path(id): Path<i64>,
) -> Answer<types::SchoolProbe> {
    let state = connectivity::probes::get(&s.db, &p, id).await?;
    Ok(Json(types::SchoolProbe::of(id, state.as_ref())))
}

#[derive(Deserialize, Serialize, Default)]
pub(super) struct ProbeBody {
    #[serde(default)]
    target: Option<String>,
}

input! {
    /// The address to check: `tcp://host:port` or `http://host[:port]/path`; `null` (or
    /// empty) removes the probe.
    ProbeDoc for ProbeBody {
        target: Option<String>,
    }
}

/// Sets or removes a school's probe; the administrator's or the school's technician's.
pub(super) async fn probe_put(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    Path(id): Path<i64>,
    b: Result<Json<ProbeBody>, JsonRejection>,
) -> Answer<types::SchoolProbe> {
    let b = body(b)?;
    write_tx!(s.db, tx => connectivity::probes::set(tx, &p, id, b.target.as_deref(), Utc::now()).await?)?;
    let state = connectivity::probes::get(&s.db, &p, id).await?;
    Ok(Json(types::SchoolProbe::of(id, state.as_ref())))
}
