//! The organisation model: kinds of collectivités, schools, rooms, class levels.
//!
//! Each kind is a closed set with a stable code (stored in the database and used by the
//! API) and a label in each language.

use serde::{Deserialize, Serialize};

use crate::error::{FieldError, Lang};

/// Declares a closed set of values with a stable code and French/English labels.
macro_rules! code_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $code:literal => ($fr:literal, $en:literal)),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn code(self) -> &'static str {
                match self { $($name::$variant => $code),+ }
            }

            pub fn label(self, lang: Lang) -> &'static str {
                match (self, lang) {
                    $(($name::$variant, Lang::Fr) => $fr, ($name::$variant, Lang::En) => $en),+
                }
            }

            /// Parses the stable code; `field` names the input in the error.
            pub fn parse(field: &str, s: &str) -> Result<$name, FieldError> {
                let s = s.trim();
                $(if s.eq_ignore_ascii_case($code) { return Ok($name::$variant); })+
                Err(FieldError::new(field, "unknown_value"))
            }

            /// Decodes a code read back from the database, where it was written by `code()`.
            pub fn from_db(s: &str) -> $name {
                Self::parse("", s).unwrap_or(Self::ALL[0])
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.code())
            }
        }
    };
}
pub(crate) use code_enum;

code_enum!(
    /// The kind of local authority that owns and equips schools.
    CollectiviteKind {
        Commune = "commune" => ("Commune", "Municipality"),
        Epci = "epci" => ("EPCI / syndicat", "Inter-municipal body"),
        Departement = "departement" => ("Département", "Département"),
        Region = "region" => ("Région", "Region"),
    }
);

code_enum!(
    /// A school's week: the 4-day week (no class on Wednesday, most communes since 2017)
    /// or 4.5 days (Wednesday morning). SLA clocks on the school calendar follow it.
    SchoolWeek {
        Quatre = "4" => ("4 jours (pas de classe le mercredi)", "4 days (no class on Wednesday)"),
        QuatreEtDemi = "4.5" => ("4 jours et demi (mercredi matin)", "4.5 days (Wednesday morning)"),
    }
);

code_enum!(
    SchoolKind {
        Maternelle = "maternelle" => ("École maternelle", "Nursery school"),
        Elementaire = "elementaire" => ("École élémentaire", "Elementary school"),
        Primaire = "primaire" => ("École primaire", "Primary school"),
        College = "college" => ("Collège", "Lower secondary school"),
        Lycee = "lycee" => ("Lycée", "Upper secondary school"),
    }
);

code_enum!(
    /// School holiday zone (académies grouped by the ministry); `Autre` for Corsica and overseas.
    HolidayZone {
        A = "A" => ("Zone A", "Zone A"),
        B = "B" => ("Zone B", "Zone B"),
        C = "C" => ("Zone C", "Zone C"),
        Autre = "autre" => ("Autre (Corse, outre-mer)", "Other (Corsica, overseas)"),
    }
);

code_enum!(
    SchoolStatus {
        Active = "active" => ("Ouverte", "Open"),
        Closed = "closed" => ("Fermée", "Closed"),
    }
);

code_enum!(
    RoomKind {
        Classe = "classe" => ("Salle de classe", "Classroom"),
        Bcd = "bcd" => ("BCD / bibliothèque", "Library"),
        SalleInformatique = "salle_informatique" => ("Salle informatique", "Computer room"),
        BureauDirection = "bureau_direction" => ("Bureau de direction", "Head teacher's office"),
        SalleDesMaitres = "salle_des_maitres" => ("Salle des maîtres", "Staff room"),
        Autre = "autre" => ("Autre", "Other"),
    }
);

code_enum!(
    /// Class levels of primary schools, as ONDE and the schools name them.
    Level {
        Tps = "TPS" => ("TPS", "TPS (age 2)"),
        Ps = "PS" => ("PS", "PS (age 3)"),
        Ms = "MS" => ("MS", "MS (age 4)"),
        Gs = "GS" => ("GS", "GS (age 5)"),
        Cp = "CP" => ("CP", "CP (grade 1)"),
        Ce1 = "CE1" => ("CE1", "CE1 (grade 2)"),
        Ce2 = "CE2" => ("CE2", "CE2 (grade 3)"),
        Cm1 = "CM1" => ("CM1", "CM1 (grade 4)"),
        Cm2 = "CM2" => ("CM2", "CM2 (grade 5)"),
        Ulis = "ULIS" => ("ULIS", "ULIS (inclusion unit)"),
        Uema = "UEMA" => ("UEMA", "UEMA (autism unit)"),
    }
);

/// The levels of one class: one or several (a *cours double* such as CE1-CE2), in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Levels(Vec<Level>);

impl Levels {
    /// Parses `CE1-CE2`, `CE1, CE2`, `ce1 ce2` or `CE1/CE2`.
    pub fn parse(field: &str, s: &str) -> Result<Levels, FieldError> {
        let mut levels = Vec::new();
        for part in s
            .split(['-', ',', ' ', '/', ';', '+'])
            .filter(|p| !p.trim().is_empty())
        {
            let level = Level::parse(field, part)?;
            if !levels.contains(&level) {
                levels.push(level);
            }
        }
        if levels.is_empty() {
            return Err(FieldError::new(field, "required"));
        }
        levels.sort();
        Ok(Levels(levels))
    }

    pub fn from_list(levels: Vec<Level>) -> Levels {
        let mut levels = levels;
        levels.sort();
        levels.dedup();
        Levels(levels)
    }

    pub fn as_slice(&self) -> &[Level] {
        &self.0
    }

    /// `CE1-CE2`: the storage and display form.
    pub fn code(&self) -> String {
        self.0
            .iter()
            .map(|l| l.code())
            .collect::<Vec<_>>()
            .join("-")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_parse_multi() {
        assert_eq!(
            Levels::parse("levels", "ce2 - CE1").unwrap().code(),
            "CE1-CE2"
        );
        assert_eq!(
            Levels::parse("levels", "CM1,CM2").unwrap().code(),
            "CM1-CM2"
        );
        assert_eq!(
            Levels::parse("levels", "CP/CX").unwrap_err().code,
            "unknown_value"
        );
        assert_eq!(Levels::parse("levels", " ").unwrap_err().code, "required");
    }

    #[test]
    fn codes_round_trip() {
        for k in RoomKind::ALL {
            assert_eq!(RoomKind::parse("kind", k.code()).unwrap(), *k);
        }
        assert_eq!(HolidayZone::parse("zone", "c").unwrap(), HolidayZone::C);
        assert_eq!(
            SchoolKind::parse("kind", "usine").unwrap_err().field,
            "kind"
        );
    }
}
