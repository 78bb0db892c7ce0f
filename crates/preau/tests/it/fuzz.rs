//! Fuzzing on stable Rust: every parser that reads what others send is fed mutations of
//! real inputs — the agents' captured inventories, import files in the layouts the tests
//! use — and structured bombs (depth, width, long fields). Each target states what must
//! hold whatever it is sent: no panic, no 500, an answer within the bounds, nothing stored
//! by a refused or previewed request.
//!
//! In CI each target runs `PREAU_FUZZ_CASES` cases (200 by default) from a fixed seed;
//! longer, from any seed:
//!
//! ```sh
//! PREAU_FUZZ_CASES=100000 PREAU_FUZZ_SEED=$RANDOM \
//!     cargo test --release -p preau --test it fuzz_ -- --nocapture
//! ```
//!
//! A failing case is written under `target/fuzz-findings/` and named in the failure; it
//! then becomes a test of its own (see the end of this file).

use axum::http::Method;
use preau_inventory::body::{self, Compression};

use crate::harness::TestApp;

/// A small, seedable generator (xorshift64*): the same seed gives the same cases.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

fn cases() -> usize {
    std::env::var("PREAU_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200)
}

fn seed() -> u64 {
    std::env::var("PREAU_FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_261_206)
}

/// Bytes that matter to the formats read here.
const INTERESTING: &[u8] = &[
    0, 0xff, 0x80, 0xc3, 0xef, b'<', b'>', b'/', b'"', b'\'', b'&', b';', b',', b'\n', b'\r',
    b'\t', b'=', b'+', b'-', b'@', b'{', b'}', b'[', b']', b':', b'\\', b'0', b'9',
];

/// One to six stacked mutations of a seed: bit flips, interesting bytes, deletions,
/// duplications (the amplification shape), the format's own tokens, splices with another
/// seed, truncation, random bytes.
pub fn mutate(rng: &mut Rng, seeds: &[Vec<u8>], dict: &[&[u8]]) -> Vec<u8> {
    let mut data = rng.pick(seeds).clone();
    for _ in 0..1 + rng.below(6) {
        let len = data.len();
        let at = rng.below(len + 1);
        match rng.below(9) {
            0 if len > 0 => {
                let i = rng.below(len);
                data[i] ^= 1 << rng.below(8);
            }
            1 if len > 0 => {
                let i = rng.below(len);
                data[i] = *rng.pick(INTERESTING);
            }
            2 if len > 0 => {
                let n = 1 + rng.below((len - at.min(len - 1)).min(256));
                let start = at.min(len - 1);
                data.drain(start..(start + n).min(len));
            }
            3 if len > 0 => {
                let start = at.min(len - 1);
                let n = 1 + rng.below((len - start).min(64));
                let piece = data[start..start + n].to_vec();
                for _ in 0..1 + rng.below(64) {
                    data.splice(at..at, piece.iter().copied());
                }
            }
            4 if !dict.is_empty() => {
                let token = rng.pick(dict).to_vec();
                data.splice(at..at, token);
            }
            5 => {
                let other = rng.pick(seeds);
                let from = rng.below(other.len() + 1);
                data.truncate(at);
                data.extend_from_slice(&other[from..]);
            }
            6 => data.truncate(at),
            _ => {
                let n = 1 + rng.below(16);
                let bytes: Vec<u8> = (0..n).map(|_| rng.next() as u8).collect();
                data.splice(at..at, bytes);
            }
        }
    }
    data
}

/// Values that stress what is stored: lengths, scripts, escapes, numbers, dates.
const VALUES: &[&[u8]] = &[
    b"&amp;&lt;&gt;&quot;",
    b"\xc3\xa9\xc3\xa8\xc3\xa0 \xe2\x80\xae \xf0\x9f\x98\x80",
    b"=cmd|' /C calc'!A0",
    b"0",
    b"-1",
    b"18446744073709551616",
    b"1e308",
    b"2026-02-30",
    b"00:00:00:00:00:00",
    b"To Be Filled By O.E.M.",
    b"'; DROP TABLE devices; --",
    b"%_%",
    b" ",
];

/// A mutation that keeps the markup: a value inserted or repeated inside the text of an
/// element, so that the document still parses and reaches what reads and stores it.
pub fn mutate_text(rng: &mut Rng, seeds: &[Vec<u8>]) -> Vec<u8> {
    let mut data = rng.pick(seeds).clone();
    for _ in 0..1 + rng.below(4) {
        let starts: Vec<usize> = data
            .iter()
            .enumerate()
            .filter(|(i, b)| **b == b'>' && data.get(i + 1).is_some_and(|n| *n != b'<'))
            .map(|(i, _)| i + 1)
            .collect();
        if starts.is_empty() {
            break;
        }
        let at = *rng.pick(&starts);
        let value = rng.pick(VALUES).repeat(1 + rng.below(3) * rng.below(200));
        data.splice(at..at, value);
    }
    data
}

/// Where a failing case is kept, so it can be replayed and made a test.
fn keep(target: &str, case: &[u8]) -> String {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/fuzz-findings");
    let _ = std::fs::create_dir_all(&dir);
    let hash: u64 = case.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    });
    let path = dir.join(format!("{target}-{hash:016x}.bin"));
    let _ = std::fs::write(&path, case);
    path.display().to_string()
}

fn agent_seeds() -> Vec<Vec<u8>> {
    let root = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../preau-inventory/tests/fixtures"
    );
    let mut out = Vec::new();
    let mut dirs = vec![std::path::PathBuf::from(root)];
    while let Some(dir) = dirs.pop() {
        for e in std::fs::read_dir(&dir).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                dirs.push(p);
            } else if matches!(p.extension().and_then(|x| x.to_str()), Some("xml" | "json")) {
                let bytes = std::fs::read(&p).unwrap();
                // The largest captures are slow to mutate many times: their first 64 KB.
                out.push(bytes[..bytes.len().min(64 << 10)].to_vec());
            }
        }
    }
    out.sort();
    assert!(out.len() >= 40, "agent fixtures: {}", out.len());
    out
}

const AGENT_TOKENS: &[&[u8]] = &[
    b"<REQUEST>",
    b"</REQUEST>",
    b"<CONTENT>",
    b"<SOFTWARES><NAME>x</NAME></SOFTWARES>",
    b"<HARDWARE><NAME>pc</NAME></HARDWARE>",
    b"<BIOS><SSN>S1</SSN></BIOS>",
    b"<QUERY>INVENTORY</QUERY>",
    b"<QUERY>PROLOG</QUERY>",
    b"<DEVICEID>d-2026-01-01-00-00-00</DEVICEID>",
    b"<![CDATA[",
    b"]]>",
    b"<!DOCTYPE x [<!ENTITY a \"aaaa\">]>",
    b"&a;",
    b"&#0;",
    b"&#x110000;",
    b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>",
    b"<?xml version=\"1.0\" encoding=\"UTF-16\"?>",
    b"\xEF\xBB\xBF",
    b"{\"action\":\"inventory\",\"deviceid\":\"x\",\"content\":{}}",
    b"\"softwares\":[{\"name\":\"x\"}]",
    b"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[",
    b"\"\\ud800\"",
    b"1e999999",
    b"-0.0e-0",
];

/// The agents' bodies as the endpoint reads them: inflated within the bound, then parsed.
/// Whatever the bytes, the answer is a value or an error — no panic — and never more than
/// the bound; the elements and the depth a parsed inventory holds stay within the limits.
#[test]
fn fuzz_agent_bodies() {
    let seeds = agent_seeds();
    let mut rng = Rng::new(seed());
    let (mut parsed, mut refused) = (0, 0);
    for case in 0..cases() * 5 {
        let plain = if case % 2 == 0 {
            mutate(&mut rng, &seeds, AGENT_TOKENS)
        } else {
            mutate_text(&mut rng, &seeds)
        };
        // Sent as is, or compressed the ways agents do, sometimes with damaged bytes.
        let how = *rng.pick(&[
            Compression::Plain,
            Compression::Zlib,
            Compression::Gzip,
            Compression::Deflate,
        ]);
        let mut sent = body::deflate(&plain, how);
        if how != Compression::Plain && rng.below(4) == 0 && !sent.is_empty() {
            let i = rng.below(sent.len());
            sent[i] ^= 1 << rng.below(8);
        }
        let encoding = (how == Compression::Deflate).then_some("deflate");
        let max = 1 << 20;
        let outcome = std::panic::catch_unwind(|| {
            let (inflated, _) = match body::inflate(&sent, encoding, max) {
                Ok(v) => v,
                Err(_) => return false,
            };
            assert!(inflated.len() <= max, "inflated past the bound");
            match preau_inventory::protocol::parse(&inflated) {
                Ok((preau_inventory::protocol::Request::Inventory(inv), _)) => {
                    assert!(
                        inv.software.as_ref().map_or(0, Vec::len)
                            <= preau_inventory::tree::MAX_NODES
                    );
                    true
                }
                Ok(_) => true,
                Err(_) => false,
            }
        });
        match outcome {
            Ok(true) => parsed += 1,
            Ok(false) => refused += 1,
            Err(_) => panic!("case {case}: panic on {}", keep("agent-body", &sent)),
        }
    }
    println!("fuzz_agent_bodies: {parsed} parsed, {refused} refused");
    assert!(
        parsed > 0 && refused > 0,
        "the mutations reach both outcomes"
    );
}

/// Structured bombs: depth, width and lengths past the limits are refused before a tree
/// is built, in XML and in JSON, plain and compressed.
#[test]
fn fuzz_agent_bombs() {
    let mut rng = Rng::new(seed());
    for _ in 0..cases() / 4 {
        let n = 1 + rng.below(3);
        let doc: Vec<u8> = match rng.below(5) {
            // Deeper than allowed.
            0 => {
                let d = preau_inventory::tree::MAX_DEPTH + 1 + rng.below(5000);
                let mut s = b"<REQUEST><CONTENT>".to_vec();
                s.extend(b"<A>".repeat(d));
                s.extend(b"</A>".repeat(d));
                s.extend(b"</CONTENT></REQUEST>");
                s
            }
            // More elements than allowed.
            1 => {
                let mut s = b"<REQUEST><CONTENT>".to_vec();
                s.extend(b"<A/>".repeat(preau_inventory::tree::MAX_NODES * n + 1));
                s.extend(b"</CONTENT></REQUEST>");
                s
            }
            2 => {
                let d = preau_inventory::tree::MAX_DEPTH + 1 + rng.below(5000);
                let mut s = b"{\"action\":\"inventory\",\"content\":".to_vec();
                s.extend(b"[".repeat(d));
                s.extend(b"]".repeat(d));
                s.extend(b"}");
                s
            }
            3 => {
                let mut s =
                    b"{\"action\":\"inventory\",\"deviceid\":\"x\",\"content\":{\"softwares\":["
                        .to_vec();
                s.extend(b"0,".repeat(preau_inventory::tree::MAX_NODES * n));
                s.extend(b"0]}}");
                s
            }
            _ => {
                let mut s = b"<REQUEST><CONTENT><SOFTWARES>".to_vec();
                s.extend(b"<NAME>x</NAME>".repeat(preau_inventory::tree::MAX_NODES * n));
                s.extend(b"</SOFTWARES></CONTENT></REQUEST>");
                s
            }
        };
        // Refused while inflating (too much markup) or while parsing (too deep).
        let sent = body::deflate(&doc, Compression::Zlib);
        if let Ok((inflated, _)) = body::inflate(&sent, None, 64 << 20) {
            assert!(
                preau_inventory::protocol::parse(&inflated).is_err(),
                "a bomb of {} bytes was parsed",
                inflated.len()
            );
        }
    }
}

/// The agents' endpoint, through the router with the demo's agent credentials: whatever
/// is posted, the answer is 200 or a refusal (never 500), and the server answers after.
#[tokio::test]
async fn fuzz_agent_endpoint() {
    let app = TestApp::demo().await;
    let seeds = agent_seeds();
    let mut rng = Rng::new(seed() ^ 1);
    let auth = {
        use base64::Engine;
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode("agent:demo")
        )
    };
    let mut answers = std::collections::BTreeMap::<u16, usize>::new();
    for case in 0..cases() / 2 {
        let plain = if case % 2 == 0 {
            mutate(&mut rng, &seeds, AGENT_TOKENS)
        } else {
            mutate_text(&mut rng, &seeds)
        };
        let sent = body::deflate(&plain, Compression::Zlib);
        let r = app
            .send(
                axum::http::Request::builder()
                    .method(Method::POST)
                    .uri(*rng.pick(&["/ocsinventory", "/inventory", "/front/inventory.php"]))
                    .header("authorization", &auth)
                    .header("content-type", "application/x-compress-zlib")
                    .body(axum::body::Body::from(sent.clone()))
                    .unwrap(),
            )
            .await;
        let status = r.status.as_u16();
        assert!(
            matches!(status, 200 | 400 | 413 | 415 | 422),
            "HTTP {status} on {}: {}",
            keep("agent-endpoint", &sent),
            r.body
        );
        *answers.entry(status).or_default() += 1;
    }
    println!("fuzz_agent_endpoint: {answers:?}");
    let r = app.request(Method::GET, "/healthz", &[], None).await;
    assert_eq!(r.status, 200);
}

/// A file as an import reads it, with the counts of the tables the preview must not
/// change.
struct Upload {
    who: &'static str,
    route: String,
    fields: Vec<(&'static str, String)>,
    field: &'static str,
    seeds: Vec<Vec<u8>>,
    dict: &'static [&'static [u8]],
    untouched: &'static [&'static str],
}

const CSV_TOKENS: &[&[u8]] = &[
    b";",
    b",",
    b"\"",
    b"\"\"",
    b"\r\n",
    b"\n\n",
    b"\xEF\xBB\xBF",
    b"\xFF\xFE",
    b"=HYPERLINK(\"http://x\")",
    b"+cmd|' /C calc'!A0",
    b"@SUM(1)",
    b"31/02/2026",
    b"2026-13-45",
    b"99999999999999999999",
    b"-1",
    b"1 234,56",
    b"\xe9",
    b"\xc3\xa9",
    b"\xe2\x80\xae",
    b"0000000A",
    b"0780001A",
];

async fn uploads(app: &TestApp) -> Vec<Upload> {
    let (a, _) = crate::harness::first_and_other_school(app).await;
    let uai: String = preau_core::with_db!(&app.db, p => sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT uai FROM schools WHERE id = {a}"))).fetch_one(p).await.unwrap());
    let year: i64 = app.scalar("SELECT MAX(id) FROM school_years").await;
    let ticket: i64 = preau_core::with_db!(&app.db, p => sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT MIN(id) FROM tickets WHERE school_id = {a}"))).fetch_one(p).await.unwrap());
    let onde: Vec<String> = (0..6)
        .map(|n| crate::pupils::line(n, "CE2", "CE2 — M. Blanc"))
        .collect();
    let onde = crate::pupils::export(&onde);
    vec![
        Upload {
            who: "admin",
            route: "/schools/import".into(),
            fields: vec![("commune", String::new())],
            field: "file",
            seeds: vec![
                b"uai;nom;type;adresse\n0750655E;\xc9cole maternelle des Essais;maternelle;1 rue A\n".to_vec(),
                format!("Identifiant_de_l_etablissement,Nom_etablissement,Type_etablissement,Adresse_1,Code postal,Nom_commune\n{uai},\"\u{c9}cole, la\",Ecole,\"2 rue B\",78990,Elancourt\n").into_bytes(),
            ],
            dict: CSV_TOKENS,
            untouched: &["SELECT COUNT(*) FROM schools", "SELECT COUNT(*) FROM rooms"],
        },
        Upload {
            who: "admin",
            route: "/devices/import".into(),
            fields: vec![("kind", "devices".into())],
            field: "file",
            seeds: vec![format!(
                "categorie;uai;salle;nom;etat;marque;modele;numero_serie;numero_inventaire;date_achat;prix\n\
                 TNI / TBI (tableau interactif);{uai};Classe 1;TNI C1;en_service;Promethean;ActivPanel 9;PRM-778;VDE-2026-99001;01/09/2026;2 390,00\n\
                 tablette;{uai};;Tablette 3;en_service;Apple;iPad 10;F9X-1;;2025-08-30;449\n"
            )
            .into_bytes()],
            dict: CSV_TOKENS,
            untouched: &["SELECT COUNT(*) FROM devices", "SELECT COUNT(*) FROM device_events"],
        },
        Upload {
            who: "admin",
            route: "/devices/import".into(),
            fields: vec![("kind", "mdm".into())],
            field: "file",
            seeds: vec![
                b"Serial Number,Device Name,Model,OS Version,Last Seen\nF9X-1,iPad-ecole-01,iPad (10th generation),17.5.1,2026-11-30 08:12\n".to_vec(),
                b"numero_serie;nom;modele;systeme;derniere_connexion\nR52T-7;Galaxy Tab A9;SM-X110;Android 14;30/11/2026 08:12\n".to_vec(),
            ],
            dict: CSV_TOKENS,
            untouched: &["SELECT COUNT(*) FROM devices"],
        },
        Upload {
            who: "directeur",
            route: format!("/schools/{a}/onde"),
            fields: vec![("school_year_id", year.to_string())],
            field: "file",
            seeds: vec![
                encoding_rs::WINDOWS_1252.encode(&onde).0.into_owned(),
                onde.into_bytes(),
            ],
            dict: CSV_TOKENS,
            untouched: &["SELECT COUNT(*) FROM pupils", "SELECT COUNT(*) FROM classes"],
        },
        Upload {
            who: "admin",
            route: "/admin/calendar".into(),
            fields: vec![],
            field: "file",
            seeds: vec![b"description;population;start_date;end_date;location;zones;annee_scolaire\n\
                Vacances de No\xc3\xabl;-;2026-12-18T23:00:00+00:00;2027-01-03T23:00:00+00:00;Versailles;Zone C;2026-2027\n\
                Vacances d'Hiver;-;2027-02-19T23:00:00+00:00;2027-03-07T23:00:00+00:00;Paris;Zone C;2026-2027\n"
                .to_vec()],
            dict: CSV_TOKENS,
            untouched: &[],
        },
        Upload {
            who: "directeur",
            route: format!("/tickets/{ticket}/attachments"),
            fields: vec![],
            field: "file",
            seeds: vec![
                b"\xFF\xD8\xFF\xE0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00photo\xFF\xD9".to_vec(),
                b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00".to_vec(),
                b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n".to_vec(),
            ],
            dict: &[b"<html><script>", b"%PDF-", b"\xFF\xD8\xFF", b"\x89PNG", b"\xe2\x80\xae"],
            untouched: &[],
        },
    ]
}

/// The import and upload forms: mutated files, and mutated multipart framing around a
/// good one. Every answer is a page (200, or 4xx naming what is wrong), never a 500; a
/// preview stores nothing; the server answers after.
#[tokio::test]
async fn fuzz_uploads() {
    let app = TestApp::demo().await;
    let targets = uploads(&app).await;
    let mut rng = Rng::new(seed() ^ 2);
    let mut answers = std::collections::BTreeMap::<u16, usize>::new();
    for t in &targets {
        let session = app.login(t.who, "demo").await;
        let mut before = Vec::new();
        for sql in t.untouched {
            before.push(app.scalar(sql).await);
        }
        let names = [
            "a.csv",
            "x.jpg",
            "../../etc/passwd",
            "poly.html",
            "\u{202e}gpj.exe",
            "",
        ];
        for _ in 0..cases() / 4 {
            let file = mutate(&mut rng, &t.seeds, t.dict);
            let name = *rng.pick(&names);
            let fields: Vec<(&str, &str)> =
                t.fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let r = session
                .post_file(&t.route, &fields, Some((t.field, name, &file)))
                .await;
            let status = r.status.as_u16();
            assert!(
                matches!(status, 200 | 303 | 400 | 413 | 415 | 422),
                "{} {}: HTTP {status} on {}",
                t.who,
                t.route,
                keep("upload", &file)
            );
            *answers.entry(status).or_default() += 1;
        }
        for (sql, n) in t.untouched.iter().zip(before) {
            assert_eq!(
                app.scalar(sql).await,
                n,
                "{}: {sql} changed by previews",
                t.route
            );
        }
    }
    // The framing itself: a good upload's multipart body, mutated.
    let session = app.login("admin", "demo").await;
    let good = {
        let mut b = Vec::new();
        for (name, value) in [("csrf", session.csrf.as_str()), ("kind", "devices")] {
            b.extend(
                format!(
                    "--B0UND\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
                )
                .as_bytes(),
            );
        }
        b.extend(b"--B0UND\r\nContent-Disposition: form-data; name=\"file\"; filename=\"p.csv\"\r\nContent-Type: text/csv\r\n\r\ncategorie;uai\ntablette;0780001A\r\n--B0UND--\r\n");
        b
    };
    let framing: &[&[u8]] = &[
        b"--B0UND\r\n",
        b"--B0UND--",
        b"\r\n\r\n",
        b"Content-Disposition: form-data; name=\"file\"; filename=\"",
        b"Content-Type: multipart/mixed; boundary=B0UND\r\n",
        b"filename*=UTF-8''%e2%80%ae.csv",
        b"name=\"csrf\"",
    ];
    let before = app.scalar("SELECT COUNT(*) FROM devices").await;
    for _ in 0..cases() / 2 {
        let body = mutate(&mut rng, std::slice::from_ref(&good), framing);
        let r = app
            .send(
                axum::http::Request::builder()
                    .method(Method::POST)
                    .uri("/devices/import")
                    .header("cookie", &session.cookie)
                    .header("content-type", "multipart/form-data; boundary=B0UND")
                    .body(axum::body::Body::from(body.clone()))
                    .unwrap(),
            )
            .await;
        let status = r.status.as_u16();
        assert!(
            matches!(status, 200 | 400 | 403 | 413 | 415 | 422),
            "multipart: HTTP {status} on {}: {}",
            keep("multipart", &body),
            r.body
        );
        *answers.entry(status).or_default() += 1;
    }
    assert_eq!(app.scalar("SELECT COUNT(*) FROM devices").await, before);
    println!("fuzz_uploads: {answers:?}");
    assert_eq!(
        app.request(Method::GET, "/healthz", &[], None).await.status,
        200
    );
}

/// The parsers of the domain that read typed-in or imported text, directly: no panic
/// whatever they are given.
#[test]
fn fuzz_text_parsers() {
    let mut rng = Rng::new(seed() ^ 3);
    let onde_seed = crate::pupils::export(
        &(0..4)
            .map(|n| crate::pupils::line(n, "CM1", "CM1 — Mme Roux"))
            .collect::<Vec<_>>(),
    );
    let seeds: Vec<Vec<u8>> = vec![
        onde_seed.into_bytes(),
        b"08:30-11:30\n13:30-16:30\n".to_vec(),
        b"0780001A".to_vec(),
        b"lun,mar,jeu,ven;08:00;18:00".to_vec(),
        b"Serial Number,Device Name,Model\nF9X-1,iPad,iPad 10\n".to_vec(),
        b"uai;nom;type\n0750655E;A;maternelle\n".to_vec(),
    ];
    for case in 0..cases() * 5 {
        let bytes = mutate(&mut rng, &seeds, CSV_TOKENS);
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let outcome = std::panic::catch_unwind(|| {
            let _ = preau_domain::onde::parse(&text);
            let _ = preau_domain::booking::parse_slots("slots", &text);
            let _ = preau_domain::booking::Slot::parse("slot", &text);
            let _ = preau_domain::Uai::parse(&text);
            let _ = preau_domain::calendar::Span::parse(&text);
            let _ = preau_domain::paris::parse(&text);
            let _ = preau_domain::connectivity::Probe::parse(&text);
            let _ = preau_inventory::mdm::parse(&text);
            let _ = preau_core::import::decode(&bytes);
            let mut report = preau_core::import::ImportReport::default();
            let _ = preau_core::import::parse_schools(&text, None, &mut report);
        });
        if outcome.is_err() {
            panic!("case {case}: panic on {}", keep("text", &bytes));
        }
    }
}
