//! Devices from files: the collectivité's own spreadsheet (one device per line) and the
//! device exports of the tablets' MDM consoles (Jamf School, Microsoft Intune). Both are
//! previewed, report every bad line with its number, apply all or nothing, and are
//! idempotent: a device already known (by asset tag, else serial number) is updated, not
//! duplicated.

use chrono::{DateTime, Utc};
use preau_domain::{Principal, Uai, text};
use preau_inventory::mdm;
use serde_json::json;
use std::collections::HashMap;

use super::categories;
use super::devices::{self, DeviceInput, record_event};
use crate::db::Db;
use crate::error::{AppError, AppResult};
use crate::import::{ImportReport, LineError, decode};
use crate::{with_db, with_tx};

/// The columns of a device spreadsheet, by their accepted headers (French first).
const COLUMNS: &[(&str, &[&str])] = &[
    ("category", &["categorie", "catégorie", "category", "type"]),
    ("uai", &["uai", "ecole", "école", "school"]),
    ("room", &["salle", "room"]),
    ("name", &["nom", "name"]),
    ("state", &["etat", "état", "state"]),
    ("brand", &["marque", "brand"]),
    ("model", &["modele", "modèle", "model"]),
    (
        "serial",
        &[
            "numero_serie",
            "numéro de série",
            "n° de série",
            "serial",
            "serial number",
        ],
    ),
    (
        "asset_tag",
        &[
            "numero_inventaire",
            "numéro d'inventaire",
            "n° d'inventaire",
            "asset_tag",
            "asset tag",
        ],
    ),
    (
        "purchase_date",
        &["date_achat", "date d'achat", "purchase_date"],
    ),
    ("price", &["prix", "prix d'achat", "price"]),
    ("supplier", &["fournisseur", "supplier"]),
    (
        "order_ref",
        &["reference_commande", "référence de commande", "order_ref"],
    ),
    (
        "warranty_end",
        &["fin_garantie", "fin de garantie", "warranty_end"],
    ),
    ("funding", &["financement", "funding"]),
    ("notes", &["notes", "remarques"]),
];

/// The file as text (UTF-8 or Windows-1252), its encoding noted in the report; `None`
/// (with the error reported) when it is neither.
fn decoded(bytes: &[u8], report: &mut ImportReport) -> Option<String> {
    match decode(bytes) {
        Ok((content, encoding)) => {
            report.encoding = encoding;
            Some(content)
        }
        Err(e) => {
            line_error(report, 0, "file", e.message(preau_domain::Lang::Fr));
            None
        }
    }
}

fn line_error(report: &mut ImportReport, line: usize, field: &str, message: String) {
    report.errors.push(LineError {
        line,
        field: field.to_string(),
        message,
    });
}

/// Imports a device spreadsheet (`;` or `,`, UTF-8 or Windows-1252) into the caller's
/// collectivité. With `dry_run`, only reports.
pub async fn import_devices(
    db: &Db,
    p: &Principal,
    bytes: &[u8],
    dry_run: bool,
    now: DateTime<Utc>,
) -> AppResult<ImportReport> {
    if !p.can_edit_devices(None) && !p.is_admin() {
        return Err(AppError::Forbidden);
    }
    let mut report = ImportReport::default();
    let Some(content) = decoded(bytes, &mut report) else {
        return Ok(report);
    };
    report.format = "matériel";
    let first = content.lines().next().unwrap_or("");
    let delimiter = if first.matches(';').count() >= first.matches(',').count() {
        b';'
    } else {
        b','
    };
    let mut r = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .from_reader(content.as_bytes());
    let headers: Vec<String> = match r.headers() {
        Ok(h) => h
            .iter()
            .map(|h| text::search_key(h).replace(' ', "_"))
            .collect(),
        Err(e) => {
            line_error(&mut report, 1, "file", e.to_string());
            return Ok(report);
        }
    };
    let mut col: HashMap<&str, usize> = HashMap::new();
    for (field, names) in COLUMNS {
        if let Some(i) = headers.iter().position(|h| {
            names
                .iter()
                .any(|n| text::search_key(n).replace(' ', "_") == *h)
        }) {
            col.insert(field, i);
        }
    }
    for needed in ["category"] {
        if !col.contains_key(needed) {
            line_error(
                &mut report,
                1,
                needed,
                "colonne absente / missing column".into(),
            );
            return Ok(report);
        }
    }
    if !col.contains_key("asset_tag") && !col.contains_key("serial") {
        line_error(&mut report, 1, "asset_tag", "il faut une colonne numéro d'inventaire ou numéro de série / an asset tag or serial column is needed".into());
        return Ok(report);
    }
    let cats = categories::list(db, p).await?;
    let schools: HashMap<String, i64> = with_db!(db, pool => {
        sqlx::query_as::<_, (String, i64)>("SELECT uai, id FROM schools WHERE collectivite_id = $1").bind(p.collectivite_id).fetch_all(pool).await?
    })
    .into_iter()
    .collect();
    let rooms: HashMap<(i64, String), i64> = with_db!(db, pool => {
        sqlx::query_as::<_, (i64, String, i64)>("SELECT r.school_id, r.name, r.id FROM rooms r JOIN schools s ON s.id = r.school_id WHERE s.collectivite_id = $1").bind(p.collectivite_id).fetch_all(pool).await?
    })
    .into_iter()
    .map(|(s, n, id)| ((s, text::search_key(&n)), id))
    .collect();
    let mut rows: Vec<(usize, DeviceInput)> = Vec::new();
    for (i, rec) in r.records().enumerate() {
        let line = i + 2;
        let rec = match rec {
            Ok(rec) => rec,
            Err(e) => {
                line_error(&mut report, line, "file", e.to_string());
                continue;
            }
        };
        if rec.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        let get = |f: &str| {
            col.get(f)
                .and_then(|i| rec.get(*i))
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(String::from)
        };
        let category = match get("category") {
            Some(c) => match cats.iter().find(|k| {
                k.code == c
                    || text::search_key(&k.label_fr) == text::search_key(&c)
                    || text::search_key(&k.label_en) == text::search_key(&c)
            }) {
                Some(k) => k.code.clone(),
                None => {
                    line_error(
                        &mut report,
                        line,
                        "category",
                        format!("catégorie inconnue « {c} » / unknown category"),
                    );
                    continue;
                }
            },
            None => {
                line_error(
                    &mut report,
                    line,
                    "category",
                    "obligatoire / required".into(),
                );
                continue;
            }
        };
        let school_id = match get("uai") {
            None => None,
            Some(u) => match Uai::parse(&u)
                .ok()
                .and_then(|u| schools.get(u.as_str()).copied())
            {
                Some(id) => Some(id),
                None => {
                    line_error(
                        &mut report,
                        line,
                        "uai",
                        format!("aucune école « {u} » dans la collectivité / no such school"),
                    );
                    continue;
                }
            },
        };
        let room_id = match (get("room"), school_id) {
            (None, _) => None,
            (Some(r), Some(s)) => match rooms.get(&(s, text::search_key(&r))) {
                Some(id) => Some(*id),
                None => {
                    line_error(
                        &mut report,
                        line,
                        "room",
                        format!("aucune salle « {r} » dans cette école / no such room"),
                    );
                    continue;
                }
            },
            (Some(_), None) => {
                line_error(
                    &mut report,
                    line,
                    "room",
                    "une salle demande une école (UAI) / a room needs a school".into(),
                );
                continue;
            }
        };
        let input = DeviceInput {
            category,
            school_id,
            room_id,
            parent_id: None,
            name: get("name"),
            state: get("state").map(|s| text::search_key(&s).replace(' ', "_")),
            brand: get("brand"),
            model: get("model"),
            serial: get("serial"),
            asset_tag: get("asset_tag"),
            purchase_date: get("purchase_date"),
            price: get("price"),
            price_cents: None,
            supplier: get("supplier"),
            order_ref: get("order_ref"),
            warranty_end: get("warranty_end"),
            funding: get("funding"),
            notes: get("notes"),
            wifi_switchable: None,
        };
        if input.asset_tag.is_none() && input.serial.is_none() {
            line_error(
                &mut report,
                line,
                "asset_tag",
                "numéro d'inventaire ou de série obligatoire / asset tag or serial required".into(),
            );
            continue;
        }
        match input.parse() {
            Ok(_) => rows.push((line, input)),
            Err(AppError::Invalid(errs)) => {
                for e in errs {
                    let field = e.field.clone();
                    line_error(&mut report, line, &field, e.message(preau_domain::Lang::Fr));
                }
            }
            Err(e) => return Err(e),
        }
    }
    if !report.errors.is_empty() {
        return Ok(report);
    }
    let mut tx = db.begin().await?;
    for (line, input) in &rows {
        let found: Option<i64> = with_tx!(&mut tx, c => {
            sqlx::query_scalar("SELECT id FROM devices WHERE collectivite_id = $1 AND ((asset_tag IS NOT NULL AND asset_tag = $2) OR ($2 IS NULL AND serial = $3)) ORDER BY id LIMIT 1")
                .bind(p.collectivite_id).bind(&input.asset_tag).bind(&input.serial).fetch_optional(&mut *c).await?
        });
        let outcome = match found {
            None => match input.parse() {
                Ok(v) => devices::create(&mut tx, p, &v, now)
                    .await
                    .map(|_| report.created += 1),
                Err(e) => Err(e),
            },
            Some(id) => apply_update(&mut tx, p, id, input, now, &mut report).await,
        };
        if let Err(e) = outcome {
            line_error(&mut report, *line, "asset_tag", error_text(e));
        }
    }
    if report.errors.is_empty() && !dry_run {
        tx.commit().await?;
    }
    // Otherwise the transaction is dropped: nothing from this file is written.
    Ok(report)
}

/// An MDM's last check-in ("2026-11-28 08:12", ISO 8601, or "28/11/2026 08:12"), read as
/// Paris time when it carries no offset.
fn check_in(v: Option<&str>) -> Option<chrono::DateTime<Utc>> {
    let v = v?.trim();
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(v) {
        return Some(t.with_timezone(&Utc));
    }
    [
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%d/%m/%Y %H:%M:%S",
        "%d/%m/%Y %H:%M",
        "%m/%d/%Y %I:%M %p",
    ]
    .iter()
    .find_map(|f| chrono::NaiveDateTime::parse_from_str(v, f).ok())
    .and_then(preau_domain::paris::instant)
}

fn error_text(e: AppError) -> String {
    match e {
        AppError::Invalid(errs) => errs
            .iter()
            .map(|e| e.to_string())
            .collect::<Vec<_>>()
            .join("; "),
        AppError::Conflict(f) => f.to_string(),
        AppError::Forbidden => "vous ne pouvez pas modifier ce matériel / not allowed".into(),
        AppError::NotFound => "matériel hors de votre périmètre / outside your scope".into(),
        other => other.to_string(),
    }
}

/// Updates a known device from a line, keeping what the line does not say (its room when
/// it names none, its container); counts it unchanged when nothing differs.
async fn apply_update(
    tx: &mut crate::Tx,
    p: &Principal,
    id: i64,
    input: &DeviceInput,
    now: DateTime<Utc>,
    report: &mut ImportReport,
) -> AppResult<()> {
    let current = devices::get_in_tx(tx, p, id).await?;
    let mut merged = input.clone();
    if merged.room_id.is_none() && merged.school_id == current.school_id {
        merged.room_id = current.room_id;
    }
    if merged.school_id.is_none() {
        merged.school_id = current.school_id;
        merged.room_id = current.room_id;
    }
    merged.parent_id = current.parent_id;
    merged.wifi_switchable = current.wifi_switchable;
    for (field, stored) in [
        (&mut merged.name, &current.name),
        (&mut merged.brand, &current.brand),
        (&mut merged.model, &current.model),
        (&mut merged.serial, &current.serial),
        (&mut merged.asset_tag, &current.asset_tag),
        (&mut merged.supplier, &current.supplier),
        (&mut merged.order_ref, &current.order_ref),
        (&mut merged.funding, &current.funding),
        (&mut merged.notes, &current.notes),
    ] {
        if field.is_none() {
            *field = stored.clone();
        }
    }
    if merged.price.is_none() {
        merged.price_cents = current.price_cents;
    }
    if merged.purchase_date.is_none() {
        merged.purchase_date = current.purchase_date.map(|d| d.to_string());
    }
    if merged.warranty_end.is_none() {
        merged.warranty_end = current.warranty_end.map(|d| d.to_string());
    }
    if merged.state.is_none() {
        merged.state = Some(current.state.clone());
    }
    let v = merged.parse()?;
    if current.to_input().parse().ok().as_ref() == Some(&v) {
        report.unchanged += 1;
        return Ok(());
    }
    devices::update(tx, p, id, current.version, &v, now).await?;
    report.updated += 1;
    Ok(())
}

/// Imports a Jamf School or Intune device export: each device is matched by serial
/// number; a known one gets its name (if it had none), model, OS version and last
/// check-in; an unknown one is added as a tablet, in `school_id` if given, else in the
/// "à affecter" queue. The assigned user column is read but not kept: who holds a tablet
/// is recorded by the loans, with their own privacy rules.
pub async fn import_mdm(
    db: &Db,
    p: &Principal,
    bytes: &[u8],
    school_id: Option<i64>,
    dry_run: bool,
    now: DateTime<Utc>,
) -> AppResult<ImportReport> {
    if !p.can_edit_devices(school_id) {
        return Err(AppError::Forbidden);
    }
    if let Some(s) = school_id {
        crate::schools::get(db, p, s).await?;
    }
    let mut report = ImportReport::default();
    let Some(content) = decoded(bytes, &mut report) else {
        return Ok(report);
    };
    let list = match mdm::parse(&content) {
        Ok(list) => list,
        Err(errors) => {
            for e in errors {
                line_error(&mut report, e.line, "serial", e.message);
            }
            return Ok(report);
        }
    };
    report.format =
        if content.to_lowercase().contains("intune") || content.contains("Primary user UPN") {
            "Intune"
        } else {
            "MDM (Jamf School / Intune)"
        };
    let mut tx = db.begin().await?;
    for d in &list {
        let found: Option<(i64, Option<i64>)> = with_tx!(&mut tx, c => {
            sqlx::query_as("SELECT id, school_id FROM devices WHERE collectivite_id = $1 AND serial = $2 ORDER BY id LIMIT 1")
                .bind(p.collectivite_id).bind(&d.serial).fetch_optional(&mut *c).await?
        });
        let outcome: AppResult<()> = async {
            match found {
                Some((id, school)) => {
                    if !p.can_edit_devices(school) {
                        return Err(AppError::Forbidden);
                    }
                    let before: (Option<String>, Option<String>, Option<String>) = with_tx!(&mut tx, c => {
                        sqlx::query_as("SELECT name, model, os_version FROM devices WHERE id = $1").bind(id).fetch_one(&mut *c).await?
                    });
                    let name = before.0.clone().or_else(|| d.name.clone());
                    let model = d.model.clone().or(before.1.clone());
                    let os = d.os_version.clone().or(before.2.clone());
                    if (name.clone(), model.clone(), os.clone()) == before {
                        report.unchanged += 1;
                    } else {
                        let seen = check_in(d.last_check_in.as_deref()).unwrap_or(now);
                        with_tx!(&mut tx, c => {
                            sqlx::query("UPDATE devices SET name = $1, model = $2, os_version = $3, inventory_source = 'MDM', last_inventory_at = $4, version = version + 1, updated_at = $5 WHERE id = $6")
                                .bind(&name).bind(&model).bind(&os).bind(seen).bind(now).bind(id).execute(&mut *c).await?;
                        });
                        record_event(&mut tx, id, now, "updated", &format!("MDM ({})", p.display_name), json!({
                            "name": [before.0, name], "model": [before.1, model], "os_version": [before.2, os], "last_check_in": [null, d.last_check_in]
                        })).await?;
                        report.updated += 1;
                    }
                    Ok(())
                }
                None => {
                    let input = DeviceInput {
                        category: "tablette".into(),
                        school_id,
                        name: d.name.clone(),
                        model: d.model.clone(),
                        serial: Some(d.serial.clone()),
                        state: Some("en_service".into()),
                        ..Default::default()
                    };
                    let created = devices::create(&mut tx, p, &input.parse()?, now).await?;
                    with_tx!(&mut tx, c => {
                        sqlx::query("UPDATE devices SET os_version = $1, inventory_source = 'MDM', last_inventory_at = $2 WHERE id = $3")
                            .bind(&d.os_version).bind(check_in(d.last_check_in.as_deref()).unwrap_or(now)).bind(created.id).execute(&mut *c).await?;
                    });
                    report.created += 1;
                    Ok(())
                }
            }
        }
        .await;
        if let Err(e) = outcome {
            line_error(&mut report, d.line, "serial", error_text(e));
        }
    }
    if report.errors.is_empty() && !dry_run {
        tx.commit().await?;
    }
    Ok(report)
}
