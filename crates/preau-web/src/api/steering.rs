//! `/api/v1` for steering: coverage of the schools against the référentiel, the
//! référentiel itself (read by those who see coverage, replaced by the administrator), the
//! renewal plan, the needs campaigns and the subsidy dossiers.

use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Query, State};
use chrono::Utc;
use preau_core::steering::{coverage, funding, needs, referentiel, renewal};
use preau_core::write_tx;
use serde::Deserialize;

use super::schema::{List, OneOrList, input};
use super::types::{self, SchoolCoverage};
use super::{Answer, body, offset, query};
use crate::AppState;
use crate::session::ApiAuth;

#[derive(Deserialize)]
pub(super) struct CoverageQuery {
    #[serde(default, deserialize_with = "preau_domain::text::opt_i64")]
    school: Option<i64>,
    cursor: Option<String>,
    limit: Option<i64>,
}

input! {
    /// One school, or a page of every school the caller may see.
    CoverageQueryDoc for CoverageQuery [cursor, limit] {
        /// A school's id: its coverage alone.
        school: Option<i64>,
    }
}

pub(super) async fn coverage(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    q: Result<Query<CoverageQuery>, QueryRejection>,
) -> Answer<OneOrList<SchoolCoverage>> {
    let q = query(q)?;
    let report = coverage::report(&s.db, &p, q.school, Utc::now()).await?;
    if q.school.is_some() {
        let one = report
            .schools
            .first()
            .ok_or(preau_core::AppError::NotFound)?;
        return Ok(Json(OneOrList::One(one.into())));
    }
    let from = offset(q.cursor.as_deref())? as usize;
    let limit = q.limit.unwrap_or(100).clamp(1, 500) as usize;
    let items: Vec<SchoolCoverage> = report
        .schools
        .iter()
        .skip(from)
        .take(limit)
        .map(SchoolCoverage::from)
        .collect();
    let next = (from + limit < report.schools.len()).then(|| (from + limit).to_string());
    Ok(Json(OneOrList::List(List { items, next })))
}

pub(super) async fn referentiel_get(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
) -> Answer<types::Referentiel> {
    Ok(Json((&referentiel::get(&s.db, &p).await?).into()))
}

#[derive(Deserialize)]
pub(super) struct ReferentielBody {
    version: Option<i64>,
    #[serde(default)]
    rules: Vec<preau_domain::referentiel::RuleInput>,
}

input! {
    /// Every rule at once (the list replaces the one in force).
    ReferentielInput for ReferentielBody {
        /// The version read (0 for the socle); a stale one answers 409.
        version: i64,
        rules: Vec<types::RuleInput>,
    }
}

pub(super) async fn referentiel_put(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    b: Result<Json<ReferentielBody>, JsonRejection>,
) -> Answer<types::Referentiel> {
    if !p.can_edit_referentiel() {
        return Err(preau_core::AppError::Forbidden.into());
    }
    let b = body(b)?;
    let Some(version) = b.version else {
        return Err(crate::error::ApiError::invalid(vec![
            preau_domain::FieldError::new("version", "required"),
        ]));
    };
    let r =
        write_tx!(s.db, tx => referentiel::replace(tx, &p, version, &b.rules, Utc::now()).await?)?;
    Ok(Json((&r).into()))
}

#[derive(Deserialize)]
pub(super) struct RenewalQuery {
    #[serde(default, deserialize_with = "preau_domain::text::opt_i64")]
    from: Option<i64>,
    #[serde(default, deserialize_with = "preau_domain::text::opt_i64")]
    years: Option<i64>,
}

input! {
    /// Which years to plan.
    RenewalQueryDoc for RenewalQuery {
        /// The first year; by default next year.
        from: Option<i64>,
        /// How many years, 1 to 15; by default 5.
        years: Option<i64>,
    }
}

pub(super) async fn renewal_get(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    q: Result<Query<RenewalQuery>, QueryRejection>,
) -> Answer<types::Renewal> {
    let q = query(q)?;
    let now = Utc::now();
    let from = q
        .from
        .unwrap_or_else(|| i64::from(chrono::Datelike::year(&preau_domain::paris::day(now))) + 1);
    let years = q.years.unwrap_or(5);
    let r = renewal::report(
        &s.db,
        &p,
        i32::try_from(from).unwrap_or(i32::MAX),
        usize::try_from(years).unwrap_or(0),
        now,
    )
    .await?;
    Ok(Json((&r).into()))
}

/// Every needs campaign, the latest first, with the requests the caller may read.
pub(super) async fn needs(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
) -> Answer<List<types::NeedsCampaign>> {
    let now = Utc::now();
    let mut items = Vec::new();
    for c in needs::campaigns(&s.db, &p).await? {
        items.push((&needs::campaign(&s.db, &p, c.id, now).await?).into());
    }
    Ok(Json(List { items, next: None }))
}

/// Every subsidy dossier, the latest year first.
pub(super) async fn subsidies(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
) -> Answer<List<types::Subsidy>> {
    let items = funding::list(&s.db, &p, Utc::now())
        .await?
        .iter()
        .map(types::Subsidy::from)
        .collect();
    Ok(Json(List { items, next: None }))
}
