//! Coverage pages: every school against the référentiel (what is missing, what it would
//! cost), one school's rules and classrooms with what each lacks, the référentiel in force
//! and the categories' unit prices.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use chrono::Utc;
use preau_core::steering::coverage::{self, SchoolCoverage};
use preau_core::steering::referentiel;
use preau_core::{AppError, write_tx};
use preau_domain::referentiel::{Measure, Verdict};
use preau_domain::{Lang, Principal};
use serde::Deserialize;

use super::parts::charts::{bar_chart, euros, whole_euros};
use super::parts::devices::category_label;
use super::{Ctx, LangTitle, flash_key, render, see_other};
use crate::AppState;
use crate::error::PageError;
use crate::session::{Auth, CsrfForm};

type PageResult = Result<Response, PageError>;

/// The verdict's order of urgency: the schools to act on first.
fn urgency(v: Verdict) -> u8 {
    match v {
        Verdict::NonConforme => 0,
        Verdict::Partiel => 1,
        Verdict::Conforme => 2,
        Verdict::NonEvalue => 3,
    }
}

pub struct Row {
    pub id: i64,
    pub name: String,
    pub uai: String,
    pub kind: &'static str,
    pub verdict: &'static str,
    pub verdict_label: &'static str,
    pub rooms_ok: usize,
    pub rooms: usize,
    /// The labels of the rules it fails, first three.
    pub gaps: String,
    pub cost: String,
}

fn row(s: &SchoolCoverage, lang: Lang) -> Row {
    let failing: Vec<&str> = s
        .coverage
        .rules
        .iter()
        .filter(|r| r.missing > 0)
        .map(|r| r.label.as_str())
        .collect();
    let mut gaps = failing
        .iter()
        .take(3)
        .copied()
        .collect::<Vec<_>>()
        .join(" · ");
    if failing.len() > 3 {
        gaps.push_str(&format!(" · +{}", failing.len() - 3));
    }
    Row {
        id: s.school_id,
        name: s.name.clone(),
        uai: s.uai.clone(),
        kind: s.kind.label(lang),
        verdict: s.coverage.verdict.code(),
        verdict_label: s.coverage.verdict.label(lang),
        rooms_ok: s
            .coverage
            .classrooms
            .iter()
            .filter(|c| c.verdict == Verdict::Conforme)
            .count(),
        rooms: s.coverage.classrooms.len(),
        gaps,
        cost: s.missing_cost_cents.map(euros).unwrap_or_default(),
    }
}

#[derive(Template)]
#[template(path = "coverage.html")]
struct CoveragePage {
    ctx: Ctx,
    rows: Vec<Row>,
    sort: String,
    counts: [(String, &'static str, usize); 4],
    total_cost: Option<String>,
    is_socle: bool,
    show_costs: bool,
}

#[derive(Deserialize, Default)]
pub struct CoverageQuery {
    #[serde(default)]
    sort: Option<String>,
}

/// The référentiel, prices, lifespans and cap are the administrator's to change.
fn editor(p: &Principal) -> Result<(), AppError> {
    if p.can_edit_referentiel() {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

fn allowed(p: &Principal) -> Result<(), AppError> {
    if p.sees_some_coverage() {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

pub async fn overview(
    State(s): State<AppState>,
    a: Auth,
    Query(q): Query<CoverageQuery>,
) -> PageResult {
    let p = &a.p;
    allowed(p)?;
    let report = coverage::report(&s.db, p, None, Utc::now()).await?;
    let mut schools = report.schools;
    let sort = q.sort.unwrap_or_default();
    match sort.as_str() {
        "name" => schools.sort_by(|a, b| a.name.cmp(&b.name)),
        "cost" => schools.sort_by_key(|s| std::cmp::Reverse(s.missing_cost_cents.unwrap_or(0))),
        _ => schools.sort_by(|a, b| {
            urgency(a.coverage.verdict)
                .cmp(&urgency(b.coverage.verdict))
                .then_with(|| a.name.cmp(&b.name))
        }),
    }
    let count = |v: Verdict| {
        (
            v.code().to_string(),
            v.label(p.lang),
            schools.iter().filter(|s| s.coverage.verdict == v).count(),
        )
    };
    let show_costs = p.can_see_costs();
    let page = CoveragePage {
        ctx: Ctx::page(&a, p.lang_title("coverage.title"), "coverage"),
        counts: [
            count(Verdict::NonConforme),
            count(Verdict::Partiel),
            count(Verdict::Conforme),
            count(Verdict::NonEvalue),
        ],
        total_cost: show_costs.then(|| {
            whole_euros(
                schools
                    .iter()
                    .filter_map(|s| s.missing_cost_cents)
                    .sum::<i64>(),
            )
        }),
        rows: schools.iter().map(|s| row(s, p.lang)).collect(),
        sort: if sort == "name" || sort == "cost" {
            sort
        } else {
            "verdict".into()
        },
        is_socle: report.referentiel.is_socle(),
        show_costs,
    };
    render(&page)
}

pub struct RuleLine {
    pub label: String,
    pub scope: &'static str,
    pub level: &'static str,
    pub verdict: &'static str,
    pub verdict_label: &'static str,
    pub missing: i64,
    pub buy: String,
    pub cost: String,
}

pub struct RoomLine {
    pub room_id: i64,
    pub name: String,
    pub classes: usize,
    pub verdict: &'static str,
    pub verdict_label: &'static str,
    pub missing: String,
}

#[derive(Template)]
#[template(path = "coverage_school.html")]
struct SchoolPage {
    ctx: Ctx,
    school_id: i64,
    name: String,
    verdict: &'static str,
    verdict_label: &'static str,
    cost: Option<String>,
    rules: Vec<RuleLine>,
    rooms: Vec<RoomLine>,
    /// Declarations the school can make: (key, label, declared).
    declarations: Vec<(String, String, bool)>,
    can_declare: bool,
    show_costs: bool,
}

pub async fn school(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i64>,
    Query(q): Query<super::FlashQuery>,
) -> PageResult {
    let p = &a.p;
    let report = coverage::report(&s.db, p, Some(id), Utc::now()).await?;
    let sc = report.schools.first().ok_or(AppError::NotFound)?;
    let lang = p.lang;
    let label_of = |key: &str| report.referentiel.label_of(key);
    let categories = preau_core::inventory::categories::list(&s.db, p).await?;
    let category = |code: &str| category_label(&categories, code, lang);
    let rules = sc
        .coverage
        .rules
        .iter()
        .map(|r| {
            let purchase = sc.purchases.iter().find(|x| x.rule_key == r.key);
            RuleLine {
                label: r.label.clone(),
                scope: r.scope.label(lang),
                level: r.level.label(lang),
                verdict: r.verdict.code(),
                verdict_label: r.verdict.label(lang),
                missing: r.missing,
                buy: match (&r.category, r.missing) {
                    (Some(c), n) if n > 0 => format!("{n} × {}", category(c)),
                    _ => String::new(),
                },
                cost: purchase
                    .and_then(|x| x.cost_cents)
                    .map(euros)
                    .unwrap_or_default(),
            }
        })
        .collect();
    let rooms = sc
        .coverage
        .classrooms
        .iter()
        .map(|c| RoomLine {
            room_id: c.room_id,
            name: c.name.clone(),
            classes: c.class_ids.len(),
            verdict: c.verdict.code(),
            verdict_label: c.verdict.label(lang),
            missing: c
                .missing
                .iter()
                .map(|k| label_of(k))
                .collect::<Vec<_>>()
                .join(" · "),
        })
        .collect();
    let declared: Vec<(String, String, bool)> = report
        .referentiel
        .rules
        .iter()
        .filter(|r| r.measure == Measure::Declaration && r.applies_to(sc.kind))
        .map(|r| {
            let missing = sc
                .coverage
                .rules
                .iter()
                .any(|x| x.key == r.key && x.missing > 0);
            (r.key.clone(), r.label.clone(), !missing)
        })
        .collect();
    let page = SchoolPage {
        ctx: Ctx::page(&a, sc.name.clone(), "coverage")
            .crumb("/coverage", p.lang_title("coverage.title"))
            .flash(flash_key(q.flash())),
        school_id: sc.school_id,
        name: sc.name.clone(),
        verdict: sc.coverage.verdict.code(),
        verdict_label: sc.coverage.verdict.label(lang),
        cost: sc.missing_cost_cents.map(euros),
        rules,
        rooms,
        declarations: declared,
        can_declare: p.can_declare(id),
        show_costs: p.can_see_costs(),
    };
    render(&page)
}

#[derive(Deserialize)]
pub struct DeclareForm {
    key: String,
    #[serde(default)]
    declared: Option<String>,
}

/// The school says it has (or no longer has) what a declaration rule asks.
pub async fn declare(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm<DeclareForm>,
) -> PageResult {
    let p = &a.p;
    if !p.readable_schools().contains(id) {
        return Err(AppError::NotFound.into());
    }
    if !p.can_declare(id) {
        return Err(AppError::Forbidden.into());
    }
    let rules = referentiel::get(&s.db, p).await?;
    if !rules
        .rules
        .iter()
        .any(|r| r.key == f.key && r.measure == Measure::Declaration)
    {
        return Err(
            AppError::Invalid(vec![preau_domain::FieldError::new("key", "unknown_value")]).into(),
        );
    }
    let on = f.declared.as_deref() == Some("1");
    write_tx!(s.db, tx => referentiel::declare(tx, p, id, &f.key, on, Utc::now()).await?)?;
    Ok(see_other(&format!("/coverage/{id}"), "saved"))
}

pub struct RuleView {
    pub key: String,
    pub label: String,
    pub scope: &'static str,
    pub level: &'static str,
    pub measure: &'static str,
    pub what: String,
    pub kinds: String,
}

pub struct PriceView {
    pub code: String,
    pub label: String,
    /// The price set, in euros as typed.
    pub value: String,
    /// What is used without it: the average of recent purchases.
    pub average: String,
}

#[derive(Template)]
#[template(path = "referentiel.html")]
struct ReferentielPage {
    ctx: Ctx,
    rules: Vec<RuleView>,
    is_socle: bool,
    updated: String,
    prices: Vec<PriceView>,
    can_edit: bool,
}

pub async fn referentiel_page(
    State(s): State<AppState>,
    a: Auth,
    Query(q): Query<super::FlashQuery>,
) -> PageResult {
    let p = &a.p;
    allowed(p)?;
    let lang = p.lang;
    let r = referentiel::get(&s.db, p).await?;
    let categories = preau_core::inventory::categories::list(&s.db, p).await?;
    let category = |code: &str| category_label(&categories, code, lang);
    let rules = r
        .rules
        .iter()
        .map(|x| {
            let cats = x
                .categories
                .iter()
                .map(|c| category(c))
                .collect::<Vec<_>>()
                .join(", ");
            let what = match x.measure {
                Measure::Nombre => {
                    let per = match x.per {
                        preau_domain::referentiel::Per::Unite => String::new(),
                        other => format!(" {} ({})", other.label(lang), x.per_n),
                    };
                    format!("{} × {cats}{per}", x.quantity)
                }
                Measure::Declaration => String::new(),
                _ => cats,
            };
            RuleView {
                key: x.key.clone(),
                label: x.label.clone(),
                scope: x.scope.label(lang),
                level: x.level.label(lang),
                measure: x.measure.label(lang),
                what,
                kinds: x
                    .school_kinds
                    .iter()
                    .map(|k| k.label(lang))
                    .collect::<Vec<_>>()
                    .join(", "),
            }
        })
        .collect();
    let can_edit = p.can_edit_referentiel();
    let prices = if p.can_see_costs() {
        let today = preau_domain::paris::day(Utc::now());
        let averages = coverage::unit_prices(&s.db, p.collectivite_id, today).await?;
        categories
            .iter()
            .filter(|c| !c.is_container || c.code == "classe_mobile")
            .map(|c| {
                let set = c.unit_price_cents;
                PriceView {
                    code: c.code.clone(),
                    label: c.label(lang).to_string(),
                    value: set
                        .map(preau_domain::device::plain_euros)
                        .unwrap_or_default(),
                    average: match (set, averages.get(&c.code).copied().flatten()) {
                        (None, Some(avg)) => euros(avg),
                        _ => String::new(),
                    },
                }
            })
            .collect()
    } else {
        Vec::new()
    };
    let page = ReferentielPage {
        ctx: Ctx::page(&a, p.lang_title("referentiel.title"), "coverage")
            .crumb("/coverage", p.lang_title("coverage.title"))
            .flash(flash_key(q.flash())),
        rules,
        is_socle: r.is_socle(),
        updated: r.updated_at.map(super::paris).unwrap_or_default(),
        prices,
        can_edit,
    };
    render(&page)
}

/// The unit prices form: one field per category, in euros; empty clears the price.
pub async fn prices(
    State(s): State<AppState>,
    a: Auth,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    let p = &a.p;
    editor(p)?;
    let parsed = super::form::euros_by_key(&pairs, "price_")?;
    write_tx!(s.db, tx => {
        for (code, cents) in &parsed {
            referentiel::set_unit_price(tx, p, code, *cents, Utc::now()).await?;
        }
    })?;
    Ok(see_other("/admin/referentiel", "saved"))
}

pub struct PlanLine {
    pub rule: String,
    pub category: String,
    pub quantity: i64,
    pub unit: String,
    pub cost: String,
}

pub struct PlanSchool {
    pub id: i64,
    pub name: String,
    pub uai: String,
    pub lines: Vec<PlanLine>,
    pub total: String,
}

#[derive(Template)]
#[template(path = "coverage_plan.html")]
struct PlanPage {
    ctx: Ctx,
    schools: Vec<PlanSchool>,
    total: String,
    unpriced: usize,
}

/// The plan to reach the référentiel: what each school must buy, at what cost; the
/// same as a spreadsheet with `/coverage/plan.xlsx` or `.csv`.
pub async fn plan(State(s): State<AppState>, a: Auth, uri: axum::http::Uri) -> PageResult {
    let p = &a.p;
    let file = uri
        .path()
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_string();
    allowed(p)?;
    if !p.can_see_costs() {
        return Err(AppError::Forbidden.into());
    }
    let lang = p.lang;
    let report = coverage::report(&s.db, p, None, Utc::now()).await?;
    let categories = preau_core::inventory::categories::list(&s.db, p).await?;
    let category = |code: &str| category_label(&categories, code, lang);
    let rule_label = |key: &str| report.referentiel.label_of(key);
    let money = |c: Option<i64>| c.map(euros).unwrap_or_default();
    if let Some(format) = file.strip_prefix("plan.") {
        let t = |k: &str| crate::i18n::t(lang, k).to_string();
        let mut rows = vec![vec![
            t("field.name"),
            "UAI".into(),
            t("coverage.rule"),
            t("field.category"),
            t("coverage.quantity"),
            t("referentiel.price"),
            t("coverage.cost"),
        ]];
        for sc in &report.schools {
            for x in &sc.purchases {
                let cents =
                    |c: Option<i64>| c.map(preau_domain::device::plain_euros).unwrap_or_default();
                rows.push(vec![
                    sc.name.clone(),
                    sc.uai.clone(),
                    rule_label(&x.rule_key),
                    category(&x.category),
                    x.quantity.to_string(),
                    cents(x.unit_price_cents),
                    cents(x.cost_cents),
                ]);
            }
        }
        return crate::export::table(format, "plan-referentiel", &t("coverage.plan_title"), &rows);
    }
    if file != "plan" {
        return Err(AppError::NotFound.into());
    }
    let mut unpriced = 0;
    let schools: Vec<PlanSchool> = report
        .schools
        .iter()
        .filter(|sc| !sc.purchases.is_empty())
        .map(|sc| PlanSchool {
            id: sc.school_id,
            name: sc.name.clone(),
            uai: sc.uai.clone(),
            lines: sc
                .purchases
                .iter()
                .map(|x| {
                    unpriced += usize::from(x.unit_price_cents.is_none());
                    PlanLine {
                        rule: rule_label(&x.rule_key),
                        category: category(&x.category),
                        quantity: x.quantity,
                        unit: money(x.unit_price_cents),
                        cost: money(x.cost_cents),
                    }
                })
                .collect(),
            total: money(sc.missing_cost_cents),
        })
        .collect();
    let total: i64 = report
        .schools
        .iter()
        .filter_map(|s| s.missing_cost_cents)
        .sum();
    let page = PlanPage {
        ctx: Ctx::page(&a, p.lang_title("coverage.plan_title"), "coverage")
            .crumb("/coverage", p.lang_title("coverage.title")),
        schools,
        total: whole_euros(total),
        unpriced,
    };
    render(&page)
}

pub struct YearLine {
    pub year: i32,
    pub devices: i64,
    pub what: String,
    pub budget: String,
    pub deferred: i64,
    /// Accepted needs of the schools that year: devices, and their estimate.
    pub needs: String,
}

pub struct AgeLine {
    pub code: String,
    pub label: String,
    pub lifespan: String,
    pub ages: Vec<i64>,
    pub past: i64,
    pub total: i64,
}

#[derive(Template)]
#[template(path = "renewal.html")]
struct RenewalPage {
    ctx: Ctx,
    chart: String,
    years: Vec<YearLine>,
    ages: Vec<AgeLine>,
    ratios: Vec<(i64, String, i64, String, String)>,
    in_service: i64,
    past: i64,
    undated: i64,
    warranties: i64,
    per_tablet: String,
    cap: String,
    show_costs: bool,
    can_edit: bool,
    /// This year: category, planned, bought, what it cost.
    this_year: Vec<(String, i64, i64, String)>,
    year: i32,
}

fn per(pupils: i64, devices: i64) -> String {
    if devices == 0 {
        "—".into()
    } else {
        format!("{:.1}", pupils as f64 / devices as f64).replace('.', ",")
    }
}

/// The fleet over time and the renewal plan of the next five years; `/renewal.xlsx` and
/// `.csv` give the plan's lines.
pub async fn renewal(State(s): State<AppState>, a: Auth, uri: axum::http::Uri) -> PageResult {
    let p = &a.p;
    let lang = p.lang;
    let now = Utc::now();
    let from = chrono::Datelike::year(&preau_domain::paris::day(now)) + 1;
    let r = preau_core::steering::renewal::report(&s.db, p, from, 5, now).await?;
    let categories = preau_core::inventory::categories::list(&s.db, p).await?;
    let label = |code: &str| category_label(&categories, code, lang);
    let t = |k: &str| crate::i18n::t(lang, k).to_string();
    if let Some(format) = uri.path().strip_prefix("/renewal.") {
        let mut rows = vec![vec![
            t("renewal.year"),
            t("field.category"),
            t("renewal.devices"),
            t("renewal.budget"),
        ]];
        for y in &r.years {
            for (c, n) in &y.by_category {
                rows.push(vec![
                    y.year.to_string(),
                    label(c),
                    n.to_string(),
                    String::new(),
                ]);
            }
            rows.push(vec![
                y.year.to_string(),
                t("dashboard.total"),
                y.devices.to_string(),
                if r.costs_shown {
                    preau_domain::device::plain_euros(y.budget_cents)
                } else {
                    String::new()
                },
            ]);
        }
        return crate::export::table(format, "renouvellement", &t("renewal.title"), &rows);
    }
    let chart = bar_chart(
        &r.years
            .iter()
            .map(|y| {
                if r.costs_shown {
                    (
                        y.year.to_string(),
                        y.budget_cents,
                        whole_euros(y.budget_cents),
                    )
                } else {
                    (y.year.to_string(), y.devices, y.devices.to_string())
                }
            })
            .collect::<Vec<_>>(),
    );
    let overall = r.ratios.first();
    let page = RenewalPage {
        ctx: Ctx::page(&a, p.lang_title("renewal.title"), "renewal"),
        chart,
        years: r
            .years
            .iter()
            .map(|y| YearLine {
                year: y.year,
                devices: y.devices,
                what: y
                    .by_category
                    .iter()
                    .map(|(c, n)| format!("{n} × {}", label(c)))
                    .collect::<Vec<_>>()
                    .join(" · "),
                budget: if r.costs_shown {
                    whole_euros(y.budget_cents)
                } else {
                    String::new()
                },
                deferred: y.deferred,
                needs: match r.needs.iter().find(|n| n.0 == y.year) {
                    Some((_, n, c)) if *n > 0 && r.costs_shown => {
                        format!("{n} ({})", whole_euros(*c))
                    }
                    Some((_, n, _)) if *n > 0 => n.to_string(),
                    _ => "—".into(),
                },
            })
            .collect(),
        ages: r
            .categories
            .iter()
            .map(|c| AgeLine {
                code: c.category.clone(),
                label: label(&c.category),
                lifespan: c.lifespan_years.map(|y| y.to_string()).unwrap_or_default(),
                ages: c.brackets.clone(),
                past: c.past_lifespan,
                total: c.total,
            })
            .collect(),
        ratios: r
            .ratios
            .iter()
            .skip(1)
            .map(|x| {
                (
                    x.school_id,
                    x.name.clone(),
                    x.pupils,
                    per(x.pupils, x.tablets),
                    per(x.pupils, x.computers),
                )
            })
            .collect(),
        in_service: r.categories.iter().map(|c| c.total).sum(),
        past: r.categories.iter().map(|c| c.past_lifespan).sum(),
        undated: r.undated,
        warranties: r.warranties_ending,
        per_tablet: overall
            .map(|o| per(o.pupils, o.tablets))
            .unwrap_or_default(),
        cap: r
            .yearly_cap_cents
            .map(|c| format!("{}", c / 100))
            .unwrap_or_default(),
        show_costs: r.costs_shown,
        can_edit: p.can_edit_referentiel(),
        this_year: r
            .this_year
            .iter()
            .map(|l| {
                (
                    label(&l.category),
                    l.planned,
                    l.bought,
                    whole_euros(l.bought_cents),
                )
            })
            .collect(),
        year: from - 1,
    };
    render(&page)
}

/// The administrator's renewal settings: the yearly cap (euros, empty for none) and each
/// category's lifespan (years, empty for Préau's default).
pub async fn renewal_settings(
    State(s): State<AppState>,
    a: Auth,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    let p = &a.p;
    editor(p)?;
    let mut errors = Vec::new();
    let mut cap = None;
    let mut lifespans = Vec::new();
    for (k, v) in &pairs {
        let v = v.trim();
        if k == "yearly_cap" {
            match preau_domain::device::euros_to_cents(k, Some(v)) {
                Ok(c) => cap = c,
                Err(e) => errors.push(e),
            }
        } else if let Some(code) = k.strip_prefix("lifespan_") {
            match v {
                "" => lifespans.push((code.to_string(), None)),
                v => match v.parse::<i64>() {
                    Ok(n) => lifespans.push((code.to_string(), Some(n))),
                    Err(_) => errors.push(preau_domain::FieldError::new(k.clone(), "not_a_number")),
                },
            }
        }
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors).into());
    }
    let now = Utc::now();
    write_tx!(s.db, tx => {
        preau_core::steering::renewal::set_cap(tx, p, cap, now).await?;
        for (code, years) in &lifespans {
            preau_core::steering::renewal::set_lifespan(tx, p, code, *years, now).await?;
        }
    })?;
    Ok(see_other("/renewal", "saved"))
}

/// One rule in the editing form.
pub struct RuleForm {
    pub index: usize,
    pub key: String,
    pub label: String,
    pub scope: String,
    pub level: String,
    pub measure: String,
    pub categories: Vec<String>,
    pub quantity: String,
    pub per: String,
    pub per_n: String,
    pub kinds: Vec<String>,
    pub errors: Vec<String>,
}

#[derive(Template)]
#[template(path = "referentiel_edit.html")]
struct EditPage {
    ctx: Ctx,
    version: i64,
    rules: Vec<RuleForm>,
    scopes: Vec<(&'static str, &'static str)>,
    levels: Vec<(&'static str, &'static str)>,
    measures: Vec<(&'static str, &'static str)>,
    pers: Vec<(&'static str, &'static str)>,
    kinds: Vec<(&'static str, &'static str)>,
    categories: Vec<(String, String)>,
    error: Option<String>,
}

impl EditPage {
    fn has(list: &[String], v: &str) -> bool {
        list.iter().any(|x| x == v)
    }
}

fn rule_form(index: usize, r: &preau_domain::referentiel::RuleInput) -> RuleForm {
    RuleForm {
        index,
        key: r.key.clone(),
        label: r.label.clone(),
        scope: r.scope.clone(),
        level: r.level.clone(),
        measure: r.measure.clone(),
        categories: r.categories.clone(),
        quantity: r.quantity.map(|q| q.to_string()).unwrap_or_default(),
        per: r.per.clone().unwrap_or_default(),
        per_n: r.per_n.map(|q| q.to_string()).unwrap_or_default(),
        kinds: r.school_kinds.clone(),
        errors: Vec::new(),
    }
}

async fn edit_page(
    s: &AppState,
    a: &Auth,
    version: i64,
    mut rules: Vec<RuleForm>,
    error: Option<String>,
) -> Result<EditPage, PageError> {
    use preau_domain::referentiel::{Level, Measure, Per, Scope};
    let p = &a.p;
    let lang = p.lang;
    let categories = preau_core::inventory::categories::list(&s.db, p)
        .await?
        .into_iter()
        .map(|c| (c.code.clone(), c.label(lang).to_string()))
        .collect();
    // A blank line to add a rule.
    let next = rules.len();
    rules.push(RuleForm {
        index: next,
        key: String::new(),
        label: String::new(),
        scope: "salle".into(),
        level: "requis".into(),
        measure: "nombre".into(),
        categories: Vec::new(),
        quantity: "1".into(),
        per: "unite".into(),
        per_n: "1".into(),
        kinds: Vec::new(),
        errors: Vec::new(),
    });
    Ok(EditPage {
        ctx: Ctx::page(a, p.lang_title("referentiel.edit"), "coverage")
            .crumb("/admin/referentiel", p.lang_title("referentiel.title")),
        version,
        rules,
        scopes: Scope::ALL
            .iter()
            .map(|x| (x.code(), x.label(lang)))
            .collect(),
        levels: Level::ALL
            .iter()
            .map(|x| (x.code(), x.label(lang)))
            .collect(),
        measures: Measure::ALL
            .iter()
            .map(|x| (x.code(), x.label(lang)))
            .collect(),
        pers: Per::ALL.iter().map(|x| (x.code(), x.label(lang))).collect(),
        kinds: preau_domain::org::SchoolKind::ALL
            .iter()
            .map(|k| (k.code(), k.label(lang)))
            .collect(),
        categories,
        error,
    })
}

/// The administrator's form to change the rules: every rule on one page, a blank line to
/// add one, a box to remove one; saved whole, like `PUT /api/v1/referentiel`.
pub async fn referentiel_edit(State(s): State<AppState>, a: Auth) -> PageResult {
    let p = &a.p;
    editor(p)?;
    let r = referentiel::get(&s.db, p).await?;
    let rules = r
        .rules
        .iter()
        .enumerate()
        .map(|(i, x)| rule_form(i, &preau_domain::referentiel::RuleInput::from(x)))
        .collect();
    render(&edit_page(&s, &a, r.version, rules, None).await?)
}

pub async fn referentiel_save(
    State(s): State<AppState>,
    a: Auth,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    let p = &a.p;
    editor(p)?;
    let get = |k: &str| {
        pairs
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.trim().to_string())
    };
    let all = |k: &str| -> Vec<String> {
        pairs
            .iter()
            .filter(|(n, _)| n == k)
            .map(|(_, v)| v.trim().to_string())
            .collect()
    };
    let version = get("version").and_then(|v| v.parse().ok()).unwrap_or(-1);
    let count = pairs
        .iter()
        .filter_map(|(k, _)| {
            k.strip_prefix('r')?
                .split_once('.')?
                .0
                .parse::<usize>()
                .ok()
        })
        .max()
        .map_or(0, |m| m + 1)
        .min(120);
    let number = |v: Option<String>| v.and_then(|v| v.parse::<i64>().ok());
    // The lines kept (not removed, not left blank), with their line on the form.
    let mut kept: Vec<(usize, preau_domain::referentiel::RuleInput)> = Vec::new();
    let mut forms = Vec::new();
    for i in 0..count {
        let f = |name: &str| format!("r{i}.{name}");
        let input = preau_domain::referentiel::RuleInput {
            key: get(&f("key")).unwrap_or_default(),
            label: get(&f("label")).unwrap_or_default(),
            scope: get(&f("scope")).unwrap_or_default(),
            level: get(&f("level")).unwrap_or_default(),
            measure: get(&f("measure")).unwrap_or_default(),
            categories: all(&f("cat")),
            quantity: number(get(&f("quantity"))),
            per: get(&f("per")),
            per_n: number(get(&f("per_n"))),
            school_kinds: all(&f("kind")),
        };
        let removed = get(&f("remove")).is_some();
        let blank = input.key.is_empty() && input.label.is_empty();
        if !removed && !blank {
            forms.push(rule_form(forms.len(), &input));
            kept.push((i, input));
        }
    }
    let inputs: Vec<_> = kept.iter().map(|(_, r)| r.clone()).collect();
    let r = write_tx!(s.db, tx => referentiel::replace(tx, p, version, &inputs, Utc::now()).await?);
    match r {
        Ok(_) => Ok(see_other("/admin/referentiel", "saved")),
        Err(AppError::Invalid(errs)) => {
            let mut general = Vec::new();
            for e in &errs {
                let line = e
                    .field
                    .strip_prefix("rules[")
                    .and_then(|x| x.split_once(']'))
                    .and_then(|(n, _)| n.parse::<usize>().ok());
                match line.and_then(|n| forms.get_mut(n)) {
                    Some(form) => form.errors.push(e.message(p.lang)),
                    None => general.push(e.message(p.lang)),
                }
            }
            let error = Some(if general.is_empty() {
                crate::i18n::t(p.lang, "referentiel.fix").to_string()
            } else {
                general.join(" ")
            });
            let mut resp = render(&edit_page(&s, &a, version, forms, error).await?)?;
            *resp.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
            Ok(resp)
        }
        Err(AppError::Conflict(_)) => {
            let mut resp = render(
                &edit_page(
                    &s,
                    &a,
                    version,
                    forms,
                    Some(crate::i18n::t(p.lang, "referentiel.stale").to_string()),
                )
                .await?,
            )?;
            *resp.status_mut() = axum::http::StatusCode::CONFLICT;
            Ok(resp)
        }
        Err(e) => Err(e.into()),
    }
}
