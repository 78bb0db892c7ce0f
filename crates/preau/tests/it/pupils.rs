//! Pupils and tablets: the ONDE import (only class, level and a label survive; preview,
//! idempotence, arrivals/departures/class changes, all-or-nothing), the command line and
//! its logs, class sets and 1:1 loans by scan and in order, returns that open tickets,
//! who sees pupil labels and the read log, the retention purge, export and erasure, the
//! new school year, the counts and the record of processing.

use axum::http::Method;
use chrono::{NaiveDate, TimeZone, Utc};
use preau_core::with_db;
use serde_json::json;

use crate::harness::{TestApp, first_and_other_school};
use crate::tickets::principal;

use preau_domain::onde::EXPORT_HEADER as HEADER;

const FAMILY: &[&str] = &[
    "MARTINEZ",
    "LEFEBVRE",
    "ROUSSEAU",
    "FONTAINE",
    "CHEVALIER",
    "GAUTHIER",
    "PERRIN",
    "MOREAU",
    "LAMBERT",
    "BONNET",
    "FRANÇOIS",
    "MERCIER",
];
const FIRST: &[&str] = &[
    "Émile",
    "Jeanne",
    "Hugo",
    "Chloé",
    "Arthur",
    "Manon",
    "Jules",
    "Léa",
    "Louis",
    "Camille",
    "Raphaël",
    "Clémence",
];

/// One ONDE line with everything an export carries (`n` makes birth date, INE and
/// address unique so that the test can look for them afterwards).
pub fn line(n: usize, level: &str, class: &str) -> String {
    format!(
        "{};;{};{:02}/0{}/2018;F;07{:08}K;{} chemin des Vergers;78990;Élancourt;FRANCE;;;;;CYCLE II;{level};{class};4{n:04};Oui;Non;Oui;",
        FAMILY[n % FAMILY.len()],
        FIRST[n % FIRST.len()],
        10 + n % 18,
        1 + n % 9,
        123_400 + n,
        100 + n,
    )
}

pub fn export(lines: &[String]) -> String {
    format!("{HEADER}\n{}\n", lines.join("\n"))
}

/// Windows-1252 (ISO-8859-1 and its superset), as ONDE and Excel write it.
fn latin1(s: &str) -> Vec<u8> {
    let (bytes, _, lossy) = encoding_rs::WINDOWS_1252.encode(s);
    assert!(!lossy);
    bytes.into_owned()
}

/// None of the family names, birth dates, INE or addresses of the first `n` lines is in
/// `text`.
fn assert_dropped(text: &str, n: usize, place: &str) {
    for i in 0..n {
        let l = line(i, "", "");
        let f: Vec<&str> = l.split(';').collect();
        for gone in [f[0], f[3], f[5], f[6]] {
            assert!(!text.contains(gone), "{gone} is in {place}");
        }
    }
}

/// Every text the database holds, every table, every column (binary columns aside).
async fn all_text(app: &TestApp) -> String {
    let mut out = String::new();
    if app.db.backend() == preau_core::db::Backend::Postgres {
        let tables: Vec<String> = with_db!(&app.db, p => sqlx::query_scalar("SELECT table_name::text FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'").fetch_all(p).await.unwrap());
        for t in tables {
            let rows: Vec<String> = with_db!(&app.db, p => sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT CAST(x AS TEXT) FROM {t} x"))).fetch_all(p).await.unwrap());
            out.push_str(&rows.join("\n"));
        }
    } else {
        let tables: Vec<String> = with_db!(&app.db, p => sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").fetch_all(p).await.unwrap());
        for t in tables {
            let cols: Vec<String> = with_db!(&app.db, p => sqlx::query_scalar("SELECT name FROM pragma_table_info($1) WHERE type <> 'BLOB'").bind(&t).fetch_all(p).await.unwrap());
            let expr = cols
                .iter()
                .map(|c| format!("COALESCE(CAST(\"{c}\" AS TEXT), '')"))
                .collect::<Vec<_>>()
                .join(" || '|' || ");
            let rows: Vec<String> = with_db!(&app.db, p => sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT {expr} FROM \"{t}\""))).fetch_all(p).await.unwrap());
            out.push_str(&rows.join("\n"));
        }
    }
    out
}

async fn new_year(app: &TestApp) -> i64 {
    let admin = principal(app, "admin").await;
    let y = preau_core::write_tx!(app.db, tx => preau_core::years::create(tx, &admin, &preau_core::years::ValidSchoolYear {
        label: "2027-2028".into(),
        starts_on: NaiveDate::from_ymd_opt(2027, 9, 1).unwrap(),
        ends_on: NaiveDate::from_ymd_opt(2028, 7, 4).unwrap(),
    }, Utc::now()).await?)
    .unwrap();
    y.id
}

/// Imports `lines` as an ONDE export (Windows-1252) into the school and year, now.
async fn import(
    app: &TestApp,
    p: &preau_domain::Principal,
    school: i64,
    year: i64,
    lines: &[String],
    dry_run: bool,
) -> preau_core::pupils::OndeReport {
    let bytes = latin1(&export(lines));
    preau_core::pupils::import_onde(&app.db, p, school, Some(year), &bytes, dry_run, Utc::now())
        .await
        .unwrap()
}

/// Pupils and classes held for a school year.
async fn held_in(app: &TestApp, year: i64) -> (i64, i64) {
    (
        count(
            app,
            "SELECT COUNT(*) FROM pupils WHERE school_year_id = $1",
            year,
        )
        .await,
        count(
            app,
            "SELECT COUNT(*) FROM classes WHERE school_year_id = $1",
            year,
        )
        .await,
    )
}

async fn count(app: &TestApp, sql: &'static str, id: i64) -> i64 {
    with_db!(&app.db, p => sqlx::query_scalar::<_, i64>(sql).bind(id).fetch_one(p).await.unwrap())
}

#[tokio::test]
async fn an_onde_export_leaves_only_class_level_and_label() {
    let app = TestApp::demo().await;
    let (school, _) = first_and_other_school(&app).await;
    let year = new_year(&app).await;
    let y = year.to_string();
    let lines: Vec<String> = (0..12)
        .map(|n| {
            line(
                n,
                if n < 6 { "CE1" } else { "CE2" },
                if n < 6 {
                    "CE1 — Mme Roux"
                } else {
                    "CE2 — M. Blanc"
                },
            )
        })
        .collect();
    let file = latin1(&export(&lines));
    let session = app.login("directeur", "demo").await;
    let url = format!("/schools/{school}/onde");
    assert_eq!(session.get(&url).await.status, 200);
    // The preview says what would change and writes nothing.
    let preview = session
        .post_file(
            &url,
            &[("school_year_id", &y)],
            Some(("file", "extraction.csv", &file)),
        )
        .await;
    assert_eq!(preview.status, 200, "{}", preview.body);
    assert!(preview.body.contains("Émile M.") && preview.body.contains("CE2 — M. Blanc"));
    assert!(preview.body.contains("Windows-1252"));
    assert!(preview.body.contains("Date naissance") && preview.body.contains("INE"));
    assert_eq!(held_in(&app, year).await, (0, 0));
    let key = preview
        .body
        .split("name=\"key\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap()
        .to_string();
    let applied = session
        .post(&format!("{url}/apply"), &[("key", &key)])
        .await;
    assert_eq!(applied.status, 200, "{}", applied.body);
    assert!(applied.body.contains("Import terminé"), "{}", applied.body);
    assert_eq!(held_in(&app, year).await, (12, 2));
    // The confirmation key is spent.
    assert_eq!(
        session
            .post(&format!("{url}/apply"), &[("key", &key)])
            .await
            .status,
        422
    );

    // Nothing but the label, the class and the level is anywhere in the database.
    let held = all_text(&app).await;
    assert_dropped(&held, 12, "the database");
    assert!(held.contains("Émile M.") && held.contains("CE1 — Mme Roux"));

    // The same file again changes nothing and writes no audit entry.
    let audits = count(
        &app,
        "SELECT COUNT(*) FROM audit_log WHERE object_id = $1 AND action = 'import_onde'",
        school,
    )
    .await;
    let admin = principal(&app, "directeur").await;
    let now = Utc::now();
    let again =
        preau_core::pupils::import_onde(&app.db, &admin, school, Some(year), &file, false, now)
            .await
            .unwrap();
    assert!(again.is_unchanged() && again.unchanged == 12, "{again:?}");
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM audit_log WHERE object_id = $1 AND action = 'import_onde'",
            school
        )
        .await,
        audits
    );

    // A pupil leaves, one arrives, one changes class.
    let mut next = lines.clone();
    next.remove(0);
    next[0] = line(1, "CE2", "CE2 — M. Blanc");
    next.push(line(20, "CE1", "CE1 — Mme Roux"));
    let r = import(&app, &admin, school, year, &next, false).await;
    assert_eq!(
        r.departures,
        [("Émile M.".to_string(), "CE1 — Mme Roux".to_string())]
    );
    assert_eq!(
        r.arrivals,
        [("Louis L.".to_string(), "CE1 — Mme Roux".to_string())]
    );
    assert_eq!(
        r.moves,
        [(
            "Jeanne L.".to_string(),
            "CE1 — Mme Roux".to_string(),
            "CE2 — M. Blanc".to_string()
        )]
    );
    assert_eq!(r.unchanged, 10);
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM pupils WHERE school_year_id = $1 AND left_on IS NULL",
            year
        )
        .await,
        12
    );

    // A bad file: every bad line named, nothing applied.
    let mut bad = next.clone();
    bad[2] = line(2, "6e bis", "CE1 — Mme Roux");
    bad[4] = line(4, "CE1", "");
    bad[5] = line(5, "CE1", "CE1 — Mme Roux").replacen(FIRST[5], "", 1);
    bad.truncate(8);
    let pupils_now = "SELECT CAST(id AS TEXT) || '|' || COALESCE(label, '') || '|' || COALESCE(CAST(class_id AS TEXT), '') || '|' || COALESCE(CAST(left_on AS TEXT), '') FROM pupils ORDER BY id";
    let held = || async {
        with_db!(&app.db, p => sqlx::query_scalar::<_, String>(pupils_now).fetch_all(p).await.unwrap())
    };
    let before = held().await;
    let resp = session
        .post_file(
            &url,
            &[("school_year_id", &y)],
            Some(("file", "abimé.csv", &latin1(&export(&bad)))),
        )
        .await;
    assert_eq!(resp.status, 422);
    assert!(
        resp.body.contains("Ligne 4 —") && resp.body.contains("Ligne 7 —"),
        "{}",
        resp.body
    );
    let r = import(&app, &admin, school, year, &bad, false).await;
    let lines_named: Vec<usize> = r.errors.iter().map(|e| e.line).collect();
    assert_eq!(lines_named, [4, 6, 7], "{:?}", r.errors);
    assert!(!r.applied);
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM pupils WHERE school_year_id = $1 AND left_on IS NULL",
            year
        )
        .await,
        12
    );
    assert_eq!(held().await, before, "a refused file changes no pupil");
    // Another file entirely (the guardians' export) is refused as such.
    let guardians = "Civilité Responsable;Nom responsable;Prénom responsable;Prénom enfant;Classes enfants\nMme;PERRIN;Anne;Léa;CE1\n";
    let r = preau_core::pupils::import_onde(
        &app.db,
        &admin,
        school,
        Some(year),
        guardians.as_bytes(),
        true,
        now,
    )
    .await
    .unwrap();
    assert!(r.errors[0].message.contains("ONDE"), "{:?}", r.errors);

    // The collectivité switches to pseudonyms: the next import relabels every pupil in
    // place (same pupils, same classes), with a code stable from one import to the next.
    let admin_p = principal(&app, "admin").await;
    preau_core::write_tx!(app.db, tx => preau_core::pupils::set_settings(tx, &admin_p, 0, &preau_core::pupils::SettingsInput {
        label_mode: "pseudonyme".into(),
        retention_months: Some("3".into()),
        ..Default::default()
    }.parse()?, now).await?)
    .unwrap();
    let r = import(&app, &admin, school, year, &next, false).await;
    assert_eq!(
        (r.relabelled, r.arrivals.len(), r.departures.len()),
        (12, 0, 0),
        "{r:?}"
    );
    let labels: Vec<String> = with_db!(&app.db, p => sqlx::query_scalar("SELECT label FROM pupils WHERE school_year_id = $1 AND left_on IS NULL ORDER BY id").bind(year).fetch_all(p).await.unwrap());
    assert!(
        labels
            .iter()
            .all(|l| l.starts_with("Élève ") && l.len() == "Élève ".len() + 6),
        "{labels:?}"
    );
    assert!(
        import(&app, &admin, school, year, &next, false)
            .await
            .is_unchanged()
    );
    assert!(!all_text(&app).await.contains("Jeanne L."));
}

#[tokio::test]
async fn the_command_line_imports_and_no_log_line_carries_pupil_data() {
    let install = crate::binary::Install::new("onde");
    // The demo gives the school and the school year.
    drop(install.serve(&["--demo"]));
    let uai = preau_domain::Uai::from_digits(781_410).to_string();
    let path = install.dir.join("onde.csv");
    let lines: Vec<String> = (0..8).map(|n| line(n, "CM1", "CM1 — Mme Noir")).collect();
    std::fs::write(&path, latin1(&export(&lines))).unwrap();
    let file = path.to_str().unwrap();
    let env = [("PREAU_LOG", "debug")];
    let (ok, out, err) = install.run(&["import", "onde", "--uai", &uai, "--dry-run", file], &env);
    assert!(ok, "{err}");
    assert!(
        out.starts_with("[essai]")
            && out.contains("8 élève(s)")
            && out.contains("+ Émile M. (CM1 — Mme Noir)"),
        "{out}"
    );
    let (ok, out2, err2) = install.run(&["import", "onde", "--uai", &uai, file], &env);
    assert!(ok, "{err2}");
    assert!(
        out2.contains("1 classe(s) créée(s), 8 arrivée(s)"),
        "{out2}"
    );
    let (ok, out3, err3) = install.run(&["import", "onde", "--uai", &uai, file], &env);
    assert!(
        ok && out3.contains("0 arrivée(s), 0 départ(s), 0 changement(s) de classe, 8 inchangé(s)"),
        "{out3}{err3}"
    );
    // The logs and the output hold no birth date, INE, address or family name.
    let all = format!("{out}{err}{out2}{err2}{out3}{err3}");
    assert_dropped(&all, 8, "the output or logs");
    // A bad line: named, nothing written.
    let mut bad = lines.clone();
    bad[3] = line(3, "CM9", "CM1 — Mme Noir");
    std::fs::write(&path, latin1(&export(&bad))).unwrap();
    let (ok, _, err) = install.run(&["import", "onde", "--uai", &uai, file], &[]);
    assert!(
        !ok && err.contains("ligne 5") && err.contains("rien n'a été importé"),
        "{err}"
    );
}

/// The id of a class of this year in the school.
async fn class_of(app: &TestApp, school: i64) -> i64 {
    count(app, "SELECT MIN(c.id) FROM classes c JOIN school_years y ON y.id = c.school_year_id WHERE c.school_id = $1 AND y.label = '2026-2027'", school).await
}

#[tokio::test]
async fn a_directeur_lends_a_class_set_and_a_broken_tablet_opens_a_ticket() {
    let app = TestApp::demo().await;
    let (school, other) = first_and_other_school(&app).await;
    let class = count(&app, "SELECT MAX(c.id) FROM classes c JOIN school_years y ON y.id = c.school_year_id WHERE c.school_id = $1 AND y.label = '2026-2027'", school).await;
    // The maternelle's third cart is shared by the school: lend it to the class.
    let cart: i64 = with_db!(&app.db, p => sqlx::query_scalar("SELECT d.id FROM devices d JOIN device_categories k ON k.id = d.category_id WHERE d.school_id = $1 AND k.code = 'classe_mobile' ORDER BY d.asset_tag DESC LIMIT 1").bind(school).fetch_one(p).await.unwrap());
    let tablets: Vec<(i64, String)> = with_db!(&app.db, p => sqlx::query_as("SELECT id, asset_tag FROM devices WHERE parent_id = $1 AND state = 'en_service' ORDER BY asset_tag").bind(cart).fetch_all(p).await.unwrap());
    let s = app.login("directeur", "demo").await;
    let screen = s
        .get(&format!(
            "/classes/{class}/tablets?mode=classe&cart_id={cart}"
        ))
        .await;
    assert_eq!(screen.status, 200);
    assert!(screen.body.contains("16 libres"), "{}", screen.body);
    // One tablet scanned (its QR label's address), then the rest of the cart in one go.
    let url = format!("/classes/{class}/tablets");
    let cart_s = cart.to_string();
    let r = s
        .post(
            &url,
            &[
                ("mode", "classe"),
                ("cart_id", &cart_s),
                ("code", &format!("http://preau.local/q/{}", tablets[0].0)),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert!(r.location().contains("done="));
    // The same tablet again, an unknown number, another school's tablet: refused, said.
    let again = s
        .post(&url, &[("mode", "classe"), ("code", &tablets[0].1)])
        .await;
    assert_eq!(again.status, 422);
    assert!(again.body.contains("déjà prêté"), "{}", again.body);
    let unknown = s
        .post(&url, &[("mode", "classe"), ("code", "VDE-0000-99999")])
        .await;
    assert!(unknown.status == 422 && unknown.body.contains("Aucun appareil"));
    let foreign: String = with_db!(&app.db, p => sqlx::query_scalar("SELECT d.asset_tag FROM devices d JOIN device_categories k ON k.id = d.category_id WHERE d.school_id = $1 AND k.code = 'tablette' LIMIT 1").bind(other).fetch_one(p).await.unwrap());
    let f = s
        .post(&url, &[("mode", "classe"), ("code", &foreign)])
        .await;
    assert!(
        f.status == 422 && f.body.contains("autre école"),
        "{}",
        f.body
    );
    // The rest of the cart: the preview lists the 15 tablets, the confirmation lends them.
    let preview = s
        .post(
            &format!("{url}/pair"),
            &[("mode", "classe"), ("cart_id", &cart_s)],
        )
        .await;
    assert_eq!(preview.status, 200);
    assert!(
        preview
            .body
            .contains("15 tablette(s) seront prêtées à la classe en lot")
    );
    let plan: Vec<&str> = preview
        .body
        .split("name=\"plan\" value=\"")
        .skip(1)
        .map(|x| x.split('"').next().unwrap())
        .collect();
    let mut form = vec![
        ("mode", "classe"),
        ("cart_id", cart_s.as_str()),
        ("confirm", "1"),
    ];
    form.extend(plan.iter().map(|x| ("plan", *x)));
    let r = s.post(&format!("{url}/pair"), &form).await;
    assert_eq!(r.status, 303);
    assert!(r.location().contains("15"), "{}", r.location());
    let open = count(&app, "SELECT COUNT(*) FROM loans WHERE class_id = $1 AND kind = 'classe' AND returned_on IS NULL", class).await;
    assert_eq!(open, tablets.len() as i64);
    // A tablet comes back with its screen broken: a ticket on it, the tablet to repair.
    let loan: i64 = with_db!(&app.db, p => sqlx::query_scalar("SELECT id FROM loans WHERE device_id = $1 AND returned_on IS NULL").bind(tablets[1].0).fetch_one(p).await.unwrap());
    let page = s.get(&format!("/loans/{loan}")).await;
    assert!(page.status == 200 && page.body.contains("Écran cassé"));
    let back = s
        .post(
            &format!("/loans/{loan}/return"),
            &[
                ("state", "ecran_casse"),
                ("note", "Chute dans la cour"),
                ("version", "1"),
            ],
        )
        .await;
    assert_eq!(back.status, 303, "{}", back.body);
    let ticket = back.location();
    assert!(ticket.starts_with("/tickets/"), "{ticket}");
    let t = s.get(&ticket).await;
    assert!(
        t.body.contains("Retour de prêt : écran cassé") && t.body.contains(&tablets[1].1),
        "{}",
        t.body
    );
    assert!(t.body.contains("Chute dans la cour"));
    let state: String = with_db!(&app.db, p => sqlx::query_scalar("SELECT state FROM devices WHERE id = $1").bind(tablets[1].0).fetch_one(p).await.unwrap());
    assert_eq!(state, "en_reparation");
    // Taking it back twice is refused.
    let twice = s
        .post(&format!("/loans/{loan}/return"), &[("state", "ok")])
        .await;
    assert_eq!(twice.status, 422, "{}", twice.body);
    assert!(twice.body.contains("déjà terminé"));
    // The device's page tells its loans; the enseignant may read but not lend.
    let dev = s.get(&format!("/devices/{}", tablets[1].0)).await;
    assert!(dev.body.contains("Lot de classe") && dev.body.contains("Écran cassé"));
    // A tablet of the cart lent to a teacher from the school's loans page; a name is needed.
    let loans_url = format!("/schools/{school}/loans");
    let missing = s.post(&loans_url, &[("code", &tablets[1].1)]).await;
    assert_eq!(missing.status, 422);
    let back_in = s
        .post(
            &format!(
                "/loans/{}/return",
                count(
                    &app,
                    "SELECT id FROM loans WHERE device_id = $1 AND returned_on IS NULL",
                    tablets[3].0
                )
                .await
            ),
            &[("state", "ok")],
        )
        .await;
    assert_eq!(back_in.status, 303);
    let lent = s
        .post(
            &loans_url,
            &[("code", &tablets[3].1), ("holder_name", "Mme Rose")],
        )
        .await;
    assert_eq!(lent.status, 303, "{}", lent.body);
    assert!(lent.location().starts_with("/loans/"));
    let list = s.get(&format!("{loans_url}?status=all")).await;
    assert!(list.body.contains("Mme Rose") && list.body.contains("Lot de classe"));
    let xlsx = s.get(&format!("{loans_url}/xlsx?status=all")).await;
    assert_eq!(xlsx.status, 200);
    let sheets = crate::harness::xlsx_sheets(&xlsx.bytes);
    assert!(sheets[0].1.contains("Mme Rose"), "{:?}", sheets[0]);
    let teacher = app.login("enseignant", "demo").await;
    assert_eq!(teacher.get(&format!("/loans/{loan}")).await.status, 200);
    assert_eq!(
        teacher
            .post(&url, &[("mode", "classe"), ("code", &tablets[2].1)])
            .await
            .status,
        403
    );
}

#[tokio::test]
async fn one_tablet_per_pupil_by_scan_or_in_order_through_the_api() {
    let app = TestApp::demo().await;
    let (_, other) = first_and_other_school(&app).await;
    let year = new_year(&app).await;
    let admin = principal(&app, "admin").await;
    let lines: Vec<String> = (0..5).map(|n| line(n, "CP", "CP — Mme Vert")).collect();
    let r = import(&app, &admin, other, year, &lines, false).await;
    assert_eq!(r.arrivals.len(), 5);
    let class = count(
        &app,
        "SELECT id FROM classes WHERE school_year_id = $1",
        year,
    )
    .await;
    let token = app.token("technicien").await;
    // Four tablets come back to the school's stock through the API.
    let loans = app
        .api(
            &token,
            Method::GET,
            &format!("/api/v1/loans?school_id={other}"),
            None,
        )
        .await
        .json();
    let items = loans["items"].as_array().unwrap();
    assert!(items.len() > 100);
    let mut tags = Vec::new();
    for l in items.iter().filter(|l| l["kind"] == "eleve").take(4) {
        let r = app
            .api(
                &token,
                Method::POST,
                &format!("/api/v1/loans/{}/return", l["id"]),
                Some(json!({"state": "ok", "version": l["version"]})),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert!(r.json()["returned_on"].is_string());
        tags.push(l["asset_tag"].as_str().unwrap().to_string());
    }
    // Paired in order from the stock: three pupils, the fourth tablet kept for a scan.
    let s = app.login("technicien", "demo").await;
    let last = tags.pop().unwrap();
    let hold = preau_core::write_tx!(app.db, tx => preau_core::pupils::loans::lend(tx, &admin, other, &preau_core::pupils::loans::LoanInput { device: last.clone(), kind: "enseignant".into(), holder_name: Some("M. Vert".into()), ..Default::default() }.parse()?, Utc::now()).await?).unwrap();
    // First the preview: who gets which tablet, nothing lent yet.
    let loans_now = "SELECT COUNT(*) FROM loans WHERE returned_on IS NULL";
    let open_before = app.scalar(loans_now).await;
    let preview = s
        .post(
            &format!("/classes/{class}/tablets/pair"),
            &[("mode", "eleve")],
        )
        .await;
    assert_eq!(preview.status, 200);
    assert!(
        preview.body.contains("3 élève(s) recevront une tablette")
            && preview.body.contains("Arthur C.")
            && preview.body.contains("value=\"etui\" checked"),
        "{}",
        preview.body
    );
    assert_eq!(app.scalar(loans_now).await, open_before);
    let plan: Vec<String> = preview
        .body
        .split("name=\"plan\" value=\"")
        .skip(1)
        .map(|x| x.split('"').next().unwrap().to_string())
        .collect();
    assert_eq!(plan.len(), 3);
    let confirm = |plan: Vec<String>| {
        let s = &s;
        async move {
            let mut form: Vec<(&str, &str)> = vec![
                ("mode", "eleve"),
                ("accessories", "etui"),
                ("accessories", "chargeur"),
                ("confirm", "1"),
            ];
            form.extend(plan.iter().map(|x| ("plan", x.as_str())));
            s.post(&format!("/classes/{class}/tablets/pair"), &form)
                .await
        }
    };
    // A plan that no longer holds (a tablet taken since) lends nothing and shows the new.
    let stale: Vec<String> = plan
        .iter()
        .map(|x| format!("{}-1", x.split('-').next().unwrap()))
        .collect();
    let r = confirm(stale).await;
    assert_eq!(r.status, 409);
    assert!(r.body.contains("ont changé depuis"));
    assert_eq!(app.scalar(loans_now).await, open_before);
    // Confirmed: three loans with the case and charger, which can be undone at once.
    let r = confirm(plan.clone()).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let to = r.location();
    let undo: Vec<String> = to
        .split("undo=")
        .nth(1)
        .unwrap()
        .split(',')
        .map(str::to_string)
        .collect();
    assert_eq!(undo.len(), 3);
    assert!(
        app.scalar("SELECT COUNT(*) FROM loans WHERE returned_on IS NULL AND accessories = 'etui chargeur' AND kind = 'eleve'").await
            >= 3
    );
    let screen = s.get(&to).await;
    assert!(screen.body.contains("Annuler ces prêts (3)"));
    let mut form: Vec<(&str, &str)> = vec![("mode", "eleve")];
    form.extend(undo.iter().map(|l| ("loan", l.as_str())));
    let r = s
        .post(&format!("/classes/{class}/tablets/undo"), &form)
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(app.scalar(loans_now).await, open_before);
    // Undone once; a second time is refused (already returned).
    let r = s
        .post(&format!("/classes/{class}/tablets/undo"), &form)
        .await;
    assert_eq!(r.status, 409);
    let r = confirm(plan.clone()).await;
    assert_eq!(r.status, 303, "the same plan again: {}", r.body);
    let pupils = app
        .api(
            &token,
            Method::GET,
            &format!("/api/v1/classes/{class}/pupils"),
            None,
        )
        .await
        .json();
    let with: Vec<&serde_json::Value> = pupils["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| !p["device"].is_null())
        .collect();
    assert_eq!(with.len(), 3, "{pupils}");
    // In alphabetical order, accents folded: Arthur, Chloé, Émile.
    let names: Vec<&str> = with.iter().map(|p| p["label"].as_str().unwrap()).collect();
    assert_eq!(names, ["Arthur C.", "Chloé F.", "Émile M."]);
    // The teacher's tablet comes back, and is scanned for the next pupil.
    let r = app
        .api(
            &token,
            Method::POST,
            &format!("/api/v1/loans/{}/return", hold.id),
            Some(json!({"state": "ok"})),
        )
        .await;
    assert_eq!(r.status, 200);
    let screen = s.get(&format!("/classes/{class}/tablets")).await;
    assert!(
        screen.body.contains("Élève suivant") && screen.body.contains("Hugo R."),
        "{}",
        screen.body
    );
    let next: i64 = with_db!(&app.db, p => sqlx::query_scalar("SELECT id FROM pupils WHERE class_id = $1 AND label = 'Hugo R.'").bind(class).fetch_one(p).await.unwrap());
    let r = s
        .post(
            &format!("/classes/{class}/tablets"),
            &[
                ("mode", "eleve"),
                ("pupil_id", &next.to_string()),
                ("code", &last.to_lowercase()),
                ("accessories", "etui chargeur"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    // A pupil holds one tablet; a tablet one holder.
    let other_tag = &tags[0];
    let r = app
        .api(
            &token,
            Method::POST,
            "/api/v1/loans",
            Some(
                json!({"school_id": other, "device": other_tag, "kind": "eleve", "pupil_id": next}),
            ),
        )
        .await;
    assert_eq!(r.status, 409, "{}", r.body);
    let r = app.api(&token, Method::POST, "/api/v1/loans", Some(json!({"school_id": other, "device": last, "kind": "enseignant", "holder_name": "Mme Rose"}))).await;
    assert_eq!(r.status, 409);
    let r = app
        .api(
            &token,
            Method::POST,
            "/api/v1/loans",
            Some(json!({"school_id": other, "device": last, "kind": "eleve"})),
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("pupil_id"));
    let dev: i64 = with_db!(&app.db, p => sqlx::query_scalar("SELECT id FROM devices WHERE asset_tag = $1").bind(&last).fetch_one(p).await.unwrap());
    let h = app
        .api(
            &token,
            Method::GET,
            &format!("/api/v1/devices/{dev}/loans"),
            None,
        )
        .await;
    assert_eq!(h.status, 200, "{}", h.body);
    let h = h.json();
    let h = h["items"].as_array().unwrap();
    assert_eq!(h[0]["pupil_label"], "Hugo R.");
    assert_eq!(h[0]["accessories"], json!(["etui", "chargeur"]));
    assert_eq!(h[1]["holder_name"], "M. Vert");
    // The élu learns the tablet was lent to a pupil, not which one, and no deletion.
    let elu = app.token("elu").await;
    let h = app
        .api(
            &elu,
            Method::GET,
            &format!("/api/v1/devices/{dev}/loans"),
            None,
        )
        .await
        .json();
    let first = &h["items"][0];
    assert_eq!(
        (
            first["kind"].as_str(),
            first["pupil_label"].is_null(),
            first["pupil_id"].is_null(),
            first["pupil_deleted"].as_bool()
        ),
        (Some("eleve"), true, true, Some(false)),
        "{first}"
    );
    assert!(first["holder_name"].is_null());
}

#[tokio::test]
async fn pupil_labels_are_for_the_school_and_every_read_is_logged() {
    let app = TestApp::demo().await;
    let (school, _) = first_and_other_school(&app).await;
    let class = class_of(&app, school).await;
    let label: String = with_db!(&app.db, p => sqlx::query_scalar("SELECT label FROM pupils WHERE class_id = $1 AND label IS NOT NULL ORDER BY id LIMIT 1").bind(class).fetch_one(p).await.unwrap());
    let reads = "SELECT COUNT(*) FROM audit_log WHERE action = 'read_pupils' AND object_id = $1";
    for (login, sees, api) in [
        ("admin", true, 200),
        ("directeur", true, 200),
        ("enseignant", true, 200),
        ("technicien", true, 200),
        ("elu", false, 403),
        ("erun", false, 403),
        ("prestataire", false, 404),
    ] {
        let before = count(&app, reads, class).await;
        let s = app.login(login, "demo").await;
        let page = s.get(&format!("/classes/{class}")).await;
        assert_eq!(
            page.body.contains(&label),
            sees,
            "{login} on the class page"
        );
        let token = app.token(login).await;
        let r = app
            .api(
                &token,
                Method::GET,
                &format!("/api/v1/classes/{class}/pupils"),
                None,
            )
            .await;
        assert_eq!(r.status.as_u16(), api, "{login} API");
        assert_eq!(r.body.contains(&label), sees);
        // Two reads (the page and the API) for those who saw, none for the others.
        assert_eq!(
            count(&app, reads, class).await - before,
            if sees { 2 } else { 0 },
            "{login}"
        );
    }
    // The log names who read which class, never the pupils.
    let (who, what): (String, String) = with_db!(&app.db, p => sqlx::query_as("SELECT actor_login, object_label FROM audit_log WHERE action = 'read_pupils' AND object_id = $1 ORDER BY id DESC LIMIT 1").bind(class).fetch_one(p).await.unwrap());
    assert_eq!(who, "technicien");
    assert!(!what.contains(&label) && what.contains("—"), "{what}");
    // The administrator finds the reads apart from the changes.
    let admin = app.login("admin", "demo").await;
    let log = admin.get("/admin/audit?action=read_pupils").await;
    assert!(
        log.status == 200
            && log
                .body
                .contains("<td>Consultation de données d&#39;élèves</td>")
            && !log.body.contains("<td>Création</td>")
    );
    // Counts for the élu and the ERUN, no names; the contractor has no such page.
    let elu = app.login("elu", "demo").await;
    let t = elu.get("/tablets").await;
    assert_eq!(t.status, 200);
    assert!(t.body.contains("Toutes les écoles") && !t.body.contains(&label));
    let csv = elu.get("/tablets/csv").await;
    assert!(csv.status == 200 && csv.body.contains("Toutes les écoles"));
    assert_eq!(
        app.login("prestataire", "demo")
            .await
            .get("/tablets")
            .await
            .status,
        403
    );
    // A device's loans: the élu and the contractor see the device, not who holds it; the
    // administrator does.
    let (tablet, holder, school): (i64, String, i64) = with_db!(&app.db, p => sqlx::query_as("SELECT l.device_id, p.label, l.school_id FROM loans l JOIN pupils p ON p.id = l.pupil_id WHERE l.returned_on IS NULL AND p.label IS NOT NULL ORDER BY l.id LIMIT 1").fetch_one(p).await.unwrap());
    // (The contractor reads it only when tablets are in its lots' perimeter.)
    let tablets_in_lots = count(&app, "SELECT COUNT(*) FROM lot_perimeters lp JOIN device_categories k ON k.id = lp.category_id WHERE k.code = 'tablette' AND lp.school_id = $1", school).await > 0;
    for (login, sees) in [("elu", false), ("prestataire", false), ("admin", true)] {
        let tok = app.token(login).await;
        let r = app
            .api(
                &tok,
                Method::GET,
                &format!("/api/v1/devices/{tablet}/loans"),
                None,
            )
            .await;
        let expected = if login == "prestataire" && !tablets_in_lots {
            404
        } else {
            200
        };
        assert_eq!(r.status, expected, "{login}: {}", r.body);
        assert_eq!(r.body.contains(&holder), sees, "{login}: {}", r.body);
    }
}

#[tokio::test]
async fn labels_go_on_their_date_and_on_request_and_history_says_deleted() {
    let app = TestApp::demo().await;
    let (_, other) = first_and_other_school(&app).await;
    let class = class_of(&app, other).await;
    let admin = principal(&app, "admin").await;
    let s = app.login("admin", "demo").await;
    // The collectivité keeps labels one month after the year's end.
    let r = s
        .post(
            "/admin/pupils",
            &[
                ("label_mode", "initiale"),
                ("retention_months", "1"),
                ("hosting", "Serveur de la mairie, Val-d'Élancourt (France)"),
                ("dpo_contact", "dpo@val-elancourt.invalid"),
                ("version", "0"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let bad = s
        .post(
            "/admin/pupils",
            &[("label_mode", "initiale"), ("retention_months", "99")],
        )
        .await;
    assert_eq!(bad.status, 422);
    let registre = s.get("/admin/registre").await;
    assert!(
        registre.body.contains("Serveur de la mairie") && registre.body.contains("1 mois"),
        "{}",
        registre.body
    );
    assert!(registre.body.contains("Date de naissance, INE"));
    // A pupil with a signed agreement and its scan asks for their data, then erasure.
    let (pupil, loan, label): (i64, i64, String) = with_db!(&app.db, p => sqlx::query_as("SELECT p.id, l.id, p.label FROM pupils p JOIN loans l ON l.pupil_id = p.id AND l.returned_on IS NULL WHERE p.class_id = $1 ORDER BY p.id LIMIT 1").bind(class).fetch_one(p).await.unwrap());
    let pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n";
    let signed = s
        .post_file(
            &format!("/loans/{loan}/sign"),
            &[("signed_on", "2026-09-15")],
            Some(("document", "convention.pdf", pdf)),
        )
        .await;
    assert_eq!(signed.status, 303, "{}", signed.body);
    assert_eq!(s.get(&format!("/loans/{loan}/document")).await.bytes, pdf);
    let export = s.get(&format!("/pupils/{pupil}/export")).await;
    let v: serde_json::Value = serde_json::from_str(&export.body).unwrap();
    assert_eq!(v["pupil"], label.as_str());
    assert_eq!(v["loans"][0]["agreement_signed_on"], "2026-09-15");
    assert_eq!(v["loans"][0]["agreement_scan_held"], true);
    let erased = s.post(&format!("/pupils/{pupil}/erase"), &[]).await;
    assert_eq!(erased.status, 303);
    let page = s.get(&format!("/pupils/{pupil}")).await;
    assert!(page.body.contains("élève (supprimé)") && !page.body.contains(&label));
    assert_eq!(s.get(&format!("/loans/{loan}/document")).await.status, 404);
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM pupils WHERE id = $1 AND label IS NULL AND match_key IS NULL",
            pupil
        )
        .await,
        1
    );
    // The purge on the retention date: labels go, except while a tablet is still out.
    let held = count(
        &app,
        "SELECT COUNT(*) FROM pupils WHERE school_id = $1 AND label IS NOT NULL",
        other,
    )
    .await;
    let out = count(&app, "SELECT COUNT(DISTINCT p.id) FROM pupils p JOIN loans l ON l.pupil_id = p.id AND l.returned_on IS NULL WHERE p.school_id = $1 AND p.label IS NOT NULL", other).await;
    assert!(held > out && out > 0);
    let day_before = Utc.with_ymd_and_hms(2027, 8, 2, 10, 0, 0).unwrap();
    assert_eq!(
        preau_core::pupils::purge(&app.db, day_before)
            .await
            .unwrap(),
        0
    );
    let after = Utc.with_ymd_and_hms(2027, 8, 3, 10, 0, 0).unwrap();
    let purged = preau_core::pupils::purge(&app.db, after).await.unwrap();
    assert!(purged > 0);
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM pupils WHERE school_id = $1 AND label IS NOT NULL",
            other
        )
        .await,
        out
    );
    // Once the tablet is back, the next pass deletes that label too.
    let (lid, dev): (i64, i64) = with_db!(&app.db, p => sqlx::query_as("SELECT l.id, l.device_id FROM loans l JOIN pupils p ON p.id = l.pupil_id WHERE p.school_id = $1 AND p.label IS NOT NULL AND l.returned_on IS NULL ORDER BY l.id LIMIT 1").bind(other).fetch_one(p).await.unwrap());
    preau_core::write_tx!(app.db, tx => preau_core::pupils::loans::give_back(tx, &admin, lid, &preau_core::pupils::loans::ReturnInput { state: "ok".into(), ..Default::default() }.parse()?, after).await?).unwrap();
    assert_eq!(preau_core::pupils::purge(&app.db, after).await.unwrap(), 1);
    let h = s.get(&format!("/devices/{dev}")).await;
    assert!(h.body.contains("élève (supprimé)"), "{}", h.body);
    let entry: String = with_db!(&app.db, p => sqlx::query_scalar("SELECT changes FROM audit_log WHERE action = 'purge' ORDER BY id DESC LIMIT 1").fetch_one(p).await.unwrap());
    assert!(entry.contains("\"deleted\":1"), "{entry}");
}

#[tokio::test]
async fn the_new_year_carries_tablets_as_each_school_chose() {
    let app = TestApp::demo().await;
    let schools: Vec<i64> = with_db!(&app.db, p => sqlx::query_scalar("SELECT id FROM schools WHERE kind = 'elementaire' ORDER BY id LIMIT 2").fetch_all(p).await.unwrap());
    let (follow, stock) = (schools[0], schools[1]);
    let this_year: i64 = with_db!(&app.db, p => sqlx::query_scalar("SELECT id FROM school_years WHERE label = '2026-2027'").fetch_one(p).await.unwrap());
    let s = app.login("admin", "demo").await;
    // Every school keeps its tablets with its pupils but the second.
    let all: Vec<i64> = with_db!(&app.db, p => sqlx::query_scalar("SELECT id FROM schools ORDER BY id").fetch_all(p).await.unwrap());
    let mut form: Vec<(String, String)> = all
        .iter()
        .filter(|i| **i != stock)
        .map(|i| (format!("follow_{i}"), "1".to_string()))
        .collect();
    form.push(("ignored".into(), "x".into()));
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    assert_eq!(s.post("/admin/pupils/rollover", &pairs).await.status, 303);
    let year = new_year(&app).await;
    let admin = principal(&app, "admin").await;
    let open = "SELECT COUNT(*) FROM loans WHERE school_id = $1 AND kind = 'eleve' AND returned_on IS NULL";
    for school in [follow, stock] {
        let lent = count(&app, open, school).await;
        assert!(lent > 100);
        // Next year's export: the same pupils, each a level up, in new classes.
        let text = preau_core::demo::onde_export(&app.db, school, this_year)
            .await
            .unwrap();
        let moved = text
            .replace(";CP;CP", ";CE1;CE1")
            .replace(" — ", " (2027) — ");
        let r = preau_core::pupils::import_onde(
            &app.db,
            &admin,
            school,
            Some(year),
            moved.as_bytes(),
            false,
            Utc::now(),
        )
        .await
        .unwrap();
        assert!(r.errors.is_empty(), "{:?}", r.errors);
        let pupils = count(&app, "SELECT COUNT(*) FROM pupils WHERE school_id = $1 AND school_year_id = (SELECT MAX(id) FROM school_years)", school).await;
        assert_eq!(r.arrivals.len() as i64, pupils);
        assert_eq!(
            r.continuing as i64, pupils,
            "every pupil was there last year"
        );
        if school == follow {
            assert_eq!(r.loans_following as i64, lent);
            assert_eq!(count(&app, open, school).await, lent);
            let on_new: i64 = count(&app, "SELECT COUNT(*) FROM loans l JOIN pupils p ON p.id = l.pupil_id WHERE l.school_id = $1 AND l.returned_on IS NULL AND p.school_year_id = (SELECT MAX(id) FROM school_years)", school).await;
            assert_eq!(on_new, lent);
            // Namesakes (same first and family names) each keep their own tablet.
            let doubled = count(&app, "SELECT COUNT(*) FROM (SELECT l.pupil_id FROM loans l WHERE l.school_id = $1 AND l.returned_on IS NULL AND l.kind = 'eleve' GROUP BY l.pupil_id HAVING COUNT(*) > 1) x", school).await;
            assert_eq!(doubled, 0, "a pupil holds two tablets");
        } else {
            assert_eq!((r.loans_following, r.loans_to_stock as i64), (0, lent));
            assert_eq!(count(&app, open, school).await, 0);
            let stocked = count(&app, "SELECT COUNT(*) FROM devices d JOIN loans l ON l.device_id = d.id WHERE l.school_id = $1 AND l.return_state = 'ok' AND l.return_note LIKE 'Retour en stock%' AND d.state = 'en_stock'", school).await;
            assert_eq!(stocked, lent);
        }
    }
}

/// A serial number typed or scanned in lower case finds its tablet, as an asset tag does.
#[tokio::test]
async fn a_serial_in_lower_case_finds_its_tablet() {
    let app = TestApp::demo().await;
    let (_, other) = first_and_other_school(&app).await;
    let admin = principal(&app, "admin").await;
    let token = app.token("technicien").await;
    // A tablet back in the school's stock.
    let loans = app
        .api(
            &token,
            Method::GET,
            &format!("/api/v1/loans?school_id={other}"),
            None,
        )
        .await
        .json();
    let l = loans["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["kind"] == "eleve")
        .unwrap()
        .clone();
    let r = app
        .api(
            &token,
            Method::POST,
            &format!("/api/v1/loans/{}/return", l["id"]),
            Some(json!({"state": "ok", "version": l["version"]})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let serial: String = preau_core::with_db!(&app.db, p => sqlx::query_scalar("SELECT serial FROM devices WHERE id = $1").bind(l["device_id"].as_i64().unwrap()).fetch_one(p).await.unwrap());
    assert_ne!(serial.to_lowercase(), serial, "a serial with letters");
    let lent = preau_core::write_tx!(app.db, tx => preau_core::pupils::loans::lend(tx, &admin, other, &preau_core::pupils::loans::LoanInput { device: serial.to_lowercase(), kind: "enseignant".into(), holder_name: Some("M. Vert".into()), ..Default::default() }.parse()?, Utc::now()).await?);
    let lent = lent.unwrap();
    assert_eq!(Some(lent.device_id), l["device_id"].as_i64());
}

/// A maternelle's lending screen opens on the class set; an élémentaire's on one tablet
/// per pupil.
#[tokio::test]
async fn a_maternelle_lends_as_a_class_set_by_default() {
    let app = TestApp::demo().await;
    let s = app.login("admin", "demo").await;
    for (kind, tab) in [("maternelle", "classe"), ("elementaire", "eleve")] {
        let class: i64 = preau_core::with_db!(&app.db, p => sqlx::query_scalar("SELECT MIN(c.id) FROM classes c JOIN schools s ON s.id = c.school_id JOIN school_years y ON y.id = c.school_year_id WHERE s.kind = $1 AND y.label = '2026-2027'").bind(kind).fetch_one(p).await.unwrap());
        let page = s.get(&format!("/classes/{class}/tablets")).await;
        assert_eq!(page.status, 200);
        assert!(
            page.body
                .contains(&format!("tablets?mode={tab}\" aria-current=\"page\"")),
            "{kind}: {}",
            page.body
        );
    }
}

/// The tablets a school can still hand out count those free in a cart, not only those in
/// the stock cupboard: the demo's maternelle keeps a cart of 16 lent to no class.
#[tokio::test]
async fn free_tablets_in_a_cart_count_as_available() {
    let app = TestApp::demo().await;
    let (school, name): (i64, String) = preau_core::with_db!(&app.db, p => sqlx::query_as("SELECT id, name FROM schools WHERE kind = 'maternelle' ORDER BY id LIMIT 1").fetch_one(p).await.unwrap());
    let expected: i64 = preau_core::with_db!(&app.db, p => sqlx::query_scalar("SELECT COUNT(*) FROM devices d JOIN device_categories k ON k.id = d.category_id WHERE d.school_id = $1 AND k.code = 'tablette' AND d.state IN ('en_service', 'en_stock', 'prete') AND NOT EXISTS (SELECT 1 FROM loans l WHERE l.returned_on IS NULL AND (l.device_id = d.id OR (l.device_id = d.parent_id AND l.kind = 'classe')))").bind(school).fetch_one(p).await.unwrap());
    assert!(expected >= 16, "{expected}");
    let s = app.login("admin", "demo").await;
    let csv = s.get("/tablets/csv").await;
    let mut lines = csv.body.lines();
    let head: Vec<&str> = lines.next().unwrap().split(';').collect();
    let col = head
        .iter()
        .position(|h| h.starts_with("disponibles"))
        .expect("a column of available tablets");
    let row: Vec<&str> = lines
        .find(|l| l.starts_with(&name))
        .unwrap()
        .split(';')
        .collect();
    assert_eq!(row[col], expected.to_string(), "{row:?}");
}
