//! What the council reads: the quality of the service (each contract's SLA month by month,
//! tickets per 100 devices, the least reliable models, tablets broken or lost per school)
//! and the printable council report — one summary page (coverage, fleet, age, spending,
//! subsidies, SLA, needs) then an annex per school — with every table in one workbook.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use chrono::{Datelike, Utc};
use preau_core::AppError;
use preau_core::steering::quality::{self, Quality};
use preau_core::steering::{coverage, funding, needs, renewal};
use preau_domain::Principal;
use preau_domain::referentiel::Verdict;

use super::parts::charts::{bar_chart, euros, month_label, whole_euros};
use super::parts::devices::category_label;
use super::parts::spending::{SpendRow, YearRow, spending_view};
use super::{Ctx, LangTitle, render};
use crate::AppState;
use crate::error::PageError;
use crate::session::Auth;

type PageResult = Result<Response, PageError>;

fn rate(r: Option<f64>) -> String {
    r.map(|r| format!("{r:.1} %").replace('.', ","))
        .unwrap_or_else(|| "—".into())
}

pub struct SlaTable {
    pub reference: String,
    pub contractor: String,
    pub chart: String,
    pub months: Vec<(String, usize, String, String, String)>,
    pub gtr: String,
    pub tickets: usize,
    pub penalties: String,
}

/// One operator's links over twelve months.
pub struct LinksTable {
    pub operator: String,
    pub contract: String,
    pub gtr: String,
    /// The contract's share of tickets repaired within the GTR over the year.
    pub gtr_rate: String,
    pub schools: usize,
    pub online: String,
    /// Month, share of class time online, class time lost, outages.
    pub months: Vec<(String, String, String, usize)>,
}

pub struct QualityView {
    /// Visio over the year: held, not held, cancelled, lost to equipment or network, its
    /// share; then per school the same.
    pub visio: (i64, i64, i64, i64, String),
    pub visio_schools: Vec<(String, i64, i64, i64, i64, String)>,
    pub contracts: Vec<SlaTable>,
    pub links: Vec<LinksTable>,
    pub categories: Vec<(String, i64, i64, String)>,
    pub models: Vec<(String, i64, i64, String)>,
    pub tablets: Vec<(String, i64, i64, i64, String)>,
}

fn per_100(r: &quality::Reliability) -> String {
    format!("{:.1}", r.per_100()).replace('.', ",")
}

async fn quality_view(s: &AppState, p: &Principal, q: &Quality) -> Result<QualityView, PageError> {
    let lang = p.lang;
    let cats = preau_core::inventory::categories::list(&s.db, p).await?;
    let hours = |m: i64| format!("{} h {:02}", m / 60, m % 60);
    let share = |c: &preau_core::visio::Counts| rate(c.technical_share());
    let mut per_school: Vec<(String, preau_core::visio::Counts)> = Vec::new();
    for (school, _, c) in &q.visio.classes {
        if per_school.last().is_none_or(|l| &l.0 != school) {
            per_school.push((school.clone(), Default::default()));
        }
        if let Some(l) = per_school.last_mut() {
            l.1.merge(c);
        }
    }
    let t = &q.visio.total;
    Ok(QualityView {
        visio: (t.held, t.not_held, t.cancelled, t.technical, share(t)),
        visio_schools: per_school
            .iter()
            .map(|(name, c)| {
                (
                    name.clone(),
                    c.held,
                    c.not_held,
                    c.cancelled,
                    c.technical,
                    share(c),
                )
            })
            .collect(),
        links: q
            .links
            .iter()
            .map(|o| LinksTable {
                operator: o.operator.clone(),
                contract: o.contract.as_ref().map(|c| c.1.clone()).unwrap_or_default(),
                gtr: o
                    .gtr
                    .as_deref()
                    .and_then(|g| preau_domain::calendar::Span::parse(g).ok())
                    .map(|g| g.label(lang))
                    .unwrap_or_else(|| "—".into()),
                gtr_rate: rate(
                    o.contract
                        .as_ref()
                        .and_then(|c| q.contracts.iter().find(|k| k.contract_id == c.0))
                        .and_then(|k| k.gtr_rate),
                ),
                schools: o.schools,
                online: rate(o.percent()),
                months: o
                    .months
                    .iter()
                    .map(|(m, n)| {
                        (
                            month_label(lang, m.month),
                            rate(m.percent()),
                            hours(m.lost_minutes),
                            *n,
                        )
                    })
                    .collect(),
            })
            .collect(),
        contracts: q
            .contracts
            .iter()
            .map(|c| SlaTable {
                reference: c.reference.clone(),
                contractor: c.contractor.clone(),
                chart: bar_chart(
                    &c.months
                        .iter()
                        .map(|m| {
                            (
                                month_label(lang, m.month),
                                m.gtr_rate.map_or(0, |r| r.round() as i64),
                                rate(m.gtr_rate),
                            )
                        })
                        .collect::<Vec<_>>(),
                ),
                months: c
                    .months
                    .iter()
                    .map(|m| {
                        (
                            month_label(lang, m.month),
                            m.tickets,
                            rate(m.gti_rate),
                            rate(m.gtr_rate),
                            euros(m.penalties_cents),
                        )
                    })
                    .collect(),
                gtr: rate(c.gtr_rate),
                tickets: c.tickets,
                penalties: euros(c.penalties_cents),
            })
            .collect(),
        categories: q
            .categories
            .iter()
            .map(|c| {
                (
                    category_label(&cats, &c.label, lang),
                    c.devices,
                    c.tickets,
                    per_100(c),
                )
            })
            .collect(),
        models: q
            .models
            .iter()
            .map(|m| (m.label.clone(), m.devices, m.tickets, per_100(m)))
            .collect(),
        tablets: q
            .tablets
            .iter()
            .map(|t| {
                let share = if t.loans == 0 {
                    "—".to_string()
                } else {
                    format!(
                        "{:.1} %",
                        (t.broken + t.lost) as f64 * 100.0 / t.loans as f64
                    )
                    .replace('.', ",")
                };
                (t.name.clone(), t.loans, t.broken, t.lost, share)
            })
            .collect(),
    })
}

#[derive(Template)]
#[template(path = "quality.html")]
struct QualityPage {
    ctx: Ctx,
    q: QualityView,
    min_devices: i64,
}

/// The service's quality over the last twelve months.
pub async fn quality_page(State(s): State<AppState>, a: Auth) -> PageResult {
    let p = &a.p;
    let q = quality::report(&s.db, p, Utc::now()).await?;
    let page = QualityPage {
        ctx: Ctx::page(&a, p.lang_title("quality.title"), "council"),
        q: quality_view(&s, p, &q).await?,
        min_devices: quality::MIN_MODEL_DEVICES,
    };
    render(&page)
}

/// One school's annex.
pub struct Annex {
    pub name: String,
    pub uai: String,
    pub kind: &'static str,
    pub verdict: &'static str,
    pub verdict_code: &'static str,
    pub missing: Vec<String>,
    pub cost: String,
    pub pupils: i64,
    pub per_tablet: String,
    pub per_computer: String,
    pub spent: String,
    pub requests: String,
}

#[derive(Template)]
#[template(path = "council.html")]
struct CouncilPage {
    ctx: Ctx,
    collectivite: String,
    date: String,
    schools: usize,
    verdicts: Vec<(&'static str, &'static str, usize)>,
    coverage_chart: String,
    gap_cost: String,
    in_service: i64,
    past_lifespan: i64,
    per_tablet: String,
    renewal_chart: String,
    renewal: Vec<(i32, i64, String)>,
    spending_chart: String,
    years: Vec<YearRow>,
    year_labels: Vec<i32>,
    categories: Vec<SpendRow>,
    aid: String,
    received: String,
    remaining: String,
    dossiers: Vec<(String, &'static str, String, String)>,
    q: QualityView,
    needs: Option<(String, Vec<(&'static str, i64)>)>,
    annexes: Vec<Annex>,
}

fn reader(p: &Principal) -> Result<(), PageError> {
    if p.can_see_funding() {
        Ok(())
    } else {
        Err(AppError::Forbidden.into())
    }
}

/// Everything the report shows, gathered once for the page and for the workbook.
struct Gathered {
    coverage: coverage::CoverageReport,
    renewal: renewal::RenewalReport,
    spending: funding::Spending,
    dossiers: Vec<funding::Subsidy>,
    quality: Quality,
    campaign: Option<needs::CampaignView>,
}

async fn gather(s: &AppState, p: &Principal) -> Result<Gathered, PageError> {
    let now = Utc::now();
    let from = preau_domain::paris::day(now).year() + 1;
    let campaign = match needs::campaigns(&s.db, p).await?.first() {
        Some(c) => Some(needs::campaign(&s.db, p, c.id, now).await?),
        None => None,
    };
    Ok(Gathered {
        coverage: coverage::report(&s.db, p, None, now).await?,
        renewal: renewal::report(&s.db, p, from, 5, now).await?,
        spending: funding::spending(&s.db, p, 5, now).await?,
        dossiers: funding::list(&s.db, p, now).await?,
        quality: quality::report(&s.db, p, now).await?,
        campaign,
    })
}

fn ratio(pupils: i64, devices: i64) -> String {
    if devices == 0 {
        "—".into()
    } else {
        format!("{:.1}", pupils as f64 / devices as f64).replace('.', ",")
    }
}

/// The council report, printable on A4; `/council.xlsx` gives its tables.
pub async fn report(State(s): State<AppState>, a: Auth) -> PageResult {
    let p = &a.p;
    reader(p)?;
    let lang = p.lang;
    let g = gather(&s, p).await?;
    let collectivite = preau_core::collectivites::get(&s.db, p, p.collectivite_id)
        .await?
        .name;
    let verdicts: Vec<(&'static str, &'static str, usize)> = [
        Verdict::Conforme,
        Verdict::Partiel,
        Verdict::NonConforme,
        Verdict::NonEvalue,
    ]
    .iter()
    .map(|v| {
        (
            v.code(),
            v.label(lang),
            g.coverage
                .schools
                .iter()
                .filter(|s| s.coverage.verdict == *v)
                .count(),
        )
    })
    .collect();
    let view = spending_view(&s, p, &g.spending).await?;
    let last = g.spending.years.len().saturating_sub(1);
    let spent_of = |school: i64| {
        g.spending
            .schools
            .iter()
            .find(|l| l.id == school)
            .and_then(|l| l.cents.get(last).copied())
            .unwrap_or(0)
    };
    let requests_of = |school: i64| {
        g.campaign
            .as_ref()
            .map(|c| {
                let of: Vec<_> = c
                    .requests
                    .iter()
                    .filter(|r| r.school_id == school)
                    .collect();
                let accepted = of
                    .iter()
                    .filter(|r| r.status == preau_domain::needs::Status::Acceptee)
                    .count();
                format!("{} / {}", accepted, of.len())
            })
            .unwrap_or_default()
    };
    let mut annexes: Vec<Annex> = g
        .coverage
        .schools
        .iter()
        .map(|sc| {
            let r = g
                .renewal
                .ratios
                .iter()
                .find(|r| r.school_id == sc.school_id);
            Annex {
                name: sc.name.clone(),
                uai: sc.uai.clone(),
                kind: sc.kind.label(lang),
                verdict: sc.coverage.verdict.label(lang),
                verdict_code: sc.coverage.verdict.code(),
                missing: sc
                    .coverage
                    .rules
                    .iter()
                    .filter(|r| r.missing > 0)
                    .map(|r| {
                        format!(
                            "{} ({} {})",
                            r.label,
                            r.missing,
                            crate::i18n::t(lang, "council.missing")
                        )
                    })
                    .collect(),
                cost: sc.missing_cost_cents.map(whole_euros).unwrap_or_default(),
                pupils: r.map_or(0, |r| r.pupils),
                per_tablet: r.map_or_else(|| "—".into(), |r| ratio(r.pupils, r.tablets)),
                per_computer: r.map_or_else(|| "—".into(), |r| ratio(r.pupils, r.computers)),
                spent: whole_euros(spent_of(sc.school_id)),
                requests: requests_of(sc.school_id),
            }
        })
        .collect();
    annexes.sort_by(|a, b| a.name.cmp(&b.name));
    let counted = g
        .dossiers
        .iter()
        .filter(|d| d.dossier.status != preau_domain::subsidy::Status::Refuse);
    let page = CouncilPage {
        ctx: Ctx::page(&a, p.lang_title("council.title"), "council"),
        collectivite,
        date: super::today().format("%d/%m/%Y").to_string(),
        schools: g.coverage.schools.len(),
        coverage_chart: bar_chart(
            &verdicts
                .iter()
                .filter(|v| v.2 > 0 || v.0 != "non_evalue")
                .map(|v| (v.1.to_string(), v.2 as i64, v.2.to_string()))
                .collect::<Vec<_>>(),
        ),
        verdicts,
        gap_cost: whole_euros(
            g.coverage
                .schools
                .iter()
                .filter_map(|s| s.missing_cost_cents)
                .sum(),
        ),
        in_service: g.renewal.categories.iter().map(|c| c.total).sum(),
        past_lifespan: g.renewal.categories.iter().map(|c| c.past_lifespan).sum(),
        per_tablet: g
            .renewal
            .ratios
            .first()
            .map(|o| ratio(o.pupils, o.tablets))
            .unwrap_or_default(),
        renewal_chart: bar_chart(
            &g.renewal
                .years
                .iter()
                .map(|y| {
                    (
                        y.year.to_string(),
                        y.budget_cents,
                        whole_euros(y.budget_cents),
                    )
                })
                .collect::<Vec<_>>(),
        ),
        renewal: g
            .renewal
            .years
            .iter()
            .map(|y| (y.year, y.devices, whole_euros(y.budget_cents)))
            .collect(),
        spending_chart: view.chart,
        years: view.years,
        year_labels: view.year_labels,
        categories: view.categories,
        aid: whole_euros(counted.clone().map(|d| d.aid_cents).sum()),
        received: whole_euros(g.dossiers.iter().map(|d| d.dossier.received_cents).sum()),
        remaining: whole_euros(counted.map(|d| d.remaining_cents).sum()),
        dossiers: g
            .dossiers
            .iter()
            .map(|d| {
                (
                    d.dossier.title.clone(),
                    d.dossier.status.label(lang),
                    whole_euros(d.aid_cents),
                    whole_euros(d.remaining_cents),
                )
            })
            .collect(),
        q: quality_view(&s, p, &g.quality).await?,
        needs: g.campaign.as_ref().map(|c| {
            (
                c.campaign.title.clone(),
                preau_domain::needs::Status::ALL
                    .iter()
                    .enumerate()
                    .map(|(i, st)| (st.label(lang), c.totals[i]))
                    .collect(),
            )
        }),
        annexes,
    };
    render(&page)
}

/// Every table of the council report, one sheet each.
pub async fn workbook(State(s): State<AppState>, a: Auth) -> PageResult {
    let p = &a.p;
    reader(p)?;
    let lang = p.lang;
    let t = |k: &str| crate::i18n::t(lang, k).to_string();
    let g = gather(&s, p).await?;
    let cats = preau_core::inventory::categories::list(&s.db, p).await?;
    let cents = preau_domain::device::plain_euros;
    let mut sheets: Vec<(String, Vec<Vec<String>>)> = Vec::new();
    let mut coverage = vec![vec![
        t("field.school"),
        "UAI".into(),
        t("coverage.verdict"),
        t("coverage.gaps"),
        t("coverage.cost"),
    ]];
    for sc in &g.coverage.schools {
        coverage.push(vec![
            sc.name.clone(),
            sc.uai.clone(),
            sc.coverage.verdict.label(lang).into(),
            sc.coverage
                .rules
                .iter()
                .filter(|r| r.missing > 0)
                .map(|r| format!("{} ({})", r.label, r.missing))
                .collect::<Vec<_>>()
                .join(" ; "),
            sc.missing_cost_cents.map(cents).unwrap_or_default(),
        ]);
    }
    sheets.push((t("council.sheet_coverage"), coverage));
    let mut fleet = vec![vec![
        t("field.category"),
        t("renewal.lifespan"),
        t("renewal.past_short"),
        t("dashboard.total"),
    ]];
    for c in &g.renewal.categories {
        fleet.push(vec![
            category_label(&cats, &c.category, lang),
            c.lifespan_years.map(|y| y.to_string()).unwrap_or_default(),
            c.past_lifespan.to_string(),
            c.total.to_string(),
        ]);
    }
    sheets.push((t("council.sheet_fleet"), fleet));
    let mut plan = vec![vec![
        t("renewal.year"),
        t("renewal.devices"),
        t("renewal.budget"),
    ]];
    for y in &g.renewal.years {
        plan.push(vec![
            y.year.to_string(),
            y.devices.to_string(),
            cents(y.budget_cents),
        ]);
    }
    sheets.push((t("council.sheet_renewal"), plan));
    let mut years = vec![vec![
        t("funding.year"),
        t("funding.purchases"),
        t("funding.maintenance"),
        t("funding.links"),
        t("dashboard.total"),
        t("funding.received"),
        t("count.pupils"),
        t("funding.per_pupil"),
    ]];
    for y in &g.spending.years {
        years.push(vec![
            y.year.to_string(),
            cents(y.purchases_cents),
            cents(y.maintenance_cents),
            cents(y.links_cents),
            cents(y.total_cents()),
            cents(y.received_cents),
            y.pupils.to_string(),
            y.per_pupil_cents().map(cents).unwrap_or_default(),
        ]);
    }
    sheets.push((t("council.sheet_spending"), years));
    let mut per_school = vec![
        std::iter::once(t("field.school"))
            .chain(g.spending.years.iter().map(|y| y.year.to_string()))
            .collect::<Vec<_>>(),
    ];
    for l in &g.spending.schools {
        per_school.push(
            std::iter::once(l.label.clone())
                .chain(l.cents.iter().map(|c| cents(*c)))
                .collect(),
        );
    }
    sheets.push((t("funding.by_school"), per_school));
    let mut dossiers = vec![vec![
        t("funding.dossier"),
        t("funding.funder"),
        t("funding.status"),
        t("funding.eligible"),
        t("funding.aid"),
        t("funding.received"),
        t("funding.remaining"),
    ]];
    for d in &g.dossiers {
        dossiers.push(vec![
            d.dossier.title.clone(),
            d.dossier.funder.label(lang).into(),
            d.dossier.status.label(lang).into(),
            cents(d.eligible_cents),
            cents(d.aid_cents),
            cents(d.dossier.received_cents),
            cents(d.remaining_cents),
        ]);
    }
    sheets.push((t("funding.dossiers"), dossiers));
    let mut sla = vec![vec![
        t("funding.contract"),
        t("quality.month"),
        t("quality.tickets"),
        t("quality.gti"),
        t("quality.gtr"),
        t("quality.penalties"),
    ]];
    for c in &g.quality.contracts {
        for m in &c.months {
            sla.push(vec![
                c.reference.clone(),
                m.month.code(),
                m.tickets.to_string(),
                m.gti_rate
                    .map(|r| format!("{r:.1}").replace('.', ","))
                    .unwrap_or_default(),
                m.gtr_rate
                    .map(|r| format!("{r:.1}").replace('.', ","))
                    .unwrap_or_default(),
                cents(m.penalties_cents),
            ]);
        }
    }
    sheets.push((t("council.sheet_sla"), sla));
    let mut links = vec![vec![
        t("connectivity.operator"),
        t("quality.month"),
        t("connectivity.online_share"),
        t("council.class_minutes"),
        t("council.lost_minutes"),
        t("connectivity.outages"),
    ]];
    for o in &g.quality.links {
        for (m, n) in &o.months {
            links.push(vec![
                o.operator.clone(),
                m.month.code(),
                m.percent()
                    .map(|r| format!("{r:.1}").replace('.', ","))
                    .unwrap_or_default(),
                m.class_minutes.to_string(),
                m.lost_minutes.to_string(),
                n.to_string(),
            ]);
        }
    }
    sheets.push((t("council.sheet_links"), links));
    let mut reliability = vec![vec![
        t("field.category"),
        t("quality.devices"),
        t("quality.tickets"),
        t("quality.per_100"),
    ]];
    for c in &g.quality.categories {
        reliability.push(vec![
            category_label(&cats, &c.label, lang),
            c.devices.to_string(),
            c.tickets.to_string(),
            per_100(c),
        ]);
    }
    for m in &g.quality.models {
        reliability.push(vec![
            m.label.clone(),
            m.devices.to_string(),
            m.tickets.to_string(),
            per_100(m),
        ]);
    }
    sheets.push((t("council.sheet_reliability"), reliability));
    let mut tablets = vec![vec![
        t("field.school"),
        t("quality.loans"),
        t("quality.broken"),
        t("quality.lost"),
    ]];
    for x in &g.quality.tablets {
        tablets.push(vec![
            x.name.clone(),
            x.loans.to_string(),
            x.broken.to_string(),
            x.lost.to_string(),
        ]);
    }
    sheets.push((t("quality.tablets"), tablets));
    Ok(crate::export::download(
        "rapport-conseil.xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        crate::export::workbook(&sheets),
    ))
}
