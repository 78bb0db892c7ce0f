//! The demo commune's assistance: a maintenance contract with two lots held by the demo
//! contractor (interactive displays and projection; computers and tablets), and a
//! school year of tickets with realistic categories, priorities, delays, waits on the
//! school, and a few breached deadlines, so that the queue, the SLA report and the
//! ticket pages show real content. Deterministic for a given day.
//!
//! The contract goes through the use cases (audited like any other); the tickets are
//! written in bulk, their clocks computed by the same `preau_domain::sla` functions
//! tickets use, so that a demo start stays quick.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use preau_domain::calendar::{Calendar, Span, WeekHours};
use preau_domain::paris;
use preau_domain::sla::{self, CalendarKind, ContractorHours, PenaltyUnit, SlaLine};
use preau_domain::ticket::{Priority, TicketCategory};
use preau_domain::{Principal, text};
use serde_json::json;
use std::collections::HashMap;

use crate::contracts::{self, ValidContract, ValidLot};
use crate::db::{Param, Tx, insert_rows};
use crate::demo::Lcg;
use crate::error::AppResult;
use crate::with_tx;

/// Tickets per year in the demo: about 26 per school, what a commune this size logs.
const TICKETS: usize = 600;

const LOT1: &[&str] = &["tni", "vpi", "eni", "videoprojecteur", "visualiseur"];
const LOT2: &[&str] = &[
    "poste_enseignant",
    "portable",
    "pc_fixe",
    "tablette",
    "classe_mobile",
];

const PROBLEMS: &[(TicketCategory, &[&str])] = &[
    (
        TicketCategory::Ecran,
        &[
            "Le stylet ne répond plus, le tableau est décalé d'environ 2 cm",
            "L'image est jaune et très sombre, la lampe doit être en fin de vie",
            "Le vidéoprojecteur s'éteint tout seul au bout de 10 minutes",
            "L'écran reste noir, le voyant clignote en orange",
            "Le son du TNI ne fonctionne plus",
        ],
    ),
    (
        TicketCategory::Ordinateur,
        &[
            "L'ordinateur de la classe est très lent au démarrage",
            "Le portable ne charge plus",
            "Impossible de me connecter à ma session",
            "Mises à jour bloquées depuis une semaine",
        ],
    ),
    (
        TicketCategory::Tablette,
        &[
            "Trois tablettes ne se chargent plus dans le chariot",
            "Écran de tablette fissuré",
            "L'application de lecture a disparu des tablettes",
            "Le chariot de recharge ne ferme plus à clé",
        ],
    ),
    (
        TicketCategory::Reseau,
        &[
            "Plus d'internet dans toute l'école depuis ce matin",
            "Le Wi-Fi coupe dans la classe du fond",
            "La borne Wi-Fi reste allumée malgré l'interrupteur",
        ],
    ),
    (
        TicketCategory::Imprimante,
        &[
            "L'imprimante de la salle des maîtres affiche « bourrage papier »",
            "Plus de toner noir",
        ],
    ),
    (
        TicketCategory::SonVisio,
        &["La caméra ne fonctionne pas pour la visio d'anglais"],
    ),
    (
        TicketCategory::Autre,
        &["Le robot Bee-Bot ne s'allume plus"],
    ),
];

const REPORTERS: &[&str] = &[
    "Mme Martin",
    "M. Bernard",
    "Mme Dubois",
    "M. Thomas",
    "Mme Robert",
    "Mme Richard",
    "M. Petit",
    "Mme Durand",
];

const FIXES: &[&str] = &[
    "Recalibrage effectué, le stylet est de nouveau précis.",
    "Lampe remplacée, image nette.",
    "Câble d'alimentation changé.",
    "Mise à jour appliquée, poste redémarré.",
    "Pièce remplacée sous garantie.",
    "Réglage refait avec l'enseignante.",
];

fn grid(gti_h: i64, p1_gti: i64, p1_gtr: i64, p2: i64) -> Vec<(Priority, SlaLine)> {
    vec![
        (
            Priority::P1,
            SlaLine {
                gti: Some(Span::Minutes(gti_h * 60)),
                gtr: Some(Span::Days(1)),
                unit: PenaltyUnit::Heure,
                gti_penalty_cents: p1_gti,
                gtr_penalty_cents: p1_gtr,
            },
        ),
        (
            Priority::P2,
            SlaLine {
                gti: Some(Span::Days(1)),
                gtr: Some(Span::Days(3)),
                unit: PenaltyUnit::Jour,
                gti_penalty_cents: p2 / 2,
                gtr_penalty_cents: p2,
            },
        ),
        (
            Priority::P3,
            SlaLine {
                gti: Some(Span::Days(5)),
                gtr: None,
                unit: PenaltyUnit::Jour,
                gti_penalty_cents: 3_000,
                gtr_penalty_cents: 0,
            },
        ),
        (
            Priority::P4,
            SlaLine {
                gti: None,
                gtr: None,
                unit: PenaltyUnit::Jour,
                gti_penalty_cents: 0,
                gtr_penalty_cents: 0,
            },
        ),
    ]
}

/// The contract, its lots, and a year of tickets up to `now`.
pub async fn load(
    tx: &mut Tx,
    sys: &Principal,
    contractor: i64,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let cid = sys.collectivite_id;
    let today = paris::day(now);
    let start = NaiveDate::from_ymd_opt(2025, 9, 1).unwrap_or(today);
    let contract = contracts::create(
        tx,
        sys,
        &ValidContract {
            contractor_id: contractor,
            reference: "2025-014".into(),
            title: "Maintenance des équipements numériques des écoles (accord-cadre)".into(),
            starts_on: start.min(today - Duration::days(400)),
            ends_on: NaiveDate::from_ymd_opt(2028, 8, 31).unwrap_or(today),
            calendar: CalendarKind::Ecole,
            hours: ContractorHours::usual(),
        },
        now,
    )
    .await?;
    let categories: HashMap<String, i64> = with_tx!(tx, c => {
        sqlx::query_as::<_, (String, i64)>("SELECT code, id FROM device_categories WHERE collectivite_id = $1").bind(cid).fetch_all(&mut *c).await?
    })
    .into_iter()
    .collect();
    let school_ids: Vec<i64> = with_tx!(tx, c => {
        sqlx::query_scalar("SELECT id FROM schools WHERE collectivite_id = $1 ORDER BY id").bind(cid).fetch_all(&mut *c).await?
    });
    let mut lots = Vec::new();
    for (n, label, codes, g, cap_t, cap_m) in [
        (
            1,
            "Affichage interactif et vidéoprojection",
            LOT1,
            grid(4, 5_000, 8_000, 15_000),
            50_000,
            300_000,
        ),
        (
            2,
            "Ordinateurs, tablettes et classes mobiles",
            LOT2,
            grid(8, 3_000, 5_000, 10_000),
            40_000,
            250_000,
        ),
    ] {
        let lot = contracts::lot_create(
            tx,
            sys,
            contract.id,
            &ValidLot {
                number: n,
                label: label.into(),
                cap_ticket_cents: Some(cap_t),
                cap_month_cents: Some(cap_m),
            },
            now,
        )
        .await?;
        contracts::set_grid(tx, sys, lot.id, &g, now).await?;
        let cats: Vec<i64> = codes
            .iter()
            .filter_map(|c| categories.get(*c).copied())
            .collect();
        contracts::set_perimeter(tx, sys, lot.id, &school_ids, &cats, now).await?;
        lots.push((
            lot.id,
            codes.iter().map(|c| c.to_string()).collect(),
            g,
            cap_t,
        ));
    }
    let tech: Option<i64> = with_tx!(tx, c => {
        sqlx::query_scalar("SELECT id FROM users WHERE login = 'technicien' AND collectivite_id = $1").bind(cid).fetch_optional(&mut *c).await?
    });
    tickets(tx, cid, &lots, now, TICKETS, None, 2025).await?;
    let closures = crate::calendar::closures_in_tx(tx, preau_domain::org::HolidayZone::C).await?;
    let cal = Calendar::school(WeekHours::four_days(), closures);
    interventions(tx, cid, &cal, now, tech).await
}

/// A lot as the generator uses it: id, device categories, grid, cap per ticket.
type DemoLot = (i64, Vec<String>, Vec<(Priority, SlaLine)>, i64);

/// Writes `count` tickets opened on `days` (by default the school days of the past
/// year), numbered after the collectivité's last.
async fn tickets(
    tx: &mut Tx,
    cid: i64,
    lots: &[DemoLot],
    now: DateTime<Utc>,
    count: usize,
    days: Option<&[NaiveDate]>,
    seed: u64,
) -> AppResult<()> {
    let mut rng = Lcg(seed);
    let today = paris::day(now);
    let first_number: i64 = with_tx!(tx, c => {
        sqlx::query_scalar("SELECT ticket_seq FROM collectivites WHERE id = $1").bind(cid).fetch_one(&mut *c).await?
    });
    let closures = crate::calendar::closures_in_tx(tx, preau_domain::org::HolidayZone::C).await?;
    let cal = Calendar::school(WeekHours::four_days(), closures);
    let schools: Vec<(i64, String)> = with_tx!(tx, c => {
        sqlx::query_as("SELECT id, name FROM schools WHERE collectivite_id = $1 ORDER BY id").bind(cid).fetch_all(&mut *c).await?
    });
    let devices: Vec<(i64, i64, Option<i64>, String)> = with_tx!(tx, c => {
        sqlx::query_as("SELECT d.id, d.school_id, d.room_id, k.code FROM devices d JOIN device_categories k ON k.id = d.category_id WHERE d.collectivite_id = $1 AND d.school_id IS NOT NULL AND d.state NOT IN ('perdu', 'vole', 'reforme') ORDER BY d.id").bind(cid).fetch_all(&mut *c).await?
    });
    let rooms: Vec<(i64, i64, String)> = with_tx!(tx, c => {
        sqlx::query_as("SELECT r.id, r.school_id, r.name FROM rooms r JOIN schools s ON s.id = r.school_id WHERE s.collectivite_id = $1 AND r.kind = 'classe' ORDER BY r.id").bind(cid).fetch_all(&mut *c).await?
    });
    let users: HashMap<String, (i64, String)> = with_tx!(tx, c => {
        sqlx::query_as::<_, (String, i64, String)>("SELECT login, id, display_name FROM users WHERE collectivite_id = $1").bind(cid).fetch_all(&mut *c).await?
    })
    .into_iter()
    .map(|(l, id, n)| (l, (id, n)))
    .collect();
    let tech = users.get("technicien").cloned();
    let presta = users.get("prestataire").cloned();
    let teacher = users.get("enseignant").cloned();
    let room_name: HashMap<i64, String> = rooms.iter().map(|(id, _, n)| (*id, n.clone())).collect();

    // School days of the past year, to open tickets on.
    let days: Vec<NaiveDate> = match days {
        Some(d) => d.to_vec(),
        None => (1..=365)
            .map(|i| today - Duration::days(i))
            .filter(|d| cal.is_working_day(*d))
            .collect(),
    };
    if days.is_empty() || schools.is_empty() {
        return Ok(());
    }
    let mut ticket_rows = Vec::new();
    let mut plans = Vec::new();
    for i in 0..count {
        // Recent days get a little more (the queue has live tickets); older ones spread.
        let day = if i % 9 == 0 {
            days[rng.next(days.len().min(12) as u64) as usize]
        } else {
            days[rng.next(days.len() as u64) as usize]
        };
        let opened = paris::at(day, 8 + rng.next(8) as u32, rng.next(60) as u32);
        let opened = cal.next_working_moment(opened);
        if opened >= now {
            continue;
        }
        let roll = rng.next(100);
        let category = match roll {
            0..=34 => TicketCategory::Ecran,
            35..=54 => TicketCategory::Ordinateur,
            55..=74 => TicketCategory::Tablette,
            75..=86 => TicketCategory::Reseau,
            87..=94 => TicketCategory::Imprimante,
            95..=97 => TicketCategory::SonVisio,
            _ => TicketCategory::Autre,
        };
        let priority = match rng.next(100) {
            0..=19 => Priority::P1,
            20..=74 => Priority::P2,
            _ => Priority::P3,
        };
        let (school, school_name) = schools[rng.next(schools.len() as u64) as usize].clone();
        // A device of that kind in the school, in a classroom if possible.
        let wanted = category.device_categories();
        let candidates: Vec<&(i64, i64, Option<i64>, String)> = devices
            .iter()
            .filter(|d| d.1 == school && wanted.contains(&d.3.as_str()))
            .collect();
        let device = (!candidates.is_empty() && category != TicketCategory::Reseau)
            .then(|| candidates[rng.next(candidates.len() as u64) as usize]);
        let room = device.and_then(|d| d.2).or_else(|| {
            let rs: Vec<&(i64, i64, String)> = rooms.iter().filter(|r| r.1 == school).collect();
            (!rs.is_empty() && category != TicketCategory::Reseau)
                .then(|| rs[rng.next(rs.len() as u64) as usize].0)
        });
        let lot = device.and_then(|d| lots.iter().find(|l| l.1.contains(&d.3)));
        let line = match lot {
            Some(l) => {
                l.2.iter()
                    .find(|(p, _)| *p == priority)
                    .map(|(_, l)| l.clone())
            }
            None => contracts::default_grid()
                .into_iter()
                .find(|(p, _)| *p == priority)
                .map(|(_, l)| l),
        }
        .unwrap_or(SlaLine {
            gti: None,
            gtr: None,
            unit: PenaltyUnit::Heure,
            gti_penalty_cents: 0,
            gtr_penalty_cents: 0,
        });
        let problems = PROBLEMS
            .iter()
            .find(|(c, _)| *c == category)
            .map(|(_, p)| *p)
            .unwrap_or(&[]);
        let description = problems
            .get(rng.next(problems.len().max(1) as u64) as usize)
            .copied()
            .unwrap_or("")
            .to_string();
        let (reporter_id, reporter_name) =
            match (&teacher, school == schools[0].0 && rng.next(3) == 0) {
                (Some((id, name)), true) => (Some(*id), name.clone()),
                _ => (
                    None,
                    format!(
                        "{} (école)",
                        REPORTERS[rng.next(REPORTERS.len() as u64) as usize]
                    ),
                ),
            };
        // The life of the ticket: taken after a while (now and then too late), resolved
        // later (sometimes after waiting on the school), then confirmed or auto-closed.
        let gti_minutes = match line.gti {
            Some(Span::Minutes(m)) => m,
            Some(Span::Days(d)) => d * 330,
            None => 600,
        };
        let late = rng.next(100) < 9;
        let take_after = if late {
            gti_minutes + 30 + rng.next(300) as i64
        } else {
            10 + rng.next((gti_minutes * 7 / 10).max(20) as u64) as i64
        };
        let taken = cal.add_minutes(opened, take_after, &[]);
        let waits = rng.next(100) < 15;
        let pause = waits.then(|| {
            let a = cal.add_minutes(taken, 30, &[]);
            (a, cal.add_minutes(a, 120 + rng.next(600) as i64, &[]))
        });
        let gtr_minutes = match line.gtr {
            Some(Span::Minutes(m)) => m,
            Some(Span::Days(d)) => d * 330,
            None => 5 * 330,
        };
        let fix_after = if rng.next(100) < 8 {
            gtr_minutes + 60 + rng.next(900) as i64
        } else {
            take_after + 20 + rng.next((gtr_minutes * 8 / 10).max(60) as u64) as i64
        };
        let pauses: Vec<(DateTime<Utc>, DateTime<Utc>)> = pause.into_iter().collect();
        let resolved = cal.add_minutes(opened, fix_after, &pauses);
        let (status, taken_at, resolved_at, closed_at, open_pause) = if taken > now {
            ("nouveau", None, None, None, false)
        } else if pause.is_some_and(|(a, b)| a <= now && now < b) {
            ("attente_ecole", Some(taken), None, None, true)
        } else if resolved > now {
            (
                if rng.next(2) == 0 {
                    "en_cours"
                } else {
                    "pris_en_charge"
                },
                Some(taken),
                None,
                None,
                false,
            )
        } else {
            let close = cal.deadline(resolved, Span::Days(5), &[]);
            if close <= now {
                (
                    "clos",
                    Some(taken),
                    Some(resolved),
                    Some(close.min(now)),
                    false,
                )
            } else {
                ("resolu", Some(taken), Some(resolved), None, false)
            }
        };
        let pauses_open: Vec<(DateTime<Utc>, Option<DateTime<Utc>>)> = pause
            .filter(|(a, _)| *a <= now)
            .map(|(a, b)| (a, if open_pause { None } else { Some(b) }))
            .into_iter()
            .collect();
        let clocks = sla::clocks(
            &cal,
            &line,
            &sla::TicketTimes {
                opened_at: opened,
                taken_at,
                resolved_at,
                pauses: &pauses_open,
            },
            now,
        );
        let number = first_number + i as i64 + 1;
        let title = match room.and_then(|r| room_name.get(&r)) {
            Some(r) => format!("{} — {r}", category.label(preau_domain::Lang::Fr)),
            None => category.label(preau_domain::Lang::Fr).to_string(),
        };
        let assignee = match (lot, taken_at) {
            (Some(_), Some(_)) => presta.as_ref().map(|p| p.0),
            (Some(_), None) => None,
            (None, _) => tech.as_ref().map(|t| t.0),
        };
        let lot_id = lot.map(|l| l.0);
        let cap = lot.map(|l| l.3);
        let at_risk = clocks.gti.as_ref().is_some_and(|s| s.at_risk)
            || clocks.gtr.as_ref().is_some_and(|s| s.at_risk);
        ticket_rows.push(vec![
            Param::I64(cid),
            Param::I64(number),
            Param::I64(school),
            Param::OptI64(room),
            Param::Text(category.code().into()),
            Param::Text(priority.code().into()),
            Param::Text(status.into()),
            Param::Text(title.clone()),
            Param::Text(description.clone()),
            Param::OptI64(reporter_id),
            Param::Text(reporter_name.clone()),
            Param::OptI64(assignee),
            Param::OptI64(lot_id),
            Param::OptText(line.gti.map(|s| s.code())),
            Param::OptText(line.gtr.map(|s| s.code())),
            Param::Text(line.unit.code().into()),
            Param::I64(line.gti_penalty_cents),
            Param::I64(line.gtr_penalty_cents),
            Param::OptI64(cap),
            Param::Text(CalendarKind::Ecole.code().into()),
            Param::Text("1,2,3,4,5;08:00;18:00".into()),
            Param::Time(opened),
            Param::Time(opened),
            Param::OptTime(taken_at),
            Param::OptTime(resolved_at),
            Param::OptTime(closed_at),
            Param::OptTime(clocks.gti.as_ref().map(|s| s.due)),
            Param::OptTime(clocks.gtr.as_ref().map(|s| s.due)),
            Param::Bool(clocks.gti.as_ref().is_some_and(|s| s.breached)),
            Param::Bool(clocks.gtr.as_ref().is_some_and(|s| s.breached)),
            Param::Bool(at_risk),
            Param::Text(text::search_key(&format!("{number} {title} {description}"))),
            Param::Time(closed_at.or(resolved_at).or(taken_at).unwrap_or(opened)),
        ]);
        plans.push((
            number,
            school_name,
            device.map(|d| d.0),
            opened,
            taken_at,
            pauses_open,
            resolved_at,
            closed_at,
            status,
            reporter_id,
            reporter_name,
            lot.is_some(),
        ));
    }
    insert_rows(
        tx,
        "INSERT INTO tickets (collectivite_id, number, school_id, room_id, category, priority, status, title, description, reporter_user_id, reporter_name, assignee_user_id, lot_id, sla_gti, sla_gtr, sla_unit, sla_gti_penalty_cents, sla_gtr_penalty_cents, sla_cap_cents, sla_calendar, sla_hours, opened_at, sla_start_at, taken_at, resolved_at, closed_at, gti_due_at, gtr_due_at, gti_breached, gtr_breached, at_risk, search_key, updated_at)",
        ticket_rows,
        "",
    )
    .await?;
    let last = plans.iter().map(|p| p.0).max().unwrap_or(first_number);
    with_tx!(tx, c => {
        sqlx::query("UPDATE collectivites SET ticket_seq = $1 WHERE id = $2").bind(last).bind(cid).execute(&mut *c).await?;
    });
    let ids: HashMap<i64, i64> = with_tx!(tx, c => {
        sqlx::query_as::<_, (i64, i64)>("SELECT number, id FROM tickets WHERE collectivite_id = $1 AND number > $2").bind(cid).bind(first_number).fetch_all(&mut *c).await?
    })
    .into_iter()
    .collect();
    let mut events = Vec::new();
    let mut devices_rows = Vec::new();
    let mut pause_rows = Vec::new();
    let ev = |id: i64,
              at: DateTime<Utc>,
              actor: Option<&(i64, String)>,
              name: &str,
              kind: &str,
              public: bool,
              body: Option<String>,
              detail: serde_json::Value| {
        vec![
            Param::I64(id),
            Param::Time(at),
            Param::OptI64(actor.map(|a| a.0)),
            Param::Text(
                actor
                    .map(|a| a.1.clone())
                    .unwrap_or_else(|| name.to_string()),
            ),
            Param::Text(kind.into()),
            Param::Bool(public),
            Param::OptText(body),
            Param::Text(detail.to_string()),
        ]
    };
    for (
        number,
        _school,
        device,
        opened,
        taken,
        pauses,
        resolved,
        closed,
        status,
        reporter_id,
        reporter_name,
        to_lot,
    ) in plans
    {
        let Some(&id) = ids.get(&number) else {
            continue;
        };
        let reporter = reporter_id.map(|r| (r, reporter_name.clone()));
        events.push(ev(
            id,
            opened,
            reporter.as_ref(),
            &reporter_name,
            "created",
            true,
            None,
            json!({"route": if to_lot { "perimeter" } else { "school_technician" }}),
        ));
        let handler = if to_lot {
            presta.as_ref()
        } else {
            tech.as_ref()
        };
        if let Some(t) = taken {
            events.push(ev(id, t, handler, "", "taken", true, None, json!({})));
        }
        for (a, b) in &pauses {
            pause_rows.push(vec![
                Param::I64(id),
                Param::Time(*a),
                Param::OptTime(*b),
                Param::Text("attente_ecole".into()),
            ]);
            events.push(ev(
                id,
                *a,
                handler,
                "",
                "status",
                true,
                Some("Nous passons jeudi à 16 h 30 : merci de laisser la salle ouverte.".into()),
                json!({"from": "pris_en_charge", "to": "attente_ecole"}),
            ));
            if let Some(b) = b {
                events.push(ev(
                    id,
                    *b,
                    handler,
                    "",
                    "status",
                    true,
                    None,
                    json!({"from": "attente_ecole", "to": "en_cours"}),
                ));
            }
        }
        if let Some(r) = resolved {
            let fix = FIXES[(number as usize) % FIXES.len()];
            events.push(ev(
                id,
                r,
                handler,
                "",
                "status",
                true,
                Some(fix.into()),
                json!({"from": "en_cours", "to": "resolu"}),
            ));
        }
        if let (Some(c), "clos") = (closed, status) {
            if number % 3 == 0 {
                events.push(ev(
                    id,
                    c,
                    None,
                    "Préau",
                    "closed_auto",
                    true,
                    None,
                    json!({}),
                ));
            } else {
                events.push(ev(
                    id,
                    c,
                    reporter.as_ref(),
                    &reporter_name,
                    "confirmed",
                    true,
                    None,
                    json!({}),
                ));
            }
        }
        if let Some(d) = device {
            devices_rows.push(vec![Param::I64(id), Param::I64(d)]);
        }
    }
    insert_rows(
        tx,
        "INSERT INTO ticket_events (ticket_id, occurred_at, actor_user_id, actor_name, kind, public, body, detail)",
        events,
        "",
    )
    .await?;
    insert_rows(
        tx,
        "INSERT INTO ticket_devices (ticket_id, device_id)",
        devices_rows,
        "",
    )
    .await?;
    insert_rows(
        tx,
        "INSERT INTO ticket_pauses (ticket_id, started_at, ended_at, reason)",
        pause_rows,
        "",
    )
    .await?;
    Ok(())
}

/// Adds `total` tickets to the demo commune for benchmarks: `in_month` of them opened on
/// the school days of `month_days`, the rest over the past year; in transactions of a
/// few thousand. Returns how many tickets the commune then has.
pub async fn bench(
    db: &crate::db::Db,
    total: usize,
    month_days: &[NaiveDate],
    in_month: usize,
    now: DateTime<Utc>,
) -> AppResult<i64> {
    let cid: i64 = crate::with_db!(db, pool => {
        sqlx::query_scalar("SELECT id FROM collectivites WHERE name = $1").bind(crate::demo::COLLECTIVITE).fetch_one(pool).await?
    });
    let sys = Principal::system(cid, "bench");
    let cats = crate::inventory::categories::list(db, &sys).await?;
    let mut lots: Vec<DemoLot> = Vec::new();
    for c in contracts::list(db, &sys).await? {
        for l in contracts::get(db, &sys, c.id).await?.lots {
            let codes = cats
                .iter()
                .filter(|k| l.perimeter.iter().any(|(_, id)| *id == k.id))
                .map(|k| k.code.clone())
                .collect();
            lots.push((l.lot.id, codes, l.grid, l.lot.cap_ticket_cents.unwrap_or(0)));
        }
    }
    let batch = 2_000;
    let mut done = 0;
    let mut seed = 7;
    while done < total {
        let n = batch.min(total - done);
        let month = done < in_month;
        let n = if month { n.min(in_month - done) } else { n };
        seed += 1;
        crate::write_tx!(db, tx => {
            tickets(tx, cid, &lots, now, n, month.then_some(month_days), seed).await?;
        })?;
        done += n;
    }
    Ok(crate::with_db!(db, pool => {
        sqlx::query_scalar("SELECT COUNT(*) FROM tickets WHERE collectivite_id = $1").bind(cid).fetch_one(pool).await?
    }))
}

/// Visits: after class the day after a ticket was taken (one ticket in four), and for
/// tickets still open, the lunch break of the next school day.
async fn interventions(
    tx: &mut Tx,
    cid: i64,
    cal: &Calendar,
    now: DateTime<Utc>,
    tech: Option<i64>,
) -> AppResult<()> {
    type Row = (
        i64,
        i64,
        i64,
        Option<i64>,
        Option<i64>,
        DateTime<Utc>,
        String,
    );
    let rows: Vec<Row> = with_tx!(tx, c => {
        sqlx::query_as("SELECT id, number, school_id, lot_id, assignee_user_id, taken_at, status FROM tickets WHERE collectivite_id = $1 AND taken_at IS NOT NULL ORDER BY number").bind(cid).fetch_all(&mut *c).await?
    });
    let today = paris::day(now);
    let next_school_day = |from: NaiveDate| {
        (1..30)
            .map(|i| from + Duration::days(i))
            .find(|d| cal.is_working_day(*d))
            .unwrap_or(from + Duration::days(1))
    };
    for (id, number, school, lot, assignee, taken, status) in rows {
        let open = !matches!(status.as_str(), "resolu" | "clos");
        if !open && number % 4 != 0 {
            continue;
        }
        let (day, (h1, m1), (h2, m2)) = if open {
            (next_school_day(today), (11, 45), (13, 15))
        } else {
            (next_school_day(paris::day(taken)), (16, 45), (17, 45))
        };
        let (start, end) = (paris::at(day, h1, m1), paris::at(day, h2, m2));
        let state = if end < now { "realisee" } else { "planifiee" };
        let technician = if lot.is_some() {
            None
        } else {
            assignee.or(tech)
        };
        let iid: i64 = with_tx!(tx, c => {
            sqlx::query_scalar("INSERT INTO interventions (collectivite_id, school_id, starts_at, ends_at, technician_user_id, lot_id, status, notes, planned_by, version, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'démo', 1, $9, $9) RETURNING id")
                .bind(cid).bind(school).bind(start).bind(end).bind(technician).bind(lot).bind(state)
                .bind(if open { "Accès par le portail du parking, merci." } else { "" })
                .bind(taken)
                .fetch_one(&mut *c).await?
        });
        with_tx!(tx, c => {
            sqlx::query("INSERT INTO intervention_tickets (intervention_id, ticket_id) VALUES ($1, $2)").bind(iid).bind(id).execute(&mut *c).await?;
            if open && matches!(status.as_str(), "pris_en_charge" | "en_cours") {
                sqlx::query("UPDATE tickets SET status = 'planifie' WHERE id = $1").bind(id).execute(&mut *c).await?;
            }
        });
    }
    Ok(())
}
