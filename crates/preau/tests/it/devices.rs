//! The inventory's pages: the device form, placing the "à affecter" queue, merging
//! duplicates, exports, QR labels, a school's address ranges, the agent credentials.

use axum::http::StatusCode;

use crate::harness::TestApp;
use crate::inventory::{DEMO_AGENT, ocs_inventory, post_agent, post_ocs};

/// The one-time key a previewed import's confirmation form carries.
fn confirm_key(r: &crate::harness::Resp) -> String {
    r.body
        .split("name=\"key\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("confirmation key")
        .to_string()
}

#[tokio::test]
async fn a_device_is_added_and_edited_from_its_room() {
    let app = TestApp::demo().await;
    let (school, room): (i64, i64) = preau_core::with_db!(&app.db, p => sqlx::query_as("SELECT school_id, id FROM rooms WHERE kind = 'classe' ORDER BY id LIMIT 1").fetch_one(p).await.unwrap());
    let tech = app.login("technicien", "demo").await;
    let page = tech
        .get(&format!("/devices/new?school_id={school}&room_id={room}"))
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("name=\"price\""),
        "the technician sees costs"
    );
    let (s, r) = (school.to_string(), room.to_string());
    let form = |price: &'static str, warranty: &'static str| {
        vec![
            ("category", "eni"),
            ("school_id", s.as_str()),
            ("room_id", r.as_str()),
            ("state", "en_service"),
            ("brand", "Speechi"),
            ("model", "SpeechiTouch 86\""),
            ("serial", "ST86-000123"),
            ("asset_tag", "VDE-2026-90001"),
            ("purchase_date", "15/09/2026"),
            ("warranty_end", warranty),
            ("price", price),
        ]
    };
    // Every mistake is named at once, nothing is stored.
    let r = tech
        .post("/devices", &form("trois mille", "2020-01-01"))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.body.contains("Montant invalide") && r.body.contains("précède la date d&#39;achat")
            || r.body.contains("précède la date d'achat"),
        "{}",
        r.body
    );
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM devices WHERE asset_tag = 'VDE-2026-90001'")
            .await,
        0
    );
    let r = tech.post("/devices", &form("3 290,00", "2031-09-15")).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let id = app
        .scalar("SELECT id FROM devices WHERE asset_tag = 'VDE-2026-90001'")
        .await;
    assert_eq!(r.location(), format!("/devices/{id}?flash=created"));
    let price = app
        .scalar("SELECT price_cents FROM devices WHERE asset_tag = 'VDE-2026-90001'")
        .await;
    assert_eq!(price, 329_000);
    // The room page lists it; the device page shows it in euros.
    let room_page = tech.get(&format!("/rooms/{room}")).await;
    assert!(room_page.body.contains("VDE-2026-90001"));
    let page = tech.get(&format!("/devices/{id}")).await;
    assert!(page.body.contains("3\u{202f}290,00 €"), "{}", page.body);
    // The same asset tag twice: a conflict named on the field.
    let r = tech.post("/devices", &form("3 290,00", "2031-09-15")).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.body.contains("numéro d&#39;inventaire est déjà utilisé")
            || r.body.contains("numéro d'inventaire est déjà utilisé")
    );
    // Sent for repair: the state change is dated in the history.
    let version = app
        .scalar("SELECT version FROM devices WHERE asset_tag = 'VDE-2026-90001'")
        .await
        .to_string();
    let mut edit = form("3 290,00", "2031-09-15");
    edit.retain(|(k, _)| *k != "state");
    edit.push(("state", "en_reparation"));
    edit.push(("version", &version));
    let r = tech.post(&format!("/devices/{id}/edit"), &edit).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = tech.get(&format!("/devices/{id}")).await;
    assert!(
        page.body.contains("Changement d&#39;état") || page.body.contains("Changement d'état"),
        "{}",
        page.body
    );
    assert!(page.body.contains("En réparation"));
    // The ERUN reads the device without its price; the directeur cannot edit it.
    let erun = app.login("erun", "demo").await;
    let page = erun.get(&format!("/devices/{id}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.body.contains("3\u{202f}290,00"));
    let dir = app.login("directeur", "demo").await;
    assert_eq!(
        dir.get(&format!("/devices/{id}/edit"))
            .await
            .status
            .as_u16()
            / 100,
        4
    );
}

#[tokio::test]
async fn the_unplaced_queue_is_sorted_in_one_screen() {
    let app = TestApp::demo().await;
    for (id, name) in [("q1", "pc-inconnu-1"), ("q2", "pc-inconnu-2")] {
        post_ocs(&app, ocs_inventory(id, name, None, None, None, None)).await;
    }
    let admin = app.login("admin", "demo").await;
    let page = admin.get("/devices?unplaced=true").await;
    assert!(page.body.contains("pc-inconnu-1") && page.body.contains("name=\"device\""));
    let (a, b) = (
        app.scalar("SELECT id FROM devices WHERE name = 'pc-inconnu-1'")
            .await
            .to_string(),
        app.scalar("SELECT id FROM devices WHERE name = 'pc-inconnu-2'")
            .await
            .to_string(),
    );
    let school = app.scalar("SELECT MAX(id) FROM schools").await.to_string();
    // No school chosen: told so, nothing moves.
    let r = admin
        .post("/devices/place", &[("device", &a), ("school_id", "")])
        .await;
    assert_eq!(r.location(), "/devices?unplaced=true&flash=choose_school");
    let r = admin
        .post(
            "/devices/place",
            &[("device", &a), ("device", &b), ("school_id", &school)],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM devices WHERE school_id IS NULL")
            .await,
        0
    );
    // Forged without the session's token: refused.
    let mut forged = app.login("admin", "demo").await;
    forged.csrf = "x".into();
    assert_eq!(
        forged
            .post("/devices/place", &[("device", &a), ("school_id", &school)])
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    // Not a technician or administrator: refused.
    let dir = app.login("directeur", "demo").await;
    assert_eq!(
        dir.post("/devices/place", &[("device", &a), ("school_id", &school)])
            .await
            .status
            .as_u16()
            / 100,
        4
    );
}

#[tokio::test]
async fn duplicates_are_listed_and_merged() {
    let app = TestApp::demo().await;
    // The same machine, its agent reinstalled without UUID or serial: two records.
    post_ocs(
        &app,
        ocs_inventory("dup-a", "pc-bcd", None, None, None, None),
    )
    .await;
    post_ocs(
        &app,
        ocs_inventory("dup-b", "pc-bcd", None, None, None, Some(900)),
    )
    .await;
    let admin = app.login("admin", "demo").await;
    let page = admin.get("/devices/duplicates").await;
    assert!(page.body.contains("pc-bcd"), "{}", page.body);
    let keep = app
        .scalar("SELECT id FROM devices WHERE agent_device_id = 'dup-b'")
        .await;
    let other = app
        .scalar("SELECT id FROM devices WHERE agent_device_id = 'dup-a'")
        .await;
    let r = admin
        .post(
            "/devices/merge",
            &[("keep", &keep.to_string()), ("other", &other.to_string())],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM devices WHERE name = 'pc-bcd'")
            .await,
        1
    );
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM device_events WHERE kind = 'merged'")
            .await,
        1
    );
    // The merged record's history followed.
    let events: i64 = preau_core::with_db!(&app.db, p => sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM device_events WHERE device_id = $1").bind(keep).fetch_one(p).await.unwrap());
    assert!(events >= 3);
    assert!(
        !admin
            .get("/devices/duplicates")
            .await
            .body
            .contains("pc-bcd")
    );
    // The kept record still answers its agent.
    let r = post_ocs(
        &app,
        ocs_inventory("dup-b", "pc-bcd", None, None, None, Some(900)),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM devices WHERE name = 'pc-bcd'")
            .await,
        1
    );
}

#[tokio::test]
async fn exports_and_labels_follow_the_filters_and_the_role() {
    let app = TestApp::demo().await;
    let school = app.scalar("SELECT MIN(id) FROM schools").await;
    let admin = app.login("admin", "demo").await;
    let csv = admin
        .get(&format!(
            "/devices/export/materiel.csv?school_id={school}&category=tablette"
        ))
        .await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(csv.body.starts_with('\u{feff}'));
    let lines: Vec<&str> = csv.body.lines().collect();
    let tablets: i64 = preau_core::with_db!(&app.db, p => sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM devices d JOIN device_categories k ON k.id = d.category_id WHERE d.school_id = $1 AND k.code = 'tablette'").bind(school).fetch_one(p).await.unwrap());
    assert_eq!(lines.len() as i64, tablets + 1);
    assert!(lines[0].contains("Prix d'achat"));
    let erun = app.login("erun", "demo").await;
    let csv = erun
        .get(&format!("/devices/export/materiel.csv?school_id={school}"))
        .await;
    assert!(
        !csv.body.lines().next().unwrap().contains("Prix"),
        "no costs for the ERUN"
    );
    let xlsx = admin
        .get(&format!("/devices/export/materiel.xlsx?school_id={school}"))
        .await;
    assert_eq!(xlsx.status, StatusCode::OK);
    assert!(xlsx.bytes.starts_with(b"PK\x03\x04"));
    assert_eq!(
        xlsx.headers["content-type"],
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    let room = app
        .scalar("SELECT MIN(r.id) FROM rooms r JOIN devices d ON d.room_id = r.id")
        .await;
    let labels = admin.get(&format!("/labels?room_id={room}")).await;
    assert_eq!(labels.status, StatusCode::OK);
    let tag: String = preau_core::with_db!(&app.db, p => sqlx::query_scalar("SELECT asset_tag FROM devices WHERE room_id = $1 AND asset_tag IS NOT NULL ORDER BY id LIMIT 1").bind(room).fetch_one(p).await.unwrap());
    assert!(
        labels.body.contains(&tag) && labels.body.contains("<svg"),
        "{}",
        labels.body
    );
    assert!(labels.body.contains("/q/"));
}

#[tokio::test]
async fn address_ranges_place_agents_without_a_tag() {
    let app = TestApp::demo().await;
    let school = app.scalar("SELECT MAX(id) FROM schools").await;
    let tech = app.login("technicien", "demo").await;
    let r = tech
        .post(
            &format!("/schools/{school}/networks"),
            &[("ip_ranges", "192.0.2.0/33")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.body.contains("Plage d&#39;adresses invalide")
            || r.body.contains("Plage d'adresses invalide")
    );
    let r = tech
        .post(
            &format!("/schools/{school}/networks"),
            &[("ip_ranges", "10.78.0.0/16\n192.0.2.0/24")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    // The fixture's machine reports from 192.0.2.2: placed in that school.
    post_ocs(
        &app,
        ocs_inventory("net-1", "pc-reseau", None, None, None, None),
    )
    .await;
    let placed: Option<i64> = preau_core::with_db!(&app.db, p => sqlx::query_scalar("SELECT school_id FROM devices WHERE agent_device_id = 'net-1'").fetch_one(p).await.unwrap());
    assert_eq!(placed, Some(school));
    // The directeur may not change the ranges.
    let dir = app.login("directeur", "demo").await;
    let first = app.scalar("SELECT MIN(id) FROM schools").await;
    assert_eq!(
        dir.post(&format!("/schools/{first}/networks"), &[("ip_ranges", "")])
            .await
            .status,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn rotated_agent_credentials_refuse_the_old_secret() {
    let app = TestApp::demo().await;
    let admin = app.login("admin", "demo").await;
    let page = admin.get("/admin/agents").await;
    assert!(page.body.contains("/ocsinventory") && page.body.contains("agent"));
    let body = || ocs_inventory("rot-1", "pc-rotation", None, None, None, None);
    assert_eq!(post_ocs(&app, body()).await.status, StatusCode::OK);
    let r = admin
        .post(
            "/admin/agents",
            &[("login", "agents-ecoles"), ("secret", "")],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let secret = r
        .body
        .split("<code class=\"token\">")
        .nth(2)
        .and_then(|s| s.split('<').next())
        .expect("secret shown once")
        .to_string();
    assert!(secret.len() >= 20);
    assert!(!admin.get("/admin/agents").await.body.contains(&secret));
    // The old credentials (even remembered by the sign-in cache) are refused…
    assert_eq!(
        post_ocs(&app, body()).await.status,
        StatusCode::UNAUTHORIZED
    );
    // …the new ones accepted.
    let basic = format!("Basic {}", b64(&format!("agents-ecoles:{secret}")));
    let r = post_agent(&app, "/ocsinventory", &[("authorization", &basic)], body()).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_ne!(basic, DEMO_AGENT);
    // A malformed login is named.
    let r = admin
        .post("/admin/agents", &[("login", "A B"), ("secret", "")])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
}

fn b64(s: &str) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for c in s.as_bytes().chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        for i in 0..4 {
            out.push(if i <= c.len() {
                T[(n >> (18 - 6 * i) & 63) as usize] as char
            } else {
                '='
            });
        }
    }
    out
}

#[tokio::test]
async fn devices_and_mdm_exports_are_imported_after_a_preview() {
    let app = TestApp::demo().await;
    let uai: String = preau_core::with_db!(&app.db, p => sqlx::query_scalar("SELECT uai FROM schools ORDER BY id LIMIT 1").fetch_one(p).await.unwrap());
    let admin = app.login("admin", "demo").await;
    let before = app.scalar("SELECT COUNT(*) FROM devices").await;
    // A spreadsheet saved by Excel (Windows-1252, `;`): one new board, one known laptop
    // updated (by its asset tag), and a bad line that stops everything.
    let known: String = preau_core::with_db!(&app.db, p => sqlx::query_scalar("SELECT asset_tag FROM devices d JOIN device_categories k ON k.id = d.category_id WHERE k.code = 'poste_enseignant' AND d.asset_tag IS NOT NULL ORDER BY d.id LIMIT 1").fetch_one(p).await.unwrap());
    let sheet = |extra: &str| {
        let text = format!(
            "categorie;uai;salle;nom;etat;marque;modele;numero_serie;numero_inventaire;date_achat;prix\n\
             TNI / TBI (tableau interactif);{uai};Classe 1;TNI C1 (remplacement);en_service;Promethean;ActivPanel 9;PRM-778;VDE-2026-99001;01/09/2026;2 390,00\n\
             poste_enseignant;;;Portable réparé;en_service;;;;{known};;\n{extra}"
        );
        encoding_rs::WINDOWS_1252.encode(&text).0.into_owned()
    };
    let bad = sheet("tablette;0000000A;;;;;;;VDE-X;;\n");
    let r = admin
        .post_file(
            "/devices/import",
            &[("kind", "devices")],
            Some(("file", "parc.csv", &bad)),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("Ligne 4"), "{}", r.body);
    assert_eq!(app.scalar("SELECT COUNT(*) FROM devices").await, before);
    let good = sheet("");
    let r = admin
        .post_file(
            "/devices/import",
            &[("kind", "devices")],
            Some(("file", "parc.csv", &good)),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("Windows-1252"));
    let key = confirm_key(&r);
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM devices").await,
        before,
        "a preview writes nothing"
    );
    let r = admin.post("/devices/import/apply", &[("key", &key)]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(app.scalar("SELECT COUNT(*) FROM devices").await, before + 1);
    let name: String = preau_core::with_db!(&app.db, p => sqlx::query_scalar("SELECT name FROM devices WHERE asset_tag = $1").bind(&known).fetch_one(p).await.unwrap());
    assert_eq!(name, "Portable réparé");
    assert_eq!(
        app.scalar("SELECT price_cents FROM devices WHERE asset_tag = 'VDE-2026-99001'")
            .await,
        239_000
    );
    // Again: nothing new, nothing duplicated.
    let r = admin
        .post_file(
            "/devices/import",
            &[("kind", "devices")],
            Some(("file", "parc.csv", &good)),
        )
        .await;
    let key = confirm_key(&r);
    admin.post("/devices/import/apply", &[("key", &key)]).await;
    assert_eq!(app.scalar("SELECT COUNT(*) FROM devices").await, before + 1);

    // A Jamf School export: a known tablet (by serial) gets its name and OS version; an
    // unknown one is added to the chosen school; the assigned user is not kept.
    let serial: String = preau_core::with_db!(&app.db, p => sqlx::query_scalar("SELECT serial FROM devices d JOIN device_categories k ON k.id = d.category_id WHERE k.code = 'tablette' ORDER BY d.id LIMIT 1").fetch_one(p).await.unwrap());
    let school = app.scalar("SELECT MIN(id) FROM schools").await.to_string();
    let jamf = format!(
        "\u{feff}Device Name,Serial Number,Model,OS Version,Last Check-in,User\n\
         iPad-CM1-07,{serial},iPad (9th generation),17.5.1,2026-11-28 08:12,Léa Martin\n\
         iPad-CM1-08,DMPXQ0TESTAB,iPad (9th generation),17.5.1,2026-11-28 08:13,Hugo Petit\n"
    );
    let r = admin
        .post_file(
            "/devices/import",
            &[("kind", "mdm"), ("school_id", &school)],
            Some(("file", "jamf.csv", jamf.as_bytes())),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let key = confirm_key(&r);
    let r = admin.post("/devices/import/apply", &[("key", &key)]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let os: String = preau_core::with_db!(&app.db, p => sqlx::query_scalar("SELECT os_version FROM devices WHERE serial = $1").bind(&serial).fetch_one(p).await.unwrap());
    assert_eq!(os, "17.5.1");
    let seen: chrono::DateTime<chrono::Utc> = preau_core::with_db!(&app.db, p => sqlx::query_scalar("SELECT last_inventory_at FROM devices WHERE serial = $1").bind(&serial).fetch_one(p).await.unwrap());
    assert_eq!(
        seen.to_rfc3339(),
        "2026-11-28T07:12:00+00:00",
        "the export's check-in, Paris time"
    );
    let placed = app
        .scalar("SELECT school_id FROM devices WHERE serial = 'DMPXQ0TESTAB'")
        .await;
    assert_eq!(placed.to_string(), school);
    let leaked = app
        .scalar("SELECT COUNT(*) FROM devices WHERE notes LIKE '%Martin%' OR name LIKE '%Martin%'")
        .await
        + app
            .scalar("SELECT COUNT(*) FROM device_events WHERE detail LIKE '%Martin%'")
            .await;
    assert_eq!(leaked, 0, "the MDM's user names are not stored");
    // An export without serial numbers is refused with the line.
    let r = admin
        .post_file(
            "/devices/import",
            &[("kind", "mdm")],
            Some(("file", "x.csv", b"Device Name,Serial Number\nipad,\n")),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("Ligne 2"));
    // Not for a directeur.
    let dir = app.login("directeur", "demo").await;
    assert_eq!(
        dir.get("/devices/import").await.status,
        StatusCode::FORBIDDEN
    );
}

/// A device's history reads in words: a loan and a return by what they were (never a
/// pupil's name), a change by the fields' labels with empty values said so and dates as
/// the pages write them, newest first by when it happened; a lent tablet is in its state
/// since its loan.
#[tokio::test]
async fn a_device_history_reads_in_words() {
    let app = TestApp::demo().await;
    let (tablet, given): (i64, String) = preau_core::with_db!(&app.db, p => sqlx::query_as("SELECT l.device_id, CAST(l.given_on AS TEXT) FROM loans l WHERE l.kind = 'eleve' AND l.returned_on IS NULL ORDER BY l.id LIMIT 1").fetch_one(p).await.unwrap());
    let admin = app.login("admin", "demo").await;
    let page = admin.get(&format!("/devices/{tablet}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Prêté (Élève (1:1))"), "{}", page.body);
    assert!(!page.body.contains("kind :") && !page.body.contains("returned_on"));
    let given = chrono::NaiveDate::parse_from_str(&given[..10], "%Y-%m-%d").unwrap();
    let since = "Dans cet état depuis le";
    let at = page.body.find(since).expect("state since");
    assert!(
        page.body[at..at + 300].contains(&given.format("%d/%m/%Y").to_string()),
        "{}",
        &page.body[at..at + 300]
    );
    // A change through the API: the field's label, its empty value and its date in words.
    let token = app.token("admin").await;
    let version = app
        .api(
            &token,
            axum::http::Method::GET,
            &format!("/api/v1/devices/{tablet}"),
            None,
        )
        .await
        .json()["version"]
        .as_i64()
        .unwrap();
    let r = app
        .api(
            &token,
            axum::http::Method::PATCH,
            &format!("/api/v1/devices/{tablet}"),
            Some(serde_json::json!({"version": version, "notes": "Coque neuve", "warranty_end": "2029-08-31"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let page = admin.get(&format!("/devices/{tablet}")).await;
    assert!(
        page.body.contains("Notes : (vide) → Coque neuve"),
        "{}",
        page.body
    );
    assert!(page.body.contains("→ 31/08/2029"), "{}", page.body);
    // Newest first: the change comes before the loan.
    let (changed, lent) = (
        page.body.find("Coque neuve").unwrap(),
        page.body.find("Prêté (").unwrap(),
    );
    assert!(changed < lent);
}
