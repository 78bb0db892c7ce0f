//! The aggregate dashboard: where the schools stand, school by school, in figures.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use preau_core::dashboard::{self, SchoolFigures, Totals};
use preau_core::{AppError, years};
use preau_domain::org::SchoolKind;
use serde::Deserialize;

use super::LangTitle;
use super::{Ctx, render};
use crate::AppState;
use crate::error::PageError;
use crate::session::Auth;

type PageResult = Result<Response, PageError>;

#[derive(Deserialize, Default)]
pub struct DashboardQuery {
    year: Option<i64>,
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    ctx: Ctx,
    years: Vec<(i64, String)>,
    year_id: i64,
    rows: Vec<(SchoolFigures, &'static str)>,
    totals: Totals,
    /// Schools per verdict against the référentiel: (code, label, count), and its chart.
    verdicts: Vec<(&'static str, &'static str, usize)>,
    verdict_chart: String,
    council: bool,
    quality: bool,
}

/// The year asked for, or the current one, or the latest.
async fn pick_year(
    s: &AppState,
    a: &Auth,
    asked: Option<i64>,
) -> Result<(Vec<years::SchoolYear>, Option<years::SchoolYear>), AppError> {
    let all = years::list(&s.db, &a.p).await?;
    let today = super::today();
    let chosen = match asked {
        Some(id) => Some(
            all.iter()
                .find(|y| y.id == id)
                .cloned()
                .ok_or(AppError::NotFound)?,
        ),
        None => years::current(&s.db, &a.p, today)
            .await?
            .or_else(|| all.first().cloned()),
    };
    Ok((all, chosen))
}

pub async fn dashboard(
    State(s): State<AppState>,
    a: Auth,
    Query(q): Query<DashboardQuery>,
) -> PageResult {
    let p = &a.p;
    if !p.can_see_dashboard() {
        return Err(AppError::Forbidden.into());
    }
    let (all, year) = pick_year(&s, &a, q.year).await?;
    let (rows, totals) = dashboard::per_school(&s.db, p, year.as_ref().map(|y| y.id)).await?;
    let verdicts: Vec<(&'static str, &'static str, usize)> = if p.sees_some_coverage() {
        let report =
            preau_core::steering::coverage::report(&s.db, p, None, chrono::Utc::now()).await?;
        use preau_domain::referentiel::Verdict;
        [Verdict::NonConforme, Verdict::Partiel, Verdict::Conforme]
            .iter()
            .map(|v| {
                (
                    v.code(),
                    v.label(p.lang),
                    report
                        .schools
                        .iter()
                        .filter(|s| s.coverage.verdict == *v)
                        .count(),
                )
            })
            .collect()
    } else {
        Vec::new()
    };
    let verdict_chart = super::parts::charts::bar_chart(
        &verdicts
            .iter()
            .map(|v| (v.1.to_string(), v.2 as i64, v.2.to_string()))
            .collect::<Vec<_>>(),
    );
    render(&DashboardPage {
        verdicts,
        verdict_chart,
        council: p.can_see_funding(),
        quality: p.can_see_sla_report(),
        ctx: Ctx::page(&a, p.lang_title("dashboard.title"), "dashboard"),
        years: all.into_iter().map(|y| (y.id, y.label)).collect(),
        year_id: year.map(|y| y.id).unwrap_or(0),
        rows: rows
            .into_iter()
            .map(|r| {
                let kind = SchoolKind::from_db(&r.kind).label(p.lang);
                (r, kind)
            })
            .collect(),
        totals,
    })
}

/// The same figures as CSV (`;`, UTF-8 with BOM, for Excel).
pub async fn dashboard_csv(
    State(s): State<AppState>,
    a: Auth,
    Query(q): Query<DashboardQuery>,
) -> PageResult {
    let p = &a.p;
    let (_, year) = pick_year(&s, &a, q.year).await?;
    let (rows, _) = dashboard::per_school(&s.db, p, year.as_ref().map(|y| y.id)).await?;
    let t = |k| crate::i18n::t(p.lang, k);
    let mut table: Vec<Vec<String>> = vec![
        [
            "uai",
            t("field.name"),
            t("field.kind"),
            t("count.rooms"),
            t("dashboard.classrooms"),
            t("count.classes"),
            t("count.pupils"),
        ]
        .map(String::from)
        .to_vec(),
    ];
    for r in rows {
        let kind = SchoolKind::from_db(&r.kind).label(p.lang).to_string();
        table.push(vec![
            r.uai,
            r.name,
            kind,
            r.rooms.to_string(),
            r.classrooms.to_string(),
            r.classes.to_string(),
            r.pupils.to_string(),
        ]);
    }
    let body = crate::export::csv(&table);
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"tableau-de-bord.csv\"",
            ),
        ],
        body,
    )
        .into_response())
}
