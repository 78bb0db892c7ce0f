//! Authentication: credentials checked, server-side sessions and API tokens.
//!
//! Session ids and API tokens are random 256-bit values handed to the client once; the
//! database keeps only their SHA-256, so a copy of the database opens no session.

use chrono::{DateTime, Duration, Utc};
use preau_domain::Principal;
use serde::Serialize;

use crate::audit::{self, Actor, Entry};
use crate::db::{Db, Tx};
use crate::error::{AppError, AppResult};
use crate::secrets::{hash_password, random_token, token_hash, verify_password};
use crate::users;
use crate::{with_db, with_tx};

/// How long a session lasts without being renewed by a new login.
pub const SESSION_HOURS: i64 = 12;

/// A hash verified when the login is unknown, so that a wrong login and a wrong password
/// take the same time.
static DUMMY_HASH: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();

/// At most this many accounts of different collectivités sharing a login are tried.
pub const MAX_HOMONYMS: i64 = 8;

/// Checks a login and password; returns the user id of an active user. Logins are unique
/// within a collectivité only: the password tells apart the accounts of different
/// collectivités sharing a login (if two match, neither signs in).
pub async fn check_credentials(db: &Db, login: &str, password: &str) -> AppResult<Option<i64>> {
    let rows: Vec<(i64, String, bool)> = with_db!(db, pool => {
        sqlx::query_as("SELECT id, password_hash, active FROM users WHERE login = $1 ORDER BY id LIMIT $2")
            .bind(login.trim().to_lowercase())
            .bind(MAX_HOMONYMS)
            .fetch_all(pool)
            .await?
    });
    if rows.is_empty() {
        let dummy = DUMMY_HASH
            .get_or_try_init(|| async { hash_password(&random_token()).await })
            .await?;
        verify_password(password, dummy).await;
        return Ok(None);
    }
    let mut found = None;
    for (id, hash, active) in rows {
        if verify_password(password, &hash).await && active {
            if found.is_some() {
                return Ok(None);
            }
            found = Some(id);
        }
    }
    Ok(found)
}

/// A new session: the id to put in the cookie and its CSRF token.
pub struct NewSession {
    pub id: String,
    pub csrf: String,
}

pub async fn create_session(db: &Db, user_id: i64, now: DateTime<Utc>) -> AppResult<NewSession> {
    let s = NewSession {
        id: random_token(),
        csrf: random_token(),
    };
    with_db!(db, pool => {
        sqlx::query("DELETE FROM sessions WHERE expires_at < $1").bind(now).execute(pool).await?;
        sqlx::query("INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(token_hash(&s.id))
            .bind(user_id)
            .bind(&s.csrf)
            .bind(now)
            .bind(now + Duration::hours(SESSION_HOURS))
            .execute(pool)
            .await?;
    });
    Ok(s)
}

/// The principal and CSRF token of a live session.
pub async fn session(
    db: &Db,
    session_id: &str,
    now: DateTime<Utc>,
) -> AppResult<Option<(Principal, String)>> {
    let row: Option<(i64, String)> = with_db!(db, pool => {
        sqlx::query_as("SELECT user_id, csrf_token FROM sessions WHERE token_hash = $1 AND expires_at > $2")
            .bind(token_hash(session_id))
            .bind(now)
            .fetch_optional(pool)
            .await?
    });
    let Some((user_id, csrf)) = row else {
        return Ok(None);
    };
    Ok(users::principal(db, user_id).await?.map(|p| (p, csrf)))
}

pub async fn delete_session(db: &Db, session_id: &str) -> AppResult<()> {
    with_db!(db, pool => {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1").bind(token_hash(session_id)).execute(pool).await?;
    });
    Ok(())
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct ApiToken {
    pub id: i64,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub expires_at: DateTime<Utc>,
}

/// How long a token lives.
pub const TOKEN_DAYS: i64 = 365;

/// When a token stops working: its stored date, or a year after it was made (tokens made
/// before expiry existed).
fn expiry(created_at: DateTime<Utc>, expires_at: Option<DateTime<Utc>>) -> DateTime<Utc> {
    expires_at.unwrap_or(created_at + Duration::days(TOKEN_DAYS))
}

/// Creates an API token for a user (themselves, or by an administrator / the CLI) and
/// returns it in clear, the only time it is ever shown.
pub async fn create_token(
    tx: &mut Tx,
    p: &Principal,
    user_id: i64,
    name: &str,
    now: DateTime<Utc>,
) -> AppResult<String> {
    if user_id != p.user_id && !p.can_manage_users() {
        return Err(AppError::Forbidden);
    }
    let name = preau_domain::text::required("name", name, 80)?;
    let owner: Option<String> = with_tx!(tx, c => {
        sqlx::query_scalar("SELECT login FROM users WHERE id = $1 AND collectivite_id = $2").bind(user_id).bind(p.collectivite_id).fetch_optional(&mut *c).await?
    });
    let Some(owner) = owner else {
        return Err(AppError::NotFound);
    };
    let token = format!("preau_{}", random_token());
    let id: i64 = with_tx!(tx, c => {
        sqlx::query_scalar("INSERT INTO api_tokens (user_id, name, token_hash, created_at, expires_at) VALUES ($1, $2, $3, $4, $5) RETURNING id")
            .bind(user_id).bind(&name).bind(token_hash(&token)).bind(now).bind(now + Duration::days(TOKEN_DAYS))
            .fetch_one(&mut *c).await?
    });
    audit::record(
        tx,
        &Actor::from(p),
        now,
        Entry {
            action: "create",
            object_type: "api_token",
            object_id: id,
            object_label: &format!("{owner}: {name}"),
            changes: serde_json::json!({"name": [null, name], "user": [null, owner]}),
        },
    )
    .await?;
    Ok(token)
}

pub async fn list_tokens(db: &Db, p: &Principal) -> AppResult<Vec<ApiToken>> {
    type Row = (
        i64,
        String,
        DateTime<Utc>,
        Option<DateTime<Utc>>,
        Option<DateTime<Utc>>,
        Option<DateTime<Utc>>,
    );
    let rows: Vec<Row> = with_db!(db, pool => {
        sqlx::query_as("SELECT id, name, created_at, last_used_at, revoked_at, expires_at FROM api_tokens WHERE user_id = $1 ORDER BY id DESC")
            .bind(p.user_id).fetch_all(pool).await?
    });
    Ok(rows
        .into_iter()
        .map(
            |(id, name, created_at, last_used_at, revoked_at, expires_at)| ApiToken {
                id,
                name,
                created_at,
                last_used_at,
                revoked_at,
                expires_at: expiry(created_at, expires_at),
            },
        )
        .collect())
}

/// Revokes every live token of a user (an administrator reset their password); returns
/// how many.
pub(crate) async fn revoke_all(tx: &mut Tx, user_id: i64, now: DateTime<Utc>) -> AppResult<u64> {
    Ok(with_tx!(tx, c => {
        sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL")
            .bind(now).bind(user_id).execute(&mut *c).await?.rows_affected()
    }))
}

pub async fn revoke_token(
    tx: &mut Tx,
    p: &Principal,
    token_id: i64,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let n = with_tx!(tx, c => {
        sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL")
            .bind(now).bind(token_id).bind(p.user_id)
            .execute(&mut *c).await?.rows_affected()
    });
    if n == 0 {
        return Err(AppError::NotFound);
    }
    audit::record(
        tx,
        &Actor::from(p),
        now,
        Entry {
            action: "revoke",
            object_type: "api_token",
            object_id: token_id,
            object_label: &p.login,
            changes: serde_json::json!({}),
        },
    )
    .await
}

/// The principal a bearer token stands for, if the token is live.
pub async fn principal_for_token(
    db: &Db,
    token: &str,
    now: DateTime<Utc>,
) -> AppResult<Option<Principal>> {
    type Row = (
        i64,
        i64,
        Option<DateTime<Utc>>,
        DateTime<Utc>,
        Option<DateTime<Utc>>,
    );
    let row: Option<Row> = with_db!(db, pool => {
        sqlx::query_as("SELECT id, user_id, last_used_at, created_at, expires_at FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL")
            .bind(token_hash(token)).fetch_optional(pool).await?
    });
    let Some((id, user_id, last_used, created_at, expires_at)) = row else {
        return Ok(None);
    };
    if expiry(created_at, expires_at) <= now {
        return Ok(None);
    }
    // "Last used" to the minute is what the account page needs; writing it on every
    // request would turn each API read into a write (SQLite has one writer).
    if last_used.is_none_or(|t| now - t > chrono::Duration::minutes(5)) {
        with_db!(db, pool => {
            sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2").bind(now).bind(id).execute(pool).await?;
        });
    }
    users::principal(db, user_id).await
}
