//! Bookings of shared kits and rooms: a clash refused naming who holds the slot, the time
//! to move a shared kit between schools, weekly repeats skipping holidays and Ascension,
//! cancelling the rest of a repeat, a cart lent to a class as a set, a booked visio kit
//! making a room ready, the API, the pages and the iCalendar feed.

use axum::http::{Method, StatusCode};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use preau_core::AppError;
use preau_core::bookings::{self, BookableChange, BookableInput, BookingInput};
use preau_domain::Principal;
use preau_domain::booking::Slot;
use serde_json::json;

use crate::harness::TestApp;
use crate::tickets::principal;

async fn int(app: &TestApp, sql: &str) -> i64 {
    let sql = sql.to_string();
    preau_core::with_db!(&app.db, p => {
        sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql)).fetch_one(p).await.unwrap()
    })
}

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn slot(s: &str) -> Slot {
    Slot::parse("slot", s).unwrap()
}

const MORNING: &str = "08:30-11:30";
const AFTERNOON: &str = "13:30-16:30";

/// Before every date these tests book: the spring of 2027.
fn t0() -> DateTime<Utc> {
    preau_domain::paris::at(day(2027, 3, 1), 8, 0)
}

fn ask(bookable: i64, school: Option<i64>, d: NaiveDate, s: &str) -> BookingInput {
    BookingInput {
        bookable_id: bookable,
        school_id: school,
        day: d,
        slot: slot(s),
        class_id: None,
        note: String::new(),
        repeat_until: None,
    }
}

async fn book(
    app: &TestApp,
    p: &Principal,
    input: &BookingInput,
    now: DateTime<Utc>,
) -> Result<Vec<i64>, AppError> {
    let mut tx = app.db.begin().await.unwrap();
    let r = bookings::book(&mut tx, p, input, now).await;
    if r.is_ok() {
        tx.commit().await.unwrap();
    }
    r
}

async fn cancel(app: &TestApp, p: &Principal, id: i64, following: bool) -> Result<usize, AppError> {
    let mut tx = app.db.begin().await.unwrap();
    let r = bookings::cancel(&mut tx, p, id, following, Utc::now()).await;
    if r.is_ok() {
        tx.commit().await.unwrap();
    }
    r
}

/// The directrice's school, and its first room made bookable by the administrator.
async fn room_bookable(app: &TestApp) -> (i64, i64) {
    let school = int(app, "SELECT school_id FROM role_assignments a JOIN users u ON u.id = a.user_id WHERE u.login = 'directeur'").await;
    let room = int(
        app,
        &format!("SELECT MIN(id) FROM rooms WHERE school_id = {school} AND NOT EXISTS (SELECT 1 FROM bookables b WHERE b.room_id = rooms.id)"),
    )
    .await;
    let admin = principal(app, "admin").await;
    let mut tx = app.db.begin().await.unwrap();
    let id = bookings::create_bookable(
        &mut tx,
        &admin,
        &BookableInput {
            room_id: Some(room),
            name: "Salle informatique".into(),
            ..BookableInput::default()
        },
        Utc::now(),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    (school, id)
}

fn conflict(r: Result<Vec<i64>, AppError>) -> preau_domain::FieldError {
    match r {
        Err(AppError::Conflict(f)) => f,
        other => panic!("expected a conflict, got {other:?}"),
    }
}

fn invalid(r: Result<Vec<i64>, AppError>) -> Vec<&'static str> {
    match r {
        Err(AppError::Invalid(e)) => e.iter().map(|f| f.code).collect(),
        other => panic!("expected invalid input, got {other:?}"),
    }
}

#[tokio::test]
async fn a_clash_is_refused_naming_who_holds_the_slot() {
    let app = TestApp::demo().await;
    let (school, b) = room_bookable(&app).await;
    let teacher = principal(&app, "enseignant").await;
    let head = principal(&app, "directeur").await;
    let class = int(
        &app,
        &format!("SELECT MIN(c.id) FROM classes c JOIN school_years y ON y.id = c.school_year_id WHERE c.school_id = {school} AND y.label = '2026-2027'"),
    )
    .await;
    let label: String = preau_core::with_db!(&app.db, p => sqlx::query_scalar("SELECT label FROM classes WHERE id = $1").bind(class).fetch_one(p).await.unwrap());
    let thursday = day(2027, 3, 4);
    let mut first = ask(b, None, thursday, MORNING);
    first.class_id = Some(class);
    assert_eq!(book(&app, &teacher, &first, t0()).await.unwrap().len(), 1);
    // The directrice asks for the same slot: refused, naming the class and who booked it.
    let f = conflict(book(&app, &head, &ask(b, None, thursday, MORNING), t0()).await);
    assert_eq!((f.field.as_str(), f.code), ("slot", "slot_taken"));
    let message = f.message(preau_domain::Lang::Fr);
    assert!(
        message.contains(&label)
            && message.contains("Luc Enseignant")
            && message.contains("jeudi 4 mars"),
        "{message}"
    );
    let held =
        format!("SELECT COUNT(*) FROM bookings WHERE bookable_id = {b} AND cancelled_at IS NULL");
    assert_eq!(int(&app, &held).await, 1);
    // The afternoon is free.
    book(&app, &head, &ask(b, None, thursday, AFTERNOON), t0())
        .await
        .unwrap();
    // Not a slot: a Sunday, an hour that is none of the school's slots; a slot over.
    assert_eq!(
        invalid(book(&app, &head, &ask(b, None, day(2027, 3, 7), MORNING), t0()).await),
        ["not_a_slot"]
    );
    assert_eq!(
        invalid(
            book(
                &app,
                &head,
                &ask(b, None, day(2027, 3, 5), "08:00-09:00"),
                t0()
            )
            .await
        ),
        ["not_a_slot"]
    );
    let late = preau_domain::paris::at(day(2027, 3, 5), 12, 0);
    assert_eq!(
        invalid(book(&app, &head, &ask(b, None, day(2027, 3, 5), MORNING), late).await),
        ["in_past"]
    );
    // The élu reads, books nothing; a school it is not shared with is refused.
    let elu = principal(&app, "elu").await;
    assert!(matches!(
        book(&app, &elu, &ask(b, None, day(2027, 3, 5), MORNING), t0()).await,
        Err(AppError::Forbidden)
    ));
    let tech = principal(&app, "technicien").await;
    let other = int(
        &app,
        &format!("SELECT MIN(id) FROM schools WHERE id <> {school}"),
    )
    .await;
    assert_eq!(
        invalid(
            book(
                &app,
                &tech,
                &ask(b, Some(other), day(2027, 3, 5), MORNING),
                t0()
            )
            .await
        ),
        ["not_shared"]
    );
    // Shared with the other school, 60 minutes away: the teacher's morning then the other
    // school's afternoon fit (two hours between them); at 150 minutes they do not.
    let admin = principal(&app, "admin").await;
    let version = |app: &TestApp| {
        let db = app.db.clone();
        async move {
            preau_core::with_db!(&db, p => sqlx::query_scalar::<_, i64>("SELECT version FROM bookables WHERE id = $1").bind(b).fetch_one(p).await.unwrap())
        }
    };
    for (minutes, monday, fits) in [(60, day(2027, 3, 8), true), (150, day(2027, 3, 9), false)] {
        let mut tx = app.db.begin().await.unwrap();
        bookings::update_bookable(
            &mut tx,
            &admin,
            b,
            version(&app).await,
            &BookableChange {
                name: "Salle informatique".into(),
                move_minutes: minutes,
                shared: Some(vec![other]),
                active: true,
                renew_feed: false,
            },
            Utc::now(),
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        book(&app, &teacher, &ask(b, None, monday, MORNING), t0())
            .await
            .unwrap();
        let r = book(&app, &tech, &ask(b, Some(other), monday, AFTERNOON), t0()).await;
        if fits {
            r.unwrap();
        } else {
            let f = conflict(r);
            assert!(
                f.message(preau_domain::Lang::Fr).contains("Luc Enseignant"),
                "{f:?}"
            );
        }
    }
    // The other school's week shows the slot kept for the move, its own booking as its.
    let w = bookings::week(&app.db, &tech, other, day(2027, 3, 9), 1, Some(b), t0())
        .await
        .unwrap();
    let tuesday = &w.days[1].cells[0];
    assert!(
        matches!(tuesday[1].state, bookings::CellState::Moving(_)),
        "{tuesday:?}"
    );
    // Only the directeur may not share it; the teacher may not make it bookable at all.
    let mut tx = app.db.begin().await.unwrap();
    let r = bookings::update_bookable(
        &mut tx,
        &head,
        b,
        version(&app).await,
        &BookableChange {
            name: "Salle informatique".into(),
            move_minutes: 150,
            shared: Some(vec![]),
            active: true,
            renew_feed: false,
        },
        Utc::now(),
    )
    .await;
    assert!(matches!(r, Err(AppError::Forbidden)), "{r:?}");
    drop(tx);
    // Cancelling: one's own, and the directrice any of her school's; the teacher not the
    // directrice's.
    let own = int(
        &app,
        &format!(
            "SELECT MIN(id) FROM bookings WHERE bookable_id = {b} AND booked_by = {}",
            teacher.user_id
        ),
    )
    .await;
    let heads = int(
        &app,
        &format!(
            "SELECT MIN(id) FROM bookings WHERE bookable_id = {b} AND booked_by = {}",
            head.user_id
        ),
    )
    .await;
    assert!(matches!(
        cancel(&app, &teacher, heads, false).await,
        Err(AppError::Forbidden)
    ));
    assert_eq!(cancel(&app, &teacher, own, false).await.unwrap(), 1);
    assert!(matches!(
        cancel(&app, &teacher, own, false).await,
        Err(AppError::Conflict(_))
    ));
    assert_eq!(cancel(&app, &head, heads, false).await.unwrap(), 1);
    // The slot freed can be booked again.
    book(&app, &head, &ask(b, None, thursday, MORNING), t0())
        .await
        .unwrap();
    let audit = int(
        &app,
        "SELECT COUNT(*) FROM audit_log WHERE object_type = 'booking'",
    )
    .await;
    assert!(audit >= 8, "{audit}");
}

#[tokio::test]
async fn weekly_repeats_skip_holidays_and_cancel_the_rest() {
    let app = TestApp::demo().await;
    let (school, b) = room_bookable(&app).await;
    let teacher = principal(&app, "enseignant").await;
    let head = principal(&app, "directeur").await;
    // Holidays of 2026-2027 imported as the official export gives them (zone C: the demo's).
    let export = "description;start_date;end_date;zones;location;population;annee_scolaire\n\
        Vacances de Noël;2026-12-19;2027-01-04;Zone C;;-;2026-2027\n\
        Vacances de Printemps;2027-04-10;2027-04-26;Zone C;;-;2026-2027\n";
    let mut tx = app.db.begin().await.unwrap();
    let imported = preau_core::calendar::import(&mut tx, export).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(imported.added, 2);
    let cal = preau_core::calendar::of_school(&app.db, school)
        .await
        .unwrap();
    // Thursdays from 4 March to 13 May 2027: the spring holidays and Ascension (6 May) fall
    // in between.
    let (from, until) = (day(2027, 3, 4), day(2027, 5, 13));
    let thursdays: Vec<NaiveDate> = (0..11).map(|i| from + chrono::Duration::weeks(i)).collect();
    let expected: Vec<NaiveDate> = thursdays
        .iter()
        .copied()
        .filter(|d| cal.is_working_day(*d))
        .collect();
    // Two Thursdays of spring holidays and Ascension (a public holiday) are skipped.
    assert_eq!(expected.len(), 8, "{expected:?}");
    assert!(!expected.contains(&day(2027, 5, 6)) && !expected.contains(&day(2027, 4, 15)));
    // A clash on one of them refuses the whole repeat; nothing is written.
    book(&app, &head, &ask(b, None, expected[3], MORNING), t0())
        .await
        .unwrap();
    let mut weekly = ask(b, None, from, MORNING);
    weekly.repeat_until = Some(until);
    let f = conflict(book(&app, &teacher, &weekly, t0()).await);
    assert!(
        f.message(preau_domain::Lang::Fr)
            .contains("Sophie Directrice"),
        "{f:?}"
    );
    let count = format!("SELECT COUNT(*) FROM bookings WHERE bookable_id = {b}");
    assert_eq!(int(&app, &count).await, 1);
    // The afternoon is free every Thursday: one booking per class Thursday.
    let mut weekly = ask(b, None, from, AFTERNOON);
    weekly.repeat_until = Some(until);
    let ids = book(&app, &teacher, &weekly, t0()).await.unwrap();
    let days: Vec<NaiveDate> = preau_core::with_db!(&app.db, p => {
        sqlx::query_scalar("SELECT day FROM bookings WHERE bookable_id = $1 AND repeat_id = $2 ORDER BY day").bind(b).bind(ids[0]).fetch_all(p).await.unwrap()
    });
    assert_eq!(days, expected);
    assert!(days.iter().all(|d| d.weekday() == chrono::Weekday::Thu));
    // A repeat before its first day, or beyond a year, is refused by field.
    let mut bad = ask(b, None, from, AFTERNOON);
    bad.repeat_until = Some(day(2027, 3, 1));
    assert_eq!(
        invalid(book(&app, &teacher, &bad, t0()).await),
        ["before_start"]
    );
    // Cancelling the third and those after it leaves the first two.
    let n = cancel(&app, &teacher, ids[2], true).await.unwrap();
    assert_eq!(n, ids.len() - 2);
    let left = format!(
        "SELECT COUNT(*) FROM bookings WHERE repeat_id = {} AND cancelled_at IS NULL",
        ids[0]
    );
    assert_eq!(int(&app, &left).await, 2);
}

#[tokio::test]
async fn a_cart_lent_to_a_class_as_a_set_is_unavailable() {
    let app = TestApp::demo().await;
    let teacher = principal(&app, "enseignant").await;
    // The demo's cart whose tablets are lent to a class.
    let b = int(&app, "SELECT b.id FROM bookables b WHERE EXISTS (SELECT 1 FROM devices t JOIN loans l ON l.device_id = t.id AND l.returned_on IS NULL AND l.kind = 'classe' WHERE t.parent_id = b.device_id)").await;
    let class: String = preau_core::with_db!(&app.db, p => sqlx::query_scalar("SELECT c.label FROM bookables b JOIN devices t ON t.parent_id = b.device_id JOIN loans l ON l.device_id = t.id AND l.returned_on IS NULL JOIN classes c ON c.id = l.class_id WHERE b.id = $1 LIMIT 1").bind(b).fetch_one(p).await.unwrap());
    let f = conflict(
        book(
            &app,
            &teacher,
            &ask(b, None, day(2027, 3, 4), MORNING),
            t0(),
        )
        .await,
    );
    assert_eq!(f.code, "lent_to_class");
    assert!(f.message(preau_domain::Lang::Fr).contains(&class), "{f:?}");
    let r = bookings::bookable(&app.db, &teacher, b).await.unwrap();
    assert_eq!(r.lent.as_ref().map(|l| l.0.as_str()), Some(class.as_str()));
    let w = bookings::week(
        &app.db,
        &teacher,
        r.school_id,
        day(2027, 3, 1),
        1,
        Some(b),
        t0(),
    )
    .await
    .unwrap();
    assert!(
        w.days
            .iter()
            .flat_map(|d| d.cells[0].iter())
            .all(|c| matches!(c.state, bookings::CellState::Lent(_))),
        "{:?}",
        w.days
    );
    // The tablets back: bookable again.
    preau_core::with_db!(&app.db, p => {
        sqlx::query("UPDATE loans SET returned_on = $1 WHERE returned_on IS NULL AND device_id IN (SELECT t.id FROM devices t JOIN bookables b ON t.parent_id = b.device_id WHERE b.id = $2)").bind(day(2027, 2, 26)).bind(b).execute(p).await.unwrap();
    });
    book(
        &app,
        &teacher,
        &ask(b, None, day(2027, 3, 4), MORNING),
        t0(),
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn a_booked_visio_kit_makes_the_room_ready() {
    let app = TestApp::demo().await;
    let admin = principal(&app, "admin").await;
    // A session to come whose room loses its camera, micro and kit.
    let now = Utc::now();
    let (id, room, school, starts, ends): (i64, i64, i64, DateTime<Utc>, DateTime<Utc>) = preau_core::with_db!(&app.db, p => {
        sqlx::query_as("SELECT v.id, v.room_id, v.school_id, v.starts_at, v.ends_at FROM visio_sessions v WHERE v.status = 'prevue' AND v.starts_at > $1 AND NOT EXISTS (SELECT 1 FROM bookables b WHERE b.school_id = v.school_id OR b.id IN (SELECT bookable_id FROM bookable_schools WHERE school_id = v.school_id)) ORDER BY v.starts_at LIMIT 1 OFFSET 2").bind(now + chrono::Duration::days(1)).fetch_one(p).await.unwrap()
    });
    preau_core::with_db!(&app.db, p => {
        sqlx::query("UPDATE devices SET state = 'reforme' WHERE room_id = $1 AND category_id IN (SELECT id FROM device_categories WHERE code IN ('kit_visio', 'webcam', 'visualiseur', 'micro'))").bind(room).execute(p).await.unwrap();
    });
    let place = preau_core::visio::SessionPlace {
        id,
        room_id: room,
        school_id: school,
        starts_at: starts,
        ends_at: ends,
    };
    let before = preau_core::visio::session_readiness(&app.db, &[place])
        .await
        .unwrap();
    let missing =
        |r: &preau_domain::visio::Readiness| r.missing.iter().map(|n| n.code()).collect::<Vec<_>>();
    let was = missing(&before[&id]);
    assert!(was.contains(&"camera") && was.contains(&"micro"), "{was:?}");
    // A mobile kit of the school, bookable, booked for the slot of the session.
    let category = int(
        &app,
        "SELECT MIN(id) FROM device_categories WHERE code = 'kit_visio'",
    )
    .await;
    let kit: i64 = preau_core::with_db!(&app.db, p => {
        sqlx::query_scalar("INSERT INTO devices (collectivite_id, category_id, school_id, name, state, state_since, search_key, created_at, updated_at) VALUES ($1, $2, $3, 'Kit visio volant', 'en_service', $4, 'kit visio volant', $5, $5) RETURNING id")
            .bind(admin.collectivite_id).bind(category).bind(school).bind(day(2026, 9, 1)).bind(now).fetch_one(p).await.unwrap()
    });
    let mut tx = app.db.begin().await.unwrap();
    let b = bookings::create_bookable(
        &mut tx,
        &admin,
        &BookableInput {
            device_id: Some(kit),
            ..BookableInput::default()
        },
        now,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let d = preau_domain::paris::day(starts);
    let days = bookings::school_days(&app.db, school).await.unwrap();
    let s = days
        .slots(d)
        .into_iter()
        .find(|s| {
            let (a, z) = s.on(d);
            a <= starts && ends <= z
        })
        .expect("the session falls in a slot");
    book(&app, &admin, &ask(b, Some(school), d, &s.code()), now)
        .await
        .unwrap();
    let after = preau_core::visio::session_readiness(&app.db, &[place])
        .await
        .unwrap();
    let now_missing = missing(&after[&id]);
    assert!(
        !now_missing.contains(&"camera") && !now_missing.contains(&"micro"),
        "{now_missing:?}"
    );
    // A broken kit (an urgent ticket open on it) counts for nothing.
    let tech = principal(&app, "technicien").await;
    let v = preau_core::tickets::TicketInput {
        school_id: Some(school),
        device_ids: vec![kit],
        category: "son_visio".into(),
        priority: "p1".into(),
        description: Some("Le kit ne s'allume plus".into()),
        ..Default::default()
    }
    .parse()
    .unwrap();
    preau_core::write_tx!(app.db, tx => preau_core::tickets::open(tx, &tech, &v, now).await?)
        .unwrap();
    let broken = preau_core::visio::session_readiness(&app.db, &[place])
        .await
        .unwrap();
    assert!(missing(&broken[&id]).contains(&"camera"));
}

#[tokio::test]
async fn bookings_through_the_api_the_pages_and_the_feed() {
    let app = TestApp::demo().await;
    let teacher = app.token("enseignant").await;
    let school = int(&app, "SELECT school_id FROM role_assignments a JOIN users u ON u.id = a.user_id WHERE u.login = 'enseignant'").await;
    let list = app
        .api(
            &teacher,
            Method::GET,
            &format!("/api/v1/bookable?school={school}"),
            None,
        )
        .await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.body);
    let v: serde_json::Value = serde_json::from_str(&list.body).unwrap();
    let items = v["items"].as_array().unwrap();
    assert!(items.len() >= 3, "{}", list.body);
    // The school's own cart, free (not lent as a set).
    let cart = items
        .iter()
        .find(|i| {
            i["school_id"] == school && i["kind"] == "classe_mobile" && i["lent_to_class"].is_null()
        })
        .unwrap();
    let (b, feed) = (
        cart["id"].as_i64().unwrap(),
        cart["feed"].as_str().unwrap().to_string(),
    );
    // A class day a fortnight ahead with a free morning.
    let days = bookings::school_days(&app.db, school).await.unwrap();
    let now = Utc::now();
    let mut d = bookings::next_class_day(
        &days,
        preau_domain::paris::day(now) + chrono::Duration::days(14),
        now,
    );
    while days.slots(d).is_empty() {
        d += chrono::Duration::days(1);
    }
    let morning = days.slots(d)[0].code();
    let body = json!({"bookable_id": b, "day": d.to_string(), "slot": morning, "note": "Dictée"});
    let made = app
        .api(
            &teacher,
            Method::POST,
            "/api/v1/bookings",
            Some(body.clone()),
        )
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    let v: serde_json::Value = serde_json::from_str(&made.body).unwrap();
    let id = v["items"][0]["id"].as_i64().unwrap();
    assert_eq!(v["items"][0]["slot"], morning);
    // The same slot again: 409, naming who holds it.
    let head = app.token("directeur").await;
    let again = app
        .api(&head, Method::POST, "/api/v1/bookings", Some(body.clone()))
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.body);
    assert!(
        again.body.contains("Luc Enseignant") && again.body.contains("slot_taken"),
        "{}",
        again.body
    );
    // Bad input names its field; roles that do not book are refused.
    let bad = app
        .api(
            &teacher,
            Method::POST,
            "/api/v1/bookings",
            Some(json!({"bookable_id": b, "day": "2027-13-01", "slot": "matin"})),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.body);
    assert!(
        bad.body.contains("\"day\"") && bad.body.contains("\"slot\""),
        "{}",
        bad.body
    );
    let elu = app.token("elu").await;
    assert_eq!(
        app.api(&elu, Method::POST, "/api/v1/bookings", Some(body.clone()))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let contractor = app.token("prestataire").await;
    assert_eq!(
        app.api(
            &contractor,
            Method::POST,
            "/api/v1/bookings",
            Some(body.clone())
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );
    // Listed for the resource and as the teacher's own.
    let mine = app
        .api(
            &teacher,
            Method::GET,
            "/api/v1/bookings?mine=true&limit=500",
            None,
        )
        .await;
    assert!(
        mine.body.contains(&format!("\"id\":{id},")),
        "{}",
        mine.body
    );
    let of = app
        .api(
            &head,
            Method::GET,
            &format!("/api/v1/bookings?bookable={b}&from={d}&to={d}"),
            None,
        )
        .await;
    let v: serde_json::Value = serde_json::from_str(&of.body).unwrap();
    assert_eq!(v["items"].as_array().unwrap().len(), 1, "{}", of.body);
    assert_eq!(v["items"][0]["booked_by"], "Luc Enseignant");
    // The feed, without signing in: the booking, no person's name.
    let ics = app.request(Method::GET, &feed, &[], None).await;
    assert_eq!(ics.status, StatusCode::OK);
    assert!(
        ics.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/calendar")
    );
    assert!(
        ics.body.contains(&format!("UID:reservation-{id}@preau"))
            && !ics.body.contains("Luc Enseignant"),
        "{}",
        ics.body
    );
    assert_eq!(
        app.request(Method::GET, "/calendrier/0123.ics", &[], None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    // Cancelled through the API: 204, then 409.
    assert_eq!(
        app.api(
            &teacher,
            Method::DELETE,
            &format!("/api/v1/bookings/{id}"),
            None
        )
        .await
        .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.api(
            &teacher,
            Method::DELETE,
            &format!("/api/v1/bookings/{id}"),
            None
        )
        .await
        .status,
        StatusCode::CONFLICT
    );
    // The pages: the week, the form, a booking made, a clash shown with its holder.
    let s = app.login("enseignant", "demo").await;
    let week = s.get(&format!("/reservations?bookable={b}&week={d}")).await;
    assert_eq!(week.status, StatusCode::OK);
    let form_link = format!(
        "/reservations/new?bookable={b}&#38;school={school}&#38;day={d}&#38;slot={morning}"
    );
    assert!(week.body.contains(&form_link), "{}", week.body);
    let form = s.get(&form_link.replace("&#38;", "&")).await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    let fields = [
        ("bookable", b.to_string()),
        ("school", school.to_string()),
        ("day", d.to_string()),
        ("slot", morning.clone()),
        ("class_id", "none".to_string()),
        ("note", String::new()),
    ];
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let done = s.post("/reservations", &fields).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let h = app.login("directeur", "demo").await;
    let clash = h.post("/reservations", &fields).await;
    assert_eq!(clash.status, StatusCode::CONFLICT);
    assert!(clash.body.contains("Luc Enseignant"), "{}", clash.body);
    let booked = int(
        &app,
        &format!("SELECT MAX(id) FROM bookings WHERE bookable_id = {b} AND cancelled_at IS NULL"),
    )
    .await;
    let page = s.get(&format!("/reservations/{booked}")).await;
    assert!(
        page.body.contains("Annuler la réservation"),
        "{}",
        page.body
    );
    assert_eq!(
        s.post(&format!("/reservations/{booked}/cancel"), &[])
            .await
            .status,
        StatusCode::SEE_OTHER
    );
    // The resources page: the directrice's, not the teacher's.
    assert_eq!(
        h.get("/reservations/ressources").await.status,
        StatusCode::OK
    );
    assert_eq!(
        s.get("/reservations/ressources").await.status,
        StatusCode::FORBIDDEN
    );
    // A new feed address: the old one stops answering.
    let admin = principal(&app, "admin").await;
    let version = int(
        &app,
        &format!("SELECT version FROM bookables WHERE id = {b}"),
    )
    .await;
    let name: String = preau_core::with_db!(&app.db, p => sqlx::query_scalar("SELECT name FROM bookables WHERE id = $1").bind(b).fetch_one(p).await.unwrap());
    let mut tx = app.db.begin().await.unwrap();
    bookings::update_bookable(
        &mut tx,
        &admin,
        b,
        version,
        &BookableChange {
            name,
            move_minutes: 0,
            shared: None,
            active: true,
            renew_feed: true,
        },
        Utc::now(),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        app.request(Method::GET, &feed, &[], None).await.status,
        StatusCode::NOT_FOUND
    );
}
