//! Pupils, reduced to what lending tablets needs: a label in a class of one school year.
//!
//! They come from the ONDE export (`import_onde`, compared with what is held, all or
//! nothing), are read by the school's staff with every read written in the audit log
//! (`class_pupils`), and their labels are deleted on the retention date (`purge`), on
//! request (`erase`), the loans then reading "élève (supprimé)". The collectivité's
//! choices (label or pseudonym, months kept, hosting) are `Settings`.

use chrono::{DateTime, NaiveDate, Utc};
use preau_domain::onde;
use preau_domain::paris;
use preau_domain::pupils::{self as rules, Held, LabelMode};
use preau_domain::{FieldError, Lang, Principal, text};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};

use crate::audit::{self, Actor, Entry};
use crate::classes::{self, ValidClass};
use crate::db::{Db, Param, Tx, insert_rows};
use crate::error::{AppError, AppResult, Errors, expect_one_row};
use crate::import::{LineError, decode};
use crate::{schools, with_db, with_tx, write_tx, years};

pub mod loans;

/// The collectivité's choices for pupil data.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Settings {
    pub label_mode: String,
    pub retention_months: i64,
    /// Where the data lives (shown in the record of processing).
    pub hosting: String,
    pub dpo_contact: String,
    pub version: i64,
}

impl Settings {
    pub fn mode(&self) -> LabelMode {
        LabelMode::from_db(&self.label_mode)
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct SettingsInput {
    #[serde(default)]
    pub label_mode: String,
    #[serde(default, deserialize_with = "text::number_or_text")]
    pub retention_months: Option<String>,
    #[serde(default)]
    pub hosting: Option<String>,
    #[serde(default)]
    pub dpo_contact: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ValidSettings {
    pub label_mode: LabelMode,
    pub retention_months: i64,
    pub hosting: String,
    pub dpo_contact: String,
}

impl SettingsInput {
    pub fn parse(&self) -> AppResult<ValidSettings> {
        let mut e = Errors::default();
        let mode = e.check(LabelMode::parse("label_mode", &self.label_mode));
        let months = e.check(match self.retention_months.as_deref().map(str::trim) {
            None | Some("") => Err(FieldError::new("retention_months", "required")),
            Some(s) => match s.parse::<i64>() {
                Ok(n) if (0..=24).contains(&n) => Ok(n),
                Ok(_) => Err(FieldError::new("retention_months", "out_of_range")),
                Err(_) => Err(FieldError::new("retention_months", "not_a_number")),
            },
        });
        let hosting = e.check(text::optional("hosting", self.hosting.as_deref(), 300));
        let dpo = e.check(text::optional(
            "dpo_contact",
            self.dpo_contact.as_deref(),
            200,
        ));
        e.finish()?;
        match (mode, months, hosting, dpo) {
            (Some(label_mode), Some(retention_months), Some(h), Some(d)) => Ok(ValidSettings {
                label_mode,
                retention_months,
                hosting: h.unwrap_or_default(),
                dpo_contact: d.unwrap_or_default(),
            }),
            _ => Err(FieldError::new("settings", "invalid").into()),
        }
    }
}

/// Creates the collectivité's row (with its secret for match keys) the first time.
async fn ensure_settings(tx: &mut Tx, cid: i64, now: DateTime<Utc>) -> AppResult<()> {
    let secret = crate::secrets::random_token();
    with_tx!(tx, c => {
        sqlx::query("INSERT INTO pupil_settings (collectivite_id, key_secret, updated_at) VALUES ($1, $2, $3) ON CONFLICT (collectivite_id) DO NOTHING")
            .bind(cid).bind(&secret).bind(now).execute(&mut *c).await?;
    });
    Ok(())
}

const SETTINGS: &str = "SELECT label_mode, retention_months, hosting, dpo_contact, version FROM pupil_settings WHERE collectivite_id = $1";

pub(crate) async fn settings_in_tx(
    tx: &mut Tx,
    cid: i64,
    now: DateTime<Utc>,
) -> AppResult<Settings> {
    ensure_settings(tx, cid, now).await?;
    Ok(with_tx!(tx, c => {
        sqlx::query_as::<_, Settings>(SETTINGS).bind(cid).fetch_one(&mut *c).await?
    }))
}

/// The settings, or the defaults when the collectivité never changed them.
pub async fn settings(db: &Db, p: &Principal) -> AppResult<Settings> {
    let row = with_db!(db, pool => {
        sqlx::query_as::<_, Settings>(SETTINGS).bind(p.collectivite_id).fetch_optional(pool).await?
    });
    Ok(row.unwrap_or(Settings {
        label_mode: LabelMode::Initiale.code().into(),
        retention_months: rules::DEFAULT_RETENTION_MONTHS as i64,
        hosting: String::new(),
        dpo_contact: String::new(),
        version: 0,
    }))
}

/// Changes the settings; a new retention moves the purge date of every label still held.
pub async fn set_settings(
    tx: &mut Tx,
    p: &Principal,
    expected_version: i64,
    v: &ValidSettings,
    now: DateTime<Utc>,
) -> AppResult<Settings> {
    if !p.can_manage_collectivite() {
        return Err(AppError::Forbidden);
    }
    let cid = p.collectivite_id;
    let before = settings_in_tx(tx, cid, now).await?;
    if expected_version != 0 && expected_version != before.version {
        return Err(AppError::Conflict(FieldError::new(
            "version",
            "version_conflict",
        )));
    }
    let n = with_tx!(tx, c => {
        sqlx::query("UPDATE pupil_settings SET label_mode = $1, retention_months = $2, hosting = $3, dpo_contact = $4, version = version + 1, updated_at = $5 WHERE collectivite_id = $6 AND version = $7")
            .bind(v.label_mode.code()).bind(v.retention_months).bind(&v.hosting).bind(&v.dpo_contact).bind(now).bind(cid).bind(before.version)
            .execute(&mut *c).await?.rows_affected()
    });
    expect_one_row(n)?;
    if before.retention_months != v.retention_months {
        let rows: Vec<(i64, NaiveDate, Option<NaiveDate>)> = with_tx!(tx, c => {
            sqlx::query_as("SELECT p.id, y.ends_on, p.left_on FROM pupils p JOIN school_years y ON y.id = p.school_year_id WHERE p.collectivite_id = $1 AND p.purged_at IS NULL")
                .bind(cid).fetch_all(&mut *c).await?
        });
        for (id, end, left) in rows {
            let on = rules::purge_on(end, left, v.retention_months as u32);
            with_tx!(tx, c => {
                sqlx::query("UPDATE pupils SET purge_on = $1 WHERE id = $2").bind(on).bind(id).execute(&mut *c).await?;
            });
        }
    }
    let after = settings_in_tx(tx, cid, now).await?;
    audit::record(
        tx,
        &Actor::from(p),
        now,
        Entry {
            action: "update",
            object_type: "pupil_settings",
            object_id: cid,
            object_label: "Élèves et tablettes",
            changes: audit::diff(&before, &after),
        },
    )
    .await?;
    Ok(after)
}

/// Whether each school's tablets follow their pupils into the next school year.
pub async fn rollover_choices(db: &Db, p: &Principal) -> AppResult<Vec<(i64, String, bool)>> {
    if !p.can_manage_collectivite() {
        return Err(AppError::Forbidden);
    }
    Ok(with_db!(db, pool => {
        sqlx::query_as("SELECT id, name, tablets_follow_pupil FROM schools WHERE collectivite_id = $1 ORDER BY name")
            .bind(p.collectivite_id).fetch_all(pool).await?
    }))
}

pub async fn set_rollover(
    tx: &mut Tx,
    p: &Principal,
    school_id: i64,
    follow: bool,
    now: DateTime<Utc>,
) -> AppResult<()> {
    if !p.can_manage_collectivite() {
        return Err(AppError::Forbidden);
    }
    let school = schools::get_in_tx(tx, p.collectivite_id, school_id).await?;
    let before: bool = with_tx!(tx, c => {
        sqlx::query_scalar("SELECT tablets_follow_pupil FROM schools WHERE id = $1").bind(school_id).fetch_one(&mut *c).await?
    });
    if before == follow {
        return Ok(());
    }
    with_tx!(tx, c => {
        sqlx::query("UPDATE schools SET tablets_follow_pupil = $1 WHERE id = $2").bind(follow).bind(school_id).execute(&mut *c).await?;
    });
    audit::record(
        tx,
        &Actor::from(p),
        now,
        Entry {
            action: "update",
            object_type: "school",
            object_id: school_id,
            object_label: &school.name,
            changes: json!({"tablets_follow_pupil": [before, follow]}),
        },
    )
    .await
}

/// The match key of a pupil: a digest of the folded names under the collectivité's
/// secret. The names are not kept; the same pupil gives the same key in the next export.
fn match_key(secret: &str, first: &str, family: &str) -> String {
    let d = Sha256::digest(format!("{secret}\u{1f}{first}\u{1f}{family}").as_bytes());
    d.iter().take(16).map(|b| format!("{b:02x}")).collect()
}

/// What an ONDE import found and (unless it was a trial) did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct OndeReport {
    pub encoding: &'static str,
    pub school_id: i64,
    pub school_name: String,
    pub school_year: String,
    pub pupils: usize,
    pub classes_created: Vec<String>,
    pub classes_resized: Vec<(String, i64, i64)>,
    /// `(label, class)`
    pub arrivals: Vec<(String, String)>,
    /// `(label, class)`
    pub departures: Vec<(String, String)>,
    /// `(label, from, to)`
    pub moves: Vec<(String, String, String)>,
    pub relabelled: usize,
    pub unchanged: usize,
    /// Arrivals who were in the school last year.
    pub continuing: usize,
    /// Tablets lent last year that follow their pupil into the new class.
    pub loans_following: usize,
    /// Tablets lent last year given back to the school's stock (the school's choice).
    pub loans_to_stock: usize,
    pub dropped_columns: Vec<String>,
    pub errors: Vec<LineError>,
    pub applied: bool,
}

impl OndeReport {
    /// Whether the report names pupils (arrivals, departures, moves): showing it is a read
    /// of pupil data.
    pub fn shows_labels(&self) -> bool {
        !(self.arrivals.is_empty() && self.departures.is_empty() && self.moves.is_empty())
    }

    pub fn is_unchanged(&self) -> bool {
        self.classes_created.is_empty()
            && self.classes_resized.is_empty()
            && self.arrivals.is_empty()
            && self.departures.is_empty()
            && self.moves.is_empty()
            && self.relabelled == 0
            && self.loans_to_stock == 0
    }
}

fn line_errors(errors: Vec<FieldError>, lang: Lang) -> Vec<LineError> {
    errors
        .into_iter()
        .map(|e| LineError {
            line: e
                .field
                .strip_prefix("line ")
                .and_then(|n| n.parse().ok())
                .unwrap_or(0),
            message: e.message(lang),
            field: e.field,
        })
        .collect()
}

/// Imports a school's ONDE export into a school year (the current one by default):
/// creates the classes it names, adds arrivals, marks departures, moves pupils who changed
/// class, and on the first import of a new year carries last year's loans as the school
/// chose. All in one transaction; with `dry_run`, or when any line is wrong, nothing is
/// written and the report says what would change.
pub async fn import_onde(
    db: &Db,
    p: &Principal,
    school_id: i64,
    school_year_id: Option<i64>,
    bytes: &[u8],
    dry_run: bool,
    now: DateTime<Utc>,
) -> AppResult<OndeReport> {
    let school = schools::get(db, p, school_id).await?;
    if !p.can_edit_classes(school_id) {
        return Err(AppError::Forbidden);
    }
    let today = paris::day(now);
    let year = match school_year_id {
        Some(id) => years::get(db, p, id).await?,
        None => years::current(db, p, today)
            .await?
            .ok_or_else(|| AppError::from(FieldError::new("school_year_id", "required")))?,
    };
    let mut report = OndeReport {
        school_id,
        school_name: school.name.clone(),
        school_year: year.label.clone(),
        ..OndeReport::default()
    };
    let text = match decode(bytes) {
        Ok((t, enc)) => {
            report.encoding = enc;
            t
        }
        Err(e) => {
            report.errors = line_errors(vec![e], p.lang);
            return Ok(report);
        }
    };
    let read = |what: &str| format!("import ONDE ({what}) — {}", school.name);
    if dry_run {
        // A trial runs the whole import in a transaction that is rolled back; the read of
        // the labels the preview shows is then logged in a transaction of its own.
        let mut tx = db.begin().await?;
        let r = read_and_apply(&mut tx, p, &school, &year, &text, today, now, report).await?;
        drop(tx);
        if r.shows_labels() {
            write_tx!(db, tx => audit::pupils_read(tx, p, "school", school_id, &read("aperçu"), now).await?)?;
        }
        return Ok(r);
    }
    write_tx!(db, tx => {
        let mut r = read_and_apply(tx, p, &school, &year, &text, today, now, report.clone()).await?;
        r.applied = r.errors.is_empty();
        if r.shows_labels() {
            audit::pupils_read(tx, p, "school", school_id, &read("confirmation"), now).await?;
        }
        r
    })
}

#[allow(clippy::too_many_arguments)]
pub(crate) async fn read_and_apply(
    tx: &mut Tx,
    p: &Principal,
    school: &schools::School,
    year: &years::SchoolYear,
    text: &str,
    today: NaiveDate,
    now: DateTime<Utc>,
    mut report: OndeReport,
) -> AppResult<OndeReport> {
    let settings = settings_in_tx(tx, p.collectivite_id, now).await?;
    let secret: String = with_tx!(tx, c => {
        sqlx::query_scalar("SELECT key_secret FROM pupil_settings WHERE collectivite_id = $1").bind(p.collectivite_id).fetch_one(&mut *c).await?
    });
    let file = match onde::parse_keyed(text, &|f, l| match_key(&secret, f, l)) {
        Ok(f) => f,
        Err(errors) => {
            report.errors = line_errors(errors, p.lang);
            return Ok(report);
        }
    };
    let mut export = file.pupils;
    if settings.mode() == LabelMode::Pseudonyme {
        for e in &mut export {
            e.label = rules::pseudonym(&e.key);
        }
    }
    report.pupils = export.len();
    report.dropped_columns = file.dropped_columns;
    apply(
        tx,
        p,
        school,
        year,
        &settings,
        &export,
        today,
        now,
        &mut report,
    )
    .await?;
    Ok(report)
}

#[allow(clippy::too_many_arguments)]
async fn apply(
    tx: &mut Tx,
    p: &Principal,
    school: &schools::School,
    year: &years::SchoolYear,
    settings: &Settings,
    export: &[onde::OndePupil],
    today: NaiveDate,
    now: DateTime<Utc>,
    report: &mut OndeReport,
) -> AppResult<()> {
    let sid = school.id;
    let cid = p.collectivite_id;
    // The year's classes, by label.
    let classes: Vec<(i64, String, i64)> = with_tx!(tx, c => {
        sqlx::query_as("SELECT id, label, head_count FROM classes WHERE school_id = $1 AND school_year_id = $2")
            .bind(sid).bind(year.id).fetch_all(&mut *c).await?
    });
    let mut class_ids: HashMap<String, i64> =
        classes.iter().map(|(id, l, _)| (l.clone(), *id)).collect();
    let mut sizes: BTreeMap<&str, (&str, i64)> = BTreeMap::new();
    for e in export {
        let s = sizes.entry(&e.class_label).or_insert((&e.levels, 0));
        s.1 += 1;
    }
    for (label, (levels, n)) in &sizes {
        match classes.iter().find(|(_, l, _)| l == label) {
            None => {
                let c = classes::create(
                    tx,
                    p,
                    sid,
                    &ValidClass {
                        school_year_id: year.id,
                        label: (*label).to_string(),
                        levels: (*levels).to_string(),
                        head_count: (*n).min(60),
                        teacher_name: None,
                        room_id: None,
                    },
                    now,
                )
                .await?;
                class_ids.insert((*label).to_string(), c.id);
                report.classes_created.push((*label).to_string());
            }
            Some((id, _, count)) if count != n => {
                report
                    .classes_resized
                    .push(((*label).to_string(), *count, *n));
                with_tx!(tx, c => {
                    sqlx::query("UPDATE classes SET head_count = $1, version = version + 1, updated_at = $2 WHERE id = $3")
                        .bind(*n).bind(now).bind(*id).execute(&mut *c).await?;
                });
            }
            Some(_) => {}
        }
    }
    // The pupils held for this school and year, still there.
    let held: Vec<(i64, Option<String>, Option<String>, String)> = with_tx!(tx, c => {
        sqlx::query_as("SELECT p.id, p.match_key, p.label, c.label FROM pupils p JOIN classes c ON c.id = p.class_id WHERE p.school_id = $1 AND p.school_year_id = $2 AND p.left_on IS NULL AND p.purged_at IS NULL ORDER BY p.id")
            .bind(sid).bind(year.id).fetch_all(&mut *c).await?
    });
    let held: Vec<Held> = held
        .into_iter()
        .map(|(id, key, label, class_label)| Held {
            id,
            key: key.unwrap_or_default(),
            label: label.unwrap_or_default(),
            class_label,
        })
        .collect();
    let by_id: HashMap<i64, &Held> = held.iter().map(|h| (h.id, h)).collect();
    let cmp = rules::compare(&held, export);
    report.unchanged = cmp.unchanged.len();
    report.relabelled = cmp.relabelled.len();
    let months = settings.retention_months as u32;
    let year_purge = rules::purge_on(year.ends_on, None, months);
    for (id, i) in &cmp.relabelled {
        with_tx!(tx, c => {
            sqlx::query("UPDATE pupils SET label = $1, updated_at = $2 WHERE id = $3").bind(&export[*i].label).bind(now).bind(*id).execute(&mut *c).await?;
        });
    }
    for (id, i) in &cmp.moved {
        let e = &export[*i];
        let class_id = class_ids[&e.class_label];
        report.moves.push((
            e.label.clone(),
            by_id[id].class_label.clone(),
            e.class_label.clone(),
        ));
        with_tx!(tx, c => {
            sqlx::query("UPDATE pupils SET class_id = $1, label = $2, updated_at = $3 WHERE id = $4").bind(class_id).bind(&e.label).bind(now).bind(*id).execute(&mut *c).await?;
            // A class set stays with the class; a pupil's own tablet follows the pupil.
            sqlx::query("UPDATE loans SET class_id = $1, updated_at = $2 WHERE pupil_id = $3 AND returned_on IS NULL").bind(class_id).bind(now).bind(*id).execute(&mut *c).await?;
        });
    }
    let left_purge = rules::purge_on(year.ends_on, Some(today), months);
    for id in &cmp.departures {
        let h = by_id[id];
        report
            .departures
            .push((h.label.clone(), h.class_label.clone()));
        with_tx!(tx, c => {
            sqlx::query("UPDATE pupils SET left_on = $1, purge_on = $2, updated_at = $3 WHERE id = $4").bind(today).bind(left_purge).bind(now).bind(*id).execute(&mut *c).await?;
        });
    }
    // Last year's pupils of this school, by key: arrivals found there continue.
    let previous: Option<(i64,)> = with_tx!(tx, c => {
        sqlx::query_as("SELECT id FROM school_years WHERE collectivite_id = $1 AND ends_on < $2 ORDER BY ends_on DESC LIMIT 1")
            .bind(cid).bind(year.starts_on).fetch_optional(&mut *c).await?
    });
    let mut last_year: HashMap<String, Vec<i64>> = HashMap::new();
    let first_import = held.is_empty();
    let follow: bool = with_tx!(tx, c => {
        sqlx::query_scalar("SELECT tablets_follow_pupil FROM schools WHERE id = $1").bind(sid).fetch_one(&mut *c).await?
    });
    if let Some((prev,)) = previous {
        let rows: Vec<(i64, String)> = with_tx!(tx, c => {
            sqlx::query_as("SELECT id, match_key FROM pupils WHERE school_id = $1 AND school_year_id = $2 AND match_key IS NOT NULL ORDER BY id")
                .bind(sid).bind(prev).fetch_all(&mut *c).await?
        });
        for (id, key) in rows {
            last_year.entry(key).or_default().push(id);
        }
        if first_import && !follow {
            report.loans_to_stock = loans::close_year(tx, p, sid, prev, today, now).await?;
        }
    }
    let mut rows = Vec::with_capacity(cmp.arrivals.len());
    for i in &cmp.arrivals {
        let e = &export[*i];
        report
            .arrivals
            .push((e.label.clone(), e.class_label.clone()));
        rows.push(vec![
            Param::I64(cid),
            Param::I64(sid),
            Param::I64(year.id),
            Param::I64(class_ids[&e.class_label]),
            Param::Text(e.label.clone()),
            Param::Text(e.key.clone()),
            Param::Date(today),
            Param::Date(year_purge),
            Param::Time(now),
            Param::Time(now),
        ]);
    }
    insert_rows(
        tx,
        "INSERT INTO pupils (collectivite_id, school_id, school_year_id, class_id, label, match_key, arrived_on, purge_on, created_at, updated_at)",
        rows,
        "",
    )
    .await?;
    // The rows just inserted, in the order of the arrivals (ids grow with the insert):
    // each continuing pupil's open loans move to its own row of this year, namesakes too.
    let held_ids: std::collections::HashSet<i64> = held.iter().map(|h| h.id).collect();
    let all_ids: Vec<i64> = with_tx!(tx, c => {
        sqlx::query_scalar("SELECT id FROM pupils WHERE school_id = $1 AND school_year_id = $2 AND left_on IS NULL AND purged_at IS NULL ORDER BY id")
            .bind(sid).bind(year.id).fetch_all(&mut *c).await?
    });
    let new_ids = all_ids.into_iter().filter(|id| !held_ids.contains(id));
    for (i, new_id) in cmp.arrivals.iter().zip(new_ids) {
        let e = &export[*i];
        let Some(old) = last_year
            .get_mut(&e.key)
            .filter(|olds| !olds.is_empty())
            .map(|olds| olds.remove(0))
        else {
            continue;
        };
        report.continuing += 1;
        if !follow {
            continue;
        }
        let n = with_tx!(tx, c => {
            sqlx::query("UPDATE loans SET pupil_id = $1, class_id = $2, updated_at = $3 WHERE pupil_id = $4 AND returned_on IS NULL")
                .bind(new_id).bind(class_ids[&e.class_label]).bind(now).bind(old).execute(&mut *c).await?.rows_affected()
        });
        report.loans_following += n as usize;
    }
    if !report.is_unchanged() {
        audit::record(
            tx,
            &Actor::from(p),
            now,
            Entry {
                action: "import_onde",
                object_type: "school",
                object_id: sid,
                object_label: &format!("{} — {}", school.name, year.label),
                changes: json!({
                    "pupils": report.pupils,
                    "classes_created": report.classes_created.len(),
                    "arrivals": report.arrivals.len(),
                    "departures": report.departures.len(),
                    "moves": report.moves.len(),
                    "relabelled": report.relabelled,
                    "loans_following": report.loans_following,
                    "loans_to_stock": report.loans_to_stock,
                }),
            },
        )
        .await?;
    }
    Ok(())
}

/// A pupil in a class list, with the device lent to them.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct PupilRow {
    pub id: i64,
    pub class_id: i64,
    /// `None` once deleted: shown as "élève (supprimé)".
    pub label: Option<String>,
    pub arrived_on: NaiveDate,
    pub left_on: Option<NaiveDate>,
    pub purge_on: NaiveDate,
    pub loan_id: Option<i64>,
    pub device_id: Option<i64>,
    pub asset_tag: Option<String>,
    pub serial: Option<String>,
    pub model: Option<String>,
    pub given_on: Option<NaiveDate>,
    pub signed_on: Option<NaiveDate>,
}

const PUPIL_ROW: &str = "SELECT p.id, p.class_id, p.label, p.arrived_on, p.left_on, p.purge_on, l.id AS loan_id, d.id AS device_id, d.asset_tag, d.serial, d.model, l.given_on, l.signed_on FROM pupils p LEFT JOIN loans l ON l.pupil_id = p.id AND l.returned_on IS NULL LEFT JOIN devices d ON d.id = l.device_id";

/// The class, its pupils (those who left last, with the tablet they still hold) — one
/// read entry in the audit log.
pub async fn class_pupils(
    db: &Db,
    p: &Principal,
    class_id: i64,
    now: DateTime<Utc>,
) -> AppResult<(classes::Class, Vec<PupilRow>)> {
    let class = classes::get(db, p, class_id).await?;
    if !p.can_see_pupils(class.school_id) {
        return Err(AppError::Forbidden);
    }
    let school = schools::get(db, p, class.school_id).await?;
    let sql = format!("{PUPIL_ROW} WHERE p.class_id = $1 AND p.purged_at IS NULL");
    write_tx!(db, tx => {
        audit::pupils_read(tx, p, "class", class_id, &format!("{} — {}", class.label, school.name), now).await?;
        let mut rows = with_tx!(tx, c => {
            sqlx::query_as::<_, PupilRow>(sqlx::AssertSqlSafe(sql.clone())).bind(class_id).fetch_all(&mut *c).await?
        });
        // In the order a French list is read: accents fold, "Émile" next to "Emma".
        rows.sort_by_cached_key(|r| (r.left_on.is_some(), text::search_key(r.label.as_deref().unwrap_or("")), r.id));
        (class.clone(), rows)
    })
}

/// A pupil's school and match key, for those who may see the school's pupils.
async fn locate(db: &Db, p: &Principal, id: i64) -> AppResult<(i64, Option<String>)> {
    let row: Option<(i64, Option<String>)> = with_db!(db, pool => {
        sqlx::query_as("SELECT school_id, match_key FROM pupils WHERE id = $1 AND collectivite_id = $2").bind(id).bind(p.collectivite_id).fetch_optional(pool).await?
    });
    let (school_id, key) = row.ok_or(AppError::NotFound)?;
    if !p.readable_schools().contains(school_id) {
        return Err(AppError::NotFound);
    }
    if !p.can_see_pupils(school_id) {
        return Err(AppError::Forbidden);
    }
    Ok((school_id, key))
}

/// One pupil, read for its page (loans, export, erasure): audit-logged.
pub async fn get(db: &Db, p: &Principal, id: i64, now: DateTime<Utc>) -> AppResult<PupilRow> {
    locate(db, p, id).await?;
    let sql = format!("{PUPIL_ROW} WHERE p.id = $1");
    write_tx!(db, tx => {
        audit::pupils_read(tx, p, "pupil", id, &format!("élève n° {id}"), now).await?;
        with_tx!(tx, c => {
            sqlx::query_as::<_, PupilRow>(sqlx::AssertSqlSafe(sql.clone())).bind(id).fetch_one(&mut *c).await?
        })
    })
}

/// Deletes labels whose date has come, except while the pupil still holds a device (the
/// school must be able to ask for it back); the scanned agreements go with them. Returns
/// how many labels were deleted.
pub async fn purge(db: &Db, now: DateTime<Utc>) -> AppResult<u64> {
    let today = paris::day(now);
    write_tx!(db, tx => {
        let due: Vec<(i64, i64)> = with_tx!(tx, c => {
            sqlx::query_as("SELECT p.id, p.collectivite_id FROM pupils p WHERE p.purged_at IS NULL AND p.purge_on <= $1 AND NOT EXISTS (SELECT 1 FROM loans l WHERE l.pupil_id = p.id AND l.returned_on IS NULL) ORDER BY p.collectivite_id, p.id")
                .bind(today).fetch_all(&mut *c).await?
        });
        let mut per: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
        for (id, cid) in &due {
            per.entry(*cid).or_default().push(*id);
        }
        for (cid, ids) in &per {
            delete_labels(tx, ids, now).await?;
            audit::record(
                tx,
                &Actor::system("purge", *cid),
                now,
                Entry {
                    action: "purge",
                    object_type: "pupils",
                    object_id: *cid,
                    object_label: "Élèves : étiquettes arrivées à échéance",
                    changes: json!({ "deleted": ids.len(), "on": today }),
                },
            )
            .await?;
        }
        due.len() as u64
    })
}

async fn delete_labels(tx: &mut Tx, ids: &[i64], now: DateTime<Utc>) -> AppResult<()> {
    for chunk in ids.chunks(500) {
        let mut sql =
            crate::db::Sql::new("UPDATE pupils SET label = NULL, match_key = NULL, purged_at = ");
        sql.bind(Param::Time(now));
        sql.push(", updated_at = ");
        sql.bind(Param::Time(now));
        sql.push(" WHERE id IN ");
        sql.bind_list(chunk);
        let mut docs = crate::db::Sql::new(
            "DELETE FROM loan_documents WHERE loan_id IN (SELECT id FROM loans WHERE pupil_id IN ",
        );
        docs.bind_list(chunk);
        docs.push(")");
        for q in [sql, docs] {
            with_tx!(tx, c => {
                crate::bind_params!(sqlx::query(sqlx::AssertSqlSafe(q.text.clone())), &q.params).execute(&mut *c).await?;
            });
        }
    }
    Ok(())
}

/// Everything held about one pupil label: the rows of each school year (matched by key)
/// and the devices lent. For the right of access; audit-logged.
pub async fn export(
    db: &Db,
    p: &Principal,
    id: i64,
    now: DateTime<Utc>,
) -> AppResult<serde_json::Value> {
    let pupil = get(db, p, id, now).await?;
    let (school_id, key) = locate(db, p, id).await?;
    let ids = same_pupil(db, id, key.as_deref(), school_id).await?;
    let mut years_out = Vec::new();
    let mut loans_out = Vec::new();
    for pid in &ids {
        let row: (
            Option<String>,
            String,
            String,
            String,
            NaiveDate,
            Option<NaiveDate>,
            NaiveDate,
        ) = with_db!(db, pool => {
            sqlx::query_as("SELECT p.label, s.name, y.label, c.label, p.arrived_on, p.left_on, p.purge_on FROM pupils p JOIN schools s ON s.id = p.school_id JOIN school_years y ON y.id = p.school_year_id JOIN classes c ON c.id = p.class_id WHERE p.id = $1")
                .bind(*pid).fetch_one(pool).await?
        });
        years_out.push(json!({
            "label": row.0, "school": row.1, "school_year": row.2, "class": row.3,
            "arrived_on": row.4, "left_on": row.5, "deleted_on": row.6,
        }));
        let loans: Vec<ExportedLoan> = with_db!(db, pool => {
            sqlx::query_as("SELECT l.kind, d.asset_tag AS device_asset_tag, d.model AS device_model, l.given_on, l.signed_on AS agreement_signed_on, l.accessories, l.returned_on, l.return_state, EXISTS (SELECT 1 FROM loan_documents x WHERE x.loan_id = l.id) AS agreement_scan_held FROM loans l JOIN devices d ON d.id = l.device_id WHERE l.pupil_id = $1 ORDER BY l.id")
                .bind(*pid).fetch_all(pool).await?
        });
        loans_out.extend(loans);
    }
    write_tx!(db, tx => {
        audit::record(tx, &Actor::from(p), now, Entry {
            action: "export_pupil", object_type: "pupil", object_id: id,
            object_label: &format!("élève n° {id}"), changes: json!({"rows": ids.len()}),
        }).await?;
    })?;
    Ok(json!({
        "held_by": "collectivité",
        "pupil": pupil.label,
        "school_years": years_out,
        "loans": loans_out,
        "not_held": ["date de naissance", "INE", "sexe", "adresses", "responsables légaux", "nom de famille complet"],
    }))
}

/// A loan as the export of a pupil's data tells it.
#[derive(Debug, Serialize, sqlx::FromRow)]
struct ExportedLoan {
    kind: String,
    device_asset_tag: Option<String>,
    device_model: Option<String>,
    given_on: NaiveDate,
    agreement_signed_on: Option<NaiveDate>,
    accessories: String,
    returned_on: Option<NaiveDate>,
    return_state: Option<String>,
    agreement_scan_held: bool,
}

/// The rows of one pupil over the years in a school: same key, or the row alone.
async fn same_pupil(db: &Db, id: i64, key: Option<&str>, school_id: i64) -> AppResult<Vec<i64>> {
    Ok(match key {
        Some(k) => with_db!(db, pool => {
            sqlx::query_scalar("SELECT id FROM pupils WHERE school_id = $1 AND match_key = $2 ORDER BY id").bind(school_id).bind(k).fetch_all(pool).await?
        }),
        None => vec![id],
    })
}

/// Erases a pupil on request: the label of every year and the scanned agreements go;
/// the loans stay, as "élève (supprimé)", for the devices' history.
pub async fn erase(db: &Db, p: &Principal, id: i64, now: DateTime<Utc>) -> AppResult<usize> {
    let (school_id, key) = locate(db, p, id).await?;
    if !p.can_manage_loans(school_id) {
        return Err(AppError::Forbidden);
    }
    let ids = same_pupil(db, id, key.as_deref(), school_id).await?;
    write_tx!(db, tx => {
        delete_labels(tx, &ids, now).await?;
        audit::record(tx, &Actor::from(p), now, Entry {
            action: "erase_pupil", object_type: "pupil", object_id: id,
            object_label: &format!("élève n° {id}"), changes: json!({"rows": ids.len()}),
        }).await?;
        ids.len()
    })
}

/// What the record of processing needs from the database: how many labels are held, how
/// many were deleted, how many wait for a device to come back.
#[derive(Debug, Clone, Serialize)]
pub struct Holdings {
    pub held: i64,
    pub deleted: i64,
    pub kept_for_open_loans: i64,
    pub next_purge: Option<NaiveDate>,
}

pub async fn holdings(db: &Db, p: &Principal, now: DateTime<Utc>) -> AppResult<Holdings> {
    let today = paris::day(now);
    let cid = p.collectivite_id;
    let (held, deleted): (i64, i64) = with_db!(db, pool => {
        sqlx::query_as("SELECT COALESCE(SUM(CASE WHEN purged_at IS NULL THEN 1 ELSE 0 END), 0), COALESCE(SUM(CASE WHEN purged_at IS NULL THEN 0 ELSE 1 END), 0) FROM pupils WHERE collectivite_id = $1")
            .bind(cid).fetch_one(pool).await?
    });
    let kept: i64 = with_db!(db, pool => {
        sqlx::query_scalar("SELECT COUNT(*) FROM pupils p WHERE p.collectivite_id = $1 AND p.purged_at IS NULL AND p.purge_on <= $2 AND EXISTS (SELECT 1 FROM loans l WHERE l.pupil_id = p.id AND l.returned_on IS NULL)")
            .bind(cid).bind(today).fetch_one(pool).await?
    });
    let next: Option<NaiveDate> = with_db!(db, pool => {
        sqlx::query_scalar("SELECT MIN(purge_on) FROM pupils WHERE collectivite_id = $1 AND purged_at IS NULL AND purge_on > $2")
            .bind(cid).bind(today).fetch_one(pool).await?
    });
    Ok(Holdings {
        held,
        deleted,
        kept_for_open_loans: kept,
        next_purge: next,
    })
}

/// The open schools whose pupils of this school year are not imported yet, when the
/// collectivité keeps pupils at all (some school has pupils of another year): the
/// administrator's reminder to import the new year's ONDE export. Reads no pupil.
pub async fn schools_awaiting_onde(
    db: &Db,
    p: &Principal,
    year_id: i64,
) -> AppResult<Vec<(i64, String)>> {
    if !p.is_admin() {
        return Err(AppError::Forbidden);
    }
    Ok(with_db!(db, pool => {
        sqlx::query_as("SELECT s.id, s.name FROM schools s WHERE s.collectivite_id = $1 AND s.status = 'active' AND EXISTS (SELECT 1 FROM pupils x WHERE x.collectivite_id = $1 AND x.school_year_id <> $2) AND NOT EXISTS (SELECT 1 FROM pupils x WHERE x.school_id = s.id AND x.school_year_id = $2) ORDER BY s.search_key, s.id")
            .bind(p.collectivite_id).bind(year_id).fetch_all(pool).await?
    }))
}

/// A pupil found by the search box.
#[derive(Debug, Clone, Serialize)]
pub struct PupilHit {
    pub id: i64,
    pub label: String,
    pub class_label: String,
    pub school_name: String,
}

/// Pupils of this school year whose label holds `q` (accents and case folded), in the
/// schools where the caller sees pupils; one read entry in the audit log, which names how
/// many were shown, not what was searched.
pub async fn search(
    db: &Db,
    p: &Principal,
    q: &str,
    limit: usize,
    now: DateTime<Utc>,
) -> AppResult<Vec<PupilHit>> {
    let key = text::search_key(q);
    if key.chars().count() < 2 {
        return Ok(Vec::new());
    }
    let visible: Vec<i64> = schools::all_readable(db, p)
        .await?
        .into_iter()
        .filter(|s| p.can_see_pupils(s.id))
        .map(|s| s.id)
        .collect();
    if visible.is_empty() {
        return Ok(Vec::new());
    }
    let mut hits = Vec::new();
    for chunk in visible.chunks(500) {
        let mut sql = crate::db::Sql::new(
            "SELECT p.id, p.label, c.label, s.name FROM pupils p JOIN classes c ON c.id = p.class_id JOIN schools s ON s.id = p.school_id WHERE p.collectivite_id = ",
        );
        sql.bind(Param::I64(p.collectivite_id))
            .push(" AND p.purged_at IS NULL AND p.left_on IS NULL AND p.label IS NOT NULL AND p.school_id IN ")
            .bind_list(chunk);
        let rows: Vec<(i64, String, String, String)> = with_db!(db, pool => {
            crate::bind_params!(sqlx::query_as(sqlx::AssertSqlSafe(sql.text.clone())), &sql.params).fetch_all(pool).await?
        });
        hits.extend(
            rows.into_iter()
                .filter(|r| text::search_key(&r.1).contains(&key))
                .map(|(id, label, class_label, school_name)| PupilHit {
                    id,
                    label,
                    class_label,
                    school_name,
                }),
        );
    }
    hits.sort_by_cached_key(|h| (text::search_key(&h.label), h.id));
    hits.truncate(limit);
    if !hits.is_empty() {
        write_tx!(db, tx => {
            audit::pupils_read(tx, p, "pupil_search", 0, &format!("recherche — {} élève(s)", hits.len()), now).await?;
        })?;
    }
    Ok(hits)
}
