//! The demo commune's equipment: what a newcomer should see in a living fleet. Every
//! classroom has its board (TNI, VPI or, lately, ENI) and a teacher laptop, some a
//! visualiser; every school a direction PC and printer and Wi-Fi access points; carts of
//! tablets add up to about 2 500 tablets; and a few dozen PCs came in through the agents'
//! endpoint, from a real OCS Inventory agent's capture (`demo/`) adapted per machine.
//! Deterministic, like the rest of the demo.

use chrono::{DateTime, Datelike, Months, NaiveDate, TimeZone, Utc};
use preau_domain::device::DeviceState;
use preau_domain::org::{RoomKind, SchoolKind};
use preau_inventory::{body, protocol};
use std::collections::HashMap;

use crate::db::{Param, Tx, insert_rows};
use crate::demo::Lcg;
use crate::error::{AppError, AppResult};
use crate::inventory::devices::search_key_of;
use crate::inventory::ingest;
use crate::with_tx;

/// The OCS Inventory agent's captured inventory (926 software), zlib as on the wire.
const OCS_CAPTURE: &[u8] = include_bytes!("../../demo/ocs-inventory.xml.zlib");

struct Kind {
    category: &'static str,
    brand: &'static str,
    model: &'static str,
    price_euros: i64,
    warranty_years: u32,
    from_year: i32,
    to_year: i32,
}

const TNI: Kind = Kind {
    category: "tni",
    brand: "Promethean",
    model: "ActivBoard 378 Pro",
    price_euros: 2_450,
    warranty_years: 5,
    from_year: 2004,
    to_year: 2012,
};
const VPI: Kind = Kind {
    category: "vpi",
    brand: "Epson",
    model: "EB-695Wi",
    price_euros: 1_890,
    warranty_years: 5,
    from_year: 2013,
    to_year: 2019,
};
const ENI: Kind = Kind {
    category: "eni",
    brand: "Speechi",
    model: "SpeechiTouch 75\" 4K",
    price_euros: 3_250,
    warranty_years: 5,
    from_year: 2020,
    to_year: 2026,
};
const VISIO_KIT: Kind = Kind {
    category: "kit_visio",
    brand: "Logitech",
    model: "Rally Bar Mini",
    price_euros: 1_190,
    warranty_years: 2,
    from_year: 2024,
    to_year: 2025,
};
const LAPTOP: Kind = Kind {
    category: "poste_enseignant",
    brand: "Lenovo",
    model: "ThinkPad E14 Gen 5",
    price_euros: 689,
    warranty_years: 3,
    from_year: 2019,
    to_year: 2026,
};
const VISUALISER: Kind = Kind {
    category: "visualiseur",
    brand: "IPEVO",
    model: "V4K",
    price_euros: 119,
    warranty_years: 2,
    from_year: 2020,
    to_year: 2025,
};
const DIRECTION_PC: Kind = Kind {
    category: "pc_fixe",
    brand: "Dell",
    model: "OptiPlex 7010 SFF",
    price_euros: 749,
    warranty_years: 3,
    from_year: 2017,
    to_year: 2025,
};
const PRINTER: Kind = Kind {
    category: "imprimante",
    brand: "Brother",
    model: "MFC-L8690CDW",
    price_euros: 389,
    warranty_years: 3,
    from_year: 2016,
    to_year: 2025,
};
const ACCESS_POINT: Kind = Kind {
    category: "borne_wifi",
    brand: "Ubiquiti",
    model: "UniFi U6 Lite",
    price_euros: 129,
    warranty_years: 2,
    from_year: 2021,
    to_year: 2024,
};
const CART: Kind = Kind {
    category: "classe_mobile",
    brand: "Bretford",
    model: "CUBE Cart 16",
    price_euros: 1_190,
    warranty_years: 5,
    from_year: 2021,
    to_year: 2024,
};
const TABLET: Kind = Kind {
    category: "tablette",
    brand: "Apple",
    model: "iPad 9e génération (Wi-Fi, 64 Go)",
    price_euros: 369,
    warranty_years: 2,
    from_year: 2021,
    to_year: 2024,
};
const SWITCH: Kind = Kind {
    category: "switch",
    brand: "HPE Aruba",
    model: "Instant On 1930 24G",
    price_euros: 319,
    warranty_years: 5,
    from_year: 2019,
    to_year: 2023,
};

/// Tablets per cart.
const PER_CART: usize = 16;
/// Carts per elementary / nursery school: 2 560 tablets in the 23 demo schools.
const CARTS_ELEMENTAIRE: usize = 10;
const CARTS_MATERNELLE: usize = 3;

struct Row {
    category: &'static str,
    school: i64,
    room: Option<i64>,
    parent_tag: Option<String>,
    name: Option<String>,
    state: DeviceState,
    kind: &'static Kind,
    tag: String,
    serial: String,
    purchase: NaiveDate,
    switchable: Option<bool>,
    notes: Option<String>,
}

fn serial(rng: &mut Lcg, prefix: &str) -> String {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHJKLMNPQRSTUVWXYZ";
    let tail: String = (0..8)
        .map(|_| ALPHABET[rng.next(ALPHABET.len() as u64) as usize] as char)
        .collect();
    format!("{prefix}{tail}")
}

fn bought(rng: &mut Lcg, k: &Kind, today: NaiveDate) -> NaiveDate {
    let to = k.to_year.min(today.year());
    let year = k.from_year + rng.next((to - k.from_year + 1) as u64) as i32;
    // School purchases land in summer (before the rentrée) or in December (budget end).
    let (month, day) = if rng.next(3) == 0 {
        (12, 1 + rng.next(18) as u32)
    } else {
        (6 + rng.next(3) as u32, 1 + rng.next(28) as u32)
    };
    NaiveDate::from_ymd_opt(year, month, day)
        .unwrap_or_default()
        .min(today)
}

/// Loads the fleet into the demo collectivité `cid`.
/// Runs in the demo's own transaction: the demo loads whole or not at all.
pub async fn load(tx: &mut Tx, cid: i64, today: NaiveDate) -> AppResult<()> {
    let mut rng = Lcg(1981);
    let schools: Vec<(i64, String, String)> = with_tx!(tx, c => {
        sqlx::query_as("SELECT id, uai, kind FROM schools WHERE collectivite_id = $1 ORDER BY id").bind(cid).fetch_all(&mut *c).await?
    });
    let rooms: Vec<(i64, i64, String, String)> = with_tx!(tx, c => {
        sqlx::query_as("SELECT r.id, r.school_id, r.kind, r.name FROM rooms r JOIN schools s ON s.id = r.school_id WHERE s.collectivite_id = $1 ORDER BY r.id").bind(cid).fetch_all(&mut *c).await?
    });
    let mut rows: Vec<Row> = Vec::new();
    let mut seq = 0u32;
    let mut next_tag = |year: i32| {
        seq += 1;
        format!("VDE-{year}-{seq:05}")
    };
    for (si, (school, _uai, kind)) in schools.iter().enumerate() {
        let maternelle = SchoolKind::from_db(kind) == SchoolKind::Maternelle;
        let mut push = |rng: &mut Lcg,
                        k: &'static Kind,
                        room: Option<i64>,
                        name: Option<String>,
                        state: DeviceState,
                        parent: Option<String>|
         -> String {
            let purchase = bought(rng, k, today);
            let tag = next_tag(purchase.year());
            // Boards from before 2009 have been retired; a few things are away for repair.
            let state = if k.category == "tni" && purchase.year() < 2009 {
                DeviceState::Reforme
            } else if state == DeviceState::EnService && rng.next(60) == 0 {
                DeviceState::EnReparation
            } else {
                state
            };
            rows.push(Row {
                category: k.category,
                school: *school,
                room,
                parent_tag: parent,
                name,
                state,
                kind: k,
                tag: tag.clone(),
                serial: serial(rng, &k.brand[..2].to_uppercase()),
                purchase,
                switchable: (k.category == "borne_wifi").then_some(true),
                notes: None,
            });
            tag
        };
        for (room, _, rkind, rname) in rooms.iter().filter(|r| r.1 == *school) {
            match RoomKind::from_db(rkind) {
                RoomKind::Classe => {
                    let board = match rng.next(10) {
                        0..=2 => &TNI,
                        3..=6 => &VPI,
                        _ => &ENI,
                    };
                    push(
                        &mut rng,
                        board,
                        Some(*room),
                        None,
                        DeviceState::EnService,
                        None,
                    );
                    push(
                        &mut rng,
                        &LAPTOP,
                        Some(*room),
                        Some(format!("PE-{si:02}-{}", rname.replace("Classe ", "C"))),
                        DeviceState::EnService,
                        None,
                    );
                    if !maternelle && rng.next(3) == 0 {
                        push(
                            &mut rng,
                            &VISUALISER,
                            Some(*room),
                            None,
                            DeviceState::EnService,
                            None,
                        );
                    }
                }
                RoomKind::BureauDirection => {
                    push(
                        &mut rng,
                        &DIRECTION_PC,
                        Some(*room),
                        Some(format!("DIR-{si:02}")),
                        DeviceState::EnService,
                        None,
                    );
                    push(
                        &mut rng,
                        &PRINTER,
                        Some(*room),
                        Some(format!("IMP-DIR-{si:02}")),
                        DeviceState::EnService,
                        None,
                    );
                    push(
                        &mut rng,
                        &SWITCH,
                        Some(*room),
                        Some(format!("SW-{si:02}")),
                        DeviceState::EnService,
                        None,
                    );
                }
                _ => {}
            }
        }
        for ap in 0..(if maternelle { 2 } else { 3 }) {
            push(
                &mut rng,
                &ACCESS_POINT,
                None,
                Some(format!("AP-{si:02}-{ap}")),
                DeviceState::EnService,
                None,
            );
        }
        let carts = if maternelle {
            CARTS_MATERNELLE
        } else {
            CARTS_ELEMENTAIRE
        };
        for c in 0..carts {
            let cart = push(
                &mut rng,
                &CART,
                None,
                Some(format!("Classe mobile {}", c + 1)),
                DeviceState::EnService,
                None,
            );
            for _ in 0..PER_CART {
                push(
                    &mut rng,
                    &TABLET,
                    None,
                    None,
                    DeviceState::EnService,
                    Some(cart.clone()),
                );
            }
        }
        // The spare stock of the school: two laptops waiting in their boxes.
        for _ in 0..2 {
            push(&mut rng, &LAPTOP, None, None, DeviceState::EnStock, None);
        }
    }
    // A few tablets lost or stolen, as in every fleet.
    for (i, r) in rows
        .iter_mut()
        .filter(|r| r.category == "tablette")
        .enumerate()
    {
        if i % 97 == 13 {
            r.state = if i % 2 == 0 {
                DeviceState::Perdu
            } else {
                DeviceState::Vole
            };
            r.notes = Some("Déclaré par l'école.".into());
        }
    }
    renewals(&mut rows, &schools, &mut next_tag, today);
    let t = std::time::Instant::now();
    insert_fleet(tx, cid, &rows, today).await?;
    tracing::info!(
        ms = t.elapsed().as_millis() as u64,
        devices = rows.len(),
        "demo fleet inserted"
    );
    let t = std::time::Instant::now();
    let r = agent_pcs(tx, cid, &schools, today).await;
    tracing::info!(
        ms = t.elapsed().as_millis() as u64,
        "demo agent inventories ingested"
    );
    r
}

/// What the town bought since: an ENI where a retired board left a classroom without a
/// display (except in the first such school, which the coverage page shows as not
/// compliant), and a visio kit in every élémentaire classroom for the English lessons by
/// videoconference. Its own random sequence, so the rest of the demo stays as it was.
fn renewals(
    rows: &mut Vec<Row>,
    schools: &[(i64, String, String)],
    next_tag: &mut impl FnMut(i32) -> String,
    today: NaiveDate,
) {
    let mut rng = Lcg(2024);
    let retired: Vec<(i64, i64)> = rows
        .iter()
        .filter(|r| r.state == DeviceState::Reforme && r.category == "tni")
        .filter_map(|r| r.room.map(|room| (r.school, room)))
        .collect();
    let left_bare = retired.first().map(|(school, _)| *school);
    let mut add = |rng: &mut Lcg, k: &'static Kind, school: i64, room: i64| {
        let purchase = bought(rng, k, today);
        Row {
            category: k.category,
            school,
            room: Some(room),
            parent_tag: None,
            name: None,
            state: DeviceState::EnService,
            kind: k,
            tag: next_tag(purchase.year()),
            serial: serial(rng, &k.brand[..2].to_uppercase()),
            purchase,
            switchable: None,
            notes: None,
        }
    };
    let mut new = Vec::new();
    for (i, (school, room)) in retired.iter().enumerate() {
        if Some(*school) == left_bare && i == 0 {
            continue;
        }
        new.push(add(&mut rng, &ENI, *school, *room));
    }
    let elementary: Vec<i64> = schools
        .iter()
        .filter(|(_, _, k)| SchoolKind::from_db(k) != SchoolKind::Maternelle)
        .map(|s| s.0)
        .collect();
    let classrooms: Vec<(i64, i64)> = rows
        .iter()
        .filter(|r| r.category == "poste_enseignant" && r.room.is_some())
        .filter(|r| elementary.contains(&r.school))
        .filter_map(|r| r.room.map(|room| (r.school, room)))
        .collect();
    for (school, room) in classrooms {
        new.push(add(&mut rng, &VISIO_KIT, school, room));
    }
    rows.extend(new);
}

async fn insert_fleet(tx: &mut Tx, cid: i64, rows: &[Row], today: NaiveDate) -> AppResult<()> {
    let categories: HashMap<String, i64> = with_tx!(tx, c => {
        sqlx::query_as::<_, (String, i64)>("SELECT code, id FROM device_categories WHERE collectivite_id = $1").bind(cid).fetch_all(&mut *c).await?
    })
    .into_iter()
    .collect();
    let now: DateTime<Utc> = Utc
        .from_local_datetime(&today.and_hms_opt(6, 0, 0).unwrap_or_default())
        .single()
        .unwrap_or_else(Utc::now);
    // Containers first, so that their contents can point at them.
    for containers in [true, false] {
        let parents: HashMap<String, i64> = if containers {
            HashMap::new()
        } else {
            with_tx!(tx, c => {
                sqlx::query_as::<_, (String, i64)>("SELECT asset_tag, id FROM devices WHERE collectivite_id = $1 AND asset_tag IS NOT NULL").bind(cid).fetch_all(&mut *c).await?
            })
            .into_iter()
            .collect()
        };
        let batch: Vec<Vec<Param>> = rows
            .iter()
            .filter(|r| (r.category == "classe_mobile") == containers)
            .map(|r| {
                let warranty = r
                    .purchase
                    .checked_add_months(Months::new(12 * r.kind.warranty_years));
                let state_since = if r.state == DeviceState::EnService {
                    r.purchase
                } else {
                    today - chrono::Duration::days(20)
                };
                vec![
                    Param::I64(cid),
                    Param::I64(categories.get(r.category).copied().unwrap_or_default()),
                    Param::I64(r.school),
                    Param::OptI64(r.room),
                    Param::OptI64(r.parent_tag.as_ref().and_then(|t| parents.get(t).copied())),
                    Param::OptText(r.name.clone()),
                    Param::Text(r.state.code().into()),
                    Param::Date(state_since),
                    Param::Text(r.kind.brand.into()),
                    Param::Text(r.kind.model.into()),
                    Param::Text(r.serial.clone()),
                    Param::Text(r.tag.clone()),
                    Param::Date(r.purchase),
                    Param::I64(r.kind.price_euros * 100),
                    Param::Text(if r.purchase.year() < 2015 {
                        "UGAP".into()
                    } else {
                        "Titulaire du marché « équipement numérique des écoles »".into()
                    }),
                    Param::Text(format!(
                        "BC-{}-{:04}",
                        r.purchase.year(),
                        r.serial.len() * 97 % 1000
                    )),
                    Param::OptDate(warranty),
                    Param::Text(match (r.category, r.purchase.year()) {
                        ("tablette" | "classe_mobile", 2021) => {
                            "Plan de relance — SNEE (appel à projets 2021)".into()
                        }
                        ("eni", y) if y >= 2023 => "DETR 2023 + budget communal".into(),
                        _ => "Budget d'investissement communal".into(),
                    }),
                    Param::OptText(r.notes.clone()),
                    Param::OptBool(r.switchable),
                    Param::Text(search_key_of(
                        r.name.as_deref(),
                        Some(r.kind.brand),
                        Some(r.kind.model),
                        Some(&r.serial),
                        Some(&r.tag),
                    )),
                    Param::Time(now),
                    Param::Time(now),
                ]
            })
            .collect();
        insert_rows(
            tx,
            "INSERT INTO devices (collectivite_id, category_id, school_id, room_id, parent_id, name, state, state_since, brand, model, serial, asset_tag, purchase_date, price_cents, supplier, order_ref, warranty_end, funding, notes, wifi_switchable, search_key, created_at, updated_at)",
            batch,
            "",
        )
        .await?;
    }
    with_tx!(tx, c => {
        sqlx::query("INSERT INTO device_events (device_id, occurred_at, kind, actor, detail) SELECT id, created_at, 'created', 'démo', '{}' FROM devices WHERE collectivite_id = $1").bind(cid).execute(&mut *c).await?;
    });
    Ok(())
}

/// A few dozen PCs (salle informatique and direction) inventoried by the OCS agent,
/// each reporting with its school's UAI as TAG, each image a little different.
async fn agent_pcs(
    tx: &mut Tx,
    cid: i64,
    schools: &[(i64, String, String)],
    today: NaiveDate,
) -> AppResult<()> {
    let (xml, _) = body::inflate(OCS_CAPTURE, None, 8 << 20)
        .map_err(|e| anyhow::anyhow!("demo capture: {e}"))?;
    let protocol::Request::Inventory(image) = protocol::parse(&xml)
        .map_err(|e| anyhow::anyhow!("demo capture: {e}"))?
        .0
    else {
        return Err(anyhow::anyhow!("demo capture is not an inventory").into());
    };
    let now: DateTime<Utc> = Utc
        .from_local_datetime(&today.and_hms_opt(7, 30, 0).unwrap_or_default())
        .single()
        .unwrap_or_else(Utc::now);
    let mut rng = Lcg(2026);
    for (si, (_, uai, kind)) in schools.iter().enumerate() {
        let n = if SchoolKind::from_db(kind) == SchoolKind::Maternelle {
            1
        } else {
            2
        };
        for k in 0..n {
            let host = format!("pc-{}-{:02}", uai.to_lowercase(), k + 1);
            let mut inv = (*image).clone();
            inv.device_id = format!("{host}-2024-09-02-08-00-00");
            inv.tag = Some(uai.clone());
            inv.identity.name = Some(host);
            inv.identity.serial = Some(serial(&mut rng, "DL"));
            inv.identity.manufacturer = Some("Dell Inc.".into());
            inv.identity.model = Some("OptiPlex 3000".into());
            inv.identity.system_uuid = Some(format!(
                "4c4c4544-00{si:02}-30{k:02}-8048-b6c04f50{:04}",
                rng.next(10_000)
            ));
            // Each machine misses a few packages of the image: distinct software sets (and
            // no longer the capture's raw text).
            inv.software_raw = None;
            if let Some(list) = inv.software.as_mut() {
                for _ in 0..1 + rng.next(20) {
                    let i = rng.next(list.len() as u64) as usize;
                    list.remove(i);
                }
            }
            let at = now - chrono::Duration::minutes((si * 3 + k) as i64);
            let ingest::Ingested::Stored(stored) =
                ingest::ingest(tx, cid, "OCS Inventory agent", &ingest::prepare(&inv), at).await?
            else {
                return Err(AppError::Other(anyhow::anyhow!(
                    "the demo's software lists are parsed"
                )));
            };
            // What the agent cannot know: the purchase, typed by the collectivité.
            let purchase = bought(&mut rng, &DIRECTION_PC, today);
            with_tx!(tx, c => {
                sqlx::query("UPDATE devices SET asset_tag = $1, purchase_date = $2, price_cents = $3, warranty_end = $4, supplier = $5, funding = $6 WHERE id = $7")
                    .bind(format!("VDE-{}-8{si:02}{k}", purchase.year()))
                    .bind(purchase)
                    .bind(DIRECTION_PC.price_euros * 100)
                    .bind(purchase.checked_add_months(Months::new(36)))
                    .bind("Titulaire du marché « équipement numérique des écoles »")
                    .bind("Budget d'investissement communal")
                    .bind(stored.device_id)
                    .execute(&mut *c).await?;
            });
        }
    }
    Ok(())
}
