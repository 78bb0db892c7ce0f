//! Subsidy dossiers: who funds (the State's plans, DETR, DSIL, the département, the
//! région…), at what rate and cap, on which eligible spending, where the dossier stands and
//! what was requested, granted and received — so that the council knows what remains to
//! the collectivité.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::device::{date, euros_to_cents};
use crate::error::{FieldError, Lang};
use crate::org::code_enum;
use crate::text;

code_enum!(
    /// Who funds.
    Funder {
        Snee = "snee" => ("État — socle numérique (SNEE, plan de relance)", "State — digital base (SNEE, recovery plan)"),
        Detr = "detr" => ("DETR", "DETR (rural grant)"),
        Dsil = "dsil" => ("DSIL", "DSIL (local investment grant)"),
        Departement = "departement" => ("Département", "Département"),
        Region = "region" => ("Région", "Région"),
        Tne = "tne" => ("Territoires numériques éducatifs (TNE)", "Digital education territories (TNE)"),
        Autre = "autre" => ("Autre financeur", "Other funder"),
    }
);

code_enum!(
    /// Where a dossier stands.
    Status {
        ADeposer = "a_deposer" => ("À déposer", "To file"),
        Depose = "depose" => ("Déposé", "Filed"),
        Accorde = "accorde" => ("Accordé", "Granted"),
        Verse = "verse" => ("Versé", "Paid"),
        Refuse = "refuse" => ("Refusé", "Refused"),
    }
);

/// A dossier as entered (amounts in euros, as typed).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct Input {
    pub funder: String,
    pub title: String,
    pub year: String,
    #[serde(default)]
    pub rate_percent: String,
    #[serde(default)]
    pub cap: String,
    #[serde(default)]
    pub other_eligible: String,
    pub status: String,
    #[serde(default)]
    pub deposit_due: String,
    #[serde(default)]
    pub justify_due: String,
    #[serde(default)]
    pub requested: String,
    #[serde(default)]
    pub granted: String,
    #[serde(default)]
    pub received: String,
    #[serde(default)]
    pub notes: String,
}

/// A dossier, checked; amounts in cents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Dossier {
    pub funder: Funder,
    pub title: String,
    pub year: i32,
    pub rate_percent: Option<i64>,
    pub cap_cents: Option<i64>,
    pub other_eligible_cents: i64,
    pub status: Status,
    pub deposit_due: Option<NaiveDate>,
    pub justify_due: Option<NaiveDate>,
    pub requested_cents: i64,
    pub granted_cents: Option<i64>,
    pub received_cents: i64,
    pub notes: String,
}

impl Input {
    pub fn check(&self) -> Result<Dossier, Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut keep =
            |r: Result<Option<i64>, FieldError>| r.map_err(|e| errors.push(e)).ok().flatten();
        let cap_cents = keep(euros_to_cents("cap", Some(&self.cap)));
        let other = keep(euros_to_cents("other_eligible", Some(&self.other_eligible)));
        let requested = keep(euros_to_cents("requested", Some(&self.requested)));
        let granted_cents = keep(euros_to_cents("granted", Some(&self.granted)));
        let received = keep(euros_to_cents("received", Some(&self.received)));
        let rate_percent = match self.rate_percent.trim() {
            "" => None,
            v => match v.trim_end_matches('%').trim().parse::<i64>() {
                Ok(r) if (1..=100).contains(&r) => Some(r),
                Ok(_) => {
                    errors.push(FieldError::new("rate_percent", "out_of_range"));
                    None
                }
                Err(_) => {
                    errors.push(FieldError::new("rate_percent", "not_a_number"));
                    None
                }
            },
        };
        let funder = Funder::parse("funder", &self.funder).map_err(|e| errors.push(e));
        let title = text::required("title", &self.title, 200).map_err(|e| errors.push(e));
        let year = match self.year.trim().parse::<i32>() {
            Ok(y) if (2000..=2100).contains(&y) => Some(y),
            Ok(_) => {
                errors.push(FieldError::new("year", "out_of_range"));
                None
            }
            Err(_) => {
                errors.push(FieldError::new("year", "not_a_number"));
                None
            }
        };
        let status = Status::parse("status", &self.status).map_err(|e| errors.push(e));
        let deposit_due = date("deposit_due", Some(&self.deposit_due)).map_err(|e| errors.push(e));
        let justify_due = date("justify_due", Some(&self.justify_due)).map_err(|e| errors.push(e));
        let notes = text::optional("notes", Some(&self.notes), 2000).map_err(|e| errors.push(e));
        if let (Ok(st), None) = (&status, granted_cents)
            && matches!(st, Status::Accorde | Status::Verse)
        {
            errors.push(FieldError::new("granted", "required"));
        }
        if let (Some(g), Some(r)) = (granted_cents, received)
            && r > g
        {
            errors.push(FieldError::new("received", "out_of_range"));
        }
        match (funder, title, year, status, deposit_due, justify_due, notes) {
            (
                Ok(funder),
                Ok(title),
                Some(year),
                Ok(status),
                Ok(deposit_due),
                Ok(justify_due),
                Ok(notes),
            ) if errors.is_empty() => Ok(Dossier {
                funder,
                title,
                year,
                rate_percent,
                cap_cents,
                other_eligible_cents: other.unwrap_or(0),
                status,
                deposit_due,
                justify_due,
                requested_cents: requested.unwrap_or(0),
                granted_cents,
                received_cents: received.unwrap_or(0),
                notes: notes.unwrap_or_default(),
            }),
            _ => Err(errors),
        }
    }
}

/// What the funder's rules give on `eligible_cents`: the rate, then the cap.
pub fn expected_cents(
    eligible_cents: i64,
    rate_percent: Option<i64>,
    cap_cents: Option<i64>,
) -> i64 {
    let by_rate = match rate_percent {
        Some(r) => eligible_cents * r / 100,
        None => 0,
    };
    match cap_cents {
        Some(c) => by_rate.min(c),
        None => by_rate,
    }
}

/// The aid to count on, as the dossier stands: nothing when refused, what was granted once
/// it is, otherwise what the rules give (or what was requested, when no rate is known).
pub fn aid_cents(d: &Dossier, eligible_cents: i64) -> i64 {
    match d.status {
        Status::Refuse => 0,
        Status::Accorde | Status::Verse => d.granted_cents.unwrap_or(0),
        Status::ADeposer | Status::Depose => match d.rate_percent {
            Some(_) => expected_cents(eligible_cents, d.rate_percent, d.cap_cents),
            None => d.requested_cents,
        },
    }
}

/// What remains to the collectivité on the eligible spending.
pub fn remaining_cents(d: &Dossier, eligible_cents: i64) -> i64 {
    (eligible_cents - aid_cents(d, eligible_cents)).max(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> Input {
        Input {
            funder: "snee".into(),
            title: "Socle numérique des écoles élémentaires".into(),
            year: "2026".into(),
            rate_percent: "70".into(),
            cap: "3500".into(),
            status: "accorde".into(),
            requested: "3 500,00".into(),
            granted: "3 150".into(),
            ..Input::default()
        }
    }

    #[test]
    fn amounts_are_cents_and_rates_are_bounded() {
        let d = input().check().unwrap();
        assert_eq!(
            (d.cap_cents, d.granted_cents, d.requested_cents),
            (Some(350_000), Some(315_000), 350_000)
        );
        let mut bad = input();
        bad.rate_percent = "140".into();
        bad.granted = String::new();
        bad.year = "l'an prochain".into();
        bad.received = "-5".into();
        let fields: Vec<_> = bad
            .check()
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(fields, ["received", "rate_percent", "year", "granted"]);
    }

    #[test]
    fn the_aid_follows_the_rate_the_cap_and_the_status() {
        let mut d = input().check().unwrap();
        assert_eq!(expected_cents(600_000, Some(70), Some(350_000)), 350_000);
        assert_eq!(expected_cents(400_000, Some(70), Some(350_000)), 280_000);
        assert_eq!(aid_cents(&d, 600_000), 315_000);
        assert_eq!(remaining_cents(&d, 600_000), 285_000);
        d.status = Status::Depose;
        assert_eq!(aid_cents(&d, 400_000), 280_000);
        d.rate_percent = None;
        assert_eq!(aid_cents(&d, 400_000), 350_000);
        d.status = Status::Refuse;
        assert_eq!(remaining_cents(&d, 400_000), 400_000);
    }
}
