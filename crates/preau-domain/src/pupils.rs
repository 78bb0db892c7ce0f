//! Pupils and the tablets lent to them, as the collectivité needs them and no more: how a
//! pupil is labelled, what a loan is (to a pupil, to a teacher, to a class as a set), the
//! states a tablet comes back in, when a pupil's label must be deleted, and how a new ONDE
//! export is compared with what is held (arrivals, departures, class changes). Pure.

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use crate::device::DeviceState;
use crate::error::{FieldError, Lang};
use crate::onde::OndePupil;
use crate::org::code_enum;

code_enum!(
    /// How a pupil is shown: "Lina B.", or a code the school matches on its own list.
    LabelMode {
        Initiale = "initiale" => ("Prénom et initiale du nom (Lina B.)", "First name and initial (Lina B.)"),
        Pseudonyme = "pseudonyme" => ("Pseudonyme (Élève 3F9A2C)", "Pseudonym (Élève 3F9A2C)"),
    }
);

code_enum!(
    /// Who holds a device.
    LoanKind {
        Eleve = "eleve" => ("Élève (1:1)", "Pupil (1:1)"),
        Enseignant = "enseignant" => ("Enseignant", "Teacher"),
        Classe = "classe" => ("Lot de classe", "Class set"),
    }
);

code_enum!(
    /// The state a device comes back in.
    ReturnState {
        Ok = "ok" => ("Rendue en bon état", "Returned in good order"),
        EcranCasse = "ecran_casse" => ("Écran cassé", "Broken screen"),
        HorsService = "hors_service" => ("Hors service", "Out of order"),
        Perdu = "perdu" => ("Perdue", "Lost"),
        Vole = "vole" => ("Volée", "Stolen"),
    }
);

impl ReturnState {
    /// Where the device goes: back to stock, to repair, or out of the fleet.
    pub fn device_state(self) -> DeviceState {
        match self {
            ReturnState::Ok => DeviceState::EnStock,
            ReturnState::EcranCasse | ReturnState::HorsService => DeviceState::EnReparation,
            ReturnState::Perdu => DeviceState::Perdu,
            ReturnState::Vole => DeviceState::Vole,
        }
    }

    /// Damage or loss: a ticket is opened so that someone repairs or replaces it.
    pub fn needs_ticket(self) -> bool {
        self != ReturnState::Ok
    }

    pub fn is_breakage(self) -> bool {
        matches!(self, ReturnState::EcranCasse | ReturnState::HorsService)
    }
}

code_enum!(
    /// What is given with a tablet, ticked on the loan agreement.
    Accessory {
        Etui = "etui" => ("Étui ou coque", "Case"),
        Chargeur = "chargeur" => ("Chargeur", "Charger"),
        Clavier = "clavier" => ("Clavier", "Keyboard"),
        Stylet = "stylet" => ("Stylet", "Stylus"),
        Casque = "casque" => ("Casque audio", "Headphones"),
    }
);

/// Parses a space- or comma-separated list of accessory codes, without repeats, in the
/// order of `Accessory::ALL`.
pub fn accessories(field: &str, s: &str) -> Result<Vec<Accessory>, FieldError> {
    let mut out = Vec::new();
    for code in s.split([' ', ',']).filter(|c| !c.is_empty()) {
        let a = Accessory::parse(field, code)?;
        if !out.contains(&a) {
            out.push(a);
        }
    }
    out.sort();
    Ok(out)
}

/// The default months a pupil's label is kept after the end of the school year (or after
/// the pupil left).
pub const DEFAULT_RETENTION_MONTHS: u32 = 3;

/// `months` after `from`, the day clamped to the end of a shorter month.
pub fn add_months(from: NaiveDate, months: u32) -> NaiveDate {
    let total = from.year() * 12 + from.month0() as i32 + months as i32;
    let (y, m) = (total.div_euclid(12), total.rem_euclid(12) as u32 + 1);
    (1..=from.day())
        .rev()
        .find_map(|d| NaiveDate::from_ymd_opt(y, m, d))
        .unwrap_or(from)
}

/// The day a pupil's label is deleted: `months` after the end of the school year, or
/// after the day the pupil left if that came first.
pub fn purge_on(year_end: NaiveDate, left_on: Option<NaiveDate>, months: u32) -> NaiveDate {
    let from = match left_on {
        Some(l) if l < year_end => l,
        _ => year_end,
    };
    add_months(from, months)
}

/// The pseudonym shown instead of the name, read from the pupil's match key (stable from
/// one export to the next).
pub fn pseudonym(key: &str) -> String {
    let code: String = key
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(6)
        .collect::<String>()
        .to_uppercase();
    format!("Élève {code}")
}

/// A pupil Préau holds for a school and year, as the comparison needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Held {
    pub id: i64,
    pub key: String,
    pub label: String,
    pub class_label: String,
}

/// What a new export changes, as indexes into the export's pupils and ids of held ones.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Comparison {
    /// Same pupil, same class, same label.
    pub unchanged: Vec<(i64, usize)>,
    /// Same pupil and class, another label (the label mode changed, a name corrected).
    pub relabelled: Vec<(i64, usize)>,
    /// Same pupil, another class.
    pub moved: Vec<(i64, usize)>,
    pub arrivals: Vec<usize>,
    pub departures: Vec<i64>,
}

impl Comparison {
    pub fn is_empty(&self) -> bool {
        self.relabelled.is_empty()
            && self.moved.is_empty()
            && self.arrivals.is_empty()
            && self.departures.is_empty()
    }
}

/// Compares the pupils held with an export. Pupils are the same when their keys are; two
/// pupils with one key (namesakes) pair in the same class first, then across classes, in
/// order. Whatever is left is an arrival or a departure.
pub fn compare(held: &[Held], export: &[OndePupil]) -> Comparison {
    let mut by_key: BTreeMap<&str, (Vec<&Held>, Vec<usize>)> = BTreeMap::new();
    for h in held {
        by_key.entry(&h.key).or_default().0.push(h);
    }
    for (i, p) in export.iter().enumerate() {
        by_key.entry(&p.key).or_default().1.push(i);
    }
    let mut out = Comparison::default();
    for (_, (mut hs, mut es)) in by_key {
        // Same class first.
        hs.retain(|h| {
            match es
                .iter()
                .position(|&i| export[i].class_label == h.class_label)
            {
                Some(pos) => {
                    let i = es.remove(pos);
                    if export[i].label == h.label {
                        out.unchanged.push((h.id, i));
                    } else {
                        out.relabelled.push((h.id, i));
                    }
                    false
                }
                None => true,
            }
        });
        let mut es = es.into_iter();
        for h in hs {
            match es.next() {
                Some(i) => out.moved.push((h.id, i)),
                None => out.departures.push(h.id),
            }
        }
        out.arrivals.extend(es);
    }
    out.arrivals.sort_unstable();
    out.departures.sort_unstable();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pupil(key: &str, label: &str, class: &str) -> OndePupil {
        OndePupil {
            line: 0,
            class_label: class.into(),
            levels: "CE1".into(),
            label: label.into(),
            key: key.into(),
        }
    }

    fn held(id: i64, key: &str, label: &str, class: &str) -> Held {
        Held {
            id,
            key: key.into(),
            label: label.into(),
            class_label: class.into(),
        }
    }

    #[test]
    fn arrivals_departures_and_class_changes() {
        let held = [
            held(1, "a", "Lina B.", "CE1 A"),
            held(2, "b", "Noé M.", "CE1 A"),
            held(3, "c", "Zoé R.", "CE1 B"),
        ];
        let export = [
            pupil("a", "Lina B.", "CE1 A"),
            pupil("c", "Zoé R.", "CE1 A"),
            pupil("d", "Léo P.", "CE1 B"),
        ];
        let c = compare(&held, &export);
        assert_eq!(c.unchanged, [(1, 0)]);
        assert_eq!(c.moved, [(3, 1)]);
        assert_eq!(c.arrivals, [2]);
        assert_eq!(c.departures, [2]);
        assert!(compare(&held[..1], &export[..1]).is_empty());
    }

    #[test]
    fn namesakes_pair_in_their_own_class_first() {
        let held = [
            held(1, "k", "Lina B.", "CE1 A"),
            held(2, "k", "Lina B.", "CM2"),
        ];
        let export = [pupil("k", "Lina B.", "CM2"), pupil("k", "Lina B.", "CE2")];
        let c = compare(&held, &export);
        assert_eq!(c.unchanged, [(2, 0)]);
        assert_eq!(c.moved, [(1, 1)]);
        let c = compare(&held, &export[..1]);
        assert_eq!(c.departures, [1]);
    }

    #[test]
    fn a_new_label_mode_relabels_without_moving() {
        let c = compare(
            &[held(1, "k", "Lina B.", "CE1 A")],
            &[pupil("k", "Élève 3F9A2C", "CE1 A")],
        );
        assert_eq!(c.relabelled, [(1, 0)]);
        assert!(!c.is_empty());
    }

    #[test]
    fn retention_counts_from_the_year_end_or_the_departure() {
        let end = NaiveDate::from_ymd_opt(2026, 7, 3).unwrap();
        assert_eq!(
            purge_on(end, None, 3),
            NaiveDate::from_ymd_opt(2026, 10, 3).unwrap()
        );
        let left = NaiveDate::from_ymd_opt(2026, 1, 31).unwrap();
        assert_eq!(
            purge_on(end, Some(left), 1),
            NaiveDate::from_ymd_opt(2026, 2, 28).unwrap()
        );
        assert_eq!(
            add_months(NaiveDate::from_ymd_opt(2026, 11, 15).unwrap(), 3),
            NaiveDate::from_ymd_opt(2027, 2, 15).unwrap()
        );
    }

    #[test]
    fn return_states_and_accessories() {
        assert_eq!(
            ReturnState::EcranCasse.device_state(),
            DeviceState::EnReparation
        );
        assert!(!ReturnState::Ok.needs_ticket() && ReturnState::Vole.needs_ticket());
        assert_eq!(
            accessories("a", "chargeur, etui chargeur").unwrap(),
            [Accessory::Etui, Accessory::Chargeur]
        );
        assert!(accessories("a", "parapluie").is_err());
        assert_eq!(pseudonym("3f9a2c77e1"), "Élève 3F9A2C");
    }
}
