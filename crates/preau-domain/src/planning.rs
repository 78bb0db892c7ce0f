//! When to intervene without breaking a lesson: the windows a school's calendar leaves
//! for a visit — before class, the lunch break, after class, a day without class
//! (Wednesday in a 4-day commune), the school holidays for heavy work. Pure.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, Utc, Weekday};
use serde::{Deserialize, Serialize};

use crate::error::{FieldError, Lang};

use crate::calendar::Calendar;
use crate::org::code_enum;
use crate::paris;

code_enum!(
    /// What kind of moment a window is.
    WindowKind {
        AvantClasse = "avant_classe" => ("Avant la classe", "Before class"),
        Midi = "midi" => ("Pause de midi", "Lunch break"),
        ApresClasse = "apres_classe" => ("Après la classe", "After class"),
        SansClasse = "sans_classe" => ("Journée sans classe", "Day without class"),
        Vacances = "vacances" => ("Vacances scolaires", "School holidays"),
    }
);

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Window {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub kind: WindowKind,
}

fn t(h: u32, m: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(h, m, 0).unwrap_or_default()
}

fn window(d: NaiveDate, a: NaiveTime, b: NaiveTime, kind: WindowKind) -> Option<Window> {
    let start = paris::instant(d.and_time(a))?;
    let end = paris::instant(d.and_time(b))?;
    (end > start).then_some(Window { start, end, kind })
}

/// The windows of `days` days from `from` (weekends and public holidays left out, when
/// the building is closed). `heavy` work (installing a board, cabling) is offered only
/// days without class; light work also fits before class, at lunch and after class.
/// Windows shorter than `minutes` are left out.
pub fn windows(
    cal: &Calendar,
    from: NaiveDate,
    days: i64,
    heavy: bool,
    minutes: i64,
) -> Vec<Window> {
    let mut out = Vec::new();
    for i in 0..days.clamp(0, 120) {
        let d = from + Duration::days(i);
        if matches!(d.weekday(), Weekday::Sat | Weekday::Sun) || cal.is_public_holiday(d) {
            continue;
        }
        let ranges = cal.hours.ranges(d);
        if cal.is_closed(d) {
            out.extend(window(d, t(8, 30), t(12, 0), WindowKind::Vacances));
            out.extend(window(d, t(13, 30), t(17, 0), WindowKind::Vacances));
            continue;
        }
        if ranges.is_empty() {
            out.extend(window(d, t(8, 30), t(12, 0), WindowKind::SansClasse));
            out.extend(window(d, t(13, 30), t(17, 0), WindowKind::SansClasse));
            continue;
        }
        if heavy {
            continue;
        }
        let first = ranges[0].0;
        let last = ranges[ranges.len() - 1].1;
        out.extend(window(
            d,
            first - Duration::minutes(60),
            first - Duration::minutes(10),
            WindowKind::AvantClasse,
        ));
        for pair in ranges.windows(2) {
            out.extend(window(d, pair[0].1, pair[1].0, WindowKind::Midi));
        }
        // A half-day (Wednesday morning in a 4.5-day week): its afternoon is free.
        let end_of_day = if last <= t(12, 30) {
            t(17, 0)
        } else {
            last + Duration::minutes(90)
        };
        let kind = if last <= t(12, 30) {
            WindowKind::SansClasse
        } else {
            WindowKind::ApresClasse
        };
        out.extend(window(d, last.max(t(12, 0)), end_of_day, kind));
    }
    out.retain(|w| (w.end - w.start).num_minutes() >= minutes);
    out
}

/// Whether `[start, end)` overlaps class hours on a school day.
pub fn during_class(cal: &Calendar, start: DateTime<Utc>, end: DateTime<Utc>) -> bool {
    cal.working_minutes(start, end) > 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::{BUNDLED_HOLIDAYS, WeekHours, closures_from_csv};
    use crate::org::HolidayZone;

    fn cal(week: WeekHours) -> Calendar {
        Calendar::school(
            week,
            closures_from_csv(BUNDLED_HOLIDAYS, HolidayZone::C).unwrap(),
        )
    }

    #[test]
    fn light_work_fits_around_lessons_and_on_wednesday() {
        // Monday 16 to Wednesday 18 March 2026, 4-day week.
        let w = windows(
            &cal(WeekHours::four_days()),
            NaiveDate::from_ymd_opt(2026, 3, 16).unwrap(),
            3,
            false,
            30,
        );
        let shown: Vec<(String, WindowKind)> = w
            .iter()
            .map(|w| (crate::paris::input(w.start), w.kind))
            .collect();
        assert!(shown.contains(&("2026-03-16 07:30".into(), WindowKind::AvantClasse)));
        assert!(shown.contains(&("2026-03-16 11:30".into(), WindowKind::Midi)));
        assert!(shown.contains(&("2026-03-16 16:30".into(), WindowKind::ApresClasse)));
        assert!(shown.contains(&("2026-03-18 08:30".into(), WindowKind::SansClasse)));
        for w in &w {
            assert!(
                !during_class(&cal(WeekHours::four_days()), w.start, w.end),
                "{w:?}"
            );
        }
    }

    #[test]
    fn heavy_work_waits_for_days_without_class_and_holidays() {
        // Friday 17 April 2026: the spring holidays of zone C start the next day.
        let c = cal(WeekHours::four_and_a_half_days());
        let w = windows(
            &c,
            NaiveDate::from_ymd_opt(2026, 4, 15).unwrap(),
            7,
            true,
            120,
        );
        assert!(
            w.iter()
                .all(|w| w.kind == WindowKind::Vacances || w.kind == WindowKind::SansClasse)
        );
        assert!(
            w.iter()
                .any(|w| crate::paris::input(w.start) == "2026-04-20 08:30"
                    && w.kind == WindowKind::Vacances)
        );
        // Wednesday morning has class in a 4.5-day week: no heavy work then.
        assert!(
            !w.iter()
                .any(|w| crate::paris::input(w.start).starts_with("2026-04-15"))
        );
        // Easter Monday is a public holiday: nothing offered.
        let easter = windows(
            &c,
            NaiveDate::from_ymd_opt(2026, 4, 6).unwrap(),
            1,
            false,
            0,
        );
        assert!(easter.is_empty());
        assert!(during_class(
            &c,
            crate::paris::parse("2026-04-16 10:00").unwrap(),
            crate::paris::parse("2026-04-16 10:30").unwrap()
        ));
    }
}
