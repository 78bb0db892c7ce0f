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
