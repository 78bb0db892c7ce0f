//! School years (`2026-2027`): classes belong to one; the rollover creates the next.

use chrono::{DateTime, NaiveDate, Utc};
use preau_domain::{FieldError, Principal, text};
use serde::{Deserialize, Serialize};

use crate::audit::{self, Actor, Entry};
use crate::db::{Db, Tx};
use crate::error::{AppError, AppResult, Errors, unique};
use crate::{with_db, with_tx};

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct SchoolYear {
    pub id: i64,
    pub collectivite_id: i64,
    pub label: String,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct SchoolYearInput {
    pub label: String,
    pub starts_on: String,
    pub ends_on: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ValidSchoolYear {
    pub label: String,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
}

fn date(field: &str, s: &str) -> Result<NaiveDate, FieldError> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .map_err(|_| FieldError::new(field, "not_a_date"))
}

impl SchoolYearInput {
    pub fn parse(&self) -> Result<ValidSchoolYear, AppError> {
        let mut e = Errors::default();
        let label = e.check(text::required("label", &self.label, 20));
        let starts_on = e.check(date("starts_on", &self.starts_on));
        let ends_on = e.check(date("ends_on", &self.ends_on));
        if let (Some(s), Some(en)) = (starts_on, ends_on)
            && en <= s
        {
            e.push(FieldError::new("ends_on", "dates_order"));
        }
        e.finish()?;
        match (label, starts_on, ends_on) {
            (Some(label), Some(starts_on), Some(ends_on)) => Ok(ValidSchoolYear {
                label,
                starts_on,
                ends_on,
            }),
            _ => Err(AppError::Invalid(vec![FieldError::new(
                "school_year",
                "invalid",
            )])),
        }
    }
}

const SELECT: &str =
    "SELECT id, collectivite_id, label, starts_on, ends_on, created_at FROM school_years";

/// Newest first.
pub async fn list(db: &Db, p: &Principal) -> AppResult<Vec<SchoolYear>> {
    let sql = format!("{SELECT} WHERE collectivite_id = $1 ORDER BY starts_on DESC");
    Ok(with_db!(db, pool => {
        sqlx::query_as::<_, SchoolYear>(sqlx::AssertSqlSafe(sql)).bind(p.collectivite_id).fetch_all(pool).await?
    }))
}

pub async fn get(db: &Db, p: &Principal, id: i64) -> AppResult<SchoolYear> {
    let sql = format!("{SELECT} WHERE id = $1 AND collectivite_id = $2");
    let y = with_db!(db, pool => {
        sqlx::query_as::<_, SchoolYear>(sqlx::AssertSqlSafe(sql)).bind(id).bind(p.collectivite_id).fetch_optional(pool).await?
    });
    y.ok_or(AppError::NotFound)
}

/// The year that contains `today`, else the latest one that started before it, else the
/// first one to come.
pub async fn current(db: &Db, p: &Principal, today: NaiveDate) -> AppResult<Option<SchoolYear>> {
    let years = list(db, p).await?;
    Ok(years
        .iter()
        .find(|y| y.starts_on <= today && today <= y.ends_on)
        .or_else(|| years.iter().find(|y| y.starts_on <= today))
        .or_else(|| years.last())
        .cloned())
}

pub async fn create(
    tx: &mut Tx,
    p: &Principal,
    v: &ValidSchoolYear,
    now: DateTime<Utc>,
) -> AppResult<SchoolYear> {
    if !p.can_manage_collectivite() {
        return Err(AppError::Forbidden);
    }
    let id: i64 = with_tx!(tx, c => {
        sqlx::query_scalar("INSERT INTO school_years (collectivite_id, label, starts_on, ends_on, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id")
            .bind(p.collectivite_id)
            .bind(&v.label)
            .bind(v.starts_on)
            .bind(v.ends_on)
            .bind(now)
            .fetch_one(&mut *c)
            .await
            .map_err(unique("label", "name_taken"))?
    });
    audit::record(
        tx,
        &Actor::from(p),
        now,
        Entry {
            action: "create",
            object_type: "school_year",
            object_id: id,
            object_label: &v.label,
            changes: audit::created(v),
        },
    )
    .await?;
    let sql = format!("{SELECT} WHERE id = $1");
    Ok(with_tx!(tx, c => {
        sqlx::query_as::<_, SchoolYear>(sqlx::AssertSqlSafe(sql)).bind(id).fetch_one(&mut *c).await?
    }))
}
