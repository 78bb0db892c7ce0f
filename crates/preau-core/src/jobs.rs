//! Background work as rows in a table: e-mails to send. A job is written in the same
//! transaction as the change it announces (so it exists exactly when the change does),
//! claimed for a few minutes by a worker (`FOR UPDATE SKIP LOCKED` on PostgreSQL, the
//! single writer on SQLite), then marked done, or retried later with a growing delay,
//! and given up after ten tries. Nothing is lost on restart: a claim simply expires.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::db::{Db, Tx};
use crate::error::AppResult;
use crate::mail::{self, Message, SmtpConfig};
use crate::{with_db, with_tx};

/// An e-mail waiting to go: `link` is a path the worker makes absolute.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub body: String,
    #[serde(default)]
    pub link: Option<String>,
}

const MAX_ATTEMPTS: i64 = 10;

/// Queues one e-mail per distinct, sendable address, and keeps it as a notification for
/// the users it is addressed to.
pub async fn enqueue_mail(
    tx: &mut Tx,
    collectivite_id: i64,
    to: &[String],
    subject: &str,
    body: &str,
    link: Option<&str>,
    now: DateTime<Utc>,
) -> AppResult<usize> {
    let mut seen: Vec<String> = Vec::new();
    for addr in to.iter().map(|a| a.trim().to_lowercase()) {
        if !mail::is_sendable(&addr) || seen.contains(&addr) {
            continue;
        }
        let mail = Mail {
            to: addr.clone(),
            subject: subject.to_string(),
            body: body.to_string(),
            link: link.map(str::to_string),
        };
        insert_mail(tx, collectivite_id, &mail, now).await?;
        seen.push(addr);
    }
    crate::notifications::record(tx, collectivite_id, &seen, subject, link, now).await?;
    Ok(seen.len())
}

/// Queues one e-mail that is a key (a sign-in link): no copy is kept in the bell.
pub async fn enqueue_private_mail(
    tx: &mut Tx,
    collectivite_id: i64,
    to: &str,
    subject: &str,
    body: &str,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let mail = Mail {
        to: to.trim().to_lowercase(),
        subject: subject.to_string(),
        body: body.to_string(),
        link: None,
    };
    insert_mail(tx, collectivite_id, &mail, now).await
}

async fn insert_mail(
    tx: &mut Tx,
    collectivite_id: i64,
    mail: &Mail,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let payload = json!(mail);
    with_tx!(tx, c => {
        sqlx::query("INSERT INTO jobs (collectivite_id, kind, payload, run_at, attempts, created_at) VALUES ($1, 'mail', $2, $3, 0, $3)")
            .bind(collectivite_id).bind(payload.to_string()).bind(now)
            .execute(&mut *c).await?;
    });
    Ok(())
}

/// The e-mail addresses of a collectivité's active users holding `role` (at `school`,
/// when given), for notifications.
pub async fn addresses(
    tx: &mut Tx,
    collectivite_id: i64,
    role: &str,
    school: Option<i64>,
) -> AppResult<Vec<String>> {
    Ok(with_tx!(tx, c => {
        sqlx::query_scalar("SELECT DISTINCT u.email FROM users u JOIN role_assignments ra ON ra.user_id = u.id WHERE u.collectivite_id = $1 AND u.active = TRUE AND u.email IS NOT NULL AND ra.role = $2 AND ($3 IS NULL OR ra.school_id = $3) ORDER BY u.email")
            .bind(collectivite_id).bind(role).bind(school).fetch_all(&mut *c).await?
    }))
}

/// The e-mail of one user, if any.
pub async fn address_of(tx: &mut Tx, user_id: Option<i64>) -> AppResult<Vec<String>> {
    let Some(id) = user_id else {
        return Ok(Vec::new());
    };
    let email: Option<Option<String>> = with_tx!(tx, c => {
        sqlx::query_scalar("SELECT email FROM users WHERE id = $1 AND active = TRUE").bind(id).fetch_optional(&mut *c).await?
    });
    Ok(email.flatten().into_iter().collect())
}

/// The staff of the contractor holding a lot.
pub async fn lot_addresses(tx: &mut Tx, lot_id: i64) -> AppResult<Vec<String>> {
    Ok(with_tx!(tx, c => {
        sqlx::query_scalar("SELECT DISTINCT u.email FROM lots l JOIN contracts k ON k.id = l.contract_id JOIN role_assignments ra ON ra.contractor_id = k.contractor_id AND ra.role = 'prestataire' JOIN users u ON u.id = ra.user_id WHERE l.id = $1 AND u.active = TRUE AND u.email IS NOT NULL ORDER BY u.email")
            .bind(lot_id).fetch_all(&mut *c).await?
    }))
}

/// What one pass of the worker did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Run {
    pub sent: usize,
    pub retried: usize,
    pub failed: usize,
}

/// Claims up to `batch` due jobs for five minutes.
async fn claim(db: &Db, now: DateTime<Utc>, batch: i64) -> AppResult<Vec<(i64, String, i64)>> {
    let until = now + Duration::minutes(5);
    let rows = crate::write_tx!(db, tx => {
        let rows: Vec<(i64, String, i64)> = match &mut *tx {
            Tx::Postgres(t) => sqlx::query_as("SELECT id, payload, attempts FROM jobs WHERE done_at IS NULL AND run_at <= $1 AND (locked_until IS NULL OR locked_until < $1) ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED")
                .bind(now).bind(batch).fetch_all(&mut **t).await?,
            Tx::Sqlite(t, _) => sqlx::query_as("SELECT id, payload, attempts FROM jobs WHERE done_at IS NULL AND run_at <= $1 AND (locked_until IS NULL OR locked_until < $1) ORDER BY id LIMIT $2")
                .bind(now).bind(batch).fetch_all(&mut **t).await?,
        };
        for (id, _, _) in &rows {
            with_tx!(tx, c => {
                sqlx::query("UPDATE jobs SET locked_until = $1 WHERE id = $2").bind(until).bind(*id).execute(&mut *c).await?;
            });
        }
        rows
    })?;
    Ok(rows)
}

/// Sends the due e-mails through `smtp`; `base_url` makes their links absolute. Tests
/// call it directly with the instant they want (the queue drained synchronously).
pub async fn run_mail(
    db: &Db,
    smtp: &SmtpConfig,
    base_url: &str,
    now: DateTime<Utc>,
) -> AppResult<Run> {
    let mut run = Run::default();
    loop {
        let jobs = claim(db, now, 20).await?;
        if jobs.is_empty() {
            break;
        }
        for (id, payload, attempts) in jobs {
            let result = match serde_json::from_str::<Mail>(&payload) {
                Ok(m) => {
                    let mut body = m.body.clone();
                    if let Some(link) = &m.link {
                        body.push_str(&format!("\n\n{}{link}\n", base_url.trim_end_matches('/')));
                    }
                    body.push_str("\n-- \nPréau, pour votre collectivité. Message automatique : ne répondez pas à cette adresse.\n");
                    mail::send(
                        smtp,
                        &Message {
                            to: m.to,
                            subject: m.subject,
                            body,
                        },
                        now,
                    )
                    .await
                }
                Err(e) => Err((true, format!("unreadable job: {e}"))),
            };
            let attempts = attempts + 1;
            crate::write_tx!(db, tx => {
                with_tx!(tx, c => {
                    match &result {
                        Ok(()) => {
                            sqlx::query("UPDATE jobs SET done_at = $1, attempts = $2, locked_until = NULL, last_error = NULL WHERE id = $3")
                                .bind(now).bind(attempts).bind(id).execute(&mut *c).await?;
                        }
                        Err((final_, e)) if *final_ || attempts >= MAX_ATTEMPTS => {
                            sqlx::query("UPDATE jobs SET done_at = $1, failed = TRUE, attempts = $2, locked_until = NULL, last_error = $3 WHERE id = $4")
                                .bind(now).bind(attempts).bind(e).bind(id).execute(&mut *c).await?;
                        }
                        Err((_, e)) => {
                            // 1, 2, 4… minutes, at most four hours.
                            let delay = Duration::minutes((1i64 << (attempts - 1).min(8)).min(240));
                            sqlx::query("UPDATE jobs SET run_at = $1, attempts = $2, locked_until = NULL, last_error = $3 WHERE id = $4")
                                .bind(now + delay).bind(attempts).bind(e).bind(id).execute(&mut *c).await?;
                        }
                    }
                });
            })?;
            match result {
                Ok(()) => run.sent += 1,
                Err((final_, e)) if final_ || attempts >= MAX_ATTEMPTS => {
                    tracing::warn!(job = id, error = %e, "e-mail given up");
                    run.failed += 1;
                }
                Err((_, e)) => {
                    tracing::info!(job = id, attempts, error = %e, "e-mail will be retried");
                    run.retried += 1;
                }
            }
        }
    }
    Ok(run)
}

/// How many e-mails wait, and how many were given up: a collectivité's (the administration
/// pages), or the whole deployment's (`None`, for `/metrics`).
pub async fn mail_counts(db: &Db, collectivite_id: Option<i64>) -> AppResult<(i64, i64)> {
    Ok(with_db!(db, pool => {
        sqlx::query_as("SELECT CAST(COALESCE(SUM(CASE WHEN done_at IS NULL THEN 1 ELSE 0 END), 0) AS BIGINT), CAST(COALESCE(SUM(CASE WHEN failed THEN 1 ELSE 0 END), 0) AS BIGINT) FROM jobs WHERE ($1 IS NULL OR collectivite_id = $1) AND kind = 'mail' AND (done_at IS NULL OR failed)")
            .bind(collectivite_id).fetch_one(pool).await?
    }))
}
