//! Pages of the organisation: home, schools, rooms, classes.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use preau_core::classes::ClassInput;
use preau_core::rooms::RoomInput;
use preau_core::schools::{SchoolFilter, SchoolInput, SchoolSort};
use preau_core::write_tx;
use preau_core::{AppError, classes, import, rooms, schools, years};
use preau_domain::org::{HolidayZone, RoomKind, SchoolKind, SchoolStatus, SchoolWeek};
use preau_domain::{Lang, Principal, Role};
use serde::Deserialize;

use super::{
    Column, Ctx, Empty, Field, FlashQuery, FormSpec, LangTitle, Versioned, flash_key, form_errors,
    options, render, save, see_other,
};
use crate::AppState;
use crate::error::PageError;
use crate::session::{Auth, CsrfForm};

type PageResult = Result<Response, PageError>;

pub struct SchoolRow {
    id: i64,
    name: String,
    uai: String,
    kind_label: &'static str,
    city: String,
    zone: &'static str,
    status: String,
    room_count: i64,
}

#[derive(Template)]
#[template(path = "schools.html")]
struct SchoolsPage {
    ctx: Ctx,
    q: String,
    kind: String,
    kinds: Vec<(String, String)>,
    sort: String,
    dir: String,
    columns: Vec<Column>,
    rows: Vec<SchoolRow>,
    total: i64,
    page: i64,
    pages: i64,
    prev: Option<String>,
    next: Option<String>,
    can_create: bool,
}

#[derive(Deserialize, Default)]
pub struct SchoolsQuery {
    q: Option<String>,
    kind: Option<String>,
    sort: Option<String>,
    dir: Option<String>,
    page: Option<i64>,
    flash: Option<String>,
}

const PAGE_SIZE: i64 = 25;

pub async fn schools(
    State(s): State<AppState>,
    a: Auth,
    Query(q): Query<SchoolsQuery>,
) -> PageResult {
    let p = &a.p;
    let lang = p.lang;
    let sort = q
        .sort
        .as_deref()
        .and_then(SchoolSort::parse)
        .unwrap_or_default();
    let desc = q.dir.as_deref() == Some("desc");
    let kind = q
        .kind
        .as_deref()
        .filter(|k| !k.is_empty())
        .and_then(|k| SchoolKind::parse("kind", k).ok());
    let page = q.page.unwrap_or(1).max(1);
    let filter = SchoolFilter {
        q: q.q.clone(),
        uai: None,
        kind,
        status: None,
        sort,
        descending: desc,
    };
    let result = schools::list(&s.db, p, &filter, (page - 1) * PAGE_SIZE, PAGE_SIZE).await?;
    let pages = ((result.total + PAGE_SIZE - 1) / PAGE_SIZE).max(1);
    let base = |sort: &str, dir: &str, page: i64| {
        format!(
            "/schools?q={}&kind={}&sort={sort}&dir={dir}&page={page}",
            crate::session::url_encode(q.q.as_deref().unwrap_or("")),
            kind.map(|k| k.code()).unwrap_or("")
        )
    };
    let col = |key: &str, code: Option<SchoolSort>| {
        let label = crate::i18n::t(lang, key);
        match code {
            None => Column {
                label,
                href: None,
                aria_sort: None,
            },
            Some(c) => {
                let current = c == sort;
                let next_dir = if current && !desc { "desc" } else { "asc" };
                Column {
                    label,
                    href: Some(base(c.code(), next_dir, 1)),
                    aria_sort: current.then_some(if desc { "descending" } else { "ascending" }),
                }
            }
        }
    };
    let columns = vec![
        col("field.name", Some(SchoolSort::Name)),
        col("field.uai", Some(SchoolSort::Uai)),
        col("field.kind", Some(SchoolSort::Kind)),
        col("field.city", Some(SchoolSort::City)),
        col("field.zone", None),
        col("field.rooms", None),
    ];
    let dir = if desc { "desc" } else { "asc" };
    let rows = result
        .items
        .into_iter()
        .map(|r| SchoolRow {
            id: r.id,
            kind_label: SchoolKind::from_db(&r.kind).label(lang),
            zone: HolidayZone::from_db(&r.holiday_zone).label(lang),
            city: r.city.unwrap_or_default(),
            name: r.name,
            uai: r.uai,
            status: r.status,
            room_count: r.room_count,
        })
        .collect();
    let page_view = SchoolsPage {
        ctx: Ctx::page(&a, p.lang_title("schools.title"), "schools")
            .flash(flash_key(q.flash.as_deref())),
        q: q.q.clone().unwrap_or_default(),
        kind: kind.map(|k| k.code().to_string()).unwrap_or_default(),
        kinds: options(SchoolKind::ALL, SchoolKind::code, |k| k.label(lang)),
        sort: sort.code().into(),
        dir: dir.into(),
        columns,
        rows,
        total: result.total,
        page,
        pages,
        prev: (page > 1).then(|| base(sort.code(), dir, page - 1)),
        next: result.next_offset.map(|_| base(sort.code(), dir, page + 1)),
        can_create: p.can_manage_collectivite(),
    };
    render(&page_view)
}

pub async fn schools_export(State(s): State<AppState>, a: Auth) -> PageResult {
    let csv = import::export_schools(&s.db, &a.p).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"ecoles.csv\"",
            ),
        ],
        csv,
    )
        .into_response())
}

#[derive(Template)]
#[template(path = "school.html")]
struct SchoolPage {
    ctx: Ctx,
    school: schools::School,
    kind: &'static str,
    zone: &'static str,
    status: &'static str,
    rooms: Vec<(rooms::Room, &'static str)>,
    classes: Vec<classes::Class>,
    year: Option<String>,
    people: Vec<(String, &'static str)>,
    show_people: bool,
    can_see_pupils: bool,
    can_edit: bool,
    can_edit_rooms: bool,
    can_edit_classes: bool,
    /// The directeur (or the administrator) invites the school's teachers.
    can_invite: bool,
    device_count: i64,
    ip_ranges: String,
    ip_error: Option<String>,
    week: &'static str,
    visits: Vec<(String, super::parts::visits::VisitView)>,
    open_tickets: Option<i64>,
    can_report: bool,
    /// Whether the caller reads the school's inside (classes, people), not only its card.
    inside: bool,
    access: String,
    can_write_access: bool,
    access_error: Option<String>,
    /// The heads to call: (name, address).
    contacts: Vec<(String, Option<String>)>,
}

pub async fn school(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i64>,
    Query(q): Query<FlashQuery>,
) -> PageResult {
    school_page(&s, &a, id, q.flash(), None).await
}

#[derive(Deserialize)]
pub struct AccessForm {
    #[serde(default)]
    access_notes: String,
}

/// How to get into the school, from its page.
pub async fn school_access(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm<AccessForm>,
) -> PageResult {
    match write_tx!(s.db, tx => schools::set_access_notes(tx, &a.p, id, &f.access_notes, Utc::now()).await?)
    {
        Ok(_) => Ok(see_other(&format!("/schools/{id}"), "saved")),
        Err(e) => {
            let errs = form_errors(e)?;
            let msg = super::messages(&errs, a.p.lang);
            let mut r =
                school_page_with(&s, &a, id, None, None, Some((msg, f.access_notes))).await?;
            *r.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
            Ok(r)
        }
    }
}

#[derive(Deserialize)]
pub struct NetworksForm {
    ip_ranges: String,
}

/// The school's address ranges, from its page.
pub async fn school_networks(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm<NetworksForm>,
) -> PageResult {
    match write_tx!(s.db, tx => schools::set_ip_ranges(tx, &a.p, id, &f.ip_ranges, Utc::now()).await?)
    {
        Ok(_) => Ok(see_other(&format!("/schools/{id}"), "saved")),
        Err(e) => {
            let errs = form_errors(e)?;
            let msg = super::messages(&errs, a.p.lang);
            let mut r = school_page(&s, &a, id, None, Some((msg, f.ip_ranges))).await?;
            *r.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
            Ok(r)
        }
    }
}

async fn school_page(
    s: &AppState,
    a: &Auth,
    id: i64,
    flash: Option<&str>,
    ip_error: Option<(String, String)>,
) -> PageResult {
    school_page_with(s, a, id, flash, ip_error, None).await
}

async fn school_page_with(
    s: &AppState,
    a: &Auth,
    id: i64,
    flash: Option<&str>,
    ip_error: Option<(String, String)>,
    access_error: Option<(String, String)>,
) -> PageResult {
    let p = &a.p;
    let lang = p.lang;
    // A contractor looks up the schools of its perimeter: their card, access and rooms.
    let school = schools::look_up(&s.db, p, id).await?;
    let inside = p.readable_schools().contains(id);
    let today = super::today();
    let year = years::current(&s.db, p, today).await?;
    let room_list = rooms::list_for_school(&s.db, p, id).await?;
    let class_list = match &year {
        Some(y) if inside => classes::list_for_school(&s.db, p, id, Some(y.id)).await?,
        _ => Vec::new(),
    };
    let people = preau_core::users::people_of_school(&s.db, p, id).await?;
    let device_count = preau_core::inventory::devices::list(
        &s.db,
        p,
        &preau_core::inventory::devices::DeviceFilter {
            school_id: Some(id),
            ..Default::default()
        },
        Utc::now(),
        0,
        1,
    )
    .await?
    .total;
    let (ip_error, ip_ranges) = match ip_error {
        Some((e, v)) => (Some(e), v),
        None if p.can_edit_rooms(id) => (None, schools::ip_ranges(&s.db, p, id).await?),
        None => (None, String::new()),
    };
    let (access_error, access) = match access_error {
        Some((e, v)) => (Some(e), v),
        None => (None, schools::access_notes(&s.db, p, id).await?),
    };
    let visits = super::parts::visits::for_school(s, a, id).await?;
    let open_tickets = if p.can_use_tickets() {
        let f = preau_core::tickets::TicketFilter {
            school_id: Some(id),
            ..Default::default()
        };
        Some(preau_core::tickets::count(&s.db, p, &f).await?)
    } else {
        None
    };
    let page = SchoolPage {
        week: SchoolWeek::from_db(&school.week).label(lang),
        visits,
        open_tickets,
        can_report: p.can_report(id),
        inside,
        access,
        access_error,
        can_write_access: schools::can_write_access(p, id),
        contacts: preau_core::users::school_contacts(&s.db, p, id).await?,
        ctx: Ctx::page(a, school.name.clone(), "schools")
            .crumb("/schools", crate::i18n::t(lang, "nav.schools"))
            .flash(flash_key(flash)),
        device_count,
        ip_ranges,
        ip_error,
        kind: SchoolKind::from_db(&school.kind).label(lang),
        zone: HolidayZone::from_db(&school.holiday_zone).label(lang),
        status: SchoolStatus::from_db(&school.status).label(lang),
        rooms: room_list
            .into_iter()
            .map(|r| {
                let k = RoomKind::from_db(&r.kind).label(lang);
                (r, k)
            })
            .collect(),
        classes: class_list,
        year: year.map(|y| y.label),
        people: people
            .into_iter()
            .map(|x| (x.display_name, Role::from_db(&x.role).label(lang)))
            .collect(),
        show_people: p.can_see_people(id),
        can_see_pupils: p.can_see_pupils(id),
        can_edit: p.can_manage_collectivite(),
        can_edit_rooms: p.can_edit_rooms(id),
        can_edit_classes: p.can_edit_classes(id),
        can_invite: p.can_invite_teachers(id),
        school,
    };
    render(&page)
}

fn school_fields(lang: Lang, v: &SchoolInput) -> Vec<Field> {
    let t = |k| crate::i18n::t(lang, k);
    vec![
        Field::text("uai", t("field.uai"), v.uai.clone())
            .required()
            .hint("0781234X"),
        Field::text("name", t("field.name"), v.name.clone()).required(),
        Field::select(
            "kind",
            t("field.kind"),
            v.kind.clone(),
            options(SchoolKind::ALL, SchoolKind::code, |k| k.label(lang)),
        )
        .required(),
        Field::text(
            "address",
            t("field.address"),
            v.address.clone().unwrap_or_default(),
        )
        .autocomplete("street-address"),
        Field::text(
            "postal_code",
            t("field.postal_code"),
            v.postal_code.clone().unwrap_or_default(),
        )
        .autocomplete("postal-code"),
        Field::text("city", t("field.city"), v.city.clone().unwrap_or_default())
            .autocomplete("address-level2"),
        Field::select(
            "holiday_zone",
            t("field.zone"),
            v.holiday_zone.clone().unwrap_or_else(|| "C".into()),
            options(HolidayZone::ALL, HolidayZone::code, |k| k.label(lang)),
        )
        .required(),
        Field::select(
            "status",
            t("field.status"),
            v.status.clone().unwrap_or_else(|| "active".into()),
            options(SchoolStatus::ALL, SchoolStatus::code, |k| k.label(lang)),
        )
        .required(),
        Field::select(
            "week",
            t("field.week"),
            v.week.clone().unwrap_or_else(|| "4".into()),
            options(SchoolWeek::ALL, SchoolWeek::code, |k| k.label(lang)),
        )
        .required(),
    ]
}

pub async fn school_new(a: Auth) -> PageResult {
    let p = &a.p;
    if !p.can_manage_collectivite() {
        return Err(AppError::Forbidden.into());
    }
    FormSpec::new("school.new_title", "/schools", "/schools")
        .crumb("/schools", p.lang_title("nav.schools"))
        .show(&a, school_fields(p.lang, &SchoolInput::default()), &[])
}

pub async fn school_create(
    State(s): State<AppState>,
    a: Auth,
    CsrfForm(f): CsrfForm<Versioned<SchoolInput>>,
) -> PageResult {
    let p = &a.p;
    if !p.can_manage_collectivite() {
        return Err(AppError::Forbidden.into());
    }
    save(
        &a,
        write_tx!(s.db, tx => schools::create(tx, p, &f.input.parse()?, Utc::now()).await?),
        |school| format!("/schools/{}", school.id),
        FormSpec::new("school.new_title", "/schools", "/schools"),
        school_fields(p.lang, &f.input),
    )
}

pub async fn school_edit(State(s): State<AppState>, a: Auth, Path(id): Path<i64>) -> PageResult {
    let p = &a.p;
    let school = schools::get(&s.db, p, id).await?;
    if !p.can_manage_collectivite() {
        return Err(AppError::Forbidden.into());
    }
    FormSpec::edit(
        "school.edit_title",
        format!("/schools/{id}"),
        school.version,
    )
    .crumb(format!("/schools/{id}"), school.name.clone())
    .show(&a, school_fields(p.lang, &school.to_input()), &[])
}

pub async fn school_update(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm<Versioned<SchoolInput>>,
) -> PageResult {
    let p = &a.p;
    schools::get(&s.db, p, id).await?;
    if !p.can_manage_collectivite() {
        return Err(AppError::Forbidden.into());
    }
    let version = f.version.unwrap_or(0);
    save(
        &a,
        write_tx!(s.db, tx => schools::update(tx, p, id, version, &f.input.parse()?, Utc::now()).await?),
        |_| format!("/schools/{id}"),
        FormSpec::edit("school.edit_title", format!("/schools/{id}"), version),
        school_fields(p.lang, &f.input),
    )
}

#[derive(Template)]
#[template(path = "room.html")]
struct RoomPage {
    ctx: Ctx,
    room: rooms::Room,
    school: schools::School,
    kind: &'static str,
    classes: Vec<classes::Class>,
    can_edit: bool,
    can_add_device: bool,
    can_report: bool,
    equipment: Vec<super::parts::devices::DeviceRow>,
    /// The room's next visio sessions (two weeks), whether it is ready and what it lacks.
    visio: Option<RoomVisio>,
}

pub struct RoomVisio {
    ready: bool,
    missing: String,
    next: Vec<(i64, String)>,
}

/// The visio sessions of the next two weeks in a room, and its readiness for the first.
async fn room_visio(
    s: &AppState,
    p: &preau_domain::Principal,
    room: &rooms::Room,
) -> Result<Option<RoomVisio>, PageError> {
    use preau_core::visio::{self, SessionFilter};
    if p.visio_reach().is_empty() {
        return Ok(None);
    }
    let now = chrono::Utc::now();
    let f = SessionFilter {
        school: Some(room.school_id),
        from: Some(now),
        to: Some(now + chrono::Duration::days(14)),
        status: Some(preau_domain::visio::SessionStatus::Prevue),
        ..SessionFilter::default()
    };
    let list: Vec<visio::Session> = visio::sessions(&s.db, p, &f, 0, 500)
        .await?
        .into_iter()
        .filter(|x| x.room_id == room.id)
        .collect();
    let Some(first) = list.first() else {
        return Ok(None);
    };
    let ready = visio::session_readiness(&s.db, &[first.into()]).await?;
    let r = ready.get(&first.id).cloned().unwrap_or_default();
    Ok(Some(RoomVisio {
        ready: r.ready,
        missing: r.missing_words(p.lang),
        next: list
            .iter()
            .take(3)
            .map(|x| {
                (
                    x.id,
                    format!("{} — {}", super::paris(x.starts_at), x.class_label),
                )
            })
            .collect(),
    }))
}

pub async fn room(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i64>,
    Query(q): Query<FlashQuery>,
) -> PageResult {
    let p = &a.p;
    let room = rooms::get(&s.db, p, id).await?;
    let school = schools::look_up(&s.db, p, room.school_id).await?;
    let class_list = classes::list_for_room(&s.db, p, id).await?;
    let cats = preau_core::inventory::categories::list(&s.db, p).await?;
    let today = super::today();
    let equipment = preau_core::inventory::devices::in_room(&s.db, p, id)
        .await?
        .iter()
        .map(|d| super::parts::devices::row(d, &cats, p.lang, today))
        .collect();
    let page = RoomPage {
        ctx: Ctx::page(&a, room.name.clone(), "schools")
            .crumb("/schools", p.lang_title("nav.schools"))
            .crumb(format!("/schools/{}", school.id), school.name.clone())
            .flash(flash_key(q.flash())),
        kind: RoomKind::from_db(&room.kind).label(p.lang),
        classes: class_list,
        can_edit: p.can_edit_rooms(room.school_id),
        can_add_device: p.can_edit_devices(Some(room.school_id)),
        can_report: p.can_report(room.school_id),
        equipment,
        visio: room_visio(&s, p, &room).await?,
        room,
        school,
    };
    render(&page)
}

fn room_fields(lang: Lang, v: &RoomInput) -> Vec<Field> {
    let t = |k| crate::i18n::t(lang, k);
    vec![
        Field::text("name", t("field.name"), v.name.clone()).required(),
        Field::select(
            "kind",
            t("field.kind"),
            if v.kind.is_empty() {
                "classe".into()
            } else {
                v.kind.clone()
            },
            options(RoomKind::ALL, RoomKind::code, |k| k.label(lang)),
        )
        .required(),
        Field::text(
            "building",
            t("field.building"),
            v.building.clone().unwrap_or_default(),
        ),
        Field::text(
            "floor",
            t("field.floor"),
            v.floor.clone().unwrap_or_default(),
        ),
    ]
}

pub async fn room_new(
    State(s): State<AppState>,
    a: Auth,
    Path(school_id): Path<i64>,
) -> PageResult {
    let p = &a.p;
    let school = schools::get(&s.db, p, school_id).await?;
    if !p.can_edit_rooms(school_id) {
        return Err(AppError::Forbidden.into());
    }
    let back = format!("/schools/{school_id}");
    FormSpec::new("room.new_title", format!("{back}/rooms/new"), back.clone())
        .crumb(back, school.name)
        .show(&a, room_fields(p.lang, &RoomInput::default()), &[])
}

pub async fn room_create(
    State(s): State<AppState>,
    a: Auth,
    Path(school_id): Path<i64>,
    CsrfForm(f): CsrfForm<Versioned<RoomInput>>,
) -> PageResult {
    let p = &a.p;
    schools::get(&s.db, p, school_id).await?;
    if !p.can_edit_rooms(school_id) {
        return Err(AppError::Forbidden.into());
    }
    let back = format!("/schools/{school_id}");
    save(
        &a,
        write_tx!(s.db, tx => rooms::create(tx, p, school_id, &f.input.parse()?, Utc::now()).await?),
        |room| format!("/rooms/{}", room.id),
        FormSpec::new("room.new_title", format!("{back}/rooms/new"), back.clone()),
        room_fields(p.lang, &f.input),
    )
}

pub async fn room_edit(State(s): State<AppState>, a: Auth, Path(id): Path<i64>) -> PageResult {
    let p = &a.p;
    let room = rooms::get(&s.db, p, id).await?;
    if !p.can_edit_rooms(room.school_id) {
        return Err(AppError::Forbidden.into());
    }
    FormSpec::edit("room.edit_title", format!("/rooms/{id}"), room.version)
        .crumb(format!("/rooms/{id}"), room.name.clone())
        .show(&a, room_fields(p.lang, &room.to_input()), &[])
}

pub async fn room_update(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm<Versioned<RoomInput>>,
) -> PageResult {
    let p = &a.p;
    let room = rooms::get(&s.db, p, id).await?;
    if !p.can_edit_rooms(room.school_id) {
        return Err(AppError::Forbidden.into());
    }
    let version = f.version.unwrap_or(0);
    save(
        &a,
        write_tx!(s.db, tx => rooms::update(tx, p, id, version, &f.input.parse()?, Utc::now()).await?),
        |_| format!("/rooms/{id}"),
        FormSpec::edit("room.edit_title", format!("/rooms/{id}"), version),
        room_fields(p.lang, &f.input),
    )
}

pub async fn room_delete(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<Empty>,
) -> PageResult {
    let p = &a.p;
    let room = rooms::get(&s.db, p, id).await?;
    write_tx!(s.db, tx => rooms::delete(tx, p, id, Utc::now()).await?)?;
    Ok(see_other(
        &format!("/schools/{}", room.school_id),
        "deleted",
    ))
}

#[derive(Template)]
#[template(path = "class.html")]
struct ClassPage {
    ctx: Ctx,
    class: classes::Class,
    school: schools::School,
    year: String,
    can_edit: bool,
    pupils: Option<Vec<super::parts::pupils::PupilView>>,
    can_lend: bool,
    can_import: bool,
}

pub async fn class(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i64>,
    Query(q): Query<FlashQuery>,
) -> PageResult {
    let p = &a.p;
    let class = classes::get(&s.db, p, id).await?;
    let school = schools::get(&s.db, p, class.school_id).await?;
    let year = years::get(&s.db, p, class.school_year_id).await?;
    let pupils = super::parts::pupils::for_class_page(&s, p, &class).await?;
    let page = ClassPage {
        pupils,
        can_lend: p.can_manage_loans(class.school_id),
        can_import: p.can_edit_classes(class.school_id),
        ctx: Ctx::page(&a, class.label.clone(), "schools")
            .crumb("/schools", p.lang_title("nav.schools"))
            .crumb(format!("/schools/{}", school.id), school.name.clone())
            .flash(flash_key(q.flash())),
        can_edit: p.can_edit_classes(class.school_id),
        year: year.label,
        class,
        school,
    };
    render(&page)
}

async fn class_fields(
    s: &AppState,
    p: &Principal,
    school_id: i64,
    v: &ClassInput,
) -> Result<Vec<Field>, PageError> {
    let lang = p.lang;
    let t = |k| crate::i18n::t(lang, k);
    let year_opts = years::list(&s.db, p)
        .await?
        .into_iter()
        .map(|y| (y.id.to_string(), y.label))
        .collect();
    let mut room_opts = vec![(String::new(), t("field.no_room").to_string())];
    room_opts.extend(
        rooms::list_for_school(&s.db, p, school_id)
            .await?
            .into_iter()
            .map(|r| (r.id.to_string(), r.name)),
    );
    Ok(vec![
        Field::select(
            "school_year_id",
            t("field.year"),
            v.school_year_id.map(|y| y.to_string()).unwrap_or_default(),
            year_opts,
        )
        .required(),
        Field::text("label", t("field.label"), v.label.clone()).required(),
        Field::text("levels", t("field.levels"), v.levels.clone())
            .required()
            .hint(t("field.levels_hint")),
        Field::text(
            "head_count",
            t("field.head_count"),
            v.head_count.clone().unwrap_or_default(),
        )
        .input("number"),
        Field::text(
            "teacher_name",
            t("field.teacher"),
            v.teacher_name.clone().unwrap_or_default(),
        ),
        Field::select(
            "room_id",
            t("field.room"),
            v.room_id.map(|r| r.to_string()).unwrap_or_default(),
            room_opts,
        ),
    ])
}

#[derive(Deserialize)]
pub struct ClassForm {
    school_year_id: Option<String>,
    label: String,
    levels: String,
    head_count: Option<String>,
    teacher_name: Option<String>,
    room_id: Option<String>,
    version: Option<i64>,
}

impl ClassForm {
    fn input(&self) -> ClassInput {
        ClassInput {
            school_year_id: self.school_year_id.as_deref().and_then(|v| v.parse().ok()),
            label: self.label.clone(),
            levels: self.levels.clone(),
            head_count: self.head_count.clone(),
            teacher_name: self.teacher_name.clone(),
            room_id: self.room_id.as_deref().and_then(|v| v.parse().ok()),
        }
    }
}

pub async fn class_new(
    State(s): State<AppState>,
    a: Auth,
    Path(school_id): Path<i64>,
) -> PageResult {
    let p = &a.p;
    let school = schools::get(&s.db, p, school_id).await?;
    if !p.can_edit_classes(school_id) {
        return Err(AppError::Forbidden.into());
    }
    let today = super::today();
    let year = years::current(&s.db, p, today).await?;
    let input = ClassInput {
        school_year_id: year.map(|y| y.id),
        ..Default::default()
    };
    let back = format!("/schools/{school_id}");
    FormSpec::new(
        "class.new_title",
        format!("{back}/classes/new"),
        back.clone(),
    )
    .crumb(back, school.name)
    .show(&a, class_fields(&s, p, school_id, &input).await?, &[])
}

pub async fn class_create(
    State(s): State<AppState>,
    a: Auth,
    Path(school_id): Path<i64>,
    CsrfForm(f): CsrfForm<ClassForm>,
) -> PageResult {
    let p = &a.p;
    schools::get(&s.db, p, school_id).await?;
    if !p.can_edit_classes(school_id) {
        return Err(AppError::Forbidden.into());
    }
    let input = f.input();
    let back = format!("/schools/{school_id}");
    save(
        &a,
        write_tx!(s.db, tx => classes::create(tx, p, school_id, &input.parse()?, Utc::now()).await?),
        |c| format!("/classes/{}", c.id),
        FormSpec::new(
            "class.new_title",
            format!("{back}/classes/new"),
            back.clone(),
        ),
        class_fields(&s, p, school_id, &input).await?,
    )
}

pub async fn class_edit(State(s): State<AppState>, a: Auth, Path(id): Path<i64>) -> PageResult {
    let p = &a.p;
    let class = classes::get(&s.db, p, id).await?;
    if !p.can_edit_classes(class.school_id) {
        return Err(AppError::Forbidden.into());
    }
    FormSpec::edit("class.edit_title", format!("/classes/{id}"), class.version)
        .crumb(format!("/classes/{id}"), class.label.clone())
        .show(
            &a,
            class_fields(&s, p, class.school_id, &class.to_input()).await?,
            &[],
        )
}

pub async fn class_update(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm<ClassForm>,
) -> PageResult {
    let p = &a.p;
    let class = classes::get(&s.db, p, id).await?;
    if !p.can_edit_classes(class.school_id) {
        return Err(AppError::Forbidden.into());
    }
    let input = f.input();
    let version = f.version.unwrap_or(0);
    save(
        &a,
        write_tx!(s.db, tx => classes::update(tx, p, id, version, &input.parse()?, Utc::now()).await?),
        |_| format!("/classes/{id}"),
        FormSpec::edit("class.edit_title", format!("/classes/{id}"), version),
        class_fields(&s, p, class.school_id, &input).await?,
    )
}

pub async fn class_delete(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<Empty>,
) -> PageResult {
    let p = &a.p;
    let class = classes::get(&s.db, p, id).await?;
    write_tx!(s.db, tx => classes::delete(tx, p, id, Utc::now()).await?)?;
    Ok(see_other(
        &format!("/schools/{}", class.school_id),
        "deleted",
    ))
}
