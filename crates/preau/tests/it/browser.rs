//! Journeys in a real headless Chromium (Debian's `chromium` + `chromium-driver`), driven
//! over the WebDriver protocol by the small client below.

use serde_json::{Value, json};
use std::io::{Read, Write};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::harness::TestApp;

struct Driver {
    child: Child,
    port: u16,
    session: String,
    _profile: std::path::PathBuf,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.call("DELETE", &format!("/session/{}", self.session), None);
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn http(port: u16, method: &str, path: &str, body: Option<&Value>) -> std::io::Result<Value> {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(Duration::from_secs(60)))?;
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    // ChromeDriver keeps the connection open: read the head, then Content-Length bytes.
    let mut raw = Vec::new();
    let mut buf = [0u8; 8192];
    let head_end = loop {
        let n = s.read(&mut buf)?;
        if n == 0 {
            break raw.len();
        }
        raw.extend_from_slice(&buf[..n]);
        if let Some(i) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let head = String::from_utf8_lossy(&raw[..head_end]).to_ascii_lowercase();
    let len = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse::<usize>().ok())
        .unwrap_or(0);
    while raw.len() < head_end + len {
        let n = s.read(&mut buf)?;
        if n == 0 {
            break;
        }
        raw.extend_from_slice(&buf[..n]);
    }
    let body = String::from_utf8_lossy(&raw[head_end..]).into_owned();
    Ok(serde_json::from_str(&body).unwrap_or(Value::Null))
}

impl Driver {
    fn start() -> Driver {
        let port = free_port();
        let child = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver (apt-get install chromium-driver)");
        let deadline = Instant::now() + Duration::from_secs(20);
        while http(port, "GET", "/status", None).is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        let profile =
            std::env::temp_dir().join(format!("preau-chromium-{}-{port}", std::process::id()));
        let caps = json!({"capabilities": {"alwaysMatch": {"goog:chromeOptions": {"binary": "/usr/bin/chromium", "args": [
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic", "--window-size=1024,900",
            "--lang=fr-FR", format!("--user-data-dir={}", profile.display())]}}}});
        let v = http(port, "POST", "/session", Some(&caps)).expect("new session");
        let session = v["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {v}"))
            .to_string();
        Driver {
            child,
            port,
            session,
            _profile: profile,
        }
    }

    fn try_call(&self, method: &str, path: &str, body: Option<Value>) -> Result<Value, String> {
        let v = http(self.port, method, path, body.as_ref()).map_err(|e| e.to_string())?;
        match v["value"].get("error") {
            Some(err) => Err(format!(
                "webdriver {method} {path}: {err} {}",
                v["value"]["message"]
            )),
            None => Ok(v["value"].clone()),
        }
    }

    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        self.try_call(method, path, body)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// Waits (10 s at most) until the page's text contains `needle`; returns that text.
    fn wait_for(&self, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let text = self.text();
            if text.contains(needle) || Instant::now() > deadline {
                return text;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn goto(&self, url: &str) {
        self.call(
            "POST",
            &format!("/session/{}/url", self.session),
            Some(json!({"url": url})),
        );
    }

    fn find(&self, css: &str) -> String {
        let v = self.call(
            "POST",
            &format!("/session/{}/element", self.session),
            Some(json!({"using": "css selector", "value": css})),
        );
        v.as_object()
            .and_then(|o| o.values().next())
            .and_then(|v| v.as_str())
            .unwrap()
            .to_string()
    }

    fn type_in(&self, css: &str, text: &str) {
        let el = self.find(css);
        self.call(
            "POST",
            &format!("/session/{}/element/{el}/value", self.session),
            Some(json!({"text": text})),
        );
    }

    fn click(&self, css: &str) {
        let el = self.find(css);
        self.call(
            "POST",
            &format!("/session/{}/element/{el}/click", self.session),
            Some(json!({})),
        );
    }

    fn click_link(&self, text: &str) {
        let v = self.call(
            "POST",
            &format!("/session/{}/element", self.session),
            Some(json!({"using": "partial link text", "value": text})),
        );
        let el = v
            .as_object()
            .and_then(|o| o.values().next())
            .and_then(|v| v.as_str())
            .unwrap()
            .to_string();
        self.call(
            "POST",
            &format!("/session/{}/element/{el}/click", self.session),
            Some(json!({})),
        );
    }

    /// The page's visible text; retried while a navigation replaces the document.
    fn text(&self) -> String {
        for _ in 0..50 {
            let found = self.try_call(
                "POST",
                &format!("/session/{}/element", self.session),
                Some(json!({"using": "css selector", "value": "body"})),
            );
            let el = found.ok().and_then(|v| {
                v.as_object()
                    .and_then(|o| o.values().next())
                    .and_then(|v| v.as_str())
                    .map(str::to_string)
            });
            if let Some(el) = el
                && let Ok(v) = self.try_call(
                    "GET",
                    &format!("/session/{}/element/{el}/text", self.session),
                    None,
                )
            {
                return v.as_str().unwrap_or("").to_string();
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("page text unavailable")
    }

    fn url(&self) -> String {
        self.call("GET", &format!("/session/{}/url", self.session), None)
            .as_str()
            .unwrap_or("")
            .to_string()
    }

    fn login(&self, base: &str, login: &str) {
        self.goto(&format!("{base}/login"));
        self.type_in("#login", login);
        self.type_in("#password", "demo");
        self.click("button[type=submit].primary");
    }

    fn logout(&self) {
        self.click(".who button[type=submit]");
    }
}

/// The app's router on a free loopback port, for the browser; returns its base URL.
async fn serve(app: &TestApp) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let router = app.router.clone();
    tokio::spawn(async move { axum::serve(listener, router).await });
    base
}

/// The demo served on a free loopback port that it knows as its public address (for the
/// links it e-mails and the providers it sends people to); the app and that address.
async fn serve_public() -> (TestApp, String) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = TestApp::demo_with(preau_web::WebConfig {
        secure_cookies: false,
        public_url: Some(base.clone()),
        ..Default::default()
    })
    .await;
    let router = app.router.clone();
    tokio::spawn(async move { axum::serve(listener, router).await });
    (app, base)
}

/// The directeur invites a teacher; the teacher, who has no password, asks for a link by
/// e-mail and signs in with it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invited_teacher_signs_in_with_the_link_sent_by_email() {
    let (app, base) = serve_public().await;
    let (a, _) = crate::harness::first_and_other_school(&app).await;
    let db = app.db.clone();
    let rt = tokio::runtime::Handle::current();
    tokio::task::spawn_blocking(move || {
        let d = Driver::start();
        d.login(&base, "directeur");
        d.wait_for("Bonjour");
        d.goto(&format!("{base}/schools/{a}"));
        d.wait_for("Inviter des enseignants");
        d.click_link("Inviter des enseignants");
        d.wait_for("Qui inviter");
        d.type_in("#i-addr", "lea.moreau@ac-versailles.fr");
        d.click("form[action$='/invite'] button[type=submit]");
        let page = d.wait_for("invité(e)");
        assert!(page.contains("Lea Moreau"), "{page}");
        d.logout();
        d.wait_for("Se connecter");
        // Signed out, the page speaks the browser's language: she picks French.
        d.wait_for("Password");
        d.click_link("Français");
        d.wait_for("Pas de mot de passe");
        d.click_link("Pas de mot de passe");
        d.wait_for("Connexion par e-mail");
        d.type_in("#address", "lea.moreau@ac-versailles.fr");
        d.click("button[type=submit].primary");
        d.wait_for("C'est envoyé");
        // The link, as the mail queue holds it for the relay.
        let payloads: Vec<String> = rt.block_on(async {
            preau_core::with_db!(&db, p => sqlx::query_scalar("SELECT payload FROM jobs WHERE payload LIKE '%/login/link/%'").fetch_all(p).await.unwrap())
        });
        assert_eq!(payloads.len(), 1);
        let body = serde_json::from_str::<serde_json::Value>(&payloads[0]).unwrap()["body"]
            .as_str()
            .unwrap()
            .to_string();
        let start = body.find(&format!("{base}/login/link/")).expect("the link");
        let link: String = body[start..]
            .chars()
            .take_while(|c| !c.is_whitespace())
            .collect();
        d.goto(&link);
        d.wait_for("ne sert qu'une fois");
        d.click("button[type=submit].primary");
        let home = d.wait_for("Bonjour");
        assert!(home.contains("Lea Moreau"), "{home}");
    })
    .await
    .unwrap();
}

/// Waits until the browser is at an address starting with `prefix` (a redirect chain
/// through an identity provider).
fn wait_url(d: &Driver, prefix: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let url = d.url();
        if url.starts_with(prefix) {
            return url;
        }
        assert!(Instant::now() < deadline, "still at {url}, not {prefix}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A mairie agent signs in through the collectivité's OpenID Connect provider, then its
/// CAS server (a real one each: Django's OAuth toolkit and django-cas-server); someone the
/// provider knows and Préau does not leaves an access request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_mairies_staff_sign_in_through_openid_connect_and_cas() {
    let (app, base) = serve_public().await;
    let idp = crate::signin::Idp::start(&base);
    // Préau knows Marie by her address; not Inès.
    let (a, _) = crate::harness::first_and_other_school(&app).await;
    let admin = crate::tickets::principal(&app, "admin").await;
    preau_core::write_tx!(app.db, tx => {
        let u = preau_core::users::create(tx, &admin, &preau_core::users::UserInput {
            login: "marie.lefevre".into(),
            display_name: "Marie Lefèvre".into(),
            email: Some("m.lefevre@mairie.test".into()),
            password: "un-long-mot-de-passe-2026".into(),
            lang: None,
        }, chrono::Utc::now()).await?;
        preau_core::users::add_role(tx, &admin, u.id, preau_domain::Role::Technicien, Some(a), None, chrono::Utc::now()).await?;
    })
    .unwrap();
    let issuer = format!("{}/o", idp.base);
    let oidc = crate::signin::add_provider(
        &app,
        &[
            ("kind", "oidc"),
            ("label", "Compte de la mairie"),
            ("issuer", &issuer),
            ("client_id", "preau"),
            ("client_secret", "secret-du-client-preau"),
            ("login_claim", "preferred_username"),
            ("match_by", "email"),
            ("enabled", "true"),
        ],
    )
    .await;
    let cas_url = format!("{}/cas", idp.base);
    let cas = crate::signin::add_provider(
        &app,
        &[
            ("kind", "cas"),
            ("label", "ENT"),
            ("url", &cas_url),
            ("cas_version", "3"),
            ("mail_attribute", "email"),
            ("name_attribute", "first_name"),
            ("match_by", "email"),
            ("enabled", "true"),
        ],
    )
    .await;
    let idp_base = idp.base.clone();
    let db = app.db.clone();
    let rt = tokio::runtime::Handle::current();
    tokio::task::spawn_blocking(move || {
        let sign_in = |provider: i64, user: &str, password: &str, form: &str| {
            let d = Driver::start();
            d.goto(&format!("{base}/login"));
            d.click_link("Français");
            d.wait_for("Se connecter avec");
            d.click(&format!("a[href^='/login/sso/{provider}?']"));
            wait_url(&d, &idp_base);
            d.type_in("#id_username", user);
            d.type_in("#id_password", password);
            d.click(form);
            wait_url(&d, &base);
            d
        };
        // OpenID Connect: Marie, matched by her address, lands on her home page.
        let d = sign_in(oidc, "m.lefevre", "sso-marie", "form button[type=submit]");
        let home = d.wait_for("Bonjour");
        assert!(home.contains("Marie Lefèvre"), "{home}");
        // Inès: the provider vouches for her, Préau does not know her.
        let d = sign_in(oidc, "i.connue", "sso-ines", "form button[type=submit]");
        let page = d.wait_for("Demande d'accès envoyée");
        assert!(page.contains("administrateur"), "{page}");
        // CAS: Marie again, through the ENT's server.
        let d = sign_in(cas, "m.lefevre", "sso-marie", "#login_form button[type=submit]");
        let home = d.wait_for("Bonjour");
        assert!(home.contains("Marie Lefèvre"), "{home}");
        let links: i64 = rt.block_on(async {
            preau_core::with_db!(&db, p => sqlx::query_scalar("SELECT COUNT(*) FROM user_identities ui JOIN users u ON u.id = ui.user_id WHERE u.login = 'marie.lefevre'").fetch_one(p).await.unwrap())
        });
        assert_eq!(links, 2, "one identity per provider");
        let requests: i64 = rt.block_on(async {
            preau_core::with_db!(&db, p => sqlx::query_scalar("SELECT COUNT(*) FROM access_requests WHERE status = 'en_attente'").fetch_one(p).await.unwrap())
        });
        assert_eq!(requests, 1);
    })
    .await
    .unwrap();
    drop(idp);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn directeur_and_administrateur_journeys() {
    let app = TestApp::demo().await;
    let base = serve(&app).await;
    let (first, other) = crate::harness::first_and_other_school(&app).await;
    let first_name: String = preau_core::with_db!(&app.db, p => sqlx::query_scalar("SELECT name FROM schools WHERE id = $1").bind(first).fetch_one(p).await.unwrap());
    let other_name: String = preau_core::with_db!(&app.db, p => sqlx::query_scalar("SELECT name FROM schools WHERE id = $1").bind(other).fetch_one(p).await.unwrap());

    let base2 = base.clone();
    tokio::task::spawn_blocking(move || {
        let base = base2;
        let d = Driver::start();
        // The directeur sees only their school and opens a room.
        d.login(&base, "directeur");
        let home = d.wait_for("Bonjour");
        assert!(home.contains("Bonjour, Sophie Directrice"), "{home}");
        assert!(home.contains(&first_name));
        d.click_link("Écoles");
        let list = d.wait_for("école(s)");
        assert!(
            list.contains(&first_name) && !list.contains(&other_name),
            "{list}"
        );
        assert!(list.contains("1 école(s)"));
        d.click_link(&first_name);
        d.wait_for("Salles");
        d.click_link("Classe 1");
        let room = d.wait_for("Classes dans cette salle");
        assert!(d.url().contains("/rooms/"));
        assert!(room.contains("Classes dans cette salle"), "{room}");
        d.goto(&format!("{base}/schools/{other}"));
        assert!(
            d.wait_for("n'existe pas")
                .contains("n'existe pas, ou vous n'y avez pas accès")
        );
        d.logout();
        d.wait_for("Se connecter");
        assert!(d.url().ends_with("/login"));

        // The administrateur creates a room and finds it in the audit log.
        d.login(&base, "admin");
        d.wait_for("Bonjour");
        d.goto(&format!("{base}/schools/{first}"));
        d.click_link("Ajouter une salle");
        d.wait_for("Nouvelle salle");
        d.type_in("#f-name", "Salle numérique");
        d.type_in("#f-floor", "1er étage");
        d.click("button[type=submit].primary");
        let room = d.wait_for("Créé.");
        assert!(
            room.contains("Salle numérique") && room.contains("Créé."),
            "{room}"
        );
        d.click_link("Administration");
        d.wait_for("Journal des modifications");
        d.click_link("Journal des modifications");
        let audit = d.wait_for("Journal des modifications");
        assert!(
            audit.contains("Salle numérique")
                && audit.contains("admin")
                && audit.contains("Création")
                && audit.contains("Salle n°"),
            "{audit}"
        );
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_teacher_reports_in_three_clicks_and_the_technician_takes_it() {
    let app = TestApp::demo().await;
    let base = serve(&app).await;
    let (first, _) = crate::harness::first_and_other_school(&app).await;
    let room: i64 = preau_core::with_db!(&app.db, p => sqlx::query_scalar("SELECT MIN(id) FROM rooms WHERE school_id = $1 AND kind = 'classe'").bind(first).fetch_one(p).await.unwrap());
    tokio::task::spawn_blocking(move || {
        let d = Driver::start();
        d.login(&base, "enseignant");
        d.wait_for("Bonjour");
        d.goto(&format!("{base}/rooms/{room}"));
        d.wait_for("Signaler un problème");
        // One: the room's button. Two: what is wrong. Three: send.
        d.click_link("Signaler un problème");
        d.wait_for("Qu'est-ce qui ne va pas");
        d.click("input[name=category][value=ecran]");
        d.click("button[type=submit].big-button");
        let page = d.wait_for("Merci !");
        assert!(
            page.contains("Merci !") && page.contains("Quand ce sera traité"),
            "{page}"
        );
        assert!(page.contains("Écran, TNI ou vidéoprojecteur"));
        let ticket_url = d.url();
        let ticket_url = ticket_url.split('?').next().unwrap().to_string();
        d.logout();
        d.wait_for("Se connecter");
        // The queue, then the ticket, then taking it.
        d.login(&base, "technicien");
        d.wait_for("Bonjour");
        d.click_link("Assistance");
        let queue = d.wait_for("ticket(s)");
        assert!(queue.contains("Écran, TNI ou vidéoprojecteur"), "{queue}");
        d.goto(&ticket_url);
        d.wait_for("Prendre en charge");
        d.click("form[action$='/take'] button");
        let page = d.wait_for("Ticket pris en charge.");
        assert!(
            page.contains("Pris en charge") && page.contains("Karim Technicien"),
            "{page}"
        );
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_directeur_lends_a_class_set_and_takes_a_broken_tablet_back() {
    let app = TestApp::demo().await;
    let base = serve(&app).await;
    let (first, _) = crate::harness::first_and_other_school(&app).await;
    // The class of the maternelle that has no class set yet.
    let class: i64 = preau_core::with_db!(&app.db, p => sqlx::query_scalar("SELECT MAX(c.id) FROM classes c JOIN school_years y ON y.id = c.school_year_id WHERE c.school_id = $1 AND y.label = '2026-2027'").bind(first).fetch_one(p).await.unwrap());
    tokio::task::spawn_blocking(move || {
        let d = Driver::start();
        d.login(&base, "directeur");
        d.wait_for("Bonjour");
        d.goto(&format!("{base}/classes/{class}"));
        let page = d.wait_for("Attribuer les tablettes");
        assert!(
            page.contains("Élèves") && page.contains("inscrite au journal"),
            "{page}"
        );
        d.click_link("Attribuer les tablettes");
        d.wait_for("Élève suivant");
        d.click_link("Lot de classe");
        d.wait_for("Classe mobile (chariot)");
        // The cart the school shares, then the whole cart lent to the class.
        d.click("#f-cart option:last-child");
        d.click("form[method=get] button[type=submit]");
        d.wait_for("Prêter tout le chariot");
        d.click("form[action$='/tablets/pair'] button");
        // What will be lent is shown first; confirmed, it can be undone for a while.
        d.wait_for("seront prêtées à la classe en lot");
        d.click("button[name=confirm]");
        let page = d.wait_for("prêt(s) enregistré(s)");
        assert!(page.contains("Annuler ces prêts (16)"), "{page}");
        assert!(page.contains("16 prêt(s) enregistré(s)"), "{page}");
        assert!(page.contains("Lot de la classe (16)"), "{page}");
        // One tablet comes back with its screen broken.
        d.click_link("Retour…");
        d.wait_for("État au retour");
        d.click("input[name=state][value=ecran_casse]");
        d.click("form[action$='/return'] button[type=submit]");
        let ticket = d.wait_for("Retour de prêt");
        assert!(
            ticket.contains("Retour de prêt : écran cassé")
                && ticket.contains("Tablette ou classe mobile"),
            "{ticket}"
        );
        assert!(d.url().contains("/tickets/"));
    })
    .await
    .unwrap();
}

/// `true` when the page fits its window's width; else the elements that stick out.
const OVERFLOW: &str = "const w = document.documentElement.clientWidth; \
    if (document.documentElement.scrollWidth <= w + 1) return true; \
    return [...document.querySelectorAll('body *')] \
      .filter(e => e.getBoundingClientRect().right > w + 1) \
      .slice(0, 6).map(e => e.tagName + '.' + e.className + ' ' + getComputedStyle(e).position + ' ' + Math.round(e.getBoundingClientRect().right)).join(' | ') \
      + ' / ' + document.documentElement.scrollWidth + ' > ' + w";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_elu_finds_the_schools_to_equip_on_a_tablet_and_a_phone() {
    let app = TestApp::demo().await;
    let base = serve(&app).await;
    tokio::task::spawn_blocking(move || {
        let d = Driver::start();
        d.login(&base, "elu");
        d.wait_for("Bonjour");
        d.click_link("Référentiel");
        let list = d.wait_for("Couverture du référentiel");
        assert!(
            list.contains("Non conforme") && list.contains("Coût estimé"),
            "{list}"
        );
        // The schools to act on come first; one click opens what a school lacks.
        let first = d.find("table.cards tbody tr th a");
        d.call(
            "POST",
            &format!("/session/{}/element/{first}/click", d.session),
            Some(json!({})),
        );
        let school = d.wait_for("Salles de classe");
        assert!(
            school.contains("Non conforme") && school.contains("Ce qui manque"),
            "{school}"
        );
        let school_url = d.url();
        // Tablet and phone widths: no sideways scrolling, on the list and on the school.
        for width in [768, 390] {
            d.call(
                "POST",
                &format!("/session/{}/window/rect", d.session),
                Some(json!({"width": width, "height": 900})),
            );
            for url in [format!("{base}/coverage"), school_url.clone()] {
                d.goto(&url);
                d.wait_for("Couverture");
                let fits = d.call(
                    "POST",
                    &format!("/session/{}/execute/sync", d.session),
                    Some(json!({"script": OVERFLOW, "args": []})),
                );
                assert_eq!(fits, json!(true), "{url} at {width}px scrolls sideways");
            }
        }
    })
    .await
    .unwrap();
}

/// Whether the page fits `width` without sideways scrolling (see `OVERFLOW`).
fn fits(d: &Driver, width: u32, url: &str, needle: &str) {
    d.call(
        "POST",
        &format!("/session/{}/window/rect", d.session),
        Some(json!({"width": width, "height": 900})),
    );
    d.goto(url);
    d.wait_for(needle);
    let fits = d.call(
        "POST",
        &format!("/session/{}/execute/sync", d.session),
        Some(json!({"script": OVERFLOW, "args": []})),
    );
    assert_eq!(fits, json!(true), "{url} at {width}px scrolls sideways");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_directrice_asks_for_equipment_and_the_elu_prints_the_council_report() {
    use base64::Engine;
    let app = TestApp::demo().await;
    let base = serve(&app).await;
    tokio::task::spawn_blocking(move || {
        let d = Driver::start();
        // The directrice enters her school's need during the campaign.
        d.login(&base, "directeur");
        d.wait_for("Bonjour");
        d.click_link("Besoins");
        d.wait_for("Besoins des écoles");
        d.click_link("Recensement des besoins");
        d.wait_for("Faire une demande");
        d.type_in("#f-quantity", "3");
        d.type_in("#f-item", "Casques pour la classe de langue");
        d.type_in("#f-reason", "Écouter les enregistrements en autonomie pendant les ateliers");
        d.click("form[action$='/requests'] button[type=submit]");
        let after = d.wait_for("Casques pour la classe de langue");
        assert!(
            after.contains("3 × Casques pour la classe de langue")
                && after.contains("En attente de décision"),
            "{after}"
        );
        let campaign = d.url();
        d.logout();
        // The élu opens the dashboard, then the council report, and prints it.
        d.login(&base, "elu");
        d.wait_for("Bonjour");
        d.click_link("Tableau de bord");
        let dash = d.wait_for("Pilotage");
        assert!(dash.contains("Non conforme") && dash.contains("Rapport au conseil"), "{dash}");
        d.click("a.button[href='/council']");
        let report = d.wait_for("Annexes");
        for part in ["Synthèse", "écoles conformes au référentiel", "Finances", "Qualité du service"] {
            assert!(report.contains(part), "{part} missing");
        }
        let pdf = d.call(
            "POST",
            &format!("/session/{}/print", d.session),
            Some(json!({"orientation": "portrait", "page": {"width": 21.0, "height": 29.7}, "background": true})),
        );
        let pdf = base64::engine::general_purpose::STANDARD
            .decode(pdf.as_str().expect("base64 PDF"))
            .expect("a PDF");
        assert!(pdf.starts_with(b"%PDF"));
        let pages = pdf.windows(b"/Type /Page\n".len()).filter(|w| w.starts_with(b"/Type /Page") && !w.starts_with(b"/Type /Pages")).count();
        assert!(pages >= 4, "a summary, money, quality and annexes: {pages} pages");
        // Tablet and phone widths: the report, the funding page, the campaign.
        for width in [768, 390] {
            fits(&d, width, &format!("{base}/council"), "Annexes");
            fits(&d, width, &format!("{base}/funding"), "Dossiers de subvention");
            fits(&d, width, &campaign, "Demandes");
            fits(&d, width, &format!("{base}/quality"), "Modèles les moins fiables");
            fits(&d, width, &format!("{base}/connectivity"), "Élèves par Mbit/s");
            fits(&d, width, &format!("{base}/connectivity/1"), "Liens internet");
            fits(&d, width, &format!("{base}/connectivity/1/wifi"), "loi Abeille");
        }
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_intervenant_records_the_last_session_from_the_home_page() {
    let app = TestApp::demo().await;
    let base = serve(&app).await;
    let db = app.db.clone();
    let recorded = tokio::task::spawn_blocking(move || {
        let d = Driver::start();
        d.login(&base, "intervenant");
        let home = d.wait_for("Vos séances en visio");
        assert!(home.contains("À renseigner"), "{home}");
        // One click opens the session to record, one more says it took place.
        d.click("section[aria-labelledby=visio-next] li a");
        let page = d.wait_for("Après la séance");
        assert!(
            page.contains("Prévue") && !page.contains("voir l'équipement"),
            "{page}"
        );
        let url = d.url();
        d.click("form.filters button.primary");
        let done = d.wait_for("Tenue");
        assert!(done.contains("Tenue"), "{done}");
        // The session page and the list fit a tablet and a phone.
        for width in [768, 390] {
            fits(&d, width, &url, "Après la séance");
            fits(&d, width, &format!("{base}/visio"), "Séances en visio");
        }
        url
    })
    .await
    .unwrap();
    let id: i64 = recorded.rsplit('/').next().unwrap().parse().unwrap();
    let status: String = preau_core::with_db!(&db, p => {
        sqlx::query_scalar("SELECT status FROM visio_sessions WHERE id = $1").bind(id).fetch_one(p).await.unwrap()
    });
    assert_eq!(status, "tenue");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_teacher_books_a_cart_for_thursday_morning_in_three_clicks() {
    use chrono::Datelike;
    let app = TestApp::demo().await;
    let base = serve(&app).await;
    // The teacher's school's own cart, and the next Thursday whose morning is to come.
    let (school, cart, name): (i64, i64, String) = preau_core::with_db!(&app.db, p => {
        sqlx::query_as("SELECT b.school_id, b.id, b.name FROM bookables b JOIN role_assignments a ON a.school_id = b.school_id JOIN users u ON u.id = a.user_id WHERE u.login = 'enseignant' AND b.device_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM devices t JOIN loans l ON l.device_id = t.id AND l.returned_on IS NULL WHERE t.parent_id = b.device_id) ORDER BY b.id LIMIT 1").fetch_one(p).await.unwrap()
    });
    let days = preau_core::bookings::school_days(&app.db, school)
        .await
        .unwrap();
    let now = chrono::Utc::now();
    let today = preau_domain::paris::day(now);
    let thursday = (0..14)
        .map(|i| today + chrono::Duration::days(i))
        .find(|d| {
            d.weekday() == chrono::Weekday::Thu
                && days.slots(*d).first().is_some_and(|s| s.on(*d).1 > now)
        })
        .expect("a Thursday with class within two weeks");
    let db = app.db.clone();
    let grid = format!("{base}/reservations?bookable={cart}");
    tokio::task::spawn_blocking(move || {
        let d = Driver::start();
        d.login(&base, "enseignant");
        d.wait_for("Réserver du matériel");
        // One click: the cart from the home page; two: Thursday morning; three: "Réserver".
        d.click_link(&name);
        d.wait_for("Semaine du");
        d.click(&format!(
            "a.slot-free[href*='day={thursday}'][href*='slot=08:30']"
        ));
        let form = d.wait_for("Réserver un créneau");
        assert!(form.contains("jeudi") && form.contains("matin"), "{form}");
        d.click("form[action='/reservations'] button.primary");
        let done = d.wait_for("Réservé.");
        assert!(done.contains("Luc Enseignant"), "{done}");
        // The week, the form and the teacher's list fit a tablet and a phone.
        for width in [768, 390] {
            fits(&d, width, &grid, "Semaine du");
            fits(
                &d,
                width,
                &format!("{base}/reservations/mine"),
                "Mes réservations",
            );
            fits(
                &d,
                width,
                &format!(
                    "{base}/reservations/new?bookable={cart}&day={}&slot=13:30-16:30",
                    thursday + chrono::Duration::days(7)
                ),
                "Réserver un créneau",
            );
        }
    })
    .await
    .unwrap();
    let booked: i64 = preau_core::with_db!(&db, p => {
        sqlx::query_scalar("SELECT COUNT(*) FROM bookings k JOIN users u ON u.id = k.booked_by WHERE k.bookable_id = $1 AND k.starts_at = $2 AND u.login = 'enseignant' AND k.cancelled_at IS NULL").bind(cart).bind(preau_domain::paris::at(thursday, 8, 30)).fetch_one(p).await.unwrap()
    });
    assert_eq!(booked, 1);
}

/// The main pages of every role, at a tablet's and a phone's width: none scrolls
/// sideways (wide tables turn into cards or let secondary columns go).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_role_main_pages_fit_a_tablet_and_a_phone() {
    let app = TestApp::demo().await;
    let base = serve(&app).await;
    let (a, _) = crate::harness::first_and_other_school(&app).await;
    let ticket: i64 = preau_core::with_db!(&app.db, p => sqlx::query_scalar("SELECT MIN(id) FROM tickets WHERE school_id = $1 AND status NOT IN ('resolu', 'clos')").bind(a).fetch_one(p).await.unwrap());
    let device: i64 = preau_core::with_db!(&app.db, p => sqlx::query_scalar("SELECT MIN(id) FROM devices WHERE school_id = $1").bind(a).fetch_one(p).await.unwrap());
    let pages: Vec<(&str, Vec<String>)> = vec![
        (
            "admin",
            [
                "/",
                "/tickets",
                "/devices",
                "/schools",
                "/planning",
                "/reports/sla",
                "/admin",
                "/admin/audit",
                "/admin/sign-in",
                "/admin/sign-in/providers/new",
                "/admin/access",
                "/coverage",
                "/notifications",
                "/search?q=Classe",
            ]
            .map(String::from)
            .to_vec(),
        ),
        (
            "technicien",
            vec![
                "/".into(),
                "/tickets".into(),
                format!("/tickets/{ticket}"),
                "/planning".into(),
                format!("/devices?school_id={a}"),
                format!("/devices/{device}"),
            ],
        ),
        (
            "prestataire",
            vec![
                "/".into(),
                "/tickets".into(),
                "/planning".into(),
                format!("/schools/{a}"),
            ],
        ),
        (
            "directeur",
            vec![
                "/".into(),
                format!("/schools/{a}"),
                format!("/schools/{a}/loans"),
                format!("/schools/{a}/invite"),
                "/tickets".into(),
                format!("/tickets/{ticket}"),
            ],
        ),
        (
            "enseignant",
            vec!["/".into(), "/tickets/new".into(), "/reservations".into()],
        ),
        (
            "elu",
            vec!["/".into(), "/council".into(), "/dashboard".into()],
        ),
        ("erun", vec!["/".into()]),
    ];
    tokio::task::spawn_blocking(move || {
        let d = Driver::start();
        let mut wide = Vec::new();
        for (role, urls) in pages {
            d.call(
                "POST",
                &format!("/session/{}/window/rect", d.session),
                Some(json!({"width": 1024, "height": 900})),
            );
            d.login(&base, role);
            d.wait_for("Bonjour");
            for width in [768, 390] {
                d.call(
                    "POST",
                    &format!("/session/{}/window/rect", d.session),
                    Some(json!({"width": width, "height": 900})),
                );
                for url in &urls {
                    d.goto(&format!("{base}{url}"));
                    d.wait_for("Préau");
                    let fits = d.call(
                        "POST",
                        &format!("/session/{}/execute/sync", d.session),
                        Some(json!({"script": OVERFLOW, "args": []})),
                    );
                    if fits != json!(true) {
                        wide.push(format!("{role} {url} at {width}px: {fits}"));
                    }
                }
            }
            d.call(
                "POST",
                &format!("/session/{}/window/rect", d.session),
                Some(json!({"width": 1024, "height": 900})),
            );
            d.goto(&format!("{base}/"));
            d.logout();
            d.wait_for("Se connecter");
        }
        assert!(
            wide.is_empty(),
            "pages that scroll sideways:\n{}",
            wide.join("\n")
        );
    })
    .await
    .unwrap();
}
