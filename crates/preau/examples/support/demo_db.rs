//! The database of the steering and connectivity benchmarks: the demo commune, plus
//! `--schools N` more élémentaires with `per_school` devices each when asked (added once:
//! a second run on the same database reuses them).

use crate::http::arg;
use std::time::Instant;

/// Opens `--database-url` (else SQLite in `--data-dir`, else `default_dir`), loads the
/// demo, and adds the schools asked for.
pub async fn open(
    args: &[String],
    default_dir: &str,
    per_school: usize,
) -> anyhow::Result<preau_core::Db> {
    let data =
        std::path::PathBuf::from(arg(args, "--data-dir").unwrap_or_else(|| default_dir.into()));
    let db = preau_core::Db::open(arg(args, "--database-url").as_deref(), &data).await?;
    db.migrate().await?;
    let now = chrono::Utc::now();
    preau_core::demo::load_if_empty(&db, now).await?;
    let schools: usize = arg(args, "--schools").map_or(0, |v| v.parse().expect("--schools N"));
    let have: i64 = preau_core::with_db!(&db, p => sqlx::query_scalar("SELECT COUNT(*) FROM schools").fetch_one(p).await?);
    if schools > 0 && (have as usize) < 23 + schools {
        let t = Instant::now();
        let n =
            preau_core::demo::bench_coverage(&db, schools - (have as usize - 23), per_school, now)
                .await?;
        println!("{n} devices added in {:.1} s", t.elapsed().as_secs_f64());
        db.analyze().await?;
    }
    Ok(db)
}
