//! `TestApp`: the real router on a real, fresh database, driven in process.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use preau_core::Db;
use serde_json::Value;
use std::sync::atomic::{AtomicUsize, Ordering};
use tower::ServiceExt;

static N: AtomicUsize = AtomicUsize::new(0);

pub struct TestApp {
    pub db: Db,
    pub router: axum::Router,
    _dir: Option<std::path::PathBuf>,
}

pub struct Resp {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: String,
    pub bytes: Vec<u8>,
}

impl Resp {
    /// Where a redirect points (empty when it is none).
    pub fn location(&self) -> String {
        self.headers
            .get("location")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    }

    pub fn body_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The fields a problem+json answer names in its `errors`, in order.
    pub fn error_fields(&self) -> Vec<String> {
        self.json()["errors"]
            .as_array()
            .map(|list| {
                list.iter()
                    .filter_map(|e| e["field"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

/// A fresh, migrated database on the backend the environment names.
pub async fn fresh_db() -> (Db, Option<std::path::PathBuf>) {
    fresh_db_until(i64::MAX).await
}

/// A fresh database on the schema of migration `last`.
pub async fn fresh_db_until(last: i64) -> (Db, Option<std::path::PathBuf>) {
    let n = N.fetch_add(1, Ordering::SeqCst);
    match std::env::var("PREAU_TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty())
    {
        Some(url) => {
            let schema = format!(
                "t_{}_{}_{}",
                std::process::id(),
                n,
                chrono::Utc::now().timestamp_subsec_nanos()
            );
            let db = Db::open_postgres(&url, Some(&schema))
                .await
                .expect("postgres");
            db.migrate_until(last).await.expect("migrate");
            (db, None)
        }
        None => {
            let dir = std::env::temp_dir().join(format!("preau-it-{}-{n}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            let db = Db::open_sqlite(&dir).await.expect("sqlite");
            db.migrate_until(last).await.expect("migrate");
            (db, Some(dir))
        }
    }
}

impl TestApp {
    /// A fresh database with the demo commune loaded.
    pub async fn demo() -> TestApp {
        TestApp::demo_with(preau_web::WebConfig {
            secure_cookies: false,
            ..Default::default()
        })
        .await
    }

    /// The demo loaded on the schema of migration `version`, then upgraded to the current
    /// one, as a deployment of that version would be. Today's demo also keeps in-app
    /// notifications (migration 22): that table is made first when the version predates
    /// it.
    pub async fn demo_upgraded_from(version: i64) -> TestApp {
        let (db, dir) = fresh_db_until(version).await;
        if version < 22 {
            db.migrate_only(&[22]).await.expect("notifications");
        }
        preau_core::demo::load_if_empty(&db, chrono::Utc::now())
            .await
            .expect("demo");
        db.migrate().await.expect("upgrade");
        TestApp {
            _dir: dir,
            ..TestApp::serving(db)
        }
    }

    /// A second pool on this app's database, as another node of the deployment has.
    pub async fn other_node(&self) -> Db {
        match &self.db {
            Db::Sqlite(..) => Db::open_sqlite(self._dir.as_ref().expect("the SQLite folder"))
                .await
                .unwrap(),
            Db::Postgres(pool) => {
                let schema: String = sqlx::query_scalar("SELECT current_schema()::text")
                    .fetch_one(pool)
                    .await
                    .unwrap();
                let url = std::env::var("PREAU_TEST_DATABASE_URL").unwrap();
                Db::open_postgres(&url, Some(&schema)).await.unwrap()
            }
        }
    }

    /// Serves a database made elsewhere (a copy, a restored backup).
    pub fn serving(db: Db) -> TestApp {
        let router = preau_web::router(preau_web::AppState::new(
            db.clone(),
            preau_web::WebConfig {
                secure_cookies: false,
                ..Default::default()
            },
        ));
        TestApp {
            db,
            router,
            _dir: None,
        }
    }

    /// The demo under another configuration (limits, agent paths…).
    pub async fn demo_with(config: preau_web::WebConfig) -> TestApp {
        let (db, dir) = fresh_db().await;
        preau_core::demo::load_if_empty(&db, chrono::Utc::now())
            .await
            .expect("demo");
        let router = preau_web::router(preau_web::AppState::new(db.clone(), config));
        TestApp {
            db,
            router,
            _dir: dir,
        }
    }

    pub async fn request(
        &self,
        method: Method,
        uri: &str,
        headers: &[(&str, String)],
        body: Option<String>,
    ) -> Resp {
        let mut req = Request::builder().method(method).uri(uri);
        for (k, v) in headers {
            req = req.header(*k, v);
        }
        let req = req.body(body.map(Body::from).unwrap_or_default()).unwrap();
        self.send(req).await
    }

    pub async fn send(&self, req: Request<Body>) -> Resp {
        let resp = self.router.clone().oneshot(req).await.unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = axum::body::to_bytes(resp.into_body(), 16 << 20)
            .await
            .unwrap();
        Resp {
            status,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
            bytes: bytes.to_vec(),
        }
    }

    /// Someone not signed in, with the anonymous CSRF token the sign-in pages give.
    pub async fn anonymous(&self) -> Session<'_> {
        let page = self.request(Method::GET, "/login", &[], None).await;
        let anon = set_cookie(&page, "preau_csrf").expect("csrf cookie");
        Session {
            app: self,
            cookie: format!("preau_csrf={anon}"),
            csrf: anon,
        }
    }

    /// The session a successful sign-in answer opened (its cookies).
    pub fn session_from(&self, resp: &Resp) -> Session<'_> {
        let sid = set_cookie(resp, "preau_session").expect("session cookie");
        let csrf = set_cookie(resp, "preau_csrf").expect("session csrf");
        Session {
            app: self,
            cookie: format!("preau_session={sid}; preau_csrf={csrf}"),
            csrf,
        }
    }

    /// Logs in through the real form and returns a browser-like session.
    pub async fn login(&self, login: &str, password: &str) -> Session<'_> {
        let page = self.request(Method::GET, "/login", &[], None).await;
        let anon = set_cookie(&page, "preau_csrf").expect("csrf cookie");
        let body = format!("csrf={anon}&login={login}&password={password}&next=/");
        let resp = self
            .request(
                Method::POST,
                "/login",
                &[
                    ("cookie", format!("preau_csrf={anon}")),
                    ("content-type", "application/x-www-form-urlencoded".into()),
                ],
                Some(body),
            )
            .await;
        assert_eq!(
            resp.status,
            StatusCode::SEE_OTHER,
            "login {login} failed: {}",
            resp.body
        );
        self.session_from(&resp)
    }

    /// An API token for a demo user, made the way the CLI makes it.
    pub async fn token(&self, login: &str) -> String {
        let u = preau_core::users::find_by_login(&self.db, login)
            .await
            .unwrap()
            .unwrap();
        let sys = preau_domain::Principal::system(u.collectivite_id, "test");
        let mut tx = self.db.begin().await.unwrap();
        let t =
            preau_core::users::auth::create_token(&mut tx, &sys, u.id, "test", chrono::Utc::now())
                .await
                .unwrap();
        tx.commit().await.unwrap();
        t
    }

    pub async fn api(&self, token: &str, method: Method, uri: &str, body: Option<Value>) -> Resp {
        let mut headers = vec![("authorization", format!("Bearer {token}"))];
        if body.is_some() {
            headers.push(("content-type", "application/json".into()));
        }
        self.request(method, uri, &headers, body.map(|b| b.to_string()))
            .await
    }

    pub async fn scalar(&self, sql: &'static str) -> i64 {
        preau_core::with_db!(&self.db, p => sqlx::query_scalar::<_, i64>(sql).fetch_one(p).await.unwrap())
    }
}

pub fn set_cookie(resp: &Resp, name: &str) -> Option<String> {
    resp.headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| {
            let (kv, _) = v.split_once(';').unwrap_or((v, ""));
            let (k, val) = kv.split_once('=')?;
            (k == name).then(|| val.to_string())
        })
}

pub struct Session<'a> {
    pub app: &'a TestApp,
    pub cookie: String,
    pub csrf: String,
}

impl Session<'_> {
    pub async fn get(&self, uri: &str) -> Resp {
        self.app
            .request(Method::GET, uri, &[("cookie", self.cookie.clone())], None)
            .await
    }

    /// Posts a form with the session's CSRF token added.
    pub async fn post(&self, uri: &str, form: &[(&str, &str)]) -> Resp {
        let mut body = format!("csrf={}", self.csrf);
        for (k, v) in form {
            body.push_str(&format!("&{k}={}", preau_web::session::url_encode(v)));
        }
        self.app
            .request(
                Method::POST,
                uri,
                &[
                    ("cookie", self.cookie.clone()),
                    ("content-type", "application/x-www-form-urlencoded".into()),
                ],
                Some(body),
            )
            .await
    }
}

impl Session<'_> {
    /// Posts a `multipart/form-data` form (a file upload) with the session's CSRF token.
    pub async fn post_file(
        &self,
        uri: &str,
        fields: &[(&str, &str)],
        file: Option<(&str, &str, &[u8])>,
    ) -> Resp {
        let boundary = "----preau-test-boundary-7MA4YWxkTrZu0gW";
        let mut body: Vec<u8> = Vec::new();
        let mut part = |name: &str, filename: Option<&str>, value: &[u8]| {
            body.extend(format!("--{boundary}\r\n").as_bytes());
            match filename {
                Some(f) => body.extend(
                    format!("Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\nContent-Type: text/csv\r\n\r\n").as_bytes(),
                ),
                None => body.extend(
                    format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes(),
                ),
            }
            body.extend(value);
            body.extend(b"\r\n");
        };
        part("csrf", None, self.csrf.as_bytes());
        for (k, v) in fields {
            part(k, None, v.as_bytes());
        }
        if let Some((name, filename, bytes)) = file {
            part(name, Some(filename), bytes);
        }
        body.extend(format!("--{boundary}--\r\n").as_bytes());
        let req = Request::builder()
            .method(Method::POST)
            .uri(uri)
            .header("cookie", self.cookie.clone())
            .header(
                "content-type",
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(Body::from(body))
            .unwrap();
        self.app.send(req).await
    }
}

/// The id of the demo's first school (the directeur's) and of another one.
pub async fn first_and_other_school(app: &TestApp) -> (i64, i64) {
    let ids: Vec<i64> = preau_core::with_db!(&app.db, p => sqlx::query_scalar("SELECT id FROM schools ORDER BY id").fetch_all(p).await.unwrap());
    (ids[0], ids[ids.len() - 1])
}

/// A real SMTP listener on loopback (Debian's `python3-aiosmtpd`), keeping what it
/// receives in a Maildir; stopped when dropped.
pub struct SmtpListener {
    pub port: u16,
    child: std::process::Child,
    pub dir: std::path::PathBuf,
}

impl SmtpListener {
    pub async fn start(dir: std::path::PathBuf, port: Option<u16>) -> SmtpListener {
        let port = port.unwrap_or_else(|| {
            std::net::TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port()
        });
        // The Maildir (with its tmp, new and cur) is made by the listener itself.
        let child = std::process::Command::new("/usr/bin/python3")
            .args([
                "-m",
                "aiosmtpd",
                "-n",
                "-l",
                &format!("127.0.0.1:{port}"),
                "-c",
                "aiosmtpd.handlers.Mailbox",
            ])
            .arg(&dir)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("python3 -m aiosmtpd (apt-get install python3-aiosmtpd)");
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        SmtpListener { port, child, dir }
    }

    /// Every message received so far, as raw text.
    pub fn messages(&self) -> Vec<String> {
        let mut out = Vec::new();
        for sub in ["new", "cur"] {
            if let Ok(entries) = std::fs::read_dir(self.dir.join(sub)) {
                for e in entries.flatten() {
                    out.push(
                        String::from_utf8_lossy(&std::fs::read(e.path()).unwrap()).into_owned(),
                    );
                }
            }
        }
        out
    }
}

impl Drop for SmtpListener {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The routes of the pages' router, read from its source, with the methods each answers:
/// a route added without a handler method here is still walked.
pub fn page_routes() -> Vec<(String, bool)> {
    let source = include_str!("../../../preau-web/src/pages/mod.rs");
    source
        .split(".route(")
        .skip(1)
        .filter_map(|chunk| {
            let path = chunk.split('"').nth(1)?;
            path.starts_with('/')
                .then(|| (path.to_string(), chunk.contains("post(")))
        })
        .collect()
}

/// A route's path with its parameters filled: ids with 1, the rest with a word.
pub fn filled(path: &str) -> String {
    let mut out = String::new();
    let mut rest = path;
    while let Some(i) = rest.find('{') {
        out.push_str(&rest[..i]);
        let end = rest[i..].find('}').map_or(rest.len(), |j| i + j + 1);
        let name = &rest[i + 1..end - 1];
        out.push_str(match name {
            "format" => "csv",
            "file" | "token" => "x.ics",
            _ => "1",
        });
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// Whether a concrete path (query aside) is an instance of a route's pattern.
pub fn matches_route(path: &str, route: &str) -> bool {
    let path = path.split('?').next().unwrap_or_default();
    let (p, r): (Vec<&str>, Vec<&str>) = (path.split('/').collect(), route.split('/').collect());
    p.len() == r.len()
        && p.iter()
            .zip(&r)
            .all(|(a, b)| a == b || (b.starts_with('{') && b.ends_with('}')))
}

/// An XLSX workbook read back: each sheet's name and its cells' text, tab-separated by
/// cell and one line per row (numbers as stored, `749.00`).
pub fn xlsx_sheets(book: &[u8]) -> Vec<(String, String)> {
    use std::io::Read;
    let mut parts = std::collections::BTreeMap::new();
    let mut at = 0;
    while book.len() > at + 30 && book[at..].starts_with(b"PK\x03\x04") {
        let le16 = |i: usize| u16::from_le_bytes([book[at + i], book[at + i + 1]]) as usize;
        let packed = u32::from_le_bytes(book[at + 18..at + 22].try_into().unwrap()) as usize;
        let (name_len, extra) = (le16(26), le16(28));
        let name = String::from_utf8_lossy(&book[at + 30..at + 30 + name_len]).into_owned();
        let start = at + 30 + name_len + extra;
        let mut text = String::new();
        flate2::read::DeflateDecoder::new(&book[start..start + packed])
            .read_to_string(&mut text)
            .expect("deflated part");
        parts.insert(name, text);
        at = start + packed;
    }
    let workbook = parts.get("xl/workbook.xml").expect("workbook.xml").clone();
    let names: Vec<String> = workbook
        .split("<sheet name=\"")
        .skip(1)
        .map(|s| s.split('"').next().unwrap_or_default().to_string())
        .collect();
    names
        .into_iter()
        .enumerate()
        .map(|(i, name)| {
            let xml = &parts[&format!("xl/worksheets/sheet{}.xml", i + 1)];
            let rows: Vec<String> = xml
                .split("<row ")
                .skip(1)
                .map(|row| {
                    row.split("<c ")
                        .skip(1)
                        .map(|c| {
                            let inner = |open: &str, close: &str| {
                                c.split_once(open)
                                    .and_then(|(_, rest)| rest.split_once(close))
                                    .map(|(v, _)| v.to_string())
                            };
                            inner("<t xml:space=\"preserve\">", "</t>")
                                .or_else(|| inner("<v>", "</v>"))
                                .unwrap_or_default()
                                .replace("&amp;", "&")
                                .replace("&lt;", "<")
                                .replace("&gt;", ">")
                                .replace("&quot;", "\"")
                        })
                        .collect::<Vec<_>>()
                        .join("\t")
                })
                .collect();
            (name, rows.join("\n"))
        })
        .collect()
}

/// A new, empty folder of the system's temporary space (removed by the caller).
pub fn scratch(what: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "preau-{what}-{}-{}",
        std::process::id(),
        chrono::Utc::now().timestamp_nanos_opt().unwrap_or(0)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
