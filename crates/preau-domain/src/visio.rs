//! Lessons by videoconference: a programme (English with a native speaker) run by a
//! provider, series of weekly sessions for a class in its room, generated on the school's
//! calendar (holidays, public holidays and days without class skipped), and what became of
//! each session. Préau moves no video: the call runs in the provider's tool.

use chrono::{Datelike, NaiveDate, NaiveTime};
use serde::{Deserialize, Serialize};

use crate::calendar::Calendar;
use crate::error::{FieldError, Lang};
use crate::org::code_enum;

code_enum!(
    /// Where a session stands.
    SessionStatus {
        Prevue = "prevue" => ("Prévue", "Planned"),
        Tenue = "tenue" => ("Tenue", "Held"),
        NonTenue = "non_tenue" => ("Non tenue", "Not held"),
        Annulee = "annulee" => ("Annulée", "Cancelled"),
    }
);

code_enum!(
    /// Why a session was not held or was cancelled.
    Reason {
        Equipement = "equipement" => ("Équipement en panne", "Equipment failure"),
        Reseau = "reseau" => ("Réseau / connexion", "Network"),
        EnseignantAbsent = "enseignant_absent" => ("Enseignant absent", "Teacher absent"),
        IntervenantAbsent = "intervenant_absent" => ("Intervenant absent", "Speaker absent"),
        EcoleFermee = "ecole_fermee" => ("École fermée", "School closed"),
        Autre = "autre" => ("Autre", "Other"),
    }
);

code_enum!(
    /// Who cancelled a session.
    CancelledBy {
        Ecole = "ecole" => ("L'école", "The school"),
        Prestataire = "prestataire" => ("Le prestataire", "The provider"),
        Preau = "preau" => ("Préau", "Préau"),
    }
);

impl Reason {
    /// Whether the lesson was lost to the equipment or the network (what the steering
    /// pages count against the fleet).
    pub fn is_technical(self) -> bool {
        matches!(self, Reason::Equipement | Reason::Reseau)
    }
}

/// The longest series: one school year and a bit.
pub const MAX_SERIES_DAYS: i64 = 400;

/// A series as typed (form or API).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct SeriesInput {
    #[serde(default)]
    pub weekday: String,
    #[serde(default)]
    pub start: String,
    #[serde(default)]
    pub duration_min: String,
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub to: String,
    #[serde(default)]
    pub link: String,
}

/// A checked series: Monday is 1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Series {
    pub weekday: u32,
    pub start: NaiveTime,
    pub duration_min: i64,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub link: String,
}

/// Reads `HH:MM` (or `HHhMM`, `9h`); the error names `field`.
pub fn time_of_day(field: &str, s: &str) -> Result<NaiveTime, FieldError> {
    let s = s.trim().to_ascii_lowercase().replace('h', ":");
    let (h, m) = s.split_once(':').unwrap_or((&s, "0"));
    let m = if m.is_empty() { "0" } else { m };
    match (h.parse::<u32>(), m.parse::<u32>()) {
        (Ok(h), Ok(m)) if h < 24 && m < 60 => {
            NaiveTime::from_hms_opt(h, m, 0).ok_or_else(|| FieldError::new(field, "time_format"))
        }
        _ => Err(FieldError::new(field, "time_format")),
    }
}

/// A meeting link: an `https://` (or `http://`) address without spaces, at most 500
/// characters; the error names `link`.
pub fn meeting_link(s: &str) -> Result<String, FieldError> {
    let s = s.trim();
    let lower = s.to_ascii_lowercase();
    let ok = (lower.starts_with("https://") || lower.starts_with("http://"))
        && s.len() <= 500
        && s.len() > "https://".len()
        && !s
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '"' || c == '<');
    if ok {
        Ok(s.to_string())
    } else {
        Err(FieldError::new("link", "link_format"))
    }
}

impl SeriesInput {
    /// Every field checked; errors name `weekday`, `start`, `duration_min`, `from`, `to`,
    /// `link`.
    pub fn check(&self) -> Result<Series, Vec<FieldError>> {
        let mut errors = Vec::new();
        let weekday = match self.weekday.trim().parse::<u32>() {
            Ok(d) if (1..=5).contains(&d) => Some(d),
            Ok(_) => {
                errors.push(FieldError::new("weekday", "out_of_range"));
                None
            }
            Err(_) => {
                errors.push(FieldError::new("weekday", "required"));
                None
            }
        };
        let start = time_of_day("start", &self.start)
            .map_err(|e| errors.push(e))
            .ok();
        let duration = match self.duration_min.trim().parse::<i64>() {
            Ok(d) if (15..=180).contains(&d) => Some(d),
            Ok(_) => {
                errors.push(FieldError::new("duration_min", "out_of_range"));
                None
            }
            Err(_) => {
                errors.push(FieldError::new("duration_min", "not_a_number"));
                None
            }
        };
        let mut push = |f: &str, c: &'static str| errors.push(FieldError::new(f, c));
        let from = day_of("from", &self.from, &mut push);
        let to = day_of("to", &self.to, &mut push);
        if let (Some(a), Some(b)) = (from, to) {
            if b < a {
                errors.push(FieldError::new("to", "dates_order"));
            } else if (b - a).num_days() > MAX_SERIES_DAYS {
                errors.push(FieldError::new("to", "out_of_range"));
            }
        }
        let link = meeting_link(&self.link).map_err(|e| errors.push(e)).ok();
        match (weekday, start, duration, from, to, link) {
            (Some(weekday), Some(start), Some(duration_min), Some(from), Some(to), Some(link))
                if errors.is_empty() =>
            {
                Ok(Series {
                    weekday,
                    start,
                    duration_min,
                    from,
                    to,
                    link,
                })
            }
            _ => Err(errors),
        }
    }
}

fn day_of(field: &str, v: &str, push: &mut impl FnMut(&str, &'static str)) -> Option<NaiveDate> {
    match crate::device::date(field, Some(v)) {
        Ok(Some(d)) => Some(d),
        Ok(None) => {
            push(field, "required");
            None
        }
        Err(_) => {
            push(field, "date_format");
            None
        }
    }
}

/// The days of a series at a school: each `weekday` between `from` and `to` (both
/// included, from `not_before` on) that is a class day on the school's calendar — no
/// school holidays, public holidays or days without class (Wednesday in a four-day week).
pub fn occurrences(s: &Series, calendar: &Calendar, not_before: NaiveDate) -> Vec<NaiveDate> {
    let mut out = Vec::new();
    let mut d = s.from.max(not_before);
    while d.weekday().number_from_monday() != s.weekday {
        d = d.succ_opt().unwrap_or(d);
        if d > s.to {
            return out;
        }
    }
    while d <= s.to {
        if calendar.is_working_day(d) {
            out.push(d);
        }
        d += chrono::Duration::days(7);
    }
    out
}

code_enum!(
    /// What a room needs for a lesson by visio.
    Need {
        Affichage = "affichage" => ("Affichage collectif", "Shared display"),
        Camera = "camera" => ("Caméra", "Camera"),
        Micro = "micro" => ("Micro", "Microphone"),
        HautParleurs = "haut_parleurs" => ("Haut-parleurs", "Speakers"),
        Reseau = "reseau" => ("Connexion de l'école", "School's connection"),
    }
);

impl Need {
    /// The device categories (inventory codes) that meet the need in the room.
    pub fn categories(self) -> &'static [&'static str] {
        match self {
            Need::Affichage => &["vpi", "tni", "eni", "videoprojecteur", "ecran_interactif"],
            Need::Camera => &["webcam", "visualiseur", "kit_visio"],
            Need::Micro => &["micro", "kit_visio"],
            Need::HautParleurs => &["enceintes", "kit_visio", "eni"],
            Need::Reseau => &[],
        }
    }
}

/// A device in service in the room (or a kit booked for the slot): its category code, its
/// id, and whether an urgent ticket (P1/P2) is open on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomDevice {
    pub category: String,
    pub device_id: i64,
    pub broken: bool,
}

/// Whether a room is ready for a session, and what is missing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Readiness {
    pub ready: bool,
    pub missing: Vec<Need>,
    /// For each missing need met only by broken devices: those devices (their open
    /// tickets say why).
    pub broken: Vec<(Need, i64)>,
}

impl Readiness {
    /// What is missing, in words: « Caméra, Micro ».
    pub fn missing_words(&self, lang: Lang) -> String {
        self.missing
            .iter()
            .map(|n| n.label(lang))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// A room's readiness: each need met by a working device of its categories, and the
/// school's link up (`link_down`: the school is offline).
pub fn readiness(devices: &[RoomDevice], link_down: bool) -> Readiness {
    let mut r = Readiness::default();
    for need in Need::ALL.iter().copied().filter(|n| *n != Need::Reseau) {
        let of_need: Vec<&RoomDevice> = devices
            .iter()
            .filter(|d| need.categories().contains(&d.category.as_str()))
            .collect();
        if !of_need.iter().any(|d| !d.broken) {
            r.missing.push(need);
            r.broken.extend(of_need.iter().map(|d| (need, d.device_id)));
        }
    }
    if link_down {
        r.missing.push(Need::Reseau);
    }
    r.ready = r.missing.is_empty();
    r
}

/// A weekday's name (1 = Monday).
pub fn weekday_label(d: u32, lang: Lang) -> &'static str {
    let fr = ["lundi", "mardi", "mercredi", "jeudi", "vendredi"];
    let en = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"];
    let i = (d.clamp(1, 5) - 1) as usize;
    match lang {
        Lang::Fr => fr[i],
        Lang::En => en[i],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::{Closure, WeekHours};

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn input(weekday: &str, from: &str, to: &str) -> SeriesInput {
        SeriesInput {
            weekday: weekday.into(),
            start: "10:15".into(),
            duration_min: "45".into(),
            from: from.into(),
            to: to.into(),
            link: "https://visio.education.fr/meeting/cm1-a".into(),
        }
    }

    fn zone_c() -> Vec<Closure> {
        let c = |a, b, label: &str| Closure {
            start: a,
            end: b,
            label: label.into(),
        };
        vec![
            c(d(2026, 12, 19), d(2027, 1, 4), "Noël"),
            c(d(2027, 2, 20), d(2027, 3, 8), "Hiver"),
        ]
    }

    #[test]
    fn sessions_skip_holidays_and_days_without_class() {
        let cal = Calendar::school(WeekHours::four_days(), zone_c());
        // Thursdays from 3 December 2026 to 11 March 2027.
        let s = input("4", "2026-12-01", "2027-03-11").check().unwrap();
        let days = occurrences(&s, &cal, s.from);
        assert_eq!(days.first(), Some(&d(2026, 12, 3)));
        // Christmas: 24 and 31 December skipped; winter: 25 February and 4 March.
        for skipped in [
            d(2026, 12, 24),
            d(2026, 12, 31),
            d(2027, 2, 25),
            d(2027, 3, 4),
        ] {
            assert!(!days.contains(&skipped), "{skipped}");
        }
        assert!(days.contains(&d(2027, 1, 7)) && days.contains(&d(2027, 3, 11)));
        assert_eq!(days.len(), 15 - 4);
        // A Wednesday series in a four-day-week school has no session at all; in a
        // four-and-a-half-day week it has.
        let wed = input("3", "2027-01-04", "2027-01-31").check().unwrap();
        assert!(occurrences(&wed, &cal, wed.from).is_empty());
        let cal45 = Calendar::school(WeekHours::four_and_a_half_days(), zone_c());
        assert_eq!(occurrences(&wed, &cal45, wed.from).len(), 4);
        // A public holiday: Easter Monday 2027 is 29 March.
        let mon = input("1", "2027-03-22", "2027-04-05").check().unwrap();
        assert_eq!(
            occurrences(&mon, &cal, mon.from),
            [d(2027, 3, 22), d(2027, 4, 5)]
        );
        // From a later day on (an edited series regenerates its future only).
        assert_eq!(occurrences(&s, &cal, d(2027, 3, 1)), [d(2027, 3, 11)]);
    }

    #[test]
    fn a_room_is_ready_with_each_need_met_by_a_working_device() {
        let dev = |category: &str, device_id, broken| RoomDevice {
            category: category.into(),
            device_id,
            broken,
        };
        // An ENI (display and speakers) and a visio kit (camera, micro, speakers).
        let room = vec![dev("eni", 1, false), dev("kit_visio", 2, false)];
        assert_eq!(
            readiness(&room, false),
            Readiness {
                ready: true,
                missing: vec![],
                broken: vec![]
            }
        );
        // The school offline.
        assert_eq!(readiness(&room, true).missing, [Need::Reseau]);
        // The ENI with an urgent ticket: no display; speakers still from the kit.
        let r = readiness(&[dev("eni", 1, true), dev("kit_visio", 2, false)], false);
        assert_eq!(
            (r.ready, r.missing.clone(), r.broken),
            (false, vec![Need::Affichage], vec![(Need::Affichage, 1)])
        );
        // A VPI alone: no camera, no micro, no speakers.
        let r = readiness(&[dev("vpi", 3, false)], false);
        assert_eq!(r.missing, [Need::Camera, Need::Micro, Need::HautParleurs]);
        assert!(r.broken.is_empty());
    }

    #[test]
    fn wrong_series_name_their_fields() {
        let bad = SeriesInput {
            weekday: "7".into(),
            start: "25:00".into(),
            duration_min: "5".into(),
            from: "2027-03-01".into(),
            to: "2026-12-01".into(),
            link: "visio de la classe".into(),
        };
        let fields: Vec<String> = bad
            .check()
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(fields, ["weekday", "start", "duration_min", "to", "link"]);
        let long = input("2", "2026-09-01", "2027-12-01").check().unwrap_err();
        assert_eq!(
            (long[0].field.as_str(), long[0].code),
            ("to", "out_of_range")
        );
        assert_eq!(
            time_of_day("start", "9h").unwrap(),
            NaiveTime::from_hms_opt(9, 0, 0).unwrap()
        );
        assert_eq!(
            time_of_day("start", "13h45").unwrap(),
            NaiveTime::from_hms_opt(13, 45, 0).unwrap()
        );
        assert!(meeting_link("javascript:alert(1)").is_err());
        assert!(meeting_link("https://x.fr/a b").is_err());
    }
}
