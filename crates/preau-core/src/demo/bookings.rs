//! The demo's shared kits: the demo teacher's school books its own classe mobile, one of
//! another school's (20 minutes away) and that school's mobile visio kit (30 minutes),
//! with a week of bookings and a weekly robotics workshop for six weeks; its cart whose
//! tablets are lent to a class as a set shows as unavailable.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use preau_domain::Principal;
use preau_domain::booking::Slot;

use crate::bookings::{self, BookableInput};
use crate::db::Tx;
use crate::error::AppResult;
use crate::with_tx;

/// A booking the demo writes: resource, school, class, day, slot, who, note, repeat.
struct Demo {
    bookable: i64,
    school: i64,
    class: Option<i64>,
    day: NaiveDate,
    slot: Slot,
    by: (i64, String),
    note: &'static str,
}

pub async fn load(tx: &mut Tx, sys: &Principal, now: DateTime<Utc>) -> AppResult<()> {
    let cid = sys.collectivite_id;
    let schools: Vec<i64> = with_tx!(tx, c => {
        sqlx::query_scalar("SELECT id FROM schools WHERE collectivite_id = $1 ORDER BY id").bind(cid).fetch_all(&mut *c).await?
    });
    let (Some(&home), Some(&neighbour)) = (schools.first(), schools.get(1)) else {
        return Ok(());
    };
    // A cart of the teacher's school whose tablets are all in it, and one of another
    // school, shared with it.
    let free_cart = |here: bool| {
        format!(
            "SELECT d.id FROM devices d JOIN device_categories k ON k.id = d.category_id WHERE d.collectivite_id = {cid} AND d.school_id {} {home} AND k.code = 'classe_mobile' AND NOT EXISTS (SELECT 1 FROM devices t JOIN loans l ON l.device_id = t.id AND l.returned_on IS NULL WHERE t.parent_id = d.id) ORDER BY d.school_id, d.asset_tag DESC LIMIT 1",
            if here { "=" } else { "<>" }
        )
    };
    let mut resources = Vec::new();
    for (here, shared) in [(true, vec![]), (false, vec![home])] {
        let cart: Option<i64> = with_tx!(tx, c => {
            sqlx::query_scalar(sqlx::AssertSqlSafe(free_cart(here))).fetch_optional(&mut *c).await?
        });
        if let Some(cart) = cart {
            let move_minutes = if shared.is_empty() { 0 } else { 20 };
            resources.push(
                bookings::create_bookable(
                    tx,
                    sys,
                    &BookableInput {
                        device_id: Some(cart),
                        move_minutes,
                        shared,
                        ..BookableInput::default()
                    },
                    now,
                )
                .await?,
            );
        }
    }
    // A mobile visio kit of the next school, shared with the teacher's.
    let category: i64 = with_tx!(tx, c => {
        sqlx::query_scalar("SELECT id FROM device_categories WHERE collectivite_id = $1 AND code = 'kit_visio'").bind(cid).fetch_one(&mut *c).await?
    });
    let name = "Kit visio mobile";
    let tag = "KV-MOBILE-01";
    let kit: i64 = with_tx!(tx, c => {
        sqlx::query_scalar("INSERT INTO devices (collectivite_id, category_id, school_id, name, state, state_since, brand, model, asset_tag, purchase_date, price_cents, search_key, created_at, updated_at) VALUES ($1, $2, $3, $4, 'en_service', $5, 'Jabra', 'PanaCast 50', $6, $5, 119000, $7, $8, $8) RETURNING id")
            .bind(cid).bind(category).bind(neighbour).bind(name).bind(NaiveDate::from_ymd_opt(2025, 9, 1)).bind(tag)
            .bind(crate::inventory::devices::search_key_of(Some(name), Some("Jabra"), Some("PanaCast 50"), None, Some(tag)))
            .bind(now).fetch_one(&mut *c).await?
    });
    resources.push(
        bookings::create_bookable(
            tx,
            sys,
            &BookableInput {
                device_id: Some(kit),
                move_minutes: 30,
                shared: vec![home],
                ..BookableInput::default()
            },
            now,
        )
        .await?,
    );
    // A cart of the teacher's school lent to a class as a set: offered, and unavailable.
    let lent: Option<i64> = with_tx!(tx, c => {
        sqlx::query_scalar("SELECT d.id FROM devices d JOIN device_categories k ON k.id = d.category_id WHERE d.school_id = $1 AND k.code = 'classe_mobile' AND EXISTS (SELECT 1 FROM devices t JOIN loans l ON l.device_id = t.id AND l.returned_on IS NULL AND l.kind = 'classe' WHERE t.parent_id = d.id) ORDER BY d.asset_tag LIMIT 1")
            .bind(home).fetch_optional(&mut *c).await?
    });
    if let Some(d) = lent {
        bookings::create_bookable(
            tx,
            sys,
            &BookableInput {
                device_id: Some(d),
                ..BookableInput::default()
            },
            now,
        )
        .await?;
    }
    let [cart_a, cart_b, kit] = resources[..] else {
        return Ok(());
    };
    let people: Vec<(String, i64, String)> = with_tx!(tx, c => {
        sqlx::query_as("SELECT login, id, display_name FROM users WHERE collectivite_id = $1 AND login IN ('enseignant', 'directeur', 'technicien')").bind(cid).fetch_all(&mut *c).await?
    });
    let who = |login: &str| {
        people
            .iter()
            .find(|p| p.0 == login)
            .map(|p| (p.1, p.2.clone()))
            .unwrap_or((0, String::new()))
    };
    let home_classes: Vec<i64> = with_tx!(tx, c => {
        sqlx::query_scalar("SELECT c.id FROM classes c JOIN school_years y ON y.id = c.school_year_id WHERE c.school_id = $1 AND y.starts_on <= $2 AND y.ends_on >= $2 ORDER BY c.label").bind(home).bind(preau_domain::paris::day(now)).fetch_all(&mut *c).await?
    });
    let class = |i: usize| home_classes.get(i % home_classes.len().max(1)).copied();
    let days = bookings::school_days_in_tx(tx, home).await?;
    let next = bookings::next_class_day(&days, preau_domain::paris::day(now), now);
    let monday = bookings::monday_of(next);
    // The week's class days at the school, with their slots (Thursday morning left free:
    // the teacher books it).
    let week: Vec<(NaiveDate, Vec<Slot>)> = (0..5)
        .map(|i| monday + Duration::days(i))
        .map(|d| (d, days.slots(d)))
        .filter(|(d, s)| !s.is_empty() && s.last().is_some_and(|x| x.on(*d).1 > now))
        .collect();
    let mut plan = Vec::new();
    for (i, (day, slots)) in week.iter().enumerate() {
        let (first, last) = (slots[0], slots[slots.len() - 1]);
        let thursday = chrono::Datelike::weekday(day) == chrono::Weekday::Thu;
        if !thursday && first.on(*day).1 > now {
            plan.push(Demo {
                bookable: cart_a,
                school: home,
                class: class(i),
                day: *day,
                slot: first,
                by: who("enseignant"),
                note: "Évaluation de lecture sur tablette",
            });
        }
        if i % 2 == 0 && last.on(*day).1 > now {
            plan.push(Demo {
                bookable: cart_b,
                school: home,
                class: class(i + 1),
                day: *day,
                slot: last,
                by: who("directeur"),
                note: "",
            });
        }
        if i % 2 == 1 && first.on(*day).1 > now {
            plan.push(Demo {
                bookable: kit,
                school: neighbour,
                class: None,
                day: *day,
                slot: first,
                by: who("technicien"),
                note: "Correspondance avec une classe de Galway",
            });
        }
    }
    for d in &plan {
        insert(tx, d, &[d.day], now).await?;
    }
    // The robotics workshop: the first cart every Thursday afternoon for six weeks,
    // holidays skipped.
    let thursday = (0..7)
        .map(|i| next + Duration::days(i))
        .find(|d| chrono::Datelike::weekday(d) == chrono::Weekday::Thu)
        .unwrap_or(next);
    let afternoon = days.slots(thursday).last().copied();
    if let Some(slot) = afternoon
        && slot.on(thursday).1 > now
    {
        let open = |d: NaiveDate| days.slots(d).contains(&slot);
        let dates = preau_domain::booking::weekly(thursday, thursday + Duration::days(42), open)
            .unwrap_or_default();
        let d = Demo {
            bookable: cart_a,
            school: home,
            class: class(2),
            day: thursday,
            slot,
            by: who("enseignant"),
            note: "Atelier robotique",
        };
        insert(tx, &d, &dates, now).await?;
    }
    Ok(())
}

async fn insert(tx: &mut Tx, d: &Demo, dates: &[NaiveDate], now: DateTime<Utc>) -> AppResult<()> {
    let at = bookings::Place {
        bookable_id: d.bookable,
        school_id: d.school,
        class_id: d.class,
        slot: d.slot,
    };
    bookings::insert(tx, &at, dates, d.note, (Some(d.by.0), &d.by.1), now).await?;
    Ok(())
}
