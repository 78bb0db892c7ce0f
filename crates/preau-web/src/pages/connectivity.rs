//! Connectivity pages: every school online or offline (offline first), its links, speed
//! tests and outages; the administrator and the school's technician keep the links.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use chrono::Utc;
use preau_core::connectivity::{self, SchoolStatus};
use preau_core::{AppError, write_tx};
use preau_domain::connectivity::{LinkInput, LinkRole, Status, Technology};
use preau_domain::{FieldError, Lang, Principal};
use serde::Deserialize;

use super::form::{Field, FlashQuery, attach_errors, options};
use super::parts::charts::{euros, month_label};
use super::{Ctx, LangTitle, flash_key, paris, render, see_other};
use crate::AppState;
use crate::error::PageError;
use crate::session::{Auth, CsrfForm};

type PageResult = Result<Response, PageError>;

fn mbps(kbps: i64) -> String {
    let m = kbps as f64 / 1000.0;
    if m.fract() == 0.0 {
        format!("{m:.0}")
    } else {
        format!("{m:.1}").replace('.', ",")
    }
}

pub struct Line {
    pub school_id: i64,
    pub name: String,
    pub status: &'static str,
    pub status_code: &'static str,
    pub since: String,
    pub last_contact: String,
    pub down: String,
    pub per_mbps: String,
}

fn line(s: &SchoolStatus, lang: Lang) -> Line {
    Line {
        school_id: s.school_id,
        name: s.name.clone(),
        status: s.status.label(lang),
        status_code: s.status.code(),
        since: s.since.map(paris).unwrap_or_default(),
        last_contact: s.last_contact.map(paris).unwrap_or_else(|| "—".into()),
        down: s
            .down_kbps
            .map(|d| format!("{} Mbit/s", mbps(d)))
            .unwrap_or_else(|| "—".into()),
        per_mbps: s
            .pupils_per_mbps()
            .map(|x| format!("{x:.1}").replace('.', ","))
            .unwrap_or_else(|| "—".into()),
    }
}

#[derive(Template)]
#[template(path = "connectivity.html")]
struct OverviewPage {
    ctx: Ctx,
    counts: Vec<(&'static str, &'static str, usize)>,
    lines: Vec<Line>,
}

/// Every school, offline first.
pub async fn overview(State(s): State<AppState>, a: Auth) -> PageResult {
    let p = &a.p;
    let all = connectivity::statuses(&s.db, p).await?;
    let counts = [Status::HorsLigne, Status::EnLigne, Status::Inconnu]
        .iter()
        .map(|st| {
            (
                st.code(),
                st.label(p.lang),
                all.iter().filter(|x| x.status == *st).count(),
            )
        })
        .collect();
    render(&OverviewPage {
        ctx: Ctx::page(&a, p.lang_title("connectivity.title"), "connectivity"),
        counts,
        lines: all.iter().map(|x| line(x, p.lang)).collect(),
    })
}

pub struct LinkLine {
    pub id: i64,
    pub technology: &'static str,
    pub role: &'static str,
    pub operator: String,
    pub contract: String,
    pub bandwidth: String,
    pub price: String,
    pub commissioned: String,
}

#[derive(Template)]
#[template(path = "connectivity_school.html")]
struct SchoolPage {
    ctx: Ctx,
    school_id: i64,
    status: Line,
    links: Vec<LinkLine>,
    tests: Vec<(String, String, String, String)>,
    outages: Vec<(String, String, String, Option<i64>)>,
    /// Month, share of class time online, class time lost.
    availability: Vec<(String, String, String)>,
    /// The probe's address (as typed after an error), what it last found, an error.
    probe_target: String,
    probe: Option<ProbeLine>,
    probe_error: Option<String>,
    can_edit: bool,
    show_costs: bool,
    fields: Vec<Field>,
    has_errors: bool,
    other_errors: Vec<String>,
}

fn link_fields(lang: Lang, v: &LinkInput, operators: &[(String, String)]) -> Vec<Field> {
    let t = |k| crate::i18n::t(lang, k);
    vec![
        Field::select(
            "technology",
            t("connectivity.technology"),
            v.technology.clone(),
            options(Technology::ALL, Technology::code, |x| x.label(lang)),
        )
        .required(),
        Field::select(
            "role",
            t("connectivity.role"),
            v.role.clone(),
            options(LinkRole::ALL, LinkRole::code, |x| x.label(lang)),
        )
        .required(),
        Field::select(
            "operator_id",
            t("connectivity.operator"),
            v.operator_id.clone(),
            operators.to_vec(),
        ),
        Field::text("down_mbps", t("connectivity.down"), v.down_mbps.clone())
            .required()
            .hint(t("connectivity.mbps_hint")),
        Field::text("up_mbps", t("connectivity.up"), v.up_mbps.clone())
            .required()
            .hint(t("connectivity.mbps_hint")),
        Field::text(
            "contract_ref",
            t("connectivity.contract_ref"),
            v.contract_ref.clone(),
        ),
        Field::text(
            "line_number",
            t("connectivity.line_number"),
            v.line_number.clone(),
        ),
        Field::text(
            "monthly_price",
            t("connectivity.monthly_price"),
            v.monthly_price.clone(),
        )
        .hint(t("funding.euros_hint")),
        Field::text(
            "commissioned_on",
            t("connectivity.commissioned_on"),
            v.commissioned_on.clone(),
        )
        .input("date"),
    ]
}

async fn school_page(
    s: &AppState,
    a: &Auth,
    school_id: i64,
    form: &LinkInput,
    errors: &[FieldError],
    flash: Option<&str>,
    (probe_field, probe_error): (Option<String>, Option<&FieldError>),
) -> PageResult {
    let p = &a.p;
    let lang = p.lang;
    let status = connectivity::status(&s.db, p, school_id).await?;
    let probe = connectivity::probes::get(&s.db, p, school_id).await?;
    let links = connectivity::links(&s.db, p, school_id).await?;
    let operators: Vec<(String, String)> = std::iter::once((String::new(), "—".to_string()))
        .chain(
            preau_core::users::contractors(&s.db, p)
                .await
                .unwrap_or_default()
                .into_iter()
                .map(|c| (c.id.to_string(), c.name)),
        )
        .collect();
    let mut fields = link_fields(lang, form, &operators);
    let other_errors = attach_errors(&mut fields, errors, lang);
    let page = SchoolPage {
        ctx: Ctx::page(a, status.name.clone(), "connectivity")
            .crumb("/connectivity", p.lang_title("connectivity.title"))
            .flash(flash_key(flash)),
        school_id,
        status: line(&status, lang),
        probe_target: probe_field
            .unwrap_or_else(|| probe.as_ref().map(|p| p.target.clone()).unwrap_or_default()),
        probe: probe.as_ref().map(|pr| probe_line(pr, lang)),
        probe_error: probe_error.map(|e| e.message(lang)),
        links: links
            .iter()
            .map(|l| LinkLine {
                id: l.id,
                technology: l.technology.label(lang),
                role: l.role.label(lang),
                operator: l.operator.clone().unwrap_or_default(),
                contract: [l.contract_ref.as_str(), l.line_number.as_str()]
                    .iter()
                    .filter(|x| !x.is_empty())
                    .copied()
                    .collect::<Vec<_>>()
                    .join(" · "),
                bandwidth: format!("{} / {} Mbit/s", mbps(l.down_kbps), mbps(l.up_kbps)),
                price: l.monthly_cents.map(euros).unwrap_or_default(),
                commissioned: l
                    .commissioned_on
                    .map(|d| d.format("%d/%m/%Y").to_string())
                    .unwrap_or_default(),
            })
            .collect(),
        tests: connectivity::speed_tests(&s.db, p, school_id)
            .await?
            .iter()
            .map(|t| {
                (
                    paris(t.tested_at),
                    mbps(t.down_kbps),
                    mbps(t.up_kbps),
                    t.tested_by.clone(),
                )
            })
            .collect(),
        outages: connectivity::outages(&s.db, p, school_id)
            .await?
            .iter()
            .map(|o| {
                (
                    paris(o.started_at),
                    o.ended_at.map(paris).unwrap_or_else(|| {
                        crate::i18n::t(lang, "connectivity.ongoing").to_string()
                    }),
                    o.class_minutes
                        .map(|m| format!("{} h {:02}", m / 60, m % 60))
                        .unwrap_or_default(),
                    o.ticket_id,
                )
            })
            .collect(),
        availability: connectivity::availability(&s.db, p, school_id, Utc::now())
            .await?
            .iter()
            .map(|m| {
                (
                    month_label(lang, m.month),
                    m.percent()
                        .map(|x| format!("{x:.1} %").replace('.', ","))
                        .unwrap_or_else(|| "—".into()),
                    format!("{} h {:02}", m.lost_minutes / 60, m.lost_minutes % 60),
                )
            })
            .collect(),
        can_edit: p.can_edit_rooms(school_id),
        show_costs: p.can_see_costs(),
        fields,
        has_errors: !errors.is_empty(),
        other_errors,
    };
    let mut resp = render(&page)?;
    if !errors.is_empty() {
        *resp.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(resp)
}

/// The link form as first shown: a main business-fibre line.
fn new_link() -> LinkInput {
    LinkInput {
        technology: "ftto".into(),
        role: "principal".into(),
        ..LinkInput::default()
    }
}

/// A school's connectivity: status, links, speed tests, outages.
pub async fn school(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i64>,
    Query(q): Query<FlashQuery>,
) -> PageResult {
    let form = new_link();
    school_page(&s, &a, id, &form, &[], q.flash(), (None, None)).await
}

/// Adds a link.
pub async fn add_link(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm<LinkInput>,
) -> PageResult {
    let p = &a.p;
    connectivity::editor(p, id)?;
    let result = write_tx!(s.db, tx => {
        let l = f.check().map_err(AppError::Invalid)?;
        connectivity::add_link(tx, p, id, &l, Utc::now()).await?
    });
    match result {
        Ok(_) => Ok(see_other(&format!("/connectivity/{id}"), "created")),
        Err(e) => {
            let errors = super::form::form_errors(e)?;
            school_page(&s, &a, id, &f, &errors, None, (None, None)).await
        }
    }
}

/// What a school's probe last found, in words.
pub struct ProbeLine {
    pub checked: String,
    pub ok: bool,
    pub last_ok: String,
    pub failures: i64,
    pub error: String,
}

fn probe_line(pr: &connectivity::probes::ProbeState, lang: Lang) -> ProbeLine {
    ProbeLine {
        checked: pr.last_checked_at.map(paris).unwrap_or_default(),
        ok: pr.failures == 0 && pr.last_ok_at.is_some(),
        last_ok: pr.last_ok_at.map(paris).unwrap_or_else(|| "—".into()),
        failures: pr.failures,
        error: pr
            .last_error
            .as_deref()
            .map(|e| match e {
                "name" => crate::i18n::t(lang, "connectivity.probe_err_name"),
                "refused" => crate::i18n::t(lang, "connectivity.probe_err_refused"),
                "timeout" => crate::i18n::t(lang, "connectivity.probe_err_timeout"),
                "not_http" => crate::i18n::t(lang, "connectivity.probe_err_not_http"),
                _ => crate::i18n::t(lang, "connectivity.probe_err_unreachable"),
            })
            .unwrap_or_default()
            .to_string(),
    }
}

#[derive(Deserialize)]
pub struct ProbeForm {
    #[serde(default)]
    target: String,
}

/// Sets or removes (empty address) the school's probe.
pub async fn set_probe(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm<ProbeForm>,
) -> PageResult {
    let p = &a.p;
    match write_tx!(s.db, tx => connectivity::probes::set(tx, p, id, Some(&f.target), Utc::now()).await?)
    {
        Ok(()) => Ok(see_other(&format!("/connectivity/{id}#probe"), "saved")),
        Err(e) => {
            let errors = super::form::form_errors(e)?;
            let form = new_link();
            let mut resp = school_page(
                &s,
                &a,
                id,
                &form,
                &[],
                None,
                (Some(f.target.clone()), errors.first()),
            )
            .await?;
            *resp.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
            Ok(resp)
        }
    }
}

/// Removes a link.
pub async fn delete_link(
    State(s): State<AppState>,
    a: Auth,
    Path((school, id)): Path<(i64, i64)>,
    CsrfForm(_): CsrfForm<super::form::Empty>,
) -> PageResult {
    let p = &a.p;
    write_tx!(s.db, tx => connectivity::delete_link(tx, p, id, Utc::now()).await?)?;
    Ok(see_other(&format!("/connectivity/{school}"), "deleted"))
}

#[derive(Deserialize)]
pub struct SpeedForm {
    down_mbps: String,
    up_mbps: String,
}

/// Records a speed test measured at the school.
pub async fn speed_test(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm<SpeedForm>,
) -> PageResult {
    let p: &Principal = &a.p;
    write_tx!(s.db, tx => connectivity::add_speed_test(tx, p, id, &f.down_mbps, &f.up_mbps, Utc::now()).await?)?;
    Ok(see_other(&format!("/connectivity/{id}"), "saved"))
}

/// One access point as the register shows it.
pub struct ApLine {
    pub device_id: i64,
    pub name: String,
    pub tag: String,
    pub room: String,
    pub switchable: bool,
    pub method: String,
    pub method_code: String,
    pub covers: String,
    pub covers_ids: Vec<i64>,
    pub informed: String,
    pub informed_iso: String,
    pub installed: String,
    pub flags: Vec<&'static str>,
}

#[derive(Template)]
#[template(path = "connectivity_wifi.html")]
struct WifiPage {
    ctx: Ctx,
    school_id: i64,
    school: String,
    date: String,
    points: Vec<ApLine>,
    compliant: usize,
    rooms: Vec<(i64, String)>,
    methods: Vec<(String, String)>,
    can_edit: bool,
}

/// A school's Wi-Fi register (loi Abeille), printable for the conseil d'école.
pub async fn wifi(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i64>,
    Query(q): Query<FlashQuery>,
) -> PageResult {
    let p = &a.p;
    let lang = p.lang;
    let school = connectivity::status(&s.db, p, id).await?;
    let points = connectivity::wifi_register(&s.db, p, id).await?;
    let day = |d: Option<chrono::NaiveDate>| {
        d.map(|d| d.format("%d/%m/%Y").to_string())
            .unwrap_or_else(|| "—".into())
    };
    let can_edit = p.can_edit_devices(Some(id));
    // The rooms an access point may cover, for those who edit the register.
    let rooms = if can_edit {
        preau_core::rooms::list_for_school(&s.db, p, id)
            .await?
            .into_iter()
            .map(|r| (r.id, r.name))
            .collect()
    } else {
        Vec::new()
    };
    let page = WifiPage {
        ctx: Ctx::page(&a, p.lang_title("wifi.title"), "connectivity")
            .crumb(format!("/connectivity/{id}"), school.name.clone())
            .flash(flash_key(q.flash())),
        school_id: id,
        school: school.name.clone(),
        date: super::today().format("%d/%m/%Y").to_string(),
        compliant: points.iter().filter(|a| a.flags.is_empty()).count(),
        points: points
            .iter()
            .map(|a| ApLine {
                device_id: a.device_id,
                name: a.name.clone(),
                tag: a.asset_tag.clone().unwrap_or_default(),
                room: a.room.clone().unwrap_or_default(),
                switchable: a.switchable == Some(true),
                method: a
                    .method
                    .map(|m| m.label(lang).to_string())
                    .unwrap_or_else(|| "—".into()),
                method_code: a.method.map(|m| m.code().to_string()).unwrap_or_default(),
                covers: a
                    .covers
                    .iter()
                    .map(|c| c.1.clone())
                    .collect::<Vec<_>>()
                    .join(", "),
                covers_ids: a.covers.iter().map(|c| c.0).collect(),
                informed: day(a.council_informed_on),
                informed_iso: a
                    .council_informed_on
                    .map(|d| d.to_string())
                    .unwrap_or_default(),
                installed: day(a.installed_on),
                flags: a.flags.iter().map(|f| f.label(lang)).collect(),
            })
            .collect(),
        rooms,
        methods: std::iter::once((String::new(), "—".to_string()))
            .chain(options(
                preau_domain::connectivity::SwitchMethod::ALL,
                preau_domain::connectivity::SwitchMethod::code,
                |m| m.label(lang),
            ))
            .collect(),
        can_edit,
    };
    render(&page)
}

/// Records an access point's register facts (`switchable`, `method`, `covers` repeated,
/// `informed_on`).
pub async fn wifi_save(
    State(s): State<AppState>,
    a: Auth,
    Path((school, device)): Path<(i64, i64)>,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    let p = &a.p;
    let mut f = connectivity::AccessPointFacts {
        switchable: Some(false),
        ..Default::default()
    };
    let mut errors = Vec::new();
    for (k, v) in &pairs {
        match k.as_str() {
            "switchable" => f.switchable = Some(v == "1"),
            "method" if !v.trim().is_empty() => {
                match preau_domain::connectivity::SwitchMethod::parse("method", v) {
                    Ok(m) => f.method = Some(m),
                    Err(e) => errors.push(e),
                }
            }
            "covers" => match v.parse() {
                Ok(r) => f.covers.push(r),
                Err(_) => errors.push(FieldError::new("covers", "unknown_value")),
            },
            "informed_on" => match preau_domain::device::date("informed_on", Some(v)) {
                Ok(d) => f.council_informed_on = d,
                Err(e) => errors.push(e),
            },
            _ => {}
        }
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors).into());
    }
    write_tx!(s.db, tx => connectivity::set_access_point(tx, p, device, &f, Utc::now()).await?)?;
    Ok(see_other(
        &format!("/connectivity/{school}/wifi#ap{device}"),
        "saved",
    ))
}
