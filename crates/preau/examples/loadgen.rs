//! Load generator for the inventory agents' endpoint.
//!
//! Posts N distinct devices built from the OCS Inventory agent's captured inventory (926
//! software, 358 KB of XML, 42 KB zlib-compressed, as the agent sends it), then re-posts
//! them unchanged, at each concurrency level, and reports inventories per second and the
//! p50/p99 latency. Every request must be answered 200: an inventory is acknowledged only
//! once stored, so a lost inventory would show as an error here.
//!
//! ```sh
//! cargo build --release
//! target/release/preau --data-dir /tmp/bench serve --demo &
//! cargo run --release --example loadgen -- --devices 400 --concurrency 1,4,16
//! ```
//!
//! `--distinct-software` gives each device its own software list (one package fewer per
//! device), the worst case where no two machines share an image.

use preau_inventory::body::{Compression, deflate};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

struct Args {
    addr: String,
    path: String,
    auth: String,
    devices: usize,
    concurrency: Vec<usize>,
    fixture: String,
    distinct_software: bool,
    label: String,
}

fn base64(s: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(s)
}

fn parse_args() -> Args {
    let mut a = Args {
        addr: "127.0.0.1:8080".into(),
        path: "/ocsinventory".into(),
        auth: format!("Basic {}", base64("agent:demo")),
        devices: 400,
        concurrency: vec![1, 4, 16],
        fixture: concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../preau-inventory/tests/fixtures/agents/ocsinventory-agent-2.10-exchange/02-INVENTORY.req.xml"
        )
        .into(),
        distinct_software: false,
        label: String::new(),
    };
    let mut it = std::env::args().skip(1);
    let (mut user, mut password) = ("agent".to_string(), "demo".to_string());
    while let Some(k) = it.next() {
        let mut v = || it.next().unwrap_or_else(|| panic!("{k} needs a value"));
        match k.as_str() {
            "--addr" => a.addr = v(),
            "--path" => a.path = v(),
            "--user" => user = v(),
            "--password" => password = v(),
            "--devices" => a.devices = v().parse().expect("--devices N"),
            "--concurrency" => {
                a.concurrency = v()
                    .split(',')
                    .map(|c| c.trim().parse().expect("--concurrency 1,4,16"))
                    .collect()
            }
            "--fixture" => a.fixture = v(),
            "--distinct-software" => a.distinct_software = true,
            "--label" => a.label = v(),
            other => panic!("unknown argument {other}"),
        }
    }
    a.auth = format!("Basic {}", base64(&format!("{user}:{password}")));
    a
}

/// The captured inventory turned into device `i` of run `run`.
fn body(xml: &str, run: &str, i: usize, distinct: bool) -> Vec<u8> {
    let mut doc = xml
        .replace("pc-ecole-01-2026-11-29-10-59-42", &format!("lg-{run}-{i}-2026-11-29-10-59-42"))
        .replace("<NAME>pc-ecole-01</NAME>", &format!("<NAME>lg-{run}-{i}</NAME>"))
        .replace(
            "<BIOS>",
            &format!("<BIOS>\n      <SSN>LG{run}{i:06}</SSN>\n      <SMANUFACTURER>Dell Inc.</SMANUFACTURER>\n      <SMODEL>OptiPlex 3000</SMODEL>"),
        );
    if distinct {
        // Drop the i-th package (mod the list): every device's list differs.
        let starts: Vec<usize> = doc.match_indices("<SOFTWARES>").map(|(p, _)| p).collect();
        if !starts.is_empty() {
            let s = starts[i % starts.len()];
            if let Some(e) = doc[s..].find("</SOFTWARES>") {
                doc.replace_range(s..s + e + "</SOFTWARES>".len(), "");
            }
        }
    }
    deflate(doc.as_bytes(), Compression::Zlib)
}

#[path = "support/http.rs"]
mod http;
use http::{Conn, quantile};

async fn post(conn: &mut Conn, a: &Args, body: &[u8]) -> std::io::Result<u16> {
    conn.request(
        "POST",
        &a.path,
        &[
            ("User-Agent", "OCS-NG_unified_unix_agent_v2.10.0"),
            ("Content-Type", "application/x-compress"),
            ("Authorization", &a.auth),
        ],
        body,
    )
    .await
    .map(|(status, _)| status)
}

struct Phase {
    rate: f64,
    p50: Duration,
    p99: Duration,
    errors: usize,
}

async fn phase(a: Arc<Args>, bodies: Arc<Vec<Vec<u8>>>, concurrency: usize) -> Phase {
    let next = Arc::new(AtomicUsize::new(0));
    let errors = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..concurrency {
        let (a, bodies, next, errors) = (a.clone(), bodies.clone(), next.clone(), errors.clone());
        workers.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut conn = Conn::open(&a.addr).await.expect("connect");
            loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                if i >= bodies.len() {
                    break;
                }
                let t = Instant::now();
                let status = match post(&mut conn, &a, &bodies[i]).await {
                    Ok(s) => s,
                    Err(_) => {
                        conn = Conn::open(&a.addr).await.expect("reconnect");
                        post(&mut conn, &a, &bodies[i]).await.unwrap_or(0)
                    }
                };
                lat.push(t.elapsed());
                if status != 200 {
                    errors.fetch_add(1, Ordering::SeqCst);
                    eprintln!("device {i}: HTTP {status}");
                }
            }
            lat
        }));
    }
    let mut all = Vec::new();
    for w in workers {
        all.extend(w.await.expect("worker"));
    }
    let wall = started.elapsed();
    all.sort();
    let pct = |p: f64| quantile(&all, p);
    Phase {
        rate: all.len() as f64 / wall.as_secs_f64(),
        p50: pct(0.50),
        p99: pct(0.99),
        errors: errors.load(Ordering::SeqCst),
    }
}

#[tokio::main]
async fn main() {
    let a = Arc::new(parse_args());
    let xml = std::fs::read_to_string(&a.fixture).unwrap_or_else(|e| panic!("{}: {e}", a.fixture));
    let run = format!(
        "{:x}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
            % 0xffff
    );
    println!(
        "# {} devices per phase, body {} KB zlib ({} KB XML), {} software lists{}",
        a.devices,
        body(&xml, "x", 0, false).len() / 1024,
        xml.len() / 1024,
        if a.distinct_software {
            "distinct"
        } else {
            "identical"
        },
        if a.label.is_empty() {
            String::new()
        } else {
            format!(" — {}", a.label)
        }
    );
    println!("| concurrency | phase | inventories/s | p50 ms | p99 ms | errors |");
    println!("|---:|---|---:|---:|---:|---:|");
    let mut failed = 0;
    for &c in &a.concurrency {
        let tag = format!("{run}c{c}");
        let bodies: Arc<Vec<Vec<u8>>> = Arc::new(
            (0..a.devices)
                .map(|i| body(&xml, &tag, i, a.distinct_software))
                .collect(),
        );
        for name in ["first", "re-inventory"] {
            let p = phase(a.clone(), bodies.clone(), c).await;
            failed += p.errors;
            println!(
                "| {c} | {name} | {:.0} | {:.1} | {:.1} | {} |",
                p.rate,
                p.p50.as_secs_f64() * 1000.0,
                p.p99.as_secs_f64() * 1000.0,
                p.errors
            );
        }
    }
    if failed > 0 {
        eprintln!("{failed} inventories were not acknowledged");
        std::process::exit(1);
    }
}
