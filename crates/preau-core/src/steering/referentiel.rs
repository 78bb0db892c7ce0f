//! The référentiel in force: the collectivité's own, or the socle until it adopts one. An
//! edit replaces every rule at once (checked whole, audited with the rules before and
//! after); coverage follows at once since it is computed on reading.

use chrono::{DateTime, Utc};
use preau_domain::referentiel::{self, Rule, RuleInput};
use preau_domain::{FieldError, Principal};
use serde::Serialize;

use crate::audit::{self, Actor, Entry};
use crate::db::{Db, Tx};
use crate::error::{AppError, AppResult, expect_one_row};
use crate::{with_db, with_tx};

/// The rules in force.
#[derive(Debug, Clone, Serialize)]
pub struct Referentiel {
    pub rules: Vec<Rule>,
    /// 0 while the socle applies (the collectivité never edited it).
    pub version: i64,
    pub updated_at: Option<DateTime<Utc>>,
}

impl Referentiel {
    pub fn is_socle(&self) -> bool {
        self.version == 0
    }

    /// A rule's label, or its key when no rule has it any more.
    pub fn label_of(&self, key: &str) -> String {
        self.rules
            .iter()
            .find(|r| r.key == key)
            .map_or_else(|| key.to_string(), |r| r.label.clone())
    }
}

type Row = (String, i64, DateTime<Utc>);

fn from_row(row: Option<Row>) -> AppResult<Referentiel> {
    match row {
        None => Ok(Referentiel {
            rules: referentiel::socle(),
            version: 0,
            updated_at: None,
        }),
        Some((json, version, at)) => Ok(Referentiel {
            rules: serde_json::from_str(&json)
                .map_err(|e| anyhow::anyhow!("stored référentiel unreadable: {e}"))?,
            version,
            updated_at: Some(at),
        }),
    }
}

const SELECT: &str =
    "SELECT rules, version, updated_at FROM referentiels WHERE collectivite_id = $1";

/// The caller's collectivité's référentiel (anyone who sees some coverage may read it).
pub async fn get(db: &Db, p: &Principal) -> AppResult<Referentiel> {
    if !p.sees_some_coverage() {
        return Err(AppError::Forbidden);
    }
    let row: Option<Row> = with_db!(db, pool => {
        sqlx::query_as(SELECT).bind(p.collectivite_id).fetch_optional(pool).await?
    });
    from_row(row)
}

/// The collectivité's category codes, which rules may name.
async fn category_codes(tx: &mut Tx, cid: i64) -> AppResult<Vec<String>> {
    Ok(with_tx!(tx, c => {
        sqlx::query_scalar("SELECT code FROM device_categories WHERE collectivite_id = $1")
            .bind(cid)
            .fetch_all(&mut *c)
            .await?
    }))
}

/// Replaces the rules. `expected_version` is the version read (0 for the socle); a stale
/// one is a conflict. Every wrong field of every rule is reported at once.
pub async fn replace(
    tx: &mut Tx,
    p: &Principal,
    expected_version: i64,
    inputs: &[RuleInput],
    now: DateTime<Utc>,
) -> AppResult<Referentiel> {
    if !p.can_edit_referentiel() {
        return Err(AppError::Forbidden);
    }
    let cid = p.collectivite_id;
    let rules = referentiel::parse_rules(inputs, &category_codes(tx, cid).await?)
        .map_err(AppError::Invalid)?;
    let before: Option<Row> = with_tx!(tx, c => {
        sqlx::query_as(SELECT).bind(cid).fetch_optional(&mut *c).await?
    });
    let before = from_row(before)?;
    if before.version != expected_version {
        return Err(AppError::Conflict(FieldError::new(
            "version",
            "version_conflict",
        )));
    }
    let json = serde_json::to_string(&rules).map_err(|e| anyhow::anyhow!("{e}"))?;
    let affected = with_tx!(tx, c => {
        if before.version == 0 {
            sqlx::query("INSERT INTO referentiels (collectivite_id, rules, version, updated_at) VALUES ($1, $2, 1, $3)")
                .bind(cid).bind(&json).bind(now).execute(&mut *c).await?.rows_affected()
        } else {
            sqlx::query("UPDATE referentiels SET rules = $1, version = version + 1, updated_at = $2 WHERE collectivite_id = $3 AND version = $4")
                .bind(&json).bind(now).bind(cid).bind(expected_version).execute(&mut *c).await?.rows_affected()
        }
    });
    expect_one_row(affected)?;
    audit::record(
        tx,
        &Actor::from(p),
        now,
        Entry {
            action: "update",
            object_type: "referentiel",
            object_id: cid,
            object_label: "référentiel",
            changes: serde_json::json!({"rules": {"before": before.rules, "after": rules}}),
        },
    )
    .await?;
    Ok(Referentiel {
        rules,
        version: before.version + 1,
        updated_at: Some(now),
    })
}

/// Sets (or clears, `None`) a category's unit price, which gaps are costed at.
pub async fn set_unit_price(
    tx: &mut Tx,
    p: &Principal,
    category: &str,
    cents: Option<i64>,
    now: DateTime<Utc>,
) -> AppResult<()> {
    super::set_category_figure(
        tx,
        p,
        category,
        super::CategoryFigure::UnitPriceCents,
        cents,
        &format!("price_{category}"),
        now,
    )
    .await
}

/// Records (or withdraws) what a school declares it has, for a `declaration` rule.
pub async fn declare(
    tx: &mut Tx,
    p: &Principal,
    school_id: i64,
    key: &str,
    declared: bool,
    now: DateTime<Utc>,
) -> AppResult<()> {
    if !p.readable_schools().contains(school_id) {
        return Err(AppError::NotFound);
    }
    let school = crate::schools::get_in_tx(tx, p.collectivite_id, school_id).await?;
    if !p.can_declare(school_id) {
        return Err(AppError::Forbidden);
    }
    with_tx!(tx, c => {
        sqlx::query("DELETE FROM school_declarations WHERE school_id = $1 AND key = $2")
            .bind(school_id).bind(key).execute(&mut *c).await?;
        if declared {
            sqlx::query("INSERT INTO school_declarations (school_id, key, declared_at, declared_by) VALUES ($1, $2, $3, $4)")
                .bind(school_id).bind(key).bind(now).bind(&p.display_name).execute(&mut *c).await?;
        }
    });
    audit::record(
        tx,
        &Actor::from(p),
        now,
        Entry {
            action: if declared { "declare" } else { "undeclare" },
            object_type: "school",
            object_id: school_id,
            object_label: &school.name,
            changes: serde_json::json!({"declaration": key}),
        },
    )
    .await
}
