//! The demo's pupils and tablets: an ONDE export per school, generated with obviously
//! fictitious names (and the birth dates and INE an export carries, which the import drops),
//! imported through the same path as a directeur's file; tablets lent 1:1 in the
//! élémentaires, carts bound to classes in the maternelles; last year's loans returned
//! (a few broken, lost or stolen) with last year's pupils already purged.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use preau_domain::Principal;
use preau_domain::org::SchoolKind;

use crate::db::{Db, Param, Tx, insert_rows};
use crate::demo::Lcg;
use crate::error::AppResult;
use crate::pupils::{OndeReport, read_and_apply};
use crate::{schools, with_db, with_tx, years};

const FIRST: &[&str] = &[
    "Lina", "Noé", "Jade", "Léo", "Inès", "Gabin", "Rose", "Nino", "Alba", "Malo", "Zoé", "Sacha",
    "Lou", "Timéo", "Nour", "Eden", "Mila", "Aaron", "Ambre", "Ilyes", "Léna", "Nael", "Romy",
    "Marius", "Anna", "Yanis", "Elsa", "Adam", "Louise", "Isaac", "Maëlle", "Côme",
];
/// Family names of the demo: words, so that nobody is named.
const LAST: &[&str] = &[
    "Abricot",
    "Bouleau",
    "Cerisier",
    "Dune",
    "Érable",
    "Fougère",
    "Glycine",
    "Houx",
    "Iris",
    "Jonquille",
    "Kiwi",
    "Lavande",
    "Mimosa",
    "Noisetier",
    "Olivier",
    "Pivoine",
    "Quetsche",
    "Romarin",
    "Saule",
    "Tilleul",
    "Ursule",
    "Verveine",
    "Wasabi",
    "Yucca",
];

/// The ONDE export of a school for its classes of the year, as its head would download
/// it (with the columns Préau drops). Deterministic: tests rebuild it to re-import.
pub async fn onde_export(db: &Db, school_id: i64, school_year_id: i64) -> AppResult<String> {
    let classes: Vec<(String, String, i64)> = with_db!(db, pool => {
        sqlx::query_as("SELECT label, levels, head_count FROM classes WHERE school_id = $1 AND school_year_id = $2 ORDER BY id")
            .bind(school_id).bind(school_year_id).fetch_all(pool).await?
    });
    Ok(export_text(school_id, &classes))
}

fn export_text(school_id: i64, classes: &[(String, String, i64)]) -> String {
    let mut rng = Lcg(school_id as u64 * 7919);
    let mut out = String::from(
        "Nom élève;Prénom élève;Date naissance;Sexe;INE;Adresse1;Cp1;Commune1;Cycle;Niveau;Libellé classe\n",
    );
    let mut n = 0usize;
    for (label, levels, count) in classes {
        let level = levels.split('-').next().unwrap_or(levels);
        for _ in 0..*count {
            n += 1;
            let first = FIRST[rng.next(FIRST.len() as u64) as usize];
            let last = LAST[(n + rng.next(3) as usize) % LAST.len()];
            out.push_str(&format!(
                "{};{first};{:02}/{:02}/{};{};DEMO{:07}X;{} rue de la Démo;78990;Val-d'Élancourt;;{level};{label}\n",
                last.to_uppercase(),
                1 + rng.next(28),
                1 + rng.next(12),
                2015 + rng.next(6),
                if rng.next(2) == 0 { "F" } else { "M" },
                school_id as usize * 10_000 + n,
                1 + rng.next(80),
            ));
        }
    }
    out
}

fn at(d: NaiveDate) -> DateTime<Utc> {
    Utc.from_utc_datetime(&d.and_hms_opt(7, 30, 0).unwrap_or_default())
}

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
}

pub(crate) async fn load(tx: &mut Tx, sys: &Principal) -> AppResult<()> {
    let cid = sys.collectivite_id;
    let years: Vec<(i64, String)> = with_tx!(tx, c => {
        sqlx::query_as("SELECT id, label FROM school_years WHERE collectivite_id = $1 ORDER BY starts_on").bind(cid).fetch_all(&mut *c).await?
    });
    let [(last_year, _), (this_year_id, _)] = years.as_slice() else {
        return Ok(());
    };
    let this_year: years::SchoolYear = with_tx!(tx, c => {
        sqlx::query_as("SELECT id, collectivite_id, label, starts_on, ends_on, created_at FROM school_years WHERE id = $1").bind(*this_year_id).fetch_one(&mut *c).await?
    });
    let start = this_year.starts_on;
    let school_rows: Vec<(i64, String)> = with_tx!(tx, c => {
        sqlx::query_as("SELECT id, kind FROM schools WHERE collectivite_id = $1 ORDER BY id").bind(cid).fetch_all(&mut *c).await?
    });
    let mut rng = Lcg(2026);
    let mut loans: Vec<Vec<Param>> = Vec::new();
    let mut old_pupils: Vec<Vec<Param>> = Vec::new();
    let loan = |school: i64,
                device: i64,
                kind: &str,
                pupil: Option<i64>,
                class: Option<i64>,
                given: NaiveDate,
                signed: Option<NaiveDate>,
                back: Option<(NaiveDate, &str)>| {
        vec![
            Param::I64(cid),
            Param::I64(school),
            Param::I64(device),
            Param::Text(kind.into()),
            Param::OptI64(pupil),
            Param::OptI64(class),
            Param::Date(given),
            Param::OptDate(signed),
            Param::Text(if kind == "eleve" { "etui chargeur" } else { "" }.into()),
            Param::OptDate(back.map(|b| b.0)),
            Param::OptText(back.map(|b| b.1.to_string())),
            Param::Text("demo".into()),
            Param::Time(at(given)),
            Param::Time(at(back.map(|b| b.0).unwrap_or(given))),
        ]
    };
    for (school_id, _) in &school_rows {
        let school = schools::get_in_tx(tx, cid, *school_id).await?;
        let classes: Vec<(String, String, i64)> = with_tx!(tx, c => {
            sqlx::query_as("SELECT label, levels, head_count FROM classes WHERE school_id = $1 AND school_year_id = $2 ORDER BY id")
                .bind(*school_id).bind(this_year.id).fetch_all(&mut *c).await?
        });
        let text = export_text(*school_id, &classes);
        read_and_apply(
            tx,
            sys,
            &school,
            &this_year,
            &text,
            start,
            at(start),
            OndeReport::default(),
        )
        .await?;
        // Last year's pupils, long purged: only their rows remain, for the loans' history.
        let old_classes: Vec<(i64, i64)> = with_tx!(tx, c => {
            sqlx::query_as("SELECT id, head_count FROM classes WHERE school_id = $1 AND school_year_id = $2 ORDER BY id")
                .bind(*school_id).bind(*last_year).fetch_all(&mut *c).await?
        });
        for (class, count) in &old_classes {
            for _ in 0..*count {
                old_pupils.push(vec![
                    Param::I64(cid),
                    Param::I64(*school_id),
                    Param::I64(*last_year),
                    Param::I64(*class),
                    Param::Date(day(2025, 9, 1)),
                    Param::Date(day(2026, 10, 3)),
                    Param::Time(at(day(2026, 10, 3))),
                    Param::Time(at(day(2025, 9, 1))),
                    Param::Time(at(day(2026, 10, 3))),
                ]);
            }
        }
    }
    insert_rows(
        tx,
        "INSERT INTO pupils (collectivite_id, school_id, school_year_id, class_id, arrived_on, purge_on, purged_at, created_at, updated_at)",
        old_pupils,
        "",
    )
    .await?;
    for (school_id, kind) in &school_rows {
        let maternelle = SchoolKind::from_db(kind) == SchoolKind::Maternelle;
        if maternelle {
            // Class sets: each cart's tablets lent to one class, this year and last year;
            // this year the last cart is shared by the school, lent to no class.
            let carts: Vec<i64> = with_tx!(tx, c => {
                sqlx::query_scalar("SELECT d.id FROM devices d JOIN device_categories k ON k.id = d.category_id WHERE d.school_id = $1 AND k.code = 'classe_mobile' ORDER BY d.asset_tag").bind(*school_id).fetch_all(&mut *c).await?
            });
            for (year, given, back) in [
                (*last_year, day(2025, 9, 8), Some((day(2026, 7, 3), "ok"))),
                (this_year.id, start + Duration::days(7), None),
            ] {
                let classes: Vec<i64> = with_tx!(tx, c => {
                    sqlx::query_scalar("SELECT id FROM classes WHERE school_id = $1 AND school_year_id = $2 ORDER BY id").bind(*school_id).bind(year).fetch_all(&mut *c).await?
                });
                let bound = if back.is_some() {
                    carts.len()
                } else {
                    carts.len().saturating_sub(1)
                };
                for (cart, class) in carts[..bound].iter().zip(classes.iter()) {
                    let tablets: Vec<i64> = with_tx!(tx, c => {
                        sqlx::query_scalar("SELECT id FROM devices WHERE parent_id = $1 AND state = 'en_service' ORDER BY asset_tag").bind(*cart).fetch_all(&mut *c).await?
                    });
                    for t in tablets {
                        loans.push(loan(
                            *school_id,
                            t,
                            "classe",
                            None,
                            Some(*class),
                            given,
                            None,
                            back,
                        ));
                    }
                }
            }
            continue;
        }
        let tablets: Vec<(i64, String)> = with_tx!(tx, c => {
            sqlx::query_as("SELECT d.id, d.state FROM devices d JOIN device_categories k ON k.id = d.category_id WHERE d.school_id = $1 AND k.code = 'tablette' ORDER BY d.asset_tag").bind(*school_id).fetch_all(&mut *c).await?
        });
        // Last year: every tablet went home with a pupil; most came back in good order.
        let old: Vec<(i64, i64)> = with_tx!(tx, c => {
            sqlx::query_as("SELECT id, class_id FROM pupils WHERE school_id = $1 AND school_year_id = $2 ORDER BY id").bind(*school_id).bind(*last_year).fetch_all(&mut *c).await?
        });
        for (i, ((device, state), (pupil, class))) in tablets.iter().zip(old.iter()).enumerate() {
            let back = match state.as_str() {
                "perdu" => (day(2026, 3, 2 + (i % 20) as u32), "perdu"),
                "vole" => (day(2026, 5, 4 + (i % 20) as u32), "vole"),
                _ if rng.next(23) == 0 => (day(2026, 7, 3), "ecran_casse"),
                _ if rng.next(60) == 0 => (day(2026, 7, 3), "hors_service"),
                _ => (day(2026, 7, 3), "ok"),
            };
            let signed = day(2025, 9, 12 + (i % 10) as u32);
            loans.push(loan(
                *school_id,
                *device,
                "eleve",
                Some(*pupil),
                Some(*class),
                day(2025, 9, 8),
                Some(signed),
                Some(back),
            ));
        }
        // This year: the tablets in service, pupil by pupil, class by class.
        let pupils: Vec<(i64, i64)> = with_tx!(tx, c => {
            sqlx::query_as("SELECT p.id, p.class_id FROM pupils p WHERE p.school_id = $1 AND p.school_year_id = $2 AND p.label IS NOT NULL ORDER BY p.class_id, p.label, p.id").bind(*school_id).bind(this_year.id).fetch_all(&mut *c).await?
        });
        let free = tablets.iter().filter(|t| t.1 == "en_service");
        for (i, ((device, _), (pupil, class))) in free.zip(pupils.iter()).enumerate() {
            let given = start + Duration::days(7 + (i % 3) as i64);
            // Most families have signed the agreement; a few are still to come back.
            let signed = (i % 11 != 5).then(|| given + Duration::days(2 + (i % 6) as i64));
            let back = (i % 53 == 17).then(|| (day(2026, 11, 16 + (i % 5) as u32), "ecran_casse"));
            loans.push(loan(
                *school_id,
                *device,
                "eleve",
                Some(*pupil),
                Some(*class),
                given,
                signed,
                back,
            ));
        }
    }
    insert_rows(
        tx,
        "INSERT INTO loans (collectivite_id, school_id, device_id, kind, pupil_id, class_id, given_on, signed_on, accessories, returned_on, return_state, created_by, created_at, updated_at)",
        loans,
        "",
    )
    .await?;
    with_tx!(tx, c => {
        sqlx::query("UPDATE devices SET state = 'prete', state_since = (SELECT MAX(l.given_on) FROM loans l WHERE l.device_id = devices.id AND l.returned_on IS NULL) WHERE collectivite_id = $1 AND id IN (SELECT device_id FROM loans WHERE collectivite_id = $1 AND kind = 'eleve' AND returned_on IS NULL)").bind(cid).execute(&mut *c).await?;
        sqlx::query("UPDATE devices SET state = 'en_reparation', state_since = (SELECT MAX(l.returned_on) FROM loans l WHERE l.device_id = devices.id AND l.return_state = 'ecran_casse') WHERE collectivite_id = $1 AND id IN (SELECT device_id FROM loans WHERE collectivite_id = $1 AND return_state = 'ecran_casse' AND returned_on >= $2)").bind(cid).bind(start).execute(&mut *c).await?;
        sqlx::query("INSERT INTO device_events (device_id, occurred_at, kind, actor, detail) SELECT device_id, created_at, 'loan', 'démo', '{\"kind\": \"' || kind || '\"}' FROM loans WHERE collectivite_id = $1").bind(cid).execute(&mut *c).await?;
        sqlx::query("INSERT INTO device_events (device_id, occurred_at, kind, actor, detail) SELECT device_id, updated_at, 'return', 'démo', '{\"kind\": \"' || kind || '\", \"state\": \"' || return_state || '\"}' FROM loans WHERE collectivite_id = $1 AND returned_on IS NOT NULL").bind(cid).execute(&mut *c).await?;
    });
    Ok(())
}
