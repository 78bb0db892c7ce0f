//! The contract's clocks on a ticket and what a late ticket costs the contractor.
//!
//! A lot's SLA grid gives, per priority, a GTI (time to take charge) and a GTR (time to
//! restore), in working hours or working days of the calendar the contract names, and
//! late penalties per hour or per day late, capped per ticket and per month. A ticket
//! copies its grid line when it is opened, so that editing the grid later never changes
//! what was promised for tickets already open. Pure: every instant is given.

use chrono::{DateTime, NaiveTime, Utc, Weekday};
use serde::{Deserialize, Serialize};

use crate::calendar::{Calendar, Span, WeekHours};
use crate::error::{FieldError, Lang};
use crate::org::code_enum;

code_enum!(
    /// Which hours a contract's clocks count: the school's (its week, its zone's
    /// holidays, public holidays) or the contractor's working hours, all year round.
    CalendarKind {
        Ecole = "ecole" => ("Calendrier de l'école (heures de classe, vacances de la zone)", "The school's calendar (class hours, zone holidays)"),
        Prestataire = "prestataire" => ("Heures ouvrées du prestataire (toute l'année, hors jours fériés)", "The contractor's working hours (all year, except public holidays)"),
    }
);

code_enum!(
    /// What a penalty is counted in: each hour started, or each working day started.
    PenaltyUnit {
        Heure = "heure" => ("par heure ouvrée de retard commencée", "per working hour late (started)"),
        Jour = "jour" => ("par jour ouvré de retard commencé", "per working day late (started)"),
    }
);

/// A contractor's working hours: weekdays and one daily range, in Europe/Paris.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ContractorHours {
    pub days: Vec<Weekday>,
    pub start: NaiveTime,
    pub end: NaiveTime,
}

impl ContractorHours {
    /// Monday to Friday, 8h–18h: the usual "heures ouvrées" of a maintenance contract.
    pub fn usual() -> ContractorHours {
        ContractorHours {
            days: vec![
                Weekday::Mon,
                Weekday::Tue,
                Weekday::Wed,
                Weekday::Thu,
                Weekday::Fri,
            ],
            start: NaiveTime::from_hms_opt(8, 0, 0).unwrap_or_default(),
            end: NaiveTime::from_hms_opt(18, 0, 0).unwrap_or_default(),
        }
    }

    /// Reads `1,2,3,4,5` (ISO weekdays) and `08:00`/`18:00`.
    pub fn parse(days: &str, start: &str, end: &str) -> Result<ContractorHours, FieldError> {
        let mut out = Vec::new();
        for d in days.split(',').map(str::trim).filter(|d| !d.is_empty()) {
            let n: u8 = d
                .parse()
                .map_err(|_| FieldError::new("work_days", "unknown_value"))?;
            let day = match n {
                1 => Weekday::Mon,
                2 => Weekday::Tue,
                3 => Weekday::Wed,
                4 => Weekday::Thu,
                5 => Weekday::Fri,
                6 => Weekday::Sat,
                7 => Weekday::Sun,
                _ => return Err(FieldError::new("work_days", "unknown_value")),
            };
            if !out.contains(&day) {
                out.push(day);
            }
        }
        if out.is_empty() {
            return Err(FieldError::new("work_days", "required"));
        }
        let time = |field: &str, v: &str| {
            NaiveTime::parse_from_str(v.trim(), "%H:%M")
                .map_err(|_| FieldError::new(field, "time_format"))
        };
        let start = time("work_start", start)?;
        let end = time("work_end", end)?;
        if end <= start {
            return Err(FieldError::new("work_end", "dates_order"));
        }
        Ok(ContractorHours {
            days: out,
            start,
            end,
        })
    }

    pub fn days_code(&self) -> String {
        self.days
            .iter()
            .map(|d| d.number_from_monday().to_string())
            .collect::<Vec<_>>()
            .join(",")
    }

    /// The calendar these hours make: public holidays off, school holidays worked.
    pub fn calendar(&self) -> Calendar {
        Calendar {
            hours: WeekHours::custom(&self.days, &[(self.start, self.end)]),
            closures: Vec::new(),
            public_holidays: true,
        }
    }
}

/// One line of a lot's SLA grid (one priority), as the contract states it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlaLine {
    pub gti: Option<Span>,
    pub gtr: Option<Span>,
    pub unit: PenaltyUnit,
    /// Cents per unit late on the GTI, and on the GTR.
    pub gti_penalty_cents: i64,
    pub gtr_penalty_cents: i64,
}

impl Serialize for Span {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.code())
    }
}

impl<'de> Deserialize<'de> for Span {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Span, D::Error> {
        let s = String::deserialize(d)?;
        Span::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// How one clock of a ticket stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClockState {
    /// When it is due (moves while the ticket waits on the school).
    pub due: DateTime<Utc>,
    /// When it stopped (taken in charge for the GTI, resolved for the GTR).
    pub stopped_at: Option<DateTime<Utc>>,
    /// Stopped after `due`, or still running past it.
    pub breached: bool,
    /// Still running, not yet breached, with three quarters of its time used.
    pub at_risk: bool,
    /// Working minutes past `due` (pauses not counted).
    pub late_minutes: i64,
    /// Working days late, each day started counting: 1 until the same working moment of
    /// the next working day after `due`, then 2, and so on.
    pub late_days: i64,
}

/// What a ticket's clocks are computed from.
pub struct TicketTimes<'a> {
    pub opened_at: DateTime<Utc>,
    pub taken_at: Option<DateTime<Utc>>,
    pub resolved_at: Option<DateTime<Utc>>,
    /// Waits on the school (and, after a reopening, the time it sat resolved); an open
    /// pause has no end.
    pub pauses: &'a [(DateTime<Utc>, Option<DateTime<Utc>>)],
}

/// Both clocks of a ticket at `now`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Clocks {
    pub gti: Option<ClockState>,
    pub gtr: Option<ClockState>,
}

/// The working minutes of `[a, b)` that are not inside a pause.
fn unpaused_intervals(
    cal: &Calendar,
    a: DateTime<Utc>,
    b: DateTime<Utc>,
    pauses: &[(DateTime<Utc>, DateTime<Utc>)],
) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
    let mut pieces = cal.working_intervals(a, b);
    for (ps, pe) in pauses {
        pieces = pieces
            .into_iter()
            .flat_map(|(s, e)| {
                if *pe <= s || *ps >= e {
                    vec![(s, e)]
                } else {
                    let mut v = Vec::new();
                    if *ps > s {
                        v.push((s, *ps));
                    }
                    if *pe < e {
                        v.push((*pe, e));
                    }
                    v
                }
            })
            .collect();
    }
    pieces
}

fn clock(
    cal: &Calendar,
    start: DateTime<Utc>,
    span: Span,
    stopped_at: Option<DateTime<Utc>>,
    pauses: &[(DateTime<Utc>, DateTime<Utc>)],
    now: DateTime<Utc>,
) -> ClockState {
    let due = cal.deadline(start, span, pauses);
    let end = stopped_at.unwrap_or(now);
    let late = if end > due {
        unpaused_intervals(cal, due, end, pauses)
    } else {
        Vec::new()
    };
    let late_minutes: i64 = late.iter().map(|(a, b)| (*b - *a).num_minutes()).sum();
    // Days late the way day spans are counted: one day late until the same working
    // moment of the next working day, two until the one after, and so on.
    let late_days = if late_minutes == 0 {
        0
    } else {
        let mut n = 1;
        while n < 366 && cal.deadline(due, Span::Days(n), pauses) < end {
            n += 1;
        }
        n
    };
    let at_risk = stopped_at.is_none() && late_minutes == 0 && {
        let total: i64 = unpaused_intervals(cal, start, due, pauses)
            .iter()
            .map(|(a, b)| (*b - *a).num_minutes())
            .sum();
        let used: i64 = unpaused_intervals(cal, start, now.min(due), pauses)
            .iter()
            .map(|(a, b)| (*b - *a).num_minutes())
            .sum();
        total > 0 && used * 4 >= total * 3
    };
    ClockState {
        due,
        stopped_at,
        breached: late_minutes > 0,
        at_risk,
        late_minutes,
        late_days,
    }
}

/// The GTI and GTR clocks of a ticket at `now`, on `cal`, for its grid line. An open
/// pause counts up to `now`: the deadline moves on while the school is waited for.
pub fn clocks(cal: &Calendar, line: &SlaLine, t: &TicketTimes<'_>, now: DateTime<Utc>) -> Clocks {
    let pauses: Vec<(DateTime<Utc>, DateTime<Utc>)> = t
        .pauses
        .iter()
        .map(|(a, b)| (*a, b.unwrap_or(now).max(*a)))
        .collect();
    Clocks {
        gti: line
            .gti
            .map(|span| clock(cal, t.opened_at, span, t.taken_at, &pauses, now)),
        gtr: line
            .gtr
            .map(|span| clock(cal, t.opened_at, span, t.resolved_at, &pauses, now)),
    }
}

/// One clock's penalty, with the computation in words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PenaltyPart {
    pub units: i64,
    pub rate_cents: i64,
    pub cents: i64,
}

fn part(state: Option<&ClockState>, unit: PenaltyUnit, rate_cents: i64) -> PenaltyPart {
    let units = match state {
        Some(s) if s.breached => match unit {
            PenaltyUnit::Heure => (s.late_minutes + 59) / 60,
            PenaltyUnit::Jour => s.late_days,
        },
        _ => 0,
    };
    PenaltyPart {
        units,
        rate_cents,
        cents: units * rate_cents,
    }
}

/// A ticket's penalty: GTI part + GTR part, then the per-ticket cap.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TicketPenalty {
    pub gti: PenaltyPart,
    pub gtr: PenaltyPart,
    /// Before the cap.
    pub gross_cents: i64,
    /// After the per-ticket cap.
    pub cents: i64,
    pub capped: bool,
}

pub fn ticket_penalty(line: &SlaLine, clocks: &Clocks, cap_cents: Option<i64>) -> TicketPenalty {
    let gti = part(clocks.gti.as_ref(), line.unit, line.gti_penalty_cents);
    let gtr = part(clocks.gtr.as_ref(), line.unit, line.gtr_penalty_cents);
    let gross = gti.cents + gtr.cents;
    let cents = cap_cents.map_or(gross, |c| gross.min(c.max(0)));
    TicketPenalty {
        gti,
        gtr,
        gross_cents: gross,
        cents,
        capped: cents < gross,
    }
}

/// The month's total: the tickets' penalties, then the monthly cap of the lot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MonthPenalty {
    pub gross_cents: i64,
    pub cents: i64,
    pub capped: bool,
}

pub fn month_penalty(tickets: &[TicketPenalty], cap_cents: Option<i64>) -> MonthPenalty {
    let gross: i64 = tickets.iter().map(|t| t.cents).sum();
    let cents = cap_cents.map_or(gross, |c| gross.min(c.max(0)));
    MonthPenalty {
        gross_cents: gross,
        cents,
        capped: cents < gross,
    }
}

/// A whole number the French way, thousands apart: `10 000`.
pub fn thousands(n: i64) -> String {
    let units = n.unsigned_abs().to_string();
    let mut grouped = String::new();
    for (i, ch) in units.chars().enumerate() {
        if i > 0 && (units.len() - i).is_multiple_of(3) {
            grouped.push('\u{202f}');
        }
        grouped.push(ch);
    }
    if n < 0 {
        format!("-{grouped}")
    } else {
        grouped
    }
}

/// Euros from cents, the French way: `1 234,50 €`.
pub fn euros(cents: i64) -> String {
    let c = cents.unsigned_abs();
    format!(
        "{}{},{:02}\u{a0}€",
        if cents < 0 { "-" } else { "" },
        thousands(c as i64 / 100),
        c % 100
    )
}

/// Working minutes as "3 h 20" / "2 j ouvrés" for tables.
pub fn duration_label(minutes: i64) -> String {
    let (h, m) = (minutes / 60, minutes % 60);
    match (h, m) {
        (0, m) => format!("{m} min"),
        (h, 0) => format!("{h} h"),
        (h, m) => format!("{h} h {m:02}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::{BUNDLED_HOLIDAYS, closures_from_csv};
    use crate::org::HolidayZone;

    fn paris(s: &str) -> DateTime<Utc> {
        crate::paris::parse(s).unwrap()
    }

    fn local(t: DateTime<Utc>) -> String {
        crate::paris::input(t)
    }

    fn school() -> Calendar {
        Calendar::school(
            WeekHours::four_days(),
            closures_from_csv(BUNDLED_HOLIDAYS, HolidayZone::C).unwrap(),
        )
    }

    fn p1() -> SlaLine {
        SlaLine {
            gti: Some(Span::Minutes(240)),
            gtr: Some(Span::Days(1)),
            unit: PenaltyUnit::Heure,
            gti_penalty_cents: 5_000,
            gtr_penalty_cents: 10_000,
        }
    }

    #[test]
    fn a_ticket_taken_in_time_and_restored_late() {
        // Monday 2026-03-09 10:00: GTI 4 working hours → 16:00 (lunch is not counted);
        // GTR J+1 → Tuesday 10:00.
        let opened = paris("2026-03-09 10:00");
        let t = TicketTimes {
            opened_at: opened,
            taken_at: Some(paris("2026-03-09 14:00")),
            resolved_at: Some(paris("2026-03-10 15:00")),
            pauses: &[],
        };
        let c = clocks(&school(), &p1(), &t, paris("2026-03-20 12:00"));
        let gti = c.gti.as_ref().unwrap();
        assert_eq!(local(gti.due), "2026-03-09 16:00");
        assert!(!gti.breached);
        let gtr = c.gtr.as_ref().unwrap();
        assert_eq!(local(gtr.due), "2026-03-10 10:00");
        // Late 10:00–11:30 and 13:30–15:00 on Tuesday: 3 working hours.
        assert_eq!(gtr.late_minutes, 180);
        assert_eq!(gtr.late_days, 1);
        let pen = ticket_penalty(&p1(), &c, Some(25_000));
        assert_eq!(pen.gtr.units, 3);
        assert_eq!(pen.cents, 25_000);
        assert!(pen.capped && pen.gross_cents == 30_000);
    }

    #[test]
    fn waiting_on_the_school_stops_the_clocks() {
        // Opened Thursday 2026-03-12 9:00; waits on the school from 9:30 to Monday 9:30.
        let opened = paris("2026-03-12 09:00");
        let pauses = [(paris("2026-03-12 09:30"), Some(paris("2026-03-16 09:30")))];
        let t = TicketTimes {
            opened_at: opened,
            taken_at: Some(paris("2026-03-12 09:15")),
            resolved_at: Some(paris("2026-03-16 13:45")),
            pauses: &pauses,
        };
        let c = clocks(&school(), &p1(), &t, paris("2026-03-20 12:00"));
        let gtr = c.gtr.unwrap();
        // J+1 is Friday 9:00, six working hours away; the clock ran half an hour before
        // the wait and resumes on Monday 9:30 with 5 h 30 left: Monday 9:30–11:30,
        // 13:30–16:30, then Tuesday 8:30–9:00.
        assert_eq!(local(gtr.due), "2026-03-17 09:00");
        // Resolved Monday 13:45: in time.
        assert!(!gtr.breached);
        let t = TicketTimes {
            resolved_at: Some(paris("2026-03-17 10:00")),
            ..t
        };
        let gtr = clocks(&school(), &p1(), &t, paris("2026-03-20 12:00"))
            .gtr
            .unwrap();
        assert_eq!(gtr.late_minutes, 60);
        let pen = ticket_penalty(
            &p1(),
            &Clocks {
                gti: None,
                gtr: Some(gtr),
            },
            None,
        );
        assert_eq!(pen.gtr.units, 1);
        assert_eq!(pen.cents, 10_000);
    }

    #[test]
    fn an_open_wait_moves_the_deadline_with_it_and_nothing_is_late() {
        let opened = paris("2026-03-09 10:00");
        let pauses = [(paris("2026-03-09 10:30"), None)];
        let t = TicketTimes {
            opened_at: opened,
            taken_at: None,
            resolved_at: None,
            pauses: &pauses,
        };
        let c = clocks(&school(), &p1(), &t, paris("2026-03-19 10:00"));
        let gti = c.gti.unwrap();
        assert!(!gti.breached, "{gti:?}");
        assert!(gti.due > paris("2026-03-19 10:00"));
    }

    #[test]
    fn day_penalties_count_each_day_started() {
        let line = SlaLine {
            gti: Some(Span::Days(1)),
            gtr: Some(Span::Days(3)),
            unit: PenaltyUnit::Jour,
            gti_penalty_cents: 0,
            gtr_penalty_cents: 15_000,
        };
        // Monday 2026-03-09 10:00, J+3 → Friday 10:00 (Wednesday has no class). Resolved
        // the next Tuesday 9:00: past Monday 10:00 (one day late), not yet Tuesday 10:00.
        let t = TicketTimes {
            opened_at: paris("2026-03-09 10:00"),
            taken_at: Some(paris("2026-03-09 11:00")),
            resolved_at: Some(paris("2026-03-17 09:00")),
            pauses: &[],
        };
        let c = clocks(&school(), &line, &t, paris("2026-03-20 12:00"));
        let gtr = c.gtr.as_ref().unwrap();
        assert_eq!(local(gtr.due), "2026-03-13 10:00");
        assert_eq!(gtr.late_days, 2);
        let pen = ticket_penalty(&line, &c, None);
        assert_eq!(pen.gtr.units, 2);
        assert_eq!(pen.cents, 30_000);
        let month = month_penalty(&[pen.clone(), pen], Some(50_000));
        assert_eq!(
            (month.gross_cents, month.cents, month.capped),
            (60_000, 50_000, true)
        );
        // Due on Friday 16:20 and fixed on Monday 8:40: twenty minutes late, one day.
        let t = TicketTimes {
            opened_at: paris("2026-03-09 16:20"),
            taken_at: Some(paris("2026-03-09 16:25")),
            resolved_at: Some(paris("2026-03-16 08:40")),
            pauses: &[],
        };
        let gtr = clocks(&school(), &line, &t, paris("2026-03-20 12:00"))
            .gtr
            .unwrap();
        assert_eq!(local(gtr.due), "2026-03-13 16:20");
        assert_eq!((gtr.late_minutes, gtr.late_days), (20, 1));
    }

    #[test]
    fn a_running_clock_is_at_risk_then_breached() {
        let t = TicketTimes {
            opened_at: paris("2026-03-09 08:30"),
            taken_at: None,
            resolved_at: None,
            pauses: &[],
        };
        // GTI 4 h from 8:30 → 14:30 (3 h morning + 1 h afternoon).
        let at = |s| clocks(&school(), &p1(), &t, paris(s)).gti.unwrap();
        assert!(!at("2026-03-09 10:00").at_risk);
        assert!(at("2026-03-09 13:45").at_risk);
        let late = at("2026-03-09 15:30");
        assert!(
            late.breached && !late.at_risk && late.late_minutes == 60,
            "{late:?}"
        );
    }

    #[test]
    fn contractor_hours_count_in_the_holidays_but_not_on_public_holidays() {
        let h = ContractorHours::parse("1,2,3,4,5", "08:00", "18:00").unwrap();
        let cal = h.calendar();
        // Wednesday 2025-12-24 17:00 (school holidays): 4 working hours → Friday 26, 11:00
        // (Christmas Day is off).
        let due = cal.deadline(paris("2025-12-24 17:00"), Span::Minutes(240), &[]);
        assert_eq!(local(due), "2025-12-26 11:00");
        assert!(ContractorHours::parse("", "08:00", "18:00").is_err());
        assert!(ContractorHours::parse("1,9", "08:00", "18:00").is_err());
        assert!(ContractorHours::parse("1", "18:00", "08:00").is_err());
        assert_eq!(h.days_code(), "1,2,3,4,5");
    }

    #[test]
    fn euros_are_written_the_french_way() {
        assert_eq!(euros(123_450), "1\u{202f}234,50\u{a0}€");
        assert_eq!(euros(5), "0,05\u{a0}€");
        assert_eq!(duration_label(200), "3 h 20");
    }
}
