//! Connectivity: the demo's silent school judged offline at load and back online when one
//! of its agents reports (its outage closed with its class time), a silence shared by
//! every school saying nothing, links kept by the technician with wrong values named, and
//! who sees and does what.

use axum::http::StatusCode;
use chrono::{Duration, Utc};

use crate::harness::TestApp;

async fn int(app: &TestApp, sql: &str) -> i64 {
    let sql = sql.to_string();
    preau_core::with_db!(&app.db, p => {
        sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql)).fetch_one(p).await.unwrap()
    })
}

async fn status_of(app: &TestApp, school: i64) -> String {
    preau_core::with_db!(&app.db, p => {
        sqlx::query_scalar::<_, String>("SELECT status FROM school_connectivity WHERE school_id = $1").bind(school).fetch_one(p).await.unwrap()
    })
}

/// An instant in Paris (November: UTC+1).
fn paris(d: u32, h: u32, m: u32) -> chrono::DateTime<Utc> {
    preau_domain::paris::instant(
        chrono::NaiveDate::from_ymd_opt(2026, 11, d)
            .unwrap()
            .and_hms_opt(h, m, 0)
            .unwrap(),
    )
    .unwrap()
}

#[tokio::test]
async fn a_silent_school_is_offline_until_one_of_its_agents_reports() {
    let app = TestApp::demo().await;
    let silent = int(
        &app,
        "SELECT id FROM schools WHERE kind = 'elementaire' ORDER BY id DESC LIMIT 1",
    )
    .await;
    // As loaded, the demo's silent school is the only one offline (it is not when the
    // demo is loaded in the holidays, when silence does not count).
    let others = int(&app, &format!("SELECT COUNT(*) FROM school_connectivity WHERE status = 'hors_ligne' AND school_id <> {silent}")).await;
    assert_eq!(others, 0);

    // A week of term: its agents last reported on Monday 16 November at 16:00, the
    // others' a few minutes before Tuesday 11:00.
    let now = paris(17, 11, 0);
    preau_core::with_db!(&app.db, p => {
        sqlx::query("DELETE FROM outages").execute(p).await.unwrap();
        sqlx::query("DELETE FROM school_connectivity").execute(p).await.unwrap();
        sqlx::query("UPDATE devices SET last_inventory_at = $1 WHERE last_inventory_at IS NOT NULL").bind(now - Duration::minutes(5)).execute(p).await.unwrap();
        sqlx::query("UPDATE devices SET last_inventory_at = $1 WHERE school_id = $2 AND last_inventory_at IS NOT NULL").bind(paris(16, 16, 0)).bind(silent).execute(p).await.unwrap();
    });
    // Tuesday 8:45: half an hour on Monday and a quarter of an hour this morning: online.
    preau_core::connectivity::pass(&app.db, paris(17, 8, 45))
        .await
        .unwrap();
    assert_eq!(status_of(&app, silent).await, "en_ligne");
    // 11:00: two class hours ran out at 10:00, others were heard since: offline from 10:00.
    let pass = preau_core::connectivity::pass(&app.db, now).await.unwrap();
    assert_eq!((pass.went_offline, pass.came_back), (1, 0));
    assert_eq!(status_of(&app, silent).await, "hors_ligne");
    let since: chrono::DateTime<Utc> = preau_core::with_db!(&app.db, p => {
        sqlx::query_scalar("SELECT started_at FROM outages WHERE school_id = $1 AND ended_at IS NULL").bind(silent).fetch_one(p).await.unwrap()
    });
    assert_eq!(since, paris(17, 10, 0));
    // One ticket, category réseau, for the school, opened by Préau itself.
    let ticket = int(
        &app,
        &format!("SELECT ticket_id FROM outages WHERE school_id = {silent} AND ended_at IS NULL"),
    )
    .await;
    let (category, school_of, status): (String, i64, String) = preau_core::with_db!(&app.db, p => {
        sqlx::query_as("SELECT category, school_id, status FROM tickets WHERE id = $1").bind(ticket).fetch_one(p).await.unwrap()
    });
    assert_eq!(
        (category.as_str(), school_of, status.as_str()),
        ("reseau", silent, "nouveau")
    );
    // Routed to the operator's lot, on its contract's 4-hour GTR.
    let contract: String = preau_core::with_db!(&app.db, p => {
        sqlx::query_scalar("SELECT c.reference FROM tickets t JOIN lots l ON l.id = t.lot_id JOIN contracts c ON c.id = l.contract_id WHERE t.id = $1").bind(ticket).fetch_one(p).await.unwrap()
    });
    assert_eq!(contract, "MARCHE-RESEAU-2024-03");
    let gtr: Option<String> = preau_core::with_db!(&app.db, p => {
        sqlx::query_scalar("SELECT sla_gtr FROM tickets WHERE id = $1").bind(ticket).fetch_one(p).await.unwrap()
    });
    assert_eq!(gtr.as_deref(), Some("4h"));
    let tech = app.login("technicien", "demo").await;
    let page = tech.get("/connectivity").await;
    let first_row = page
        .body
        .split("<tbody>")
        .nth(1)
        .unwrap()
        .split("</tr>")
        .next()
        .unwrap()
        .to_string();
    assert!(
        first_row.contains("Hors ligne"),
        "offline schools come first: {first_row}"
    );
    // A pass later the same morning opens no second outage.
    assert_eq!(
        preau_core::connectivity::pass(&app.db, paris(17, 11, 20))
            .await
            .unwrap()
            .went_offline,
        0
    );
    // One of its agents reports at 12:00: online, the outage closed with its class time
    // (10:00 to 11:30; lunch does not count).
    preau_core::with_db!(&app.db, p => {
        sqlx::query("UPDATE devices SET last_inventory_at = $1 WHERE id = (SELECT MIN(id) FROM devices WHERE school_id = $2 AND last_inventory_at IS NOT NULL)")
            .bind(paris(17, 12, 0)).bind(silent).execute(p).await.unwrap();
    });
    let pass = preau_core::connectivity::pass(&app.db, paris(17, 12, 5))
        .await
        .unwrap();
    assert_eq!((pass.went_offline, pass.came_back), (0, 1));
    assert_eq!(status_of(&app, silent).await, "en_ligne");
    assert_eq!(
        int(
            &app,
            &format!("SELECT class_minutes FROM outages WHERE school_id = {silent}")
        )
        .await,
        90
    );
    // Its ticket is resolved, saying for how long; the school confirms as for any ticket.
    let status: String = preau_core::with_db!(&app.db, p => {
        sqlx::query_scalar("SELECT status FROM tickets WHERE id = $1").bind(ticket).fetch_one(p).await.unwrap()
    });
    assert_eq!(status, "resolu");
    let said: String = preau_core::with_db!(&app.db, p => {
        sqlx::query_scalar("SELECT body FROM ticket_events WHERE ticket_id = $1 AND kind = 'status' ORDER BY id DESC LIMIT 1").bind(ticket).fetch_one(p).await.unwrap()
    });
    assert!(said.contains("1 h 30 de classe sans réseau"), "{said}");
    // November's availability: 90 minutes of class lost; the API lists the outage.
    let tech_p = {
        let id = int(&app, "SELECT id FROM users WHERE login = 'technicien'").await;
        preau_core::users::principal(&app.db, id)
            .await
            .unwrap()
            .unwrap()
    };
    let months = preau_core::connectivity::availability(&app.db, &tech_p, silent, paris(17, 12, 5))
        .await
        .unwrap();
    let november = months.last().unwrap();
    assert_eq!((november.month.month, november.lost_minutes), (11, 90));
    assert!(november.class_minutes > 90 && november.percent().unwrap() < 100.0);
    let token = app.token("technicien").await;
    let r = app
        .api(
            &token,
            axum::http::Method::GET,
            &format!("/api/v1/outages?school={silent}&from=2026-11-01&to=2026-11-30"),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let items = r.json()["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 1);
    assert_eq!(
        (
            items[0]["class_minutes"].as_i64(),
            items[0]["ticket_id"].as_i64()
        ),
        (Some(90), Some(ticket))
    );
    let r = app
        .api(
            &token,
            axum::http::Method::GET,
            "/api/v1/outages?from=2026-11-30&to=2026-11-01",
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let tickets = int(
        &app,
        &format!(
            "SELECT COUNT(*) FROM outages WHERE school_id = {silent} AND ticket_id IS NOT NULL"
        ),
    )
    .await;
    assert_eq!(tickets, 1, "one outage, one ticket");
    assert_eq!(
        int(&app, "SELECT COUNT(*) FROM outages WHERE ended_at IS NULL").await,
        0
    );
}

#[tokio::test]
async fn a_silence_every_school_shares_says_nothing() {
    let app = TestApp::demo().await;
    let long_ago = Utc::now() - Duration::days(20);
    preau_core::with_db!(&app.db, p => {
        sqlx::query("UPDATE devices SET last_inventory_at = $1 WHERE last_inventory_at IS NOT NULL").bind(long_ago).execute(p).await.unwrap();
        sqlx::query("DELETE FROM school_connectivity").execute(p).await.unwrap();
    });
    let pass = preau_core::connectivity::pass(&app.db, Utc::now())
        .await
        .unwrap();
    assert_eq!(pass.went_offline, 0);
    assert_eq!(
        int(
            &app,
            "SELECT COUNT(*) FROM school_connectivity WHERE status = 'hors_ligne'"
        )
        .await,
        0
    );
    // A school without any agent or MDM report is unknown, never offline.
    let unknown = int(
        &app,
        "SELECT COUNT(*) FROM school_connectivity WHERE status = 'inconnu'",
    )
    .await;
    let without = int(&app, "SELECT COUNT(*) FROM schools s WHERE NOT EXISTS (SELECT 1 FROM devices d WHERE d.school_id = s.id AND d.last_inventory_at IS NOT NULL)").await;
    assert_eq!(unknown, without);
}

#[tokio::test]
async fn links_are_kept_by_the_technician_with_wrong_values_named() {
    let app = TestApp::demo().await;
    let school = int(&app, "SELECT school_id FROM role_assignments a JOIN users u ON u.id = a.user_id WHERE u.login = 'directeur'").await;
    let page = format!("/connectivity/{school}");
    let links = format!("SELECT COUNT(*) FROM school_links WHERE school_id = {school}");
    let before = int(&app, &links).await;
    assert!(before >= 1, "the demo gives every school a link");
    let tech = app.login("technicien", "demo").await;
    let r = tech
        .post(
            &format!("{page}/links"),
            &[
                ("technology", "fibre-magique"),
                ("role", "principal"),
                ("down_mbps", "-5"),
                ("up_mbps", "fast"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    for message in [
        "Technologie : Valeur inconnue pour ce champ.",
        "Débit descendant (Mbit/s) : Cette valeur est hors des limites permises.",
        "Débit montant (Mbit/s) : Un débit en Mbit/s est attendu",
    ] {
        assert!(r.body.contains(message), "{message} missing");
    }
    assert_eq!(int(&app, &links).await, before);
    let r = tech
        .post(
            &format!("{page}/links"),
            &[
                ("technology", "4g5g"),
                ("role", "secours"),
                ("down_mbps", "100"),
                ("up_mbps", "20,5"),
                ("monthly_price", "35"),
                ("operator_id", ""),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let id = int(&app, "SELECT MAX(id) FROM school_links").await;
    assert_eq!(
        int(
            &app,
            &format!("SELECT up_kbps FROM school_links WHERE id = {id}")
        )
        .await,
        20_500
    );
    assert_eq!(int(&app, &format!("SELECT COUNT(*) FROM audit_log WHERE object_type = 'school_link' AND object_id = {id}")).await, 1);
    // A speed test, then the link removed.
    assert_eq!(
        tech.post(
            &format!("{page}/speed-tests"),
            &[("down_mbps", "93,4"), ("up_mbps", "19")]
        )
        .await
        .status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        tech.post(
            &format!("{page}/speed-tests"),
            &[("down_mbps", "vite"), ("up_mbps", "19")]
        )
        .await
        .status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let r = tech.get(&page).await;
    assert!(
        r.body.contains("93,4") && r.body.contains("4G / 5G"),
        "{}",
        r.body
    );
    assert_eq!(
        tech.post(&format!("{page}/links/{id}/delete"), &[])
            .await
            .status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(int(&app, &links).await, before);

    // The directrice reads her school's connection, without the form or the prices; a
    // teacher may not add a link; another school's page is not found for the directrice.
    let dir = app.login("directeur", "demo").await;
    let r = dir.get(&page).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(!r.body.contains("Ajouter un lien") && !r.body.contains("Prix mensuel"));
    let teacher = app.login("enseignant", "demo").await;
    let r = teacher
        .post(
            &format!("{page}/links"),
            &[
                ("technology", "adsl"),
                ("role", "principal"),
                ("down_mbps", "8"),
                ("up_mbps", "1"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let other = int(
        &app,
        &format!("SELECT MAX(id) FROM schools WHERE id <> {school}"),
    )
    .await;
    assert_eq!(
        dir.get(&format!("/connectivity/{other}")).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn the_links_api_names_wrong_values_and_follows_versions() {
    use axum::http::Method;
    use serde_json::json;
    let app = TestApp::demo().await;
    let school = int(&app, "SELECT school_id FROM role_assignments a JOIN users u ON u.id = a.user_id WHERE u.login = 'directeur'").await;
    let tech = app.token("technicien").await;
    let uri = format!("/api/v1/schools/{school}/links");
    let r = app
        .api(&tech, Method::POST, &uri, Some(json!({"technology": "fibre-magique", "role": "principal", "down_mbps": -5, "up_mbps": 10, "monthly_cents": -1})))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(
        r.error_fields(),
        ["technology", "down_mbps", "monthly_cents"]
    );
    let r = app
        .api(&tech, Method::POST, &uri, Some(json!({"technology": "vdsl", "role": "secours", "down_mbps": 50, "up_mbps": 8.5, "monthly_cents": 4500})))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let link = r.json();
    assert_eq!(
        (link["up_kbps"].as_i64(), link["monthly_cents"].as_i64()),
        (Some(8_500), Some(4_500))
    );
    let id = link["id"].as_i64().unwrap();
    let r = app
        .api(
            &tech,
            Method::PATCH,
            &format!("/api/v1/links/{id}"),
            Some(json!({"version": 1, "down_mbps": 100})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["down_kbps"], 100_000);
    let r = app
        .api(
            &tech,
            Method::PATCH,
            &format!("/api/v1/links/{id}"),
            Some(json!({"version": 1, "down_mbps": 200})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    // The directrice reads, without prices; she may not remove a link.
    let dir = app.token("directeur").await;
    let r = app.api(&dir, Method::GET, &uri, None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.json()["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|l| l["monthly_cents"].is_null())
    );
    assert_eq!(
        app.api(&dir, Method::DELETE, &format!("/api/v1/links/{id}"), None)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.api(&tech, Method::DELETE, &format!("/api/v1/links/{id}"), None)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    let statuses = app
        .api(&tech, Method::GET, "/api/v1/connectivity", None)
        .await
        .json();
    assert!(statuses["items"].as_array().unwrap().iter().all(|s| ["en_ligne", "hors_ligne", "inconnu"].contains(&s["status"].as_str().unwrap())));
}

#[tokio::test]
async fn the_wifi_register_flags_what_does_not_comply_and_prints() {
    let app = TestApp::demo().await;
    // Nobody wrote down how the demo's first access point is switched off; the second was
    // installed before the conseil d'école was told.
    let (first, second): (i64, i64) = preau_core::with_db!(&app.db, p => {
        let ids: Vec<i64> = sqlx::query_scalar("SELECT d.id FROM devices d JOIN device_categories k ON k.id = d.category_id WHERE k.has_wifi_switch = TRUE AND d.school_id IS NOT NULL ORDER BY d.id LIMIT 2").fetch_all(p).await.unwrap();
        (ids[0], ids[1])
    });
    let school = int(
        &app,
        &format!("SELECT school_id FROM devices WHERE id = {first}"),
    )
    .await;
    let tech = app.login("technicien", "demo").await;
    let page = format!("/connectivity/{school}/wifi");
    let r = tech.get(&page).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.body.contains("Manière de le désactiver non renseignée"),
        "{}",
        r.body
    );
    assert!(r.body.contains("loi Abeille") && r.body.contains("data-print"));
    let p = {
        let id = int(&app, "SELECT id FROM users WHERE login = 'technicien'").await;
        preau_core::users::principal(&app.db, id)
            .await
            .unwrap()
            .unwrap()
    };
    let token = app.token("technicien").await;
    let api = app
        .api(
            &token,
            axum::http::Method::GET,
            &format!("/api/v1/schools/{school}/wifi"),
            None,
        )
        .await
        .json();
    let first_api = api["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["device_id"] == first)
        .unwrap()
        .clone();
    assert_eq!(first_api["flags"], serde_json::json!(["mode_inconnu"]));
    let register = preau_core::connectivity::wifi_register(&app.db, &p, school)
        .await
        .unwrap();
    let of = |id: i64| {
        register
            .iter()
            .find(|a| a.device_id == id)
            .map(|a| a.flags.clone())
    };
    use preau_domain::connectivity::WifiFlag;
    assert_eq!(of(first), Some(vec![WifiFlag::ModeInconnu]));
    let second_school = int(
        &app,
        &format!("SELECT school_id FROM devices WHERE id = {second}"),
    )
    .await;
    let second_flags = preau_core::connectivity::wifi_register(&app.db, &p, second_school)
        .await
        .unwrap()
        .into_iter()
        .find(|a| a.device_id == second)
        .unwrap()
        .flags;
    assert_eq!(second_flags, [WifiFlag::ConseilNonInforme]);

    // The technician puts the first right: a switch, the rooms it covers, the conseil told.
    let room = int(
        &app,
        &format!("SELECT MIN(id) FROM rooms WHERE school_id = {school}"),
    )
    .await
    .to_string();
    let bought = preau_core::with_db!(&app.db, pool => {
        sqlx::query_scalar::<_, Option<chrono::NaiveDate>>("SELECT purchase_date FROM devices WHERE id = $1").bind(first).fetch_one(pool).await.unwrap()
    });
    let told = bought
        .map(|b| b - Duration::days(10))
        .unwrap_or(chrono::NaiveDate::from_ymd_opt(2020, 1, 1).unwrap())
        .to_string();
    let post = format!("/connectivity/{school}/wifi/{first}");
    let r = tech
        .post(
            &post,
            &[
                ("switchable", "1"),
                ("method", "tirette"),
                ("informed_on", &told),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = tech
        .post(
            &post,
            &[
                ("switchable", "1"),
                ("method", "interrupteur"),
                ("covers", &room),
                ("informed_on", &told),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let register = preau_core::connectivity::wifi_register(&app.db, &p, school)
        .await
        .unwrap();
    let fixed = register.iter().find(|a| a.device_id == first).unwrap();
    assert!(fixed.flags.is_empty(), "{:?}", fixed.flags);
    assert_eq!(fixed.covers.len(), 1);
    // A room of another school is refused; a directrice reads but does not edit.
    let other_room = int(
        &app,
        &format!("SELECT MIN(id) FROM rooms WHERE school_id <> {school}"),
    )
    .await
    .to_string();
    let r = tech
        .post(&post, &[("switchable", "1"), ("covers", &other_room)])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let dir = app.login("directeur", "demo").await;
    let own = int(&app, "SELECT school_id FROM role_assignments a JOIN users u ON u.id = a.user_id WHERE u.login = 'directeur'").await;
    let r = dir.get(&format!("/connectivity/{own}/wifi")).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(!r.body.contains("Compléter le registre"));
    assert_eq!(
        dir.post(&post, &[("switchable", "1")]).await.status,
        if own == school {
            StatusCode::FORBIDDEN
        } else {
            StatusCode::NOT_FOUND
        }
    );
}

/// A TCP port on loopback that answers each connection with `answer` (nothing: accepts
/// and closes), until the task is aborted.
async fn answering(answer: &'static [u8]) -> (u16, tokio::task::JoinHandle<()>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let task = tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            let mut buf = [0u8; 512];
            let _ =
                tokio::time::timeout(std::time::Duration::from_millis(200), s.read(&mut buf)).await;
            let _ = s.write_all(answer).await;
        }
    });
    (port, task)
}

#[tokio::test]
async fn a_probe_decides_alone_going_down_and_up_against_loopback_listeners() {
    let app = TestApp::demo().await;
    let school = int(&app, "SELECT school_id FROM role_assignments a JOIN users u ON u.id = a.user_id WHERE u.login = 'directeur'").await;
    let page = format!("/connectivity/{school}");
    let tech = app.login("technicien", "demo").await;
    let short = std::time::Duration::from_secs(2);

    // A wrong address is named and nothing is stored.
    let r = tech
        .post(
            &format!("{page}/probe"),
            &[("target", "routeur de l'école")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("Adresse de sonde invalide"), "{}", r.body);
    assert_eq!(int(&app, "SELECT COUNT(*) FROM school_probes").await, 0);

    // A TCP probe on a listening port: the school is online by its probe.
    let (port, listener) = answering(b"").await;
    let target = format!("tcp://127.0.0.1:{port}");
    let r = tech
        .post(&format!("{page}/probe"), &[("target", &target)])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(int(&app, &format!("SELECT COUNT(*) FROM audit_log WHERE object_type = 'school_probe' AND object_id = {school}")).await, 1);
    let t0 = Utc::now();
    preau_core::connectivity::pass_with(&app.db, t0, short)
        .await
        .unwrap();
    assert_eq!(status_of(&app, school).await, "en_ligne");

    // The port closes: one failure is not enough, the second makes the school offline
    // from the first, with its ticket to the operator.
    listener.abort();
    let _ = listener.await;
    let p1 = preau_core::connectivity::pass_with(&app.db, t0 + Duration::minutes(5), short)
        .await
        .unwrap();
    assert_eq!(p1.went_offline, 0);
    assert_eq!(status_of(&app, school).await, "en_ligne");
    let p2 = preau_core::connectivity::pass_with(&app.db, t0 + Duration::minutes(10), short)
        .await
        .unwrap();
    assert_eq!(p2.went_offline, 1);
    assert_eq!(status_of(&app, school).await, "hors_ligne");
    let (started, ticket): (chrono::DateTime<Utc>, i64) = preau_core::with_db!(&app.db, p => {
        sqlx::query_as("SELECT started_at, ticket_id FROM outages WHERE school_id = $1 AND ended_at IS NULL").bind(school).fetch_one(p).await.unwrap()
    });
    assert_eq!(started.timestamp(), (t0 + Duration::minutes(5)).timestamp());
    let (category, description): (String, String) = preau_core::with_db!(&app.db, p => {
        sqlx::query_as("SELECT category, description FROM tickets WHERE id = $1").bind(ticket).fetch_one(p).await.unwrap()
    });
    assert_eq!(category, "reseau");
    assert!(
        description.contains(&format!("La sonde de l'école ({target}) ne répond plus")),
        "{description}"
    );
    let r = tech.get(&page).await;
    assert!(
        r.body.contains("connexion refusée") && r.body.contains("ne répond pas"),
        "{}",
        r.body
    );
    // Another pass still offline: no second ticket.
    preau_core::connectivity::pass_with(&app.db, t0 + Duration::minutes(15), short)
        .await
        .unwrap();
    assert_eq!(
        int(
            &app,
            &format!("SELECT COUNT(*) FROM outages WHERE school_id = {school}")
        )
        .await,
        1
    );

    // An HTTP probe answered by a web server: back online, the outage closed and its
    // ticket resolved.
    let (http, server) = answering(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n").await;
    let r = tech
        .post(
            &format!("{page}/probe"),
            &[("target", &format!("http://127.0.0.1:{http}/etat"))],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let back = preau_core::connectivity::pass_with(&app.db, t0 + Duration::minutes(20), short)
        .await
        .unwrap();
    assert_eq!(back.came_back, 1);
    assert_eq!(status_of(&app, school).await, "en_ligne");
    assert_eq!(
        int(
            &app,
            &format!(
                "SELECT COUNT(*) FROM outages WHERE school_id = {school} AND ended_at IS NULL"
            )
        )
        .await,
        0
    );
    assert_eq!(
        int(
            &app,
            &format!("SELECT COUNT(*) FROM tickets WHERE id = {ticket} AND status = 'resolu'")
        )
        .await,
        1
    );
    server.abort();

    // Something that is not a web server answers: the HTTP probe fails, naming why.
    let (ssh, other) = answering(b"SSH-2.0-OpenSSH_9.2\r\n").await;
    let r = tech
        .post(
            &format!("{page}/probe"),
            &[("target", &format!("http://127.0.0.1:{ssh}/"))],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    preau_core::connectivity::pass_with(&app.db, t0 + Duration::minutes(25), short)
        .await
        .unwrap();
    let error: Option<String> = preau_core::with_db!(&app.db, p => {
        sqlx::query_scalar("SELECT last_error FROM school_probes WHERE school_id = $1").bind(school).fetch_one(p).await.unwrap()
    });
    assert_eq!(error.as_deref(), Some("not_http"));
    other.abort();

    // When every probe fails at once, the server's own network is out: nothing counts.
    let other_school = int(
        &app,
        &format!("SELECT MIN(id) FROM schools WHERE id <> {school}"),
    )
    .await;
    let admin = app.token("admin").await;
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    for s in [school, other_school] {
        let r = app
            .api(
                &admin,
                axum::http::Method::PUT,
                &format!("/api/v1/schools/{s}/probe"),
                Some(serde_json::json!({"target": format!("tcp://127.0.0.1:{closed}")})),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.json()["failures"], 0);
    }
    for k in 0..3 {
        preau_core::connectivity::pass_with(&app.db, t0 + Duration::minutes(30 + 5 * k), short)
            .await
            .unwrap();
    }
    assert_eq!(
        int(&app, "SELECT COALESCE(MAX(failures), 0) FROM school_probes").await,
        0
    );
    assert_eq!(status_of(&app, school).await, "en_ligne");
    let r = app
        .api(
            &admin,
            axum::http::Method::PUT,
            &format!("/api/v1/schools/{school}/probe"),
            Some(serde_json::json!({"target": "tcp://127.0.0.1"})),
        )
        .await;
    assert_eq!(
        (r.status, r.error_fields()),
        (StatusCode::UNPROCESSABLE_ENTITY, vec!["probe".to_string()])
    );

    // Who reads and who sets: the directrice reads, may not set; removing it is the
    // technician's too.
    let dir = app.token("directeur").await;
    let r = app
        .api(
            &dir,
            axum::http::Method::GET,
            &format!("/api/v1/schools/{school}/probe"),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["target"], format!("tcp://127.0.0.1:{closed}"));
    let r = app
        .api(
            &dir,
            axum::http::Method::PUT,
            &format!("/api/v1/schools/{school}/probe"),
            Some(serde_json::json!({"target": null})),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = tech.post(&format!("{page}/probe"), &[("target", "")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(
        int(
            &app,
            &format!("SELECT COUNT(*) FROM school_probes WHERE school_id = {school}")
        )
        .await,
        0
    );
}

#[tokio::test]
async fn each_operator_is_held_to_its_schools_class_time_on_the_quality_page() {
    let app = TestApp::demo().await;
    let admin = crate::tickets::principal(&app, "admin").await;
    let now = Utc::now();
    let scope = admin.coverage_schools();
    let ops = preau_core::connectivity::operators_availability(&app.db, &admin, &scope, now)
        .await
        .unwrap();
    let op = ops
        .iter()
        .find(|o| o.operator == "Orange Business (démo)")
        .expect("the demo operator");
    let served = int(&app, &format!("SELECT COUNT(DISTINCT school_id) FROM school_links WHERE role = 'principal' AND operator_id = {}", op.operator_id)).await;
    assert_eq!(op.schools as i64, served);
    assert_eq!(op.months.len(), 12);
    assert_eq!(op.gtr.as_deref(), Some("4h"), "the operator contract's GTR");
    // The year of outages: class time was lost, and each outage is counted in its month.
    let lost: i64 = op.months.iter().map(|(m, _)| m.lost_minutes).sum();
    let started: usize = op.months.iter().map(|(_, n)| n).sum();
    assert!(lost > 0 && started > 0, "{op:?}");
    let percent = op.percent().unwrap();
    assert!(percent < 100.0 && percent > 90.0, "{percent}");
    // The same per school: the operator's months are the sum of its schools'.
    let mut class = 0;
    for id in preau_core::with_db!(&app.db, p => {
        sqlx::query_scalar::<_, i64>("SELECT DISTINCT school_id FROM school_links WHERE role = 'principal' AND operator_id = $1").bind(op.operator_id).fetch_all(p).await.unwrap()
    }) {
        let months = preau_core::connectivity::availability(&app.db, &admin, id, now)
            .await
            .unwrap();
        class += months.iter().map(|m| m.class_minutes).sum::<i64>();
    }
    assert_eq!(
        op.months.iter().map(|(m, _)| m.class_minutes).sum::<i64>(),
        class
    );

    // The quality page and the council's workbook show it; the directrice does not read it.
    let elu = app.login("elu", "demo").await;
    let r = elu.get("/quality").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.body.contains("Liens internet des écoles, par opérateur")
            && r.body.contains("Orange Business (démo)"),
        "{}",
        r.body
    );
    let book = elu.get("/council.xlsx").await;
    assert_eq!(book.status, StatusCode::OK);
    let sheets = crate::harness::xlsx_sheets(book.body_bytes());
    let links = sheets
        .iter()
        .find(|(n, _)| n == "Liens par opérateur")
        .expect("links sheet");
    assert!(links.1.contains("Orange Business (démo)"));
    let dir = app.login("directeur", "demo").await;
    assert_eq!(dir.get("/quality").await.status, StatusCode::FORBIDDEN);
}
