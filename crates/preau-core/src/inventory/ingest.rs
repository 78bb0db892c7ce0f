//! An agent's inventory, reconciled with what is stored.
//!
//! The device is found by system UUID, then serial number + model, then the agent's own
//! device id — never by a MAC address alone. It is placed in the school whose UAI is the
//! agent's TAG, else whose address ranges hold its IP address, else it waits in the
//! "à affecter" queue. Each section (identity, OS, each component kind, software,
//! addresses) carries a fingerprint: an unchanged section costs nothing, a changed one is
//! replaced and its differences written to the device's history. A partial inventory
//! (GLPI Agent) replaces only the sections it carries.

use chrono::{DateTime, Utc};
use preau_domain::device::{DeviceState, Ipv4Range};
use preau_domain::{Uai, text};
use preau_inventory::{Component, Inventory, ItemType, Software};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::categories;
use super::devices::{record_event, search_key_of};
use crate::db::{Db, Param, Tx, insert_rows};
use crate::error::{AppError, AppResult};
use crate::{with_db, with_tx, write_tx};

/// What came of an inventory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub device_id: i64,
    pub created: bool,
    /// The sections that changed (all of them for a new device).
    pub changed: Vec<String>,
    /// The UAI the agent's TAG should be set to (the device was placed in a school whose
    /// UAI the agent does not carry yet).
    pub set_tag: Option<String>,
}

#[derive(sqlx::FromRow)]
struct Stored {
    id: i64,
    school_id: Option<i64>,
    agent_device_id: Option<String>,
    system_uuid: Option<String>,
    serial: Option<String>,
    model: Option<String>,
    name: Option<String>,
    brand: Option<String>,
    os_name: Option<String>,
    os_version: Option<String>,
    cpu: Option<String>,
    memory_mb: Option<i64>,
    bios: Option<String>,
    ips: Option<String>,
    asset_tag: Option<String>,
    software_set_id: Option<i64>,
    fingerprints: Option<String>,
}

/// What [`ingest`] did with an inventory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ingested {
    Stored(Outcome),
    /// The software list came raw and neither the device nor any software set has
    /// exactly that text: it must be parsed, then the inventory ingested again. Nothing
    /// was written.
    SoftwareListNeeded,
}

/// Why an agent's inventory was not stored.
#[derive(Debug)]
pub enum StoreError {
    /// The inventory cannot be used as sent (a malformed software list): the agent is
    /// told so.
    Invalid(preau_inventory::InventoryError),
    /// The database did not take it: the agent keeps it and comes back later.
    Database(AppError),
}

/// One agent inventory, the whole use case: the software list is parsed only when it is
/// not already known by its raw text, the CPU work is done before the write transaction,
/// and an inventory whose raw list turned out unknown inside the transaction is parsed
/// and stored again. Answers once the inventory is committed.
pub async fn store(
    db: &Db,
    collectivite_id: i64,
    source: &str,
    mut inv: Inventory,
    now: DateTime<Utc>,
) -> Result<Outcome, StoreError> {
    if inv.software_deferred() {
        let hash = inv
            .software_raw
            .as_ref()
            .map(|r| r.hash.clone())
            .unwrap_or_default();
        // A failed look-up only costs a parse.
        let known = software_known(db, collectivite_id, &inv.device_id, &hash)
            .await
            .unwrap_or(false);
        if !known {
            inv.resolve_software().map_err(StoreError::Invalid)?;
        }
    }
    for _ in 0..2 {
        let prepared = prepare(&inv);
        let done = write_tx!(db, tx => ingest(tx, collectivite_id, source, &prepared, now).await?)
            .map_err(StoreError::Database)?;
        match done {
            Ingested::Stored(outcome) => return Ok(outcome),
            Ingested::SoftwareListNeeded => {}
        }
        drop(prepared);
        inv.resolve_software().map_err(StoreError::Invalid)?;
    }
    // A parsed list is never deferred, so the second pass always stores.
    Err(StoreError::Database(AppError::Other(anyhow::anyhow!(
        "software list still unknown once parsed"
    ))))
}

/// A network discovery's devices (printers, switches… seen by SNMP), in one transaction.
pub async fn store_network(
    db: &Db,
    collectivite_id: i64,
    source: &str,
    list: &[Inventory],
    now: DateTime<Utc>,
) -> AppResult<()> {
    let prepared: Vec<Prepared<'_>> = list.iter().map(prepare).collect();
    write_tx!(db, tx => {
        for p in &prepared {
            // Discovered devices carry their lists parsed: nothing is ever deferred.
            ingest(tx, collectivite_id, source, p, now).await?;
        }
    })
}

/// Whether a raw software list is already known — as the agent's device's current list,
/// or as the list a set was built from — so that the caller can skip parsing it.
pub async fn software_known(
    db: &Db,
    collectivite_id: i64,
    agent_device_id: &str,
    raw_hash: &str,
) -> AppResult<bool> {
    let prints: Option<Option<String>> = with_db!(db, pool => {
        sqlx::query_scalar("SELECT fingerprints FROM devices WHERE collectivite_id = $1 AND agent_device_id = $2")
            .bind(collectivite_id).bind(agent_device_id).fetch_optional(pool).await?
    });
    let current = prints
        .flatten()
        .and_then(|f| serde_json::from_str::<BTreeMap<String, String>>(&f).ok())
        .and_then(|mut f| f.remove("software_raw"));
    if current.as_deref() == Some(raw_hash) {
        return Ok(true);
    }
    let set: Option<i64> = with_db!(db, pool => {
        sqlx::query_scalar("SELECT id FROM software_sets WHERE raw_hash = $1 LIMIT 1")
            .bind(raw_hash).fetch_optional(pool).await?
    });
    Ok(set.is_some())
}

const MATCH: &str = "SELECT id, school_id, agent_device_id, system_uuid, serial, model, name, brand, os_name, os_version, cpu, memory_mb, bios, ips, asset_tag, software_set_id, fingerprints FROM devices";

/// The category an agent's inventory suggests.
fn category_code(inv: &Inventory) -> &'static str {
    let chassis = inv
        .identity
        .chassis
        .as_deref()
        .unwrap_or("")
        .to_ascii_lowercase();
    let model = inv
        .identity
        .model
        .as_deref()
        .unwrap_or("")
        .to_ascii_lowercase();
    match inv.item_type {
        ItemType::Printer => "imprimante",
        ItemType::NetworkEquipment => "switch",
        ItemType::Unmanaged => "autre",
        ItemType::Phone if model.contains("ipad") || model.contains("tab") => "tablette",
        ItemType::Phone => "telephone",
        _ if chassis.contains("tablet") || model.contains("ipad") => "tablette",
        _ if [
            "laptop",
            "notebook",
            "portable",
            "convertible",
            "detachable",
        ]
        .iter()
        .any(|c| chassis.contains(c)) =>
        {
            "portable"
        }
        _ => "pc_fixe",
    }
}

/// The school the inventory says it belongs to: its TAG as a UAI, else its addresses.
async fn placement(
    tx: &mut Tx,
    collectivite_id: i64,
    inv: &Inventory,
) -> AppResult<Option<(i64, String)>> {
    if let Some(uai) = inv.tag.as_deref().and_then(|t| Uai::parse(t).ok()) {
        let found: Option<i64> = with_tx!(tx, c => {
            sqlx::query_scalar("SELECT id FROM schools WHERE collectivite_id = $1 AND uai = $2")
                .bind(collectivite_id).bind(uai.as_str()).fetch_optional(&mut *c).await?
        });
        if let Some(id) = found {
            return Ok(Some((id, uai.as_str().to_string())));
        }
    }
    let Some(ips) = inv.ips.as_ref().filter(|i| !i.is_empty()) else {
        return Ok(None);
    };
    let ranges: Vec<(i64, String, String)> = with_tx!(tx, c => {
        sqlx::query_as("SELECT id, uai, ip_ranges FROM schools WHERE collectivite_id = $1 AND ip_ranges IS NOT NULL AND ip_ranges <> '' ORDER BY id")
            .bind(collectivite_id).fetch_all(&mut *c).await?
    });
    for (id, uai, text) in ranges {
        let hit = text
            .split_whitespace()
            .filter_map(Ipv4Range::parse)
            .any(|r| ips.iter().any(|ip| r.contains(ip)));
        if hit {
            return Ok(Some((id, uai)));
        }
    }
    Ok(None)
}

/// A software list by catalogue key, and the hash naming the set.
struct SetKeys<'a> {
    hash: String,
    by_key: BTreeMap<String, &'a Software>,
}

fn set_keys(list: &[Software]) -> Option<SetKeys<'_>> {
    if list.is_empty() {
        return None;
    }
    let by_key: BTreeMap<String, &Software> = list.iter().map(|s| (s.key(), s)).collect();
    let mut h = Sha256::new();
    for k in by_key.keys() {
        h.update(k.as_bytes());
        h.update(b"\n");
    }
    let hash = h.finalize()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    Some(SetKeys { hash, by_key })
}

/// An inventory with the CPU work done before its transaction (section fingerprints, the
/// software set's keys), so that the write lock is held only for the database's part.
pub struct Prepared<'a> {
    pub inv: &'a Inventory,
    prints: BTreeMap<String, String>,
    set: Option<SetKeys<'a>>,
}

pub fn prepare(inv: &Inventory) -> Prepared<'_> {
    Prepared {
        inv,
        prints: inv.fingerprints(),
        set: inv.software.as_deref().and_then(set_keys),
    }
}

/// The id of the software set holding exactly the listed software, created (with any
/// software the catalogue lacks) if no device had it yet.
async fn software_set(
    tx: &mut Tx,
    keys: Option<&SetKeys<'_>>,
    raw_hash: Option<&str>,
) -> AppResult<Option<i64>> {
    let Some(SetKeys { hash, by_key }) = keys else {
        return Ok(None);
    };
    let found: Option<i64> = with_tx!(tx, c => {
        sqlx::query_scalar("SELECT id FROM software_sets WHERE hash = $1").bind(hash).fetch_optional(&mut *c).await?
    });
    if let Some(id) = found {
        if raw_hash.is_some() {
            with_tx!(tx, c => {
                sqlx::query("UPDATE software_sets SET raw_hash = $1 WHERE id = $2 AND raw_hash IS NULL")
                    .bind(raw_hash).bind(id).execute(&mut *c).await?;
            });
        }
        return Ok(found);
    }
    let ids = software_ids(tx, by_key).await?;
    let set_id: Option<i64> = with_tx!(tx, c => {
        sqlx::query_scalar("INSERT INTO software_sets (hash, size, raw_hash) VALUES ($1, $2, $3) ON CONFLICT (hash) DO NOTHING RETURNING id")
            .bind(hash).bind(ids.len() as i64).bind(raw_hash).fetch_optional(&mut *c).await?
    });
    let Some(set_id) = set_id else {
        // Another inventory created the same set meanwhile (PostgreSQL); it is complete.
        let id: i64 = with_tx!(tx, c => {
            sqlx::query_scalar("SELECT id FROM software_sets WHERE hash = $1").bind(hash).fetch_one(&mut *c).await?
        });
        return Ok(Some(id));
    };
    let mut sorted: Vec<i64> = ids.into_values().collect();
    sorted.sort_unstable();
    let rows = sorted
        .into_iter()
        .map(|id| vec![Param::I64(set_id), Param::I64(id)])
        .collect();
    insert_rows(
        tx,
        "INSERT INTO software_set_items (set_id, software_id)",
        rows,
        "",
    )
    .await?;
    Ok(Some(set_id))
}

/// Catalogue ids for the software given by key, adding those the catalogue lacks.
async fn software_ids(
    tx: &mut Tx,
    by_key: &BTreeMap<String, &Software>,
) -> AppResult<HashMap<String, i64>> {
    let keys: Vec<&String> = by_key.keys().collect();
    let mut ids = lookup_software(tx, &keys).await?;
    let missing: Vec<Vec<Param>> = by_key
        .iter()
        .filter(|(k, _)| !ids.contains_key(*k))
        .map(|(k, s)| {
            vec![
                Param::Text(k.clone()),
                Param::Text(s.name.clone()),
                Param::Text(s.publisher.clone()),
                Param::Text(s.version.clone()),
                Param::Text(text::search_key(&s.name)),
            ]
        })
        .collect();
    if !missing.is_empty() {
        insert_rows(
            tx,
            "INSERT INTO software (key, name, publisher, version, search_key)",
            missing,
            " ON CONFLICT (key) DO NOTHING",
        )
        .await?;
        let rest: Vec<&String> = keys.into_iter().filter(|k| !ids.contains_key(*k)).collect();
        ids.extend(lookup_software(tx, &rest).await?);
    }
    Ok(ids)
}

async fn lookup_software(tx: &mut Tx, keys: &[&String]) -> AppResult<HashMap<String, i64>> {
    let mut out = HashMap::with_capacity(keys.len());
    for chunk in keys.chunks(500) {
        let mut sql = crate::db::Sql::new("SELECT key, id FROM software WHERE key IN (");
        for (i, k) in chunk.iter().enumerate() {
            if i > 0 {
                sql.push(", ");
            }
            sql.bind(Param::Text((*k).clone()));
        }
        sql.push(")");
        let rows: Vec<(String, i64)> = with_tx!(tx, c => {
            crate::bind_params!(sqlx::query_as(sqlx::AssertSqlSafe(sql.text.clone())), &sql.params).fetch_all(&mut *c).await?
        });
        out.extend(rows);
    }
    Ok(out)
}

/// "name version" of every software in a stored set.
async fn set_contents(tx: &mut Tx, set_id: Option<i64>) -> AppResult<BTreeSet<String>> {
    let Some(set_id) = set_id else {
        return Ok(BTreeSet::new());
    };
    let rows: Vec<(String, String)> = with_tx!(tx, c => {
        sqlx::query_as("SELECT sw.name, sw.version FROM software_set_items i JOIN software sw ON sw.id = i.software_id WHERE i.set_id = $1")
            .bind(set_id).fetch_all(&mut *c).await?
    });
    Ok(rows
        .into_iter()
        .map(|(n, v)| format!("{n} {v}").trim().to_string())
        .collect())
}

fn listed(items: Vec<&String>) -> Value {
    const SHOWN: usize = 100;
    json!({"count": items.len(), "items": items.into_iter().take(SHOWN).collect::<Vec<_>>()})
}

const COMPONENTS_INSERT: &str =
    "INSERT INTO device_components (device_id, kind, name, detail, serial)";

fn component_row(device_id: i64, kind: &str, c: &Component) -> Vec<Param> {
    vec![
        Param::I64(device_id),
        Param::Text(kind.to_string()),
        Param::Text(c.name.chars().take(200).collect()),
        Param::Text(c.detail.chars().take(400).collect()),
        Param::OptText(c.serial.clone()),
    ]
}

async fn replace_components(
    tx: &mut Tx,
    device_id: i64,
    kind: &str,
    list: &[Component],
    history: Option<(&str, DateTime<Utc>)>,
) -> AppResult<()> {
    if let Some((actor, at)) = history {
        let old: Vec<(String, String, Option<String>)> = with_tx!(tx, c => {
            sqlx::query_as("SELECT name, detail, serial FROM device_components WHERE device_id = $1 AND kind = $2")
                .bind(device_id).bind(kind).fetch_all(&mut *c).await?
        });
        let label = |n: &str, s: &Option<String>| match s {
            Some(s) => format!("{n} ({s})"),
            None => n.to_string(),
        };
        let old_set: BTreeSet<String> = old.iter().map(|(n, _, s)| label(n, s)).collect();
        let new_set: BTreeSet<String> = list.iter().map(|c| label(&c.name, &c.serial)).collect();
        let added: Vec<&String> = new_set.difference(&old_set).collect();
        let removed: Vec<&String> = old_set.difference(&new_set).collect();
        if !added.is_empty() {
            record_event(
                tx,
                device_id,
                at,
                "component_added",
                actor,
                json!({"kind": kind, "items": added}),
            )
            .await?;
        }
        if !removed.is_empty() {
            record_event(
                tx,
                device_id,
                at,
                "component_removed",
                actor,
                json!({"kind": kind, "items": removed}),
            )
            .await?;
        }
    }
    with_tx!(tx, c => {
        sqlx::query("DELETE FROM device_components WHERE device_id = $1 AND kind = $2").bind(device_id).bind(kind).execute(&mut *c).await?;
    });
    let rows = list
        .iter()
        .map(|c| component_row(device_id, kind, c))
        .collect();
    insert_rows(tx, COMPONENTS_INSERT, rows, "").await?;
    Ok(())
}

fn trunc(v: &Option<String>, max: usize) -> Option<String> {
    v.as_ref().map(|s| s.chars().take(max).collect())
}

/// The sections whose fingerprints differ from those stored (pure).
pub fn changed_sections(
    old: &BTreeMap<String, String>,
    new: &BTreeMap<String, String>,
) -> Vec<String> {
    new.iter()
        .filter(|(k, v)| old.get(*k) != Some(*v))
        .map(|(k, _)| k.clone())
        .collect()
}

/// The device an inventory describes, if stored: by system UUID, then serial + model,
/// then the agent's own id. Three indexed lookups rather than one OR, which both engines
/// would scan.
async fn find_stored(
    tx: &mut Tx,
    collectivite_id: i64,
    inv: &Inventory,
) -> AppResult<Option<Stored>> {
    let id = &inv.identity;
    let rows: Vec<Stored> = with_tx!(tx, c => {
        sqlx::query_as::<_, Stored>(sqlx::AssertSqlSafe(format!(
            "{MATCH} WHERE collectivite_id = $1 AND agent_device_id = $2 UNION ALL {MATCH} WHERE collectivite_id = $1 AND system_uuid = $3 UNION ALL {MATCH} WHERE collectivite_id = $1 AND serial = $4 AND model = $5"
        )))
            .bind(collectivite_id).bind(&inv.device_id).bind(&id.system_uuid).bind(&id.serial).bind(&id.model)
            .fetch_all(&mut *c).await?
    });
    let by_uuid = rows
        .iter()
        .position(|r| id.system_uuid.is_some() && r.system_uuid == id.system_uuid);
    let by_serial = rows
        .iter()
        .position(|r| id.serial.is_some() && r.serial == id.serial && r.model == id.model);
    let by_agent = rows
        .iter()
        .position(|r| r.agent_device_id.as_deref() == Some(inv.device_id.as_str()));
    Ok(by_uuid
        .or(by_serial)
        .or(by_agent)
        .map(|i| rows.into_iter().nth(i).expect("position within rows")))
}

/// How a software list sent raw (legacy XML, not parsed) can be used.
enum RawList {
    /// Nothing raw to resolve: the list was parsed, or the device already has exactly
    /// this text.
    Resolved,
    /// A set was built from exactly this text before (a machine cloned from the same
    /// image): its id and size.
    Set(i64, i64),
    /// Unknown text: it must be parsed.
    Unknown,
}

async fn raw_list(tx: &mut Tx, inv: &Inventory, stored: Option<&Stored>) -> AppResult<RawList> {
    if !inv.software_deferred() {
        return Ok(RawList::Resolved);
    }
    let raw_hash = inv.software_raw.as_ref().map(|r| r.hash.as_str());
    let known = stored
        .and_then(|s| s.fingerprints.as_deref())
        .and_then(|f| serde_json::from_str::<BTreeMap<String, String>>(f).ok())
        .and_then(|mut f| f.remove("software_raw"));
    if known.as_deref() == raw_hash {
        return Ok(RawList::Resolved);
    }
    let set: Option<(i64, i64)> = with_tx!(tx, c => {
        sqlx::query_as("SELECT id, size FROM software_sets WHERE raw_hash = $1 ORDER BY id LIMIT 1")
            .bind(raw_hash).fetch_optional(&mut *c).await?
    });
    Ok(match set {
        Some((id, size)) => RawList::Set(id, size),
        None => RawList::Unknown,
    })
}

/// Stores one inventory for `collectivite_id`, sent by `source` (the agent's name for the
/// history), at `now`, inside the caller's transaction. A raw software list it cannot use
/// answers [`Ingested::SoftwareListNeeded`] before anything is written, so that no
/// shortcut ever stores a list that was not checked.
pub async fn ingest(
    tx: &mut Tx,
    collectivite_id: i64,
    source: &str,
    prepared: &Prepared<'_>,
    now: DateTime<Utc>,
) -> AppResult<Ingested> {
    let inv = prepared.inv;
    let stored = find_stored(tx, collectivite_id, inv).await?;
    let raw_set = match raw_list(tx, inv, stored.as_ref()).await? {
        RawList::Unknown => return Ok(Ingested::SoftwareListNeeded),
        RawList::Set(id, size) => Some((id, size)),
        RawList::Resolved => None,
    };
    let place = placement(tx, collectivite_id, inv).await?;
    let outcome = match stored {
        None => create(tx, collectivite_id, source, prepared, place, raw_set, now).await?,
        Some(stored) => {
            update(
                tx,
                collectivite_id,
                source,
                prepared,
                stored,
                place,
                raw_set,
                now,
            )
            .await?
        }
    };
    Ok(Ingested::Stored(outcome))
}

/// A device never seen: created in service, where its TAG or address puts it.
async fn create(
    tx: &mut Tx,
    collectivite_id: i64,
    source: &str,
    prepared: &Prepared<'_>,
    place: Option<(i64, String)>,
    raw_set: Option<(i64, i64)>,
    now: DateTime<Utc>,
) -> AppResult<Outcome> {
    let inv = prepared.inv;
    let id = &inv.identity;
    let os = inv.os.clone().unwrap_or_default();
    let ips = inv.ips.as_ref().map(|i| i.join(" "));
    let raw_hash = inv.software_raw.as_ref().map(|r| r.hash.as_str());
    let software_count = inv
        .software
        .as_ref()
        .map(|s| s.len() as i64)
        .or(raw_set.map(|r| r.1));
    let code = category_code(inv);
    let category = match categories::by_code_in_tx(tx, collectivite_id, code).await? {
        Some(c) => c,
        None => {
            categories::ensure_builtin(tx, collectivite_id).await?;
            categories::by_code_in_tx(tx, collectivite_id, code)
                .await?
                .ok_or(crate::AppError::NotFound)?
        }
    };
    let set_id = match raw_set {
        Some((id, _)) => Some(id),
        None => software_set(tx, prepared.set.as_ref(), raw_hash).await?,
    };
    let key = search_key_of(
        id.name.as_deref(),
        id.manufacturer.as_deref(),
        id.model.as_deref(),
        id.serial.as_deref(),
        None,
    );
    let prints = serde_json::to_string(&prepared.prints).unwrap_or_default();
    let device_id: i64 = with_tx!(tx, c => {
        sqlx::query_scalar("INSERT INTO devices (collectivite_id, category_id, school_id, name, state, state_since, brand, model, serial, agent_device_id, agent_tag, system_uuid, os_name, os_version, cpu, memory_mb, bios, ips, software_set_id, software_count, last_inventory_at, inventory_source, agent_version, fingerprints, search_key, version, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, 1, $21, $21) RETURNING id")
            .bind(collectivite_id).bind(category.id).bind(place.as_ref().map(|p| p.0))
            .bind(trunc(&id.name, 120)).bind(DeviceState::EnService.code()).bind(now.date_naive())
            .bind(trunc(&id.manufacturer, 80)).bind(trunc(&id.model, 120)).bind(trunc(&id.serial, 64))
            .bind(&inv.device_id).bind(trunc(&inv.tag, 64)).bind(trunc(&id.system_uuid, 64))
            .bind(trunc(&os.name, 120)).bind(trunc(&os.version, 80)).bind(inv.cpu_summary().map(|c| c.chars().take(200).collect::<String>()))
            .bind(id.memory_mb).bind(trunc(&id.bios, 200)).bind(trunc(&ips, 400)).bind(set_id)
            .bind(software_count.unwrap_or(0)).bind(now).bind(source).bind(trunc(&inv.agent, 80))
            .bind(&prints).bind(&key)
            .fetch_one(&mut *c).await?
    });
    // A new device: every component in one statement, nothing to replace.
    let rows: Vec<Vec<Param>> = inv
        .components
        .iter()
        .flat_map(|(kind, list)| list.iter().map(move |c| component_row(device_id, kind, c)))
        .collect();
    insert_rows(tx, COMPONENTS_INSERT, rows, "").await?;
    record_event(tx, device_id, now, "created", source, json!({
        "agent": inv.agent, "school": place.as_ref().map(|p| &p.1), "software": software_count.unwrap_or(0)
    }))
    .await?;
    let set_tag =
        place.and_then(|(_, uai)| (inv.tag.as_deref() != Some(uai.as_str())).then_some(uai));
    Ok(Outcome {
        device_id,
        created: true,
        changed: prepared.prints.keys().cloned().collect(),
        set_tag,
    })
}

/// The identity columns people see, as the inventory leaves them (a section the
/// inventory does not carry keeps the stored value), and what differs.
struct IdentityUpdate {
    name: Option<String>,
    brand: Option<String>,
    model: Option<String>,
    serial: Option<String>,
    uuid: Option<String>,
    os: Option<String>,
    os_version: Option<String>,
    cpu: Option<String>,
    memory_mb: Option<i64>,
    bios: Option<String>,
    ips: Option<String>,
    diff: serde_json::Map<String, Value>,
}

/// The identity, OS, CPU and addresses after this inventory (pure).
fn identity_update(stored: &Stored, inv: &Inventory) -> IdentityUpdate {
    let id = &inv.identity;
    let (os, os_version) = match &inv.os {
        Some(os) => (trunc(&os.name, 120), trunc(&os.version, 80)),
        None => (stored.os_name.clone(), stored.os_version.clone()),
    };
    let mut u = IdentityUpdate {
        name: trunc(&id.name, 120).or(stored.name.clone()),
        brand: trunc(&id.manufacturer, 80).or(stored.brand.clone()),
        model: trunc(&id.model, 120).or(stored.model.clone()),
        serial: trunc(&id.serial, 64).or(stored.serial.clone()),
        uuid: trunc(&id.system_uuid, 64).or(stored.system_uuid.clone()),
        os,
        os_version,
        cpu: if inv.components.contains_key("cpu") {
            inv.cpu_summary().map(|c| c.chars().take(200).collect())
        } else {
            stored.cpu.clone()
        },
        memory_mb: id.memory_mb.or(stored.memory_mb),
        bios: trunc(&id.bios, 200).or(stored.bios.clone()),
        ips: match &inv.ips {
            Some(ips) => trunc(&Some(ips.join(" ")), 400),
            None => stored.ips.clone(),
        },
        diff: serde_json::Map::new(),
    };
    let mut diff = serde_json::Map::new();
    for (field, old, new) in [
        ("name", &stored.name, &u.name),
        ("brand", &stored.brand, &u.brand),
        ("model", &stored.model, &u.model),
        ("serial", &stored.serial, &u.serial),
        ("system_uuid", &stored.system_uuid, &u.uuid),
        ("os_name", &stored.os_name, &u.os),
        ("os_version", &stored.os_version, &u.os_version),
        ("cpu", &stored.cpu, &u.cpu),
        ("bios", &stored.bios, &u.bios),
        ("ips", &stored.ips, &u.ips),
    ] {
        if old != new {
            diff.insert(field.into(), json!([old, new]));
        }
    }
    if stored.memory_mb != u.memory_mb {
        diff.insert("memory_mb".into(), json!([stored.memory_mb, u.memory_mb]));
    }
    u.diff = diff;
    u
}

/// Writes the identity columns that changed and their history; whether the change is
/// one people see (name, brand, model, serial: the device's version moves).
async fn update_identity(
    tx: &mut Tx,
    stored: &Stored,
    inv: &Inventory,
    source: &str,
    now: DateTime<Utc>,
) -> AppResult<bool> {
    let u = identity_update(stored, inv);
    if u.diff.is_empty() {
        return Ok(false);
    }
    let visible = ["name", "brand", "model", "serial"]
        .iter()
        .any(|k| u.diff.contains_key(*k));
    let key = search_key_of(
        u.name.as_deref(),
        u.brand.as_deref(),
        u.model.as_deref(),
        u.serial.as_deref(),
        stored.asset_tag.as_deref(),
    );
    with_tx!(tx, c => {
        sqlx::query("UPDATE devices SET name = $1, brand = $2, model = $3, serial = $4, system_uuid = $5, os_name = $6, os_version = $7, cpu = $8, memory_mb = $9, bios = $10, ips = $11, search_key = $12 WHERE id = $13")
            .bind(&u.name).bind(&u.brand).bind(&u.model).bind(&u.serial).bind(&u.uuid)
            .bind(&u.os).bind(&u.os_version).bind(&u.cpu).bind(u.memory_mb).bind(&u.bios).bind(&u.ips)
            .bind(&key).bind(stored.id)
            .execute(&mut *c).await?;
    });
    record_event(tx, stored.id, now, "updated", source, Value::Object(u.diff)).await?;
    Ok(visible)
}

/// Replaces the software set when the list changed, with the history of what was
/// installed and removed; the set the device has afterwards.
async fn update_software(
    tx: &mut Tx,
    stored: &Stored,
    prepared: &Prepared<'_>,
    list_changed: bool,
    raw_set: Option<(i64, i64)>,
    source: &str,
    now: DateTime<Utc>,
) -> AppResult<Option<i64>> {
    let inv = prepared.inv;
    let raw_hash = inv.software_raw.as_ref().map(|r| r.hash.as_str());
    let new_set = match (&inv.software, raw_set) {
        (Some(_), _) if list_changed => {
            Some(software_set(tx, prepared.set.as_ref(), raw_hash).await?)
        }
        (None, Some((id, _))) => Some(Some(id)),
        _ => None,
    };
    let Some(new_set) = new_set.filter(|s| *s != stored.software_set_id) else {
        return Ok(stored.software_set_id);
    };
    let old = set_contents(tx, stored.software_set_id).await?;
    let new: BTreeSet<String> = match &inv.software {
        Some(list) => list
            .iter()
            .map(|s| format!("{} {}", s.name, s.version).trim().to_string())
            .collect(),
        None => set_contents(tx, new_set).await?,
    };
    let added: Vec<&String> = new.difference(&old).collect();
    let removed: Vec<&String> = old.difference(&new).collect();
    if !added.is_empty() || !removed.is_empty() {
        record_event(
            tx,
            stored.id,
            now,
            "software",
            source,
            json!({
                "installed": listed(added), "removed": listed(removed)
            }),
        )
        .await?;
    }
    Ok(new_set)
}

/// The agent now reports from another school: the device follows (out of its room and
/// cart), with its history.
async fn move_to(
    tx: &mut Tx,
    stored: &Stored,
    (school, uai): (i64, &str),
    source: &str,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let names: (Option<String>, Option<String>) = with_tx!(tx, c => {
        sqlx::query_as("SELECT (SELECT name FROM schools WHERE id = $1), (SELECT name FROM schools WHERE id = $2)")
            .bind(stored.school_id).bind(school).fetch_one(&mut *c).await?
    });
    with_tx!(tx, c => {
        sqlx::query("UPDATE devices SET school_id = $1, room_id = NULL, parent_id = NULL WHERE id = $2").bind(school).bind(stored.id).execute(&mut *c).await?;
    });
    record_event(
        tx,
        stored.id,
        now,
        "moved",
        source,
        json!({"from": [names.0, null], "to": [names.1, null], "uai": uai}),
    )
    .await
}

/// A device already stored: only the sections whose fingerprints changed are
/// rewritten.
#[allow(clippy::too_many_arguments)]
async fn update(
    tx: &mut Tx,
    collectivite_id: i64,
    source: &str,
    prepared: &Prepared<'_>,
    stored: Stored,
    place: Option<(i64, String)>,
    raw_set: Option<(i64, i64)>,
    now: DateTime<Utc>,
) -> AppResult<Outcome> {
    let inv = prepared.inv;
    let device_id = stored.id;
    let mut prints: BTreeMap<String, String> = stored
        .fingerprints
        .as_deref()
        .and_then(|f| serde_json::from_str(f).ok())
        .unwrap_or_default();
    let changed = changed_sections(&prints, &prepared.prints);
    let is_changed = |s: &str| changed.iter().any(|c| c == s);

    let mut bump_version = false;
    if ["identity", "os", "ips", "component:cpu"]
        .iter()
        .any(|s| is_changed(s))
    {
        bump_version |= update_identity(tx, &stored, inv, source, now).await?;
    }
    for (kind, list) in &inv.components {
        if is_changed(&format!("component:{kind}")) {
            replace_components(tx, device_id, kind, list, Some((source, now))).await?;
        }
    }
    let set_id = update_software(
        tx,
        &stored,
        prepared,
        is_changed("software"),
        raw_set,
        source,
        now,
    )
    .await?;
    if let Some((school, uai)) = &place
        && stored.school_id != Some(*school)
    {
        move_to(tx, &stored, (*school, uai), source, now).await?;
        bump_version = true;
    }

    // The agent's own id follows the machine (an agent reinstalled keeps the device).
    if stored.agent_device_id.as_deref() != Some(inv.device_id.as_str()) {
        with_tx!(tx, c => {
            sqlx::query("UPDATE devices SET agent_device_id = NULL WHERE collectivite_id = $1 AND agent_device_id = $2 AND id <> $3")
                .bind(collectivite_id).bind(&inv.device_id).bind(device_id).execute(&mut *c).await?;
        });
    }
    prints.extend(prepared.prints.clone());
    let prints = serde_json::to_string(&prints).unwrap_or_default();
    let count = match (&inv.software, raw_set) {
        (Some(list), _) => list.len() as i64,
        (None, Some((_, size))) => size,
        (None, None) => -1,
    };
    with_tx!(tx, c => {
        sqlx::query("UPDATE devices SET agent_device_id = $1, agent_tag = $2, software_set_id = $3, software_count = CASE WHEN $4 < 0 THEN software_count ELSE $4 END, last_inventory_at = $5, inventory_source = $6, agent_version = COALESCE($7, agent_version), fingerprints = $8, version = version + $9, updated_at = CASE WHEN $9 > 0 THEN $5 ELSE updated_at END WHERE id = $10")
            .bind(&inv.device_id).bind(trunc(&inv.tag, 64)).bind(set_id).bind(count).bind(now).bind(source)
            .bind(trunc(&inv.agent, 80)).bind(&prints).bind(i64::from(bump_version)).bind(device_id)
            .execute(&mut *c).await?;
    });
    // The agent is told its school's UAI as TAG when it does not carry it yet.
    let set_tag = match place.as_ref().map(|p| p.0).or(stored.school_id) {
        Some(s) => {
            let uai: Option<String> = with_tx!(tx, c => {
                sqlx::query_scalar("SELECT uai FROM schools WHERE id = $1").bind(s).fetch_optional(&mut *c).await?
            });
            uai.filter(|u| inv.tag.as_deref() != Some(u.as_str()))
        }
        None => None,
    };
    Ok(Outcome {
        device_id,
        created: false,
        changed,
        set_tag,
    })
}

#[cfg(test)]
mod tests {
    use super::changed_sections;
    use std::collections::BTreeMap;

    #[test]
    fn only_sections_with_another_fingerprint_changed() {
        let map = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        let old = map(&[("identity", "a"), ("os", "b"), ("software", "c")]);
        // A partial inventory carries fewer sections: those missing did not change.
        let new = map(&[("os", "b"), ("software", "d"), ("component:cpu", "e")]);
        assert_eq!(changed_sections(&old, &new), ["component:cpu", "software"]);
        assert!(changed_sections(&old, &old).is_empty());
        assert_eq!(changed_sections(&BTreeMap::new(), &old).len(), 3);
    }
}
