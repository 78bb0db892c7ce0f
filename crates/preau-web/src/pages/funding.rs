//! Funding pages: the subsidy dossiers (what each funds, what to count on, what remains to
//! the collectivité, the next deadline) and the spending of the last five years per year,
//! school and category, with the cost per pupil and the maintenance contracts' yearly cost.
//! The administrator and the élu read them; the administrator edits.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use chrono::Utc;
use preau_core::steering::funding::{self, Subsidy};
use preau_core::{AppError, write_tx};
use preau_domain::subsidy::{Funder, Input, Status};
use preau_domain::{FieldError, Lang, Principal};

use super::form::{Field, FlashQuery, attach_errors, options};
use super::parts::charts::whole_euros;
use super::parts::devices::category_label;
use super::parts::spending::{SpendRow, YearRow, spending_view};
use super::{Ctx, LangTitle, flash_key, render, see_other};
use crate::AppState;
use crate::error::PageError;
use crate::session::{Auth, CsrfForm};

type PageResult = Result<Response, PageError>;

/// Years of spending shown.
const YEARS: usize = 5;

fn reader(p: &Principal) -> Result<(), PageError> {
    if p.can_see_funding() {
        Ok(())
    } else {
        Err(AppError::Forbidden.into())
    }
}

fn editor(p: &Principal) -> Result<(), PageError> {
    if p.can_decide_needs() {
        Ok(())
    } else {
        Err(AppError::Forbidden.into())
    }
}

/// A dossier's line.
pub struct DossierLine {
    pub id: i64,
    pub title: String,
    pub funder: &'static str,
    pub year: i32,
    pub status: &'static str,
    pub status_code: &'static str,
    pub eligible: String,
    pub aid: String,
    pub received: String,
    pub remaining: String,
    pub deadline: String,
}

fn deadline(lang: Lang, s: &Subsidy) -> String {
    s.next_deadline
        .map(|(what, d)| {
            format!(
                "{} {}",
                crate::i18n::t(
                    lang,
                    if what == "deposit" {
                        "funding.deposit_by"
                    } else {
                        "funding.justify_by"
                    }
                ),
                d.format("%d/%m/%Y")
            )
        })
        .unwrap_or_default()
}

fn line(lang: Lang, s: &Subsidy) -> DossierLine {
    DossierLine {
        id: s.id,
        title: s.dossier.title.clone(),
        funder: s.dossier.funder.label(lang),
        year: s.dossier.year,
        status: s.dossier.status.label(lang),
        status_code: s.dossier.status.code(),
        eligible: whole_euros(s.eligible_cents),
        aid: whole_euros(s.aid_cents),
        received: whole_euros(s.dossier.received_cents),
        remaining: whole_euros(s.remaining_cents),
        deadline: deadline(lang, s),
    }
}

pub struct ContractRow {
    pub id: i64,
    pub reference: String,
    pub contractor: String,
    pub period: String,
    pub yearly: String,
}

#[derive(Template)]
#[template(path = "funding.html")]
struct FundingPage {
    ctx: Ctx,
    dossiers: Vec<DossierLine>,
    aid_total: String,
    received_total: String,
    remaining_total: String,
    deadlines: Vec<String>,
    chart: String,
    years: Vec<YearRow>,
    year_labels: Vec<i32>,
    schools: Vec<SpendRow>,
    categories: Vec<SpendRow>,
    contracts: Vec<ContractRow>,
    unpriced: i64,
    can_edit: bool,
}

/// Dossiers and spending; `/funding/spending.xlsx` and `/funding/dossiers.xlsx` give them.
pub async fn page(State(s): State<AppState>, a: Auth, Query(q): Query<FlashQuery>) -> PageResult {
    let p = &a.p;
    reader(p)?;
    let lang = p.lang;
    let now = Utc::now();
    let list = funding::list(&s.db, p, now).await?;
    let sp = funding::spending(&s.db, p, YEARS, now).await?;
    let view = spending_view(&s, p, &sp).await?;
    let counted = list.iter().filter(|d| d.dossier.status != Status::Refuse);
    let page = FundingPage {
        ctx: Ctx::page(&a, p.lang_title("funding.title"), "funding").flash(flash_key(q.flash())),
        aid_total: whole_euros(counted.clone().map(|d| d.aid_cents).sum()),
        received_total: whole_euros(list.iter().map(|d| d.dossier.received_cents).sum()),
        remaining_total: whole_euros(counted.map(|d| d.remaining_cents).sum()),
        deadlines: list
            .iter()
            .filter(|d| d.next_deadline.is_some())
            .map(|d| format!("{} — {}", deadline(lang, d), d.dossier.title))
            .collect(),
        dossiers: list.iter().map(|d| line(lang, d)).collect(),
        chart: view.chart,
        years: view.years,
        year_labels: view.year_labels,
        schools: view.schools,
        categories: view.categories,
        contracts: sp
            .contracts
            .iter()
            .map(|c| ContractRow {
                id: c.id,
                reference: c.reference.clone(),
                contractor: c.contractor.clone(),
                period: format!(
                    "{} → {}",
                    c.starts_on.format("%d/%m/%Y"),
                    c.ends_on.format("%d/%m/%Y")
                ),
                yearly: c
                    .yearly_cents
                    .map(preau_domain::device::plain_euros)
                    .unwrap_or_default(),
            })
            .collect(),
        unpriced: sp.unpriced,
        can_edit: p.can_decide_needs(),
    };
    render(&page)
}

/// The spending (per year, school, category) or the dossiers, as a spreadsheet.
pub async fn export(State(s): State<AppState>, a: Auth, uri: axum::http::Uri) -> PageResult {
    let p = &a.p;
    reader(p)?;
    let lang = p.lang;
    let t = |k: &str| crate::i18n::t(lang, k).to_string();
    let now = Utc::now();
    let path = uri.path();
    let format = path.rsplit('.').next().unwrap_or_default();
    let cents = preau_domain::device::plain_euros;
    if path.starts_with("/funding/dossiers.") {
        let mut rows = vec![vec![
            t("funding.dossier"),
            t("funding.funder"),
            t("funding.year"),
            t("funding.status"),
            t("funding.eligible"),
            t("funding.aid"),
            t("funding.received"),
            t("funding.remaining"),
            t("funding.next_deadline"),
        ]];
        for d in funding::list(&s.db, p, now).await? {
            rows.push(vec![
                d.dossier.title.clone(),
                d.dossier.funder.label(lang).into(),
                d.dossier.year.to_string(),
                d.dossier.status.label(lang).into(),
                cents(d.eligible_cents),
                cents(d.aid_cents),
                cents(d.dossier.received_cents),
                cents(d.remaining_cents),
                deadline(lang, &d),
            ]);
        }
        return crate::export::table(format, "subventions", &t("funding.dossiers"), &rows);
    }
    let sp = funding::spending(&s.db, p, YEARS, now).await?;
    let cats = preau_core::inventory::categories::list(&s.db, p).await?;
    let mut rows = vec![
        std::iter::once(t("field.school"))
            .chain(std::iter::once(t("field.category")))
            .chain(sp.years.iter().map(|y| y.year.to_string()))
            .collect::<Vec<_>>(),
    ];
    for l in &sp.schools {
        rows.push(
            [l.label.clone(), String::new()]
                .into_iter()
                .chain(l.cents.iter().map(|c| cents(*c)))
                .collect(),
        );
    }
    for l in &sp.categories {
        rows.push(
            [String::new(), category_label(&cats, &l.label, lang)]
                .into_iter()
                .chain(l.cents.iter().map(|c| cents(*c)))
                .collect(),
        );
    }
    rows.push(
        [t("funding.maintenance"), String::new()]
            .into_iter()
            .chain(sp.years.iter().map(|y| cents(y.maintenance_cents)))
            .collect(),
    );
    rows.push(
        [t("funding.links"), String::new()]
            .into_iter()
            .chain(sp.years.iter().map(|y| cents(y.links_cents)))
            .collect(),
    );
    rows.push(
        [t("dashboard.total"), String::new()]
            .into_iter()
            .chain(sp.years.iter().map(|y| cents(y.total_cents())))
            .collect(),
    );
    crate::export::table(format, "depenses", &t("funding.spending"), &rows)
}

/// The administrator sets the maintenance contracts' yearly cost (`yearly_{id}`, euros).
pub async fn contracts(
    State(s): State<AppState>,
    a: Auth,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    let p = &a.p;
    editor(p)?;
    let mut values = Vec::new();
    for (key, cents) in super::form::euros_by_key(&pairs, "yearly_")? {
        let Ok(id) = key.parse::<i64>() else {
            return Err(AppError::NotFound.into());
        };
        values.push((id, cents));
    }
    let now = Utc::now();
    write_tx!(s.db, tx => {
        for (id, c) in &values {
            funding::set_contract_cost(tx, p, *id, *c, now).await?;
        }
    })?;
    Ok(see_other("/funding#contracts", "saved"))
}

/// A dossier's form: its fields and the orders and accepted requests it may fund.
#[derive(Template)]
#[template(path = "subsidy_form.html")]
struct DossierForm {
    ctx: Ctx,
    action: String,
    version: Option<i64>,
    fields: Vec<Field>,
    orders: Vec<(String, String, bool)>,
    requests: Vec<(String, String, bool)>,
    has_errors: bool,
    other_errors: Vec<String>,
    cancel: String,
}

fn dossier_fields(lang: Lang, v: &Input) -> Vec<Field> {
    let t = |k| crate::i18n::t(lang, k);
    vec![
        Field::text("title", t("funding.dossier"), v.title.clone()).required(),
        Field::select(
            "funder",
            t("funding.funder"),
            v.funder.clone(),
            options(Funder::ALL, Funder::code, |f| f.label(lang)),
        )
        .required(),
        Field::text("year", t("funding.year"), v.year.clone())
            .input("number")
            .required()
            .hint(t("funding.year_hint")),
        Field::select(
            "status",
            t("funding.status"),
            v.status.clone(),
            options(Status::ALL, Status::code, |f| f.label(lang)),
        )
        .required(),
        Field::text("rate_percent", t("funding.rate"), v.rate_percent.clone())
            .input("number")
            .hint(t("funding.rate_hint")),
        Field::text("cap", t("funding.cap"), v.cap.clone()).hint(t("funding.euros_hint")),
        Field::text(
            "other_eligible",
            t("funding.other_eligible"),
            v.other_eligible.clone(),
        )
        .hint(t("funding.other_eligible_hint")),
        Field::text(
            "deposit_due",
            t("funding.deposit_due"),
            v.deposit_due.clone(),
        )
        .input("date"),
        Field::text(
            "justify_due",
            t("funding.justify_due"),
            v.justify_due.clone(),
        )
        .input("date"),
        Field::text("requested", t("funding.requested"), v.requested.clone())
            .hint(t("funding.euros_hint")),
        Field::text("granted", t("funding.granted"), v.granted.clone())
            .hint(t("funding.granted_hint")),
        Field::text("received", t("funding.received"), v.received.clone())
            .hint(t("funding.euros_hint")),
        Field::text("notes", t("funding.notes"), v.notes.clone()),
    ]
}

fn cents_input(c: Option<i64>) -> String {
    c.map(preau_domain::device::plain_euros).unwrap_or_default()
}

#[allow(clippy::too_many_arguments)]
async fn show_form(
    s: &AppState,
    a: &Auth,
    id: Option<i64>,
    version: Option<i64>,
    v: &Input,
    orders: &[String],
    requests: &[i64],
    errors: &[FieldError],
) -> PageResult {
    let p = &a.p;
    let lang = p.lang;
    let f = funding::fundable(&s.db, p).await?;
    let mut fields = dossier_fields(lang, v);
    let other_errors = attach_errors(&mut fields, errors, lang);
    let title = if id.is_some() {
        "funding.edit_title"
    } else {
        "funding.new_title"
    };
    let page = DossierForm {
        ctx: Ctx::page(a, p.lang_title(title), "funding")
            .crumb("/funding", p.lang_title("funding.title")),
        action: id.map_or_else(|| "/funding".into(), |i| format!("/funding/{i}/edit")),
        version,
        fields,
        orders: f
            .orders
            .iter()
            .map(|(r, n, c, d)| {
                (
                    r.clone(),
                    format!(
                        "{r} — {n} {} — {}{}",
                        crate::i18n::t(lang, "funding.devices"),
                        whole_euros(*c),
                        d.map(|d| format!(" — {}", d.format("%d/%m/%Y")))
                            .unwrap_or_default()
                    ),
                    orders.contains(r),
                )
            })
            .collect(),
        requests: f
            .requests
            .iter()
            .map(|(rid, school, item, n, year)| {
                (
                    rid.to_string(),
                    format!(
                        "{school} — {n} × {item}{}",
                        year.map(|y| format!(" ({y})")).unwrap_or_default()
                    ),
                    requests.contains(rid),
                )
            })
            .collect(),
        has_errors: !errors.is_empty(),
        other_errors,
        cancel: id.map_or_else(|| "/funding".into(), |i| format!("/funding/{i}")),
    };
    let mut resp = render(&page)?;
    if errors.iter().any(|e| e.code == "version_conflict") {
        *resp.status_mut() = axum::http::StatusCode::CONFLICT;
    } else if !errors.is_empty() {
        *resp.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(resp)
}

pub async fn new(State(s): State<AppState>, a: Auth) -> PageResult {
    editor(&a.p)?;
    let v = Input {
        year: chrono::Datelike::year(&super::today()).to_string(),
        status: Status::ADeposer.code().into(),
        ..Input::default()
    };
    show_form(&s, &a, None, None, &v, &[], &[], &[]).await
}

/// The form's pairs: the dossier's fields, the orders and requests ticked, the version.
fn read_form(pairs: &[(String, String)]) -> (Input, Vec<String>, Vec<i64>, Option<i64>) {
    let mut v = Input::default();
    let (mut orders, mut requests, mut version) = (Vec::new(), Vec::new(), None);
    for (k, val) in pairs {
        let val = val.clone();
        match k.as_str() {
            "funder" => v.funder = val,
            "title" => v.title = val,
            "year" => v.year = val,
            "rate_percent" => v.rate_percent = val,
            "cap" => v.cap = val,
            "other_eligible" => v.other_eligible = val,
            "status" => v.status = val,
            "deposit_due" => v.deposit_due = val,
            "justify_due" => v.justify_due = val,
            "requested" => v.requested = val,
            "granted" => v.granted = val,
            "received" => v.received = val,
            "notes" => v.notes = val,
            "order" => orders.push(val),
            "request" => {
                if let Ok(id) = val.parse() {
                    requests.push(id);
                }
            }
            "version" => version = val.parse().ok(),
            _ => {}
        }
    }
    (v, orders, requests, version)
}

pub async fn create(
    State(s): State<AppState>,
    a: Auth,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    let p = &a.p;
    editor(p)?;
    let (v, orders, requests, _) = read_form(&pairs);
    let result = write_tx!(s.db, tx => {
        let d = v.check().map_err(AppError::Invalid)?;
        funding::create(tx, p, &d, &funding::Funds { orders: orders.clone(), requests: requests.clone() }, Utc::now()).await?
    });
    match result {
        Ok(id) => Ok(see_other(&format!("/funding/{id}"), "created")),
        Err(e) => {
            let errors = super::form::form_errors(e)?;
            show_form(&s, &a, None, None, &v, &orders, &requests, &errors).await
        }
    }
}

fn input_of(d: &Subsidy) -> Input {
    let x = &d.dossier;
    Input {
        funder: x.funder.code().into(),
        title: x.title.clone(),
        year: x.year.to_string(),
        rate_percent: x.rate_percent.map(|r| r.to_string()).unwrap_or_default(),
        cap: cents_input(x.cap_cents),
        other_eligible: cents_input(Some(x.other_eligible_cents).filter(|c| *c > 0)),
        status: x.status.code().into(),
        deposit_due: x.deposit_due.map(|d| d.to_string()).unwrap_or_default(),
        justify_due: x.justify_due.map(|d| d.to_string()).unwrap_or_default(),
        requested: cents_input(Some(x.requested_cents)),
        granted: cents_input(x.granted_cents),
        received: cents_input(Some(x.received_cents)),
        notes: x.notes.clone(),
    }
}

pub async fn edit(State(s): State<AppState>, a: Auth, Path(id): Path<i64>) -> PageResult {
    editor(&a.p)?;
    let d = funding::get(&s.db, &a.p, id, Utc::now()).await?;
    let requests: Vec<i64> = d.requests.iter().map(|r| r.0).collect();
    show_form(
        &s,
        &a,
        Some(id),
        Some(d.version),
        &input_of(&d),
        &d.orders,
        &requests,
        &[],
    )
    .await
}

pub async fn update(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i64>,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    let p = &a.p;
    editor(p)?;
    let (v, orders, requests, version) = read_form(&pairs);
    let result = write_tx!(s.db, tx => {
        let d = v.check().map_err(AppError::Invalid)?;
        funding::update(tx, p, id, version.unwrap_or(0), &d, &funding::Funds { orders: orders.clone(), requests: requests.clone() }, Utc::now()).await?
    });
    match result {
        Ok(()) => Ok(see_other(&format!("/funding/{id}"), "saved")),
        Err(e) => {
            let errors = super::form::form_errors(e)?;
            show_form(&s, &a, Some(id), version, &v, &orders, &requests, &errors).await
        }
    }
}

#[derive(Template)]
#[template(path = "subsidy.html")]
struct DossierPage {
    ctx: Ctx,
    d: DossierLine,
    notes: String,
    rate: String,
    cap: String,
    requested: String,
    granted: String,
    expected: String,
    other: String,
    deposit_due: String,
    justify_due: String,
    orders: Vec<String>,
    requests: Vec<String>,
    can_edit: bool,
}

pub async fn dossier(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i64>,
    Query(q): Query<FlashQuery>,
) -> PageResult {
    let p = &a.p;
    reader(p)?;
    let d = funding::get(&s.db, p, id, Utc::now()).await?;
    let x = &d.dossier;
    let day = |d: Option<chrono::NaiveDate>| {
        d.map(|d| d.format("%d/%m/%Y").to_string())
            .unwrap_or_else(|| "—".into())
    };
    let page = DossierPage {
        ctx: Ctx::page(&a, x.title.clone(), "funding")
            .crumb("/funding", p.lang_title("funding.title"))
            .flash(flash_key(q.flash())),
        d: line(p.lang, &d),
        notes: x.notes.clone(),
        rate: x
            .rate_percent
            .map(|r| format!("{r} %"))
            .unwrap_or_else(|| "—".into()),
        cap: x.cap_cents.map(whole_euros).unwrap_or_else(|| "—".into()),
        requested: whole_euros(x.requested_cents),
        granted: x
            .granted_cents
            .map(whole_euros)
            .unwrap_or_else(|| "—".into()),
        expected: whole_euros(d.expected_cents),
        other: whole_euros(x.other_eligible_cents),
        deposit_due: day(x.deposit_due),
        justify_due: day(x.justify_due),
        orders: d.orders.clone(),
        requests: d
            .requests
            .iter()
            .map(|(_, school, item, n)| format!("{school} — {n} × {item}"))
            .collect(),
        can_edit: p.can_decide_needs(),
    };
    render(&page)
}
