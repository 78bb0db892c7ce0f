//! Lessons by visio: series generated on the school calendar (Christmas and winter
//! holidays, Easter Monday, a four-day week's Wednesday), a session moved alone, an edited
//! series leaving the past and the moved session alone, readiness with each missing piece,
//! the intervenant's scope, a day declared closed, the provider's statement.

use axum::http::{Method, StatusCode};
use chrono::{DateTime, NaiveDate, Utc};
use preau_core::visio::{self, Change, SeriesPlace, SessionFilter};
use preau_domain::visio::{Reason, SeriesInput};

use crate::harness::TestApp;
use crate::tickets::principal;

async fn int(app: &TestApp, sql: &str) -> i64 {
    let sql = sql.to_string();
    preau_core::with_db!(&app.db, p => {
        sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql)).fetch_one(p).await.unwrap()
    })
}

fn at(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    preau_domain::paris::at(NaiveDate::from_ymd_opt(y, m, d).unwrap(), h, min)
}

/// The directrice's school's first class with a room, its room, and the programme.
async fn place(app: &TestApp) -> SeriesPlace {
    let school = int(app, "SELECT school_id FROM role_assignments a JOIN users u ON u.id = a.user_id WHERE u.login = 'directeur'").await;
    let class = int(
        app,
        &format!("SELECT MIN(id) FROM classes WHERE school_id = {school} AND room_id IS NOT NULL"),
    )
    .await;
    SeriesPlace {
        programme_id: int(app, "SELECT MIN(id) FROM visio_programmes").await,
        class_id: class,
        room_id: int(
            app,
            &format!("SELECT room_id FROM classes WHERE id = {class}"),
        )
        .await,
        intervenant_id: Some(int(app, "SELECT id FROM users WHERE login = 'intervenant'").await),
    }
}

fn series(weekday: &str, from: &str, to: &str) -> preau_domain::visio::Series {
    SeriesInput {
        weekday: weekday.into(),
        start: "10:15".into(),
        duration_min: "45".into(),
        from: from.into(),
        to: to.into(),
        link: "https://visio.education.fr/meeting/test".into(),
    }
    .check()
    .unwrap()
}

async fn days_of(app: &TestApp, series: i64) -> Vec<(String, String, bool)> {
    let rows: Vec<(DateTime<Utc>, String, bool)> = preau_core::with_db!(&app.db, p => {
        sqlx::query_as("SELECT starts_at, status, detached FROM visio_sessions WHERE series_id = $1 ORDER BY starts_at").bind(series).fetch_all(p).await.unwrap()
    });
    rows.into_iter()
        .map(|(t, s, d)| {
            (
                preau_domain::paris::local(t)
                    .format("%Y-%m-%d %H:%M")
                    .to_string(),
                s,
                d,
            )
        })
        .collect()
}

#[tokio::test]
async fn series_follow_the_school_calendar_and_edits_leave_the_past_alone() {
    let app = TestApp::demo().await;
    let admin = principal(&app, "admin").await;
    let at0 = place(&app).await;
    let t0 = at(2025, 12, 1, 8, 0);
    // Thursdays from 4 December 2025 to 12 March 2026, zone C: Christmas (25 December,
    // 1 January) and winter (26 February, 5 March) skipped.
    let thursdays = series("4", "2025-12-04", "2026-03-12");
    let mut tx = app.db.begin().await.unwrap();
    let (id, n) = visio::create_series(&mut tx, &admin, &at0, &thursdays, t0)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(n, 11);
    let days = days_of(&app, id).await;
    for skipped in ["2025-12-25", "2026-01-01", "2026-02-26", "2026-03-05"] {
        assert!(!days.iter().any(|d| d.0.starts_with(skipped)), "{skipped}");
    }
    assert_eq!(days[0].0, "2025-12-04 10:15");
    // Easter Monday (6 April 2026) is a public holiday; a Wednesday in a four-day week has
    // no class at all.
    let mut tx = app.db.begin().await.unwrap();
    let (mondays, n) = visio::create_series(
        &mut tx,
        &admin,
        &at0,
        &series("1", "2026-03-30", "2026-04-13"),
        t0,
    )
    .await
    .unwrap();
    assert_eq!(n, 2);
    let (_, n) = visio::create_series(
        &mut tx,
        &admin,
        &at0,
        &series("3", "2026-01-05", "2026-01-30"),
        t0,
    )
    .await
    .unwrap();
    assert_eq!(n, 0);
    tx.commit().await.unwrap();
    assert!(
        !days_of(&app, mondays)
            .await
            .iter()
            .any(|d| d.0.starts_with("2026-04-06"))
    );

    // The first session held; the one of 12 February moved alone to Friday 13th, not to
    // Wednesday 11th (no class).
    let sid = |day: &'static str| {
        let app = &app;
        async move {
            int(app, &format!("SELECT id FROM visio_sessions WHERE series_id = {id} AND CAST(planned_on AS TEXT) = '{day}'")).await
        }
    };
    let first = sid("2025-12-04").await;
    let mut tx = app.db.begin().await.unwrap();
    visio::change(
        &mut tx,
        &admin,
        first,
        1,
        &Change::Held,
        at(2025, 12, 4, 12, 0),
    )
    .await
    .unwrap();
    let feb = sid("2026-02-12").await;
    let err = visio::change(
        &mut tx,
        &admin,
        feb,
        1,
        &Change::Move(at(2026, 2, 11, 10, 15)),
        t0,
    )
    .await
    .unwrap_err();
    assert!(format!("{err:?}").contains("not_class_time"), "{err:?}");
    visio::change(
        &mut tx,
        &admin,
        feb,
        1,
        &Change::Move(at(2026, 2, 13, 10, 15)),
        t0,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();

    // On 10 January the series moves to 14:00: the past stays (held at 10:15, the 11th
    // December planned at 10:15), the moved session stays, the rest follows at 14:00 and
    // 12 February is not planned twice.
    let mut later = thursdays.clone();
    later.start = chrono::NaiveTime::from_hms_opt(14, 0, 0).unwrap();
    let mut tx = app.db.begin().await.unwrap();
    let n = visio::update_series(&mut tx, &admin, id, 1, &at0, &later, at(2026, 1, 10, 9, 0))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(n, 6, "15, 22, 29 January, 5 and 19 February, 12 March");
    let days = days_of(&app, id).await;
    assert_eq!(
        days[0],
        ("2025-12-04 10:15".to_string(), "tenue".to_string(), false)
    );
    assert_eq!(days[1].0, "2025-12-11 10:15");
    assert!(days.contains(&("2026-02-13 10:15".to_string(), "prevue".to_string(), true)));
    assert!(!days.iter().any(|d| d.0.starts_with("2026-02-12")));
    assert!(days.iter().any(|d| d.0 == "2026-01-15 14:00"));
    assert_eq!(days.len(), 11);
    // A stale edit is refused.
    let mut tx = app.db.begin().await.unwrap();
    let err = visio::update_series(
        &mut tx,
        &admin,
        id,
        1,
        &at0,
        &thursdays,
        at(2026, 1, 10, 9, 0),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, preau_core::AppError::Conflict(_)), "{err:?}");
}

#[tokio::test]
async fn readiness_names_what_is_missing_and_the_demo_shows_a_room_not_ready() {
    let app = TestApp::demo().await;
    let admin = app.token("admin").await;
    // The demo's next session whose room's only display (a VPI) has an urgent ticket.
    let ticket = int(
        &app,
        "SELECT MIN(id) FROM tickets WHERE title = 'Le VPI ne s''allume plus'",
    )
    .await;
    let room = int(
        &app,
        &format!("SELECT room_id FROM tickets WHERE id = {ticket}"),
    )
    .await;
    let r = app
        .api(
            &admin,
            Method::GET,
            "/api/v1/visio/sessions?status=prevue&limit=2000",
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let items = r.json()["items"].as_array().unwrap().clone();
    let in_room: Vec<_> = items.iter().filter(|s| s["room_id"] == room).collect();
    assert!(!in_room.is_empty());
    let missing = |s: &serde_json::Value| -> Vec<String> {
        s["readiness"]["missing"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m.as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(in_room[0]["readiness"]["ready"], false);
    assert!(missing(in_room[0]).contains(&"affichage".to_string()));
    // The school offline: the network is missing too.
    let school = in_room[0]["school_id"].as_i64().unwrap();
    preau_core::with_db!(&app.db, p => {
        sqlx::query("UPDATE school_connectivity SET status = 'hors_ligne' WHERE school_id = $1").bind(school).execute(p).await.unwrap();
    });
    let ready = preau_core::visio::readiness(&app.db, &[(room, school)])
        .await
        .unwrap();
    assert!(
        ready[&room]
            .missing
            .contains(&preau_domain::visio::Need::Reseau)
    );
    // The VPI repaired and the school back: the display is no longer missing.
    preau_core::with_db!(&app.db, p => {
        sqlx::query("UPDATE tickets SET status = 'resolu' WHERE id = $1").bind(ticket).execute(p).await.unwrap();
        sqlx::query("UPDATE school_connectivity SET status = 'en_ligne' WHERE school_id = $1").bind(school).execute(p).await.unwrap();
    });
    let ready = preau_core::visio::readiness(&app.db, &[(room, school)])
        .await
        .unwrap();
    assert!(
        !ready[&room]
            .missing
            .contains(&preau_domain::visio::Need::Affichage),
        "{:?}",
        ready[&room]
    );
    assert!(
        !ready[&room]
            .missing
            .contains(&preau_domain::visio::Need::Reseau)
    );
}

#[tokio::test]
async fn an_intervenant_sees_only_their_sessions_and_records_them() {
    let app = TestApp::demo().await;
    let me = int(&app, "SELECT id FROM users WHERE login = 'intervenant'").await;
    let token = app.token("intervenant").await;
    let r = app
        .api(
            &token,
            Method::GET,
            "/api/v1/visio/sessions?limit=2000",
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let items = r.json()["items"].as_array().unwrap().clone();
    assert!(!items.is_empty());
    assert!(items.iter().all(|s| s["intervenant_id"] == me));
    // Another speaker's session is not found; pupils, tickets and devices stay closed.
    let other = int(
        &app,
        &format!("SELECT MIN(id) FROM visio_sessions WHERE intervenant_id <> {me}"),
    )
    .await;
    let s = app.login("intervenant", "demo").await;
    assert_eq!(
        s.get(&format!("/visio/sessions/{other}")).await.status,
        StatusCode::NOT_FOUND
    );
    let class = items[0]["class_id"].as_i64().unwrap();
    assert_eq!(
        app.api(
            &token,
            Method::GET,
            &format!("/api/v1/classes/{class}/pupils"),
            None
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.api(&token, Method::GET, "/api/v1/tickets", None)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let devices = app.api(&token, Method::GET, "/api/v1/devices", None).await;
    assert_eq!(devices.json()["items"].as_array().map(Vec::len), Some(0));
    let home = s.get("/").await;
    assert!(
        home.body.contains("Vos séances en visio") && home.body.contains("À renseigner"),
        "{}",
        home.body
    );
    assert!(!home.body.contains("href=\"/devices\""));
    // A session to come cannot be marked held; a past one can, with its reason when not.
    let next = items
        .iter()
        .find(|s| {
            s["status"] == "prevue"
                && s["starts_at"]
                    .as_str()
                    .unwrap()
                    .parse::<DateTime<Utc>>()
                    .unwrap()
                    > Utc::now()
        })
        .unwrap();
    let r = app
        .api(
            &token,
            Method::PATCH,
            &format!("/api/v1/visio/sessions/{}", next["id"]),
            Some(serde_json::json!({"version": next["version"], "status": "tenue"})),
        )
        .await;
    assert_eq!(
        (r.status, r.error_fields()),
        (StatusCode::UNPROCESSABLE_ENTITY, vec!["status".to_string()])
    );
    let past = int(&app, &format!("SELECT MAX(id) FROM visio_sessions WHERE intervenant_id = {me} AND ends_at < CURRENT_TIMESTAMP AND status = 'tenue'")).await;
    let version = int(
        &app,
        &format!("SELECT version FROM visio_sessions WHERE id = {past}"),
    )
    .await;
    let r = app
        .api(
            &token,
            Method::PATCH,
            &format!("/api/v1/visio/sessions/{past}"),
            Some(serde_json::json!({"version": version, "status": "non_tenue"})),
        )
        .await;
    assert_eq!(r.error_fields(), ["reason"]);
    let r = app
        .api(&token, Method::PATCH, &format!("/api/v1/visio/sessions/{past}"), Some(serde_json::json!({"version": version, "status": "non_tenue", "reason": "reseau", "note": "coupures"})))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        (r.json()["status"].as_str(), r.json()["reason"].as_str()),
        (Some("non_tenue"), Some("reseau"))
    );
    // The same version again: someone changed it first.
    let r = app
        .api(
            &token,
            Method::PATCH,
            &format!("/api/v1/visio/sessions/{past}"),
            Some(serde_json::json!({"version": version, "status": "tenue"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
}

#[tokio::test]
async fn a_day_declared_closed_cancels_its_sessions_and_tells_the_speakers() {
    let app = TestApp::demo().await;
    let school = int(&app, "SELECT school_id FROM role_assignments a JOIN users u ON u.id = a.user_id WHERE u.login = 'directeur'").await;
    // The directrice plans a weekly series for her class through the API, from the day
    // after tomorrow.
    let at0 = place(&app).await;
    let first = preau_domain::paris::day(Utc::now()) + chrono::Duration::days(2);
    let weekday = chrono::Datelike::weekday(&first)
        .number_from_monday()
        .min(5);
    let token = app.token("directeur").await;
    let r = app
        .api(
            &token,
            Method::POST,
            "/api/v1/visio/series",
            Some(serde_json::json!({
                "programme_id": at0.programme_id, "class_id": at0.class_id, "room_id": at0.room_id,
                "intervenant_id": at0.intervenant_id, "weekday": weekday, "start": "09:00",
                "duration_min": 45, "from": first.to_string(),
                "to": (first + chrono::Duration::days(60)).to_string(),
                "link": "https://visio.education.fr/meeting/maternelle",
            })),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let created = r.json();
    let sessions = created["sessions"].as_array().unwrap();
    assert!(!sessions.is_empty());
    assert!(
        sessions
            .iter()
            .all(|s| s["start"] == "09:00" && s["status"] == "prevue")
    );
    // Wrong values are named and nothing is written.
    let count = "SELECT COUNT(*) FROM visio_series";
    let before_series = int(&app, count).await;
    let r = app
        .api(
            &token,
            Method::POST,
            "/api/v1/visio/series",
            Some(serde_json::json!({
                "programme_id": at0.programme_id, "class_id": at0.class_id, "room_id": at0.room_id,
                "weekday": 6, "start": "25:00", "duration_min": 5, "from": "2027-01-10",
                "to": "2026-12-01", "link": "javascript:alert(1)",
            })),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        r.error_fields(),
        ["weekday", "start", "duration_min", "to", "link"]
    );
    assert_eq!(int(&app, count).await, before_series);
    let id = sessions[0]["id"].as_i64().unwrap();
    let starts: DateTime<Utc> = sessions[0]["starts_at"].as_str().unwrap().parse().unwrap();
    let day = preau_domain::paris::day(starts);
    let jobs = "SELECT COUNT(*) FROM jobs WHERE kind = 'mail'";
    let before = int(&app, jobs).await;
    let close = |who: &'static str, school: i64| {
        let app = &app;
        async move {
            let s = app.login(who, "demo").await;
            s.post(
                "/visio/closed-days",
                &[
                    ("school_id", school.to_string().as_str()),
                    ("day", day.to_string().as_str()),
                    ("reason", "Grève"),
                ],
            )
            .await
        }
    };
    let r = close("directeur", school).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let (status, reason, by): (String, String, String) = preau_core::with_db!(&app.db, p => {
        sqlx::query_as("SELECT status, reason, cancelled_by FROM visio_sessions WHERE id = $1").bind(id).fetch_one(p).await.unwrap()
    });
    assert_eq!(
        (status.as_str(), reason.as_str(), by.as_str()),
        ("annulee", "ecole_fermee", "ecole")
    );
    assert!(int(&app, jobs).await > before, "the intervenant is told");
    // A teacher may not declare it; another school is not the directrice's.
    let other = int(
        &app,
        &format!("SELECT MIN(id) FROM schools WHERE id <> {school}"),
    )
    .await;
    assert_eq!(
        close("directeur", other).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        close("enseignant", school).await.status,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn the_provider_statement_counts_the_sessions_held_at_the_programme_price() {
    let app = TestApp::demo().await;
    let admin = principal(&app, "admin").await;
    let programme = int(&app, "SELECT MIN(id) FROM visio_programmes").await;
    let now = Utc::now();
    let month = preau_core::reports::Month::of(now).previous();
    let st = visio::statement(&app.db, &admin, programme, month)
        .await
        .unwrap();
    let held = int(&app, &format!("SELECT COUNT(*) FROM visio_sessions v JOIN visio_series x ON x.id = v.series_id WHERE x.programme_id = {programme} AND v.status = 'tenue' AND v.starts_at >= '{}' AND v.starts_at < '{}'", month.start().to_rfc3339(), month.next().start().to_rfc3339())).await;
    assert_eq!(st.held, held);
    assert_eq!(st.total_cents, Some(held * 4_500));
    // What the outcomes count: every session of the last three months, some lost to the
    // equipment or the network.
    let since = now - chrono::Duration::days(92);
    let o = visio::outcomes(&app.db, &admin, since, now).await.unwrap();
    assert!(o.total.held > 0 && o.total.technical > 0, "{:?}", o.total);
    let counted: Vec<(String, Option<String>, i64)> = preau_core::with_db!(&app.db, p => {
        sqlx::query_as("SELECT status, reason, COUNT(*) FROM visio_sessions WHERE starts_at >= $1 AND starts_at < $2 GROUP BY status, reason").bind(since).bind(now).fetch_all(p).await.unwrap()
    });
    let of = |st: &str| {
        counted
            .iter()
            .filter(|c| c.0 == st)
            .map(|c| c.2)
            .sum::<i64>()
    };
    assert_eq!(
        (o.total.held, o.total.not_held, o.total.cancelled),
        (of("tenue"), of("non_tenue"), of("annulee"))
    );
    let technical: i64 = counted
        .iter()
        .filter(|c| matches!(c.1.as_deref(), Some("equipement" | "reseau")))
        .map(|c| c.2)
        .sum();
    assert_eq!(o.total.technical, technical);
    // The statement as a page and a spreadsheet, for the élu; not for a directrice, nor
    // for another contractor.
    let elu = app.login("elu", "demo").await;
    let query = format!("programme={programme}&month={}", month.code());
    let page = elu.get(&format!("/visio/statement?{query}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains(&format!("{held} tenues")),
        "{}",
        page.body
    );
    let csv = elu.get(&format!("/visio/statement/csv?{query}")).await;
    assert_eq!(csv.status, StatusCode::OK);
    assert_eq!(csv.body.lines().count() as i64, held + 1);
    assert!(
        csv.body.lines().nth(1).is_none_or(|l| l.ends_with("45,00")),
        "{}",
        csv.body
    );
    let dir = app.login("directeur", "demo").await;
    assert_eq!(
        dir.get(&format!("/visio/statement?{query}")).await.status,
        StatusCode::FORBIDDEN
    );
    let other = app.login("prestataire", "demo").await;
    assert_eq!(
        other.get(&format!("/visio/statement?{query}")).await.status,
        StatusCode::NOT_FOUND
    );
    // The steering pages show it.
    let q = elu.get("/quality").await;
    assert!(
        q.body.contains("Séances de visio sur douze mois")
            && q.body.contains("Part perdue pour la technique"),
        "{}",
        q.body
    );
    let f = SessionFilter::default();
    let all = visio::sessions(&app.db, &admin, &f, 0, visio::MAX_SESSIONS)
        .await
        .unwrap();
    assert!(
        all.iter().any(|s| s.reason() == Some(Reason::EcoleFermee)),
        "the strike day"
    );
}

#[tokio::test]
async fn a_room_not_ready_the_day_before_opens_one_ticket_and_tells_the_school() {
    let app = TestApp::demo().await;
    // A session to come whose room loses its visio kit, webcams and visualisers.
    let (id, room, school, starts): (i64, i64, i64, DateTime<Utc>) = preau_core::with_db!(&app.db, p => {
        sqlx::query_as("SELECT id, room_id, school_id, starts_at FROM visio_sessions WHERE status = 'prevue' AND starts_at > $1 ORDER BY starts_at LIMIT 1 OFFSET 3").bind(Utc::now() + chrono::Duration::days(2)).fetch_one(p).await.unwrap()
    });
    preau_core::with_db!(&app.db, p => {
        sqlx::query("UPDATE devices SET state = 'reforme' WHERE room_id = $1 AND category_id IN (SELECT id FROM device_categories WHERE code IN ('kit_visio', 'webcam', 'visualiseur', 'micro'))").bind(room).execute(p).await.unwrap();
    });
    let cal = preau_core::calendar::of_school(&app.db, school)
        .await
        .unwrap();
    let eve = visio::eve_check(&cal, preau_domain::paris::day(starts));
    assert!(eve < starts && eve > starts - chrono::Duration::days(21));
    assert_eq!(chrono::Timelike::hour(&preau_domain::paris::local(eve)), 16);
    let tickets = format!(
        "SELECT COUNT(*) FROM tickets WHERE room_id = {room} AND title = 'Salle pas prête pour une séance de visio'"
    );
    let mails = "SELECT COUNT(*) FROM jobs WHERE kind = 'mail'";
    // The class's teacher has an account at the school: told too.
    let teacher = int(&app, "SELECT id FROM users WHERE login = 'enseignant'").await;
    preau_core::with_db!(&app.db, p => {
        sqlx::query("UPDATE classes SET teacher_name = 'M. Enseignant' WHERE id = (SELECT class_id FROM visio_sessions WHERE id = $1)").bind(id).execute(p).await.unwrap();
        sqlx::query("INSERT INTO role_assignments (user_id, role, school_id, created_at) VALUES ($1, 'enseignant', $2, $3) ON CONFLICT DO NOTHING").bind(teacher).bind(school).bind(Utc::now()).execute(p).await.unwrap();
    });
    // Before 16:00 the day before: nothing is checked.
    visio::readiness_pass(&app.db, eve - chrono::Duration::minutes(5))
        .await
        .unwrap();
    assert_eq!(
        int(
            &app,
            &format!(
                "SELECT COUNT(*) FROM visio_sessions WHERE id = {id} AND checked_eve_at IS NOT NULL"
            )
        )
        .await,
        0
    );
    // At 16:00: not ready (camera, micro), one P2 ticket on the room, the school and the
    // speaker told.
    let before = int(&app, mails).await;
    let pass = visio::readiness_pass(&app.db, eve + chrono::Duration::minutes(1))
        .await
        .unwrap();
    assert!(pass.not_ready >= 1 && pass.tickets >= 1, "{pass:?}");
    assert_eq!(int(&app, &tickets).await, 1);
    let (priority, description): (String, String) = preau_core::with_db!(&app.db, p => {
        sqlx::query_as("SELECT priority, description FROM tickets WHERE room_id = $1 AND title = 'Salle pas prête pour une séance de visio'").bind(room).fetch_one(p).await.unwrap()
    });
    assert!(
        description.contains("Caméra") && description.contains("Micro"),
        "{description}"
    );
    let expected = if starts - eve <= chrono::Duration::hours(24) {
        "p1"
    } else {
        "p2"
    };
    assert_eq!(priority, expected);
    assert!(int(&app, mails).await > before);
    let told = int(&app, "SELECT COUNT(*) FROM jobs WHERE kind = 'mail' AND payload LIKE '%enseignant@demo.preau.invalid%' AND payload LIKE '%Salle pas prête%'").await;
    assert_eq!(told, 1, "the class's teacher is told once");
    // Later passes, and the check 30 minutes before, open no second ticket.
    visio::readiness_pass(&app.db, eve + chrono::Duration::minutes(6))
        .await
        .unwrap();
    visio::readiness_pass(&app.db, starts - chrono::Duration::minutes(29))
        .await
        .unwrap();
    assert_eq!(int(&app, &tickets).await, 1);
    assert_eq!(int(&app, &format!("SELECT COUNT(*) FROM visio_sessions WHERE id = {id} AND checked_eve_at IS NOT NULL AND checked_last_at IS NOT NULL AND ticket_id IS NOT NULL")).await, 1);
}
