//! Booking pages: a school's week of shared kits and rooms (each slot free, booked, past,
//! lent to a class or kept for moving the kit), the booking form (a slot, a class, a
//! weekly repeat), a booking's page where it is cancelled, the resources a school makes
//! bookable with its slots, and each resource's iCalendar feed.
//!
//! A teacher books from the home page in three clicks: the resource, a free slot, "Réserver".

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{Duration, NaiveDate, Utc};
use preau_core::bookings::{self, BookableChange, BookableInput, BookingInput, CellState};
use preau_core::{AppError, write_tx};
use preau_domain::booking::{self as rules, Slot};
use preau_domain::{FieldError, Principal};
use serde::Deserialize;

use super::{Ctx, LangTitle, flash_key, render, see_other};
use crate::AppState;
use crate::error::PageError;
use crate::session::{Auth, CsrfForm};

type PageResult = Result<Response, PageError>;

/// The schools the caller books for, then those they read, by name.
async fn schools_of(s: &AppState, p: &Principal) -> Result<Vec<(i64, String)>, PageError> {
    let mut list = bookings::schools_where(&s.db, p, |id| p.can_book(id)).await?;
    if list.is_empty() {
        list = bookings::schools_where(&s.db, p, |id| p.readable_schools().contains(id)).await?;
    }
    Ok(list)
}

/// One slot of the grid as the page shows it.
pub struct SlotView {
    pub label: String,
    /// `free`, `booked`, `mine`, `past`, `moving`, `lent`.
    pub state: &'static str,
    pub words: String,
    /// Where it leads: the booking form for a free slot, the booking for a booked one.
    pub href: Option<String>,
}

pub struct ResourceDay {
    pub name: String,
    pub slots: Vec<SlotView>,
}

pub struct DayView {
    pub label: String,
    pub resources: Vec<ResourceDay>,
}

/// Weeks shown at once: this one and the next, so that next Thursday is always in view.
const WEEKS: i64 = 2;

pub struct WeekView {
    pub id: String,
    pub label: String,
    pub days: Vec<DayView>,
}

#[derive(Template)]
#[template(path = "bookings.html")]
struct WeekPage {
    ctx: Ctx,
    schools: Vec<(i64, String)>,
    school_id: i64,
    /// Id, name, shown alone.
    resources: Vec<(i64, String, bool)>,
    only: Option<i64>,
    prev: String,
    next: String,
    weeks: Vec<WeekView>,
    can_manage: bool,
    /// The feed of the one resource shown, for those who book it.
    feed: Option<String>,
    /// The lent class set, said above the grid.
    lent: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct WeekQuery {
    school: Option<i64>,
    bookable: Option<i64>,
    #[serde(default)]
    week: String,
    flash: Option<String>,
}

fn week_href(school: i64, only: Option<i64>, monday: NaiveDate) -> String {
    match only {
        Some(b) => format!("/reservations?school={school}&bookable={b}&week={monday}"),
        None => format!("/reservations?school={school}&week={monday}"),
    }
}

/// The week grid of a school's resources, or of one.
pub async fn week(State(s): State<AppState>, a: Auth, Query(q): Query<WeekQuery>) -> PageResult {
    let p = &a.p;
    let lang = p.lang;
    let now = Utc::now();
    let schools = schools_of(&s, p).await?;
    // A resource given alone: its home school, or the caller's school it is shared with.
    let mut school = q.school;
    if school.is_none()
        && let Some(b) = q.bookable
    {
        let r = bookings::bookable(&s.db, p, b).await?;
        school = Some(
            std::iter::once(r.school_id)
                .chain(r.shared.iter().map(|x| x.0))
                .find(|id| p.can_book(*id))
                .unwrap_or(r.school_id),
        );
    }
    if school.is_none() {
        // The first of the caller's schools that has something to book.
        let offered = bookings::bookables(&s.db, p, None, false).await?;
        school = schools
            .iter()
            .map(|x| x.0)
            .find(|id| offered.iter().any(|b| b.usable_at(*id)));
    }
    let Some(school) = school.or_else(|| schools.first().map(|x| x.0)) else {
        return Err(AppError::Forbidden.into());
    };
    if !p.readable_schools().contains(school) {
        return Err(AppError::NotFound.into());
    }
    let days = bookings::school_days(&s.db, school).await?;
    let monday = if q.week.trim().is_empty() {
        bookings::monday_of(bookings::next_class_day(&days, super::today(), now))
    } else {
        let d = preau_domain::device::date("week", Some(&q.week))
            .map_err(|e| AppError::Invalid(vec![e]))?
            .ok_or_else(|| AppError::Invalid(vec![FieldError::new("week", "required")]))?;
        bookings::monday_of(d)
    };
    let w = bookings::week(&s.db, p, school, monday, WEEKS, q.bookable, now).await?;
    let all = bookings::bookables(&s.db, p, Some(school), false).await?;
    let can_book = p.can_book(school);
    let mut weeks: Vec<WeekView> = Vec::new();
    for d in &w.days {
        let monday = bookings::monday_of(d.day);
        if weeks.last().is_none_or(|x| x.id != monday.to_string()) {
            weeks.push(WeekView {
                id: monday.to_string(),
                label: format!(
                    "{} {}",
                    crate::i18n::t(lang, "booking.week_of"),
                    rules::day_label(monday, lang)
                ),
                days: Vec::new(),
            });
        }
        let view = DayView {
            label: rules::day_label(d.day, lang),
            resources: w
                .resources
                .iter()
                .zip(&d.cells)
                .map(|(r, cells)| ResourceDay {
                    name: resource_name(r, school),
                    slots: cells
                        .iter()
                        .map(|c| slot_view(p, school, r.id, d.day, c, w.halves, can_book))
                        .collect(),
                })
                .collect(),
        };
        if let Some(x) = weeks.last_mut() {
            x.days.push(view);
        }
    }
    let one = q
        .bookable
        .and_then(|b| w.resources.iter().find(|r| r.id == b));
    render(&WeekPage {
        ctx: Ctx::page(&a, p.lang_title("booking.title"), "bookings")
            .flash(flash_key(q.flash.as_deref())),
        school_id: school,
        schools,
        resources: all
            .iter()
            .map(|b| (b.id, resource_name(b, school), q.bookable == Some(b.id)))
            .collect(),
        only: q.bookable,
        prev: week_href(school, q.bookable, w.monday - Duration::days(7)),
        next: week_href(school, q.bookable, w.monday + Duration::days(7)),
        weeks,
        can_manage: p.can_manage_bookables(school),
        feed: one
            .filter(|r| !r.feed_token.is_empty())
            .map(|r| format!("/calendrier/{}.ics", r.feed_token)),
        lent: one.and_then(|r| {
            r.lent.as_ref().map(|(c, since)| {
                format!(
                    "{} {c} ({} {})",
                    crate::i18n::t(lang, "booking.lent_to"),
                    crate::i18n::t(lang, "booking.since"),
                    since.format("%d/%m/%Y")
                )
            })
        }),
    })
}

/// A resource's name, with its home school when it comes from another one.
fn resource_name(r: &bookings::Bookable, school: i64) -> String {
    if r.school_id == school {
        r.name.clone()
    } else {
        format!("{} ({})", r.name, r.school)
    }
}

fn slot_view(
    p: &Principal,
    school: i64,
    bookable: i64,
    day: NaiveDate,
    c: &bookings::Cell,
    halves: bool,
    can_book: bool,
) -> SlotView {
    let lang = p.lang;
    let t = |k| crate::i18n::t(lang, k);
    let label = c.slot.label(lang, halves);
    match &c.state {
        CellState::Free if can_book => SlotView {
            words: t("booking.free").into(),
            href: Some(format!(
                "/reservations/new?bookable={bookable}&school={school}&day={day}&slot={}",
                c.slot.code()
            )),
            label,
            state: "free",
        },
        CellState::Free => SlotView {
            words: t("booking.free").into(),
            href: None,
            label,
            state: "free",
        },
        CellState::Past => SlotView {
            words: t("booking.past").into(),
            href: None,
            label,
            state: "past",
        },
        CellState::Booked(b) => SlotView {
            words: b.holder_seen_from(Some(school)),
            href: Some(format!("/reservations/{}", b.id)),
            label,
            state: if b.booked_by == Some(p.user_id) {
                "mine"
            } else {
                "booked"
            },
        },
        CellState::Moving(other) => SlotView {
            words: format!("{} ({other})", t("booking.moving")),
            href: None,
            label,
            state: "moving",
        },
        CellState::Lent(class) => SlotView {
            words: format!("{} {class}", t("booking.lent_to")),
            href: None,
            label,
            state: "lent",
        },
    }
}

#[derive(Template)]
#[template(path = "booking_new.html")]
struct NewPage {
    ctx: Ctx,
    bookable_id: i64,
    school_id: i64,
    resource: String,
    school: String,
    when: String,
    day: String,
    slot: String,
    /// Id, label, chosen.
    classes: Vec<(i64, String, bool)>,
    note: String,
    repeat: bool,
    repeat_until: String,
    /// The end of the school year, the last day a repeat may run to.
    year_end: String,
    errors: Vec<String>,
    back: String,
}

#[derive(Deserialize, Default, Clone)]
pub struct NewQuery {
    bookable: i64,
    school: Option<i64>,
    #[serde(default)]
    day: String,
    #[serde(default)]
    slot: String,
}

#[derive(Deserialize, Default, Clone)]
pub struct BookForm {
    bookable: i64,
    school: Option<i64>,
    #[serde(default)]
    day: String,
    #[serde(default)]
    slot: String,
    #[serde(default)]
    class_id: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    repeat: Option<String>,
    #[serde(default)]
    repeat_until: String,
}

async fn new_page(s: &AppState, a: &Auth, f: &BookForm, errors: &[FieldError]) -> PageResult {
    let p = &a.p;
    let lang = p.lang;
    let r = bookings::bookable(&s.db, p, f.bookable).await?;
    let school = f.school.unwrap_or(r.school_id);
    if !r.usable_at(school) {
        return Err(AppError::NotFound.into());
    }
    if !p.can_book(school) {
        return Err(AppError::Forbidden.into());
    }
    let days = bookings::school_days(&s.db, school).await?;
    let day = NaiveDate::parse_from_str(f.day.trim(), "%Y-%m-%d").ok();
    let slot = Slot::parse("slot", &f.slot).ok();
    let when = match (day, slot) {
        (Some(d), Some(sl)) => format!(
            "{}, {} ({}–{})",
            rules::day_label(d, lang),
            sl.label(lang, days.halves()),
            sl.start.format("%H:%M"),
            sl.end.format("%H:%M")
        ),
        _ => String::new(),
    };
    let classes = bookings::school_classes(&s.db, school, super::today()).await?;
    let class_id = match f.class_id.trim().parse::<i64>() {
        Ok(c) => Some(c),
        Err(_) if f.class_id.trim() == "none" => None,
        Err(_) => bookings::usual_class(&s.db, p, school, &classes).await?,
    };
    let school_name = schools_of(s, p)
        .await?
        .into_iter()
        .find(|x| x.0 == school)
        .map(|x| x.1)
        .unwrap_or_else(|| r.school.clone());
    let monday = day.map(bookings::monday_of);
    let mut resp = render(&NewPage {
        ctx: Ctx::page(a, p.lang_title("booking.new"), "bookings")
            .crumb("/reservations", p.lang_title("booking.title")),
        bookable_id: r.id,
        school_id: school,
        resource: r.name.clone(),
        school: school_name,
        when,
        day: f.day.clone(),
        slot: f.slot.clone(),
        classes: classes
            .into_iter()
            .map(|(id, label, _)| (id, label, class_id == Some(id)))
            .collect(),
        note: f.note.clone(),
        repeat: f.repeat.is_some(),
        repeat_until: f.repeat_until.clone(),
        year_end: bookings::year_end(&s.db, p, super::today())
            .await?
            .map(|d| d.to_string())
            .unwrap_or_default(),
        errors: errors.iter().map(|e| e.message(lang)).collect(),
        back: match monday {
            Some(m) => week_href(school, Some(r.id), m),
            None => "/reservations".into(),
        },
    })?;
    if let Some(e) = errors.first() {
        *resp.status_mut() = if matches!(e.code, "slot_taken" | "lent_to_class") {
            StatusCode::CONFLICT
        } else {
            StatusCode::UNPROCESSABLE_ENTITY
        };
    }
    Ok(resp)
}

/// The booking form for a slot.
pub async fn new(State(s): State<AppState>, a: Auth, Query(q): Query<NewQuery>) -> PageResult {
    let f = BookForm {
        bookable: q.bookable,
        school: q.school,
        day: q.day,
        slot: q.slot,
        ..BookForm::default()
    };
    new_page(&s, &a, &f, &[]).await
}

/// Books the slot (and its weekly repeat), back to the week.
pub async fn create(
    State(s): State<AppState>,
    a: Auth,
    CsrfForm(f): CsrfForm<BookForm>,
) -> PageResult {
    let p = &a.p;
    let mut errors = Vec::new();
    let day = match preau_domain::device::date("day", Some(&f.day)) {
        Ok(Some(d)) => Some(d),
        Ok(None) => {
            errors.push(FieldError::new("day", "required"));
            None
        }
        Err(e) => {
            errors.push(e);
            None
        }
    };
    let slot = Slot::parse("slot", &f.slot)
        .map_err(|e| errors.push(e))
        .ok();
    let repeat_until = if f.repeat.is_some() {
        match preau_domain::device::date("repeat_until", Some(&f.repeat_until)) {
            Ok(Some(d)) => Some(d),
            Ok(None) => {
                errors.push(FieldError::new("repeat_until", "required"));
                None
            }
            Err(e) => {
                errors.push(e);
                None
            }
        }
    } else {
        None
    };
    let (Some(day), Some(slot), true) = (day, slot, errors.is_empty()) else {
        return new_page(&s, &a, &f, &errors).await;
    };
    let input = BookingInput {
        bookable_id: f.bookable,
        school_id: f.school,
        day,
        slot,
        class_id: f.class_id.trim().parse().ok(),
        note: f.note.clone(),
        repeat_until,
    };
    let result = write_tx!(s.db, tx => bookings::book(tx, p, &input, Utc::now()).await?);
    match result {
        Ok(_) => {
            let school = f.school.unwrap_or_default();
            let back = if school > 0 {
                week_href(school, Some(f.bookable), bookings::monday_of(day))
            } else {
                format!(
                    "/reservations?bookable={}&week={}",
                    f.bookable,
                    bookings::monday_of(day)
                )
            };
            Ok(see_other(&back, "booked"))
        }
        Err(e) => {
            let errors = super::form::form_errors(e)?;
            new_page(&s, &a, &f, &errors).await
        }
    }
}

#[derive(Template)]
#[template(path = "booking.html")]
struct BookingPage {
    ctx: Ctx,
    id: i64,
    resource: String,
    resource_id: i64,
    school: String,
    class: String,
    when: String,
    by: String,
    note: String,
    cancelled: bool,
    repeated: bool,
    can_cancel: bool,
    back: String,
}

/// A booking, and its cancellation.
pub async fn show(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i64>,
    Query(q): Query<super::form::FlashQuery>,
) -> PageResult {
    let p = &a.p;
    let lang = p.lang;
    let b = bookings::booking(&s.db, p, id).await?;
    let days = bookings::school_days(&s.db, b.school_id).await?;
    render(&BookingPage {
        ctx: Ctx::page(
            &a,
            format!("{} — {}", b.resource(), rules::day_label(b.day, lang)),
            "bookings",
        )
        .crumb("/reservations", p.lang_title("booking.title"))
        .flash(flash_key(q.flash())),
        id: b.id,
        resource: b.resource(),
        resource_id: b.bookable_id,
        school: b.school.clone(),
        class: b.class_label.clone().unwrap_or_default(),
        when: bookings::when_words(&b, days.halves(), lang),
        by: b.booked_by_name.clone(),
        note: b.note.clone(),
        cancelled: b.cancelled_at.is_some(),
        repeated: b.repeat_id.is_some(),
        can_cancel: b.cancelled_at.is_none()
            && b.ends_at > Utc::now()
            && bookings::may_cancel(p, &b),
        back: week_href(b.school_id, Some(b.bookable_id), bookings::monday_of(b.day)),
    })
}

#[derive(Deserialize)]
pub struct CancelForm {
    #[serde(default)]
    following: Option<String>,
}

pub async fn cancel(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm<CancelForm>,
) -> PageResult {
    let p = &a.p;
    let b = bookings::booking(&s.db, p, id).await?;
    let following = f.following.as_deref() == Some("on");
    write_tx!(s.db, tx => bookings::cancel(tx, p, id, following, Utc::now()).await?)?;
    Ok(see_other(
        &week_href(b.school_id, Some(b.bookable_id), bookings::monday_of(b.day)),
        "booking_cancelled",
    ))
}

/// A resource as the management page lists it.
pub struct ResourceLine {
    pub id: i64,
    pub name: String,
    pub kind: String,
    pub shared: String,
    pub move_minutes: i64,
    pub active: bool,
    pub feed: String,
    pub lent: String,
}

#[derive(Template)]
#[template(path = "bookables.html")]
struct ManagePage {
    ctx: Ctx,
    schools: Vec<(i64, String)>,
    school_id: i64,
    lines: Vec<ResourceLine>,
    candidates: Vec<(String, String)>,
    others: Vec<(i64, String)>,
    is_admin: bool,
    slots: String,
    hourly: String,
    halves: String,
    errors: Vec<String>,
}

#[derive(Deserialize)]
pub struct ManageQuery {
    school: Option<i64>,
    flash: Option<String>,
}

async fn manage_page(
    s: &AppState,
    a: &Auth,
    school: Option<i64>,
    flash: Option<&str>,
    errors: &[FieldError],
) -> PageResult {
    let p = &a.p;
    let lang = p.lang;
    let schools: Vec<(i64, String)> = schools_of(s, p)
        .await?
        .into_iter()
        .filter(|(id, _)| p.can_manage_bookables(*id))
        .collect();
    let Some(school) = school.or_else(|| schools.first().map(|x| x.0)) else {
        return Err(AppError::Forbidden.into());
    };
    let candidates = bookings::candidates(&s.db, p, school).await?;
    let list = bookings::bookables(&s.db, p, Some(school), true).await?;
    let days = bookings::school_days(&s.db, school).await?;
    let cat = |b: &bookings::Bookable| {
        let label = match lang {
            preau_domain::Lang::Fr => b.kind_fr.clone(),
            preau_domain::Lang::En => b.kind_en.clone(),
        };
        label.unwrap_or_else(|| crate::i18n::t(lang, "booking.kind_room").to_string())
    };
    let ranges = days.cal.hours.ranges(bookings::monday_of(super::today()));
    let mut resp = render(&ManagePage {
        ctx: Ctx::page(a, p.lang_title("booking.resources"), "bookings")
            .crumb("/reservations", p.lang_title("booking.title"))
            .flash(flash_key(flash)),
        others: if p.is_admin() {
            schools.iter().filter(|x| x.0 != school).cloned().collect()
        } else {
            Vec::new()
        },
        school_id: school,
        schools,
        lines: list
            .iter()
            .filter(|b| b.school_id == school)
            .map(|b| ResourceLine {
                id: b.id,
                name: b.name.clone(),
                kind: cat(b),
                shared: b
                    .shared
                    .iter()
                    .map(|x| x.1.clone())
                    .collect::<Vec<_>>()
                    .join(", "),
                move_minutes: b.move_minutes,
                active: b.active,
                feed: if b.feed_token.is_empty() {
                    String::new()
                } else {
                    format!("/calendrier/{}.ics", b.feed_token)
                },
                lent: b.lent.as_ref().map(|(c, _)| c.clone()).unwrap_or_default(),
            })
            .collect(),
        candidates: candidates
            .into_iter()
            .map(|(d, r, label)| match (d, r) {
                (Some(d), _) => (format!("d{d}"), label),
                (_, Some(r)) => (format!("r{r}"), label),
                _ => (String::new(), label),
            })
            .collect(),
        is_admin: p.is_admin(),
        slots: rules::slots_code(&days.own),
        hourly: rules::slots_code(&rules::hourly(ranges)),
        halves: ranges
            .iter()
            .map(|(a, b)| format!("{}-{}", a.format("%H:%M"), b.format("%H:%M")))
            .collect::<Vec<_>>()
            .join(", "),
        errors: errors
            .iter()
            .map(|e| format!("{} : {}", e.field, e.message(lang)))
            .collect(),
    })?;
    if !errors.is_empty() {
        *resp.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(resp)
}

/// The resources a school makes bookable, and its slots.
pub async fn manage(
    State(s): State<AppState>,
    a: Auth,
    Query(q): Query<ManageQuery>,
) -> PageResult {
    manage_page(&s, &a, q.school, q.flash.as_deref(), &[]).await
}

/// Makes a device or a room bookable (`what`: `d<id>` or `r<id>`).
pub async fn bookable_create(
    State(s): State<AppState>,
    a: Auth,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    let p = &a.p;
    let get = |k: &str| {
        pairs
            .iter()
            .find(|(x, _)| x == k)
            .map(|(_, v)| v.trim().to_string())
            .unwrap_or_default()
    };
    let school: Option<i64> = get("school").parse().ok();
    let what = get("what");
    let mut input = BookableInput {
        name: get("name"),
        move_minutes: get("move_minutes").parse().unwrap_or(0),
        shared: pairs
            .iter()
            .filter(|(k, _)| k == "shared")
            .filter_map(|(_, v)| v.parse().ok())
            .collect(),
        ..BookableInput::default()
    };
    match what.split_at_checked(1) {
        Some(("d", id)) => input.device_id = id.parse().ok(),
        Some(("r", id)) => input.room_id = id.parse().ok(),
        _ => {}
    }
    let result = write_tx!(s.db, tx => bookings::create_bookable(tx, p, &input, Utc::now()).await?);
    match result {
        Ok(_) => Ok(see_other(
            &format!(
                "/reservations/ressources?school={}",
                school.unwrap_or_default()
            ),
            "created",
        )),
        Err(e) => {
            let errors = super::form::form_errors(e)?;
            manage_page(&s, &a, school, None, &errors).await
        }
    }
}

#[derive(Deserialize)]
pub struct SlotsForm {
    school: i64,
    #[serde(default)]
    mode: String,
    #[serde(default)]
    slots: String,
}

/// A school's slots: the halves of the day, hourly, or its own.
pub async fn slots(
    State(s): State<AppState>,
    a: Auth,
    CsrfForm(f): CsrfForm<SlotsForm>,
) -> PageResult {
    let p = &a.p;
    let text = match f.mode.as_str() {
        "halves" => String::new(),
        "hourly" => {
            let days = bookings::school_days(&s.db, f.school).await?;
            let monday = bookings::monday_of(super::today());
            rules::slots_code(&rules::hourly(days.cal.hours.ranges(monday)))
        }
        _ => f.slots.clone(),
    };
    let result =
        write_tx!(s.db, tx => bookings::set_slots(tx, p, f.school, &text, Utc::now()).await?);
    match result {
        Ok(_) => Ok(see_other(
            &format!("/reservations/ressources?school={}", f.school),
            "saved",
        )),
        Err(e) => {
            let errors = super::form::form_errors(e)?;
            manage_page(&s, &a, Some(f.school), None, &errors).await
        }
    }
}

#[derive(Template)]
#[template(path = "bookable_edit.html")]
struct EditPage {
    ctx: Ctx,
    id: i64,
    name: String,
    move_minutes: i64,
    active: bool,
    version: i64,
    is_admin: bool,
    others: Vec<(i64, String, bool)>,
    feed: String,
    errors: Vec<String>,
    back: String,
}

async fn edit_page(s: &AppState, a: &Auth, id: i64, errors: &[FieldError]) -> PageResult {
    let p = &a.p;
    let r = bookings::bookable(&s.db, p, id).await?;
    if !p.can_manage_bookables(r.school_id) {
        return Err(AppError::Forbidden.into());
    }
    let others = if p.is_admin() {
        bookings::schools_where(&s.db, p, |id| p.readable_schools().contains(id))
            .await?
            .into_iter()
            .filter(|x| x.0 != r.school_id)
            .map(|(sid, n)| (sid, n, r.shared.iter().any(|x| x.0 == sid)))
            .collect()
    } else {
        Vec::new()
    };
    let mut resp = render(&EditPage {
        ctx: Ctx::page(a, r.name.clone(), "bookings")
            .crumb("/reservations", p.lang_title("booking.title"))
            .crumb(
                format!("/reservations/ressources?school={}", r.school_id),
                p.lang_title("booking.resources"),
            ),
        id: r.id,
        name: r.name.clone(),
        move_minutes: r.move_minutes,
        active: r.active,
        version: r.version,
        is_admin: p.is_admin(),
        others,
        feed: if r.feed_token.is_empty() {
            String::new()
        } else {
            format!("/calendrier/{}.ics", r.feed_token)
        },
        errors: errors
            .iter()
            .map(|e| format!("{} : {}", e.field, e.message(p.lang)))
            .collect(),
        back: format!("/reservations/ressources?school={}", r.school_id),
    })?;
    if !errors.is_empty() {
        *resp.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(resp)
}

pub async fn edit(State(s): State<AppState>, a: Auth, Path(id): Path<i64>) -> PageResult {
    edit_page(&s, &a, id, &[]).await
}

pub async fn update(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i64>,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    let p = &a.p;
    let get = |k: &str| {
        pairs
            .iter()
            .find(|(x, _)| x == k)
            .map(|(_, v)| v.trim().to_string())
    };
    let ch = BookableChange {
        name: get("name").unwrap_or_default(),
        move_minutes: get("move_minutes")
            .and_then(|v| v.parse().ok())
            .unwrap_or(-1),
        shared: p.is_admin().then(|| {
            pairs
                .iter()
                .filter(|(k, _)| k == "shared")
                .filter_map(|(_, v)| v.parse().ok())
                .collect()
        }),
        active: get("active").is_some(),
        renew_feed: get("renew_feed").is_some(),
    };
    let version: i64 = get("version").and_then(|v| v.parse().ok()).unwrap_or(0);
    let result = write_tx!(s.db, tx => bookings::update_bookable(tx, p, id, version, &ch, Utc::now()).await?);
    match result {
        Ok(()) => {
            let r = bookings::bookable(&s.db, p, id).await?;
            Ok(see_other(
                &format!("/reservations/ressources?school={}", r.school_id),
                "saved",
            ))
        }
        Err(e) => {
            let errors = super::form::form_errors(e)?;
            edit_page(&s, &a, id, &errors).await
        }
    }
}

/// A resource's bookings as an iCalendar feed, by the secret in its address (calendar
/// applications do not sign in). An unknown secret answers 404.
pub async fn feed(State(s): State<AppState>, Path(file): Path<String>) -> Response {
    let token = file.strip_suffix(".ics").unwrap_or(&file);
    match bookings::feed(&s.db, token, Utc::now()).await {
        Ok(Some(text)) => {
            let mut resp = text.into_response();
            resp.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/calendar; charset=utf-8"),
            );
            resp.headers_mut().insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static("private, max-age=300"),
            );
            resp
        }
        Ok(None) => StatusCode::NOT_FOUND.into_response(),
        Err(e) => PageError::from(e).into_response(),
    }
}

/// What the home page offers a person who books: the resources of their first school and
/// their next bookings.
pub struct HomeBookings {
    pub resources: Vec<(i64, String, String)>,
    pub mine: Vec<(i64, String)>,
}

pub async fn home(s: &AppState, p: &Principal) -> Result<Option<HomeBookings>, PageError> {
    let Some(school) = schools_of(s, p)
        .await?
        .into_iter()
        .map(|x| x.0)
        .find(|id| p.can_book(*id) && !p.is_admin())
    else {
        return Ok(None);
    };
    let list = bookings::bookables(&s.db, p, Some(school), false).await?;
    if list.is_empty() {
        return Ok(None);
    }
    let lang = p.lang;
    let f = bookings::BookingFilter {
        from: Some(Utc::now()),
        mine: true,
        ..bookings::BookingFilter::default()
    };
    let mine = bookings::bookings(&s.db, p, &f, 0, 5).await?;
    let days = bookings::school_days(&s.db, school).await?;
    Ok(Some(HomeBookings {
        resources: list
            .iter()
            .map(|b| {
                let note = match &b.lent {
                    Some((c, _)) => format!("{} {c}", crate::i18n::t(lang, "booking.lent_to")),
                    None => String::new(),
                };
                (b.id, resource_name(b, school), note)
            })
            .collect(),
        mine: mine
            .iter()
            .take(5)
            .map(|b| {
                (
                    b.id,
                    format!(
                        "{} — {}",
                        b.resource(),
                        bookings::when_words(b, days.halves(), lang)
                    ),
                )
            })
            .collect(),
    }))
}

#[derive(Template)]
#[template(path = "bookings_mine.html")]
struct MinePage {
    ctx: Ctx,
    /// Booking, when, resource, school, class.
    lines: Vec<(i64, String, String, String, String)>,
    prev: Option<String>,
    next: Option<String>,
}

#[derive(Deserialize)]
pub struct MineQuery {
    #[serde(default)]
    page: i64,
}

/// The caller's bookings to come, 50 a page.
pub async fn mine(State(s): State<AppState>, a: Auth, Query(q): Query<MineQuery>) -> PageResult {
    const PAGE: i64 = 50;
    let p = &a.p;
    if p.readable_schools().is_empty() {
        return Err(AppError::Forbidden.into());
    }
    let page = q.page.clamp(0, 1000);
    let f = bookings::BookingFilter {
        from: Some(Utc::now()),
        mine: true,
        ..bookings::BookingFilter::default()
    };
    let mut list = bookings::bookings(&s.db, p, &f, page * PAGE, PAGE).await?;
    let more = preau_core::db::more_than(&mut list, PAGE);
    let mut halves = std::collections::HashMap::new();
    let mut lines = Vec::with_capacity(list.len());
    for b in &list {
        if let std::collections::hash_map::Entry::Vacant(e) = halves.entry(b.school_id) {
            e.insert(bookings::school_days(&s.db, b.school_id).await?.halves());
        }
        let h = halves.get(&b.school_id).copied().unwrap_or(true);
        lines.push((
            b.id,
            bookings::when_words(b, h, p.lang),
            b.resource(),
            b.school.clone(),
            b.class_label.clone().unwrap_or_default(),
        ));
    }
    render(&MinePage {
        ctx: Ctx::page(&a, p.lang_title("booking.mine"), "bookings")
            .crumb("/reservations", p.lang_title("booking.title")),
        lines,
        prev: (page > 0).then(|| format!("/reservations/mine?page={}", page - 1)),
        next: more.then(|| format!("/reservations/mine?page={}", page + 1)),
    })
}
