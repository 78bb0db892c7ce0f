//! Debian's real inventory agents against the real server: `preau serve --demo` on a free
//! port, then `ocsinventory-agent` and `fusioninventory-agent` run with the command lines
//! the README documents. And an inventory interrupted by killing the server leaves the
//! device as it was or as it became — never half-written.

use preau_inventory::body::{Compression, deflate};
use serde_json::Value;
use std::process::Command;
use std::time::Duration;

use crate::binary::{Install, Server};

fn agent(program: &str, args: &[String]) -> String {
    let out = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program}: {e} (apt-get install {program})"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{program} failed: {text}");
    text
}

/// The devices the agents have just sent: unplaced (the demo's own PCs carry a TAG), and
/// inventoried by `source`.
fn fresh_devices(server: &Server, token: &str, source: &str) -> Vec<Value> {
    let list = server.get_json("/api/v1/devices?unplaced=true&limit=500", token);
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["inventory_source"] == source)
        .cloned()
        .collect()
}

#[test]
fn ocs_and_fusioninventory_agents_report_to_the_server() {
    let install = Install::new("agents");
    let server = install.serve(&["--demo"]);
    let (ok, token, err) = install.run(&["admin", "token", "--user", "admin"], &[]);
    assert!(ok, "{err}");
    let token = token.trim().to_string();
    let url = format!("http://{}/ocsinventory", server.addr);
    let with_creds = format!("http://agent:demo@{}/ocsinventory", server.addr);
    let var = install.dir.join("ocs-var");
    let log = install.dir.join("ocs.log");
    let b64 = |s: &str| {
        let out = Command::new("sh")
            .args(["-c", &format!("printf %s '{s}' | base64")])
            .output()
            .unwrap();
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    };

    // The README's command line. The OCS agent 2.10 reads --user and --password as base64.
    let args: Vec<String> = [
        "--server",
        &url,
        "--user",
        &b64("agent"),
        "--password",
        &b64("demo"),
        "--realm",
        "preau",
        "--basevardir",
        var.to_str().unwrap(),
        "--logfile",
        log.to_str().unwrap(),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    agent("ocsinventory-agent", &args);
    let ocs = fresh_devices(&server, &token, "OCS Inventory agent");
    assert_eq!(
        ocs.len(),
        1,
        "{}",
        std::fs::read_to_string(&log).unwrap_or_default()
    );
    let d = &ocs[0];
    assert!(d["os_name"].as_str().is_some_and(|o| !o.is_empty()), "{d}");
    assert!(d["software_count"].as_i64().unwrap() > 100, "{d}");
    let full = server.get_json(&format!("/api/v1/devices/{}", d["id"]), &token);
    assert_eq!(
        full["software"].as_array().unwrap().len() as i64,
        d["software_count"].as_i64().unwrap()
    );
    // Again: the same device, nothing duplicated.
    agent("ocsinventory-agent", &args);
    assert_eq!(
        fresh_devices(&server, &token, "OCS Inventory agent").len(),
        1
    );
    // The credentials in the URL, as CI runs it.
    let var2 = install.dir.join("ocs-var-2");
    agent(
        "ocsinventory-agent",
        &[
            "--server".into(),
            with_creds.clone(),
            "--basevardir".into(),
            var2.to_str().unwrap().into(),
            "--logfile".into(),
            log.to_str().unwrap().into(),
        ],
    );
    assert_eq!(
        fresh_devices(&server, &token, "OCS Inventory agent").len(),
        2,
        "a second agent install is a second device (no UUID on this machine)"
    );

    // FusionInventory, with the README's command line, then with credentials in the URL.
    let fusion_common =
        ["--no-category=environment,process,user,local_user,local_group".to_string()];
    let mut args: Vec<String> = ["--server", &url, "--user", "agent", "--password", "demo"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    args.extend(fusion_common.iter().cloned());
    agent("fusioninventory-agent", &args);
    let fusion = fresh_devices(&server, &token, "FusionInventory agent");
    assert_eq!(fusion.len(), 1);
    assert!(fusion[0]["software_count"].as_i64().unwrap() > 100);
    // The machine the tests run on is Debian (its packages provide the agents).
    assert!(
        fusion[0]["os_name"]
            .as_str()
            .is_some_and(|o| o.contains("Debian")),
        "{}",
        fusion[0]["os_name"]
    );
    let mut args: Vec<String> = vec!["--server".into(), with_creds];
    args.extend(fusion_common.iter().cloned());
    agent("fusioninventory-agent", &args);
    assert_eq!(
        fresh_devices(&server, &token, "FusionInventory agent").len(),
        1
    );

    // Wrong credentials: the agent is refused and nothing is stored.
    let before = server.get_json("/api/v1/devices?limit=1", &token);
    let out = Command::new("fusioninventory-agent")
        .args(["--server", &url, "--user", "agent", "--password", "faux"])
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stderr).to_string() + &String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("401") || text.to_lowercase().contains("authentication"),
        "{text}"
    );
    let after = server.get_json("/api/v1/devices?limit=1", &token);
    assert_eq!(before["items"][0]["id"], after["items"][0]["id"]);
    assert!(server.stop().success());
}

/// The inventory of a machine named `name` with the first `software` entries of the OCS
/// capture.
fn inventory(name: &str, software: usize) -> Vec<u8> {
    crate::inventory::ocs_inventory(
        &format!("{name}-id"),
        name,
        Some("11111111-2222-3333-4444-555555555555"),
        None,
        None,
        Some(software),
    )
}

#[test]
fn a_killed_server_leaves_each_inventory_whole_or_absent() {
    let install = Install::new("killed");
    let server = install.serve(&["--demo"]);
    let headers = [
        ("Authorization", crate::inventory::DEMO_AGENT),
        ("Content-Type", "application/x-compress"),
    ];
    let (status, _) = server.request(
        "POST",
        "/ocsinventory",
        &headers,
        &deflate(&inventory("pc-kill", 926), Compression::Zlib),
    );
    assert_eq!(status, 200);
    // A new version of the inventory is sent and the server killed while it works on it.
    let body = deflate(&inventory("pc-kill", 400), Compression::Zlib);
    let addr = server.addr.clone();
    let sender = std::thread::spawn(move || {
        let mut s = std::net::TcpStream::connect(&addr).unwrap();
        use std::io::Write;
        let head = format!(
            "POST /ocsinventory HTTP/1.1\r\nHost: {addr}\r\nAuthorization: {}\r\nContent-Type: application/x-compress\r\nContent-Length: {}\r\n\r\n",
            crate::inventory::DEMO_AGENT,
            body.len()
        );
        let _ = s.write_all(head.as_bytes());
        let _ = s.write_all(&body);
    });
    sender.join().unwrap();
    std::thread::sleep(Duration::from_millis(3));
    let mut server = server;
    let _ = Command::new("kill")
        .args(["-KILL", &server.child.id().to_string()])
        .status();
    let _ = server.child.wait();
    drop(server);
    // Restarted: the device is whole, its software list matching its count (926 or 400).
    let server = install.serve(&[]);
    let (ok, token, err) = install.run(&["admin", "token", "--user", "admin"], &[]);
    assert!(ok, "{err}");
    let list = server.get_json("/api/v1/devices?search=pc-kill", token.trim());
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    let count = items[0]["software_count"].as_i64().unwrap();
    assert!(count == 926 || count == 400, "{count}");
    let full = server.get_json(&format!("/api/v1/devices/{}", items[0]["id"]), token.trim());
    assert_eq!(full["software"].as_array().unwrap().len() as i64, count);
    assert!(server.stop().success());
}

/// One inventory posted on its own connection: the status answered, or `None` when the
/// server went away before answering.
fn post_raw(addr: &str, body: &[u8]) -> Option<u16> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(20))).ok()?;
    let head = format!(
        "POST /ocsinventory HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nAuthorization: {}\r\nContent-Type: application/x-compress\r\nContent-Length: {}\r\n\r\n",
        crate::inventory::DEMO_AGENT,
        body.len()
    );
    s.write_all(head.as_bytes()).ok()?;
    s.write_all(body).ok()?;
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    String::from_utf8_lossy(&out)
        .lines()
        .next()?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

#[test]
fn every_inventory_acknowledged_before_a_kill_is_stored() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Mutex};
    let install = Install::new("storm");
    let mut server = install.serve(&["--demo"]);
    let stop = Arc::new(AtomicBool::new(false));
    let acked = Arc::new(Mutex::new(Vec::new()));
    // Four agents sending one inventory after another, each machine its own.
    let agents: Vec<_> = (0..4)
        .map(|a| {
            let (addr, stop, acked) = (server.addr.clone(), stop.clone(), acked.clone());
            std::thread::spawn(move || {
                for k in 0.. {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let name = format!("pc-storm-{a}-{k}");
                    // Each machine its own: identifier, UUID and serial.
                    let xml = crate::inventory::ocs_inventory(
                        &format!("{name}-id"),
                        &name,
                        Some(&format!("{a:08}-0000-4000-8000-{k:012}")),
                        Some(&format!("SN-STORM-{a}-{k}")),
                        None,
                        Some(200),
                    );
                    let body = deflate(&xml, Compression::Zlib);
                    match post_raw(&addr, &body) {
                        Some(200) => acked.lock().unwrap().push(name),
                        Some(_) => {}
                        None => break,
                    }
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(2500));
    let _ = Command::new("kill")
        .args(["-KILL", &server.child.id().to_string()])
        .status();
    let _ = server.child.wait();
    stop.store(true, Ordering::SeqCst);
    for a in agents {
        a.join().unwrap();
    }
    drop(server);
    let acked = acked.lock().unwrap().clone();
    assert!(
        acked.len() >= 8,
        "only {} inventories answered",
        acked.len()
    );
    // Restarted: every inventory answered 200 is there, whole.
    let server = install.serve(&[]);
    let (ok, token, err) = install.run(&["admin", "token", "--user", "admin"], &[]);
    assert!(ok, "{err}");
    // Every stored storm machine, by name, with its software count (pages of 500).
    let mut stored = std::collections::HashMap::new();
    let mut cursor = String::new();
    loop {
        let list = server.get_json(
            &format!("/api/v1/devices?search=pc-storm&limit=500{cursor}"),
            token.trim(),
        );
        for i in list["items"].as_array().unwrap() {
            let name = i["name"].as_str().unwrap_or_default().to_string();
            *stored.entry(name).or_insert(0) += 1;
            assert_eq!(i["software_count"].as_i64(), Some(200), "{i}");
        }
        match list["next"].as_str() {
            Some(n) => cursor = format!("&cursor={n}"),
            None => break,
        }
    }
    let lost: Vec<&String> = acked
        .iter()
        .filter(|n| stored.get(*n) != Some(&1))
        .collect();
    assert!(
        lost.is_empty(),
        "{} of {} acknowledged inventories lost: {lost:?}",
        lost.len(),
        acked.len()
    );
    assert!(server.stop().success());
}
