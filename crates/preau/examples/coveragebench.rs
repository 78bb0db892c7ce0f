//! Benchmark of steering: coverage against the référentiel (every school, every rule,
//! every classroom, the costs) and the renewal plan (the fleet by age, five years of
//! replacements under the cap, pupils per device), each as the API answers it, serialised.
//!
//! ```sh
//! cargo build --release --examples
//! # The demo commune (23 schools), on SQLite in a fresh folder:
//! target/release/examples/coveragebench --data-dir /tmp/cb
//! # 2 000 more schools and 1 M devices, on PostgreSQL:
//! target/release/examples/coveragebench --database-url postgres://postgres@127.0.0.1/bench \
//!     --schools 2000 --devices-per-school 500 --runs 20
//! ```
//!
//! Prints the data's size and the p50/p99/max of `--runs` reports of each (default 200).

#[path = "support/demo_db.rs"]
mod demo_db;
#[path = "support/http.rs"]
#[allow(dead_code)] // the HTTP client is for the benchmarks against the running binary
mod http;

use http::{arg, quantile};
use std::time::{Duration, Instant};

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let per: usize = arg(&args, "--devices-per-school")
        .map_or(500, |v| v.parse().expect("--devices-per-school N"));
    let db = demo_db::open(&args, "./coveragebench-data", per).await?;
    let devices: i64 = preau_core::with_db!(&db, p => sqlx::query_scalar("SELECT COUNT(*) FROM devices").fetch_one(p).await?);
    let schools: i64 = preau_core::with_db!(&db, p => sqlx::query_scalar("SELECT COUNT(*) FROM schools").fetch_one(p).await?);
    let admin = preau_core::users::find_by_login(&db, "admin")
        .await?
        .ok_or_else(|| anyhow::anyhow!("no admin"))?;
    let p = preau_core::users::principal(&db, admin.id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no principal"))?;
    let runs: usize = arg(&args, "--runs").map_or(200, |v| v.parse().expect("--runs N"));
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let report = |what: &str, mut times: Vec<Duration>, bytes: usize| {
        times.sort();
        println!(
            "{what} of {schools} schools, {devices} devices: {runs} reports, p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms ({} KB of JSON)",
            ms(quantile(&times, 0.50)),
            ms(quantile(&times, 0.99)),
            ms(*times.last().unwrap_or(&Duration::ZERO)),
            bytes / 1024
        );
    };
    let mut times = Vec::with_capacity(runs);
    let mut bytes = 0;
    for _ in 0..runs {
        let t = Instant::now();
        let r = preau_core::steering::coverage::report(&db, &p, None, chrono::Utc::now()).await?;
        let items: Vec<preau_web::api::types::SchoolCoverage> =
            r.schools.iter().map(Into::into).collect();
        bytes = serde_json::to_vec(&items)?.len();
        times.push(t.elapsed());
    }
    report("coverage", times, bytes);
    let mut times = Vec::with_capacity(runs);
    let from = chrono::Datelike::year(&chrono::Utc::now()) + 1;
    for _ in 0..runs {
        let t = Instant::now();
        let r = preau_core::steering::renewal::report(&db, &p, from, 5, chrono::Utc::now()).await?;
        let answer: preau_web::api::types::Renewal = (&r).into();
        bytes = serde_json::to_vec(&answer)?.len();
        times.push(t.elapsed());
    }
    report("renewal", times, bytes);
    Ok(())
}
