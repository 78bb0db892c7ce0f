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
        ldap: ldap::ConfigInput {
            url: "ldaps://127.0.0.1:1".into(),
            bind_dn: "cn=preau,dc=mairie,dc=test".into(),
            bind_password: "service".into(),
            base_dn: "dc=mairie,dc=test".into(),
            filter: "(uid={login})".into(),
            ..Default::default()
        },
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
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new("slapd")
            .args([
                "-f",
                &p("slapd.conf"),
                "-h",
                &format!("ldap://127.0.0.1:{port}/"),
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
}
