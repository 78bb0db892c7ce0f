//! Signing in with the accounts people already have.
//!
//! Per collectivité: whether local passwords are allowed beyond its administrators (who
//! always keep theirs, the way in when a directory is down), whether people may ask for a
//! one-time link by e-mail ([`links`]), and its directories and identity providers — LDAP
//! or Active Directory ([`ldap`]), OpenID Connect ([`oidc`]), CAS ([`cas`]); a sign-in
//! under way at a provider is a [`Flow`]. A person a provider vouches for is matched to a user by
//! a stable identifier (the provider's subject once linked, else the login or the e-mail
//! address, as the provider says); nobody is ever created with a role by a provider alone:
//! an unknown person leaves an access request for the administrator to grant or refuse.

pub mod cas;
pub mod ldap;
pub mod links;
pub mod oidc;
pub mod throttle;

use chrono::{DateTime, Utc};
use preau_domain::{FieldError, Principal, Role, text};
use serde::{Deserialize, Serialize};

use crate::audit::{self, Actor, Entry};
use crate::db::{Db, Tx};
use crate::error::{AppError, AppResult, Errors};
use crate::{with_db, with_tx};

/// What a collectivité allows besides its providers.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Settings {
    /// Local passwords for everyone (off: for its administrators only).
    pub local_passwords: bool,
    /// One-time sign-in links sent by e-mail.
    pub email_links: bool,
    pub version: i64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            local_passwords: true,
            email_links: true,
            version: 0,
        }
    }
}

pub async fn settings(db: &Db, collectivite_id: i64) -> AppResult<Settings> {
    let row: Option<(bool, bool, i64)> = with_db!(db, p => {
        sqlx::query_as("SELECT local_passwords, email_links, version FROM sign_in_settings WHERE collectivite_id = $1")
            .bind(collectivite_id).fetch_optional(p).await?
    });
    Ok(row
        .map(|(local_passwords, email_links, version)| Settings {
            local_passwords,
            email_links,
            version,
        })
        .unwrap_or_default())
}

/// Changes the collectivité's methods (the administrator); `expected` is the version the
/// form was read at (0 before the first change).
pub async fn set_settings(
    tx: &mut Tx,
    p: &Principal,
    local_passwords: bool,
    email_links: bool,
    expected: i64,
    now: DateTime<Utc>,
) -> AppResult<Settings> {
    if !p.can_manage_users() {
        return Err(AppError::Forbidden);
    }
    let before: Option<(bool, bool, i64)> = with_tx!(tx, c => {
        sqlx::query_as("SELECT local_passwords, email_links, version FROM sign_in_settings WHERE collectivite_id = $1")
            .bind(p.collectivite_id).fetch_optional(&mut *c).await?
    });
    let before_version = before.map_or(0, |b| b.2);
    if before_version != expected {
        return Err(AppError::Conflict(FieldError::new(
            "version",
            "version_conflict",
        )));
    }
    with_tx!(tx, c => {
        sqlx::query("INSERT INTO sign_in_settings (collectivite_id, local_passwords, email_links, version, updated_at) VALUES ($1, $2, $3, 1, $4) \
                     ON CONFLICT (collectivite_id) DO UPDATE SET local_passwords = $2, email_links = $3, version = sign_in_settings.version + 1, updated_at = $4")
            .bind(p.collectivite_id).bind(local_passwords).bind(email_links).bind(now)
            .execute(&mut *c).await?;
    });
    let (old_local, old_links) = before.map_or((true, true), |b| (b.0, b.1));
    audit::record(
        tx,
        &Actor::from(p),
        now,
        Entry {
            action: "update",
            object_type: "sign_in_settings",
            object_id: p.collectivite_id,
            object_label: "connexion",
            changes: serde_json::json!({
                "local_passwords": [old_local, local_passwords],
                "email_links": [old_links, email_links],
            }),
        },
    )
    .await?;
    Ok(Settings {
        local_passwords,
        email_links,
        version: before_version + 1,
    })
}

/// Whether this user may sign in with a local password: always when the collectivité
/// allows it, and its administrators always.
pub async fn local_password_allowed(db: &Db, user_id: i64) -> AppResult<bool> {
    let row: Option<(bool, i64)> = with_db!(db, p => {
        sqlx::query_as("SELECT COALESCE(s.local_passwords, TRUE), (SELECT COUNT(*) FROM role_assignments ra WHERE ra.user_id = u.id AND ra.role = 'administrateur') \
                        FROM users u LEFT JOIN sign_in_settings s ON s.collectivite_id = u.collectivite_id WHERE u.id = $1")
            .bind(user_id).fetch_optional(p).await?
    });
    Ok(row.is_some_and(|(allowed, admin)| allowed || admin > 0))
}

/// How a provider's people are matched to users the first time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MatchBy {
    /// By login: the directory's login is the user's login in Préau.
    Login,
    /// By e-mail address.
    Email,
    /// By nobody: each person is linked by the administrator, through an access request.
    Subject,
}

impl MatchBy {
    pub const ALL: [MatchBy; 3] = [MatchBy::Login, MatchBy::Email, MatchBy::Subject];

    pub fn code(self) -> &'static str {
        match self {
            MatchBy::Login => "login",
            MatchBy::Email => "email",
            MatchBy::Subject => "subject",
        }
    }

    pub fn parse(s: &str) -> Option<MatchBy> {
        MatchBy::ALL.into_iter().find(|m| m.code() == s)
    }
}

/// How a provider is reached, by kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Config {
    Ldap(ldap::Config),
    Oidc(oidc::Config),
    Cas(cas::Config),
}

impl Config {
    pub fn kind(&self) -> &'static str {
        match self {
            Config::Ldap(_) => "ldap",
            Config::Oidc(_) => "oidc",
            Config::Cas(_) => "cas",
        }
    }

    /// The address the administrator reads in the list.
    pub fn address(&self) -> &str {
        match self {
            Config::Ldap(c) => &c.url,
            Config::Oidc(c) => &c.issuer,
            Config::Cas(c) => &c.url,
        }
    }

    fn to_json(&self) -> anyhow::Result<String> {
        Ok(match self {
            Config::Ldap(c) => serde_json::to_string(c)?,
            Config::Oidc(c) => serde_json::to_string(c)?,
            Config::Cas(c) => serde_json::to_string(c)?,
        })
    }

    fn from_row(kind: &str, json: &str) -> anyhow::Result<Config> {
        Ok(match kind {
            "ldap" => Config::Ldap(serde_json::from_str(json)?),
            "oidc" => Config::Oidc(serde_json::from_str(json)?),
            "cas" => Config::Cas(serde_json::from_str(json)?),
            other => anyhow::bail!("unknown provider kind {other}"),
        })
    }
}

/// A directory or identity provider of a collectivité.
#[derive(Debug, Clone)]
pub struct Provider {
    pub id: i64,
    pub collectivite_id: i64,
    pub collectivite: String,
    pub label: String,
    pub match_by: MatchBy,
    pub enabled: bool,
    pub version: i64,
    pub config: Config,
}

type ProviderRow = (i64, i64, String, String, String, String, bool, i64, String);

const PROVIDER_SELECT: &str = "SELECT ip.id, ip.collectivite_id, c.name, ip.label, ip.config, ip.match_by, ip.enabled, ip.version, ip.kind FROM identity_providers ip JOIN collectivites c ON c.id = ip.collectivite_id";

fn provider_of(r: ProviderRow) -> AppResult<Provider> {
    let config = Config::from_row(&r.8, &r.4)
        .map_err(|e| anyhow::anyhow!("provider {}: stored settings unreadable: {e}", r.0))?;
    Ok(Provider {
        id: r.0,
        collectivite_id: r.1,
        collectivite: r.2,
        label: r.3,
        match_by: MatchBy::parse(&r.5).unwrap_or(MatchBy::Subject),
        enabled: r.6,
        version: r.7,
        config,
    })
}

/// The enabled providers of every collectivité, for the sign-in page.
pub async fn enabled_providers(db: &Db) -> AppResult<Vec<Provider>> {
    let sql = format!("{PROVIDER_SELECT} WHERE ip.enabled = TRUE ORDER BY c.name, ip.label, ip.id");
    let rows: Vec<ProviderRow> = with_db!(db, p => {
        sqlx::query_as(sqlx::AssertSqlSafe(sql)).fetch_all(p).await?
    });
    rows.into_iter().map(provider_of).collect()
}

/// One enabled provider, for a sign-in through it.
pub async fn enabled_provider(db: &Db, id: i64) -> AppResult<Provider> {
    let sql = format!("{PROVIDER_SELECT} WHERE ip.id = $1 AND ip.enabled = TRUE");
    let row: Option<ProviderRow> = with_db!(db, p => {
        sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(p).await?
    });
    row.map(provider_of).transpose()?.ok_or(AppError::NotFound)
}

/// The collectivité's providers (the administrator).
pub async fn providers(db: &Db, p: &Principal) -> AppResult<Vec<Provider>> {
    if !p.can_manage_users() {
        return Err(AppError::Forbidden);
    }
    let sql = format!("{PROVIDER_SELECT} WHERE ip.collectivite_id = $1 ORDER BY ip.label, ip.id");
    let rows: Vec<ProviderRow> = with_db!(db, pool => {
        sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(p.collectivite_id).fetch_all(pool).await?
    });
    rows.into_iter().map(provider_of).collect()
}

pub async fn provider(db: &Db, p: &Principal, id: i64) -> AppResult<Provider> {
    providers(db, p)
        .await?
        .into_iter()
        .find(|x| x.id == id)
        .ok_or(AppError::NotFound)
}

/// A provider's settings as the administrator's form sends them, by kind.
#[derive(Debug, Clone)]
pub enum ConfigInput {
    Ldap(ldap::ConfigInput),
    Oidc(oidc::ConfigInput),
    Cas(cas::ConfigInput),
}

impl Default for ConfigInput {
    fn default() -> Self {
        ConfigInput::Ldap(ldap::ConfigInput::default())
    }
}

impl ConfigInput {
    /// The settings to store; `stored` keeps a secret the form leaves empty.
    fn check(&self, stored: Option<&Config>) -> Result<Config, Vec<FieldError>> {
        match (self, stored) {
            (ConfigInput::Ldap(i), None) => i.check(None).map(Config::Ldap),
            (ConfigInput::Ldap(i), Some(Config::Ldap(c))) => i.check(Some(c)).map(Config::Ldap),
            (ConfigInput::Oidc(i), None) => i.check(None).map(Config::Oidc),
            (ConfigInput::Oidc(i), Some(Config::Oidc(c))) => i.check(Some(c)).map(Config::Oidc),
            (ConfigInput::Cas(i), None | Some(Config::Cas(_))) => i.check().map(Config::Cas),
            _ => Err(vec![FieldError::new("kind", "unknown_value")]),
        }
    }

    /// Whether the form changes the secret (a bind password, a client secret).
    fn new_secret(&self) -> bool {
        match self {
            ConfigInput::Ldap(i) => !i.bind_password.is_empty(),
            ConfigInput::Oidc(i) => !i.client_secret.is_empty(),
            ConfigInput::Cas(_) => false,
        }
    }
}

/// A provider as the administrator's form sends it.
#[derive(Debug, Clone, Default)]
pub struct ProviderInput {
    pub label: String,
    pub match_by: String,
    pub enabled: bool,
    pub config: ConfigInput,
    pub version: i64,
}

/// Creates (`id` None) or changes a provider of the caller's collectivité.
pub async fn save_provider(
    tx: &mut Tx,
    p: &Principal,
    id: Option<i64>,
    input: &ProviderInput,
    now: DateTime<Utc>,
) -> AppResult<i64> {
    if !p.can_manage_users() {
        return Err(AppError::Forbidden);
    }
    let before: Option<(String, i64, String, String)> = match id {
        None => None,
        Some(id) => {
            let row: Option<(String, i64, String, String)> = with_tx!(tx, c => {
                sqlx::query_as("SELECT config, version, label, kind FROM identity_providers WHERE id = $1 AND collectivite_id = $2")
                    .bind(id).bind(p.collectivite_id).fetch_optional(&mut *c).await?
            });
            Some(row.ok_or(AppError::NotFound)?)
        }
    };
    let stored: Option<Config> = before
        .as_ref()
        .and_then(|b| Config::from_row(&b.3, &b.0).ok());
    let mut e = Errors::default();
    let label = e.check(text::required("label", &input.label, 80));
    let match_by = e
        .check(MatchBy::parse(input.match_by.trim()).ok_or(FieldError::new("match_by", "invalid")));
    let config = match input.config.check(stored.as_ref()) {
        Ok(c) => Some(c),
        Err(errors) => {
            errors.into_iter().for_each(|x| e.push(x));
            None
        }
    };
    e.finish()?;
    let (Some(label), Some(match_by), Some(config)) = (label, match_by, config) else {
        return Err(AppError::Invalid(vec![FieldError::new(
            "provider", "invalid",
        )]));
    };
    let json = config.to_json()?;
    let id = match (id, &before) {
        (Some(id), Some((_, version, _, _))) => {
            if *version != input.version {
                return Err(AppError::Conflict(FieldError::new(
                    "version",
                    "version_conflict",
                )));
            }
            with_tx!(tx, c => {
                sqlx::query("UPDATE identity_providers SET label = $1, config = $2, match_by = $3, enabled = $4, version = version + 1, updated_at = $5 WHERE id = $6 AND collectivite_id = $7")
                    .bind(&label).bind(&json).bind(match_by.code()).bind(input.enabled).bind(now).bind(id).bind(p.collectivite_id)
                    .execute(&mut *c).await?;
            });
            id
        }
        _ => with_tx!(tx, c => {
            sqlx::query_scalar("INSERT INTO identity_providers (collectivite_id, kind, label, config, match_by, enabled, version, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, 1, $7, $7) RETURNING id")
                .bind(p.collectivite_id).bind(config.kind()).bind(&label).bind(&json).bind(match_by.code()).bind(input.enabled).bind(now)
                .fetch_one(&mut *c).await?
        }),
    };
    // The audit names what changed, never a secret.
    audit::record(
        tx,
        &Actor::from(p),
        now,
        Entry {
            action: if before.is_some() { "update" } else { "create" },
            object_type: "identity_provider",
            object_id: id,
            object_label: &label,
            changes: serde_json::json!({
                "label": [before.as_ref().map(|b| b.2.clone()), label],
                "kind": config.kind(),
                "address": [stored.as_ref().map(|s| s.address().to_string()), config.address()],
                "secret_changed": input.config.new_secret(),
                "match_by": match_by.code(),
                "enabled": input.enabled,
            }),
        },
    )
    .await?;
    Ok(id)
}

/// Someone a provider vouches for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct External {
    /// The provider's stable identifier of the person.
    pub subject: String,
    pub login: Option<String>,
    pub email: Option<String>,
    pub display_name: String,
}

/// What becomes of someone a provider vouches for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolved {
    /// A user of the provider's collectivité: sign them in.
    User(i64),
    /// Unknown: an access request waits for the administrator (new or already there).
    Requested,
    /// Their request was refused, or their account is switched off.
    Refused,
}

/// Matches a person to a user of the provider's collectivité, linking them the first
/// time; an unknown person leaves an access request (and the administrators an e-mail).
pub async fn resolve(
    db: &Db,
    provider: &Provider,
    who: &External,
    now: DateTime<Utc>,
) -> AppResult<Resolved> {
    crate::write_tx!(db, tx => resolve_in(tx, provider, who, now).await?)
}

async fn resolve_in(
    tx: &mut Tx,
    provider: &Provider,
    who: &External,
    now: DateTime<Utc>,
) -> AppResult<Resolved> {
    {
        let linked: Option<(i64, bool)> = with_tx!(tx, c => {
            sqlx::query_as("SELECT u.id, u.active FROM user_identities ui JOIN users u ON u.id = ui.user_id WHERE ui.provider_id = $1 AND ui.subject = $2 AND u.collectivite_id = $3")
                .bind(provider.id).bind(&who.subject).bind(provider.collectivite_id).fetch_optional(&mut *c).await?
        });
        if let Some((id, active)) = linked {
            if !active {
                return Ok(Resolved::Refused);
            }
            with_tx!(tx, c => {
                sqlx::query("UPDATE user_identities SET last_used_at = $1 WHERE provider_id = $2 AND subject = $3")
                    .bind(now).bind(provider.id).bind(&who.subject).execute(&mut *c).await?;
            });
            return Ok(Resolved::User(id));
        }
        let matched: Vec<(i64, bool)> = match (provider.match_by, &who.login, &who.email) {
            (MatchBy::Login, Some(login), _) => with_tx!(tx, c => {
                sqlx::query_as("SELECT id, active FROM users WHERE collectivite_id = $1 AND login = $2")
                    .bind(provider.collectivite_id).bind(login.trim().to_lowercase()).fetch_all(&mut *c).await?
            }),
            (MatchBy::Email, _, Some(email)) => with_tx!(tx, c => {
                sqlx::query_as("SELECT id, active FROM users WHERE collectivite_id = $1 AND LOWER(email) = $2 LIMIT 2")
                    .bind(provider.collectivite_id).bind(email.trim().to_lowercase()).fetch_all(&mut *c).await?
            }),
            _ => Vec::new(),
        };
        // One user, and only one, is the match.
        if let [(id, active)] = matched.as_slice() {
            if !active {
                return Ok(Resolved::Refused);
            }
            link(
                tx,
                (provider.id, &provider.label),
                &who.subject,
                *id,
                &Actor::system("connexion", provider.collectivite_id),
                now,
            )
            .await?;
            return Ok(Resolved::User(*id));
        }
        let last: Option<String> = with_tx!(tx, c => {
            sqlx::query_scalar("SELECT status FROM access_requests WHERE provider_id = $1 AND subject = $2 ORDER BY id DESC LIMIT 1")
                .bind(provider.id).bind(&who.subject).fetch_optional(&mut *c).await?
        });
        match last.as_deref() {
            Some("refusee") => return Ok(Resolved::Refused),
            Some("en_attente") => return Ok(Resolved::Requested),
            _ => {}
        }
        let name: String = who.display_name.chars().take(120).collect();
        let email = who
            .email
            .as_deref()
            .map(|m| m.trim().to_lowercase())
            .filter(|m| crate::users::valid_email(m));
        let id: i64 = with_tx!(tx, c => {
            sqlx::query_scalar("INSERT INTO access_requests (collectivite_id, provider_id, subject, display_name, email, status, version, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, 'en_attente', 1, $6, $6) RETURNING id")
                .bind(provider.collectivite_id).bind(provider.id).bind(&who.subject).bind(&name).bind(&email).bind(now)
                .fetch_one(&mut *c).await?
        });
        audit::record(
            tx,
            &Actor::system("connexion", provider.collectivite_id),
            now,
            Entry {
                action: "create",
                object_type: "access_request",
                object_id: id,
                object_label: &name,
                changes: serde_json::json!({"provider": provider.label, "subject": who.subject}),
            },
        )
        .await?;
        let admins = crate::jobs::addresses(
            tx,
            provider.collectivite_id,
            Role::Administrateur.code(),
            None,
        )
        .await?;
        crate::jobs::enqueue_mail(
            tx,
            provider.collectivite_id,
            &admins,
            &format!("Demande d'accès à Préau : {name}"),
            &format!("{name} s'est identifié(e) par « {} » et n'a pas encore de compte dans Préau.\nAccordez-lui un rôle, ou refusez, depuis Administration → Demandes d'accès.", provider.label),
            Some("/admin/access"),
            now,
        )
        .await?;
        Ok(Resolved::Requested)
    }
}

async fn link(
    tx: &mut Tx,
    (provider_id, label): (i64, &str),
    subject: &str,
    user_id: i64,
    actor: &Actor,
    now: DateTime<Utc>,
) -> AppResult<()> {
    with_tx!(tx, c => {
        sqlx::query("INSERT INTO user_identities (provider_id, subject, user_id, created_at, last_used_at) VALUES ($1, $2, $3, $4, $4)")
            .bind(provider_id).bind(subject).bind(user_id).bind(now).execute(&mut *c).await?;
    });
    audit::record(
        tx,
        actor,
        now,
        Entry {
            action: "link",
            object_type: "user",
            object_id: user_id,
            object_label: subject,
            changes: serde_json::json!({"provider": label, "subject": subject}),
        },
    )
    .await
}

/// A request for access, as the administrator reads it.
#[derive(Debug, Clone, Serialize)]
pub struct AccessRequest {
    pub id: i64,
    pub provider: String,
    pub provider_id: i64,
    pub subject: String,
    pub display_name: String,
    pub email: Option<String>,
    pub status: String,
    pub user_id: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
    pub version: i64,
}

type RequestRow = (
    i64,
    String,
    i64,
    String,
    String,
    Option<String>,
    String,
    Option<i64>,
    DateTime<Utc>,
    Option<DateTime<Utc>>,
    i64,
);

fn request_of(r: RequestRow) -> AccessRequest {
    AccessRequest {
        id: r.0,
        provider: r.1,
        provider_id: r.2,
        subject: r.3,
        display_name: r.4,
        email: r.5,
        status: r.6,
        user_id: r.7,
        created_at: r.8,
        decided_at: r.9,
        version: r.10,
    }
}

/// The collectivité's access requests, those waiting first, then the last 100 decided.
pub async fn access_requests(db: &Db, p: &Principal) -> AppResult<Vec<AccessRequest>> {
    if !p.can_manage_users() {
        return Err(AppError::Forbidden);
    }
    let rows: Vec<RequestRow> = with_db!(db, pool => {
        sqlx::query_as("SELECT r.id, ip.label, r.provider_id, r.subject, r.display_name, r.email, r.status, r.user_id, r.created_at, r.decided_at, r.version \
                        FROM access_requests r JOIN identity_providers ip ON ip.id = r.provider_id \
                        WHERE r.collectivite_id = $1 ORDER BY CASE r.status WHEN 'en_attente' THEN 0 ELSE 1 END, r.id DESC LIMIT 200")
            .bind(p.collectivite_id).fetch_all(pool).await?
    });
    Ok(rows.into_iter().map(request_of).collect())
}

/// How many access requests wait, for the administrator's home page.
pub async fn waiting(db: &Db, collectivite_id: i64) -> AppResult<i64> {
    Ok(with_db!(db, p => {
        sqlx::query_scalar("SELECT COUNT(*) FROM access_requests WHERE collectivite_id = $1 AND status = 'en_attente'")
            .bind(collectivite_id).fetch_one(p).await?
    }))
}

/// What the administrator grants: an existing user to link, or a new account with a role
/// (at a school when the role needs one).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Grant {
    pub user_id: Option<i64>,
    pub role: Option<String>,
    pub school_id: Option<i64>,
    pub version: i64,
}

async fn request_in_tx(tx: &mut Tx, p: &Principal, id: i64) -> AppResult<AccessRequest> {
    let row: Option<RequestRow> = with_tx!(tx, c => {
        sqlx::query_as("SELECT r.id, ip.label, r.provider_id, r.subject, r.display_name, r.email, r.status, r.user_id, r.created_at, r.decided_at, r.version \
                        FROM access_requests r JOIN identity_providers ip ON ip.id = r.provider_id WHERE r.id = $1 AND r.collectivite_id = $2")
            .bind(id).bind(p.collectivite_id).fetch_optional(&mut *c).await?
    });
    let r = row.map(request_of).ok_or(AppError::NotFound)?;
    Ok(r)
}

fn still_waiting(r: &AccessRequest, version: i64) -> AppResult<()> {
    if r.status != "en_attente" || r.version != version {
        return Err(AppError::Conflict(FieldError::new(
            "version",
            "version_conflict",
        )));
    }
    Ok(())
}

/// Grants a request: links the person to an existing user, or creates their account with
/// the role chosen; they are told by e-mail. Returns the user's id.
pub async fn grant(
    tx: &mut Tx,
    p: &Principal,
    id: i64,
    g: &Grant,
    now: DateTime<Utc>,
) -> AppResult<i64> {
    if !p.can_manage_users() {
        return Err(AppError::Forbidden);
    }
    let r = request_in_tx(tx, p, id).await?;
    still_waiting(&r, g.version)?;
    let user_id = match g.user_id {
        Some(u) => {
            let n: i64 = with_tx!(tx, c => {
                sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE id = $1 AND collectivite_id = $2")
                    .bind(u).bind(p.collectivite_id).fetch_one(&mut *c).await?
            });
            if n == 0 {
                return Err(FieldError::new("user_id", "not_in_collectivite").into());
            }
            u
        }
        None => {
            let role = Role::parse("role", g.role.as_deref().unwrap_or(""))?;
            let login = links::free_login(tx, p.collectivite_id, &r.subject).await?;
            let user = crate::users::create_without_password(
                tx,
                p,
                &login,
                &r.display_name,
                r.email.as_deref(),
                now,
            )
            .await?;
            crate::users::add_role(tx, p, user.id, role, g.school_id, None, now).await?;
            user.id
        }
    };
    link(
        tx,
        (r.provider_id, &r.provider),
        &r.subject,
        user_id,
        &Actor::from(p),
        now,
    )
    .await?;
    decide(tx, p, &r, "accordee", Some(user_id), now).await?;
    if let Some(email) = &r.email {
        crate::jobs::enqueue_mail(
            tx,
            p.collectivite_id,
            std::slice::from_ref(email),
            "Votre accès à Préau est ouvert",
            &format!(
                "Bonjour,\nVotre accès à Préau est ouvert : connectez-vous avec « {} ».",
                r.provider
            ),
            Some("/login"),
            now,
        )
        .await?;
    }
    Ok(user_id)
}

/// Refuses a request: the person's next sign-ins through that provider are refused too.
pub async fn refuse(
    tx: &mut Tx,
    p: &Principal,
    id: i64,
    version: i64,
    now: DateTime<Utc>,
) -> AppResult<()> {
    if !p.can_manage_users() {
        return Err(AppError::Forbidden);
    }
    let r = request_in_tx(tx, p, id).await?;
    still_waiting(&r, version)?;
    decide(tx, p, &r, "refusee", None, now).await
}

async fn decide(
    tx: &mut Tx,
    p: &Principal,
    r: &AccessRequest,
    status: &str,
    user_id: Option<i64>,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let n = with_tx!(tx, c => {
        sqlx::query("UPDATE access_requests SET status = $1, user_id = $2, decided_by = $3, decided_at = $4, updated_at = $4, version = version + 1 WHERE id = $5 AND version = $6 AND status = 'en_attente'")
            .bind(status).bind(user_id).bind(p.user_id).bind(now).bind(r.id).bind(r.version)
            .execute(&mut *c).await?.rows_affected()
    });
    if n != 1 {
        return Err(AppError::Conflict(FieldError::new(
            "version",
            "version_conflict",
        )));
    }
    audit::record(tx, &Actor::from(p), now, Entry {
        action: status,
        object_type: "access_request",
        object_id: r.id,
        object_label: &r.display_name,
        changes: serde_json::json!({"status": ["en_attente", status], "user_id": [null, user_id]}),
    })
    .await
}

/// A sign-in under way at an OpenID Connect or CAS provider.
#[derive(Debug, Clone)]
pub struct Flow {
    pub provider_id: i64,
    pub nonce: String,
    pub verifier: String,
    pub next: String,
}

/// How long a person has to come back from the provider.
pub const FLOW_MINUTES: i64 = 10;

/// Starts a sign-in at a provider: the state to send (its SHA-256 is what is kept), and
/// the flow's nonce and PKCE verifier.
pub async fn start_flow(
    db: &Db,
    provider_id: i64,
    next: &str,
    now: DateTime<Utc>,
) -> AppResult<(String, Flow)> {
    let state = crate::secrets::random_token();
    let flow = Flow {
        provider_id,
        nonce: crate::secrets::random_token(),
        verifier: crate::secrets::random_token(),
        next: next.to_string(),
    };
    crate::write_tx!(db, tx => {
        with_tx!(tx, c => {
            sqlx::query("DELETE FROM sign_in_flows WHERE expires_at < $1").bind(now).execute(&mut *c).await?;
            sqlx::query("INSERT INTO sign_in_flows (state_hash, provider_id, nonce, verifier, next, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)")
                .bind(crate::secrets::token_hash(&state)).bind(provider_id).bind(&flow.nonce).bind(&flow.verifier).bind(next)
                .bind(now).bind(now + chrono::Duration::minutes(FLOW_MINUTES))
                .execute(&mut *c).await?;
        });
    })?;
    Ok((state, flow))
}

/// The flow a state names, used up: once, within its ten minutes.
pub async fn take_flow(db: &Db, state: &str, now: DateTime<Utc>) -> AppResult<Option<Flow>> {
    crate::write_tx!(db, tx => {
        let row: Option<(i64, String, String, String)> = with_tx!(tx, c => {
            sqlx::query_as("DELETE FROM sign_in_flows WHERE state_hash = $1 AND expires_at > $2 RETURNING provider_id, nonce, verifier, next")
                .bind(crate::secrets::token_hash(state)).bind(now).fetch_optional(&mut *c).await?
        });
        row.map(|(provider_id, nonce, verifier, next)| Flow { provider_id, nonce, verifier, next })
    })
}
