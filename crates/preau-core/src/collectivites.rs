//! Collectivités: the tenants. Every other object hangs from one of them.

use chrono::{DateTime, Utc};
use preau_domain::org::CollectiviteKind;
use preau_domain::{Principal, text};
use serde::Serialize;

use crate::db::{Db, Tx};
use crate::error::{AppError, AppResult, unique};
use crate::{with_db, with_tx};

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Collectivite {
    pub id: i64,
    pub kind: String,
    pub name: String,
    pub insee_code: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// The caller's own collectivité; no caller ever sees another.
pub async fn get(db: &Db, p: &Principal, id: i64) -> AppResult<Collectivite> {
    if id != p.collectivite_id {
        return Err(AppError::NotFound);
    }
    let row = with_db!(db, pool => {
        sqlx::query_as::<_, Collectivite>("SELECT id, kind, name, insee_code, created_at FROM collectivites WHERE id = $1")
            .bind(id)
            .fetch_optional(pool)
            .await?
    });
    row.ok_or(AppError::NotFound)
}

pub async fn find_by_name(db: &Db, name: &str) -> AppResult<Option<Collectivite>> {
    Ok(with_db!(db, pool => {
        sqlx::query_as::<_, Collectivite>("SELECT id, kind, name, insee_code, created_at FROM collectivites WHERE name = $1")
            .bind(name)
            .fetch_optional(pool)
            .await?
    }))
}

pub async fn list_all(db: &Db) -> AppResult<Vec<Collectivite>> {
    Ok(with_db!(db, pool => {
        sqlx::query_as::<_, Collectivite>("SELECT id, kind, name, insee_code, created_at FROM collectivites ORDER BY id")
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
) -> AppResult<i64> {
    let name = text::required("name", name, 200)?;
    let insee = text::optional("insee_code", insee_code, 5)?;
    let id: i64 = with_tx!(tx, c => {
        sqlx::query_scalar("INSERT INTO collectivites (kind, name, insee_code, created_at) VALUES ($1, $2, $3, $4) RETURNING id")
            .bind(kind.code())
            .bind(&name)
            .bind(&insee)
            .bind(Utc::now())
            .fetch_one(&mut *c)
            .await
            .map_err(unique("name", "name_taken"))?
    });
    Ok(id)
}
