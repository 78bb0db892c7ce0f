//! Failed sign-ins per key — a login at an address, an address, an address asking for
//! e-mail links — counted in the database, so that every node of a deployment sees the
//! same count. A window starts at the first failure; past `free` failures the next try
//! waits 2 s, then 4, 8, 16… (never more than the window). Keys are stored as their
//! SHA-256.

use chrono::{DateTime, Utc};

use crate::db::Db;
use crate::error::AppResult;
use crate::secrets::token_hash;
use crate::with_db;

async fn read(db: &Db, key: &str) -> AppResult<Option<(i64, DateTime<Utc>, DateTime<Utc>)>> {
    Ok(with_db!(db, p => {
        sqlx::query_as("SELECT count, since_at, last_at FROM sign_in_failures WHERE key_hash = $1")
            .bind(token_hash(key)).fetch_optional(p).await?
    }))
}

fn window_of(window: std::time::Duration) -> chrono::Duration {
    chrono::Duration::from_std(window).unwrap_or(chrono::Duration::hours(1))
}

/// `max` failures or more in the window: refused until it ends.
pub async fn blocked(
    db: &Db,
    key: &str,
    max: u32,
    window: std::time::Duration,
    now: DateTime<Utc>,
) -> AppResult<bool> {
    Ok(read(db, key).await?.is_some_and(|(count, since, _)| {
        count >= i64::from(max) && now - since < window_of(window)
    }))
}

/// How long to wait before the next try; `None`: go ahead.
pub async fn wait(
    db: &Db,
    key: &str,
    free: u32,
    window: std::time::Duration,
    now: DateTime<Utc>,
) -> AppResult<Option<std::time::Duration>> {
    let Some((count, since, last)) = read(db, key).await? else {
        return Ok(None);
    };
    let free = i64::from(free);
    if count < free || now - since >= window_of(window) {
        return Ok(None);
    }
    let gap = chrono::Duration::seconds(1i64 << (count - free + 1).min(20)).min(window_of(window));
    let left = gap - (now - last);
    Ok((left > chrono::Duration::zero())
        .then(|| left.to_std().ok())
        .flatten())
}

/// Counts a failure (a new window when the last one is over); forgets windows a day old.
pub async fn fail(
    db: &Db,
    key: &str,
    window: std::time::Duration,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let over = now - window_of(window);
    crate::write_tx!(db, tx => {
        crate::with_tx!(tx, c => {
            sqlx::query("DELETE FROM sign_in_failures WHERE last_at < $1")
                .bind(now - chrono::Duration::days(1).max(window_of(window)))
                .execute(&mut *c).await?;
            sqlx::query("INSERT INTO sign_in_failures (key_hash, count, since_at, last_at) VALUES ($1, 1, $2, $2) \
                         ON CONFLICT (key_hash) DO UPDATE SET \
                         count = CASE WHEN sign_in_failures.since_at <= $3 THEN 1 ELSE sign_in_failures.count + 1 END, \
                         since_at = CASE WHEN sign_in_failures.since_at <= $3 THEN $2 ELSE sign_in_failures.since_at END, \
                         last_at = $2")
                .bind(token_hash(key)).bind(now).bind(over)
                .execute(&mut *c).await?;
        });
    })
}

/// Forgets a key's failures (a successful sign-in).
pub async fn clear(db: &Db, key: &str) -> AppResult<()> {
    with_db!(db, p => {
        sqlx::query("DELETE FROM sign_in_failures WHERE key_hash = $1")
            .bind(token_hash(key)).execute(p).await?;
    });
    Ok(())
}
