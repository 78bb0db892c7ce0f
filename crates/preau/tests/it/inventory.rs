//! The agents' endpoint, in process: the captured exchanges of the three agents replayed,
//! every fixture ingested, reconciliation, hostile input, concurrency, and the devices API.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use preau_inventory::body::{Compression, deflate, inflate};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

use crate::harness::{Resp, TestApp};

pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../preau-inventory/tests/fixtures")
}

fn read(rel: &str) -> Vec<u8> {
    std::fs::read(fixtures().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// `agent:demo`, the demo collectivité's agent credentials, as HTTP Basic.
pub const DEMO_AGENT: &str = "Basic YWdlbnQ6ZGVtbw==";

/// Posts a body to the agents' endpoint with the given headers.
pub async fn post_agent(
    app: &TestApp,
    path: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> Resp {
    let mut req = Request::builder().method(Method::POST).uri(path);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    app.send(req.body(Body::from(body)).unwrap()).await
}

/// The headers an agent sent in a captured exchange (without Host and Content-Length).
fn captured_headers(exchange: &str) -> Vec<(String, String)> {
    let v: Value = serde_json::from_slice(&read(exchange)).unwrap();
    v["request"]["headers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h[0].as_str().unwrap().to_string(),
                h[1].as_str().unwrap().to_string(),
            )
        })
        .filter(|(k, _)| {
            !k.eq_ignore_ascii_case("host") && !k.eq_ignore_ascii_case("content-length")
        })
        .collect()
}

/// Replays one captured request (its wire bytes and headers), with `auth` if given.
async fn replay(app: &TestApp, dir: &str, step: &str, auth: Option<&str>) -> Resp {
    let ext = if step.contains("JSON") { "json" } else { "xml" };
    let body = read(&format!("agents/{dir}/{step}.req.{ext}.zlib"));
    let mut headers = captured_headers(&format!("agents/{dir}/{step}.exchange.json"));
    if let Some(a) = auth {
        headers.push(("authorization".into(), a.into()));
    }
    let refs: Vec<(&str, &str)> = headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let path = if dir.starts_with("glpi") {
        "/front/inventory.php"
    } else {
        "/ocsinventory"
    };
    post_agent(app, path, &refs, body).await
}

/// The reply's body, inflated (agents get it compressed like their request).
fn reply_text(r: &Resp) -> String {
    let (plain, _) = inflate(r.body_bytes(), None, 1 << 20).expect("reply inflates");
    String::from_utf8(plain).unwrap()
}

async fn count(app: &TestApp, sql: &'static str) -> i64 {
    app.scalar(sql).await
}

#[tokio::test]
async fn captured_exchanges_of_the_three_agents_are_answered() {
    let app = TestApp::demo().await;
    let base = count(&app, "SELECT COUNT(*) FROM devices").await;
    // Without credentials, or with wrong ones: the Basic challenge, nothing stored.
    for auth in [None, Some("Basic YWdlbnQ6bWF1dmFpcw==")] {
        let r = replay(
            &app,
            "ocsinventory-agent-2.10-exchange",
            "02-INVENTORY",
            auth,
        )
        .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        assert_eq!(r.headers["www-authenticate"], "Basic realm=\"preau\"");
    }
    assert_eq!(count(&app, "SELECT COUNT(*) FROM devices").await, base);

    for (dir, software) in [
        ("ocsinventory-agent-2.10-exchange", 926),
        ("fusioninventory-agent-2.6-exchange", 926),
    ] {
        let r = replay(&app, dir, "01-PROLOG", Some(DEMO_AGENT)).await;
        assert_eq!(r.status, StatusCode::OK, "{dir}");
        assert_eq!(r.headers["content-type"], "application/x-compressed");
        let text = reply_text(&r);
        assert!(
            text.contains("<RESPONSE>SEND</RESPONSE>")
                && text.contains("<PROLOG_FREQ>24</PROLOG_FREQ>"),
            "{text}"
        );
        assert!(
            text.starts_with("<?xml version='1.0' encoding='UTF-8'?>"),
            "{text}"
        );
        let r = replay(&app, dir, "02-INVENTORY", Some(DEMO_AGENT)).await;
        assert_eq!(r.status, StatusCode::OK, "{dir}: {}", r.body);
        assert!(reply_text(&r).contains("<RESPONSE>NO_ACCOUNT_UPDATE</RESPONSE>"));
        let events = count(&app, "SELECT COUNT(*) FROM device_events").await;
        // The second run of the same agent: the same device, nothing rewritten.
        replay(&app, dir, "03-PROLOG", Some(DEMO_AGENT)).await;
        let r = replay(&app, dir, "04-INVENTORY", Some(DEMO_AGENT)).await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(
            count(&app, "SELECT COUNT(*) FROM device_events").await,
            events
        );
        let n: i64 = preau_core::with_db!(&app.db, p => sqlx::query_scalar::<_, i64>("SELECT software_count FROM devices WHERE inventory_source <> '' ORDER BY id DESC LIMIT 1").fetch_one(p).await.unwrap());
        assert_eq!(n, software, "{dir}");
    }
    assert_eq!(count(&app, "SELECT COUNT(*) FROM devices").await, base + 2);
    // Both agents' devices sit in the "à affecter" queue (no TAG, no known address).
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM devices WHERE school_id IS NULL").await,
        2
    );

    // GLPI Agent: an XML PROLOG answered in JSON, a full JSON inventory, then a JSON
    // contact and a partial inventory that leaves the other sections alone.
    let dir = "glpi-agent-1.11-native-exchange";
    let r = replay(&app, dir, "run1-01-PROLOG", Some(DEMO_AGENT)).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.headers["content-type"], "application/x-compress-zlib");
    let v: Value = serde_json::from_str(&reply_text(&r)).unwrap();
    assert_eq!(v["status"], "ok");
    let r = replay(&app, dir, "run1-02-JSON-inventory", Some(DEMO_AGENT)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let id: i64 = preau_core::with_db!(&app.db, p => sqlx::query_scalar::<_, i64>("SELECT id FROM devices WHERE inventory_source = 'GLPI Agent'").fetch_one(p).await.unwrap());
    let before: (i64, String, i64) = preau_core::with_db!(&app.db, p => sqlx::query_as("SELECT software_count, os_name, (SELECT COUNT(*) FROM device_components WHERE device_id = $1) FROM devices WHERE id = $1").bind(id).fetch_one(p).await.unwrap());
    assert_eq!(before.0, 965);
    let r = replay(&app, dir, "run2-01-JSON-contact", Some(DEMO_AGENT)).await;
    let v: Value = serde_json::from_str(&reply_text(&r)).unwrap();
    assert_eq!(v["tasks"]["inventory"]["server"], "glpi");
    let r = replay(&app, dir, "run2-02-JSON-inventory", Some(DEMO_AGENT)).await;
    assert_eq!(r.status, StatusCode::OK);
    let after: (i64, String, i64) = preau_core::with_db!(&app.db, p => sqlx::query_as("SELECT software_count, os_name, (SELECT COUNT(*) FROM device_components WHERE device_id = $1) FROM devices WHERE id = $1").bind(id).fetch_one(p).await.unwrap());
    assert_eq!(
        after, before,
        "a partial inventory replaces only its own sections"
    );
    assert_eq!(count(&app, "SELECT COUNT(*) FROM devices").await, base + 3);
}

#[tokio::test]
async fn every_fixture_file_ingests() {
    let app = TestApp::demo().await;
    let root = fixtures();
    let mut posted = 0;
    for dir in [
        "glpi-inventory-format/json",
        "glpi-inventory-format/xml",
        "agents/local",
    ] {
        let mut files: Vec<PathBuf> = std::fs::read_dir(root.join(dir))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        for f in files {
            let body = std::fs::read(&f).unwrap();
            let r = post_agent(
                &app,
                "/ocsinventory",
                &[("authorization", DEMO_AGENT)],
                body,
            )
            .await;
            assert_eq!(r.status, StatusCode::OK, "{}: {}", f.display(), r.body);
            posted += 1;
        }
    }
    assert!(posted >= 40);
    // Computers, phones, printers and network equipment all became devices, each in the
    // category its kind suggests.
    for (code, at_least) in [
        ("pc_fixe", 3),
        ("portable", 1),
        ("imprimante", 3),
        ("switch", 5),
        ("telephone", 1),
    ] {
        let n: i64 = preau_core::with_db!(&app.db, p => sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM devices d JOIN device_categories k ON k.id = d.category_id WHERE k.code = $1").bind(code).fetch_one(p).await.unwrap());
        assert!(n >= at_least, "{code}: {n}");
    }
    // computer_3 then computer_3_updated (host LF014, the same UUID): one device, its
    // software history written.
    let n = count(&app, "SELECT COUNT(*) FROM devices WHERE name = 'LF014'").await;
    assert_eq!(n, 1, "computer_3 and its update are one device");
    let sw = count(
        &app,
        "SELECT COUNT(*) FROM device_events e JOIN devices d ON d.id = e.device_id WHERE d.name = 'LF014' AND e.kind = 'software'",
    )
    .await;
    assert!(sw >= 1, "no software change recorded for LF014");
}

/// The OCS agent's captured inventory with another DEVICEID and host name, and optional
/// extra `<HARDWARE>`/`<BIOS>` fields, a TAG, and a software list cut to `software`.
pub fn ocs_inventory(
    device_id: &str,
    name: &str,
    uuid: Option<&str>,
    serial: Option<&str>,
    tag: Option<&str>,
    software: Option<usize>,
) -> Vec<u8> {
    let mut xml = String::from_utf8(read(
        "agents/ocsinventory-agent-2.10-exchange/02-INVENTORY.req.xml",
    ))
    .unwrap();
    xml = xml.replace("pc-ecole-01-2026-11-29-10-59-42", device_id);
    xml = xml.replace("<NAME>pc-ecole-01</NAME>", &format!("<NAME>{name}</NAME>"));
    if let Some(u) = uuid {
        xml = xml.replace("<HARDWARE>", &format!("<HARDWARE>\n      <UUID>{u}</UUID>"));
    }
    if let Some(s) = serial {
        xml = xml.replace("<BIOS>", &format!("<BIOS>\n      <SSN>{s}</SSN>\n      <SMODEL>Latitude 5420</SMODEL>\n      <SMANUFACTURER>Dell Inc.</SMANUFACTURER>"));
    }
    if let Some(t) = tag {
        xml = xml.replace("<CONTENT>", &format!("<CONTENT>\n    <ACCOUNTINFO>\n      <KEYNAME>TAG</KEYNAME>\n      <KEYVALUE>{t}</KEYVALUE>\n    </ACCOUNTINFO>"));
    }
    if let Some(keep) = software {
        let mut out = String::new();
        let mut n = 0;
        let mut rest = xml.as_str();
        while let Some(i) = rest.find("<SOFTWARES>") {
            let j = rest[i..].find("</SOFTWARES>").unwrap() + i + "</SOFTWARES>".len();
            out.push_str(&rest[..i]);
            if n < keep {
                out.push_str(&rest[i..j]);
            }
            n += 1;
            rest = &rest[j..];
        }
        out.push_str(rest);
        xml = out;
    }
    xml.into_bytes()
}

pub async fn post_ocs(app: &TestApp, body: Vec<u8>) -> Resp {
    post_agent(
        app,
        "/ocsinventory",
        &[
            ("authorization", DEMO_AGENT),
            ("content-type", "application/x-compress"),
            ("user-agent", "OCS-NG_unified_unix_agent_v2.10.0"),
        ],
        deflate(&body, Compression::Zlib),
    )
    .await
}

async fn device_of(app: &TestApp, device_id: &str) -> Value {
    let row: Option<(i64, Option<i64>, i64, Option<String>)> = preau_core::with_db!(&app.db, p => sqlx::query_as("SELECT id, school_id, software_count, system_uuid FROM devices WHERE agent_device_id = $1").bind(device_id).fetch_optional(p).await.unwrap());
    match row {
        Some((id, school, sw, uuid)) => {
            json!({"id": id, "school": school, "software": sw, "uuid": uuid})
        }
        None => Value::Null,
    }
}

#[tokio::test]
async fn reinventories_match_uuid_then_serial_never_a_mac_alone() {
    let app = TestApp::demo().await;
    let base = count(&app, "SELECT COUNT(*) FROM devices").await;
    let (uai_a, uai_b): (String, String) = preau_core::with_db!(&app.db, p => sqlx::query_as("SELECT (SELECT uai FROM schools ORDER BY id LIMIT 1), (SELECT uai FROM schools ORDER BY id DESC LIMIT 1)").fetch_one(p).await.unwrap());
    // A PC with a UUID, tagged with its school's UAI: placed there.
    let uuid = "4c4c4544-0034-3010-8048-b6c04f503732";
    let r = post_ocs(
        &app,
        ocs_inventory(
            "pc1-2026",
            "pc-direction",
            Some(uuid),
            None,
            Some(&uai_a),
            None,
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    let first = device_of(&app, "pc1-2026").await;
    assert!(first["school"].is_i64());
    // The agent reinstalled (a new DEVICEID), same UUID: the same device.
    post_ocs(
        &app,
        ocs_inventory(
            "pc1-2027",
            "pc-direction",
            Some(uuid),
            None,
            Some(&uai_a),
            None,
        ),
    )
    .await;
    let again = device_of(&app, "pc1-2027").await;
    assert_eq!(again["id"], first["id"]);
    assert_eq!(device_of(&app, "pc1-2026").await, Value::Null);
    // Serial + model match when there is no UUID.
    post_ocs(
        &app,
        ocs_inventory("pc2-a", "pc-classe", None, Some("7HX2K93"), None, None),
    )
    .await;
    post_ocs(
        &app,
        ocs_inventory("pc2-b", "pc-classe", None, Some("7HX2K93"), None, None),
    )
    .await;
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM devices WHERE serial = '7HX2K93'"
        )
        .await,
        1
    );
    // Same MACs (the fixture's), no UUID, no serial, another DEVICEID: a different device.
    post_ocs(
        &app,
        ocs_inventory("pc3", "pc-classe", None, None, None, None),
    )
    .await;
    assert_eq!(count(&app, "SELECT COUNT(*) FROM devices").await, base + 3);
    // The tagged PC now reports from another school: recorded as a move.
    post_ocs(
        &app,
        ocs_inventory(
            "pc1-2027",
            "pc-direction",
            Some(uuid),
            None,
            Some(&uai_b),
            None,
        ),
    )
    .await;
    let moved = device_of(&app, "pc1-2027").await;
    assert_ne!(moved["school"], first["school"]);
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM device_events WHERE kind = 'moved'"
        )
        .await,
        1
    );
    // Software removed on the machine: the history says which.
    let r = post_ocs(
        &app,
        ocs_inventory(
            "pc1-2027",
            "pc-direction",
            Some(uuid),
            None,
            Some(&uai_b),
            Some(900),
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(device_of(&app, "pc1-2027").await["software"], 900);
    let detail: String = preau_core::with_db!(&app.db, p => sqlx::query_scalar("SELECT detail FROM device_events WHERE kind = 'software' ORDER BY id DESC LIMIT 1").fetch_one(p).await.unwrap());
    let v: Value = serde_json::from_str(&detail).unwrap();
    assert_eq!(v["removed"]["count"], 26);
    // Placed by an administrator, an untagged agent is told its school's UAI.
    let unplaced: i64 = device_of(&app, "pc3").await["id"].as_i64().unwrap();
    let school: i64 = preau_core::with_db!(&app.db, p => sqlx::query_scalar("SELECT id FROM schools ORDER BY id LIMIT 1").fetch_one(p).await.unwrap());
    let admin = preau_core::users::principal(
        &app.db,
        app.scalar("SELECT id FROM users WHERE login = 'admin'")
            .await,
    )
    .await
    .unwrap()
    .unwrap();
    preau_core::write_tx!(app.db, tx => preau_core::inventory::devices::place(tx, &admin, &[unplaced], school, None, chrono::Utc::now()).await?).unwrap();
    let r = post_ocs(
        &app,
        ocs_inventory("pc3", "pc-classe", None, None, None, None),
    )
    .await;
    let text = reply_text(&r);
    assert!(
        text.contains("<RESPONSE>ACCOUNT_UPDATE</RESPONSE>")
            && text.contains(&format!("<KEYVALUE>{uai_a}</KEYVALUE>")),
        "{text}"
    );
}

#[tokio::test]
async fn hostile_bodies_get_a_clear_4xx_and_change_nothing() {
    let app = TestApp::demo().await;
    let good = ocs_inventory("victim", "pc-victime", None, None, None, None);
    assert_eq!(post_ocs(&app, good.clone()).await.status, StatusCode::OK);
    let snapshot = || async {
        preau_core::with_db!(&app.db, p => sqlx::query_as::<_, (i64, i64, Option<String>, i64)>("SELECT (SELECT COUNT(*) FROM devices), (SELECT COUNT(*) FROM device_events), (SELECT fingerprints FROM devices WHERE agent_device_id = 'victim'), (SELECT software_count FROM devices WHERE agent_device_id = 'victim')").fetch_one(p).await.unwrap())
    };
    let before = snapshot().await;
    let zeros = vec![b' '; 200 << 20];
    let mut bomb =
        b"<REQUEST><QUERY>INVENTORY</QUERY><DEVICEID>victim</DEVICEID><CONTENT>".to_vec();
    bomb.extend_from_slice(&zeros);
    let bomb = deflate(&bomb, Compression::Zlib);
    let text = String::from_utf8(good.clone()).unwrap();
    let truncated = deflate(&good, Compression::Zlib);
    let cases: Vec<(&str, Vec<u8>, StatusCode, &str)> = vec![
        (
            "malformed XML",
            b"<REQUEST><QUERY>INVENTORY</QUERY><DEVICEID>victim</DEVICEID><CONTENT><HARDWARE>"
                .to_vec(),
            StatusCode::BAD_REQUEST,
            "malformed XML",
        ),
        (
            "malformed JSON",
            br#"{"action": "inventory", "deviceid": "victim", "content": {"#.to_vec(),
            StatusCode::BAD_REQUEST,
            "malformed JSON",
        ),
        (
            "lying compression",
            b"\x78\x9c this is not zlib at all".to_vec(),
            StatusCode::BAD_REQUEST,
            "corrupt compressed data",
        ),
        (
            "truncated zlib",
            truncated[..truncated.len() / 2].to_vec(),
            StatusCode::BAD_REQUEST,
            "corrupt compressed data",
        ),
        (
            "garbage",
            vec![0u8, 1, 2, 3, 4, 5],
            StatusCode::BAD_REQUEST,
            "neither XML nor JSON",
        ),
        (
            "decompression bomb",
            bomb,
            StatusCode::PAYLOAD_TOO_LARGE,
            "larger than",
        ),
        (
            "invalid UTF-8",
            {
                let (head, tail) = text.split_once("pc-victime").unwrap();
                [head.as_bytes(), b"pc-vict\xFFime", tail.as_bytes()].concat()
            },
            StatusCode::BAD_REQUEST,
            "not valid UTF-8",
        ),
        (
            "malformed software list",
            text.replacen("<NAME>adduser</NAME>", "<NAME>adduser</VERSION>", 1)
                .into_bytes(),
            StatusCode::BAD_REQUEST,
            "malformed XML",
        ),
        (
            "missing DEVICEID",
            text.replace("<DEVICEID>victim</DEVICEID>", "").into_bytes(),
            StatusCode::BAD_REQUEST,
            "missing DEVICEID",
        ),
        (
            "huge body",
            vec![b'<'; preau_web::agent::MAX_BODY + 1],
            StatusCode::PAYLOAD_TOO_LARGE,
            "",
        ),
    ];
    for (what, body, status, message) in cases {
        let r = post_agent(
            &app,
            "/ocsinventory",
            &[
                ("authorization", DEMO_AGENT),
                ("content-type", "application/x-compress"),
            ],
            body,
        )
        .await;
        assert_eq!(r.status, status, "{what}: {}", r.body);
        assert!(r.body.contains(message), "{what}: {}", r.body);
        assert_eq!(snapshot().await, before, "{what} changed something");
    }
    // The GLPI Agent gets its refusals in JSON.
    let r = post_agent(
        &app,
        "/front/inventory.php",
        &[("authorization", DEMO_AGENT), ("glpi-agent-id", "x")],
        br#"{"action":"inventory"}"#.to_vec(),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let v: Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(v["status"], "error");
    assert!(v["message"].as_str().unwrap().contains("DEVICEID"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_inventories_are_all_stored() {
    let app = std::sync::Arc::new(TestApp::demo().await);
    let base = count(&app, "SELECT COUNT(*) FROM devices").await;
    const N: usize = 24;
    for round in 0..2 {
        let mut tasks = Vec::new();
        for i in 0..N {
            let app = app.clone();
            tasks.push(tokio::spawn(async move {
                let body = ocs_inventory(
                    &format!("conc-{i}"),
                    &format!("pc-{i}"),
                    None,
                    Some(&format!("SN{i:05}")),
                    None,
                    Some(800 + i + round),
                );
                post_ocs(&app, body).await.status
            }));
        }
        for t in tasks {
            assert_eq!(t.await.unwrap(), StatusCode::OK);
        }
        assert_eq!(
            count(&app, "SELECT COUNT(*) FROM devices").await,
            base + N as i64,
            "round {round}"
        );
        let wrong = count(
            &app,
            "SELECT COUNT(*) FROM devices WHERE agent_device_id LIKE 'conc-%' AND software_count < 800",
        )
        .await;
        assert_eq!(wrong, 0);
    }
    // Each device's software set is complete: as many items as it says.
    let bad = count(&app, "SELECT COUNT(*) FROM devices d WHERE d.software_count <> (SELECT COUNT(*) FROM software_set_items i WHERE i.set_id = d.software_set_id)").await;
    assert_eq!(bad, 0);
}

#[tokio::test]
async fn the_devices_api_searches_and_keeps_to_each_role() {
    let app = TestApp::demo().await;
    let uai: String = preau_core::with_db!(&app.db, p => sqlx::query_scalar("SELECT uai FROM schools ORDER BY id LIMIT 1").fetch_one(p).await.unwrap());
    post_ocs(
        &app,
        ocs_inventory(
            "api-1",
            "pc-salle-info",
            None,
            Some("SNAPI1"),
            Some(&uai),
            None,
        ),
    )
    .await;
    post_ocs(
        &app,
        ocs_inventory("api-2", "pc-sans-ecole", None, None, None, None),
    )
    .await;
    let admin = app.token("admin").await;
    let r = app
        .api(
            &admin,
            Method::GET,
            "/api/v1/devices?search=zutty&unplaced=true",
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let found = r.json()["items"].as_array().unwrap().clone();
    assert_eq!(found.len(), 1, "found by installed software");
    assert_eq!(found[0]["name"], "pc-sans-ecole");
    let r = app
        .api(&admin, Method::GET, "/api/v1/devices?unplaced=true", None)
        .await;
    let items = r.json()["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["name"], "pc-sans-ecole");
    let id = app
        .scalar("SELECT id FROM devices WHERE serial = 'SNAPI1'")
        .await;
    let r = app
        .api(&admin, Method::GET, &format!("/api/v1/devices/{id}"), None)
        .await;
    let v = r.json();
    assert_eq!(v["software"].as_array().unwrap().len(), 926);
    assert_eq!(v["os_name"], "Debian GNU/Linux 12");
    assert!(
        v["components"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["kind"] == "network")
    );
    // A price set by the administrator: hidden from the ERUN, kept when a technician edits.
    let version = v["version"].as_i64().unwrap();
    let r = app
        .api(
            &admin,
            Method::PATCH,
            &format!("/api/v1/devices/{id}"),
            Some(json!({"version": version, "price_cents": 64900, "asset_tag": "INV-2024-001"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let erun = app.token("erun").await;
    let r = app
        .api(&erun, Method::GET, &format!("/api/v1/devices/{id}"), None)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.json()["price_cents"].is_null());
    // The directeur sees the device of their school, not the unplaced one.
    let dir = app.token("directeur").await;
    let r = app
        .api(
            &dir,
            Method::GET,
            "/api/v1/devices?search=pc-&limit=500",
            None,
        )
        .await;
    let names: Vec<String> = r.json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["name"].as_str().unwrap_or("").to_string())
        .collect();
    assert!(names.contains(&"pc-salle-info".to_string()), "{names:?}");
    assert!(!names.contains(&"pc-sans-ecole".to_string()));
    let first = count(&app, "SELECT MIN(id) FROM schools").await;
    let own = app
        .api(
            &admin,
            Method::GET,
            &format!("/api/v1/devices?search=pc-&limit=500&school_id={first}"),
            None,
        )
        .await;
    assert_eq!(
        names.len(),
        own.json()["items"].as_array().unwrap().len(),
        "only their school's devices"
    );
    let unplaced = app
        .scalar("SELECT id FROM devices WHERE name = 'pc-sans-ecole'")
        .await;
    assert_eq!(
        app.api(
            &dir,
            Method::GET,
            &format!("/api/v1/devices/{unplaced}"),
            None
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );
    // The directeur may not edit devices; the prestataire sees only its lots' perimeter.
    let r = app
        .api(
            &dir,
            Method::PATCH,
            &format!("/api/v1/devices/{id}"),
            Some(json!({"version": version + 1, "name": "x"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let pre = app.token("prestataire").await;
    let seen = app
        .api(&pre, Method::GET, "/api/v1/devices?limit=500", None)
        .await
        .json();
    let lot_categories = [
        "tni",
        "vpi",
        "eni",
        "videoprojecteur",
        "visualiseur",
        "poste_enseignant",
        "portable",
        "pc_fixe",
        "tablette",
        "classe_mobile",
    ];
    let items = seen["items"].as_array().unwrap();
    assert!(!items.is_empty());
    assert!(
        items
            .iter()
            .all(|d| lot_categories.contains(&d["category"].as_str().unwrap())),
        "{seen}"
    );
    // Bad input names the field; a duplicate asset tag is a conflict.
    let r = app.api(&admin, Method::POST, "/api/v1/devices", Some(json!({"category": "tni", "school_id": null, "price": "douze euros", "warranty_end": "2020-13-01"}))).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields = r.error_fields();
    assert!(
        fields.contains(&"price".to_string()) && fields.contains(&"warranty_end".to_string()),
        "{fields:?}"
    );
    let r = app
        .api(
            &admin,
            Method::POST,
            "/api/v1/devices",
            Some(json!({"category": "tni", "asset_tag": "INV-2024-001"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    let r = app.api(&admin, Method::POST, "/api/v1/devices", Some(json!({"category": "tni", "asset_tag": "INV-2024-002", "brand": "Promethean", "price": "1 890,00"}))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.json()["price_cents"], 189_000);
}

#[tokio::test]
async fn cloned_machines_share_their_image() {
    let app = TestApp::demo().await;
    // Two machines cloned from one image send the same software text: one set, known by
    // that text, so the second list is recognised without being read again.
    post_ocs(
        &app,
        ocs_inventory("clone-1", "pc-clone-1", None, None, None, None),
    )
    .await;
    post_ocs(
        &app,
        ocs_inventory("clone-2", "pc-clone-2", None, None, None, None),
    )
    .await;
    let sets: Vec<(Option<i64>, i64)> = preau_core::with_db!(&app.db, p => sqlx::query_as("SELECT software_set_id, software_count FROM devices WHERE agent_device_id LIKE 'clone-%' ORDER BY agent_device_id").fetch_all(p).await.unwrap());
    assert_eq!(sets.len(), 2);
    assert_eq!(sets[0], sets[1]);
    assert_eq!(sets[0].1, 926);
    let known = app
        .scalar("SELECT COUNT(*) FROM software_sets WHERE raw_hash IS NOT NULL")
        .await;
    assert!(known >= 1);
    // A third with one package fewer has its own set, and its own count.
    post_ocs(
        &app,
        ocs_inventory("clone-3", "pc-clone-3", None, None, None, Some(925)),
    )
    .await;
    let third: (Option<i64>, i64) = preau_core::with_db!(&app.db, p => sqlx::query_as("SELECT software_set_id, software_count FROM devices WHERE agent_device_id = 'clone-3'").fetch_one(p).await.unwrap());
    assert_ne!(third.0, sets[0].0);
    assert_eq!(third.1, 925);
    // Every device's set holds as many items as its count says.
    let bad = app
        .scalar("SELECT COUNT(*) FROM devices d WHERE d.software_set_id IS NOT NULL AND d.software_count <> (SELECT COUNT(*) FROM software_set_items i WHERE i.set_id = d.software_set_id)")
        .await;
    assert_eq!(bad, 0);
}

#[tokio::test]
async fn glpi_agent_bodies_in_every_compression_are_read() {
    let app = TestApp::demo().await;
    let json = read("agents/local/glpi-agent-1.11.json");
    for (how, content_type, id) in [
        (Compression::Plain, "application/json", "plain"),
        (Compression::Gzip, "application/x-compress-gzip", "gzip"),
        (
            Compression::Deflate,
            "application/x-compress-deflate",
            "deflate",
        ),
        (Compression::Zlib, "application/x-compress-zlib", "zlib"),
    ] {
        let body = String::from_utf8(json.clone())
            .unwrap()
            .replace("pc-ecole-01-2026-11-29-11-15-56", &format!("glpi-{id}"));
        let r = post_agent(
            &app,
            "/front/inventory.php",
            &[
                ("authorization", DEMO_AGENT),
                ("content-type", content_type),
                ("glpi-agent-id", "3fc04af4-ebe6-11f1-b931-ed826e663550"),
            ],
            deflate(body.as_bytes(), how),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{id}: {}", r.body);
        assert_eq!(
            r.headers["content-type"], content_type,
            "{id}: replied the way it was asked"
        );
        assert_eq!(
            device_of(&app, &format!("glpi-{id}")).await["software"],
            965,
            "{id}"
        );
    }
}
