//! `/api/v1/devices`: the inventory, with the list filters of the pages and `search=`.

use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use chrono::Utc;
use preau_core::inventory::categories;
use preau_core::inventory::devices::{self, DeviceFilter, DeviceInput};
use preau_core::write_tx;
use serde::Deserialize;
use serde_json::json;

use super::{
    ApiResult, Created, Patch, body, created, list, merge, offset, query, to_json, version,
};
use crate::AppState;
use crate::session::ApiAuth;

#[derive(Deserialize)]
pub(super) struct PageQuery {
    cursor: Option<String>,
    limit: Option<i64>,
}

pub(super) async fn devices_list(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    f: Result<Query<DeviceFilter>, QueryRejection>,
    q: Result<Query<PageQuery>, QueryRejection>,
) -> ApiResult {
    let f = query(f)?;
    let q = query(q)?;
    let limit = q.limit.unwrap_or(50).clamp(1, 500);
    let page = devices::list(
        &s.db,
        &p,
        &f,
        Utc::now(),
        offset(q.cursor.as_deref())?,
        limit,
    )
    .await?;
    Ok(list(&page.items, page.next_offset.map(|o| o.to_string())))
}

pub(super) async fn device_get(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    Path(id): Path<i64>,
) -> ApiResult {
    let d = devices::get(&s.db, &p, id, Utc::now()).await?;
    let components = devices::components(&s.db, &p, id, Utc::now()).await?;
    let software = devices::software(&s.db, &p, id, Utc::now()).await?;
    let mut v = serde_json::to_value(&d).unwrap_or_default();
    if let Some(o) = v.as_object_mut() {
        o.insert("components".into(), json!(components));
        o.insert("software".into(), json!(software));
    }
    Ok(Json(v))
}

pub(super) async fn device_history(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    Path(id): Path<i64>,
) -> ApiResult {
    let events: Vec<serde_json::Value> = devices::events(&s.db, &p, id, Utc::now())
        .await?
        .into_iter()
        .map(|e| {
            json!({
                "id": e.id, "occurred_at": e.occurred_at, "kind": e.kind, "actor": e.actor,
                "detail": serde_json::from_str::<serde_json::Value>(&e.detail).unwrap_or_default(),
            })
        })
        .collect();
    Ok(list(&events, None))
}

pub(super) async fn device_create(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    b: Result<Json<DeviceInput>, JsonRejection>,
) -> Created {
    let input = body(b)?;
    let now = Utc::now();
    created(write_tx!(s.db, tx => devices::create(tx, &p, &input.parse()?, now).await?)?)
}

pub(super) async fn device_patch(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    Path(id): Path<i64>,
    b: Result<Json<Patch>, JsonRejection>,
) -> ApiResult {
    let patch = body(b)?;
    let ver = version(&patch)?;
    let input: DeviceInput = merge(
        &devices::get(&s.db, &p, id, Utc::now()).await?.to_input(),
        &patch.fields,
    )?;
    let now = Utc::now();
    let d = write_tx!(s.db, tx => devices::update(tx, &p, id, ver, &input.parse()?, now).await?)?;
    Ok(to_json(&d.redacted_for(&p)))
}

pub(super) async fn categories_list(State(s): State<AppState>, ApiAuth(p): ApiAuth) -> ApiResult {
    Ok(list(&categories::list(&s.db, &p).await?, None))
}
