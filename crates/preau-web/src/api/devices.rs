//! `/api/v1/devices`: the inventory, with the list filters of the pages and `search=`.

use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use chrono::Utc;
use preau_core::inventory::categories;
use preau_core::inventory::devices::{self, DeviceFilter, DeviceInput};
use preau_core::{AppError, write_tx};
use serde::Deserialize;

use super::schema::List;
use super::types::{Category, Device, DeviceDetail, DeviceEvent};
use super::{Answer, Created, Patch, all, body, created, merge, offset, query, version};
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
) -> Answer<List<Device>> {
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
    Ok(Json(List {
        items: all(&page.items),
        next: page.next_offset.map(|o| o.to_string()),
    }))
}

pub(super) async fn device_get(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    Path(id): Path<i64>,
) -> Answer<DeviceDetail> {
    let now = Utc::now();
    let d = devices::get(&s.db, &p, id, now).await?;
    let components = devices::components(&s.db, &p, id, now).await?;
    let software = devices::software(&s.db, &p, id, now).await?;
    Ok(Json(DeviceDetail {
        base: (&d).into(),
        components: all(&components),
        software: all(&software),
    }))
}

pub(super) async fn device_history(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    Path(id): Path<i64>,
) -> Answer<List<DeviceEvent>> {
    let events = devices::events(&s.db, &p, id, Utc::now()).await?;
    Ok(Json(List::all(all(&events))))
}

pub(super) async fn device_create(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    b: Result<Json<DeviceInput>, JsonRejection>,
) -> Created<Device> {
    let input = body(b)?;
    let now = Utc::now();
    let d = write_tx!(s.db, tx => devices::create(tx, &p, &input.parse()?, now).await?)?;
    created((&d).into())
}

pub(super) async fn device_patch(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    Path(id): Path<i64>,
    b: Result<Json<Patch>, JsonRejection>,
) -> Answer<Device> {
    let current = devices::get(&s.db, &p, id, Utc::now()).await?;
    if !p.can_edit_devices(current.school_id) {
        return Err(AppError::Forbidden.into());
    }
    let patch = body(b)?;
    let ver = version(&patch)?;
    let input: DeviceInput = merge(&current.to_input(), &patch.fields)?;
    let now = Utc::now();
    let d = write_tx!(s.db, tx => devices::update(tx, &p, id, ver, &input.parse()?, now).await?)?;
    Ok(Json((&d.redacted_for(&p)).into()))
}

pub(super) async fn categories_list(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
) -> Answer<List<Category>> {
    let rows = categories::list(&s.db, &p).await?;
    Ok(Json(List::all(all(&rows))))
}
