//! Bookings of shared kits and rooms (a classe mobile, a visio kit, the robots, the salle
//! informatique): the slots of a school day, weekly repeats on the school's calendar, when
//! two bookings clash (a kit shared by several schools needs its time to move between
//! them), and the text of a resource's iCalendar feed.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, Timelike, Utc};

use crate::calendar::Calendar;
use crate::error::{FieldError, Lang};

/// One slot of a school day, local time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Slot {
    pub start: NaiveTime,
    pub end: NaiveTime,
}

/// At most this many slots in a school's day.
pub const MAX_SLOTS: usize = 12;

/// A repeat runs at most this many weeks ahead of its first day.
pub const MAX_REPEAT_DAYS: i64 = 366;

/// A shared resource takes at most this long to move from one school to another.
pub const MAX_MOVE_MINUTES: i64 = 240;

fn hm(t: NaiveTime) -> String {
    t.format("%H:%M").to_string()
}

impl Slot {
    /// `08:30-11:30`, as forms and the API carry it.
    pub fn code(&self) -> String {
        format!("{}-{}", hm(self.start), hm(self.end))
    }

    /// Parses `08:30-11:30` (or `8h30-11h30`); the error names `field`.
    pub fn parse(field: &str, s: &str) -> Result<Slot, FieldError> {
        let s = s.trim().replace(['–', '—'], "-");
        let Some((a, b)) = s.split_once('-') else {
            return Err(FieldError::new(field, "slot_format"));
        };
        let start = crate::visio::time_of_day(field, a).map_err(|e| e.at(field))?;
        let end = crate::visio::time_of_day(field, b).map_err(|e| e.at(field))?;
        if end <= start {
            return Err(FieldError::new(field, "slot_format"));
        }
        Ok(Slot { start, end })
    }

    /// How people call the slot: "matin" and "après-midi" for the halves of the day,
    /// else its hours ("08:30–09:30").
    pub fn label(&self, lang: Lang, halves: bool) -> String {
        let noon = NaiveTime::from_hms_opt(12, 30, 0).unwrap_or_default();
        if halves && self.end <= noon {
            return match lang {
                Lang::Fr => "matin",
                Lang::En => "morning",
            }
            .into();
        }
        if halves && self.start >= NaiveTime::from_hms_opt(12, 0, 0).unwrap_or_default() {
            return match lang {
                Lang::Fr => "après-midi",
                Lang::En => "afternoon",
            }
            .into();
        }
        format!("{}–{}", hm(self.start), hm(self.end))
    }

    /// The slot's instants on `day`.
    pub fn on(&self, day: NaiveDate) -> (DateTime<Utc>, DateTime<Utc>) {
        (
            crate::paris::at(day, self.start.hour(), self.start.minute()),
            crate::paris::at(day, self.end.hour(), self.end.minute()),
        )
    }
}

/// A school's own slots, as typed: `08:30-09:30, 09:30-10:30, …` (commas, semicolons or
/// new lines between them). Empty means the halves of each class day. The slots must not
/// overlap; they come back in order.
pub fn parse_slots(field: &str, text: &str) -> Result<Vec<Slot>, FieldError> {
    let mut out = Vec::new();
    for part in text
        .split([',', ';', '\n'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        out.push(Slot::parse(field, part)?);
        if out.len() > MAX_SLOTS {
            return Err(FieldError::new(field, "too_many_slots"));
        }
    }
    out.sort();
    if out.windows(2).any(|w| w[1].start < w[0].end) {
        return Err(FieldError::new(field, "slots_overlap"));
    }
    Ok(out)
}

/// The slots as stored: their codes joined by commas (empty for the halves).
pub fn slots_code(slots: &[Slot]) -> String {
    slots.iter().map(Slot::code).collect::<Vec<_>>().join(", ")
}

/// Hourly slots cut out of a school's class hours (the last of each half shorter when the
/// half is not a whole number of hours).
pub fn hourly(ranges: &[(NaiveTime, NaiveTime)]) -> Vec<Slot> {
    let mut out = Vec::new();
    for (a, b) in ranges {
        let mut t = *a;
        while t < *b {
            // NaiveTime wraps at midnight: an hour past 23:00 is the range's end.
            let (later, wrapped) = t.overflowing_add_signed(Duration::hours(1));
            let next = if wrapped != 0 { *b } else { later.min(*b) };
            out.push(Slot {
                start: t,
                end: next,
            });
            t = next;
        }
    }
    out
}

/// The slots of `day` at a school: none on a day without class (holidays, public holidays,
/// Wednesday of a 4-day week, a day declared closed); else the school's own slots that
/// fall within that day's class hours, or the day's halves when it has none of its own.
pub fn day_slots(cal: &Calendar, own: &[Slot], day: NaiveDate, closed: bool) -> Vec<Slot> {
    if closed || !cal.is_working_day(day) {
        return Vec::new();
    }
    let ranges = cal.hours.ranges(day);
    if own.is_empty() {
        return ranges
            .iter()
            .map(|(start, end)| Slot {
                start: *start,
                end: *end,
            })
            .collect();
    }
    own.iter()
        .copied()
        .filter(|s| ranges.iter().any(|(a, b)| *a <= s.start && s.end <= *b))
        .collect()
}

/// The days of a weekly repeat from `first` to `until` (both included) on which `open`
/// holds — the school's class days; holidays and closed days are skipped. Errors name
/// `repeat_until`: before the first day, or more than a year after it.
pub fn weekly(
    first: NaiveDate,
    until: NaiveDate,
    open: impl Fn(NaiveDate) -> bool,
) -> Result<Vec<NaiveDate>, FieldError> {
    if until < first {
        return Err(FieldError::new("repeat_until", "before_start"));
    }
    if (until - first).num_days() > MAX_REPEAT_DAYS {
        return Err(FieldError::new("repeat_until", "out_of_range"));
    }
    let mut out = Vec::new();
    let mut d = first;
    while d <= until {
        if open(d) {
            out.push(d);
        }
        d += Duration::days(7);
    }
    Ok(out)
}

/// A booking as far as clashes go: the school that holds it and its instants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Held {
    pub school_id: i64,
    pub starts: DateTime<Utc>,
    pub ends: DateTime<Utc>,
}

/// Whether `new` clashes with `held` on a resource that takes `move_minutes` to go from
/// one school to another: the same school needs the slots not to overlap; another school
/// also needs the time to move the resource, before and after.
pub fn clashes(held: &Held, new: &Held, move_minutes: i64) -> bool {
    let gap = if held.school_id == new.school_id {
        Duration::zero()
    } else {
        Duration::minutes(move_minutes.max(0))
    };
    held.starts - gap < new.ends && new.starts < held.ends + gap
}

/// The French name of a day, as the week grid and messages say it: "jeudi 10 décembre".
pub fn day_label(day: NaiveDate, lang: Lang) -> String {
    let months_fr = [
        "janvier",
        "février",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "août",
        "septembre",
        "octobre",
        "novembre",
        "décembre",
    ];
    let days_fr = [
        "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche",
    ];
    let w = day.weekday().num_days_from_monday() as usize;
    let m = day.month0() as usize;
    match lang {
        Lang::Fr => format!("{} {} {}", days_fr[w], day.day(), months_fr[m]),
        Lang::En => day.format("%A %-d %B").to_string(),
    }
}

/// One event of an iCalendar feed.
#[derive(Debug, Clone)]
pub struct Event {
    pub uid: String,
    pub starts: DateTime<Utc>,
    pub ends: DateTime<Utc>,
    pub summary: String,
    pub description: String,
    pub stamp: DateTime<Utc>,
}

/// Escapes a text value (RFC 5545 §3.3.11).
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// Folds a content line at 75 octets, never inside a character (RFC 5545 §3.1).
fn fold(line: &str, out: &mut String) {
    let mut width = 0;
    for c in line.chars() {
        let n = c.len_utf8();
        if width + n > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += n;
    }
    out.push_str("\r\n");
}

fn stamp(t: DateTime<Utc>) -> String {
    t.format("%Y%m%dT%H%M%SZ").to_string()
}

/// A whole iCalendar feed (`text/calendar`) named `name`.
pub fn ics(name: &str, events: &[Event]) -> String {
    let mut out = String::new();
    for l in [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Preau//Reservations//FR",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
    ] {
        fold(l, &mut out);
    }
    fold(&format!("X-WR-CALNAME:{}", escape(name)), &mut out);
    fold("X-WR-TIMEZONE:Europe/Paris", &mut out);
    for e in events {
        fold("BEGIN:VEVENT", &mut out);
        fold(&format!("UID:{}", escape(&e.uid)), &mut out);
        fold(&format!("DTSTAMP:{}", stamp(e.stamp)), &mut out);
        fold(&format!("DTSTART:{}", stamp(e.starts)), &mut out);
        fold(&format!("DTEND:{}", stamp(e.ends)), &mut out);
        fold(&format!("SUMMARY:{}", escape(&e.summary)), &mut out);
        if !e.description.is_empty() {
            fold(&format!("DESCRIPTION:{}", escape(&e.description)), &mut out);
        }
        fold("END:VEVENT", &mut out);
    }
    fold("END:VCALENDAR", &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::{Closure, WeekHours};

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }
    fn t(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).unwrap()
    }

    #[test]
    fn slots_parse_sort_and_refuse_overlaps() {
        let s = parse_slots("slots", "10h30-11h30; 08:30-09:30\n09:30 – 10:30").unwrap();
        assert_eq!(
            s.iter().map(Slot::code).collect::<Vec<_>>(),
            ["08:30-09:30", "09:30-10:30", "10:30-11:30"]
        );
        assert_eq!(parse_slots("slots", "").unwrap(), vec![]);
        assert_eq!(
            parse_slots("slots", "08:30-10:00, 09:30-10:30")
                .unwrap_err()
                .code,
            "slots_overlap"
        );
        assert_eq!(
            parse_slots("slots", "10:00-09:00").unwrap_err().code,
            "slot_format"
        );
        assert_eq!(
            parse_slots("slots", "matin").unwrap_err().code,
            "slot_format"
        );
        assert_eq!(
            parse_slots("slots", "25:00-26:00").unwrap_err().field,
            "slots"
        );
    }

    #[test]
    fn hourly_slots_cover_the_class_hours() {
        let h = hourly(&[(t(8, 30), t(11, 30)), (t(13, 30), t(16, 0))]);
        assert_eq!(
            slots_code(&h),
            "08:30-09:30, 09:30-10:30, 10:30-11:30, 13:30-14:30, 14:30-15:30, 15:30-16:00"
        );
        assert_eq!(hourly(&[(t(23, 0), t(23, 59))]).len(), 1);
    }

    #[test]
    fn a_day_has_its_halves_or_the_school_slots_within_class_hours() {
        let four = Calendar::school(WeekHours::four_days(), vec![]);
        let thursday = d(2026, 12, 10);
        let halves = day_slots(&four, &[], thursday, false);
        assert_eq!(slots_code(&halves), "08:30-11:30, 13:30-16:30");
        assert_eq!(halves[0].label(Lang::Fr, true), "matin");
        assert_eq!(halves[1].label(Lang::Fr, true), "après-midi");
        // Wednesday of a 4-day week, a day declared closed: nothing.
        assert!(day_slots(&four, &[], d(2026, 12, 9), false).is_empty());
        assert!(day_slots(&four, &[], thursday, true).is_empty());
        // Wednesday of a 4.5-day week: the morning's hourly slots only.
        let half = Calendar::school(WeekHours::four_and_a_half_days(), vec![]);
        let own = hourly(&[(t(8, 30), t(11, 30)), (t(13, 30), t(16, 30))]);
        assert_eq!(
            slots_code(&day_slots(&half, &own, d(2026, 12, 9), false)),
            "08:30-09:30, 09:30-10:30, 10:30-11:30"
        );
        assert_eq!(own[0].label(Lang::Fr, false), "08:30–09:30");
    }

    #[test]
    fn weekly_repeats_skip_holidays_and_public_holidays() {
        let christmas = Closure {
            start: d(2026, 12, 19),
            end: d(2027, 1, 4),
            label: "Noël".into(),
        };
        let cal = Calendar::school(WeekHours::four_days(), vec![christmas]);
        // Thursdays from 10 December to 14 January: 24 and 31 December are holidays.
        let days = weekly(d(2026, 12, 10), d(2027, 1, 14), |x| cal.is_working_day(x)).unwrap();
        assert_eq!(
            days,
            [
                d(2026, 12, 10),
                d(2026, 12, 17),
                d(2027, 1, 7),
                d(2027, 1, 14)
            ]
        );
        // Mondays across Easter Monday 2027 (29 March).
        let days = weekly(d(2027, 3, 22), d(2027, 4, 5), |x| cal.is_working_day(x)).unwrap();
        assert_eq!(days, [d(2027, 3, 22), d(2027, 4, 5)]);
        assert_eq!(
            weekly(d(2027, 1, 7), d(2026, 12, 10), |_| true)
                .unwrap_err()
                .code,
            "before_start"
        );
        assert_eq!(
            weekly(d(2026, 12, 10), d(2028, 1, 1), |_| true)
                .unwrap_err()
                .field,
            "repeat_until"
        );
    }

    #[test]
    fn another_school_needs_the_time_to_move_the_kit() {
        let day = d(2026, 12, 10);
        let (m0, m1) = Slot {
            start: t(8, 30),
            end: t(11, 30),
        }
        .on(day);
        let (a0, a1) = Slot {
            start: t(13, 30),
            end: t(16, 30),
        }
        .on(day);
        let morning_a = Held {
            school_id: 1,
            starts: m0,
            ends: m1,
        };
        let afternoon = |school_id| Held {
            school_id,
            starts: a0,
            ends: a1,
        };
        // Two hours between the halves: 90 minutes to move is fine, 150 is not.
        assert!(!clashes(&morning_a, &afternoon(2), 90));
        assert!(clashes(&morning_a, &afternoon(2), 150));
        // The same school needs no move.
        assert!(!clashes(&morning_a, &afternoon(1), 150));
        assert!(clashes(&morning_a, &morning_a, 0));
    }

    #[test]
    fn the_feed_escapes_and_folds_its_lines() {
        let (s, e) = Slot {
            start: t(8, 30),
            end: t(11, 30),
        }
        .on(d(2026, 12, 10));
        let text = ics(
            "Classe mobile 1, école Jules-Ferry",
            &[Event {
                uid: "booking-7@preau".into(),
                starts: s,
                ends: e,
                summary: "CM1 A; école Jules-Ferry".into(),
                description: "Atelier\nrobotique — ".repeat(8),
                stamp: s,
            }],
        );
        assert!(text.contains("X-WR-CALNAME:Classe mobile 1\\, école Jules-Ferry\r\n"));
        assert!(text.contains("DTSTART:20261210T073000Z\r\n"));
        assert!(text.contains("DTEND:20261210T103000Z\r\n"));
        assert!(text.contains("SUMMARY:CM1 A\\; école Jules-Ferry\r\n"));
        assert!(text.contains("\\n"));
        for line in text.split("\r\n") {
            assert!(line.len() <= 75, "{line:?} is longer than 75 octets");
        }
        assert!(text.ends_with("END:VCALENDAR\r\n"));
    }
}
