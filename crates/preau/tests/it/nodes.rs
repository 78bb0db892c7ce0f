//! Several nodes on one database: the periodic passes run by one node at a time (a
//! PostgreSQL advisory lock, freed when its holder dies), and every queued e-mail sent
//! once whichever nodes' mail workers run together.

use preau_core::{Db, with_db};

use crate::harness::{SmtpListener, TestApp, scratch};

#[tokio::test]
async fn one_node_at_a_time_runs_the_passes_and_a_dead_node_frees_them() {
    let app = TestApp::demo().await;
    let other = app.other_node().await;
    let name = "preau periodic passes";
    let first = app
        .db
        .exclusive(name)
        .await
        .unwrap()
        .expect("free at first");
    match &app.db {
        // Another node waits its turn...
        Db::Postgres(_) => {
            assert!(other.exclusive(name).await.unwrap().is_none());
            // ...another kind of work is not held up.
            let elsewhere = other.exclusive("another pass").await.unwrap();
            assert!(elsewhere.is_some());
            elsewhere.unwrap().release().await.unwrap();
            // Released: the other node takes it.
            first.release().await.unwrap();
            let second = other.exclusive(name).await.unwrap().expect("released");
            assert!(app.db.exclusive(name).await.unwrap().is_none());
            // Its holder gone without releasing (a node killed mid-pass): free again.
            drop(second);
            other.close().await;
            let again = app.db.exclusive(name).await.unwrap();
            assert!(again.is_some(), "a dead node's lock is freed");
        }
        // SQLite is one node: it always runs them.
        Db::Sqlite(..) => {
            assert!(other.exclusive(name).await.unwrap().is_some());
            first.release().await.unwrap();
        }
    }
}

#[tokio::test]
async fn two_nodes_mail_workers_send_each_mail_once() {
    let app = TestApp::demo().await;
    let other = app.other_node().await;
    let cid: i64 = app.scalar("SELECT MIN(id) FROM collectivites").await;
    let now = chrono::Utc::now();
    preau_core::write_tx!(app.db, tx => {
        for i in 0..60 {
            preau_core::jobs::enqueue_private_mail(tx, cid, &format!("agent{i}@mairie.test"), "Essai", "Un message", now).await?;
        }
    })
    .unwrap();
    let pending = app
        .scalar("SELECT COUNT(*) FROM jobs WHERE kind = 'mail' AND done_at IS NULL")
        .await;
    assert!(pending >= 60);
    let dir = scratch("smtp-nodes");
    let _ = std::fs::remove_dir_all(&dir);
    let smtp = SmtpListener::start(dir, None).await;
    let cfg = preau_core::mail::SmtpConfig::from_url(
        &format!("smtp://127.0.0.1:{}", smtp.port),
        "preau@mairie.example",
    )
    .unwrap();
    let (a, b) = tokio::join!(
        preau_core::jobs::run_mail(&app.db, &cfg, "http://preau.test", now),
        preau_core::jobs::run_mail(&other, &cfg, "http://preau.test", now),
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.failed + b.failed, 0, "{a:?} {b:?}");
    assert_eq!((a.sent + b.sent) as i64, pending, "{a:?} {b:?}");
    let messages = smtp.messages();
    assert_eq!(messages.len() as i64, pending, "each mail once");
    for i in 0..60 {
        let to = format!("To: <agent{i}@mairie.test>");
        assert_eq!(
            messages.iter().filter(|m| m.contains(&to)).count(),
            1,
            "{to}"
        );
    }
    let left: i64 = with_db!(&other, p => sqlx::query_scalar("SELECT COUNT(*) FROM jobs WHERE kind = 'mail' AND done_at IS NULL").fetch_one(p).await.unwrap());
    assert_eq!(left, 0);
}

async fn attempt(app: &TestApp, login: &str, password: &str) -> axum::http::StatusCode {
    app.anonymous()
        .await
        .post(
            "/login",
            &[("login", login), ("password", password), ("next", "/")],
        )
        .await
        .status
}

/// Wrong passwords sent to one node slow the next tries down on the other too.
#[tokio::test]
async fn wrong_passwords_count_on_every_node() {
    let a = TestApp::demo().await;
    let b = TestApp::serving(a.other_node().await);
    let free = preau_web::WebConfig::default().login_attempts;
    for _ in 0..free {
        assert_eq!(
            attempt(&a, "directeur", "faux").await,
            axum::http::StatusCode::UNAUTHORIZED
        );
    }
    // The other node refuses at once, even the right password, and says how long to wait.
    let r = b
        .anonymous()
        .await
        .post(
            "/login",
            &[("login", "directeur"), ("password", "demo"), ("next", "/")],
        )
        .await;
    assert_eq!(r.status, axum::http::StatusCode::TOO_MANY_REQUESTS);
    assert!(r.headers.get("retry-after").is_some());
    // Another login from the same place is not held up.
    assert_eq!(
        attempt(&b, "enseignant", "faux").await,
        axum::http::StatusCode::UNAUTHORIZED
    );
    // Nothing names the login or the address in the database.
    let stored: Vec<String> = with_db!(&a.db, p => sqlx::query_scalar("SELECT key_hash FROM sign_in_failures").fetch_all(p).await.unwrap());
    assert!(!stored.is_empty());
    assert!(
        stored
            .iter()
            .all(|k| !k.contains("directeur") && k.len() == 64)
    );
}
