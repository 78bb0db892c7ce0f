//! Benchmark of the connectivity pass: every school judged from its agents' last reports
//! (and its probe, when it has one), what changed written, outages and their tickets
//! opened. Each round, one agent of every school reports first (untimed), so that each
//! pass writes every school's last contact, as it does in term time.
//!
//! ```sh
//! cargo build --release --examples
//! # The demo commune (23 schools), on SQLite in a fresh folder:
//! target/release/examples/connectivitybench --data-dir /tmp/pb
//! # 2 000 more schools, on PostgreSQL, each probed on loopback (half of them answering):
//! target/release/examples/connectivitybench --database-url postgres://postgres@127.0.0.1/bench \
//!     --schools 2000 --probes --runs 20
//! ```
//!
//! Prints the number of schools and probes and the p50/p99/max of `--runs` passes.

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
    let db = demo_db::open(&args, "./connectivitybench-data", 30).await?;
    let now = chrono::Utc::now();
    let ids: Vec<i64> = preau_core::with_db!(&db, p => sqlx::query_scalar("SELECT id FROM schools WHERE status = 'active' ORDER BY id").fetch_all(p).await?);
    // Probes: a listener on loopback for half the schools, a closed port for the others.
    let mut probes = 0;
    let _listener = if args.iter().any(|a| a == "--probes") {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let open = listener.local_addr()?.port();
        let closed = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        tokio::spawn(async move { while listener.accept().await.is_ok() {} });
        let mut tx = db.begin().await?;
        preau_core::with_tx!(&mut tx, c => {
            sqlx::query("DELETE FROM school_probes").execute(&mut *c).await?;
            for (k, id) in ids.iter().enumerate() {
                let port = if k % 2 == 0 { open } else { closed };
                sqlx::query("INSERT INTO school_probes (school_id, target, failures, updated_at) VALUES ($1, $2, 0, $3)")
                    .bind(id).bind(format!("tcp://127.0.0.1:{port}")).bind(now).execute(&mut *c).await?;
                probes += 1;
            }
        });
        tx.commit().await?;
        true
    } else {
        false
    };
    let runs: usize = arg(&args, "--runs").map_or(50, |v| v.parse().expect("--runs N"));
    let mut times = Vec::with_capacity(runs);
    let mut changed = 0;
    for k in 0..runs {
        let at = now + chrono::Duration::minutes(5 * k as i64);
        // One agent of every school reports just before the pass.
        preau_core::with_db!(&db, p => {
            sqlx::query("UPDATE devices SET last_inventory_at = $1 WHERE id IN (SELECT MIN(id) FROM devices WHERE school_id IS NOT NULL GROUP BY school_id)")
                .bind(at - chrono::Duration::seconds(30)).execute(p).await?;
        });
        let t = Instant::now();
        let pass = preau_core::connectivity::pass(&db, at).await?;
        times.push(t.elapsed());
        changed += pass.went_offline + pass.came_back;
    }
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "status pass of {} schools ({probes} probed): {runs} passes, p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms ({changed} changes of state)",
        ids.len(),
        ms(quantile(&times, 0.50)),
        ms(quantile(&times, 0.99)),
        ms(*times.last().unwrap_or(&Duration::ZERO)),
    );
    Ok(())
}
