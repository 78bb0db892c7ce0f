//! Memory benchmark: the server's anonymous resident memory (`RssAnon` in
//! `/proc/PID/status`; the SQLite file's mapped pages are page cache and do not count)
//! idle after loading the demo, at the end of the load generator's run, and at its highest
//! while agents post amplification bodies (a 61 KB zlib body holding 15 million empty
//! elements, a JSON array of millions of zeros) four at a time.
//!
//! ```sh
//! cargo build --release --bin preau --example loadgen --example membench
//! target/release/examples/membench            # starts its own server on a fresh directory
//! ```
//!
//! Goals: ≤ 64 MB idle after the demo, ≤ 128 MB after the load generator, ≤ 256 MB at
//! any moment under the amplification posts. Options: `--devices N` (load generator's
//! devices, 400), `--rounds N` (amplification rounds of 4 posts, 3).

use preau_inventory::body::{Compression, deflate};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

#[path = "support/http.rs"]
mod http;
use http::{Conn, arg};

/// The process's anonymous resident memory, in KiB.
fn rss_anon_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("RssAnon:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn mb(kib: u64) -> String {
    format!("{:.1} MB", kib as f64 / 1024.0)
}

/// Samples the process's `RssAnon` every 10 ms until stopped; the highest seen.
struct Sampler {
    peak: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Sampler {
    fn start(pid: u32) -> Sampler {
        let peak = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (p, s) = (peak.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            while !s.load(Ordering::SeqCst) {
                p.fetch_max(rss_anon_kib(pid), Ordering::SeqCst);
                std::thread::sleep(Duration::from_millis(10));
            }
        });
        Sampler {
            peak,
            stop,
            thread: Some(thread),
        }
    }

    fn finish(mut self) -> u64 {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        self.peak.load(Ordering::SeqCst)
    }
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn wait_up(addr: &str) {
    let started = Instant::now();
    loop {
        if let Ok(mut c) = Conn::open(addr).await
            && let Ok((200, _)) = c.request("GET", "/healthz", &[], b"").await
        {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "the server did not start"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// `<REQUEST>` then `n` empty elements: a few tens of KB once compressed.
fn xml_bomb(n: usize) -> Vec<u8> {
    let mut doc = Vec::with_capacity(n * 4 + 64);
    doc.extend_from_slice(
        b"<?xml version=\"1.0\" encoding=\"UTF-8\"?><REQUEST><QUERY>INVENTORY</QUERY><CONTENT>",
    );
    for _ in 0..n {
        doc.extend_from_slice(b"<A/>");
    }
    doc.extend_from_slice(b"</CONTENT></REQUEST>");
    deflate(&doc, Compression::Zlib)
}

/// A GLPI-agent JSON inventory whose software list is `n` zeros.
fn json_bomb(n: usize) -> Vec<u8> {
    let mut doc = Vec::with_capacity(n * 2 + 128);
    doc.extend_from_slice(
        b"{\"action\":\"inventory\",\"deviceid\":\"bomb-2026-12-06-00-00-00\",\"content\":{\"softwares\":[",
    );
    for i in 0..n {
        if i > 0 {
            doc.push(b',');
        }
        doc.push(b'0');
    }
    doc.extend_from_slice(b"]}}");
    deflate(&doc, Compression::Zlib)
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let devices = arg(&args, "--devices").unwrap_or_else(|| "400".into());
    let rounds: usize = arg(&args, "--rounds").map_or(3, |r| r.parse().expect("--rounds N"));
    let bin_dir = std::env::current_exe()
        .expect("own path")
        .parent()
        .expect("examples/")
        .to_path_buf();
    let preau = bin_dir.parent().expect("target/release").join("preau");
    let loadgen = bin_dir.join("loadgen");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = format!("127.0.0.1:{port}");
    let data = std::env::temp_dir().join(format!("preau-membench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data);
    let started = Instant::now();
    let child = Command::new(&preau)
        .args(["--data-dir", data.to_str().unwrap(), "serve", "--demo"])
        .args(["--listen", &addr, "--insecure-cookies"])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("{}: {e}", preau.display()));
    let server = Server(child);
    let pid = server.0.id();
    let sampler = Sampler::start(pid);
    wait_up(&addr).await;
    let loading_peak = sampler.finish();
    println!(
        "# preau serve --demo up in {:.1} s; peak while loading {}",
        started.elapsed().as_secs_f64(),
        mb(loading_peak)
    );
    tokio::time::sleep(Duration::from_secs(3)).await;
    let idle = rss_anon_kib(pid);
    println!("idle after the demo:            {}", mb(idle));

    // The load generator: distinct devices, then the same ones again, at 1, 4 and 16.
    let sampler = Sampler::start(pid);
    let out = Command::new(&loadgen)
        .args(["--addr", &addr, "--devices", &devices])
        .args(["--concurrency", "1,4,16"])
        .output()
        .unwrap_or_else(|e| panic!("{}: {e}", loadgen.display()));
    assert!(out.status.success(), "loadgen failed");
    let load_peak = sampler.finish();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let after_load = rss_anon_kib(pid);
    println!(
        "after the load generator:       {} (peak during the run {})",
        mb(after_load),
        mb(load_peak)
    );
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        println!("  loadgen | {line}");
    }

    // Amplification: 4 posts at once, XML then JSON, `rounds` times; /healthz meanwhile.
    let auth = {
        use base64::Engine;
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode("agent:demo")
        )
    };
    let bodies = Arc::new([xml_bomb(15_000_000), json_bomb(30_000_000)]);
    println!(
        "# amplification bodies: XML {} KB zlib (15 million elements), JSON {} KB zlib (30 million zeros)",
        bodies[0].len() / 1024,
        bodies[1].len() / 1024
    );
    let sampler = Sampler::start(pid);
    let mut statuses = std::collections::BTreeMap::<u16, usize>::new();
    let mut slowest_health = Duration::ZERO;
    let amp_started = Instant::now();
    for round in 0..rounds * 2 {
        let mut posts = Vec::new();
        for _ in 0..4 {
            let (addr, auth, bodies) = (addr.clone(), auth.clone(), bodies.clone());
            posts.push(tokio::spawn(async move {
                let mut c = Conn::open(&addr).await.expect("connect");
                c.request(
                    "POST",
                    "/ocsinventory",
                    &[
                        ("Content-Type", "application/x-compress"),
                        ("Authorization", &auth),
                    ],
                    &bodies[round % 2],
                )
                .await
                .map(|(s, _)| s)
                .unwrap_or(0)
            }));
        }
        let health = {
            let addr = addr.clone();
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(50)).await;
                let t = Instant::now();
                let mut c = Conn::open(&addr).await.expect("connect");
                let _ = c.request("GET", "/healthz", &[], b"").await;
                t.elapsed()
            })
        };
        for p in posts {
            *statuses.entry(p.await.unwrap()).or_default() += 1;
        }
        slowest_health = slowest_health.max(health.await.unwrap());
    }
    let amp_peak = sampler.finish();
    tokio::time::sleep(Duration::from_secs(3)).await;
    println!(
        "amplification, 4 at a time:    peak {} ({} posts in {:.1} s, answers {:?}, slowest /healthz {} ms); {} after",
        mb(amp_peak),
        rounds * 8,
        amp_started.elapsed().as_secs_f64(),
        statuses,
        slowest_health.as_millis(),
        mb(rss_anon_kib(pid))
    );
    let goals = [
        ("idle after the demo ≤ 64 MB", idle <= 64 * 1024),
        (
            "after the load generator ≤ 128 MB",
            after_load <= 128 * 1024,
        ),
        ("amplification peak ≤ 256 MB", amp_peak <= 256 * 1024),
    ];
    for (goal, met) in goals {
        println!("{} {goal}", if met { "met:    " } else { "MISSED: " });
    }
    drop(server);
    let _ = std::fs::remove_dir_all(&data);
}
