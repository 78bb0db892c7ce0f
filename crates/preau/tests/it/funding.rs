//! Steering, continued: a needs campaign from the school's request to the plan, subsidy
//! dossiers and what remains to pay, spending per year, school and pupil, the quality of
//! the service, the council report — each with who may see and do what.

use axum::http::StatusCode;
use chrono::{Datelike, Utc};
use preau_domain::Principal;

use crate::harness::TestApp;

async fn int(app: &TestApp, sql: &str, binds: &[i64]) -> i64 {
    let sql = sql.to_string();
    preau_core::with_db!(&app.db, p => {
        let mut q = sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql));
        for b in binds {
            q = q.bind(*b);
        }
        q.fetch_one(p).await.unwrap()
    })
}

async fn text(app: &TestApp, sql: &str) -> String {
    let sql = sql.to_string();
    preau_core::with_db!(&app.db, p => {
        sqlx::query_scalar::<_, String>(sqlx::AssertSqlSafe(sql)).fetch_one(p).await.unwrap()
    })
}

async fn principal(app: &TestApp, login: &str) -> Principal {
    let id = preau_core::with_db!(&app.db, p => {
        sqlx::query_scalar::<_, i64>("SELECT id FROM users WHERE login = $1").bind(login).fetch_one(p).await.unwrap()
    });
    preau_core::users::principal(&app.db, id)
        .await
        .unwrap()
        .unwrap()
}

const REQUESTS: &str = "SELECT COUNT(*) FROM needs_requests";

#[tokio::test]
async fn a_request_goes_from_the_school_to_the_plan_and_each_role_does_its_part() {
    let app = TestApp::demo().await;
    let campaign = int(&app, "SELECT id FROM needs_campaigns", &[]).await;
    let page = format!("/needs/{campaign}");
    let school = int(&app, "SELECT school_id FROM role_assignments a JOIN users u ON u.id = a.user_id WHERE u.login = 'directeur'", &[]).await;
    let before = int(&app, REQUESTS, &[]).await;

    // Each home page says what the open campaign asks of its reader.
    let dir = app.login("directeur", "demo").await;
    assert!(
        dir.get("/")
            .await
            .body
            .contains("dites ce dont l&#39;école a besoin")
            || dir
                .get("/")
                .await
                .body
                .contains("dites ce dont l'école a besoin")
    );
    let admin = app.login("admin", "demo").await;
    assert!(
        admin
            .get("/")
            .await
            .body
            .contains("2 demande(s) attendent votre décision")
    );
    // The directrice sees her school's requests and the decisions, not the other schools'.
    let r = dir.get(&page).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.body.contains("Visualiseur") && r.body.contains("Inscrite au plan"),
        "{}",
        r.body
    );
    assert!(
        !r.body.contains("Casques audio"),
        "another school's request leaked"
    );
    assert!(!r.body.contains("Estimation"), "a directeur sees no amount");

    // Wrong input: every field named, nothing stored.
    let school_id = school.to_string();
    let bad = dir
        .post(
            &format!("{page}/requests"),
            &[
                ("school_id", &school_id),
                ("category", ""),
                ("item", ""),
                ("quantity", "0"),
                ("reason", " "),
                ("priority", "urgente"),
            ],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.body);
    for message in [
        "Précision : Ce champ est obligatoire.",
        "Quantité : Cette valeur est hors des limites permises.",
        "Pourquoi : Ce champ est obligatoire.",
        "Priorité : Valeur inconnue pour ce champ.",
    ] {
        assert!(bad.body.contains(message), "{message} missing");
    }
    assert_eq!(int(&app, REQUESTS, &[]).await, before);

    // A good one lands, audited.
    let ok = dir
        .post(
            &format!("{page}/requests"),
            &[
                ("school_id", &school_id),
                ("category", "tablette"),
                ("item", ""),
                ("quantity", "6"),
                ("reason", "Ateliers de langage en petits groupes"),
                ("priority", "haute"),
            ],
        )
        .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
    let id = int(&app, "SELECT MAX(id) FROM needs_requests", &[]).await;
    assert_eq!(int(&app, "SELECT COUNT(*) FROM audit_log WHERE object_type = 'needs_request' AND action = 'create' AND object_id = $1", &[id]).await, 1);

    // Not for another school, not for a teacher.
    let other = int(&app, "SELECT MAX(id) FROM schools", &[])
        .await
        .to_string();
    let r = dir
        .post(
            &format!("{page}/requests"),
            &[
                ("school_id", &other),
                ("category", "tablette"),
                ("quantity", "1"),
                ("reason", "x"),
                ("priority", "basse"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let teacher = app.login("enseignant", "demo").await;
    assert_eq!(teacher.get("/needs").await.status, StatusCode::FORBIDDEN);
    assert_eq!(teacher.get(&page).await.status, StatusCode::FORBIDDEN);

    // The ERUN gives an opinion on a school of the circonscription; the technician may not decide.
    let erun = app.login("erun", "demo").await;
    let in_reach = int(&app, "SELECT COUNT(*) FROM role_assignments a JOIN users u ON u.id = a.user_id WHERE u.login = 'erun' AND a.school_id = $1", &[school]).await;
    let r = erun
        .post(
            &format!("/needs/requests/{id}/opinion"),
            &[("opinion", "Favorable")],
        )
        .await;
    if in_reach == 1 {
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        assert_eq!(
            text(
                &app,
                &format!("SELECT opinion FROM needs_requests WHERE id = {id}")
            )
            .await,
            "Favorable"
        );
    } else {
        assert_eq!(r.status, StatusCode::NOT_FOUND);
    }
    let tech = app.login("technicien", "demo").await;
    let version = int(
        &app,
        "SELECT version FROM needs_requests WHERE id = $1",
        &[id],
    )
    .await
    .to_string();
    let r = tech
        .post(
            &format!("/needs/requests/{id}/decide"),
            &[
                ("status", "acceptee"),
                ("plan_year", "2030"),
                ("version", &version),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    // The administrator: a refusal says why; an acceptance goes into a year's plan.
    let r = admin
        .post(
            &format!("/needs/requests/{id}/decide"),
            &[("status", "refusee"), ("reason", ""), ("version", &version)],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(
        text(
            &app,
            &format!("SELECT status FROM needs_requests WHERE id = {id}")
        )
        .await,
        "soumise"
    );
    let year = Utc::now().year() + 2;
    let y = year.to_string();
    let p = principal(&app, "admin").await;
    let planned = |r: &preau_core::steering::renewal::RenewalReport| {
        r.needs.iter().find(|n| n.0 == year).map_or(0, |n| n.1)
    };
    let from = Utc::now().year() + 1;
    let before_plan = preau_core::steering::renewal::report(&app.db, &p, from, 5, Utc::now())
        .await
        .unwrap();
    let r = admin
        .post(
            &format!("/needs/requests/{id}/decide"),
            &[
                ("status", "acceptee"),
                ("plan_year", &y),
                ("reason", ""),
                ("version", &version),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let after_plan = preau_core::steering::renewal::report(&app.db, &p, from, 5, Utc::now())
        .await
        .unwrap();
    assert_eq!(planned(&after_plan), planned(&before_plan) + 6);
    let price = int(
        &app,
        "SELECT unit_price_cents FROM device_categories WHERE code = 'tablette'",
        &[],
    )
    .await;
    let cost = |r: &preau_core::steering::renewal::RenewalReport| {
        r.needs.iter().find(|n| n.0 == year).map_or(0, |n| n.2)
    };
    assert_eq!(cost(&after_plan), cost(&before_plan) + 6 * price);
    // Read at the old version: someone decided first.
    let r = admin
        .post(
            &format!("/needs/requests/{id}/decide"),
            &[
                ("status", "differee"),
                ("reason", "Budget"),
                ("version", &version),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    // The directrice reads the outcome; she may no longer withdraw it.
    let r = dir.get(&page).await;
    assert!(
        r.body.contains(&format!("Inscrite au plan {year}")),
        "{}",
        r.body
    );
    assert_eq!(
        dir.post(&format!("/needs/requests/{id}/withdraw"), &[])
            .await
            .status,
        StatusCode::CONFLICT
    );

    // Closed: no more requests, with a message that says so.
    let today = preau_domain::paris::day(Utc::now());
    let v = int(
        &app,
        "SELECT version FROM needs_campaigns WHERE id = $1",
        &[campaign],
    )
    .await
    .to_string();
    let r = admin
        .post(
            &format!("{page}/edit"),
            &[
                ("title", "Besoins"),
                (
                    "opens_on",
                    &(today - chrono::Duration::days(30)).to_string(),
                ),
                (
                    "closes_on",
                    &(today - chrono::Duration::days(1)).to_string(),
                ),
                ("plan_year", &y),
                ("version", &v),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let n = int(&app, REQUESTS, &[]).await;
    let r = dir
        .post(
            &format!("{page}/requests"),
            &[
                ("school_id", &school_id),
                ("category", "tablette"),
                ("quantity", "1"),
                ("reason", "x"),
                ("priority", "basse"),
            ],
        )
        .await;
    assert!(r.body.contains("Ce recensement est clos"), "{}", r.body);
    assert_eq!(int(&app, REQUESTS, &[]).await, n);

    // The requests as a spreadsheet, for the administrator, with the estimate.
    let csv = admin.get(&format!("{page}/requests.csv")).await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(
        csv.body.contains("Estimation")
            && csv.body.contains("Ateliers de langage en petits groupes"),
        "{}",
        csv.body
    );
    let csv = dir.get(&format!("{page}/requests.csv")).await;
    assert!(!csv.body.contains("Estimation") && !csv.body.contains("Casques audio"));
}

#[tokio::test]
async fn a_subsidy_counts_its_orders_and_plan_lines_and_says_what_remains() {
    let app = TestApp::demo().await;
    for (who, status) in [
        ("technicien", StatusCode::FORBIDDEN),
        ("directeur", StatusCode::FORBIDDEN),
        ("erun", StatusCode::FORBIDDEN),
        ("elu", StatusCode::OK),
    ] {
        let s = app.login(who, "demo").await;
        assert_eq!(s.get("/funding").await.status, status, "{who}");
        assert_eq!(s.get("/council").await.status, status, "{who}");
    }
    let elu = app.login("elu", "demo").await;
    let r = elu.get("/funding").await;
    assert!(
        r.body
            .contains("Socle numérique dans les écoles élémentaires")
            && r.body.contains("Reste à charge")
    );
    assert_eq!(
        elu.post("/funding", &[("title", "x")]).await.status,
        StatusCode::FORBIDDEN
    );

    let admin = app.login("admin", "demo").await;
    let dossiers = "SELECT COUNT(*) FROM subsidies";
    let n = int(&app, dossiers, &[]).await;
    let r = admin
        .post(
            "/funding",
            &[
                ("funder", "region"),
                ("title", "Fonds numérique"),
                ("year", "l'an prochain"),
                ("status", "accorde"),
                ("rate_percent", "140"),
                ("received", "-5"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    for label in [
        "Année : Un nombre entier est attendu.",
        "Taux : Cette valeur est hors des limites permises.",
        "Montant accordé : Ce champ est obligatoire.",
        "Versé :",
    ] {
        assert!(r.body.contains(label), "{label} missing");
    }
    let r = admin
        .post(
            "/funding",
            &[
                ("funder", "region"),
                ("title", "Fonds numérique"),
                ("year", "2027"),
                ("status", "depose"),
                ("order", "BC-0000-NONE"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(int(&app, dossiers, &[]).await, n);

    // One order and one accepted request: eligible is their sum plus what is typed.
    let order = text(
        &app,
        "SELECT order_ref FROM devices WHERE order_ref IS NOT NULL ORDER BY order_ref LIMIT 1",
    )
    .await;
    let order_cents = preau_core::with_db!(&app.db, p => {
        sqlx::query_scalar::<_, i64>("SELECT CAST(SUM(price_cents) AS BIGINT) FROM devices WHERE order_ref = $1").bind(&order).fetch_one(p).await.unwrap()
    });
    let request = int(&app, "SELECT r.id FROM needs_requests r JOIN device_categories c ON c.id = r.category_id WHERE r.status = 'acceptee' ORDER BY r.id LIMIT 1", &[]).await;
    let request_cents = int(&app, "SELECT r.quantity * c.unit_price_cents FROM needs_requests r JOIN device_categories c ON c.id = r.category_id WHERE r.id = $1", &[request]).await;
    let rid = request.to_string();
    let r = admin
        .post(
            "/funding",
            &[
                ("funder", "region"),
                ("title", "Fonds numérique régional"),
                ("year", "2027"),
                ("status", "depose"),
                ("rate_percent", "50"),
                ("cap", "1 000 000"),
                ("other_eligible", "1 000,00"),
                ("requested", "10"),
                ("order", &order),
                ("request", &rid),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let id = int(&app, "SELECT MAX(id) FROM subsidies", &[]).await;
    let p = principal(&app, "elu").await;
    let d = preau_core::steering::funding::get(&app.db, &p, id, Utc::now())
        .await
        .unwrap();
    let eligible = order_cents + request_cents + 100_000;
    assert_eq!(d.eligible_cents, eligible);
    assert_eq!(d.aid_cents, eligible / 2);
    assert_eq!(d.remaining_cents, eligible - eligible / 2);
    assert_eq!(
        int(
            &app,
            "SELECT COUNT(*) FROM audit_log WHERE object_type = 'subsidy' AND object_id = $1",
            &[id]
        )
        .await,
        1
    );

    // Granted: what counts is the amount granted; a stale edit is refused.
    let edit = format!("/funding/{id}/edit");
    let r = admin
        .post(
            &edit,
            &[
                ("funder", "region"),
                ("title", "Fonds numérique régional"),
                ("year", "2027"),
                ("status", "accorde"),
                ("granted", "1 500"),
                ("received", "500"),
                ("version", "1"),
                ("order", &order),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let d = preau_core::steering::funding::get(&app.db, &p, id, Utc::now())
        .await
        .unwrap();
    assert_eq!(
        (d.aid_cents, d.eligible_cents, d.requests.len()),
        (150_000, order_cents, 0)
    );
    let r = admin
        .post(
            &edit,
            &[
                ("funder", "region"),
                ("title", "Autre"),
                ("year", "2027"),
                ("status", "refuse"),
                ("version", "1"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert_eq!(
        text(
            &app,
            &format!("SELECT title FROM subsidies WHERE id = {id}")
        )
        .await,
        "Fonds numérique régional"
    );
}

#[tokio::test]
async fn spending_is_counted_per_year_school_and_pupil() {
    let app = TestApp::demo().await;
    let p = principal(&app, "admin").await;
    let s = preau_core::steering::funding::spending(&app.db, &p, 5, Utc::now())
        .await
        .unwrap();
    let this = Utc::now().year();
    assert_eq!(
        s.years.iter().map(|y| y.year).collect::<Vec<_>>(),
        (this - 4..=this).collect::<Vec<_>>()
    );
    for y in &s.years {
        let bought = preau_core::with_db!(&app.db, pool => {
            sqlx::query_scalar::<_, i64>("SELECT CAST(COALESCE(SUM(price_cents), 0) AS BIGINT) FROM devices WHERE purchase_date >= $1 AND purchase_date <= $2")
                .bind(chrono::NaiveDate::from_ymd_opt(y.year, 1, 1)).bind(chrono::NaiveDate::from_ymd_opt(y.year, 12, 31)).fetch_one(pool).await.unwrap()
        });
        assert_eq!(y.purchases_cents, bought, "{}", y.year);
        let by_school: i64 = s
            .schools
            .iter()
            .map(|l| l.cents[(y.year - (this - 4)) as usize])
            .sum();
        assert_eq!(by_school, bought, "schools add up in {}", y.year);
        let by_category: i64 = s
            .categories
            .iter()
            .map(|l| l.cents[(y.year - (this - 4)) as usize])
            .sum();
        assert_eq!(by_category, bought, "categories add up in {}", y.year);
    }
    // The demo contract costs 38 400 € a year from its start; this year it runs 12 months.
    let last = s.years.last().unwrap();
    let starts: chrono::NaiveDate = preau_core::with_db!(&app.db, pool => {
        sqlx::query_scalar("SELECT starts_on FROM contracts WHERE reference = '2025-014'").fetch_one(pool).await.unwrap()
    });
    if starts.year() < this {
        assert_eq!(last.maintenance_cents, 3_840_000);
    }
    let pupils = int(&app, "SELECT CAST(SUM(c.head_count) AS BIGINT) FROM classes c JOIN school_years y ON y.id = c.school_year_id WHERE y.starts_on = (SELECT MAX(starts_on) FROM school_years)", &[]).await;
    assert_eq!(last.pupils, pupils);
    // The links run every month of this year so far, at their monthly price (the demo's
    // were all commissioned before this year).
    let monthly = int(
        &app,
        "SELECT CAST(SUM(monthly_cents) AS BIGINT) FROM school_links",
        &[],
    )
    .await;
    let month = i64::from(chrono::Datelike::month(&preau_domain::paris::day(
        Utc::now(),
    )));
    assert_eq!(last.links_cents, monthly * month);
    assert_eq!(
        last.per_pupil_cents(),
        Some((last.purchases_cents + last.maintenance_cents + last.links_cents) / pupils)
    );
    // The spreadsheet gives the same total, typed as a number.
    let admin = app.login("admin", "demo").await;
    let csv = admin.get("/funding/spending.csv").await;
    let total = csv
        .body
        .lines()
        .find(|l| l.starts_with("Total"))
        .unwrap()
        .to_string();
    let cents = last.total_cents();
    assert!(
        total.ends_with(&format!("{},{:02}", cents / 100, cents % 100)),
        "{total}"
    );
    // A yearly cost is set by the administrator only, in euros, audited.
    let contract = int(
        &app,
        "SELECT id FROM contracts WHERE reference = '2025-014'",
        &[],
    )
    .await;
    let field = format!("yearly_{contract}");
    let elu = app.login("elu", "demo").await;
    assert_eq!(
        elu.post("/funding/contracts", &[(&field, "1")])
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        admin
            .post("/funding/contracts", &[(&field, "beaucoup")])
            .await
            .status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        admin
            .post("/funding/contracts", &[(&field, "40 000")])
            .await
            .status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        int(
            &app,
            "SELECT yearly_cents FROM contracts WHERE id = $1",
            &[contract]
        )
        .await,
        4_000_000
    );
}

#[tokio::test]
async fn the_quality_of_service_and_the_council_report_add_up() {
    let app = TestApp::demo().await;
    let p = principal(&app, "elu").await;
    let now = Utc::now();
    let q = preau_core::steering::quality::report(&app.db, &p, now)
        .await
        .unwrap();
    // Twelve months per contract, each the monthly SLA report's figures.
    for c in &q.contracts {
        assert_eq!(c.months.len(), 12);
        let last = c.months.last().unwrap();
        let monthly = preau_core::reports::monthly(&app.db, &p, c.contract_id, last.month, now)
            .await
            .unwrap();
        assert_eq!(last.penalties_cents, monthly.total_cents);
        assert_eq!(
            last.tickets,
            monthly.lots.iter().map(|l| l.tickets).sum::<usize>()
        );
        assert_eq!(
            c.penalties_cents,
            c.months.iter().map(|m| m.penalties_cents).sum::<i64>()
        );
    }
    assert!(!q.contracts.is_empty());
    // Tickets per category, counted apart.
    let tablets = q.categories.iter().find(|c| c.label == "tablette").unwrap();
    let since = now - chrono::Duration::days(365);
    let tickets = preau_core::with_db!(&app.db, pool => {
        sqlx::query_scalar::<_, i64>("SELECT COUNT(DISTINCT t.id) FROM tickets t JOIN ticket_devices td ON td.ticket_id = t.id JOIN devices d ON d.id = td.device_id JOIN device_categories c ON c.id = d.category_id WHERE c.code = 'tablette' AND t.opened_at >= $1")
            .bind(since).fetch_one(pool).await.unwrap()
    });
    assert_eq!(tablets.tickets, tickets);
    assert!(tablets.tickets > 0 && tablets.devices > 0);
    // Models are ranked from the least reliable, never on a handful of devices.
    assert!(
        q.models
            .windows(2)
            .all(|w| w[0].per_100() >= w[1].per_100())
    );
    assert!(
        q.models
            .iter()
            .all(|m| m.devices >= preau_core::steering::quality::MIN_MODEL_DEVICES)
    );
    assert!(!q.models.is_empty());
    // Tablets broken or lost on loan, per school.
    let broken: i64 = q.tablets.iter().map(|t| t.broken + t.lost).sum();
    let expected = int(&app, "SELECT COUNT(*) FROM loans WHERE return_state IN ('ecran_casse', 'hors_service', 'perdu', 'vole')", &[]).await;
    assert_eq!(broken, expected);
    assert!(expected > 0);
    let dir = app.login("directeur", "demo").await;
    assert_eq!(dir.get("/quality").await.status, StatusCode::FORBIDDEN);

    // The council report: a summary, the money, the quality, an annex per school.
    let elu = app.login("elu", "demo").await;
    let r = elu.get("/council").await;
    assert_eq!(r.status, StatusCode::OK);
    for part in [
        "Synthèse",
        "Finances",
        "Qualité du service",
        "Annexes : les écoles une à une",
        "écoles conformes au référentiel",
        "Recensement des besoins",
    ] {
        assert!(r.body.contains(part), "{part} missing");
    }
    let schools = int(&app, "SELECT COUNT(*) FROM schools", &[]).await;
    assert_eq!(
        r.body.matches("<section class=\"annex\"").count() as i64,
        schools
    );
    // Each chart has its data table; no script from elsewhere.
    assert!(r.body.matches("<svg class=\"chart\"").count() >= 3);
    assert!(!r.body.contains("<script src=\"http"));
    // Every table in one workbook, read back.
    let x = elu.get("/council.xlsx").await;
    assert_eq!(x.status, StatusCode::OK);
    assert!(x.bytes.starts_with(b"PK\x03\x04"));
    let sheets = crate::harness::xlsx_sheets(&x.bytes);
    assert_eq!(
        sheets.len(),
        10,
        "{:?}",
        sheets.iter().map(|s| &s.0).collect::<Vec<_>>()
    );
    let coverage = &sheets[0].1;
    let first_school = text(&app, "SELECT name FROM schools ORDER BY name LIMIT 1").await;
    assert!(coverage.contains(&first_school), "{coverage}");
}

#[tokio::test]
async fn this_years_plan_is_set_against_what_was_bought() {
    let app = TestApp::demo().await;
    let p = principal(&app, "admin").await;
    let now = Utc::now();
    let year = preau_domain::paris::day(now).year();
    let from = year + 1;
    // One tablet bought this year, and one bought five years ago (a tablet's default life),
    // since retired: both count, the retired one in the plan.
    let tablet = int(
        &app,
        "SELECT id FROM device_categories WHERE code = 'tablette'",
        &[],
    )
    .await;
    let lifespan = preau_domain::renewal::default_lifespan("tablette").unwrap();
    let school = int(&app, "SELECT MIN(id) FROM schools", &[]).await;
    preau_core::with_db!(&app.db, pool => {
        for (tag, bought, state) in [("PLAN-1", chrono::NaiveDate::from_ymd_opt(year, 1, 15).unwrap(), "en_service"), ("PLAN-2", chrono::NaiveDate::from_ymd_opt(year - lifespan as i32, 3, 1).unwrap(), "reforme")] {
            sqlx::query("INSERT INTO devices (collectivite_id, category_id, school_id, state, state_since, asset_tag, purchase_date, price_cents, search_key, version, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 32900, $6, 1, $8, $8)")
                .bind(p.collectivite_id).bind(tablet).bind(school).bind(state).bind(bought).bind(tag).bind(bought).bind(now).execute(pool).await.unwrap();
        }
    });
    let count = |sql: &str| {
        let sql = sql.to_string();
        let app = &app;
        async move {
            preau_core::with_db!(&app.db, pool => {
                sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql)).bind(chrono::NaiveDate::from_ymd_opt(year, 1, 1)).bind(chrono::NaiveDate::from_ymd_opt(year, 12, 31)).fetch_one(pool).await.unwrap()
            })
        }
    };
    let bought = count("SELECT COUNT(*) FROM devices d JOIN device_categories c ON c.id = d.category_id WHERE c.code = 'tablette' AND d.purchase_date >= $1 AND d.purchase_date <= $2").await;
    // Planned: every tablet whose life ends this year, counted apart, and the needs accepted
    // for this year.
    let set: Option<i64> = preau_core::with_db!(&app.db, pool => {
        sqlx::query_scalar("SELECT lifespan_years FROM device_categories WHERE id = $1").bind(tablet).fetch_one(pool).await.unwrap()
    });
    let life = set.unwrap_or(lifespan) as i32;
    let dates: Vec<chrono::NaiveDate> = preau_core::with_db!(&app.db, pool => {
        sqlx::query_scalar("SELECT purchase_date FROM devices WHERE category_id = $1 AND purchase_date IS NOT NULL").bind(tablet).fetch_all(pool).await.unwrap()
    });
    let ending = dates.iter().filter(|d| d.year() + life == year).count() as i64;
    let needs = int(&app, &format!("SELECT COALESCE(CAST(SUM(r.quantity) AS BIGINT), 0) FROM needs_requests r WHERE r.category_id = {tablet} AND r.status = 'acceptee' AND r.plan_year = {year}"), &[]).await;
    let r = preau_core::steering::renewal::report(&app.db, &p, from, 5, now)
        .await
        .unwrap();
    let line = r
        .this_year
        .iter()
        .find(|l| l.category == "tablette")
        .expect("tablets this year");
    assert_eq!((line.planned, line.bought), (ending + needs, bought));
    assert!(line.bought >= 1 && line.planned >= 1, "{line:?}");
    assert!(line.bought_cents >= 32_900);
    // The élu reads it on the renewal page.
    let elu = app.login("elu", "demo").await;
    let page = elu.get("/renewal").await;
    assert!(
        page.body.contains(&format!("Prévu et acheté en {year}")),
        "{}",
        page.body
    );
}
