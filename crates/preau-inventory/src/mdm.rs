//! Device exports from the MDM consoles schools use for tablets: Jamf School and
//! Microsoft Intune, as CSV. Columns are found by their header, whatever their order, in
//! English or French.

use serde::Serialize;

/// One device of an MDM export.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MdmDevice {
    pub line: usize,
    pub serial: String,
    pub name: Option<String>,
    pub model: Option<String>,
    pub os_version: Option<String>,
    pub last_check_in: Option<String>,
    pub assigned_user: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MdmLineError {
    pub line: usize,
    pub message: String,
}

const SERIAL: &[&str] = &[
    "serial number",
    "serialnumber",
    "serial",
    "numéro de série",
    "numero de serie",
];
const NAME: &[&str] = &["device name", "name", "nom de l'appareil", "nom"];
const MODEL: &[&str] = &["model", "modèle", "modele", "model name"];
const OS: &[&str] = &[
    "os version",
    "osversion",
    "ios version",
    "version du système d'exploitation",
    "version de l'os",
];
const CHECK_IN: &[&str] = &[
    "last check-in",
    "last check in",
    "lastcheckin",
    "last sync date/time",
    "dernière synchronisation",
    "last contact",
];
const USER: &[&str] = &[
    "user",
    "owner",
    "primary user upn",
    "user principal name",
    "assigned user",
    "utilisateur",
];

fn column(headers: &[String], names: &[&str]) -> Option<usize> {
    headers.iter().position(|h| names.contains(&h.as_str()))
}

/// Reads an export (UTF-8, with or without BOM; `,` or `;`). A line without a serial
/// number is an error that names the line; the file is refused as a whole if any line is.
pub fn parse(content: &str) -> Result<Vec<MdmDevice>, Vec<MdmLineError>> {
    let content = content.strip_prefix('\u{feff}').unwrap_or(content);
    let first_line = content.lines().next().unwrap_or("");
    let delimiter = if first_line.matches(';').count() > first_line.matches(',').count() {
        b';'
    } else {
        b','
    };
    let mut r = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .from_reader(content.as_bytes());
    let headers: Vec<String> = match r.headers() {
        Ok(h) => h.iter().map(|h| h.trim().to_lowercase()).collect(),
        Err(e) => {
            return Err(vec![MdmLineError {
                line: 1,
                message: e.to_string(),
            }]);
        }
    };
    let Some(serial_col) = column(&headers, SERIAL) else {
        return Err(vec![MdmLineError {
            line: 1,
            message: "colonne « Serial Number » absente / no \"Serial Number\" column".into(),
        }]);
    };
    let cols = [NAME, MODEL, OS, CHECK_IN, USER].map(|n| column(&headers, n));
    let mut devices = Vec::new();
    let mut errors = Vec::new();
    for (i, rec) in r.records().enumerate() {
        let line = i + 2;
        let rec = match rec {
            Ok(r) => r,
            Err(e) => {
                errors.push(MdmLineError {
                    line,
                    message: e.to_string(),
                });
                continue;
            }
        };
        if rec.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        let get = |c: Option<usize>| {
            c.and_then(|c| rec.get(c))
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(String::from)
        };
        let Some(serial) = get(Some(serial_col)) else {
            errors.push(MdmLineError {
                line,
                message: "numéro de série vide / empty serial number".into(),
            });
            continue;
        };
        if serial.len() > 64 {
            errors.push(MdmLineError {
                line,
                message: "numéro de série trop long / serial number too long".into(),
            });
            continue;
        }
        devices.push(MdmDevice {
            line,
            serial,
            name: get(cols[0]),
            model: get(cols[1]),
            os_version: get(cols[2]),
            last_check_in: get(cols[3]),
            assigned_user: get(cols[4]),
        });
    }
    if errors.is_empty() {
        Ok(devices)
    } else {
        Err(errors)
    }
}
