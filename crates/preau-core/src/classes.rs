//! Classes of a school for one school year: label, levels (a *cours double* is allowed),
//! head count, teacher, room.

use chrono::{DateTime, Utc};
use preau_domain::org::Levels;
use preau_domain::{FieldError, Principal, text};
use serde::{Deserialize, Serialize};

use crate::audit::{self, Actor, Entry};
use crate::db::{Db, Tx};
use crate::error::{AppError, AppResult, Errors, unique};
use crate::{schools, with_db, with_tx};

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Class {
    pub id: i64,
    pub school_id: i64,
    pub school_year_id: i64,
    pub label: String,
    pub levels: String,
    pub head_count: i64,
    pub teacher_name: Option<String>,
    pub room_id: Option<i64>,
    pub room_name: Option<String>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ClassInput {
    pub school_year_id: Option<i64>,
    pub label: String,
    pub levels: String,
    /// A number in JSON, the text of a field in a form.
    #[serde(default, deserialize_with = "preau_domain::text::number_or_text")]
    pub head_count: Option<String>,
    #[serde(default)]
    pub teacher_name: Option<String>,
    #[serde(default)]
    pub room_id: Option<i64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ValidClass {
    pub school_year_id: i64,
    pub label: String,
    pub levels: String,
    pub head_count: i64,
    pub teacher_name: Option<String>,
    pub room_id: Option<i64>,
}

impl ClassInput {
    pub fn parse(&self) -> Result<ValidClass, AppError> {
        let mut e = Errors::default();
        let year = self.school_year_id;
        if year.is_none() {
            e.push(FieldError::new("school_year_id", "required"));
        }
        let label = e.check(text::required("label", &self.label, 80));
        let levels = e.check(Levels::parse("levels", &self.levels));
        let head_count = e.check(match self.head_count.as_deref().map(str::trim) {
            None | Some("") => Ok(0),
            Some(s) => match s.parse::<i64>() {
                Ok(n) if (0..=60).contains(&n) => Ok(n),
                Ok(_) => Err(FieldError::new("head_count", "out_of_range")),
                Err(_) => Err(FieldError::new("head_count", "not_a_number")),
            },
        });
        let teacher_name = e.check(text::optional(
            "teacher_name",
            self.teacher_name.as_deref(),
            120,
        ));
        e.finish()?;
        match (year, label, levels, head_count, teacher_name) {
            (
                Some(school_year_id),
                Some(label),
                Some(levels),
                Some(head_count),
                Some(teacher_name),
            ) => Ok(ValidClass {
                school_year_id,
                label,
                levels: levels.code(),
                head_count,
                teacher_name,
                room_id: self.room_id,
            }),
            _ => Err(AppError::Invalid(vec![FieldError::new("class", "invalid")])),
        }
    }
}

impl Class {
    pub fn to_input(&self) -> ClassInput {
        ClassInput {
            school_year_id: Some(self.school_year_id),
            label: self.label.clone(),
            levels: self.levels.clone(),
            head_count: Some(self.head_count.to_string()),
            teacher_name: self.teacher_name.clone(),
            room_id: self.room_id,
        }
    }
}

const SELECT: &str = "SELECT c.id, c.school_id, c.school_year_id, c.label, c.levels, c.head_count, c.teacher_name, c.room_id, r.name AS room_name, c.version, c.created_at, c.updated_at FROM classes c JOIN schools s ON s.id = c.school_id LEFT JOIN rooms r ON r.id = c.room_id";

/// Hides the teacher's name from callers who may not see named people (the élu).
fn redact(p: &Principal, mut c: Class) -> Class {
    if !p.can_see_people(c.school_id) {
        c.teacher_name = None;
    }
    c
}

pub async fn list_for_school(
    db: &Db,
    p: &Principal,
    school_id: i64,
    school_year_id: Option<i64>,
) -> AppResult<Vec<Class>> {
    schools::get(db, p, school_id).await?;
    let sql = format!(
        "{SELECT} WHERE c.school_id = $1 AND ($2 = 0 OR c.school_year_id = $2) ORDER BY c.label, c.id"
    );
    let rows = with_db!(db, pool => {
        sqlx::query_as::<_, Class>(sqlx::AssertSqlSafe(sql)).bind(school_id).bind(school_year_id.unwrap_or(0)).fetch_all(pool).await?
    });
    Ok(rows.into_iter().map(|c| redact(p, c)).collect())
}

pub async fn list_for_room(db: &Db, p: &Principal, room_id: i64) -> AppResult<Vec<Class>> {
    let sql = format!(
        "{SELECT} WHERE c.room_id = $1 AND s.collectivite_id = $2 ORDER BY c.school_year_id DESC, c.label"
    );
    let rows = with_db!(db, pool => {
        sqlx::query_as::<_, Class>(sqlx::AssertSqlSafe(sql)).bind(room_id).bind(p.collectivite_id).fetch_all(pool).await?
    });
    Ok(rows
        .into_iter()
        .filter(|c| p.readable_schools().contains(c.school_id))
        .map(|c| redact(p, c))
        .collect())
}

pub async fn get(db: &Db, p: &Principal, id: i64) -> AppResult<Class> {
    let sql = format!("{SELECT} WHERE c.id = $1 AND s.collectivite_id = $2");
    let row = with_db!(db, pool => {
        sqlx::query_as::<_, Class>(sqlx::AssertSqlSafe(sql)).bind(id).bind(p.collectivite_id).fetch_optional(pool).await?
    });
    match row {
        Some(c) if p.readable_schools().contains(c.school_id) => Ok(redact(p, c)),
        _ => Err(AppError::NotFound),
    }
}

async fn get_in_tx(tx: &mut Tx, p: &Principal, id: i64) -> AppResult<Class> {
    let sql = format!("{SELECT} WHERE c.id = $1 AND s.collectivite_id = $2");
    let row = with_tx!(tx, c => {
        sqlx::query_as::<_, Class>(sqlx::AssertSqlSafe(sql)).bind(id).bind(p.collectivite_id).fetch_optional(&mut *c).await?
    });
    match row {
        Some(c) if p.readable_schools().contains(c.school_id) => Ok(c),
        _ => Err(AppError::NotFound),
    }
}

/// Checks that the year is the collectivité's and the room is the school's.
async fn check_refs(tx: &mut Tx, p: &Principal, school_id: i64, v: &ValidClass) -> AppResult<()> {
    let year_ok: i64 = with_tx!(tx, c => {
        sqlx::query_scalar("SELECT COUNT(*) FROM school_years WHERE id = $1 AND collectivite_id = $2").bind(v.school_year_id).bind(p.collectivite_id).fetch_one(&mut *c).await?
    });
    if year_ok == 0 {
        return Err(AppError::Invalid(vec![FieldError::new(
            "school_year_id",
            "not_in_collectivite",
        )]));
    }
    if let Some(room_id) = v.room_id {
        let room_ok: i64 = with_tx!(tx, c => {
            sqlx::query_scalar("SELECT COUNT(*) FROM rooms WHERE id = $1 AND school_id = $2").bind(room_id).bind(school_id).fetch_one(&mut *c).await?
        });
        if room_ok == 0 {
            return Err(AppError::Invalid(vec![FieldError::new(
                "room_id",
                "not_in_collectivite",
            )]));
        }
    }
    Ok(())
}

pub async fn create(
    tx: &mut Tx,
    p: &Principal,
    school_id: i64,
    v: &ValidClass,
    now: DateTime<Utc>,
) -> AppResult<Class> {
    if !p.readable_schools().contains(school_id) {
        return Err(AppError::NotFound);
    }
    let school = schools::get_in_tx(tx, p.collectivite_id, school_id).await?;
    if !p.can_edit_classes(school_id) {
        return Err(AppError::Forbidden);
    }
    check_refs(tx, p, school_id, v).await?;
    let id: i64 = with_tx!(tx, c => {
        sqlx::query_scalar("INSERT INTO classes (school_id, school_year_id, label, levels, head_count, teacher_name, room_id, version, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 1, $8, $8) RETURNING id")
            .bind(school_id)
            .bind(v.school_year_id)
            .bind(&v.label)
            .bind(&v.levels)
            .bind(v.head_count)
            .bind(&v.teacher_name)
            .bind(v.room_id)
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
            object_type: "class",
            object_id: id,
            object_label: &format!("{} — {}", v.label, school.name),
            changes: audit::created(v),
        },
    )
    .await?;
    get_in_tx(tx, p, id).await
}

pub async fn update(
    tx: &mut Tx,
    p: &Principal,
    id: i64,
    expected_version: i64,
    v: &ValidClass,
    now: DateTime<Utc>,
) -> AppResult<Class> {
    let before = get_in_tx(tx, p, id).await?;
    if !p.can_edit_classes(before.school_id) {
        return Err(AppError::Forbidden);
    }
    check_refs(tx, p, before.school_id, v).await?;
    let n = with_tx!(tx, c => {
        sqlx::query("UPDATE classes SET school_year_id = $1, label = $2, levels = $3, head_count = $4, teacher_name = $5, room_id = $6, version = version + 1, updated_at = $7 WHERE id = $8 AND version = $9")
            .bind(v.school_year_id)
            .bind(&v.label)
            .bind(&v.levels)
            .bind(v.head_count)
            .bind(&v.teacher_name)
            .bind(v.room_id)
            .bind(now)
            .bind(id)
            .bind(expected_version)
            .execute(&mut *c)
            .await
            .map_err(unique("label", "name_taken"))?
            .rows_affected()
    });
    crate::error::expect_one_row(n)?;
    let after = get_in_tx(tx, p, id).await?;
    let school = schools::get_in_tx(tx, p.collectivite_id, after.school_id).await?;
    audit::record(
        tx,
        &Actor::from(p),
        now,
        Entry {
            action: "update",
            object_type: "class",
            object_id: id,
            object_label: &format!("{} — {}", after.label, school.name),
            changes: audit::diff(&before, &after),
        },
    )
    .await?;
    Ok(after)
}

pub async fn delete(tx: &mut Tx, p: &Principal, id: i64, now: DateTime<Utc>) -> AppResult<()> {
    let before = get_in_tx(tx, p, id).await?;
    if !p.can_edit_classes(before.school_id) {
        return Err(AppError::Forbidden);
    }
    // Pupils and loans keep their class: a class with them is not deleted.
    let held: i64 = with_tx!(tx, c => {
        sqlx::query_scalar("SELECT (SELECT COUNT(*) FROM pupils WHERE class_id = $1) + (SELECT COUNT(*) FROM loans WHERE class_id = $1)").bind(id).fetch_one(&mut *c).await?
    });
    if held > 0 {
        return Err(AppError::Conflict(FieldError::new(
            "class",
            "class_has_pupils",
        )));
    }
    // Its visio series and sessions, its bookings: kept with their class.
    let used: i64 = with_tx!(tx, c => {
        sqlx::query_scalar("SELECT (SELECT COUNT(*) FROM visio_series WHERE class_id = $1) + (SELECT COUNT(*) FROM visio_sessions WHERE class_id = $1) + (SELECT COUNT(*) FROM bookings WHERE class_id = $1)").bind(id).fetch_one(&mut *c).await?
    });
    if used > 0 {
        return Err(AppError::Conflict(FieldError::new("class", "class_in_use")));
    }
    with_tx!(tx, c => {
        sqlx::query("DELETE FROM classes WHERE id = $1").bind(id).execute(&mut *c).await?;
    });
    let school = schools::get_in_tx(tx, p.collectivite_id, before.school_id).await?;
    audit::record(
        tx,
        &Actor::from(p),
        now,
        Entry {
            action: "delete",
            object_type: "class",
            object_id: id,
            object_label: &format!("{} — {}", before.label, school.name),
            changes: audit::deleted(&before),
        },
    )
    .await?;
    Ok(())
}
