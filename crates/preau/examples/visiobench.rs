//! Benchmark of visio planning: a weekly series for each of 200 classes over the whole
//! school year, its sessions generated on each school's calendar (one transaction per
//! series, as the directeur's form does), then the readiness pass of a class day's eve
//! (every session of the next day checked, a ticket opened per room not ready, the school
//! and the speaker told), and the readiness read of a month of sessions.
//!
//! ```sh
//! cargo build --release --examples
//! target/release/examples/visiobench --data-dir /tmp/vb
//! target/release/examples/visiobench --database-url postgres://postgres@127.0.0.1/bench --runs 20
//! ```
//!
//! The demo commune has 125 classes this year: the benchmark adds classes to its schools
//! (in their classrooms) until there are `--classes` (200).

#[path = "support/demo_db.rs"]
mod demo_db;
#[path = "support/http.rs"]
#[allow(dead_code)] // the HTTP client is for the benchmarks against the running binary
mod http;

use chrono::{Datelike, Duration as Days, NaiveDate, Utc};
use http::{arg, quantile};
use preau_core::visio::{self, SeriesPlace};
use std::time::{Duration, Instant};

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let db = demo_db::open(&args, "./visiobench-data", 30).await?;
    let wanted: usize = arg(&args, "--classes").map_or(200, |v| v.parse().expect("--classes N"));
    let runs: usize = arg(&args, "--runs").map_or(20, |v| v.parse().expect("--runs N"));
    let now = Utc::now();
    let today = preau_domain::paris::day(now);
    let (year, first, last): (i64, NaiveDate, NaiveDate) = preau_core::with_db!(&db, p => {
        sqlx::query_as("SELECT id, starts_on, ends_on FROM school_years WHERE starts_on <= $1 AND ends_on >= $1 ORDER BY starts_on DESC LIMIT 1").bind(today).fetch_one(p).await?
    });
    // Classes of the year with a room, added in the schools' classrooms up to `wanted`.
    let count = |db: preau_core::Db| async move {
        let n: i64 = preau_core::with_db!(&db, p => sqlx::query_scalar("SELECT COUNT(*) FROM classes WHERE school_year_id = $1 AND room_id IS NOT NULL").bind(year).fetch_one(p).await?);
        anyhow::Ok(n as usize)
    };
    let have = count(db.clone()).await?;
    if have < wanted {
        let rooms: Vec<(i64, i64)> = preau_core::with_db!(&db, p => {
            sqlx::query_as("SELECT school_id, id FROM rooms WHERE kind = 'classe' ORDER BY school_id, id").fetch_all(p).await?
        });
        let mut tx = db.begin().await?;
        for k in 0..(wanted - have) {
            let (school, room) = rooms[k % rooms.len()];
            preau_core::with_tx!(&mut tx, c => {
                sqlx::query("INSERT INTO classes (school_id, school_year_id, label, levels, head_count, room_id, created_at, updated_at) VALUES ($1, $2, $3, 'CM1', 24, $4, $5, $5)")
                    .bind(school).bind(year).bind(format!("Banc {k}")).bind(room).bind(now).execute(&mut *c).await?;
            });
        }
        tx.commit().await?;
    }
    let classes: Vec<(i64, i64)> = preau_core::with_db!(&db, p => {
        sqlx::query_as("SELECT id, room_id FROM classes WHERE school_year_id = $1 AND room_id IS NOT NULL ORDER BY id LIMIT $2").bind(year).bind(wanted as i64).fetch_all(p).await?
    });
    let admin = {
        let u = preau_core::users::find_by_login(&db, "admin")
            .await?
            .expect("the demo's administrator");
        preau_core::users::principal(&db, u.id)
            .await?
            .expect("its roles")
    };
    let programme: i64 = preau_core::with_db!(&db, p => sqlx::query_scalar("SELECT MIN(id) FROM visio_programmes").fetch_one(p).await?);
    let before: i64 = preau_core::with_db!(&db, p => sqlx::query_scalar("SELECT COUNT(*) FROM visio_sessions").fetch_one(p).await?);
    // A year of sessions: from the first day of the school year, so that none is skipped
    // as past.
    let start = preau_domain::paris::at(first, 7, 0);
    let mut each = Vec::with_capacity(classes.len());
    let t = Instant::now();
    for (k, (class, room)) in classes.iter().enumerate() {
        let weekday = [1, 2, 4, 5][k % 4];
        let series = preau_domain::visio::SeriesInput {
            weekday: weekday.to_string(),
            start: format!("{}:{:02}", 9 + (k % 6), 15),
            duration_min: "45".into(),
            from: first.to_string(),
            to: last.to_string(),
            link: "https://visio.education.fr/meeting/bench".into(),
        }
        .check()
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        let at = SeriesPlace {
            programme_id: programme,
            class_id: *class,
            room_id: *room,
            intervenant_id: None,
        };
        let one = Instant::now();
        let mut tx = db.begin().await?;
        visio::create_series(&mut tx, &admin, &at, &series, start).await?;
        tx.commit().await?;
        each.push(one.elapsed());
    }
    let total = t.elapsed();
    let after: i64 = preau_core::with_db!(&db, p => sqlx::query_scalar("SELECT COUNT(*) FROM visio_sessions").fetch_one(p).await?);
    each.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "generated {} sessions for {} classes over {first}..{last} in {:.2} s (a series: p50 {:.1} ms, p99 {:.1} ms)",
        after - before,
        classes.len(),
        total.as_secs_f64(),
        ms(quantile(&each, 0.50)),
        ms(quantile(&each, 0.99)),
    );
    // The readiness pass of the eve of the next class day that has sessions: 16:00 that
    // day before. Each run forgets the previous run's checks; the first also opens tickets.
    let next: NaiveDate = preau_core::with_db!(&db, p => {
        sqlx::query_scalar("SELECT MIN(planned_on) FROM visio_sessions WHERE status = 'prevue' AND planned_on > $1").bind(today + Days::days(1)).fetch_one(p).await?
    });
    let eve = visio::eve_check(
        &preau_core::calendar::of_school(&db, classes_school(&db, classes[0].0).await?).await?,
        next,
    ) + Days::minutes(1);
    let mut times = Vec::with_capacity(runs);
    let mut checked = 0;
    let mut first_run = None;
    for k in 0..runs {
        preau_core::with_db!(&db, p => {
            sqlx::query("UPDATE visio_sessions SET checked_eve_at = NULL, checked_last_at = NULL WHERE planned_on = $1").bind(next).execute(p).await?;
        });
        let t = Instant::now();
        let pass = visio::readiness_pass(&db, eve).await?;
        let took = t.elapsed();
        if k == 0 {
            first_run = Some((took, pass));
        } else {
            times.push(took);
        }
        checked = pass.checked;
    }
    times.sort();
    if let Some((took, pass)) = first_run {
        println!(
            "readiness pass on the eve of {next} ({}): {} sessions checked, {} not ready, {} tickets opened, first run {:.1} ms",
            next.weekday(),
            pass.checked,
            pass.not_ready,
            pass.tickets,
            ms(took)
        );
    }
    println!(
        "readiness pass again ({checked} sessions, {} runs): p50 {:.1} ms, p99 {:.1} ms",
        times.len(),
        ms(quantile(&times, 0.50)),
        ms(quantile(&times, 0.99)),
    );
    // The readiness of a month of sessions, as the sessions list and the API read it.
    type Place = (i64, i64, i64, chrono::DateTime<Utc>, chrono::DateTime<Utc>);
    let places: Vec<Place> = preau_core::with_db!(&db, p => {
        sqlx::query_as("SELECT id, room_id, school_id, starts_at, ends_at FROM visio_sessions WHERE planned_on >= $1 AND planned_on < $2").bind(next).bind(next + Days::days(30)).fetch_all(p).await?
    });
    let places: Vec<visio::SessionPlace> = places
        .into_iter()
        .map(
            |(id, room_id, school_id, starts_at, ends_at)| visio::SessionPlace {
                id,
                room_id,
                school_id,
                starts_at,
                ends_at,
            },
        )
        .collect();
    let mut reads = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t = Instant::now();
        let r = visio::session_readiness(&db, &places).await?;
        reads.push(t.elapsed());
        assert_eq!(r.len(), places.len());
    }
    reads.sort();
    println!(
        "readiness of a month's {} sessions ({runs} reads): p50 {:.1} ms, p99 {:.1} ms",
        places.len(),
        ms(quantile(&reads, 0.50)),
        ms(quantile(&reads, 0.99)),
    );
    Ok(())
}

async fn classes_school(db: &preau_core::Db, class: i64) -> anyhow::Result<i64> {
    Ok(
        preau_core::with_db!(db, p => sqlx::query_scalar("SELECT school_id FROM classes WHERE id = $1").bind(class).fetch_one(p).await?),
    )
}
