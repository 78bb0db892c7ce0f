//! In-app notifications: each e-mail Préau sends to its users is also kept for them (the
//! bell and its unread count), written in the same transaction as the e-mail, so that
//! someone without a mail client at hand, or whose mail bounced, still sees it. A person
//! reads only their own; opening one marks it read.

use chrono::{DateTime, Utc};
use preau_domain::Principal;
use serde::Serialize;

use crate::db::{Db, Param, Sql, Tx};
use crate::error::{AppError, AppResult};
use crate::{bind_params, with_db, with_tx};

/// The most kept per person: older ones go when new ones come.
const KEEP: i64 = 200;
/// Counting stops here: the bell says « 99+ ».
pub const COUNT_CAP: i64 = 100;

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Notification {
    pub id: i64,
    pub subject: String,
    pub link: Option<String>,
    pub created_at: DateTime<Utc>,
    pub read_at: Option<DateTime<Utc>>,
}

/// Keeps a notification for each active user of the collectivité an e-mail is addressed
/// to (addresses compared without case).
pub(crate) async fn record(
    tx: &mut Tx,
    collectivite_id: i64,
    addresses: &[String],
    subject: &str,
    link: Option<&str>,
    now: DateTime<Utc>,
) -> AppResult<()> {
    if addresses.is_empty() {
        return Ok(());
    }
    let mut sql = Sql::new("SELECT id FROM users WHERE collectivite_id = ");
    sql.bind(Param::I64(collectivite_id))
        .push(" AND active = TRUE AND LOWER(email) IN ")
        .bind_list_text(addresses)
        .push(" ORDER BY id");
    let users: Vec<i64> = with_tx!(tx, c => {
        bind_params!(sqlx::query_scalar(sqlx::AssertSqlSafe(sql.text.clone())), &sql.params).fetch_all(&mut *c).await?
    });
    for user in users {
        with_tx!(tx, c => {
            sqlx::query("INSERT INTO notifications (collectivite_id, user_id, subject, link, created_at) VALUES ($1, $2, $3, $4, $5)")
                .bind(collectivite_id).bind(user).bind(subject).bind(link).bind(now)
                .execute(&mut *c).await?;
            sqlx::query("DELETE FROM notifications WHERE user_id = $1 AND id < (SELECT MIN(id) FROM (SELECT id FROM notifications WHERE user_id = $1 ORDER BY id DESC LIMIT $2) AS kept)")
                .bind(user).bind(KEEP)
                .execute(&mut *c).await?;
        });
    }
    Ok(())
}

/// How many the caller has not opened, up to [`COUNT_CAP`].
pub async fn unread(db: &Db, p: &Principal) -> AppResult<i64> {
    if p.user_id == 0 {
        return Ok(0);
    }
    Ok(with_db!(db, pool => {
        sqlx::query_scalar("SELECT COUNT(*) FROM (SELECT 1 FROM notifications WHERE user_id = $1 AND read_at IS NULL LIMIT $2) AS unread")
            .bind(p.user_id).bind(COUNT_CAP).fetch_one(pool).await?
    }))
}

/// The caller's notifications, newest first, `limit` from `offset`.
pub async fn list(db: &Db, p: &Principal, offset: i64, limit: i64) -> AppResult<Vec<Notification>> {
    Ok(with_db!(db, pool => {
        sqlx::query_as::<_, Notification>("SELECT id, subject, link, created_at, read_at FROM notifications WHERE user_id = $1 ORDER BY id DESC LIMIT $2 OFFSET $3")
            .bind(p.user_id).bind(limit.clamp(1, 200)).bind(offset.max(0)).fetch_all(pool).await?
    }))
}

/// Opens one of the caller's notifications: marked read, its link returned. Another
/// person's does not exist.
pub async fn open(
    tx: &mut Tx,
    p: &Principal,
    id: i64,
    now: DateTime<Utc>,
) -> AppResult<Option<String>> {
    let row: Option<Option<String>> = with_tx!(tx, c => {
        sqlx::query_scalar("SELECT link FROM notifications WHERE id = $1 AND user_id = $2")
            .bind(id).bind(p.user_id).fetch_optional(&mut *c).await?
    });
    let link = row.ok_or(AppError::NotFound)?;
    with_tx!(tx, c => {
        sqlx::query("UPDATE notifications SET read_at = $1 WHERE id = $2 AND read_at IS NULL")
            .bind(now).bind(id).execute(&mut *c).await?;
    });
    Ok(link)
}

/// Marks all of the caller's notifications read.
pub async fn read_all(tx: &mut Tx, p: &Principal, now: DateTime<Utc>) -> AppResult<u64> {
    Ok(with_tx!(tx, c => {
        sqlx::query("UPDATE notifications SET read_at = $1 WHERE user_id = $2 AND read_at IS NULL")
            .bind(now).bind(p.user_id).execute(&mut *c).await?.rows_affected()
    }))
}
