//! Assistance pages: the three-click report form (from a room, a device, or a device's QR
//! label), the ticket queue, a ticket's page with its clocks, conversation and actions.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Utc};
use preau_core::inventory::devices;
use preau_core::tickets::{self, Ticket, TicketFilter, TicketInput, TicketSort};
use preau_core::{AppError, contracts, rooms, schools, users, write_tx};
use preau_domain::sla::{ClockState, Clocks, duration_label};
use preau_domain::ticket::{Assignee, Priority, TicketCategory, TicketStatus};
use preau_domain::{FieldError, Lang, Principal, Role};
use serde::Deserialize;

use super::LangTitle;
use super::{Ctx, paris, render, see_other};
use crate::AppState;
use crate::error::PageError;
use crate::session::{Auth, CsrfForm, CsrfMultipart};

type PageResult = Result<Response, PageError>;

const PAGE_SIZE: i64 = 50;

/// The largest report form: a phone photo and a few fields.
pub const MAX_REPORT: usize = preau_domain::ticket::MAX_ATTACHMENT + (256 << 10);

/// A small picture per kind of problem, drawn inline (no image files, nothing loaded
/// from elsewhere); hidden from screen readers, which read the label.
pub fn icon(c: TicketCategory) -> &'static str {
    match c {
        TicketCategory::Ecran => {
            r#"<svg viewBox="0 0 48 48" aria-hidden="true" focusable="false"><rect x="5" y="8" width="38" height="24" rx="2" fill="none" stroke="currentColor" stroke-width="3"/><path d="M24 32v7M15 41h18" stroke="currentColor" stroke-width="3" fill="none"/><path d="M12 25l8-8 6 6 8-8" stroke="currentColor" stroke-width="2.5" fill="none"/></svg>"#
        }
        TicketCategory::Ordinateur => {
            r#"<svg viewBox="0 0 48 48" aria-hidden="true" focusable="false"><rect x="9" y="10" width="30" height="20" rx="2" fill="none" stroke="currentColor" stroke-width="3"/><path d="M4 36h40l-3 4H7z" fill="currentColor"/></svg>"#
        }
        TicketCategory::Tablette => {
            r#"<svg viewBox="0 0 48 48" aria-hidden="true" focusable="false"><rect x="11" y="5" width="26" height="38" rx="3" fill="none" stroke="currentColor" stroke-width="3"/><circle cx="24" cy="37" r="2" fill="currentColor"/></svg>"#
        }
        TicketCategory::Reseau => {
            r#"<svg viewBox="0 0 48 48" aria-hidden="true" focusable="false"><path d="M6 19a26 26 0 0 1 36 0M12 26a17 17 0 0 1 24 0M18 33a8 8 0 0 1 12 0" fill="none" stroke="currentColor" stroke-width="3" stroke-linecap="round"/><circle cx="24" cy="39" r="3" fill="currentColor"/></svg>"#
        }
        TicketCategory::Imprimante => {
            r#"<svg viewBox="0 0 48 48" aria-hidden="true" focusable="false"><path d="M14 6h20v10H14z" fill="none" stroke="currentColor" stroke-width="3"/><rect x="6" y="16" width="36" height="16" rx="2" fill="none" stroke="currentColor" stroke-width="3"/><path d="M14 28h20v14H14z" fill="white" stroke="currentColor" stroke-width="3"/></svg>"#
        }
        TicketCategory::SonVisio => {
            r#"<svg viewBox="0 0 48 48" aria-hidden="true" focusable="false"><rect x="5" y="14" width="24" height="20" rx="3" fill="none" stroke="currentColor" stroke-width="3"/><path d="M29 21l13-7v20l-13-7z" fill="currentColor"/></svg>"#
        }
        TicketCategory::Autre => {
            r#"<svg viewBox="0 0 48 48" aria-hidden="true" focusable="false"><circle cx="24" cy="24" r="18" fill="none" stroke="currentColor" stroke-width="3"/><path d="M18 19a6 6 0 1 1 8 5.6c-1.3.6-2 1.6-2 3V30" fill="none" stroke="currentColor" stroke-width="3" stroke-linecap="round"/><circle cx="24" cy="36" r="2" fill="currentColor"/></svg>"#
        }
    }
}

pub struct CategoryChoice {
    pub code: &'static str,
    pub label: &'static str,
    pub icon: &'static str,
    pub checked: bool,
}

pub struct PriorityChoice {
    pub code: &'static str,
    pub label: &'static str,
    pub hint: &'static str,
    pub checked: bool,
}

#[derive(Template)]
#[template(path = "report.html")]
struct ReportPage {
    ctx: Ctx,
    /// What the report is about, in words ("Classe 3 — École …", a device).
    place: Option<String>,
    /// `(value, label)` of the places to choose from when none was given.
    places: Vec<(String, String, bool)>,
    room_id: Option<i64>,
    device_id: Option<i64>,
    school_id: Option<i64>,
    device_link: Option<String>,
    categories: Vec<CategoryChoice>,
    priorities: Vec<PriorityChoice>,
    description: String,
    errors: Vec<String>,
    category_error: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct NewQuery {
    #[serde(default, deserialize_with = "preau_domain::text::opt_i64")]
    room_id: Option<i64>,
    #[serde(default, deserialize_with = "preau_domain::text::opt_i64")]
    device_id: Option<i64>,
    #[serde(default, deserialize_with = "preau_domain::text::opt_i64")]
    school_id: Option<i64>,
}

fn category_choices(lang: Lang, selected: Option<TicketCategory>) -> Vec<CategoryChoice> {
    TicketCategory::ALL
        .iter()
        .map(|c| CategoryChoice {
            code: c.code(),
            label: c.label(lang),
            icon: icon(*c),
            checked: selected == Some(*c),
        })
        .collect()
}

fn priority_choices(lang: Lang, selected: Priority) -> Vec<PriorityChoice> {
    Priority::REPORTED
        .iter()
        .map(|p| PriorityChoice {
            code: p.code(),
            label: p.label(lang),
            hint: crate::i18n::t(
                lang,
                match p {
                    Priority::P1 => "report.p1_hint",
                    Priority::P2 => "report.p2_hint",
                    _ => "report.p3_hint",
                },
            ),
            checked: *p == selected,
        })
        .collect()
}

/// The form, pre-filled from where it was opened.
async fn report_page(
    s: &AppState,
    a: &Auth,
    q: &NewQuery,
    category: Option<TicketCategory>,
    priority: Priority,
    description: String,
    errors: &[FieldError],
) -> Result<ReportPage, PageError> {
    let p = &a.p;
    let lang = p.lang;
    let mut place = None;
    let mut category = category;
    let mut device_link = None;
    let mut room_id = q.room_id;
    let mut school_id = q.school_id;
    if let Some(d) = q.device_id {
        let dev = devices::get(&s.db, p, d, Utc::now()).await?;
        let Some(sid) = dev.school_id else {
            return Err(AppError::NotFound.into());
        };
        if !p.can_report(sid) {
            return Err(AppError::Forbidden.into());
        }
        category = category.or(Some(TicketCategory::for_device_category(&dev.category)));
        place = Some(format!(
            "{} — {}",
            dev.label(),
            [dev.room_name.clone(), dev.school_name.clone()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(", ")
        ));
        device_link = Some(format!("/devices/{}", dev.id));
        room_id = dev.room_id;
        school_id = Some(sid);
    } else if let Some(r) = q.room_id {
        let room = rooms::get(&s.db, p, r).await?;
        if !p.can_report(room.school_id) {
            return Err(AppError::Forbidden.into());
        }
        let school = schools::get(&s.db, p, room.school_id).await?;
        place = Some(format!("{} — {}", room.name, school.name));
        school_id = Some(room.school_id);
    } else if let Some(sid) = q.school_id {
        let school = schools::get(&s.db, p, sid).await?;
        if !p.can_report(sid) {
            return Err(AppError::Forbidden.into());
        }
        place = Some(school.name);
    }
    let mut places = Vec::new();
    if place.is_none() {
        let reportable: Vec<_> = schools::all_readable(&s.db, p)
            .await?
            .into_iter()
            .filter(|sc| p.can_report(sc.id))
            .collect();
        if reportable.is_empty() {
            return Err(AppError::Forbidden.into());
        }
        for sc in reportable.iter().take(60) {
            places.push((format!("s:{}", sc.id), sc.name.clone(), false));
            for r in rooms::list_for_school(&s.db, p, sc.id).await? {
                places.push((
                    format!("r:{}", r.id),
                    format!("{} — {}", sc.name, r.name),
                    false,
                ));
            }
        }
        if let Some(first) = places.first_mut() {
            first.2 = true;
        }
    }
    let mut other = Vec::new();
    let mut category_error = None;
    for e in errors {
        if e.field == "category" {
            category_error = Some(crate::i18n::t(lang, "report.choose_category").to_string());
        } else {
            other.push(e.message(lang));
        }
    }
    Ok(ReportPage {
        ctx: Ctx::page(a, p.lang_title("report.title"), "tickets"),
        place,
        places,
        room_id,
        device_id: q.device_id,
        school_id,
        device_link,
        categories: category_choices(lang, category),
        priorities: priority_choices(lang, priority),
        description,
        errors: other,
        category_error,
    })
}

pub async fn new_form(State(s): State<AppState>, a: Auth, Query(q): Query<NewQuery>) -> PageResult {
    render(&report_page(&s, &a, &q, None, Priority::P2, String::new(), &[]).await?)
}

/// The short address a device's QR label carries. Those who report (schools' staff)
/// land on the report form for that device; those who handle tickets on its page.
pub async fn qr(Path(id): Path<i64>, a: Auth) -> Response {
    if is_handler(&a.p) {
        Redirect::to(&format!("/devices/{id}")).into_response()
    } else {
        Redirect::to(&format!("/tickets/new?device_id={id}")).into_response()
    }
}

pub async fn create(State(s): State<AppState>, a: Auth, form: CsrfMultipart) -> PageResult {
    let p = &a.p;
    let num = |name: &str| form.text(name).and_then(|v| v.parse::<i64>().ok());
    let mut q = NewQuery {
        room_id: num("room_id"),
        device_id: num("device_id"),
        school_id: num("school_id"),
    };
    if let Some(place) = form.text("place") {
        match place.split_once(':') {
            Some(("r", id)) => q.room_id = id.parse().ok(),
            Some(("s", id)) => q.school_id = id.parse().ok(),
            _ => {}
        }
    }
    let input = TicketInput {
        school_id: q.school_id,
        room_id: q.room_id,
        device_ids: q.device_id.into_iter().collect(),
        category: form.text("category").unwrap_or_default(),
        priority: form.text("priority").unwrap_or_else(|| "p2".into()),
        title: None,
        description: form.text("description"),
    };
    let photo = form.file("photo");
    let retry = |errors: Vec<FieldError>| {
        let s = s.clone();
        let input = input.clone();
        let q = NewQuery {
            room_id: q.room_id,
            device_id: q.device_id,
            school_id: q.school_id,
        };
        let a = &a;
        async move {
            let page = report_page(
                &s,
                a,
                &q,
                TicketCategory::parse("", &input.category).ok(),
                Priority::parse("", &input.priority).unwrap_or(Priority::P2),
                input.description.clone().unwrap_or_default(),
                &errors,
            )
            .await?;
            let mut resp = render(&page)?;
            *resp.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            Ok::<Response, PageError>(resp)
        }
    };
    let v = match input.parse() {
        Ok(v) => v,
        Err(AppError::Invalid(errs)) => return retry(errs).await,
        Err(e) => return Err(e.into()),
    };
    let now = Utc::now();
    let result = write_tx!(s.db, tx => {
        let t = tickets::open(tx, p, &v, now).await?;
        if let Some(ph) = photo {
            tickets::attach(tx, p, t.id, ph.file_name.as_deref().unwrap_or("photo"), &ph.bytes, now).await?;
        }
        t
    });
    match result {
        Ok(t) => Ok(see_other(&format!("/tickets/{}", t.id), "ticket_created")),
        Err(AppError::Invalid(errs)) => retry(errs).await,
        Err(e) => Err(e.into()),
    }
}

/// A clock in words: due when, and how it stands.
pub struct ClockView {
    pub name: &'static str,
    pub span: String,
    pub due: String,
    pub state: String,
    /// `ok`, `risk`, `late`, `paused`, `done`.
    pub tone: &'static str,
}

fn clock_view(
    lang: Lang,
    name: &'static str,
    span: Option<&str>,
    c: Option<&ClockState>,
    paused: bool,
) -> Option<ClockView> {
    let c = c?;
    let t = |k| crate::i18n::t(lang, k);
    let span = span
        .and_then(|s| preau_domain::calendar::Span::parse(s).ok())
        .map(|s| s.label(lang))
        .unwrap_or_default();
    let (state, tone) = match (c.stopped_at, c.breached) {
        (Some(at), false) => (format!("{} {}", t("clock.met"), paris(at)), "done"),
        (Some(at), true) => (
            format!(
                "{} {} ({} {})",
                t("clock.met_late"),
                paris(at),
                t("clock.late_by"),
                duration_label(c.late_minutes)
            ),
            "late",
        ),
        (None, true) => (
            format!("{} {}", t("clock.late_by"), duration_label(c.late_minutes)),
            "late",
        ),
        (None, false) if paused => (t("clock.paused").to_string(), "paused"),
        (None, false) if c.at_risk => (t("clock.at_risk").to_string(), "risk"),
        (None, false) => (t("clock.running").to_string(), "ok"),
    };
    Some(ClockView {
        name,
        span,
        due: paris(c.due),
        state,
        tone,
    })
}

/// The ticket's clocks; in plain words for school staff (`plain`: "Prise en charge",
/// "Réparation", no contract span), by their contract names for those who run them.
pub fn clock_views(lang: Lang, t: &Ticket, c: &Clocks, plain: bool) -> Vec<ClockView> {
    let paused = t.status().pauses_clock();
    let (gti, gtr) = if plain {
        (
            crate::i18n::t(lang, "clock.plain_gti"),
            crate::i18n::t(lang, "clock.plain_gtr"),
        )
    } else {
        ("GTI", "GTR")
    };
    let span = |s: Option<&str>| if plain { None } else { s.map(str::to_string) };
    [
        clock_view(
            lang,
            gti,
            span(t.sla_gti.as_deref()).as_deref(),
            c.gti.as_ref(),
            paused,
        ),
        clock_view(
            lang,
            gtr,
            span(t.sla_gtr.as_deref()).as_deref(),
            c.gtr.as_ref(),
            paused,
        ),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// While the current school year's holidays are not loaded, deadlines count them as school
/// days: every page that shows a deadline says so (and tells the administrator where to
/// load them).
pub async fn calendar_notice(
    s: &AppState,
    p: &preau_domain::Principal,
) -> Result<Option<String>, PageError> {
    let gaps = preau_core::calendar::gaps(&s.db, p.collectivite_id, super::today()).await?;
    Ok(calendar_words(p, &gaps))
}

/// The notice for calendars already looked up (see [`calendar_notice`]).
pub fn calendar_words(
    p: &preau_domain::Principal,
    gaps: &preau_core::calendar::CalendarGaps,
) -> Option<String> {
    gaps.current.as_ref().map(|year| {
        let mut text = crate::i18n::t(p.lang, "calendar.gap").replace("{}", year);
        if p.is_admin() {
            text.push(' ');
            text.push_str(crate::i18n::t(p.lang, "calendar.gap_admin"));
        }
        text
    })
}

/// School staff (a directeur, a teacher) read deadlines in plain words; those who run
/// the contract (administrator, technician, contractor) by the contract's names.
pub fn plain_deadlines(p: &preau_domain::Principal) -> bool {
    !p.is_admin() && !p.has(Role::Technicien) && !p.has(Role::Prestataire)
}

pub struct EventView {
    pub when: String,
    pub who: String,
    pub what: String,
    pub body: Option<String>,
    pub internal: bool,
}

fn event_view(lang: Lang, e: &tickets::Event) -> EventView {
    let t = |k| crate::i18n::t(lang, k);
    let d: serde_json::Value = serde_json::from_str(&e.detail).unwrap_or_default();
    let status = |k: &str| {
        d.get(k)
            .and_then(|v| v.as_str())
            .map(|s| TicketStatus::from_db(s).label(lang))
            .unwrap_or("")
    };
    let what = match e.kind.as_str() {
        "created" => t("event.created").to_string(),
        "taken" => t("event.taken").to_string(),
        "status" => format!(
            "{} « {} » → « {} »",
            t("event.status"),
            status("from"),
            status("to")
        ),
        "assigned" => t("event.assigned").to_string(),
        "priority" => {
            let pr = |k: &str| {
                d.get(k)
                    .and_then(|v| v.as_str())
                    .map(|s| Priority::from_db(s).short(lang))
                    .unwrap_or("")
            };
            format!("{} {} → {}", t("event.priority"), pr("from"), pr("to"))
        }
        "reply" => t("event.reply").to_string(),
        "note" => t("event.note").to_string(),
        "confirmed" => t("event.confirmed").to_string(),
        "reopened" => t("event.reopened").to_string(),
        "closed_auto" => t("event.closed_auto").to_string(),
        "escalated" => t("event.escalated").to_string(),
        "attachment" => t("event.attachment").to_string(),
        other => other.to_string(),
    };
    EventView {
        when: paris(e.occurred_at),
        who: e.actor_name.clone(),
        what,
        body: e.body.clone(),
        internal: !e.public,
    }
}

#[derive(Template)]
#[template(path = "ticket.html")]
struct TicketPage {
    ctx: Ctx,
    /// Whether the caller may open the school's and the room's pages.
    links: bool,
    /// Deadlines in plain words (school staff).
    plain: bool,
    t: Ticket,
    category: &'static str,
    icon: &'static str,
    priority: &'static str,
    status: &'static str,
    assignee: String,
    clocks: Vec<ClockView>,
    devices: Vec<(i64, String, String, Option<String>)>,
    events: Vec<EventView>,
    attachments: Vec<tickets::Attachment>,
    can_assign: bool,
    can_confirm: bool,
    can_take: bool,
    internal_notes: bool,
    moves: Vec<(&'static str, &'static str)>,
    assignees: Vec<(String, String, bool)>,
    priorities: Vec<(&'static str, &'static str, bool)>,
    errors: Vec<String>,
    opened: String,
    windows: Vec<super::parts::visits::WindowChoice>,
    group: Vec<(i64, i64, String)>,
    visits: Vec<super::parts::visits::VisitView>,
    back: String,
}

impl TicketPage {
    /// An attachment's size for people: « 340 Ko », « 2,4 Mo », never « 0 Ko ».
    fn size(bytes: &i64) -> String {
        match *bytes {
            b if b < 1024 => "< 1 Ko".to_string(),
            b if b < 1024 * 1024 => format!("{} Ko", b / 1024),
            b => format!("{:.1} Mo", b as f64 / (1024.0 * 1024.0)).replace('.', ","),
        }
    }

    fn is_resolved(&self) -> bool {
        self.t.status() == TicketStatus::Resolu
    }
    fn is_closed(&self) -> bool {
        self.t.status() == TicketStatus::Clos
    }
}

/// Who a ticket is with, in a few words for lists: the company and its lot, or the
/// technician.
pub fn assignee_short(lang: Lang, t: &Ticket) -> String {
    match (&t.contractor_name, t.lot_number) {
        (Some(k), Some(n)) => format!("{k} · lot {n}"),
        _ => t
            .assignee_name
            .clone()
            .unwrap_or_else(|| crate::i18n::t(lang, "tickets.unassigned").to_string()),
    }
}

/// Who a ticket is with, in words.
pub fn assignee_label(lang: Lang, t: &Ticket) -> String {
    match (&t.contractor_name, &t.lot_label, &t.assignee_name) {
        (Some(k), Some(l), Some(u)) => format!("{k} ({l}) — {u}"),
        (Some(k), Some(l), None) => format!("{k} ({l})"),
        (_, _, Some(u)) => u.clone(),
        _ => crate::i18n::t(lang, "tickets.unassigned").to_string(),
    }
}

async fn ticket_page(
    s: &AppState,
    a: &Auth,
    id: i64,
    flash: Option<&str>,
    errors: &[FieldError],
) -> Result<TicketPage, PageError> {
    let p = &a.p;
    let lang = p.lang;
    let t = tickets::get(&s.db, p, id).await?;
    let now = Utc::now();
    let c = tickets::clocks(&s.db, p, &t, now).await?;
    let events = tickets::events(&s.db, p, id).await?;
    let can_handle = p.can_handle_ticket(t.school_id, t.lot_id);
    let can_assign = p.can_assign_ticket(t.school_id);
    let mut assignees = Vec::new();
    if can_assign {
        let current = match (t.lot_id, t.assignee_user_id) {
            (Some(l), _) => Assignee::Lot(l).code(),
            (None, Some(u)) => Assignee::User(u).code(),
            _ => String::new(),
        };
        assignees.push((
            String::new(),
            crate::i18n::t(lang, "tickets.unassigned").to_string(),
            current.is_empty(),
        ));
        for (uid, name) in users::technicians(&s.db, p).await? {
            let code = Assignee::User(uid).code();
            assignees.push((code.clone(), name, code == current));
        }
        for (lid, label) in contracts::lot_choices(&s.db, p).await? {
            let code = Assignee::Lot(lid).code();
            assignees.push((code.clone(), label, code == current));
        }
    }
    let status = t.status();
    let moves = if can_handle {
        status
            .handler_moves()
            .iter()
            .filter(|m| **m != status)
            .map(|m| (m.code(), m.label(lang)))
            .collect()
    } else {
        Vec::new()
    };
    let priorities = Priority::ALL
        .iter()
        .map(|pr| (pr.code(), pr.short(lang), *pr == t.priority()))
        .collect();
    let (windows, group) = if can_handle && status.is_open() {
        super::parts::visits::plan_choices(s, a, &t).await?
    } else {
        (Vec::new(), Vec::new())
    };
    let visits = preau_core::interventions::list(
        &s.db,
        p,
        &preau_core::interventions::InterventionFilter {
            ticket_id: Some(t.id),
            cancelled: Some(true),
            ..Default::default()
        },
        t.opened_at - chrono::Duration::days(1),
        now + chrono::Duration::days(400),
    )
    .await?
    .iter()
    .map(|v| super::parts::visits::visit_view(a, v))
    .collect();
    let title = format!(
        "{} {} — {}",
        crate::i18n::t(lang, "ticket.number"),
        t.number,
        t.title
    );
    let notice = if status.is_open() {
        calendar_notice(s, p).await?
    } else {
        None
    };
    let ctx = Ctx::page(a, title, "tickets")
        .crumb("/tickets", p.lang_title("tickets.title"))
        .flash(flash.and_then(ticket_flash))
        .notice(notice);
    Ok(TicketPage {
        ctx,
        links: p.directory_schools().contains(t.school_id),
        category: t.category().label(lang),
        icon: icon(t.category()),
        priority: t.priority().short(lang),
        status: status.label(lang),
        assignee: assignee_label(lang, &t),
        clocks: clock_views(lang, &t, &c, plain_deadlines(p)),
        plain: plain_deadlines(p),
        devices: tickets::devices(&s.db, p, id).await?,
        events: events.iter().map(|e| event_view(lang, e)).collect(),
        attachments: tickets::attachments(&s.db, p, id).await?,
        can_take: can_handle && status == TicketStatus::Nouveau,
        can_confirm: p.can_confirm_ticket(t.school_id, t.reporter_user_id),
        internal_notes: can_handle,
        can_assign: can_assign && status.is_open(),
        moves,
        assignees,
        priorities,
        errors: errors.iter().map(|e| e.message(lang)).collect(),
        opened: paris(t.opened_at),
        windows,
        group,
        visits,
        back: format!("/tickets/{id}"),
        t,
    })
}

fn ticket_flash(f: &str) -> Option<&'static str> {
    match f {
        "ticket_created" => Some("flash.ticket_created"),
        "taken" => Some("flash.taken"),
        "saved" => Some("flash.saved"),
        "sent" => Some("flash.sent"),
        "confirmed" => Some("flash.confirmed"),
        "reopened" => Some("flash.reopened"),
        "planned" => Some("flash.planned"),
        _ => None,
    }
}

#[derive(Deserialize, Default)]
pub struct FlashQuery {
    flash: Option<String>,
}

pub async fn show(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i64>,
    Query(q): Query<FlashQuery>,
) -> PageResult {
    render(&ticket_page(&s, &a, id, q.flash.as_deref(), &[]).await?)
}

/// After an action: back to the ticket, or the ticket page again with what went wrong
/// (409 when someone else was quicker, 422 for a bad field).
pub(crate) async fn after(
    s: &AppState,
    a: &Auth,
    id: i64,
    r: Result<(), AppError>,
    flash: &str,
) -> PageResult {
    match r {
        Ok(()) => Ok(see_other(&format!("/tickets/{id}"), flash)),
        Err(AppError::Invalid(errs)) => {
            let mut resp = render(&ticket_page(s, a, id, None, &errs).await?)?;
            *resp.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            Ok(resp)
        }
        Err(AppError::Conflict(e)) => {
            let mut resp = render(&ticket_page(s, a, id, None, &[e]).await?)?;
            *resp.status_mut() = StatusCode::CONFLICT;
            Ok(resp)
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct VersionForm {
    #[serde(default, deserialize_with = "preau_domain::text::opt_i64")]
    version: Option<i64>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    assignee: Option<String>,
    #[serde(default)]
    priority: Option<String>,
}

pub async fn take(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i64>,
    CsrfForm(_f): CsrfForm<VersionForm>,
) -> PageResult {
    let r = write_tx!(s.db, tx => { tickets::take(tx, &a.p, id, Utc::now()).await?; });
    after(&s, &a, id, r, "taken").await
}

pub async fn status(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm<VersionForm>,
) -> PageResult {
    let to = match TicketStatus::parse("status", f.status.as_deref().unwrap_or("")) {
        Ok(to) => to,
        Err(e) => return after(&s, &a, id, Err(e.into()), "saved").await,
    };
    let version = f.version.unwrap_or(0);
    let r = write_tx!(s.db, tx => {
        tickets::set_status(tx, &a.p, id, version, to, f.message.as_deref(), Utc::now()).await?;
    });
    after(&s, &a, id, r, "saved").await
}

pub async fn assign(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm<VersionForm>,
) -> PageResult {
    let to = match Assignee::parse("assignee", f.assignee.as_deref().unwrap_or("")) {
        Ok(to) => to,
        Err(e) => return after(&s, &a, id, Err(e.into()), "saved").await,
    };
    let version = f.version.unwrap_or(0);
    let r =
        write_tx!(s.db, tx => { tickets::assign(tx, &a.p, id, version, to, Utc::now()).await?; });
    after(&s, &a, id, r, "saved").await
}

pub async fn priority(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm<VersionForm>,
) -> PageResult {
    let to = match Priority::parse("priority", f.priority.as_deref().unwrap_or("")) {
        Ok(to) => to,
        Err(e) => return after(&s, &a, id, Err(e.into()), "saved").await,
    };
    let version = f.version.unwrap_or(0);
    let r = write_tx!(s.db, tx => { tickets::set_priority(tx, &a.p, id, version, to, Utc::now()).await?; });
    after(&s, &a, id, r, "saved").await
}

#[derive(Deserialize)]
pub struct CommentForm {
    #[serde(default)]
    body: String,
    #[serde(default)]
    internal: Option<String>,
    #[serde(default)]
    reason: Option<String>,
}

pub async fn comment(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm<CommentForm>,
) -> PageResult {
    let public = f.internal.is_none();
    let r = write_tx!(s.db, tx => { tickets::comment(tx, &a.p, id, &f.body, public, Utc::now()).await?; });
    after(&s, &a, id, r, "sent").await
}

pub async fn confirm(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i64>,
    CsrfForm(_f): CsrfForm<CommentForm>,
) -> PageResult {
    let r = write_tx!(s.db, tx => { tickets::confirm(tx, &a.p, id, Utc::now()).await?; });
    after(&s, &a, id, r, "confirmed").await
}

pub async fn reopen(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm<CommentForm>,
) -> PageResult {
    let reason = f.reason.unwrap_or_default();
    let r = write_tx!(s.db, tx => { tickets::reopen(tx, &a.p, id, &reason, Utc::now()).await?; });
    after(&s, &a, id, r, "reopened").await
}

pub async fn attach(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i64>,
    form: CsrfMultipart,
) -> PageResult {
    let Some(photo) = form.file("photo") else {
        return after(
            &s,
            &a,
            id,
            Err(FieldError::new("photo", "required").into()),
            "sent",
        )
        .await;
    };
    let name = photo.file_name.clone().unwrap_or_default();
    let r = write_tx!(s.db, tx => { tickets::attach(tx, &a.p, id, &name, &photo.bytes, Utc::now()).await?; });
    after(&s, &a, id, r, "sent").await
}

/// An attachment, as uploaded files are served (`export::uploaded`).
pub async fn attachment(
    State(s): State<AppState>,
    a: Auth,
    Path((id, aid)): Path<(i64, i64)>,
) -> PageResult {
    let (kind, name, bytes) = tickets::attachment(&s.db, &a.p, id, aid).await?;
    Ok(crate::export::uploaded(&kind, &name, bytes))
}

/// A ticket as the queue shows it.
pub struct TicketRow {
    pub id: i64,
    pub number: i64,
    pub opened: String,
    pub place: String,
    pub category: &'static str,
    pub icon: &'static str,
    pub title: String,
    pub priority: &'static str,
    pub priority_code: String,
    pub status: &'static str,
    pub status_code: String,
    pub assignee: String,
    /// Which deadline `due` is: the contract's name (GTI, GTR), or in plain words.
    pub clock: &'static str,
    pub due: String,
    /// The working time left before it, or that it is paused.
    pub left: String,
    pub late: bool,
    pub at_risk: bool,
    /// For school staff: the deadline in a sentence.
    pub plain: bool,
}

/// A list of tickets as the queue shows them, each deadline with the working time left on
/// its school's calendar (read once per zone and week for the list), in the caller's words.
pub async fn ticket_rows(
    s: &AppState,
    p: &preau_domain::Principal,
    items: &[Ticket],
) -> Result<Vec<TicketRow>, PageError> {
    let mut ids: Vec<i64> = items.iter().map(|x| x.school_id).collect();
    ids.sort_unstable();
    ids.dedup();
    let cals = preau_core::calendar::for_schools(&s.db, &ids).await?;
    let now = Utc::now();
    let plain = plain_deadlines(p);
    Ok(items
        .iter()
        .map(|x| ticket_row(p.lang, x, now, plain, cals.get(&x.school_id)))
        .collect())
}

pub fn ticket_row(
    lang: Lang,
    t: &Ticket,
    now: DateTime<Utc>,
    plain: bool,
    school: Option<&preau_domain::calendar::Calendar>,
) -> TicketRow {
    // The deadline that matters now: the response's until someone takes the ticket, then
    // the fix's.
    let responding = t.taken_at.is_none() && t.gti_due_at.is_some();
    let due = tickets::next_deadline(t);
    let open = t.resolved_at.is_none() && t.status().is_open();
    let breached = if responding {
        t.gti_breached || due.is_some_and(|d| d < now)
    } else {
        t.gtr_breached || (open && !t.status().pauses_clock() && due.is_some_and(|d| d < now))
    };
    let clock = match (responding, plain) {
        (true, true) => crate::i18n::t(lang, "clock.plain_gti"),
        (false, true) => crate::i18n::t(lang, "clock.plain_gtr"),
        (true, false) => "GTI",
        (false, false) => "GTR",
    };
    let left = match (open, school) {
        (true, Some(_)) if t.status().pauses_clock() => {
            crate::i18n::t(lang, "clock.paused").to_string()
        }
        (true, Some(cal)) if !plain => tickets::time_left(t, cal, now)
            .map(|m| {
                crate::i18n::t(lang, "clock.left")
                    .replace("{}", &preau_domain::sla::duration_label(m))
            })
            .unwrap_or_default(),
        _ => String::new(),
    };
    TicketRow {
        id: t.id,
        number: t.number,
        opened: paris(t.opened_at),
        place: match &t.room_name {
            Some(r) => format!("{} — {r}", t.school_name),
            None => t.school_name.clone(),
        },
        category: t.category().label(lang),
        icon: icon(t.category()),
        title: t.title.clone(),
        priority: t.priority().short(lang),
        priority_code: t.priority.clone(),
        status: t.status().label(lang),
        status_code: t.status.clone(),
        assignee: assignee_short(lang, t),
        clock: if due.is_some() && open { clock } else { "" },
        due: due.map(paris).unwrap_or_else(|| "—".into()),
        left,
        late: breached || t.gti_breached,
        at_risk: t.at_risk,
        plain,
    }
}

#[derive(Template)]
#[template(path = "tickets.html")]
struct TicketsPage {
    ctx: Ctx,
    f: TicketFilter,
    rows: Vec<TicketRow>,
    count: String,
    next: Option<String>,
    statuses: Vec<(String, String)>,
    schools: Vec<(String, String)>,
    priorities: Vec<(String, String)>,
    categories: Vec<(String, String)>,
    assignees: Vec<(String, String)>,
    can_report: bool,
    first_page: String,
    /// The orders offered: (code, words).
    sorts: Vec<(&'static str, &'static str)>,
}

impl TicketsPage {
    fn sel(&self, v: &Option<String>, code: &str) -> bool {
        v.as_deref().unwrap_or("") == code
    }
    fn school_sel(&self, id: &str) -> bool {
        self.f.school_id.map(|s| s.to_string()).unwrap_or_default() == id
    }
}

#[derive(Deserialize, Default)]
pub struct ListQuery {
    #[serde(flatten)]
    f: TicketFilter,
    #[serde(default, deserialize_with = "preau_domain::text::opt_i64")]
    before: Option<i64>,
    /// The deadline order's cursor.
    after: Option<String>,
    /// Where a page of the other orders starts.
    #[serde(default, deserialize_with = "preau_domain::text::opt_i64")]
    offset: Option<i64>,
    flash: Option<String>,
}

/// The query string of a filter, for links that keep it.
fn filter_query(f: &TicketFilter) -> String {
    let mut parts = Vec::new();
    let mut push = |k: &str, v: Option<String>| {
        if let Some(v) = v.filter(|v| !v.is_empty()) {
            parts.push(format!("{k}={}", crate::session::url_encode(&v)));
        }
    };
    push("status", f.status.clone());
    push("school_id", f.school_id.map(|v| v.to_string()));
    push("room_id", f.room_id.map(|v| v.to_string()));
    push("device_id", f.device_id.map(|v| v.to_string()));
    push("priority", f.priority.clone());
    push("category", f.category.clone());
    push("assignee", f.assignee.clone());
    push("breached", f.breached.map(|v| v.to_string()));
    push("at_risk", f.at_risk.map(|v| v.to_string()));
    push("mine", f.mine.map(|v| v.to_string()));
    push("q", f.q.clone());
    push("sort", f.sort.clone());
    parts.join("&")
}

pub async fn list(State(s): State<AppState>, a: Auth, Query(q): Query<ListQuery>) -> PageResult {
    let p = &a.p;
    let lang = p.lang;
    let t = |k| crate::i18n::t(lang, k).to_string();
    // Open tickets come by their next deadline unless asked otherwise; a list that holds
    // closed ones, newest first.
    let mut f = q.f.clone();
    let open_only = matches!(f.status.as_deref(), None | Some("") | Some("open"));
    let sort = f
        .sort
        .as_deref()
        .and_then(TicketSort::parse)
        .unwrap_or(if open_only {
            TicketSort::Deadline
        } else {
            TicketSort::Recent
        });
    f.sort = Some(sort.code().to_string());
    let (items, cursor) = match sort {
        TicketSort::Deadline => {
            let (items, next) =
                tickets::by_deadline(&s.db, p, &f, q.after.as_deref(), PAGE_SIZE).await?;
            (
                items,
                next.map(|c| format!("after={}", crate::session::url_encode(&c))),
            )
        }
        TicketSort::Recent => {
            let page = tickets::list(&s.db, p, &f, q.before, PAGE_SIZE).await?;
            (page.items, page.next.map(|n| format!("before={n}")))
        }
        other => {
            let offset = q.offset.unwrap_or(0).clamp(0, tickets::MAX_OFFSET);
            let (items, next) = tickets::sorted(&s.db, p, &f, other, offset, PAGE_SIZE).await?;
            (items, next.map(|n| format!("offset={n}")))
        }
    };
    let sorts: Vec<(&'static str, &'static str)> = TicketSort::ALL
        .iter()
        .map(|x| {
            (
                x.code(),
                crate::i18n::t(lang, &format!("tickets.sort_{}", x.code())),
            )
        })
        .collect();
    let count = match tickets::count(&s.db, p, &q.f).await? {
        n if n > tickets::COUNT_CAP => format!(
            "{} {}",
            crate::i18n::t(lang, "tickets.more_than"),
            preau_domain::sla::thousands(tickets::COUNT_CAP)
        ),
        n => preau_domain::sla::thousands(n),
    };
    let rows = ticket_rows(&s, p, &items).await?;
    let base = filter_query(&f);
    let next = cursor.map(|c| format!("/tickets?{base}&{c}"));
    let mut statuses = vec![
        ("open".to_string(), t("tickets.open")),
        ("all".to_string(), t("tickets.all")),
    ];
    statuses.extend(
        TicketStatus::ALL
            .iter()
            .map(|x| (x.code().to_string(), x.label(lang).to_string())),
    );
    let mut school_opts = vec![(String::new(), t("devices.all_schools"))];
    let readable = schools::directory(&s.db, p).await?;
    school_opts.extend(
        readable
            .iter()
            .map(|sc| (sc.id.to_string(), sc.name.clone())),
    );
    let mut priorities = vec![(String::new(), t("tickets.any"))];
    priorities.extend(
        Priority::ALL
            .iter()
            .map(|x| (x.code().to_string(), x.short(lang).to_string())),
    );
    let mut categories = vec![(String::new(), t("tickets.any"))];
    categories.extend(
        TicketCategory::ALL
            .iter()
            .map(|x| (x.code().to_string(), x.label(lang).to_string())),
    );
    let mut assignees = vec![
        (String::new(), t("tickets.anyone")),
        ("me".to_string(), t("tickets.me")),
    ];
    if p.is_admin() || p.has(Role::Technicien) {
        assignees.push(("none".to_string(), t("tickets.unassigned")));
        assignees.extend(
            users::technicians(&s.db, p)
                .await?
                .into_iter()
                .map(|(id, n)| (Assignee::User(id).code(), n)),
        );
        assignees.extend(
            contracts::lot_choices(&s.db, p)
                .await?
                .into_iter()
                .map(|(id, n)| (Assignee::Lot(id).code(), n)),
        );
    }
    let title = if p.has(Role::Enseignant)
        && !p.is_admin()
        && !p.has(Role::Directeur)
        && !p.has(Role::Technicien)
    {
        p.lang_title("tickets.my_title")
    } else {
        p.lang_title("tickets.title")
    };
    render(&TicketsPage {
        ctx: Ctx::page(&a, title, "tickets")
            .flash(q.flash.as_deref().and_then(ticket_flash))
            .notice(calendar_notice(&s, p).await?),
        can_report: readable.iter().any(|sc| p.can_report(sc.id)),
        first_page: if base.is_empty() {
            "/tickets".into()
        } else {
            format!("/tickets?{base}")
        },
        f,
        rows,
        count,
        next,
        statuses,
        schools: school_opts,
        priorities,
        categories,
        assignees,
        sorts,
    })
}

/// Those who handle tickets (rather than report them).
pub fn is_handler(p: &Principal) -> bool {
    p.is_admin() || p.has(Role::Technicien) || p.has(Role::Prestataire)
}

/// Plans a visit: a proposed window, or the times typed; the ticket plus the others
/// ticked (repeated `ticket` fields, read as pairs).
pub async fn plan(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i64>,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    let get = |k: &str| super::pair_value(&pairs, k);
    let (starts, ends) = match get("window").as_deref().and_then(|w| w.split_once('|')) {
        Some((a, b)) if get("starts_at").is_none() => (a.to_string(), b.to_string()),
        _ => (
            get("starts_at").unwrap_or_default(),
            get("ends_at").unwrap_or_default(),
        ),
    };
    let mut ids = vec![id];
    ids.extend(
        pairs
            .iter()
            .filter(|(k, _)| k == "ticket")
            .filter_map(|(_, v)| v.parse::<i64>().ok())
            .filter(|t| *t != id),
    );
    let input = preau_core::interventions::InterventionInput {
        ticket_ids: ids,
        starts_at: starts,
        ends_at: ends,
        notes: get("notes"),
    };
    let r = write_tx!(s.db, tx => {
        preau_core::interventions::plan(tx, &a.p, &input.parse()?, Utc::now()).await?;
    });
    after(&s, &a, id, r, "planned").await
}
