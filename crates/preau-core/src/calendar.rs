//! School calendars: the holidays bundled with Préau plus those imported from the
//! official `fr-en-calendrier-scolaire` export, and a school's calendar built from them.

use preau_domain::FieldError;
use preau_domain::calendar::{self, Calendar, Closure, WeekHours};
use preau_domain::org::{HolidayZone, SchoolWeek};
use std::collections::HashMap;
use std::sync::OnceLock;

use crate::db::{Db, Tx};
use crate::error::AppResult;
use crate::{with_db, with_tx};

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
