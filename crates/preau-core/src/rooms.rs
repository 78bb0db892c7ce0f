//! Rooms of a school: classrooms, library, computer room, office… Devices will live in them.

use chrono::{DateTime, Utc};
use preau_domain::org::RoomKind;
use preau_domain::{FieldError, Principal, text};
use serde::{Deserialize, Serialize};

use crate::audit::{self, Actor, Entry};
use crate::db::{Db, Tx};
use crate::error::{AppError, AppResult, Errors, unique};
use crate::schools;
use crate::{with_db, with_tx};

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Room {
    pub id: i64,
    pub school_id: i64,
    pub kind: String,
    pub name: String,
    pub building: Option<String>,
    pub floor: Option<String>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct RoomInput {
    pub kind: String,
    pub name: String,
    #[serde(default)]
    pub building: Option<String>,
    #[serde(default)]
    pub floor: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ValidRoom {
    pub kind: RoomKind,
    pub name: String,
    pub building: Option<String>,
    pub floor: Option<String>,
}

impl RoomInput {
    pub fn parse(&self) -> Result<ValidRoom, AppError> {
        let mut e = Errors::default();
        let kind = e.check(RoomKind::parse("kind", &self.kind));
        let name = e.check(text::required("name", &self.name, 120));
        let building = e.check(text::optional("building", self.building.as_deref(), 120));
        let floor = e.check(text::optional("floor", self.floor.as_deref(), 40));
        e.finish()?;
        match (kind, name, building, floor) {
            (Some(kind), Some(name), Some(building), Some(floor)) => Ok(ValidRoom {
                kind,
                name,
                building,
                floor,
            }),
            _ => Err(AppError::Invalid(vec![FieldError::new("room", "invalid")])),
        }
    }
}

impl Room {
    pub fn to_input(&self) -> RoomInput {
        RoomInput {
            kind: self.kind.clone(),
            name: self.name.clone(),
            building: self.building.clone(),
            floor: self.floor.clone(),
        }
    }
}

const SELECT: &str = "SELECT r.id, r.school_id, r.kind, r.name, r.building, r.floor, r.version, r.created_at, r.updated_at FROM rooms r JOIN schools s ON s.id = r.school_id";

/// The rooms of a school the caller may read, by name.
pub async fn list_for_school(db: &Db, p: &Principal, school_id: i64) -> AppResult<Vec<Room>> {
    schools::look_up(db, p, school_id).await?;
    let sql = format!("{SELECT} WHERE r.school_id = $1 ORDER BY r.name, r.id");
    Ok(with_db!(db, pool => {
        sqlx::query_as::<_, Room>(sqlx::AssertSqlSafe(sql)).bind(school_id).fetch_all(pool).await?
    }))
}

pub async fn get(db: &Db, p: &Principal, id: i64) -> AppResult<Room> {
    let sql = format!("{SELECT} WHERE r.id = $1 AND s.collectivite_id = $2");
    let room = with_db!(db, pool => {
        sqlx::query_as::<_, Room>(sqlx::AssertSqlSafe(sql)).bind(id).bind(p.collectivite_id).fetch_optional(pool).await?
    });
    match room {
        Some(r) if p.directory_schools().contains(r.school_id) => Ok(r),
        _ => Err(AppError::NotFound),
    }
}

async fn get_in_tx(tx: &mut Tx, p: &Principal, id: i64) -> AppResult<Room> {
    let sql = format!("{SELECT} WHERE r.id = $1 AND s.collectivite_id = $2");
    let room = with_tx!(tx, c => {
        sqlx::query_as::<_, Room>(sqlx::AssertSqlSafe(sql)).bind(id).bind(p.collectivite_id).fetch_optional(&mut *c).await?
    });
    match room {
        Some(r) if p.readable_schools().contains(r.school_id) => Ok(r),
        _ => Err(AppError::NotFound),
    }
}

fn label(school: &str, room: &str) -> String {
    format!("{room} — {school}")
}

pub async fn create(
    tx: &mut Tx,
    p: &Principal,
    school_id: i64,
    v: &ValidRoom,
    now: DateTime<Utc>,
) -> AppResult<Room> {
    if !p.readable_schools().contains(school_id) {
        return Err(AppError::NotFound);
    }
    let school = schools::get_in_tx(tx, p.collectivite_id, school_id).await?;
    if !p.can_edit_rooms(school_id) {
        return Err(AppError::Forbidden);
    }
    let id: i64 = with_tx!(tx, c => {
        sqlx::query_scalar("INSERT INTO rooms (school_id, kind, name, building, floor, version, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, 1, $6, $6) RETURNING id")
            .bind(school_id)
            .bind(v.kind.code())
            .bind(&v.name)
            .bind(&v.building)
            .bind(&v.floor)
            .bind(now)
            .fetch_one(&mut *c)
            .await
            .map_err(unique("name", "name_taken"))?
    });
    audit::record(
        tx,
        &Actor::from(p),
        now,
        Entry {
            action: "create",
            object_type: "room",
            object_id: id,
            object_label: &label(&school.name, &v.name),
            changes: audit::created(v),
        },
    )
    .await?;
    get_in_tx(tx, p, id).await
}

pub async fn update(
    tx: &mut Tx,
    p: &Principal,
    id: i64,
    expected_version: i64,
    v: &ValidRoom,
    now: DateTime<Utc>,
) -> AppResult<Room> {
    let before = get_in_tx(tx, p, id).await?;
    if !p.can_edit_rooms(before.school_id) {
        return Err(AppError::Forbidden);
    }
    let n = with_tx!(tx, c => {
        sqlx::query("UPDATE rooms SET kind = $1, name = $2, building = $3, floor = $4, version = version + 1, updated_at = $5 WHERE id = $6 AND version = $7")
            .bind(v.kind.code())
            .bind(&v.name)
            .bind(&v.building)
            .bind(&v.floor)
            .bind(now)
            .bind(id)
            .bind(expected_version)
            .execute(&mut *c)
            .await
            .map_err(unique("name", "name_taken"))?
            .rows_affected()
    });
    crate::error::expect_one_row(n)?;
    let after = get_in_tx(tx, p, id).await?;
    let school = schools::get_in_tx(tx, p.collectivite_id, after.school_id).await?;
    audit::record(
        tx,
        &Actor::from(p),
        now,
        Entry {
            action: "update",
            object_type: "room",
            object_id: id,
            object_label: &label(&school.name, &after.name),
            changes: audit::diff(&before, &after),
        },
    )
    .await?;
    Ok(after)
}

/// Deletes a room nothing refers to any more (a class, a device, a ticket, a visio series or
/// session, a booking resource): otherwise refused, saying so.
pub async fn delete(tx: &mut Tx, p: &Principal, id: i64, now: DateTime<Utc>) -> AppResult<()> {
    let before = get_in_tx(tx, p, id).await?;
    if !p.can_edit_rooms(before.school_id) {
        return Err(AppError::Forbidden);
    }
    // What refers to it: its classes, devices, tickets (their history), visio series and
    // sessions, a booking resource. Each is moved or removed first.
    let used: i64 = with_tx!(tx, c => {
        sqlx::query_scalar("SELECT (SELECT COUNT(*) FROM classes WHERE room_id = $1) + (SELECT COUNT(*) FROM devices WHERE room_id = $1) + (SELECT COUNT(*) FROM tickets WHERE room_id = $1) + (SELECT COUNT(*) FROM visio_series WHERE room_id = $1) + (SELECT COUNT(*) FROM visio_sessions WHERE room_id = $1) + (SELECT COUNT(*) FROM bookables WHERE room_id = $1)").bind(id).fetch_one(&mut *c).await?
    });
    if used > 0 {
        return Err(AppError::Conflict(FieldError::new("room", "room_in_use")));
    }
    with_tx!(tx, c => {
        sqlx::query("DELETE FROM rooms WHERE id = $1").bind(id).execute(&mut *c).await?;
    });
    let school = schools::get_in_tx(tx, p.collectivite_id, before.school_id).await?;
    audit::record(
        tx,
        &Actor::from(p),
        now,
        Entry {
            action: "delete",
            object_type: "room",
            object_id: id,
            object_label: &label(&school.name, &before.name),
            changes: audit::deleted(&before),
        },
    )
    .await?;
    Ok(())
}
