//! Benchmark of the assistance pages against the running binary: the ticket queue page
//! and `/api/v1/tickets` with many tickets and many simultaneous users, and the monthly
//! SLA report of a contract with thousands of tickets in the month.
//!
//! ```sh
//! cargo build --release --examples
//! # 1. A demo commune with 100 000 tickets, 10 000 of them in March 2026 (SQLite here;
//! #    --database-url postgres://… for PostgreSQL), and sessions and tokens to use:
//! target/release/examples/ticketbench seed --data-dir /tmp/tb --tickets 100000 \
//!     --month 2026-03 --in-month 10000 --credentials /tmp/tb/credentials.txt
//! # 2. The server on that database:
//! target/release/preau --data-dir /tmp/tb serve --listen 127.0.0.1:8088 &
//! # 3. 200 users (each a connection, a session or a token, a pause of about a second
//! #    between clicks), then the report:
//! target/release/examples/ticketbench load --addr 127.0.0.1:8088 \
//!     --credentials /tmp/tb/credentials.txt --users 200 --seconds 30 --month 2026-03
//! ```
//!
//! `--think-ms 0` removes the pauses: every user clicks again as soon as it is answered,
//! which measures the server's throughput rather than what users see.

#[path = "support/http.rs"]
mod http;

use chrono::{Datelike, NaiveDate, Utc};
use http::{Conn, arg, quantile};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn month_days(month: &str) -> Vec<NaiveDate> {
    let first = NaiveDate::parse_from_str(&format!("{month}-01"), "%Y-%m-%d")
        .unwrap_or_else(|_| panic!("--month YYYY-MM, not {month}"));
    (0..31)
        .map(|i| first + chrono::Duration::days(i))
        .filter(|d| d.month() == first.month())
        .filter(|d| d.weekday().num_days_from_monday() < 5)
        .collect()
}

async fn seed(args: &[String]) -> anyhow::Result<()> {
    let data = std::path::PathBuf::from(
        arg(args, "--data-dir").unwrap_or_else(|| "./ticketbench-data".into()),
    );
    let db = preau_core::Db::open(arg(args, "--database-url").as_deref(), &data).await?;
    db.migrate().await?;
    preau_core::demo::load_if_empty(&db, chrono::Utc::now()).await?;
    let total: usize = arg(args, "--tickets")
        .map(|v| v.parse().expect("--tickets N"))
        .unwrap_or(100_000);
    let month = arg(args, "--month").unwrap_or_else(|| "2026-03".into());
    let in_month: usize = arg(args, "--in-month")
        .map(|v| v.parse().expect("--in-month N"))
        .unwrap_or(10_000);
    let have: i64 = preau_core::with_db!(&db, p => sqlx::query_scalar("SELECT COUNT(*) FROM tickets").fetch_one(p).await?);
    let started = Instant::now();
    if (have as usize) < total {
        let add = total - have as usize;
        let n = preau_core::demo::bench_tickets(
            &db,
            add,
            &month_days(&month),
            in_month.min(add),
            Utc::now(),
        )
        .await?;
        println!(
            "{n} tickets ({add} added in {:.1} s)",
            started.elapsed().as_secs_f64()
        );
    } else {
        println!("{have} tickets already");
    }
    // The planner's statistics after a bulk load (the server keeps them current later).
    db.analyze().await?;
    // Sessions for the pages and tokens for the API, one per role.
    let mut lines = Vec::new();
    for login in [
        "admin",
        "technicien",
        "prestataire",
        "directeur",
        "enseignant",
    ] {
        let u = preau_core::users::find_by_login(&db, login)
            .await?
            .expect("demo user");
        let s = preau_core::users::auth::create_session(&db, u.id, Utc::now()).await?;
        let sys = preau_domain::Principal::system(u.collectivite_id, "ticketbench");
        let token = preau_core::write_tx!(db, tx => preau_core::users::auth::create_token(tx, &sys, u.id, "ticketbench", chrono::Utc::now()).await?)?;
        lines.push(format!("{login} {} {token}", s.id));
    }
    let out = arg(args, "--credentials")
        .unwrap_or_else(|| data.join("credentials.txt").display().to_string());
    std::fs::write(&out, lines.join("\n") + "\n")?;
    println!("credentials in {out}");
    db.close().await;
    Ok(())
}

struct User {
    login: String,
    cookie: String,
    bearer: String,
}

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    QueuePage,
    QueuePageAll,
    ApiOpen,
    ApiAll,
    ApiNextPage,
}

impl Kind {
    fn label(self) -> &'static str {
        match self {
            Kind::QueuePage => "GET /tickets (open, the queue)",
            Kind::QueuePageAll => "GET /tickets?status=all",
            Kind::ApiOpen => "GET /api/v1/tickets",
            Kind::ApiAll => "GET /api/v1/tickets?status=all",
            Kind::ApiNextPage => "GET /api/v1/tickets?status=all&cursor=…",
        }
    }
}

async fn load(args: &[String]) -> anyhow::Result<()> {
    let addr = arg(args, "--addr").unwrap_or_else(|| "127.0.0.1:8080".into());
    let users_n: usize = arg(args, "--users")
        .map(|v| v.parse().expect("--users N"))
        .unwrap_or(200);
    let seconds: u64 = arg(args, "--seconds")
        .map(|v| v.parse().expect("--seconds N"))
        .unwrap_or(30);
    let think: u64 = arg(args, "--think-ms")
        .map(|v| v.parse().expect("--think-ms N"))
        .unwrap_or(1000);
    let creds = std::fs::read_to_string(arg(args, "--credentials").expect("--credentials FILE"))?;
    let users: Vec<User> = creds
        .lines()
        .filter_map(|l| {
            let mut f = l.split_whitespace();
            Some(User {
                login: f.next()?.to_string(),
                cookie: format!("preau_session={}", f.next()?),
                bearer: format!("Bearer {}", f.next()?),
            })
        })
        .collect();
    anyhow::ensure!(
        !users.is_empty(),
        "no credentials: run `ticketbench seed` first"
    );
    let users = Arc::new(users);
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut workers = Vec::new();
    for i in 0..users_n {
        let (users, addr) = (users.clone(), addr.clone());
        workers.push(tokio::spawn(async move {
            let u = &users[i % users.len()];
            let mut conn = Conn::open(&addr).await.expect("connect");
            let mut seen: Vec<(Kind, Duration, u16)> = Vec::new();
            let mut cursor: Option<String> = None;
            let mut n = i as u64;
            // Spread the first clicks over one think time.
            tokio::time::sleep(Duration::from_millis(think * (i as u64 % 100) / 100)).await;
            while Instant::now() < deadline {
                n = n
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let kind = match (n >> 33) % 5 {
                    0 => Kind::QueuePage,
                    1 => Kind::QueuePageAll,
                    2 => Kind::ApiOpen,
                    3 => Kind::ApiAll,
                    _ => Kind::ApiNextPage,
                };
                let path = match kind {
                    Kind::QueuePage => "/tickets".to_string(),
                    Kind::QueuePageAll => "/tickets?status=all".to_string(),
                    Kind::ApiOpen => "/api/v1/tickets".to_string(),
                    Kind::ApiAll => "/api/v1/tickets?status=all&limit=50".to_string(),
                    Kind::ApiNextPage => match &cursor {
                        Some(c) => format!("/api/v1/tickets?status=all&limit=50&cursor={c}"),
                        None => "/api/v1/tickets?status=all&limit=50".to_string(),
                    },
                };
                let header = match kind {
                    Kind::QueuePage | Kind::QueuePageAll => ("Cookie", u.cookie.as_str()),
                    _ => ("Authorization", u.bearer.as_str()),
                };
                let t = Instant::now();
                let r = conn.request("GET", &path, &[header], b"").await;
                let took = t.elapsed();
                let (status, body) = match r {
                    Ok(r) => r,
                    Err(_) => {
                        conn = Conn::open(&addr).await.expect("reconnect");
                        (0, Vec::new())
                    }
                };
                if matches!(kind, Kind::ApiAll | Kind::ApiNextPage) {
                    cursor = serde_json::from_slice::<serde_json::Value>(&body)
                        .ok()
                        .and_then(|v| v["next"].as_str().map(str::to_string));
                }
                seen.push((kind, took, status));
                if think > 0 {
                    let jitter = (n >> 20) % think.max(1);
                    tokio::time::sleep(Duration::from_millis(think / 2 + jitter)).await;
                }
            }
            (u.login.clone(), seen)
        }));
    }
    let mut by_kind: BTreeMap<Kind, Vec<Duration>> = BTreeMap::new();
    let mut errors = 0;
    let mut total = 0;
    for w in workers {
        let (login, seen) = w.await?;
        for (k, d, status) in seen {
            total += 1;
            if status != 200 {
                errors += 1;
                if errors < 5 {
                    eprintln!("{login}: {} answered {status}", k.label());
                }
            }
            by_kind.entry(k).or_default().push(d);
        }
    }
    println!(
        "# {users_n} users, {seconds} s, pause {think} ms between clicks: {total} requests ({:.0}/s), {errors} errors",
        total as f64 / seconds as f64
    );
    println!("| request | n | p50 ms | p95 ms | p99 ms | max ms |");
    println!("|---|---:|---:|---:|---:|---:|");
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let mut all = Vec::new();
    for (k, mut v) in by_kind {
        v.sort();
        println!(
            "| {} | {} | {:.1} | {:.1} | {:.1} | {:.1} |",
            k.label(),
            v.len(),
            ms(quantile(&v, 0.5)),
            ms(quantile(&v, 0.95)),
            ms(quantile(&v, 0.99)),
            ms(*v.last().unwrap_or(&Duration::ZERO))
        );
        all.extend(v);
    }
    all.sort();
    println!(
        "| all | {} | {:.1} | {:.1} | {:.1} | {:.1} |",
        all.len(),
        ms(quantile(&all, 0.5)),
        ms(quantile(&all, 0.95)),
        ms(quantile(&all, 0.99)),
        ms(*all.last().unwrap_or(&Duration::ZERO))
    );
    // The monthly report, computed by the server five times in a row.
    if let (Some(month), Some(admin)) = (
        arg(args, "--month"),
        users.iter().find(|u| u.login == "admin"),
    ) {
        let mut conn = Conn::open(&addr).await?;
        let (_, body) = conn
            .request(
                "GET",
                "/api/v1/contracts",
                &[("Authorization", &admin.bearer)],
                b"",
            )
            .await?;
        let v: serde_json::Value = serde_json::from_slice(&body)?;
        let contract = v["items"][0]["id"].as_i64().expect("a contract");
        let mut times = Vec::new();
        let mut tickets = 0;
        for _ in 0..5 {
            let t = Instant::now();
            let (status, body) = conn
                .request(
                    "GET",
                    &format!("/api/v1/contracts/{contract}/sla-report?month={month}"),
                    &[("Authorization", &admin.bearer)],
                    b"",
                )
                .await?;
            times.push(t.elapsed());
            anyhow::ensure!(status == 200, "report: HTTP {status}");
            let v: serde_json::Value = serde_json::from_slice(&body)?;
            tickets = v["lots"]
                .as_array()
                .map(|l| {
                    l.iter()
                        .map(|x| x["tickets"].as_i64().unwrap_or(0))
                        .sum::<i64>()
                })
                .unwrap_or(0);
        }
        times.sort();
        println!(
            "\nmonthly SLA report, {month}, {tickets} tickets of the contract: median {:.0} ms, worst {:.0} ms (5 runs)",
            ms(times[2]),
            ms(times[4])
        );
        let t = Instant::now();
        let (status, _) = conn
            .request(
                "GET",
                &format!("/reports/sla?contract={contract}&month={month}"),
                &[("Cookie", &admin.cookie)],
                b"",
            )
            .await?;
        println!(
            "the report's page: HTTP {status} in {:.0} ms",
            ms(t.elapsed())
        );
    }
    if errors > 0 {
        std::process::exit(1);
    }
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("seed") => seed(&args).await,
        Some("load") => load(&args).await,
        _ => {
            eprintln!(
                "usage: ticketbench seed [--data-dir D | --database-url U] [--tickets N] [--month YYYY-MM] [--in-month N] [--credentials F]\n       ticketbench load --addr HOST:PORT --credentials F [--users N] [--seconds S] [--think-ms MS] [--month YYYY-MM]"
            );
            std::process::exit(2);
        }
    }
}
