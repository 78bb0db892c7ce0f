//! `/api/v1`: JSON for scripts and other tools, authenticated by bearer tokens
//! (`Authorization: Bearer preau_…`). Lists answer `{"items": [...], "next": cursor|null}`;
//! errors are problem details naming the field. The same use cases as the pages decide
//! scope, so a caller never reads outside its collectivité or its schools.

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{MethodRouter, get};
use axum::{Json, Router};
use chrono::Utc;
use preau_core::schools::SchoolFilter;
use preau_core::write_tx;
use preau_core::{AppError, classes, collectivites, rooms, schools, users, years};
use preau_domain::org::{SchoolKind, SchoolStatus};
use serde::Deserialize;
use serde_json::{Value, json};

mod bookings;
mod connectivity;
mod devices;
mod loans;
pub mod schema;
mod steering;
mod tickets;
pub mod types;
mod visio;

use schema::{Defs, Fields, List, Object, Schema, SchemaFn, input};
use types::{
    Category, Class, ClassPupils, Collectivite, Contract, ContractDetail, Device, DeviceDetail,
    DeviceEvent, Loan, Me, Problem, Room, School, SchoolSummary, SchoolYear, SlaReport, Ticket,
    TicketDetail, TicketEvent, User, UserDetail, Visit,
};

use crate::AppState;
use crate::error::ApiError;
use crate::session::ApiAuth;

/// The offset a list cursor stands for (the API's cursors are opaque to callers).
fn offset(cursor: Option<&str>) -> Result<i64, ApiError> {
    match cursor {
        None | Some("") => Ok(0),
        Some(c) => c.parse::<i64>().ok().filter(|o| *o >= 0).ok_or_else(|| {
            ApiError::invalid(vec![preau_domain::FieldError::new(
                "cursor",
                "unknown_value",
            )])
        }),
    }
}

/// One operation of the API: its route and everything the OpenAPI document says of it.
/// The router and the document are both built from [`ops`], so nothing is routed without
/// being documented.
pub struct Op {
    pub method: &'static str,
    pub path: &'static str,
    pub summary: &'static str,
    /// Query parameters, as the fields of the types the handler reads.
    pub query: Vec<fn(&mut Defs) -> Fields>,
    pub paged: bool,
    pub body: Option<SchemaFn>,
    /// The success status and its body (`None`: 204, no body).
    pub answer: (u16, Option<SchemaFn>),
    pub public: bool,
    route: MethodRouter<AppState>,
}

impl Op {
    fn new(
        method: &'static str,
        path: &'static str,
        summary: &'static str,
        route: MethodRouter<AppState>,
    ) -> Op {
        Op {
            method,
            path,
            summary,
            query: Vec::new(),
            paged: false,
            body: None,
            answer: (200, None),
            public: false,
            route,
        }
    }
    fn query<Q: Object>(mut self) -> Op {
        self.query.push(Q::fields);
        self
    }
    /// `cursor` and `limit`.
    fn paged(mut self) -> Op {
        self.paged = true;
        self
    }
    fn body<B: Schema>(mut self) -> Op {
        self.body = Some(B::schema);
        self
    }
    /// A partial change to `B`: any of its fields, and `version`.
    fn patch<B: Object>(mut self) -> Op {
        self.body = Some(schema::patch_of::<B>);
        self
    }
    fn answers<A: Schema>(mut self) -> Op {
        self.answer = (200, Some(A::schema));
        self
    }
    fn creates<A: Schema>(mut self) -> Op {
        self.answer = (201, Some(A::schema));
        self
    }
    fn empty(mut self) -> Op {
        self.answer = (204, None);
        self
    }
}

/// Every operation of `/api/v1`.
pub fn ops() -> Vec<Op> {
    use axum::routing::{delete, patch, post, put};
    vec![
        Op::new("get", "/me", "The caller and its roles", get(me)).answers::<Me>(),
        Op::new(
            "get",
            "/collectivites",
            "The caller's collectivité",
            get(collectivites_list),
        )
        .answers::<List<Collectivite>>(),
        Op::new(
            "get",
            "/collectivites/{id}",
            "A collectivité",
            get(collectivite_get),
        )
        .answers::<Collectivite>(),
        Op::new("get", "/schools", "Schools, by name", get(schools_list))
            .query::<SchoolsQueryDoc>()
            .paged()
            .answers::<List<SchoolSummary>>(),
        Op::new("post", "/schools", "Adds a school", post(school_create))
            .body::<types::SchoolInput>()
            .creates::<School>(),
        Op::new("get", "/schools/{id}", "A school", get(school_get)).answers::<School>(),
        Op::new(
            "patch",
            "/schools/{id}",
            "Changes a school",
            patch(school_patch),
        )
        .patch::<types::SchoolInput>()
        .answers::<School>(),
        Op::new(
            "get",
            "/schools/{id}/rooms",
            "A school's rooms",
            get(rooms_list),
        )
        .answers::<List<Room>>(),
        Op::new(
            "post",
            "/schools/{id}/rooms",
            "Adds a room",
            post(room_create),
        )
        .body::<types::RoomInput>()
        .creates::<Room>(),
        Op::new(
            "get",
            "/schools/{id}/classes",
            "A school's classes",
            get(classes_list),
        )
        .query::<ClassesQueryDoc>()
        .answers::<List<Class>>(),
        Op::new(
            "post",
            "/schools/{id}/classes",
            "Adds a class",
            post(class_create),
        )
        .body::<types::ClassInput>()
        .creates::<Class>(),
        Op::new("get", "/rooms/{id}", "A room", get(room_get)).answers::<Room>(),
        Op::new("patch", "/rooms/{id}", "Changes a room", patch(room_patch))
            .patch::<types::RoomInput>()
            .answers::<Room>(),
        Op::new(
            "delete",
            "/rooms/{id}",
            "Removes an empty room",
            delete(room_delete),
        )
        .empty(),
        Op::new("get", "/school-years", "School years", get(years_list))
            .answers::<List<SchoolYear>>(),
        Op::new(
            "post",
            "/school-years",
            "Adds a school year",
            post(year_create),
        )
        .body::<types::SchoolYearInput>()
        .creates::<SchoolYear>(),
        Op::new("get", "/school-years/{id}", "A school year", get(year_get))
            .answers::<SchoolYear>(),
        Op::new("get", "/classes/{id}", "A class", get(class_get)).answers::<Class>(),
        Op::new(
            "patch",
            "/classes/{id}",
            "Changes a class",
            patch(class_patch),
        )
        .patch::<types::ClassInput>()
        .answers::<Class>(),
        Op::new(
            "delete",
            "/classes/{id}",
            "Removes a class without pupils",
            delete(class_delete),
        )
        .empty(),
        Op::new(
            "get",
            "/users",
            "Users of the collectivité",
            get(users_list),
        )
        .answers::<List<User>>(),
        Op::new(
            "get",
            "/users/{id}",
            "A user and their roles",
            get(user_get),
        )
        .answers::<UserDetail>(),
        Op::new(
            "get",
            "/devices",
            "The inventory",
            get(devices::devices_list),
        )
        .query::<types::DeviceQuery>()
        .paged()
        .answers::<List<Device>>(),
        Op::new(
            "post",
            "/devices",
            "Adds a device",
            post(devices::device_create),
        )
        .body::<types::DeviceInput>()
        .creates::<Device>(),
        Op::new(
            "get",
            "/devices/{id}",
            "A device, its components and software",
            get(devices::device_get),
        )
        .answers::<DeviceDetail>(),
        Op::new(
            "patch",
            "/devices/{id}",
            "Changes a device",
            patch(devices::device_patch),
        )
        .patch::<types::DeviceInput>()
        .answers::<Device>(),
        Op::new(
            "get",
            "/devices/{id}/history",
            "A device's history",
            get(devices::device_history),
        )
        .answers::<List<DeviceEvent>>(),
        Op::new(
            "get",
            "/device-categories",
            "Device categories",
            get(devices::categories_list),
        )
        .answers::<List<Category>>(),
        Op::new(
            "get",
            "/tickets",
            "Tickets, newest first",
            get(tickets::tickets_list),
        )
        .query::<types::TicketQuery>()
        .paged()
        .answers::<List<Ticket>>(),
        Op::new(
            "post",
            "/tickets",
            "Reports a problem",
            post(tickets::ticket_create),
        )
        .body::<types::TicketInput>()
        .creates::<Ticket>(),
        Op::new(
            "get",
            "/tickets/{id}",
            "A ticket with its live deadlines",
            get(tickets::ticket_get),
        )
        .answers::<TicketDetail>(),
        Op::new(
            "patch",
            "/tickets/{id}",
            "Changes a ticket's status, priority or assignee",
            patch(tickets::ticket_patch),
        )
        .body::<tickets::TicketPatchDoc>()
        .answers::<Ticket>(),
        Op::new(
            "post",
            "/tickets/{id}/take",
            "Takes a ticket",
            post(tickets::ticket_take),
        )
        .answers::<Ticket>(),
        Op::new(
            "get",
            "/tickets/{id}/events",
            "A ticket's thread",
            get(tickets::ticket_events),
        )
        .answers::<List<TicketEvent>>(),
        Op::new(
            "post",
            "/tickets/{id}/events",
            "Adds a message",
            post(tickets::ticket_comment),
        )
        .body::<tickets::CommentDoc>()
        .creates::<TicketEvent>(),
        Op::new(
            "get",
            "/contracts",
            "Maintenance contracts",
            get(tickets::contracts_list),
        )
        .answers::<List<Contract>>(),
        Op::new(
            "get",
            "/contracts/{id}",
            "A contract, its lots, grids and perimeters",
            get(tickets::contract_get),
        )
        .answers::<ContractDetail>(),
        Op::new(
            "get",
            "/contracts/{id}/sla-report",
            "A contract's monthly report",
            get(tickets::contract_report),
        )
        .query::<tickets::ReportQueryDoc>()
        .answers::<SlaReport>(),
        Op::new(
            "get",
            "/interventions",
            "Planned visits",
            get(tickets::interventions_list),
        )
        .query::<tickets::InterventionsQueryDoc>()
        .query::<types::InterventionFilter>()
        .answers::<List<Visit>>(),
        Op::new(
            "post",
            "/interventions",
            "Plans a visit",
            post(tickets::intervention_create),
        )
        .body::<types::InterventionInput>()
        .creates::<Visit>(),
        Op::new(
            "get",
            "/classes/{id}/pupils",
            "A class's pupils and their devices",
            get(loans::class_pupils),
        )
        .answers::<ClassPupils>(),
        Op::new("get", "/loans", "Loans", get(loans::loans_list))
            .query::<types::LoanQuery>()
            .answers::<List<Loan>>(),
        Op::new("post", "/loans", "Lends a device", post(loans::loan_create))
            .body::<loans::NewLoanDoc>()
            .creates::<Loan>(),
        Op::new(
            "post",
            "/loans/{id}/return",
            "Takes a device back",
            post(loans::loan_return),
        )
        .body::<types::ReturnInput>()
        .answers::<Loan>(),
        Op::new(
            "get",
            "/devices/{id}/loans",
            "A device's loans",
            get(loans::device_loans),
        )
        .answers::<List<Loan>>(),
        Op::new(
            "get",
            "/coverage",
            "Schools against the référentiel",
            get(steering::coverage),
        )
        .query::<steering::CoverageQueryDoc>()
        .paged()
        .answers::<schema::OneOrList<types::SchoolCoverage>>(),
        Op::new(
            "get",
            "/referentiel",
            "The référentiel in force",
            get(steering::referentiel_get),
        )
        .answers::<types::Referentiel>(),
        Op::new(
            "put",
            "/referentiel",
            "Replaces the référentiel's rules",
            put(steering::referentiel_put),
        )
        .body::<steering::ReferentielInput>()
        .answers::<types::Referentiel>(),
        Op::new(
            "get",
            "/renewal",
            "The fleet by age and its renewal plan",
            get(steering::renewal_get),
        )
        .query::<steering::RenewalQueryDoc>()
        .answers::<types::Renewal>(),
        Op::new(
            "get",
            "/connectivity",
            "Whether each school reaches Préau",
            get(connectivity::statuses),
        )
        .answers::<List<types::SchoolConnectivity>>(),
        Op::new(
            "get",
            "/outages",
            "Schools' outages",
            get(connectivity::outages),
        )
        .query::<connectivity::OutagesQueryDoc>()
        .answers::<List<types::Outage>>(),
        Op::new(
            "get",
            "/schools/{id}/wifi",
            "A school's Wi-Fi register",
            get(connectivity::wifi),
        )
        .answers::<List<types::AccessPoint>>(),
        Op::new(
            "get",
            "/schools/{id}/probe",
            "A school's probe and what it last found",
            get(connectivity::probe),
        )
        .answers::<types::SchoolProbe>(),
        Op::new(
            "put",
            "/schools/{id}/probe",
            "Sets or removes a school's probe",
            put(connectivity::probe_put),
        )
        .body::<connectivity::ProbeDoc>()
        .answers::<types::SchoolProbe>(),
        Op::new(
            "get",
            "/schools/{id}/links",
            "A school's links to the internet",
            get(connectivity::links),
        )
        .answers::<List<types::SchoolLink>>(),
        Op::new(
            "post",
            "/schools/{id}/links",
            "Adds a link to a school",
            post(connectivity::link_create),
        )
        .body::<connectivity::LinkDoc>()
        .creates::<types::SchoolLink>(),
        Op::new(
            "patch",
            "/links/{id}",
            "Changes a link",
            patch(connectivity::link_patch),
        )
        .patch::<connectivity::LinkDoc>()
        .answers::<types::SchoolLink>(),
        Op::new(
            "delete",
            "/links/{id}",
            "Removes a link (a line terminated)",
            delete(connectivity::link_delete),
        )
        .empty(),
        Op::new(
            "get",
            "/visio/programmes",
            "Visio programmes and their providers",
            get(visio::programmes),
        )
        .answers::<List<types::VisioProgramme>>(),
        Op::new(
            "post",
            "/visio/series",
            "Creates a weekly series and its sessions on the school's calendar",
            post(visio::series_create),
        )
        .body::<visio::SeriesDoc>()
        .creates::<types::VisioSeries>(),
        Op::new(
            "get",
            "/visio/sessions",
            "Visio sessions with their room's readiness",
            get(visio::sessions),
        )
        .query::<visio::SessionsQueryDoc>()
        .answers::<List<types::VisioSession>>(),
        Op::new(
            "patch",
            "/visio/sessions/{id}",
            "Records a session held, not held or cancelled, or moves it",
            patch(visio::session_patch),
        )
        .patch::<visio::SessionDoc>()
        .answers::<types::VisioSession>(),
        Op::new(
            "get",
            "/bookable",
            "Kits, carts and rooms that can be booked by slot",
            get(bookings::bookable),
        )
        .query::<bookings::BookableQueryDoc>()
        .answers::<List<types::Bookable>>(),
        Op::new(
            "get",
            "/bookings",
            "Bookings of shared kits and rooms",
            get(bookings::list),
        )
        .query::<bookings::BookingsQueryDoc>()
        .answers::<List<types::Booking>>(),
        Op::new(
            "post",
            "/bookings",
            "Books a slot, alone or every week until a day",
            post(bookings::create),
        )
        .body::<bookings::BookingDoc>()
        .creates::<List<types::Booking>>(),
        Op::new(
            "delete",
            "/bookings/{id}",
            "Cancels a booking (and the rest of its weekly repeat)",
            delete(bookings::cancel),
        )
        .query::<bookings::CancelQueryDoc>()
        .empty(),
        Op::new(
            "get",
            "/needs",
            "Needs campaigns and the schools' requests",
            get(steering::needs),
        )
        .answers::<List<types::NeedsCampaign>>(),
        Op::new(
            "get",
            "/subsidies",
            "Subsidy dossiers",
            get(steering::subsidies),
        )
        .answers::<List<types::Subsidy>>(),
        Op {
            public: true,
            ..Op::new("get", "/openapi.json", "This document", get(openapi)).answers::<Value>()
        },
    ]
}

pub fn routes() -> Router<AppState> {
    ops()
        .into_iter()
        .fold(Router::new(), |r, op| r.route(op.path, op.route))
        .fallback(|| async { ApiError::from(AppError::NotFound) })
}

fn body<T>(r: Result<Json<T>, JsonRejection>) -> Result<T, ApiError> {
    r.map(|Json(v)| v)
        .map_err(|e| ApiError::bad_request(e.body_text()))
}

fn query<T>(r: Result<Query<T>, QueryRejection>) -> Result<T, ApiError> {
    r.map(|Query(v)| v)
        .map_err(|e| ApiError::bad_request(e.body_text()))
}

/// An answer of type `T`.
type Answer<T> = Result<Json<T>, ApiError>;

/// `201 Created` with the new object.
type Created<T> = Result<(StatusCode, Json<T>), ApiError>;

fn created<T>(v: T) -> Created<T> {
    Ok((StatusCode::CREATED, Json(v)))
}

/// Each row as its answer type.
fn all<'a, R: 'a, T: From<&'a R>>(rows: &'a [R]) -> Vec<T> {
    rows.iter().map(T::from).collect()
}

async fn me(ApiAuth(p): ApiAuth) -> Answer<Me> {
    Ok(Json(Me::from(&p)))
}

async fn collectivites_list(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
) -> Answer<List<Collectivite>> {
    let c = collectivites::get(&s.db, &p, p.collectivite_id).await?;
    Ok(Json(List::all(vec![(&c).into()])))
}

async fn collectivite_get(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    Path(id): Path<i64>,
) -> Answer<Collectivite> {
    Ok(Json((&collectivites::get(&s.db, &p, id).await?).into()))
}

#[derive(Deserialize)]
struct SchoolsQuery {
    q: Option<String>,
    uai: Option<String>,
    kind: Option<String>,
    status: Option<String>,
    cursor: Option<String>,
    limit: Option<i64>,
}

input! {
    /// The schools' filters.
    SchoolsQueryDoc for SchoolsQuery [cursor, limit] {
        /// Part of the name, UAI or city.
        q: Option<String>,
        uai: Option<String>,
        kind: Option<String>,
        /// `ouverte`, `fermee`…
        status: Option<String>,
    }
}

async fn schools_list(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    q: Result<Query<SchoolsQuery>, QueryRejection>,
) -> Answer<List<SchoolSummary>> {
    let q = query(q)?;
    let kind = q
        .kind
        .as_deref()
        .map(|k| SchoolKind::parse("kind", k))
        .transpose()
        .map_err(|e| ApiError::invalid(vec![e]))?;
    let status = q
        .status
        .as_deref()
        .map(|k| SchoolStatus::parse("status", k))
        .transpose()
        .map_err(|e| ApiError::invalid(vec![e]))?;
    let offset = offset(q.cursor.as_deref())?;
    let limit = q.limit.unwrap_or(50).clamp(1, 500);
    let filter = SchoolFilter {
        q: q.q,
        uai: q.uai,
        kind,
        status,
        ..Default::default()
    };
    let page = schools::list(&s.db, &p, &filter, offset, limit).await?;
    Ok(Json(List {
        items: all(&page.items),
        next: page.next_offset.map(|o| o.to_string()),
    }))
}

async fn school_get(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    Path(id): Path<i64>,
) -> Answer<School> {
    Ok(Json((&schools::look_up(&s.db, &p, id).await?).into()))
}

async fn school_create(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    b: Result<Json<schools::SchoolInput>, JsonRejection>,
) -> Created<School> {
    if !p.can_manage_collectivite() {
        return Err(AppError::Forbidden.into());
    }
    let input = body(b)?;
    let school =
        write_tx!(s.db, tx => schools::create(tx, &p, &input.parse()?, Utc::now()).await?)?;
    created((&school).into())
}

/// A partial change: the fields sent replace the stored ones; `version` is required.
#[derive(Deserialize)]
struct Patch {
    version: Option<i64>,
    #[serde(flatten)]
    fields: serde_json::Map<String, Value>,
}

fn merge<T: serde::Serialize + serde::de::DeserializeOwned>(
    current: &T,
    patch: &serde_json::Map<String, Value>,
) -> Result<T, ApiError> {
    let mut v = serde_json::to_value(current).map_err(|e| ApiError::bad_request(e.to_string()))?;
    if let Some(obj) = v.as_object_mut() {
        for (k, val) in patch {
            if !obj.contains_key(k) {
                return Err(ApiError::invalid(vec![preau_domain::FieldError::new(
                    k.clone(),
                    "unknown_field",
                )]));
            }
            obj.insert(k.clone(), val.clone());
        }
    }
    serde_json::from_value(v).map_err(|e| ApiError::bad_request(e.to_string()))
}

fn version(p: &Patch) -> Result<i64, ApiError> {
    p.version.ok_or_else(|| {
        ApiError::invalid(vec![preau_domain::FieldError::new("version", "required")])
    })
}

async fn school_patch(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    Path(id): Path<i64>,
    b: Result<Json<Patch>, JsonRejection>,
) -> Answer<School> {
    let current = schools::get(&s.db, &p, id).await?;
    if !p.can_manage_collectivite() {
        return Err(AppError::Forbidden.into());
    }
    let patch = body(b)?;
    let ver = version(&patch)?;
    let input = merge(&current.to_input(), &patch.fields)?;
    let school = write_tx!(s.db, tx => schools::update(tx, &p, id, ver, &input.parse()?, Utc::now()).await?)?;
    Ok(Json((&school).into()))
}

async fn rooms_list(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    Path(id): Path<i64>,
) -> Answer<List<Room>> {
    let rows = rooms::list_for_school(&s.db, &p, id).await?;
    Ok(Json(List::all(all(&rows))))
}

async fn room_create(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    Path(id): Path<i64>,
    b: Result<Json<rooms::RoomInput>, JsonRejection>,
) -> Created<Room> {
    schools::get(&s.db, &p, id).await?;
    if !p.can_edit_rooms(id) {
        return Err(AppError::Forbidden.into());
    }
    let input = body(b)?;
    let room =
        write_tx!(s.db, tx => rooms::create(tx, &p, id, &input.parse()?, Utc::now()).await?)?;
    created((&room).into())
}

async fn room_get(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    Path(id): Path<i64>,
) -> Answer<Room> {
    Ok(Json((&rooms::get(&s.db, &p, id).await?).into()))
}

async fn room_patch(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    Path(id): Path<i64>,
    b: Result<Json<Patch>, JsonRejection>,
) -> Answer<Room> {
    let current = rooms::get(&s.db, &p, id).await?;
    if !p.can_edit_rooms(current.school_id) {
        return Err(AppError::Forbidden.into());
    }
    let patch = body(b)?;
    let ver = version(&patch)?;
    let input = merge(&current.to_input(), &patch.fields)?;
    let room =
        write_tx!(s.db, tx => rooms::update(tx, &p, id, ver, &input.parse()?, Utc::now()).await?)?;
    Ok(Json((&room).into()))
}

async fn room_delete(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    write_tx!(s.db, tx => rooms::delete(tx, &p, id, Utc::now()).await?)?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
struct ClassesQuery {
    school_year_id: Option<i64>,
}

input! {
    /// Which year's classes.
    ClassesQueryDoc for ClassesQuery {
        /// By default every year's.
        school_year_id: Option<i64>,
    }
}

async fn classes_list(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    Path(id): Path<i64>,
    q: Result<Query<ClassesQuery>, QueryRejection>,
) -> Answer<List<Class>> {
    let q = query(q)?;
    let rows = classes::list_for_school(&s.db, &p, id, q.school_year_id).await?;
    Ok(Json(List::all(all(&rows))))
}

async fn class_create(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    Path(id): Path<i64>,
    b: Result<Json<classes::ClassInput>, JsonRejection>,
) -> Created<Class> {
    schools::get(&s.db, &p, id).await?;
    if !p.can_edit_classes(id) {
        return Err(AppError::Forbidden.into());
    }
    let input = body(b)?;
    let class =
        write_tx!(s.db, tx => classes::create(tx, &p, id, &input.parse()?, Utc::now()).await?)?;
    created((&class).into())
}

async fn class_get(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    Path(id): Path<i64>,
) -> Answer<Class> {
    Ok(Json((&classes::get(&s.db, &p, id).await?).into()))
}

async fn class_patch(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    Path(id): Path<i64>,
    b: Result<Json<Patch>, JsonRejection>,
) -> Answer<Class> {
    let current = classes::get(&s.db, &p, id).await?;
    if !p.can_edit_classes(current.school_id) {
        return Err(AppError::Forbidden.into());
    }
    let patch = body(b)?;
    let ver = version(&patch)?;
    let input = merge(&current.to_input(), &patch.fields)?;
    let class = write_tx!(s.db, tx => classes::update(tx, &p, id, ver, &input.parse()?, Utc::now()).await?)?;
    Ok(Json((&class).into()))
}

async fn class_delete(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    write_tx!(s.db, tx => classes::delete(tx, &p, id, Utc::now()).await?)?;
    Ok(StatusCode::NO_CONTENT)
}

async fn years_list(State(s): State<AppState>, ApiAuth(p): ApiAuth) -> Answer<List<SchoolYear>> {
    let rows = years::list(&s.db, &p).await?;
    Ok(Json(List::all(all(&rows))))
}

async fn year_get(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    Path(id): Path<i64>,
) -> Answer<SchoolYear> {
    Ok(Json((&years::get(&s.db, &p, id).await?).into()))
}

async fn year_create(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    b: Result<Json<years::SchoolYearInput>, JsonRejection>,
) -> Created<SchoolYear> {
    if !p.can_manage_collectivite() {
        return Err(AppError::Forbidden.into());
    }
    let input = body(b)?;
    let year = write_tx!(s.db, tx => years::create(tx, &p, &input.parse()?, Utc::now()).await?)?;
    created((&year).into())
}

async fn users_list(State(s): State<AppState>, ApiAuth(p): ApiAuth) -> Answer<List<User>> {
    let rows = users::list(&s.db, &p).await?;
    Ok(Json(List::all(all(&rows))))
}

async fn user_get(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    Path(id): Path<i64>,
) -> Answer<UserDetail> {
    let u = users::get(&s.db, &p, id).await?;
    let roles = users::roles(&s.db, id).await?;
    Ok(Json(UserDetail {
        base: (&u).into(),
        roles: all(&roles),
    }))
}

/// The OpenAPI 3.1 document.
async fn openapi() -> Json<Value> {
    Json(openapi_document())
}

/// The OpenAPI 3.1 document, generated from [`ops`] and the types' schemas.
pub fn openapi_document() -> Value {
    let mut defs = Defs::new();
    let problem = Problem::schema(&mut defs);
    let error = |description: &str| json!({"description": description, "content": {"application/problem+json": {"schema": problem}}});
    let mut paths = serde_json::Map::new();
    for op in ops() {
        let mut parameters = Vec::new();
        if op.path.contains("{id}") {
            parameters.push(json!({"name": "id", "in": "path", "required": true, "schema": {"type": "integer"}}));
        }
        for fields in &op.query {
            for (name, schema, required) in fields(&mut defs) {
                let mut param =
                    json!({"name": name, "in": "query", "required": required, "schema": schema});
                if let Some(d) = param["schema"].get("description").cloned() {
                    param["description"] = d;
                }
                parameters.push(param);
            }
        }
        if op.paged {
            parameters.push(json!({"name": "cursor", "in": "query", "required": false, "schema": {"type": "string"}, "description": "the `next` of the previous page"}));
            parameters.push(json!({"name": "limit", "in": "query", "required": false, "schema": {"type": "integer", "minimum": 1}}));
        }
        let (status, answer) = op.answer;
        let mut responses = serde_json::Map::new();
        responses.insert(
            status.to_string(),
            match answer {
                Some(schema) => json!({"description": "OK", "content": {"application/json": {"schema": schema(&mut defs)}}}),
                None => json!({"description": "done, no content"}),
            },
        );
        responses.insert(
            "400".into(),
            error("malformed request (JSON or query string)"),
        );
        if !op.public {
            responses.insert(
                "401".into(),
                error("missing, wrong or expired bearer token"),
            );
            responses.insert("403".into(), error("the caller's role may not do this"));
            responses.insert(
                "404".into(),
                error("not found, or outside the caller's scope"),
            );
        }
        if op.method != "get" {
            responses.insert("409".into(), error("the object changed since it was read (stale `version`) or conflicts with another"));
            responses.insert(
                "422".into(),
                error("invalid field(s), each named in `errors`"),
            );
        } else if !op.query.is_empty() || op.paged {
            responses.insert(
                "422".into(),
                error("invalid query parameter(s), each named in `errors`"),
            );
        }
        let mut o = json!({
            "operationId": format!("{}_{}", op.method, op.path.trim_matches('/').replace(['/', '{', '}', '-', '.'], "_")),
            "summary": op.summary,
            "parameters": parameters,
            "responses": responses,
        });
        if let Some(b) = op.body {
            o["requestBody"] = json!({"required": true, "content": {"application/json": {"schema": b(&mut defs)}}});
        }
        if op.public {
            o["security"] = json!([]);
        }
        paths
            .entry(op.path)
            .or_insert_with(|| json!({}))
            .as_object_mut()
            .map(|item| item.insert(op.method.to_string(), o));
    }
    json!({
        "openapi": "3.1.0",
        "info": {"title": "Préau API", "version": env!("CARGO_PKG_VERSION"), "license": {"name": "AGPL-3.0-or-later", "identifier": "AGPL-3.0-or-later"}},
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": defs,
        }
    })
}
