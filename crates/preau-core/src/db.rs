//! The two database backends behind one concrete type.
//!
//! `Db` is either an SQLite pool (the default, a file in the data folder) or a PostgreSQL
//! pool. Queries are written once, with `$1` placeholders that both accept, and run on
//! whichever backend through the `with_db!` / `with_tx!` macros, which expand the same
//! code once per backend so that each arm is type-checked against its own driver.
//!
//! Migrations are plain SQL, one folder per backend, numbered alike.

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, Postgres, Sqlite, SqlitePool, Transaction};
use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

/// Which database a `Db` talks to, for the few queries written differently for each
/// planner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl std::fmt::Display for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        })
    }
}

#[derive(Clone, Debug)]
pub enum Db {
    /// The pool, and the lock every write transaction takes first: SQLite has one writer
    /// at a time, and queueing writers here (in order, without sleeping) is much fairer
    /// and faster than letting them poll the database's busy lock.
    Sqlite(SqlitePool, Arc<tokio::sync::Mutex<()>>),
    Postgres(PgPool),
}

/// A write transaction on either backend. Dropped without `commit`, it rolls back (and,
/// on SQLite, lets the next writer in).
pub enum Tx {
    Sqlite(
        Transaction<'static, Sqlite>,
        tokio::sync::OwnedMutexGuard<()>,
    ),
    Postgres(Transaction<'static, Postgres>),
}

/// Runs `$body` with `$pool` bound to the concrete pool of either backend.
#[macro_export]
macro_rules! with_db {
    ($db:expr, $pool:ident => $body:expr) => {
        match $db {
            $crate::db::Db::Sqlite($pool, _) => $body,
            $crate::db::Db::Postgres($pool) => $body,
        }
    };
}

/// Runs `$body` with `$conn` bound to the transaction's connection on either backend.
/// Use `&mut *$conn` for each statement.
#[macro_export]
macro_rules! with_tx {
    ($tx:expr, $conn:ident => $body:expr) => {
        match $tx {
            $crate::db::Tx::Sqlite(t, _) => {
                let $conn = &mut **t;
                $body
            }
            $crate::db::Tx::Postgres(t) => {
                let $conn = &mut **t;
                $body
            }
        }
    };
}

struct Migration {
    version: i64,
    name: &'static str,
    sqlite: &'static str,
    postgres: &'static str,
}

/// One entry per migration, in order; `migration!(2, "name")` reads
/// `migrations/{sqlite,postgres}/0002_name.sql`.
macro_rules! migration {
    ($v:literal, $file:literal, $name:literal) => {
        Migration {
            version: $v,
            name: $name,
            sqlite: include_str!(concat!("../migrations/sqlite/", $file, "_", $name, ".sql")),
            postgres: include_str!(concat!(
                "../migrations/postgres/",
                $file,
                "_",
                $name,
                ".sql"
            )),
        }
    };
}

/// The first line of a SQLite migration that rebuilds tables other tables point to (SQLite
/// cannot drop a constraint): it runs with foreign keys off, which only takes effect
/// outside a transaction, and its foreign keys are checked before it commits.
const REBUILDS_TABLES: &str = "-- rebuilds tables: foreign keys off";

async fn rebuild_sqlite(pool: &sqlx::SqlitePool, m: &Migration) -> anyhow::Result<()> {
    let mut conn = pool.acquire().await?;
    sqlx::query("PRAGMA foreign_keys = OFF")
        .execute(&mut *conn)
        .await?;
    let result: anyhow::Result<()> = async {
        sqlx::query("BEGIN IMMEDIATE").execute(&mut *conn).await?;
        sqlx::raw_sql(m.sqlite).execute(&mut *conn).await?;
        sqlx::query("INSERT INTO preau_migrations (version, name) VALUES ($1, $2)")
            .bind(m.version)
            .bind(m.name)
            .execute(&mut *conn)
            .await?;
        let dangling = sqlx::query("PRAGMA foreign_key_check")
            .fetch_all(&mut *conn)
            .await?;
        if !dangling.is_empty() {
            anyhow::bail!(
                "migration {} would leave {} rows pointing nowhere",
                m.version,
                dangling.len()
            );
        }
        sqlx::query("COMMIT").execute(&mut *conn).await?;
        Ok(())
    }
    .await;
    if result.is_err() {
        let _ = sqlx::query("ROLLBACK").execute(&mut *conn).await;
    }
    sqlx::query("PRAGMA foreign_keys = ON")
        .execute(&mut *conn)
        .await?;
    result
}

const MIGRATIONS: &[Migration] = &[
    migration!(1, "0001", "foundation"),
    migration!(2, "0002", "collectivite_version"),
    migration!(3, "0003", "inventory"),
    migration!(4, "0004", "software_raw_hash"),
    migration!(5, "0005", "school_holidays"),
    migration!(6, "0006", "assistance"),
    migration!(7, "0007", "interventions_jobs"),
    migration!(8, "0008", "open_tickets"),
    migration!(9, "0009", "pupils_loans"),
    migration!(10, "0010", "referentiel"),
    migration!(11, "0011", "token_expiry"),
    migration!(12, "0012", "needs_subsidies"),
    migration!(13, "0013", "connectivity"),
    migration!(14, "0014", "outage_tickets"),
    migration!(15, "0015", "wifi_register"),
    migration!(16, "0016", "probes"),
    migration!(17, "0017", "visio"),
    migration!(18, "0018", "visio_checks"),
    migration!(19, "0019", "bookings"),
    migration!(20, "0020", "login_namespaces"),
    migration!(21, "0021", "school_access"),
    migration!(22, "0022", "notifications"),
    migration!(23, "0023", "backups"),
    migration!(24, "0024", "sign_in"),
    migration!(25, "0025", "sign_in_flows"),
    migration!(26, "0026", "sign_in_failures"),
];

impl Db {
    /// Opens (creating if needed) the SQLite database `preau.sqlite3` in `data_dir`.
    pub async fn open_sqlite(data_dir: &Path) -> anyhow::Result<Db> {
        std::fs::create_dir_all(data_dir).map_err(|e| {
            anyhow::anyhow!("cannot create data folder {}: {e}", data_dir.display())
        })?;
        let opts = SqliteConnectOptions::new()
            .filename(data_dir.join("preau.sqlite3"))
            .create_if_missing(true)
            .foreign_keys(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10))
            // Reads are served from memory-mapped pages (the page cache of the system,
            // shared by every connection); each connection's own cache holds the pages it
            // writes, 4 MB at most, so twelve connections cannot keep hundreds of
            // megabytes after a burst (`examples/membench.rs`).
            .pragma("mmap_size", "268435456")
            .pragma("cache_size", "-4000");
        let pool = SqlitePoolOptions::new()
            .max_connections(12)
            .connect_with(opts)
            .await?;
        Ok(Db::Sqlite(pool, Arc::new(tokio::sync::Mutex::new(()))))
    }

    /// Connects to PostgreSQL. `schema`, when given, is created if missing and becomes the
    /// search path of every connection (the tests give each test its own schema).
    pub async fn open_postgres(url: &str, schema: Option<&str>) -> anyhow::Result<Db> {
        let mut opts = PgConnectOptions::from_str(url)?;
        if let Some(schema) = schema {
            anyhow::ensure!(
                schema
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_'),
                "invalid schema name"
            );
            let admin = PgPoolOptions::new()
                .max_connections(1)
                .connect_with(opts.clone())
                .await?;
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "CREATE SCHEMA IF NOT EXISTS {schema}"
            )))
            .execute(&admin)
            .await?;
            admin.close().await;
            opts = opts.options([("search_path", schema)]);
        }
        let pool = PgPoolOptions::new()
            .max_connections(10)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(opts)
            .await?;
        Ok(Db::Postgres(pool))
    }

    /// Opens the database a URL names: `postgres://…`, `sqlite://PATH/preau.sqlite3`, or
    /// nothing for the SQLite file in `data_dir`.
    pub async fn open(database_url: Option<&str>, data_dir: &Path) -> anyhow::Result<Db> {
        match database_url {
            Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                Db::open_postgres(url, None).await
            }
            Some(url) if url.starts_with("sqlite://") => {
                let path = Path::new(url.trim_start_matches("sqlite://"));
                let dir = path.parent().unwrap_or(Path::new("."));
                Db::open_sqlite(dir).await
            }
            Some(other) => anyhow::bail!(
                "unsupported database URL {:?}: use postgres://… or leave it empty for SQLite",
                other.split(':').next().unwrap_or("")
            ),
            None => Db::open_sqlite(data_dir).await,
        }
    }

    /// Connections open in the pool, and how many of them are idle.
    pub fn pool_stats(&self) -> (u32, usize) {
        match self {
            Db::Sqlite(p, _) => (p.size(), p.num_idle()),
            Db::Postgres(p) => (p.size(), p.num_idle()),
        }
    }

    pub fn backend(&self) -> Backend {
        match self {
            Db::Sqlite(..) => Backend::Sqlite,
            Db::Postgres(_) => Backend::Postgres,
        }
    }

    /// Starts a write transaction. On SQLite it takes the write lock at once
    /// (`BEGIN IMMEDIATE`), so that two writers queue instead of failing on upgrade.
    pub async fn begin(&self) -> Result<Tx, sqlx::Error> {
        Ok(match self {
            Db::Sqlite(p, lock) => {
                let guard = lock.clone().lock_owned().await;
                Tx::Sqlite(p.begin_with("BEGIN IMMEDIATE").await?, guard)
            }
            Db::Postgres(p) => Tx::Postgres(p.begin().await?),
        })
    }

    /// The migrations not yet applied, in order: (version, name). Applies nothing.
    pub async fn pending(&self) -> anyhow::Result<Vec<(i64, &'static str)>> {
        let done = self.applied().await?;
        Ok(MIGRATIONS
            .iter()
            .filter(|m| !done.contains(&m.version))
            .map(|m| (m.version, m.name))
            .collect())
    }

    /// The versions of the migrations applied, in order (none on an empty database).
    pub async fn applied(&self) -> anyhow::Result<Vec<i64>> {
        let exists: i64 = match self {
            Db::Sqlite(p, _) => sqlx::query_scalar("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'preau_migrations'").fetch_one(p).await?,
            Db::Postgres(p) => sqlx::query_scalar("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = 'preau_migrations'").fetch_one(p).await?,
        };
        if exists == 0 {
            return Ok(Vec::new());
        }
        Ok(with_db!(self, p => {
            sqlx::query_scalar("SELECT version FROM preau_migrations ORDER BY version").fetch_all(p).await
        })?)
    }

    /// The version of the newest migration this program knows.
    pub fn latest_version() -> i64 {
        MIGRATIONS.last().map(|m| m.version).unwrap_or(0)
    }

    /// Applies the migrations not yet applied, each in its own transaction.
    pub async fn migrate(&self) -> anyhow::Result<Vec<i64>> {
        self.migrate_until(i64::MAX).await
    }

    /// Applies the pending migrations up to version `last` (an older schema, for the
    /// upgrade tests).
    pub async fn migrate_until(&self, last: i64) -> anyhow::Result<Vec<i64>> {
        self.migrate_where(|v| v <= last).await
    }

    /// Applies these pending migrations only: for an upgrade test whose data is loaded by
    /// today's code on an older schema, the tables that code writes and the old schema
    /// lacked (they stay out of the upgrade under test).
    pub async fn migrate_only(&self, versions: &[i64]) -> anyhow::Result<Vec<i64>> {
        self.migrate_where(|v| versions.contains(&v)).await
    }

    async fn migrate_where(&self, wanted: impl Fn(i64) -> bool) -> anyhow::Result<Vec<i64>> {
        let create = "CREATE TABLE IF NOT EXISTS preau_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL)";
        with_db!(self, p => sqlx::query(create).execute(p).await.map(|_| ()))?;
        let done = self.applied().await?;
        let mut applied = Vec::new();
        for m in MIGRATIONS
            .iter()
            .filter(|m| !done.contains(&m.version) && wanted(m.version))
        {
            if let Db::Sqlite(pool, lock) = self
                && m.sqlite.starts_with(REBUILDS_TABLES)
            {
                let _writer = lock.lock().await;
                rebuild_sqlite(pool, m).await?;
                tracing::info!(version = m.version, name = m.name, "migration applied");
                applied.push(m.version);
                continue;
            }
            let mut tx = self.begin().await?;
            let sql = match self {
                Db::Sqlite(..) => m.sqlite,
                Db::Postgres(_) => m.postgres,
            };
            with_tx!(&mut tx, c => {
                sqlx::raw_sql(sql).execute(&mut *c).await?;
                sqlx::query("INSERT INTO preau_migrations (version, name) VALUES ($1, $2)")
                    .bind(m.version)
                    .bind(m.name)
                    .execute(&mut *c)
                    .await?;
            });
            tx.commit().await?;
            tracing::info!(version = m.version, name = m.name, "migration applied");
            applied.push(m.version);
        }
        Ok(applied)
    }

    /// Keeps the query planner's statistics current. SQLite has none until told (and then
    /// picks indexes blind: a teacher's few tickets read through the whole table);
    /// `PRAGMA optimize` gathers them where missing or stale, with a bounded effort.
    /// PostgreSQL's autovacuum does this by itself.
    pub async fn optimize(&self) -> Result<(), sqlx::Error> {
        if let Db::Sqlite(p, _) = self {
            sqlx::query("PRAGMA analysis_limit = 2000")
                .execute(p)
                .await?;
            sqlx::query("PRAGMA optimize = 0x10002").execute(p).await?;
        }
        Ok(())
    }

    /// Gathers the planner's statistics now, in full (after a bulk load).
    pub async fn analyze(&self) -> Result<(), sqlx::Error> {
        with_db!(self, p => sqlx::raw_sql("ANALYZE").execute(p).await.map(|_| ()))
    }

    pub async fn close(&self) {
        with_db!(self, p => p.close().await)
    }

    /// True once the database answers a trivial query.
    pub async fn ping(&self) -> bool {
        with_db!(self, p => sqlx::query("SELECT 1").execute(p).await.is_ok())
    }

    /// Work that one node of a deployment does at a time (the periodic passes): on
    /// PostgreSQL a session advisory lock named `name`, held by a connection of this
    /// node's pool until [`Exclusive::release`] — or until that connection closes, when
    /// the node dies. `None`: another node holds it. SQLite has one node, which always
    /// gets it.
    pub async fn exclusive(&self, name: &str) -> Result<Option<Exclusive>, sqlx::Error> {
        match self {
            Db::Sqlite(..) => Ok(Some(Exclusive { held: None })),
            Db::Postgres(pool) => {
                let mut conn = pool.acquire().await?;
                let got: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock(hashtext($1))")
                    .bind(name)
                    .fetch_one(&mut *conn)
                    .await?;
                Ok(got.then(|| Exclusive {
                    held: Some((conn, name.to_string())),
                }))
            }
        }
    }
}

/// A lock one node holds (see [`Db::exclusive`]).
pub struct Exclusive {
    held: Option<(sqlx::pool::PoolConnection<Postgres>, String)>,
}

impl Exclusive {
    /// Lets another node take the work.
    pub async fn release(mut self) -> Result<(), sqlx::Error> {
        if let Some((mut conn, name)) = self.held.take() {
            sqlx::query("SELECT pg_advisory_unlock(hashtext($1))")
                .bind(&name)
                .execute(&mut *conn)
                .await?;
        }
        Ok(())
    }
}

impl Drop for Exclusive {
    /// Dropped without `release` (a pass that panicked, a node stopping): the connection
    /// is closed rather than returned to the pool still holding the lock.
    fn drop(&mut self) {
        if let Some((conn, _)) = self.held.take() {
            drop(conn.detach());
        }
    }
}

/// Runs `$body` in a write transaction bound to `$tx` (a `&mut Tx`) and commits it;
/// evaluates to `Result<value of $body, AppError>`. `?` inside `$body` rolls back.
///
/// When the database reports a lock timeout, a deadlock or a serialization failure — on a
/// statement or on the commit — the whole unit runs again (up to 6 times, with a growing
/// pause), so that concurrent writers never turn into lost work. Any other error rolls
/// back and returns at once: nothing is half-written.
///
/// A macro rather than a method taking a closure: the body stays a plain `async` block of
/// the caller, which keeps handler futures `Send`.
#[macro_export]
macro_rules! write_tx {
    ($db:expr, $tx:ident => $body:expr) => {{
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let result: ::std::result::Result<_, $crate::AppError> = async {
                let mut tx = $db.begin().await?;
                let $tx = &mut tx;
                let value = $body;
                tx.commit().await?;
                Ok(value)
            }
            .await;
            match result {
                Err($crate::AppError::Db(e)) if attempt < 6 && $crate::db::is_retryable(&e) => {
                    $crate::db::backoff(attempt).await;
                }
                other => break other,
            }
        }
    }};
}

/// The pause before retrying a transaction that lost a lock race: 10, 20, 40… ms.
pub async fn backoff(attempt: u32) {
    tracing::debug!(attempt, "write transaction retried after a lock conflict");
    tokio::time::sleep(Duration::from_millis(5u64 << attempt.min(8))).await;
}

/// Lock timeouts (SQLite `BUSY`/`LOCKED`), deadlocks and serialization failures
/// (PostgreSQL `40P01`/`40001`): errors where running the same transaction again is right.
pub fn is_retryable(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(d) => matches!(
            d.code().as_deref(),
            Some("40001" | "40P01" | "55P03" | "5" | "6" | "261" | "517" | "262")
        ),
        sqlx::Error::PoolTimedOut => true,
        _ => false,
    }
}

impl Tx {
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        match self {
            Tx::Sqlite(t, _guard) => t.commit().await,
            Tx::Postgres(t) => t.commit().await,
        }
    }
}

/// A bound value for queries whose text is assembled from fixed fragments (list filters).
/// User data only ever travels as a `Param`, never inside the SQL text.
#[derive(Debug, Clone)]
pub enum Param {
    I64(i64),
    Text(String),
    Time(chrono::DateTime<chrono::Utc>),
    Date(chrono::NaiveDate),
    OptText(Option<String>),
    OptI64(Option<i64>),
    OptDate(Option<chrono::NaiveDate>),
    OptBool(Option<bool>),
    OptTime(Option<chrono::DateTime<chrono::Utc>>),
    Bool(bool),
    OptBlob(Option<Vec<u8>>),
}

/// SQL text with `$n` placeholders and their values, built from fixed fragments.
#[derive(Debug, Default)]
pub struct Sql {
    pub text: String,
    pub params: Vec<Param>,
}

impl Sql {
    pub fn new(text: &str) -> Sql {
        Sql {
            text: text.to_string(),
            params: Vec::new(),
        }
    }

    /// Appends a fixed fragment.
    pub fn push(&mut self, fragment: &'static str) -> &mut Sql {
        self.text.push_str(fragment);
        self
    }

    /// Appends a placeholder for `value`.
    pub fn bind(&mut self, value: Param) -> &mut Sql {
        self.params.push(value);
        self.text.push_str(&format!("${}", self.params.len()));
        self
    }

    /// Appends `LIKE $n ESCAPE '\'` matching any text that contains `needle` as typed:
    /// `%`, `_` and `\` in it are searched for, not taken as wildcards.
    pub fn bind_contains(&mut self, needle: &str) -> &mut Sql {
        let mut pattern = String::with_capacity(needle.len() + 2);
        pattern.push('%');
        for c in needle.chars() {
            if matches!(c, '%' | '_' | '\\') {
                pattern.push('\\');
            }
            pattern.push(c);
        }
        pattern.push('%');
        self.text.push_str("LIKE ");
        self.bind(Param::Text(pattern));
        self.text.push_str(" ESCAPE '\\'");
        self
    }

    /// Appends ` LIMIT $n` asking for one row more than a page of `limit`: [`more_than`]
    /// then cuts that row and says whether a next page exists.
    pub fn limit_plus_one(&mut self, limit: i64) -> &mut Sql {
        self.text.push_str(" LIMIT ");
        self.bind(Param::I64(limit + 1))
    }

    /// `(…)` of text values, for `IN`.
    pub fn bind_list_text(&mut self, values: &[String]) -> &mut Sql {
        self.text.push('(');
        if values.is_empty() {
            self.text.push_str("NULL");
        }
        for (i, v) in values.iter().enumerate() {
            if i > 0 {
                self.text.push_str(", ");
            }
            self.bind(Param::Text(v.clone()));
        }
        self.text.push(')');
        self
    }

    /// Appends `(…, …)` with one placeholder per id (an empty list gives `(NULL)`).
    pub fn bind_list(&mut self, ids: &[i64]) -> &mut Sql {
        self.text.push('(');
        if ids.is_empty() {
            self.text.push_str("NULL");
        }
        for (i, id) in ids.iter().enumerate() {
            if i > 0 {
                self.text.push_str(", ");
            }
            self.bind(Param::I64(*id));
        }
        self.text.push(')');
        self
    }
}

/// Keeps the first `limit` rows of a query made with [`Sql::limit_plus_one`]; whether
/// there were more (a next page).
pub fn more_than<T>(items: &mut Vec<T>, limit: i64) -> bool {
    let limit = usize::try_from(limit.max(0)).unwrap_or(0);
    let more = items.len() > limit;
    items.truncate(limit);
    more
}

/// Inserts many rows with as few statements as the backends allow: `prefix` is
/// `INSERT INTO t (a, b)`, each row gives one `Param` per column; `suffix` (an
/// `ON CONFLICT …` clause, or empty) ends every statement.
pub async fn insert_rows(
    tx: &mut Tx,
    prefix: &'static str,
    rows: Vec<Vec<Param>>,
    suffix: &'static str,
) -> Result<(), sqlx::Error> {
    let Some(width) = rows.first().map(Vec::len) else {
        return Ok(());
    };
    let per_statement = (900 / width.max(1)).max(1);
    for chunk in rows.chunks(per_statement) {
        let mut sql = Sql::new(prefix);
        sql.push(" VALUES ");
        for (i, row) in chunk.iter().enumerate() {
            sql.push(if i == 0 { "(" } else { ", (" });
            for (j, v) in row.iter().enumerate() {
                if j > 0 {
                    sql.push(", ");
                }
                sql.bind(v.clone());
            }
            sql.push(")");
        }
        sql.push(suffix);
        crate::with_tx!(tx, c => {
            crate::bind_params!(sqlx::query(sqlx::AssertSqlSafe(sql.text.clone())), &sql.params)
                .execute(&mut *c)
                .await?;
        });
    }
    Ok(())
}

/// Binds a `Sql`'s params onto a sqlx query (either backend).
#[macro_export]
macro_rules! bind_params {
    ($query:expr, $params:expr) => {{
        let mut q = $query;
        for p in $params {
            q = match p {
                $crate::db::Param::I64(v) => q.bind(*v),
                $crate::db::Param::Text(v) => q.bind(v.clone()),
                $crate::db::Param::Time(v) => q.bind(*v),
                $crate::db::Param::Date(v) => q.bind(*v),
                $crate::db::Param::OptText(v) => q.bind(v.clone()),
                $crate::db::Param::OptI64(v) => q.bind(*v),
                $crate::db::Param::OptDate(v) => q.bind(*v),
                $crate::db::Param::OptBool(v) => q.bind(*v),
                $crate::db::Param::OptTime(v) => q.bind(*v),
                $crate::db::Param::Bool(v) => q.bind(*v),
                $crate::db::Param::OptBlob(v) => q.bind(v.clone()),
            };
        }
        q
    }};
}
