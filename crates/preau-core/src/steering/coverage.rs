//! Coverage: each school of the caller's scope against the référentiel in force, with the
//! cost of closing each gap. The same queries whatever the number of schools (the rules,
//! schools, rooms, the current year and its classes, devices in service counted by place
//! and category, category codes, declarations, unit prices); the verdicts are pure.
//!
//! Devices in service: in service, lent, or under repair for less than
//! [`REPAIR_GRACE_DAYS`]; not in stock, ordered, lost, stolen or retired.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use preau_domain::org::{RoomKind, SchoolKind};
use preau_domain::referentiel::{self, Classroom, Coverage, SchoolFacts, Tallies, Tally};
use preau_domain::{Principal, paris};
use serde::Serialize;

use super::referentiel::{self as rules, Referentiel};
use crate::db::Db;
use crate::error::{AppError, AppResult};
use crate::{with_db, years};

/// A device under repair for longer than this no longer counts as equipping its room.
pub const REPAIR_GRACE_DAYS: i64 = 30;

/// A gap and its price.
#[derive(Debug, Clone, Serialize)]
pub struct Purchase {
    pub rule_key: String,
    pub category: String,
    pub quantity: i64,
    /// The category's unit price (set, else the average of the last three years'
    /// purchases); `None` when neither is known.
    pub unit_price_cents: Option<i64>,
    pub cost_cents: Option<i64>,
}

/// One school's coverage, as pages and the API show it.
#[derive(Debug, Clone, Serialize)]
pub struct SchoolCoverage {
    pub school_id: i64,
    pub name: String,
    pub uai: String,
    pub kind: SchoolKind,
    pub coverage: Coverage,
    /// What to buy to be conforme; empty for those who may not see costs.
    pub purchases: Vec<Purchase>,
    /// The total of the purchases whose price is known; `None` when costs are hidden.
    pub missing_cost_cents: Option<i64>,
}

/// The collectivité's schools (those the caller may see), with the référentiel used.
#[derive(Debug, Clone, Serialize)]
pub struct CoverageReport {
    pub referentiel: Referentiel,
    pub schools: Vec<SchoolCoverage>,
}

type SchoolRow = (i64, String, String, String);
type RoomRow = (i64, i64, String, String);
type ClassRow = (i64, i64, Option<i64>, i64);
type TallyRow = (i64, Option<i64>, i64, i64, i64, i64);

/// Coverage of every school the caller may see (`only`: one of them), as of `now`.
pub async fn report(
    db: &Db,
    p: &Principal,
    only: Option<i64>,
    now: DateTime<Utc>,
) -> AppResult<CoverageReport> {
    let scope = p.coverage_schools();
    if let Some(id) = only
        && !scope.contains(id)
    {
        return Err(AppError::NotFound);
    }
    let cid = p.collectivite_id;
    let today = paris::day(now);
    let repair_since: NaiveDate = today - Duration::days(REPAIR_GRACE_DAYS);
    let show_costs = p.can_see_costs();
    // The reads do not depend on one another: on PostgreSQL they run side by side on the
    // pool's connections (the devices' tally is the long one).
    let (referentiel, schools, rooms, year, tallies, codes, declared, prices) = tokio::try_join!(
        rules::get(db, p),
        async {
            let rows: Vec<SchoolRow> = with_db!(db, pool => {
                sqlx::query_as("SELECT id, name, uai, kind FROM schools WHERE collectivite_id = $1 AND status = 'active' ORDER BY name, id")
                    .bind(cid).fetch_all(pool).await?
            });
            Ok::<_, AppError>(rows)
        },
        async {
            let rows: Vec<RoomRow> = with_db!(db, pool => {
                sqlx::query_as("SELECT r.id, r.school_id, r.kind, r.name FROM rooms r JOIN schools s ON s.id = r.school_id WHERE s.collectivite_id = $1 ORDER BY r.name, r.id")
                    .bind(cid).fetch_all(pool).await?
            });
            Ok::<_, AppError>(rows)
        },
        years::current(db, p, today),
        async {
            let rows: Vec<TallyRow> = with_db!(db, pool => {
                sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT d.school_id, d.room_id, d.category_id, COUNT(*), CAST(SUM(CASE WHEN d.inventory_source = 'MDM' THEN 1 ELSE 0 END) AS BIGINT), CAST(SUM(CASE WHEN d.wifi_switchable THEN 1 ELSE 0 END) AS BIGINT) FROM devices d WHERE {IN_SERVICE} GROUP BY d.school_id, d.room_id, d.category_id")))
                    .bind(cid).bind(repair_since).fetch_all(pool).await?
            });
            Ok::<_, AppError>(rows)
        },
        category_codes(db, cid),
        async {
            let rows: Vec<(i64, String)> = with_db!(db, pool => {
                sqlx::query_as("SELECT d.school_id, d.key FROM school_declarations d JOIN schools s ON s.id = d.school_id WHERE s.collectivite_id = $1")
                    .bind(cid).fetch_all(pool).await?
            });
            Ok::<_, AppError>(rows)
        },
        async {
            if show_costs {
                unit_prices(db, cid, today).await
            } else {
                Ok(BTreeMap::new())
            }
        },
    )?;
    let schools: Vec<SchoolRow> = schools
        .into_iter()
        .filter(|s| scope.contains(s.0) && only.is_none_or(|o| o == s.0))
        .collect();
    if only.is_some() && schools.is_empty() {
        return Err(AppError::NotFound);
    }
    let classes: Vec<ClassRow> = match &year {
        None => Vec::new(),
        Some(y) => with_db!(db, pool => {
            sqlx::query_as("SELECT c.id, c.school_id, c.room_id, c.head_count FROM classes c JOIN schools s ON s.id = c.school_id WHERE s.collectivite_id = $1 AND c.school_year_id = $2")
                .bind(cid).bind(y.id).fetch_all(pool).await?
        }),
    };

    let mut by_room: BTreeMap<i64, Tallies> = BTreeMap::new();
    let mut by_school: BTreeMap<i64, Tallies> = BTreeMap::new();
    for (school, room, category, count, enrolled, switchable) in tallies {
        let Some(code) = codes.get(&category) else {
            continue;
        };
        let t = Tally {
            count,
            enrolled,
            switchable,
        };
        if let Some(r) = room {
            add(by_room.entry(r).or_default(), code, &t);
        }
        add(by_school.entry(school).or_default(), code, &t);
    }
    let mut classes_of_room: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
    let mut pupils: BTreeMap<i64, (i64, i64)> = BTreeMap::new();
    for (id, school, room, head_count) in &classes {
        if let Some(r) = room {
            classes_of_room.entry(*r).or_default().push(*id);
        }
        let e = pupils.entry(*school).or_default();
        e.0 += head_count;
        e.1 += 1;
    }
    let mut declared_by: BTreeMap<i64, BTreeSet<String>> = BTreeMap::new();
    for (school, key) in declared {
        declared_by.entry(school).or_default().insert(key);
    }
    let mut rooms_of: BTreeMap<i64, Vec<&RoomRow>> = BTreeMap::new();
    for r in &rooms {
        rooms_of.entry(r.1).or_default().push(r);
    }
    let items = schools
        .into_iter()
        .map(|(id, name, uai, kind)| {
            let kind = SchoolKind::from_db(&kind);
            let mut classrooms = Vec::new();
            let mut direction: Option<Tallies> = None;
            for (room, _, room_kind, room_name) in rooms_of.remove(&id).unwrap_or_default() {
                let devices = by_room.get(room).cloned().unwrap_or_default();
                match RoomKind::from_db(room_kind) {
                    RoomKind::Classe => classrooms.push(Classroom {
                        room_id: *room,
                        name: room_name.clone(),
                        class_ids: classes_of_room.get(room).cloned().unwrap_or_default(),
                        devices,
                    }),
                    RoomKind::BureauDirection => {
                        let d = direction.get_or_insert_with(Tallies::new);
                        for (code, t) in &devices {
                            add(d, code, t);
                        }
                    }
                    _ => {}
                }
            }
            let (head_count, class_count) = pupils.get(&id).copied().unwrap_or_default();
            let facts = SchoolFacts {
                school_id: id,
                kind,
                pupils: head_count,
                classes: class_count,
                classrooms,
                direction,
                school: by_school.remove(&id).unwrap_or_default(),
                declared: declared_by.remove(&id).unwrap_or_default(),
            };
            let coverage = referentiel::evaluate(&referentiel.rules, &facts);
            let purchases: Vec<Purchase> = if show_costs {
                coverage
                    .rules
                    .iter()
                    .filter(|r| r.missing > 0)
                    .filter_map(|r| {
                        let category = r.category.clone()?;
                        let unit = prices.get(&category).copied().flatten();
                        Some(Purchase {
                            rule_key: r.key.clone(),
                            quantity: r.missing,
                            unit_price_cents: unit,
                            cost_cents: unit.map(|u| u * r.missing),
                            category,
                        })
                    })
                    .collect()
            } else {
                Vec::new()
            };
            let missing_cost_cents =
                show_costs.then(|| purchases.iter().filter_map(|p| p.cost_cents).sum());
            SchoolCoverage {
                school_id: id,
                name,
                uai,
                kind,
                coverage,
                purchases,
                missing_cost_cents,
            }
        })
        .collect();
    Ok(CoverageReport {
        referentiel,
        schools: items,
    })
}

fn add(t: &mut Tallies, code: &str, x: &Tally) {
    let e = t.entry(code.to_string()).or_default();
    e.count += x.count;
    e.enrolled += x.enrolled;
    e.switchable += x.switchable;
}

/// Devices in service of collectivité `$1` placed in a school, `$2` the day before which a
/// repair no longer counts: the filter coverage and renewal share.
pub(super) const IN_SERVICE: &str = "d.collectivite_id = $1 AND d.school_id IS NOT NULL AND (d.state IN ('en_service', 'prete') OR (d.state = 'en_reparation' AND d.state_since >= $2))";

/// The collectivité's category codes by id.
async fn category_codes(db: &Db, cid: i64) -> AppResult<BTreeMap<i64, String>> {
    let rows: Vec<(i64, String)> = with_db!(db, pool => {
        sqlx::query_as("SELECT id, code FROM device_categories WHERE collectivite_id = $1")
            .bind(cid).fetch_all(pool).await?
    });
    Ok(rows.into_iter().collect())
}

/// Each category's unit price: the one set, else the average price of the collectivité's
/// purchases of the last three years (`None`: no price known).
pub async fn unit_prices(
    db: &Db,
    cid: i64,
    today: NaiveDate,
) -> AppResult<BTreeMap<String, Option<i64>>> {
    let since = today - Duration::days(3 * 365);
    let rows: Vec<(String, Option<i64>, Option<i64>)> = with_db!(db, pool => {
        sqlx::query_as("SELECT c.code, c.unit_price_cents, (SELECT CAST(AVG(d.price_cents) AS BIGINT) FROM devices d WHERE d.category_id = c.id AND d.price_cents IS NOT NULL AND d.purchase_date >= $2) FROM device_categories c WHERE c.collectivite_id = $1")
            .bind(cid).bind(since).fetch_all(pool).await?
    });
    Ok(rows
        .into_iter()
        .map(|(code, set, average)| (code, set.or(average)))
        .collect())
}
