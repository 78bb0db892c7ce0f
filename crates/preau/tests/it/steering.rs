//! Steering: coverage of the schools against the référentiel — verdicts and missing
//! devices on a school built by hand, rule edits followed at once, devices that no longer
//! count, who sees what, and the demo's picture.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::harness::TestApp;

async fn coverage(app: &TestApp, token: &str, school: i64) -> Value {
    let r = app
        .api(
            token,
            Method::GET,
            &format!("/api/v1/coverage?school={school}"),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.json()
}

fn rule<'a>(c: &'a Value, key: &str) -> &'a Value {
    c["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["key"] == key)
        .unwrap_or_else(|| panic!("no rule {key} in {c}"))
}

async fn device(app: &TestApp, token: &str, category: &str, school: i64, room: Option<i64>) -> i64 {
    let mut body = json!({"category": category, "school_id": school});
    if let Some(r) = room {
        body["room_id"] = json!(r);
    }
    if category == "borne_wifi" {
        body["wifi_switchable"] = json!(true);
    }
    let r = app
        .api(token, Method::POST, "/api/v1/devices", Some(body))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    r.json()["id"].as_i64().unwrap()
}

#[tokio::test]
async fn a_hand_built_school_is_judged_rule_by_rule_and_follows_every_edit() {
    let app = TestApp::demo().await;
    let admin = app.token("admin").await;
    let post = |uri: &'static str, body: Value| {
        let (app, admin) = (&app, admin.clone());
        async move {
            let r = app.api(&admin, Method::POST, uri, Some(body)).await;
            assert_eq!(r.status, StatusCode::CREATED, "{uri}: {}", r.body);
            r.json()["id"].as_i64().unwrap()
        }
    };
    let school = post(
        "/api/v1/schools",
        json!({"uai": "0750655E", "name": "École des Tilleuls", "kind": "elementaire"}),
    )
    .await;
    let room = |name: &'static str, kind: &'static str| {
        let (app, admin) = (&app, admin.clone());
        async move {
            let r = app
                .api(
                    &admin,
                    Method::POST,
                    &format!("/api/v1/schools/{school}/rooms"),
                    Some(json!({"kind": kind, "name": name})),
                )
                .await;
            assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
            r.json()["id"].as_i64().unwrap()
        }
    };
    let (a, b, office) = (
        room("Salle A", "classe").await,
        room("Salle B", "classe").await,
        room("Bureau", "bureau_direction").await,
    );
    let today = chrono::Utc::now().date_naive().to_string();
    let years = app
        .api(&admin, Method::GET, "/api/v1/school-years", None)
        .await
        .json();
    let year = years["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|y| {
            y["starts_on"].as_str() <= Some(&today) && Some(today.as_str()) <= y["ends_on"].as_str()
        })
        .expect("the demo's current year")["id"]
        .clone();
    let class = app
        .api(
            &admin,
            Method::POST,
            &format!("/api/v1/schools/{school}/classes"),
            Some(json!({"label": "CM1 A", "levels": "CM1", "head_count": 25, "room_id": a, "school_year_id": year})),
        )
        .await;
    assert_eq!(class.status, StatusCode::CREATED, "{}", class.body);
    let class = class.json()["id"].as_i64().unwrap();

    // Nothing yet: every required rule fails, each classroom says what it lacks.
    let c = coverage(&app, &admin, school).await;
    assert_eq!(c["verdict"], "non_conforme");
    assert_eq!(c["classrooms"].as_array().unwrap().len(), 2);
    let room_a = &c["classrooms"][0];
    assert_eq!(room_a["room_id"], a);
    assert_eq!(room_a["class_ids"], json!([class]));
    assert!(
        room_a["missing"]
            .as_array()
            .unwrap()
            .contains(&json!("affichage_collectif"))
    );
    assert_eq!(rule(&c, "affichage_collectif")["missing"], 2);
    assert_eq!(rule(&c, "partage_travaux")["missing"], 1);

    // Equip both rooms, the office and the school — room B without a display.
    for room in [a, b] {
        for cat in ["poste_enseignant", "kit_visio", "visualiseur"] {
            device(&app, &admin, cat, school, Some(room)).await;
        }
    }
    device(&app, &admin, "eni", school, Some(a)).await;
    device(&app, &admin, "pc_fixe", school, Some(office)).await;
    device(&app, &admin, "imprimante", school, Some(office)).await;
    device(&app, &admin, "borne_wifi", school, None).await;
    device(&app, &admin, "classe_mobile", school, None).await;
    for _ in 0..6 {
        device(&app, &admin, "portable", school, None).await;
    }
    let s = app.login("admin", preau_core::demo::PASSWORD).await;
    let r = s
        .post(
            &format!("/coverage/{school}/declare"),
            &[("key", "partage_travaux"), ("declared", "1")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);

    let c = coverage(&app, &admin, school).await;
    assert_eq!(c["verdict"], "non_conforme", "{c}");
    let display = rule(&c, "affichage_collectif");
    assert_eq!(display["missing"], 1);
    assert_eq!(display["category"], "eni");
    assert_eq!(display["cost_cents"], 325_000, "the town's ENI price");
    let b_line = c["classrooms"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["room_id"] == b)
        .unwrap()
        .clone();
    assert_eq!(b_line["verdict"], "non_conforme");
    assert!(
        b_line["missing"]
            .as_array()
            .unwrap()
            .contains(&json!("affichage_collectif"))
    );
    for key in [
        "poste_enseignant",
        "captation",
        "micro",
        "haut_parleurs",
        "equipement_mobile",
        "stockage_recharge",
        "mdm",
        "wifi_debrayable",
        "partage_travaux",
        "poste_direction",
        "multifonction",
    ] {
        assert_eq!(rule(&c, key)["missing"], 0, "{key}: {c}");
    }
    // The town's recommended tablet per pupil: 25 to buy at 329 €.
    let tablets = rule(&c, "tablette_par_eleve");
    assert_eq!(
        (tablets["missing"].as_i64(), tablets["verdict"].as_str()),
        (Some(25), Some("partiel"))
    );
    assert_eq!(tablets["cost_cents"], 25 * 32_900);
    let total: i64 = c["rules"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["cost_cents"].as_i64())
        .sum();
    assert_eq!(c["missing_cost_cents"], total);

    // A display in room B: only recommended rules are left, the school is partial.
    let eni_b = device(&app, &admin, "eni", school, Some(b)).await;
    let c = coverage(&app, &admin, school).await;
    assert_eq!(c["verdict"], "partiel", "{c}");
    assert!(
        c["classrooms"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["verdict"] == "conforme")
    );

    // Under repair for more than 30 days, it no longer equips the room.
    preau_core::with_db!(&app.db, p => sqlx::query("UPDATE devices SET state = 'en_reparation', state_since = $1 WHERE id = $2").bind(chrono::NaiveDate::from_ymd_opt(2020, 1, 6).unwrap()).bind(eni_b).execute(p).await.unwrap().rows_affected());
    assert_eq!(
        coverage(&app, &admin, school).await["verdict"],
        "non_conforme"
    );
    preau_core::with_db!(&app.db, p => sqlx::query("UPDATE devices SET state = 'en_service' WHERE id = $1").bind(eni_b).execute(p).await.unwrap().rows_affected());

    // Editing the référentiel: the tablet per pupil becomes required, then goes; the
    // verdict follows at once, and each edit is in the audit log.
    let r = app
        .api(&admin, Method::GET, "/api/v1/referentiel", None)
        .await
        .json();
    let version = r["version"].as_i64().unwrap();
    assert!(version >= 1 && r["is_socle"] == false);
    let mut rules: Vec<Value> = r["rules"].as_array().unwrap().clone();
    for x in &mut rules {
        if x["key"] == "tablette_par_eleve" {
            x["level"] = json!("requis");
        }
    }
    let put = |version: i64, rules: Vec<Value>| {
        let (app, admin) = (&app, admin.clone());
        async move {
            app.api(
                &admin,
                Method::PUT,
                "/api/v1/referentiel",
                Some(json!({"version": version, "rules": rules})),
            )
            .await
        }
    };
    let r = put(version, rules.clone()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["version"], version + 1);
    assert_eq!(
        coverage(&app, &admin, school).await["verdict"],
        "non_conforme"
    );
    let r = put(version, rules.clone()).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "a stale version");
    let kept: Vec<Value> = rules
        .iter()
        .filter(|x| {
            x["key"] != "tablette_par_eleve"
                && x["key"] != "tni_par_salle"
                && x["key"] != "visualiseur"
        })
        .cloned()
        .collect();
    let r = put(version + 1, kept.clone()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(coverage(&app, &admin, school).await["verdict"], "conforme");
    let edits = app
        .scalar("SELECT COUNT(*) FROM audit_log WHERE object_type = 'referentiel'")
        .await;
    assert_eq!(edits, 3, "the demo's adoption and two edits");

    // A wrong référentiel is refused whole, each wrong field named; nothing changes.
    let mut bad = kept.clone();
    bad[0]["scope"] = json!("couloir");
    bad[1]["categories"] = json!(["grille_pain"]);
    bad[2]["key"] = bad[3]["key"].clone();
    let r = put(version + 2, bad).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields = r.error_fields();
    for f in ["rules[0].scope", "rules[1].categories", "rules[3].key"] {
        assert!(fields.iter().any(|x| x == f), "{f} in {fields:?}");
    }
    let now = app
        .api(&admin, Method::GET, "/api/v1/referentiel", None)
        .await
        .json();
    assert_eq!(now["version"], version + 2);
    assert_eq!(now["rules"].as_array().unwrap().len(), kept.len());
}

#[tokio::test]
async fn each_role_sees_the_coverage_it_may() {
    let app = TestApp::demo().await;
    let admin = app.token("admin").await;
    let all = app
        .api(&admin, Method::GET, "/api/v1/coverage?limit=500", None)
        .await
        .json();
    let schools = all["items"].as_array().unwrap().len();
    assert_eq!(schools, 23);
    assert!(all["items"][0]["missing_cost_cents"].is_i64());

    let elu = app.token("elu").await;
    let r = app
        .api(&elu, Method::GET, "/api/v1/coverage?limit=500", None)
        .await
        .json();
    assert_eq!(r["items"].as_array().unwrap().len(), schools);
    assert!(
        r["items"][0]["missing_cost_cents"].is_i64(),
        "the élu sees costs"
    );

    // The ERUN and the directeur: their schools, without costs.
    for login in ["erun", "directeur"] {
        let token = app.token(login).await;
        let me = app
            .api(&token, Method::GET, "/api/v1/me", None)
            .await
            .json();
        let mine: Vec<i64> = me["roles"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|r| r["school_id"].as_i64())
            .collect();
        let r = app
            .api(&token, Method::GET, "/api/v1/coverage?limit=500", None)
            .await
            .json();
        let seen: Vec<i64> = r["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["school_id"].as_i64().unwrap())
            .collect();
        assert!(
            !seen.is_empty() && seen.iter().all(|s| mine.contains(s)),
            "{login}: {seen:?} ⊄ {mine:?}"
        );
        assert!(r["items"].as_array().unwrap().iter().all(|s| {
            s["missing_cost_cents"].is_null()
                && s["rules"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .all(|x| x["cost_cents"].is_null())
        }));
        let other = all["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["school_id"].as_i64().unwrap())
            .find(|s| !mine.contains(s))
            .unwrap();
        let r = app
            .api(
                &token,
                Method::GET,
                &format!("/api/v1/coverage?school={other}"),
                None,
            )
            .await;
        assert_eq!(
            r.status,
            StatusCode::NOT_FOUND,
            "{login} reads another school"
        );
        let r = app
            .api(
                &token,
                Method::PUT,
                "/api/v1/referentiel",
                Some(json!({"version": 1, "rules": []})),
            )
            .await;
        assert_eq!(
            r.status,
            StatusCode::FORBIDDEN,
            "{login} edits the référentiel"
        );
    }
    // Teachers and contractors: nothing of this.
    for login in ["enseignant", "prestataire"] {
        let token = app.token(login).await;
        let r = app.api(&token, Method::GET, "/api/v1/coverage", None).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{login}: {}", r.body);
        let r = app
            .api(&token, Method::GET, "/api/v1/referentiel", None)
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{login}");
        let s = app.login(login, preau_core::demo::PASSWORD).await;
        assert_eq!(s.get("/coverage").await.status, StatusCode::FORBIDDEN);
        assert!(!s.get("/").await.body.contains("href=\"/coverage\""));
    }
    // A directeur declares for their school, not for another.
    let token = app.token("directeur").await;
    let me = app
        .api(&token, Method::GET, "/api/v1/me", None)
        .await
        .json();
    let own = me["roles"][0]["school_id"].as_i64().unwrap();
    let s = app.login("directeur", preau_core::demo::PASSWORD).await;
    let r = s
        .post(
            &format!("/coverage/{own}/declare"),
            &[("key", "partage_travaux"), ("declared", "0")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(
        rule(&coverage(&app, &admin, own).await, "partage_travaux")["missing"],
        1
    );
    let other = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["school_id"].as_i64().unwrap())
        .find(|s| *s != own)
        .unwrap();
    let r = s
        .post(
            &format!("/coverage/{other}/declare"),
            &[("key", "partage_travaux"), ("declared", "0")],
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    // Pages in plain words: the élu's list and a school's page.
    let s = app.login("elu", preau_core::demo::PASSWORD).await;
    let page = s.get("/coverage").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Non conforme") && page.body.contains("Coût estimé"));
    let page = s.get(&format!("/coverage/{own}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Salles de classe"));
    let page = s.get("/admin/referentiel").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Une tablette par élève"));
    // The purchase plan, on screen and as a spreadsheet whose total is the page's.
    let page = s.get("/coverage/plan").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Plan pour atteindre le référentiel"));
    let sheet = s.get("/coverage/plan.csv").await;
    assert_eq!(sheet.status, StatusCode::OK);
    let cost: i64 = sheet
        .body
        .lines()
        .skip(1)
        .filter_map(|l| l.rsplit(';').next())
        .filter_map(|c| c.trim().replace(',', "").parse::<i64>().ok())
        .sum();
    let expected: i64 = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["missing_cost_cents"].as_i64())
        .sum();
    assert_eq!(cost, expected);
    assert!(cost > 0);
    let xlsx = s.get("/coverage/plan.xlsx").await;
    assert_eq!(xlsx.status, StatusCode::OK);
    // Read back: one row per missing item, their costs summing to the plan's.
    let sheets = crate::harness::xlsx_sheets(xlsx.body_bytes());
    assert!(sheets[0].1.lines().count() > 2, "{:?}", sheets[0]);
    let d = app.login("directeur", preau_core::demo::PASSWORD).await;
    assert_eq!(d.get("/coverage/plan").await.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_demo_commune_shows_two_schools_not_compliant() {
    let app = TestApp::demo().await;
    let admin = app.token("admin").await;
    let all = app
        .api(&admin, Method::GET, "/api/v1/coverage?limit=500", None)
        .await
        .json();
    let items = all["items"].as_array().unwrap();
    let failing: Vec<&Value> = items
        .iter()
        .filter(|s| s["verdict"] == "non_conforme")
        .collect();
    assert_eq!(
        failing.len(),
        2,
        "{:#?}",
        failing
            .iter()
            .map(|s| (
                &s["name"],
                s["rules"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|r| r["verdict"] == "non_conforme")
                    .map(|r| &r["key"])
                    .collect::<Vec<_>>()
            ))
            .collect::<Vec<_>>()
    );
    let bare = failing
        .iter()
        .find(|s| rule(s, "affichage_collectif")["missing"] == 1)
        .expect("a classroom without a display");
    assert!(bare["classrooms"].as_array().unwrap().iter().any(|c| {
        c["missing"]
            .as_array()
            .unwrap()
            .contains(&json!("affichage_collectif"))
    }));
    assert!(
        failing
            .iter()
            .any(|s| rule(s, "mdm")["missing"].as_i64() > Some(0)),
        "tablets not enrolled"
    );
    assert!(items.iter().all(|s| s["verdict"] != "non_evalue"));
    assert!(items.iter().any(|s| s["verdict"] == "partiel"));
}

#[tokio::test]
async fn the_fleet_ages_and_its_renewal_keeps_to_the_cap() {
    let app = TestApp::demo().await;
    let admin = app.token("admin").await;
    let get = |token: String, q: &'static str| {
        let app = &app;
        async move {
            app.api(&token, Method::GET, &format!("/api/v1/renewal{q}"), None)
                .await
        }
    };
    let r = get(admin.clone(), "?from=2027&years=5").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let plan = r.json();
    let years: Vec<i64> = plan["years"]
        .as_array()
        .unwrap()
        .iter()
        .map(|y| y["year"].as_i64().unwrap())
        .collect();
    assert_eq!(years, vec![2027, 2028, 2029, 2030, 2031]);
    assert_eq!(
        plan["yearly_cap_cents"], 18_000_000,
        "the demo council's cap"
    );
    let vpi = plan["categories"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["category"] == "vpi")
        .unwrap()
        .clone();
    assert_eq!(vpi["lifespan_years"], 8);
    assert!(
        vpi["past_lifespan"].as_i64() > Some(0),
        "VPIs bought before 2019 are past their life"
    );
    assert_eq!(
        vpi["ages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n.as_i64().unwrap())
            .sum::<i64>(),
        vpi["total"].as_i64().unwrap()
    );
    for y in plan["years"].as_array().unwrap() {
        assert!(y["budget_cents"].as_i64().unwrap() <= 18_000_000, "{y}");
    }
    assert!(
        plan["years"][0]["deferred"].as_i64() > Some(0),
        "the backlog does not fit one year: {}",
        plan["years"][0]
    );
    let overall = &plan["ratios"][0];
    assert_eq!(overall["school_id"], 0);
    assert!(overall["tablets"].as_i64() > Some(1000) && overall["pupils"].as_i64() > Some(1000));

    // Without a cap, the backlog goes in the first year; a longer VPI life takes VPIs out.
    let s = app.login("admin", preau_core::demo::PASSWORD).await;
    let r = s
        .post(
            "/renewal/settings",
            &[("yearly_cap", ""), ("lifespan_vpi", "20")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let plan = get(admin.clone(), "?from=2027&years=5").await.json();
    assert!(plan["yearly_cap_cents"].is_null());
    assert!(
        plan["years"]
            .as_array()
            .unwrap()
            .iter()
            .all(|y| y["deferred"] == 0)
    );
    let vpi = plan["categories"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["category"] == "vpi")
        .unwrap()
        .clone();
    assert_eq!(
        (
            vpi["lifespan_years"].as_i64(),
            vpi["past_lifespan"].as_i64()
        ),
        (Some(20), Some(0))
    );
    assert!(plan["years"].as_array().unwrap().iter().all(|y| {
        y["by_category"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["category"] != "vpi")
    }));
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM audit_log WHERE object_type = 'renewal'")
            .await,
        2,
        "the demo's cap and its removal"
    );
    let r = s
        .post("/renewal/settings", &[("yearly_cap", "beaucoup")])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);

    // Out-of-range requests name the parameter.
    let r = get(admin.clone(), "?years=0").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.error_fields(), vec!["years"]);
    // The ERUN sees the fleet without amounts; directeurs and teachers do not see it.
    let erun = app.token("erun").await;
    let plan = get(erun, "?from=2027&years=3").await.json();
    assert!(
        plan["years"]
            .as_array()
            .unwrap()
            .iter()
            .all(|y| y["budget_cents"] == 0)
    );
    assert!(plan["yearly_cap_cents"].is_null());
    for login in ["directeur", "enseignant", "prestataire"] {
        let token = app.token(login).await;
        assert_eq!(
            get(token, "").await.status,
            StatusCode::FORBIDDEN,
            "{login}"
        );
    }
    // The page and its spreadsheet.
    let s = app.login("elu", preau_core::demo::PASSWORD).await;
    let page = s.get("/renewal").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Plan de renouvellement") && page.body.contains("<svg"));
    assert!(
        !page.body.contains("name=\"yearly_cap\""),
        "the élu reads, the administrator sets"
    );
    let xlsx = s.get("/renewal.xlsx").await;
    assert_eq!(xlsx.status, StatusCode::OK);
    let sheets = crate::harness::xlsx_sheets(xlsx.body_bytes());
    assert!(
        sheets.iter().any(|(_, text)| text.lines().count() > 2),
        "{sheets:?}"
    );
}

#[tokio::test]
async fn the_administrator_edits_the_rules_on_a_form() {
    let app = TestApp::demo().await;
    let admin = app.token("admin").await;
    let s = app.login("admin", preau_core::demo::PASSWORD).await;
    let form = s.get("/admin/referentiel/edit").await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.body.contains("Nouvelle règle") && form.body.contains("name=\"r0.key\""));
    let before = app
        .api(&admin, Method::GET, "/api/v1/referentiel", None)
        .await
        .json();
    let rules = before["rules"].as_array().unwrap();
    let version = before["version"].as_i64().unwrap().to_string();
    // Every rule sent back as the form has it, the first removed, a new one added.
    let mut fields: Vec<(String, String)> = vec![("version".into(), version.clone())];
    for (i, r) in rules.iter().enumerate() {
        let f = |n: &str| format!("r{i}.{n}");
        for n in ["key", "label", "scope", "level", "measure", "per"] {
            fields.push((f(n), r[n].as_str().unwrap().to_string()));
        }
        fields.push((f("quantity"), r["quantity"].to_string()));
        fields.push((f("per_n"), r["per_n"].to_string()));
        for c in r["categories"].as_array().unwrap() {
            fields.push((f("cat"), c.as_str().unwrap().into()));
        }
        for k in r["school_kinds"].as_array().unwrap() {
            fields.push((f("kind"), k.as_str().unwrap().into()));
        }
    }
    fields.push(("r0.remove".into(), "1".into()));
    let n = rules.len();
    for (k, v) in [
        ("key", "robotique"),
        ("label", "Un robot par école"),
        ("scope", "ecole"),
        ("level", "recommande"),
        ("measure", "nombre"),
        ("quantity", "1"),
        ("per", "unite"),
        ("per_n", "1"),
        ("cat", "robot"),
    ] {
        fields.push((format!("r{n}.{k}"), v.into()));
    }
    let post = |fields: Vec<(String, String)>| {
        let s = &s;
        async move {
            let refs: Vec<(&str, &str)> = fields
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            s.post("/admin/referentiel/edit", &refs).await
        }
    };
    let r = post(fields.clone()).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let after = app
        .api(&admin, Method::GET, "/api/v1/referentiel", None)
        .await
        .json();
    let keys: Vec<&str> = after["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys.len(), n);
    assert!(!keys.contains(&rules[0]["key"].as_str().unwrap()));
    assert_eq!(*keys.last().unwrap(), "robotique");
    // Sent again: the version is stale, nothing changes; a wrong line is shown with its error.
    let r = post(fields.clone()).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.body.contains("a modifié le référentiel entre-temps"));
    let mut bad = fields.clone();
    bad[0].1 = after["version"].to_string();
    bad.retain(|(k, _)| k != "r0.remove");
    bad.push((format!("r{n}.quantity"), "-3".into()));
    bad.retain(|(k, v)| !(k == &format!("r{n}.quantity") && v == "1"));
    let r = post(bad).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("Certaines règles sont à corriger") && r.body.contains("field-error"));
    let now = app
        .api(&admin, Method::GET, "/api/v1/referentiel", None)
        .await
        .json();
    assert_eq!(now["version"], after["version"]);
    // Not the élu's to change.
    let e = app.login("elu", preau_core::demo::PASSWORD).await;
    assert_eq!(
        e.get("/admin/referentiel/edit").await.status,
        StatusCode::FORBIDDEN
    );
}
