//! Each school's links to the internet and whether it reaches Préau. Links are kept by the
//! administrator and the school's technician (audited); manual speed tests by them too.
//! `pass` judges every school from its agents' last reports on its own calendar
//! (`preau_domain::connectivity::judge`), or by its probe alone when it has one
//! (`probes`), keeps the judgement and its start, and records each outage with its length
//! in class time.

pub mod probes;

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use preau_domain::connectivity::{self, DEFAULT_SILENT_HOURS, Link, LinkRole, Status, Technology};
use preau_domain::{FieldError, Principal, SchoolScope};
use serde::Serialize;

use crate::audit::{self, Actor, Entry};
use crate::db::{Db, Tx};
use crate::error::{AppError, AppResult, expect_one_row};
use crate::{calendar, with_db, with_tx};

/// A link as stored.
#[derive(Debug, Clone, Serialize)]
pub struct SchoolLink {
    pub id: i64,
    pub school_id: i64,
    pub technology: Technology,
    pub role: LinkRole,
    pub operator_id: Option<i64>,
    pub operator: Option<String>,
    pub contract_ref: String,
    pub line_number: String,
    pub down_kbps: i64,
    pub up_kbps: i64,
    pub monthly_cents: Option<i64>,
    pub commissioned_on: Option<NaiveDate>,
    pub version: i64,
}

#[derive(sqlx::FromRow)]
struct LinkRow {
    id: i64,
    school_id: i64,
    technology: String,
    role: String,
    operator_id: Option<i64>,
    operator: Option<String>,
    contract_ref: String,
    line_number: String,
    down_kbps: i64,
    up_kbps: i64,
    monthly_cents: Option<i64>,
    commissioned_on: Option<NaiveDate>,
    version: i64,
}

impl From<LinkRow> for SchoolLink {
    fn from(r: LinkRow) -> Self {
        SchoolLink {
            id: r.id,
            school_id: r.school_id,
            technology: Technology::from_db(&r.technology),
            role: LinkRole::from_db(&r.role),
            operator_id: r.operator_id,
            operator: r.operator,
            contract_ref: r.contract_ref,
            line_number: r.line_number,
            down_kbps: r.down_kbps,
            up_kbps: r.up_kbps,
            monthly_cents: r.monthly_cents,
            commissioned_on: r.commissioned_on,
            version: r.version,
        }
    }
}

const LINK: &str = "SELECT l.id, l.school_id, l.technology, l.role, l.operator_id, k.name AS operator, l.contract_ref, l.line_number, l.down_kbps, l.up_kbps, l.monthly_cents, l.commissioned_on, l.version FROM school_links l JOIN schools s ON s.id = l.school_id LEFT JOIN contractors k ON k.id = l.operator_id";

/// The schools whose connectivity the caller reads: those it reads anyway, and for a
/// contractor's or an operator's staff the schools of its lots' perimeters.
pub(crate) async fn scope(db: &Db, p: &Principal) -> AppResult<SchoolScope> {
    let base = p.readable_schools();
    if p.lots.is_empty() || base == SchoolScope::All {
        return Ok(base);
    }
    let mut ids: std::collections::BTreeSet<i64> =
        base.ids().unwrap_or_default().into_iter().collect();
    let mut sql = crate::db::Sql::new(
        "SELECT DISTINCT lp.school_id FROM lot_perimeters lp JOIN schools s ON s.id = lp.school_id WHERE s.collectivite_id = ",
    );
    sql.bind(crate::db::Param::I64(p.collectivite_id))
        .push(" AND lp.lot_id IN ")
        .bind_list(&p.lots);
    let rows: Vec<i64> = with_db!(db, pool => {
        crate::bind_params!(sqlx::query_scalar(sqlx::AssertSqlSafe(sql.text.clone())), &sql.params).fetch_all(pool).await?
    });
    ids.extend(rows);
    Ok(SchoolScope::Only(ids))
}

/// Checks that the caller reads this school's connection: in its scope, and a school of
/// its collectivité (the administrator's scope is "every school", which must not reach
/// another collectivité's ids). `NotFound` otherwise, as for a missing id.
pub(crate) async fn reach_school(db: &Db, p: &Principal, school_id: i64) -> AppResult<()> {
    if !scope(db, p).await?.contains(school_id) {
        return Err(AppError::NotFound);
    }
    let known: i64 = with_db!(db, pool => {
        sqlx::query_scalar("SELECT COUNT(*) FROM schools WHERE id = $1 AND collectivite_id = $2")
            .bind(school_id).bind(p.collectivite_id).fetch_one(pool).await?
    });
    if known == 0 {
        return Err(AppError::NotFound);
    }
    Ok(())
}

/// A school's links, the main one first. Prices only for those who see costs.
pub async fn links(db: &Db, p: &Principal, school_id: i64) -> AppResult<Vec<SchoolLink>> {
    reach_school(db, p, school_id).await?;
    let sql = format!(
        "{LINK} WHERE l.school_id = $1 AND s.collectivite_id = $2 ORDER BY l.role DESC, l.id"
    );
    let rows: Vec<LinkRow> = with_db!(db, pool => {
        sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(school_id).bind(p.collectivite_id).fetch_all(pool).await?
    });
    let costs = p.can_see_costs();
    Ok(rows
        .into_iter()
        .map(|r| {
            let mut l = SchoolLink::from(r);
            if !costs {
                l.monthly_cents = None;
            }
            l
        })
        .collect())
}

async fn check_operator(tx: &mut Tx, cid: i64, l: &Link) -> AppResult<()> {
    if let Some(id) = l.operator_id {
        let n: i64 = with_tx!(tx, c => {
            sqlx::query_scalar("SELECT COUNT(*) FROM contractors WHERE id = $1 AND collectivite_id = $2").bind(id).bind(cid).fetch_one(&mut *c).await?
        });
        if n == 0 {
            return Err(AppError::Invalid(vec![FieldError::new(
                "operator_id",
                "unknown_value",
            )]));
        }
    }
    Ok(())
}

/// The administrator and the school's technician keep its links and probe. A contractor's
/// staff (who may read the schools of its lots) is told no, whatever the school, so that
/// the answer says nothing of which ids exist.
/// Whether `p` may change a school's links, probe and Wi-Fi register: 403 when the school
/// is theirs to read, 404 when it is not.
pub fn editor(p: &Principal, school_id: i64) -> AppResult<()> {
    if p.can_edit_rooms(school_id) {
        Ok(())
    } else if p.readable_schools().contains(school_id) || !p.lots.is_empty() {
        Err(AppError::Forbidden)
    } else {
        Err(AppError::NotFound)
    }
}

fn changes(l: &Link) -> serde_json::Value {
    serde_json::json!({
        "technology": l.technology.code(), "role": l.role.code(), "operator_id": l.operator_id,
        "contract_ref": l.contract_ref, "line_number": l.line_number, "down_kbps": l.down_kbps,
        "up_kbps": l.up_kbps, "monthly_cents": l.monthly_cents, "commissioned_on": l.commissioned_on,
    })
}

/// Adds a link to a school; the administrator's or the school's technician's.
pub async fn add_link(
    tx: &mut Tx,
    p: &Principal,
    school_id: i64,
    l: &Link,
    now: DateTime<Utc>,
) -> AppResult<i64> {
    editor(p, school_id)?;
    let school = crate::schools::get_in_tx(tx, p.collectivite_id, school_id).await?;
    check_operator(tx, p.collectivite_id, l).await?;
    let id: i64 = with_tx!(tx, c => {
        sqlx::query_scalar("INSERT INTO school_links (school_id, technology, role, operator_id, contract_ref, line_number, down_kbps, up_kbps, monthly_cents, commissioned_on, version, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 1, $11, $11) RETURNING id")
            .bind(school_id).bind(l.technology.code()).bind(l.role.code()).bind(l.operator_id).bind(&l.contract_ref).bind(&l.line_number)
            .bind(l.down_kbps).bind(l.up_kbps).bind(l.monthly_cents).bind(l.commissioned_on).bind(now)
            .fetch_one(&mut *c).await?
    });
    audit::record(
        tx,
        &Actor::from(p),
        now,
        Entry {
            action: "create",
            object_type: "school_link",
            object_id: id,
            object_label: &school.name,
            changes: changes(l),
        },
    )
    .await?;
    Ok(id)
}

async fn link_in_tx(tx: &mut Tx, p: &Principal, id: i64) -> AppResult<SchoolLink> {
    let sql = format!("{LINK} WHERE l.id = $1 AND s.collectivite_id = $2");
    let row: Option<LinkRow> = with_tx!(tx, c => {
        sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).bind(p.collectivite_id).fetch_optional(&mut *c).await?
    });
    let l = SchoolLink::from(row.ok_or(AppError::NotFound)?);
    if !p.readable_schools().contains(l.school_id) {
        return Err(AppError::NotFound);
    }
    Ok(l)
}

/// Replaces a link's facts; `version` is the one read. The history is the audit log's.
pub async fn update_link(
    tx: &mut Tx,
    p: &Principal,
    id: i64,
    version: i64,
    l: &Link,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let before = link_in_tx(tx, p, id).await?;
    editor(p, before.school_id)?;
    check_operator(tx, p.collectivite_id, l).await?;
    let affected = with_tx!(tx, c => {
        sqlx::query("UPDATE school_links SET technology = $1, role = $2, operator_id = $3, contract_ref = $4, line_number = $5, down_kbps = $6, up_kbps = $7, monthly_cents = $8, commissioned_on = $9, version = version + 1, updated_at = $10 WHERE id = $11 AND version = $12")
            .bind(l.technology.code()).bind(l.role.code()).bind(l.operator_id).bind(&l.contract_ref).bind(&l.line_number)
            .bind(l.down_kbps).bind(l.up_kbps).bind(l.monthly_cents).bind(l.commissioned_on).bind(now).bind(id).bind(version)
            .execute(&mut *c).await?.rows_affected()
    });
    expect_one_row(affected)?;
    let before_changes = serde_json::json!({
        "technology": before.technology.code(), "role": before.role.code(), "down_kbps": before.down_kbps,
        "up_kbps": before.up_kbps, "monthly_cents": before.monthly_cents, "operator_id": before.operator_id,
    });
    audit::record(
        tx,
        &Actor::from(p),
        now,
        Entry {
            action: "update",
            object_type: "school_link",
            object_id: id,
            object_label: &format!("{} {}", before.technology.code(), before.line_number),
            changes: serde_json::json!({"before": before_changes, "after": changes(l)}),
        },
    )
    .await
}

/// Removes a link (a line terminated).
pub async fn delete_link(tx: &mut Tx, p: &Principal, id: i64, now: DateTime<Utc>) -> AppResult<()> {
    let before = link_in_tx(tx, p, id).await?;
    editor(p, before.school_id)?;
    with_tx!(tx, c => {
        sqlx::query("DELETE FROM school_links WHERE id = $1").bind(id).execute(&mut *c).await?;
    });
    audit::record(
        tx,
        &Actor::from(p),
        now,
        Entry {
            action: "delete",
            object_type: "school_link",
            object_id: id,
            object_label: &format!("{} {}", before.technology.code(), before.line_number),
            changes: serde_json::json!({"technology": before.technology.code(), "line_number": before.line_number}),
        },
    )
    .await
}

/// A speed test measured at the school.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct SpeedTest {
    pub tested_at: DateTime<Utc>,
    pub down_kbps: i64,
    pub up_kbps: i64,
    pub tested_by: String,
}

pub async fn add_speed_test(
    tx: &mut Tx,
    p: &Principal,
    school_id: i64,
    down: &str,
    up: &str,
    now: DateTime<Utc>,
) -> AppResult<()> {
    editor(p, school_id)?;
    crate::schools::get_in_tx(tx, p.collectivite_id, school_id).await?;
    let down = connectivity::mbps("down_mbps", down);
    let up = connectivity::mbps("up_mbps", up);
    let (down, up) = match (down, up) {
        (Ok(d), Ok(u)) => (d, u),
        (d, u) => {
            return Err(AppError::Invalid(
                d.err().into_iter().chain(u.err()).collect(),
            ));
        }
    };
    with_tx!(tx, c => {
        sqlx::query("INSERT INTO speed_tests (school_id, tested_at, down_kbps, up_kbps, tested_by) VALUES ($1, $2, $3, $4, $5)")
            .bind(school_id).bind(now).bind(down).bind(up).bind(&p.display_name).execute(&mut *c).await?;
    });
    Ok(())
}

pub async fn speed_tests(db: &Db, p: &Principal, school_id: i64) -> AppResult<Vec<SpeedTest>> {
    reach_school(db, p, school_id).await?;
    Ok(with_db!(db, pool => {
        sqlx::query_as("SELECT t.tested_at, t.down_kbps, t.up_kbps, t.tested_by FROM speed_tests t JOIN schools s ON s.id = t.school_id WHERE t.school_id = $1 AND s.collectivite_id = $2 ORDER BY t.tested_at DESC LIMIT 20")
            .bind(school_id).bind(p.collectivite_id).fetch_all(pool).await?
    }))
}

/// A school's connectivity, as last judged.
#[derive(Debug, Clone, Serialize)]
pub struct SchoolStatus {
    pub school_id: i64,
    pub name: String,
    pub status: Status,
    pub since: Option<DateTime<Utc>>,
    pub last_contact: Option<DateTime<Utc>>,
    /// The main link's download bandwidth, and the school's pupils.
    pub down_kbps: Option<i64>,
    pub pupils: i64,
}

impl SchoolStatus {
    /// Pupils per Mbit/s of the main link (`None` without a link).
    pub fn pupils_per_mbps(&self) -> Option<f64> {
        self.down_kbps
            .filter(|d| *d > 0)
            .map(|d| self.pupils as f64 * 1000.0 / d as f64)
    }
}

/// School, name, stored status, since, last contact, main link's download.
type StatusRow = (
    i64,
    String,
    Option<String>,
    Option<DateTime<Utc>>,
    Option<DateTime<Utc>>,
    Option<i64>,
);

/// Every readable school's connectivity, offline first.
pub async fn statuses(db: &Db, p: &Principal) -> AppResult<Vec<SchoolStatus>> {
    statuses_of(db, p, None).await
}

/// One school's connectivity (404 outside the caller's reach).
pub async fn status(db: &Db, p: &Principal, school_id: i64) -> AppResult<SchoolStatus> {
    statuses_of(db, p, Some(school_id))
        .await?
        .pop()
        .ok_or(AppError::NotFound)
}

async fn statuses_of(db: &Db, p: &Principal, only: Option<i64>) -> AppResult<Vec<SchoolStatus>> {
    let cid = p.collectivite_id;
    let rows: Vec<StatusRow> = with_db!(db, pool => {
        sqlx::query_as("SELECT s.id, s.name, c.status, c.since, c.last_contact, (SELECT MAX(l.down_kbps) FROM school_links l WHERE l.school_id = s.id AND l.role = 'principal') FROM schools s LEFT JOIN school_connectivity c ON c.school_id = s.id WHERE s.collectivite_id = $1 AND s.status = 'active' AND ($2 IS NULL OR s.id = $2) ORDER BY s.name")
            .bind(cid).bind(only).fetch_all(pool).await?
    });
    let year = crate::years::current(db, p, preau_domain::paris::day(Utc::now())).await?;
    let heads: HashMap<i64, i64> = match year {
        None => HashMap::new(),
        Some(y) => {
            let rows: Vec<(i64, i64)> = with_db!(db, pool => {
                sqlx::query_as("SELECT school_id, CAST(COALESCE(SUM(head_count), 0) AS BIGINT) FROM classes WHERE school_year_id = $1 GROUP BY school_id")
                    .bind(y.id).fetch_all(pool).await?
            });
            rows.into_iter().collect()
        }
    };
    let scope = scope(db, p).await?;
    let mut out: Vec<SchoolStatus> = rows
        .into_iter()
        .filter(|r| scope.contains(r.0))
        .map(
            |(school_id, name, status, since, last_contact, down_kbps)| SchoolStatus {
                status: status.as_deref().map_or(Status::Inconnu, Status::from_db),
                pupils: heads.get(&school_id).copied().unwrap_or(0),
                school_id,
                name,
                since,
                last_contact,
                down_kbps,
            },
        )
        .collect();
    let rank = |s: Status| match s {
        Status::HorsLigne => 0,
        Status::Inconnu => 2,
        Status::EnLigne => 1,
    };
    out.sort_by_key(|s| rank(s.status));
    Ok(out)
}

/// An outage of a school.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Outage {
    pub started_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    pub class_minutes: Option<i64>,
    /// The ticket it opened.
    pub ticket_id: Option<i64>,
}

pub async fn outages(db: &Db, p: &Principal, school_id: i64) -> AppResult<Vec<Outage>> {
    reach_school(db, p, school_id).await?;
    Ok(with_db!(db, pool => {
        sqlx::query_as("SELECT o.started_at, o.ended_at, o.class_minutes, o.ticket_id FROM outages o JOIN schools s ON s.id = o.school_id WHERE o.school_id = $1 AND s.collectivite_id = $2 ORDER BY o.started_at DESC LIMIT 50")
            .bind(school_id).bind(p.collectivite_id).fetch_all(pool).await?
    }))
}

/// What a pass changed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Pass {
    pub schools: usize,
    pub went_offline: usize,
    pub came_back: usize,
}

/// Judges every school of every collectivité as of `now` and writes what changed: the
/// status and its start, an outage opened when a school goes offline (from the moment its
/// silence reached the threshold) and closed, with its class minutes, when it is heard
/// again.
pub async fn pass(db: &Db, now: DateTime<Utc>) -> AppResult<Pass> {
    pass_with(db, now, probes::TIMEOUT).await
}

/// [`pass`], probes waiting at most `probe_timeout` (tests shorten it).
pub async fn pass_with(
    db: &Db,
    now: DateTime<Utc>,
    probe_timeout: std::time::Duration,
) -> AppResult<Pass> {
    let probed = probes::run_all(db, now, probe_timeout).await?;
    let schools: Vec<(i64, i64)> = with_db!(db, pool => {
        sqlx::query_as("SELECT id, collectivite_id FROM schools WHERE status = 'active'").fetch_all(pool).await?
    });
    let contacts: HashMap<i64, DateTime<Utc>> = {
        let rows: Vec<(i64, Option<DateTime<Utc>>)> = with_db!(db, pool => {
            sqlx::query_as("SELECT school_id, MAX(last_inventory_at) FROM devices WHERE school_id IS NOT NULL AND last_inventory_at IS NOT NULL GROUP BY school_id").fetch_all(pool).await?
        });
        rows.into_iter()
            .filter_map(|(s, t)| Some((s, t?)))
            .collect()
    };
    type Stored = (String, DateTime<Utc>, Option<DateTime<Utc>>);
    type StoredRow = (i64, String, DateTime<Utc>, Option<DateTime<Utc>>);
    let stored: HashMap<i64, Stored> = {
        let rows: Vec<StoredRow> = with_db!(db, pool => {
            sqlx::query_as("SELECT school_id, status, since, last_contact FROM school_connectivity").fetch_all(pool).await?
        });
        rows.into_iter()
            .map(|(s, st, since, last)| (s, (st, since, last)))
            .collect()
    };
    let calendars = calendar::by_school(db, None).await?;
    // The two latest reports of each collectivité, to know whether others were heard.
    let mut latest: HashMap<i64, Vec<(DateTime<Utc>, i64)>> = HashMap::new();
    for (school, cid) in &schools {
        if let Some(t) = contacts.get(school) {
            let l = latest.entry(*cid).or_default();
            l.push((*t, *school));
            l.sort_by(|a, b| b.cmp(a));
            l.truncate(2);
        }
    }
    let fallback = preau_domain::calendar::Calendar::school(
        preau_domain::calendar::WeekHours::four_days(),
        vec![],
    );
    let mut out = Pass::default();
    let mut contacted: Vec<(i64, Option<DateTime<Utc>>)> = Vec::new();
    for (school, cid) in &schools {
        out.schools += 1;
        let cal = calendars.get(school).unwrap_or(&fallback);
        // A probed school is judged by its probe alone, once it has answered or failed
        // enough (a new probe waits for that, the agents judging meanwhile).
        let probe = probed
            .get(school)
            .filter(|pr| pr.last_ok_at.is_some() || pr.failures >= connectivity::PROBE_FAILURES);
        let mut last = contacts.get(school).copied();
        let status = match probe {
            Some(pr) => {
                last = last.max(pr.last_ok_at);
                connectivity::probe_status(pr.failures, pr.last_ok_at)
            }
            None => {
                let others = latest
                    .get(cid)
                    .and_then(|l| l.iter().find(|(_, s)| s != school))
                    .map(|(t, _)| *t);
                connectivity::judge(last, others, now, cal, DEFAULT_SILENT_HOURS)
            }
        };
        let before = stored.get(school);
        let changed = before.is_none_or(|(st, _, _)| Status::from_db(st) != status);
        if !changed && before.is_some_and(|b| b.2 == last) {
            continue;
        }
        if !changed {
            // Only heard again: written with the others in one transaction below.
            contacted.push((*school, last));
            continue;
        }
        let since = match (status, last) {
            (Status::HorsLigne, _) if probe.is_some() => {
                probe.and_then(|pr| pr.failing_since).unwrap_or(now)
            }
            (Status::HorsLigne, Some(l)) => {
                connectivity::offline_since(l, cal, DEFAULT_SILENT_HOURS)
            }
            (Status::EnLigne, Some(l)) if before.is_some() => l.max(before.map_or(l, |b| b.1)),
            _ => now,
        };
        let mut tx = db.begin().await?;
        with_tx!(&mut tx, c => {
            sqlx::query("DELETE FROM school_connectivity WHERE school_id = $1").bind(school).execute(&mut *c).await?;
            sqlx::query("INSERT INTO school_connectivity (school_id, status, since, last_contact, checked_at) VALUES ($1, $2, $3, $4, $5)")
                .bind(school).bind(status.code()).bind(since).bind(last).bind(now).execute(&mut *c).await?;
        });
        if status == Status::HorsLigne {
            let cause = match probe {
                Some(pr) => format!(
                    "La sonde de l'école ({}) ne répond plus depuis {}.",
                    pr.target,
                    preau_domain::paris::display(since)
                ),
                None => format!(
                    "Aucun ordinateur ni aucune tablette de l'école ne s'est signalé depuis {} (deux heures de classe).",
                    preau_domain::paris::display(since)
                ),
            };
            let ticket = open_ticket(&mut tx, *cid, *school, &cause, now).await?;
            with_tx!(&mut tx, c => {
                sqlx::query("INSERT INTO outages (school_id, started_at, ticket_id) VALUES ($1, $2, $3)")
                    .bind(school).bind(since).bind(ticket).execute(&mut *c).await?;
            });
            out.went_offline += 1;
        }
        let was_offline = before.is_some_and(|(st, _, _)| Status::from_db(st) == Status::HorsLigne);
        if was_offline {
            let open: Option<(i64, DateTime<Utc>, Option<i64>)> = with_tx!(&mut tx, c => {
                sqlx::query_as("SELECT id, started_at, ticket_id FROM outages WHERE school_id = $1 AND ended_at IS NULL ORDER BY started_at DESC LIMIT 1")
                    .bind(school).fetch_optional(&mut *c).await?
            });
            if let Some((id, started, ticket)) = open {
                let ended = last.unwrap_or(now).max(started);
                let minutes = cal.working_minutes(started, ended);
                with_tx!(&mut tx, c => {
                    sqlx::query("UPDATE outages SET ended_at = $1, class_minutes = $2 WHERE id = $3")
                        .bind(ended).bind(minutes).bind(id).execute(&mut *c).await?;
                });
                if let Some(ticket) = ticket {
                    resolve_ticket(&mut tx, *cid, ticket, ended, minutes, now).await?;
                }
            }
            out.came_back += 1;
        }
        tx.commit().await?;
    }
    if !contacted.is_empty() {
        let mut tx = db.begin().await?;
        for (school, last) in &contacted {
            with_tx!(&mut tx, c => {
                sqlx::query("UPDATE school_connectivity SET last_contact = $1, checked_at = $2 WHERE school_id = $3")
                    .bind(last).bind(now).bind(school).execute(&mut *c).await?;
            });
        }
        tx.commit().await?;
    }
    Ok(out)
}

/// Who opens and resolves outage tickets: Préau itself, as the collectivité's system.
fn system(cid: i64) -> Principal {
    Principal::system(cid, "Préau (surveillance de la connexion)")
}

/// Opens the outage's ticket: category réseau, the class cannot work, sent to the lot of
/// the main link's operator when a contract of its is in force (its clocks and penalties
/// then run), else routed as any ticket of the school.
async fn open_ticket(
    tx: &mut Tx,
    cid: i64,
    school: i64,
    cause: &str,
    now: DateTime<Utc>,
) -> AppResult<Option<i64>> {
    let v = crate::tickets::ValidTicket {
        school_id: Some(school),
        room_id: None,
        device_ids: Vec::new(),
        category: preau_domain::ticket::TicketCategory::Reseau,
        priority: preau_domain::ticket::Priority::P1,
        title: Some("L'école ne répond plus : connexion internet coupée".into()),
        description: format!("{cause} Le ticket sera résolu dès que l'école répondra de nouveau."),
    };
    let sys = system(cid);
    let t = crate::tickets::open(tx, &sys, &v, now).await?;
    // To the operator of the school's main link, when a contract of its is in force;
    // else where the school's other tickets go.
    let today = preau_domain::paris::day(now);
    let lot: Option<i64> = with_tx!(tx, c => {
        sqlx::query_scalar("SELECT l.id FROM school_links sl JOIN contracts k ON k.contractor_id = sl.operator_id JOIN lots l ON l.contract_id = k.id WHERE sl.school_id = $1 AND sl.role = 'principal' AND k.collectivite_id = $2 AND k.starts_on <= $3 AND k.ends_on >= $3 ORDER BY k.starts_on DESC, l.number LIMIT 1")
            .bind(school).bind(cid).bind(today).fetch_optional(&mut *c).await?
    });
    if let Some(lot) = lot
        && t.lot_id != Some(lot)
    {
        crate::tickets::assign(
            tx,
            &sys,
            t.id,
            t.version,
            Some(preau_domain::ticket::Assignee::Lot(lot)),
            now,
        )
        .await?;
    }
    Ok(Some(t.id))
}

/// Resolves the outage's ticket, saying how long the school was cut off in class time;
/// the school confirms as for any ticket. A ticket someone already resolved or closed is
/// left as it is.
async fn resolve_ticket(
    tx: &mut Tx,
    cid: i64,
    ticket: i64,
    ended: DateTime<Utc>,
    minutes: i64,
    now: DateTime<Utc>,
) -> AppResult<()> {
    use preau_domain::ticket::TicketStatus;
    let sys = system(cid);
    let t = crate::tickets::get_in_tx(tx, &sys, ticket).await?;
    if t.status().check_move(TicketStatus::Resolu).is_err() {
        return Ok(());
    }
    let message = format!(
        "La connexion est revenue le {} : {} h {:02} de classe sans réseau.",
        preau_domain::paris::display(ended),
        minutes / 60,
        minutes % 60
    );
    crate::tickets::set_status(
        tx,
        &sys,
        ticket,
        t.version,
        TicketStatus::Resolu,
        Some(&message),
        now,
    )
    .await?;
    Ok(())
}

/// The school of a link the caller may read.
pub async fn link_school(db: &Db, p: &Principal, id: i64) -> AppResult<i64> {
    let school: Option<i64> = with_db!(db, pool => {
        sqlx::query_scalar("SELECT l.school_id FROM school_links l JOIN schools s ON s.id = l.school_id WHERE l.id = $1 AND s.collectivite_id = $2")
            .bind(id).bind(p.collectivite_id).fetch_optional(pool).await?
    });
    match school {
        Some(s) if p.readable_schools().contains(s) => Ok(s),
        _ => Err(AppError::NotFound),
    }
}

/// An access point of a school's Wi-Fi register.
#[derive(Debug, Clone, Serialize)]
pub struct AccessPoint {
    pub device_id: i64,
    pub name: String,
    pub asset_tag: Option<String>,
    /// Where it hangs.
    pub room: Option<String>,
    pub switchable: Option<bool>,
    pub method: Option<preau_domain::connectivity::SwitchMethod>,
    /// The rooms it covers: id and name.
    pub covers: Vec<(i64, String)>,
    pub council_informed_on: Option<NaiveDate>,
    pub installed_on: Option<NaiveDate>,
    pub flags: Vec<preau_domain::connectivity::WifiFlag>,
}

type ApRow = (
    i64,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<bool>,
    Option<String>,
    Option<NaiveDate>,
    Option<NaiveDate>,
);

/// A school's Wi-Fi register: every access point in service (devices of a category with a
/// Wi-Fi switch), what it covers and what does not comply.
pub async fn wifi_register(db: &Db, p: &Principal, school_id: i64) -> AppResult<Vec<AccessPoint>> {
    reach_school(db, p, school_id).await?;
    let rows: Vec<ApRow> = with_db!(db, pool => {
        sqlx::query_as("SELECT d.id, d.name, d.asset_tag, r.name, d.wifi_switchable, d.wifi_switch_method, d.council_informed_on, d.purchase_date FROM devices d JOIN device_categories k ON k.id = d.category_id LEFT JOIN rooms r ON r.id = d.room_id WHERE d.school_id = $1 AND d.collectivite_id = $2 AND k.has_wifi_switch = TRUE AND d.state NOT IN ('reforme', 'perdu', 'vole') ORDER BY r.name, d.id")
            .bind(school_id).bind(p.collectivite_id).fetch_all(pool).await?
    });
    let covers: Vec<(i64, i64, String)> = with_db!(db, pool => {
        sqlx::query_as("SELECT a.device_id, r.id, r.name FROM access_point_rooms a JOIN rooms r ON r.id = a.room_id WHERE r.school_id = $1 ORDER BY r.name")
            .bind(school_id).fetch_all(pool).await?
    });
    Ok(rows
        .into_iter()
        .map(
            |(id, name, tag, room, switchable, method, informed, installed)| {
                let method = method
                    .as_deref()
                    .map(preau_domain::connectivity::SwitchMethod::from_db);
                AccessPoint {
                    device_id: id,
                    name: name.unwrap_or_default(),
                    asset_tag: tag,
                    room,
                    switchable,
                    method,
                    covers: covers
                        .iter()
                        .filter(|c| c.0 == id)
                        .map(|c| (c.1, c.2.clone()))
                        .collect(),
                    council_informed_on: informed,
                    installed_on: installed,
                    flags: preau_domain::connectivity::wifi_flags(
                        switchable, method, informed, installed,
                    ),
                }
            },
        )
        .collect())
}

/// What the register says of an access point, as entered.
#[derive(Debug, Clone, Default)]
pub struct AccessPointFacts {
    pub switchable: Option<bool>,
    pub method: Option<preau_domain::connectivity::SwitchMethod>,
    pub covers: Vec<i64>,
    pub council_informed_on: Option<NaiveDate>,
}

/// Records an access point's register facts; the administrator's or the school's
/// technician's (as for any device), audited.
pub async fn set_access_point(
    tx: &mut Tx,
    p: &Principal,
    device_id: i64,
    f: &AccessPointFacts,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let row: Option<(Option<i64>, Option<String>)> = with_tx!(tx, c => {
        sqlx::query_as("SELECT d.school_id, d.name FROM devices d JOIN device_categories k ON k.id = d.category_id WHERE d.id = $1 AND d.collectivite_id = $2 AND k.has_wifi_switch = TRUE")
            .bind(device_id).bind(p.collectivite_id).fetch_optional(&mut *c).await?
    });
    let Some((Some(school), name)) = row else {
        return Err(AppError::NotFound);
    };
    if !p.readable_schools().contains(school) {
        return Err(AppError::NotFound);
    }
    if !p.can_edit_devices(Some(school)) {
        return Err(AppError::Forbidden);
    }
    for room in &f.covers {
        let n: i64 = with_tx!(tx, c => {
            sqlx::query_scalar("SELECT COUNT(*) FROM rooms WHERE id = $1 AND school_id = $2").bind(room).bind(school).fetch_one(&mut *c).await?
        });
        if n == 0 {
            return Err(AppError::Invalid(vec![FieldError::new(
                "covers",
                "room_other_school",
            )]));
        }
    }
    with_tx!(tx, c => {
        sqlx::query("UPDATE devices SET wifi_switchable = $1, wifi_switch_method = $2, council_informed_on = $3, version = version + 1, updated_at = $4 WHERE id = $5")
            .bind(f.switchable).bind(f.method.map(|m| m.code())).bind(f.council_informed_on).bind(now).bind(device_id).execute(&mut *c).await?;
        sqlx::query("DELETE FROM access_point_rooms WHERE device_id = $1").bind(device_id).execute(&mut *c).await?;
        for room in &f.covers {
            sqlx::query("INSERT INTO access_point_rooms (device_id, room_id) VALUES ($1, $2)").bind(device_id).bind(room).execute(&mut *c).await?;
        }
    });
    audit::record(
        tx,
        &Actor::from(p),
        now,
        Entry {
            action: "update",
            object_type: "device",
            object_id: device_id,
            object_label: name.as_deref().unwrap_or(""),
            changes: serde_json::json!({
                "wifi_switchable": f.switchable,
                "wifi_switch_method": f.method.map(|m| m.code()),
                "council_informed_on": f.council_informed_on,
                "covers": f.covers,
            }),
        },
    )
    .await
}

/// An outage as the API lists it.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct OutageLine {
    pub school_id: i64,
    pub started_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    pub class_minutes: Option<i64>,
    pub ticket_id: Option<i64>,
}

/// The outages of the readable schools (or one), started in `[from, to)`, latest first,
/// at most 1 000.
pub async fn outages_between(
    db: &Db,
    p: &Principal,
    school: Option<i64>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> AppResult<Vec<OutageLine>> {
    let scope = scope(db, p).await?;
    if let Some(s) = school
        && !scope.contains(s)
    {
        return Err(AppError::NotFound);
    }
    let rows: Vec<OutageLine> = with_db!(db, pool => {
        sqlx::query_as("SELECT o.school_id, o.started_at, o.ended_at, o.class_minutes, o.ticket_id FROM outages o JOIN schools s ON s.id = o.school_id WHERE s.collectivite_id = $1 AND ($2 IS NULL OR o.school_id = $2) AND o.started_at >= $3 AND o.started_at < $4 ORDER BY o.started_at DESC LIMIT 1000")
            .bind(p.collectivite_id).bind(school).bind(from).bind(to).fetch_all(pool).await?
    });
    Ok(rows
        .into_iter()
        .filter(|o| scope.contains(o.school_id))
        .collect())
}

/// A school's availability over a month: its class minutes, and those lost to outages.
#[derive(Debug, Clone, Serialize)]
pub struct MonthAvailability {
    pub month: crate::reports::Month,
    pub class_minutes: i64,
    pub lost_minutes: i64,
}

impl MonthAvailability {
    /// Percent of class time online, one decimal (`None` for a month without class).
    pub fn percent(&self) -> Option<f64> {
        (self.class_minutes > 0).then(|| {
            let up = (self.class_minutes - self.lost_minutes).max(0) as f64;
            (up * 1000.0 / self.class_minutes as f64).round() / 10.0
        })
    }
}

/// A school's availability month by month over the twelve months up to `now`'s, in class
/// time on its own calendar.
pub async fn availability(
    db: &Db,
    p: &Principal,
    school_id: i64,
    now: DateTime<Utc>,
) -> AppResult<Vec<MonthAvailability>> {
    reach_school(db, p, school_id).await?;
    let calendars = calendar::by_school(db, Some(p.collectivite_id)).await?;
    let Some(cal) = calendars.get(&school_id) else {
        return Err(AppError::NotFound);
    };
    let mut first = crate::reports::Month::of(now);
    for _ in 0..11 {
        first = first.previous();
    }
    let outages: Vec<Span> = with_db!(db, pool => {
        sqlx::query_as("SELECT started_at, ended_at FROM outages WHERE school_id = $1 AND (ended_at IS NULL OR ended_at >= $2) ORDER BY started_at")
            .bind(school_id).bind(first.start()).fetch_all(pool).await?
    });
    Ok(months_of(cal, &outages, first, now))
}

/// An outage's start and end (`None`: still going on).
type Span = (DateTime<Utc>, Option<DateTime<Utc>>);

/// Twelve months from `first` of one school: its class minutes and those `outages` took.
fn months_of(
    cal: &preau_domain::calendar::Calendar,
    outages: &[Span],
    first: crate::reports::Month,
    now: DateTime<Utc>,
) -> Vec<MonthAvailability> {
    let mut out = Vec::new();
    let mut m = first;
    for _ in 0..12 {
        let (a, b) = (m.start(), m.next().start().min(now));
        let lost = outages
            .iter()
            .map(|(s, e)| {
                let (s, e) = ((*s).max(a), e.unwrap_or(now).min(b));
                if e > s { cal.working_minutes(s, e) } else { 0 }
            })
            .sum();
        out.push(MonthAvailability {
            month: m,
            class_minutes: if b > a { cal.working_minutes(a, b) } else { 0 },
            lost_minutes: lost,
        });
        m = m.next();
    }
    out
}

/// An operator's service over twelve months: the schools whose main link it runs, their
/// class time online month by month, its outages, and what its contract promises.
#[derive(Debug, Clone, Serialize)]
pub struct OperatorAvailability {
    pub operator_id: i64,
    pub operator: String,
    pub schools: usize,
    /// The contract in force with this operator, and its GTR for the most urgent tickets
    /// (an outage's priority), as written (`4h`…).
    pub contract: Option<(i64, String)>,
    pub gtr: Option<String>,
    /// Per month: the schools' class minutes, those lost, and the outages that started.
    pub months: Vec<(MonthAvailability, usize)>,
}

impl OperatorAvailability {
    /// Percent of class time online over the twelve months.
    pub fn percent(&self) -> Option<f64> {
        let (class, lost) = self.months.iter().fold((0, 0), |(c, l), (m, _)| {
            (c + m.class_minutes, l + m.lost_minutes)
        });
        (class > 0).then(|| ((class - lost) as f64 * 1000.0 / class as f64).round() / 10.0)
    }
}

/// Each operator's availability over the twelve months up to `now`'s, over the schools of
/// `scope` whose main link it runs.
pub async fn operators_availability(
    db: &Db,
    p: &Principal,
    scope: &SchoolScope,
    now: DateTime<Utc>,
) -> AppResult<Vec<OperatorAvailability>> {
    let cid = p.collectivite_id;
    let mut first = crate::reports::Month::of(now);
    for _ in 0..11 {
        first = first.previous();
    }
    let links: Vec<(i64, i64, String)> = with_db!(db, pool => {
        sqlx::query_as("SELECT DISTINCT l.school_id, k.id, k.name FROM school_links l JOIN schools s ON s.id = l.school_id JOIN contractors k ON k.id = l.operator_id WHERE s.collectivite_id = $1 AND s.status = 'active' AND l.role = 'principal' ORDER BY k.name, k.id")
            .bind(cid).fetch_all(pool).await?
    });
    let outages: Vec<(i64, DateTime<Utc>, Option<DateTime<Utc>>)> = with_db!(db, pool => {
        sqlx::query_as("SELECT o.school_id, o.started_at, o.ended_at FROM outages o JOIN schools s ON s.id = o.school_id WHERE s.collectivite_id = $1 AND (o.ended_at IS NULL OR o.ended_at >= $2) ORDER BY o.started_at")
            .bind(cid).bind(first.start()).fetch_all(pool).await?
    });
    let today = preau_domain::paris::day(now);
    let contracts: Vec<(i64, i64, String, Option<String>)> = with_db!(db, pool => {
        sqlx::query_as("SELECT k.contractor_id, k.id, k.reference, (SELECT g.gtr FROM lots l JOIN sla_lines g ON g.lot_id = l.id WHERE l.contract_id = k.id AND g.priority = 'p1' ORDER BY l.number LIMIT 1) FROM contracts k WHERE k.collectivite_id = $1 AND k.starts_on <= $2 AND k.ends_on >= $2 ORDER BY k.starts_on")
            .bind(cid).bind(today).fetch_all(pool).await?
    });
    let calendars = calendar::by_school(db, Some(cid)).await?;
    let mut of_school: HashMap<i64, Vec<Span>> = HashMap::new();
    for (school, start, end) in outages {
        of_school.entry(school).or_default().push((start, end));
    }
    let mut out: Vec<OperatorAvailability> = Vec::new();
    for (school, operator_id, operator) in links {
        if !scope.contains(school) {
            continue;
        }
        let Some(cal) = calendars.get(&school) else {
            continue;
        };
        if out.last().is_none_or(|o| o.operator_id != operator_id) {
            let contract = contracts.iter().rev().find(|c| c.0 == operator_id);
            out.push(OperatorAvailability {
                operator_id,
                operator,
                schools: 0,
                contract: contract.map(|c| (c.1, c.2.clone())),
                gtr: contract.and_then(|c| c.3.clone()),
                months: Vec::new(),
            });
        }
        let Some(o) = out.last_mut() else { continue };
        o.schools += 1;
        let cut = of_school
            .get(&school)
            .map(Vec::as_slice)
            .unwrap_or_default();
        for (k, m) in months_of(cal, cut, first, now).into_iter().enumerate() {
            let (a, b) = (m.month.start(), m.month.next().start());
            let started = cut.iter().filter(|(s, _)| *s >= a && *s < b).count();
            match o.months.get_mut(k) {
                Some((total, n)) => {
                    total.class_minutes += m.class_minutes;
                    total.lost_minutes += m.lost_minutes;
                    *n += started;
                }
                None => o.months.push((m, started)),
            }
        }
    }
    Ok(out)
}
