//! A school's links to the internet and whether it is online: the links as entered
//! (technology, role, bandwidth, price…), and the rule that says a school is offline — none
//! of its agents has reported for some class hours of its own calendar, while other
//! schools' agents did report after that (if every school fell silent, Préau itself was
//! out of reach and nothing is said).

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::calendar::Calendar;
use crate::device::{date, euros_to_cents};
use crate::error::{FieldError, Lang};
use crate::org::code_enum;
use crate::text;

code_enum!(
    /// How a link reaches the school.
    Technology {
        Ftth = "ftth" => ("Fibre (FTTH)", "Fibre (FTTH)"),
        Ftto = "ftto" => ("Fibre professionnelle (FTTO)", "Business fibre (FTTO)"),
        Vdsl = "vdsl" => ("VDSL", "VDSL"),
        Adsl = "adsl" => ("ADSL", "ADSL"),
        Mobile = "4g5g" => ("4G / 5G", "4G / 5G"),
        Satellite = "satellite" => ("Satellite", "Satellite"),
        Radio = "radio" => ("Radio (boucle locale)", "Radio (fixed wireless)"),
    }
);

code_enum!(
    /// What the link is for.
    LinkRole {
        Principal = "principal" => ("Principal", "Main"),
        Secours = "secours" => ("Secours", "Backup"),
    }
);

code_enum!(
    /// Whether a school reaches Préau.
    Status {
        EnLigne = "en_ligne" => ("En ligne", "Online"),
        HorsLigne = "hors_ligne" => ("Hors ligne", "Offline"),
        Inconnu = "inconnu" => ("Inconnu (aucun agent)", "Unknown (no agent)"),
    }
);

/// A link as entered (bandwidths in Mbit/s, the price in euros, as typed).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct LinkInput {
    pub technology: String,
    pub role: String,
    #[serde(default)]
    pub operator_id: String,
    #[serde(default)]
    pub contract_ref: String,
    #[serde(default)]
    pub line_number: String,
    pub down_mbps: String,
    pub up_mbps: String,
    #[serde(default)]
    pub monthly_price: String,
    #[serde(default)]
    pub commissioned_on: String,
}

/// A link, checked: bandwidths in kbit/s, the price in cents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Link {
    pub technology: Technology,
    pub role: LinkRole,
    pub operator_id: Option<i64>,
    pub contract_ref: String,
    pub line_number: String,
    pub down_kbps: i64,
    pub up_kbps: i64,
    pub monthly_cents: Option<i64>,
    pub commissioned_on: Option<NaiveDate>,
}

/// A bandwidth typed in Mbit/s (`1000`, `8,5`, `0.5`) in kbit/s: more than 0, at most
/// 100 Gbit/s.
pub fn mbps(field: &str, v: &str) -> Result<i64, FieldError> {
    let v = v.trim().replace(',', ".");
    if v.is_empty() {
        return Err(FieldError::new(field, "required"));
    }
    let x: f64 = v
        .parse()
        .ok()
        .filter(|x: &f64| x.is_finite())
        .ok_or_else(|| FieldError::new(field, "bandwidth_format"))?;
    let kbps = (x * 1000.0).round();
    if !(1.0..=100_000_000.0).contains(&kbps) {
        return Err(FieldError::new(field, "out_of_range"));
    }
    Ok(kbps as i64)
}

impl LinkInput {
    /// Every field's error at once.
    pub fn check(&self) -> Result<Link, Vec<FieldError>> {
        let mut errors = Vec::new();
        let technology =
            Technology::parse("technology", &self.technology).map_err(|e| errors.push(e));
        let role = LinkRole::parse("role", &self.role).map_err(|e| errors.push(e));
        let operator_id = match self.operator_id.trim() {
            "" => None,
            v => match v.parse::<i64>() {
                Ok(id) => Some(id),
                Err(_) => {
                    errors.push(FieldError::new("operator_id", "unknown_value"));
                    None
                }
            },
        };
        let contract_ref = text::optional("contract_ref", Some(&self.contract_ref), 100)
            .map_err(|e| errors.push(e));
        let line_number =
            text::optional("line_number", Some(&self.line_number), 100).map_err(|e| errors.push(e));
        let down = mbps("down_mbps", &self.down_mbps).map_err(|e| errors.push(e));
        let up = mbps("up_mbps", &self.up_mbps).map_err(|e| errors.push(e));
        let price =
            euros_to_cents("monthly_price", Some(&self.monthly_price)).map_err(|e| errors.push(e));
        let commissioned =
            date("commissioned_on", Some(&self.commissioned_on)).map_err(|e| errors.push(e));
        match (
            technology,
            role,
            contract_ref,
            line_number,
            down,
            up,
            price,
            commissioned,
        ) {
            (
                Ok(technology),
                Ok(role),
                Ok(contract_ref),
                Ok(line_number),
                Ok(down_kbps),
                Ok(up_kbps),
                Ok(monthly_cents),
                Ok(commissioned_on),
            ) if errors.is_empty() => Ok(Link {
                technology,
                role,
                operator_id,
                contract_ref: contract_ref.unwrap_or_default(),
                line_number: line_number.unwrap_or_default(),
                down_kbps,
                up_kbps,
                monthly_cents,
                commissioned_on,
            }),
            _ => Err(errors),
        }
    }
}

/// Class hours of silence after which a school with agents is said offline.
pub const DEFAULT_SILENT_HOURS: i64 = 2;

/// Whether a school is online, as of `now`: `last` is when one of its agents (or its MDM)
/// last reported (`None`: it has none); `others_last` the latest report of any other
/// school. Silence counts only in the school's class hours (`calendar`), so that nights,
/// Wednesdays of a four-day week and holidays never raise it; and a silence everybody
/// shares says Préau was out of reach, not the school.
pub fn judge(
    last: Option<DateTime<Utc>>,
    others_last: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
    calendar: &Calendar,
    silent_hours: i64,
) -> Status {
    let Some(last) = last else {
        return Status::Inconnu;
    };
    let deadline = calendar.add_minutes(last, silent_hours * 60, &[]);
    let silent = deadline <= now;
    let others_heard = others_last.is_some_and(|o| o > deadline);
    if silent && others_heard {
        Status::HorsLigne
    } else {
        Status::EnLigne
    }
}

/// When a school went offline: the moment its silence reached `silent_hours` class hours.
pub fn offline_since(last: DateTime<Utc>, calendar: &Calendar, silent_hours: i64) -> DateTime<Utc> {
    calendar.add_minutes(last, silent_hours * 60, &[])
}

/// Where the server checks a school's link by itself, every few minutes: a TCP port that
/// must accept a connection (`tcp://host:port`, such as the router's public address), or an
/// HTTP address that must answer (`http://host[:port]/path`, any status). A school with a
/// probe is judged by it alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Probe {
    Tcp {
        host: String,
        port: u16,
    },
    Http {
        host: String,
        port: u16,
        path: String,
    },
}

/// Failed probes in a row after which a school is said offline: two passes, so that one
/// lost packet does not open a ticket.
pub const PROBE_FAILURES: i64 = 2;

impl Probe {
    /// Reads a probe address as typed; the error names the field `probe`.
    pub fn parse(s: &str) -> Result<Probe, FieldError> {
        let bad = || FieldError::new("probe", "probe_format");
        let s = s.trim();
        if s.len() > 200 || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad());
        }
        let (scheme, rest) = s.split_once("://").ok_or_else(bad)?;
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        let (host, port) = match authority.rsplit_once(':') {
            // An IPv6 address is written in brackets: [2001:db8::1]:443.
            Some((h, p)) if !p.contains(']') => (
                h,
                Some(p.parse::<u16>().ok().filter(|p| *p > 0).ok_or_else(bad)?),
            ),
            _ => (authority, None),
        };
        let host_ok = !host.is_empty()
            && (host.starts_with('[') && host.ends_with(']')
                || host
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-'));
        if !host_ok {
            return Err(bad());
        }
        let host = host.to_ascii_lowercase();
        match scheme.to_ascii_lowercase().as_str() {
            "tcp" if path == "/" => Ok(Probe::Tcp {
                host,
                port: port.ok_or_else(bad)?,
            }),
            "http" => Ok(Probe::Http {
                host,
                port: port.unwrap_or(80),
                path: path.to_string(),
            }),
            _ => Err(bad()),
        }
    }

    /// The address as stored and shown.
    pub fn url(&self) -> String {
        match self {
            Probe::Tcp { host, port } => format!("tcp://{host}:{port}"),
            Probe::Http { host, port, path } if *port == 80 => format!("http://{host}{path}"),
            Probe::Http { host, port, path } => format!("http://{host}:{port}{path}"),
        }
    }

    /// Host and port to connect to.
    pub fn address(&self) -> (&str, u16) {
        match self {
            Probe::Tcp { host, port } | Probe::Http { host, port, .. } => {
                (host.trim_start_matches('[').trim_end_matches(']'), *port)
            }
        }
    }
}

/// A probed school's status: offline after [`PROBE_FAILURES`] failures in a row, online
/// once a probe has succeeded since, unknown before the first success.
pub fn probe_status(failures: i64, last_ok: Option<DateTime<Utc>>) -> Status {
    if failures >= PROBE_FAILURES {
        Status::HorsLigne
    } else if last_ok.is_some() {
        Status::EnLigne
    } else {
        Status::Inconnu
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::{Closure, WeekHours};
    use chrono::TimeZone;

    fn at(d: u32, h: u32, m: u32) -> DateTime<Utc> {
        // December 2026: the 7th is a Monday; Paris is UTC+1.
        chrono::Utc
            .with_ymd_and_hms(2026, 12, d, h - 1, m, 0)
            .unwrap()
    }

    fn calendar() -> Calendar {
        let christmas = Closure {
            start: NaiveDate::from_ymd_opt(2026, 12, 19).unwrap(),
            end: NaiveDate::from_ymd_opt(2027, 1, 4).unwrap(),
            label: "Vacances de Noël".into(),
        };
        Calendar::school(WeekHours::four_days(), vec![christmas])
    }

    #[test]
    fn silence_counts_in_class_hours_only() {
        let c = calendar();
        let others = Some(at(10, 15, 0));
        // Reported at 16:00 on Monday; at 8:45 on Tuesday, one class hour at most has gone.
        assert_eq!(
            judge(Some(at(7, 16, 0)), Some(at(8, 8, 44)), at(8, 8, 45), &c, 2),
            Status::EnLigne
        );
        // Tuesday 11:00: more than two class hours, others heard since: offline.
        assert_eq!(
            judge(Some(at(7, 16, 0)), Some(at(8, 10, 59)), at(8, 11, 0), &c, 2),
            Status::HorsLigne
        );
        // Silent from Tuesday 16:00 over the Wednesday of a four-day week: still online
        // on Thursday at 8:30.
        assert_eq!(
            judge(
                Some(at(8, 16, 0)),
                Some(at(10, 8, 29)),
                at(10, 8, 30),
                &c,
                2
            ),
            Status::EnLigne
        );
        // A holiday: silent since Friday 18th, the whole Christmas break says nothing.
        assert_eq!(
            judge(Some(at(18, 16, 30)), others, at(31, 12, 0), &c, 2),
            Status::EnLigne
        );
        // Everybody silent: Préau was out of reach.
        assert_eq!(
            judge(Some(at(7, 9, 0)), Some(at(7, 9, 5)), at(8, 15, 0), &c, 2),
            Status::EnLigne
        );
        // No agent at all.
        assert_eq!(judge(None, others, at(8, 15, 0), &c, 2), Status::Inconnu);
        // Offline from the moment the two class hours ran out.
        let since = offline_since(at(7, 16, 0), &c, 2);
        assert!(since > at(8, 8, 0) && since < at(8, 11, 0), "{since}");
    }

    #[test]
    fn a_link_is_checked_field_by_field() {
        let ok = LinkInput {
            technology: "ftto".into(),
            role: "principal".into(),
            down_mbps: "1000".into(),
            up_mbps: "8,5".into(),
            monthly_price: "390".into(),
            ..LinkInput::default()
        }
        .check()
        .unwrap();
        assert_eq!(
            (ok.down_kbps, ok.up_kbps, ok.monthly_cents),
            (1_000_000, 8_500, Some(39_000))
        );
        let bad = LinkInput {
            technology: "fibre-magique".into(),
            role: "principal".into(),
            down_mbps: "-5".into(),
            up_mbps: "fast".into(),
            ..LinkInput::default()
        }
        .check()
        .unwrap_err();
        let got: Vec<_> = bad
            .iter()
            .map(|e| format!("{}:{}", e.field, e.code))
            .collect();
        assert_eq!(
            got,
            [
                "technology:unknown_value",
                "down_mbps:out_of_range",
                "up_mbps:bandwidth_format"
            ]
        );
    }
}

code_enum!(
    /// How an access point's Wi-Fi is switched off when no class uses it.
    SwitchMethod {
        Interrupteur = "interrupteur" => ("Interrupteur dans la salle", "Switch in the room"),
        Programmation = "programmation" => ("Programmation horaire", "Timer schedule"),
        Controleur = "controleur" => ("Contrôleur Wi-Fi (à distance)", "Wi-Fi controller (remote)"),
    }
);

code_enum!(
    /// What an access point lacks for the register (loi Abeille, art. 7).
    WifiFlag {
        NonDebrayable = "non_debrayable" => ("Ne peut pas être désactivé", "Cannot be switched off"),
        ModeInconnu = "mode_inconnu" => ("Manière de le désactiver non renseignée", "How to switch it off not recorded"),
        ConseilNonInforme = "conseil_non_informe" => ("Conseil d'école non informé avant l'installation", "School council not told before installation"),
    }
);

/// What does not comply in an access point: it must be switchable (and say how), and the
/// conseil d'école must have been told before it was installed (`installed_on`, when
/// known).
pub fn wifi_flags(
    switchable: Option<bool>,
    method: Option<SwitchMethod>,
    informed_on: Option<NaiveDate>,
    installed_on: Option<NaiveDate>,
) -> Vec<WifiFlag> {
    let mut flags = Vec::new();
    if switchable != Some(true) {
        flags.push(WifiFlag::NonDebrayable);
    } else if method.is_none() {
        flags.push(WifiFlag::ModeInconnu);
    }
    let told_before = match (informed_on, installed_on) {
        (None, _) => false,
        (Some(i), Some(at)) => i <= at,
        (Some(_), None) => true,
    };
    if !told_before {
        flags.push(WifiFlag::ConseilNonInforme);
    }
    flags
}

#[cfg(test)]
mod wifi_tests {
    use super::*;

    #[test]
    fn the_register_flags_what_the_law_asks() {
        let d = |m: u32| NaiveDate::from_ymd_opt(2025, m, 1);
        assert!(wifi_flags(Some(true), Some(SwitchMethod::Interrupteur), d(3), d(4)).is_empty());
        assert_eq!(
            wifi_flags(Some(false), None, d(3), d(4)),
            [WifiFlag::NonDebrayable]
        );
        assert_eq!(
            wifi_flags(None, None, None, d(4)),
            [WifiFlag::NonDebrayable, WifiFlag::ConseilNonInforme]
        );
        assert_eq!(
            wifi_flags(Some(true), None, d(3), d(4)),
            [WifiFlag::ModeInconnu]
        );
        // Told after it was installed: too late.
        assert_eq!(
            wifi_flags(Some(true), Some(SwitchMethod::Controleur), d(5), d(4)),
            [WifiFlag::ConseilNonInforme]
        );
    }

    #[test]
    fn probe_addresses() {
        assert_eq!(
            Probe::parse("tcp://203.0.113.10:443").unwrap(),
            Probe::Tcp {
                host: "203.0.113.10".into(),
                port: 443
            }
        );
        let h = Probe::parse(" HTTP://Routeur.ecole-a.fr/status ").unwrap();
        assert_eq!(h.url(), "http://routeur.ecole-a.fr/status");
        assert_eq!(h.address(), ("routeur.ecole-a.fr", 80));
        let h = Probe::parse("http://127.0.0.1:8080").unwrap();
        assert_eq!(h.url(), "http://127.0.0.1:8080/");
        let v6 = Probe::parse("tcp://[2001:db8::1]:22").unwrap();
        assert_eq!(v6.address(), ("2001:db8::1", 22));
        for bad in [
            "",
            "203.0.113.10",
            "tcp://203.0.113.10",
            "tcp://h:0",
            "tcp://h:99999",
            "tcp://h:80/x",
            "https://h/",
            "ftp://h/",
            "http://h h/",
            "http://h/\r\nHost: x",
            "http://user@h/",
            "http://:80/",
        ] {
            let e = Probe::parse(bad).unwrap_err();
            assert_eq!(
                (e.field.as_str(), e.code),
                ("probe", "probe_format"),
                "{bad}"
            );
        }
    }

    #[test]
    fn probe_verdicts() {
        let t = Some(Utc::now());
        assert_eq!(probe_status(0, None), Status::Inconnu);
        assert_eq!(probe_status(0, t), Status::EnLigne);
        assert_eq!(probe_status(1, t), Status::EnLigne);
        assert_eq!(probe_status(PROBE_FAILURES, t), Status::HorsLigne);
        assert_eq!(probe_status(PROBE_FAILURES, None), Status::HorsLigne);
    }
}
