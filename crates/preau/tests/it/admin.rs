//! Administration from the browser: a user's name and e-mail, the collectivité, the
//! school import with its preview, and the aggregate dashboard.

use axum::http::StatusCode;

use crate::harness::TestApp;

#[tokio::test]
async fn admin_edits_a_user_and_the_collectivite() {
    let app = TestApp::demo().await;
    let admin = app.login("admin", "demo").await;
    let uid = app
        .scalar("SELECT id FROM users WHERE login = 'enseignant'")
        .await;
    let version = app
        .scalar("SELECT version FROM users WHERE login = 'enseignant'")
        .await;
    let page = admin.get(&format!("/admin/users/{uid}/edit")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("name=\"display_name\""));
    let v = version.to_string();
    let uri = format!("/admin/users/{uid}/edit");
    // A malformed e-mail is named and nothing changes.
    let r = admin
        .post(
            &uri,
            &[
                ("display_name", "Mme Durand"),
                ("email", "durand@"),
                ("version", &v),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("Adresse e-mail invalide"), "{}", r.body);
    let r = admin
        .post(
            &uri,
            &[
                ("display_name", "Mme Durand"),
                ("email", "c.durand@elancourt.fr"),
                ("version", &v),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let name: String = preau_core::with_db!(&app.db, p => sqlx::query_scalar("SELECT display_name FROM users WHERE login = 'enseignant'").fetch_one(p).await.unwrap());
    assert_eq!(name, "Mme Durand");
    // The same stale version again: refused, not overwritten.
    let r = admin
        .post(
            &uri,
            &[("display_name", "Autre"), ("email", ""), ("version", &v)],
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert!(r.body.contains("modifié cette fiche"), "{}", r.body);
    let audited = app
        .scalar("SELECT COUNT(*) FROM audit_log WHERE object_type = 'user' AND action = 'update' AND changes LIKE '%Mme Durand%'")
        .await;
    assert_eq!(audited, 1);
    // Not an administrator: no such page.
    let teacher = app.login("directeur", "demo").await;
    assert_eq!(teacher.get(&uri).await.status, StatusCode::NOT_FOUND);
    let r = teacher
        .post(&uri, &[("display_name", "Pirate"), ("version", "2")])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    // The collectivité: a bad INSEE code is named; a good edit is saved and audited.
    let cv = app
        .scalar("SELECT version FROM collectivites")
        .await
        .to_string();
    let r = admin
        .post(
            "/admin/collectivite/edit",
            &[
                ("name", "Ville d'Élancourt"),
                ("kind", "commune"),
                ("insee_code", "7820"),
                ("version", &cv),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("Code INSEE invalide"), "{}", r.body);
    let r = admin
        .post(
            "/admin/collectivite/edit",
            &[
                ("name", "Ville d'Élancourt"),
                ("kind", "commune"),
                ("insee_code", "78208"),
                ("version", &cv),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = admin.get("/admin").await;
    assert!(page.body.contains("Ville d&#39;Élancourt") || page.body.contains("Ville d'Élancourt"));
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM audit_log WHERE object_type = 'collectivite'")
            .await,
        1
    );
}

#[tokio::test]
async fn schools_are_imported_from_the_browser_after_a_preview() {
    let app = TestApp::demo().await;
    let admin = app.login("admin", "demo").await;
    let before = app.scalar("SELECT COUNT(*) FROM schools").await;
    let csv = "uai;nom;type;adresse\n0750655E;École maternelle des Essais;maternelle;1 rue A\n";
    // No file chosen: the field is named.
    let r = admin
        .post_file("/schools/import", &[("commune", "")], None)
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("Choisissez un fichier"));
    // Without the CSRF token: refused.
    let mut forged = app.login("admin", "demo").await;
    forged.csrf = "forged".into();
    let r = forged
        .post_file(
            "/schools/import",
            &[],
            Some(("file", "e.csv", csv.as_bytes())),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // Preview: says what would happen, stores nothing.
    let r = admin
        .post_file(
            "/schools/import",
            &[("commune", "")],
            Some(("file", "ecoles.csv", csv.as_bytes())),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("écoles à créer"), "{}", r.body);
    assert_eq!(app.scalar("SELECT COUNT(*) FROM schools").await, before);
    let key = r
        .body
        .split("name=\"key\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("confirmation key")
        .to_string();
    // Another user cannot confirm it.
    let other = app.login("elu", "demo").await;
    assert_eq!(
        other
            .post("/schools/import/apply", &[("key", &key)])
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let r = admin.post("/schools/import/apply", &[("key", &key)]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("Import terminé"));
    assert_eq!(app.scalar("SELECT COUNT(*) FROM schools").await, before + 1);
    // A key works once.
    let r = admin.post("/schools/import/apply", &[("key", &key)]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("expiré"));
    // A bad line: named, no confirmation offered, nothing stored.
    let bad = "uai;nom;type;adresse\n0750655F;Mauvaise;maternelle;x\n";
    let r = admin
        .post_file(
            "/schools/import",
            &[],
            Some(("file", "bad.csv", bad.as_bytes())),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("Ligne 2"), "{}", r.body);
    assert!(!r.body.contains("name=\"key\""));
    assert_eq!(app.scalar("SELECT COUNT(*) FROM schools").await, before + 1);
}

#[tokio::test]
async fn the_dashboard_adds_up_per_school() {
    let app = TestApp::demo().await;
    let elu = app.login("elu", "demo").await;
    let page = elu.get("/dashboard").await;
    assert_eq!(page.status, StatusCode::OK);
    let schools = app
        .scalar("SELECT COUNT(*) FROM schools WHERE status = 'active'")
        .await;
    let year = app.scalar("SELECT MAX(school_year_id) FROM classes").await;
    let pupils: i64 = preau_core::with_db!(&app.db, p => sqlx::query_scalar::<_, i64>("SELECT CAST(SUM(head_count) AS BIGINT) FROM classes WHERE school_year_id = $1").bind(year).fetch_one(p).await.unwrap());
    let csv = elu.get(&format!("/dashboard.csv?year={year}")).await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(csv.body.starts_with('\u{feff}'));
    let rows: Vec<&str> = csv.body.lines().skip(1).collect();
    assert_eq!(rows.len() as i64, schools);
    let sum: i64 = rows
        .iter()
        .map(|l| l.rsplit(';').next().unwrap().parse::<i64>().unwrap())
        .sum();
    assert_eq!(sum, pupils);
    // No name of a person on the page: only figures and schools.
    assert!(!page.body.contains("Durand"));
    // A year that does not exist is a 404, not someone else's data.
    assert_eq!(
        elu.get("/dashboard?year=999999").await.status,
        StatusCode::NOT_FOUND
    );
}
