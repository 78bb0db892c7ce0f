//! School calendars: the holidays bundled with Préau plus those imported from the
//! official `fr-en-calendrier-scolaire` export, and a school's calendar built from them.

use preau_domain::FieldError;
use preau_domain::calendar::{self, Calendar, Closure, WeekHours};
use preau_domain::org::{HolidayZone, SchoolWeek};
use std::collections::HashMap;
use std::sync::OnceLock;

use crate::db::{Db, Sql, Tx};
use crate::error::AppResult;
use crate::{bind_params, with_db, with_tx};

/// What an import of the official calendar did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CalendarImport {
    pub added: usize,
    pub known: usize,
}

/// Imports the closures of zones A, B and C from an official export (or a file in its
/// layout); closures already known are left as they are.
pub async fn import(tx: &mut Tx, text: &str) -> AppResult<CalendarImport> {
    let mut report = CalendarImport::default();
    for zone in [HolidayZone::A, HolidayZone::B, HolidayZone::C] {
        for c in calendar::closures_from_csv(text, zone)? {
            let n = with_tx!(tx, conn => {
                sqlx::query("INSERT INTO school_holidays (zone, label, start_date, end_date) VALUES ($1, $2, $3, $4) ON CONFLICT (zone, start_date, end_date) DO NOTHING")
                    .bind(zone.code()).bind(&c.label).bind(c.start).bind(c.end)
                    .execute(&mut *conn).await?.rows_affected()
            });
            if n == 1 {
                report.added += 1;
            } else {
                report.known += 1;
            }
        }
    }
    Ok(report)
}

type StoredClosure = (String, chrono::NaiveDate, chrono::NaiveDate);
const STORED: &str =
    "SELECT label, start_date, end_date FROM school_holidays WHERE zone = $1 ORDER BY start_date";

/// The bundled holidays of a zone, read from the CSV once per process: every ticket
/// change recomputes its clocks, and would otherwise parse the file again.
fn bundled(zone: HolidayZone) -> Result<Vec<Closure>, FieldError> {
    type Zones = Result<Vec<(HolidayZone, Vec<Closure>)>, FieldError>;
    static BUNDLED: OnceLock<Zones> = OnceLock::new();
    let all = BUNDLED.get_or_init(|| {
        HolidayZone::ALL
            .iter()
            .map(|z| calendar::closures_from_csv(calendar::BUNDLED_HOLIDAYS, *z).map(|c| (*z, c)))
            .collect()
    });
    match all {
        Ok(zones) => Ok(zones
            .iter()
            .find(|(z, _)| *z == zone)
            .map(|(_, c)| c.clone())
            .unwrap_or_default()),
        Err(e) => Err(e.clone()),
    }
}

fn merge(zone: HolidayZone, stored: Vec<StoredClosure>) -> AppResult<Vec<Closure>> {
    let mut list = bundled(zone)?;
    list.extend(
        stored
            .into_iter()
            .map(|(label, start, end)| Closure { label, start, end }),
    );
    list.sort_by_key(|c| (c.start, c.end));
    list.dedup_by(|a, b| a.start == b.start && a.end == b.end);
    Ok(list)
}

/// The closures of a zone: bundled, plus imported.
pub async fn closures(db: &Db, zone: HolidayZone) -> AppResult<Vec<Closure>> {
    let stored: Vec<StoredClosure> = with_db!(db, pool => {
        sqlx::query_as(STORED).bind(zone.code()).fetch_all(pool).await?
    });
    merge(zone, stored)
}

/// `closures`, inside a write transaction.
pub async fn closures_in_tx(tx: &mut Tx, zone: HolidayZone) -> AppResult<Vec<Closure>> {
    let stored: Vec<StoredClosure> = with_tx!(tx, c => {
        sqlx::query_as(STORED).bind(zone.code()).fetch_all(&mut *c).await?
    });
    merge(zone, stored)
}

/// The hours of a school week.
pub fn week_hours(week: SchoolWeek) -> WeekHours {
    match week {
        SchoolWeek::Quatre => WeekHours::four_days(),
        SchoolWeek::QuatreEtDemi => WeekHours::four_and_a_half_days(),
    }
}

/// The calendar a school's clocks count on: its zone's holidays, public holidays, and
/// its school week (`zone` and `week` as stored on the school).
pub async fn school_calendar(db: &Db, zone: &str, week: &str) -> AppResult<Calendar> {
    Ok(Calendar::school(
        week_hours(SchoolWeek::from_db(week)),
        closures(db, HolidayZone::from_db(zone)).await?,
    ))
}

/// `school_calendar` of one school, by id.
pub async fn of_school(db: &Db, school_id: i64) -> AppResult<Calendar> {
    let (zone, week): (String, String) = with_db!(db, pool => {
        sqlx::query_as("SELECT holiday_zone, week FROM schools WHERE id = $1").bind(school_id).fetch_one(pool).await?
    });
    school_calendar(db, &zone, &week).await
}

/// `of_school`, inside a write transaction.
pub async fn of_school_in_tx(tx: &mut Tx, school_id: i64) -> AppResult<Calendar> {
    let (zone, week): (String, String) = with_tx!(tx, c => {
        sqlx::query_as("SELECT holiday_zone, week FROM schools WHERE id = $1").bind(school_id).fetch_one(&mut *c).await?
    });
    Ok(Calendar::school(
        week_hours(SchoolWeek::from_db(&week)),
        closures_in_tx(tx, HolidayZone::from_db(&zone)).await?,
    ))
}

/// The calendar of every school (of one collectivité, or of the deployment), built once
/// per zone and week: for passes over many tickets.
pub async fn by_school(db: &Db, collectivite_id: Option<i64>) -> AppResult<HashMap<i64, Calendar>> {
    let schools: Vec<(i64, String, String)> = with_db!(db, pool => {
        sqlx::query_as("SELECT id, holiday_zone, week FROM schools WHERE $1 IS NULL OR collectivite_id = $1")
            .bind(collectivite_id).fetch_all(pool).await?
    });
    built_for(db, schools).await
}

/// The calendar of each of these schools (a page of tickets), built once per zone and week.
pub async fn for_schools(db: &Db, ids: &[i64]) -> AppResult<HashMap<i64, Calendar>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let mut sql = Sql::new("SELECT id, holiday_zone, week FROM schools WHERE id IN ");
    sql.bind_list(ids);
    let schools: Vec<(i64, String, String)> = with_db!(db, pool => {
        bind_params!(sqlx::query_as(sqlx::AssertSqlSafe(sql.text.clone())), &sql.params).fetch_all(pool).await?
    });
    built_for(db, schools).await
}

async fn built_for(
    db: &Db,
    schools: Vec<(i64, String, String)>,
) -> AppResult<HashMap<i64, Calendar>> {
    let mut built: HashMap<(String, String), Calendar> = HashMap::new();
    let mut out = HashMap::new();
    for (id, zone, week) in schools {
        let key = (zone, week);
        if !built.contains_key(&key) {
            built.insert(key.clone(), school_calendar(db, &key.0, &key.1).await?);
        }
        out.insert(id, built[&key].clone());
    }
    Ok(out)
}

/// For each zone, the last day of school holidays Préau knows (bundled or imported):
/// deadlines beyond it are computed without the holidays that follow.
pub async fn known_until(db: &Db) -> AppResult<Vec<(HolidayZone, Option<chrono::NaiveDate>)>> {
    let mut out = Vec::new();
    for zone in [HolidayZone::A, HolidayZone::B, HolidayZone::C] {
        out.push((zone, closures(db, zone).await?.iter().map(|c| c.end).max()));
    }
    Ok(out)
}

/// The school years whose holidays Préau does not know yet, for a zone where the
/// collectivité has schools: the current one (until it is imported, its deadlines count
/// its holidays as school days) and the next one (to import before it starts).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CalendarGaps {
    /// `2026-2027` when the current school year is missing.
    pub current: Option<String>,
    pub next: Option<String>,
}

/// The school year `today` belongs to, by the year it starts in: from August, the one
/// that starts in September.
pub fn school_year_start(today: chrono::NaiveDate) -> i32 {
    use chrono::Datelike;
    if today.month() >= 8 {
        today.year()
    } else {
        today.year() - 1
    }
}

/// A school year (starting in September of `start`) is known for a zone when one of its
/// closures begins between February and August of its second calendar year: its winter,
/// spring or summer break, which every official export lists.
fn year_known(closures: &[Closure], start: i32) -> bool {
    let from = chrono::NaiveDate::from_ymd_opt(start + 1, 2, 1);
    let to = chrono::NaiveDate::from_ymd_opt(start + 1, 9, 1);
    closures
        .iter()
        .any(|c| from.is_some_and(|f| c.start >= f) && to.is_some_and(|t| c.start < t))
}

/// See [`CalendarGaps`].
pub async fn gaps(
    db: &Db,
    collectivite_id: i64,
    today: chrono::NaiveDate,
) -> AppResult<CalendarGaps> {
    let zones: Vec<String> = with_db!(db, pool => {
        sqlx::query_scalar("SELECT DISTINCT holiday_zone FROM schools WHERE collectivite_id = $1 AND status <> 'closed'")
            .bind(collectivite_id).fetch_all(pool).await?
    });
    let start = school_year_start(today);
    let label = |y: i32| format!("{y}-{}", y + 1);
    let mut out = CalendarGaps::default();
    for zone in zones {
        let list = closures(db, HolidayZone::from_db(&zone)).await?;
        if !year_known(&list, start) {
            out.current = Some(label(start));
        }
        if !year_known(&list, start + 1) {
            out.next = Some(label(start + 1));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> chrono::NaiveDate {
        chrono::NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn the_bundled_years_are_known_and_the_next_ones_are_not() {
        for zone in [HolidayZone::A, HolidayZone::B, HolidayZone::C] {
            let list = bundled(zone).unwrap();
            assert!(year_known(&list, 2025), "{zone:?}");
            assert!(!year_known(&list, 2026), "{zone:?}");
        }
        assert_eq!(school_year_start(day(2026, 12, 6)), 2026);
        assert_eq!(school_year_start(day(2027, 3, 1)), 2026);
        assert_eq!(school_year_start(day(2027, 8, 20)), 2027);
    }
}
