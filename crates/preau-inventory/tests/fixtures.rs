//! Every inventory fixture (real agent captures, GLPI's format samples) parses, and what
//! is read from it is compared with a reviewed snapshot (`tests/fixtures.snap`). After a
//! deliberate change, regenerate it with `PREAU_UPDATE_SNAPSHOTS=1 cargo test -p
//! preau-inventory` and review the diff.

use preau_inventory::protocol::{self, Request};
use preau_inventory::{Inventory, body};
use std::fmt::Write;
use std::path::{Path, PathBuf};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn files(dir: &Path, ext: &[&str]) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            ext.iter().any(|x| name.ends_with(x))
        })
        .collect();
    out.sort();
    out
}

fn summary(inv: &Inventory) -> String {
    let id = &inv.identity;
    let mut s = format!(
        "  device_id={} type={:?} partial={} tag={:?} agent={:?}\n  name={:?} uuid={:?} serial={:?} maker={:?} model={:?} chassis={:?} memory={:?}\n",
        inv.device_id,
        inv.item_type,
        inv.partial,
        inv.tag,
        inv.agent,
        id.name,
        id.system_uuid,
        id.serial,
        id.manufacturer,
        id.model,
        id.chassis,
        id.memory_mb
    );
    if let Some(os) = &inv.os {
        let _ = writeln!(s, "  os={:?} {:?} {:?}", os.name, os.version, os.arch);
    }
    let _ = writeln!(s, "  cpu={:?}", inv.cpu_summary());
    for (kind, list) in &inv.components {
        let _ = writeln!(s, "  {kind}: {}", list.len());
        for c in list.iter().take(3) {
            let _ = writeln!(s, "    {} | {} | {:?}", c.name, c.detail, c.serial);
        }
    }
    match &inv.software {
        Some(list) => {
            let _ = writeln!(s, "  software: {}", list.len());
            for sw in list.iter().take(2) {
                let _ = writeln!(s, "    {} | {} | {}", sw.name, sw.publisher, sw.version);
            }
        }
        None => s.push_str("  software: (not sent)\n"),
    }
    let _ = writeln!(s, "  ips={:?}", inv.ips);
    s
}

#[test]
fn every_fixture_parses_as_in_the_snapshot() {
    let root = fixtures();
    let mut out = String::new();
    let mut seen = 0;
    let dirs = [
        ("agents/local", vec![".xml", ".json"]),
        ("agents/ocsinventory-agent-2.10-exchange", vec![".req.xml"]),
        (
            "agents/fusioninventory-agent-2.6-exchange",
            vec![".req.xml"],
        ),
        (
            "agents/glpi-agent-1.11-native-exchange",
            vec![".req.xml", ".req.json"],
        ),
        ("glpi-inventory-format/json", vec![".json"]),
        ("glpi-inventory-format/xml", vec![".xml"]),
    ];
    for (dir, ext) in dirs {
        for path in files(&root.join(dir), &ext) {
            let bytes = std::fs::read(&path).unwrap();
            let name = format!("{dir}/{}", path.file_name().unwrap().to_string_lossy());
            // Local XML files are bare <REQUEST> inventories without QUERY for some agents:
            // read them as inventories whatever their QUERY says.
            let parsed = protocol::parse(&bytes);
            let line = match parsed {
                Ok((Request::Inventory(inv), _)) => format!("{name}\n{}", summary(&inv)),
                Ok((Request::Network(list), _)) => {
                    let mut s = format!("{name} ({} network devices)\n", list.len());
                    for inv in &list {
                        s.push_str(&summary(inv));
                    }
                    s
                }
                Ok((other, _)) => format!("{name}\n  {other:?}\n"),
                Err(e) => format!("{name}\n  refused: {e}\n"),
            };
            out.push_str(&line);
            seen += 1;
        }
    }
    assert!(
        seen >= 40,
        "only {seen} fixtures found under {}",
        root.display()
    );
    let snap = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures.snap");
    if std::env::var_os("PREAU_UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&snap, &out).unwrap();
    }
    // A missing snapshot fails: it is written only when asked, then reviewed.
    let expected = std::fs::read_to_string(&snap).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; write it with PREAU_UPDATE_SNAPSHOTS=1 and review it",
            snap.display()
        )
    });
    if expected != out {
        let first = expected
            .lines()
            .zip(out.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(0);
        panic!(
            "parsed fixtures differ from tests/fixtures.snap from line {}:\n  expected: {:?}\n  got:      {:?}",
            first + 1,
            expected.lines().nth(first),
            out.lines().nth(first)
        );
    }
}

#[test]
fn wire_bodies_inflate_to_the_captured_requests() {
    let root = fixtures().join("agents");
    for dir in [
        "ocsinventory-agent-2.10-exchange",
        "fusioninventory-agent-2.6-exchange",
        "glpi-agent-1.11-native-exchange",
    ] {
        for z in files(&root.join(dir), &[".req.xml.zlib", ".req.json.zlib"]) {
            let wire = std::fs::read(&z).unwrap();
            let plain_path = z.with_extension("");
            let plain = std::fs::read(&plain_path).unwrap();
            let (out, how) = body::inflate(&wire, None, 64 << 20).unwrap();
            assert_eq!(how, body::Compression::Zlib);
            assert_eq!(out, plain, "{}", z.display());
            assert!(protocol::parse(&out).is_ok(), "{}", z.display());
        }
    }
}
