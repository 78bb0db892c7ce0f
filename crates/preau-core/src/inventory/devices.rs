//! Devices: read within the caller's scope, listed with filters, created and changed by
//! hand, placed in a school and a room, merged when two records are one machine. Every
//! change writes the device's history (`device_events`) and, for people's changes, the
//! audit log.

use chrono::{DateTime, NaiveDate, Utc};
use preau_domain::device::{self, DeviceState};
use preau_domain::{FieldError, Principal, paris, text};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::categories;
use crate::audit::{self, Actor, Entry};
use crate::db::{Db, Param, Sql, Tx, more_than};
use crate::error::{AppError, AppResult, Errors, expect_one_row, unique};
use crate::schools::{Page, push_scope};
use crate::{bind_params, with_db, with_tx};

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Device {
    pub id: i64,
    pub category_id: i64,
    pub category: String,
    pub school_id: Option<i64>,
    pub school_name: Option<String>,
    pub school_uai: Option<String>,
    pub room_id: Option<i64>,
    pub room_name: Option<String>,
    pub parent_id: Option<i64>,
    pub name: Option<String>,
    pub state: String,
    pub state_since: NaiveDate,
    pub brand: Option<String>,
    pub model: Option<String>,
    pub serial: Option<String>,
    pub asset_tag: Option<String>,
    pub purchase_date: Option<NaiveDate>,
    pub price_cents: Option<i64>,
    pub supplier: Option<String>,
    pub order_ref: Option<String>,
    pub warranty_end: Option<NaiveDate>,
    pub funding: Option<String>,
    pub notes: Option<String>,
    pub wifi_switchable: Option<bool>,
    pub agent_device_id: Option<String>,
    pub system_uuid: Option<String>,
    pub os_name: Option<String>,
    pub os_version: Option<String>,
    pub cpu: Option<String>,
    pub memory_mb: Option<i64>,
    pub bios: Option<String>,
    pub ips: Option<String>,
    pub software_count: i64,
    pub last_inventory_at: Option<DateTime<Utc>>,
    pub inventory_source: Option<String>,
    pub agent_version: Option<String>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

pub(crate) const SELECT: &str = "SELECT d.id, d.category_id, k.code AS category, d.school_id, s.name AS school_name, s.uai AS school_uai, d.room_id, r.name AS room_name, d.parent_id, d.name, d.state, d.state_since, d.brand, d.model, d.serial, d.asset_tag, d.purchase_date, d.price_cents, d.supplier, d.order_ref, d.warranty_end, d.funding, d.notes, d.wifi_switchable, d.agent_device_id, d.system_uuid, d.os_name, d.os_version, d.cpu, d.memory_mb, d.bios, d.ips, d.software_count, d.last_inventory_at, d.inventory_source, d.agent_version, d.version, d.created_at, d.updated_at FROM devices d JOIN device_categories k ON k.id = d.category_id LEFT JOIN schools s ON s.id = d.school_id LEFT JOIN rooms r ON r.id = d.room_id";

impl Device {
    /// What a person would call it: its name, else brand and model, else its asset tag.
    pub fn label(&self) -> String {
        self.name
            .clone()
            .or_else(|| match (&self.brand, &self.model) {
                (Some(b), Some(m)) => Some(format!("{b} {m}")),
                (b, m) => b.clone().or(m.clone()),
            })
            .or_else(|| self.asset_tag.clone())
            .unwrap_or_else(|| format!("#{}", self.id))
    }

    /// Without the costs (price, supplier, order, funding) for those who may not see them.
    pub fn redacted_for(mut self, p: &Principal) -> Device {
        if !p.can_see_costs() {
            self.price_cents = None;
            self.supplier = None;
            self.order_ref = None;
            self.funding = None;
        }
        self
    }

    pub fn to_input(&self) -> DeviceInput {
        DeviceInput {
            category: self.category.clone(),
            school_id: self.school_id,
            room_id: self.room_id,
            parent_id: self.parent_id,
            name: self.name.clone(),
            state: Some(self.state.clone()),
            brand: self.brand.clone(),
            model: self.model.clone(),
            serial: self.serial.clone(),
            asset_tag: self.asset_tag.clone(),
            purchase_date: self.purchase_date.map(|d| d.to_string()),
            price: None,
            price_cents: self.price_cents,
            supplier: self.supplier.clone(),
            order_ref: self.order_ref.clone(),
            warranty_end: self.warranty_end.map(|d| d.to_string()),
            funding: self.funding.clone(),
            notes: self.notes.clone(),
            wifi_switchable: self.wifi_switchable,
        }
    }
}

/// A device as typed in a form or sent to the API. `price` is euros as typed ("399,90");
/// the API may send `price_cents` instead.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct DeviceInput {
    pub category: String,
    #[serde(default, deserialize_with = "text::opt_i64")]
    pub school_id: Option<i64>,
    #[serde(default, deserialize_with = "text::opt_i64")]
    pub room_id: Option<i64>,
    #[serde(default, deserialize_with = "text::opt_i64")]
    pub parent_id: Option<i64>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub brand: Option<String>,
    #[serde(default)]
    pub model: Option<String>,
    #[serde(default)]
    pub serial: Option<String>,
    #[serde(default)]
    pub asset_tag: Option<String>,
    #[serde(default)]
    pub purchase_date: Option<String>,
    #[serde(default)]
    pub price: Option<String>,
    #[serde(default)]
    pub price_cents: Option<i64>,
    #[serde(default)]
    pub supplier: Option<String>,
    #[serde(default)]
    pub order_ref: Option<String>,
    #[serde(default)]
    pub warranty_end: Option<String>,
    #[serde(default)]
    pub funding: Option<String>,
    #[serde(default)]
    pub notes: Option<String>,
    #[serde(default, deserialize_with = "text::opt_bool")]
    pub wifi_switchable: Option<bool>,
}

/// A device's fields, checked.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ValidDevice {
    pub category: String,
    pub school_id: Option<i64>,
    pub room_id: Option<i64>,
    pub parent_id: Option<i64>,
    pub name: Option<String>,
    pub state: DeviceState,
    pub brand: Option<String>,
    pub model: Option<String>,
    pub serial: Option<String>,
    pub asset_tag: Option<String>,
    pub purchase_date: Option<NaiveDate>,
    pub price_cents: Option<i64>,
    pub supplier: Option<String>,
    pub order_ref: Option<String>,
    pub warranty_end: Option<NaiveDate>,
    pub funding: Option<String>,
    pub notes: Option<String>,
    pub wifi_switchable: Option<bool>,
}

impl DeviceInput {
    /// Checks every field and reports all mistakes at once.
    pub fn parse(&self) -> AppResult<ValidDevice> {
        let mut e = Errors::default();
        let category = e.check(text::required("category", &self.category, 64));
        let opt = |e: &mut Errors, f: &str, v: &Option<String>, max| {
            e.check(text::optional(f, v.as_deref(), max)).flatten()
        };
        let name = opt(&mut e, "name", &self.name, 120);
        let brand = opt(&mut e, "brand", &self.brand, 80);
        let model = opt(&mut e, "model", &self.model, 120);
        let supplier = opt(&mut e, "supplier", &self.supplier, 120);
        let order_ref = opt(&mut e, "order_ref", &self.order_ref, 80);
        let funding = opt(&mut e, "funding", &self.funding, 200);
        let notes = opt(&mut e, "notes", &self.notes, 2000);
        let state = match self
            .state
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            Some(s) => e.check(DeviceState::parse("state", s)),
            None => Some(DeviceState::EnService),
        };
        let serial = e.check(device::identifier("serial", self.serial.as_deref()));
        let asset_tag = e.check(device::identifier("asset_tag", self.asset_tag.as_deref()));
        let purchase_date = e.check(device::date("purchase_date", self.purchase_date.as_deref()));
        let warranty_end = e.check(device::date("warranty_end", self.warranty_end.as_deref()));
        let price_cents = match self
            .price
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            Some(p) => e.check(device::euros_to_cents("price", Some(p))),
            None => match self.price_cents {
                Some(c) if !(0..=10_000_000_000).contains(&c) => {
                    e.push(FieldError::new("price_cents", "price_format"));
                    None
                }
                c => Some(c),
            },
        };
        if let (Some(Some(p)), Some(Some(w))) = (&purchase_date, &warranty_end)
            && w < p
        {
            e.push(FieldError::new("warranty_end", "before_purchase"));
        }
        if self.room_id.is_some() && self.school_id.is_none() {
            e.push(FieldError::new("room_id", "room_other_school"));
        }
        e.finish()?;
        let invalid = || AppError::Invalid(vec![FieldError::new("device", "invalid")]);
        Ok(ValidDevice {
            category: category.ok_or_else(invalid)?,
            school_id: self.school_id,
            room_id: self.room_id,
            parent_id: self.parent_id,
            name,
            state: state.ok_or_else(invalid)?,
            brand,
            model,
            serial: serial.ok_or_else(invalid)?,
            asset_tag: asset_tag.ok_or_else(invalid)?,
            purchase_date: purchase_date.ok_or_else(invalid)?,
            price_cents: price_cents.ok_or_else(invalid)?,
            supplier,
            order_ref,
            warranty_end: warranty_end.ok_or_else(invalid)?,
            funding,
            notes,
            wifi_switchable: self.wifi_switchable,
        })
    }
}

/// The text searched by the list's search box: name, brand, model, serial, asset tag.
pub(crate) fn search_key_of(
    name: Option<&str>,
    brand: Option<&str>,
    model: Option<&str>,
    serial: Option<&str>,
    asset_tag: Option<&str>,
) -> String {
    let parts: Vec<&str> = [name, brand, model, serial, asset_tag]
        .into_iter()
        .flatten()
        .collect();
    text::search_key(&parts.join(" "))
}

/// One entry of a device's history.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Event {
    pub id: i64,
    pub occurred_at: DateTime<Utc>,
    pub kind: String,
    pub actor: String,
    pub detail: String,
}

pub(crate) async fn record_event(
    tx: &mut Tx,
    device_id: i64,
    at: DateTime<Utc>,
    kind: &str,
    actor: &str,
    detail: Value,
) -> AppResult<()> {
    with_tx!(tx, c => {
        sqlx::query("INSERT INTO device_events (device_id, occurred_at, kind, actor, detail) VALUES ($1, $2, $3, $4, $5)")
            .bind(device_id).bind(at).bind(kind).bind(actor).bind(detail.to_string())
            .execute(&mut *c).await?;
    });
    Ok(())
}

/// Whether the caller may read a device placed in `school_id` (or not placed).
fn may_read(p: &Principal, school_id: Option<i64>) -> bool {
    match school_id {
        Some(id) => p.readable_schools().contains(id),
        None => p.can_read_unplaced(),
    }
}

async fn fetch_in_tx(tx: &mut Tx, collectivite_id: i64, id: i64) -> AppResult<Device> {
    let sql = format!("{SELECT} WHERE d.id = $1 AND d.collectivite_id = $2");
    let d = with_tx!(tx, c => {
        sqlx::query_as::<_, Device>(sqlx::AssertSqlSafe(sql)).bind(id).bind(collectivite_id).fetch_optional(&mut *c).await?
    });
    d.ok_or(AppError::NotFound)
}

/// A device the caller may read, inside a transaction (404 otherwise), costs included.
pub async fn get_in_tx(tx: &mut Tx, p: &Principal, id: i64) -> AppResult<Device> {
    let d = fetch_in_tx(tx, p.collectivite_id, id).await?;
    if !may_read(p, d.school_id) {
        return Err(AppError::NotFound);
    }
    Ok(d)
}

/// A device the caller may read (404 otherwise, like a missing id), costs redacted as
/// the caller's role requires.
pub async fn get(db: &Db, p: &Principal, id: i64, now: DateTime<Utc>) -> AppResult<Device> {
    let sql = format!("{SELECT} WHERE d.id = $1 AND d.collectivite_id = $2");
    let d = with_db!(db, pool => {
        sqlx::query_as::<_, Device>(sqlx::AssertSqlSafe(sql)).bind(id).bind(p.collectivite_id).fetch_optional(pool).await?
    })
    .ok_or(AppError::NotFound)?;
    if !may_read(p, d.school_id) && !in_perimeter(db, p, &d, paris::day(now)).await? {
        return Err(AppError::NotFound);
    }
    Ok(d.redacted_for(p))
}

/// Whether a contractor's staff sees this device: in the perimeter of one of its lots,
/// under a contract still running.
async fn in_perimeter(db: &Db, p: &Principal, d: &Device, today: NaiveDate) -> AppResult<bool> {
    let Some(school) = d.school_id.filter(|_| !p.lots.is_empty()) else {
        return Ok(false);
    };
    let mut sql = Sql::new(
        "SELECT COUNT(*) FROM lot_perimeters lp JOIN lots l ON l.id = lp.lot_id JOIN contracts c ON c.id = l.contract_id WHERE lp.school_id = ",
    );
    sql.bind(Param::I64(school))
        .push(" AND lp.category_id = ")
        .bind(Param::I64(d.category_id))
        .push(" AND c.ends_on >= ")
        .bind(Param::Date(today))
        .push(" AND lp.lot_id IN ")
        .bind_list(&p.lots);
    let n: i64 = with_db!(db, pool => {
        bind_params!(sqlx::query_scalar(sqlx::AssertSqlSafe(sql.text.clone())), &sql.params).fetch_one(pool).await?
    });
    Ok(n > 0)
}

/// The device's history, newest first.
pub async fn events(db: &Db, p: &Principal, id: i64, now: DateTime<Utc>) -> AppResult<Vec<Event>> {
    get(db, p, id, now).await?;
    Ok(with_db!(db, pool => {
        sqlx::query_as::<_, Event>("SELECT id, occurred_at, kind, actor, detail FROM device_events WHERE device_id = $1 ORDER BY occurred_at DESC, id DESC LIMIT 500")
            .bind(id).fetch_all(pool).await?
    }))
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct ComponentRow {
    pub kind: String,
    pub name: String,
    pub detail: String,
    pub serial: Option<String>,
}

pub async fn components(
    db: &Db,
    p: &Principal,
    id: i64,
    now: DateTime<Utc>,
) -> AppResult<Vec<ComponentRow>> {
    get(db, p, id, now).await?;
    Ok(with_db!(db, pool => {
        sqlx::query_as::<_, ComponentRow>("SELECT kind, name, detail, serial FROM device_components WHERE device_id = $1 ORDER BY kind, id")
            .bind(id).fetch_all(pool).await?
    }))
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct SoftwareRow {
    pub name: String,
    pub publisher: String,
    pub version: String,
}

/// The software installed on a device, by name.
pub async fn software(
    db: &Db,
    p: &Principal,
    id: i64,
    now: DateTime<Utc>,
) -> AppResult<Vec<SoftwareRow>> {
    get(db, p, id, now).await?;
    Ok(with_db!(db, pool => {
        sqlx::query_as::<_, SoftwareRow>("SELECT sw.name, sw.publisher, sw.version FROM devices d JOIN software_set_items i ON i.set_id = d.software_set_id JOIN software sw ON sw.id = i.software_id WHERE d.id = $1 ORDER BY sw.search_key, sw.version")
            .bind(id).fetch_all(pool).await?
    }))
}

/// The devices a container (a classe mobile) holds.
pub async fn contents(
    db: &Db,
    p: &Principal,
    id: i64,
    now: DateTime<Utc>,
) -> AppResult<Vec<Device>> {
    get(db, p, id, now).await?;
    let sql = format!(
        "{SELECT} WHERE d.parent_id = $1 AND d.collectivite_id = $2 ORDER BY d.asset_tag, d.name, d.id"
    );
    let list = with_db!(db, pool => {
        sqlx::query_as::<_, Device>(sqlx::AssertSqlSafe(sql)).bind(id).bind(p.collectivite_id).fetch_all(pool).await?
    });
    Ok(list.into_iter().map(|d| d.redacted_for(p)).collect())
}

/// The list filters (pages, API and exports share them).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct DeviceFilter {
    #[serde(default)]
    pub search: Option<String>,
    #[serde(default, deserialize_with = "text::opt_i64")]
    pub school_id: Option<i64>,
    #[serde(default, deserialize_with = "text::opt_i64")]
    pub room_id: Option<i64>,
    /// Only devices of the school not in a room (its stock).
    #[serde(default, deserialize_with = "text::opt_bool")]
    pub stock: Option<bool>,
    /// Only devices no school claims yet (the "à affecter" queue).
    #[serde(default, deserialize_with = "text::opt_bool")]
    pub unplaced: Option<bool>,
    #[serde(default)]
    pub category: Option<String>,
    #[serde(default)]
    pub state: Option<String>,
    /// Bought at least this many years ago.
    #[serde(default, deserialize_with = "text::opt_i64")]
    pub older_than_years: Option<i64>,
    /// Warranty ending within this many days (from today).
    #[serde(default, deserialize_with = "text::opt_i64")]
    pub warranty_within_days: Option<i64>,
    /// Inventoried by an agent, but not for this many days.
    #[serde(default, deserialize_with = "text::opt_i64")]
    pub not_seen_days: Option<i64>,
    /// The order: `place` (school, room, kind — the default), `name`, `category`,
    /// `state`, `purchase` (oldest first), `seen` (last inventory); `-` before it
    /// reverses it.
    #[serde(default)]
    pub sort: Option<String>,
}

/// The orders a device list comes in (see [`DeviceFilter::sort`]).
pub const DEVICE_SORTS: [&str; 6] = ["place", "name", "category", "state", "purchase", "seen"];

/// The `ORDER BY` of a list for `sort` (an unknown order is named).
fn order_by(sort: Option<&str>) -> AppResult<String> {
    let sort = sort
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .unwrap_or("place");
    let (desc, code) = match sort.strip_prefix('-') {
        Some(c) => (true, c),
        None => (false, sort),
    };
    let dir = if desc { " DESC" } else { "" };
    // Empty values last whichever the direction, the same on both databases.
    let key = |expr: &str| format!("CASE WHEN {expr} IS NULL THEN 1 ELSE 0 END, {expr}{dir}");
    Ok(match code {
        "place" => format!(
            " ORDER BY {}, {}, k.position, d.name, d.asset_tag, d.id",
            key("s.name"),
            key("r.name")
        ),
        "name" => format!(" ORDER BY {}, d.asset_tag, d.id", key("d.name")),
        "category" => format!(" ORDER BY k.position{dir}, d.name, d.id"),
        "state" => format!(" ORDER BY d.state{dir}, d.name, d.id"),
        "purchase" => format!(" ORDER BY {}, d.id", key("d.purchase_date")),
        "seen" => format!(" ORDER BY {}, d.id", key("d.last_inventory_at")),
        _ => return Err(FieldError::new("sort", "unknown_value").into()),
    })
}

impl DeviceFilter {
    fn to_sql(&self, p: &Principal, today: NaiveDate, now: DateTime<Utc>) -> AppResult<Sql> {
        let mut f = Sql::new(
            " FROM devices d JOIN device_categories k ON k.id = d.category_id LEFT JOIN schools s ON s.id = d.school_id LEFT JOIN rooms r ON r.id = d.room_id WHERE d.collectivite_id = ",
        );
        f.bind(Param::I64(p.collectivite_id));
        // Scope: the readable schools, plus the unplaced queue for those who sort it.
        let scope = p.readable_schools();
        match scope.ids() {
            None if p.can_read_unplaced() => {}
            None => {
                f.push(" AND d.school_id IS NOT NULL");
            }
            Some(_) => {
                f.push(" AND ((d.school_id IS NOT NULL");
                push_scope(&mut f, "d.school_id", &scope);
                f.push(")");
                if p.can_read_unplaced() {
                    f.push(" OR d.school_id IS NULL");
                }
                if !p.lots.is_empty() {
                    // A contractor's staff: the devices of its lots' perimeters, while
                    // the contract runs.
                    f.push(" OR EXISTS (SELECT 1 FROM lot_perimeters lp JOIN lots l ON l.id = lp.lot_id JOIN contracts c ON c.id = l.contract_id WHERE lp.school_id = d.school_id AND lp.category_id = d.category_id AND c.ends_on >= ")
                        .bind(Param::Date(today))
                        .push(" AND lp.lot_id IN ")
                        .bind_list(&p.lots)
                        .push(")");
                }
                f.push(")");
            }
        }
        if let Some(q) = self
            .search
            .as_deref()
            .map(text::search_key)
            .filter(|q| !q.is_empty())
        {
            f.push(" AND (d.search_key ")
                .bind_contains(&q)
                .push(" OR d.software_set_id IN (SELECT i.set_id FROM software_set_items i JOIN software sw ON sw.id = i.software_id WHERE sw.search_key ")
                .bind_contains(&q)
                .push("))");
        }
        if let Some(id) = self.school_id {
            f.push(" AND d.school_id = ").bind(Param::I64(id));
        }
        if let Some(id) = self.room_id {
            f.push(" AND d.room_id = ").bind(Param::I64(id));
        }
        if self.stock == Some(true) {
            f.push(" AND d.school_id IS NOT NULL AND d.room_id IS NULL");
        }
        if self.unplaced == Some(true) {
            f.push(" AND d.school_id IS NULL");
        }
        if let Some(c) = self.category.as_deref().filter(|c| !c.is_empty()) {
            f.push(" AND k.code = ").bind(Param::Text(c.to_string()));
        }
        if let Some(st) = self.state.as_deref().filter(|c| !c.is_empty()) {
            let st = DeviceState::parse("state", st)?;
            f.push(" AND d.state = ")
                .bind(Param::Text(st.code().into()));
        }
        if let Some(y) = self.older_than_years {
            let cutoff = today
                .checked_sub_months(chrono::Months::new(
                    u32::try_from(y.clamp(0, 100)).unwrap_or(0) * 12,
                ))
                .unwrap_or(today);
            f.push(" AND d.purchase_date <= ").bind(Param::Date(cutoff));
        }
        if let Some(days) = self.warranty_within_days {
            let end = today + chrono::Duration::days(days.clamp(0, 3650));
            f.push(" AND d.warranty_end >= ")
                .bind(Param::Date(today))
                .push(" AND d.warranty_end <= ")
                .bind(Param::Date(end));
        }
        if let Some(days) = self.not_seen_days {
            let cutoff = now - chrono::Duration::days(days.clamp(0, 3650));
            f.push(" AND d.last_inventory_at IS NOT NULL AND d.last_inventory_at < ")
                .bind(Param::Time(cutoff));
        }
        Ok(f)
    }
}

/// A page of the devices the caller may read that match `f`, by school, room, category.
pub async fn list(
    db: &Db,
    p: &Principal,
    f: &DeviceFilter,
    now: DateTime<Utc>,
    offset: i64,
    limit: i64,
) -> AppResult<Page<Device>> {
    let filter = f.to_sql(p, paris::day(now), now)?;
    let order = order_by(f.sort.as_deref())?;
    let count_sql = format!("SELECT COUNT(*){}", filter.text);
    let mut list = Sql {
        text: format!(
            "{}{}{order}",
            &SELECT[..SELECT.find(" FROM devices d").unwrap_or(SELECT.len())],
            filter.text
        ),
        params: filter.params.clone(),
    };
    list.limit_plus_one(limit)
        .push(" OFFSET ")
        .bind(Param::I64(offset.max(0)));
    let (total, mut items): (i64, Vec<Device>) = with_db!(db, pool => {
        let total = bind_params!(sqlx::query_scalar(sqlx::AssertSqlSafe(count_sql)), &filter.params)
            .fetch_one(pool).await?;
        let items = bind_params!(sqlx::query_as::<_, Device>(sqlx::AssertSqlSafe(list.text.clone())), &list.params)
            .fetch_all(pool).await?;
        (total, items)
    });
    let next_offset = more_than(&mut items, limit).then_some(offset + limit);
    Ok(Page {
        items: items.into_iter().map(|d| d.redacted_for(p)).collect(),
        next_offset,
        total,
    })
}

/// Checks that the school, room, category and container exist in the caller's
/// collectivité and fit together; returns the category id.
async fn check_refs(
    tx: &mut Tx,
    p: &Principal,
    v: &ValidDevice,
    self_id: Option<i64>,
) -> AppResult<i64> {
    let cid = p.collectivite_id;
    let category = categories::by_code_in_tx(tx, cid, &v.category)
        .await?
        .ok_or_else(|| AppError::Invalid(vec![FieldError::new("category", "unknown_value")]))?;
    if let Some(school) = v.school_id {
        let ok: Option<i64> = with_tx!(tx, c => {
            sqlx::query_scalar("SELECT id FROM schools WHERE id = $1 AND collectivite_id = $2").bind(school).bind(cid).fetch_optional(&mut *c).await?
        });
        if ok.is_none() {
            return Err(FieldError::new("school_id", "not_in_collectivite").into());
        }
    }
    if let Some(room) = v.room_id {
        let school: Option<i64> = with_tx!(tx, c => {
            sqlx::query_scalar("SELECT school_id FROM rooms WHERE id = $1").bind(room).fetch_optional(&mut *c).await?
        });
        if school.is_none() || school != v.school_id {
            return Err(FieldError::new("room_id", "room_other_school").into());
        }
    }
    if let Some(parent) = v.parent_id {
        if Some(parent) == self_id {
            return Err(FieldError::new("parent_id", "unknown_value").into());
        }
        let container: Option<bool> = with_tx!(tx, c => {
            sqlx::query_scalar("SELECT k.is_container FROM devices d JOIN device_categories k ON k.id = d.category_id WHERE d.id = $1 AND d.collectivite_id = $2")
                .bind(parent).bind(cid).fetch_optional(&mut *c).await?
        });
        if container != Some(true) {
            return Err(FieldError::new("parent_id", "not_a_container").into());
        }
    }
    Ok(category.id)
}

/// Adds a device by hand (administrator, or the technician of its school).
pub async fn create(
    tx: &mut Tx,
    p: &Principal,
    v: &ValidDevice,
    now: DateTime<Utc>,
) -> AppResult<Device> {
    if !p.can_edit_devices(v.school_id) {
        return Err(
            if v.school_id.is_none_or(|s| p.readable_schools().contains(s)) {
                AppError::Forbidden
            } else {
                AppError::NotFound
            },
        );
    }
    let category_id = check_refs(tx, p, v, None).await?;
    let today = paris::day(now);
    let key = search_key_of(
        v.name.as_deref(),
        v.brand.as_deref(),
        v.model.as_deref(),
        v.serial.as_deref(),
        v.asset_tag.as_deref(),
    );
    let id: i64 = with_tx!(tx, c => {
        sqlx::query_scalar("INSERT INTO devices (collectivite_id, category_id, school_id, room_id, parent_id, name, state, state_since, brand, model, serial, asset_tag, purchase_date, price_cents, supplier, order_ref, warranty_end, funding, notes, wifi_switchable, search_key, version, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, 1, $22, $22) RETURNING id")
            .bind(p.collectivite_id).bind(category_id).bind(v.school_id).bind(v.room_id).bind(v.parent_id)
            .bind(&v.name).bind(v.state.code()).bind(today).bind(&v.brand).bind(&v.model).bind(&v.serial)
            .bind(&v.asset_tag).bind(v.purchase_date).bind(v.price_cents).bind(&v.supplier).bind(&v.order_ref)
            .bind(v.warranty_end).bind(&v.funding).bind(&v.notes).bind(v.wifi_switchable).bind(&key).bind(now)
            .fetch_one(&mut *c).await.map_err(unique("asset_tag", "asset_tag_taken"))?
    });
    let d = fetch_in_tx(tx, p.collectivite_id, id).await?;
    record_event(
        tx,
        id,
        now,
        "created",
        &p.display_name,
        json!({"state": v.state.code(), "school": d.school_name, "room": d.room_name}),
    )
    .await?;
    audit::record(
        tx,
        &Actor::from(p),
        now,
        Entry {
            action: "create",
            object_type: "device",
            object_id: id,
            object_label: &d.label(),
            changes: audit::created(v),
        },
    )
    .await?;
    Ok(d)
}

/// Changes a device typed by hand or completed after an agent's inventory. A change of
/// state is dated; a change of school or room is recorded as a move.
pub async fn update(
    tx: &mut Tx,
    p: &Principal,
    id: i64,
    expected_version: i64,
    v: &ValidDevice,
    now: DateTime<Utc>,
) -> AppResult<Device> {
    let before = fetch_in_tx(tx, p.collectivite_id, id).await?;
    if !may_read(p, before.school_id) {
        return Err(AppError::NotFound);
    }
    if !p.can_edit_devices(before.school_id) || !p.can_edit_devices(v.school_id) {
        return Err(AppError::Forbidden);
    }
    let category_id = check_refs(tx, p, v, Some(id)).await?;
    // Costs a role may not see are kept as stored, not erased by a form that hid them.
    let costs = p.can_see_costs();
    let keep =
        |new: &Option<String>, old: &Option<String>| if costs { new.clone() } else { old.clone() };
    let price = if costs {
        v.price_cents
    } else {
        before.price_cents
    };
    let state_since = if before.state == v.state.code() {
        before.state_since
    } else {
        paris::day(now)
    };
    let key = search_key_of(
        v.name.as_deref(),
        v.brand.as_deref(),
        v.model.as_deref(),
        v.serial.as_deref(),
        v.asset_tag.as_deref(),
    );
    let n = with_tx!(tx, c => {
        sqlx::query("UPDATE devices SET category_id = $1, school_id = $2, room_id = $3, parent_id = $4, name = $5, state = $6, state_since = $7, brand = $8, model = $9, serial = $10, asset_tag = $11, purchase_date = $12, price_cents = $13, supplier = $14, order_ref = $15, warranty_end = $16, funding = $17, notes = $18, wifi_switchable = $19, search_key = $20, version = version + 1, updated_at = $21 WHERE id = $22 AND version = $23")
            .bind(category_id).bind(v.school_id).bind(v.room_id).bind(v.parent_id).bind(&v.name)
            .bind(v.state.code()).bind(state_since).bind(&v.brand).bind(&v.model).bind(&v.serial)
            .bind(&v.asset_tag).bind(v.purchase_date).bind(price).bind(keep(&v.supplier, &before.supplier))
            .bind(keep(&v.order_ref, &before.order_ref)).bind(v.warranty_end).bind(keep(&v.funding, &before.funding))
            .bind(&v.notes).bind(v.wifi_switchable).bind(&key).bind(now).bind(id).bind(expected_version)
            .execute(&mut *c).await.map_err(unique("asset_tag", "asset_tag_taken"))?.rows_affected()
    });
    expect_one_row(n)?;
    let after = fetch_in_tx(tx, p.collectivite_id, id).await?;
    write_change_events(tx, &before, &after, now, &p.display_name).await?;
    audit::record(
        tx,
        &Actor::from(p),
        now,
        Entry {
            action: "update",
            object_type: "device",
            object_id: id,
            object_label: &after.label(),
            changes: audit::diff(&before, &after),
        },
    )
    .await?;
    Ok(after)
}

/// The history entries a change of a device's record gives: state, move, other fields.
pub(crate) async fn write_change_events(
    tx: &mut Tx,
    before: &Device,
    after: &Device,
    at: DateTime<Utc>,
    actor: &str,
) -> AppResult<()> {
    if before.state != after.state {
        record_event(
            tx,
            after.id,
            at,
            "state",
            actor,
            json!({"from": before.state, "to": after.state}),
        )
        .await?;
    }
    if before.school_id != after.school_id || before.room_id != after.room_id {
        record_event(
            tx,
            after.id,
            at,
            "moved",
            actor,
            json!({"from": [before.school_name, before.room_name], "to": [after.school_name, after.room_name]}),
        )
        .await?;
    }
    let mut changes = audit::diff(before, after);
    if let Some(m) = changes.as_object_mut() {
        for k in [
            "state",
            "state_since",
            "school_id",
            "school_name",
            "school_uai",
            "room_id",
            "room_name",
            "version",
            "updated_at",
            "price_cents",
            "supplier",
            "order_ref",
            "funding",
        ] {
            m.remove(k);
        }
        if !m.is_empty() {
            record_event(tx, after.id, at, "updated", actor, changes).await?;
        }
    }
    Ok(())
}

/// Places devices from the "à affecter" queue (or anywhere) in a school and optionally a
/// room, in one go.
pub async fn place(
    tx: &mut Tx,
    p: &Principal,
    ids: &[i64],
    school_id: i64,
    room_id: Option<i64>,
    now: DateTime<Utc>,
) -> AppResult<usize> {
    if !p.can_edit_devices(Some(school_id)) {
        return Err(AppError::Forbidden);
    }
    let mut placed = 0;
    for id in ids {
        let before = fetch_in_tx(tx, p.collectivite_id, *id).await?;
        if !may_read(p, before.school_id) {
            return Err(AppError::NotFound);
        }
        if !p.can_edit_devices(before.school_id) {
            return Err(AppError::Forbidden);
        }
        let mut input = before.to_input();
        input.school_id = Some(school_id);
        input.room_id = room_id;
        input.parent_id = None;
        let mut v = input.parse()?;
        v.price_cents = before.price_cents;
        update(tx, p, *id, before.version, &v, now).await?;
        placed += 1;
    }
    Ok(placed)
}

/// Suspected duplicates: devices sharing a (real) serial number, or an agent's name and
/// model, in the caller's scope.
#[derive(Debug, Clone, Serialize)]
pub struct DuplicateGroup {
    pub reason: &'static str,
    pub value: String,
    pub devices: Vec<Device>,
}

pub async fn duplicates(db: &Db, p: &Principal) -> AppResult<Vec<DuplicateGroup>> {
    if !p.can_edit_devices(None) && !p.is_admin() {
        return Err(AppError::Forbidden);
    }
    let serials: Vec<String> = with_db!(db, pool => {
        sqlx::query_scalar("SELECT serial FROM devices WHERE collectivite_id = $1 AND serial IS NOT NULL GROUP BY serial HAVING COUNT(*) > 1 ORDER BY serial LIMIT 200")
            .bind(p.collectivite_id).fetch_all(pool).await?
    });
    let names: Vec<String> = with_db!(db, pool => {
        sqlx::query_scalar("SELECT LOWER(name) FROM devices WHERE collectivite_id = $1 AND name IS NOT NULL AND agent_device_id IS NOT NULL GROUP BY LOWER(name), COALESCE(model, '') HAVING COUNT(*) > 1 ORDER BY LOWER(name) LIMIT 200")
            .bind(p.collectivite_id).fetch_all(pool).await?
    });
    let mut groups = Vec::new();
    for (reason, values, cond) in [
        ("serial", serials, "d.serial = $2"),
        (
            "name",
            names,
            "LOWER(d.name) = $2 AND d.agent_device_id IS NOT NULL",
        ),
    ] {
        for value in values {
            let sql = format!("{SELECT} WHERE d.collectivite_id = $1 AND {cond} ORDER BY d.id");
            let devices: Vec<Device> = with_db!(db, pool => {
                sqlx::query_as::<_, Device>(sqlx::AssertSqlSafe(sql)).bind(p.collectivite_id).bind(&value).fetch_all(pool).await?
            });
            let devices: Vec<Device> = devices
                .into_iter()
                .filter(|d| may_read(p, d.school_id))
                .map(|d| d.redacted_for(p))
                .collect();
            if devices.len() > 1
                && !groups.iter().any(|g: &DuplicateGroup| {
                    g.devices
                        .iter()
                        .map(|d| d.id)
                        .eq(devices.iter().map(|d| d.id))
                })
            {
                groups.push(DuplicateGroup {
                    reason,
                    value,
                    devices,
                });
            }
        }
    }
    Ok(groups)
}

/// Merges `other` into `keep`: the kept record takes what it lacks from the other (serial,
/// asset tag, purchase, agent link and inventory), the other's history moves over, and the
/// other record is deleted. Both must be editable by the caller.
pub async fn merge(
    tx: &mut Tx,
    p: &Principal,
    keep: i64,
    other: i64,
    now: DateTime<Utc>,
) -> AppResult<Device> {
    if keep == other {
        return Err(FieldError::new("other", "unknown_value").into());
    }
    let a = fetch_in_tx(tx, p.collectivite_id, keep).await?;
    let b = fetch_in_tx(tx, p.collectivite_id, other).await?;
    for d in [&a, &b] {
        if !may_read(p, d.school_id) {
            return Err(AppError::NotFound);
        }
        if !p.can_edit_devices(d.school_id) {
            return Err(AppError::Forbidden);
        }
    }
    with_tx!(tx, c => {
        // Unique columns first leave the other record, then the kept one takes them.
        sqlx::query("UPDATE devices SET asset_tag = NULL, agent_device_id = NULL WHERE id = $1").bind(other).execute(&mut *c).await?;
        sqlx::query("UPDATE devices SET serial = COALESCE(serial, $1), asset_tag = COALESCE(asset_tag, $2), purchase_date = COALESCE(purchase_date, $3), price_cents = COALESCE(price_cents, $4), supplier = COALESCE(supplier, $5), order_ref = COALESCE(order_ref, $6), warranty_end = COALESCE(warranty_end, $7), funding = COALESCE(funding, $8), brand = COALESCE(brand, $9), model = COALESCE(model, $10), school_id = COALESCE(school_id, $11), room_id = CASE WHEN school_id IS NULL THEN $12 ELSE room_id END, version = version + 1, updated_at = $13 WHERE id = $14")
            .bind(&b.serial).bind(&b.asset_tag).bind(b.purchase_date).bind(b.price_cents).bind(&b.supplier).bind(&b.order_ref)
            .bind(b.warranty_end).bind(&b.funding).bind(&b.brand).bind(&b.model).bind(b.school_id).bind(b.room_id).bind(now).bind(keep)
            .execute(&mut *c).await?;
        if a.agent_device_id.is_none() && b.agent_device_id.is_some() {
            sqlx::query("UPDATE devices SET agent_device_id = $1, system_uuid = COALESCE(system_uuid, $2), os_name = $3, os_version = $4, cpu = $5, memory_mb = $6, bios = $7, ips = $8, software_set_id = (SELECT software_set_id FROM devices WHERE id = $9), software_count = $10, last_inventory_at = $11, inventory_source = $12, agent_version = $13, fingerprints = (SELECT fingerprints FROM devices WHERE id = $9) WHERE id = $14")
                .bind(&b.agent_device_id).bind(&b.system_uuid).bind(&b.os_name).bind(&b.os_version).bind(&b.cpu).bind(b.memory_mb)
                .bind(&b.bios).bind(&b.ips).bind(other).bind(b.software_count).bind(b.last_inventory_at).bind(&b.inventory_source)
                .bind(&b.agent_version).bind(keep)
                .execute(&mut *c).await?;
            sqlx::query("DELETE FROM device_components WHERE device_id = $1").bind(keep).execute(&mut *c).await?;
            sqlx::query("UPDATE device_components SET device_id = $1 WHERE device_id = $2").bind(keep).bind(other).execute(&mut *c).await?;
        }
        sqlx::query("UPDATE devices SET parent_id = $1 WHERE parent_id = $2").bind(keep).bind(other).execute(&mut *c).await?;
        sqlx::query("UPDATE device_events SET device_id = $1 WHERE device_id = $2").bind(keep).bind(other).execute(&mut *c).await?;
        sqlx::query("UPDATE loans SET device_id = $1 WHERE device_id = $2").bind(keep).bind(other).execute(&mut *c).await.map_err(crate::error::unique("device", "device_on_loan"))?;
        sqlx::query("DELETE FROM device_components WHERE device_id = $1").bind(other).execute(&mut *c).await?;
        sqlx::query("DELETE FROM devices WHERE id = $1").bind(other).execute(&mut *c).await?;
    });
    let after = fetch_in_tx(tx, p.collectivite_id, keep).await?;
    record_event(
        tx,
        keep,
        now,
        "merged",
        &p.display_name,
        json!({"merged": b.label(), "merged_id": other}),
    )
    .await?;
    audit::record(
        tx,
        &Actor::from(p),
        now,
        Entry {
            action: "merge",
            object_type: "device",
            object_id: keep,
            object_label: &after.label(),
            changes: json!({"merged_device": [other, null], "merged_label": [b.label(), null]}),
        },
    )
    .await?;
    Ok(after)
}

/// Counts per category for a school's rooms (the room page) or a whole school.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct CategoryCount {
    pub category: String,
    pub count: i64,
}

/// Devices of one room (the room page), in service or not, without those out of the fleet.
pub async fn in_room(db: &Db, p: &Principal, room_id: i64) -> AppResult<Vec<Device>> {
    let room = crate::rooms::get(db, p, room_id).await?;
    let sql = format!(
        "{SELECT} WHERE d.room_id = $1 AND d.collectivite_id = $2 AND d.state NOT IN ('perdu', 'vole', 'reforme') ORDER BY k.position, d.name, d.asset_tag, d.id"
    );
    let list = with_db!(db, pool => {
        sqlx::query_as::<_, Device>(sqlx::AssertSqlSafe(sql)).bind(room.id).bind(p.collectivite_id).fetch_all(pool).await?
    });
    Ok(list.into_iter().map(|d| d.redacted_for(p)).collect())
}

/// The most devices one bulk edit changes.
pub const BULK_MAX: usize = 500;

/// What a bulk edit changes on every device chosen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BulkChange {
    /// A state (`reforme` retires them).
    State(DeviceState),
    /// Into a school's stock: out of their room.
    School(i64),
    /// Into a room, and its school.
    Room(i64),
    Category(String),
}

/// Why a device refuses the change.
#[derive(Debug, Clone, PartialEq)]
pub enum BulkRefusal {
    NotFound,
    Forbidden,
    Invalid(Vec<FieldError>),
}

/// One device of a bulk edit: what it was, what it becomes, or why not.
#[derive(Debug, Clone)]
pub struct BulkLine {
    pub id: i64,
    pub before: Option<Device>,
    pub after: Option<Device>,
    pub refused: Option<BulkRefusal>,
}

/// Applies `change` to each device through the device form's own path (its checks, its
/// history entries, one audit entry per device), all in one transaction. With `apply`
/// false, or when any device refuses, the transaction is rolled back: the lines are the
/// preview of what would change, and nothing is written.
pub async fn bulk(
    db: &Db,
    p: &Principal,
    ids: &[i64],
    change: &BulkChange,
    apply: bool,
    now: DateTime<Utc>,
) -> AppResult<Vec<BulkLine>> {
    if !(p.is_admin() || p.has(preau_domain::Role::Technicien)) {
        return Err(AppError::Forbidden);
    }
    let mut ids: Vec<i64> = ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() {
        return Err(FieldError::new("device", "required").into());
    }
    if ids.len() > BULK_MAX {
        return Err(FieldError::new("device", "too_many").into());
    }
    let mut tx = db.begin().await?;
    let mut lines = Vec::with_capacity(ids.len());
    for id in ids {
        with_tx!(&mut tx, c => { sqlx::query("SAVEPOINT bulk_device").execute(&mut *c).await?; });
        let before = fetch_in_tx(&mut tx, p.collectivite_id, id).await.ok();
        let result = bulk_one(&mut tx, p, id, change, now).await;
        let refused = match result {
            Ok(after) => {
                with_tx!(&mut tx, c => { sqlx::query("RELEASE SAVEPOINT bulk_device").execute(&mut *c).await?; });
                lines.push(BulkLine {
                    id,
                    before: before.map(|d| d.redacted_for(p)),
                    after: Some(after.redacted_for(p)),
                    refused: None,
                });
                continue;
            }
            Err(AppError::NotFound) => BulkRefusal::NotFound,
            Err(AppError::Forbidden) => BulkRefusal::Forbidden,
            Err(AppError::Invalid(errs)) => BulkRefusal::Invalid(errs),
            Err(AppError::Conflict(e)) => BulkRefusal::Invalid(vec![e]),
            Err(other) => return Err(other),
        };
        with_tx!(&mut tx, c => { sqlx::query("ROLLBACK TO SAVEPOINT bulk_device").execute(&mut *c).await?; });
        // A device outside the caller's scope is not described.
        let shown = !matches!(refused, BulkRefusal::NotFound);
        lines.push(BulkLine {
            id,
            before: before.filter(|_| shown).map(|d| d.redacted_for(p)),
            after: None,
            refused: Some(refused),
        });
    }
    if apply && lines.iter().all(|l| l.refused.is_none()) {
        tx.commit().await?;
    }
    Ok(lines)
}

async fn bulk_one(
    tx: &mut Tx,
    p: &Principal,
    id: i64,
    change: &BulkChange,
    now: DateTime<Utc>,
) -> AppResult<Device> {
    let d = fetch_in_tx(tx, p.collectivite_id, id).await?;
    if !may_read(p, d.school_id) {
        return Err(AppError::NotFound);
    }
    let mut input = d.to_input();
    match change {
        BulkChange::State(s) => input.state = Some(s.code().to_string()),
        BulkChange::School(school) => {
            input.school_id = Some(*school);
            input.room_id = None;
        }
        BulkChange::Room(room) => {
            let school: Option<i64> = with_tx!(tx, c => {
                sqlx::query_scalar("SELECT r.school_id FROM rooms r JOIN schools s ON s.id = r.school_id WHERE r.id = $1 AND s.collectivite_id = $2")
                    .bind(*room).bind(p.collectivite_id).fetch_optional(&mut *c).await?
            });
            let school = school
                .ok_or_else(|| AppError::from(FieldError::new("room_id", "unknown_value")))?;
            input.school_id = Some(school);
            input.room_id = Some(*room);
        }
        BulkChange::Category(code) => input.category = code.clone(),
    }
    let valid = input.parse()?;
    update(tx, p, id, d.version, &valid, now).await
}
