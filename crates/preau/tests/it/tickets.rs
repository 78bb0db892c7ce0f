//! Assistance: the report form, routing to the lot or the technician, the clocks on the
//! school calendar with pauses, penalties and the monthly report, two people taking the
//! same ticket, auto-closing and reopening, the contractor's view, bad input, the API.
//! Every instant is given to the use cases: nothing sleeps.

use axum::http::{Method, StatusCode};
use chrono::{DateTime, Utc};
use preau_core::tickets::{self, TicketInput};
use preau_core::{contracts, reports, write_tx};
use preau_domain::Principal;
use preau_domain::paris;
use preau_domain::ticket::TicketStatus;
use serde_json::json;

use crate::harness::{TestApp, first_and_other_school};

fn paris(s: &str) -> DateTime<Utc> {
    preau_domain::paris::parse(s).unwrap()
}

fn local(t: DateTime<Utc>) -> String {
    preau_domain::paris::input(t)
}

pub async fn principal(app: &TestApp, login: &str) -> Principal {
    let u = preau_core::users::find_by_login(&app.db, login)
        .await
        .unwrap()
        .unwrap();
    preau_core::users::principal(&app.db, u.id)
        .await
        .unwrap()
        .unwrap()
}

async fn first_classroom(app: &TestApp, school: i64) -> i64 {
    preau_core::with_db!(&app.db, p => sqlx::query_scalar("SELECT MIN(id) FROM rooms WHERE school_id = $1 AND kind = 'classe'").bind(school).fetch_one(p).await.unwrap())
}

/// Opens a ticket as `who` at `at`.
pub async fn open(
    app: &TestApp,
    who: &Principal,
    room: Option<i64>,
    school: Option<i64>,
    category: &str,
    priority: &str,
    at: DateTime<Utc>,
) -> tickets::Ticket {
    let v = TicketInput {
        school_id: school,
        room_id: room,
        category: category.into(),
        priority: priority.into(),
        description: Some("Le tableau ne répond plus".into()),
        ..Default::default()
    }
    .parse()
    .unwrap();
    write_tx!(app.db, tx => tickets::open(tx, who, &v, at).await?).unwrap()
}

#[tokio::test]
async fn a_teacher_reports_from_the_room_in_three_clicks_and_follows_the_ticket() {
    let app = TestApp::demo().await;
    let (a, _) = first_and_other_school(&app).await;
    let room = first_classroom(&app, a).await;
    let teacher = app.login("enseignant", "demo").await;
    // Click 1: the room page's button.
    let page = teacher.get(&format!("/rooms/{room}")).await;
    let link = format!("/tickets/new?room_id={room}");
    assert!(page.body.contains(&link), "{}", page.body);
    let form = teacher.get(&link).await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.body.contains("name=\"category\"") && form.body.contains("value=\"p2\" checked"));
    // Click 2 (a category) and 3 (send), with a photo.
    let jpeg = b"\xFF\xD8\xFF\xE0\x00\x10JFIF\x00photo";
    let room_s = room.to_string();
    let r = teacher
        .post_file(
            "/tickets",
            &[
                ("room_id", &room_s),
                ("category", "ecran"),
                ("priority", "p2"),
            ],
            Some(("photo", "tni.jpg", jpeg)),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let to = r.location();
    assert!(
        to.starts_with("/tickets/") && to.ends_with("flash=ticket_created"),
        "{to}"
    );
    let id: i64 = to
        .trim_start_matches("/tickets/")
        .split('?')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let page = teacher.get(&format!("/tickets/{id}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("Armor Services"),
        "routed to lot 1: {}",
        page.body
    );
    assert!(page.body.contains("tni.jpg"));
    // The teacher reads the deadlines in plain words, not the contract's.
    assert!(
        page.body.contains("Prise en charge")
            && page.body.contains("Réparation")
            && page.body.contains("prévue avant le"),
        "{}",
        page.body
    );
    for jargon in ["GTI", "GTR", "ouvrées", "ouvrés", "Délais du marché"] {
        assert!(!page.body.contains(jargon), "{jargon} shown to a teacher");
    }
    // The technician, who runs the contract, reads its terms.
    let tech = app.login("technicien", "demo").await;
    let page = tech.get(&format!("/tickets/{id}")).await;
    assert!(page.body.contains("GTI") && page.body.contains("GTR"));
    let size = page
        .body
        .split("(image/jpeg, ")
        .nth(1)
        .and_then(|s| s.split(')').next());
    assert_eq!(size, Some("&#60; 1 Ko"), "a size people read");
    // The photo comes back as the JPEG it is, and never as something the browser runs.
    let photo_href = page
        .body
        .split("href=\"")
        .find(|s| s.starts_with(&format!("/tickets/{id}/attachments/")))
        .and_then(|s| s.split('"').next())
        .unwrap()
        .to_string();
    let photo = teacher.get(&photo_href).await;
    assert_eq!(photo.status, StatusCode::OK);
    assert_eq!(photo.headers["content-type"], "image/jpeg");
    assert_eq!(photo.headers["x-content-type-options"], "nosniff");
    assert_eq!(photo.body_bytes(), jpeg);
    // The teacher sees it in their list; the contractor of the lot and the head too.
    let mine = teacher.get("/tickets").await;
    assert!(mine.body.contains(&format!("/tickets/{id}\"")));
    for login in ["directeur", "prestataire", "technicien", "admin"] {
        let s = app.login(login, "demo").await;
        assert_eq!(
            s.get(&format!("/tickets/{id}")).await.status,
            StatusCode::OK,
            "{login}"
        );
    }
    // Élus and the Éducation nationale see figures, not tickets.
    for login in ["elu", "erun"] {
        let s = app.login(login, "demo").await;
        assert_eq!(
            s.get(&format!("/tickets/{id}")).await.status,
            StatusCode::NOT_FOUND,
            "{login}"
        );
    }
    // Without a category: the form again, saying what is missing; nothing stored.
    let before = app.scalar("SELECT COUNT(*) FROM tickets").await;
    let r = teacher
        .post_file(
            "/tickets",
            &[("room_id", &room_s), ("priority", "p1")],
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("Choisissez ce qui ne va pas"));
    // A file that is no photo: refused by its bytes, whatever its name.
    let r = teacher
        .post_file(
            "/tickets",
            &[
                ("room_id", &room_s),
                ("category", "ecran"),
                ("priority", "p2"),
            ],
            Some(("photo", "photo.jpg", b"<svg onload=alert(1)>")),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("Type de fichier refusé"), "{}", r.body);
    assert_eq!(app.scalar("SELECT COUNT(*) FROM tickets").await, before);
    // The QR label's address: the report form for the school's staff, the device page
    // for technicians.
    let dev: i64 = preau_core::with_db!(&app.db, p => sqlx::query_scalar("SELECT MIN(id) FROM devices WHERE room_id = $1").bind(room).fetch_one(p).await.unwrap());
    let r = teacher.get(&format!("/q/{dev}")).await;
    assert_eq!(r.location(), format!("/tickets/new?device_id={dev}"));
    let tech = app.login("technicien", "demo").await;
    assert_eq!(
        tech.get(&format!("/q/{dev}")).await.location(),
        format!("/devices/{dev}")
    );
    let anon = app
        .request(Method::GET, &format!("/q/{dev}"), &[], None)
        .await;
    assert!(anon.location().starts_with("/login?next="), "login first");
}

#[tokio::test]
async fn clocks_run_on_the_school_calendar_pause_on_the_school_and_cost_penalties() {
    let app = TestApp::demo().await;
    let (a, _) = first_and_other_school(&app).await;
    let room = first_classroom(&app, a).await;
    let teacher = principal(&app, "enseignant").await;
    let presta = principal(&app, "prestataire").await;
    // Monday 16 March 2026, 9:00; lot 1, P1: GTI 4 working hours, GTR one school day.
    let t = open(
        &app,
        &teacher,
        Some(room),
        None,
        "ecran",
        "p1",
        paris("2026-03-16 09:00"),
    )
    .await;
    assert!(t.lot_id.is_some());
    assert_eq!(
        local(t.gti_due_at.unwrap()),
        "2026-03-16 15:00",
        "lunch is not counted"
    );
    assert_eq!(local(t.gtr_due_at.unwrap()), "2026-03-17 09:00");
    let t =
        write_tx!(app.db, tx => tickets::take(tx, &presta, t.id, paris("2026-03-16 10:00")).await?)
            .unwrap();
    assert_eq!(t.status(), TicketStatus::PrisEnCharge);
    // Waiting on the school from Monday 14:00 to Tuesday 14:00: six working hours.
    let t = write_tx!(app.db, tx => tickets::set_status(tx, &presta, t.id, t.version, TicketStatus::AttenteEcole, Some("Merci de laisser la salle ouverte jeudi"), paris("2026-03-16 14:00")).await?).unwrap();
    let t = write_tx!(app.db, tx => tickets::set_status(tx, &presta, t.id, t.version, TicketStatus::EnCours, None, paris("2026-03-17 14:00")).await?).unwrap();
    // The GTR resumes with the three working hours it had left: Tuesday 14:00–16:30,
    // then Thursday (no class on Wednesday) 8:30–9:00.
    assert_eq!(local(t.gtr_due_at.unwrap()), "2026-03-19 09:00");
    assert!(!t.gti_breached);
    let t = write_tx!(app.db, tx => tickets::set_status(tx, &presta, t.id, t.version, TicketStatus::Resolu, Some("Câble HDMI remplacé"), paris("2026-03-19 10:30")).await?).unwrap();
    assert!(t.gtr_breached);
    // The monthly report: 1 h 30 late, two hours started at 80 € = 160 €, shown.
    let admin = principal(&app, "admin").await;
    let contract: i64 = app.scalar("SELECT MIN(id) FROM contracts").await;
    let r = reports::monthly(
        &app.db,
        &admin,
        contract,
        reports::Month::parse("2026-03").unwrap(),
        paris("2026-04-01 08:00"),
    )
    .await
    .unwrap();
    let line = r
        .lots
        .iter()
        .flat_map(|l| &l.lines)
        .find(|l| l.ticket.id == t.id)
        .unwrap();
    assert_eq!((line.gtr_late_minutes, line.gti_late_minutes), (90, 0));
    assert_eq!(line.penalty.gtr.units, 2);
    assert_eq!(line.penalty.cents, 16_000);
    assert_eq!(line.gti_met, Some(true));
    let session = app.login("admin", "demo").await;
    let page = session
        .get(&format!("/reports/sla?contract={contract}&month=2026-03"))
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body
            .contains("GTR : 2 h × 80,00\u{a0}€ = 160,00\u{a0}€"),
        "{}",
        page.body
    );
    let csv = session
        .get(&format!(
            "/reports/sla/csv?contract={contract}&month=2026-03"
        ))
        .await;
    assert!(csv.body.contains(&format!(";{};", t.number)) && csv.body.contains("160,00"));
    let xlsx = session
        .get(&format!(
            "/reports/sla/xlsx?contract={contract}&month=2026-03"
        ))
        .await;
    // The workbook read back: the ticket's row, its penalty a number.
    let sheets = crate::harness::xlsx_sheets(xlsx.body_bytes());
    let row = sheets[0]
        .1
        .lines()
        .find(|l| l.split('\t').any(|c| c == t.number.to_string()))
        .unwrap_or_default()
        .to_string();
    assert!(
        row.split('\t').any(|c| c == "160" || c == "160.00"),
        "{row}"
    );
    // A ticket opened on a Sunday evening does not get a zero delay: it starts on Monday.
    let t = open(
        &app,
        &teacher,
        Some(room),
        None,
        "ecran",
        "p1",
        paris("2026-03-22 20:00"),
    )
    .await;
    assert_eq!(local(t.gti_due_at.unwrap()), "2026-03-23 14:30");
}

#[tokio::test]
async fn two_people_taking_the_same_ticket_one_wins_the_other_is_told() {
    let app = TestApp::demo().await;
    let (a, _) = first_and_other_school(&app).await;
    let teacher = principal(&app, "enseignant").await;
    // A printer: no lot covers it, the school's technician gets it.
    let t = open(
        &app,
        &teacher,
        None,
        Some(a),
        "imprimante",
        "p2",
        Utc::now(),
    )
    .await;
    assert!(t.lot_id.is_none() && t.assignee_user_id.is_some());
    let tech = principal(&app, "technicien").await;
    let admin = principal(&app, "admin").await;
    let now = Utc::now();
    let (x, y) = tokio::join!(
        async { write_tx!(app.db, tx => tickets::take(tx, &tech, t.id, now).await?) },
        async { write_tx!(app.db, tx => tickets::take(tx, &admin, t.id, now).await?) },
    );
    let wins = [x.is_ok(), y.is_ok()];
    assert_eq!(wins.iter().filter(|w| **w).count(), 1, "{x:?} {y:?}");
    let loser = if x.is_ok() { y } else { x };
    match loser {
        Err(preau_core::AppError::Conflict(e)) => assert_eq!(e.code, "already_taken"),
        other => panic!("{other:?}"),
    }
    // Through the page: the second click gets the ticket again with the explanation.
    let t2 = open(
        &app,
        &teacher,
        None,
        Some(a),
        "imprimante",
        "p2",
        Utc::now(),
    )
    .await;
    let s1 = app.login("technicien", "demo").await;
    let s2 = app.login("admin", "demo").await;
    let r = s1.post(&format!("/tickets/{}/take", t2.id), &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let r = s2.post(&format!("/tickets/{}/take", t2.id), &[]).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(
        r.body.contains("vient de prendre ce ticket en charge"),
        "{}",
        r.body
    );
    // A stale version on a status change is a conflict too, never a silent overwrite.
    let r = s2
        .post(
            &format!("/tickets/{}/status", t2.id),
            &[("version", "1"), ("status", "en_cours")],
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    // The history says who did what.
    let events = tickets::events(&app.db, &admin, t2.id).await.unwrap();
    assert_eq!(events.iter().filter(|e| e.kind == "taken").count(), 1);
    assert!(
        app.scalar("SELECT COUNT(*) FROM audit_log WHERE object_type = 'ticket'")
            .await
            >= 4
    );
}

#[tokio::test]
async fn editing_a_grid_keeps_the_terms_of_open_tickets_and_says_so() {
    let app = TestApp::demo().await;
    let (a, _) = first_and_other_school(&app).await;
    let room = first_classroom(&app, a).await;
    let teacher = principal(&app, "enseignant").await;
    let admin = principal(&app, "admin").await;
    let t = open(
        &app,
        &teacher,
        Some(room),
        None,
        "ecran",
        "p1",
        paris("2026-03-16 09:00"),
    )
    .await;
    let lot = t.lot_id.unwrap();
    let mut grid = contracts::default_grid();
    grid[0].1.gti = Some(preau_domain::calendar::Span::Minutes(60));
    let kept =
        write_tx!(app.db, tx => contracts::set_grid(tx, &admin, lot, &grid, Utc::now()).await?)
            .unwrap();
    assert!(kept >= 1);
    let same = tickets::get(&app.db, &admin, t.id).await.unwrap();
    assert_eq!(same.sla_gti.as_deref(), Some("4h"));
    assert_eq!(same.gti_due_at, t.gti_due_at);
    let newer = open(
        &app,
        &teacher,
        Some(room),
        None,
        "ecran",
        "p1",
        paris("2026-03-16 09:00"),
    )
    .await;
    assert_eq!(newer.sla_gti.as_deref(), Some("1h"));
    assert_eq!(local(newer.gti_due_at.unwrap()), "2026-03-16 10:00");
    // Through the page: the grid form says how many tickets keep their terms.
    let s = app.login("admin", "demo").await;
    let r = s
        .post(
            &format!("/lots/{lot}/grid"),
            &[
                ("p1.gti", "2h"),
                ("p1.gtr", "1d"),
                ("p1.unit", "heure"),
                ("p1.gti_penalty", "50"),
                ("p1.gtr_penalty", "80"),
                ("p2.gti", "1d"),
                ("p2.gtr", "3d"),
                ("p2.unit", "jour"),
                ("p3.unit", "jour"),
                ("p4.unit", "jour"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = s.get(&r.location()).await;
    assert!(
        page.body.contains("gardent leurs délais d&#39;origine"),
        "{}",
        page.body
    );
    // A bad span is named, and the stored grid is left as it was.
    let r = s
        .post(
            &format!("/lots/{lot}/grid"),
            &[("p1.gti", "quatre heures"), ("p1.unit", "heure")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("p1.gti"));
    let d = contracts::get(
        &app.db,
        &admin,
        app.scalar("SELECT MIN(id) FROM contracts").await,
    )
    .await
    .unwrap();
    let l = d.lots.iter().find(|l| l.lot.id == lot).unwrap();
    assert_eq!(l.grid[0].1.gti.map(|s| s.code()).as_deref(), Some("2h"));
}

#[tokio::test]
async fn resolved_tickets_close_after_five_school_days_and_the_school_can_reopen() {
    let app = TestApp::demo().await;
    let (a, _) = first_and_other_school(&app).await;
    let teacher = principal(&app, "enseignant").await;
    let tech = principal(&app, "technicien").await;
    let t = open(
        &app,
        &teacher,
        None,
        Some(a),
        "reseau",
        "p1",
        paris("2026-03-16 09:00"),
    )
    .await;
    assert!(t.lot_id.is_none());
    // Not taken by 14:30: three quarters of the 4 hours are gone, it is escalated once.
    let tick = tickets::tick(&app.db, paris("2026-03-16 14:30"))
        .await
        .unwrap();
    assert!(tick.escalated >= 1);
    let events = tickets::events(&app.db, &tech, t.id).await.unwrap();
    assert_eq!(events.iter().filter(|e| e.kind == "escalated").count(), 1);
    tickets::tick(&app.db, paris("2026-03-16 14:45"))
        .await
        .unwrap();
    let events = tickets::events(&app.db, &tech, t.id).await.unwrap();
    assert_eq!(
        events.iter().filter(|e| e.kind == "escalated").count(),
        1,
        "not twice"
    );
    // The internal escalation is not shown to the school.
    let seen = tickets::events(&app.db, &teacher, t.id).await.unwrap();
    assert!(seen.iter().all(|e| e.kind != "escalated"));
    let t = write_tx!(app.db, tx => tickets::set_status(tx, &tech, t.id, t.version, TicketStatus::Resolu, None, paris("2026-03-19 10:30")).await?).unwrap();
    // Five school days: Friday 20, Monday 23, Tuesday 24, Thursday 26, Friday 27.
    tickets::tick(&app.db, paris("2026-03-27 10:00"))
        .await
        .unwrap();
    assert_eq!(
        tickets::get(&app.db, &tech, t.id).await.unwrap().status(),
        TicketStatus::Resolu
    );
    tickets::tick(&app.db, paris("2026-03-27 11:00"))
        .await
        .unwrap();
    let closed = tickets::get(&app.db, &tech, t.id).await.unwrap();
    assert_eq!(closed.status(), TicketStatus::Clos);
    // The teacher reopens it: back to work, and the resolved time is a pause.
    let s = app.login("enseignant", "demo").await;
    let r = s
        .post(
            &format!("/tickets/{}/reopen", t.id),
            &[("reason", "Toujours pas de réseau")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let again = tickets::get(&app.db, &tech, t.id).await.unwrap();
    assert_eq!(again.status(), TicketStatus::EnCours);
    assert!(again.resolved_at.is_none());
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM ticket_pauses WHERE reason = 'resolu'")
            .await,
        1
    );
    // A reason is required.
    let r = s
        .post(&format!("/tickets/{}/reopen", t.id), &[("reason", "")])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    // Resolved, then confirmed by the school.
    let t = write_tx!(app.db, tx => tickets::set_status(tx, &tech, t.id, again.version, TicketStatus::Resolu, Some("Borne redémarrée"), Utc::now()).await?).unwrap();
    let r = s.post(&format!("/tickets/{}/confirm", t.id), &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(
        tickets::get(&app.db, &tech, t.id).await.unwrap().status(),
        TicketStatus::Clos
    );
}

#[tokio::test]
async fn a_contractor_sees_its_lots_only_and_no_money() {
    let app = TestApp::demo().await;
    let (a, b) = first_and_other_school(&app).await;
    let teacher = principal(&app, "enseignant").await;
    let admin = principal(&app, "admin").await;
    let printer = open(
        &app,
        &teacher,
        None,
        Some(a),
        "imprimante",
        "p2",
        Utc::now(),
    )
    .await;
    let board = open(
        &app,
        &teacher,
        Some(first_classroom(&app, a).await),
        None,
        "ecran",
        "p2",
        Utc::now(),
    )
    .await;
    let token = app.token("prestataire").await;
    let presta = principal(&app, "prestataire").await;
    let r = app
        .api(
            &token,
            Method::GET,
            "/api/v1/tickets?status=all&limit=200",
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let items = r.json()["items"].as_array().unwrap().clone();
    assert!(!items.is_empty());
    assert!(items.iter().all(|t| {
        t["lot_id"]
            .as_i64()
            .is_some_and(|l| presta.lots.contains(&l))
    }));
    assert!(items.iter().all(|t| t["penalties"].is_null()));
    assert_eq!(
        app.api(
            &token,
            Method::GET,
            &format!("/api/v1/tickets/{}", printer.id),
            None
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );
    let one = app
        .api(
            &token,
            Method::GET,
            &format!("/api/v1/tickets/{}", board.id),
            None,
        )
        .await;
    assert_eq!(one.status, StatusCode::OK);
    assert!(one.json()["deadlines"]["gti"]["due"].is_string());
    // Devices: those of its perimeter (boards), not the others (printers).
    let dev = |code: &str, school: i64| {
        let db = app.db.clone();
        let code = code.to_string();
        async move {
            preau_core::with_db!(&db, p => sqlx::query_scalar::<_, i64>("SELECT MIN(d.id) FROM devices d JOIN device_categories k ON k.id = d.category_id WHERE k.code = $1 AND d.school_id = $2").bind(code).bind(school).fetch_one(p).await.unwrap())
        }
    };
    let s = app.login("prestataire", "demo").await;
    let eni_or_board: i64 = preau_core::with_db!(&app.db, p => sqlx::query_scalar("SELECT MIN(d.id) FROM devices d JOIN device_categories k ON k.id = d.category_id WHERE k.code IN ('tni', 'vpi', 'eni') AND d.school_id = $1").bind(b).fetch_one(p).await.unwrap());
    assert_eq!(
        s.get(&format!("/devices/{eni_or_board}")).await.status,
        StatusCode::OK
    );
    assert_eq!(
        s.get(&format!("/devices/{}", dev("imprimante", b).await))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let list = app
        .api(&token, Method::GET, "/api/v1/devices?limit=500", None)
        .await
        .json();
    let cats: std::collections::BTreeSet<String> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["category"].as_str().unwrap().to_string())
        .collect();
    assert!(cats.contains("eni") || cats.contains("tni") || cats.contains("vpi"));
    assert!(
        !cats.contains("imprimante") && !cats.contains("borne_wifi"),
        "{cats:?}"
    );
    assert!(
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["price_cents"].is_null())
    );
    // Its contract without amounts; no SLA report; no other contractor's anything.
    let contract = app.scalar("SELECT MIN(id) FROM contracts").await;
    let page = s.get(&format!("/contracts/{contract}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.body.contains("€"), "no amounts for the contractor");
    assert_eq!(s.get("/reports/sla").await.status, StatusCode::FORBIDDEN);
    let d = contracts::get(&app.db, &presta, contract).await.unwrap();
    assert!(!d.amounts_shown && d.lots.iter().all(|l| l.lot.cap_month_cents.is_none()));
    // It may work its tickets, not send them elsewhere.
    assert_eq!(
        app.api(
            &token,
            Method::POST,
            &format!("/api/v1/tickets/{}/take", board.id),
            None
        )
        .await
        .status,
        StatusCode::OK
    );
    let r = app
        .api(
            &token,
            Method::PATCH,
            &format!("/api/v1/tickets/{}", board.id),
            Some(json!({"version": board.version + 1, "assignee": ""})),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // The administrator does see the amounts.
    let d = contracts::get(&app.db, &admin, contract).await.unwrap();
    assert!(d.amounts_shown && d.lots.iter().all(|l| l.lot.cap_month_cents.is_some()));
}

#[tokio::test]
async fn the_api_opens_lists_and_moves_tickets_with_their_deadlines() {
    let app = TestApp::demo().await;
    let (a, b) = first_and_other_school(&app).await;
    let teacher = app.token("enseignant").await;
    let tech = app.token("technicien").await;
    let before = app.scalar("SELECT COUNT(*) FROM tickets").await;
    // Bad input: every wrong field named, nothing stored.
    let r = app
        .api(
            &teacher,
            Method::POST,
            "/api/v1/tickets",
            Some(json!({"school_id": a, "category": "grille-pain", "priority": "p9"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields = r.error_fields();
    assert!(
        fields.contains(&"category".into()) && fields.contains(&"priority".into()),
        "{fields:?}"
    );
    let r = app
        .api(
            &teacher,
            Method::POST,
            "/api/v1/tickets",
            Some(json!({"school_id": b, "category": "ecran", "priority": "p2"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "another school");
    let r = app
        .api(
            &teacher,
            Method::POST,
            "/api/v1/tickets",
            Some(json!({"school_id": a, "category": "ecran", "priority": "p4"})),
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "planned work is not reported"
    );
    assert_eq!(app.scalar("SELECT COUNT(*) FROM tickets").await, before);
    // A report, then its life through PATCH.
    let r = app
        .api(&teacher, Method::POST, "/api/v1/tickets", Some(json!({"school_id": a, "category": "imprimante", "priority": "p2", "description": "Bourrage"})))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let t = r.json();
    let id = t["id"].as_i64().unwrap();
    assert!(
        t["deadlines"]["gti"]["due"].is_string()
            && t["deadlines"]["gtr"]["breached"] == json!(false)
    );
    assert_eq!(t["assignee"]["kind"], "user");
    let v = t["version"].as_i64().unwrap();
    let r = app
        .api(
            &tech,
            Method::PATCH,
            &format!("/api/v1/tickets/{id}"),
            Some(json!({"version": v, "status": "attente_ecole", "message": "Quel modèle ?"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["deadlines"]["paused"], json!(true));
    let r = app
        .api(
            &tech,
            Method::PATCH,
            &format!("/api/v1/tickets/{id}"),
            Some(json!({"version": v, "status": "en_cours"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "stale version");
    let r = app
        .api(
            &tech,
            Method::PATCH,
            &format!("/api/v1/tickets/{id}"),
            Some(json!({"version": v + 1, "status": "clos"})),
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a handler cannot close"
    );
    // The teacher answers; the technician's internal note stays internal.
    assert_eq!(
        app.api(
            &teacher,
            Method::POST,
            &format!("/api/v1/tickets/{id}/events"),
            Some(json!({"body": "Une HP LaserJet"}))
        )
        .await
        .status,
        StatusCode::CREATED
    );
    assert_eq!(
        app.api(
            &teacher,
            Method::POST,
            &format!("/api/v1/tickets/{id}/events"),
            Some(json!({"body": "note", "internal": true}))
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );
    app.api(
        &tech,
        Method::POST,
        &format!("/api/v1/tickets/{id}/events"),
        Some(json!({"body": "Toner commandé", "internal": true})),
    )
    .await;
    let seen = app
        .api(
            &teacher,
            Method::GET,
            &format!("/api/v1/tickets/{id}/events"),
            None,
        )
        .await
        .json();
    let bodies: Vec<&str> = seen["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["body"].as_str())
        .collect();
    assert!(bodies.contains(&"Une HP LaserJet") && !bodies.contains(&"Toner commandé"));
    // Lists filter and page with a cursor.
    let r = app
        .api(
            &tech,
            Method::GET,
            "/api/v1/tickets?status=all&limit=5",
            None,
        )
        .await
        .json();
    assert_eq!(r["items"].as_array().unwrap().len(), 5);
    let next = r["next"].as_str().unwrap().to_string();
    let r2 = app
        .api(
            &tech,
            Method::GET,
            &format!("/api/v1/tickets?status=all&limit=5&cursor={next}"),
            None,
        )
        .await
        .json();
    // The second page follows the first without overlap (newest first).
    let ids = |v: &serde_json::Value| -> Vec<i64> {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["id"].as_i64().unwrap())
            .collect()
    };
    let (first, second) = (ids(&r), ids(&r2));
    assert!(!second.is_empty(), "a second page");
    assert!(first.windows(2).all(|w| w[0] > w[1]), "{first:?}");
    assert!(
        second.iter().all(|id| id < first.last().unwrap()),
        "{first:?} then {second:?}"
    );
    let r = app
        .api(&tech, Method::GET, "/api/v1/tickets?status=n_importe", None)
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = app
        .api(
            &tech,
            Method::GET,
            "/api/v1/tickets?breached=true&status=all",
            None,
        )
        .await
        .json();
    let breached = r["items"].as_array().unwrap();
    assert!(!breached.is_empty(), "the demo's year has late tickets");
    assert!(
        breached
            .iter()
            .all(|t| t["deadlines"]["gti"]["breached"] == json!(true)
                || t["deadlines"]["gtr"]["breached"] == json!(true))
    );
    // The monthly report in JSON for the collectivité's side.
    let admin = app.token("admin").await;
    let contract = app.scalar("SELECT MIN(id) FROM contracts").await;
    let r = app
        .api(
            &admin,
            Method::GET,
            &format!("/api/v1/contracts/{contract}/sla-report?month=2026-03"),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.json()["lots"].as_array().unwrap().len() == 2);
    let r = app
        .api(
            &admin,
            Method::GET,
            &format!("/api/v1/contracts/{contract}/sla-report?month=mars"),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn a_visit_is_planned_outside_class_the_school_sees_it_and_mail_is_never_lost() {
    let app = TestApp::demo().await;
    let (a, b) = first_and_other_school(&app).await;
    let teacher = principal(&app, "enseignant").await;
    let t = open(
        &app,
        &teacher,
        None,
        Some(a),
        "imprimante",
        "p2",
        Utc::now(),
    )
    .await;
    let other = open(&app, &teacher, None, Some(a), "reseau", "p2", Utc::now()).await;
    let tech = app.login("technicien", "demo").await;
    let page = tech.get(&format!("/tickets/{}", t.id)).await;
    assert!(
        page.body.contains("Planifier une intervention"),
        "{}",
        page.body
    );
    let window = page
        .body
        .split("name=\"window\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap()
        .to_string();
    let (start, _) = window.split_once('|').unwrap();
    let start = preau_domain::paris::parse(start).unwrap();
    // The window proposed is outside class hours on the school's calendar.
    let cal = preau_core::calendar::school_calendar(&app.db, "C", "4")
        .await
        .unwrap();
    assert_eq!(
        cal.working_minutes(start, start + chrono::Duration::minutes(30)),
        0
    );
    let other_id = other.id.to_string();
    let r = tech
        .post(
            &format!("/tickets/{}/plan", t.id),
            &[
                ("window", &window),
                ("ticket", &other_id),
                ("notes", "Passer par la loge"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    for id in [t.id, other.id] {
        let now = tickets::get(&app.db, &teacher, id).await.unwrap();
        assert_eq!(now.status(), TicketStatus::Planifie, "grouped in one visit");
    }
    // Planned for later, the visit cannot be marked done now: refused, saying when it is.
    let visit = app.scalar("SELECT MAX(id) FROM interventions").await;
    let r = tech
        .post(
            &format!("/interventions/{visit}/status"),
            &[("status", "realisee")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("pourra être notée réalisée"), "{}", r.body);
    let still: String = preau_core::with_db!(&app.db, p => sqlx::query_scalar("SELECT status FROM interventions WHERE id = $1").bind(visit).fetch_one(p).await.unwrap());
    assert_eq!(still, "planifiee");
    // The school's head sees it on the school page; the technician on the week planner.
    let dir = app.login("directeur", "demo").await;
    let school = dir.get(&format!("/schools/{a}")).await;
    assert!(
        school.body.contains("Interventions prévues")
            && school.body.contains(&format!("n° {}", t.number))
    );
    let monday = paris::day(start);
    let week = tech.get(&format!("/planning?week={monday}")).await;
    assert!(
        week.body.contains(&format!("/tickets/{}\"", t.id)),
        "{}",
        week.body
    );
    // Bad input through the API: every problem named, nothing planned.
    let token = app.token("technicien").await;
    let n = app.scalar("SELECT COUNT(*) FROM interventions").await;
    let r = app
        .api(&token, Method::POST, "/api/v1/interventions", Some(json!({"ticket_ids": [t.id], "starts_at": "2026-03-18T10:00", "ends_at": "2026-03-18T09:00"})))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.json()["errors"][0]["field"], "ends_at");
    let far = open(
        &app,
        &principal(&app, "admin").await,
        None,
        Some(b),
        "reseau",
        "p2",
        Utc::now(),
    )
    .await;
    let r = app
        .api(&token, Method::POST, "/api/v1/interventions", Some(json!({"ticket_ids": [t.id, far.id], "starts_at": "2026-03-18T10:00", "ends_at": "2026-03-18T11:00"})))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.scalar("SELECT COUNT(*) FROM interventions").await, n);
    let r = app
        .api(
            &token,
            Method::GET,
            &format!("/api/v1/interventions?from={monday}"),
            None,
        )
        .await;
    assert!(
        r.json()["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|v| v["tickets"].to_string().contains(&format!("{}", t.id)))
    );
    // The calendar feed: a private address, readable without a session, revocable.
    let r = tech.post("/planning/feed", &[]).await;
    let feed_token = r
        .location()
        .split("feed=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap()
        .to_string();
    let ics = app
        .request(Method::GET, &format!("/ical/{feed_token}.ics"), &[], None)
        .await;
    assert_eq!(ics.status, StatusCode::OK);
    assert!(
        ics.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/calendar")
    );
    assert!(ics.body.contains("BEGIN:VEVENT") && ics.body.contains("\r\nEND:VCALENDAR\r\n"));
    assert!(ics.body.lines().all(|l| l.len() <= 76), "lines are folded");
    assert_eq!(
        app.request(Method::GET, "/ical/cal_inconnu.ics", &[], None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    tech.post("/planning/feed", &[]).await;
    assert_eq!(
        app.request(Method::GET, &format!("/ical/{feed_token}.ics"), &[], None)
            .await
            .status,
        StatusCode::NOT_FOUND,
        "replaced"
    );

    // Mail: the technician heard of both tickets, the head and the teacher of the visit.
    let dir_path = std::env::temp_dir().join(format!("preau-smtp-{}-{}", std::process::id(), t.id));
    let _ = std::fs::remove_dir_all(&dir_path);
    let smtp = crate::harness::SmtpListener::start(dir_path.clone(), None).await;
    let cfg = preau_core::mail::SmtpConfig::from_url(
        &format!("smtp://127.0.0.1:{}", smtp.port),
        "preau@mairie.example",
    )
    .unwrap();
    let now = Utc::now();
    let run = preau_core::jobs::run_mail(&app.db, &cfg, "http://preau.test", now)
        .await
        .unwrap();
    let errors: Vec<Option<String>> = preau_core::with_db!(&app.db, p => sqlx::query_scalar("SELECT last_error FROM jobs WHERE failed = TRUE").fetch_all(p).await.unwrap());
    assert!(run.sent >= 4 && run.failed == 0, "{run:?} {errors:?}");
    let mails = smtp.messages();
    assert!(
        mails
            .iter()
            .any(|m| m.contains("To: <technicien@demo.preau.invalid>")
                && m.contains(&format!("http://preau.test/tickets/{}", t.id)))
    );
    assert!(
        mails
            .iter()
            .any(|m| m.contains("To: <directeur@demo.preau.invalid>")
                && m.contains("Une intervention est prévue"))
    );
    assert!(
        mails
            .iter()
            .any(|m| m.contains("To: <enseignant@demo.preau.invalid>"))
    );
    // The relay goes down while a ticket is resolved: the e-mail waits, then goes.
    let port = smtp.port;
    drop(smtp);
    let techp = principal(&app, "technicien").await;
    let current = tickets::get(&app.db, &techp, t.id).await.unwrap();
    write_tx!(app.db, tx => tickets::set_status(tx, &techp, t.id, current.version, TicketStatus::Resolu, Some("Toner remplacé"), now).await?).unwrap();
    let run = preau_core::jobs::run_mail(&app.db, &cfg, "http://preau.test", now)
        .await
        .unwrap();
    assert!(run.retried >= 1 && run.sent == 0, "{run:?}");
    assert!(app.scalar("SELECT COUNT(*) FROM jobs WHERE done_at IS NULL AND attempts = 1 AND last_error IS NOT NULL").await >= 1);
    let smtp = crate::harness::SmtpListener::start(dir_path.clone(), Some(port)).await;
    let run = preau_core::jobs::run_mail(
        &app.db,
        &cfg,
        "http://preau.test",
        now + chrono::Duration::minutes(2),
    )
    .await
    .unwrap();
    assert!(run.sent >= 1, "{run:?}");
    assert!(smtp.messages().iter().any(|m| m.contains("Toner remplac")));
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM jobs WHERE done_at IS NULL")
            .await,
        0
    );
    let _ = std::fs::remove_dir_all(&dir_path);
}

#[tokio::test]
async fn routing_rules_the_closing_delay_and_the_calendar_are_set_by_the_administrator() {
    let app = TestApp::demo().await;
    let (a, b) = first_and_other_school(&app).await;
    let admin = app.login("admin", "demo").await;
    assert_eq!(admin.get("/admin/assistance").await.status, StatusCode::OK);
    let tech_id = app
        .scalar("SELECT id FROM users WHERE login = 'technicien'")
        .await;
    let a_s = a.to_string();
    let to = format!("user:{tech_id}");
    let r = admin
        .post(
            "/admin/routing",
            &[
                ("school_id", &a_s),
                ("category", "ecran"),
                ("assignee", &to),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let teacher = principal(&app, "enseignant").await;
    let admin_p = principal(&app, "admin").await;
    let t = open(
        &app,
        &teacher,
        Some(first_classroom(&app, a).await),
        None,
        "ecran",
        "p2",
        Utc::now(),
    )
    .await;
    assert_eq!(
        (t.lot_id, t.assignee_user_id),
        (None, Some(tech_id)),
        "the rule wins over the perimeter"
    );
    let t = open(
        &app,
        &admin_p,
        Some(first_classroom(&app, b).await),
        None,
        "ecran",
        "p2",
        Utc::now(),
    )
    .await;
    assert!(t.lot_id.is_some(), "the rule is for school A only");
    // A rule pointing nowhere is refused, naming the field.
    let r = admin
        .post("/admin/routing", &[("assignee", "user:999999")])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    // The closing delay.
    assert_eq!(
        admin
            .post("/admin/assistance/settings", &[("auto_close_days", "0")])
            .await
            .status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        admin
            .post("/admin/assistance/settings", &[("auto_close_days", "3")])
            .await
            .status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        app.scalar("SELECT auto_close_days FROM collectivites")
            .await,
        3
    );
    // The official calendar for a later year, from the browser; twice adds nothing.
    let csv = "description;population;start_date;end_date;location;zones;annee_scolaire\n\
               Vacances de Noël;-;2026-12-18T23:00:00+00:00;2027-01-03T23:00:00+00:00;Versailles;Zone C;2026-2027\n";
    let r = admin
        .post_file(
            "/admin/calendar",
            &[],
            Some(("file", "fr-en-calendrier-scolaire.csv", csv.as_bytes())),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.body.contains("1 périodes de vacances ajoutées"),
        "{}",
        r.body
    );
    assert!(r.body.contains("04/01/2027"));
    let r = admin
        .post_file(
            "/admin/calendar",
            &[],
            Some(("file", "fr-en-calendrier-scolaire.csv", csv.as_bytes())),
        )
        .await;
    assert!(
        r.body
            .contains("0 périodes de vacances ajoutées, 1 déjà connues")
    );
    let r = admin
        .post_file(
            "/admin/calendar",
            &[],
            Some(("file", "x.csv", b"nom;date\nx;y\n")),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("colonnes du calendrier scolaire officiel"));
    // Christmas 2026 now stops the clocks: a P1 opened on Friday 18 December 2026 at
    // 16:00 in the rule-free school is due after the holidays.
    let t = open(
        &app,
        &admin_p,
        None,
        Some(b),
        "reseau",
        "p1",
        preau_domain::paris::parse("2026-12-18 16:00").unwrap(),
    )
    .await;
    assert_eq!(local(t.gti_due_at.unwrap()), "2027-01-04 14:00");
    let tech = app.login("technicien", "demo").await;
    assert_eq!(
        tech.get("/admin/assistance").await.status,
        StatusCode::FORBIDDEN
    );
}

/// Penalties across a month boundary: a ticket counts in the month its clock started,
/// whenever it is resolved; each ticket's penalty stops at the lot's cap per ticket, and
/// the month's total at its cap per month — all read back from the stored tickets.
#[tokio::test]
async fn penalties_are_capped_per_ticket_and_per_month_across_a_month_boundary() {
    let app = TestApp::demo().await;
    let (a, _) = first_and_other_school(&app).await;
    let room = first_classroom(&app, a).await;
    let teacher = principal(&app, "enseignant").await;
    let presta = principal(&app, "prestataire").await;
    let admin = principal(&app, "admin").await;
    // Lot 1 (the boards): 200 € at most per ticket, 300 € per month.
    preau_core::with_db!(&app.db, p => {
        sqlx::query("UPDATE lots SET cap_ticket_cents = 20000, cap_month_cents = 30000 WHERE number = 1").execute(p).await.unwrap();
    });
    // Two P1 tickets of March resolved in April, long after their one-school-day GTR, and
    // one of April.
    let mut march = Vec::new();
    for (opened, resolved) in [
        ("2026-03-30 09:00", "2026-04-02 10:30"),
        ("2026-03-31 15:00", "2026-04-03 16:00"),
        ("2026-04-02 09:00", "2026-04-03 16:00"),
    ] {
        let t = open(
            &app,
            &teacher,
            Some(room),
            None,
            "ecran",
            "p1",
            paris(opened),
        )
        .await;
        assert_eq!(
            t.sla_cap_cents,
            Some(20_000),
            "the lot's cap is the ticket's"
        );
        let t = write_tx!(app.db, tx => tickets::take(tx, &presta, t.id, paris(opened) + chrono::Duration::minutes(30)).await?).unwrap();
        let t = write_tx!(app.db, tx => tickets::set_status(tx, &presta, t.id, t.version, TicketStatus::Resolu, Some("Carte mère remplacée"), paris(resolved)).await?).unwrap();
        march.push(t.id);
    }
    let april_ticket = march.pop().unwrap();
    let contract: i64 = app.scalar("SELECT MIN(id) FROM contracts").await;
    let report = |month: &'static str| {
        let (app, admin) = (&app, &admin);
        async move {
            reports::monthly(
                &app.db,
                admin,
                contract,
                reports::Month::parse(month).unwrap(),
                paris("2026-05-04 08:00"),
            )
            .await
            .unwrap()
        }
    };
    let m = report("2026-03").await;
    let lot = m.lots.iter().find(|l| l.lot.number == 1).unwrap();
    let ids: Vec<i64> = lot.lines.iter().map(|l| l.ticket.id).collect();
    assert!(
        march.iter().all(|id| ids.contains(id)),
        "March counts its tickets"
    );
    assert!(!ids.contains(&april_ticket), "not April's");
    for id in &march {
        let line = lot.lines.iter().find(|l| l.ticket.id == *id).unwrap();
        assert!(line.penalty.gross_cents > 20_000, "{:?}", line.penalty);
        assert_eq!(line.penalty.cents, 20_000);
        assert!(line.penalty.capped && !line.provisional);
    }
    // The month's total: the tickets' capped penalties, then the lot's monthly cap.
    let sum: i64 = lot.lines.iter().map(|l| l.penalty.cents).sum();
    assert_eq!(lot.total.gross_cents, sum);
    assert!(sum >= 40_000);
    assert_eq!(lot.total.cents, 30_000);
    assert!(lot.total.capped);
    // April has its own ticket, and not March's resolved in April.
    let m = report("2026-04").await;
    let lot = m.lots.iter().find(|l| l.lot.number == 1).unwrap();
    let ids: Vec<i64> = lot.lines.iter().map(|l| l.ticket.id).collect();
    assert!(ids.contains(&april_ticket) && march.iter().all(|id| !ids.contains(id)));
    let line = lot
        .lines
        .iter()
        .find(|l| l.ticket.id == april_ticket)
        .unwrap();
    assert!(line.gtr_met == Some(false) && line.penalty.cents > 0);
    assert!(lot.total.cents <= 30_000);
    // The report's spreadsheet says the same capped total for March.
    let session = app.login("admin", "demo").await;
    let csv = session
        .get(&format!(
            "/reports/sla/csv?contract={contract}&month=2026-03"
        ))
        .await;
    let total = csv
        .body
        .lines()
        .find(|l| l.starts_with("1;Total du mois"))
        .unwrap_or_default();
    assert!(total.ends_with(";300,00;"), "{total:?}");
}

/// The queue comes by deadline: the next deadline of each open ticket (the response's until
/// someone takes it, then the fix's), the most overdue first, those without one last; the
/// pages follow one another without losing or repeating a ticket, in the API and on the
/// page, where a technician sees the order named.
#[tokio::test]
async fn the_queue_comes_by_deadline_and_pages_through_it() {
    let app = TestApp::demo().await;
    let (a, _) = first_and_other_school(&app).await;
    let admin = principal(&app, "admin").await;
    // Enough open tickets for several pages, on several clocks.
    let now = Utc::now();
    for i in 0..60 {
        let category = ["ecran", "imprimante", "reseau", "autre"][i % 4];
        let priority = ["p1", "p2", "p3"][i % 3];
        open(
            &app,
            &admin,
            None,
            Some(a),
            category,
            priority,
            now - chrono::Duration::hours(i as i64 * 7),
        )
        .await;
    }
    let token = app.token("admin").await;
    let (mut seen, mut cursor, mut pages) = (Vec::<i64>::new(), None::<String>, 0);
    loop {
        let url = match &cursor {
            None => "/api/v1/tickets?sort=deadline&limit=17".to_string(),
            Some(c) => format!(
                "/api/v1/tickets?sort=deadline&limit=17&cursor={}",
                preau_web::session::url_encode(c)
            ),
        };
        let r = app.api(&token, Method::GET, &url, None).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let v = r.json();
        seen.extend(
            v["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t["id"].as_i64().unwrap()),
        );
        pages += 1;
        match v["next"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    let open_count = app
        .scalar("SELECT COUNT(*) FROM tickets WHERE is_open = TRUE")
        .await;
    assert!(pages >= 4, "{pages} pages");
    assert_eq!(seen.len() as i64, open_count);
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), seen.len(), "a ticket twice");
    let mut keys = Vec::new();
    for id in &seen {
        let t = tickets::get(&app.db, &admin, *id).await.unwrap();
        keys.push((
            tickets::next_deadline(&t).is_none(),
            tickets::next_deadline(&t),
            t.id,
        ));
    }
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted, "not by deadline");
    assert!(
        keys.iter().filter(|k| !k.0).count() >= 30,
        "deadlines were set"
    );
    // A bad cursor or order is named.
    let r = app
        .api(
            &token,
            Method::GET,
            "/api/v1/tickets?sort=deadline&cursor=x",
            None,
        )
        .await;
    assert_eq!(r.status, 422);
    assert_eq!(r.error_fields(), ["cursor"]);
    let r = app
        .api(&token, Method::GET, "/api/v1/tickets?sort=urgence", None)
        .await;
    assert_eq!(r.error_fields(), ["sort"]);
    // The page: by deadline unless asked, the order named, the next page after the last.
    let tech = app.login("technicien", "demo").await;
    let page = tech.get("/tickets").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains(
            "<option value=\"deadline\" selected>Échéance la plus proche d&#39;abord</option>"
        ),
        "{}",
        page.body
    );
    let next = page
        .body
        .split("rel=\"next\"")
        .next()
        .and_then(|b| b.rsplit("href=\"").next())
        .and_then(|h| h.split('"').next())
        .unwrap()
        .replace("&#38;", "&")
        .replace("&amp;", "&");
    assert!(
        next.contains("sort=deadline") && next.contains("after="),
        "{next}"
    );
    assert_eq!(tech.get(&next).await.status, StatusCode::OK);
    let recent = tech.get("/tickets?status=all").await;
    assert!(recent.body.contains("<option value=\"recent\" selected>"));
}
