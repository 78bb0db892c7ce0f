//! The binary itself: bootstrap a fresh install from the command line, then serve it and
//! stop it with SIGTERM — on the SQLite file of a data folder, or on PostgreSQL (a fresh
//! schema) when the tests run against it.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};

/// The database URL the binary is given: a fresh PostgreSQL schema when the tests run on
/// PostgreSQL, else none (the SQLite file in the data folder).
fn database_url() -> Option<String> {
    static URL: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    URL.get_or_init(|| {
        let base = std::env::var("PREAU_TEST_DATABASE_URL")
            .ok()
            .filter(|u| !u.is_empty())?;
        let schema = format!("cli_{}", std::process::id());
        tokio::runtime::Runtime::new()
            .unwrap()
            .block_on(async {
                let db = preau_core::Db::open_postgres(&base, Some(&schema)).await?;
                db.close().await;
                anyhow::Ok(())
            })
            .expect("create the test schema");
        let sep = if base.contains('?') { '&' } else { '?' };
        Some(format!("{base}{sep}options%5Bsearch_path%5D={schema}"))
    })
    .clone()
}

fn preau(dir: &std::path::Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_preau"));
    c.arg("--data-dir").arg(dir).env("PREAU_LOG", "warn");
    match database_url() {
        Some(url) => c.env("PREAU_DATABASE_URL", url),
        None => c.env_remove("PREAU_DATABASE_URL"),
    };
    c
}

fn run(dir: &std::path::Path, args: &[&str], env: &[(&str, &str)]) -> (bool, String, String) {
    let mut c = preau(dir);
    c.args(args);
    for (k, v) in env {
        c.env(k, v);
    }
    let out = c.output().expect("run preau");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn http_get(addr: &str, path: &str, token: Option<&str>) -> String {
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\n{auth}Connection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

#[test]
fn fresh_install_from_the_command_line() {
    let dir = std::env::temp_dir().join(format!("preau-cli-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let (ok, out, err) = run(&dir, &["migrate"], &[]);
    assert!(ok, "{err}");
    let backend = if database_url().is_some() {
        "postgres"
    } else {
        "sqlite"
    };
    assert!(out.contains(backend), "{out}");
    let (ok, _, err) = run(
        &dir,
        &[
            "admin",
            "create-collectivite",
            "--name",
            "Commune de Test",
            "--insee",
            "78208",
        ],
        &[],
    );
    assert!(ok, "{err}");
    let csv = dir.join("ecoles.csv");
    std::fs::write(
        &csv,
        "uai;nom;type;adresse\n0781234X;École maternelle du Parc;maternelle;1 rue du Parc\n",
    )
    .unwrap();
    // 0781234X has a wrong check letter: refused, with the line and the field.
    let (ok, _, err) = run(&dir, &["import", "schools", csv.to_str().unwrap()], &[]);
    assert!(!ok);
    assert!(err.contains("ligne 2") && err.contains("uai"), "{err}");
    let uai = preau_domain::Uai::from_digits(781_234);
    std::fs::write(
        &csv,
        format!("uai;nom;type;adresse\n{uai};École maternelle du Parc;maternelle;1 rue du Parc\n"),
    )
    .unwrap();
    let (ok, out, err) = run(&dir, &["import", "schools", csv.to_str().unwrap()], &[]);
    assert!(ok, "{err}");
    assert!(out.contains("1 créée"), "{out}");
    let (ok, out, _) = run(&dir, &["import", "schools", csv.to_str().unwrap()], &[]);
    assert!(
        ok && out.contains("0 créée(s), 0 mise(s) à jour, 1 inchangée"),
        "{out}"
    );
    let (ok, out, _) = run(&dir, &["export", "schools"], &[]);
    assert!(ok && out.contains(uai.as_str()));
    let (ok, _, err) = run(
        &dir,
        &[
            "admin",
            "create-user",
            "--login",
            "dsi",
            "--role",
            "administrateur",
            "--name",
            "DSI",
        ],
        &[("PREAU_PASSWORD", "mot-de-passe-solide")],
    );
    assert!(ok, "{err}");
    let (ok, _, err) = run(
        &dir,
        &[
            "admin",
            "create-user",
            "--login",
            "dir",
            "--role",
            "directeur",
        ],
        &[("PREAU_PASSWORD", "mot-de-passe-solide")],
    );
    assert!(!ok && err.contains("--scope"), "{err}");
    let (ok, _, err) = run(
        &dir,
        &[
            "admin",
            "create-user",
            "--login",
            "dir",
            "--role",
            "directeur",
            "--scope",
            uai.as_str(),
        ],
        &[("PREAU_PASSWORD", "mot-de-passe-solide")],
    );
    assert!(ok, "{err}");
    let (ok, token, err) = run(&dir, &["admin", "token", "--user", "dsi"], &[]);
    assert!(ok, "{err}");
    let token = token.trim().to_string();
    assert!(token.starts_with("preau_"));

    let mut child = preau(&dir)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let url = lines
        .find_map(|l| l.ok().filter(|l| l.starts_with("http://")))
        .expect("listening line");
    let addr = url
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_string();
    assert!(http_get(&addr, "/healthz", None).starts_with("HTTP/1.1 200"));
    let me = http_get(&addr, "/api/v1/schools", Some(&token));
    assert!(me.contains(uai.as_str()), "{me}");
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = child.wait().unwrap();
    assert!(exit.success(), "clean shutdown on SIGTERM: {exit:?}");
    let _ = std::fs::remove_dir_all(&dir);
}
