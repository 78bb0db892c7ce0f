//! The demo commune's référentiel: the socle as the town adapted it (Wi-Fi counted per
//! school, visio equipment for the élémentaires only, a TNI or ENI and a tablet per pupil
//! as the town's recommended targets), its unit prices, its schools' declared ENT and its
//! tablets enrolled in the MDM — except one élémentaire's, which the coverage page shows
//! as not compliant, beside the school where a retired board left a classroom bare —
//! and the yearly cap the council votes for replacements.

use chrono::{DateTime, Utc};
use preau_domain::Principal;
use preau_domain::org::SchoolKind;
use preau_domain::referentiel::{Per, RuleInput, socle};

use crate::db::Tx;
use crate::error::AppResult;
use crate::steering::referentiel;
use crate::with_tx;

fn rule(
    key: &str,
    label: &str,
    level: &str,
    categories: &[&str],
    per: Per,
    kinds: &[SchoolKind],
) -> RuleInput {
    RuleInput {
        key: key.into(),
        label: label.into(),
        scope: "ecole".into(),
        level: level.into(),
        measure: "nombre".into(),
        categories: categories.iter().map(|c| c.to_string()).collect(),
        quantity: Some(1),
        per: Some(per.code().into()),
        per_n: Some(1),
        school_kinds: kinds.iter().map(|k| k.code().into()).collect(),
    }
}

/// The town's rules, from the socle.
pub fn rules() -> Vec<RuleInput> {
    let elementary = [SchoolKind::Elementaire, SchoolKind::Primaire];
    let mut rules: Vec<RuleInput> = socle().iter().map(RuleInput::from).collect();
    for r in &mut rules {
        match r.key.as_str() {
            // Wi-Fi in the corridors: one access point for five classes.
            "acces_internet" => {
                r.scope = "ecole".into();
                r.label = "Accès à internet (une borne Wi-Fi pour 5 classes)".into();
                r.per = Some("classes".into());
                r.per_n = Some(5);
            }
            // Visio lessons are for the élémentaires.
            "captation" | "micro" | "haut_parleurs" => {
                r.school_kinds = elementary.iter().map(|k| k.code().into()).collect();
            }
            _ => {}
        }
    }
    let mut tni = rule(
        "tni_par_salle",
        "Un TNI ou un ENI dans chaque salle (objectif de la ville)",
        "recommande",
        &["eni", "tni"],
        Per::Unite,
        &[],
    );
    tni.scope = "salle".into();
    rules.push(tni);
    rules.push(rule(
        "tablette_par_eleve",
        "Une tablette par élève d'élémentaire (objectif de la ville)",
        "recommande",
        &["tablette"],
        Per::Eleves,
        &[SchoolKind::Elementaire],
    ));
    rules
}

/// Unit prices, in euros.
const PRICES: &[(&str, i64)] = &[
    ("eni", 3_250),
    ("tni", 2_450),
    ("kit_visio", 1_190),
    ("visualiseur", 129),
    ("tablette", 329),
    ("borne_wifi", 390),
    ("poste_enseignant", 749),
    ("classe_mobile", 1_450),
];

pub async fn load(tx: &mut Tx, sys: &Principal, now: DateTime<Utc>) -> AppResult<()> {
    let cid = sys.collectivite_id;
    let schools: Vec<(i64, String)> = with_tx!(tx, c => {
        sqlx::query_as("SELECT id, kind FROM schools WHERE collectivite_id = $1 ORDER BY id").bind(cid).fetch_all(&mut *c).await?
    });
    let unenrolled = schools
        .iter()
        .rev()
        .find(|(_, k)| SchoolKind::from_db(k) == SchoolKind::Elementaire)
        .map(|s| s.0)
        .unwrap_or_default();
    with_tx!(tx, c => {
        sqlx::query("UPDATE devices SET inventory_source = 'MDM', last_inventory_at = $1 WHERE collectivite_id = $2 AND school_id <> $3 AND category_id IN (SELECT id FROM device_categories WHERE collectivite_id = $2 AND code = 'tablette')")
            .bind(now).bind(cid).bind(unenrolled).execute(&mut *c).await?;
    });
    for (school, _) in &schools {
        referentiel::declare(tx, sys, *school, "partage_travaux", true, now).await?;
    }
    referentiel::replace(tx, sys, 0, &rules(), now).await?;
    for (category, euros) in PRICES {
        referentiel::set_unit_price(tx, sys, category, Some(euros * 100), now).await?;
    }
    // The council votes 180 000 € a year for replacements.
    crate::steering::renewal::set_cap(tx, sys, Some(180_000 * 100), now).await?;
    Ok(())
}

/// For benchmarks: `schools` more élémentaires in the demo commune, each with eight
/// classrooms (board, teacher laptop, visio kit), a direction office, eight classes of 25
/// and `devices_per_school` devices in all (the rest tablets on carts), each category of a
/// school bought on one day of the last eight years at a plausible price. Returns the
/// devices added.
pub async fn bench(
    db: &crate::db::Db,
    schools: usize,
    devices_per_school: usize,
    now: DateTime<Utc>,
) -> AppResult<usize> {
    use crate::db::{Param, insert_rows};
    let cid: i64 = crate::with_db!(db, pool => {
        sqlx::query_scalar("SELECT id FROM collectivites WHERE name = $1").bind(crate::demo::COLLECTIVITE).fetch_one(pool).await?
    });
    let sys = Principal::system(cid, "bench");
    let today = preau_domain::paris::day(now);
    let year = crate::years::current(db, &sys, today)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no school year"))?;
    let cats: std::collections::HashMap<String, i64> = crate::inventory::categories::list(db, &sys)
        .await?
        .into_iter()
        .map(|c| (c.code, c.id))
        .collect();
    let cat = |c: &str| Param::I64(cats.get(c).copied().unwrap_or_default());
    let mut added = 0;
    for chunk in 0..schools.div_ceil(50) {
        let mut tx = db.begin().await?;
        for i in chunk * 50..((chunk + 1) * 50).min(schools) {
            let uai = format!("9{i:06}B");
            let school: i64 = with_tx!(&mut tx, c => {
                sqlx::query_scalar("INSERT INTO schools (collectivite_id, uai, name, kind, holiday_zone, status, search_key, created_at, updated_at) VALUES ($1, $2, $3, 'elementaire', 'C', 'active', $3, $4, $4) RETURNING id")
                    .bind(cid).bind(&uai).bind(format!("ecole de charge {i}")).bind(now).fetch_one(&mut *c).await?
            });
            let mut rooms = Vec::new();
            for r in 0..9 {
                let (kind, name) = if r == 8 {
                    ("bureau_direction", "Bureau".to_string())
                } else {
                    ("classe", format!("Classe {}", r + 1))
                };
                let id: i64 = with_tx!(&mut tx, c => {
                    sqlx::query_scalar("INSERT INTO rooms (school_id, kind, name, created_at, updated_at) VALUES ($1, $2, $3, $4, $4) RETURNING id")
                        .bind(school).bind(kind).bind(name).bind(now).fetch_one(&mut *c).await?
                });
                rooms.push(id);
            }
            let classes: Vec<Vec<Param>> = rooms[..8]
                .iter()
                .enumerate()
                .map(|(k, room)| {
                    vec![
                        Param::I64(school),
                        Param::I64(year.id),
                        Param::Text(format!("Classe {}", k + 1)),
                        Param::Text("CM1".into()),
                        Param::I64(25),
                        Param::I64(*room),
                        Param::Time(now),
                        Param::Time(now),
                    ]
                })
                .collect();
            insert_rows(&mut tx, "INSERT INTO classes (school_id, school_year_id, label, levels, head_count, room_id, created_at, updated_at)", classes, "").await?;
            // Bought in batches: each school's category on one day of the last eight years,
            // at a plausible price.
            let bought = |category: &str| {
                let k = category.bytes().map(usize::from).sum::<usize>();
                today - chrono::Duration::days(((i * 37 + k * 101) % 2900) as i64)
            };
            let price = |category: &str| match category {
                "tablette" => 32_000,
                "eni" => 420_000,
                "poste_enseignant" | "pc_fixe" => 75_000,
                "kit_visio" => 90_000,
                "imprimante" => 60_000,
                "borne_wifi" => 25_000,
                _ => 150_000,
            };
            let mut devices: Vec<Vec<Param>> = Vec::with_capacity(devices_per_school);
            let mut push = |category: &str, room: Option<i64>| {
                devices.push(vec![
                    Param::I64(cid),
                    cat(category),
                    Param::I64(school),
                    Param::OptI64(room),
                    Param::Text("en_service".into()),
                    Param::Date(today),
                    Param::Date(bought(category)),
                    Param::I64(price(category)),
                    Param::Text(String::new()),
                    Param::Time(now),
                    Param::Time(now),
                ]);
            };
            for room in &rooms[..8] {
                for c in ["eni", "poste_enseignant", "kit_visio"] {
                    push(c, Some(*room));
                }
            }
            push("pc_fixe", Some(rooms[8]));
            push("imprimante", Some(rooms[8]));
            push("borne_wifi", None);
            push("borne_wifi", None);
            push("classe_mobile", None);
            while devices.len() < devices_per_school {
                devices.push(vec![
                    Param::I64(cid),
                    cat("tablette"),
                    Param::I64(school),
                    Param::OptI64(None),
                    Param::Text("en_service".into()),
                    Param::Date(today),
                    Param::Date(bought("tablette")),
                    Param::I64(price("tablette")),
                    Param::Text(String::new()),
                    Param::Time(now),
                    Param::Time(now),
                ]);
            }
            added += devices.len();
            insert_rows(&mut tx, "INSERT INTO devices (collectivite_id, category_id, school_id, room_id, state, state_since, purchase_date, price_cents, search_key, created_at, updated_at)", devices, "").await?;
        }
        tx.commit().await?;
    }
    Ok(added)
}

/// The demo's needs campaign (open: directeurs may still add requests), with requests in
/// every state and an ERUN opinion; its two subsidy dossiers (the 2021 SNEE tablets, paid;
/// a DETR dossier filed for the accepted requests); and what the maintenance contract
/// costs a year.
pub async fn load_money(tx: &mut Tx, sys: &Principal, now: DateTime<Utc>) -> AppResult<()> {
    use chrono::{Datelike, Duration};
    use preau_domain::needs::{CampaignInput, DecisionInput, RequestInput};
    use preau_domain::subsidy;

    use crate::steering::{funding, needs};

    let cid = sys.collectivite_id;
    let today = preau_domain::paris::day(now);
    let next = today.year() + 1;
    let campaign = CampaignInput {
        title: format!("Recensement des besoins {next}"),
        opens_on: (today - Duration::days(21)).to_string(),
        closes_on: (today + Duration::days(14)).to_string(),
        plan_year: next.to_string(),
    }
    .check()
    .map_err(crate::error::AppError::Invalid)?;
    let campaign_id = needs::open_campaign(tx, sys, &campaign, now).await?;
    // The directrice's school (the first), then four élémentaires.
    let all: Vec<(i64, String)> = with_tx!(tx, c => {
        sqlx::query_as("SELECT id, kind FROM schools WHERE collectivite_id = $1 ORDER BY id").bind(cid).fetch_all(&mut *c).await?
    });
    let schools: Vec<i64> = all
        .first()
        .map(|s| s.0)
        .into_iter()
        .chain(
            all.iter()
                .skip(1)
                .filter(|(_, k)| SchoolKind::from_db(k) != SchoolKind::Maternelle)
                .map(|s| s.0)
                .take(4),
        )
        .collect();
    let people: Vec<(i64, String)> = with_tx!(tx, c => {
        sqlx::query_as("SELECT id, login FROM users WHERE collectivite_id = $1 AND login IN ('directeur', 'erun')").bind(cid).fetch_all(&mut *c).await?
    });
    let user = |login: &str| people.iter().find(|u| u.1 == login).map_or(0, |u| u.0);
    let as_role =
        |school: i64, role: preau_domain::Role, id: i64, login: &str, name: &str| Principal {
            user_id: id,
            login: login.into(),
            display_name: name.into(),
            collectivite_id: cid,
            lang: preau_domain::Lang::Fr,
            assignments: vec![preau_domain::Assignment {
                role,
                school_id: Some(school),
                contractor_id: None,
            }],
            lots: Vec::new(),
            perimeter: Vec::new(),
        };
    // (school index, category, item, quantity, reason, priority, decision, reason, opinion)
    type Demo<'a> = (
        usize,
        &'a str,
        &'a str,
        &'a str,
        &'a str,
        &'a str,
        Option<&'a str>,
        &'a str,
        &'a str,
    );
    let requests: [Demo; 6] = [
        (
            0,
            "tablette",
            "",
            "12",
            "Pour les ateliers de grande section : phonologie et numération par petits groupes, sans attendre la classe mobile de l'école voisine.",
            "haute",
            Some("acceptee"),
            "",
            "Favorable : projet d'école sur le langage oral en grande section.",
        ),
        (
            0,
            "visualiseur",
            "",
            "2",
            "Pour montrer les albums et les productions des élèves au TNI.",
            "moyenne",
            None,
            "",
            "",
        ),
        (
            1,
            "tni",
            "",
            "1",
            "La salle 4 n'a plus d'affichage depuis que son VPI a été réformé.",
            "haute",
            Some("acceptee"),
            "",
            "",
        ),
        (
            2,
            "",
            "Casques audio avec micro",
            "25",
            "Pour les évaluations de langue en autonomie.",
            "basse",
            Some("refusee"),
            "Hors du socle : à prévoir sur les crédits pédagogiques de l'école.",
            "",
        ),
        (
            3,
            "poste_enseignant",
            "",
            "3",
            "Les portables des enseignants ont 7 ans et démarrent en 5 minutes.",
            "moyenne",
            Some("differee"),
            "Ils sont dans le plan de renouvellement de l'an prochain : reporté au recensement suivant.",
            "",
        ),
        (
            4,
            "borne_wifi",
            "",
            "2",
            "Le Wi-Fi ne couvre pas les deux salles du préfabriqué.",
            "haute",
            None,
            "",
            "",
        ),
    ];
    let mut accepted = Vec::new();
    for (i, category, item, quantity, reason, priority, decision, why, opinion) in requests {
        let Some(&school) = schools.get(i) else {
            continue;
        };
        let director = if i == 0 {
            as_role(
                school,
                preau_domain::Role::Directeur,
                user("directeur"),
                "directeur",
                "Sophie Directrice",
            )
        } else {
            as_role(
                school,
                preau_domain::Role::Directeur,
                0,
                "demo",
                "Direction de l'école",
            )
        };
        let r = RequestInput {
            category: category.into(),
            item: item.into(),
            quantity: quantity.into(),
            reason: reason.into(),
            priority: priority.into(),
        }
        .check()
        .map_err(crate::error::AppError::Invalid)?;
        let id = needs::add_request(tx, &director, campaign_id, school, &r, now).await?;
        let mut version = 1;
        if !opinion.is_empty() {
            let erun = as_role(
                school,
                preau_domain::Role::Erun,
                user("erun"),
                "erun",
                "Nadia ERUN",
            );
            needs::give_opinion(tx, &erun, id, opinion, now).await?;
            version += 1;
        }
        if let Some(status) = decision {
            let d = DecisionInput {
                status: status.into(),
                plan_year: next.to_string(),
                reason: why.into(),
            }
            .check()
            .map_err(crate::error::AppError::Invalid)?;
            needs::decide(tx, sys, id, version, &d, now).await?;
            if status == "acceptee" {
                accepted.push(id);
            }
        }
    }
    // The 2021 tablets were bought with the State's SNEE: 70 % of the spending.
    // The orders the tablets were bought on, and everything bought on those orders.
    let snee_orders: Vec<(String, i64)> = with_tx!(tx, c => {
        sqlx::query_as("SELECT o.order_ref, CAST(COALESCE(SUM(o.price_cents), 0) AS BIGINT) FROM devices o WHERE o.collectivite_id = $1 AND o.order_ref IN (SELECT d.order_ref FROM devices d JOIN device_categories k ON k.id = d.category_id WHERE d.collectivite_id = $1 AND k.code IN ('tablette', 'classe_mobile') AND d.purchase_date >= $2 AND d.purchase_date <= $3) GROUP BY o.order_ref ORDER BY o.order_ref")
            .bind(cid).bind(chrono::NaiveDate::from_ymd_opt(2021, 1, 1)).bind(chrono::NaiveDate::from_ymd_opt(2021, 12, 31)).fetch_all(&mut *c).await?
    });
    let eligible: i64 = snee_orders.iter().map(|o| o.1).sum();
    let granted = subsidy::expected_cents(eligible, Some(70), None);
    let euros = preau_domain::device::plain_euros;
    let snee = subsidy::Input {
        funder: "snee".into(),
        title: "Socle numérique dans les écoles élémentaires — tablettes".into(),
        year: "2021".into(),
        rate_percent: "70".into(),
        status: "verse".into(),
        deposit_due: "2021-03-31".into(),
        justify_due: "2022-12-31".into(),
        requested: euros(granted),
        granted: euros(granted),
        received: euros(granted),
        notes: "Appel à projets pour un socle numérique dans les écoles élémentaires (plan de relance).".into(),
        ..subsidy::Input::default()
    }
    .check()
    .map_err(crate::error::AppError::Invalid)?;
    let orders: Vec<String> = snee_orders.into_iter().map(|o| o.0).collect();
    funding::create(
        tx,
        sys,
        &snee,
        &funding::Funds {
            orders,
            requests: Vec::new(),
        },
        now,
    )
    .await?;
    let price = |code: &str| PRICES.iter().find(|p| p.0 == code).map_or(0, |p| p.1 * 100);
    let asked = subsidy::expected_cents(
        12 * price("tablette") + price("tni"),
        Some(40),
        Some(2_000_000),
    );
    let detr = subsidy::Input {
        funder: "detr".into(),
        title: format!("Équipement numérique des classes — besoins {next}"),
        year: next.to_string(),
        rate_percent: "40".into(),
        cap: "20000".into(),
        status: "depose".into(),
        deposit_due: format!("{}-01-31", today.year()),
        justify_due: format!("{}-12-31", next + 1),
        requested: euros(asked),
        notes: "Dossier déposé en préfecture ; accusé de réception reçu.".into(),
        ..subsidy::Input::default()
    }
    .check()
    .map_err(crate::error::AppError::Invalid)?;
    funding::create(
        tx,
        sys,
        &detr,
        &funding::Funds {
            orders: Vec::new(),
            requests: accepted,
        },
        now,
    )
    .await?;
    // The maintenance contract: 38 400 € a year.
    let contracts: Vec<i64> = with_tx!(tx, c => {
        sqlx::query_scalar("SELECT id FROM contracts WHERE collectivite_id = $1").bind(cid).fetch_all(&mut *c).await?
    });
    for id in contracts {
        funding::set_contract_cost(tx, sys, id, Some(38_400 * 100), now).await?;
    }
    Ok(())
}
