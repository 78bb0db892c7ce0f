//! Lessons by visio: programmes (the administrator's), weekly series of a class in its room
//! (the administrator's or the school's directeur's) whose sessions are generated on the
//! school's calendar, and what became of each session — held or not (the intervenant, the
//! class's staff), cancelled (the school, the provider), moved alone (the school). A day the
//! school declares closed cancels its sessions and tells their intervenants. Readiness: the
//! room's display, camera, micro and speakers working and the school online.
//!
//! Who reads what (`preau_domain::Principal::visio_reach`): the administrator and the élu
//! every session; school staff their schools'; an intervenant their own, never pupils,
//! tickets, devices or costs; a provider's staff the sessions of its programmes.

use std::collections::HashMap;

use chrono::{DateTime, Duration, NaiveDate, Timelike, Utc};
use preau_domain::visio::{
    self, CancelledBy, Readiness, Reason, RoomDevice, Series, SessionStatus,
};
use preau_domain::{FieldError, Principal, Role, paris};
use serde::Serialize;

use crate::audit::{self, Actor, Entry};
use crate::db::{Db, Tx};
use crate::error::{AppError, AppResult, expect_one_row};
use crate::{calendar, jobs, with_db, with_tx};

/// A programme and its provider.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Programme {
    pub id: i64,
    pub name: String,
    pub provider_id: i64,
    pub provider: String,
    /// What one session held costs; `None` for those who do not see costs.
    pub session_price_cents: Option<i64>,
    pub series: i64,
    pub version: i64,
}

/// The programmes the caller may read: every one for the administrator and the élu, its
/// own for a provider's staff and an intervenant, those running in their schools for the
/// schools' staff.
pub async fn programmes(db: &Db, p: &Principal) -> AppResult<Vec<Programme>> {
    let reach = p.visio_reach();
    if reach.is_empty() {
        return Err(AppError::Forbidden);
    }
    let rows: Vec<Programme> = with_db!(db, pool => {
        sqlx::query_as("SELECT g.id, g.name, g.provider_id, k.name AS provider, g.session_price_cents, (SELECT COUNT(*) FROM visio_series s WHERE s.programme_id = g.id) AS series, g.version FROM visio_programmes g JOIN contractors k ON k.id = g.provider_id WHERE g.collectivite_id = $1 ORDER BY g.name")
            .bind(p.collectivite_id).fetch_all(pool).await?
    });
    let schools_of: Vec<(i64, i64)> = with_db!(db, pool => {
        sqlx::query_as("SELECT DISTINCT s.programme_id, s.school_id FROM visio_series s JOIN visio_programmes g ON g.id = s.programme_id WHERE g.collectivite_id = $1")
            .bind(p.collectivite_id).fetch_all(pool).await?
    });
    let costs = p.can_see_costs();
    Ok(rows
        .into_iter()
        .filter(|g| {
            reach.all
                || reach.providers.contains(&g.provider_id)
                || schools_of
                    .iter()
                    .any(|(prog, school)| *prog == g.id && reach.schools.contains(school))
        })
        .map(|mut g| {
            if !costs {
                g.session_price_cents = None;
            }
            g
        })
        .collect())
}

/// Creates a programme; the administrator's. The provider is one of the collectivité's
/// contractor companies.
pub async fn create_programme(
    tx: &mut Tx,
    p: &Principal,
    name: &str,
    provider_id: i64,
    session_price_cents: Option<i64>,
    now: DateTime<Utc>,
) -> AppResult<i64> {
    if !p.is_admin() {
        return Err(AppError::Forbidden);
    }
    let name = preau_domain::text::required("name", name, 120)?;
    let mut errors = Vec::new();
    if session_price_cents.is_some_and(|c| !(0..=10_000_000).contains(&c)) {
        errors.push(FieldError::new("session_price", "out_of_range"));
    }
    let known: i64 = with_tx!(tx, c => {
        sqlx::query_scalar("SELECT COUNT(*) FROM contractors WHERE id = $1 AND collectivite_id = $2").bind(provider_id).bind(p.collectivite_id).fetch_one(&mut *c).await?
    });
    if known == 0 {
        errors.push(FieldError::new("provider_id", "unknown_value"));
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let taken: i64 = with_tx!(tx, c => {
        sqlx::query_scalar("SELECT COUNT(*) FROM visio_programmes WHERE collectivite_id = $1 AND name = $2").bind(p.collectivite_id).bind(&name).fetch_one(&mut *c).await?
    });
    if taken > 0 {
        return Err(AppError::Conflict(FieldError::new("name", "name_taken")));
    }
    let id: i64 = with_tx!(tx, c => {
        sqlx::query_scalar("INSERT INTO visio_programmes (collectivite_id, name, provider_id, session_price_cents, version, created_at, updated_at) VALUES ($1, $2, $3, $4, 1, $5, $5) RETURNING id")
            .bind(p.collectivite_id).bind(&name).bind(provider_id).bind(session_price_cents).bind(now).fetch_one(&mut *c).await?
    });
    audit::record(
        tx,
        &Actor::from(p),
        now,
        Entry {
            action: "create",
            object_type: "visio_programme",
            object_id: id,
            object_label: &name,
            changes: serde_json::json!({"provider_id": provider_id, "session_price_cents": session_price_cents}),
        },
    )
    .await?;
    Ok(id)
}

/// Why someone who may not plan at `school` is refused: 403 where they read the school,
/// 404 elsewhere.
pub(crate) fn refusal(p: &Principal, school: i64) -> AppError {
    if p.readable_schools().contains(school) {
        AppError::Forbidden
    } else {
        AppError::NotFound
    }
}

/// What a series is attached to: its programme, class, room and speaker.
#[derive(Debug, Clone, Copy)]
pub struct SeriesPlace {
    pub programme_id: i64,
    pub class_id: i64,
    pub room_id: i64,
    pub intervenant_id: Option<i64>,
}

/// Checks a series' programme, class, room and intervenant within the collectivité and
/// returns the school (the class's; the room must be of it). Errors name the field.
async fn place_school(tx: &mut Tx, p: &Principal, at: &SeriesPlace) -> AppResult<i64> {
    let cid = p.collectivite_id;
    let programme: Option<i64> = with_tx!(tx, c => {
        sqlx::query_scalar("SELECT provider_id FROM visio_programmes WHERE id = $1 AND collectivite_id = $2").bind(at.programme_id).bind(cid).fetch_optional(&mut *c).await?
    });
    let class: Option<i64> = with_tx!(tx, c => {
        sqlx::query_scalar("SELECT c.school_id FROM classes c JOIN schools s ON s.id = c.school_id WHERE c.id = $1 AND s.collectivite_id = $2").bind(at.class_id).bind(cid).fetch_optional(&mut *c).await?
    });
    let Some(school) = class else {
        return Err(FieldError::new("class_id", "unknown_value").into());
    };
    if !p.can_plan_visio(school) {
        return Err(refusal(p, school));
    }
    let mut errors = Vec::new();
    let Some(provider) = programme else {
        return Err(FieldError::new("programme_id", "unknown_value").into());
    };
    let room: Option<i64> = with_tx!(tx, c => {
        sqlx::query_scalar("SELECT school_id FROM rooms WHERE id = $1").bind(at.room_id).fetch_optional(&mut *c).await?
    });
    match room {
        Some(s) if s == school => {}
        Some(_) => errors.push(FieldError::new("room_id", "room_other_school")),
        None => errors.push(FieldError::new("room_id", "unknown_value")),
    }
    if let Some(u) = at.intervenant_id {
        let ok: i64 = with_tx!(tx, c => {
            sqlx::query_scalar("SELECT COUNT(*) FROM users u JOIN role_assignments ra ON ra.user_id = u.id WHERE u.id = $1 AND u.collectivite_id = $2 AND u.active = TRUE AND ra.role = 'intervenant' AND ra.contractor_id = $3")
                .bind(u).bind(cid).bind(provider).fetch_one(&mut *c).await?
        });
        if ok == 0 {
            errors.push(FieldError::new("intervenant_id", "unknown_value"));
        }
    }
    if errors.is_empty() {
        Ok(school)
    } else {
        Err(AppError::Invalid(errors))
    }
}

/// Writes a series' sessions starting from `not_before` on, on the school's calendar,
/// skipping the days it declared closed. Returns how many.
pub(crate) async fn generate(
    tx: &mut Tx,
    series_id: i64,
    school: i64,
    at: &SeriesPlace,
    s: &Series,
    not_before: DateTime<Utc>,
    now: DateTime<Utc>,
) -> AppResult<usize> {
    let cal = calendar::of_school_in_tx(tx, school).await?;
    let closed: Vec<NaiveDate> = with_tx!(tx, c => {
        sqlx::query_scalar("SELECT day FROM school_closed_days WHERE school_id = $1").bind(school).fetch_all(&mut *c).await?
    });
    // Days the series already has a session for (kept past ones, recorded or moved).
    let kept: Vec<NaiveDate> = with_tx!(tx, c => {
        sqlx::query_scalar("SELECT planned_on FROM visio_sessions WHERE series_id = $1").bind(series_id).fetch_all(&mut *c).await?
    });
    let mut n = 0;
    for day in visio::occurrences(s, &cal, paris::day(not_before)) {
        let start = paris::at(day, s.start.hour(), s.start.minute());
        if start < not_before || closed.contains(&day) || kept.contains(&day) {
            continue;
        }
        let end = start + Duration::minutes(s.duration_min);
        with_tx!(tx, c => {
            sqlx::query("INSERT INTO visio_sessions (series_id, school_id, class_id, room_id, intervenant_id, planned_on, starts_at, ends_at, link, status, note, detached, version, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'prevue', '', FALSE, 1, $10)")
                .bind(series_id).bind(school).bind(at.class_id).bind(at.room_id).bind(at.intervenant_id)
                .bind(day).bind(start).bind(end).bind(&s.link).bind(now).execute(&mut *c).await?;
        });
        n += 1;
    }
    Ok(n)
}

/// Writes a series' row (its sessions apart), checked by the caller.
pub(crate) async fn insert_series(
    tx: &mut Tx,
    school: i64,
    at: &SeriesPlace,
    s: &Series,
    now: DateTime<Utc>,
) -> AppResult<i64> {
    Ok(with_tx!(tx, c => {
        sqlx::query_scalar("INSERT INTO visio_series (programme_id, school_id, class_id, room_id, intervenant_id, weekday, start_time, duration_min, starts_on, ends_on, link, version, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 1, $12, $12) RETURNING id")
            .bind(at.programme_id).bind(school).bind(at.class_id).bind(at.room_id).bind(at.intervenant_id)
            .bind(i64::from(s.weekday)).bind(s.start.format("%H:%M").to_string()).bind(s.duration_min)
            .bind(s.from).bind(s.to).bind(&s.link).bind(now).fetch_one(&mut *c).await?
    }))
}

/// Creates a series and its sessions; the administrator's or the school's directeur's.
/// Returns the series and the number of sessions.
pub async fn create_series(
    tx: &mut Tx,
    p: &Principal,
    at: &SeriesPlace,
    s: &Series,
    now: DateTime<Utc>,
) -> AppResult<(i64, usize)> {
    let school = place_school(tx, p, at).await?;
    let id = insert_series(tx, school, at, s, now).await?;
    // Sessions still to come: a series entered in October for the whole year starts with
    // its next session, not with September's.
    let n = generate(tx, id, school, at, s, now, now).await?;
    audit_series(tx, p, "create", id, at, s, now).await?;
    Ok((id, n))
}

/// The audit entry of a series created or changed.
async fn audit_series(
    tx: &mut Tx,
    p: &Principal,
    action: &'static str,
    id: i64,
    at: &SeriesPlace,
    s: &Series,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let label = format!(
        "{} {}",
        visio::weekday_label(s.weekday, p.lang),
        s.start.format("%H:%M")
    );
    audit::record(
        tx,
        &Actor::from(p),
        now,
        Entry {
            action,
            object_type: "visio_series",
            object_id: id,
            object_label: &label,
            changes: series_changes(at, s),
        },
    )
    .await
}

fn series_changes(at: &SeriesPlace, s: &Series) -> serde_json::Value {
    serde_json::json!({
        "programme_id": at.programme_id, "class_id": at.class_id, "room_id": at.room_id,
        "intervenant_id": at.intervenant_id, "weekday": s.weekday,
        "start": s.start.format("%H:%M").to_string(), "duration_min": s.duration_min,
        "from": s.from, "to": s.to, "link": s.link,
    })
}

/// Changes a series under its `version`: its sessions still to come (planned, not moved
/// alone) are replaced; those past, recorded or moved stay as they are. Returns how many
/// sessions were written.
pub async fn update_series(
    tx: &mut Tx,
    p: &Principal,
    id: i64,
    version: i64,
    at: &SeriesPlace,
    s: &Series,
    now: DateTime<Utc>,
) -> AppResult<usize> {
    let current: Option<(i64, i64)> = with_tx!(tx, c => {
        sqlx::query_as("SELECT s.school_id, s.programme_id FROM visio_series s JOIN visio_programmes g ON g.id = s.programme_id WHERE s.id = $1 AND g.collectivite_id = $2").bind(id).bind(p.collectivite_id).fetch_optional(&mut *c).await?
    });
    let Some((old_school, programme)) = current else {
        return Err(AppError::NotFound);
    };
    if !p.can_plan_visio(old_school) {
        return Err(AppError::Forbidden);
    }
    if at.programme_id != programme {
        return Err(FieldError::new("programme_id", "unknown_value").into());
    }
    let school = place_school(tx, p, at).await?;
    let done = with_tx!(tx, c => {
        sqlx::query("UPDATE visio_series SET school_id = $1, class_id = $2, room_id = $3, intervenant_id = $4, weekday = $5, start_time = $6, duration_min = $7, starts_on = $8, ends_on = $9, link = $10, version = version + 1, updated_at = $11 WHERE id = $12 AND version = $13")
            .bind(school).bind(at.class_id).bind(at.room_id).bind(at.intervenant_id).bind(i64::from(s.weekday))
            .bind(s.start.format("%H:%M").to_string()).bind(s.duration_min).bind(s.from).bind(s.to).bind(&s.link)
            .bind(now).bind(id).bind(version).execute(&mut *c).await?.rows_affected()
    });
    expect_one_row(done)?;
    with_tx!(tx, c => {
        sqlx::query("DELETE FROM visio_sessions WHERE series_id = $1 AND status = 'prevue' AND detached = FALSE AND starts_at >= $2")
            .bind(id).bind(now).execute(&mut *c).await?;
    });
    let n = generate(tx, id, school, at, s, now, now).await?;
    audit_series(tx, p, "update", id, at, s, now).await?;
    Ok(n)
}

/// A session, with what the pages and the API show of it.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Session {
    pub id: i64,
    pub series_id: i64,
    pub programme_id: i64,
    pub programme: String,
    pub school_id: i64,
    pub school: String,
    pub class_id: i64,
    pub class_label: String,
    pub levels: String,
    pub room_id: i64,
    pub room: String,
    pub intervenant_id: Option<i64>,
    pub intervenant: Option<String>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub link: String,
    pub status: String,
    pub reason: Option<String>,
    pub cancelled_by: Option<String>,
    pub note: String,
    pub detached: bool,
    pub version: i64,
    pub provider_id: i64,
}

impl Session {
    pub fn status(&self) -> SessionStatus {
        SessionStatus::from_db(&self.status)
    }
    pub fn reason(&self) -> Option<Reason> {
        self.reason.as_deref().map(Reason::from_db)
    }
    pub fn cancelled_by(&self) -> Option<CancelledBy> {
        self.cancelled_by.as_deref().map(CancelledBy::from_db)
    }
}

const SESSION: &str = "SELECT v.id, v.series_id, x.programme_id, g.name AS programme, v.school_id, s.name AS school, v.class_id, c.label AS class_label, c.levels, v.room_id, r.name AS room, v.intervenant_id, u.display_name AS intervenant, v.starts_at, v.ends_at, v.link, v.status, v.reason, v.cancelled_by, v.note, v.detached, v.version, g.provider_id FROM visio_sessions v JOIN visio_series x ON x.id = v.series_id JOIN visio_programmes g ON g.id = x.programme_id JOIN schools s ON s.id = v.school_id JOIN classes c ON c.id = v.class_id JOIN rooms r ON r.id = v.room_id LEFT JOIN users u ON u.id = v.intervenant_id";

/// Which sessions: a school's, a class's, a series', a programme's, between two instants,
/// one status.
#[derive(Debug, Clone, Default)]
pub struct SessionFilter {
    pub school: Option<i64>,
    pub class: Option<i64>,
    pub series: Option<i64>,
    pub programme: Option<i64>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub status: Option<SessionStatus>,
}

/// The most sessions one read answers.
pub const MAX_SESSIONS: i64 = 2000;

/// The sessions the caller may read, in time order, skipping `offset`, at most `limit`.
pub async fn sessions(
    db: &Db,
    p: &Principal,
    f: &SessionFilter,
    offset: i64,
    limit: i64,
) -> AppResult<Vec<Session>> {
    let reach = p.visio_reach();
    if reach.is_empty() {
        return Err(AppError::Forbidden);
    }
    let mut sql = format!(
        "{SESSION} WHERE g.collectivite_id = $1 AND ($2 IS NULL OR v.school_id = $2) AND ($3 IS NULL OR v.class_id = $3) AND ($4 IS NULL OR v.starts_at >= $4) AND ($5 IS NULL OR v.starts_at < $5) AND ($6 IS NULL OR v.status = $6) AND ($9 IS NULL OR v.series_id = $9) AND ($10 IS NULL OR x.programme_id = $10)"
    );
    sql.push_str(&reach_clause(&reach));
    sql.push_str(" ORDER BY v.starts_at, v.id LIMIT $7 OFFSET $8");
    Ok(with_db!(db, pool => {
        sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(p.collectivite_id).bind(f.school).bind(f.class).bind(f.from).bind(f.to)
            .bind(f.status.map(SessionStatus::code)).bind(limit.clamp(1, MAX_SESSIONS)).bind(offset.max(0))
            .bind(f.series).bind(f.programme).fetch_all(pool).await?
    }))
}

/// The `AND (…)` that keeps a query on `visio_sessions v` joined to `visio_programmes g`
/// within what `reach` reads (ids only: no text from outside).
fn reach_clause(reach: &preau_domain::access::VisioReach) -> String {
    if reach.all {
        return String::new();
    }
    let mut or = Vec::new();
    if !reach.schools.is_empty() {
        or.push(format!("v.school_id IN ({})", ids(&reach.schools)));
    }
    if !reach.providers.is_empty() {
        or.push(format!("g.provider_id IN ({})", ids(&reach.providers)));
    }
    if let Some(u) = reach.intervenant {
        or.push(format!("v.intervenant_id = {u}"));
    }
    if or.is_empty() {
        return " AND 1 = 0".into();
    }
    format!(" AND ({})", or.join(" OR "))
}

fn ids(v: &[i64]) -> String {
    v.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
}

/// One session the caller may read (404 otherwise).
pub async fn session(db: &Db, p: &Principal, id: i64) -> AppResult<Session> {
    let s: Option<Session> = with_db!(db, pool => {
        sqlx::query_as(sqlx::AssertSqlSafe(format!("{SESSION} WHERE v.id = $1 AND g.collectivite_id = $2")))
            .bind(id).bind(p.collectivite_id).fetch_optional(pool).await?
    });
    match s {
        Some(s)
            if p.visio_reach()
                .contains(s.school_id, s.provider_id, s.intervenant_id) =>
        {
            Ok(s)
        }
        _ => Err(AppError::NotFound),
    }
}

/// What is done to a session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// It took place (once it has started).
    Held,
    /// It did not, and why (once it has started).
    NotHeld(Reason, String),
    /// It will not take place (before it starts).
    Cancel(Reason, String),
    /// Another day or hour, for this session alone.
    Move(DateTime<Utc>),
}

/// What `change` reads of a session: school, provider, intervenant, start, end, status.
type SessionKey = (i64, i64, Option<i64>, DateTime<Utc>, DateTime<Utc>, String);
/// What `change` writes: status, reason, who cancelled, note, new start.
type Outcome = (
    SessionStatus,
    Option<Reason>,
    Option<CancelledBy>,
    String,
    Option<DateTime<Utc>>,
);

/// Records a change to a session under its `version`, audited. The intervenant records
/// their own sessions and cancels them for the provider; the class's directeur or teacher
/// and the administrator record and cancel for the school; only the school and the
/// administrator move one, to a class time of the school's calendar.
pub async fn change(
    tx: &mut Tx,
    p: &Principal,
    id: i64,
    version: i64,
    what: &Change,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let row: Option<SessionKey> = with_tx!(tx, c => {
        sqlx::query_as("SELECT v.school_id, g.provider_id, v.intervenant_id, v.starts_at, v.ends_at, v.status FROM visio_sessions v JOIN visio_series x ON x.id = v.series_id JOIN visio_programmes g ON g.id = x.programme_id WHERE v.id = $1 AND g.collectivite_id = $2")
            .bind(id).bind(p.collectivite_id).fetch_optional(&mut *c).await?
    });
    let Some((school, provider, intervenant, starts, ends, status)) = row else {
        return Err(AppError::NotFound);
    };
    if !p.visio_reach().contains(school, provider, intervenant) {
        return Err(AppError::NotFound);
    }
    let own = intervenant.is_some_and(|u| u == p.user_id) && p.has(Role::Intervenant);
    let school_side = p.can_record_visio(school);
    let status = SessionStatus::from_db(&status);
    let (set_status, reason, by, note, when): Outcome = match what {
        Change::Held | Change::NotHeld(..) => {
            if !(own || school_side) {
                return Err(AppError::Forbidden);
            }
            if starts > now {
                return Err(FieldError::new("status", "not_started").into());
            }
            if status == SessionStatus::Annulee {
                return Err(FieldError::new("status", "status_move").into());
            }
            match what {
                Change::NotHeld(r, n) => (SessionStatus::NonTenue, Some(*r), None, n.clone(), None),
                _ => (SessionStatus::Tenue, None, None, String::new(), None),
            }
        }
        Change::Cancel(r, n) => {
            if !(own || school_side) {
                return Err(AppError::Forbidden);
            }
            if starts <= now || status != SessionStatus::Prevue {
                return Err(FieldError::new("status", "status_move").into());
            }
            let by = if school_side {
                CancelledBy::Ecole
            } else {
                CancelledBy::Prestataire
            };
            (SessionStatus::Annulee, Some(*r), Some(by), n.clone(), None)
        }
        Change::Move(to) => {
            if !school_side || p.has_only(Role::Enseignant) {
                return Err(AppError::Forbidden);
            }
            if status != SessionStatus::Prevue || *to < now {
                return Err(FieldError::new("starts_at", "out_of_range").into());
            }
            let cal = calendar::of_school_in_tx(tx, school).await?;
            let length = ends - starts;
            if cal.working_minutes(*to, *to + length) < length.num_minutes() {
                return Err(FieldError::new("starts_at", "not_class_time").into());
            }
            (SessionStatus::Prevue, None, None, String::new(), Some(*to))
        }
    };
    let note = preau_domain::text::optional("note", Some(&note), 500)?.unwrap_or_default();
    let (new_start, new_end) = match when {
        Some(t) => (t, t + (ends - starts)),
        None => (starts, ends),
    };
    let done = with_tx!(tx, c => {
        sqlx::query("UPDATE visio_sessions SET status = $1, reason = $2, cancelled_by = $3, note = $4, starts_at = $5, ends_at = $6, detached = (detached OR $7), version = version + 1, updated_at = $8 WHERE id = $9 AND version = $10")
            .bind(set_status.code()).bind(reason.map(Reason::code)).bind(by.map(CancelledBy::code)).bind(&note)
            .bind(new_start).bind(new_end).bind(when.is_some()).bind(now).bind(id).bind(version)
            .execute(&mut *c).await?.rows_affected()
    });
    expect_one_row(done)?;
    audit::record(
        tx,
        &Actor::from(p),
        now,
        Entry {
            action: "update",
            object_type: "visio_session",
            object_id: id,
            object_label: &paris::display(starts),
            changes: serde_json::json!({
                "status": {"before": status.code(), "after": set_status.code()},
                "reason": reason.map(Reason::code), "cancelled_by": by.map(CancelledBy::code),
                "starts_at": when.map(|_| serde_json::json!({"before": starts, "after": new_start})),
            }),
        },
    )
    .await
}

/// Declares a school closed on `day` (strike, weather, outing); the administrator's or
/// the school's directeur's. Its sessions planned that day are cancelled by the school and
/// their intervenants are told by e-mail. Returns how many were cancelled.
pub async fn close_day(
    tx: &mut Tx,
    p: &Principal,
    school: i64,
    day: NaiveDate,
    reason: &str,
    now: DateTime<Utc>,
) -> AppResult<usize> {
    if !p.can_plan_visio(school) {
        return Err(refusal(p, school));
    }
    let s = crate::schools::get_in_tx(tx, p.collectivite_id, school).await?;
    let reason = preau_domain::text::required("reason", reason, 200)?;
    if day < paris::day(now) {
        return Err(FieldError::new("day", "out_of_range").into());
    }
    let known: i64 = with_tx!(tx, c => {
        sqlx::query_scalar("SELECT COUNT(*) FROM school_closed_days WHERE school_id = $1 AND day = $2").bind(school).bind(day).fetch_one(&mut *c).await?
    });
    if known == 0 {
        with_tx!(tx, c => {
            sqlx::query("INSERT INTO school_closed_days (school_id, day, reason, declared_by, created_at) VALUES ($1, $2, $3, $4, $5)")
                .bind(school).bind(day).bind(&reason).bind(&p.login).bind(now).execute(&mut *c).await?;
        });
    }
    let (a, b) = (
        paris::at(day, 0, 0),
        paris::at(day + Duration::days(1), 0, 0),
    );
    let planned: Vec<(i64, Option<i64>, DateTime<Utc>)> = with_tx!(tx, c => {
        sqlx::query_as("SELECT id, intervenant_id, starts_at FROM visio_sessions WHERE school_id = $1 AND status = 'prevue' AND starts_at >= $2 AND starts_at < $3 ORDER BY starts_at")
            .bind(school).bind(a).bind(b).fetch_all(&mut *c).await?
    });
    for (id, intervenant, starts) in &planned {
        with_tx!(tx, c => {
            sqlx::query("UPDATE visio_sessions SET status = 'annulee', reason = 'ecole_fermee', cancelled_by = 'ecole', note = $1, version = version + 1, updated_at = $2 WHERE id = $3")
                .bind(&reason).bind(now).bind(id).execute(&mut *c).await?;
        });
        let to = jobs::address_of(tx, *intervenant).await?;
        jobs::enqueue_mail(
            tx,
            p.collectivite_id,
            &to,
            &format!("Séance annulée : {} le {}", s.name, paris::display(*starts)),
            &format!(
                "Bonjour,\n\nL'école {} sera fermée le {} ({}). La séance prévue à {} est annulée.\n\nPréau",
                s.name,
                day.format("%d/%m/%Y"),
                reason,
                paris::local(*starts).format("%H:%M")
            ),
            None,
            now,
        )
        .await?;
    }
    audit::record(
        tx,
        &Actor::from(p),
        now,
        Entry {
            action: "create",
            object_type: "school_closed_day",
            object_id: school,
            object_label: &format!("{} {}", s.name, day.format("%d/%m/%Y")),
            changes: serde_json::json!({"day": day, "reason": reason, "sessions_cancelled": planned.len()}),
        },
    )
    .await?;
    Ok(planned.len())
}

/// SQL: the urgent tickets (P1, P2) still open on device `d`; more than none makes it
/// broken for readiness.
pub(crate) const URGENT_OPEN: &str = "(SELECT COUNT(*) FROM ticket_devices td JOIN tickets t ON t.id = td.ticket_id WHERE td.device_id = d.id AND t.priority IN ('p1', 'p2') AND t.status NOT IN ('resolu', 'clos'))";

/// The devices of the needs' categories in each room (an urgent ticket open on one makes
/// it broken), and the schools offline among those given.
async fn room_devices(
    db: &Db,
    rooms: &[(i64, i64)],
) -> AppResult<(HashMap<i64, Vec<RoomDevice>>, Vec<i64>)> {
    // Many sessions share a room: each room and school is read once.
    let distinct = |of: fn(&(i64, i64)) -> i64| {
        let mut v: Vec<i64> = rooms.iter().map(of).collect();
        v.sort_unstable();
        v.dedup();
        ids(&v)
    };
    let room_ids = distinct(|r| r.0);
    let devices: Vec<(i64, String, i64, i64)> = with_db!(db, pool => {
        sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT d.room_id, k.code, d.id, {URGENT_OPEN} FROM devices d JOIN device_categories k ON k.id = d.category_id WHERE d.room_id IN ({room_ids}) AND d.state IN ('en_service', 'prete')")))
            .fetch_all(pool).await?
    });
    let school_ids = distinct(|r| r.1);
    let offline: Vec<i64> = with_db!(db, pool => {
        sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT school_id FROM school_connectivity WHERE status = 'hors_ligne' AND school_id IN ({school_ids})")))
            .fetch_all(pool).await?
    });
    let mut by_room: HashMap<i64, Vec<RoomDevice>> = HashMap::new();
    for (room, category, device_id, open) in devices {
        by_room.entry(room).or_default().push(RoomDevice {
            category,
            device_id,
            broken: open > 0,
        });
    }
    Ok((by_room, offline))
}

/// Readiness of each room as it stands: its display, camera, micro and speakers in
/// service (an urgent ticket open on one makes it broken), its school online.
pub async fn readiness(db: &Db, rooms: &[(i64, i64)]) -> AppResult<HashMap<i64, Readiness>> {
    if rooms.is_empty() {
        return Ok(HashMap::new());
    }
    let (by_room, offline) = room_devices(db, rooms).await?;
    Ok(rooms
        .iter()
        .map(|(room, school)| {
            let list = by_room.get(room).map(Vec::as_slice).unwrap_or_default();
            (*room, visio::readiness(list, offline.contains(school)))
        })
        .collect())
}

/// A session as readiness needs it: its id, room, school and time.
#[derive(Debug, Clone, Copy)]
pub struct SessionPlace {
    pub id: i64,
    pub room_id: i64,
    pub school_id: i64,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
}

impl From<&Session> for SessionPlace {
    fn from(s: &Session) -> SessionPlace {
        SessionPlace {
            id: s.id,
            room_id: s.room_id,
            school_id: s.school_id,
            starts_at: s.starts_at,
            ends_at: s.ends_at,
        }
    }
}

/// Readiness of each session (by id): its room's, where a visio kit the school booked
/// for the whole session counts as the room's own devices.
pub async fn session_readiness(
    db: &Db,
    sessions: &[SessionPlace],
) -> AppResult<HashMap<i64, Readiness>> {
    if sessions.is_empty() {
        return Ok(HashMap::new());
    }
    let rooms: Vec<(i64, i64)> = sessions.iter().map(|s| (s.room_id, s.school_id)).collect();
    let (by_room, offline) = room_devices(db, &rooms).await?;
    let asks: Vec<(i64, DateTime<Utc>, DateTime<Utc>)> = sessions
        .iter()
        .map(|s| (s.school_id, s.starts_at, s.ends_at))
        .collect();
    let kits = crate::bookings::booked_kit_devices(db, &asks).await?;
    Ok(sessions
        .iter()
        .zip(kits)
        .map(|(s, kit)| {
            let mut list = by_room.get(&s.room_id).cloned().unwrap_or_default();
            list.extend(kit);
            (
                s.id,
                visio::readiness(&list, offline.contains(&s.school_id)),
            )
        })
        .collect())
}

/// Sessions counted by outcome.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Counts {
    pub planned: i64,
    pub held: i64,
    pub not_held: i64,
    pub cancelled: i64,
    /// Not held or cancelled for the equipment or the network.
    pub technical: i64,
}

impl Counts {
    fn add(&mut self, status: SessionStatus, reason: Option<Reason>, n: i64) {
        match status {
            SessionStatus::Prevue => self.planned += n,
            SessionStatus::Tenue => self.held += n,
            SessionStatus::NonTenue => self.not_held += n,
            SessionStatus::Annulee => self.cancelled += n,
        }
        if reason.is_some_and(Reason::is_technical) {
            self.technical += n;
        }
    }

    /// Adds another's counts.
    pub fn merge(&mut self, o: &Counts) {
        self.planned += o.planned;
        self.held += o.held;
        self.not_held += o.not_held;
        self.cancelled += o.cancelled;
        self.technical += o.technical;
    }

    /// Percent of the sessions due (held, not held or cancelled) lost to the equipment or
    /// the network.
    pub fn technical_share(&self) -> Option<f64> {
        let due = self.held + self.not_held + self.cancelled;
        (due > 0).then(|| (self.technical as f64 * 1000.0 / due as f64).round() / 10.0)
    }
}

/// Outcomes of the sessions started in `[from, to)`: per school and class, and in all.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Outcomes {
    pub total: Counts,
    /// School, class label, counts; by school then class.
    pub classes: Vec<(String, String, Counts)>,
}

pub async fn outcomes(
    db: &Db,
    p: &Principal,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> AppResult<Outcomes> {
    outcomes_of(db, p, from, to, None).await
}

/// [`outcomes`], of one programme when given.
async fn outcomes_of(
    db: &Db,
    p: &Principal,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    programme: Option<i64>,
) -> AppResult<Outcomes> {
    let reach = p.visio_reach();
    if reach.is_empty() {
        return Err(AppError::Forbidden);
    }
    let sql = format!(
        "SELECT s.name, c.label, v.status, v.reason, COUNT(*) FROM visio_sessions v JOIN visio_series x ON x.id = v.series_id JOIN visio_programmes g ON g.id = x.programme_id JOIN schools s ON s.id = v.school_id JOIN classes c ON c.id = v.class_id WHERE g.collectivite_id = $1 AND v.starts_at >= $2 AND v.starts_at < $3 AND ($4 IS NULL OR x.programme_id = $4){} GROUP BY s.name, c.label, v.status, v.reason",
        reach_clause(&reach)
    );
    let rows: Vec<(String, String, String, Option<String>, i64)> = with_db!(db, pool => {
        sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(p.collectivite_id).bind(from).bind(to).bind(programme).fetch_all(pool).await?
    });
    let mut out = Outcomes::default();
    let mut by: std::collections::BTreeMap<(String, String), Counts> = Default::default();
    for (school, class, status, reason, n) in rows {
        let (status, reason) = (
            SessionStatus::from_db(&status),
            reason.as_deref().map(Reason::from_db),
        );
        out.total.add(status, reason, n);
        by.entry((school, class))
            .or_default()
            .add(status, reason, n);
    }
    out.classes = by.into_iter().map(|((a, b), c)| (a, b, c)).collect();
    Ok(out)
}

/// A provider's monthly statement: the sessions held in the month × the programme's price.
#[derive(Debug, Clone, Serialize)]
pub struct Statement {
    pub programme: String,
    pub provider: String,
    pub held: i64,
    pub price_cents: Option<i64>,
    pub total_cents: Option<i64>,
    /// The sessions held, in time order (the first [`MAX_SESSIONS`]; `held` counts them
    /// all).
    pub sessions: Vec<Session>,
}

pub async fn statement(
    db: &Db,
    p: &Principal,
    programme_id: i64,
    month: crate::reports::Month,
) -> AppResult<Statement> {
    if !(p.is_admin() || p.has(Role::Elu) || p.has(Role::Prestataire)) {
        return Err(AppError::Forbidden);
    }
    let g = programmes(db, p)
        .await?
        .into_iter()
        .find(|g| g.id == programme_id)
        .ok_or(AppError::NotFound)?;
    // The price as the contract says, even for a provider's staff (who see no other cost).
    let price: Option<i64> = with_db!(db, pool => {
        sqlx::query_scalar("SELECT session_price_cents FROM visio_programmes WHERE id = $1").bind(programme_id).fetch_one(pool).await?
    });
    let (from, to) = (month.start(), month.next().start());
    let o = outcomes_of(db, p, from, to, Some(programme_id)).await?;
    let f = SessionFilter {
        programme: Some(programme_id),
        from: Some(from),
        to: Some(to),
        status: Some(SessionStatus::Tenue),
        ..SessionFilter::default()
    };
    let sessions = sessions(db, p, &f, 0, MAX_SESSIONS).await?;
    let held = o.total.held;
    Ok(Statement {
        programme: g.name,
        provider: g.provider,
        held,
        price_cents: price,
        total_cents: price.map(|c| c * held),
        sessions,
    })
}

/// This school year's classes the caller may plan series for: id, school, label, levels,
/// room.
pub async fn plannable_classes(
    db: &Db,
    p: &Principal,
    now: DateTime<Utc>,
) -> AppResult<Vec<(i64, String, String, String, Option<i64>)>> {
    let rows: Vec<(i64, i64, String, String, String, Option<i64>)> = with_db!(db, pool => {
        sqlx::query_as("SELECT c.id, s.id, s.name, c.label, c.levels, c.room_id FROM classes c JOIN schools s ON s.id = c.school_id JOIN school_years y ON y.id = c.school_year_id WHERE s.collectivite_id = $1 AND s.status = 'active' AND y.starts_on <= $2 AND y.ends_on >= $2 ORDER BY s.name, c.label")
            .bind(p.collectivite_id).bind(paris::day(now)).fetch_all(pool).await?
    });
    Ok(rows
        .into_iter()
        .filter(|r| p.can_plan_visio(r.1))
        .map(|(id, _, school, label, levels, room)| (id, school, label, levels, room))
        .collect())
}

/// The schools whose closed days the caller declares: id and name.
pub async fn plannable_schools(db: &Db, p: &Principal) -> AppResult<Vec<(i64, String)>> {
    crate::bookings::schools_where(db, p, |id| p.can_plan_visio(id)).await
}

/// The intervenants of the collectivité's providers: id, name, provider; for those who
/// plan series.
pub async fn intervenants(db: &Db, p: &Principal) -> AppResult<Vec<(i64, String, i64)>> {
    if !p.is_admin() && !p.has(Role::Directeur) {
        return Err(AppError::Forbidden);
    }
    Ok(with_db!(db, pool => {
        sqlx::query_as("SELECT u.id, u.display_name, ra.contractor_id FROM users u JOIN role_assignments ra ON ra.user_id = u.id WHERE u.collectivite_id = $1 AND u.active = TRUE AND ra.role = 'intervenant' ORDER BY u.display_name")
            .bind(p.collectivite_id).fetch_all(pool).await?
    }))
}

/// The e-mail of the class's teacher, when the teacher has an account at the school
/// (a user with the enseignant role there whose name is the class's teacher's).
async fn class_teacher_addresses(tx: &mut Tx, school: i64, class: i64) -> AppResult<Vec<String>> {
    let teacher: Option<Option<String>> = with_tx!(tx, c => {
        sqlx::query_scalar("SELECT teacher_name FROM classes WHERE id = $1").bind(class).fetch_optional(&mut *c).await?
    });
    let Some(teacher) = teacher.flatten() else {
        return Ok(Vec::new());
    };
    let staff: Vec<(String, String)> = with_tx!(tx, c => {
        sqlx::query_as("SELECT DISTINCT u.display_name, u.email FROM users u JOIN role_assignments ra ON ra.user_id = u.id WHERE ra.role = 'enseignant' AND ra.school_id = $1 AND u.active = TRUE AND u.email IS NOT NULL").bind(school).fetch_all(&mut *c).await?
    });
    Ok(staff
        .into_iter()
        .filter(|(name, _)| preau_domain::text::same_person(&teacher, name))
        .map(|(_, email)| email)
        .collect())
}

/// What a readiness pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ReadinessPass {
    pub checked: usize,
    pub not_ready: usize,
    pub tickets: usize,
}

/// How far ahead sessions are looked at: the class day before a session can be two weeks
/// of holidays earlier.
const EVE_LOOKAHEAD_DAYS: i64 = 21;

/// When a session's room is checked the day before: 16:00 on the school's last class day
/// before the session's day.
pub fn eve_check(cal: &preau_domain::calendar::Calendar, day: NaiveDate) -> DateTime<Utc> {
    let mut d = day - Duration::days(1);
    for _ in 0..EVE_LOOKAHEAD_DAYS {
        if cal.is_working_day(d) {
            break;
        }
        d -= Duration::days(1);
    }
    paris::at(d, 16, 0)
}

/// Checks the rooms of the sessions due for a check — at 16:00 on the class day before,
/// and 30 minutes before the start — across every collectivité. A room not ready opens
/// one ticket for the session (category son/visio, on the room, saying what is missing;
/// P1 within a day of the session, else P2), routed as any report, unless what fails is a
/// device already under an urgent ticket or the school's link (its outage ticket is open);
/// the school's directeur and the intervenant are told by e-mail.
pub async fn readiness_pass(db: &Db, now: DateTime<Utc>) -> AppResult<ReadinessPass> {
    type Due = (
        i64,
        i64,
        i64,
        i64,
        DateTime<Utc>,
        Option<i64>,
        Option<DateTime<Utc>>,
        Option<DateTime<Utc>>,
        Option<i64>,
        DateTime<Utc>,
        i64,
    );
    let due: Vec<Due> = with_db!(db, pool => {
        sqlx::query_as("SELECT v.id, s.collectivite_id, v.school_id, v.room_id, v.starts_at, v.intervenant_id, v.checked_eve_at, v.checked_last_at, v.ticket_id, v.ends_at, v.class_id FROM visio_sessions v JOIN schools s ON s.id = v.school_id WHERE v.status = 'prevue' AND v.starts_at > $1 AND v.starts_at <= $2 AND v.checked_last_at IS NULL ORDER BY v.starts_at")
            .bind(now).bind(now + Duration::days(EVE_LOOKAHEAD_DAYS)).fetch_all(pool).await?
    });
    let calendars = calendar::by_school(db, None).await?;
    let mut out = ReadinessPass::default();
    let mut checks = Vec::new();
    for d in due {
        let Some(cal) = calendars.get(&d.2) else {
            continue;
        };
        let eve = eve_check(cal, paris::day(d.4));
        let last = d.4 - Duration::minutes(30);
        if now >= last {
            checks.push((d, true));
        } else if now >= eve && d.6.is_none() {
            checks.push((d, false));
        }
    }
    if checks.is_empty() {
        return Ok(out);
    }
    let places: Vec<SessionPlace> = checks
        .iter()
        .map(|(d, _)| SessionPlace {
            id: d.0,
            room_id: d.3,
            school_id: d.2,
            starts_at: d.4,
            ends_at: d.9,
        })
        .collect();
    let ready = session_readiness(db, &places).await?;
    for ((id, cid, school, room, starts, intervenant, _, _, ticket, _, class), last) in checks {
        out.checked += 1;
        let r = ready.get(&id).cloned().unwrap_or_default();
        let mut tx = db.begin().await?;
        let column = if last {
            "checked_last_at"
        } else {
            "checked_eve_at"
        };
        with_tx!(&mut tx, c => {
            sqlx::query(sqlx::AssertSqlSafe(format!("UPDATE visio_sessions SET {column} = $1 WHERE id = $2"))).bind(now).bind(id).execute(&mut *c).await?;
        });
        if !r.ready {
            out.not_ready += 1;
            // What a ticket of the session would be about: a need with no device at all.
            let unmet: Vec<preau_domain::visio::Need> = r
                .missing
                .iter()
                .copied()
                .filter(|n| {
                    *n != preau_domain::visio::Need::Reseau && !r.broken.iter().any(|(b, _)| b == n)
                })
                .collect();
            let words = r.missing_words(preau_domain::Lang::Fr);
            if ticket.is_none() && !unmet.is_empty() {
                let sys = Principal::system(cid, "Préau (préparation des séances de visio)");
                let v = crate::tickets::ValidTicket {
                    school_id: Some(school),
                    room_id: Some(room),
                    device_ids: Vec::new(),
                    category: preau_domain::ticket::TicketCategory::SonVisio,
                    priority: if starts - now <= Duration::hours(24) {
                        preau_domain::ticket::Priority::P1
                    } else {
                        preau_domain::ticket::Priority::P2
                    },
                    title: Some("Salle pas prête pour une séance de visio".into()),
                    description: format!(
                        "La séance de visio du {} ne pourra pas se tenir dans cette salle : il manque {}.",
                        paris::display(starts),
                        unmet
                            .iter()
                            .map(|n| n.label(preau_domain::Lang::Fr))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                };
                let t = crate::tickets::open(&mut tx, &sys, &v, now).await?;
                with_tx!(&mut tx, c => {
                    sqlx::query("UPDATE visio_sessions SET ticket_id = $1 WHERE id = $2").bind(t.id).bind(id).execute(&mut *c).await?;
                });
                out.tickets += 1;
            }
            let mut to = jobs::addresses(&mut tx, cid, "directeur", Some(school)).await?;
            to.extend(jobs::address_of(&mut tx, intervenant).await?);
            to.extend(class_teacher_addresses(&mut tx, school, class).await?);
            to.sort();
            to.dedup();
            jobs::enqueue_mail(
                &mut tx,
                cid,
                &to,
                &format!("Salle pas prête pour la visio du {}", paris::display(starts)),
                &format!(
                    "Bonjour,\n\nPour la séance de visio du {}, la salle n'est pas prête : {}.\nLe signalement suit son cours ; la séance peut aussi être déplacée ou annulée dans Préau.\n\nPréau",
                    paris::display(starts),
                    words
                ),
                Some(&format!("/visio/sessions/{id}")),
                now,
            )
            .await?;
        }
        tx.commit().await?;
    }
    Ok(out)
}
