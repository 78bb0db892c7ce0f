//! The search box in every page's header: devices by name, serial or asset tag, schools,
//! tickets by number or words, and pupils for those who may see them — each group within
//! what the caller reads, with a link to the full list.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use chrono::Utc;
use preau_core::inventory::{categories, devices};
use preau_core::schools::{SchoolFilter, SchoolListItem};
use preau_core::tickets::{self, TicketFilter};
use preau_core::{pupils, schools};
use serde::Deserialize;

use super::parts::devices::DeviceRow;
use super::{Ctx, LangTitle, render};
use crate::AppState;
use crate::error::PageError;
use crate::session::{Auth, url_encode};

type PageResult = Result<Response, PageError>;

/// Results per group; the group's link opens the whole list.
const PER_GROUP: i64 = 10;
/// Longest query kept.
const MAX_QUERY: usize = 100;

#[derive(Deserialize, Default)]
pub struct SearchQuery {
    #[serde(default)]
    q: String,
}

/// A ticket found: id, number, title, school, status.
pub struct TicketHit {
    id: i64,
    number: i64,
    title: String,
    school: String,
    status: &'static str,
}

#[derive(Template)]
#[template(path = "search.html")]
struct SearchPage {
    ctx: Ctx,
    q: String,
    /// Too short to search (fewer than two letters).
    short: bool,
    devices: Option<(i64, Vec<DeviceRow>)>,
    schools: Option<(i64, Vec<SchoolListItem>)>,
    tickets: Option<Vec<TicketHit>>,
    pupils: Option<Vec<pupils::PupilHit>>,
    /// The query, encoded for the groups' links.
    encoded: String,
}

impl SearchPage {
    fn nothing(&self) -> bool {
        self.devices.as_ref().is_none_or(|d| d.0 == 0)
            && self.schools.as_ref().is_none_or(|s| s.0 == 0)
            && self.tickets.as_ref().is_none_or(Vec::is_empty)
            && self.pupils.as_ref().is_none_or(Vec::is_empty)
    }
}

/// A ticket number as people type it: `123`, `#123`, `n° 123`, `no 123`.
fn ticket_number(q: &str) -> Option<i64> {
    let t = q.trim().to_lowercase();
    let t = t
        .strip_prefix('#')
        .or_else(|| t.strip_prefix("n°"))
        .or_else(|| t.strip_prefix("no "))
        .unwrap_or(&t)
        .trim();
    t.parse().ok().filter(|n| *n > 0)
}

pub async fn search(
    State(s): State<AppState>,
    a: Auth,
    Query(q): Query<SearchQuery>,
) -> PageResult {
    let p = &a.p;
    let lang = p.lang;
    let query: String = q.q.trim().chars().take(MAX_QUERY).collect();
    let short = preau_domain::text::search_key(&query).chars().count() < 2
        && ticket_number(&query).is_none();
    let now = Utc::now();
    let mut page = SearchPage {
        ctx: Ctx::page(&a, p.lang_title("search.title"), "search"),
        encoded: url_encode(&query),
        q: query.clone(),
        short,
        devices: None,
        schools: None,
        tickets: None,
        pupils: None,
    };
    if short || p.has_only(preau_domain::Role::Intervenant) {
        return render(&page);
    }
    // Devices: those the caller reads (its schools, a contractor's perimeter).
    let f = devices::DeviceFilter {
        search: Some(query.clone()),
        ..Default::default()
    };
    let found = match devices::list(&s.db, p, &f, now, 0, PER_GROUP).await {
        Ok(found) => Some(found),
        Err(preau_core::AppError::Forbidden) => None,
        Err(e) => return Err(e.into()),
    };
    if let Some(found) = found {
        let cats = categories::list(&s.db, p).await?;
        let today = super::today();
        page.devices = Some((
            found.total,
            found
                .items
                .iter()
                .map(|d| super::parts::devices::row(d, &cats, lang, today))
                .collect(),
        ));
    }
    let sf = SchoolFilter {
        q: Some(query.clone()),
        ..Default::default()
    };
    let found = schools::list(&s.db, p, &sf, 0, PER_GROUP).await?;
    page.schools = Some((found.total, found.items));
    if p.can_use_tickets() {
        let mut hits = Vec::new();
        if let Some(n) = ticket_number(&query)
            && let Some(t) = tickets::by_number(&s.db, p, n).await?
        {
            hits.push(t);
        }
        let f = TicketFilter {
            status: Some("all".into()),
            q: Some(query.clone()),
            ..Default::default()
        };
        for t in tickets::list(&s.db, p, &f, None, PER_GROUP).await?.items {
            if !hits.iter().any(|h| h.id == t.id) {
                hits.push(t);
            }
        }
        page.tickets = Some(
            hits.into_iter()
                .take(PER_GROUP as usize)
                .map(|t| TicketHit {
                    status: t.status().label(lang),
                    id: t.id,
                    number: t.number,
                    title: t.title,
                    school: t.school_name,
                })
                .collect(),
        );
    }
    let hits = pupils::search(&s.db, p, &query, PER_GROUP as usize, now).await?;
    if !hits.is_empty() {
        page.pupils = Some(hits);
    }
    render(&page)
}
