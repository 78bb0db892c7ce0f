//! Interventions: planning a visit from a ticket (windows outside class hours proposed
//! from the school's calendar), the week planner of a technician or a contractor, and
//! the private iCalendar feed.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use preau_core::interventions::{self, InterventionFilter, Visit};
use preau_core::{AppError, contracts, users, write_tx};
use preau_domain::Role;
use preau_domain::paris;
use preau_domain::ticket::Assignee;
use serde::Deserialize;

use super::LangTitle;
use super::parts::visits::{VisitView, at_midnight, day_name};
use super::{Ctx, render, see_other};
use crate::AppState;
use crate::error::PageError;
use crate::session::{Auth, CsrfForm};

type PageResult = Result<Response, PageError>;

#[derive(Deserialize)]
pub struct StatusForm {
    status: String,
    #[serde(default)]
    back: Option<String>,
}

pub async fn set_status(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm<StatusForm>,
) -> PageResult {
    write_tx!(s.db, tx => interventions::set_status(tx, &a.p, id, &f.status, Utc::now()).await?)?;
    let back = f
        .back
        .filter(|b| b.starts_with("/planning") || b.starts_with("/tickets/"))
        .unwrap_or_else(|| "/planning".into());
    Ok(see_other(&back, "saved"))
}

pub struct Day {
    pub label: String,
    pub visits: Vec<VisitView>,
}

#[derive(Template)]
#[template(path = "planning.html")]
struct PlanningPage {
    ctx: Ctx,
    days: Vec<Day>,
    week_label: String,
    prev: String,
    next: String,
    who: String,
    whos: Vec<(String, String)>,
    feed_url: Option<String>,
    has_feed: bool,
    back: String,
}

#[derive(Deserialize, Default)]
pub struct PlanningQuery {
    #[serde(default)]
    week: Option<String>,
    #[serde(default)]
    who: Option<String>,
    #[serde(default)]
    feed: Option<String>,
}

use preau_domain::calendar::monday_of;

pub async fn week(
    State(s): State<AppState>,
    a: Auth,
    headers: axum::http::HeaderMap,
    Query(q): Query<PlanningQuery>,
) -> PageResult {
    let p = &a.p;
    let lang = p.lang;
    if !p.can_read_planning() {
        return Err(AppError::Forbidden.into());
    }
    let monday = monday_of(
        q.week
            .as_deref()
            .and_then(|w| NaiveDate::parse_from_str(w, "%Y-%m-%d").ok())
            .unwrap_or_else(super::today),
    );
    let who = q.who.clone().unwrap_or_else(|| {
        if p.has(Role::Technicien) || p.has(Role::Prestataire) {
            "me".into()
        } else {
            String::new()
        }
    });
    let f = InterventionFilter {
        who: Some(who.clone()).filter(|w| !w.is_empty()),
        ..Default::default()
    };
    let visits = interventions::list(
        &s.db,
        p,
        &f,
        at_midnight(monday),
        at_midnight(monday + Duration::days(7)),
    )
    .await?;
    let mut by_day: Vec<(chrono::NaiveDate, VisitView)> = visits
        .iter()
        .map(|v| paris::day(v.intervention.starts_at))
        .zip(super::parts::visits::views_with_overlaps(&a, &visits))
        .collect();
    let days = (0..7)
        .map(|i| monday + Duration::days(i))
        .filter(|d| {
            d.weekday().num_days_from_monday() < 5
                || visits
                    .iter()
                    .any(|v| paris::day(v.intervention.starts_at) == *d)
        })
        .map(|d| Day {
            label: format!("{} {}", day_name(d.weekday(), lang), d.format("%d/%m")),
            visits: {
                let (today, rest): (Vec<_>, Vec<_>) = std::mem::take(&mut by_day)
                    .into_iter()
                    .partition(|x| x.0 == d);
                by_day = rest;
                today.into_iter().map(|x| x.1).collect()
            },
        })
        .collect();
    let mut whos = vec![(
        "me".to_string(),
        crate::i18n::t(lang, "planning.mine").to_string(),
    )];
    if p.is_admin() || p.has(Role::Technicien) || p.has(Role::Directeur) {
        whos.insert(
            0,
            (
                String::new(),
                crate::i18n::t(lang, "planning.everyone").to_string(),
            ),
        );
        whos.extend(
            users::technicians(&s.db, p)
                .await?
                .into_iter()
                .map(|(id, n)| (Assignee::User(id).code(), n)),
        );
        if p.can_read_contracts() {
            whos.extend(
                contracts::lot_choices(&s.db, p)
                    .await?
                    .into_iter()
                    .map(|(id, n)| (Assignee::Lot(id).code(), n)),
            );
        }
    }
    let base = super::base_url(&s, &headers);
    let back = format!(
        "/planning?week={monday}&who={}",
        crate::session::url_encode(&who)
    );
    render(&PlanningPage {
        ctx: Ctx::page(&a, p.lang_title("planning.title"), "planning"),
        days,
        week_label: format!(
            "{} {} {}",
            crate::i18n::t(lang, "planning.week_of"),
            monday.format("%d/%m/%Y"),
            ""
        ),
        prev: format!(
            "/planning?week={}&who={}",
            monday - Duration::days(7),
            crate::session::url_encode(&who)
        ),
        next: format!(
            "/planning?week={}&who={}",
            monday + Duration::days(7),
            crate::session::url_encode(&who)
        ),
        who,
        whos,
        feed_url: q
            .feed
            .filter(|t| t.starts_with("cal_") && t.len() < 100)
            .map(|t| format!("{base}/ical/{t}.ics")),
        has_feed: interventions::has_feed(&s.db, p).await?,
        back,
    })
}

/// Creates (or replaces) the caller's calendar feed; its address is shown once.
pub async fn create_feed(
    State(s): State<AppState>,
    a: Auth,
    CsrfForm(_f): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    let token = write_tx!(s.db, tx => interventions::create_feed(tx, &a.p, Utc::now()).await?)?;
    Ok(see_other(&format!("/planning?feed={token}"), "saved"))
}

fn ical_escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace(';', "\\;")
        .replace(',', "\\,")
        .replace("\r\n", "\\n")
        .replace('\n', "\\n")
}

/// Folds a content line at 75 octets, as RFC 5545 asks, without splitting a character.
fn fold(line: &str) -> String {
    let mut out = String::new();
    let mut width = 0;
    for c in line.chars() {
        let n = c.len_utf8();
        if width + n > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += n;
    }
    out.push_str("\r\n");
    out
}

/// The iCalendar text of visits.
pub fn ical(visits: &[Visit], base: &str, name: &str) -> String {
    let stamp = |t: DateTime<Utc>| t.format("%Y%m%dT%H%M%SZ").to_string();
    let mut out = String::new();
    for l in [
        "BEGIN:VCALENDAR".to_string(),
        "VERSION:2.0".into(),
        "PRODID:-//Preau//Interventions//FR".into(),
        "CALSCALE:GREGORIAN".into(),
        format!("X-WR-CALNAME:{}", ical_escape(name)),
        "X-WR-TIMEZONE:Europe/Paris".into(),
    ] {
        out.push_str(&fold(&l));
    }
    for v in visits {
        let i = &v.intervention;
        let tickets = v
            .tickets
            .iter()
            .map(|t| format!("n° {} {}", t.1, t.2))
            .collect::<Vec<_>>()
            .join(" ; ");
        for l in [
            "BEGIN:VEVENT".to_string(),
            format!("UID:intervention-{}@preau", i.id),
            format!("DTSTAMP:{}", stamp(Utc::now())),
            format!("DTSTART:{}", stamp(i.starts_at)),
            format!("DTEND:{}", stamp(i.ends_at)),
            format!(
                "SUMMARY:{}",
                ical_escape(&format!("Intervention — {}", i.school_name))
            ),
            format!(
                "LOCATION:{}",
                ical_escape(&format!(
                    "{}, {}",
                    i.school_name,
                    i.school_address.clone().unwrap_or_default()
                ))
            ),
            format!(
                "DESCRIPTION:{}",
                ical_escape(&format!("{tickets}\n{}", i.notes))
            ),
            format!(
                "URL:{base}/tickets/{}",
                v.tickets.first().map(|t| t.0).unwrap_or(0)
            ),
            format!(
                "STATUS:{}",
                if i.status == "annulee" {
                    "CANCELLED"
                } else {
                    "CONFIRMED"
                }
            ),
            "END:VEVENT".into(),
        ] {
            out.push_str(&fold(&l));
        }
    }
    out.push_str("END:VCALENDAR\r\n");
    out
}

/// `/ical/{token}.ics`: the feed a calendar application subscribes to; the token is the
/// only credential, so an unknown one answers 404 like any missing page.
pub async fn feed(
    State(s): State<AppState>,
    headers: axum::http::HeaderMap,
    Path(file): Path<String>,
) -> Response {
    let token = file.trim_end_matches(".ics");
    match interventions::feed(&s.db, token, Utc::now()).await {
        Ok(Some((p, visits))) => (
            [
                (
                    header::CONTENT_TYPE,
                    "text/calendar; charset=utf-8".to_string(),
                ),
                (header::CACHE_CONTROL, "private, max-age=300".to_string()),
            ],
            ical(
                &visits,
                &super::base_url(&s, &headers),
                &format!("Préau — {}", p.display_name),
            ),
        )
            .into_response(),
        Ok(None) => StatusCode::NOT_FOUND.into_response(),
        Err(e) => {
            tracing::error!(error = %e, "calendar feed failed");
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    }
}
