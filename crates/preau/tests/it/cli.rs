//! The binary itself: bootstrap a fresh install from the command line, then serve it and
//! stop it with SIGTERM — on the SQLite file of a data folder, or on PostgreSQL (a fresh
//! schema) when the tests run against it.

use crate::binary::Install;

#[test]
fn fresh_install_from_the_command_line() {
    let install = Install::new("cli");
    let dir = install.dir.clone();
    let run = |_: &std::path::PathBuf, args: &[&str], env: &[(&str, &str)]| install.run(args, env);
    let (ok, out, err) = run(&dir, &["migrate"], &[]);
    assert!(ok, "{err}");
    assert!(out.contains(install.backend()), "{out}");
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
    // The SLA clock on the school's calendar: Friday 19 December 2025 at 15:00 plus 4
    // working hours is 1 h 30 that Friday, then 2 h 30 after the Christmas holidays.
    let (ok, out, err) = run(
        &dir,
        &[
            "sla",
            "deadline",
            "--uai",
            uai.as_str(),
            "--start",
            "2025-12-19T15:00",
            "--duration",
            "4h",
        ],
        &[],
    );
    assert!(ok, "{err}");
    assert_eq!(out.trim(), "2026-01-05T11:00:00+01:00");
    let (ok, _, err) = run(
        &dir,
        &[
            "sla",
            "deadline",
            "--uai",
            uai.as_str(),
            "--start",
            "2025-12-19T15:00",
            "--duration",
            "4 semaines",
        ],
        &[],
    );
    assert!(!ok && err.contains("Durée invalide"), "{err}");
    // The next year's holidays come from the official export (instants, as published).
    let official = dir.join("fr-en-calendrier-scolaire.csv");
    std::fs::write(
        &official,
        "description;start_date;end_date;zones;location;population;annee_scolaire\n\
         Vacances de Noël;2026-12-18T23:00:00+00:00;2027-01-03T23:00:00+00:00;Zone C;Versailles;-;2026-2027\n\
         Vacances de Noël;2026-12-18T23:00:00+00:00;2027-01-03T23:00:00+00:00;Zone A;Lyon;-;2026-2027\n",
    )
    .unwrap();
    let (ok, out, err) = run(
        &dir,
        &["import", "calendar", official.to_str().unwrap()],
        &[],
    );
    assert!(ok && out.contains("2 période(s) ajoutée(s)"), "{out}{err}");
    let (ok, out, _) = run(
        &dir,
        &["import", "calendar", official.to_str().unwrap()],
        &[],
    );
    assert!(
        ok && out.contains("0 période(s) ajoutée(s), 2 déjà connue(s)"),
        "{out}"
    );
    let (ok, out, err) = run(
        &dir,
        &[
            "sla",
            "deadline",
            "--uai",
            uai.as_str(),
            "--start",
            "2026-12-18T15:00",
            "--duration",
            "4h",
        ],
        &[],
    );
    assert!(ok, "{err}");
    assert_eq!(out.trim(), "2027-01-04T11:00:00+01:00");
    let (ok, token, err) = run(&dir, &["admin", "token", "--user", "dsi"], &[]);
    assert!(ok, "{err}");
    let token = token.trim().to_string();
    assert!(token.starts_with("preau_"));

    let server = install.serve(&["--metrics-token", "jeton-de-supervision-2026"]);
    let (status, _) = server.request("GET", "/healthz", &[], b"");
    assert_eq!(status, 200);
    let schools = server.get_json("/api/v1/schools", &token);
    assert!(schools.to_string().contains(uai.as_str()), "{schools}");
    // The periodic passes run at start and are measured.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let (status, body) = server.request(
            "GET",
            "/metrics",
            &[("Authorization", "Bearer jeton-de-supervision-2026")],
            b"",
        );
        assert_eq!(status, 200);
        let text = String::from_utf8_lossy(&body);
        if text.contains("preau_pass_duration_seconds_count{pass=\"tickets\"} 1") {
            assert!(text.contains("route=\"/api/v1/schools\""), "{text}");
            assert!(text.contains("preau_pass_failures_total{pass=\"tickets\"} 0"));
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{text}");
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    let exit = server.stop();
    assert!(exit.success(), "clean shutdown on SIGTERM: {exit:?}");
}

#[test]
fn backup_and_restore_from_the_command_line() {
    let install = Install::new("backup");
    // What an upgrade would do, said before it is done.
    let (ok, out, err) = install.run(&["migrate", "--dry-run"], &[]);
    assert!(ok, "{err}");
    assert!(
        out.contains("pending: 0001 foundation") && out.contains("pending: 0023 backups"),
        "{out}"
    );
    let (ok, _, err) = install.run(&["migrate"], &[]);
    assert!(ok, "{err}");
    let (ok, out, _) = install.run(&["migrate", "--dry-run"], &[]);
    assert!(ok && out.contains("no migration pending"), "{out}");
    let (ok, _, err) = install.run(
        &[
            "admin",
            "create-collectivite",
            "--name",
            "Commune Sauvegardée",
            "--insee",
            "78208",
        ],
        &[],
    );
    assert!(ok, "{err}");
    // Moved into a new SQLite data folder (from SQLite, or from PostgreSQL), it is there.
    let moved = install.dir.join("moved");
    let moved_s = moved.to_str().unwrap();
    let (ok, out, err) = install.run(&["copy", "--to", moved_s], &[]);
    assert!(ok, "{err}");
    assert!(out.contains("copied") && out.contains("to sqlite"), "{out}");
    let (ok, _, err) = install.run(&["copy", "--to", moved_s], &[]);
    assert!(!ok && err.contains("not empty"), "{err}");
    let there = std::process::Command::new(env!("CARGO_BIN_EXE_preau"))
        .args(["--data-dir", moved_s, "admin", "create-collectivite"])
        .args(["--name", "Commune Sauvegardée", "--insee", "78208"])
        .env_remove("PREAU_DATABASE_URL")
        .output()
        .unwrap();
    assert!(
        !there.status.success(),
        "the copied collectivité is already there"
    );
    let file = install.dir.join("nuit.preau");
    let file_s = file.to_str().unwrap();
    if install.backend() == "sqlite" {
        let (ok, out, err) = install.run(&["backup", file_s], &[]);
        assert!(ok, "{err}");
        assert!(out.contains("backup written"), "{out}");
        let (ok, _, err) = install.run(&["backup", file_s], &[]);
        assert!(!ok && err.contains("already exists"), "{err}");
        // Never over a database in place.
        let (ok, _, err) = install.run(&["restore", file_s], &[]);
        assert!(!ok && err.contains("already holds a database"), "{err}");
        // Into an empty data folder: the collectivité is there again.
        let elsewhere = Install::new("restored");
        let (ok, out, err) = elsewhere.run(&["restore", file_s], &[]);
        assert!(ok, "{err}");
        assert!(out.contains("restored"), "{out}");
        let (ok, out, err) = elsewhere.run(&["export", "schools"], &[]);
        assert!(ok, "{err}");
        assert!(out.starts_with('\u{feff}') || out.contains("uai"), "{out}");
        let (ok, _, err) = elsewhere.run(
            &[
                "admin",
                "create-collectivite",
                "--name",
                "Commune Sauvegardée",
                "--insee",
                "78208",
            ],
            &[],
        );
        assert!(!ok, "the restored collectivité is already there: {err}");
    } else {
        // A PostgreSQL database that holds Préau already is never restored over.
        std::fs::write(&file, b"PGDMP").unwrap();
        let (ok, _, err) = install.run(&["restore", file_s], &[]);
        assert!(!ok && err.contains("already holds"), "{err}");
    }
    // A file that is not there is named.
    let (ok, _, err) = install.run(&["restore", "/nonexistent/preau.backup"], &[]);
    assert!(!ok && err.contains("/nonexistent/preau.backup"), "{err}");
}

#[test]
fn serves_https_itself_with_a_certificate_and_tells_browsers_to_keep_to_it() {
    let install = Install::new("tls");
    let (ok, _, err) = install.run(&["migrate"], &[]);
    assert!(ok, "{err}");
    let (cert, key) = (install.dir.join("cert.pem"), install.dir.join("key.pem"));
    let made = std::process::Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=localhost",
            "-keyout",
        ])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("openssl");
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    // A key that is not there is named, and nothing is served.
    let missing = install.dir.join("absent.pem");
    let (ok, _, err) = install.run(
        &[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--tls-cert",
            cert.to_str().unwrap(),
            "--tls-key",
            missing.to_str().unwrap(),
        ],
        &[],
    );
    assert!(!ok && err.contains("absent.pem"), "{err}");
    let server = install.serve(&[
        "--tls-cert",
        cert.to_str().unwrap(),
        "--tls-key",
        key.to_str().unwrap(),
    ]);
    // Over TLS (the test trusts its own certificate): healthy, and HSTS said.
    let script = format!(
        "import ssl, urllib.request\nctx = ssl.create_default_context(cafile='{}')\nctx.check_hostname = False\nr = urllib.request.urlopen('https://{}/healthz', context=ctx, timeout=10)\nprint(r.status, r.headers.get('strict-transport-security'))",
        cert.display(),
        server.addr
    );
    let out = std::process::Command::new("/usr/bin/python3")
        .args(["-c", &script])
        .output()
        .expect("python3");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.trim() == "200 max-age=31536000",
        "{text} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Plain HTTP on the TLS port gets no page.
    let (status, _) = server.request("GET", "/healthz", &[], b"");
    assert_ne!(status, 200);
    let exit = server.stop();
    assert!(exit.success(), "clean shutdown on SIGTERM: {exit:?}");
}
