//! Where an inventory's CPU time goes before the database: inflating the body, reading the
//! XML into a tree, normalising it, fingerprinting its sections. Run with
//! `cargo run --release -p preau-inventory --example parse_bench [FILE]` (default: the OCS
//! agent's 926-software capture).

use preau_inventory::{Inventory, body, tree};
use std::time::{Duration, Instant};

fn main() {
    let path = std::env::args().nth(1).unwrap_or_else(|| {
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/agents/ocsinventory-agent-2.10-exchange/02-INVENTORY.req.xml.zlib"
        )
        .into()
    });
    let wire = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    const N: u32 = 300;
    let mut t = [Duration::ZERO; 4];
    let mut software = 0;
    for _ in 0..N {
        let s = Instant::now();
        let (plain, _) = body::inflate(&wire, None, 64 << 20).unwrap();
        t[0] += s.elapsed();
        let s = Instant::now();
        let text = tree::decode(&plain).unwrap();
        let root = tree::parse_document(&text).unwrap();
        t[1] += s.elapsed();
        let s = Instant::now();
        let inv = Inventory::from_tree(&root).unwrap();
        t[2] += s.elapsed();
        let s = Instant::now();
        let prints = inv.fingerprints();
        t[3] += s.elapsed();
        software = inv.software.as_ref().map_or(0, Vec::len);
        assert!(!prints.is_empty());
    }
    println!(
        "{path}: {} bytes on the wire, {software} software",
        wire.len()
    );
    for (name, d) in ["inflate", "XML to tree", "normalise", "fingerprints"]
        .iter()
        .zip(t)
    {
        println!(
            "{name:>14}: {:>8.3} ms",
            d.as_secs_f64() * 1000.0 / f64::from(N)
        );
    }
    // A re-inventory whose software list is already known: the list stays raw.
    let s = Instant::now();
    for _ in 0..N {
        let (plain, _) = body::inflate(&wire, None, 64 << 20).unwrap();
        let (req, _) = preau_inventory::protocol::parse_lazy(&plain).unwrap();
        if let preau_inventory::protocol::Request::Inventory(inv) = req {
            assert!(inv.software_deferred());
            assert!(!inv.fingerprints().is_empty());
        }
    }
    println!(
        "{:>14}: {:>8.3} ms (inflate, parse without the software, fingerprints)",
        "lazy",
        s.elapsed().as_secs_f64() * 1000.0 / f64::from(N)
    );
    // The floor: quick-xml's own event loop over the same document.
    let (plain, _) = body::inflate(&wire, None, 64 << 20).unwrap();
    let text = std::str::from_utf8(&plain).unwrap();
    let s = Instant::now();
    let mut events = 0usize;
    for _ in 0..N {
        let mut r = quick_xml::Reader::from_str(text);
        loop {
            match r.read_event() {
                Ok(quick_xml::events::Event::Eof) | Err(_) => break,
                Ok(_) => events += 1,
            }
        }
    }
    println!(
        "{:>14}: {:>8.3} ms ({} events)",
        "(xml events)",
        s.elapsed().as_secs_f64() * 1000.0 / f64::from(N),
        events / N as usize
    );
    let total: Duration = t.iter().sum();
    println!(
        "{:>14}: {:>8.3} ms",
        "total",
        total.as_secs_f64() * 1000.0 / f64::from(N)
    );
}
