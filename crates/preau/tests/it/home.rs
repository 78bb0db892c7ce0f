//! Each role's home page lists its work: the teacher's classroom to report from and the
//! fixes to confirm, the head's school tickets, visits and loans to settle, the queue by
//! deadline for those who fix, the administrator's list; a contractor looks up the schools
//! of its perimeter; the planning warns of visits at the same time; every page with a
//! deadline says when the school year's holidays are not loaded.

use axum::http::StatusCode;
use chrono::{Duration, Utc};
use preau_core::{interventions, tickets, write_tx};

use crate::harness::{TestApp, first_and_other_school};
use crate::tickets::{open, principal};

async fn int(app: &TestApp, sql: &str) -> i64 {
    preau_core::with_db!(&app.db, p => sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql.to_string())).fetch_one(p).await.unwrap())
}

async fn exec(app: &TestApp, sql: &str) {
    preau_core::with_db!(&app.db, p => { sqlx::query(sqlx::AssertSqlSafe(sql.to_string())).execute(p).await.unwrap(); });
}

/// The text of a section of a page, from its heading's id to the section's end.
fn section<'a>(body: &'a str, id: &str) -> &'a str {
    let start = body
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no section {id}"));
    let rest = &body[start..];
    &rest[..rest.find("</section>").unwrap_or(rest.len())]
}

#[tokio::test]
async fn each_role_opens_preau_on_its_work_of_the_day() {
    let app = TestApp::demo().await;
    let (school, _) = first_and_other_school(&app).await;

    // The teacher: a button for the classroom of the class they teach, and the fixed
    // ticket they reported waiting for their word, in plain words.
    let room = int(
        &app,
        "SELECT room_id FROM classes WHERE teacher_name = 'M. Enseignant'",
    )
    .await;
    let teacher = app.login("enseignant", "demo").await;
    let home = teacher.get("/").await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(
        home.body
            .contains(&format!("href=\"/tickets/new?room_id={room}\"")),
        "the teacher's classroom"
    );
    let confirm = section(&home.body, "confirm");
    assert!(confirm.contains("Résolu"), "{confirm}");
    let mine = section(&home.body, "mine");
    assert!(mine.contains("prévue avant le"), "{mine}");
    for jargon in ["GTI", "GTR", "de délai"] {
        assert!(!home.body.contains(jargon), "{jargon} shown to a teacher");
    }

    // The technician: the queue by deadline with its counts, the nearest first.
    let tech = app.login("technicien", "demo").await;
    let home = tech.get("/").await;
    let queue = section(&home.body, "queue");
    let open_count = int(
        &app,
        "SELECT COUNT(*) FROM tickets WHERE status NOT IN ('resolu', 'clos')",
    )
    .await;
    assert!(
        queue.contains(&format!("<span class=\"big\">{open_count}</span>")),
        "{queue}"
    );
    assert!(queue.contains("href=\"/tickets?breached=true\""));
    let firsts: Vec<i64> = queue
        .split("href=\"/tickets/")
        .skip(1)
        .filter_map(|s| s.split('"').next()?.parse().ok())
        .collect();
    assert!(firsts.len() >= 3, "{queue}");
    let p = principal(&app, "technicien").await;
    let f = tickets::TicketFilter {
        status: Some("open".into()),
        ..Default::default()
    };
    let (by_deadline, _) = tickets::by_deadline(&app.db, &p, &f, None, 8)
        .await
        .unwrap();
    let expected: Vec<i64> = by_deadline.iter().map(|t| t.id).collect();
    let mut seen = firsts.clone();
    seen.dedup();
    assert_eq!(seen, expected);
    assert!(section(&home.body, "visits").contains("Vos interventions aujourd"));
    // The queue names each deadline's clock and the working time left.
    assert!(queue.contains("clock-name") && queue.contains("de délai"));

    // The head: the school's open tickets, the week's visits, and loans to settle.
    let elem = int(
        &app,
        "SELECT MIN(school_id) FROM loans WHERE kind = 'eleve' AND returned_on IS NULL",
    )
    .await;
    let head_id = int(&app, "SELECT id FROM users WHERE login = 'directeur'").await;
    exec(&app, &format!("INSERT INTO role_assignments (user_id, role, school_id, created_at) VALUES ({head_id}, 'directeur', {elem}, '2026-09-01T00:00:00Z')")).await;
    let loans: Vec<i64> = preau_core::with_db!(&app.db, p => sqlx::query_scalar("SELECT id FROM loans WHERE school_id = $1 AND kind = 'eleve' AND returned_on IS NULL ORDER BY id LIMIT 2").bind(elem).fetch_all(p).await.unwrap());
    exec(
        &app,
        &format!("UPDATE loans SET signed_on = NULL WHERE id = {}", loans[0]),
    )
    .await;
    exec(&app, &format!("UPDATE pupils SET left_on = '2026-11-30' WHERE id = (SELECT pupil_id FROM loans WHERE id = {})", loans[1])).await;
    let unsigned = int(&app, &format!("SELECT COUNT(*) FROM loans WHERE school_id = {elem} AND kind = 'eleve' AND returned_on IS NULL AND signed_on IS NULL")).await;
    assert!(unsigned >= 1);
    let head = app.login("directeur", "demo").await;
    let home = head.get("/").await;
    let open_here = int(&app, &format!("SELECT COUNT(*) FROM tickets WHERE school_id IN ({school}, {elem}) AND status NOT IN ('resolu', 'clos')")).await;
    assert!(
        section(&home.body, "school-tickets").contains(&format!("({open_here})")),
        "{}",
        section(&home.body, "school-tickets")
    );
    let settle = section(&home.body, "loans");
    assert!(
        settle.contains(&format!("{unsigned} prêt(s) sans charte signée"))
            && settle.contains("1 tablette(s) encore chez des élèves partis")
            && settle.contains(&format!("/schools/{elem}/loans")),
        "{settle}"
    );
    assert!(section(&home.body, "visits").contains("dans les 7 jours"));
    // The link opens the school's loans with unsigned charters only, sortable, paged.
    let list = head
        .get(&format!(
            "/schools/{elem}/loans?status=open&unsigned=true&sort=holder"
        ))
        .await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(
        list.body.contains(&format!("{unsigned} prêt(s)")),
        "the count"
    );
    assert!(list.body.contains("aria-sort=\"ascending\""));
    let all = head.get(&format!("/schools/{elem}/loans")).await;
    let open_loans = int(
        &app,
        &format!("SELECT COUNT(*) FROM loans WHERE school_id = {elem} AND returned_on IS NULL"),
    )
    .await;
    assert!(all.body.contains(&format!("{open_loans} prêt(s)")));
    if open_loans > 50 {
        assert!(
            all.body
                .contains(&format!("Page 1 sur {}", (open_loans + 49) / 50))
        );
    }

    // The administrator: the imports due, a new school's ONDE, a contract ending.
    let admin = app.login("admin", "demo").await;
    let soon = (Utc::now() + Duration::days(40)).date_naive();
    exec(
        &app,
        &format!("UPDATE contracts SET ends_on = '{soon}' WHERE id = 1"),
    )
    .await;
    let r = admin
        .post(
            "/schools",
            &[
                ("uai", "0781234T"),
                ("name", "École élémentaire Nouvelle"),
                ("kind", "elementaire"),
                ("holiday_zone", "C"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let home = admin.get("/").await;
    let todo = section(&home.body, "todo");
    assert!(
        todo.contains("calendrier scolaire officiel 2026-2027")
            && todo.contains("2027-2028")
            && todo.contains("ONDE reste à importer pour 1 école(s)")
            && todo.contains(&soon.format("%d/%m/%Y").to_string()),
        "{todo}"
    );

    // The élu: the figures and the council's report, no ticket.
    let elu = app.login("elu", "demo").await;
    let home = elu.get("/").await;
    assert!(home.body.contains("href=\"/council\"") && !home.body.contains("id=\"queue\""));
}

#[tokio::test]
async fn deadlines_say_when_the_school_year_holidays_are_missing_until_they_are_imported() {
    let app = TestApp::demo().await;
    let admin = app.login("admin", "demo").await;
    let tech = app.login("technicien", "demo").await;
    let warning = "Les vacances scolaires 2026-2027 ne sont pas encore chargées";
    for page in ["/", "/tickets"] {
        assert!(tech.get(page).await.body.contains(warning), "{page}");
    }
    let open_ticket = int(
        &app,
        "SELECT MIN(id) FROM tickets WHERE status NOT IN ('resolu', 'clos')",
    )
    .await;
    assert!(
        tech.get(&format!("/tickets/{open_ticket}"))
            .await
            .body
            .contains(warning)
    );
    assert!(
        admin
            .get("/tickets")
            .await
            .body
            .contains("Importez le calendrier")
    );
    // The official export of the next two years, in its own layout.
    let mut csv =
        String::from("description;start_date;end_date;zones;location;population;annee_scolaire\n");
    for (start, end, year) in [
        ("2027-02-13", "2027-03-01", "2026-2027"),
        ("2028-02-12", "2028-02-28", "2027-2028"),
    ] {
        for zone in ["A", "B", "C"] {
            csv.push_str(&format!(
                "Vacances d'Hiver;{start};{end};Zone {zone};;-;{year}\n"
            ));
        }
    }
    let r = admin
        .post_file(
            "/admin/calendar",
            &[],
            Some(("file", "calendrier.csv", csv.as_bytes())),
        )
        .await;
    assert!(
        r.status.is_redirection() || r.status == StatusCode::OK,
        "{}",
        r.body
    );
    for page in ["/", "/tickets"] {
        assert!(!tech.get(page).await.body.contains(warning), "{page}");
    }
    let todo = admin.get("/").await;
    assert!(!section(&todo.body, "todo").contains("calendrier scolaire officiel"));
}

#[tokio::test]
async fn a_contractor_looks_up_the_schools_of_its_perimeter_and_their_access() {
    let app = TestApp::demo().await;
    let (school, _) = first_and_other_school(&app).await;
    let presta = app.login("prestataire", "demo").await;
    let covered = int(&app, "SELECT COUNT(DISTINCT school_id) FROM lot_perimeters").await;
    assert!(covered > 0);
    let list = presta.get("/schools").await;
    assert!(
        list.body.contains(&format!("{covered} école(s)")),
        "{}",
        list.body
    );
    // The head writes how to get in; the contractor reads it, with the head's contact.
    let head = app.login("directeur", "demo").await;
    let r = head
        .post(
            &format!("/schools/{school}/access"),
            &[(
                "access_notes",
                "Portail du parking, code 4512.\nSonner à la loge.",
            )],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = presta.get(&format!("/schools/{school}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Portail du parking, code 4512."));
    assert!(page.body.contains("Sophie Directrice") && page.body.contains("mailto:directeur@"));
    // Its card and rooms, not its classes, people or address ranges.
    assert!(!page.body.contains("id=\"classes\"") && !page.body.contains("id=\"people\""));
    assert!(!page.body.contains("name=\"access_notes\"") && !page.body.contains("ip_ranges"));
    let room = int(
        &app,
        &format!("SELECT MIN(id) FROM rooms WHERE school_id = {school}"),
    )
    .await;
    assert_eq!(
        presta.get(&format!("/rooms/{room}")).await.status,
        StatusCode::OK
    );
    // Writing is the school's and the collectivité's: refused to the contractor and to a
    // teacher; too long is refused with the field named, the notes kept.
    for who in [&presta, &app.login("enseignant", "demo").await] {
        let r = who
            .post(
                &format!("/schools/{school}/access"),
                &[("access_notes", "x")],
            )
            .await;
        assert!(
            matches!(r.status, StatusCode::FORBIDDEN | StatusCode::NOT_FOUND),
            "{}",
            r.status
        );
    }
    let long = "x".repeat(1001);
    let r = head
        .post(
            &format!("/schools/{school}/access"),
            &[("access_notes", &long)],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("f-access_notes") && r.body.contains("field-error"));
    assert!(
        presta
            .get(&format!("/schools/{school}"))
            .await
            .body
            .contains("code 4512")
    );
    // A school outside the perimeter stays out of reach.
    let outside = int(
        &app,
        "SELECT COALESCE(MIN(id), 0) FROM schools WHERE id NOT IN (SELECT school_id FROM lot_perimeters)",
    )
    .await;
    if outside > 0 {
        assert_eq!(
            presta.get(&format!("/schools/{outside}")).await.status,
            StatusCode::NOT_FOUND
        );
    }
}

#[tokio::test]
async fn the_planning_warns_of_visits_at_the_same_time_and_marks_done_once_begun() {
    let app = TestApp::demo().await;
    let (a, b) = first_and_other_school(&app).await;
    let tech = principal(&app, "technicien").await;
    let t1 = open(&app, &tech, None, Some(a), "reseau", "p3", Utc::now()).await;
    let t2 = open(&app, &tech, None, Some(b), "reseau", "p3", Utc::now()).await;
    // Two visits by the same person, at two schools, overlapping, next Tuesday.
    let tuesday = {
        let mut d = Utc::now().date_naive() + Duration::days(1);
        while chrono::Datelike::weekday(&d) != chrono::Weekday::Tue {
            d += Duration::days(1);
        }
        d
    };
    for (t, from, to) in [(&t1, "10:00", "11:00"), (&t2, "10:30", "11:30")] {
        let input = interventions::InterventionInput {
            ticket_ids: vec![t.id],
            starts_at: format!("{tuesday}T{from}"),
            ends_at: format!("{tuesday}T{to}"),
            notes: None,
        };
        let v = input.parse().unwrap();
        write_tx!(app.db, tx => interventions::plan(tx, &tech, &v, Utc::now()).await?).unwrap();
    }
    let session = app.login("technicien", "demo").await;
    let page = session
        .get(&format!("/planning?week={tuesday}&who=me"))
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(
        page.body.matches("En même temps :").count(),
        2,
        "{}",
        page.body
    );
    assert!(page.body.contains("10:30–11:30") && page.body.contains("10:00–11:00"));
    // A visit to come offers no "done" button; the server refuses it too.
    assert!(page.body.contains("À marquer réalisée une fois commencée"));
    assert!(!page.body.contains("value=\"realisee\""));
}

#[tokio::test]
async fn the_search_box_finds_devices_schools_tickets_and_pupils_within_reach() {
    let app = TestApp::demo().await;
    let (school, _) = first_and_other_school(&app).await;
    let admin = app.login("admin", "demo").await;
    // A device by its serial number, typed in lower case.
    let (device, serial): (i64, String) = preau_core::with_db!(&app.db, p => sqlx::query_as("SELECT id, serial FROM devices WHERE serial IS NOT NULL ORDER BY id LIMIT 1").fetch_one(p).await.unwrap());
    let page = admin
        .get(&format!(
            "/search?q={}",
            preau_web::session::url_encode(&serial.to_lowercase())
        ))
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains(&format!("href=\"/devices/{device}\"")),
        "{}",
        page.body
    );
    // A ticket by its number, as people quote it.
    let (id, number): (i64, i64) = preau_core::with_db!(&app.db, p => sqlx::query_as("SELECT id, number FROM tickets WHERE school_id = $1 ORDER BY id LIMIT 1").bind(school).fetch_one(p).await.unwrap());
    let head = app.login("directeur", "demo").await;
    let page = head
        .get(&format!(
            "/search?q={}",
            preau_web::session::url_encode(&format!("n° {number}"))
        ))
        .await;
    assert!(
        page.body.contains(&format!("href=\"/tickets/{id}\"")),
        "{}",
        page.body
    );
    // Another school's ticket stays out of a head's search.
    let (other_id, other_number): (i64, i64) = preau_core::with_db!(&app.db, p => sqlx::query_as("SELECT id, number FROM tickets WHERE school_id <> $1 AND (reporter_user_id IS NULL OR reporter_user_id NOT IN (SELECT id FROM users WHERE login = 'directeur')) ORDER BY id LIMIT 1").bind(school).fetch_one(p).await.unwrap());
    let page = head.get(&format!("/search?q=%23{other_number}")).await;
    assert!(!page.body.contains(&format!("href=\"/tickets/{other_id}\"")));
    // Pupils for those who see them, recorded in the audit log; never for an élu.
    let elem = int(
        &app,
        "SELECT MIN(school_id) FROM pupils WHERE label IS NOT NULL",
    )
    .await;
    let label: String = preau_core::with_db!(&app.db, p => sqlx::query_scalar("SELECT label FROM pupils WHERE school_id = $1 AND label IS NOT NULL AND left_on IS NULL ORDER BY id LIMIT 1").bind(elem).fetch_one(p).await.unwrap());
    let first_word = label.split_whitespace().next().unwrap().to_string();
    let before = int(
        &app,
        "SELECT COUNT(*) FROM audit_log WHERE object_type = 'pupil_search'",
    )
    .await;
    let page = admin
        .get(&format!(
            "/search?q={}",
            preau_web::session::url_encode(&first_word)
        ))
        .await;
    assert!(page.body.contains("id=\"found-pupils\"") && page.body.contains(&label));
    assert_eq!(
        int(
            &app,
            "SELECT COUNT(*) FROM audit_log WHERE object_type = 'pupil_search'"
        )
        .await,
        before + 1
    );
    let elu = app.login("elu", "demo").await;
    let page = elu
        .get(&format!(
            "/search?q={}",
            preau_web::session::url_encode(&first_word)
        ))
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.body.contains("id=\"found-pupils\"") && !page.body.contains(&label));
    // Too short, or nothing found, is said so.
    assert!(
        admin
            .get("/search?q=a")
            .await
            .body
            .contains("au moins deux lettres")
    );
    assert!(
        admin
            .get("/search?q=zzqqxxww")
            .await
            .body
            .contains("Rien ne correspond")
    );
    // A contractor finds the schools of its perimeter.
    let presta = app.login("prestataire", "demo").await;
    let name: String = preau_core::with_db!(&app.db, p => sqlx::query_scalar("SELECT s.name FROM schools s WHERE s.id IN (SELECT school_id FROM lot_perimeters) ORDER BY s.id LIMIT 1").fetch_one(p).await.unwrap());
    let page = presta
        .get(&format!(
            "/search?q={}",
            preau_web::session::url_encode(&name)
        ))
        .await;
    assert!(page.body.contains("id=\"found-schools\""), "{}", page.body);
}

#[tokio::test]
async fn what_preau_emails_a_person_waits_under_their_bell_until_opened() {
    let app = TestApp::demo().await;
    let (school, _) = first_and_other_school(&app).await;
    let presta_id = int(&app, "SELECT id FROM users WHERE login = 'prestataire'").await;
    let unread = format!(
        "SELECT COUNT(*) FROM notifications WHERE user_id = {presta_id} AND read_at IS NULL"
    );
    let before = int(&app, &unread).await;
    // A teacher's report is routed to the contractor's lot: the e-mail to its staff is
    // also kept under their bell.
    let teacher = principal(&app, "enseignant").await;
    let room = int(
        &app,
        &format!("SELECT MIN(id) FROM rooms WHERE school_id = {school} AND kind = 'classe'"),
    )
    .await;
    let t = open(&app, &teacher, Some(room), None, "ecran", "p2", Utc::now()).await;
    assert_eq!(int(&app, &unread).await, before + 1);
    let presta = app.login("prestataire", "demo").await;
    let home = presta.get("/").await;
    let shown = if before + 1 >= 100 {
        "99+".to_string()
    } else {
        (before + 1).to_string()
    };
    assert!(
        home.body.contains(&format!(
            "<span class=\"badge\">{shown}<span class=\"sr-only\"> non lue(s)"
        )),
        "the bell's count"
    );
    let list = presta.get("/notifications").await;
    assert!(
        list.body
            .contains(&format!("Nouveau signalement n° {}", t.number))
    );
    let nid = int(
        &app,
        &format!("SELECT MAX(id) FROM notifications WHERE user_id = {presta_id}"),
    )
    .await;
    // Nobody else opens it; its owner opens it and lands on the ticket.
    let admin = app.login("admin", "demo").await;
    assert_eq!(
        admin.get(&format!("/notifications/{nid}")).await.status,
        StatusCode::NOT_FOUND
    );
    let r = presta.get(&format!("/notifications/{nid}")).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.location(), format!("/tickets/{}", t.id));
    assert_eq!(int(&app, &unread).await, before);
    let r = presta.post("/notifications/read", &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(int(&app, &unread).await, 0);
    assert!(!presta.get("/").await.body.contains("class=\"badge\""));
}

#[tokio::test]
async fn pages_travel_gzipped_to_clients_that_take_them() {
    use std::io::Read;
    let app = TestApp::demo().await;
    let (school, _) = first_and_other_school(&app).await;
    let admin = app.login("admin", "demo").await;
    let uri = format!("/labels?school_id={school}");
    let get = |enc: Option<&str>| {
        let mut headers = vec![("cookie", admin.cookie.clone())];
        if let Some(e) = enc {
            headers.push(("accept-encoding", e.to_string()));
        }
        let uri = uri.clone();
        let app = &app;
        async move {
            app.request(axum::http::Method::GET, &uri, &headers, None)
                .await
        }
    };
    let plain = get(None).await;
    assert_eq!(plain.status, StatusCode::OK);
    assert!(plain.headers.get("content-encoding").is_none());
    let packed = get(Some("gzip, deflate, br")).await;
    assert_eq!(packed.headers["content-encoding"], "gzip");
    assert_eq!(packed.headers["vary"], "accept-encoding");
    let mut text = String::new();
    flate2::read::GzDecoder::new(packed.body_bytes())
        .read_to_string(&mut text)
        .unwrap();
    assert_eq!(text.len(), plain.body.len());
    assert!(text.contains("<svg"));
    // The label sheet is mostly SVG paths: it travels at a fraction of its size.
    assert!(
        packed.bytes.len() * 3 < plain.bytes.len(),
        "{} bytes gzipped for {}",
        packed.bytes.len(),
        plain.bytes.len()
    );
    // Refused gzip, spreadsheets and agents are left as they are.
    assert!(
        get(Some("gzip;q=0"))
            .await
            .headers
            .get("content-encoding")
            .is_none()
    );
    let xlsx = app
        .request(
            axum::http::Method::GET,
            "/devices/export/materiel.xlsx",
            &[
                ("cookie", admin.cookie.clone()),
                ("accept-encoding", "gzip".into()),
            ],
            None,
        )
        .await;
    assert_eq!(xlsx.status, StatusCode::OK);
    assert!(xlsx.headers.get("content-encoding").is_none());
    let css = app
        .request(
            axum::http::Method::GET,
            "/static/preau.css",
            &[("accept-encoding", "gzip".into())],
            None,
        )
        .await;
    assert_eq!(css.headers["content-encoding"], "gzip");
}

#[tokio::test]
async fn the_queue_sorts_by_priority_school_status_or_last_change() {
    use axum::http::Method;
    let app = TestApp::demo().await;
    let token = app.token("admin").await;
    let total = int(&app, "SELECT COUNT(*) FROM tickets").await;
    // Every order pages through the whole history once, in its order.
    for sort in ["priority", "school", "status", "-updated"] {
        let mut seen: Vec<i64> = Vec::new();
        let mut keys: Vec<String> = Vec::new();
        let mut cursor = String::new();
        loop {
            let r = app
                .api(
                    &token,
                    Method::GET,
                    &format!("/api/v1/tickets?status=all&sort={sort}&limit=200&cursor={cursor}"),
                    None,
                )
                .await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.body);
            let v = r.json();
            for t in v["items"].as_array().unwrap() {
                seen.push(t["id"].as_i64().unwrap());
                keys.push(match sort {
                    "priority" => t["priority"].as_str().unwrap().to_string(),
                    "-updated" => t["updated_at"].as_str().unwrap().to_string(),
                    _ => String::new(),
                });
            }
            match v["next"].as_str() {
                Some(n) => cursor = n.to_string(),
                None => break,
            }
        }
        assert_eq!(seen.len() as i64, total, "{sort}");
        let mut unique = seen.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), seen.len(), "{sort}: a ticket twice");
        match sort {
            "priority" => assert!(keys.windows(2).all(|w| w[0] <= w[1]), "{sort}"),
            "-updated" => {
                let times: Vec<chrono::DateTime<Utc>> =
                    keys.iter().map(|k| k.parse().unwrap()).collect();
                assert!(times.windows(2).all(|w| w[0] >= w[1]), "{sort}");
            }
            _ => {}
        }
    }
    // `due` is the deadline order; a bad order or cursor is named.
    let due = app
        .api(
            &token,
            Method::GET,
            "/api/v1/tickets?sort=due&limit=5",
            None,
        )
        .await;
    let deadline = app
        .api(
            &token,
            Method::GET,
            "/api/v1/tickets?sort=deadline&limit=5",
            None,
        )
        .await;
    assert_eq!(due.json()["items"], deadline.json()["items"]);
    let r = app
        .api(&token, Method::GET, "/api/v1/tickets?sort=size", None)
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.error_fields(), vec!["sort"]);
    let r = app
        .api(
            &token,
            Method::GET,
            "/api/v1/tickets?sort=priority&cursor=abc",
            None,
        )
        .await;
    assert_eq!(r.error_fields(), vec!["cursor"]);
    // The page offers the orders and keeps the chosen one through its pages.
    let admin = app.login("admin", "demo").await;
    let page = admin.get("/tickets?status=all&sort=school").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body
            .contains("<option value=\"school\" selected>École</option>")
    );
    assert!(
        page.body.contains("sort=school&#38;offset=50"),
        "next page: {}",
        &page.body[page.body.find("pager").unwrap_or(0)..]
    );
    let next = admin.get("/tickets?status=all&sort=school&offset=50").await;
    assert_eq!(next.status, StatusCode::OK);
}

#[tokio::test]
async fn devices_sort_by_column_page_with_numbers_and_change_together_after_a_preview() {
    use axum::http::Method;
    let app = TestApp::demo().await;
    let (school, other) = first_and_other_school(&app).await;
    let admin = app.login("admin", "demo").await;
    let page = admin
        .get(&format!("/devices?school_id={school}&sort=-purchase"))
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("aria-sort=\"descending\""));
    assert!(
        page.body
            .contains(&format!("/devices?school_id={school}&#38;sort=name"))
    );
    let all = int(&app, "SELECT COUNT(*) FROM devices").await;
    let first = admin.get("/devices").await;
    assert!(
        first
            .body
            .contains(&format!("Page 1 sur {}", (all + 49) / 50)),
        "page numbers"
    );
    let token = app.token("admin").await;
    let r = app
        .api(
            &token,
            Method::GET,
            "/api/v1/devices?sort=-seen&limit=5",
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = app
        .api(&token, Method::GET, "/api/v1/devices?sort=colour", None)
        .await;
    assert_eq!(r.error_fields(), vec!["sort"]);

    // The technician ticks three boards and sends them to repair: a preview first, in
    // words, with nothing written; then the change, one audit entry per device.
    let boards: Vec<i64> = preau_core::with_db!(&app.db, p => sqlx::query_scalar("SELECT d.id FROM devices d JOIN device_categories k ON k.id = d.category_id WHERE d.school_id = $1 AND k.code IN ('tni', 'vpi', 'eni') AND d.state = 'en_service' ORDER BY d.id LIMIT 3").bind(school).fetch_all(p).await.unwrap());
    assert_eq!(boards.len(), 3);
    let tech = app.login("technicien", "demo").await;
    let list = tech.get(&format!("/devices?school_id={school}")).await;
    assert!(list.body.contains("action=\"/devices/bulk\""));
    let ids: Vec<String> = boards.iter().map(|b| b.to_string()).collect();
    let mut form: Vec<(&str, &str)> = ids.iter().map(|i| ("device", i.as_str())).collect();
    form.extend([
        ("field", "state"),
        ("state", "en_reparation"),
        ("back", "/devices"),
    ]);
    let audits =
        "SELECT COUNT(*) FROM audit_log WHERE object_type = 'device' AND action = 'update'";
    let before = int(&app, audits).await;
    let preview = tech.post("/devices/bulk", &form).await;
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.body);
    assert!(preview.body.contains("En service") && preview.body.contains("En réparation"));
    assert!(preview.body.contains("3 appareil(s) changeront"));
    let repaired = format!(
        "SELECT COUNT(*) FROM devices WHERE state = 'en_reparation' AND id IN ({})",
        ids.join(", ")
    );
    assert_eq!(int(&app, &repaired).await, 0, "a preview writes nothing");
    assert_eq!(int(&app, audits).await, before);
    let mut confirm = form.clone();
    confirm.push(("confirm", "1"));
    let done = tech.post("/devices/bulk", &confirm).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(done.location(), "/devices?flash=bulk_done");
    assert_eq!(int(&app, &repaired).await, 3);
    assert_eq!(int(&app, audits).await, before + 3);
    // One device that refuses (here, one that does not exist) stops the whole change.
    let mut with_missing = vec![("device", ids[0].as_str()), ("device", "987654")];
    with_missing.extend([("field", "school_id"), ("confirm", "1")]);
    let other_s = other.to_string();
    with_missing.push(("school_id", other_s.as_str()));
    let r = tech.post("/devices/bulk", &with_missing).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("Appareil introuvable") && r.body.contains("rien n&#39;a été modifié"));
    assert_eq!(
        int(
            &app,
            &format!("SELECT school_id FROM devices WHERE id = {}", ids[0])
        )
        .await,
        school
    );
    // A wrong value is named; a teacher may not change devices.
    let r = tech
        .post(
            "/devices/bulk",
            &[
                ("device", ids[0].as_str()),
                ("field", "state"),
                ("state", "cassé"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let teacher = app.login("enseignant", "demo").await;
    assert_eq!(
        teacher.post("/devices/bulk", &form).await.status,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn the_audit_log_folds_one_persons_reads_of_pupil_data_in_a_row() {
    let app = TestApp::demo().await;
    let admin = app.login("admin", "demo").await;
    let pupil = int(&app, "SELECT MIN(id) FROM pupils WHERE label IS NOT NULL").await;
    for _ in 0..3 {
        assert_eq!(
            admin.get(&format!("/pupils/{pupil}")).await.status,
            StatusCode::OK
        );
    }
    let log = admin.get("/admin/audit").await;
    assert!(log.body.contains("× 3"), "folded: {}", log.body);
    assert!(log.body.contains("action=read_pupils&#38;actor=admin"));
    let reads = admin.get("/admin/audit?action=read_pupils").await;
    assert!(
        !reads.body.contains("× "),
        "one line each when reads are asked for"
    );
    assert!(reads.body.matches(&format!("n° {pupil}")).count() >= 3);
}

#[tokio::test]
async fn metrics_are_off_until_a_token_is_set_then_read_with_it() {
    use axum::http::Method;
    let off = TestApp::demo().await;
    assert_eq!(
        off.request(Method::GET, "/metrics", &[], None).await.status,
        StatusCode::NOT_FOUND
    );
    let app = TestApp::demo_with(preau_web::WebConfig {
        secure_cookies: false,
        metrics_token: Some("jeton-de-supervision-2026".into()),
        ..Default::default()
    })
    .await;
    let admin = app.login("admin", "demo").await;
    let (school, _) = first_and_other_school(&app).await;
    assert_eq!(
        admin.get(&format!("/schools/{school}")).await.status,
        StatusCode::OK
    );
    for wrong in [None, Some("Bearer autre-chose")] {
        let headers: Vec<(&str, String)> = wrong
            .map(|w| vec![("authorization", w.to_string())])
            .unwrap_or_default();
        let r = app.request(Method::GET, "/metrics", &headers, None).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    }
    let r = app
        .request(
            Method::GET,
            "/metrics",
            &[(
                "authorization",
                "Bearer jeton-de-supervision-2026".to_string(),
            )],
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    // The route's pattern, never the id in the address.
    assert!(
        r.body.contains(
            "preau_http_requests_total{method=\"GET\",route=\"/schools/{id}\",status=\"2xx\"} 1"
        ),
        "{}",
        r.body
    );
    assert!(!r.body.contains(&format!("/schools/{school}\"")));
    assert!(r.body.contains(
        "preau_http_request_duration_seconds_bucket{method=\"GET\",route=\"/schools/{id}\",status=\"2xx\",le=\"+Inf\"} 1"
    ));
    for gauge in [
        "preau_jobs{state=\"waiting\"}",
        "preau_db_pool_connections{state=\"open\"}",
        "preau_ingestions_in_progress 0",
    ] {
        assert!(r.body.contains(gauge), "{gauge}");
    }
}

#[tokio::test]
async fn forwarded_addresses_are_believed_from_trusted_proxies_only() {
    use axum::body::Body;
    use axum::http::{Method, Request};
    let app = TestApp::demo_with(preau_web::WebConfig {
        secure_cookies: false,
        login_attempts: 2,
        trusted_proxies: vec![preau_web::TrustedProxy::parse("10.0.0.0/24").unwrap()],
        ..Default::default()
    })
    .await;
    assert!(preau_web::TrustedProxy::parse("pas-une-adresse").is_err());
    let page = app.request(Method::GET, "/login", &[], None).await;
    let anon = crate::harness::set_cookie(&page, "preau_csrf").unwrap();
    // A wrong password for `admin`, from `peer`, saying it forwards for `forwarded`.
    let attempt = |peer: [u8; 4], forwarded: &str| {
        let req = Request::builder()
            .method(Method::POST)
            .uri("/login")
            .header("cookie", format!("preau_csrf={anon}"))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("x-forwarded-for", forwarded)
            .extension(axum::extract::ConnectInfo(std::net::SocketAddr::from((
                peer, 40000,
            ))))
            .body(Body::from(format!(
                "csrf={anon}&login=admin&password=mauvais"
            )))
            .unwrap();
        let app = &app;
        async move { app.send(req).await.status }
    };
    let proxy = [10, 0, 0, 5];
    // Through the proxy, one client slows down after two failures; another client behind
    // the same proxy is not held back by it.
    for _ in 0..2 {
        assert_eq!(
            attempt(proxy, "203.0.113.7").await,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        attempt(proxy, "203.0.113.7").await,
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(
        attempt(proxy, "198.51.100.1, 203.0.113.8").await,
        StatusCode::UNAUTHORIZED,
        "the last address before our proxy is the client"
    );
    // A client talking directly cannot escape its own slow-down by naming someone else.
    let direct = [192, 0, 2, 44];
    assert_eq!(
        attempt(direct, "203.0.113.20").await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        attempt(direct, "203.0.113.21").await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        attempt(direct, "203.0.113.22").await,
        StatusCode::TOO_MANY_REQUESTS
    );
}
