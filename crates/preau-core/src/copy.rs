//! Moving a deployment between databases: `preau copy --to URL` copies every row of the
//! database Préau runs on into an empty one (SQLite to PostgreSQL the day a collectivité
//! outgrows the file, PostgreSQL back to SQLite, or one server to another), ids, row
//! versions, audit and histories as they are.
//!
//! The target gets the source's schema first (the same migrations, up to the source's
//! version), then the rows in one transaction: tables in the order their foreign keys
//! allow, a column that points into its own table (or closes a loop of tables) filled in
//! after every row is there. PostgreSQL's identity sequences then restart after the
//! highest id. Nothing is written to the source; a failure leaves the target as empty
//! as it was.

use chrono::{DateTime, NaiveDate, Utc};
use futures_util::TryStreamExt;
use sqlx::Row;
use std::collections::{BTreeMap, BTreeSet};

use crate::db::{Backend, Db, Param};
use crate::{bind_params, with_db, with_tx};

/// What a copy moved.
#[derive(Debug, Clone, Default)]
pub struct Copied {
    /// The schema version both databases are on.
    pub version: i64,
    /// Rows per table, in the order they were written.
    pub tables: Vec<(String, u64)>,
}

impl Copied {
    pub fn rows(&self) -> u64 {
        self.tables.iter().map(|t| t.1).sum()
    }
}

/// (table, column) pairs written once every row of their table is in.
type Deferred = BTreeSet<(String, String)>;

/// Rows' held-back references: the row's id, and (column, value) pairs.
type Held = Vec<(Param, Vec<(usize, Param)>)>;

/// How a column's values travel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Int,
    Bool,
    Text,
    Blob,
    Time,
    Date,
    /// JSON on PostgreSQL, text on SQLite: moved as its text.
    Json,
}

#[derive(Debug, Clone)]
struct Column {
    name: String,
    kind: Kind,
    not_null: bool,
}

#[derive(Debug, Clone)]
struct Table {
    name: String,
    columns: Vec<Column>,
    /// (column, table it points to)
    foreign: Vec<(String, String)>,
}

/// Copies every row of `from` into `to`, which must hold no Préau data yet. `to` ends on
/// the schema version of `from`; migrate it afterwards to bring it up to date.
pub async fn copy(from: &Db, to: &Db) -> anyhow::Result<Copied> {
    let versions = from.applied().await?;
    let Some(&version) = versions.last() else {
        anyhow::bail!("the source database holds no Préau schema: nothing to copy");
    };
    anyhow::ensure!(
        version <= Db::latest_version(),
        "the source database is on schema {version}, newer than this program knows ({}): copy it with the version of Préau that runs it",
        Db::latest_version()
    );
    anyhow::ensure!(
        to.applied().await?.is_empty() && user_tables(to).await?.is_empty(),
        "the target database is not empty: copy into a new database (or an empty data folder)"
    );
    to.migrate_only(&versions).await?;

    let source = describe(from).await?;
    let target = describe(to).await?;
    let names = |t: &[Table]| t.iter().map(|t| t.name.clone()).collect::<BTreeSet<_>>();
    anyhow::ensure!(
        names(&source) == names(&target),
        "the two schemas differ (tables only in the source: {:?}; only in the target: {:?})",
        names(&source)
            .difference(&names(&target))
            .collect::<Vec<_>>(),
        names(&target)
            .difference(&names(&source))
            .collect::<Vec<_>>()
    );
    let source: BTreeMap<String, Table> = source.into_iter().map(|t| (t.name.clone(), t)).collect();
    let mut plans = Vec::new();
    for t in &target {
        let s = &source[&t.name];
        let cols = |t: &Table| {
            t.columns
                .iter()
                .map(|c| c.name.clone())
                .collect::<BTreeSet<_>>()
        };
        anyhow::ensure!(
            cols(s) == cols(t),
            "table {} has other columns in the source ({:?}) than in the target ({:?})",
            t.name,
            cols(s),
            cols(t)
        );
        // The kinds of the PostgreSQL side decide (SQLite's declared types are looser).
        let columns = t
            .columns
            .iter()
            .map(|c| {
                let theirs = s.columns.iter().find(|x| x.name == c.name).map(|x| x.kind);
                let kind = match (from.backend(), to.backend()) {
                    (Backend::Postgres, Backend::Sqlite) => theirs.unwrap_or(c.kind),
                    _ => c.kind,
                };
                Column { kind, ..c.clone() }
            })
            .collect();
        plans.push(Table {
            columns,
            ..t.clone()
        });
    }
    let (order, deferred) = order(&plans);

    let mut copied = Copied {
        version,
        tables: Vec::new(),
    };
    let mut tx = to.begin().await?;
    // Every table is read from one snapshot: a copy taken while Préau serves is the
    // database as it was when the copy began, every reference whole.
    let snapshot = match from.backend() {
        Backend::Sqlite => "BEGIN",
        Backend::Postgres => "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
    };
    with_db!(from, p => {
        let mut read_tx = p.begin_with(snapshot).await?;
        for name in &order {
            let t = plans.iter().find(|t| &t.name == name).expect("planned");
            let late = late_columns(t, &deferred)?;
            let per_statement = (900 / t.columns.len().max(1)).max(1);
            let mut rows = 0u64;
            let mut batch: Vec<Vec<Param>> = Vec::new();
            let mut later: Held = Vec::new();
            let select = select_sql(from.backend(), t);
            let mut stream = sqlx::query(sqlx::AssertSqlSafe(select)).fetch(&mut *read_tx);
            while let Some(r) = stream.try_next().await? {
                let mut row = Vec::with_capacity(t.columns.len());
                for (i, c) in t.columns.iter().enumerate() {
                    row.push(read(&r, i, c)?);
                }
                hold_back(t, &late, &mut row, &mut later);
                batch.push(row);
                rows += 1;
                if batch.len() >= per_statement {
                    insert(&mut tx, to.backend(), t, std::mem::take(&mut batch)).await?;
                }
            }
            drop(stream);
            insert(&mut tx, to.backend(), t, batch).await?;
            fill_in(&mut tx, t, later).await?;
            copied.tables.push((t.name.clone(), rows));
        }
        read_tx.rollback().await?;
    });
    if let Backend::Postgres = to.backend() {
        for t in &plans {
            if !t.columns.iter().any(|c| c.name == "id") {
                continue;
            }
            // Restarts the id sequence after the highest id copied (no-op without one).
            let text = format!(
                "SELECT setval(s::regclass, COALESCE((SELECT MAX(id) FROM \"{0}\"), 1), (SELECT MAX(id) FROM \"{0}\") IS NOT NULL) FROM pg_get_serial_sequence('\"{0}\"', 'id') s WHERE s IS NOT NULL",
                t.name
            );
            with_tx!(&mut tx, c => {
                sqlx::query(sqlx::AssertSqlSafe(text)).execute(&mut *c).await?;
            });
        }
    }
    tx.commit().await?;
    Ok(copied)
}

/// The columns of `t` written after every row is in; each must be nullable, and the
/// table must have an id to find its rows again.
fn late_columns(t: &Table, deferred: &Deferred) -> anyhow::Result<Vec<usize>> {
    let late: Vec<usize> = t
        .columns
        .iter()
        .enumerate()
        .filter(|(_, c)| deferred.contains(&(t.name.clone(), c.name.clone())))
        .map(|(i, _)| i)
        .collect();
    if !late.is_empty() && !t.columns.iter().any(|c| c.name == "id") {
        anyhow::bail!(
            "table {} points into itself but has no id column: it cannot be copied",
            t.name
        );
    }
    for &i in &late {
        anyhow::ensure!(
            !t.columns[i].not_null,
            "{}.{} closes a loop of references and may not be empty: it cannot be copied",
            t.name,
            t.columns[i].name
        );
    }
    Ok(late)
}

/// Empties the late columns of a row, keeping their values (with the row's id) for
/// [`fill_in`].
fn hold_back(t: &Table, late: &[usize], row: &mut [Param], later: &mut Held) {
    if late.is_empty() {
        return;
    }
    let mut set = Vec::new();
    for &i in late {
        let v = std::mem::replace(&mut row[i], null_of(t.columns[i].kind));
        if !is_null(&v) {
            set.push((i, v));
        }
    }
    if let (false, Some(id)) = (
        set.is_empty(),
        t.columns.iter().position(|c| c.name == "id"),
    ) {
        later.push((row[id].clone(), set));
    }
}

/// Writes the held-back references once every row of the table is in.
async fn fill_in(tx: &mut crate::Tx, t: &Table, later: Held) -> anyhow::Result<()> {
    for (key, set) in later {
        for (i, v) in set {
            let text = format!(
                "UPDATE \"{}\" SET \"{}\" = $1 WHERE id = $2",
                t.name, t.columns[i].name
            );
            with_tx!(tx, c => {
                bind_params!(sqlx::query(sqlx::AssertSqlSafe(text)), [&v, &key])
                    .execute(&mut *c)
                    .await?;
            });
        }
    }
    Ok(())
}

/// The tables of a database besides the migrations' own.
async fn user_tables(db: &Db) -> anyhow::Result<Vec<String>> {
    Ok(match db {
        Db::Sqlite(p, _) => sqlx::query_scalar(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'preau_migrations' ORDER BY name",
        )
        .fetch_all(p)
        .await?,
        Db::Postgres(p) => sqlx::query_scalar(
            "SELECT table_name::text FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' AND table_name <> 'preau_migrations' ORDER BY 1",
        )
        .fetch_all(p)
        .await?,
    })
}

/// Every table's stored columns (generated ones left out) and foreign keys.
async fn describe(db: &Db) -> anyhow::Result<Vec<Table>> {
    let mut out = Vec::new();
    for name in user_tables(db).await? {
        let (columns, foreign) = match db {
            Db::Sqlite(p, _) => {
                // table_xinfo's `hidden` is 2 or 3 for generated columns.
                let cols: Vec<(String, String, i64, i64)> = sqlx::query_as(
                    "SELECT name, type, \"notnull\", hidden FROM pragma_table_xinfo($1) ORDER BY cid",
                )
                .bind(&name)
                .fetch_all(p)
                .await?;
                let fks: Vec<(String, String)> = sqlx::query_as(
                    "SELECT \"from\", \"table\" FROM pragma_foreign_key_list($1) ORDER BY id, seq",
                )
                .bind(&name)
                .fetch_all(p)
                .await?;
                let columns = cols
                    .into_iter()
                    .filter(|c| c.3 == 0)
                    .map(|(n, ty, nn, _)| Column {
                        kind: sqlite_kind(&ty),
                        name: n,
                        not_null: nn != 0,
                    })
                    .collect();
                (columns, fks)
            }
            Db::Postgres(p) => {
                let cols: Vec<(String, String, String)> = sqlx::query_as(
                    "SELECT column_name::text, data_type::text, is_nullable::text FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1 AND is_generated = 'NEVER' ORDER BY ordinal_position",
                )
                .bind(&name)
                .fetch_all(p)
                .await?;
                let fks: Vec<(String, String)> = sqlx::query_as(
                    "SELECT a.attname::text, f.relname::text FROM pg_constraint c \
                     JOIN pg_class t ON t.oid = c.conrelid \
                     JOIN pg_namespace n ON n.oid = t.relnamespace \
                     JOIN pg_class f ON f.oid = c.confrelid \
                     JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey) \
                     WHERE c.contype = 'f' AND n.nspname = current_schema() AND t.relname = $1 \
                     ORDER BY c.conname, a.attnum",
                )
                .bind(&name)
                .fetch_all(p)
                .await?;
                let mut columns = Vec::new();
                for (n, ty, nullable) in cols {
                    let kind = postgres_kind(&ty).ok_or_else(|| {
                        anyhow::anyhow!("{name}.{n} has type {ty}, which a copy does not carry")
                    })?;
                    columns.push(Column {
                        name: n,
                        kind,
                        not_null: nullable == "NO",
                    });
                }
                (columns, fks)
            }
        };
        out.push(Table {
            name,
            columns,
            foreign,
        });
    }
    Ok(out)
}

fn sqlite_kind(declared: &str) -> Kind {
    match declared.to_ascii_uppercase().as_str() {
        "INTEGER" | "BIGINT" | "INT" => Kind::Int,
        "BOOLEAN" => Kind::Bool,
        "BLOB" => Kind::Blob,
        // Timestamps and dates are text on SQLite: copied between two SQLite files, they
        // stay the text they are.
        _ => Kind::Text,
    }
}

fn postgres_kind(data_type: &str) -> Option<Kind> {
    Some(match data_type {
        "bigint" | "integer" | "smallint" => Kind::Int,
        "boolean" => Kind::Bool,
        "text" | "character varying" | "character" => Kind::Text,
        "bytea" => Kind::Blob,
        "timestamp with time zone" => Kind::Time,
        "date" => Kind::Date,
        "json" | "jsonb" => Kind::Json,
        _ => return None,
    })
}

/// The order to fill the tables in (every table after those it points to), and the
/// (table, column) pairs that must wait until all rows are in: a table's references to
/// itself, and one reference of each loop between tables.
fn order(tables: &[Table]) -> (Vec<String>, Deferred) {
    let mut deferred = BTreeSet::new();
    let mut remaining: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for t in tables {
        let mut deps = BTreeSet::new();
        for (col, to) in &t.foreign {
            if to == &t.name {
                deferred.insert((t.name.clone(), col.clone()));
            } else {
                deps.insert(to.as_str());
            }
        }
        remaining.insert(&t.name, deps);
    }
    let mut order = Vec::new();
    while !remaining.is_empty() {
        let ready: Vec<&str> = remaining
            .iter()
            .filter(|(_, deps)| deps.iter().all(|d| !remaining.contains_key(d)))
            .map(|(t, _)| *t)
            .collect();
        if !ready.is_empty() {
            for t in ready {
                remaining.remove(t);
                order.push(t.to_string());
            }
            continue;
        }
        // A loop: the first table left waits for none of the others; its references to
        // them are filled in afterwards.
        let (&t, deps) = remaining.iter().next().expect("not empty");
        let table = tables.iter().find(|x| x.name == t).expect("known");
        for (col, to) in &table.foreign {
            if deps.contains(to.as_str()) {
                deferred.insert((t.to_string(), col.clone()));
            }
        }
        remaining.remove(t);
        order.push(t.to_string());
    }
    (order, deferred)
}

/// The query reading a table, its columns in the plan's order, in the order of its rows'
/// storage (`id` where there is one: the copy then writes them in that order too).
fn select_sql(backend: Backend, t: &Table) -> String {
    let cols = t
        .columns
        .iter()
        .map(|c| match (backend, c.kind) {
            (Backend::Postgres, Kind::Int) => format!("\"{}\"::bigint", c.name),
            (Backend::Postgres, Kind::Json) => format!("\"{}\"::text", c.name),
            _ => format!("\"{}\"", c.name),
        })
        .collect::<Vec<_>>()
        .join(", ");
    let by = if t.columns.iter().any(|c| c.name == "id") {
        " ORDER BY id"
    } else {
        ""
    };
    format!("SELECT {cols} FROM \"{}\"{by}", t.name)
}

fn read<R>(row: &R, i: usize, c: &Column) -> anyhow::Result<Param>
where
    R: Row,
    usize: sqlx::ColumnIndex<R>,
    for<'r> Option<i64>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<bool>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<String>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<Vec<u8>>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<DateTime<Utc>>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<NaiveDate>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    let bad = |e: sqlx::Error| anyhow::anyhow!("cannot read column {}: {e}", c.name);
    Ok(match c.kind {
        Kind::Int => Param::OptI64(row.try_get(i).map_err(bad)?),
        Kind::Bool => Param::OptBool(row.try_get(i).map_err(bad)?),
        Kind::Text | Kind::Json => Param::OptText(row.try_get(i).map_err(bad)?),
        Kind::Blob => Param::OptBlob(row.try_get(i).map_err(bad)?),
        Kind::Time => Param::OptTime(row.try_get(i).map_err(bad)?),
        Kind::Date => Param::OptDate(row.try_get(i).map_err(bad)?),
    })
}

fn null_of(kind: Kind) -> Param {
    match kind {
        Kind::Int => Param::OptI64(None),
        Kind::Bool => Param::OptBool(None),
        Kind::Text | Kind::Json => Param::OptText(None),
        Kind::Blob => Param::OptBlob(None),
        Kind::Time => Param::OptTime(None),
        Kind::Date => Param::OptDate(None),
    }
}

fn is_null(p: &Param) -> bool {
    matches!(
        p,
        Param::OptI64(None)
            | Param::OptBool(None)
            | Param::OptText(None)
            | Param::OptBlob(None)
            | Param::OptTime(None)
            | Param::OptDate(None)
    )
}

/// Writes a batch of rows with one statement (table and column names come from the
/// schema's own catalog; every value is bound).
async fn insert(
    tx: &mut crate::Tx,
    backend: Backend,
    t: &Table,
    rows: Vec<Vec<Param>>,
) -> anyhow::Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let mut text = format!(
        "INSERT INTO \"{}\" ({}) VALUES ",
        t.name,
        t.columns
            .iter()
            .map(|c| format!("\"{}\"", c.name))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let mut n = 0;
    for (r, _) in rows.iter().enumerate() {
        text.push_str(if r == 0 { "(" } else { ", (" });
        for (j, c) in t.columns.iter().enumerate() {
            if j > 0 {
                text.push_str(", ");
            }
            n += 1;
            text.push_str(&format!("${n}"));
            if backend == Backend::Postgres && c.kind == Kind::Json {
                text.push_str("::json");
            }
        }
        text.push(')');
    }
    let params: Vec<Param> = rows.into_iter().flatten().collect();
    with_tx!(tx, c => {
        bind_params!(sqlx::query(sqlx::AssertSqlSafe(text)), &params)
            .execute(&mut *c)
            .await
            .map_err(|e| anyhow::anyhow!("writing table {}: {e}", t.name))?;
    });
    Ok(())
}
