//! The demo's English lessons by visio: a provider with three intervenants (`intervenant`,
//! `intervenant2`, `intervenant3`, password `demo`), the programme "Anglais avec un
//! locuteur natif" at 45 € a session held, a weekly 45-minute series for every CE2, CM1
//! and CM2 class of the year, its past sessions recorded (mostly held; a few lost to the
//! equipment, the network or an absent speaker; one school closed on a strike day), and a
//! session on the next class day in a room whose VPI has an urgent ticket open, so that it
//! shows not ready.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, Utc};
use preau_domain::visio::Series;
use preau_domain::{Principal, Role, paris};

use crate::db::Tx;
use crate::error::AppResult;
use crate::users::{self, UserInput};
use crate::visio::{self, SeriesPlace};
use crate::with_tx;

pub async fn load(tx: &mut Tx, sys: &Principal, now: DateTime<Utc>) -> AppResult<()> {
    let cid = sys.collectivite_id;
    let provider = users::create_contractor(tx, sys, "Native Voices (démo)", now).await?;
    let mut speakers = Vec::new();
    for (login, name) in [
        ("intervenant", "Emma Wilson"),
        ("intervenant2", "James O'Connor"),
        ("intervenant3", "Grace Taylor"),
    ] {
        let u = users::create(
            tx,
            sys,
            &UserInput {
                login: login.into(),
                display_name: name.into(),
                email: Some(format!("{login}@demo.preau.invalid")),
                password: "demo-password-placeholder".into(),
                lang: Some("fr".into()),
            },
            now,
        )
        .await?;
        users::force_password(tx, u.id, super::PASSWORD, now).await?;
        users::add_role(tx, sys, u.id, Role::Intervenant, None, Some(provider), now).await?;
        speakers.push(u.id);
    }
    let programme = visio::create_programme(
        tx,
        sys,
        "Anglais avec un locuteur natif",
        provider,
        Some(4_500),
        now,
    )
    .await?;
    let today = paris::day(now);
    let year: Option<(i64, NaiveDate, NaiveDate)> = with_tx!(tx, c => {
        sqlx::query_as("SELECT id, starts_on, ends_on FROM school_years WHERE collectivite_id = $1 AND starts_on <= $2 AND ends_on >= $2 ORDER BY starts_on DESC LIMIT 1")
            .bind(cid).bind(today).fetch_optional(&mut *c).await?
    });
    let Some((year, first_day, last_day)) = year else {
        return Ok(());
    };
    let classes: Vec<(i64, i64, i64)> = with_tx!(tx, c => {
        sqlx::query_as("SELECT c.id, c.school_id, c.room_id FROM classes c JOIN schools s ON s.id = c.school_id WHERE s.collectivite_id = $1 AND c.school_year_id = $2 AND c.room_id IS NOT NULL AND (c.levels LIKE '%CE2%' OR c.levels LIKE '%CM1%' OR c.levels LIKE '%CM2%') ORDER BY c.school_id, c.id")
            .bind(cid).bind(year).fetch_all(&mut *c).await?
    });
    let start_of_year = paris::at(first_day, 0, 0);
    let mut strike: Option<(i64, NaiveDate)> = None;
    // Each speaker's classes in slots of their own: four days, four times a day.
    let times = [(9, 0), (10, 15), (13, 45), (15, 0)];
    for (k, (class, school, room)) in classes.iter().enumerate() {
        let slot = k / speakers.len();
        let weekday = [1, 2, 4, 5][slot % 4];
        let (h, m) = times[(slot / 4) % times.len()];
        let at = SeriesPlace {
            programme_id: programme,
            class_id: *class,
            room_id: *room,
            intervenant_id: Some(speakers[k % speakers.len()]),
        };
        let s = Series {
            weekday,
            start: NaiveTime::from_hms_opt(h, m, 0).unwrap_or_default(),
            duration_min: 45,
            from: first_day,
            to: last_day,
            link: format!("https://visio.education.fr/meeting/anglais-{class}"),
        };
        let series = visio::insert_series(tx, *school, &at, &s, now).await?;
        visio::generate(tx, series, *school, &at, &s, start_of_year, now).await?;
        // The strike: a Thursday three weeks back at the first school with a Thursday series.
        if strike.is_none() && weekday == 4 {
            let mut day = today - Duration::days(21);
            while day.weekday().number_from_monday() != 4 {
                day -= Duration::days(1);
            }
            strike = Some((*school, day));
        }
    }
    // What became of the past sessions.
    let past: Vec<(i64, i64, DateTime<Utc>)> = with_tx!(tx, c => {
        sqlx::query_as("SELECT v.id, v.school_id, v.starts_at FROM visio_sessions v JOIN visio_series x ON x.id = v.series_id WHERE x.programme_id = $1 AND v.ends_at < $2 ORDER BY v.starts_at, v.id")
            .bind(programme).bind(now).fetch_all(&mut *c).await?
    });
    // Each speaker's last session before now is left to record, as on a Monday morning.
    let last_of: Vec<i64> = with_tx!(tx, c => {
        sqlx::query_scalar("SELECT MAX(v.id) FROM visio_sessions v JOIN visio_series x ON x.id = v.series_id WHERE x.programme_id = $1 AND v.ends_at < $2 AND v.intervenant_id IS NOT NULL GROUP BY v.intervenant_id")
            .bind(programme).bind(now).fetch_all(&mut *c).await?
    });
    for (k, (id, school, starts)) in past.iter().enumerate() {
        if last_of.contains(id) {
            continue;
        }
        let on_strike = strike.is_some_and(|(s, d)| s == *school && d == paris::day(*starts));
        let (status, reason, by, note) = if on_strike {
            ("annulee", Some("ecole_fermee"), Some("ecole"), "Grève")
        } else if k % 17 == 5 {
            (
                "non_tenue",
                Some("equipement"),
                None,
                "Le vidéoprojecteur ne s'allumait pas.",
            )
        } else if k % 23 == 11 {
            (
                "non_tenue",
                Some("reseau"),
                None,
                "La connexion coupait sans cesse.",
            )
        } else if k % 31 == 7 {
            (
                "annulee",
                Some("intervenant_absent"),
                Some("prestataire"),
                "",
            )
        } else {
            ("tenue", None, None, "")
        };
        with_tx!(tx, c => {
            sqlx::query("UPDATE visio_sessions SET status = $1, reason = $2, cancelled_by = $3, note = $4 WHERE id = $5")
                .bind(status).bind(reason).bind(by).bind(note).bind(id).execute(&mut *c).await?;
        });
    }
    if let Some((school, day)) = strike {
        with_tx!(tx, c => {
            sqlx::query("INSERT INTO school_closed_days (school_id, day, reason, declared_by, created_at) VALUES ($1, $2, 'Grève', 'directeur', $3)")
                .bind(school).bind(day).bind(now).execute(&mut *c).await?;
        });
    }
    not_ready_next(tx, sys, now).await
}

/// The next session of a class whose room's only display is a VPI: an urgent ticket on
/// that VPI.
async fn not_ready_next(tx: &mut Tx, sys: &Principal, now: DateTime<Utc>) -> AppResult<()> {
    let next: Option<(i64, i64, i64)> = with_tx!(tx, c => {
        sqlx::query_as("SELECT v.room_id, v.school_id, d.id FROM visio_sessions v JOIN devices d ON d.room_id = v.room_id JOIN device_categories k ON k.id = d.category_id WHERE d.collectivite_id = $2 AND k.code = 'vpi' AND d.state = 'en_service' AND v.status = 'prevue' AND v.starts_at > $1 AND (SELECT COUNT(*) FROM devices o JOIN device_categories ok ON ok.id = o.category_id WHERE o.room_id = v.room_id AND o.state = 'en_service' AND ok.code IN ('vpi', 'tni', 'eni', 'videoprojecteur', 'ecran_interactif')) = 1 ORDER BY v.starts_at, v.id LIMIT 1")
            .bind(now).bind(sys.collectivite_id).fetch_optional(&mut *c).await?
    });
    let Some((room, school, vpi)) = next else {
        return Ok(());
    };
    let v = crate::tickets::ValidTicket {
        school_id: Some(school),
        room_id: Some(room),
        device_ids: vec![vpi],
        category: preau_domain::ticket::TicketCategory::Ecran,
        priority: preau_domain::ticket::Priority::P1,
        title: Some("Le VPI ne s'allume plus".into()),
        description: "Plus d'image depuis ce matin, la lampe clignote orange.".into(),
    };
    crate::tickets::open(tx, sys, &v, now).await?;
    Ok(())
}
