//! Devices: their states, the built-in categories, and the checks on what a person types
//! about them (asset tag, serial, prices in cents, dates, IP ranges).

use chrono::NaiveDate;

use serde::{Deserialize, Serialize};

use crate::error::{FieldError, Lang};
use crate::org::code_enum;

code_enum!(
    /// Where a device is in its life. Every change of state is dated in its history.
    DeviceState {
        EnService = "en_service" => ("En service", "In service"),
        EnStock = "en_stock" => ("En stock", "In stock"),
        Commande = "commande" => ("Commandé", "Ordered"),
        EnReparation = "en_reparation" => ("En réparation", "Under repair"),
        Prete = "prete" => ("Prêté", "On loan"),
        Perdu = "perdu" => ("Perdu", "Lost"),
        Vole = "vole" => ("Volé", "Stolen"),
        Reforme = "reforme" => ("Réformé", "Retired"),
    }
);

impl DeviceState {
    /// Lost, stolen and retired devices are out of the fleet: not counted as equipment.
    pub fn is_out(self) -> bool {
        matches!(
            self,
            DeviceState::Perdu | DeviceState::Vole | DeviceState::Reforme
        )
    }
}

/// A built-in category: `(code, French label, English label, holds other devices,
/// has a Wi-Fi on/off switch)`. Administrators can add their own; these are created for
/// every collectivité.
pub const BUILTIN_CATEGORIES: &[(&str, &str, &str, bool, bool)] = &[
    (
        "tni",
        "TNI / TBI (tableau interactif)",
        "Interactive whiteboard",
        false,
        false,
    ),
    (
        "vpi",
        "VPI (vidéoprojecteur interactif)",
        "Interactive projector",
        false,
        false,
    ),
    (
        "eni",
        "ENI (écran numérique interactif)",
        "Interactive display",
        false,
        false,
    ),
    (
        "videoprojecteur",
        "Vidéoprojecteur",
        "Projector",
        false,
        false,
    ),
    (
        "visualiseur",
        "Visualiseur",
        "Document camera",
        false,
        false,
    ),
    (
        "poste_enseignant",
        "Poste enseignant",
        "Teacher's computer",
        false,
        false,
    ),
    ("portable", "Ordinateur portable", "Laptop", false, false),
    ("pc_fixe", "PC fixe", "Desktop PC", false, false),
    ("tablette", "Tablette", "Tablet", false, false),
    (
        "classe_mobile",
        "Classe mobile / chariot de recharge",
        "Mobile classroom / charging cart",
        true,
        false,
    ),
    (
        "imprimante",
        "Imprimante / multifonction",
        "Printer / MFP",
        false,
        false,
    ),
    (
        "borne_wifi",
        "Borne Wi-Fi",
        "Wi-Fi access point",
        false,
        true,
    ),
    ("switch", "Switch", "Switch", false, false),
    ("routeur", "Routeur / box", "Router / box", false, false),
    (
        "kit_visio",
        "Kit visio (caméra, micro, haut-parleur)",
        "Video-conferencing kit",
        false,
        false,
    ),
    ("webcam", "Webcam", "Webcam", false, false),
    ("micro", "Micro", "Microphone", false, false),
    (
        "enceintes",
        "Haut-parleurs / enceintes",
        "Speakers",
        false,
        false,
    ),
    ("robot", "Robot", "Robot", false, false),
    ("telephone", "Téléphone", "Phone", false, false),
    ("autre", "Autre", "Other", false, false),
];

/// An asset tag (numéro d'inventaire) or a serial number: printable, no spaces at the
/// ends, at most 64 characters.
pub fn identifier(field: &str, v: Option<&str>) -> Result<Option<String>, FieldError> {
    let Some(v) = v.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    if v.chars().count() > 64 {
        return Err(FieldError::too_long(field, 64));
    }
    if v.chars().any(char::is_control) {
        return Err(FieldError::new(field, "invalid_characters"));
    }
    Ok(Some(v.to_string()))
}

/// A price typed in euros ("1 234,56", "399.90", "450 €") into integer cents.
pub fn euros_to_cents(field: &str, v: Option<&str>) -> Result<Option<i64>, FieldError> {
    let Some(raw) = v.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    let cleaned: String = raw
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '€' && *c != '\u{a0}' && *c != '\u{202f}')
        .map(|c| if c == ',' { '.' } else { c })
        .collect();
    let bad = || FieldError::new(field, "price_format");
    let (units, cents) = match cleaned.split_once('.') {
        Some((u, c)) => (u, c),
        None => (cleaned.as_str(), ""),
    };
    if units.is_empty() && cents.is_empty()
        || !units.chars().all(|c| c.is_ascii_digit())
        || !cents.chars().all(|c| c.is_ascii_digit())
        || cents.len() > 2
        || units.len() > 9
    {
        return Err(bad());
    }
    let units: i64 = if units.is_empty() {
        0
    } else {
        units.parse().map_err(|_| bad())?
    };
    let cents: i64 = match cents.len() {
        0 => 0,
        1 => cents.parse::<i64>().map_err(|_| bad())? * 10,
        _ => cents.parse().map_err(|_| bad())?,
    };
    Ok(Some(units * 100 + cents))
}

/// Cents as French euros: `123456` → "1 234,56 €".
pub fn format_euros(cents: i64) -> String {
    let neg = cents < 0;
    let c = cents.unsigned_abs();
    let units = (c / 100).to_string();
    let mut grouped = String::new();
    for (i, ch) in units.chars().enumerate() {
        if i > 0 && (units.len() - i).is_multiple_of(3) {
            grouped.push('\u{202f}');
        }
        grouped.push(ch);
    }
    format!("{}{grouped},{:02} €", if neg { "-" } else { "" }, c % 100)
}

/// An amount as a spreadsheet cell or a form's value: `1234,50`, no grouping, no symbol
/// (what `euros_to_cents` reads back).
pub fn plain_euros(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let c = cents.unsigned_abs();
    format!("{sign}{},{:02}", c / 100, c % 100)
}

/// A calendar date typed as `AAAA-MM-JJ` (what `<input type="date">` sends) or `JJ/MM/AAAA`.
pub fn date(field: &str, v: Option<&str>) -> Result<Option<NaiveDate>, FieldError> {
    let Some(v) = v.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    NaiveDate::parse_from_str(v, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(v, "%d/%m/%Y"))
        .map(Some)
        .map_err(|_| FieldError::new(field, "date_format"))
}

/// An IPv4 range in CIDR notation (`10.78.12.0/24`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv4Range {
    pub network: u32,
    pub prefix: u8,
}

impl Ipv4Range {
    pub fn parse(s: &str) -> Option<Ipv4Range> {
        let (addr, prefix) = s.trim().split_once('/').unwrap_or((s.trim(), "32"));
        let addr: std::net::Ipv4Addr = addr.parse().ok()?;
        let prefix: u8 = prefix.parse().ok().filter(|p| *p <= 32)?;
        let mask = Self::mask(prefix);
        Some(Ipv4Range {
            network: u32::from(addr) & mask,
            prefix,
        })
    }

    fn mask(prefix: u8) -> u32 {
        if prefix == 0 {
            0
        } else {
            u32::MAX << (32 - u32::from(prefix))
        }
    }

    pub fn contains(&self, ip: &str) -> bool {
        ip.trim()
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|a| u32::from(a) & Self::mask(self.prefix) == self.network)
    }
}

impl std::fmt::Display for Ipv4Range {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}/{}",
            std::net::Ipv4Addr::from(self.network),
            self.prefix
        )
    }
}

/// A school's address ranges, typed one per line or separated by commas or spaces.
pub fn ip_ranges(field: &str, v: Option<&str>) -> Result<Vec<Ipv4Range>, FieldError> {
    let mut out = Vec::new();
    for part in v
        .unwrap_or("")
        .split(|c: char| c == ',' || c == ';' || c.is_whitespace())
        .filter(|p| !p.is_empty())
    {
        out.push(Ipv4Range::parse(part).ok_or_else(|| FieldError::new(field, "ip_range_format"))?);
    }
    if out.len() > 32 {
        return Err(FieldError::new(field, "too_many"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_in_euros_become_cents() {
        let p = |s| euros_to_cents("price", Some(s));
        assert_eq!(p("1 234,56"), Ok(Some(123_456)));
        assert_eq!(p("399.9"), Ok(Some(39_990)));
        assert_eq!(p("450 €"), Ok(Some(45_000)));
        assert_eq!(p("0,05"), Ok(Some(5)));
        assert!(p("12,345").is_err());
        assert!(p("-3").is_err());
        assert!(p("abc").is_err());
        assert_eq!(euros_to_cents("price", Some("  ")), Ok(None));
        assert_eq!(format_euros(123_456), "1\u{202f}234,56 €");
        assert_eq!(format_euros(5), "0,05 €");
    }

    #[test]
    fn dates_and_ranges() {
        assert_eq!(
            date("d", Some("15/09/2021")).unwrap(),
            NaiveDate::from_ymd_opt(2021, 9, 15)
        );
        assert!(date("d", Some("2021-13-01")).is_err());
        let r = Ipv4Range::parse("10.78.12.7/24").unwrap();
        assert_eq!(r.to_string(), "10.78.12.0/24");
        assert!(r.contains("10.78.12.200"));
        assert!(!r.contains("10.78.13.1"));
        assert!(!r.contains("fe80::1"));
        assert_eq!(
            ip_ranges("ip", Some("10.0.0.0/8, 192.168.1.0/24"))
                .unwrap()
                .len(),
            2
        );
        assert!(ip_ranges("ip", Some("10.0.0.0/33")).is_err());
    }
}
