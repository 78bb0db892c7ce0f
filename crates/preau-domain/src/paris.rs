//! Europe/Paris, the time every person using Préau reads: the one home for turning an
//! instant into a local day or a local time, and a local time back into an instant.
//! Instants are stored and compared in UTC; only what people see or type is local.

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::{Europe::Paris, Tz};

/// The instant in Paris time.
pub fn local(t: DateTime<Utc>) -> DateTime<Tz> {
    t.with_timezone(&Paris)
}

/// The day it is in Paris at that instant (a school day, a due date, "today").
pub fn day(t: DateTime<Utc>) -> NaiveDate {
    local(t).date_naive()
}

/// A wall-clock time typed in Paris as an instant; in the hour skipped in spring, none;
/// in the hour repeated in autumn, the first.
pub fn instant(local: NaiveDateTime) -> Option<DateTime<Utc>> {
    Paris
        .from_local_datetime(&local)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
}

/// `day` at `hour:minute` Paris time, as an instant (the next valid minute if that time
/// does not exist that day).
pub fn at(day: NaiveDate, hour: u32, minute: u32) -> DateTime<Utc> {
    let mut t = day.and_hms_opt(hour, minute, 0).unwrap_or_default();
    for _ in 0..120 {
        if let Some(i) = instant(t) {
            return i;
        }
        t += chrono::Duration::minutes(1);
    }
    Utc.from_utc_datetime(&t)
}

/// Reads a local time as support staff type it: `2026-12-18T17:00` (a browser's
/// `datetime-local` field) or `2026-12-18 17:00`.
pub fn parse(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M")
        .or_else(|_| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M"))
        .ok()
        .and_then(instant)
}

/// An instant as a local time in the form [`parse`] reads, `2026-12-18 17:00`.
pub fn input(t: DateTime<Utc>) -> String {
    local(t).format("%Y-%m-%d %H:%M").to_string()
}

/// "02/12/2026 14:05", as French readers write a date and time.
pub fn display(t: DateTime<Utc>) -> String {
    local(t).format("%d/%m/%Y %H:%M").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_and_times_follow_paris_across_daylight_saving() {
        let late = Utc.with_ymd_and_hms(2026, 12, 1, 23, 30, 0).unwrap();
        assert_eq!(day(late), NaiveDate::from_ymd_opt(2026, 12, 2).unwrap());
        assert_eq!(display(late), "02/12/2026 00:30");
        let summer = Utc.with_ymd_and_hms(2026, 7, 1, 21, 59, 0).unwrap();
        assert_eq!(day(summer), NaiveDate::from_ymd_opt(2026, 7, 1).unwrap());
        assert_eq!(display(summer), "01/07/2026 23:59");
        // 29 March 2026, 02:30 does not exist in Paris: the next valid minute is 03:00.
        let spring = NaiveDate::from_ymd_opt(2026, 3, 29).unwrap();
        assert_eq!(
            at(spring, 2, 30),
            Utc.with_ymd_and_hms(2026, 3, 29, 1, 0, 0).unwrap()
        );
        assert_eq!(instant(spring.and_hms_opt(2, 30, 0).unwrap()), None);
        // 25 October 2026, 02:30 happens twice: the first.
        let autumn = NaiveDate::from_ymd_opt(2026, 10, 25).unwrap();
        assert_eq!(
            at(autumn, 2, 30),
            Utc.with_ymd_and_hms(2026, 10, 25, 0, 30, 0).unwrap()
        );
    }
}
