//! `/api/v1`: JSON for scripts and other tools, authenticated by bearer tokens
//! (`Authorization: Bearer preau_…`). Lists answer `{"items": [...], "next": cursor|null}`;
//! errors are problem details naming the field. The same use cases as the pages decide
//! scope, so a caller never reads outside its collectivité or its schools.

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::routing::get;
use axum::{Json, Router};
use chrono::Utc;
use preau_core::classes::ClassInput;
use preau_core::rooms::RoomInput;
use preau_core::schools::{SchoolFilter, SchoolInput};
use preau_core::write_tx;
use preau_core::years::SchoolYearInput;
use preau_core::{AppError, classes, collectivites, rooms, schools, users, years};
use preau_domain::org::{SchoolKind, SchoolStatus};
use serde::Deserialize;
use serde_json::{Value, json};

mod devices;
mod loans;
mod tickets;

use crate::AppState;
use crate::error::ApiError;
use crate::session::ApiAuth;

type ApiResult = Result<Json<Value>, ApiError>;

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

/// Every API route with its methods: the router below and the OpenAPI document are both
/// checked against this table by the tests.
pub const ROUTES: &[(&str, &[&str])] = &[
    ("/me", &["get"]),
    ("/collectivites", &["get"]),
    ("/collectivites/{id}", &["get"]),
    ("/schools", &["get", "post"]),
    ("/schools/{id}", &["get", "patch"]),
    ("/schools/{id}/rooms", &["get", "post"]),
    ("/schools/{id}/classes", &["get", "post"]),
    ("/rooms/{id}", &["get", "patch", "delete"]),
    ("/school-years", &["get", "post"]),
    ("/school-years/{id}", &["get"]),
    ("/classes/{id}", &["get", "patch", "delete"]),
    ("/users", &["get"]),
    ("/users/{id}", &["get"]),
    ("/devices", &["get", "post"]),
    ("/devices/{id}", &["get", "patch"]),
    ("/devices/{id}/history", &["get"]),
    ("/device-categories", &["get"]),
    ("/tickets", &["get", "post"]),
    ("/tickets/{id}", &["get", "patch"]),
    ("/tickets/{id}/take", &["post"]),
    ("/tickets/{id}/events", &["get", "post"]),
    ("/contracts", &["get"]),
    ("/contracts/{id}", &["get"]),
    ("/contracts/{id}/sla-report", &["get"]),
    ("/interventions", &["get", "post"]),
    ("/classes/{id}/pupils", &["get"]),
    ("/loans", &["get", "post"]),
    ("/loans/{id}/return", &["post"]),
    ("/devices/{id}/loans", &["get"]),
    ("/openapi.json", &["get"]),
];

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/me", get(me))
        .route("/collectivites", get(collectivites_list))
        .route("/collectivites/{id}", get(collectivite_get))
        .route("/schools", get(schools_list).post(school_create))
        .route("/schools/{id}", get(school_get).patch(school_patch))
        .route("/schools/{id}/rooms", get(rooms_list).post(room_create))
        .route(
            "/schools/{id}/classes",
            get(classes_list).post(class_create),
        )
        .route(
            "/rooms/{id}",
            get(room_get).patch(room_patch).delete(room_delete),
        )
        .route("/school-years", get(years_list).post(year_create))
        .route("/school-years/{id}", get(year_get))
        .route(
            "/classes/{id}",
            get(class_get).patch(class_patch).delete(class_delete),
        )
        .route("/users", get(users_list))
        .route("/users/{id}", get(user_get))
        .route(
            "/devices",
            get(devices::devices_list).post(devices::device_create),
        )
        .route(
            "/devices/{id}",
            get(devices::device_get).patch(devices::device_patch),
        )
        .route("/devices/{id}/history", get(devices::device_history))
        .route("/device-categories", get(devices::categories_list))
        .route(
            "/tickets",
            get(tickets::tickets_list).post(tickets::ticket_create),
        )
        .route(
            "/tickets/{id}",
            get(tickets::ticket_get).patch(tickets::ticket_patch),
        )
        .route(
            "/tickets/{id}/take",
            axum::routing::post(tickets::ticket_take),
        )
        .route(
            "/tickets/{id}/events",
            get(tickets::ticket_events).post(tickets::ticket_comment),
        )
        .route("/contracts", get(tickets::contracts_list))
        .route("/contracts/{id}", get(tickets::contract_get))
        .route("/contracts/{id}/sla-report", get(tickets::contract_report))
        .route(
            "/interventions",
            get(tickets::interventions_list).post(tickets::intervention_create),
        )
        .route("/classes/{id}/pupils", get(loans::class_pupils))
        .route("/loans", get(loans::loans_list).post(loans::loan_create))
        .route(
            "/loans/{id}/return",
            axum::routing::post(loans::loan_return),
        )
        .route("/devices/{id}/loans", get(loans::device_loans))
        .route("/openapi.json", get(openapi))
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

fn to_json<T: serde::Serialize>(v: &T) -> Json<Value> {
    Json(serde_json::to_value(v).unwrap_or(Value::Null))
}

fn list<T: serde::Serialize>(items: &[T], next: Option<String>) -> Json<Value> {
    Json(json!({"items": items, "next": next}))
}

async fn me(ApiAuth(p): ApiAuth) -> ApiResult {
    Ok(Json(json!({
        "id": p.user_id,
        "login": p.login,
        "display_name": p.display_name,
        "collectivite_id": p.collectivite_id,
        "roles": p.assignments,
    })))
}

async fn collectivites_list(State(s): State<AppState>, ApiAuth(p): ApiAuth) -> ApiResult {
    let c = collectivites::get(&s.db, &p, p.collectivite_id).await?;
    Ok(list(&[c], None))
}

async fn collectivite_get(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    Path(id): Path<i64>,
) -> ApiResult {
    Ok(to_json(&collectivites::get(&s.db, &p, id).await?))
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

async fn schools_list(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    q: Result<Query<SchoolsQuery>, QueryRejection>,
) -> ApiResult {
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
    Ok(list(&page.items, page.next_offset.map(|o| o.to_string())))
}

async fn school_get(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    Path(id): Path<i64>,
) -> ApiResult {
    Ok(to_json(&schools::get(&s.db, &p, id).await?))
}

async fn school_create(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    b: Result<Json<SchoolInput>, JsonRejection>,
) -> Created {
    let input = body(b)?;
    created(write_tx!(s.db, tx => schools::create(tx, &p, &input.parse()?, Utc::now()).await?)?)
}

type Created = Result<(axum::http::StatusCode, Json<Value>), ApiError>;

/// `201 Created` with the new object.
fn created<T: serde::Serialize>(v: T) -> Created {
    Ok((axum::http::StatusCode::CREATED, to_json(&v)))
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
) -> ApiResult {
    let patch = body(b)?;
    let ver = version(&patch)?;
    let input = merge(
        &schools::get(&s.db, &p, id).await?.to_input(),
        &patch.fields,
    )?;
    let school = write_tx!(s.db, tx => schools::update(tx, &p, id, ver, &input.parse()?, Utc::now()).await?)?;
    Ok(to_json(&school))
}

async fn rooms_list(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    Path(id): Path<i64>,
) -> ApiResult {
    Ok(list(&rooms::list_for_school(&s.db, &p, id).await?, None))
}

async fn room_create(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    Path(id): Path<i64>,
    b: Result<Json<RoomInput>, JsonRejection>,
) -> Created {
    let input = body(b)?;
    created(write_tx!(s.db, tx => rooms::create(tx, &p, id, &input.parse()?, Utc::now()).await?)?)
}

async fn room_get(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    Path(id): Path<i64>,
) -> ApiResult {
    Ok(to_json(&rooms::get(&s.db, &p, id).await?))
}

async fn room_patch(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    Path(id): Path<i64>,
    b: Result<Json<Patch>, JsonRejection>,
) -> ApiResult {
    let patch = body(b)?;
    let ver = version(&patch)?;
    let input = merge(&rooms::get(&s.db, &p, id).await?.to_input(), &patch.fields)?;
    let room =
        write_tx!(s.db, tx => rooms::update(tx, &p, id, ver, &input.parse()?, Utc::now()).await?)?;
    Ok(to_json(&room))
}

async fn room_delete(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    Path(id): Path<i64>,
) -> Result<axum::http::StatusCode, ApiError> {
    write_tx!(s.db, tx => rooms::delete(tx, &p, id, Utc::now()).await?)?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
struct ClassesQuery {
    school_year_id: Option<i64>,
}

async fn classes_list(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    Path(id): Path<i64>,
    q: Result<Query<ClassesQuery>, QueryRejection>,
) -> ApiResult {
    let q = query(q)?;
    Ok(list(
        &classes::list_for_school(&s.db, &p, id, q.school_year_id).await?,
        None,
    ))
}

async fn class_create(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    Path(id): Path<i64>,
    b: Result<Json<ClassInput>, JsonRejection>,
) -> Created {
    let input = body(b)?;
    created(write_tx!(s.db, tx => classes::create(tx, &p, id, &input.parse()?, Utc::now()).await?)?)
}

async fn class_get(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    Path(id): Path<i64>,
) -> ApiResult {
    Ok(to_json(&classes::get(&s.db, &p, id).await?))
}

async fn class_patch(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    Path(id): Path<i64>,
    b: Result<Json<Patch>, JsonRejection>,
) -> ApiResult {
    let patch = body(b)?;
    let ver = version(&patch)?;
    let input = merge(
        &classes::get(&s.db, &p, id).await?.to_input(),
        &patch.fields,
    )?;
    let class = write_tx!(s.db, tx => classes::update(tx, &p, id, ver, &input.parse()?, Utc::now()).await?)?;
    Ok(to_json(&class))
}

async fn class_delete(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    Path(id): Path<i64>,
) -> Result<axum::http::StatusCode, ApiError> {
    write_tx!(s.db, tx => classes::delete(tx, &p, id, Utc::now()).await?)?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

async fn years_list(State(s): State<AppState>, ApiAuth(p): ApiAuth) -> ApiResult {
    Ok(list(&years::list(&s.db, &p).await?, None))
}

async fn year_get(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    Path(id): Path<i64>,
) -> ApiResult {
    Ok(to_json(&years::get(&s.db, &p, id).await?))
}

async fn year_create(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    b: Result<Json<SchoolYearInput>, JsonRejection>,
) -> Created {
    let input = body(b)?;
    created(write_tx!(s.db, tx => years::create(tx, &p, &input.parse()?, Utc::now()).await?)?)
}

async fn users_list(State(s): State<AppState>, ApiAuth(p): ApiAuth) -> ApiResult {
    Ok(list(&users::list(&s.db, &p).await?, None))
}

async fn user_get(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    Path(id): Path<i64>,
) -> ApiResult {
    let u = users::get(&s.db, &p, id).await?;
    let roles = users::roles(&s.db, id).await?;
    let mut v = serde_json::to_value(&u).unwrap_or(Value::Null);
    v["roles"] = serde_json::to_value(&roles).unwrap_or(Value::Null);
    Ok(Json(v))
}

/// The OpenAPI 3.1 document, generated from `ROUTES`.
async fn openapi() -> Json<Value> {
    Json(openapi_document())
}

pub fn openapi_document() -> Value {
    let mut paths = serde_json::Map::new();
    for (path, methods) in ROUTES {
        let mut item = serde_json::Map::new();
        for m in *methods {
            let mut op = json!({
                "operationId": format!("{m}_{}", path.trim_matches('/').replace(['/', '{', '}', '-', '.'], "_")),
                "responses": {
                    "200": {"description": "OK"},
                    "401": {"description": "missing or wrong bearer token", "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}},
                    "404": {"description": "not found, or outside the caller's scope"},
                    "422": {"description": "invalid field(s)", "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}}
                }
            });
            if path.contains("{id}") {
                op["parameters"] = json!([{"name": "id", "in": "path", "required": true, "schema": {"type": "integer"}}]);
            }
            if *m == "post" || *m == "patch" {
                op["requestBody"] = json!({"required": true, "content": {"application/json": {"schema": {"type": "object"}}}});
            }
            item.insert((*m).to_string(), op);
        }
        paths.insert((*path).to_string(), Value::Object(item));
    }
    json!({
        "openapi": "3.1.0",
        "info": {"title": "Préau API", "version": env!("CARGO_PKG_VERSION"), "license": {"name": "AGPL-3.0-or-later", "identifier": "AGPL-3.0-or-later"}},
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {"Problem": {"type": "object", "properties": {
                "title": {"type": "string"}, "status": {"type": "integer"}, "detail": {"type": ["string", "null"]},
                "errors": {"type": "array", "items": {"type": "object", "properties": {"field": {"type": "string"}, "code": {"type": "string"}, "message": {"type": "string"}}}}
            }}}
        }
    })
}
