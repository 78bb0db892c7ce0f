//! Upgrades from every published version: each fixture of `tests/fixtures/schema` (the
//! demo as that version stored it, written by `examples/schema_fixture.rs`) is migrated to
//! the current schema — on SQLite in place, on PostgreSQL after a copy at its own version —
//! and must then be today's schema, keep every row, and serve every role.

use preau_core::{Db, copy, with_db};
use std::io::Read;

use crate::harness::{TestApp, fresh_db};

/// Rows per table.
async fn counts(db: &Db) -> Vec<(String, i64)> {
    let tables: Vec<String> = match db {
        Db::Sqlite(p, _) => sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").fetch_all(p).await.unwrap(),
        Db::Postgres(p) => sqlx::query_scalar("SELECT table_name::text FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY 1").fetch_all(p).await.unwrap(),
    };
    let mut out = Vec::new();
    for t in tables {
        let n: i64 = with_db!(db, p => sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM \"{t}\""))).fetch_one(p).await.unwrap());
        out.push((t, n));
    }
    out
}

/// Every table's columns with their types, and every index's definition: what a fresh
/// install has and an upgraded one must have too.
async fn shape(db: &Db) -> Vec<String> {
    match db {
        Db::Sqlite(p, _) => {
            let mut out: Vec<String> = sqlx::query_scalar(
                "SELECT m.name || '.' || c.name || ' ' || c.type || CASE c.\"notnull\" WHEN 1 THEN ' not null' ELSE '' END FROM sqlite_master m, pragma_table_xinfo(m.name) c WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'",
            )
            .fetch_all(p)
            .await
            .unwrap();
            out.extend(
                sqlx::query_scalar::<_, String>(
                    "SELECT 'index ' || name || ' on ' || tbl_name FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_%'",
                )
                .fetch_all(p)
                .await
                .unwrap(),
            );
            out.sort();
            out
        }
        Db::Postgres(p) => {
            let mut out: Vec<String> = sqlx::query_scalar(
                "SELECT table_name || '.' || column_name || ' ' || data_type || CASE is_nullable WHEN 'NO' THEN ' not null' ELSE '' END FROM information_schema.columns WHERE table_schema = current_schema()",
            )
            .fetch_all(p)
            .await
            .unwrap();
            out.extend(
                sqlx::query_scalar::<_, String>(
                    "SELECT 'index ' || indexname || ' on ' || tablename FROM pg_indexes WHERE schemaname = current_schema()",
                )
                .fetch_all(p)
                .await
                .unwrap(),
            );
            out.sort();
            out
        }
    }
}

#[tokio::test]
async fn every_published_version_upgrades_to_the_current_schema_and_serves() {
    let folder = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/schema");
    let mut fixtures: Vec<_> = std::fs::read_dir(&folder)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".sqlite3.gz"))
        .collect();
    fixtures.sort();
    assert!(!fixtures.is_empty(), "no fixture in {}", folder.display());
    let (fresh, _fresh_dir) = fresh_db().await;
    let today = shape(&fresh).await;
    let url = std::env::var("PREAU_TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty());
    for fixture in fixtures {
        let name = fixture.file_name().unwrap().to_string_lossy().into_owned();
        let dir = std::env::temp_dir().join(format!(
            "preau-upgrade-{}-{}",
            std::process::id(),
            name.replace('.', "_")
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let mut bytes = Vec::new();
        flate2::read::GzDecoder::new(std::fs::File::open(&fixture).unwrap())
            .read_to_end(&mut bytes)
            .unwrap();
        std::fs::write(dir.join("preau.sqlite3"), &bytes).unwrap();
        let stored = Db::open_sqlite(&dir).await.unwrap();
        let version = *stored.applied().await.unwrap().last().unwrap();
        let before = counts(&stored).await;
        let db = match &url {
            None => stored,
            Some(url) => {
                let schema = format!(
                    "upgrade_{}_{}",
                    std::process::id(),
                    chrono::Utc::now().timestamp_subsec_nanos()
                );
                let pg = Db::open_postgres(url, Some(&schema)).await.unwrap();
                let copied = copy::copy(&stored, &pg).await.unwrap();
                assert_eq!(copied.version, version, "{name}");
                pg
            }
        };
        db.migrate().await.unwrap();
        assert!(db.pending().await.unwrap().is_empty(), "{name}");
        // Today's schema, column for column and index for index.
        let upgraded = shape(&db).await;
        let missing: Vec<_> = today.iter().filter(|c| !upgraded.contains(c)).collect();
        let extra: Vec<_> = upgraded.iter().filter(|c| !today.contains(c)).collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "{name} (schema {version}) upgraded: missing {missing:?}, not in a fresh install {extra:?}"
        );
        // No row lost.
        let after = counts(&db).await;
        for (table, n) in &before {
            let now = after.iter().find(|(t, _)| t == table).map(|x| x.1);
            assert!(
                now.is_some_and(|m| m >= *n),
                "{name}: {table} had {n} rows, now {now:?}"
            );
        }
        // Every role signs in and opens its home page and a list.
        let app = TestApp::serving(db);
        for (login, _) in preau_core::demo::LOGINS {
            let s = app.login(login, preau_core::demo::PASSWORD).await;
            for page in ["/", "/notifications"] {
                let r = s.get(page).await;
                assert_eq!(r.status, 200, "{name}: {login} {page}");
            }
        }
        let admin = app.login("admin", preau_core::demo::PASSWORD).await;
        for page in [
            "/devices",
            "/tickets",
            "/schools",
            "/admin",
            "/coverage",
            "/renewal",
        ] {
            let r = admin.get(page).await;
            assert_eq!(r.status, 200, "{name}: {page}");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
