//! The demo commune: an Elancourt-sized, entirely fictitious commune loaded with
//! `preau serve --demo`. Deterministic: the same data on every run and both databases.
//! It goes through the same use cases as the UI, so the audit log shows its creation.

use chrono::{DateTime, NaiveDate, Utc};
use preau_domain::org::{
    CollectiviteKind, HolidayZone, RoomKind, SchoolKind, SchoolStatus, SchoolWeek,
};
use preau_domain::{Principal, Role, Uai};

use crate::classes::ValidClass;
use crate::db::Db;
use crate::error::AppResult;
use crate::rooms::ValidRoom;
use crate::schools::ValidSchool;
use crate::users::UserInput;
use crate::years::ValidSchoolYear;

mod bookings;
mod connectivity;
mod fleet;
mod pupils;
mod steering;
mod tickets;
mod visio;
use crate::{classes, collectivites, rooms, schools, users, years};

pub const COLLECTIVITE: &str = "Commune de Val-d'Élancourt (démo)";
pub const PASSWORD: &str = "demo";
/// The demo collectivité's inventory-agent login (its secret is `PASSWORD`).
pub const AGENT_LOGIN: &str = "agent";

/// The demo logins and what each is, as printed at start.
pub const LOGINS: &[(&str, &str)] = &[
    ("admin", "administrateur de la commune"),
    ("elu", "adjoint au maire chargé de l'éducation"),
    ("technicien", "technicien de terrain, 23 écoles"),
    ("prestataire", "prestataire de maintenance"),
    ("directeur", "directrice de la première école"),
    ("enseignant", "enseignant de la première école"),
    ("erun", "ERUN de la circonscription"),
];

const SCHOOLS: &[(&str, SchoolKind, &str)] = &[
    (
        "École maternelle Les Coquelicots",
        SchoolKind::Maternelle,
        "2 rue des Coquelicots",
    ),
    (
        "École élémentaire Jean-Jaurès",
        SchoolKind::Elementaire,
        "5 avenue Jean-Jaurès",
    ),
    (
        "École maternelle Les Tilleuls",
        SchoolKind::Maternelle,
        "1 allée des Tilleuls",
    ),
    (
        "École élémentaire Victor-Hugo",
        SchoolKind::Elementaire,
        "12 rue Victor-Hugo",
    ),
    (
        "École maternelle La Clef-de-Saint-Pierre",
        SchoolKind::Maternelle,
        "3 place de la Clef",
    ),
    (
        "École élémentaire Jacques-Prévert",
        SchoolKind::Elementaire,
        "8 rue Jacques-Prévert",
    ),
    (
        "École maternelle Les Nouettes",
        SchoolKind::Maternelle,
        "4 chemin des Nouettes",
    ),
    (
        "École élémentaire Louise-Michel",
        SchoolKind::Elementaire,
        "20 rue Louise-Michel",
    ),
    (
        "École maternelle Le Petit-Prince",
        SchoolKind::Maternelle,
        "6 square Saint-Exupéry",
    ),
    (
        "École élémentaire Marie-Curie",
        SchoolKind::Elementaire,
        "15 boulevard Marie-Curie",
    ),
    (
        "École maternelle Les Quatre-Saisons",
        SchoolKind::Maternelle,
        "9 rue des Saisons",
    ),
    (
        "École élémentaire Jules-Ferry",
        SchoolKind::Elementaire,
        "1 place Jules-Ferry",
    ),
    (
        "École maternelle Les Petits-Prés",
        SchoolKind::Maternelle,
        "11 rue des Prés",
    ),
    (
        "École élémentaire Anne-Frank",
        SchoolKind::Elementaire,
        "7 allée Anne-Frank",
    ),
    (
        "École maternelle Le Berceau",
        SchoolKind::Maternelle,
        "2 rue du Berceau",
    ),
    (
        "École élémentaire Pablo-Picasso",
        SchoolKind::Elementaire,
        "30 avenue Picasso",
    ),
    (
        "École maternelle Les Côtes",
        SchoolKind::Maternelle,
        "5 rue des Côtes",
    ),
    (
        "École élémentaire Willy-Brandt",
        SchoolKind::Elementaire,
        "18 rue Willy-Brandt",
    ),
    (
        "École maternelle Les Réaux",
        SchoolKind::Maternelle,
        "10 chemin des Réaux",
    ),
    (
        "École élémentaire Simone-Veil",
        SchoolKind::Elementaire,
        "22 rue Simone-Veil",
    ),
    (
        "École élémentaire Paul-Éluard",
        SchoolKind::Elementaire,
        "3 rue Paul-Éluard",
    ),
    (
        "École primaire La Villedieu",
        SchoolKind::Primaire,
        "1 rue de la Villedieu",
    ),
    (
        "École primaire Les Petits-Chênes",
        SchoolKind::Primaire,
        "14 rue des Chênes",
    ),
];

const TEACHERS: &[&str] = &[
    "Mme Martin",
    "M. Bernard",
    "Mme Dubois",
    "M. Thomas",
    "Mme Robert",
    "Mme Richard",
    "M. Petit",
    "Mme Durand",
    "M. Leroy",
    "Mme Moreau",
    "Mme Simon",
    "M. Laurent",
    "Mme Lefebvre",
    "M. Michel",
    "Mme Garcia",
    "M. David",
    "Mme Bertrand",
    "Mme Roux",
    "M. Vincent",
    "Mme Fournier",
    "M. Morel",
    "Mme Girard",
    "M. André",
    "Mme Mercier",
];

/// A demo login, its display name and its roles (school index: `usize::MAX` for all).
type DemoUser = (&'static str, &'static str, &'static [(Role, Option<usize>)]);

/// A small deterministic generator (a linear congruential one) for head counts.
pub(crate) struct Lcg(pub(crate) u64);
impl Lcg {
    pub(crate) fn next(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

/// Loads the demo commune if the database holds no collectivité yet. Returns whether it
/// loaded anything.
pub async fn load_if_empty(db: &Db, now: DateTime<Utc>) -> AppResult<bool> {
    if !collectivites::list_all(db).await?.is_empty() {
        return Ok(false);
    }
    load_named(db, COLLECTIVITE, now).await?;
    Ok(true)
}

/// Loads the demo commune under another name beside what the database holds (the tests
/// of isolation between collectivités build a second one so). Its users and agents have
/// the demo's logins and password: give them others before signing in as either.
pub async fn load_named(db: &Db, name: &str, now: DateTime<Utc>) -> AppResult<i64> {
    let started = std::time::Instant::now();
    let mut tx = db.begin().await?;
    let cid =
        collectivites::create(&mut tx, CollectiviteKind::Commune, name, Some("78208"), now).await?;
    let sys = Principal::system(cid, "demo");
    let y2025 = years::create(
        &mut tx,
        &sys,
        &ValidSchoolYear {
            label: "2025-2026".into(),
            starts_on: NaiveDate::from_ymd_opt(2025, 9, 1).unwrap_or_default(),
            ends_on: NaiveDate::from_ymd_opt(2026, 7, 3).unwrap_or_default(),
        },
        now,
    )
    .await?;
    let y2026 = years::create(
        &mut tx,
        &sys,
        &ValidSchoolYear {
            label: "2026-2027".into(),
            starts_on: NaiveDate::from_ymd_opt(2026, 9, 1).unwrap_or_default(),
            ends_on: NaiveDate::from_ymd_opt(2027, 7, 3).unwrap_or_default(),
        },
        now,
    )
    .await?;
    let mut rng = Lcg(2004);
    let mut school_ids = Vec::new();
    let mut teacher = 0usize;
    for (i, (name, kind, address)) in SCHOOLS.iter().enumerate() {
        let school = schools::create(
            &mut tx,
            &sys,
            &ValidSchool {
                uai: Uai::from_digits(781_410 + i as u32 * 37),
                name: (*name).into(),
                kind: *kind,
                address: Some((*address).into()),
                postal_code: Some("78990".into()),
                city: Some("Val-d'Élancourt".into()),
                holiday_zone: HolidayZone::C,
                status: SchoolStatus::Active,
                week: Some(SchoolWeek::Quatre),
            },
            now,
        )
        .await?;
        school_ids.push(school.id);
        let levels: &[&str] = match kind {
            SchoolKind::Maternelle => &["PS", "MS", "GS", "PS-MS", "MS-GS"],
            SchoolKind::Primaire => &["MS-GS", "CP", "CE1", "CE2", "CM1", "CM2", "CE2-CM1"],
            _ => &["CP", "CE1", "CE2", "CM1", "CM2", "CE1-CE2", "CM1-CM2"],
        };
        // 4 to 7 classrooms: 125 in all for the 23 schools.
        let n_classes = match kind {
            SchoolKind::Maternelle => 4,
            SchoolKind::Primaire => 7,
            _ => 6 + usize::from(i % 4 == 1),
        };
        for (kind, name) in [
            (RoomKind::BureauDirection, "Bureau de direction"),
            (RoomKind::SalleDesMaitres, "Salle des maîtres"),
        ] {
            rooms::create(
                &mut tx,
                &sys,
                school.id,
                &ValidRoom {
                    kind,
                    name: name.into(),
                    building: None,
                    floor: Some("RDC".into()),
                },
                now,
            )
            .await?;
        }
        if *kind != SchoolKind::Maternelle {
            rooms::create(
                &mut tx,
                &sys,
                school.id,
                &ValidRoom {
                    kind: RoomKind::Bcd,
                    name: "BCD".into(),
                    building: None,
                    floor: Some("RDC".into()),
                },
                now,
            )
            .await?;
        }
        for c in 0..n_classes {
            let room = rooms::create(
                &mut tx,
                &sys,
                school.id,
                &ValidRoom {
                    kind: RoomKind::Classe,
                    name: format!("Classe {}", c + 1),
                    building: None,
                    floor: Some(if c < 3 { "RDC" } else { "1er étage" }.into()),
                },
                now,
            )
            .await?;
            let level = levels[c % levels.len()];
            let base = if *kind == SchoolKind::Maternelle {
                20
            } else {
                21
            };
            for (year, offset) in [(y2025.id, 1), (y2026.id, 0)] {
                // The demo teacher teaches the first school's second class this year.
                let teacher_name = if i == 0 && c == 1 && offset == 0 {
                    "M. Enseignant"
                } else {
                    TEACHERS[(teacher + offset) % TEACHERS.len()]
                };
                classes::create(
                    &mut tx,
                    &sys,
                    school.id,
                    &ValidClass {
                        school_year_id: year,
                        label: format!("{level} — {teacher_name}"),
                        levels: level.into(),
                        head_count: base + rng.next(7) as i64,
                        teacher_name: Some(teacher_name.into()),
                        room_id: Some(room.id),
                    },
                    now,
                )
                .await?;
            }
            teacher += 1;
        }
    }
    let contractor =
        users::create_contractor(&mut tx, &sys, "Armor Services Numériques (démo)", now).await?;
    let people: &[DemoUser] = &[
        ("admin", "Claire Admin", &[(Role::Administrateur, None)]),
        ("elu", "Bruno Élu", &[(Role::Elu, None)]),
        (
            "technicien",
            "Karim Technicien",
            &[(Role::Technicien, Some(usize::MAX))],
        ),
        (
            "prestataire",
            "Paul Prestataire",
            &[(Role::Prestataire, None)],
        ),
        (
            "directeur",
            "Sophie Directrice",
            &[(Role::Directeur, Some(0))],
        ),
        (
            "enseignant",
            "Luc Enseignant",
            &[(Role::Enseignant, Some(0))],
        ),
        ("erun", "Nadia ERUN", &[(Role::Erun, Some(usize::MAX - 1))]),
    ];
    for (login, name, roles) in people {
        let u = users::create(
            &mut tx,
            &sys,
            &UserInput {
                login: (*login).into(),
                display_name: (*name).into(),
                email: Some(format!("{login}@demo.preau.invalid")),
                // The demo password is shorter than the rule allows; it is set below directly.
                password: "demo-password-placeholder".into(),
                lang: Some("fr".into()),
            },
            now,
        )
        .await?;
        users::force_password(&mut tx, u.id, PASSWORD, now).await?;
        for (role, school) in *roles {
            let targets: Vec<i64> = match school {
                None => vec![],
                Some(usize::MAX) => school_ids.clone(),
                Some(x) if *x == usize::MAX - 1 => school_ids[..12].to_vec(),
                Some(i) => vec![school_ids[*i]],
            };
            match role {
                Role::Prestataire => {
                    users::add_role(&mut tx, &sys, u.id, *role, None, Some(contractor), now).await?
                }
                _ if targets.is_empty() => {
                    users::add_role(&mut tx, &sys, u.id, *role, None, None, now).await?
                }
                _ => {
                    for s in targets {
                        users::add_role(&mut tx, &sys, u.id, *role, Some(s), None, now).await?;
                    }
                }
            }
        }
    }
    crate::inventory::agents::store(&mut tx, &sys, AGENT_LOGIN, PASSWORD, now).await?;
    tracing::info!(
        ms = started.elapsed().as_millis() as u64,
        "demo organisation and users created"
    );
    let today = preau_domain::paris::day(now);
    fleet::load(&mut tx, cid, today).await?;
    tickets::load(&mut tx, &sys, contractor, now).await?;
    let t = std::time::Instant::now();
    pupils::load(&mut tx, &sys).await?;
    tracing::info!(
        ms = t.elapsed().as_millis() as u64,
        "demo pupils and loans loaded"
    );
    steering::load(&mut tx, &sys, now).await?;
    steering::load_money(&mut tx, &sys, now).await?;
    connectivity::load(&mut tx, &sys, now).await?;
    visio::load(&mut tx, &sys, now).await?;
    bookings::load(&mut tx, &sys, now).await?;
    tx.commit().await?;
    connectivity::silence(db, cid, now).await?;
    Ok(cid)
}

/// The ONDE export the demo generated for a school and year (tests re-import it).
pub use pupils::onde_export;

/// Adds schools and devices to the demo commune, for benchmarks (see
/// `examples/coveragebench.rs`).
pub use steering::bench as bench_coverage;

/// Adds tickets to the demo commune, for benchmarks (see `examples/ticketbench.rs`).
pub use tickets::bench as bench_tickets;
