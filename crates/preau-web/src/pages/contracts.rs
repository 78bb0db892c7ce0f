//! Contracts (marchés) and their lots: the list, a contract's page with each lot's SLA
//! grid and perimeter, the forms that change them, and the monthly SLA report with its
//! penalties (on screen, printable, CSV and XLSX).

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use preau_core::contracts::{self, ContractInput, LotInput, SlaLineInput};
use preau_core::inventory::categories;
use preau_core::reports::{self, Month, SlaReport};
use preau_core::{AppError, schools, users, write_tx};
use preau_domain::calendar::Span;
use preau_domain::sla::{CalendarKind, PenaltyUnit, SlaLine, duration_label, euros};
use preau_domain::ticket::Priority;
use preau_domain::{FieldError, Lang};
use serde::Deserialize;

use super::{Ctx, Field, Versioned, flash_key, options, paris, render, see_other};
use super::{FormSpec, LangTitle, save};
use crate::AppState;
use crate::error::PageError;
use crate::session::{Auth, CsrfForm};

type PageResult = Result<Response, PageError>;

#[derive(Template)]
#[template(path = "contracts.html")]
struct ContractsPage {
    ctx: Ctx,
    rows: Vec<ContractRow>,
    can_manage: bool,
    can_report: bool,
    contractors: Vec<String>,
    contractor_error: Option<String>,
}

struct ContractRow {
    id: i64,
    reference: String,
    title: String,
    contractor: String,
    period: String,
    active: bool,
}

fn period(c: &contracts::Contract) -> String {
    format!(
        "{} → {}",
        c.starts_on.format("%d/%m/%Y"),
        c.ends_on.format("%d/%m/%Y")
    )
}

pub async fn list(
    State(s): State<AppState>,
    a: Auth,
    Query(q): Query<super::FlashQuery>,
) -> PageResult {
    render(&list_page(&s, &a, q.flash(), None).await?)
}

async fn list_page(
    s: &AppState,
    a: &Auth,
    flash: Option<&str>,
    contractor_error: Option<String>,
) -> Result<ContractsPage, PageError> {
    let p = &a.p;
    let today = super::today();
    let rows = contracts::list(&s.db, p)
        .await?
        .into_iter()
        .map(|c| ContractRow {
            id: c.id,
            reference: c.reference.clone(),
            title: c.title.clone(),
            contractor: c.contractor_name.clone(),
            period: period(&c),
            active: c.is_active(today),
        })
        .collect();
    let contractors = if p.can_manage_contracts() {
        users::contractors(&s.db, p)
            .await?
            .into_iter()
            .map(|c| c.name)
            .collect()
    } else {
        Vec::new()
    };
    Ok(ContractsPage {
        ctx: Ctx::page(a, p.lang_title("contracts.title"), "contracts").flash(flash_key(flash)),
        rows,
        can_manage: p.can_manage_contracts(),
        can_report: p.can_see_sla_report(),
        contractors,
        contractor_error,
    })
}

#[derive(Deserialize)]
pub struct ContractorForm {
    #[serde(default)]
    name: String,
}

/// Adds a contractor company (its staff are then users with the prestataire role).
pub async fn contractor_create(
    State(s): State<AppState>,
    a: Auth,
    CsrfForm(f): CsrfForm<ContractorForm>,
) -> PageResult {
    must_manage(&a)?;
    let errs = match write_tx!(s.db, tx => users::create_contractor(tx, &a.p, &f.name, Utc::now()).await?)
    {
        Ok(_) => return Ok(see_other("/contracts", "created")),
        Err(AppError::Invalid(e)) => e,
        Err(AppError::Conflict(e)) => vec![e],
        Err(e) => return Err(e.into()),
    };
    let msg = errs
        .iter()
        .map(|x| x.message(a.p.lang))
        .collect::<Vec<_>>()
        .join(" ");
    let mut r = render(&list_page(&s, &a, None, Some(msg)).await?)?;
    *r.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    Ok(r)
}

struct GridRow {
    priority: &'static str,
    gti: String,
    gtr: String,
    unit: &'static str,
    gti_penalty: String,
    gtr_penalty: String,
}

struct LotView {
    id: i64,
    number: i64,
    label: String,
    cap_ticket: String,
    cap_month: String,
    grid: Vec<GridRow>,
    schools: usize,
    categories: Vec<String>,
}

#[derive(Template)]
#[template(path = "contract.html")]
struct ContractPage {
    ctx: Ctx,
    c: contracts::Contract,
    calendar: &'static str,
    hours: String,
    period: String,
    lots: Vec<LotView>,
    amounts: bool,
    can_manage: bool,
    can_report: bool,
}

fn span_label(s: Option<Span>, lang: Lang) -> String {
    s.map(|s| s.label(lang)).unwrap_or_else(|| "—".into())
}

fn grid_rows(grid: &[(Priority, SlaLine)], lang: Lang, amounts: bool) -> Vec<GridRow> {
    Priority::ALL
        .iter()
        .map(|pr| {
            let line = grid.iter().find(|(p, _)| p == pr).map(|(_, l)| l);
            let money = |c: Option<i64>| match (amounts, c) {
                (false, _) => "—".to_string(),
                (true, Some(c)) if c > 0 => euros(c),
                _ => "—".to_string(),
            };
            GridRow {
                priority: pr.short(lang),
                gti: span_label(line.and_then(|l| l.gti), lang),
                gtr: span_label(line.and_then(|l| l.gtr), lang),
                unit: line.map(|l| l.unit.label(lang)).unwrap_or("—"),
                gti_penalty: money(line.map(|l| l.gti_penalty_cents)),
                gtr_penalty: money(line.map(|l| l.gtr_penalty_cents)),
            }
        })
        .collect()
}

pub async fn show(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i64>,
    Query(q): Query<super::FlashQuery>,
) -> PageResult {
    let p = &a.p;
    let lang = p.lang;
    let d = contracts::get(&s.db, p, id).await?;
    let cats = categories::list(&s.db, p).await?;
    let money = |c: Option<i64>| match (d.amounts_shown, c) {
        (true, Some(c)) => euros(c),
        (true, None) => crate::i18n::t(lang, "contracts.no_cap").to_string(),
        (false, _) => "—".to_string(),
    };
    let lots = d
        .lots
        .iter()
        .map(|l| {
            let mut schools: Vec<i64> = l.perimeter.iter().map(|(s, _)| *s).collect();
            schools.sort();
            schools.dedup();
            let mut cat_ids: Vec<i64> = l.perimeter.iter().map(|(_, c)| *c).collect();
            cat_ids.sort();
            cat_ids.dedup();
            LotView {
                id: l.lot.id,
                number: l.lot.number,
                label: l.lot.label.clone(),
                cap_ticket: money(l.lot.cap_ticket_cents),
                cap_month: money(l.lot.cap_month_cents),
                grid: grid_rows(&l.grid, lang, d.amounts_shown),
                schools: schools.len(),
                categories: cats
                    .iter()
                    .filter(|c| cat_ids.contains(&c.id))
                    .map(|c| c.label(lang).to_string())
                    .collect(),
            }
        })
        .collect();
    let c = d.contract;
    render(&ContractPage {
        ctx: Ctx::page(&a, format!("{} — {}", c.reference, c.title), "contracts")
            .crumb("/contracts", p.lang_title("contracts.title"))
            .flash(q.flash().and_then(|f| match f {
                "grid_saved" => Some("flash.grid_saved"),
                "perimeter_saved" => Some("flash.perimeter_saved"),
                other => flash_key(Some(other)),
            })),
        calendar: c.calendar_kind().label(lang),
        hours: format!(
            "{} {}–{}",
            weekdays(&c.work_days, lang),
            c.work_start,
            c.work_end
        ),
        period: period(&c),
        lots,
        amounts: d.amounts_shown,
        can_manage: p.can_manage_contracts(),
        can_report: p.can_see_sla_report(),
        c,
    })
}

fn weekdays(code: &str, lang: Lang) -> String {
    let names = match lang {
        Lang::Fr => ["lun.", "mar.", "mer.", "jeu.", "ven.", "sam.", "dim."],
        Lang::En => ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"],
    };
    code.split(',')
        .filter_map(|d| d.trim().parse::<usize>().ok())
        .filter_map(|d| names.get(d.wrapping_sub(1)))
        .copied()
        .collect::<Vec<_>>()
        .join(" ")
}

async fn contract_fields(
    s: &AppState,
    a: &Auth,
    v: &ContractInput,
) -> Result<Vec<Field>, PageError> {
    let p = &a.p;
    let lang = p.lang;
    let t = |k| crate::i18n::t(lang, k);
    let contractors = users::contractors(&s.db, p)
        .await?
        .into_iter()
        .map(|c| (c.id.to_string(), c.name))
        .collect();
    Ok(vec![
        Field::select(
            "contractor_id",
            t("field.contractor"),
            v.contractor_id.clone(),
            contractors,
        )
        .required(),
        Field::text("reference", t("contracts.reference"), v.reference.clone())
            .required()
            .hint(t("contracts.reference_hint")),
        Field::text("title", t("contracts.object"), v.title.clone()).required(),
        Field::text("starts_on", t("field.starts_on"), v.starts_on.clone())
            .input("date")
            .required(),
        Field::text("ends_on", t("field.ends_on"), v.ends_on.clone())
            .input("date")
            .required(),
        Field::select(
            "calendar",
            t("contracts.calendar"),
            if v.calendar.is_empty() {
                "ecole".into()
            } else {
                v.calendar.clone()
            },
            options(CalendarKind::ALL, CalendarKind::code, |k| k.label(lang)),
        )
        .required(),
        Field::text(
            "work_days",
            t("contracts.work_days"),
            v.work_days.clone().unwrap_or_else(|| "1,2,3,4,5".into()),
        )
        .hint(t("contracts.work_days_hint")),
        Field::text(
            "work_start",
            t("contracts.work_start"),
            v.work_start.clone().unwrap_or_else(|| "08:00".into()),
        )
        .input("time"),
        Field::text(
            "work_end",
            t("contracts.work_end"),
            v.work_end.clone().unwrap_or_else(|| "18:00".into()),
        )
        .input("time"),
    ])
}

fn must_manage(a: &Auth) -> Result<(), PageError> {
    if a.p.can_manage_contracts() {
        Ok(())
    } else {
        Err(AppError::Forbidden.into())
    }
}

pub async fn new(State(s): State<AppState>, a: Auth) -> PageResult {
    must_manage(&a)?;
    let fields = contract_fields(&s, &a, &ContractInput::default()).await?;
    FormSpec::new("contracts.new_title", "/contracts", "/contracts")
        .crumb("/contracts", a.p.lang_title("contracts.title"))
        .section("contracts")
        .show(&a, fields, &[])
}

pub async fn create(
    State(s): State<AppState>,
    a: Auth,
    CsrfForm(f): CsrfForm<Versioned<ContractInput>>,
) -> PageResult {
    must_manage(&a)?;
    let p = &a.p;
    let fields = contract_fields(&s, &a, &f.input).await?;
    save(
        &a,
        write_tx!(s.db, tx => contracts::create(tx, p, &f.input.parse()?, Utc::now()).await?),
        |c| format!("/contracts/{}", c.id),
        FormSpec::new("contracts.new_title", "/contracts", "/contracts").section("contracts"),
        fields,
    )
}

pub async fn edit(State(s): State<AppState>, a: Auth, Path(id): Path<i64>) -> PageResult {
    let d = contracts::get(&s.db, &a.p, id).await?;
    must_manage(&a)?;
    let fields = contract_fields(&s, &a, &d.contract.to_input()).await?;
    FormSpec::edit(
        "contracts.edit_title",
        format!("/contracts/{id}"),
        d.contract.version,
    )
    .crumb(format!("/contracts/{id}"), d.contract.reference.clone())
    .section("contracts")
    .show(&a, fields, &[])
}

pub async fn update(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm<Versioned<ContractInput>>,
) -> PageResult {
    must_manage(&a)?;
    let p = &a.p;
    let version = f.version.unwrap_or(0);
    let fields = contract_fields(&s, &a, &f.input).await?;
    save(
        &a,
        write_tx!(s.db, tx => contracts::update(tx, p, id, version, &f.input.parse()?, Utc::now()).await?),
        |c| format!("/contracts/{}", c.id),
        FormSpec::edit("contracts.edit_title", format!("/contracts/{id}"), version)
            .section("contracts"),
        fields,
    )
}

fn lot_fields(lang: Lang, v: &LotInput) -> Vec<Field> {
    let t = |k| crate::i18n::t(lang, k);
    vec![
        Field::text("number", t("contracts.lot_number"), v.number.clone())
            .input("number")
            .required(),
        Field::text("label", t("field.label"), v.label.clone()).required(),
        Field::text(
            "cap_ticket",
            t("contracts.cap_ticket"),
            v.cap_ticket.clone().unwrap_or_default(),
        )
        .hint(t("contracts.cap_hint")),
        Field::text(
            "cap_month",
            t("contracts.cap_month"),
            v.cap_month.clone().unwrap_or_default(),
        )
        .hint(t("contracts.cap_hint")),
    ]
}

pub async fn lot_new(State(s): State<AppState>, a: Auth, Path(id): Path<i64>) -> PageResult {
    let d = contracts::get(&s.db, &a.p, id).await?;
    must_manage(&a)?;
    let next = d.lots.iter().map(|l| l.lot.number).max().unwrap_or(0) + 1;
    let v = LotInput {
        number: next.to_string(),
        ..Default::default()
    };
    FormSpec::new(
        "contracts.lot_new_title",
        format!("/contracts/{id}/lots"),
        format!("/contracts/{id}"),
    )
    .crumb(format!("/contracts/{id}"), d.contract.reference.clone())
    .section("contracts")
    .show(&a, lot_fields(a.p.lang, &v), &[])
}

pub async fn lot_create(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm<Versioned<LotInput>>,
) -> PageResult {
    let p = &a.p;
    save(
        &a,
        write_tx!(s.db, tx => contracts::lot_create(tx, p, id, &f.input.parse()?, Utc::now()).await?),
        |_| format!("/contracts/{id}"),
        FormSpec::new(
            "contracts.lot_new_title",
            format!("/contracts/{id}/lots"),
            format!("/contracts/{id}"),
        )
        .section("contracts"),
        lot_fields(p.lang, &f.input),
    )
}

#[derive(Template)]
#[template(path = "lot_grid.html")]
struct GridPage {
    ctx: Ctx,
    contract_id: i64,
    lot_id: i64,
    rows: Vec<GridInputRow>,
    units: Vec<(String, String)>,
    errors: Vec<String>,
    open_tickets_kept: Option<i64>,
}

struct GridInputRow {
    code: &'static str,
    label: &'static str,
    gti: String,
    gtr: String,
    unit: String,
    gti_penalty: String,
    gtr_penalty: String,
    error: Vec<String>,
}

fn cents_text(c: i64) -> String {
    if c == 0 {
        String::new()
    } else if c % 100 == 0 {
        (c / 100).to_string()
    } else {
        preau_domain::device::plain_euros(c)
    }
}

async fn grid_page(
    s: &AppState,
    a: &Auth,
    lot_id: i64,
    inputs: Option<&[SlaLineInput]>,
    errors: &[FieldError],
    kept: Option<i64>,
) -> Result<GridPage, PageError> {
    let p = &a.p;
    let lang = p.lang;
    let (lot, contract_id, grid) = lot_detail(s, a, lot_id).await?;
    let rows = Priority::ALL
        .iter()
        .map(|pr| {
            let typed = inputs.and_then(|i| i.iter().find(|l| l.priority == pr.code()));
            let stored = grid.iter().find(|(x, _)| x == pr).map(|(_, l)| l);
            let (gti, gtr, unit, a_pen, b_pen) = match (typed, stored) {
                (Some(t), _) => (
                    t.gti.clone().unwrap_or_default(),
                    t.gtr.clone().unwrap_or_default(),
                    t.unit.clone(),
                    t.gti_penalty.clone().unwrap_or_default(),
                    t.gtr_penalty.clone().unwrap_or_default(),
                ),
                (None, Some(l)) => (
                    l.gti.map(|s| s.code()).unwrap_or_default(),
                    l.gtr.map(|s| s.code()).unwrap_or_default(),
                    l.unit.code().to_string(),
                    cents_text(l.gti_penalty_cents),
                    cents_text(l.gtr_penalty_cents),
                ),
                (None, None) => Default::default(),
            };
            GridInputRow {
                code: pr.code(),
                label: pr.short(lang),
                gti,
                gtr,
                unit,
                gti_penalty: a_pen,
                gtr_penalty: b_pen,
                error: errors
                    .iter()
                    .filter(|e| e.field.starts_with(&format!("{}.", pr.code())))
                    .map(|e| format!("{} : {}", e.field, e.message(lang)))
                    .collect(),
            }
        })
        .collect();
    Ok(GridPage {
        ctx: Ctx::page(
            a,
            format!("{} — {}", p.lang_title("contracts.grid_title"), lot.label),
            "contracts",
        )
        .crumb("/contracts", p.lang_title("contracts.title"))
        .crumb(
            format!("/contracts/{contract_id}"),
            p.lang_title("contracts.contract"),
        ),
        contract_id,
        lot_id,
        rows,
        units: PenaltyUnit::ALL
            .iter()
            .map(|u| (u.code().to_string(), u.label(lang).to_string()))
            .collect(),
        errors: errors
            .iter()
            .filter(|e| {
                !Priority::ALL
                    .iter()
                    .any(|pr| e.field.starts_with(&format!("{}.", pr.code())))
            })
            .map(|e| e.message(lang))
            .collect(),
        open_tickets_kept: kept,
    })
}

async fn lot_detail(
    s: &AppState,
    a: &Auth,
    lot_id: i64,
) -> Result<(contracts::Lot, i64, Vec<(Priority, SlaLine)>), PageError> {
    for c in contracts::list(&s.db, &a.p).await? {
        let d = contracts::get(&s.db, &a.p, c.id).await?;
        if let Some(l) = d.lots.into_iter().find(|l| l.lot.id == lot_id) {
            return Ok((l.lot, c.id, l.grid));
        }
    }
    Err(AppError::NotFound.into())
}

pub async fn grid_form(
    State(s): State<AppState>,
    a: Auth,
    Path(lot_id): Path<i64>,
    Query(q): Query<super::FlashQuery>,
) -> PageResult {
    must_manage(&a)?;
    let kept = q
        .flash()
        .and_then(|f| f.strip_prefix("kept_"))
        .and_then(|n| n.parse().ok());
    render(&grid_page(&s, &a, lot_id, None, &[], kept).await?)
}

pub async fn grid_save(
    State(s): State<AppState>,
    a: Auth,
    Path(lot_id): Path<i64>,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    must_manage(&a)?;
    let get = |k: String| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone());
    let inputs: Vec<SlaLineInput> = Priority::ALL
        .iter()
        .map(|pr| {
            let c = pr.code();
            SlaLineInput {
                priority: c.to_string(),
                gti: get(format!("{c}.gti")),
                gtr: get(format!("{c}.gtr")),
                unit: get(format!("{c}.unit")).unwrap_or_else(|| "heure".into()),
                gti_penalty: get(format!("{c}.gti_penalty")),
                gtr_penalty: get(format!("{c}.gtr_penalty")),
            }
        })
        .collect();
    let r = write_tx!(s.db, tx => {
        let grid = contracts::parse_grid(&inputs)?;
        contracts::set_grid(tx, &a.p, lot_id, &grid, Utc::now()).await?
    });
    match r {
        Ok(kept) => Ok(see_other(
            &format!("/lots/{lot_id}/grid"),
            &format!("kept_{kept}"),
        )),
        Err(AppError::Invalid(errs)) => {
            let mut resp = render(&grid_page(&s, &a, lot_id, Some(&inputs), &errs, None).await?)?;
            *resp.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
            Ok(resp)
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "lot_perimeter.html")]
struct PerimeterPage {
    ctx: Ctx,
    lot_id: i64,
    contract_id: i64,
    schools: Vec<(i64, String, bool)>,
    categories: Vec<(i64, String, bool)>,
}

pub async fn perimeter_form(
    State(s): State<AppState>,
    a: Auth,
    Path(lot_id): Path<i64>,
) -> PageResult {
    must_manage(&a)?;
    let p = &a.p;
    let (lot, contract_id, _) = lot_detail(&s, &a, lot_id).await?;
    let d = contracts::get(&s.db, p, contract_id).await?;
    let perimeter = d
        .lots
        .iter()
        .find(|l| l.lot.id == lot_id)
        .map(|l| l.perimeter.clone())
        .unwrap_or_default();
    let schools = schools::all_readable(&s.db, p)
        .await?
        .into_iter()
        .map(|sc| (sc.id, sc.name, perimeter.iter().any(|(x, _)| *x == sc.id)))
        .collect();
    let categories = categories::list(&s.db, p)
        .await?
        .into_iter()
        .map(|c| {
            (
                c.id,
                c.label(p.lang).to_string(),
                perimeter.iter().any(|(_, x)| *x == c.id),
            )
        })
        .collect();
    render(&PerimeterPage {
        ctx: Ctx::page(
            &a,
            format!(
                "{} — {}",
                p.lang_title("contracts.perimeter_title"),
                lot.label
            ),
            "contracts",
        )
        .crumb("/contracts", p.lang_title("contracts.title"))
        .crumb(
            format!("/contracts/{contract_id}"),
            p.lang_title("contracts.contract"),
        ),
        lot_id,
        contract_id,
        schools,
        categories,
    })
}

pub async fn perimeter_save(
    State(s): State<AppState>,
    a: Auth,
    Path(lot_id): Path<i64>,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    must_manage(&a)?;
    let ids = |k: &str| -> Vec<i64> {
        pairs
            .iter()
            .filter(|(n, _)| n == k)
            .filter_map(|(_, v)| v.parse().ok())
            .collect()
    };
    let (school_ids, category_ids) = (ids("school"), ids("category"));
    let (_, contract_id, _) = lot_detail(&s, &a, lot_id).await?;
    write_tx!(s.db, tx => contracts::set_perimeter(tx, &a.p, lot_id, &school_ids, &category_ids, Utc::now()).await?)?;
    Ok(see_other(
        &format!("/contracts/{contract_id}"),
        "perimeter_saved",
    ))
}

#[derive(Deserialize, Default)]
pub struct ReportQuery {
    #[serde(default, deserialize_with = "preau_domain::text::opt_i64")]
    contract: Option<i64>,
    #[serde(default)]
    month: Option<String>,
}

struct ReportLineView {
    ticket_id: i64,
    number: i64,
    school: String,
    priority: &'static str,
    opened: String,
    gti: String,
    gtr: String,
    computation: Vec<String>,
    penalty: String,
    provisional: bool,
}

struct LotReportView {
    label: String,
    tickets: usize,
    gti_rate: String,
    gtr_rate: String,
    late: Vec<ReportLineView>,
    gross: String,
    total: String,
    capped: bool,
    cap_month: String,
}

#[derive(Template)]
#[template(path = "sla_report.html")]
struct ReportPage {
    ctx: Ctx,
    contracts: Vec<(i64, String, bool)>,
    month: String,
    prev: String,
    next: String,
    contract_id: i64,
    lots: Vec<LotReportView>,
    total: String,
    computed_at: String,
    title: String,
}

fn clock_text(
    lang: Lang,
    due: Option<chrono::DateTime<Utc>>,
    met: Option<bool>,
    late_minutes: i64,
    late_days: i64,
) -> String {
    let t = |k| crate::i18n::t(lang, k);
    match (due, met) {
        (None, _) => "—".into(),
        (Some(d), Some(true)) => {
            format!("{} {} — {}", t("report.due"), paris(d), t("report.in_time"))
        }
        (Some(d), Some(false)) => format!(
            "{} {} — {} {} ({} {})",
            t("report.due"),
            paris(d),
            t("clock.late_by"),
            duration_label(late_minutes),
            late_days,
            t("report.days_started")
        ),
        (Some(d), None) => format!("{} {}", t("report.due"), paris(d)),
    }
}

/// The penalty computation in words, one line per clock, then the cap.
fn computation(lang: Lang, l: &reports::Line) -> Vec<String> {
    let t = |k| crate::i18n::t(lang, k);
    let unit = PenaltyUnit::from_db(&l.ticket.sla_unit);
    let unit_word = match unit {
        PenaltyUnit::Heure => t("report.hours"),
        PenaltyUnit::Jour => t("report.days"),
    };
    let mut out = Vec::new();
    for (name, part) in [("GTI", &l.penalty.gti), ("GTR", &l.penalty.gtr)] {
        if part.units > 0 {
            out.push(format!(
                "{name} : {} {unit_word} × {} = {}",
                part.units,
                euros(part.rate_cents),
                euros(part.cents)
            ));
        }
    }
    if l.penalty.capped {
        out.push(format!(
            "{} {} → {}",
            t("report.capped_ticket"),
            euros(l.penalty.gross_cents),
            euros(l.penalty.cents)
        ));
    }
    out
}

async fn compute(
    s: &AppState,
    a: &Auth,
    q: &ReportQuery,
) -> Result<(SlaReport, Vec<(i64, String, bool)>), PageError> {
    let p = &a.p;
    if !p.can_see_sla_report() {
        return Err(AppError::Forbidden.into());
    }
    let list = contracts::list(&s.db, p).await?;
    let Some(first) = list.first() else {
        return Err(AppError::NotFound.into());
    };
    let id = q.contract.unwrap_or(first.id);
    let month = match q.month.as_deref().filter(|m| !m.is_empty()) {
        Some(m) => Month::parse(m).map_err(AppError::from)?,
        None => Month::of(Utc::now()).previous(),
    };
    let report = reports::monthly(&s.db, p, id, month, Utc::now()).await?;
    let choices = list
        .iter()
        .map(|c| {
            (
                c.id,
                format!("{} — {} ({})", c.reference, c.title, c.contractor_name),
                c.id == id,
            )
        })
        .collect();
    Ok((report, choices))
}

pub async fn report(
    State(s): State<AppState>,
    a: Auth,
    Query(q): Query<ReportQuery>,
) -> PageResult {
    let p = &a.p;
    let lang = p.lang;
    let (r, contracts) = compute(&s, &a, &q).await?;
    let pct = |v: Option<f64>| {
        v.map(|v| format!("{v:.1} %").replace('.', ","))
            .unwrap_or_else(|| "—".into())
    };
    let lots = r
        .lots
        .iter()
        .map(|l| LotReportView {
            label: format!("Lot {} — {}", l.lot.number, l.lot.label),
            tickets: l.tickets,
            gti_rate: format!("{} ({}/{})", pct(l.gti_rate()), l.gti_met, l.gti_counted),
            gtr_rate: format!("{} ({}/{})", pct(l.gtr_rate()), l.gtr_met, l.gtr_counted),
            late: l
                .lines
                .iter()
                .filter(|x| x.late())
                .map(|x| ReportLineView {
                    ticket_id: x.ticket.id,
                    number: x.ticket.number,
                    school: x.ticket.school_name.clone(),
                    priority: x.ticket.priority().short(lang),
                    opened: paris(x.ticket.sla_start_at),
                    gti: clock_text(
                        lang,
                        x.gti_due,
                        x.gti_met,
                        x.gti_late_minutes,
                        x.gti_late_days,
                    ),
                    gtr: clock_text(
                        lang,
                        x.gtr_due,
                        x.gtr_met,
                        x.gtr_late_minutes,
                        x.gtr_late_days,
                    ),
                    computation: computation(lang, x),
                    penalty: euros(x.penalty.cents),
                    provisional: x.provisional,
                })
                .collect(),
            gross: euros(l.total.gross_cents),
            total: euros(l.total.cents),
            capped: l.total.capped,
            cap_month: l
                .lot
                .cap_month_cents
                .map(euros)
                .unwrap_or_else(|| crate::i18n::t(lang, "contracts.no_cap").to_string()),
        })
        .collect();
    let title = format!(
        "{} — {} — {}",
        crate::i18n::t(lang, "report.sla_title"),
        r.contract.reference,
        r.month.code()
    );
    render(&ReportPage {
        ctx: Ctx::page(&a, title.clone(), "contracts")
            .crumb("/contracts", p.lang_title("contracts.title")),
        contracts,
        month: r.month.code(),
        prev: r.month.previous().code(),
        next: r.month.next().code(),
        contract_id: r.contract.id,
        lots,
        total: euros(r.total_cents),
        computed_at: paris(r.computed_at),
        title,
    })
}

/// The report's lines as a table: every ticket of the month, late or not.
fn report_rows(lang: Lang, r: &SlaReport) -> Vec<Vec<String>> {
    let t = |k| crate::i18n::t(lang, k).to_string();
    let mut rows = vec![vec![
        t("report.lot"),
        t("ticket.number"),
        t("field.school"),
        t("ticket.priority"),
        t("ticket.opened"),
        t("report.gti_due"),
        t("report.gti_late"),
        t("report.gtr_due"),
        t("report.gtr_late"),
        t("report.late_days"),
        t("report.penalty_gti"),
        t("report.penalty_gtr"),
        t("report.penalty"),
        t("report.provisional"),
    ]];
    let money = preau_domain::device::plain_euros;
    for l in &r.lots {
        for x in &l.lines {
            rows.push(vec![
                l.lot.number.to_string(),
                x.ticket.number.to_string(),
                x.ticket.school_name.clone(),
                x.ticket.priority.to_uppercase(),
                paris(x.ticket.sla_start_at),
                x.gti_due.map(paris).unwrap_or_default(),
                x.gti_late_minutes.to_string(),
                x.gtr_due.map(paris).unwrap_or_default(),
                x.gtr_late_minutes.to_string(),
                (x.gti_late_days.max(x.gtr_late_days)).to_string(),
                money(x.penalty.gti.cents),
                money(x.penalty.gtr.cents),
                money(x.penalty.cents),
                if x.provisional { t("yes") } else { t("no") },
            ]);
        }
        rows.push(vec![
            l.lot.number.to_string(),
            t("report.month_total"),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            money(l.total.gross_cents),
            money(l.total.cents),
            String::new(),
        ]);
    }
    rows
}

pub async fn report_export(
    State(s): State<AppState>,
    a: Auth,
    Path(format): Path<String>,
    Query(q): Query<ReportQuery>,
) -> PageResult {
    let (r, _) = compute(&s, &a, &q).await?;
    let rows = report_rows(a.p.lang, &r);
    let name = format!("sla-{}-{}", r.contract.reference, r.month.code());
    match format.as_str() {
        "csv" => Ok((
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{name}.csv\""),
                ),
            ],
            crate::export::csv(&rows),
        )
            .into_response()),
        "xlsx" => Ok((
            [
                (
                    header::CONTENT_TYPE,
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_string(),
                ),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{name}.xlsx\""),
                ),
            ],
            crate::export::xlsx("SLA", &rows),
        )
            .into_response()),
        _ => Err(AppError::NotFound.into()),
    }
}
