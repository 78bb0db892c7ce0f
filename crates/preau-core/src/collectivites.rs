//! Collectivités: the tenants. Every other object hangs from one of them.

use chrono::{DateTime, Utc};
use preau_domain::FieldError;
use preau_domain::org::CollectiviteKind;
use preau_domain::{Principal, text};
use serde::{Deserialize, Serialize};

use crate::audit::{self, Actor, Entry};
use crate::db::{Db, Tx};
use crate::error::{AppError, AppResult, Errors, expect_one_row, unique};
use crate::{with_db, with_tx};

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Collectivite {
    pub id: i64,
    pub kind: String,
    pub name: String,
    pub insee_code: Option<String>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
}

/// What an administrator may change on their collectivité.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct CollectiviteInput {
    pub kind: String,
    pub name: String,
    #[serde(default)]
    pub insee_code: Option<String>,
}

impl Collectivite {
    pub fn to_input(&self) -> CollectiviteInput {
        CollectiviteInput {
            kind: self.kind.clone(),
            name: self.name.clone(),
            insee_code: self.insee_code.clone(),
        }
    }
}

/// An INSEE commune code: 5 characters, digits, or 2A/2B then digits for Corsica.
fn check_insee(field: &str, v: Option<String>) -> Result<Option<String>, FieldError> {
    match v {
        None => Ok(None),
        Some(code) => {
            let code = code.to_uppercase();
            let b = code.as_bytes();
            let ok = b.len() == 5
                && (b[..2].iter().all(u8::is_ascii_digit)
                    || &code[..2] == "2A"
                    || &code[..2] == "2B")
                && b[2..].iter().all(u8::is_ascii_digit);
            if ok {
                Ok(Some(code))
            } else {
                Err(FieldError::new(field, "insee_format"))
            }
        }
    }
}

/// Renames the caller's collectivité or corrects its kind or INSEE code (administrators).
pub async fn update(
    tx: &mut Tx,
    p: &Principal,
    expected_version: i64,
    input: &CollectiviteInput,
    now: DateTime<Utc>,
) -> AppResult<Collectivite> {
    if !p.can_manage_collectivite() {
        return Err(AppError::Forbidden);
    }
    let mut e = Errors::default();
    let kind = e.check(CollectiviteKind::parse("kind", &input.kind));
    let name = e.check(text::required("name", &input.name, 200));
    let insee = e
        .check(text::optional("insee_code", input.insee_code.as_deref(), 5))
        .and_then(|v| e.check(check_insee("insee_code", v)));
    e.finish()?;
    let (Some(kind), Some(name), Some(insee)) = (kind, name, insee) else {
        return Err(AppError::Invalid(vec![FieldError::new(
            "collectivite",
            "invalid",
        )]));
    };
    let before = get_in_tx(tx, p.collectivite_id).await?;
    let n = with_tx!(tx, c => {
        sqlx::query("UPDATE collectivites SET kind = $1, name = $2, insee_code = $3, version = version + 1 WHERE id = $4 AND version = $5")
            .bind(kind.code()).bind(&name).bind(&insee).bind(p.collectivite_id).bind(expected_version)
            .execute(&mut *c).await.map_err(unique("name", "name_taken"))?.rows_affected()
    });
    expect_one_row(n)?;
    let after = get_in_tx(tx, p.collectivite_id).await?;
    audit::record(
        tx,
        &Actor::from(p),
        now,
        Entry {
            action: "update",
            object_type: "collectivite",
            object_id: after.id,
            object_label: &after.name,
            changes: audit::diff(&before, &after),
        },
    )
    .await?;
    Ok(after)
}

async fn get_in_tx(tx: &mut Tx, id: i64) -> AppResult<Collectivite> {
    Ok(with_tx!(tx, c => {
        sqlx::query_as::<_, Collectivite>("SELECT id, kind, name, insee_code, version, created_at FROM collectivites WHERE id = $1")
            .bind(id).fetch_one(&mut *c).await?
    }))
}

/// The caller's own collectivité; no caller ever sees another.
pub async fn get(db: &Db, p: &Principal, id: i64) -> AppResult<Collectivite> {
    if id != p.collectivite_id {
        return Err(AppError::NotFound);
    }
    let row = with_db!(db, pool => {
        sqlx::query_as::<_, Collectivite>("SELECT id, kind, name, insee_code, version, created_at FROM collectivites WHERE id = $1")
            .bind(id)
            .fetch_optional(pool)
            .await?
    });
    row.ok_or(AppError::NotFound)
}

pub async fn find_by_name(db: &Db, name: &str) -> AppResult<Option<Collectivite>> {
    Ok(with_db!(db, pool => {
        sqlx::query_as::<_, Collectivite>("SELECT id, kind, name, insee_code, version, created_at FROM collectivites WHERE name = $1")
            .bind(name)
            .fetch_optional(pool)
            .await?
    }))
}

pub async fn list_all(db: &Db) -> AppResult<Vec<Collectivite>> {
    Ok(with_db!(db, pool => {
        sqlx::query_as::<_, Collectivite>("SELECT id, kind, name, insee_code, version, created_at FROM collectivites ORDER BY id")
            .fetch_all(pool)
            .await?
    }))
}

/// Creates a collectivité: done from the command line when a deployment takes a new tenant.
pub async fn create(
    tx: &mut Tx,
    kind: CollectiviteKind,
    name: &str,
    insee_code: Option<&str>,
    now: DateTime<Utc>,
) -> AppResult<i64> {
    let name = text::required("name", name, 200)?;
    let insee = text::optional("insee_code", insee_code, 5)?;
    let id: i64 = with_tx!(tx, c => {
        sqlx::query_scalar("INSERT INTO collectivites (kind, name, insee_code, created_at) VALUES ($1, $2, $3, $4) RETURNING id")
            .bind(kind.code())
            .bind(&name)
            .bind(&insee)
            .bind(now)
            .fetch_one(&mut *c)
            .await
            .map_err(unique("name", "name_taken"))?
    });
    crate::inventory::categories::ensure_builtin(tx, id).await?;
    Ok(id)
}
