//! Agent credentials: one login and secret per collectivité, sent by the agents with HTTP
//! Basic. The secret is stored as an argon2id hash; the web layer keeps a short-lived
//! cache of successful checks so that a fleet's inventories do not each pay for argon2.

use chrono::{DateTime, Utc};
use preau_domain::{FieldError, Principal};
use serde::Serialize;

use crate::audit::{self, Actor, Entry};
use crate::db::{Db, Tx};
use crate::error::{AppError, AppResult, unique};
use crate::secrets::{hash_password, random_token, verify_password};
use crate::{with_db, with_tx};

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct AgentCredentials {
    pub login: String,
    pub created_at: DateTime<Utc>,
}

/// Whose agents sign in with this login and secret: the collectivité's id and the
/// credentials' rotation stamp (when they were set), or `None`. Logins are unique within a
/// collectivité only: the secret tells collectivités sharing a login apart (both matching
/// is refused).
pub async fn check(db: &Db, login: &str, secret: &str) -> AppResult<Option<(i64, DateTime<Utc>)>> {
    let rows: Vec<(i64, String, DateTime<Utc>)> = with_db!(db, pool => {
        sqlx::query_as("SELECT collectivite_id, secret_hash, created_at FROM agent_credentials WHERE login = $1 ORDER BY id LIMIT $2")
            .bind(login).bind(crate::users::auth::MAX_HOMONYMS).fetch_all(pool).await?
    });
    if rows.is_empty() {
        // The same work as a real check, so that logins cannot be probed by timing.
        let _ = crate::users::auth::check_credentials(db, "", secret).await?;
        return Ok(None);
    }
    let mut found = None;
    for (cid, hash, stamp) in rows {
        if verify_password(secret, &hash).await {
            if found.is_some() {
                return Ok(None);
            }
            found = Some((cid, stamp));
        }
    }
    Ok(found)
}

/// When the credentials of `login` were last set (`None`: no such login any more): a
/// sign-in remembered by a server stays good only while this has not changed, so a
/// rotation done anywhere (the page, the command line, another server) takes effect at once.
/// Several collectivités sharing the login: the latest of their rotations.
pub async fn stamp(db: &Db, login: &str) -> AppResult<Option<DateTime<Utc>>> {
    Ok(with_db!(db, pool => {
        sqlx::query_scalar("SELECT MAX(created_at) FROM agent_credentials WHERE login = $1")
            .bind(login).fetch_one(pool).await?
    }))
}

/// The caller's collectivité's agent login, if one was set.
pub async fn current(db: &Db, p: &Principal) -> AppResult<Option<AgentCredentials>> {
    if !p.can_manage_collectivite() {
        return Err(AppError::Forbidden);
    }
    Ok(with_db!(db, pool => {
        sqlx::query_as::<_, AgentCredentials>("SELECT login, created_at FROM agent_credentials WHERE collectivite_id = $1")
            .bind(p.collectivite_id).fetch_optional(pool).await?
    }))
}

/// The shortest secret a person may type for the agents (Préau makes 24-character ones);
/// the error message says 16.
pub const MIN_SECRET: usize = 16;

/// Sets (or rotates) the agent credentials; returns the secret, shown once. With
/// `secret`, that one is used (a secret already deployed in the schools' agents, of at
/// least [`MIN_SECRET`] characters); else a random one is made.
pub async fn set(
    tx: &mut Tx,
    p: &Principal,
    login: &str,
    secret: Option<&str>,
    now: DateTime<Utc>,
) -> AppResult<String> {
    let secret = match secret.map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) if s.chars().count() > 256 => {
            return Err(FieldError::too_long("secret", 256).into());
        }
        Some(s) if s.chars().count() < MIN_SECRET => {
            return Err(FieldError::new("secret", "secret_too_short").into());
        }
        Some(s) => s.to_string(),
        None => random_token()[..24].to_string(),
    };
    store(tx, p, login, &secret, now).await?;
    Ok(secret)
}

/// Stores the credentials as given, unchecked: `set` checks a typed secret first; the
/// demo's agents use the demo's short, published password.
pub(crate) async fn store(
    tx: &mut Tx,
    p: &Principal,
    login: &str,
    secret: &str,
    now: DateTime<Utc>,
) -> AppResult<()> {
    if !p.can_manage_collectivite() {
        return Err(AppError::Forbidden);
    }
    let login = crate::users::check_login(login)?;
    let hash = hash_password(secret).await?;
    with_tx!(tx, c => {
        sqlx::query("DELETE FROM agent_credentials WHERE collectivite_id = $1").bind(p.collectivite_id).execute(&mut *c).await?;
        sqlx::query("INSERT INTO agent_credentials (collectivite_id, login, secret_hash, created_at) VALUES ($1, $2, $3, $4)")
            .bind(p.collectivite_id).bind(&login).bind(&hash).bind(now)
            .execute(&mut *c).await.map_err(unique("login", "login_taken"))?;
    });
    audit::record(
        tx,
        &Actor::from(p),
        now,
        Entry {
            action: "update",
            object_type: "agent_credentials",
            object_id: p.collectivite_id,
            object_label: &login,
            changes: serde_json::json!({"login": [null, login], "secret": ["…", "(nouveau)"]}),
        },
    )
    .await
}
