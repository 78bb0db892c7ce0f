//! Shared kits and rooms booked by slot of the school day.
//!
//! A school makes one of its devices (a classe mobile, a visio kit, a set of robots — the
//! devices under it go with it) or one of its rooms bookable; the administrator may share
//! it with other schools, which then need `move_minutes` to bring it over. Bookings hold
//! one slot of a class day (the halves of the day, or the school's own slots) for one
//! school, optionally for a class, alone or repeated weekly until a date (holidays and
//! closed days skipped). A booking that clashes is refused naming who holds the slot; a
//! cart whose tablets are lent to a class as a set cannot be booked while they are.
//!
//! Who does what (`preau_domain::Principal::can_book`, `can_manage_bookables`): the school's
//! staff and technician book; its directeur and technician make resources bookable and
//! cancel any booking of the school; whoever booked cancels their own. Reading follows the
//! schools the caller reads: a booking is seen from the booking school and from the
//! resource's home school. Booked-by names are shown only to those who see the school's
//! people.

use std::collections::HashMap;

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use preau_domain::booking::{self, Event, Held, Slot};
use preau_domain::calendar::Calendar;
use preau_domain::{FieldError, Lang, Principal, SchoolScope};
use serde::Serialize;

use crate::audit::{self, Actor, Entry};
use crate::db::{Db, Param, Sql, Tx};
use crate::error::{AppError, AppResult, expect_one_row};
use crate::visio::refusal;
use crate::{bind_params, calendar, with_db, with_tx};

/// A device or room that can be booked.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Bookable {
    pub id: i64,
    /// Its home school.
    pub school_id: i64,
    pub school: String,
    pub name: String,
    pub device_id: Option<i64>,
    pub room_id: Option<i64>,
    /// The device's category code, or `salle` for a room.
    pub kind: String,
    /// The device's category in French and English (none for a room).
    pub kind_fr: Option<String>,
    pub kind_en: Option<String>,
    pub move_minutes: i64,
    /// The secret of its iCalendar feed; empty for those who may not book it.
    pub feed_token: String,
    pub active: bool,
    pub version: i64,
    /// The other schools it is shared with.
    #[sqlx(skip)]
    pub shared: Vec<(i64, String)>,
    /// The class its tablets are lent to as a set, and since when: not bookable then.
    #[sqlx(skip)]
    pub lent: Option<(String, NaiveDate)>,
}

impl Bookable {
    /// Whether `school` may use it: its home school or one it is shared with.
    pub fn usable_at(&self, school: i64) -> bool {
        self.school_id == school || self.shared.iter().any(|(s, _)| *s == school)
    }
}

const BOOKABLE: &str = "SELECT b.id, b.school_id, s.name AS school, b.name, b.device_id, b.room_id, COALESCE(k.code, 'salle') AS kind, k.label_fr AS kind_fr, k.label_en AS kind_en, b.move_minutes, b.feed_token, b.active, b.version FROM bookables b JOIN schools s ON s.id = b.school_id LEFT JOIN devices d ON d.id = b.device_id LEFT JOIN device_categories k ON k.id = d.category_id WHERE b.collectivite_id = ";

/// Appends the scope of the schools read: a resource is seen from its home school and
/// from the schools it is shared with.
fn scope(sql: &mut Sql, schools: &SchoolScope) {
    if let Some(ids) = schools.ids() {
        sql.push(" AND (b.school_id IN ")
            .bind_list(&ids)
            .push(" OR b.id IN (SELECT bookable_id FROM bookable_schools WHERE school_id IN ")
            .bind_list(&ids)
            .push("))");
    }
}

/// The resources the caller reads, those usable at `school` when given (404 for a school
/// outside the caller's), active ones only unless `all`.
pub async fn bookables(
    db: &Db,
    p: &Principal,
    school: Option<i64>,
    all: bool,
) -> AppResult<Vec<Bookable>> {
    let reach = p.readable_schools();
    if let Some(s) = school
        && !reach.contains(s)
    {
        return Err(AppError::NotFound);
    }
    let mut sql = Sql::new(BOOKABLE);
    sql.bind(Param::I64(p.collectivite_id));
    scope(&mut sql, &reach);
    if let Some(s) = school {
        sql.push(" AND (b.school_id = ")
            .bind(Param::I64(s))
            .push(" OR b.id IN (SELECT bookable_id FROM bookable_schools WHERE school_id = ")
            .bind(Param::I64(s))
            .push("))");
    }
    if !all {
        sql.push(" AND b.active = TRUE");
    }
    sql.push(" ORDER BY s.name, b.name, b.id LIMIT 500");
    let mut list: Vec<Bookable> = with_db!(db, pool => {
        bind_params!(sqlx::query_as(sqlx::AssertSqlSafe(sql.text.clone())), &sql.params).fetch_all(pool).await?
    });
    complete(db, p, &mut list).await?;
    Ok(list)
}

/// One resource the caller reads (404 otherwise).
pub async fn bookable(db: &Db, p: &Principal, id: i64) -> AppResult<Bookable> {
    let mut sql = Sql::new(BOOKABLE);
    sql.bind(Param::I64(p.collectivite_id));
    scope(&mut sql, &p.readable_schools());
    sql.push(" AND b.id = ").bind(Param::I64(id));
    let mut list: Vec<Bookable> = with_db!(db, pool => {
        bind_params!(sqlx::query_as(sqlx::AssertSqlSafe(sql.text.clone())), &sql.params).fetch_all(pool).await?
    });
    complete(db, p, &mut list).await?;
    list.pop().ok_or(AppError::NotFound)
}

/// Fills the schools each resource is shared with, the class set it is lent as, and
/// blanks the feed's secret for those who may not book it.
async fn complete(db: &Db, p: &Principal, list: &mut [Bookable]) -> AppResult<()> {
    if list.is_empty() {
        return Ok(());
    }
    let ids: Vec<i64> = list.iter().map(|b| b.id).collect();
    let mut sql = Sql::new(
        "SELECT bs.bookable_id, bs.school_id, s.name FROM bookable_schools bs JOIN schools s ON s.id = bs.school_id WHERE bs.bookable_id IN ",
    );
    sql.bind_list(&ids).push(" ORDER BY s.name");
    let shared: Vec<(i64, i64, String)> = with_db!(db, pool => {
        bind_params!(sqlx::query_as(sqlx::AssertSqlSafe(sql.text.clone())), &sql.params).fetch_all(pool).await?
    });
    let mut sql = Sql::new(
        "SELECT b.id, c.label, MIN(l.given_on) FROM bookables b JOIN devices d ON d.id = b.device_id OR d.parent_id = b.device_id JOIN loans l ON l.device_id = d.id AND l.returned_on IS NULL AND l.kind = 'classe' JOIN classes c ON c.id = l.class_id WHERE b.id IN ",
    );
    sql.bind_list(&ids).push(" GROUP BY b.id, c.label");
    let lent: Vec<(i64, String, NaiveDate)> = with_db!(db, pool => {
        bind_params!(sqlx::query_as(sqlx::AssertSqlSafe(sql.text.clone())), &sql.params).fetch_all(pool).await?
    });
    for b in list.iter_mut() {
        b.shared = shared
            .iter()
            .filter(|(id, _, _)| *id == b.id)
            .map(|(_, s, n)| (*s, n.clone()))
            .collect();
        b.lent = lent
            .iter()
            .find(|(id, _, _)| *id == b.id)
            .map(|(_, c, d)| (c.clone(), *d));
        let may_book = p.can_book(b.school_id) || b.shared.iter().any(|(s, _)| p.can_book(*s));
        if !may_book {
            b.feed_token.clear();
        }
    }
    Ok(())
}

/// What makes a resource bookable, or changes it.
#[derive(Debug, Clone, Default)]
pub struct BookableInput {
    /// A device (with the devices under it) or a room: exactly one.
    pub device_id: Option<i64>,
    pub room_id: Option<i64>,
    /// Empty: the device's or room's name.
    pub name: String,
    pub move_minutes: i64,
    /// Other schools it is shared with (the administrator's decision).
    pub shared: Vec<i64>,
}

/// Checks the schools a resource is shared with: of the collectivité, not its home.
async fn check_shared(
    tx: &mut Tx,
    p: &Principal,
    home: i64,
    shared: &[i64],
) -> AppResult<Vec<i64>> {
    let mut ids: Vec<i64> = shared.iter().copied().filter(|s| *s != home).collect();
    ids.sort_unstable();
    ids.dedup();
    if ids.len() > 200 {
        return Err(FieldError::new("shared", "too_many").into());
    }
    if ids.is_empty() {
        return Ok(ids);
    }
    let mut sql = Sql::new("SELECT COUNT(*) FROM schools WHERE collectivite_id = ");
    sql.bind(Param::I64(p.collectivite_id))
        .push(" AND id IN ")
        .bind_list(&ids);
    let known: i64 = with_tx!(tx, c => {
        bind_params!(sqlx::query_scalar(sqlx::AssertSqlSafe(sql.text.clone())), &sql.params).fetch_one(&mut *c).await?
    });
    if known != ids.len() as i64 {
        return Err(FieldError::new("shared", "unknown_value").into());
    }
    Ok(ids)
}

async fn write_shared(tx: &mut Tx, id: i64, shared: &[i64]) -> AppResult<()> {
    with_tx!(tx, c => {
        sqlx::query("DELETE FROM bookable_schools WHERE bookable_id = $1").bind(id).execute(&mut *c).await?;
    });
    for s in shared {
        with_tx!(tx, c => {
            sqlx::query("INSERT INTO bookable_schools (bookable_id, school_id) VALUES ($1, $2)").bind(id).bind(*s).execute(&mut *c).await?;
        });
    }
    Ok(())
}

fn check_move(move_minutes: i64) -> AppResult<i64> {
    if (0..=booking::MAX_MOVE_MINUTES).contains(&move_minutes) {
        Ok(move_minutes)
    } else {
        Err(FieldError::new("move_minutes", "out_of_range").into())
    }
}

/// Makes a device or a room bookable; the administrator's or the home school's directeur's
/// or technician's. Sharing it with other schools is the administrator's.
pub async fn create_bookable(
    tx: &mut Tx,
    p: &Principal,
    input: &BookableInput,
    now: DateTime<Utc>,
) -> AppResult<i64> {
    let cid = p.collectivite_id;
    let place: Option<(i64, String)> = match (input.device_id, input.room_id) {
        (Some(d), None) => with_tx!(tx, c => {
            sqlx::query_as("SELECT d.school_id, COALESCE(d.name, d.asset_tag, k.label_fr) FROM devices d JOIN device_categories k ON k.id = d.category_id WHERE d.id = $1 AND d.collectivite_id = $2 AND d.school_id IS NOT NULL AND d.state IN ('en_service', 'prete', 'en_stock')")
                .bind(d).bind(cid).fetch_optional(&mut *c).await?
        }),
        (None, Some(r)) => with_tx!(tx, c => {
            sqlx::query_as("SELECT r.school_id, r.name FROM rooms r JOIN schools s ON s.id = r.school_id WHERE r.id = $1 AND s.collectivite_id = $2")
                .bind(r).bind(cid).fetch_optional(&mut *c).await?
        }),
        _ => return Err(FieldError::new("device_id", "not_bookable_kind").into()),
    };
    let field = if input.device_id.is_some() {
        "device_id"
    } else {
        "room_id"
    };
    let Some((school, default_name)) = place else {
        return Err(FieldError::new(field, "unknown_value").into());
    };
    if !p.can_manage_bookables(school) {
        return Err(refusal(p, school));
    }
    if !input.shared.is_empty() && !p.is_admin() {
        return Err(AppError::Forbidden);
    }
    let name = if input.name.trim().is_empty() {
        default_name
    } else {
        input.name.clone()
    };
    let name = preau_domain::text::required("name", &name, 80)?;
    let move_minutes = check_move(input.move_minutes)?;
    let shared = check_shared(tx, p, school, &input.shared).await?;
    let taken: i64 = with_tx!(tx, c => {
        sqlx::query_scalar("SELECT COUNT(*) FROM bookables WHERE device_id = $1 OR room_id = $2").bind(input.device_id).bind(input.room_id).fetch_one(&mut *c).await?
    });
    if taken > 0 {
        return Err(AppError::Conflict(FieldError::new(
            field,
            "already_bookable",
        )));
    }
    let id: i64 = with_tx!(tx, c => {
        sqlx::query_scalar("INSERT INTO bookables (collectivite_id, school_id, device_id, room_id, name, move_minutes, feed_token, active, version, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, TRUE, 1, $8, $8) RETURNING id")
            .bind(cid).bind(school).bind(input.device_id).bind(input.room_id).bind(&name).bind(move_minutes)
            .bind(crate::secrets::random_token()).bind(now).fetch_one(&mut *c).await?
    });
    write_shared(tx, id, &shared).await?;
    audit::record(
        tx,
        &Actor::from(p),
        now,
        Entry {
            action: "create",
            object_type: "bookable",
            object_id: id,
            object_label: &name,
            changes: serde_json::json!({"device_id": input.device_id, "room_id": input.room_id, "move_minutes": move_minutes, "shared": shared}),
        },
    )
    .await?;
    Ok(id)
}

/// A change to a resource.
#[derive(Debug, Clone)]
pub struct BookableChange {
    pub name: String,
    pub move_minutes: i64,
    /// `None`: the schools it is shared with stay as they are.
    pub shared: Option<Vec<i64>>,
    pub active: bool,
    /// A new secret address for its feed (the old one stops answering).
    pub renew_feed: bool,
}

/// Changes a resource under its `version`; sharing it is the administrator's.
pub async fn update_bookable(
    tx: &mut Tx,
    p: &Principal,
    id: i64,
    version: i64,
    ch: &BookableChange,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let row: Option<i64> = with_tx!(tx, c => {
        sqlx::query_scalar("SELECT school_id FROM bookables WHERE id = $1 AND collectivite_id = $2").bind(id).bind(p.collectivite_id).fetch_optional(&mut *c).await?
    });
    let Some(school) = row else {
        return Err(AppError::NotFound);
    };
    if !p.can_manage_bookables(school) {
        return Err(refusal(p, school));
    }
    let name = preau_domain::text::required("name", &ch.name, 80)?;
    let move_minutes = check_move(ch.move_minutes)?;
    let done = with_tx!(tx, c => {
        sqlx::query("UPDATE bookables SET name = $1, move_minutes = $2, active = $3, version = version + 1, updated_at = $4 WHERE id = $5 AND version = $6")
            .bind(&name).bind(move_minutes).bind(ch.active).bind(now).bind(id).bind(version).execute(&mut *c).await?.rows_affected()
    });
    expect_one_row(done)?;
    if ch.renew_feed {
        with_tx!(tx, c => {
            sqlx::query("UPDATE bookables SET feed_token = $1 WHERE id = $2").bind(crate::secrets::random_token()).bind(id).execute(&mut *c).await?;
        });
    }
    let mut shared_now = None;
    if let Some(shared) = &ch.shared {
        let current: Vec<i64> = with_tx!(tx, c => {
            sqlx::query_scalar("SELECT school_id FROM bookable_schools WHERE bookable_id = $1 ORDER BY school_id").bind(id).fetch_all(&mut *c).await?
        });
        let wanted = check_shared(tx, p, school, shared).await?;
        if wanted != current {
            if !p.is_admin() {
                return Err(AppError::Forbidden);
            }
            write_shared(tx, id, &wanted).await?;
            shared_now = Some(wanted);
        }
    }
    audit::record(
        tx,
        &Actor::from(p),
        now,
        Entry {
            action: "update",
            object_type: "bookable",
            object_id: id,
            object_label: &name,
            changes: serde_json::json!({"move_minutes": move_minutes, "active": ch.active, "shared": shared_now, "feed_renewed": ch.renew_feed}),
        },
    )
    .await?;
    Ok(())
}

/// Devices and rooms of a school that could be made bookable: sets (a device with devices
/// under it) and mobile equipment in service, and the rooms — those not bookable yet.
/// Each as (device id, room id, label).
pub async fn candidates(
    db: &Db,
    p: &Principal,
    school: i64,
) -> AppResult<Vec<(Option<i64>, Option<i64>, String)>> {
    if !p.can_manage_bookables(school) {
        return Err(refusal(p, school));
    }
    let devices: Vec<(i64, String, String)> = with_db!(db, pool => {
        sqlx::query_as("SELECT d.id, k.label_fr, COALESCE(d.name, d.asset_tag, '') FROM devices d JOIN device_categories k ON k.id = d.category_id WHERE d.school_id = $1 AND d.parent_id IS NULL AND d.state IN ('en_service', 'en_stock') AND (k.code IN ('classe_mobile', 'kit_visio', 'robot', 'visualiseur', 'portable', 'webcam', 'micro', 'enceintes', 'videoprojecteur', 'autre') OR EXISTS (SELECT 1 FROM devices x WHERE x.parent_id = d.id)) AND NOT EXISTS (SELECT 1 FROM bookables b WHERE b.device_id = d.id) ORDER BY k.label_fr, d.name, d.id LIMIT 300")
            .bind(school).fetch_all(pool).await?
    });
    let rooms: Vec<(i64, String)> = with_db!(db, pool => {
        sqlx::query_as("SELECT r.id, r.name FROM rooms r WHERE r.school_id = $1 AND NOT EXISTS (SELECT 1 FROM bookables b WHERE b.room_id = r.id) ORDER BY r.name LIMIT 300")
            .bind(school).fetch_all(pool).await?
    });
    let mut out: Vec<(Option<i64>, Option<i64>, String)> = devices
        .into_iter()
        .map(|(id, kind, name)| (Some(id), None, format!("{kind} — {name}")))
        .collect();
    out.extend(
        rooms
            .into_iter()
            .map(|(id, name)| (None, Some(id), format!("Salle — {name}"))),
    );
    Ok(out)
}

/// A booking.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Booking {
    pub id: i64,
    pub bookable_id: i64,
    pub bookable: String,
    /// The resource's home school.
    pub home_school_id: i64,
    pub home_school: String,
    pub school_id: i64,
    pub school: String,
    pub class_id: Option<i64>,
    pub class_label: Option<String>,
    pub day: NaiveDate,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub repeat_id: Option<i64>,
    pub note: String,
    pub booked_by: Option<i64>,
    /// Empty for those who do not see the school's people.
    pub booked_by_name: String,
    pub cancelled_at: Option<DateTime<Utc>>,
}

impl Booking {
    /// Who holds it, as a refusal or the grid says it: "École Jules-Ferry — CM1 A (Mme
    /// Martin)", the person only when the caller sees them.
    pub fn holder(&self) -> String {
        self.holder_seen_from(None)
    }

    /// Who holds it, seen from a school's week: that school's own bookings say only the
    /// class and the person.
    pub fn holder_seen_from(&self, school: Option<i64>) -> String {
        let mut parts = Vec::new();
        if school != Some(self.school_id) {
            parts.push(self.school.clone());
        }
        if let Some(c) = &self.class_label {
            parts.push(c.clone());
        }
        let mut s = parts.join(" — ");
        if !self.booked_by_name.is_empty() {
            if s.is_empty() {
                s = self.booked_by_name.clone();
            } else {
                s.push_str(&format!(" ({})", self.booked_by_name));
            }
        }
        if s.is_empty() {
            s = self.school.clone();
        }
        s
    }

    /// The resource's name, with its home school when that is not the booking school's
    /// ("Classe mobile 1 (École maternelle Les Tilleuls)").
    pub fn resource(&self) -> String {
        if self.home_school_id == self.school_id {
            self.bookable.clone()
        } else {
            format!("{} ({})", self.bookable, self.home_school)
        }
    }

    /// As `p` may see it: the person who booked named only to those who see the school's
    /// people.
    pub fn seen_by(mut self, p: &Principal) -> Booking {
        if !p.can_see_people(self.school_id) {
            self.booked_by_name.clear();
        }
        self
    }

    pub fn held(&self) -> Held {
        Held {
            school_id: self.school_id,
            starts: self.starts_at,
            ends: self.ends_at,
        }
    }
}

const BOOKING: &str = "SELECT k.id, k.bookable_id, b.name AS bookable, b.school_id AS home_school_id, h.name AS home_school, k.school_id, s.name AS school, k.class_id, c.label AS class_label, k.day, k.starts_at, k.ends_at, k.repeat_id, k.note, k.booked_by, k.booked_by_name, k.cancelled_at FROM bookings k JOIN bookables b ON b.id = k.bookable_id JOIN schools h ON h.id = b.school_id JOIN schools s ON s.id = k.school_id LEFT JOIN classes c ON c.id = k.class_id WHERE b.collectivite_id = ";

/// Which bookings to list.
#[derive(Debug, Clone, Default)]
pub struct BookingFilter {
    pub bookable: Option<i64>,
    pub school: Option<i64>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    /// Only the caller's own.
    pub mine: bool,
    pub with_cancelled: bool,
}

/// Most bookings one call lists.
pub const MAX_BOOKINGS: i64 = 1000;

/// The bookings the caller reads (those of their schools, and those of their schools'
/// resources), by start; `limit + 1` rows to tell a next page.
pub async fn bookings(
    db: &Db,
    p: &Principal,
    f: &BookingFilter,
    offset: i64,
    limit: i64,
) -> AppResult<Vec<Booking>> {
    let reach = p.readable_schools();
    let mut sql = Sql::new(BOOKING);
    sql.bind(Param::I64(p.collectivite_id));
    if let Some(ids) = reach.ids() {
        sql.push(" AND (k.school_id IN ")
            .bind_list(&ids)
            .push(" OR b.school_id IN ")
            .bind_list(&ids)
            .push(")");
    }
    if let Some(b) = f.bookable {
        sql.push(" AND k.bookable_id = ").bind(Param::I64(b));
    }
    if let Some(s) = f.school {
        sql.push(" AND k.school_id = ").bind(Param::I64(s));
    }
    if let Some(t) = f.from {
        sql.push(" AND k.ends_at > ").bind(Param::Time(t));
    }
    if let Some(t) = f.to {
        sql.push(" AND k.starts_at < ").bind(Param::Time(t));
    }
    if f.mine {
        sql.push(" AND k.booked_by = ").bind(Param::I64(p.user_id));
    }
    if !f.with_cancelled {
        sql.push(" AND k.cancelled_at IS NULL");
    }
    sql.push(" ORDER BY k.starts_at, k.id")
        .limit_plus_one(limit.clamp(1, MAX_BOOKINGS));
    sql.push(" OFFSET ").bind(Param::I64(offset.max(0)));
    let list: Vec<Booking> = with_db!(db, pool => {
        bind_params!(sqlx::query_as(sqlx::AssertSqlSafe(sql.text.clone())), &sql.params).fetch_all(pool).await?
    });
    Ok(list.into_iter().map(|b| b.seen_by(p)).collect())
}

/// One booking the caller reads (404 otherwise).
pub async fn booking(db: &Db, p: &Principal, id: i64) -> AppResult<Booking> {
    let mut sql = Sql::new(BOOKING);
    sql.bind(Param::I64(p.collectivite_id))
        .push(" AND k.id = ")
        .bind(Param::I64(id));
    let b: Option<Booking> = with_db!(db, pool => {
        bind_params!(sqlx::query_as(sqlx::AssertSqlSafe(sql.text.clone())), &sql.params).fetch_optional(pool).await?
    });
    let b = b.ok_or(AppError::NotFound)?;
    let reach = p.readable_schools();
    if !reach.contains(b.school_id) && !reach.contains(b.home_school_id) {
        return Err(AppError::NotFound);
    }
    Ok(b.seen_by(p))
}

/// Whether the caller may cancel a booking: who booked it, the booking school's or the
/// resource's home school's directeur or technician, the administrator.
pub fn may_cancel(p: &Principal, b: &Booking) -> bool {
    b.booked_by == Some(p.user_id)
        || p.can_manage_bookables(b.school_id)
        || p.can_manage_bookables(b.home_school_id)
}

/// A booking asked for.
#[derive(Debug, Clone)]
pub struct BookingInput {
    pub bookable_id: i64,
    /// The school booking; `None`: the resource's home school.
    pub school_id: Option<i64>,
    pub day: NaiveDate,
    pub slot: Slot,
    pub class_id: Option<i64>,
    pub note: String,
    /// Repeated each week until this day (included), class days only.
    pub repeat_until: Option<NaiveDate>,
}

/// The schools of the collectivité in service that pass `keep` (the caller's, by a rule
/// of `Principal`), by name.
pub async fn schools_where(
    db: &Db,
    p: &Principal,
    keep: impl Fn(i64) -> bool,
) -> AppResult<Vec<(i64, String)>> {
    let rows: Vec<(i64, String)> = with_db!(db, pool => {
        sqlx::query_as("SELECT id, name FROM schools WHERE collectivite_id = $1 AND status = 'active' ORDER BY name")
            .bind(p.collectivite_id).fetch_all(pool).await?
    });
    Ok(rows.into_iter().filter(|r| keep(r.0)).collect())
}

/// The classes of a school in the school year of `today`: (id, label, teacher).
pub async fn school_classes(
    db: &Db,
    school: i64,
    today: NaiveDate,
) -> AppResult<Vec<(i64, String, String)>> {
    Ok(with_db!(db, pool => {
        sqlx::query_as("SELECT c.id, c.label, COALESCE(c.teacher_name, '') FROM classes c JOIN school_years y ON y.id = c.school_year_id WHERE c.school_id = $1 AND y.starts_on <= $2 AND y.ends_on >= $2 ORDER BY c.label")
            .bind(school).bind(today).fetch_all(pool).await?
    }))
}

/// The class a person usually books for at a school: the one of their last booking there,
/// else the class whose teacher bears their name.
pub async fn usual_class(
    db: &Db,
    p: &Principal,
    school: i64,
    classes: &[(i64, String, String)],
) -> AppResult<Option<i64>> {
    let last: Option<Option<i64>> = with_db!(db, pool => {
        sqlx::query_scalar("SELECT class_id FROM bookings WHERE booked_by = $1 AND school_id = $2 AND class_id IS NOT NULL ORDER BY id DESC LIMIT 1")
            .bind(p.user_id).bind(school).fetch_optional(pool).await?
    });
    if let Some(Some(c)) = last
        && classes.iter().any(|x| x.0 == c)
    {
        return Ok(Some(c));
    }
    Ok(classes
        .iter()
        .find(|(_, _, teacher)| preau_domain::text::same_person(teacher, &p.display_name))
        .map(|c| c.0))
}

/// The last day of the school year of `today`.
pub async fn year_end(db: &Db, p: &Principal, today: NaiveDate) -> AppResult<Option<NaiveDate>> {
    Ok(with_db!(db, pool => {
        sqlx::query_scalar("SELECT ends_on FROM school_years WHERE collectivite_id = $1 AND starts_on <= $2 AND ends_on >= $2 ORDER BY starts_on DESC LIMIT 1")
            .bind(p.collectivite_id).bind(today).fetch_optional(pool).await?
    }))
}

/// A school's calendar for bookings: its class days, the days it declared closed, its own
/// slots.
pub struct SchoolDays {
    pub cal: Calendar,
    pub closed: Vec<NaiveDate>,
    pub own: Vec<Slot>,
}

impl SchoolDays {
    /// From the school's calendar, its closed days and its slots as stored (slots that no
    /// longer parse fall back to the halves of the day).
    fn of(cal: Calendar, closed: Vec<NaiveDate>, own: &str) -> SchoolDays {
        SchoolDays {
            cal,
            closed,
            own: booking::parse_slots("booking_slots", own).unwrap_or_default(),
        }
    }

    pub fn slots(&self, day: NaiveDate) -> Vec<Slot> {
        booking::day_slots(&self.cal, &self.own, day, self.closed.contains(&day))
    }
    /// Slots are the halves of the day (named "matin", "après-midi").
    pub fn halves(&self) -> bool {
        self.own.is_empty()
    }
}

pub(crate) async fn school_days_in_tx(tx: &mut Tx, school: i64) -> AppResult<SchoolDays> {
    let cal = calendar::of_school_in_tx(tx, school).await?;
    let closed: Vec<NaiveDate> = with_tx!(tx, c => {
        sqlx::query_scalar("SELECT day FROM school_closed_days WHERE school_id = $1").bind(school).fetch_all(&mut *c).await?
    });
    let own: String = with_tx!(tx, c => {
        sqlx::query_scalar("SELECT booking_slots FROM schools WHERE id = $1").bind(school).fetch_one(&mut *c).await?
    });
    Ok(SchoolDays::of(cal, closed, &own))
}

/// The booking calendar of a school.
pub async fn school_days(db: &Db, school: i64) -> AppResult<SchoolDays> {
    let cal = calendar::of_school(db, school).await?;
    let closed: Vec<NaiveDate> = with_db!(db, pool => {
        sqlx::query_scalar("SELECT day FROM school_closed_days WHERE school_id = $1").bind(school).fetch_all(pool).await?
    });
    let own: String = with_db!(db, pool => {
        sqlx::query_scalar("SELECT booking_slots FROM schools WHERE id = $1").bind(school).fetch_one(pool).await?
    });
    Ok(SchoolDays::of(cal, closed, &own))
}

/// Books a resource: one slot, or the same slot each week until a day (class days only).
/// Everything is checked before anything is written: a clash anywhere refuses the whole
/// booking, naming who holds the slots (up to three). Returns the bookings' ids.
pub async fn book(
    tx: &mut Tx,
    p: &Principal,
    input: &BookingInput,
    now: DateTime<Utc>,
) -> AppResult<Vec<i64>> {
    let row: Option<(i64, i64, bool, String, Option<i64>)> = with_tx!(tx, c => {
        sqlx::query_as("SELECT school_id, move_minutes, active, name, device_id FROM bookables WHERE id = $1 AND collectivite_id = $2")
            .bind(input.bookable_id).bind(p.collectivite_id).fetch_optional(&mut *c).await?
    });
    let Some((home, move_minutes, active, name, device)) = row else {
        return Err(AppError::NotFound);
    };
    let shared: Vec<i64> = with_tx!(tx, c => {
        sqlx::query_scalar("SELECT school_id FROM bookable_schools WHERE bookable_id = $1").bind(input.bookable_id).fetch_all(&mut *c).await?
    });
    let reach = p.readable_schools();
    if !reach.contains(home) && !shared.iter().any(|s| reach.contains(*s)) {
        return Err(AppError::NotFound);
    }
    let school = input.school_id.unwrap_or(home);
    if !p.can_book(school) {
        return Err(refusal(p, school));
    }
    if school != home && !shared.contains(&school) {
        return Err(FieldError::new("school_id", "not_shared").into());
    }
    if !active {
        return Err(FieldError::new("bookable_id", "unknown_value").into());
    }
    // Bookings of one resource are written one at a time (SQLite's writer is alone).
    if let Tx::Postgres(t) = tx {
        sqlx::query("SELECT id FROM bookables WHERE id = $1 FOR UPDATE")
            .bind(input.bookable_id)
            .execute(&mut **t)
            .await?;
    }
    let days = school_days_in_tx(tx, school).await?;
    let mut errors = Vec::new();
    let note = preau_domain::text::optional("note", Some(&input.note), 200);
    if let Err(e) = &note {
        errors.push(e.clone());
    }
    if !days.slots(input.day).contains(&input.slot) {
        errors.push(FieldError::new("slot", "not_a_slot"));
    } else if input.slot.on(input.day).1 <= now {
        errors.push(FieldError::new("day", "in_past"));
    }
    if let Some(c) = input.class_id {
        let of: Option<i64> = with_tx!(tx, x => {
            sqlx::query_scalar("SELECT school_id FROM classes WHERE id = $1").bind(c).fetch_optional(&mut *x).await?
        });
        if of != Some(school) {
            errors.push(FieldError::new("class_id", "unknown_value"));
        }
    }
    let dates = match input.repeat_until {
        None => vec![input.day],
        Some(until) => {
            match booking::weekly(input.day, until, |d| days.slots(d).contains(&input.slot)) {
                Ok(v) => v,
                Err(e) => {
                    errors.push(e);
                    Vec::new()
                }
            }
        }
    };
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let note = note.unwrap_or_default().unwrap_or_default();
    let (Some(first), Some(last)) = (dates.first(), dates.last()) else {
        return Err(FieldError::new("slot", "not_a_slot").into());
    };
    // A cart whose tablets are lent to a class as a set.
    if let Some(d) = device {
        let lent: Option<(String, NaiveDate)> = with_tx!(tx, c => {
            sqlx::query_as("SELECT c.label, l.given_on FROM devices d JOIN loans l ON l.device_id = d.id AND l.returned_on IS NULL AND l.kind = 'classe' JOIN classes c ON c.id = l.class_id WHERE (d.id = $1 OR d.parent_id = $1) AND l.given_on <= $2 ORDER BY l.given_on LIMIT 1")
                .bind(d).bind(*last).fetch_optional(&mut *c).await?
        });
        if let Some((class, since)) = lent {
            return Err(AppError::Conflict(
                FieldError::new("bookable_id", "lent_to_class")
                    .with_detail(format!("{class}, depuis le {}", since.format("%d/%m/%Y"))),
            ));
        }
    }
    let wanted: Vec<Held> = dates
        .iter()
        .map(|d| {
            let (starts, ends) = input.slot.on(*d);
            Held {
                school_id: school,
                starts,
                ends,
            }
        })
        .collect();
    let gap = Duration::minutes(move_minutes);
    let (from, to) = (input.slot.on(*first).0 - gap, input.slot.on(*last).1 + gap);
    let mut sql = Sql::new(BOOKING);
    sql.bind(Param::I64(p.collectivite_id))
        .push(" AND k.bookable_id = ")
        .bind(Param::I64(input.bookable_id))
        .push(" AND k.cancelled_at IS NULL AND k.starts_at < ")
        .bind(Param::Time(to))
        .push(" AND k.ends_at > ")
        .bind(Param::Time(from))
        .push(" ORDER BY k.starts_at");
    let held: Vec<Booking> = with_tx!(tx, c => {
        bind_params!(sqlx::query_as(sqlx::AssertSqlSafe(sql.text.clone())), &sql.params).fetch_all(&mut *c).await?
    });
    let lang = p.lang;
    let clashes: Vec<String> = wanted
        .iter()
        .flat_map(|w| {
            held.iter()
                .filter(|h| booking::clashes(&h.held(), w, move_minutes))
                .map(move |h| (w, h))
        })
        .map(|(w, h)| {
            let h = h.clone().seen_by(p);
            format!(
                "{} {} — {}",
                booking::day_label(preau_domain::paris::day(w.starts), lang),
                input.slot.label(lang, days.halves()),
                h.holder()
            )
        })
        .collect();
    if !clashes.is_empty() {
        let mut detail = clashes
            .iter()
            .take(3)
            .cloned()
            .collect::<Vec<_>>()
            .join(" ; ");
        if clashes.len() > 3 {
            detail.push_str(&format!(" ; et {} autre(s)", clashes.len() - 3));
        }
        return Err(AppError::Conflict(
            FieldError::new("slot", "slot_taken").with_detail(detail),
        ));
    }
    let place = Place {
        bookable_id: input.bookable_id,
        school_id: school,
        class_id: input.class_id,
        slot: input.slot,
    };
    let ids = insert(
        tx,
        &place,
        &dates,
        &note,
        (Some(p.user_id), &p.display_name),
        now,
    )
    .await?;
    audit::record(
        tx,
        &Actor::from(p),
        now,
        Entry {
            action: "create",
            object_type: "booking",
            object_id: ids[0],
            object_label: &format!("{name} {} {}", first.format("%d/%m/%Y"), input.slot.code()),
            changes: serde_json::json!({"bookable_id": input.bookable_id, "school_id": school, "class_id": input.class_id, "slot": input.slot.code(), "from": first, "to": last, "bookings": ids.len()}),
        },
    )
    .await?;
    Ok(ids)
}

/// Where and when bookings are written: a resource, the school booking it, the class, the
/// slot.
pub(crate) struct Place {
    pub bookable_id: i64,
    pub school_id: i64,
    pub class_id: Option<i64>,
    pub slot: Slot,
}

/// Writes bookings of one slot on each of `dates`, checked by the caller; several make a
/// weekly repeat, sharing the first one's id as `repeat_id`. Returns their ids.
pub(crate) async fn insert(
    tx: &mut Tx,
    at: &Place,
    dates: &[NaiveDate],
    note: &str,
    by: (Option<i64>, &str),
    now: DateTime<Utc>,
) -> AppResult<Vec<i64>> {
    let mut ids = Vec::with_capacity(dates.len());
    let mut repeat: Option<i64> = None;
    for d in dates {
        let (starts, ends) = at.slot.on(*d);
        let id: i64 = with_tx!(tx, c => {
            sqlx::query_scalar("INSERT INTO bookings (bookable_id, school_id, class_id, day, starts_at, ends_at, repeat_id, note, booked_by, booked_by_name, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id")
                .bind(at.bookable_id).bind(at.school_id).bind(at.class_id).bind(*d).bind(starts).bind(ends)
                .bind(repeat).bind(note).bind(by.0).bind(by.1).bind(now).fetch_one(&mut *c).await?
        });
        if dates.len() > 1 && repeat.is_none() {
            repeat = Some(id);
            with_tx!(tx, c => {
                sqlx::query("UPDATE bookings SET repeat_id = $1 WHERE id = $1").bind(id).execute(&mut *c).await?;
            });
        }
        ids.push(id);
    }
    Ok(ids)
}

/// Cancels a booking, and with `following` the next ones of its weekly repeat. Returns
/// how many were cancelled.
pub async fn cancel(
    tx: &mut Tx,
    p: &Principal,
    id: i64,
    following: bool,
    now: DateTime<Utc>,
) -> AppResult<usize> {
    type Row = (
        i64,
        i64,
        Option<i64>,
        DateTime<Utc>,
        Option<i64>,
        Option<DateTime<Utc>>,
        i64,
        String,
    );
    let row: Option<Row> = with_tx!(tx, c => {
        sqlx::query_as("SELECT k.school_id, b.school_id, k.repeat_id, k.starts_at, k.booked_by, k.cancelled_at, k.bookable_id, b.name FROM bookings k JOIN bookables b ON b.id = k.bookable_id WHERE k.id = $1 AND b.collectivite_id = $2")
            .bind(id).bind(p.collectivite_id).fetch_optional(&mut *c).await?
    });
    let Some((school, home, repeat, starts, by, cancelled, bookable, name)) = row else {
        return Err(AppError::NotFound);
    };
    let reach = p.readable_schools();
    if !reach.contains(school) && !reach.contains(home) {
        return Err(AppError::NotFound);
    }
    let own = by == Some(p.user_id);
    if !(own || p.can_manage_bookables(school) || p.can_manage_bookables(home)) {
        return Err(AppError::Forbidden);
    }
    if cancelled.is_some() {
        return Err(AppError::Conflict(FieldError::new("id", "cancelled")));
    }
    let by_name = p.display_name.clone();
    let n = match (following, repeat) {
        (true, Some(r)) => with_tx!(tx, c => {
            sqlx::query("UPDATE bookings SET cancelled_at = $1, cancelled_by = $2 WHERE repeat_id = $3 AND starts_at >= $4 AND cancelled_at IS NULL")
                .bind(now).bind(&by_name).bind(r).bind(starts).execute(&mut *c).await?.rows_affected()
        }),
        _ => with_tx!(tx, c => {
            sqlx::query("UPDATE bookings SET cancelled_at = $1, cancelled_by = $2 WHERE id = $3 AND cancelled_at IS NULL")
                .bind(now).bind(&by_name).bind(id).execute(&mut *c).await?.rows_affected()
        }),
    };
    audit::record(
        tx,
        &Actor::from(p),
        now,
        Entry {
            action: "cancel",
            object_type: "booking",
            object_id: id,
            object_label: &format!("{name} {}", preau_domain::paris::display(starts)),
            changes: serde_json::json!({"bookable_id": bookable, "following": following, "cancelled": n}),
        },
    )
    .await?;
    Ok(n as usize)
}

/// Sets a school's own booking slots (empty: the halves of its class days); the
/// administrator's or the school's directeur's or technician's.
pub async fn set_slots(
    tx: &mut Tx,
    p: &Principal,
    school: i64,
    text: &str,
    now: DateTime<Utc>,
) -> AppResult<Vec<Slot>> {
    let known: Option<String> = with_tx!(tx, c => {
        sqlx::query_scalar("SELECT name FROM schools WHERE id = $1 AND collectivite_id = $2").bind(school).bind(p.collectivite_id).fetch_optional(&mut *c).await?
    });
    let Some(name) = known else {
        return Err(AppError::NotFound);
    };
    if !p.can_manage_bookables(school) {
        return Err(refusal(p, school));
    }
    let slots = booking::parse_slots("booking_slots", text)?;
    let code = booking::slots_code(&slots);
    with_tx!(tx, c => {
        sqlx::query("UPDATE schools SET booking_slots = $1 WHERE id = $2").bind(&code).bind(school).execute(&mut *c).await?;
    });
    audit::record(
        tx,
        &Actor::from(p),
        now,
        Entry {
            action: "update",
            object_type: "school",
            object_id: school,
            object_label: &name,
            changes: serde_json::json!({"booking_slots": code}),
        },
    )
    .await?;
    Ok(slots)
}

/// What one slot of the week grid holds for one resource.
#[derive(Debug, Clone)]
pub enum CellState {
    Free,
    /// Over already.
    Past,
    /// Booked.
    Booked(Box<Booking>),
    /// Another school's booking needs the time to move the resource.
    Moving(String),
    /// Its tablets are lent to a class as a set.
    Lent(String),
}

#[derive(Debug, Clone)]
pub struct Cell {
    pub slot: Slot,
    pub state: CellState,
}

/// One day of the week grid: its slots for each resource, or why there is no class.
#[derive(Debug, Clone)]
pub struct DayView {
    pub day: NaiveDate,
    /// Per resource (in the week's order), the day's cells.
    pub cells: Vec<Vec<Cell>>,
}

/// A school's week of bookings: its resources (or one), its class days.
#[derive(Debug, Clone)]
pub struct Week {
    pub school_id: i64,
    pub monday: NaiveDate,
    pub halves: bool,
    pub resources: Vec<Bookable>,
    pub days: Vec<DayView>,
}

pub use preau_domain::calendar::monday_of;

/// The grid of `school` for `weeks` weeks from `monday`, for its resources (or the one given): each
/// class day's slots, free, booked (by whom), past, lent as a class set, or kept for
/// moving the resource to or from another school.
pub async fn week(
    db: &Db,
    p: &Principal,
    school: i64,
    monday: NaiveDate,
    weeks: i64,
    only: Option<i64>,
    now: DateTime<Utc>,
) -> AppResult<Week> {
    let weeks = weeks.clamp(1, 6);
    let mut resources = bookables(db, p, Some(school), false).await?;
    if let Some(id) = only {
        resources.retain(|b| b.id == id);
        if resources.is_empty() {
            return Err(AppError::NotFound);
        }
    }
    let days = school_days(db, school).await?;
    let monday = monday_of(monday);
    let from = preau_domain::paris::at(monday, 0, 0);
    let to = preau_domain::paris::at(monday + Duration::weeks(weeks), 0, 0);
    let mut held: HashMap<i64, Vec<Booking>> = HashMap::new();
    if !resources.is_empty() {
        let mut sql = Sql::new(BOOKING);
        sql.bind(Param::I64(p.collectivite_id))
            .push(" AND k.cancelled_at IS NULL AND k.bookable_id IN ")
            .bind_list(&resources.iter().map(|b| b.id).collect::<Vec<_>>())
            .push(" AND k.ends_at > ")
            .bind(Param::Time(from - Duration::hours(6)))
            .push(" AND k.starts_at < ")
            .bind(Param::Time(to + Duration::hours(6)))
            .push(" ORDER BY k.starts_at");
        let list: Vec<Booking> = with_db!(db, pool => {
            bind_params!(sqlx::query_as(sqlx::AssertSqlSafe(sql.text.clone())), &sql.params).fetch_all(pool).await?
        });
        for b in list {
            held.entry(b.bookable_id).or_default().push(b.seen_by(p));
        }
    }
    let mut out = Vec::new();
    let weekdays = (0..7 * weeks)
        .map(|i| monday + Duration::days(i))
        .filter(|d| d.weekday().num_days_from_monday() < 5);
    for day in weekdays {
        let slots = days.slots(day);
        let cells = resources
            .iter()
            .map(|r| {
                let list = held.get(&r.id).map(Vec::as_slice).unwrap_or_default();
                slots
                    .iter()
                    .map(|slot| {
                        let (starts, ends) = slot.on(day);
                        let want = Held {
                            school_id: school,
                            starts,
                            ends,
                        };
                        let state = if let Some(b) = list
                            .iter()
                            .find(|b| b.starts_at < ends && starts < b.ends_at)
                        {
                            CellState::Booked(Box::new(b.clone()))
                        } else if ends <= now {
                            CellState::Past
                        } else if let Some((class, _)) =
                            r.lent.as_ref().filter(|(_, since)| *since <= day)
                        {
                            CellState::Lent(class.clone())
                        } else if let Some(b) = list
                            .iter()
                            .find(|b| booking::clashes(&b.held(), &want, r.move_minutes))
                        {
                            CellState::Moving(b.school.clone())
                        } else {
                            CellState::Free
                        };
                        Cell { slot: *slot, state }
                    })
                    .collect()
            })
            .collect();
        out.push(DayView { day, cells });
    }
    Ok(Week {
        school_id: school,
        monday,
        halves: days.halves(),
        resources,
        days: out,
    })
}

/// The next class day at `school` from `today` on that still has a slot to come (the grid
/// opens on its week).
pub fn next_class_day(days: &SchoolDays, today: NaiveDate, now: DateTime<Utc>) -> NaiveDate {
    (0..60)
        .map(|i| today + Duration::days(i))
        .find(|d| days.slots(*d).iter().any(|s| s.on(*d).1 > now))
        .unwrap_or(today)
}

/// A resource's iCalendar feed by its secret: the bookings from 30 days ago to a year
/// ahead, named by school and class (no person's name: the address is a secret, not a
/// sign-in). `None` for an unknown secret.
pub async fn feed(db: &Db, token: &str, now: DateTime<Utc>) -> AppResult<Option<String>> {
    if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(None);
    }
    let row: Option<(i64, String, String)> = with_db!(db, pool => {
        sqlx::query_as("SELECT b.id, b.name, s.name FROM bookables b JOIN schools s ON s.id = b.school_id WHERE b.feed_token = $1")
            .bind(token).fetch_optional(pool).await?
    });
    let Some((id, name, school)) = row else {
        return Ok(None);
    };
    type Row = (
        i64,
        String,
        Option<String>,
        DateTime<Utc>,
        DateTime<Utc>,
        String,
        DateTime<Utc>,
    );
    let list: Vec<Row> = with_db!(db, pool => {
        sqlx::query_as("SELECT k.id, s.name, c.label, k.starts_at, k.ends_at, k.note, k.created_at FROM bookings k JOIN schools s ON s.id = k.school_id LEFT JOIN classes c ON c.id = k.class_id WHERE k.bookable_id = $1 AND k.cancelled_at IS NULL AND k.ends_at > $2 AND k.starts_at < $3 ORDER BY k.starts_at LIMIT 5000")
            .bind(id).bind(now - Duration::days(30)).bind(now + Duration::days(366)).fetch_all(pool).await?
    });
    let events: Vec<Event> = list
        .into_iter()
        .map(|(bid, s, class, starts, ends, note, created)| Event {
            uid: format!("reservation-{bid}@preau"),
            starts,
            ends,
            summary: match class {
                Some(c) => format!("{name} — {s}, {c}"),
                None => format!("{name} — {s}"),
            },
            description: note,
            stamp: created,
        })
        .collect();
    Ok(Some(booking::ics(&format!("{name} ({school})"), &events)))
}

/// The day and slot words of a booking: "jeudi 10 décembre, matin".
pub fn when_words(b: &Booking, halves: bool, lang: Lang) -> String {
    let local = |t| preau_domain::paris::local(t).time();
    let slot = Slot {
        start: local(b.starts_at),
        end: local(b.ends_at),
    };
    format!(
        "{}, {}",
        booking::day_label(b.day, lang),
        slot.label(lang, halves)
    )
}

/// Devices of visio kits (the kit and the devices under it) booked by a school over a
/// time: for each (school, start, end) asked, the booked kits' devices in service, with
/// whether an urgent ticket is open on them. Used by visio readiness.
pub async fn booked_kit_devices(
    db: &Db,
    asks: &[(i64, DateTime<Utc>, DateTime<Utc>)],
) -> AppResult<Vec<Vec<preau_domain::visio::RoomDevice>>> {
    if asks.is_empty() {
        return Ok(Vec::new());
    }
    let mut schools: Vec<i64> = asks.iter().map(|a| a.0).collect();
    schools.sort_unstable();
    schools.dedup();
    let from = asks.iter().map(|a| a.1).min().unwrap_or_default();
    let to = asks.iter().map(|a| a.2).max().unwrap_or_default();
    let mut sql = Sql {
        text: format!(
            "SELECT k.school_id, k.starts_at, k.ends_at, d.id, c.code, {} FROM bookings k JOIN bookables b ON b.id = k.bookable_id JOIN devices d ON d.id = b.device_id OR d.parent_id = b.device_id JOIN device_categories c ON c.id = d.category_id WHERE k.cancelled_at IS NULL AND d.state IN ('en_service', 'prete') AND k.school_id IN ",
            crate::visio::URGENT_OPEN
        ),
        params: Vec::new(),
    };
    sql.bind_list(&schools)
        .push(" AND k.starts_at < ")
        .bind(Param::Time(to))
        .push(" AND k.ends_at > ")
        .bind(Param::Time(from));
    type Row = (i64, DateTime<Utc>, DateTime<Utc>, i64, String, i64);
    let rows: Vec<Row> = with_db!(db, pool => {
        bind_params!(sqlx::query_as(sqlx::AssertSqlSafe(sql.text.clone())), &sql.params).fetch_all(pool).await?
    });
    Ok(asks
        .iter()
        .map(|(school, starts, ends)| {
            rows.iter()
                .filter(|r| r.0 == *school && r.1 <= *starts && *ends <= r.2)
                .map(|r| preau_domain::visio::RoomDevice {
                    category: r.4.clone(),
                    device_id: r.3,
                    broken: r.5 > 0,
                })
                .collect()
        })
        .collect())
}
