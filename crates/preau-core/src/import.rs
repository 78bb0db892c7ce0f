//! Schools in and out: the national directory export (`fr-en-annuaire-education`), a
//! simple `uai;nom;type;adresse` CSV, and the CSV export.
//!
//! An import is all or nothing: every line is parsed first; if any line is wrong, the
//! report lists each bad line with its number and reason and nothing is written.

use chrono::{DateTime, Utc};
use preau_domain::org::{HolidayZone, SchoolKind, SchoolStatus};
use preau_domain::{FieldError, Lang, Principal, text};
use serde::Serialize;

use crate::db::Db;
use crate::error::{AppError, AppResult};
use crate::schools::{self, SchoolInput, ValidSchool};

/// Decodes a file's bytes: UTF-8 (with or without BOM), or Windows-1252 as Excel writes
/// it in France, detected because it is not valid UTF-8. Anything else is refused.
pub fn decode(bytes: &[u8]) -> Result<(String, &'static str), FieldError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if let Ok(s) = std::str::from_utf8(bytes) {
        return Ok((s.to_string(), "UTF-8"));
    }
    let (s, _, had_errors) = encoding_rs::WINDOWS_1252.decode(bytes);
    // Windows-1252 leaves five bytes undefined and control bytes make no sense in a CSV:
    // either means the file is neither encoding, and guessing would store mojibake.
    if had_errors
        || s.chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err(FieldError::new("file", "bad_encoding"));
    }
    Ok((s.into_owned(), "Windows-1252"))
}

#[derive(Debug, Clone, Serialize)]
pub struct LineError {
    pub line: usize,
    pub field: String,
    pub message: String,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct ImportReport {
    pub encoding: &'static str,
    pub format: &'static str,
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub skipped: usize,
    pub errors: Vec<LineError>,
}

/// Académie → holiday zone, from the ministry's zoning.
pub fn zone_of_academie(academie: &str) -> HolidayZone {
    let a = text::search_key(academie);
    const A: &[&str] = &[
        "besancon", "bordeaux", "clermont", "dijon", "grenoble", "limoges", "lyon", "poitiers",
    ];
    const B: &[&str] = &[
        "aix",
        "amiens",
        "lille",
        "nancy",
        "nantes",
        "nice",
        "normandie",
        "caen",
        "rouen",
        "orleans",
        "reims",
        "rennes",
        "strasbourg",
    ];
    const C: &[&str] = &["creteil", "montpellier", "paris", "toulouse", "versailles"];
    if A.iter().any(|k| a.contains(k)) {
        HolidayZone::A
    } else if B.iter().any(|k| a.contains(k)) {
        HolidayZone::B
    } else if C.iter().any(|k| a.contains(k)) {
        HolidayZone::C
    } else {
        HolidayZone::Autre
    }
}

fn header_key(h: &str) -> String {
    text::search_key(h).replace(' ', "_")
}

/// Parses the file into checked schools, or the list of bad lines.
pub fn parse_schools(
    content: &str,
    commune: Option<&str>,
    report: &mut ImportReport,
) -> Vec<(usize, ValidSchool)> {
    let delimiter = if content.lines().next().unwrap_or("").contains(';') {
        b';'
    } else {
        b','
    };
    let mut rdr = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .from_reader(content.as_bytes());
    let headers: Vec<String> = match rdr.headers() {
        Ok(h) => h.iter().map(header_key).collect(),
        Err(e) => {
            report.errors.push(LineError {
                line: 1,
                field: "file".into(),
                message: e.to_string(),
            });
            return Vec::new();
        }
    };
    let col = |name: &str| headers.iter().position(|h| h == name);
    let directory = col("identifiant_de_l_etablissement").is_some();
    report.format = if directory {
        "fr-en-annuaire-education"
    } else {
        "uai;nom;type;adresse"
    };
    let required: &[&str] = if directory {
        &["identifiant_de_l_etablissement", "nom_etablissement"]
    } else {
        &["uai", "nom", "type"]
    };
    for r in required {
        if col(r).is_none() {
            report.errors.push(LineError {
                line: 1,
                field: (*r).into(),
                message: format!("colonne « {r} » absente / column missing"),
            });
        }
    }
    if !report.errors.is_empty() {
        return Vec::new();
    }
    let mut out: Vec<(usize, ValidSchool)> = Vec::new();
    for (i, rec) in rdr.records().enumerate() {
        let line = i + 2;
        let rec = match rec {
            Ok(r) => r,
            Err(e) => {
                report.errors.push(LineError {
                    line,
                    field: "line".into(),
                    message: e.to_string(),
                });
                continue;
            }
        };
        if rec.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        let get = |name: &str| {
            col(name)
                .and_then(|i| rec.get(i))
                .map(str::trim)
                .unwrap_or("")
        };
        let input = if directory {
            if let Some(c) = commune
                && get("code_commune") != c
            {
                report.skipped += 1;
                continue;
            }
            if text::search_key(get("statut_public_prive")) == "prive" {
                report.skipped += 1;
                continue;
            }
            let nature = text::search_key(&format!(
                "{} {}",
                get("libelle_nature"),
                get("type_etablissement")
            ));
            let kind = if nature.contains("maternelle") {
                SchoolKind::Maternelle
            } else if nature.contains("elementaire") {
                SchoolKind::Elementaire
            } else if nature.contains("college") {
                SchoolKind::College
            } else if nature.contains("lycee") {
                SchoolKind::Lycee
            } else {
                SchoolKind::Primaire
            };
            let address = [get("adresse_1"), get("adresse_2"), get("adresse_3")]
                .iter()
                .filter(|s| !s.is_empty())
                .cloned()
                .collect::<Vec<_>>()
                .join(", ");
            SchoolInput {
                uai: get("identifiant_de_l_etablissement").into(),
                name: get("nom_etablissement").into(),
                kind: kind.code().into(),
                address: Some(address),
                postal_code: Some(get("code_postal").into()),
                city: Some(
                    get("nom_commune")
                        .split_whitespace()
                        .collect::<Vec<_>>()
                        .join(" "),
                ),
                holiday_zone: Some(zone_of_academie(get("libelle_academie")).code().into()),
                status: Some(
                    if text::search_key(get("etat")) == "ferme" {
                        SchoolStatus::Closed
                    } else {
                        SchoolStatus::Active
                    }
                    .code()
                    .into(),
                ),
                week: None,
            }
        } else {
            let kind_key = text::search_key(get("type"));
            let kind = SchoolKind::ALL
                .iter()
                .find(|k| kind_key.contains(k.code()))
                .map(|k| k.code().to_string())
                .unwrap_or(kind_key);
            SchoolInput {
                uai: get("uai").into(),
                name: get("nom").into(),
                kind,
                address: Some(get("adresse").into()),
                postal_code: Some(get("code_postal").into()),
                city: Some(get("commune").into()),
                holiday_zone: Some(
                    if get("zone").is_empty() {
                        "C"
                    } else {
                        get("zone")
                    }
                    .into(),
                ),
                status: None,
                week: None,
            }
        };
        match input.parse() {
            Ok(v) => {
                // Multi-site UAIs repeat rows in the directory: the first row wins.
                if let Some((first, _)) = out.iter().find(|(_, o)| o.uai == v.uai) {
                    if !directory {
                        report.errors.push(LineError {
                            line,
                            field: "uai".into(),
                            message: format!(
                                "UAI {} déjà présent ligne {first} / already on line {first}",
                                v.uai
                            ),
                        });
                    }
                    continue;
                }
                out.push((line, v));
            }
            Err(AppError::Invalid(errs)) => {
                for e in errs {
                    report.errors.push(LineError {
                        line,
                        field: e.field.clone(),
                        message: e.message(Lang::Fr),
                    });
                }
            }
            Err(e) => report.errors.push(LineError {
                line,
                field: "line".into(),
                message: e.to_string(),
            }),
        }
    }
    out
}

/// Imports schools into the caller's collectivité: creates the new ones, updates those
/// whose UAI is known, in one transaction. With `dry_run`, only reports.
pub async fn import_schools(
    db: &Db,
    p: &Principal,
    bytes: &[u8],
    commune: Option<&str>,
    dry_run: bool,
    now: DateTime<Utc>,
) -> AppResult<ImportReport> {
    if !p.can_manage_collectivite() {
        return Err(AppError::Forbidden);
    }
    let mut report = ImportReport::default();
    let (content, encoding) = match decode(bytes) {
        Ok(x) => x,
        Err(e) => {
            report.errors.push(LineError {
                line: 0,
                field: "file".into(),
                message: e.message(Lang::Fr),
            });
            return Ok(report);
        }
    };
    report.encoding = encoding;
    let parsed = parse_schools(&content, commune, &mut report);
    if !report.errors.is_empty() {
        return Ok(report);
    }
    let mut tx = db.begin().await?;
    for (line, v) in &parsed {
        let existing = schools::find_by_uai_in_tx(&mut tx, p.collectivite_id, &v.uai).await?;
        let result = match existing {
            None => schools::create(&mut tx, p, v, now)
                .await
                .map(|_| report.created += 1),
            Some(s) => {
                let mut current = s.to_input().parse()?;
                // A file that says nothing of the school week leaves it as it is.
                if v.week.is_none() {
                    current.week = None;
                }
                if &current == v {
                    report.unchanged += 1;
                    Ok(())
                } else {
                    schools::update(&mut tx, p, s.id, s.version, v, now)
                        .await
                        .map(|_| report.updated += 1)
                }
            }
        };
        if let Err(e) = result {
            report.errors.push(LineError {
                line: *line,
                field: "uai".into(),
                message: e.to_string(),
            });
        }
    }
    if report.errors.is_empty() && !dry_run {
        tx.commit().await?;
    }
    // Otherwise the transaction is dropped: nothing from this file is written.
    Ok(report)
}

/// The caller's schools as CSV (`;`, UTF-8 with BOM so that Excel opens it right), in
/// the layout the school import reads back.
pub async fn export_schools(db: &Db, p: &Principal) -> AppResult<String> {
    let list = schools::all_readable(db, p).await?;
    let mut rows: Vec<Vec<String>> = vec![
        [
            "uai",
            "nom",
            "type",
            "adresse",
            "code_postal",
            "commune",
            "zone",
            "etat",
        ]
        .map(String::from)
        .to_vec(),
    ];
    for s in &list {
        rows.push(vec![
            s.uai.as_str().to_string(),
            s.name.clone(),
            s.kind.clone(),
            s.address.clone().unwrap_or_default(),
            s.postal_code.clone().unwrap_or_default(),
            s.city.clone().unwrap_or_default(),
            s.holiday_zone.clone(),
            s.status.clone(),
        ]);
    }
    String::from_utf8(crate::spreadsheet::csv(&rows))
        .map_err(|e| AppError::Other(anyhow::anyhow!("{e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_1252_is_detected_not_garbled() {
        let bytes = b"uai;nom;type\n0750655E;\xC9cole des \xC9tangs;maternelle\n";
        let (s, enc) = decode(bytes).unwrap();
        assert_eq!(enc, "Windows-1252");
        assert!(s.contains("École des Étangs"));
        assert_eq!(decode(b"\xEF\xBB\xBFuai").unwrap().0, "uai");
        assert_eq!(decode(b"\x81\x8d").unwrap_err().code, "bad_encoding");
    }

    #[test]
    fn zones() {
        assert_eq!(zone_of_academie("Versailles"), HolidayZone::C);
        assert_eq!(zone_of_academie("Orléans-Tours"), HolidayZone::B);
        assert_eq!(zone_of_academie("Lyon"), HolidayZone::A);
        assert_eq!(zone_of_academie("Corse"), HolidayZone::Autre);
    }
}
