//! Backups that restore. `preau backup FILE` takes a consistent copy of the whole
//! database while Préau serves — attachments and loan scans included, as they live in it:
//! on SQLite with `VACUUM INTO` (one read transaction, the file a database of its own), on
//! PostgreSQL with `pg_dump` in its custom format (one snapshot). `preau restore FILE`
//! puts it back into an empty data folder or an empty database, after checking it is a
//! Préau database whole; the next start migrates it if it is older.

use chrono::{DateTime, Utc};
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::db::Db;
use crate::with_db;

/// What a backup wrote.
#[derive(Debug, Clone)]
pub struct Taken {
    pub path: PathBuf,
    pub bytes: u64,
    pub taken_at: DateTime<Utc>,
}

/// Where a PostgreSQL deployment is: its URL and, in tests, its schema.
#[derive(Debug, Clone)]
pub struct Postgres<'a> {
    pub url: &'a str,
    pub schema: Option<&'a str>,
}

/// Takes the backup into `target` (which must not exist yet) and records it.
pub async fn backup(
    db: &Db,
    pg: Option<&Postgres<'_>>,
    target: &Path,
    now: DateTime<Utc>,
) -> anyhow::Result<Taken> {
    anyhow::ensure!(
        !target.exists(),
        "{} already exists: a backup never overwrites a file",
        target.display()
    );
    let path = target
        .to_str()
        .ok_or_else(|| anyhow::anyhow!("the backup's path must be valid UTF-8"))?;
    match (db, pg) {
        (Db::Sqlite(pool, _), _) => {
            sqlx::query("VACUUM INTO $1")
                .bind(path)
                .execute(pool)
                .await?;
        }
        (Db::Postgres(_), Some(pg)) => {
            let mut cmd = Command::new("pg_dump");
            cmd.args(["--format=custom", "--no-owner", "--no-privileges", "--file"])
                .arg(target);
            if let Some(s) = pg.schema {
                cmd.arg(format!("--schema={s}"));
            }
            run(cmd.arg(pg.url), "pg_dump")?;
        }
        (Db::Postgres(_), None) => anyhow::bail!("a PostgreSQL backup needs the database URL"),
    }
    let bytes = std::fs::metadata(target)?.len();
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    with_db!(db, p => {
        sqlx::query("INSERT INTO backups (taken_at, file_name, bytes) VALUES ($1, $2, $3)")
            .bind(now).bind(&name).bind(bytes as i64).execute(p).await?;
    });
    Ok(Taken {
        path: target.to_path_buf(),
        bytes,
        taken_at: now,
    })
}

/// Runs a PostgreSQL client, its error output kept for the message (never the URL).
fn run(cmd: &mut Command, what: &str) -> anyhow::Result<()> {
    let out = cmd
        .output()
        .map_err(|e| anyhow::anyhow!("{what} could not start ({e}): install postgresql-client"))?;
    anyhow::ensure!(
        out.status.success(),
        "{what} failed: {}",
        String::from_utf8_lossy(&out.stderr).trim()
    );
    Ok(())
}

/// Restores a SQLite backup into `data_dir`, which must hold no database yet.
pub async fn restore_sqlite(file: &Path, data_dir: &Path) -> anyhow::Result<()> {
    let target = data_dir.join("preau.sqlite3");
    anyhow::ensure!(
        !target.exists(),
        "{} already holds a database: restore into an empty data folder",
        data_dir.display()
    );
    check_sqlite(file).await?;
    std::fs::create_dir_all(data_dir)?;
    let partial = data_dir.join("preau.sqlite3.restoring");
    std::fs::copy(file, &partial)?;
    std::fs::rename(&partial, &target)?;
    Ok(())
}

/// A SQLite file is a Préau backup when it is whole and has a migrated schema.
async fn check_sqlite(file: &Path) -> anyhow::Result<()> {
    use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
    let opts = SqliteConnectOptions::new().filename(file).read_only(true);
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(opts)
        .await
        .map_err(|e| anyhow::anyhow!("{} is not a SQLite database: {e}", file.display()))?;
    let integrity: String = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(&pool)
        .await
        .map_err(|e| anyhow::anyhow!("{} is not a SQLite database: {e}", file.display()))?;
    anyhow::ensure!(
        integrity == "ok",
        "{} is damaged: {integrity}",
        file.display()
    );
    let versions: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM preau_migrations")
        .fetch_one(&pool)
        .await
        .map_err(|_| anyhow::anyhow!("{} is not a Préau backup", file.display()))?;
    anyhow::ensure!(versions > 0, "{} is not a Préau backup", file.display());
    pool.close().await;
    Ok(())
}

/// Restores a PostgreSQL backup into a database (and schema) that holds no Préau tables.
pub async fn restore_postgres(file: &Path, pg: &Postgres<'_>) -> anyhow::Result<()> {
    // Looked at without creating anything: the archive makes its own schema.
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect(pg.url)
        .await?;
    let present: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = COALESCE($1, current_schema()) AND table_name = 'preau_migrations'")
        .bind(pg.schema)
        .fetch_one(&pool)
        .await?;
    pool.close().await;
    anyhow::ensure!(
        present == 0,
        "the database already holds Préau's tables: restore into an empty database"
    );
    let mut list = Command::new("pg_restore");
    list.arg("--list").arg(file);
    run(&mut list, "pg_restore")
        .map_err(|_| anyhow::anyhow!("{} is not a Préau backup of PostgreSQL", file.display()))?;
    let mut cmd = Command::new("pg_restore");
    cmd.args([
        "--no-owner",
        "--no-privileges",
        "--exit-on-error",
        "--single-transaction",
    ])
    .arg(format!("--dbname={}", pg.url))
    .arg(file);
    run(&mut cmd, "pg_restore")
}

/// The last backup taken, if any: when, and its size.
pub async fn last(db: &Db) -> crate::error::AppResult<Option<(DateTime<Utc>, i64)>> {
    Ok(with_db!(db, p => {
        sqlx::query_as("SELECT taken_at, bytes FROM backups ORDER BY taken_at DESC, id DESC LIMIT 1").fetch_optional(p).await?
    }))
}
