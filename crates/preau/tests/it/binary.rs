//! Running the built `preau` binary: a fresh install (a data folder, and on PostgreSQL a
//! schema of its own), its commands, and a server on a free loopback port.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

pub struct Install {
    pub dir: PathBuf,
    /// The PostgreSQL URL of this install's schema, when the tests run on PostgreSQL.
    pub url: Option<String>,
}

impl Install {
    /// A fresh install named `name` (unique per test).
    pub fn new(name: &str) -> Install {
        let dir = std::env::temp_dir().join(format!("preau-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let url = std::env::var("PREAU_TEST_DATABASE_URL")
            .ok()
            .filter(|u| !u.is_empty())
            .map(|base| {
                let schema = format!("{name}_{}", std::process::id());
                std::thread::spawn({
                    let (base, schema) = (base.clone(), schema.clone());
                    move || {
                        tokio::runtime::Runtime::new().unwrap().block_on(async {
                            let admin = preau_core::Db::open_postgres(&base, None).await.unwrap();
                            preau_core::with_db!(&admin, p => sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))).execute(p).await.map(|_| ()).unwrap());
                            admin.close().await;
                            let db = preau_core::Db::open_postgres(&base, Some(&schema)).await.unwrap();
                            db.close().await;
                        })
                    }
                })
                .join()
                .expect("create the test schema");
                let sep = if base.contains('?') { '&' } else { '?' };
                format!("{base}{sep}options%5Bsearch_path%5D={schema}")
            });
        Install { dir, url }
    }

    pub fn backend(&self) -> &'static str {
        if self.url.is_some() {
            "postgres"
        } else {
            "sqlite"
        }
    }

    pub fn command(&self) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_preau"));
        c.arg("--data-dir").arg(&self.dir).env("PREAU_LOG", "warn");
        match &self.url {
            Some(url) => c.env("PREAU_DATABASE_URL", url),
            None => c.env_remove("PREAU_DATABASE_URL"),
        };
        c
    }

    /// Runs a command to its end: (success, stdout, stderr).
    pub fn run(&self, args: &[&str], env: &[(&str, &str)]) -> (bool, String, String) {
        let mut c = self.command();
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

    /// Starts `preau serve` on a free port with `args`; waits for its address.
    pub fn serve(&self, args: &[&str]) -> Server {
        let mut child = self
            .command()
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let url = lines
            .find_map(|l| {
                l.ok()
                    .filter(|l| l.starts_with("http://") || l.starts_with("https://"))
            })
            .expect("listening line");
        // Keep reading the output so that the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        let addr = url
            .trim_start_matches("https://")
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_string();
        Server { child, addr }
    }
}

impl Drop for Install {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

pub struct Server {
    pub child: Child,
    pub addr: String,
}

impl Server {
    /// A plain HTTP/1.1 request; returns the status and the body.
    pub fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> (u16, Vec<u8>) {
        let mut s = std::net::TcpStream::connect(&self.addr).unwrap();
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Length: {}\r\n",
            self.addr,
            body.len()
        );
        for (k, v) in headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        head.push_str("\r\n");
        s.write_all(head.as_bytes()).unwrap();
        s.write_all(body).unwrap();
        let mut out = Vec::new();
        s.read_to_end(&mut out).unwrap();
        let split = out
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .map(|i| i + 4)
            .unwrap_or(out.len());
        let status = String::from_utf8_lossy(&out[..split])
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let head_text = String::from_utf8_lossy(&out[..split]).to_lowercase();
        let body = out[split..].to_vec();
        let body = if head_text.contains("transfer-encoding: chunked") {
            dechunk(&body)
        } else {
            body
        };
        (status, body)
    }

    pub fn get_json(&self, path: &str, token: &str) -> serde_json::Value {
        let (status, body) = self.request(
            "GET",
            path,
            &[("Authorization", &format!("Bearer {token}"))],
            b"",
        );
        assert_eq!(
            status,
            200,
            "GET {path}: {}",
            String::from_utf8_lossy(&body)
        );
        serde_json::from_slice(&body).unwrap()
    }

    /// SIGTERM, and the exit status.
    pub fn stop(mut self) -> std::process::ExitStatus {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        self.child.wait().unwrap()
    }
}

fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(i) = b.windows(2).position(|w| w == b"\r\n") {
        let size = usize::from_str_radix(String::from_utf8_lossy(&b[..i]).trim(), 16).unwrap_or(0);
        if size == 0 {
            break;
        }
        out.extend_from_slice(&b[i + 2..i + 2 + size]);
        b = &b[i + 2 + size + 2..];
    }
    out
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
