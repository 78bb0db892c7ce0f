//! Schools: the sites a collectivité equips. A school is identified by its UAI.

use chrono::{DateTime, Utc};
use preau_domain::org::{HolidayZone, SchoolKind, SchoolStatus, SchoolWeek};
use preau_domain::{FieldError, Principal, SchoolScope, Uai, text};
use serde::{Deserialize, Serialize};

use crate::audit::{self, Actor, Entry};
use crate::db::{Db, Param, Sql, Tx, more_than};
use crate::error::{AppError, AppResult, Errors, unique};
use crate::{bind_params, with_db, with_tx};

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct School {
    pub id: i64,
    pub collectivite_id: i64,
    pub uai: String,
    pub name: String,
    pub kind: String,
    pub address: Option<String>,
    pub postal_code: Option<String>,
    pub city: Option<String>,
    pub holiday_zone: String,
    pub status: String,
    /// `4` or `4.5`: the school week its SLA clocks follow.
    pub week: String,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A school row in a list, with its counts.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct SchoolListItem {
    pub id: i64,
    pub uai: String,
    pub name: String,
    pub kind: String,
    pub city: Option<String>,
    pub holiday_zone: String,
    pub status: String,
    pub room_count: i64,
}

/// Raw input from a form, the API or an import; `SchoolInput::parse` checks every field.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SchoolInput {
    pub uai: String,
    pub name: String,
    pub kind: String,
    #[serde(default)]
    pub address: Option<String>,
    #[serde(default)]
    pub postal_code: Option<String>,
    #[serde(default)]
    pub city: Option<String>,
    #[serde(default)]
    pub holiday_zone: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    /// `4` or `4.5`; left out, a new school gets the 4-day week and an existing one
    /// keeps its own.
    #[serde(default)]
    pub week: Option<String>,
}

/// A checked school, ready to store.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ValidSchool {
    pub uai: Uai,
    pub name: String,
    pub kind: SchoolKind,
    pub address: Option<String>,
    pub postal_code: Option<String>,
    pub city: Option<String>,
    pub holiday_zone: HolidayZone,
    pub status: SchoolStatus,
    pub week: Option<SchoolWeek>,
}

impl SchoolInput {
    pub fn parse(&self) -> Result<ValidSchool, AppError> {
        let mut e = Errors::default();
        let uai = e.check(Uai::parse(&self.uai));
        let name = e.check(text::required("name", &self.name, 200));
        let kind = e.check(SchoolKind::parse("kind", &self.kind));
        let address = e.check(text::optional("address", self.address.as_deref(), 300));
        let postal_code = e.check(text::optional(
            "postal_code",
            self.postal_code.as_deref(),
            10,
        ));
        let city = e.check(text::optional("city", self.city.as_deref(), 120));
        let zone = e.check(HolidayZone::parse(
            "holiday_zone",
            self.holiday_zone.as_deref().unwrap_or("C"),
        ));
        let status = e.check(SchoolStatus::parse(
            "status",
            self.status.as_deref().unwrap_or("active"),
        ));
        let week = match self
            .week
            .as_deref()
            .map(str::trim)
            .filter(|w| !w.is_empty())
        {
            None => Some(None),
            Some(w) => e.check(SchoolWeek::parse("week", w).map(Some)),
        };
        e.finish()?;
        match (
            uai,
            name,
            kind,
            address,
            postal_code,
            city,
            zone,
            status,
            week,
        ) {
            (
                Some(uai),
                Some(name),
                Some(kind),
                Some(address),
                Some(postal_code),
                Some(city),
                Some(holiday_zone),
                Some(status),
                Some(week),
            ) => Ok(ValidSchool {
                uai,
                name,
                kind,
                address,
                postal_code,
                city,
                holiday_zone,
                status,
                week,
            }),
            _ => Err(AppError::Invalid(vec![FieldError::new(
                "school", "invalid",
            )])),
        }
    }
}

const COLUMNS: &str = "id, collectivite_id, uai, name, kind, address, postal_code, city, holiday_zone, status, week, version, created_at, updated_at";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SchoolSort {
    #[default]
    Name,
    Uai,
    Kind,
    City,
}

impl SchoolSort {
    pub fn parse(s: &str) -> Option<SchoolSort> {
        match s {
            "name" => Some(SchoolSort::Name),
            "uai" => Some(SchoolSort::Uai),
            "kind" => Some(SchoolSort::Kind),
            "city" => Some(SchoolSort::City),
            _ => None,
        }
    }
    pub fn code(self) -> &'static str {
        match self {
            SchoolSort::Name => "name",
            SchoolSort::Uai => "uai",
            SchoolSort::Kind => "kind",
            SchoolSort::City => "city",
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct SchoolFilter {
    pub q: Option<String>,
    pub uai: Option<String>,
    pub kind: Option<SchoolKind>,
    pub status: Option<SchoolStatus>,
    pub sort: SchoolSort,
    pub descending: bool,
}

/// A page of a list: the items, the offset of the next page if there is one, the total.
#[derive(Debug, Clone, Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_offset: Option<i64>,
    pub total: i64,
}

/// Appends the caller's school scope as ` AND <col> IN (…)` when it is not "all".
pub(crate) fn push_scope(sql: &mut Sql, column: &'static str, scope: &SchoolScope) {
    if let Some(ids) = scope.ids() {
        sql.push(" AND ").push(column).push(" IN ");
        sql.bind_list(&ids);
    }
}

pub async fn list(
    db: &Db,
    p: &Principal,
    f: &SchoolFilter,
    offset: i64,
    limit: i64,
) -> AppResult<Page<SchoolListItem>> {
    let mut filter = Sql::new(" FROM schools s WHERE s.collectivite_id = ");
    filter.bind(Param::I64(p.collectivite_id));
    push_scope(&mut filter, "s.id", &p.directory_schools());
    if let Some(q) =
        f.q.as_deref()
            .map(text::search_key)
            .filter(|q| !q.is_empty())
    {
        filter
            .push(" AND (s.search_key ")
            .bind_contains(&q)
            .push(" OR LOWER(s.uai) ")
            .bind_contains(&q)
            .push(")");
    }
    if let Some(u) = &f.uai {
        filter
            .push(" AND s.uai = ")
            .bind(Param::Text(u.trim().to_ascii_uppercase()));
    }
    if let Some(k) = f.kind {
        filter
            .push(" AND s.kind = ")
            .bind(Param::Text(k.code().into()));
    }
    if let Some(st) = f.status {
        filter
            .push(" AND s.status = ")
            .bind(Param::Text(st.code().into()));
    }
    let order = match (f.sort, f.descending) {
        (SchoolSort::Name, false) => " ORDER BY s.search_key, s.id",
        (SchoolSort::Name, true) => " ORDER BY s.search_key DESC, s.id DESC",
        (SchoolSort::Uai, false) => " ORDER BY s.uai, s.id",
        (SchoolSort::Uai, true) => " ORDER BY s.uai DESC, s.id DESC",
        (SchoolSort::Kind, false) => " ORDER BY s.kind, s.search_key, s.id",
        (SchoolSort::Kind, true) => " ORDER BY s.kind DESC, s.search_key, s.id",
        (SchoolSort::City, false) => " ORDER BY s.city, s.search_key, s.id",
        (SchoolSort::City, true) => " ORDER BY s.city DESC, s.search_key, s.id",
    };
    let count_sql = format!("SELECT COUNT(*){}", filter.text);
    let mut list = Sql {
        text: format!(
            "SELECT s.id, s.uai, s.name, s.kind, s.city, s.holiday_zone, s.status, (SELECT COUNT(*) FROM rooms r WHERE r.school_id = s.id) AS room_count{}{}",
            filter.text, order
        ),
        params: filter.params.clone(),
    };
    list.limit_plus_one(limit)
        .push(" OFFSET ")
        .bind(Param::I64(offset.max(0)));
    let (total, mut items): (i64, Vec<SchoolListItem>) = with_db!(db, pool => {
        let total = bind_params!(sqlx::query_scalar(sqlx::AssertSqlSafe(count_sql)), &filter.params)
            .fetch_one(pool)
            .await?;
        let items = bind_params!(sqlx::query_as(sqlx::AssertSqlSafe(list.text.clone())), &list.params)
            .fetch_all(pool)
            .await?;
        (total, items)
    });
    let next_offset = more_than(&mut items, limit).then_some(offset + limit);
    Ok(Page {
        items,
        next_offset,
        total,
    })
}

/// Every school of the collectivité the caller may read, by name (for menus and exports).
pub async fn all_readable(db: &Db, p: &Principal) -> AppResult<Vec<School>> {
    all_in(db, p, &p.readable_schools()).await
}

async fn all_in(db: &Db, p: &Principal, scope: &SchoolScope) -> AppResult<Vec<School>> {
    let mut sql = Sql::new("SELECT ");
    sql.text.push_str(COLUMNS);
    sql.push(" FROM schools WHERE collectivite_id = ")
        .bind(Param::I64(p.collectivite_id));
    push_scope(&mut sql, "id", scope);
    sql.push(" ORDER BY search_key, id");
    Ok(with_db!(db, pool => {
        bind_params!(sqlx::query_as::<_, School>(sqlx::AssertSqlSafe(sql.text.clone())), &sql.params)
            .fetch_all(pool)
            .await?
    }))
}

/// One school, if the caller may read it; `NotFound` otherwise (never another tenant's).
pub async fn get(db: &Db, p: &Principal, id: i64) -> AppResult<School> {
    if !p.readable_schools().contains(id) {
        return Err(AppError::NotFound);
    }
    fetch(db, p.collectivite_id, id).await
}

async fn fetch(db: &Db, collectivite_id: i64, id: i64) -> AppResult<School> {
    let sql = format!("SELECT {COLUMNS} FROM schools WHERE id = $1 AND collectivite_id = $2");
    let row = with_db!(db, pool => {
        sqlx::query_as::<_, School>(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .bind(collectivite_id)
            .fetch_optional(pool)
            .await?
    });
    row.ok_or(AppError::NotFound)
}

/// One school to look up (its name, address, access, rooms): those the caller reads, and
/// a contractor's perimeter. What is inside (classes, people, pupils) still asks [`get`].
pub async fn look_up(db: &Db, p: &Principal, id: i64) -> AppResult<School> {
    if !p.directory_schools().contains(id) {
        return Err(AppError::NotFound);
    }
    fetch(db, p.collectivite_id, id).await
}

/// The schools the caller may look up, by name (a contractor's perimeter included).
pub async fn directory(db: &Db, p: &Principal) -> AppResult<Vec<School>> {
    all_in(db, p, &p.directory_schools()).await
}

pub(crate) async fn get_in_tx(tx: &mut Tx, collectivite_id: i64, id: i64) -> AppResult<School> {
    let sql = format!("SELECT {COLUMNS} FROM schools WHERE id = $1 AND collectivite_id = $2");
    let row = with_tx!(tx, c => {
        sqlx::query_as::<_, School>(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .bind(collectivite_id)
            .fetch_optional(&mut *c)
            .await?
    });
    row.ok_or(AppError::NotFound)
}

pub(crate) async fn find_by_uai_in_tx(
    tx: &mut Tx,
    collectivite_id: i64,
    uai: &Uai,
) -> AppResult<Option<School>> {
    let sql = format!("SELECT {COLUMNS} FROM schools WHERE uai = $1 AND collectivite_id = $2");
    Ok(with_tx!(tx, c => {
        sqlx::query_as::<_, School>(sqlx::AssertSqlSafe(sql))
            .bind(uai.as_str())
            .bind(collectivite_id)
            .fetch_optional(&mut *c)
            .await?
    }))
}

pub async fn find_by_uai(db: &Db, p: &Principal, uai: &Uai) -> AppResult<School> {
    let sql = format!("SELECT {COLUMNS} FROM schools WHERE uai = $1 AND collectivite_id = $2");
    let row = with_db!(db, pool => {
        sqlx::query_as::<_, School>(sqlx::AssertSqlSafe(sql))
            .bind(uai.as_str())
            .bind(p.collectivite_id)
            .fetch_optional(pool)
            .await?
    });
    match row {
        Some(s) if p.readable_schools().contains(s.id) => Ok(s),
        _ => Err(AppError::NotFound),
    }
}

/// Creates a school (administrator only).
pub async fn create(
    tx: &mut Tx,
    p: &Principal,
    v: &ValidSchool,
    now: DateTime<Utc>,
) -> AppResult<School> {
    if !p.can_manage_collectivite() {
        return Err(AppError::Forbidden);
    }
    let id: i64 = with_tx!(tx, c => {
        sqlx::query_scalar("INSERT INTO schools (collectivite_id, uai, name, kind, address, postal_code, city, holiday_zone, status, search_key, week, version, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $12, 1, $11, $11) RETURNING id")
            .bind(p.collectivite_id)
            .bind(v.uai.as_str())
            .bind(&v.name)
            .bind(v.kind.code())
            .bind(&v.address)
            .bind(&v.postal_code)
            .bind(&v.city)
            .bind(v.holiday_zone.code())
            .bind(v.status.code())
            .bind(text::search_key(&v.name))
            .bind(now)
            .bind(v.week.unwrap_or(SchoolWeek::Quatre).code())
            .fetch_one(&mut *c)
            .await
            .map_err(unique("uai", "uai_taken"))?
    });
    let school = get_in_tx(tx, p.collectivite_id, id).await?;
    audit::record(
        tx,
        &Actor::from(p),
        now,
        Entry {
            action: "create",
            object_type: "school",
            object_id: id,
            object_label: &format!("{} ({})", v.name, v.uai),
            changes: audit::created(v),
        },
    )
    .await?;
    Ok(school)
}

/// Updates a school if `expected_version` is still the stored one; a stale version is a
/// conflict, so that two administrators never overwrite each other silently.
pub async fn update(
    tx: &mut Tx,
    p: &Principal,
    id: i64,
    expected_version: i64,
    v: &ValidSchool,
    now: DateTime<Utc>,
) -> AppResult<School> {
    if !p.readable_schools().contains(id) {
        return Err(AppError::NotFound);
    }
    let before = get_in_tx(tx, p.collectivite_id, id).await?;
    if !p.can_manage_collectivite() {
        return Err(AppError::Forbidden);
    }
    if before.version != expected_version {
        return Err(AppError::Conflict(FieldError::new(
            "version",
            "version_conflict",
        )));
    }
    let n = with_tx!(tx, c => {
        sqlx::query("UPDATE schools SET uai = $1, name = $2, kind = $3, address = $4, postal_code = $5, city = $6, holiday_zone = $7, status = $8, search_key = $9, week = COALESCE($13, week), version = version + 1, updated_at = $10 WHERE id = $11 AND version = $12")
            .bind(v.uai.as_str())
            .bind(&v.name)
            .bind(v.kind.code())
            .bind(&v.address)
            .bind(&v.postal_code)
            .bind(&v.city)
            .bind(v.holiday_zone.code())
            .bind(v.status.code())
            .bind(text::search_key(&v.name))
            .bind(now)
            .bind(id)
            .bind(expected_version)
            .bind(v.week.map(|w| w.code()))
            .execute(&mut *c)
            .await
            .map_err(unique("uai", "uai_taken"))?
            .rows_affected()
    });
    crate::error::expect_one_row(n)?;
    let after = get_in_tx(tx, p.collectivite_id, id).await?;
    let changes = audit::diff(&before, &after);
    if changes.as_object().is_some_and(|m| !m.is_empty()) {
        audit::record(
            tx,
            &Actor::from(p),
            now,
            Entry {
                action: "update",
                object_type: "school",
                object_id: id,
                object_label: &format!("{} ({})", after.name, after.uai),
                changes,
            },
        )
        .await?;
    }
    Ok(after)
}

impl School {
    /// The stored school as input, so that a partial change can be applied over it.
    pub fn to_input(&self) -> SchoolInput {
        SchoolInput {
            uai: self.uai.clone(),
            name: self.name.clone(),
            kind: self.kind.clone(),
            address: self.address.clone(),
            postal_code: self.postal_code.clone(),
            city: self.city.clone(),
            holiday_zone: Some(self.holiday_zone.clone()),
            status: Some(self.status.clone()),
            week: Some(self.week.clone()),
        }
    }
}

/// Counts for the home pages and the élu's aggregates.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Counts {
    pub schools: i64,
    pub rooms: i64,
    pub classes: i64,
    pub pupils: i64,
}

pub async fn counts(db: &Db, p: &Principal, school_year_id: Option<i64>) -> AppResult<Counts> {
    let scope = p.readable_schools();
    let mut s = Sql::new(
        "SELECT COUNT(*) FROM schools s WHERE s.status = 'active' AND s.collectivite_id = ",
    );
    s.bind(Param::I64(p.collectivite_id));
    push_scope(&mut s, "s.id", &scope);
    let mut r = Sql::new(
        "SELECT COUNT(*) FROM rooms r JOIN schools s ON s.id = r.school_id WHERE s.collectivite_id = ",
    );
    r.bind(Param::I64(p.collectivite_id));
    push_scope(&mut r, "s.id", &scope);
    let mut c = Sql::new(
        "SELECT COUNT(*), CAST(COALESCE(SUM(c.head_count), 0) AS BIGINT) FROM classes c JOIN schools s ON s.id = c.school_id WHERE s.collectivite_id = ",
    );
    c.bind(Param::I64(p.collectivite_id));
    push_scope(&mut c, "s.id", &scope);
    c.push(" AND c.school_year_id = ")
        .bind(Param::I64(school_year_id.unwrap_or(-1)));
    let counts = with_db!(db, pool => {
        let schools: i64 = bind_params!(sqlx::query_scalar(sqlx::AssertSqlSafe(s.text.clone())), &s.params).fetch_one(pool).await?;
        let rooms: i64 = bind_params!(sqlx::query_scalar(sqlx::AssertSqlSafe(r.text.clone())), &r.params).fetch_one(pool).await?;
        let (classes, pupils): (i64, i64) = bind_params!(sqlx::query_as(sqlx::AssertSqlSafe(c.text.clone())), &c.params).fetch_one(pool).await?;
        Counts { schools, rooms, classes, pupils }
    });
    Ok(counts)
}

/// The school's address ranges (one CIDR per line), which place agents' devices that
/// carry no TAG.
pub async fn ip_ranges(db: &Db, p: &Principal, id: i64) -> AppResult<String> {
    get(db, p, id).await?;
    let v: Option<String> = with_db!(db, pool => {
        sqlx::query_scalar("SELECT ip_ranges FROM schools WHERE id = $1").bind(id).fetch_one(pool).await?
    });
    Ok(v.unwrap_or_default().replace(' ', "\n"))
}

/// Sets the school's address ranges (administrator, or its technician); each is checked.
pub async fn set_ip_ranges(
    tx: &mut Tx,
    p: &Principal,
    id: i64,
    text: &str,
    now: DateTime<Utc>,
) -> AppResult<String> {
    let school = get_in_tx(tx, p.collectivite_id, id).await?;
    if !p.readable_schools().contains(id) {
        return Err(AppError::NotFound);
    }
    if !p.can_edit_rooms(id) {
        return Err(AppError::Forbidden);
    }
    let ranges = preau_domain::device::ip_ranges("ip_ranges", Some(text))?;
    let stored = ranges
        .iter()
        .map(|r| r.to_string())
        .collect::<Vec<_>>()
        .join(" ");
    replace_text(tx, p, &school, Column::IpRanges, Some(&stored), now).await?;
    Ok(stored)
}

/// A school's text column that a small form of its page replaces.
#[derive(Clone, Copy)]
enum Column {
    IpRanges,
    AccessNotes,
}

impl Column {
    fn name(self) -> &'static str {
        match self {
            Column::IpRanges => "ip_ranges",
            Column::AccessNotes => "access_notes",
        }
    }
}

/// Replaces one of the school's text columns and records the change.
async fn replace_text(
    tx: &mut Tx,
    p: &Principal,
    school: &School,
    column: Column,
    value: Option<&str>,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let name = column.name();
    let read = format!("SELECT {name} FROM schools WHERE id = $1");
    let write = format!("UPDATE schools SET {name} = $1 WHERE id = $2");
    let before: Option<String> = with_tx!(tx, c => {
        sqlx::query_scalar(sqlx::AssertSqlSafe(read)).bind(school.id).fetch_one(&mut *c).await?
    });
    with_tx!(tx, c => {
        sqlx::query(sqlx::AssertSqlSafe(write)).bind(value).bind(school.id).execute(&mut *c).await?;
    });
    audit::record(
        tx,
        &Actor::from(p),
        now,
        Entry {
            action: "update",
            object_type: "school",
            object_id: school.id,
            object_label: &school.name,
            changes: serde_json::json!({ name: [before, value] }),
        },
    )
    .await
}

/// Longest access instructions kept.
const ACCESS_MAX: usize = 1000;

/// How to get into the school (gate, code, who opens, parking), for whoever comes to work
/// there.
pub async fn access_notes(db: &Db, p: &Principal, id: i64) -> AppResult<String> {
    look_up(db, p, id).await?;
    let v: Option<String> = with_db!(db, pool => {
        sqlx::query_scalar("SELECT access_notes FROM schools WHERE id = $1").bind(id).fetch_one(pool).await?
    });
    Ok(v.unwrap_or_default())
}

/// Who writes the access instructions: the administrator, the school's head or technician.
pub fn can_write_access(p: &Principal, id: i64) -> bool {
    p.can_edit_rooms(id) || p.can_edit_classes(id)
}

pub async fn set_access_notes(
    tx: &mut Tx,
    p: &Principal,
    id: i64,
    text: &str,
    now: DateTime<Utc>,
) -> AppResult<String> {
    if !p.readable_schools().contains(id) {
        return Err(AppError::NotFound);
    }
    if !can_write_access(p, id) {
        return Err(AppError::Forbidden);
    }
    let school = get_in_tx(tx, p.collectivite_id, id).await?;
    let stored = text::optional("access_notes", Some(text), ACCESS_MAX)?;
    replace_text(tx, p, &school, Column::AccessNotes, stored.as_deref(), now).await?;
    Ok(stored.unwrap_or_default())
}
