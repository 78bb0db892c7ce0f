//! Visits as pages show them (the planner, a ticket's page, a school's page) and the
//! windows a ticket's school leaves for one.

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use preau_core::interventions::{self, InterventionFilter, Visit};
use preau_core::tickets::{self, TicketFilter};
use preau_domain::paris;

use crate::AppState;
use crate::error::PageError;
use crate::session::Auth;

/// A proposed window, as the plan form offers it.
pub struct WindowChoice {
    pub value: String,
    pub label: String,
}

/// The plan form's choices for a ticket: windows, and the other open tickets of the same
/// school the caller could group into the visit.
pub async fn plan_choices(
    s: &AppState,
    a: &Auth,
    t: &tickets::Ticket,
) -> Result<(Vec<WindowChoice>, Vec<(i64, i64, String)>), PageError> {
    let p = &a.p;
    let lang = p.lang;
    let today = crate::pages::today();
    let windows =
        interventions::windows_for(&s.db, p, t, today + Duration::days(1), 10, false).await?;
    let choices = windows
        .iter()
        .take(14)
        .map(|w| {
            let a = paris::local(w.start);
            let b = paris::local(w.end);
            WindowChoice {
                value: format!(
                    "{}|{}",
                    a.format("%Y-%m-%dT%H:%M"),
                    b.format("%Y-%m-%dT%H:%M")
                ),
                label: format!(
                    "{} {} — {}–{} ({})",
                    day_name(a.weekday(), lang),
                    a.format("%d/%m"),
                    a.format("%H:%M"),
                    b.format("%H:%M"),
                    w.kind.label(lang)
                ),
            }
        })
        .collect();
    let f = TicketFilter {
        school_id: Some(t.school_id),
        ..Default::default()
    };
    let others = tickets::list(&s.db, p, &f, None, 30)
        .await?
        .items
        .into_iter()
        .filter(|o| {
            o.id != t.id && p.can_handle_ticket(o.school_id, o.lot_id) && o.lot_id == t.lot_id
        })
        .map(|o| (o.id, o.number, o.title))
        .collect();
    Ok((choices, others))
}

pub(crate) fn day_name(d: chrono::Weekday, lang: preau_domain::Lang) -> &'static str {
    let i = d.num_days_from_monday() as usize;
    match lang {
        preau_domain::Lang::Fr => ["lun.", "mar.", "mer.", "jeu.", "ven.", "sam.", "dim."][i],
        preau_domain::Lang::En => ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"][i],
    }
}

pub struct VisitView {
    pub id: i64,
    pub time: String,
    pub school_id: i64,
    pub school: String,
    pub address: String,
    pub who: String,
    pub status: String,
    pub status_label: &'static str,
    pub notes: String,
    pub tickets: Vec<(i64, i64, String)>,
    pub can_change: bool,
    /// Whether it has begun (a visit is marked done once begun).
    pub started: bool,
    /// The same person's other visits at the same time, in words.
    pub overlaps: Vec<String>,
}

pub fn visit_view(a: &Auth, v: &Visit) -> VisitView {
    let p = &a.p;
    let i = &v.intervention;
    let (s, e) = (paris::local(i.starts_at), paris::local(i.ends_at));
    let time = if s.date_naive() == e.date_naive() {
        format!("{}–{}", s.format("%H:%M"), e.format("%H:%M"))
    } else {
        format!("{} → {}", s.format("%d/%m %H:%M"), e.format("%d/%m %H:%M"))
    };
    VisitView {
        id: i.id,
        time,
        school_id: i.school_id,
        school: i.school_name.clone(),
        address: i.school_address.clone().unwrap_or_default(),
        who: match (&i.contractor_name, &i.technician_name) {
            (Some(k), _) => k.clone(),
            (None, Some(t)) => t.clone(),
            _ => String::new(),
        },
        status: i.status.clone(),
        status_label: crate::i18n::t(
            p.lang,
            match i.status.as_str() {
                "realisee" => "planning.done",
                "annulee" => "planning.cancelled",
                _ => "planning.planned",
            },
        ),
        notes: i.notes.clone(),
        tickets: v.tickets.clone(),
        can_change: p.can_handle_ticket(i.school_id, i.lot_id),
        started: i.starts_at <= Utc::now(),
        overlaps: Vec::new(),
    }
}

/// Views of a list of visits, each told of the same person's visits that overlap it.
pub fn views_with_overlaps(a: &Auth, list: &[Visit]) -> Vec<VisitView> {
    let clash = interventions::overlaps(list);
    list.iter()
        .map(|v| {
            let mut view = visit_view(a, v);
            if let Some(ids) = clash.get(&v.intervention.id) {
                view.overlaps = list
                    .iter()
                    .filter(|o| ids.contains(&o.intervention.id))
                    .map(|o| {
                        let other = visit_view(a, o);
                        format!("{} — {}", other.time, other.school)
                    })
                    .collect();
            }
            view
        })
        .collect()
}

/// The school page's list: what is planned there from today on.
pub async fn for_school(
    s: &AppState,
    a: &Auth,
    school_id: i64,
) -> Result<Vec<(String, VisitView)>, PageError> {
    let p = &a.p;
    let f = InterventionFilter {
        school_id: Some(school_id),
        ..Default::default()
    };
    let from = at_midnight(crate::pages::today());
    let visits = interventions::list(&s.db, p, &f, from, from + Duration::days(92)).await?;
    Ok(visits
        .iter()
        .filter(|v| v.intervention.status == "planifiee")
        .map(|v| {
            (
                crate::pages::paris(v.intervention.starts_at),
                visit_view(a, v),
            )
        })
        .collect())
}

pub(crate) fn at_midnight(d: NaiveDate) -> DateTime<Utc> {
    preau_domain::paris::instant(d.and_hms_opt(0, 0, 0).unwrap_or_default()).unwrap_or_default()
}
