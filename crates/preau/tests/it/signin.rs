//! Signing in without a Préau password, against real servers: the e-mail link through a
//! real SMTP listener (Debian's aiosmtpd), a directory served by Debian's `slapd` with
//! StartTLS and a certificate of its own authority; the access requests of people a
//! directory knows and Préau does not; the local passwords the administrator switches off.

use axum::http::StatusCode;
use preau_core::signin::{self, External, ProviderInput, ldap};
use preau_core::with_db;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use crate::harness::{SmtpListener, TestApp, first_and_other_school, scratch};

/// A directory (never contacted) and an access request through it: for the role tests.
pub async fn directory_and_request(app: &TestApp) -> (i64, i64) {
    let admin = crate::tickets::principal(app, "admin").await;
    let input = ProviderInput {
        label: "Annuaire de la mairie".into(),
        match_by: "subject".into(),
        enabled: false,
        config: signin::ConfigInput::Ldap(ldap::ConfigInput {
            url: "ldaps://127.0.0.1:1".into(),
            bind_dn: "cn=preau,dc=mairie,dc=test".into(),
            bind_password: "service".into(),
            base_dn: "dc=mairie,dc=test".into(),
            filter: "(uid={login})".into(),
            ..Default::default()
        }),
        version: 0,
    };
    let now = chrono::Utc::now();
    let id = preau_core::write_tx!(app.db, tx => signin::save_provider(tx, &admin, None, &input, now).await?).unwrap();
    let provider = signin::provider(&app.db, &admin, id).await.unwrap();
    let who = External {
        subject: "c.martin".into(),
        login: Some("c.martin".into()),
        email: Some("c.martin@mairie.test".into()),
        display_name: "Claire Martin".into(),
    };
    assert_eq!(
        signin::resolve(&app.db, &provider, &who, now)
            .await
            .unwrap(),
        signin::Resolved::Requested
    );
    let request: i64 = app.scalar("SELECT MAX(id) FROM access_requests").await;
    (id, request)
}

/// A message's text, its body decoded (quoted-printable or base64, as the mailer chose).
fn decoded(raw: &str) -> String {
    let (head, body) = raw
        .split_once("\r\n\r\n")
        .or_else(|| raw.split_once("\n\n"))
        .unwrap_or((raw, ""));
    let lower = head.to_ascii_lowercase();
    let body = if lower.contains("content-transfer-encoding: base64") {
        use base64::Engine;
        let compact: String = body.chars().filter(|c| !c.is_whitespace()).collect();
        String::from_utf8_lossy(
            &base64::engine::general_purpose::STANDARD
                .decode(compact)
                .unwrap_or_default(),
        )
        .into_owned()
    } else if lower.contains("content-transfer-encoding: quoted-printable") {
        let joined = body.replace("=\r\n", "").replace("=\n", "");
        let bytes = joined.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'='
                && i + 2 < bytes.len()
                && let Ok(b) = u8::from_str_radix(&joined[i + 1..i + 3], 16)
            {
                out.push(b);
                i += 3;
                continue;
            }
            out.push(bytes[i]);
            i += 1;
        }
        String::from_utf8_lossy(&out).into_owned()
    } else {
        body.to_string()
    };
    format!("{head}\n\n{body}")
}

/// Sends what the mail queue holds to the listener; every message received, decoded.
async fn deliver(app: &TestApp, smtp: &SmtpListener) -> Vec<String> {
    let cfg = preau_core::mail::SmtpConfig::from_url(
        &format!("smtp://127.0.0.1:{}", smtp.port),
        "preau@mairie.example",
    )
    .unwrap();
    let run = preau_core::jobs::run_mail(&app.db, &cfg, "http://preau.test", chrono::Utc::now())
        .await
        .unwrap();
    let errors: Vec<Option<String>> = with_db!(&app.db, p => sqlx::query_scalar("SELECT last_error FROM jobs WHERE failed = TRUE").fetch_all(p).await.unwrap());
    assert_eq!(run.failed, 0, "{run:?} {errors:?}");
    smtp.messages().iter().map(|m| decoded(m)).collect()
}

/// The sign-in links of the messages to `to`.
fn links_for(mails: &[String], to: &str) -> Vec<String> {
    mails
        .iter()
        .filter(|m| m.contains(&format!("To: <{to}>")) && m.contains("/login/link/"))
        .filter_map(|m| {
            let start = m.find("http://preau.test/login/link/")?;
            let rest = &m[start + "http://preau.test".len()..];
            let end = rest.find(|c: char| c.is_whitespace()).unwrap_or(rest.len());
            Some(rest[..end].to_string())
        })
        .collect()
}

/// A Maildir path the listener makes itself.
fn maildir(what: &str) -> PathBuf {
    let dir = scratch(what);
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[tokio::test]
async fn a_teacher_the_head_invites_signs_in_with_a_link_sent_by_email() {
    let app = TestApp::demo_with(preau_web::WebConfig {
        secure_cookies: false,
        public_url: Some("http://preau.test".into()),
        ..Default::default()
    })
    .await;
    let (a, b) = first_and_other_school(&app).await;
    let smtp = SmtpListener::start(maildir("smtp-signin"), None).await;
    let head = app.login("directeur", "demo").await;
    let card = head.get(&format!("/schools/{a}")).await;
    assert!(card.body.contains(&format!("/schools/{a}/invite")));
    // One wrong address: it is named, and nobody is invited.
    let r = head
        .post(
            &format!("/schools/{a}/invite"),
            &[(
                "addresses",
                "nouvelle.enseignante@ac-versailles.fr\npas-une-adresse",
            )],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("pas-une-adresse"), "the address is named");
    assert_eq!(
        app.scalar(
            "SELECT COUNT(*) FROM users WHERE email = 'nouvelle.enseignante@ac-versailles.fr'"
        )
        .await,
        0
    );
    let r = head
        .post(
            &format!("/schools/{a}/invite"),
            &[(
                "addresses",
                "Nouvelle.Enseignante@ac-versailles.fr; enseignant@demo.preau.invalid",
            )],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.status);
    assert!(
        r.body
            .contains("nouvelle.enseignante@ac-versailles.fr — invité(e)")
    );
    assert!(
        r.body
            .contains("enseignant@demo.preau.invalid — avait déjà accès")
    );
    assert!(
        r.body.contains("Nouvelle Enseignante"),
        "listed among the teachers"
    );
    let roles: i64 = with_db!(&app.db, p => sqlx::query_scalar("SELECT COUNT(*) FROM role_assignments ra JOIN users u ON u.id = ra.user_id WHERE u.login = 'nouvelle.enseignante' AND ra.role = 'enseignant' AND ra.school_id = $1").bind(a).fetch_one(p).await.unwrap());
    assert_eq!(roles, 1);
    // Another school's teachers are not the directeur's to invite.
    let r = head
        .post(
            &format!("/schools/{b}/invite"),
            &[("addresses", "x.y@ac-versailles.fr")],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let mails = deliver(&app, &smtp).await;
    assert!(
        mails.iter().any(
            |m| m.contains("To: <nouvelle.enseignante@ac-versailles.fr>")
                && m.contains("/login/email?address=nouvelle.enseignante%40ac-versailles.fr")
        ),
        "the invitation says how to sign in"
    );

    // The teacher asks for a link; an unknown address gets the same answer, and nothing.
    let anon = app.anonymous().await;
    let page = anon.get("/login").await;
    assert!(page.body.contains("href=\"/login/email\""));
    for address in [
        "nouvelle.enseignante@ac-versailles.fr",
        "inconnu@ac-versailles.fr",
    ] {
        let r = anon.post("/login/email", &[("address", address)]).await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(r.body.contains("id=\"link-sent\""), "{address}");
    }
    let r = anon
        .post("/login/email", &[("address", "pas-une-adresse")])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let mails = deliver(&app, &smtp).await;
    assert!(
        !mails
            .iter()
            .any(|m| m.contains("To: <inconnu@ac-versailles.fr>"))
    );
    let sent = links_for(&mails, "nouvelle.enseignante@ac-versailles.fr");
    assert_eq!(sent.len(), 1, "one link");
    let link = sent[0].clone();
    // The link is a key: no copy in the bell, and only its hash in the database.
    let token = link.trim_start_matches("/login/link/").to_string();
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM notifications WHERE subject LIKE '%lien de connexion%'")
            .await,
        0
    );
    let stored: i64 = with_db!(&app.db, p => sqlx::query_scalar("SELECT COUNT(*) FROM sign_in_links WHERE token_hash = $1").bind(&token).fetch_one(p).await.unwrap());
    assert_eq!(stored, 0);
    // Opening it asks to confirm (a mail scanner following it uses nothing up).
    let r = anon.get(&link).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("Nouvelle Enseignante"));
    let r = anon.post(&link, &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let teacher = app.session_from(&r);
    let home = teacher.get("/").await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(home.body.contains("Nouvelle Enseignante"));
    assert!(home.body.contains("/tickets/new"), "the report button");
    // Once only.
    let r = anon.post(&link, &[]).await;
    assert_eq!(r.status, StatusCode::GONE);
    assert!(r.body.contains("déjà servi"));
    // A link not used within 15 minutes has expired.
    anon.post(
        "/login/email",
        &[("address", "nouvelle.enseignante@ac-versailles.fr")],
    )
    .await;
    let mails = deliver(&app, &smtp).await;
    let second = links_for(&mails, "nouvelle.enseignante@ac-versailles.fr")
        .into_iter()
        .find(|l| *l != link)
        .expect("a second link");
    with_db!(&app.db, p => sqlx::query("UPDATE sign_in_links SET expires_at = $1 WHERE used_at IS NULL").bind(chrono::Utc::now() - chrono::Duration::seconds(1)).execute(p).await.map(|_| ()).unwrap());
    let r = anon.post(&second, &[]).await;
    assert_eq!(r.status, StatusCode::GONE);
    assert!(r.body.contains("expiré"));
    // At most three links a quarter of an hour.
    for _ in 0..3 {
        anon.post(
            "/login/email",
            &[("address", "nouvelle.enseignante@ac-versailles.fr")],
        )
        .await;
    }
    let recent = app
        .scalar("SELECT COUNT(*) FROM sign_in_links l JOIN users u ON u.id = l.user_id WHERE u.login = 'nouvelle.enseignante'")
        .await;
    assert_eq!(recent, 3, "two sent before, one more, then none");
    // The administrator switches links off: nothing more is sent.
    let admin = app.login("admin", "demo").await;
    let r = admin
        .post(
            "/admin/sign-in",
            &[("local_passwords", "on"), ("version", "0")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    with_db!(&app.db, p => sqlx::query("DELETE FROM sign_in_links").execute(p).await.map(|_| ()).unwrap());
    anon.post(
        "/login/email",
        &[("address", "directeur@demo.preau.invalid")],
    )
    .await;
    assert_eq!(app.scalar("SELECT COUNT(*) FROM sign_in_links").await, 0);
}

#[tokio::test]
async fn without_its_public_address_a_server_sends_no_link() {
    let app = TestApp::demo().await;
    let anon = app.anonymous().await;
    assert!(!anon.get("/login").await.body.contains("/login/email"));
    let r = anon
        .post(
            "/login/email",
            &[("address", "directeur@demo.preau.invalid")],
        )
        .await;
    assert!(r.body.contains("--public-url"));
    assert_eq!(app.scalar("SELECT COUNT(*) FROM sign_in_links").await, 0);
}

#[tokio::test]
async fn switched_off_local_passwords_leave_only_the_administrators_theirs() {
    let app = TestApp::demo().await;
    let admin = app.login("admin", "demo").await;
    let r = admin
        .post("/admin/sign-in", &[("email_links", "on"), ("version", "0")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let anon = app.anonymous().await;
    let r = anon
        .post(
            "/login",
            &[("login", "enseignant"), ("password", "demo"), ("next", "/")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    app.login("admin", "demo").await;
    // A stale form changes nothing.
    let r = admin
        .post(
            "/admin/sign-in",
            &[("local_passwords", "on"), ("version", "0")],
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    let audit = app
        .scalar("SELECT COUNT(*) FROM audit_log WHERE object_type = 'sign_in_settings'")
        .await;
    assert_eq!(audit, 1);
}

/// A throw-away OpenLDAP server: its own authority and certificate, the mairie's people,
/// StartTLS required for every operation.
struct Slapd {
    child: Child,
    port: u16,
    /// The same server over LDAPS.
    tls_port: u16,
    ca: String,
    dir: PathBuf,
}

impl Drop for Slapd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn run(cmd: &mut Command, what: &str) {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{what}: {e} (apt-get install slapd openssl)"));
    assert!(
        out.status.success(),
        "{what}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

impl Slapd {
    fn start() -> Slapd {
        let dir = scratch("slapd");
        let p = |f: &str| dir.join(f).to_string_lossy().into_owned();
        run(
            Command::new("openssl").args([
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "2",
                "-subj",
                "/CN=Autorite de test de la mairie",
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=critical,keyCertSign,cRLSign",
                "-keyout",
                &p("ca.key"),
                "-out",
                &p("ca.pem"),
            ]),
            "openssl (authority)",
        );
        run(
            Command::new("openssl").args([
                "req",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-subj",
                "/CN=localhost",
                "-keyout",
                &p("server.key"),
                "-out",
                &p("server.csr"),
            ]),
            "openssl (request)",
        );
        std::fs::write(
            dir.join("ext.cnf"),
            "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n",
        )
        .unwrap();
        run(
            Command::new("openssl").args([
                "x509",
                "-req",
                "-in",
                &p("server.csr"),
                "-CA",
                &p("ca.pem"),
                "-CAkey",
                &p("ca.key"),
                "-CAcreateserial",
                "-days",
                "2",
                "-extfile",
                &p("ext.cnf"),
                "-out",
                &p("server.pem"),
            ]),
            "openssl (certificate)",
        );
        std::fs::create_dir_all(dir.join("db")).unwrap();
        let conf = format!(
            "include /etc/ldap/schema/core.schema\n\
             include /etc/ldap/schema/cosine.schema\n\
             include /etc/ldap/schema/inetorgperson.schema\n\
             modulepath /usr/lib/ldap\n\
             moduleload back_mdb\n\
             pidfile {pid}\n\
             TLSCACertificateFile {ca}\n\
             TLSCertificateFile {cert}\n\
             TLSCertificateKeyFile {key}\n\
             security tls=1\n\
             database mdb\n\
             maxsize 10485760\n\
             suffix \"dc=mairie,dc=test\"\n\
             rootdn \"cn=admin,dc=mairie,dc=test\"\n\
             directory {db}\n\
             access to attrs=userPassword by self read by anonymous auth by * none\n\
             access to * by users read by * none\n",
            pid = p("slapd.pid"),
            ca = p("ca.pem"),
            cert = p("server.pem"),
            key = p("server.key"),
            db = p("db"),
        );
        std::fs::write(dir.join("slapd.conf"), conf).unwrap();
        let people = [
            (
                "technicien",
                "Jean Technicien",
                "technicien@demo.preau.invalid",
                "annuaire-tech",
            ),
            (
                "c.martin",
                "Claire Martin",
                "c.martin@mairie.test",
                "annuaire-claire",
            ),
            (
                "p.durand",
                "Paul Durand",
                "p.durand@mairie.test",
                "annuaire-paul",
            ),
            ("double", "Un Homonyme", "double1@mairie.test", "x"),
        ];
        let mut ldif = String::from(
            "dn: dc=mairie,dc=test\nobjectClass: dcObject\nobjectClass: organization\no: Mairie\ndc: mairie\n\n\
             dn: ou=services,dc=mairie,dc=test\nobjectClass: organizationalUnit\nou: services\n\n\
             dn: cn=preau,ou=services,dc=mairie,dc=test\nobjectClass: person\ncn: preau\nsn: preau\nuserPassword: compte-de-service\n\n\
             dn: ou=personnel,dc=mairie,dc=test\nobjectClass: organizationalUnit\nou: personnel\n\n\
             dn: ou=autres,dc=mairie,dc=test\nobjectClass: organizationalUnit\nou: autres\n\n",
        );
        for (uid, name, mail, pw) in people {
            ldif.push_str(&format!(
                "dn: uid={uid},ou=personnel,dc=mairie,dc=test\nobjectClass: inetOrgPerson\nuid: {uid}\ncn: {name}\nsn: {name}\nmail: {mail}\nuserPassword: {pw}\n\n"
            ));
        }
        // A second entry with the same uid elsewhere: that login is ambiguous.
        ldif.push_str("dn: uid=double,ou=autres,dc=mairie,dc=test\nobjectClass: inetOrgPerson\nuid: double\ncn: Un Autre\nsn: Autre\nuserPassword: x\n\n");
        std::fs::write(dir.join("data.ldif"), ldif).unwrap();
        run(
            Command::new("slapadd").args(["-f", &p("slapd.conf"), "-l", &p("data.ldif")]),
            "slapadd",
        );
        let free = || {
            std::net::TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port()
        };
        let (port, tls_port) = (free(), free());
        let child = Command::new("slapd")
            .args([
                "-f",
                &p("slapd.conf"),
                "-h",
                &format!("ldap://127.0.0.1:{port}/ ldaps://127.0.0.1:{tls_port}/"),
                "-d",
                "0",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("slapd (apt-get install slapd)");
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        let ca = std::fs::read_to_string(dir.join("ca.pem")).unwrap();
        Slapd {
            child,
            port,
            tls_port,
            ca,
            dir,
        }
    }
}

fn directory_form(slapd: &Slapd, match_by: &str) -> Vec<(String, String)> {
    [
        ("label", "Annuaire de la mairie"),
        ("url", &format!("ldap://127.0.0.1:{}", slapd.port)),
        ("starttls", "true"),
        ("ca_pem", &slapd.ca),
        ("bind_dn", "cn=preau,ou=services,dc=mairie,dc=test"),
        ("bind_password", "compte-de-service"),
        ("base_dn", "dc=mairie,dc=test"),
        ("filter", "(&(objectClass=inetOrgPerson)(uid={login}))"),
        ("login_attribute", "uid"),
        ("name_attribute", "cn"),
        ("mail_attribute", "mail"),
        ("match_by", match_by),
        ("enabled", "true"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

fn pairs(v: &[(String, String)]) -> Vec<(&str, &str)> {
    v.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

async fn sign_in(app: &TestApp, source: &str, login: &str, password: &str) -> crate::harness::Resp {
    let anon = app.anonymous().await;
    anon.post(
        "/login",
        &[
            ("source", source),
            ("login", login),
            ("password", password),
            ("next", "/"),
        ],
    )
    .await
}

#[tokio::test]
async fn the_mairies_staff_sign_in_with_their_directory_account() {
    let slapd = Slapd::start();
    let app = TestApp::demo().await;
    let admin = app.login("admin", "demo").await;
    // Passwords never travel in clear; the filter must take the login.
    let plain: Vec<(String, String)> = directory_form(&slapd, "login")
        .into_iter()
        .filter(|(k, _)| k != "starttls")
        .map(|(k, v)| match k.as_str() {
            "filter" => (k, "uid=login".into()),
            _ => (k, v),
        })
        .collect();
    let r = admin.post("/admin/sign-in/providers", &pairs(&plain)).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("jamais en clair"));
    assert!(r.body.contains("{login}"));
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM identity_providers").await,
        0
    );
    let r = admin
        .post(
            "/admin/sign-in/providers",
            &pairs(&directory_form(&slapd, "login")),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let id = app.scalar("SELECT MAX(id) FROM identity_providers").await;
    let source = format!("ldap:{id}");
    // The service account's password is never shown back, nor written in the audit.
    let page = admin.get(&format!("/admin/sign-in/providers/{id}")).await;
    assert!(!page.body.contains("compte-de-service"));
    let audit: String = with_db!(&app.db, p => sqlx::query_scalar("SELECT changes FROM audit_log WHERE object_type = 'identity_provider'").fetch_one(p).await.unwrap());
    assert!(!audit.contains("compte-de-service"), "{audit}");
    // The sign-in page offers the directory first.
    let login_page = app.anonymous().await.get("/login").await;
    assert!(
        login_page
            .body
            .contains(&format!("value=\"{source}\" selected"))
    );

    // The technician has the same login in Préau: signed in and linked at once.
    let r = sign_in(&app, &source, "technicien", "annuaire-tech").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let home = app.session_from(&r).get("/").await;
    assert!(home.body.contains("Technicien") || home.status == StatusCode::OK);
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM user_identities WHERE subject = 'technicien'")
            .await,
        1
    );
    // Wrong password, empty password (never an anonymous bind), unknown, ambiguous, and a
    // login trying to widen the filter: refused, as a wrong password is.
    for (login, pw) in [
        ("technicien", "faux"),
        ("technicien", ""),
        ("personne", "x"),
        ("double", "x"),
        ("*", "annuaire-tech"),
        ("technicien)(uid=*", "annuaire-tech"),
    ] {
        let r = sign_in(&app, &source, login, pw).await;
        assert!(
            r.status == StatusCode::UNAUTHORIZED || r.status == StatusCode::UNPROCESSABLE_ENTITY,
            "{login}: {}",
            r.status
        );
    }
    // Someone the directory knows and Préau does not: an access request, the
    // administrators told; no account is made.
    let smtp = SmtpListener::start(maildir("smtp-ldap"), None).await;
    let r = sign_in(&app, &source, "c.martin", "annuaire-claire").await;
    assert_eq!(r.status, StatusCode::ACCEPTED);
    assert!(r.body.contains("accès envoyée"));
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM users WHERE email = 'c.martin@mairie.test'")
            .await,
        0
    );
    let again = sign_in(&app, &source, "c.martin", "annuaire-claire").await;
    assert_eq!(again.status, StatusCode::ACCEPTED);
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM access_requests WHERE status = 'en_attente'")
            .await,
        1,
        "one request, however many tries"
    );
    let mails = deliver(&app, &smtp).await;
    assert!(
        mails
            .iter()
            .any(|m| m.contains("To: <admin@demo.preau.invalid>") && m.contains("Claire Martin"))
    );
    // The administrator's home page says a request waits.
    let home = admin.get("/").await;
    assert!(home.body.contains("1 demande(s) d&#39;accès"), "the to-do");
    // The administrator grants her the technician's role at a school.
    let (a, _) = first_and_other_school(&app).await;
    let requests = admin.get("/admin/access").await;
    assert!(requests.body.contains("Claire Martin"));
    let req = app.scalar("SELECT MAX(id) FROM access_requests").await;
    let r = admin
        .post(
            &format!("/admin/access/{req}/grant"),
            &[
                ("user_id", ""),
                ("role", "technicien"),
                ("school_id", &a.to_string()),
                ("version", "1"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    // Granting twice is refused.
    let r = admin
        .post(
            &format!("/admin/access/{req}/grant"),
            &[
                ("role", "technicien"),
                ("school_id", &a.to_string()),
                ("version", "1"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    let r = sign_in(&app, &source, "c.martin", "annuaire-claire").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let claire = app.session_from(&r);
    assert_eq!(claire.get("/tickets").await.status, StatusCode::OK);
    let mails = deliver(&app, &smtp).await;
    assert!(
        mails
            .iter()
            .any(|m| m.contains("To: <c.martin@mairie.test>")
                && m.contains("Votre accès à Préau est ouvert"))
    );
    // A refused person stays refused.
    let r = sign_in(&app, &source, "p.durand", "annuaire-paul").await;
    assert_eq!(r.status, StatusCode::ACCEPTED);
    let req = app.scalar("SELECT MAX(id) FROM access_requests").await;
    let r = admin
        .post(&format!("/admin/access/{req}/refuse"), &[("version", "1")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let r = sign_in(&app, &source, "p.durand", "annuaire-paul").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // A directory that does not answer is said so, and the local accounts still work.
    drop(slapd);
    let r = sign_in(&app, &source, "technicien", "annuaire-tech").await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(r.body.contains("ne répond pas"));
    let r = sign_in(&app, "local", "admin", "demo").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
}

/// The directory checked with the server's certificate from another authority: refused,
/// as unavailable (a man in the middle never gets a password).
#[tokio::test]
async fn a_directory_whose_certificate_is_not_the_authoritys_gets_no_password() {
    let slapd = Slapd::start();
    let other = Slapd::start();
    let input = ldap::ConfigInput {
        url: format!("ldap://127.0.0.1:{}", slapd.port),
        starttls: true,
        ca_pem: other.ca.clone(),
        bind_dn: "cn=preau,ou=services,dc=mairie,dc=test".into(),
        bind_password: "compte-de-service".into(),
        base_dn: "dc=mairie,dc=test".into(),
        filter: "(uid={login})".into(),
        ..Default::default()
    };
    let cfg = input.check(None).unwrap();
    let r = ldap::authenticate(&cfg, "technicien", "annuaire-tech").await;
    assert!(r.is_err(), "{r:?}");
    let good = ldap::ConfigInput {
        ca_pem: slapd.ca.clone(),
        ..input
    }
    .check(None)
    .unwrap();
    let who = ldap::authenticate(&good, "technicien", "annuaire-tech")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(who.display_name, "Jean Technicien");
    assert_eq!(who.email.as_deref(), Some("technicien@demo.preau.invalid"));
    // The same directory over LDAPS.
    let ldaps = ldap::ConfigInput {
        url: format!("ldaps://127.0.0.1:{}", slapd.tls_port),
        starttls: false,
        ca_pem: slapd.ca.clone(),
        bind_dn: "cn=preau,ou=services,dc=mairie,dc=test".into(),
        bind_password: "compte-de-service".into(),
        base_dn: "dc=mairie,dc=test".into(),
        filter: "(uid={login})".into(),
        ..Default::default()
    }
    .check(None)
    .unwrap();
    let who = ldap::authenticate(&ldaps, "c.martin", "annuaire-claire")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(who.display_name, "Claire Martin");
    assert!(
        ldap::authenticate(&ldaps, "c.martin", "faux")
            .await
            .unwrap()
            .is_none()
    );
}

/// A real identity provider on a loopback port (`tests/fixtures/idp`: Debian's Django with
/// its OAuth toolkit for OpenID Connect and django-cas-server for CAS), its accounts and
/// Préau (at `preau_base`) registered as its client and service.
pub struct Idp {
    child: Child,
    pub base: String,
    dir: PathBuf,
}

impl Drop for Idp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn copy_tree(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_tree(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

impl Idp {
    pub fn start(preau_base: &str) -> Idp {
        let dir = scratch("idp");
        copy_tree(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/idp"),
            &dir,
        );
        let key = dir.join("oidc.key");
        run(
            Command::new("openssl")
                .args(["genrsa", "-out"])
                .arg(&key)
                .arg("2048"),
            "openssl genrsa",
        );
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let python = |args: &[&str]| {
            let mut c = Command::new("/usr/bin/python3");
            c.args(args)
                .current_dir(&dir)
                .env("IDP_DIR", &dir)
                .env("IDP_PORT", port.to_string())
                .env("IDP_KEY", &key)
                .env("PREAU_BASE", preau_base)
                .env("DJANGO_SETTINGS_MODULE", "preau_idp.settings")
                .env("PYTHONPATH", &dir);
            c
        };
        let need = "apt-get install python3-django-oauth-toolkit python3-django-cas-server";
        run(
            &mut python(&["-m", "django", "migrate", "--noinput"]),
            &format!("django migrate ({need})"),
        );
        run(&mut python(&["populate.py"]), "the provider's accounts");
        let child = python(&[
            "-m",
            "django",
            "runserver",
            &format!("127.0.0.1:{port}"),
            "--noreload",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("django runserver: {e} ({need})"));
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        Idp {
            child,
            base: format!("http://127.0.0.1:{port}"),
            dir,
        }
    }
}

/// Adds a provider the way the administrator's form does.
pub async fn add_provider(app: &TestApp, form: &[(&str, &str)]) -> i64 {
    let admin = app.login("admin", "demo").await;
    let r = admin.post("/admin/sign-in/providers", form).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    app.scalar("SELECT MAX(id) FROM identity_providers").await
}

/// A sign-in at a provider that was never started, or already used, signs nobody in; a
/// directory is not a provider one is sent to.
#[tokio::test]
async fn an_unknown_or_used_provider_sign_in_signs_nobody_in() {
    let app = TestApp::demo_with(preau_web::WebConfig {
        secure_cookies: false,
        public_url: Some("http://preau.test".into()),
        ..Default::default()
    })
    .await;
    let (directory, _) = directory_and_request(&app).await;
    let anon = app.anonymous().await;
    for path in [
        "/login/sso/callback?state=inconnu&code=abc",
        "/login/sso/callback",
        "/login/cas/inconnu?ticket=ST-1-abc",
    ] {
        let r = anon.get(path).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{path}");
        assert!(r.body.contains("expiré"), "{path}");
        assert!(crate::harness::set_cookie(&r, "preau_session").is_none());
    }
    // The directory is switched off, and a directory is no redirect anyway.
    assert_eq!(
        anon.get(&format!("/login/sso/{directory}")).await.status,
        StatusCode::NOT_FOUND
    );
    with_db!(&app.db, p => sqlx::query("UPDATE identity_providers SET enabled = TRUE").execute(p).await.map(|_| ()).unwrap());
    assert_eq!(
        anon.get(&format!("/login/sso/{directory}")).await.status,
        StatusCode::NOT_FOUND
    );
    // The way back works only in the browser that set off: another one (a victim sent
    // the link) gets nothing, and the flow is still there for its owner.
    let now = chrono::Utc::now();
    let (state, _) = signin::start_flow(&app.db, directory, "/", now)
        .await
        .unwrap();
    let back = format!("/login/cas/{state}?ticket=ST-1-abc");
    let r = anon.get(&back).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = app
        .request(
            axum::http::Method::GET,
            &back,
            &[("cookie", format!("preau_sso={state}"))],
            None,
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::UNAUTHORIZED,
        "taken, but no CAS server"
    );
    assert!(
        signin::take_flow(&app.db, &state, now)
            .await
            .unwrap()
            .is_none()
    );
    // A flow is used once, within its ten minutes.
    let (state, _) = signin::start_flow(&app.db, directory, "/", now)
        .await
        .unwrap();
    assert!(
        signin::take_flow(&app.db, &state, now + chrono::Duration::minutes(11))
            .await
            .unwrap()
            .is_none()
    );
    let (state, _) = signin::start_flow(&app.db, directory, "/", now)
        .await
        .unwrap();
    assert!(
        signin::take_flow(&app.db, &state, now)
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        signin::take_flow(&app.db, &state, now)
            .await
            .unwrap()
            .is_none()
    );
}

/// An RSA key of the test's own (openssl), signing ID tokens the way a provider does.
struct Signer {
    pair: ring::signature::RsaKeyPair,
}

impl Signer {
    fn new() -> Signer {
        let dir = scratch("jwt");
        let key = dir.join("k.pem");
        run(
            Command::new("openssl")
                .args([
                    "genpkey",
                    "-algorithm",
                    "RSA",
                    "-pkeyopt",
                    "rsa_keygen_bits:2048",
                    "-out",
                ])
                .arg(&key),
            "openssl genpkey",
        );
        let pem = std::fs::read_to_string(&key).unwrap();
        let _ = std::fs::remove_dir_all(&dir);
        let b64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        use base64::Engine;
        let der = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap();
        Signer {
            pair: ring::signature::RsaKeyPair::from_pkcs8(&der).unwrap(),
        }
    }

    fn jwks(&self) -> serde_json::Value {
        use base64::Engine;
        use ring::signature::KeyPair;
        let b64 = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
        let public = self.pair.public_key();
        let der = public.as_ref();
        // The key's modulus and exponent, read from its DER (RSAPublicKey: two INTEGERs).
        let (n, e) = rsa_components(der);
        serde_json::json!({"keys": [{"kty": "RSA", "kid": "k1", "use": "sig", "n": b64(&n), "e": b64(&e)}]})
    }

    fn sign(&self, header: serde_json::Value, claims: serde_json::Value) -> String {
        use base64::Engine;
        let b64 = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
        let signed = format!(
            "{}.{}",
            b64(header.to_string().as_bytes()),
            b64(claims.to_string().as_bytes())
        );
        let mut sig = vec![0; self.pair.public().modulus_len()];
        self.pair
            .sign(
                &ring::signature::RSA_PKCS1_SHA256,
                &ring::rand::SystemRandom::new(),
                signed.as_bytes(),
                &mut sig,
            )
            .unwrap();
        format!("{signed}.{}", b64(&sig))
    }
}

/// (modulus, exponent) of a DER RSAPublicKey.
fn rsa_components(der: &[u8]) -> (Vec<u8>, Vec<u8>) {
    fn read(der: &[u8], at: usize) -> (usize, usize) {
        // (start of content, length) of the element at `at`.
        let first = der[at + 1] as usize;
        if first < 0x80 {
            (at + 2, first)
        } else {
            let n = first & 0x7f;
            let len = der[at + 2..at + 2 + n]
                .iter()
                .fold(0usize, |a, b| (a << 8) | *b as usize);
            (at + 2 + n, len)
        }
    }
    let (seq, _) = read(der, 0);
    let (n_at, n_len) = read(der, seq);
    let (e_at, e_len) = read(der, n_at + n_len);
    let strip = |b: &[u8]| {
        b.iter()
            .skip_while(|x| **x == 0)
            .copied()
            .collect::<Vec<_>>()
    };
    (
        strip(&der[n_at..n_at + n_len]),
        strip(&der[e_at..e_at + e_len]),
    )
}

#[test]
fn an_id_token_is_believed_only_when_signed_by_the_provider_for_this_client_and_sign_in() {
    let signer = Signer::new();
    let other = Signer::new();
    let cfg = signin::oidc::Config {
        issuer: "https://idp.mairie.test".into(),
        client_id: "preau".into(),
        client_secret: "s".into(),
        ca_pem: None,
        login_claim: "preferred_username".into(),
    };
    let now = chrono::Utc::now();
    let header = serde_json::json!({"alg": "RS256", "kid": "k1", "typ": "JWT"});
    let claims = |f: &dyn Fn(&mut serde_json::Value)| {
        let mut c = serde_json::json!({
            "iss": "https://idp.mairie.test", "aud": "preau", "sub": "42",
            "exp": now.timestamp() + 300, "iat": now.timestamp(), "nonce": "n-1",
            "email": "m.lefevre@mairie.test",
        });
        f(&mut c);
        c
    };
    let keys = signer.jwks();
    let good = signer.sign(header.clone(), claims(&|_| {}));
    let read = signin::oidc::verify(&good, &keys, &cfg, "n-1", now).unwrap();
    assert_eq!(read["sub"], "42");
    let refused = |token: &str, nonce: &str, why: &str| {
        let e = signin::oidc::verify(token, &keys, &cfg, nonce, now).unwrap_err();
        assert!(e.to_string().contains(why), "{e}");
    };
    refused(&good, "n-2", "nonce");
    refused(
        &other.sign(header.clone(), claims(&|_| {})),
        "n-1",
        "signature",
    );
    refused(
        &signer.sign(header.clone(), claims(&|c| c["aud"] = "autre".into())),
        "n-1",
        "another client",
    );
    refused(
        &signer.sign(
            header.clone(),
            claims(&|c| c["iss"] = "https://ailleurs.test".into()),
        ),
        "n-1",
        "another issuer",
    );
    refused(
        &signer.sign(
            header.clone(),
            claims(&|c| c["exp"] = (now.timestamp() - 600).into()),
        ),
        "n-1",
        "expired",
    );
    // Its claims changed after signing, or no signature at all ("alg": "none").
    let mut parts: Vec<String> = good.split('.').map(String::from).collect();
    use base64::Engine;
    parts[1] = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(claims(&|c| c["sub"] = "1".into()).to_string());
    refused(&parts.join("."), "n-1", "signature");
    let unsigned = format!(
        "{}.{}.",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(r#"{"alg":"none"}"#),
        parts[1]
    );
    refused(&unsigned, "n-1", "signature");
}

/// ES256 ID tokens (a P-256 key, as some providers sign with) are checked the same way.
#[test]
fn an_es256_id_token_is_checked_against_the_providers_p256_key() {
    use base64::Engine;
    use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
    let b64 = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
    let rng = ring::rand::SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
    let pair =
        EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng).unwrap();
    // The public key is 0x04 || x || y.
    let point = pair.public_key().as_ref();
    let jwks = serde_json::json!({"keys": [{"kty": "EC", "crv": "P-256", "kid": "e1",
        "x": b64(&point[1..33]), "y": b64(&point[33..65])}]});
    let cfg = signin::oidc::Config {
        issuer: "https://ent.example".into(),
        client_id: "preau".into(),
        client_secret: "s".into(),
        ca_pem: None,
        login_claim: "preferred_username".into(),
    };
    let now = chrono::Utc::now();
    let sign = |claims: serde_json::Value| {
        let signed = format!(
            "{}.{}",
            b64(br#"{"alg":"ES256","kid":"e1"}"#),
            b64(claims.to_string().as_bytes())
        );
        let sig = pair.sign(&rng, signed.as_bytes()).unwrap();
        format!("{signed}.{}", b64(sig.as_ref()))
    };
    let claims = serde_json::json!({"iss": "https://ent.example", "aud": ["preau", "autre"],
        "sub": "u-7", "exp": now.timestamp() + 60, "nonce": "n"});
    let read = signin::oidc::verify(&sign(claims.clone()), &jwks, &cfg, "n", now).unwrap();
    assert_eq!(read["sub"], "u-7");
    let mut other = claims;
    other["aud"] = serde_json::json!(["autre"]);
    assert!(signin::oidc::verify(&sign(other), &jwks, &cfg, "n", now).is_err());
}

/// CAS answers as servers send them: CAS 3 with attributes, CAS 2 without, a failure.
#[test]
fn cas_answers_are_read_for_the_user_and_the_attributes_released() {
    let cfg = signin::cas::Config {
        url: "https://cas.ent.example/cas".into(),
        version: 3,
        ca_pem: None,
        mail_attribute: "mail".into(),
        name_attribute: "displayName".into(),
    };
    let v3 = br#"<cas:serviceResponse xmlns:cas="http://www.yale.edu/tp/cas">
  <cas:authenticationSuccess>
    <cas:user>M.Lefevre</cas:user>
    <cas:attributes>
      <cas:mail>m.lefevre@ac-versailles.fr</cas:mail>
      <cas:displayName>Marie Lef&#232;vre</cas:displayName>
    </cas:attributes>
  </cas:authenticationSuccess>
</cas:serviceResponse>"#;
    let who = signin::cas::parse(v3, &cfg).unwrap().unwrap();
    assert_eq!(who.subject, "M.Lefevre");
    assert_eq!(who.login.as_deref(), Some("m.lefevre"));
    assert_eq!(who.email.as_deref(), Some("m.lefevre@ac-versailles.fr"));
    assert_eq!(who.display_name, "Marie Lefèvre");
    let v2 = br#"<cas:serviceResponse xmlns:cas="http://www.yale.edu/tp/cas"><cas:authenticationSuccess><cas:user>jdupont</cas:user></cas:authenticationSuccess></cas:serviceResponse>"#;
    let who = signin::cas::parse(v2, &cfg).unwrap().unwrap();
    assert_eq!((who.display_name.as_str(), who.email), ("jdupont", None));
    let failed = br#"<cas:serviceResponse xmlns:cas="http://www.yale.edu/tp/cas"><cas:authenticationFailure code="INVALID_TICKET">Ticket ST-1 not recognized</cas:authenticationFailure></cas:serviceResponse>"#;
    assert!(signin::cas::parse(failed, &cfg).unwrap().is_none());
    // Not a CAS answer at all.
    assert!(signin::cas::parse(b"<html><body>Erreur</body></html>", &cfg).is_err());
    let deep = format!("{}{}", "<a>".repeat(40), "</a>".repeat(40));
    assert!(signin::cas::parse(deep.as_bytes(), &cfg).is_err());
}
