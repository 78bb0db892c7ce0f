//! The demo commune's links: business fibre (FTTO) in most schools, two schools on VDSL
//! with a 4G backup, one operator and its contract (a 4-hour GTR, where outage tickets
//! go); a few speed tests and a year of outages; and one
//! élémentaire whose agents have been silent for three class days, judged offline as soon
//! as the demo is loaded (and online again when one of its agents reports); the Wi-Fi
//! register, with two access points not in order.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use preau_domain::Principal;
use preau_domain::calendar::Span;
use preau_domain::connectivity::LinkInput;
use preau_domain::sla::{CalendarKind, ContractorHours, PenaltyUnit, SlaLine};
use preau_domain::ticket::Priority;

use crate::db::{Db, Tx};
use crate::error::{AppError, AppResult};
use crate::with_tx;
use crate::{connectivity, contracts};

pub async fn load(tx: &mut Tx, sys: &Principal, now: DateTime<Utc>) -> AppResult<()> {
    let cid = sys.collectivite_id;
    let operator = crate::users::create_contractor(tx, sys, "Orange Business (démo)", now).await?;
    let schools: Vec<i64> = with_tx!(tx, c => {
        sqlx::query_scalar("SELECT id FROM schools WHERE collectivite_id = $1 ORDER BY id").bind(cid).fetch_all(&mut *c).await?
    });
    for (i, school) in schools.iter().enumerate() {
        let vdsl = i == 4 || i == 9;
        let link =
            |technology: &str, role: &str, down: &str, up: &str, price: &str, line: String| {
                LinkInput {
                    technology: technology.into(),
                    role: role.into(),
                    operator_id: operator.to_string(),
                    contract_ref: "MARCHE-RESEAU-2024-03".into(),
                    line_number: line,
                    down_mbps: down.into(),
                    up_mbps: up.into(),
                    monthly_price: price.into(),
                    commissioned_on: if vdsl {
                        "2016-09-01".into()
                    } else {
                        "2024-06-15".into()
                    },
                }
            };
        let mut links = vec![if vdsl {
            link(
                "vdsl",
                "principal",
                "50",
                "8",
                "45",
                format!("0139{:06}", 100_000 + i),
            )
        } else {
            link(
                "ftto",
                "principal",
                "200",
                "200",
                "390",
                format!("FTTO-78208-{:03}", i + 1),
            )
        }];
        if vdsl {
            links.push(link(
                "4g5g",
                "secours",
                "100",
                "20",
                "35",
                format!("0612{:06}", 300_000 + i),
            ));
        }
        for l in links {
            let l = l.check().map_err(AppError::Invalid)?;
            connectivity::add_link(tx, sys, *school, &l, now).await?;
        }
        let (down, up) = if vdsl {
            ("38,5", "6,9")
        } else {
            ("187", "192")
        };
        connectivity::add_speed_test(
            tx,
            sys,
            *school,
            down,
            up,
            now - Duration::days(40 + i as i64),
        )
        .await?;
    }
    // The operator's contract: its lot holds the schools' internet access, with a 4-hour
    // GTR on the operator's hours; outage tickets go there.
    let contract = contracts::create(
        tx,
        sys,
        &contracts::ValidContract {
            contractor_id: operator,
            reference: "MARCHE-RESEAU-2024-03".into(),
            title: "Accès internet et réseau des écoles".into(),
            starts_on: NaiveDate::from_ymd_opt(2024, 6, 1).unwrap_or_default(),
            ends_on: NaiveDate::from_ymd_opt(2028, 5, 31).unwrap_or_default(),
            calendar: CalendarKind::Prestataire,
            hours: ContractorHours::usual(),
        },
        now,
    )
    .await?;
    let lot = contracts::lot_create(
        tx,
        sys,
        contract.id,
        &contracts::ValidLot {
            number: 1,
            label: "Accès internet des écoles (lien principal et secours)".into(),
            cap_ticket_cents: Some(100_000),
            cap_month_cents: Some(500_000),
        },
        now,
    )
    .await?;
    let line = |gti: i64, gtr: Span, unit, gti_cents, gtr_cents| SlaLine {
        gti: Some(Span::Minutes(gti)),
        gtr: Some(gtr),
        unit,
        gti_penalty_cents: gti_cents,
        gtr_penalty_cents: gtr_cents,
    };
    let grid = vec![
        (
            Priority::P1,
            line(60, Span::Minutes(240), PenaltyUnit::Heure, 5_000, 10_000),
        ),
        (
            Priority::P2,
            line(240, Span::Days(1), PenaltyUnit::Jour, 5_000, 10_000),
        ),
        (
            Priority::P3,
            line(480, Span::Days(3), PenaltyUnit::Jour, 2_000, 5_000),
        ),
    ];
    contracts::set_grid(tx, sys, lot.id, &grid, now).await?;
    // The Wi-Fi register: each access point switched off by a switch in its room (or by
    // the controller), covering its room, the conseil d'école told a month before it was
    // installed — except one whose way of being switched off nobody wrote down and one
    // the conseil learnt of after the fact.
    let points: Vec<(i64, Option<i64>, Option<chrono::NaiveDate>)> = with_tx!(tx, c => {
        sqlx::query_as("SELECT d.id, d.room_id, d.purchase_date FROM devices d JOIN device_categories k ON k.id = d.category_id WHERE d.collectivite_id = $1 AND k.has_wifi_switch = TRUE AND d.school_id IS NOT NULL ORDER BY d.id")
            .bind(cid).fetch_all(&mut *c).await?
    });
    for (n, (id, room, bought)) in points.iter().enumerate() {
        let method = if n % 3 == 0 {
            "controleur"
        } else {
            "interrupteur"
        };
        let informed = match n {
            1 => bought.map(|b| b + Duration::days(60)),
            _ => bought.map(|b| b - Duration::days(30)),
        };
        with_tx!(tx, c => {
            sqlx::query("UPDATE devices SET wifi_switchable = $1, wifi_switch_method = $2, council_informed_on = $3 WHERE id = $4")
                .bind(true).bind(if n == 0 { None } else { Some(method) }).bind(informed).bind(id).execute(&mut *c).await?;
            if let Some(r) = room {
                sqlx::query("INSERT INTO access_point_rooms (device_id, room_id) VALUES ($1, $2)").bind(id).bind(r).execute(&mut *c).await?;
            }
        });
    }
    // A year of outages on the VDSL schools: a class morning now and then, from 8:45 to
    // 11:15 on a day the school had class, counted on its calendar.
    for (k, i) in [4usize, 9, 4, 9, 4].iter().enumerate() {
        let Some(school) = schools.get(*i) else {
            continue;
        };
        let cal = crate::calendar::of_school_in_tx(tx, *school).await?;
        let mut day = preau_domain::paris::day(now) - Duration::days(30 + 61 * k as i64);
        for _ in 0..60 {
            if cal.is_working_day(day) {
                break;
            }
            day -= Duration::days(1);
        }
        let at = |h, m| {
            preau_domain::paris::instant(day.and_hms_opt(h, m, 0).unwrap_or_default())
                .unwrap_or(now)
        };
        let (start, end) = (at(8, 45), at(11, 15));
        let minutes = cal.working_minutes(start, end);
        with_tx!(tx, c => {
            sqlx::query("INSERT INTO outages (school_id, started_at, ended_at, class_minutes) VALUES ($1, $2, $3, $4)")
                .bind(school).bind(start).bind(end).bind(minutes).execute(&mut *c).await?;
        });
    }
    Ok(())
}

/// After the demo is committed: the last élémentaire falls silent three class days before
/// `now` (on its own calendar), and the first pass judges every school.
pub async fn silence(db: &Db, cid: i64, now: DateTime<Utc>) -> AppResult<()> {
    let school: Option<i64> = crate::with_db!(db, pool => {
        sqlx::query_scalar("SELECT id FROM schools WHERE collectivite_id = $1 AND kind = 'elementaire' ORDER BY id DESC LIMIT 1").bind(cid).fetch_optional(pool).await?
    });
    let Some(school) = school else { return Ok(()) };
    let calendars = crate::calendar::by_school(db, Some(cid)).await?;
    if let Some(cal) = calendars.get(&school) {
        // Back from today, three class days.
        let mut day = preau_domain::paris::day(now);
        let mut counted = 0;
        while counted < 3 && day > preau_domain::paris::day(now) - Duration::days(120) {
            day -= Duration::days(1);
            if cal.is_working_day(day) {
                counted += 1;
            }
        }
        let at = preau_domain::paris::instant(day.and_hms_opt(16, 30, 0).unwrap_or_default())
            .unwrap_or(now);
        crate::with_db!(db, pool => {
            sqlx::query("UPDATE devices SET last_inventory_at = $1 WHERE school_id = $2 AND last_inventory_at IS NOT NULL")
                .bind(at).bind(school).execute(pool).await?;
        });
    }
    connectivity::pass(db, now).await?;
    Ok(())
}
