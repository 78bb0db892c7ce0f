//! Benchmark of pupils and tablets against the running binary: importing a 3 000-pupil
//! ONDE export through the browser's preview and confirmation, re-importing it unchanged
//! and with changes, then many people scanning tablets on the bulk assignment screen.
//!
//! ```sh
//! cargo build --release --bin preau --examples
//! # 1. The demo commune, a school year to import into, 3 000 tablets in a school's stock,
//! #    and a session (the browser's cookie and CSRF token) for the administrator:
//! target/release/examples/pupilbench seed --data-dir /tmp/pb --credentials /tmp/pb/cred.txt
//! # 2. The server on that database:
//! target/release/preau --data-dir /tmp/pb serve --listen 127.0.0.1:8089 &
//! # 3. The import (3 000 pupils, 120 classes), then 20 people scanning, one scan every
//! #    two seconds each, for 30 seconds:
//! target/release/examples/pupilbench run --addr 127.0.0.1:8089 --data-dir /tmp/pb \
//!     --credentials /tmp/pb/cred.txt --users 20 --seconds 30 --think-ms 2000
//! ```
//!
//! (`--database-url postgres://…` on `seed`, `serve` and `run` for PostgreSQL.)

#[path = "support/http.rs"]
mod http;

use chrono::{NaiveDate, Utc};
use http::{Conn, arg, quantile};
use std::sync::Arc;
use std::time::{Duration, Instant};

const YEAR: &str = "2027-2028";
const STOCK: usize = 3_000;

async fn open(args: &[String]) -> anyhow::Result<preau_core::Db> {
    let data = std::path::PathBuf::from(
        arg(args, "--data-dir").unwrap_or_else(|| "./pupilbench-data".into()),
    );
    let db = preau_core::Db::open(arg(args, "--database-url").as_deref(), &data).await?;
    db.migrate().await?;
    Ok(db)
}

async fn seed(args: &[String]) -> anyhow::Result<()> {
    let db = open(args).await?;
    preau_core::demo::load_if_empty(&db, chrono::Utc::now()).await?;
    let admin = preau_core::users::find_by_login(&db, "admin")
        .await?
        .expect("demo admin");
    let sys = preau_domain::Principal::system(admin.collectivite_id, "pupilbench");
    let school: i64 = preau_core::with_db!(&db, p => sqlx::query_scalar("SELECT MIN(id) FROM schools WHERE kind = 'elementaire'").fetch_one(p).await?);
    let has_year: i64 = preau_core::with_db!(&db, p => sqlx::query_scalar("SELECT COUNT(*) FROM school_years WHERE label = $1").bind(YEAR).fetch_one(p).await?);
    if has_year == 0 {
        preau_core::write_tx!(db, tx => preau_core::years::create(tx, &sys, &preau_core::years::ValidSchoolYear {
            label: YEAR.into(),
            starts_on: NaiveDate::from_ymd_opt(2027, 9, 1).unwrap_or_default(),
            ends_on: NaiveDate::from_ymd_opt(2028, 7, 4).unwrap_or_default(),
        }, chrono::Utc::now()).await?)?;
    }
    // Tablets waiting in the school's stock for the new pupils, tagged BENCH-00001….
    let stocked: i64 = preau_core::with_db!(&db, p => sqlx::query_scalar("SELECT COUNT(*) FROM devices WHERE asset_tag LIKE 'BENCH-%'").fetch_one(p).await?);
    if stocked == 0 {
        let category: i64 = preau_core::with_db!(&db, p => sqlx::query_scalar("SELECT id FROM device_categories WHERE code = 'tablette' AND collectivite_id = $1").bind(admin.collectivite_id).fetch_one(p).await?);
        let now = Utc::now();
        let rows: Vec<Vec<preau_core::db::Param>> = (1..=STOCK)
            .map(|n| {
                use preau_core::db::Param;
                vec![
                    Param::I64(admin.collectivite_id),
                    Param::I64(category),
                    Param::I64(school),
                    Param::Text("en_stock".into()),
                    Param::Date(now.date_naive()),
                    Param::Text(format!("BENCH-{n:05}")),
                    Param::Text(format!("BSN{n:07}")),
                    Param::Text(format!("bench-{n:05}")),
                    Param::Time(now),
                    Param::Time(now),
                ]
            })
            .collect();
        preau_core::write_tx!(db, tx => preau_core::db::insert_rows(tx, "INSERT INTO devices (collectivite_id, category_id, school_id, state, state_since, asset_tag, serial, search_key, created_at, updated_at)", rows.clone(), "").await?)?;
    }
    db.analyze().await?;
    let s = preau_core::users::auth::create_session(&db, admin.id, Utc::now()).await?;
    let out = arg(args, "--credentials").expect("--credentials FILE");
    std::fs::write(&out, format!("{} {} {school}\n", s.id, s.csrf))?;
    println!("school {school}, year {YEAR}, {STOCK} tablets in stock; session in {out}");
    db.close().await;
    Ok(())
}

/// A 3 000-pupil export: 120 classes of 25, every column ONDE writes, Windows-1252.
fn onde_file(shift: usize) -> Vec<u8> {
    const FIRST: &[&str] = &[
        "Émile",
        "Jeanne",
        "Hugo",
        "Chloé",
        "Arthur",
        "Manon",
        "Jules",
        "Léa",
        "Louis",
        "Camille",
        "Raphaël",
        "Clémence",
        "Noé",
        "Inès",
        "Gabriel",
        "Zoé",
        "Adam",
        "Lina",
    ];
    let mut s = format!("{}\n", preau_domain::onde::EXPORT_HEADER);
    let levels = ["CP", "CE1", "CE2", "CM1", "CM2"];
    // Pupil `n` sits in the class of its place in the file: shifting the range moves
    // every pupil one class on.
    for i in 0..3_000 {
        let n = i + shift;
        let class = i / 25;
        let level = levels[class % levels.len()];
        s.push_str(&format!(
            "FAMILLE{n:05};;{};{:02}/{:02}/2017;F;07{n:08}K;{n} rue des Écoles;78990;Élancourt;FRANCE;;;;;CYCLE II;{level};{level} — classe {class:03};{class:05};Oui;Non;Oui;\n",
            FIRST[n % FIRST.len()],
            1 + n % 28,
            1 + n % 12,
        ));
    }
    let (bytes, _, _) = encoding_rs::WINDOWS_1252.encode(&s);
    bytes.into_owned()
}

fn multipart(csrf: &str, year: i64, file: &[u8]) -> (String, Vec<u8>) {
    let b = "----pupilbench-7MA4YWxkTrZu0gW";
    let mut body = Vec::new();
    for (name, value) in [
        ("csrf", csrf.to_string()),
        ("school_year_id", year.to_string()),
    ] {
        body.extend(
            format!("--{b}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
                .as_bytes(),
        );
    }
    body.extend(format!("--{b}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"onde.csv\"\r\nContent-Type: text/csv\r\n\r\n").as_bytes());
    body.extend(file);
    body.extend(format!("\r\n--{b}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={b}"), body)
}

fn between<'a>(text: &'a str, start: &str, end: &str) -> Option<&'a str> {
    text.split(start).nth(1).and_then(|s| s.split(end).next())
}

async fn import(
    conn: &mut Conn,
    cookie: &str,
    csrf: &str,
    school: i64,
    year: i64,
    file: &[u8],
    label: &str,
) -> anyhow::Result<()> {
    let (ctype, body) = multipart(csrf, year, file);
    let t = Instant::now();
    let (status, page) = conn
        .request(
            "POST",
            &format!("/schools/{school}/onde"),
            &[("Cookie", cookie), ("Content-Type", &ctype)],
            &body,
        )
        .await?;
    let preview = t.elapsed();
    let page = String::from_utf8_lossy(&page).into_owned();
    anyhow::ensure!(status == 200, "preview answered {status}");
    let key = between(&page, "name=\"key\" value=\"", "\"")
        .ok_or_else(|| anyhow::anyhow!("no confirmation key"))?
        .to_string();
    let form = format!("csrf={csrf}&key={key}");
    let t = Instant::now();
    let (status, page) = conn
        .request(
            "POST",
            &format!("/schools/{school}/onde/apply"),
            &[
                ("Cookie", cookie),
                ("Content-Type", "application/x-www-form-urlencoded"),
            ],
            form.as_bytes(),
        )
        .await?;
    let apply = t.elapsed();
    anyhow::ensure!(status == 200, "confirmation answered {status}");
    let page = String::from_utf8_lossy(&page);
    let tiles: Vec<&str> = page
        .split("<span class=\"big\">")
        .skip(1)
        .filter_map(|s| s.split('<').next())
        .collect();
    println!(
        "{label:<44} preview {:>6.0} ms   confirm {:>6.0} ms   (pupils, arrivals, departures, moves, unchanged: {})",
        preview.as_secs_f64() * 1e3,
        apply.as_secs_f64() * 1e3,
        tiles.join(", ")
    );
    Ok(())
}

async fn run(args: &[String]) -> anyhow::Result<()> {
    let addr = arg(args, "--addr").unwrap_or_else(|| "127.0.0.1:8080".into());
    let creds = std::fs::read_to_string(arg(args, "--credentials").expect("--credentials FILE"))?;
    let mut f = creds.split_whitespace();
    let cookie = format!("preau_session={}", f.next().expect("session"));
    let csrf = f.next().expect("csrf").to_string();
    let school: i64 = f.next().expect("school").parse()?;
    let db = open(args).await?;
    let year: i64 = preau_core::with_db!(&db, p => sqlx::query_scalar("SELECT id FROM school_years WHERE label = $1").bind(YEAR).fetch_one(p).await?);
    let mut conn = Conn::open(&addr).await?;
    println!("ONDE import, 3 000 pupils in 120 classes, through the preview and the confirmation:");
    import(
        &mut conn,
        &cookie,
        &csrf,
        school,
        year,
        &onde_file(0),
        "first import (3 000 arrivals)",
    )
    .await?;
    import(
        &mut conn,
        &cookie,
        &csrf,
        school,
        year,
        &onde_file(0),
        "the same file again (nothing changes)",
    )
    .await?;
    // 25 pupils leave, 25 arrive, every pupil of the shifted range changes class.
    import(
        &mut conn,
        &cookie,
        &csrf,
        school,
        year,
        &onde_file(25),
        "25 departures, 25 arrivals, 2 975 class changes",
    )
    .await?;

    let users: usize = arg(args, "--users")
        .map(|v| v.parse().expect("--users N"))
        .unwrap_or(20);
    let seconds: u64 = arg(args, "--seconds")
        .map(|v| v.parse().expect("--seconds N"))
        .unwrap_or(30);
    let think: u64 = arg(args, "--think-ms")
        .map(|v| v.parse().expect("--think-ms N"))
        .unwrap_or(2000);
    let classes: Vec<i64> = preau_core::with_db!(&db, p => sqlx::query_scalar("SELECT id FROM classes WHERE school_id = $1 AND school_year_id = $2 ORDER BY id").bind(school).bind(year).fetch_all(p).await?);
    db.close().await;
    let next_tag = Arc::new(std::sync::atomic::AtomicUsize::new(1));
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut workers = Vec::new();
    for u in 0..users {
        let (addr, cookie, csrf, next_tag) =
            (addr.clone(), cookie.clone(), csrf.clone(), next_tag.clone());
        let mine: Vec<i64> = classes.iter().copied().skip(u).step_by(users).collect();
        workers.push(tokio::spawn(async move {
            let mut screens = Vec::new();
            let mut scans = Vec::new();
            let mut errors = 0usize;
            let Ok(mut c) = Conn::open(&addr).await else {
                return (screens, scans, 1);
            };
            // Users start a little apart, as people do.
            tokio::time::sleep(Duration::from_millis((u as u64 * 97) % think.max(1))).await;
            'classes: for class in mine {
                loop {
                    if Instant::now() > deadline {
                        break 'classes;
                    }
                    let url = format!("/classes/{class}/tablets");
                    let t = Instant::now();
                    let Ok((status, page)) = c.request("GET", &url, &[("Cookie", &cookie)], b"").await else {
                        errors += 1;
                        break 'classes;
                    };
                    screens.push(t.elapsed());
                    if status != 200 {
                        errors += 1;
                        continue 'classes;
                    }
                    let page = String::from_utf8_lossy(&page).into_owned();
                    let Some(pupil) = between(&page, "name=\"pupil_id\" value=\"", "\"") else {
                        continue 'classes;
                    };
                    tokio::time::sleep(Duration::from_millis(think)).await;
                    let n = next_tag.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let form = format!("csrf={csrf}&mode=eleve&pupil_id={pupil}&code=BENCH-{n:05}&accessories=etui+chargeur");
                    let t = Instant::now();
                    let r = c
                        .request("POST", &url, &[("Cookie", &cookie), ("Content-Type", "application/x-www-form-urlencoded")], form.as_bytes())
                        .await;
                    match r {
                        Ok((303, _)) => scans.push(t.elapsed()),
                        _ => errors += 1,
                    }
                }
            }
            (screens, scans, errors)
        }));
    }
    let mut screens = Vec::new();
    let mut scans = Vec::new();
    let mut errors = 0;
    for w in workers {
        let (a, b, e) = w.await?;
        screens.extend(a);
        scans.extend(b);
        errors += e;
    }
    screens.sort();
    scans.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "\nBulk assignment screen, {users} people scanning (a scan every {think} ms each), {seconds} s:"
    );
    for (label, v) in [
        ("GET the screen (pupils, next pupil)", &screens),
        ("POST a scan (lend, answered 303)", &scans),
    ] {
        println!(
            "{label:<40} n={:>5}  p50 {:>6.1} ms  p95 {:>6.1} ms  p99 {:>6.1} ms  max {:>6.1} ms",
            v.len(),
            ms(quantile(v, 0.5)),
            ms(quantile(v, 0.95)),
            ms(quantile(v, 0.99)),
            ms(quantile(v, 1.0)),
        );
    }
    println!("errors: {errors}");
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("seed") => seed(&args).await,
        Some("run") => run(&args).await,
        _ => {
            eprintln!("usage: pupilbench seed|run [options] (see the file's header)");
            std::process::exit(2)
        }
    }
}
