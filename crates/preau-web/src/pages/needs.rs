//! The needs campaigns' pages: the list of campaigns (the administrator opens one), a
//! campaign with its counts by school and status and every request the caller may read,
//! each with what the caller may do to it — the directeur adds or withdraws, the ERUN/IEN
//! gives an opinion, the administrator decides — and the requests as a spreadsheet.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use chrono::Utc;
use preau_core::steering::needs::{self, CampaignRow, NeedRequest};
use preau_core::{AppError, write_tx};
use preau_domain::needs::{CampaignInput, DecisionInput, Priority, RequestInput, Status};
use preau_domain::{FieldError, Lang, Principal};
use serde::Deserialize;

use super::form::{Field, FlashQuery, FormSpec, Versioned, form_errors, options, save};
use super::parts::devices::category_label;
use super::{Ctx, LangTitle, flash_key, render, see_other};
use crate::AppState;
use crate::error::PageError;
use crate::session::{Auth, CsrfForm};

type PageResult = Result<Response, PageError>;

fn day(d: chrono::NaiveDate) -> String {
    d.format("%d/%m/%Y").to_string()
}

pub struct CampaignLine {
    pub id: i64,
    pub title: String,
    pub dates: String,
    pub open: bool,
    pub plan_year: i64,
}

#[derive(Template)]
#[template(path = "needs.html")]
struct ListPage {
    ctx: Ctx,
    campaigns: Vec<CampaignLine>,
    can_open: bool,
}

fn reader(p: &Principal) -> Result<(), PageError> {
    if p.sees_some_coverage() {
        Ok(())
    } else {
        Err(AppError::Forbidden.into())
    }
}

/// The campaigns, the latest first.
pub async fn list(State(s): State<AppState>, a: Auth, Query(q): Query<FlashQuery>) -> PageResult {
    let p = &a.p;
    reader(p)?;
    let today = super::today();
    let campaigns = needs::campaigns(&s.db, p).await?;
    let page = ListPage {
        ctx: Ctx::page(&a, p.lang_title("needs.title"), "needs").flash(flash_key(q.flash())),
        campaigns: campaigns
            .iter()
            .map(|c| CampaignLine {
                id: c.id,
                title: c.title.clone(),
                dates: format!("{} → {}", day(c.opens_on), day(c.closes_on)),
                open: c.is_open(today),
                plan_year: c.plan_year,
            })
            .collect(),
        can_open: p.can_decide_needs(),
    };
    render(&page)
}

fn campaign_fields(lang: Lang, v: &CampaignInput) -> Vec<Field> {
    let t = |k| crate::i18n::t(lang, k);
    vec![
        Field::text("title", t("needs.campaign_title"), v.title.clone()).required(),
        Field::text("opens_on", t("needs.opens_on"), v.opens_on.clone())
            .input("date")
            .required(),
        Field::text("closes_on", t("needs.closes_on"), v.closes_on.clone())
            .input("date")
            .required()
            .hint(t("needs.closes_on_hint")),
        Field::text("plan_year", t("needs.plan_year"), v.plan_year.clone())
            .input("number")
            .required()
            .hint(t("needs.plan_year_hint")),
    ]
}

fn decider(p: &Principal) -> Result<(), PageError> {
    if p.can_decide_needs() {
        Ok(())
    } else {
        Err(AppError::Forbidden.into())
    }
}

fn new_spec() -> FormSpec {
    FormSpec::new("needs.new_title", "/needs", "/needs").section("needs")
}

pub async fn new(a: Auth) -> PageResult {
    decider(&a.p)?;
    let today = super::today();
    let year = chrono::Datelike::year(&today) + 1;
    let v = CampaignInput {
        title: format!("{} {year}", crate::i18n::t(a.p.lang, "needs.default_title")),
        opens_on: today.to_string(),
        closes_on: (today + chrono::Duration::days(42)).to_string(),
        plan_year: year.to_string(),
    };
    new_spec()
        .crumb("/needs", a.p.lang_title("needs.title"))
        .show(&a, campaign_fields(a.p.lang, &v), &[])
}

pub async fn create(
    State(s): State<AppState>,
    a: Auth,
    CsrfForm(f): CsrfForm<Versioned<CampaignInput>>,
) -> PageResult {
    decider(&a.p)?;
    let p = &a.p;
    save(
        &a,
        write_tx!(s.db, tx => {
            let c = f.input.check().map_err(AppError::Invalid)?;
            needs::open_campaign(tx, p, &c, Utc::now()).await?
        }),
        |id| format!("/needs/{id}"),
        new_spec(),
        campaign_fields(p.lang, &f.input),
    )
}

async fn campaign_row(s: &AppState, p: &Principal, id: i64) -> Result<CampaignRow, PageError> {
    needs::campaigns(&s.db, p)
        .await?
        .into_iter()
        .find(|c| c.id == id)
        .ok_or_else(|| AppError::NotFound.into())
}

pub async fn edit(State(s): State<AppState>, a: Auth, Path(id): Path<i64>) -> PageResult {
    decider(&a.p)?;
    let c = campaign_row(&s, &a.p, id).await?;
    let v = CampaignInput {
        title: c.title.clone(),
        opens_on: c.opens_on.to_string(),
        closes_on: c.closes_on.to_string(),
        plan_year: c.plan_year.to_string(),
    };
    FormSpec::edit("needs.edit_title", format!("/needs/{id}"), c.version)
        .crumb(format!("/needs/{id}"), c.title)
        .section("needs")
        .show(&a, campaign_fields(a.p.lang, &v), &[])
}

pub async fn update(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm<Versioned<CampaignInput>>,
) -> PageResult {
    decider(&a.p)?;
    let p = &a.p;
    let version = f.version.unwrap_or(0);
    save(
        &a,
        write_tx!(s.db, tx => {
            let c = f.input.check().map_err(AppError::Invalid)?;
            needs::update_campaign(tx, p, id, version, &c, Utc::now()).await?
        }),
        |_| format!("/needs/{id}"),
        FormSpec::edit("needs.edit_title", format!("/needs/{id}"), version).section("needs"),
        campaign_fields(p.lang, &f.input),
    )
}

/// One request as shown, with what the caller may do to it.
pub struct RequestView {
    pub id: i64,
    pub version: i64,
    pub school_id: i64,
    pub school: String,
    pub what: String,
    pub quantity: i64,
    pub reason: String,
    pub priority: &'static str,
    pub priority_code: &'static str,
    pub status: &'static str,
    pub status_code: &'static str,
    pub requested: String,
    pub opinion: String,
    pub opinion_by: String,
    pub decision: String,
    pub estimate: String,
    pub can_withdraw: bool,
    pub can_opine: bool,
    pub can_decide: bool,
}

#[derive(Template)]
#[template(path = "needs_campaign.html")]
struct CampaignPage {
    ctx: Ctx,
    id: i64,
    title: String,
    dates: String,
    open: bool,
    plan_year: i64,
    totals: Vec<(&'static str, &'static str, i64)>,
    schools: Vec<(i64, String, Vec<i64>)>,
    status_labels: Vec<&'static str>,
    requests: Vec<RequestView>,
    accepted: String,
    show_costs: bool,
    can_edit: bool,
    /// Schools the caller may enter requests for (empty: no form).
    request_schools: Vec<(String, String)>,
    categories: Vec<(String, String)>,
    priorities: Vec<(String, String)>,
    decisions: Vec<(String, String)>,
    errors: Vec<String>,
    form: RequestInput,
    form_school: String,
    status_filter: String,
}

#[derive(Deserialize, Default)]
pub struct CampaignQuery {
    flash: Option<String>,
    status: Option<String>,
}

fn request_view(
    p: &Principal,
    r: &NeedRequest,
    open: bool,
    categories: &[preau_core::inventory::categories::Category],
    lang: Lang,
) -> RequestView {
    let what = match &r.category {
        Some(code) if r.item.is_empty() => category_label(categories, code, lang),
        _ => r.item.clone(),
    };
    let decision = match (r.status, r.plan_year, &r.decision_reason) {
        (Status::Acceptee, Some(y), reason) => format!(
            "{} {y}{}",
            crate::i18n::t(lang, "needs.in_plan"),
            reason
                .as_ref()
                .map(|r| format!(" — {r}"))
                .unwrap_or_default()
        ),
        (_, _, Some(reason)) => reason.clone(),
        _ => String::new(),
    };
    RequestView {
        id: r.id,
        version: r.version,
        school_id: r.school_id,
        school: r.school_name.clone(),
        what,
        quantity: r.quantity,
        reason: r.reason.clone(),
        priority: r.priority.label(lang),
        priority_code: r.priority.code(),
        status: r.status.label(lang),
        status_code: r.status.code(),
        requested: format!("{} — {}", r.requested_by, super::paris(r.created_at)),
        opinion: r.opinion.clone().unwrap_or_default(),
        opinion_by: r.opinion_by.clone().unwrap_or_default(),
        decision,
        estimate: r
            .estimate_cents
            .map(preau_domain::device::format_euros)
            .unwrap_or_default(),
        can_withdraw: open && r.status == Status::Soumise && p.can_request_needs(r.school_id),
        can_opine: p.can_give_opinion(r.school_id),
        can_decide: p.can_decide_needs(),
    }
}

async fn campaign_page(
    s: &AppState,
    a: &Auth,
    id: i64,
    q: &CampaignQuery,
    form: RequestInput,
    form_school: String,
    errors: Vec<String>,
) -> PageResult {
    let p = &a.p;
    let lang = p.lang;
    let v = needs::campaign(&s.db, p, id, Utc::now()).await?;
    let categories = preau_core::inventory::categories::list(&s.db, p).await?;
    let request_schools: Vec<(String, String)> = if v.open {
        preau_core::schools::all_readable(&s.db, p)
            .await?
            .into_iter()
            .filter(|sc| p.can_request_needs(sc.id) && p.needs_schools().contains(sc.id))
            .map(|sc| (sc.id.to_string(), sc.name))
            .collect()
    } else {
        Vec::new()
    };
    let status_filter = q
        .status
        .as_deref()
        .and_then(|st| Status::parse("status", st).ok())
        .map(|st| st.code().to_string())
        .unwrap_or_default();
    let mut ctx = Ctx::page(a, v.campaign.title.clone(), "needs")
        .crumb("/needs", p.lang_title("needs.title"))
        .flash(flash_key(q.flash.as_deref()));
    ctx.title = v.campaign.title.clone();
    let page = CampaignPage {
        ctx,
        id,
        title: v.campaign.title.clone(),
        dates: format!(
            "{} → {}",
            day(v.campaign.opens_on),
            day(v.campaign.closes_on)
        ),
        open: v.open,
        plan_year: v.campaign.plan_year,
        totals: Status::ALL
            .iter()
            .enumerate()
            .map(|(i, st)| (st.code(), st.label(lang), v.totals[i]))
            .collect(),
        schools: v
            .schools
            .iter()
            .map(|c| (c.school_id, c.name.clone(), c.by_status.to_vec()))
            .collect(),
        status_labels: Status::ALL.iter().map(|st| st.label(lang)).collect(),
        requests: v
            .requests
            .iter()
            .filter(|r| status_filter.is_empty() || r.status.code() == status_filter)
            .map(|r| request_view(p, r, v.open, &categories, lang))
            .collect(),
        accepted: if v.costs_shown {
            preau_domain::device::format_euros(v.accepted_cents)
        } else {
            String::new()
        },
        show_costs: v.costs_shown,
        can_edit: p.can_decide_needs(),
        request_schools,
        categories: std::iter::once((
            String::new(),
            crate::i18n::t(lang, "needs.other_item").to_string(),
        ))
        .chain(
            categories
                .iter()
                .map(|c| (c.code.clone(), category_label(&categories, &c.code, lang))),
        )
        .collect(),
        priorities: options(Priority::ALL, Priority::code, |x| x.label(lang)),
        decisions: options(&Status::ALL[1..], Status::code, |x| x.label(lang)),
        errors,
        form,
        form_school,
        status_filter,
    };
    let mut resp = render(&page)?;
    if !page.errors.is_empty() {
        *resp.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(resp)
}

/// A campaign; `/needs/{id}/requests.xlsx` and `.csv` (see `export`) give its requests.
pub async fn campaign(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i64>,
    Query(q): Query<CampaignQuery>,
) -> PageResult {
    reader(&a.p)?;
    campaign_page(
        &s,
        &a,
        id,
        &q,
        RequestInput::default(),
        String::new(),
        Vec::new(),
    )
    .await
}

/// The campaign's requests as a spreadsheet (`xlsx` or `csv`).
pub async fn export(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i64>,
    uri: axum::http::Uri,
) -> PageResult {
    let p = &a.p;
    reader(p)?;
    let lang = p.lang;
    let t = |k: &str| crate::i18n::t(lang, k).to_string();
    let v = needs::campaign(&s.db, p, id, Utc::now()).await?;
    let categories = preau_core::inventory::categories::list(&s.db, p).await?;
    let mut rows = vec![vec![
        t("field.school"),
        t("needs.what"),
        t("needs.quantity"),
        t("needs.priority"),
        t("needs.reason"),
        t("needs.status"),
        t("needs.plan_year"),
        t("needs.decision_reason"),
        t("needs.opinion"),
    ]];
    if v.costs_shown {
        rows[0].push(t("needs.estimate"));
    }
    for r in &v.requests {
        let what = match &r.category {
            Some(code) if r.item.is_empty() => category_label(&categories, code, lang),
            _ => r.item.clone(),
        };
        let mut row = vec![
            r.school_name.clone(),
            what,
            r.quantity.to_string(),
            r.priority.label(lang).into(),
            r.reason.clone(),
            r.status.label(lang).into(),
            r.plan_year.map(|y| y.to_string()).unwrap_or_default(),
            r.decision_reason.clone().unwrap_or_default(),
            r.opinion.clone().unwrap_or_default(),
        ];
        if v.costs_shown {
            row.push(
                r.estimate_cents
                    .map(preau_domain::device::plain_euros)
                    .unwrap_or_default(),
            );
        }
        rows.push(row);
    }
    let format = uri.path().rsplit('.').next().unwrap_or_default();
    crate::export::table(format, "besoins", &v.campaign.title, &rows)
}

#[derive(Deserialize)]
pub struct RequestForm {
    school_id: String,
    #[serde(flatten)]
    input: RequestInput,
}

/// A school's new request.
pub async fn add(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm<RequestForm>,
) -> PageResult {
    let p = &a.p;
    reader(p)?;
    let Ok(school) = f.school_id.trim().parse::<i64>() else {
        return Err(AppError::Invalid(vec![FieldError::new("school_id", "unknown_value")]).into());
    };
    if !p.needs_schools().contains(school) {
        return Err(AppError::NotFound.into());
    }
    if !p.can_request_needs(school) {
        return Err(AppError::Forbidden.into());
    }
    let result = write_tx!(s.db, tx => {
        let r = f.input.check().map_err(AppError::Invalid)?;
        needs::add_request(tx, p, id, school, &r, Utc::now()).await?
    });
    match result {
        Ok(_) => Ok(see_other(&format!("/needs/{id}"), "created")),
        Err(e) => {
            let errors = form_errors(e)?
                .iter()
                .map(|e| format!("{} : {}", field_label(p.lang, &e.field), e.message(p.lang)))
                .collect();
            campaign_page(
                &s,
                &a,
                id,
                &CampaignQuery::default(),
                f.input,
                f.school_id,
                errors,
            )
            .await
        }
    }
}

fn field_label(lang: Lang, field: &str) -> &'static str {
    crate::i18n::t(
        lang,
        match field {
            "item" => "needs.item",
            "quantity" => "needs.quantity",
            "reason" => "needs.reason",
            "priority" => "needs.priority",
            "category" => "field.category",
            "campaign" => "needs.campaign",
            "school_id" => "field.school",
            _ => "needs.request",
        },
    )
}

pub async fn withdraw(
    State(s): State<AppState>,
    a: Auth,
    Path(rid): Path<i64>,
    CsrfForm(_): CsrfForm<super::form::Empty>,
) -> PageResult {
    let p = &a.p;
    let campaign = needs::campaign_of(&s.db, p, rid).await?;
    write_tx!(s.db, tx => needs::withdraw(tx, p, rid, Utc::now()).await?)?;
    Ok(see_other(&format!("/needs/{campaign}"), "deleted"))
}

#[derive(Deserialize)]
pub struct OpinionForm {
    opinion: String,
}

pub async fn opinion(
    State(s): State<AppState>,
    a: Auth,
    Path(rid): Path<i64>,
    CsrfForm(f): CsrfForm<OpinionForm>,
) -> PageResult {
    let p = &a.p;
    let campaign = needs::campaign_of(&s.db, p, rid).await?;
    write_tx!(s.db, tx => needs::give_opinion(tx, p, rid, &f.opinion, Utc::now()).await?)?;
    Ok(see_other(&format!("/needs/{campaign}#r{rid}"), "saved"))
}

pub async fn decide(
    State(s): State<AppState>,
    a: Auth,
    Path(rid): Path<i64>,
    CsrfForm(f): CsrfForm<Versioned<DecisionInput>>,
) -> PageResult {
    let p = &a.p;
    decider(p)?;
    let campaign = needs::campaign_of(&s.db, p, rid).await?;
    let version = f.version.unwrap_or(0);
    write_tx!(s.db, tx => {
        let d = f.input.check().map_err(AppError::Invalid)?;
        needs::decide(tx, p, rid, version, &d, Utc::now()).await?
    })?;
    Ok(see_other(&format!("/needs/{campaign}#r{rid}"), "saved"))
}
