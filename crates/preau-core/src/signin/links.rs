//! One-time sign-in links by e-mail, for people with no account in the collectivité's
//! directories (teachers with their académie address): a link valid 15 minutes, used
//! once, sent through the mail queue; the database keeps only its SHA-256. A directeur
//! invites the teachers of the school by address: each gets an account with the teacher's
//! role there, no password to manage.

use chrono::{DateTime, Duration, Utc};
use preau_domain::{FieldError, Principal, Role};

use crate::audit::{self, Actor, Entry};
use crate::db::{Db, Tx};
use crate::error::{AppError, AppResult};
use crate::secrets::{random_token, token_hash};
use crate::{with_db, with_tx};

/// How long a link opens a session.
pub const VALID_MINUTES: i64 = 15;
/// Links sent to one person within [`VALID_MINUTES`], at most.
pub const MAX_RECENT: i64 = 3;
/// Addresses one invitation takes, at most.
pub const MAX_INVITED: usize = 40;

/// Sends a sign-in link to the active users with this address whose collectivité allows
/// links. Says nothing of whether there were any (the page answers the same either way);
/// returns how many links were sent, for the tests and the logs.
pub async fn request(db: &Db, email: &str, base_url: &str, now: DateTime<Utc>) -> AppResult<usize> {
    let email = email.trim().to_lowercase();
    if !crate::users::valid_email(&email) {
        return Err(FieldError::new("email", "email_format").into());
    }
    let users: Vec<(i64, i64)> = with_db!(db, p => {
        sqlx::query_as("SELECT u.id, u.collectivite_id FROM users u LEFT JOIN sign_in_settings s ON s.collectivite_id = u.collectivite_id \
                        WHERE LOWER(u.email) = $1 AND u.active = TRUE AND COALESCE(s.email_links, TRUE) = TRUE ORDER BY u.id LIMIT 5")
            .bind(&email).fetch_all(p).await?
    });
    let mut sent = 0;
    for (user_id, cid) in users {
        sent +=
            crate::write_tx!(db, tx => send_link(tx, user_id, cid, &email, base_url, now).await?)?;
    }
    Ok(sent)
}

async fn send_link(
    tx: &mut Tx,
    user_id: i64,
    collectivite_id: i64,
    email: &str,
    base_url: &str,
    now: DateTime<Utc>,
) -> AppResult<usize> {
    let recent: i64 = with_tx!(tx, c => {
        sqlx::query_scalar("SELECT COUNT(*) FROM sign_in_links WHERE user_id = $1 AND created_at > $2")
            .bind(user_id).bind(now - Duration::minutes(VALID_MINUTES)).fetch_one(&mut *c).await?
    });
    if recent >= MAX_RECENT {
        return Ok(0);
    }
    let token = random_token();
    with_tx!(tx, c => {
        sqlx::query("INSERT INTO sign_in_links (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)")
            .bind(token_hash(&token)).bind(user_id).bind(now).bind(now + Duration::minutes(VALID_MINUTES))
            .execute(&mut *c).await?;
    });
    let link = format!("{}/login/link/{token}", base_url.trim_end_matches('/'));
    let until = now.with_timezone(&chrono_tz::Europe::Paris) + Duration::minutes(VALID_MINUTES);
    // Sent without a copy in the bell: the link is a key, kept nowhere else.
    crate::jobs::enqueue_private_mail(
        tx,
        collectivite_id,
        email,
        "Votre lien de connexion à Préau",
        &format!(
            "Bonjour,\n\nPour vous connecter à Préau, ouvrez ce lien :\n{link}\n\nIl est valable {VALID_MINUTES} minutes (jusqu'à {}), une seule fois. Si vous n'avez rien demandé, ignorez ce message.",
            until.format("%H:%M")
        ),
        now,
    )
    .await?;
    Ok(1)
}

/// What a link is, before it is used: whose it is, or why it no longer opens anything.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkState {
    Valid { display_name: String },
    Expired,
    Used,
    Unknown,
}

/// (whose name, whether active, until when, when used).
type LinkRow = (String, bool, DateTime<Utc>, Option<DateTime<Utc>>);

pub async fn peek(db: &Db, token: &str, now: DateTime<Utc>) -> AppResult<LinkState> {
    let row: Option<LinkRow> = with_db!(db, p => {
        sqlx::query_as("SELECT u.display_name, u.active, l.expires_at, l.used_at FROM sign_in_links l JOIN users u ON u.id = l.user_id WHERE l.token_hash = $1")
            .bind(token_hash(token)).fetch_optional(p).await?
    });
    Ok(match row {
        None => LinkState::Unknown,
        Some((_, false, _, _)) => LinkState::Unknown,
        Some((_, _, _, Some(_))) => LinkState::Used,
        Some((_, _, expires, None)) if expires <= now => LinkState::Expired,
        Some((display_name, ..)) => LinkState::Valid { display_name },
    })
}

/// Uses a link: the user it opens a session for, once, while it is valid.
pub async fn consume(db: &Db, token: &str, now: DateTime<Utc>) -> AppResult<Option<i64>> {
    crate::write_tx!(db, tx => {
        let user: Option<i64> = with_tx!(tx, c => {
            sqlx::query_scalar("UPDATE sign_in_links SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL AND expires_at > $1 \
                                AND user_id IN (SELECT id FROM users WHERE active = TRUE) RETURNING user_id")
                .bind(now).bind(token_hash(token)).fetch_optional(&mut *c).await?
        });
        user
    })
}

/// A login of the collectivité's free for someone named `hint` (an e-mail address, a
/// directory's login): its letters and digits, then `-2`, `-3`… when taken.
pub async fn free_login(tx: &mut Tx, collectivite_id: i64, hint: &str) -> AppResult<String> {
    let local = hint.split('@').next().unwrap_or(hint);
    let mut base: String = preau_domain::text::search_key(local)
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    base.truncate(56);
    while base.len() < 3 {
        base.push('0');
    }
    for n in 1..1000 {
        let candidate = if n == 1 {
            base.clone()
        } else {
            format!("{base}-{n}")
        };
        let taken: i64 = with_tx!(tx, c => {
            sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE collectivite_id = $1 AND login = $2")
                .bind(collectivite_id).bind(&candidate).fetch_one(&mut *c).await?
        });
        if taken == 0 {
            return Ok(candidate);
        }
    }
    Err(FieldError::new("login", "login_taken").into())
}

/// What an invitation did with each address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Invited {
    /// A new account, with the teacher's role at the school.
    Created(String),
    /// An account of the collectivité had this address: it got the role at the school.
    Added(String),
    /// It already had it.
    Already(String),
}

/// The directeur (or the administrator) invites teachers of `school_id` by address: one
/// per line, or separated by commas or semicolons. Every address is checked before
/// anything is written; each invited person is told by e-mail how to sign in.
pub async fn invite(
    tx: &mut Tx,
    p: &Principal,
    school_id: i64,
    addresses: &str,
    base_url: &str,
    now: DateTime<Utc>,
) -> AppResult<Vec<Invited>> {
    if !p.can_invite_teachers(school_id) {
        return Err(AppError::Forbidden);
    }
    let school: Option<String> = with_tx!(tx, c => {
        sqlx::query_scalar("SELECT name FROM schools WHERE id = $1 AND collectivite_id = $2")
            .bind(school_id).bind(p.collectivite_id).fetch_optional(&mut *c).await?
    });
    let school = school.ok_or(AppError::NotFound)?;
    let mut list: Vec<String> = Vec::new();
    for a in addresses.split(['\n', ',', ';', ' ']) {
        let a = a
            .trim()
            .trim_matches(|c| c == '<' || c == '>')
            .to_lowercase();
        if a.is_empty() || list.contains(&a) {
            continue;
        }
        if !crate::users::valid_email(&a) {
            return Err(FieldError::new("addresses", "address_format")
                .with_detail(a)
                .into());
        }
        list.push(a);
    }
    if list.is_empty() {
        return Err(FieldError::new("addresses", "required").into());
    }
    if list.len() > MAX_INVITED {
        let mut e = FieldError::new("addresses", "too_many_addresses");
        e.max = Some(MAX_INVITED);
        return Err(e.into());
    }
    // The role is granted as the system on behalf of the directeur (who may not manage
    // accounts otherwise); the audit names them.
    let granting = Principal::system(p.collectivite_id, &p.login);
    let mut out = Vec::new();
    for email in list {
        let existing: Vec<i64> = with_tx!(tx, c => {
            sqlx::query_scalar("SELECT id FROM users WHERE collectivite_id = $1 AND LOWER(email) = $2 ORDER BY id LIMIT 2")
                .bind(p.collectivite_id).bind(&email).fetch_all(&mut *c).await?
        });
        let user_id = match existing.as_slice() {
            [] => {
                let login = free_login(tx, p.collectivite_id, &email).await?;
                let user = crate::users::create_without_password(
                    tx,
                    &granting,
                    &login,
                    &name_from_address(&email),
                    Some(&email),
                    now,
                )
                .await?;
                out.push(Invited::Created(email.clone()));
                user.id
            }
            [id, ..] => {
                let has: i64 = with_tx!(tx, c => {
                    sqlx::query_scalar("SELECT COUNT(*) FROM role_assignments WHERE user_id = $1 AND role = 'enseignant' AND school_id = $2")
                        .bind(*id).bind(school_id).fetch_one(&mut *c).await?
                });
                if has > 0 {
                    out.push(Invited::Already(email.clone()));
                    continue;
                }
                out.push(Invited::Added(email.clone()));
                *id
            }
        };
        crate::users::add_role(
            tx,
            &granting,
            user_id,
            Role::Enseignant,
            Some(school_id),
            None,
            now,
        )
        .await?;
        audit::record(
            tx,
            &Actor::from(p),
            now,
            Entry {
                action: "invite",
                object_type: "user",
                object_id: user_id,
                object_label: &email,
                changes: serde_json::json!({"school_id": school_id, "role": "enseignant"}),
            },
        )
        .await?;
        let ask = format!(
            "{}/login/email?address={}",
            base_url.trim_end_matches('/'),
            email.replace('@', "%40").replace('+', "%2B")
        );
        crate::jobs::enqueue_mail(
            tx,
            p.collectivite_id,
            std::slice::from_ref(&email),
            &format!("Invitation à Préau — {school}"),
            &format!(
                "Bonjour,\n\n{} vous invite à utiliser Préau, l'outil de la commune pour signaler les problèmes de matériel de l'école et réserver les équipements ({school}).\n\nPas de mot de passe : ouvrez {ask} et recevez un lien de connexion par e-mail, valable {VALID_MINUTES} minutes.",
                p.display_name
            ),
            Some("/"),
            now,
        )
        .await?;
    }
    Ok(out)
}

/// "jean.dupont@ac-versailles.fr" → "Jean Dupont": a name to start with, which the person
/// or the administrator may correct.
pub fn name_from_address(email: &str) -> String {
    email
        .split('@')
        .next()
        .unwrap_or(email)
        .split(['.', '-', '_'])
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut c = w.chars();
            match c.next() {
                Some(f) => f.to_uppercase().chain(c).collect::<String>(),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}
