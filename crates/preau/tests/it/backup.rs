//! Backups that restore: the demo backed up while served, restored into an empty place,
//! every table compared row by row (attachments and scans are rows); the refusals that
//! keep a restore from overwriting anything.

use preau_core::backup::{self, Postgres};
use preau_core::{Db, copy, with_db};

use crate::harness::TestApp;

/// Every table of the database with a digest of its rows (in a stable order).
async fn digests(db: &Db) -> Vec<(String, i64, String)> {
    let mut out = Vec::new();
    match db {
        Db::Sqlite(pool, _) => {
            let tables: Vec<String> = sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").fetch_all(pool).await.unwrap();
            for t in tables {
                let cols: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                    "SELECT name FROM pragma_table_info('{t}') ORDER BY cid"
                )))
                .fetch_all(pool)
                .await
                .unwrap();
                let row = cols
                    .iter()
                    .map(|c| format!("quote(\"{c}\")"))
                    .collect::<Vec<_>>()
                    .join(" || ',' || ");
                let rows: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                    "SELECT {row} FROM \"{t}\" ORDER BY 1"
                )))
                .fetch_all(pool)
                .await
                .unwrap();
                out.push((t, rows.len() as i64, digest(&rows)));
            }
        }
        Db::Postgres(pool) => {
            let tables: Vec<String> = sqlx::query_scalar("SELECT table_name::text FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY 1").fetch_all(pool).await.unwrap();
            for t in tables {
                let rows: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                    "SELECT x::text FROM \"{t}\" x ORDER BY 1"
                )))
                .fetch_all(pool)
                .await
                .unwrap();
                out.push((t, rows.len() as i64, digest(&rows)));
            }
        }
    }
    out
}

fn digest(rows: &[String]) -> String {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    rows.hash(&mut h);
    format!("{:016x}", h.finish())
}

#[tokio::test]
async fn the_demo_backed_up_while_served_restores_whole() {
    let app = TestApp::demo().await;
    // A photo sent with a report: a file the backup must carry.
    let room = classroom(&app).await;
    let jpeg = b"\xFF\xD8\xFF\xE0\x00\x10JFIF\x00photo-de-la-salle";
    report(&app, room, Some(("photo", "tni.jpg", jpeg))).await;
    let dir = std::env::temp_dir().join(format!(
        "preau-backup-{}-{}",
        std::process::id(),
        chrono::Utc::now().timestamp_nanos_opt().unwrap_or(0)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("preau.backup");
    let url = std::env::var("PREAU_TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty());
    let before = digests(&app.db).await;
    let restored: Db = match (&app.db, &url) {
        (Db::Sqlite(..), _) => {
            let taken = backup::backup(&app.db, None, &file, chrono::Utc::now())
                .await
                .unwrap();
            assert!(taken.bytes > 100_000, "{} bytes", taken.bytes);
            // A backup never overwrites a file.
            let again = backup::backup(&app.db, None, &file, chrono::Utc::now()).await;
            assert!(again.unwrap_err().to_string().contains("already exists"));
            let target = dir.join("data");
            backup::restore_sqlite(&file, &target).await.unwrap();
            // Nor does a restore overwrite a database.
            let twice = backup::restore_sqlite(&file, &target).await;
            assert!(
                twice
                    .unwrap_err()
                    .to_string()
                    .contains("already holds a database")
            );
            Db::open_sqlite(&target).await.unwrap()
        }
        (Db::Postgres(pool), Some(url)) => {
            let schema: String = sqlx::query_scalar("SELECT current_schema()::text")
                .fetch_one(pool)
                .await
                .unwrap();
            let pg = Postgres {
                url,
                schema: Some(&schema),
            };
            let taken = backup::backup(&app.db, Some(&pg), &file, chrono::Utc::now())
                .await
                .unwrap();
            assert!(taken.bytes > 100_000, "{} bytes", taken.bytes);
            // Into a database of its own.
            let name = format!("preau_restore_{}", std::process::id());
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS {name}"
            )))
            .execute(pool)
            .await
            .unwrap();
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                .execute(pool)
                .await
                .unwrap();
            let target_url = match url.rsplit_once('/') {
                Some((base, _)) => format!("{base}/{name}"),
                None => panic!("{url}"),
            };
            let into = Postgres {
                url: &target_url,
                schema: Some(&schema),
            };
            backup::restore_postgres(&file, &into).await.unwrap();
            let twice = backup::restore_postgres(&file, &into).await;
            assert!(twice.unwrap_err().to_string().contains("already holds"));
            Db::open_postgres(&target_url, Some(&schema)).await.unwrap()
        }
        (Db::Postgres(_), None) => unreachable!("a PostgreSQL test has its URL"),
    };
    restored.migrate().await.unwrap();
    let after = digests(&restored).await;
    assert_eq!(
        before.iter().map(|x| &x.0).collect::<Vec<_>>(),
        after.iter().map(|x| &x.0).collect::<Vec<_>>(),
        "the same tables"
    );
    for (b, a) in before.iter().zip(&after) {
        // The backup is recorded after it is taken: the copy does not list itself.
        if b.0 == "backups" {
            continue;
        }
        assert_eq!(b, a, "table {}", b.0);
    }
    // Files live in the database: the tickets' photos and the loans' scanned charters
    // are among the rows compared.
    for files in ["ticket_attachments", "loan_documents"] {
        assert!(before.iter().any(|x| x.0 == files), "{files}");
    }
    assert!(
        before
            .iter()
            .any(|x| x.0 == "ticket_attachments" && x.1 == 1),
        "the photo"
    );
    assert_eq!(
        with_db!(&restored, p => sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM backups").fetch_one(p).await.unwrap()),
        0
    );
    // The administration page says when the last backup was.
    let admin = app.login("admin", "demo").await;
    let page = admin.get("/admin").await;
    assert!(
        page.body.contains("Dernière sauvegarde")
            && !page.body.contains("Aucune sauvegarde depuis")
    );
    // A file that is no backup is refused, naming it.
    let junk = dir.join("notes.txt");
    std::fs::write(&junk, "pas une sauvegarde").unwrap();
    let r = backup::restore_sqlite(&junk, &dir.join("other")).await;
    assert!(r.unwrap_err().to_string().contains("notes.txt"));
    assert!(!dir.join("other").join("preau.sqlite3").exists());
    let _ = std::fs::remove_dir_all(&dir);
}

/// A classroom of the teacher's school.
async fn classroom(app: &TestApp) -> i64 {
    let (school, _) = crate::harness::first_and_other_school(app).await;
    with_db!(&app.db, p => sqlx::query_scalar("SELECT MIN(id) FROM rooms WHERE school_id = $1 AND kind = 'classe'").bind(school).fetch_one(p).await.unwrap())
}

/// The teacher reports a broken screen in `room`, with a photo or not.
async fn report(app: &TestApp, room: i64, photo: Option<(&str, &str, &[u8])>) {
    let teacher = app.login("enseignant", "demo").await;
    let r = teacher
        .post_file(
            "/tickets",
            &[
                ("room_id", &room.to_string()),
                ("category", "ecran"),
                ("priority", "p2"),
            ],
            photo,
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.status);
}

/// The demo, copied to the other database and back, is the demo: every table's rows
/// alike, and the copy serves (its id sequences go on after the copied ids). On the
/// SQLite run the copy goes to another SQLite file; the PostgreSQL run goes through
/// SQLite and back into PostgreSQL.
#[tokio::test]
async fn the_demo_copied_to_the_other_database_and_back_is_whole_and_serves() {
    let app = TestApp::demo().await;
    let (school, _) = crate::harness::first_and_other_school(&app).await;
    let room: i64 = with_db!(&app.db, p => sqlx::query_scalar("SELECT MIN(id) FROM rooms WHERE school_id = $1 AND kind = 'classe'").bind(school).fetch_one(p).await.unwrap());
    report(
        &app,
        room,
        Some(("photo", "tni.jpg", b"\xFF\xD8\xFF\xE0photo")),
    )
    .await;
    let before = digests(&app.db).await;
    let dir = crate::harness::scratch("copy");
    let url = std::env::var("PREAU_TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty());

    // Into SQLite (from SQLite, or from PostgreSQL).
    let sqlite = Db::open_sqlite(&dir.join("sqlite")).await.unwrap();
    let copied = copy::copy(&app.db, &sqlite).await.unwrap();
    assert_eq!(copied.version, Db::latest_version());
    assert!(copied.rows() > 1000, "{} rows", copied.rows());
    let counts: Vec<(String, i64)> = digests(&sqlite)
        .await
        .into_iter()
        .map(|(t, n, _)| (t, n))
        .collect();
    assert_eq!(
        counts,
        before
            .iter()
            .map(|(t, n, _)| (t.clone(), *n))
            .collect::<Vec<_>>(),
        "every table, every row"
    );
    // Nothing is copied over a database that holds something.
    let again = copy::copy(&app.db, &sqlite).await.unwrap_err().to_string();
    assert!(again.contains("not empty"), "{again}");
    let nothing = Db::open_sqlite(&dir.join("empty")).await.unwrap();
    let none = copy::copy(&nothing, &sqlite).await.unwrap_err().to_string();
    assert!(none.contains("no Préau schema"), "{none}");

    let back = match (&app.db, &url) {
        (Db::Sqlite(..), _) => sqlite.clone(),
        (Db::Postgres(_), Some(url)) => {
            let schema = format!(
                "copy_{}_{}",
                std::process::id(),
                chrono::Utc::now().timestamp_subsec_nanos()
            );
            let pg = Db::open_postgres(url, Some(&schema)).await.unwrap();
            copy::copy(&sqlite, &pg).await.unwrap();
            pg
        }
        (Db::Postgres(_), None) => unreachable!("a PostgreSQL test has its URL"),
    };
    let after = digests(&back).await;
    assert_eq!(before.len(), after.len());
    for (b, a) in before.iter().zip(&after) {
        assert_eq!(b, a, "table {}", b.0);
    }
    // The copy serves: new rows get new ids, after the copied ones.
    let served = TestApp::serving(back.clone());
    let highest: i64 = served.scalar("SELECT MAX(id) FROM tickets").await;
    report(&served, room, None).await;
    assert_eq!(
        served.scalar("SELECT MAX(id) FROM tickets").await,
        highest + 1
    );
    let _ = std::fs::remove_dir_all(&dir);
}
