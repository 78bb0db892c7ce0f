//! The school calendar SLA clocks run on: a school's weekly hours (4-day week without
//! Wednesday, or 4.5 days), French public holidays (fixed, and Easter-based — computed),
//! and the school holidays of its zone (the official `fr-en-calendrier-scolaire` layout,
//! Ascension bridge included). Times are instants (UTC); days and hours are Europe/Paris,
//! daylight saving included. Pure: the caller gives the instants, nothing reads a clock.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Utc, Weekday};
use chrono_tz::Europe::Paris;

use crate::error::FieldError;
use crate::org::HolidayZone;

/// Working hours of each weekday, Monday first: local time ranges.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WeekHours {
    days: [Vec<(NaiveTime, NaiveTime)>; 7],
}

fn hm(h: u32, m: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(h, m, 0).unwrap_or_default()
}

impl WeekHours {
    /// The 4-day week (no school on Wednesday): 8h30–11h30 and 13h30–16h30.
    pub fn four_days() -> WeekHours {
        let day = vec![(hm(8, 30), hm(11, 30)), (hm(13, 30), hm(16, 30))];
        WeekHours {
            days: [
                day.clone(),
                day.clone(),
                vec![],
                day.clone(),
                day,
                vec![],
                vec![],
            ],
        }
    }

    /// The 4.5-day week: the same, plus Wednesday morning.
    pub fn four_and_a_half_days() -> WeekHours {
        let mut w = WeekHours::four_days();
        w.days[2] = vec![(hm(8, 30), hm(11, 30))];
        w
    }

    /// Other hours (a contractor's, say): the same ranges on the given weekdays.
    pub fn custom(days: &[Weekday], ranges: &[(NaiveTime, NaiveTime)]) -> WeekHours {
        let mut w = WeekHours {
            days: Default::default(),
        };
        for d in days {
            w.days[d.num_days_from_monday() as usize] = ranges.to_vec();
        }
        w
    }

    /// The class hours of a date's weekday.
    pub fn ranges(&self, d: NaiveDate) -> &[(NaiveTime, NaiveTime)] {
        self.of(d)
    }

    fn of(&self, d: NaiveDate) -> &[(NaiveTime, NaiveTime)] {
        &self.days[d.weekday().num_days_from_monday() as usize]
    }
}

/// Easter Sunday of a Gregorian year (the anonymous Gregorian computus).
pub fn easter(year: i32) -> NaiveDate {
    let a = year % 19;
    let b = year / 100;
    let c = year % 100;
    let d = b / 4;
    let e = b % 4;
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15) % 30;
    let i = c / 4;
    let k = c % 4;
    let l = (32 + 2 * e + 2 * i - h - k) % 7;
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    NaiveDate::from_ymd_opt(year, month as u32, day as u32).unwrap_or_default()
}

/// The eleven French public holidays of a year.
pub fn public_holidays(year: i32) -> Vec<NaiveDate> {
    let d = |m, day| NaiveDate::from_ymd_opt(year, m, day).unwrap_or_default();
    let e = easter(year);
    let mut v = vec![
        d(1, 1),
        e + Duration::days(1),
        d(5, 1),
        d(5, 8),
        e + Duration::days(39),
        e + Duration::days(50),
        d(7, 14),
        d(8, 15),
        d(11, 1),
        d(11, 11),
        d(12, 25),
    ];
    v.sort();
    v
}

/// Whether `d` is one of the eleven public holidays (no allocation: clocks ask it for
/// every day they walk).
pub fn is_public_holiday(d: NaiveDate) -> bool {
    let fixed = matches!(
        (d.month(), d.day()),
        (1, 1) | (5, 1) | (5, 8) | (7, 14) | (8, 15) | (11, 1) | (11, 11) | (12, 25)
    );
    if fixed {
        return true;
    }
    // Easter Monday (+1), Ascension (+39), Whit Monday (+50): March 23 to June 14.
    if !(3..=6).contains(&d.month()) {
        return false;
    }
    let offset = (d - easter(d.year())).num_days();
    matches!(offset, 1 | 39 | 50)
}

/// The Monday of `day`'s week.
pub fn monday_of(day: NaiveDate) -> NaiveDate {
    day - Duration::days(i64::from(day.weekday().num_days_from_monday()))
}

/// Days without class: from `start` (the first day without class) to the day before `end`
/// (the day classes resume).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Closure {
    pub label: String,
    pub start: NaiveDate,
    pub end: NaiveDate,
}

/// A date of the official export: `2025-12-20`, or the UTC instant of local midnight
/// (`2025-12-19T23:00:00+00:00`).
fn official_date(v: &str) -> Option<NaiveDate> {
    let v = v.trim();
    NaiveDate::parse_from_str(v, "%Y-%m-%d").ok().or_else(|| {
        DateTime::parse_from_rfc3339(v)
            .ok()
            .map(|t| crate::paris::day(t.to_utc()))
    })
}

/// The closures of `zone` in a `fr-en-calendrier-scolaire` CSV (`;`, the official
/// columns; dates as dates or as instants). A bad line is an error naming it.
pub fn closures_from_csv(text: &str, zone: HolidayZone) -> Result<Vec<Closure>, FieldError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines = text.lines();
    let header: Vec<String> = lines
        .next()
        .unwrap_or("")
        .split(';')
        .map(|h| h.trim().to_lowercase())
        .collect();
    let col = |name: &str| header.iter().position(|h| h == name);
    let (Some(desc), Some(start), Some(end), Some(zones)) = (
        col("description"),
        col("start_date"),
        col("end_date"),
        col("zones"),
    ) else {
        return Err(FieldError::new("file", "calendar_columns"));
    };
    let population = col("population");
    let wanted = format!("zone {}", zone.code().to_lowercase());
    let mut out = Vec::new();
    for (i, line) in lines.enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let f: Vec<&str> = line.split(';').collect();
        let get = |c: usize| f.get(c).copied().unwrap_or("").trim();
        if get(zones).to_lowercase() != wanted {
            continue;
        }
        // Teachers-only rows ("Enseignants") do not close the school to pupils.
        if population.is_some_and(|p| get(p).eq_ignore_ascii_case("Enseignants")) {
            continue;
        }
        let (Some(s), Some(e)) = (official_date(get(start)), official_date(get(end))) else {
            return Err(FieldError::new(format!("line {}", i + 2), "date_format"));
        };
        if e <= s {
            return Err(FieldError::new(format!("line {}", i + 2), "date_format"));
        }
        out.push(Closure {
            label: get(desc).to_string(),
            start: s,
            end: e,
        });
    }
    out.sort_by_key(|c| c.start);
    out.dedup();
    Ok(out)
}

/// The holidays bundled with Préau (2024-2026, the official layout).
pub const BUNDLED_HOLIDAYS: &str = include_str!("../data/calendrier-scolaire-2024-2026.csv");

/// How long a clock runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Span {
    /// Working minutes.
    Minutes(i64),
    /// Working days: the same time of day on the n-th next working day.
    Days(i64),
}

impl Span {
    /// The form `parse` reads back: `4h`, `90m`, `2d`.
    pub fn code(self) -> String {
        match self {
            Span::Minutes(m) if m % 60 == 0 => format!("{}h", m / 60),
            Span::Minutes(m) => format!("{m}m"),
            Span::Days(d) => format!("{d}d"),
        }
    }

    /// In words, for pages: « 4 h ouvrées », « 2 jours ouvrés ».
    pub fn label(self, lang: crate::Lang) -> String {
        use crate::Lang::*;
        match (self, lang) {
            (Span::Minutes(m), Fr) if m % 60 == 0 => format!("{} h ouvrées", m / 60),
            (Span::Minutes(m), Fr) => format!("{m} min ouvrées"),
            (Span::Days(1), Fr) => "1 jour ouvré".to_string(),
            (Span::Days(d), Fr) => format!("{d} jours ouvrés"),
            (Span::Minutes(m), En) if m % 60 == 0 => format!("{} working hours", m / 60),
            (Span::Minutes(m), En) => format!("{m} working minutes"),
            (Span::Days(1), En) => "1 working day".to_string(),
            (Span::Days(d), En) => format!("{d} working days"),
        }
    }

    /// `4h`, `90m`, `2d` / `2j`.
    pub fn parse(s: &str) -> Result<Span, FieldError> {
        let s = s.trim().to_lowercase();
        let bad = || FieldError::new("duration", "duration_format");
        let (n, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?);
        let n: i64 = n.parse().map_err(|_| bad())?;
        if !(1..=100_000).contains(&n) {
            return Err(bad());
        }
        match unit {
            "m" | "min" => Ok(Span::Minutes(n)),
            "h" => Ok(Span::Minutes(n * 60)),
            "d" | "j" => Ok(Span::Days(n)),
            _ => Err(bad()),
        }
    }
}

/// A working calendar: hours per weekday, minus public holidays and closures.
#[derive(Debug, Clone)]
pub struct Calendar {
    pub hours: WeekHours,
    pub closures: Vec<Closure>,
    /// Whether public holidays stop the clock (they do for schools).
    pub public_holidays: bool,
}

/// Days looked ahead at most when walking a calendar (a calendar with no working time
/// at all must not loop forever).
const HORIZON_DAYS: i64 = 3 * 366;

impl Calendar {
    pub fn school(hours: WeekHours, closures: Vec<Closure>) -> Calendar {
        Calendar {
            hours,
            closures,
            public_holidays: true,
        }
    }

    pub fn is_public_holiday(&self, d: NaiveDate) -> bool {
        is_public_holiday(d)
    }

    /// Whether a closure (school holidays, a bridge) covers `d`.
    pub fn is_closed(&self, d: NaiveDate) -> bool {
        self.closures.iter().any(|c| c.start <= d && d < c.end)
    }

    /// Whether `d` has working hours: its weekday has some, it is no public holiday, and
    /// no closure covers it.
    pub fn is_working_day(&self, d: NaiveDate) -> bool {
        let no_hours = self.hours.of(d).is_empty();
        if no_hours {
            return false;
        }
        let holiday = self.public_holidays && is_public_holiday(d);
        let closed = self.closures.iter().any(|c| c.start <= d && d < c.end);
        !(holiday || closed)
    }

    /// The working intervals of a day, as instants.
    fn intervals(&self, d: NaiveDate) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
        if !self.is_working_day(d) {
            return Vec::new();
        }
        self.hours
            .of(d)
            .iter()
            .filter_map(|(a, b)| {
                let a = Paris.from_local_datetime(&d.and_time(*a)).earliest()?;
                let b = Paris.from_local_datetime(&d.and_time(*b)).latest()?;
                Some((a.with_timezone(&Utc), b.with_timezone(&Utc)))
            })
            .collect()
    }

    /// Working intervals from `t` on, clipped to start at `t`, day after day.
    fn from(&self, t: DateTime<Utc>) -> impl Iterator<Item = (DateTime<Utc>, DateTime<Utc>)> + '_ {
        let first = crate::paris::day(t);
        (0..HORIZON_DAYS)
            .flat_map(move |i| self.intervals(first + Duration::days(i)))
            .filter(move |(_, b)| *b > t)
            .map(move |(a, b)| (a.max(t), b))
    }

    /// The working intervals between `a` and `b`, clipped to them.
    pub fn working_intervals(
        &self,
        a: DateTime<Utc>,
        b: DateTime<Utc>,
    ) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
        if b <= a {
            return Vec::new();
        }
        self.from(a)
            .take_while(|(s, _)| *s < b)
            .map(|(s, e)| (s, e.min(b)))
            .collect()
    }

    /// The first working instant at or after `t` (a ticket opened at night, on a Sunday
    /// or in the holidays starts counting there).
    pub fn next_working_moment(&self, t: DateTime<Utc>) -> DateTime<Utc> {
        self.from(t).next().map(|(a, _)| a).unwrap_or(t)
    }

    /// Working minutes between `a` and `b` (0 when `b` is before `a`).
    pub fn working_minutes(&self, a: DateTime<Utc>, b: DateTime<Utc>) -> i64 {
        let mut total = 0;
        for (s, e) in self.from(a) {
            if s >= b {
                break;
            }
            total += (e.min(b) - s).num_minutes();
        }
        total
    }

    /// The instant when `minutes` working minutes have run from `start`, not counting the
    /// `pauses` (the ticket waiting on the school).
    pub fn add_minutes(
        &self,
        start: DateTime<Utc>,
        minutes: i64,
        pauses: &[(DateTime<Utc>, DateTime<Utc>)],
    ) -> DateTime<Utc> {
        let mut left = minutes;
        let mut at = self.next_working_moment(start);
        for (s, e) in self.from(start) {
            // Cut the pauses out of this working interval.
            let mut pieces = vec![(s, e)];
            for (ps, pe) in pauses {
                pieces = pieces
                    .into_iter()
                    .flat_map(|(a, b)| {
                        if *pe <= a || *ps >= b {
                            vec![(a, b)]
                        } else {
                            let mut v = Vec::new();
                            if *ps > a {
                                v.push((a, *ps));
                            }
                            if *pe < b {
                                v.push((*pe, b));
                            }
                            v
                        }
                    })
                    .collect();
            }
            for (a, b) in pieces {
                let len = (b - a).num_minutes();
                if len >= left {
                    return a + Duration::minutes(left);
                }
                left -= len;
                at = b;
            }
        }
        at
    }

    /// The deadline of a clock started at `start` for `span`, with `pauses`. Working
    /// days land at the same working moment of the n-th next working day; pauses then
    /// push it by the working minutes they took before it.
    pub fn deadline(
        &self,
        start: DateTime<Utc>,
        span: Span,
        pauses: &[(DateTime<Utc>, DateTime<Utc>)],
    ) -> DateTime<Utc> {
        match span {
            Span::Minutes(m) => self.add_minutes(start, m, pauses),
            Span::Days(n) => {
                let from = self.next_working_moment(start);
                let local = crate::paris::local(from);
                let mut day = local.date_naive();
                let mut count = 0;
                let mut guard = 0;
                while count < n && guard < HORIZON_DAYS {
                    day += Duration::days(1);
                    guard += 1;
                    if self.is_working_day(day) {
                        count += 1;
                    }
                }
                let target = Paris
                    .from_local_datetime(&day.and_time(local.time()))
                    .earliest()
                    .map(|t| t.with_timezone(&Utc))
                    .unwrap_or(from);
                let base = self.next_working_moment(target);
                let paused: i64 = pauses
                    .iter()
                    .map(|(a, b)| self.working_minutes((*a).max(from), (*b).min(base)))
                    .filter(|m| *m > 0)
                    .sum();
                // The pauses' time before `base` is added after it, skipping the part of
                // any pause that goes on past `base`.
                if paused > 0 {
                    self.add_minutes(base, paused, pauses)
                } else {
                    base
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paris(s: &str) -> DateTime<Utc> {
        crate::paris::parse(s).unwrap()
    }

    fn local(t: DateTime<Utc>) -> String {
        crate::paris::input(t)
    }

    fn zone_c() -> Calendar {
        Calendar::school(
            WeekHours::four_days(),
            closures_from_csv(BUNDLED_HOLIDAYS, HolidayZone::C).unwrap(),
        )
    }

    #[test]
    fn easter_and_the_holidays_that_follow_it() {
        assert_eq!(easter(2024), NaiveDate::from_ymd_opt(2024, 3, 31).unwrap());
        assert_eq!(easter(2025), NaiveDate::from_ymd_opt(2025, 4, 20).unwrap());
        assert_eq!(easter(2026), NaiveDate::from_ymd_opt(2026, 4, 5).unwrap());
        assert_eq!(easter(2027), NaiveDate::from_ymd_opt(2027, 3, 28).unwrap());
        let h = public_holidays(2026);
        assert_eq!(h.len(), 11);
        for year in 2020..2040 {
            let listed = public_holidays(year);
            let mut d = NaiveDate::from_ymd_opt(year, 1, 1).unwrap();
            while d.year() == year {
                assert_eq!(is_public_holiday(d), listed.contains(&d), "{d}");
                d += Duration::days(1);
            }
        }
        for d in ["2026-04-06", "2026-05-14", "2026-05-25"] {
            assert!(h.contains(&d.parse().unwrap()), "{d}");
        }
    }

    #[test]
    fn the_official_export_is_read_with_both_date_forms() {
        let text = "description;start_date;end_date;zones;location;population;annee_scolaire\n\
                    Vacances de Noël;2026-12-18T23:00:00+00:00;2027-01-03T23:00:00+00:00;Zone C;Versailles;-;2026-2027\n\
                    Pont;2027-05-06T22:00:00+00:00;2027-05-09T22:00:00+00:00;Zone C;;Enseignants;2026-2027\n\
                    Vacances d'Hiver;2027-02-13;2027-03-01;Zone A;;-;2026-2027\n";
        let c = closures_from_csv(text, HolidayZone::C).unwrap();
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].start, NaiveDate::from_ymd_opt(2026, 12, 19).unwrap());
        assert_eq!(c[0].end, NaiveDate::from_ymd_opt(2027, 1, 4).unwrap());
        assert!(closures_from_csv("a;b\n", HolidayZone::C).is_err());
        assert!(
            closures_from_csv(
                "description;start_date;end_date;zones\nx;demain;2027-01-01;Zone C\n",
                HolidayZone::C
            )
            .is_err()
        );
    }

    #[test]
    fn a_ticket_opened_at_night_starts_counting_in_the_morning() {
        let c = zone_c();
        // Tuesday 1 December 2026, 21:00: counts from Thursday? No — Wednesday is off in
        // a 4-day week, so from Thursday 8:30.
        assert_eq!(
            local(c.next_working_moment(paris("2026-12-01 21:00"))),
            "2026-12-03 08:30"
        );
        // 4 working hours from then: Thursday 8:30–11:30 (3 h) + 13:30–14:30.
        assert_eq!(
            local(c.deadline(paris("2026-12-01 21:00"), Span::Minutes(240), &[])),
            "2026-12-03 14:30"
        );
    }

    #[test]
    fn a_ticket_opened_on_sunday_or_in_the_holidays_does_not_get_a_zero_delay() {
        let c = zone_c();
        // GLPI #687: opened on a Sunday, the delay was zero. Here it starts on Monday.
        let d = c.deadline(paris("2025-11-16 10:00"), Span::Minutes(60), &[]);
        assert_eq!(local(d), "2025-11-17 09:30");
        // Opened on the first day of the Christmas holidays: counts from 5 January 2026.
        let d = c.deadline(paris("2025-12-20 09:00"), Span::Minutes(60), &[]);
        assert_eq!(local(d), "2026-01-05 09:30");
    }

    #[test]
    fn the_ascension_bridge_and_public_holidays_stop_the_clock() {
        let c = zone_c();
        // Ascension is Thursday 14 May 2026, the bridge Friday 15: Wednesday off, so a
        // ticket of Tuesday 12 May 16:00 with 1 working hour ends Monday 18 May at 9:00.
        let d = c.deadline(paris("2026-05-12 16:00"), Span::Minutes(60), &[]);
        assert_eq!(local(d), "2026-05-18 09:00");
        // Whit Monday 25 May 2026: a Friday 16:00 ticket with 1 hour ends Tuesday 9:00.
        let d = c.deadline(paris("2026-05-22 16:00"), Span::Minutes(60), &[]);
        assert_eq!(local(d), "2026-05-26 09:00");
    }

    #[test]
    fn working_days_skip_wednesdays_weekends_and_holidays() {
        let c = zone_c();
        // J+1 from Tuesday 10:00 is Thursday 10:00 in a 4-day week…
        assert_eq!(
            local(c.deadline(paris("2026-12-01 10:00"), Span::Days(1), &[])),
            "2026-12-03 10:00"
        );
        // …and Wednesday 10:00 in a 4.5-day week (the afternoon is off, not the morning).
        let c45 = Calendar::school(WeekHours::four_and_a_half_days(), c.closures.clone());
        assert_eq!(
            local(c45.deadline(paris("2026-12-01 10:00"), Span::Days(1), &[])),
            "2026-12-02 10:00"
        );
        // J+2 from Friday 18 December 2026 (last day before Christmas: in 2026-2027
        // nothing is bundled, so the clock runs) is Tuesday 22.
        assert_eq!(
            local(c.deadline(paris("2026-12-18 10:00"), Span::Days(2), &[])),
            "2026-12-22 10:00"
        );
        // J+1 from Friday 19 December 2025, 10:00: the holidays start the next day, so
        // the next working day is Monday 5 January 2026.
        assert_eq!(
            local(c.deadline(paris("2025-12-19 10:00"), Span::Days(1), &[])),
            "2026-01-05 10:00"
        );
    }

    #[test]
    fn a_pause_across_a_weekend_moves_a_day_based_deadline_by_its_working_time_only() {
        // GLPI #10594: day-based delays with a pause across a weekend were miscounted.
        let c = zone_c();
        let start = paris("2025-11-20 10:00"); // Thursday
        let base = c.deadline(start, Span::Days(2), &[]); // Monday 24, 10:00
        assert_eq!(local(base), "2025-11-24 10:00");
        // Waiting on the school from Friday 15:00 to Monday 9:00: 1 h 30 + 30 min of
        // working time = 2 h; the weekend costs nothing.
        let pause = (paris("2025-11-21 15:00"), paris("2025-11-24 09:00"));
        assert_eq!(c.working_minutes(pause.0, pause.1), 120);
        // Monday 10:00 + 2 working hours: 11:30, then 13:30 + 30 min.
        assert_eq!(
            local(c.deadline(start, Span::Days(2), &[pause])),
            "2025-11-24 14:00"
        );
    }

    #[test]
    fn daylight_saving_changes_keep_local_hours() {
        let c = zone_c();
        // Sunday 29 March 2026 the clocks go forward; Monday's hours are still 8:30 local.
        assert_eq!(
            local(c.next_working_moment(paris("2026-03-28 12:00"))),
            "2026-03-30 08:30"
        );
        // Across the autumn change (26 October 2025, in the Toussaint holidays): half an
        // hour on Friday 17 October, the other half on Monday 3 November.
        let d = c.deadline(paris("2025-10-17 16:00"), Span::Minutes(60), &[]);
        assert_eq!(local(d), "2025-11-03 09:00");
        assert_eq!(
            c.working_minutes(paris("2026-03-27 08:30"), paris("2026-03-30 09:30")),
            6 * 60 + 60
        );
    }

    #[test]
    fn durations_are_read_as_support_staff_type_them() {
        assert_eq!(Span::parse("4h"), Ok(Span::Minutes(240)));
        assert_eq!(Span::parse("90m"), Ok(Span::Minutes(90)));
        assert_eq!(Span::parse("2d"), Ok(Span::Days(2)));
        assert_eq!(Span::parse("3J"), Ok(Span::Days(3)));
        for bad in ["", "h", "4x", "-1h", "0h"] {
            assert!(Span::parse(bad).is_err(), "{bad}");
        }
    }

    /// Pseudo-random instants over two school years, the same on every run.
    fn instants(n: usize) -> Vec<DateTime<Utc>> {
        let mut x: u64 = 0x9e3779b97f4a7c15;
        let base = paris("2025-09-01 00:00");
        (0..n)
            .map(|_| {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                base + Duration::minutes(((x >> 33) % (600 * 24 * 60)) as i64)
            })
            .collect()
    }

    #[test]
    fn property_a_longer_duration_never_gives_an_earlier_deadline() {
        let c = zone_c();
        for t in instants(300) {
            let mut last = c.deadline(t, Span::Minutes(1), &[]);
            for m in [2, 30, 59, 60, 61, 180, 240, 600, 1440, 5000] {
                let d = c.deadline(t, Span::Minutes(m), &[]);
                assert!(d >= last, "{t}: {m} min gives {d}, before {last}");
                assert_eq!(c.working_minutes(t, d), m, "{t} + {m}");
                last = d;
            }
            let mut last = c.deadline(t, Span::Days(1), &[]);
            for n in 2..6 {
                let d = c.deadline(t, Span::Days(n), &[]);
                assert!(d > last, "{t}: J+{n}");
                last = d;
            }
        }
    }

    #[test]
    fn property_a_pause_of_p_working_minutes_moves_the_deadline_by_exactly_p() {
        let c = zone_c();
        let all = instants(400);
        for pair in all.chunks(2) {
            let (start, other) = (pair[0], pair[1]);
            let base = c.deadline(start, Span::Minutes(600), &[]);
            // A pause inside the clock's run: from `other` clipped into [start, base).
            let (ps, pe) = if other > start && other < base {
                (other, other + Duration::minutes(200))
            } else {
                (
                    start + Duration::minutes(30),
                    start + Duration::minutes(300),
                )
            };
            let p = c.working_minutes(ps.max(start), pe);
            let d = c.deadline(start, Span::Minutes(600), &[(ps, pe)]);
            assert_eq!(c.working_minutes(base, d), p, "{start}: pause {ps}–{pe}");
            assert_eq!(d, c.add_minutes(base, p, &[]).max(base));
        }
    }
}
