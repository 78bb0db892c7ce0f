//! Writes the schema fixture of this version: the demo loaded on a fresh SQLite database
//! at today's schema, gzipped, as `tests/fixtures/schema/<version>.sqlite3.gz`. Run it once
//! for each published version, before the version's first migration is added:
//!
//! ```sh
//! cargo run --example schema_fixture
//! ```
//!
//! The upgrade test (`tests/it/upgrade.rs`) migrates every fixture of that folder to the
//! current schema, on SQLite and on PostgreSQL, and checks the result. A fixture already
//! there is never overwritten.

use std::io::Write;

fn main() -> anyhow::Result<()> {
    let version = env!("CARGO_PKG_VERSION");
    let folder = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/schema");
    let target = folder.join(format!("{version}.sqlite3.gz"));
    anyhow::ensure!(
        !target.exists(),
        "{} exists: a published version's fixture is never rewritten",
        target.display()
    );
    let work = std::env::temp_dir().join(format!("preau-fixture-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    let rt = tokio::runtime::Runtime::new()?;
    let file = work.join("fixture.sqlite3");
    let schema = rt.block_on(async {
        let db = preau_core::Db::open_sqlite(&work).await?;
        db.migrate().await?;
        preau_core::demo::load_if_empty(&db, chrono::Utc::now()).await?;
        if let preau_core::Db::Sqlite(pool, _) = &db {
            sqlx::query("VACUUM INTO $1")
                .bind(file.to_string_lossy().as_ref())
                .execute(pool)
                .await?;
        }
        db.close().await;
        anyhow::Ok(preau_core::Db::latest_version())
    })?;
    std::fs::create_dir_all(&folder)?;
    let mut gz =
        flate2::write::GzEncoder::new(std::fs::File::create(&target)?, flate2::Compression::best());
    gz.write_all(&std::fs::read(&file)?)?;
    gz.finish()?;
    let _ = std::fs::remove_dir_all(&work);
    println!(
        "{} written (schema {schema}, {} bytes)",
        target.display(),
        std::fs::metadata(&target)?.len()
    );
    Ok(())
}
