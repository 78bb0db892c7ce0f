//! Organisation: the demo commune, bad input, optimistic concurrency, audit, CSRF, login
//! rate limiting, school import and export, the OpenAPI document.

use axum::http::Method;
use serde_json::json;

use crate::harness::{TestApp, first_and_other_school};

#[tokio::test]
async fn demo_commune_has_the_expected_shape() {
    let app = TestApp::demo().await;
    assert_eq!(app.scalar("SELECT COUNT(*) FROM schools").await, 23);
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM rooms WHERE kind = 'classe'")
            .await,
        125
    );
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM rooms WHERE kind = 'bureau_direction'")
            .await,
        23
    );
    assert_eq!(app.scalar("SELECT COUNT(*) FROM classes c JOIN school_years y ON y.id = c.school_year_id WHERE y.label = '2026-2027'").await, 125);
    let uais: Vec<String> = preau_core::with_db!(&app.db, p => sqlx::query_scalar("SELECT uai FROM schools").fetch_all(p).await.unwrap());
    assert!(uais.iter().all(|u| preau_domain::Uai::parse(u).is_ok()));
    assert!(uais.iter().all(|u| u.starts_with("078")));
    // Loading again changes nothing.
    assert!(
        !preau_core::demo::load_if_empty(&app.db, chrono::Utc::now())
            .await
            .unwrap()
    );
    for login in [
        "admin",
        "elu",
        "technicien",
        "prestataire",
        "directeur",
        "enseignant",
        "erun",
    ] {
        app.login(login, "demo").await;
    }
}

#[tokio::test]
async fn bad_input_names_the_field_and_stores_nothing() {
    let app = TestApp::demo().await;
    let token = app.token("admin").await;
    let before = app.scalar("SELECT COUNT(*) FROM schools").await;
    let cases = [
        (
            json!({"uai": "0750655F", "name": "X", "kind": "maternelle"}),
            422,
            "uai",
            "uai_check_letter",
        ),
        (
            json!({"uai": "075065", "name": "X", "kind": "maternelle"}),
            422,
            "uai",
            "uai_format",
        ),
        (
            json!({"uai": "0750655E", "name": "x".repeat(201), "kind": "maternelle"}),
            422,
            "name",
            "too_long",
        ),
        (
            json!({"uai": "0750655E", "name": "X", "kind": "usine"}),
            422,
            "kind",
            "unknown_value",
        ),
        (
            json!({"uai": "0750655E", "name": "  ", "kind": "lycee"}),
            422,
            "name",
            "required",
        ),
    ];
    for (body, status, field, code) in cases {
        let resp = app
            .api(&token, Method::POST, "/api/v1/schools", Some(body))
            .await;
        assert_eq!(resp.status, status, "{}", resp.body);
        assert_eq!(resp.headers["content-type"], "application/problem+json");
        let errors = resp.json()["errors"].clone();
        assert!(
            errors
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["field"] == field && e["code"] == code),
            "{errors}"
        );
    }
    // Wrong types and malformed JSON: a 400 that says what is wrong.
    let resp = app
        .api(
            &token,
            Method::POST,
            "/api/v1/schools",
            Some(json!({"uai": 12, "name": "X", "kind": "maternelle"})),
        )
        .await;
    assert_eq!(resp.status, 400);
    assert!(resp.json()["detail"].as_str().unwrap().contains("uai"));
    // A duplicate UAI is a conflict on that field.
    let (a, _) = first_and_other_school(&app).await;
    let existing = app
        .api(&token, Method::GET, &format!("/api/v1/schools/{a}"), None)
        .await
        .json();
    let resp = app
        .api(
            &token,
            Method::POST,
            "/api/v1/schools",
            Some(json!({"uai": existing["uai"], "name": "Doublon", "kind": "maternelle"})),
        )
        .await;
    assert_eq!(resp.status, 409);
    assert_eq!(resp.json()["errors"][0]["field"], "uai");
    assert_eq!(app.scalar("SELECT COUNT(*) FROM schools").await, before);
    // Unknown ids.
    assert_eq!(
        app.api(&token, Method::GET, "/api/v1/schools/999999", None)
            .await
            .status,
        404
    );
    assert_eq!(
        app.api(&token, Method::GET, "/api/v1/nothing", None)
            .await
            .status,
        404
    );
    // The page form shows the error next to the field, with a 422.
    let s = app.login("admin", "demo").await;
    let resp = s
        .post(
            "/schools",
            &[
                ("uai", "0750655F"),
                ("name", "École test"),
                ("kind", "maternelle"),
                ("holiday_zone", "C"),
                ("status", "active"),
            ],
        )
        .await;
    assert_eq!(resp.status, 422);
    assert!(resp.body.contains("id=\"e-uai\""), "{}", resp.body);
    assert!(resp.body.contains("lettre de contrôle"));
    assert_eq!(app.scalar("SELECT COUNT(*) FROM schools").await, before);
}

#[tokio::test]
async fn second_concurrent_edit_is_refused() {
    let app = TestApp::demo().await;
    let (a, _) = first_and_other_school(&app).await;
    let token = app.token("admin").await;
    let school = app
        .api(&token, Method::GET, &format!("/api/v1/schools/{a}"), None)
        .await
        .json();
    let v = school["version"].as_i64().unwrap();
    let first = app
        .api(
            &token,
            Method::PATCH,
            &format!("/api/v1/schools/{a}"),
            Some(json!({"version": v, "name": "Nom de la première"})),
        )
        .await;
    assert_eq!(first.status, 200, "{}", first.body);
    let second = app
        .api(
            &token,
            Method::PATCH,
            &format!("/api/v1/schools/{a}"),
            Some(json!({"version": v, "name": "Nom de la seconde"})),
        )
        .await;
    assert_eq!(second.status, 409);
    assert_eq!(second.json()["errors"][0]["code"], "version_conflict");
    let now = app
        .api(&token, Method::GET, &format!("/api/v1/schools/{a}"), None)
        .await
        .json();
    assert_eq!(now["name"], "Nom de la première");
    // Same on the page form: the stale version is refused with a message.
    let s = app.login("admin", "demo").await;
    let resp = s
        .post(
            &format!("/schools/{a}/edit"),
            &[
                ("version", &v.to_string()),
                ("uai", now["uai"].as_str().unwrap()),
                ("name", "Page"),
                ("kind", "maternelle"),
                ("holiday_zone", "C"),
                ("status", "active"),
            ],
        )
        .await;
    assert_eq!(resp.status, 409);
    assert!(resp.body.contains("modifié cette fiche entre-temps"));
    // A patch without version is refused.
    let resp = app
        .api(
            &token,
            Method::PATCH,
            &format!("/api/v1/schools/{a}"),
            Some(json!({"name": "Sans version"})),
        )
        .await;
    assert_eq!(resp.status, 422);
    assert_eq!(resp.json()["errors"][0]["field"], "version");
}

#[tokio::test]
async fn changes_are_audited_and_filterable() {
    let app = TestApp::demo().await;
    let (a, _) = first_and_other_school(&app).await;
    let s = app.login("admin", "demo").await;
    let resp = s
        .post(
            &format!("/schools/{a}/rooms/new"),
            &[("name", "Salle vidéo"), ("kind", "autre"), ("floor", "1er")],
        )
        .await;
    assert_eq!(resp.status, 303);
    let audit = s.get("/admin/audit?object_type=room&actor=admin").await;
    assert_eq!(audit.status, 200);
    assert!(audit.body.contains("Salle vidéo"));
    // In words: the action, the object's kind, no code.
    assert!(audit.body.contains("<td>Création</td>"), "{}", audit.body);
    assert!(audit.body.contains("Salle n° "));
    let rows: Vec<(String, String, String)> = preau_core::with_db!(&app.db, p => sqlx::query_as("SELECT actor_login, action, changes FROM audit_log WHERE object_type = 'room' AND actor_login = 'admin'").fetch_all(p).await.unwrap());
    assert_eq!(rows.len(), 1);
    assert!(rows[0].2.contains("Salle vidéo"));
    // An update records old and new values.
    let room_id: i64 = preau_core::with_db!(&app.db, p => sqlx::query_scalar("SELECT id FROM rooms WHERE name = 'Salle vidéo'").fetch_one(p).await.unwrap());
    let resp = s
        .post(
            &format!("/rooms/{room_id}/edit"),
            &[("version", "1"), ("name", "Salle visio"), ("kind", "autre")],
        )
        .await;
    assert_eq!(resp.status, 303, "{}", resp.body);
    let changes: String = preau_core::with_db!(&app.db, p => sqlx::query_scalar("SELECT changes FROM audit_log WHERE object_type = 'room' AND action = 'update'").fetch_one(p).await.unwrap());
    let v: serde_json::Value = serde_json::from_str(&changes).unwrap();
    assert_eq!(v["name"], json!(["Salle vidéo", "Salle visio"]));
    // One object's entries, by its number: the change by the field's label.
    let one = s
        .get(&format!(
            "/admin/audit?object_type=room&object_id={room_id}"
        ))
        .await;
    assert!(one.body.contains("<td>Modification</td>"), "{}", one.body);
    assert!(
        one.body
            .contains("<strong>Nom</strong> : Salle vidéo → Salle visio"),
        "{}",
        one.body
    );
    let other = s
        .get(&format!(
            "/admin/audit?object_type=room&object_id={}",
            room_id + 1000
        ))
        .await;
    assert!(!other.body.contains("Salle visio"));
}

#[tokio::test]
async fn forms_without_csrf_token_are_refused() {
    let app = TestApp::demo().await;
    let (a, _) = first_and_other_school(&app).await;
    let s = app.login("admin", "demo").await;
    let before = app.scalar("SELECT COUNT(*) FROM rooms").await;
    for token in ["", "forged"] {
        let body = format!("csrf={token}&name=Pirate&kind=autre");
        let resp = app
            .request(
                Method::POST,
                &format!("/schools/{a}/rooms/new"),
                &[
                    ("cookie", s.cookie.clone()),
                    ("content-type", "application/x-www-form-urlencoded".into()),
                ],
                Some(body),
            )
            .await;
        assert_eq!(resp.status, 403);
        assert!(resp.body.contains("formulaire a expiré"));
    }
    assert_eq!(app.scalar("SELECT COUNT(*) FROM rooms").await, before);
    // Security headers are on every response.
    let page = s.get("/").await;
    assert!(
        page.headers["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("default-src 'self'")
    );
    assert_eq!(page.headers["x-frame-options"], "DENY");
    assert_eq!(page.headers["x-content-type-options"], "nosniff");
}

#[tokio::test]
async fn login_is_rate_limited_and_cookies_are_safe() {
    let app = TestApp::demo().await;
    let page = app.request(Method::GET, "/login", &[], None).await;
    let anon = crate::harness::set_cookie(&page, "preau_csrf").unwrap();
    let attempt = |pw: &'static str| {
        let body = format!("csrf={anon}&login=directeur&password={pw}");
        let cookie = format!("preau_csrf={anon}");
        let app = &app;
        async move {
            app.request(
                Method::POST,
                "/login",
                &[
                    ("cookie", cookie),
                    ("content-type", "application/x-www-form-urlencoded".into()),
                ],
                Some(body),
            )
            .await
        }
    };
    for _ in 0..5 {
        assert_eq!(attempt("wrong").await.status, 401);
    }
    // Even the right password is refused while the login is blocked.
    let blocked = attempt("demo").await;
    assert_eq!(blocked.status, 429);
    assert!(blocked.body.contains("Trop de tentatives"));
    // Another login is not blocked, and its session cookie is HttpOnly and SameSite.
    let s = app.login("enseignant", "demo").await;
    assert!(!s.cookie.is_empty());
    let page = app.request(Method::GET, "/login", &[], None).await;
    let set = page.headers["set-cookie"].to_str().unwrap();
    assert!(set.contains("HttpOnly") && set.contains("SameSite=Lax"));
}

#[tokio::test]
async fn users_are_managed_and_passwords_changed() {
    let app = TestApp::demo().await;
    let (a, _) = first_and_other_school(&app).await;
    let s = app.login("admin", "demo").await;
    let resp = s
        .post(
            "/admin/users",
            &[
                ("login", "m.dupont"),
                ("display_name", "Marie Dupont"),
                ("password", "court"),
                ("lang", "fr"),
            ],
        )
        .await;
    assert_eq!(resp.status, 422);
    assert!(resp.body.contains("10 caractères"));
    let resp = s
        .post(
            "/admin/users",
            &[
                ("login", "m.dupont"),
                ("display_name", "Marie Dupont"),
                ("password", "une-phrase-longue"),
                ("lang", "fr"),
            ],
        )
        .await;
    assert_eq!(resp.status, 303);
    let id: i64 = preau_core::with_db!(&app.db, p => sqlx::query_scalar("SELECT id FROM users WHERE login = 'm.dupont'").fetch_one(p).await.unwrap());
    // A directeur role needs a school.
    let resp = s
        .post(
            &format!("/admin/users/{id}/roles"),
            &[
                ("role", "directeur"),
                ("school_id", ""),
                ("contractor_id", ""),
            ],
        )
        .await;
    assert_eq!(resp.status, 422);
    let resp = s
        .post(
            &format!("/admin/users/{id}/roles"),
            &[
                ("role", "enseignant"),
                ("school_id", &a.to_string()),
                ("contractor_id", ""),
            ],
        )
        .await;
    assert_eq!(resp.status, 303);
    let dupont = app.login("m.dupont", "une-phrase-longue").await;
    let resp = dupont
        .post(
            "/account/password",
            &[
                ("current_password", "une-phrase-longue"),
                ("new_password", "encore-plus-longue"),
                ("confirm_password", "encore-plus-longue"),
            ],
        )
        .await;
    assert_eq!(resp.status, 303);
    // The old session is closed; the new password works.
    assert_eq!(dupont.get("/").await.status, 303);
    app.login("m.dupont", "encore-plus-longue").await;
    // The admin resets it; the hash is argon2id and no clear password is stored.
    let resp = s
        .post(
            &format!("/admin/users/{id}/password"),
            &[("password", "remise-a-zero-2026")],
        )
        .await;
    assert_eq!(resp.status, 303);
    let hash: String = preau_core::with_db!(&app.db, p => sqlx::query_scalar("SELECT password_hash FROM users WHERE id = $1").bind(id).fetch_one(p).await.unwrap());
    assert!(hash.starts_with("$argon2id$"));
    app.login("m.dupont", "remise-a-zero-2026").await;
    // API tokens from the UI: shown once, usable, revocable.
    let resp = s
        .post("/account/tokens", &[("name", "script inventaire")])
        .await;
    let token = resp
        .body
        .split("id=\"new-token\">")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .to_string();
    assert!(token.starts_with("preau_"));
    assert_eq!(
        app.api(&token, Method::GET, "/api/v1/me", None)
            .await
            .json()["login"],
        "admin"
    );
    let tid: i64 = preau_core::with_db!(&app.db, p => sqlx::query_scalar("SELECT MAX(id) FROM api_tokens WHERE name = 'script inventaire'").fetch_one(p).await.unwrap());
    assert_eq!(
        s.post(&format!("/account/tokens/{tid}/revoke"), &[])
            .await
            .status,
        303
    );
    assert_eq!(
        app.api(&token, Method::GET, "/api/v1/me", None)
            .await
            .status,
        401
    );
}

#[tokio::test]
async fn school_list_searches_sorts_and_pages() {
    let app = TestApp::demo().await;
    let s = app.login("admin", "demo").await;
    let page = s.get("/schools?q=jaures").await;
    assert!(page.body.contains("Jean-Jaurès"));
    assert!(!page.body.contains("Victor-Hugo"));
    let page = s.get("/schools?sort=uai&dir=desc").await;
    assert!(page.body.contains("aria-sort=\"descending\""));
    let token = app.token("admin").await;
    let first = app
        .api(&token, Method::GET, "/api/v1/schools?limit=10", None)
        .await
        .json();
    assert_eq!(first["items"].as_array().unwrap().len(), 10);
    let next = first["next"].as_str().unwrap();
    let second = app
        .api(
            &token,
            Method::GET,
            &format!("/api/v1/schools?limit=10&cursor={next}"),
            None,
        )
        .await
        .json();
    assert_eq!(second["items"].as_array().unwrap().len(), 10);
    let third = app
        .api(
            &token,
            Method::GET,
            &format!(
                "/api/v1/schools?limit=10&cursor={}",
                second["next"].as_str().unwrap()
            ),
            None,
        )
        .await
        .json();
    assert_eq!(third["items"].as_array().unwrap().len(), 3);
    assert!(third["next"].is_null());
    let kind = app
        .api(&token, Method::GET, "/api/v1/schools?kind=primaire", None)
        .await
        .json();
    assert_eq!(kind["items"].as_array().unwrap().len(), 2);
    let bad = app
        .api(&token, Method::GET, "/api/v1/schools?kind=usine", None)
        .await;
    assert_eq!(bad.status, 422);
    assert_eq!(bad.json()["errors"][0]["field"], "kind");
    // English second.
    let en = s.get("/schools?lang=en").await;
    assert!(en.body.contains("<html lang=\"en\">") && en.body.contains("Add a school"));
}

#[tokio::test]
async fn schools_import_is_idempotent_and_all_or_nothing() {
    let app = TestApp::demo().await;
    let cid: i64 = app.scalar("SELECT id FROM collectivites").await;
    let sys = preau_domain::Principal::system(cid, "test");
    let before = app.scalar("SELECT COUNT(*) FROM schools").await;
    let directory = "Identifiant_de_l_etablissement;Nom_etablissement;Type_etablissement;Statut_public_prive;Adresse_1;Code_postal;Code_commune;Nom_commune;libelle_nature;etat;Libelle_academie\n\
0750655E;École maternelle Test;Ecole;Public;1 rue A;78990;78208;Élancourt;ECOLE MATERNELLE PUBLIQUE;OUVERT;Versailles\n\
0751234J;École élémentaire Test;Ecole;Public;2 rue B;78990;78208;Élancourt;ECOLE DE NIVEAU ELEMENTAIRE;OUVERT;Versailles\n\
0010856A;École privée;Ecole;Privé;3 rue C;78990;78208;Élancourt;ECOLE ELEMENTAIRE PRIVEE;OUVERT;Versailles\n\
0010856A;Ailleurs;Ecole;Public;4 rue D;01000;01053;Bourg;ECOLE MATERNELLE PUBLIQUE;OUVERT;Lyon\n";
    let r = preau_core::import::import_schools(
        &app.db,
        &sys,
        directory.as_bytes(),
        Some("78208"),
        false,
        chrono::Utc::now(),
    )
    .await
    .unwrap();
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    assert_eq!((r.created, r.updated, r.skipped), (2, 0, 2));
    let zone: String = preau_core::with_db!(&app.db, p => sqlx::query_scalar("SELECT holiday_zone FROM schools WHERE uai = '0751234J'").fetch_one(p).await.unwrap());
    assert_eq!(zone, "C");
    // Again: nothing new.
    let r = preau_core::import::import_schools(
        &app.db,
        &sys,
        directory.as_bytes(),
        Some("78208"),
        false,
        chrono::Utc::now(),
    )
    .await
    .unwrap();
    assert_eq!((r.created, r.updated, r.unchanged), (0, 0, 2));
    // A simple CSV in Windows-1252 with one bad line: the line is named, nothing applied.
    let mut bad =
        b"uai;nom;type;adresse\n0750655E;\xC9cole maternelle Renomm\xE9e;maternelle;1 rue A\n"
            .to_vec();
    bad.extend_from_slice(b"0750655F;Mauvaise;maternelle;x\n");
    let r =
        preau_core::import::import_schools(&app.db, &sys, &bad, None, false, chrono::Utc::now())
            .await
            .unwrap();
    assert_eq!(r.encoding, "Windows-1252");
    assert_eq!(r.errors.len(), 1);
    assert_eq!(r.errors[0].line, 3);
    assert_eq!(r.errors[0].field, "uai");
    let name: String = preau_core::with_db!(&app.db, p => sqlx::query_scalar("SELECT name FROM schools WHERE uai = '0750655E'").fetch_one(p).await.unwrap());
    assert_eq!(name, "École maternelle Test");
    // Without the bad line it applies, and the accents are right, not mojibake.
    let good = &bad[..bad.len() - b"0750655F;Mauvaise;maternelle;x\n".len()];
    let r =
        preau_core::import::import_schools(&app.db, &sys, good, None, false, chrono::Utc::now())
            .await
            .unwrap();
    assert_eq!(r.updated, 1);
    let name: String = preau_core::with_db!(&app.db, p => sqlx::query_scalar("SELECT name FROM schools WHERE uai = '0750655E'").fetch_one(p).await.unwrap());
    assert_eq!(name, "École maternelle Renommée");
    assert_eq!(app.scalar("SELECT COUNT(*) FROM schools").await, before + 2);
    // Export: UTF-8 with BOM, `;`, every school once.
    let csv = preau_core::import::export_schools(&app.db, &sys)
        .await
        .unwrap();
    assert!(csv.starts_with("\u{feff}uai;nom;type"));
    assert_eq!(csv.lines().count() as i64, before + 3);
}

/// No framework text reaches a person: an unknown address, a malformed id or a query the
/// page cannot read answer the app's error page in French (404 for what does not exist),
/// and the API answers a problem.
#[tokio::test]
async fn unknown_addresses_and_malformed_ids_answer_the_error_page() {
    let app = TestApp::demo().await;
    let s = app.login("directeur", "demo").await;
    for (path, status) in [
        ("/tickets/abc", 404),
        ("/une-page-qui-n-existe-pas", 404),
        ("/visio/sessions/12abc", 404),
        ("/reservations?school=abc", 400),
    ] {
        let r = s.get(path).await;
        assert_eq!(r.status.as_u16(), status, "{path}: {}", r.body);
        assert!(
            r.body.contains("<html lang=\"fr\"") && r.body.contains(&format!("Erreur {status}")),
            "{path}: {}",
            r.body
        );
        // In the app's layout, with its menu and the way home.
        assert!(
            r.body.contains("mainnav") && r.body.contains("href=\"/\">Retour"),
            "{path}: {}",
            r.body
        );
        for english in ["Invalid URL", "Cannot parse", "Failed to deserialize"] {
            assert!(!r.body.contains(english), "{path}: {}", r.body);
        }
    }
    let token = app.token("directeur").await;
    for path in ["/api/v1/tickets/abc", "/api/v1/nothing-here"] {
        let r = app.api(&token, axum::http::Method::GET, path, None).await;
        assert_eq!(r.status, 404, "{path}");
        assert_eq!(
            r.headers["content-type"], "application/problem+json",
            "{path}"
        );
        assert!(!r.body.contains("Cannot parse"), "{}", r.body);
    }
}

/// A room or a class something still refers to is not deleted: the answer says what holds
/// it (a database error was a 500); an empty room goes.
#[tokio::test]
async fn a_room_or_class_in_use_is_kept_with_a_reason() {
    let app = TestApp::demo().await;
    let (a, _) = first_and_other_school(&app).await;
    let admin = app.login("admin", "demo").await;
    let busy: i64 = preau_core::with_db!(&app.db, p => sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT MIN(r.id) FROM rooms r WHERE r.school_id = {a} AND EXISTS (SELECT 1 FROM devices d WHERE d.room_id = r.id)"))).fetch_one(p).await.unwrap());
    let r = admin.post(&format!("/rooms/{busy}/delete"), &[]).await;
    assert_eq!(r.status, 409, "{}", r.body);
    assert!(r.body.contains("Cette salle a encore"), "{}", r.body);
    let still: i64 = preau_core::with_db!(&app.db, p => sqlx::query_scalar("SELECT COUNT(*) FROM rooms WHERE id = $1").bind(busy).fetch_one(p).await.unwrap());
    assert_eq!(still, 1);
    // An empty room is deleted.
    let token = app.token("admin").await;
    let made = app
        .api(
            &token,
            Method::POST,
            &format!("/api/v1/schools/{a}/rooms"),
            Some(json!({"kind": "autre", "name": "Réserve vide"})),
        )
        .await;
    assert_eq!(made.status, 201, "{}", made.body);
    let empty = made.json()["id"].as_i64().unwrap();
    let r = admin.post(&format!("/rooms/{empty}/delete"), &[]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let gone: i64 = preau_core::with_db!(&app.db, p => sqlx::query_scalar("SELECT COUNT(*) FROM rooms WHERE id = $1").bind(empty).fetch_one(p).await.unwrap());
    assert_eq!(gone, 0);
    // A class with no pupils but a booking: kept, and said why.
    let year: i64 = preau_core::with_db!(&app.db, p => sqlx::query_scalar("SELECT id FROM school_years WHERE label = '2026-2027'").fetch_one(p).await.unwrap());
    let class = app
        .api(
            &token,
            Method::POST,
            &format!("/api/v1/schools/{a}/classes"),
            Some(json!({"school_year_id": year, "label": "Atelier robots", "levels": "CM1", "head_count": 12})),
        )
        .await;
    assert_eq!(class.status, 201, "{}", class.body);
    let class = class.json()["id"].as_i64().unwrap();
    let cart: i64 = preau_core::with_db!(&app.db, p => sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT MIN(b.id) FROM bookables b WHERE b.school_id = {a} AND NOT EXISTS (SELECT 1 FROM devices t JOIN loans l ON l.device_id = t.id AND l.returned_on IS NULL AND l.kind = 'classe' WHERE t.parent_id = b.device_id)"))).fetch_one(p).await.unwrap());
    let booked = app
        .api(
            &token,
            Method::POST,
            "/api/v1/bookings",
            Some(json!({"bookable_id": cart, "day": "2027-03-11", "slot": "08:30-11:30", "class_id": class})),
        )
        .await;
    assert_eq!(booked.status, 201, "{}", booked.body);
    let r = admin.post(&format!("/classes/{class}/delete"), &[]).await;
    assert_eq!(r.status, 409, "{}", r.body);
    assert!(r.body.contains("des réservations"), "{}", r.body);
}
