//! Users and their role assignments. Passwords are hashed with argon2id; no clear
//! password is ever stored or logged.

use chrono::{DateTime, Utc};
use preau_domain::access::ScopeKind;
use preau_domain::{Assignment, FieldError, Lang, Principal, Role, text};
use serde::{Deserialize, Serialize};

use crate::audit::{self, Actor, Entry};
use crate::db::{Db, Tx};
use crate::error::{AppError, AppResult, Errors, unique};
use crate::secrets::{hash_password, verify_password};
use crate::{with_db, with_tx};

pub mod auth;

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct User {
    pub id: i64,
    pub collectivite_id: i64,
    pub login: String,
    pub display_name: String,
    pub email: Option<String>,
    pub lang: String,
    pub active: bool,
    pub version: i64,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct RoleRow {
    pub id: i64,
    pub user_id: i64,
    pub role: String,
    pub school_id: Option<i64>,
    pub school_name: Option<String>,
    pub contractor_id: Option<i64>,
    pub contractor_name: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct UserInput {
    pub login: String,
    pub display_name: String,
    #[serde(default)]
    pub email: Option<String>,
    pub password: String,
    #[serde(default)]
    pub lang: Option<String>,
}

pub const MIN_PASSWORD: usize = 10;

/// Long enough, not too long, and hard to guess for someone who knows the person's login
/// and name (`preau_domain::password::weakness`).
fn check_password(field: &str, pw: &str, names: &[&str]) -> Result<(), FieldError> {
    if pw.chars().count() < MIN_PASSWORD {
        return Err(FieldError::new(field, "password_too_short"));
    }
    if pw.chars().count() > 256 {
        return Err(FieldError::too_long(field, 256));
    }
    match preau_domain::password::weakness(pw, names) {
        Some(code) => Err(FieldError::new(field, code)),
        None => Ok(()),
    }
}

/// A login: 3 to 64 characters among lower-case letters, digits, `.`, `-`, `_`.
pub(crate) fn check_login(login: &str) -> Result<String, FieldError> {
    let l = login.trim().to_lowercase();
    let ok = (3..=64).contains(&l.len())
        && l.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '-' | '_'));
    if ok {
        Ok(l)
    } else {
        Err(FieldError::new("login", "login_format"))
    }
}

const SELECT: &str = "SELECT id, collectivite_id, login, display_name, email, lang, active, version, created_at FROM users";

pub async fn list(db: &Db, p: &Principal) -> AppResult<Vec<User>> {
    if !p.can_manage_users() {
        return Err(AppError::Forbidden);
    }
    let sql = format!("{SELECT} WHERE collectivite_id = $1 ORDER BY login");
    Ok(with_db!(db, pool => {
        sqlx::query_as::<_, User>(sqlx::AssertSqlSafe(sql)).bind(p.collectivite_id).fetch_all(pool).await?
    }))
}

/// A user of the caller's collectivité: administrators see everyone, others themselves.
pub async fn get(db: &Db, p: &Principal, id: i64) -> AppResult<User> {
    if id != p.user_id && !p.can_manage_users() {
        return Err(AppError::NotFound);
    }
    let sql = format!("{SELECT} WHERE id = $1 AND collectivite_id = $2");
    let u = with_db!(db, pool => {
        sqlx::query_as::<_, User>(sqlx::AssertSqlSafe(sql)).bind(id).bind(p.collectivite_id).fetch_optional(pool).await?
    });
    u.ok_or(AppError::NotFound)
}

/// The user with this login — the first created, where collectivités share it (the
/// command line names one with [`find_by_login_in`]).
pub async fn find_by_login(db: &Db, login: &str) -> AppResult<Option<User>> {
    let sql = format!("{SELECT} WHERE login = $1 ORDER BY id LIMIT 1");
    Ok(with_db!(db, pool => {
        sqlx::query_as::<_, User>(sqlx::AssertSqlSafe(sql)).bind(login.trim().to_lowercase()).fetch_optional(pool).await?
    }))
}

/// The user with this login in one collectivité.
pub async fn find_by_login_in(
    db: &Db,
    collectivite_id: i64,
    login: &str,
) -> AppResult<Option<User>> {
    let sql = format!("{SELECT} WHERE collectivite_id = $1 AND login = $2");
    Ok(with_db!(db, pool => {
        sqlx::query_as::<_, User>(sqlx::AssertSqlSafe(sql)).bind(collectivite_id).bind(login.trim().to_lowercase()).fetch_optional(pool).await?
    }))
}

const ROLES: &str = "SELECT ra.id, ra.user_id, ra.role, ra.school_id, s.name AS school_name, ra.contractor_id, k.name AS contractor_name FROM role_assignments ra LEFT JOIN schools s ON s.id = ra.school_id LEFT JOIN contractors k ON k.id = ra.contractor_id";

pub async fn roles(db: &Db, user_id: i64) -> AppResult<Vec<RoleRow>> {
    let sql = format!("{ROLES} WHERE ra.user_id = $1 ORDER BY ra.role, s.name");
    Ok(with_db!(db, pool => {
        sqlx::query_as::<_, RoleRow>(sqlx::AssertSqlSafe(sql)).bind(user_id).fetch_all(pool).await?
    }))
}

/// The people attached to a school (its director, teachers, technician, ERUN), for those
/// who may see named people.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Person {
    pub user_id: i64,
    pub display_name: String,
    pub role: String,
}

/// Whom to call at a school: its heads, with their address, for those who come to work
/// there (the administrator, its technician, the contractors whose perimeter covers it).
pub async fn school_contacts(
    db: &Db,
    p: &Principal,
    school_id: i64,
) -> AppResult<Vec<(String, Option<String>)>> {
    let comes_to_work = p.is_admin()
        || p.can_edit_rooms(school_id)
        || (p.has(Role::Prestataire) && p.perimeter.contains(&school_id));
    if !comes_to_work {
        return Ok(Vec::new());
    }
    Ok(with_db!(db, pool => {
        sqlx::query_as("SELECT u.display_name, u.email FROM role_assignments ra JOIN users u ON u.id = ra.user_id WHERE ra.school_id = $1 AND ra.role = 'directeur' AND u.collectivite_id = $2 AND u.active = $3 ORDER BY u.display_name")
            .bind(school_id)
            .bind(p.collectivite_id)
            .bind(true)
            .fetch_all(pool)
            .await?
    }))
}

pub async fn people_of_school(db: &Db, p: &Principal, school_id: i64) -> AppResult<Vec<Person>> {
    if !p.can_see_people(school_id) {
        return Ok(Vec::new());
    }
    Ok(with_db!(db, pool => {
        sqlx::query_as::<_, Person>("SELECT u.id AS user_id, u.display_name, ra.role FROM role_assignments ra JOIN users u ON u.id = ra.user_id WHERE ra.school_id = $1 AND u.collectivite_id = $2 AND u.active = $3 ORDER BY ra.role, u.display_name")
            .bind(school_id)
            .bind(p.collectivite_id)
            .bind(true)
            .fetch_all(pool)
            .await?
    }))
}

/// Creates a user (administrator only, or the command line).
pub async fn create(
    tx: &mut Tx,
    p: &Principal,
    input: &UserInput,
    now: DateTime<Utc>,
) -> AppResult<User> {
    if !p.can_manage_users() {
        return Err(AppError::Forbidden);
    }
    let mut e = Errors::default();
    let login = e.check(check_login(&input.login));
    let display_name = e.check(text::required("display_name", &input.display_name, 120));
    let email = e.check(text::optional("email", input.email.as_deref(), 200));
    e.check(check_password(
        "password",
        &input.password,
        &[&input.login, &input.display_name],
    ));
    let lang = input
        .lang
        .as_deref()
        .and_then(Lang::parse)
        .unwrap_or_default();
    e.finish()?;
    let (Some(login), Some(display_name), Some(email)) = (login, display_name, email) else {
        return Err(AppError::Invalid(vec![FieldError::new("user", "invalid")]));
    };
    let hash = hash_password(&input.password).await?;
    insert(
        tx,
        p,
        &login,
        &display_name,
        email.as_deref(),
        &hash,
        lang,
        now,
    )
    .await
}

/// An account without a password, which signs in by e-mail link or through its
/// collectivité's directory: the administrator granting an access request, a directeur
/// inviting a teacher (each caller checks its own right first).
pub(crate) async fn create_without_password(
    tx: &mut Tx,
    p: &Principal,
    login: &str,
    display_name: &str,
    email: Option<&str>,
    now: DateTime<Utc>,
) -> AppResult<User> {
    let login = check_login(login)?;
    let display_name = text::required("display_name", display_name, 120)?;
    // A random secret nobody is told: the password form never opens this account.
    let hash = hash_password(&crate::secrets::random_token()).await?;
    insert(
        tx,
        p,
        &login,
        &display_name,
        email,
        &hash,
        Lang::default(),
        now,
    )
    .await
}

#[allow(clippy::too_many_arguments)]
async fn insert(
    tx: &mut Tx,
    p: &Principal,
    login: &str,
    display_name: &str,
    email: Option<&str>,
    hash: &str,
    lang: Lang,
    now: DateTime<Utc>,
) -> AppResult<User> {
    let id: i64 = with_tx!(tx, c => {
        sqlx::query_scalar("INSERT INTO users (collectivite_id, login, display_name, email, password_hash, lang, active, version, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 1, $8, $8) RETURNING id")
            .bind(p.collectivite_id)
            .bind(login)
            .bind(display_name)
            .bind(email)
            .bind(hash)
            .bind(lang.code())
            .bind(true)
            .bind(now)
            .fetch_one(&mut *c)
            .await
            .map_err(unique("login", "login_taken"))?
    });
    audit::record(tx, &Actor::from(p), now, Entry {
        action: "create",
        object_type: "user",
        object_id: id,
        object_label: login,
        changes: serde_json::json!({"login": [null, login], "display_name": [null, display_name], "email": [null, email]}),
    })
    .await?;
    let sql = format!("{SELECT} WHERE id = $1");
    Ok(with_tx!(tx, c => {
        sqlx::query_as::<_, User>(sqlx::AssertSqlSafe(sql)).bind(id).fetch_one(&mut *c).await?
    }))
}

async fn user_in_tx(tx: &mut Tx, p: &Principal, id: i64) -> AppResult<User> {
    let sql = format!("{SELECT} WHERE id = $1 AND collectivite_id = $2");
    let u = with_tx!(tx, c => {
        sqlx::query_as::<_, User>(sqlx::AssertSqlSafe(sql)).bind(id).bind(p.collectivite_id).fetch_optional(&mut *c).await?
    });
    u.ok_or(AppError::NotFound)
}

/// Gives a role to a user; the scope (school or contractor) must match the role and belong
/// to the same collectivité.
pub async fn add_role(
    tx: &mut Tx,
    p: &Principal,
    user_id: i64,
    role: Role,
    school_id: Option<i64>,
    contractor_id: Option<i64>,
    now: DateTime<Utc>,
) -> AppResult<()> {
    if !p.can_manage_users() {
        return Err(AppError::Forbidden);
    }
    let user = user_in_tx(tx, p, user_id).await?;
    let a = Assignment::new(role, school_id, contractor_id)?;
    if let Some(s) = a.school_id {
        let n: i64 = with_tx!(tx, c => {
            sqlx::query_scalar("SELECT COUNT(*) FROM schools WHERE id = $1 AND collectivite_id = $2").bind(s).bind(p.collectivite_id).fetch_one(&mut *c).await?
        });
        if n == 0 {
            return Err(AppError::Invalid(vec![FieldError::new(
                "school_id",
                "not_in_collectivite",
            )]));
        }
    }
    if let Some(k) = a.contractor_id {
        let n: i64 = with_tx!(tx, c => {
            sqlx::query_scalar("SELECT COUNT(*) FROM contractors WHERE id = $1 AND collectivite_id = $2").bind(k).bind(p.collectivite_id).fetch_one(&mut *c).await?
        });
        if n == 0 {
            return Err(AppError::Invalid(vec![FieldError::new(
                "contractor_id",
                "not_in_collectivite",
            )]));
        }
    }
    let exists: i64 = with_tx!(tx, c => {
        sqlx::query_scalar("SELECT COUNT(*) FROM role_assignments WHERE user_id = $1 AND role = $2 AND COALESCE(school_id, 0) = $3 AND COALESCE(contractor_id, 0) = $4")
            .bind(user_id).bind(role.code()).bind(a.school_id.unwrap_or(0)).bind(a.contractor_id.unwrap_or(0))
            .fetch_one(&mut *c).await?
    });
    if exists > 0 {
        return Ok(());
    }
    let id: i64 = with_tx!(tx, c => {
        sqlx::query_scalar("INSERT INTO role_assignments (user_id, role, school_id, contractor_id, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id")
            .bind(user_id).bind(role.code()).bind(a.school_id).bind(a.contractor_id).bind(now)
            .fetch_one(&mut *c).await?
    });
    audit::record(tx, &Actor::from(p), now, Entry {
        action: "grant",
        object_type: "user",
        object_id: user_id,
        object_label: &user.login,
        changes: serde_json::json!({"role": [null, role.code()], "school_id": [null, a.school_id], "contractor_id": [null, a.contractor_id], "assignment_id": [null, id]}),
    })
    .await?;
    Ok(())
}

pub async fn remove_role(
    tx: &mut Tx,
    p: &Principal,
    user_id: i64,
    assignment_id: i64,
    now: DateTime<Utc>,
) -> AppResult<()> {
    if !p.can_manage_users() {
        return Err(AppError::Forbidden);
    }
    let user = user_in_tx(tx, p, user_id).await?;
    let row: Option<(String, Option<i64>, Option<i64>)> = with_tx!(tx, c => {
        sqlx::query_as("SELECT role, school_id, contractor_id FROM role_assignments WHERE id = $1 AND user_id = $2").bind(assignment_id).bind(user_id).fetch_optional(&mut *c).await?
    });
    let Some((role, school_id, contractor_id)) = row else {
        return Err(AppError::NotFound);
    };
    if user_id == p.user_id && role == Role::Administrateur.code() {
        // An administrator cannot lock the collectivité out by removing their own role.
        return Err(AppError::Conflict(FieldError::new("role", "in_use")));
    }
    with_tx!(tx, c => {
        sqlx::query("DELETE FROM role_assignments WHERE id = $1").bind(assignment_id).execute(&mut *c).await?;
    });
    audit::record(tx, &Actor::from(p), now, Entry {
        action: "revoke",
        object_type: "user",
        object_id: user_id,
        object_label: &user.login,
        changes: serde_json::json!({"role": [role, null], "school_id": [school_id, null], "contractor_id": [contractor_id, null]}),
    })
    .await?;
    Ok(())
}

/// An administrator sets a new password for a user; the user's sessions are closed and
/// their API tokens revoked (whoever knew the old password may have made one).
pub async fn reset_password(
    tx: &mut Tx,
    p: &Principal,
    user_id: i64,
    new_password: &str,
    now: DateTime<Utc>,
) -> AppResult<()> {
    if !p.can_manage_users() {
        return Err(AppError::Forbidden);
    }
    let user = user_in_tx(tx, p, user_id).await?;
    check_password("password", new_password, &[&user.login, &user.display_name])?;
    set_password(tx, user.id, new_password, now).await?;
    let revoked = auth::revoke_all(tx, user.id, now).await?;
    audit::record(
        tx,
        &Actor::from(p),
        now,
        Entry {
            action: "reset_password",
            object_type: "user",
            object_id: user.id,
            object_label: &user.login,
            changes: serde_json::json!({"api_tokens_revoked": revoked}),
        },
    )
    .await
}

/// A user changes their own password, giving the current one.
pub async fn change_own_password(
    tx: &mut Tx,
    p: &Principal,
    current: &str,
    new: &str,
    confirm: &str,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let mut e = Errors::default();
    e.check(check_password(
        "new_password",
        new,
        &[&p.login, &p.display_name],
    ));
    if new != confirm {
        e.push(FieldError::new("confirm_password", "password_mismatch"));
    }
    e.finish()?;
    let hash: String = with_tx!(tx, c => {
        sqlx::query_scalar("SELECT password_hash FROM users WHERE id = $1").bind(p.user_id).fetch_one(&mut *c).await?
    });
    if !verify_password(current, &hash).await {
        return Err(AppError::Invalid(vec![FieldError::new(
            "current_password",
            "wrong_password",
        )]));
    }
    set_password(tx, p.user_id, new, now).await?;
    audit::record(
        tx,
        &Actor::from(p),
        now,
        Entry {
            action: "change_password",
            object_type: "user",
            object_id: p.user_id,
            object_label: &p.login,
            changes: serde_json::json!({}),
        },
    )
    .await
}

/// Sets a password without the length rule: only for the demo data, whose password is
/// the published `demo`.
pub async fn force_password(
    tx: &mut Tx,
    user_id: i64,
    pw: &str,
    now: DateTime<Utc>,
) -> AppResult<()> {
    set_password(tx, user_id, pw, now).await
}

async fn set_password(tx: &mut Tx, user_id: i64, pw: &str, now: DateTime<Utc>) -> AppResult<()> {
    let hash = hash_password(pw).await?;
    with_tx!(tx, c => {
        sqlx::query("UPDATE users SET password_hash = $1, version = version + 1, updated_at = $2 WHERE id = $3").bind(&hash).bind(now).bind(user_id).execute(&mut *c).await?;
        sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(user_id).execute(&mut *c).await?;
    });
    Ok(())
}

/// Changes one's interface language.
pub async fn set_lang(tx: &mut Tx, p: &Principal, lang: Lang) -> AppResult<()> {
    with_tx!(tx, c => {
        sqlx::query("UPDATE users SET lang = $1 WHERE id = $2").bind(lang.code()).bind(p.user_id).execute(&mut *c).await?;
    });
    Ok(())
}

/// The name and e-mail an administrator may change on an account (the login stays).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ProfileInput {
    pub display_name: String,
    #[serde(default)]
    pub email: Option<String>,
}

/// Changes a user's display name and e-mail; refused if the account changed since
/// `expected_version` was read.
pub async fn update_profile(
    tx: &mut Tx,
    p: &Principal,
    user_id: i64,
    expected_version: i64,
    input: &ProfileInput,
    now: DateTime<Utc>,
) -> AppResult<User> {
    if !p.can_manage_users() {
        return Err(AppError::Forbidden);
    }
    let mut e = Errors::default();
    let name = e.check(text::required("display_name", &input.display_name, 120));
    let email = e.check(text::optional("email", input.email.as_deref(), 200));
    if let Some(Some(m)) = &email
        && !valid_email(m)
    {
        e.push(FieldError::new("email", "email_format"));
    }
    e.finish()?;
    let (Some(name), Some(email)) = (name, email) else {
        return Err(AppError::Invalid(vec![FieldError::new("user", "invalid")]));
    };
    let before = user_in_tx(tx, p, user_id).await?;
    let n = with_tx!(tx, c => {
        sqlx::query("UPDATE users SET display_name = $1, email = $2, version = version + 1, updated_at = $3 WHERE id = $4 AND version = $5")
            .bind(&name).bind(&email).bind(now).bind(user_id).bind(expected_version)
            .execute(&mut *c).await?.rows_affected()
    });
    crate::error::expect_one_row(n)?;
    let after = user_in_tx(tx, p, user_id).await?;
    audit::record(
        tx,
        &Actor::from(p),
        now,
        Entry {
            action: "update",
            object_type: "user",
            object_id: user_id,
            object_label: &after.login,
            changes: audit::diff(&before, &after),
        },
    )
    .await?;
    Ok(after)
}

/// A plausible address: one `@`, something before it, a dot in the domain, no spaces.
pub fn valid_email(m: &str) -> bool {
    match m.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !m.contains(char::is_whitespace)
                && !domain.contains('@')
        }
        None => false,
    }
}

/// Activates or deactivates an account; a deactivated user cannot log in and loses its sessions.
pub async fn set_active(
    tx: &mut Tx,
    p: &Principal,
    user_id: i64,
    active: bool,
    now: DateTime<Utc>,
) -> AppResult<()> {
    if !p.can_manage_users() {
        return Err(AppError::Forbidden);
    }
    let user = user_in_tx(tx, p, user_id).await?;
    if user_id == p.user_id && !active {
        return Err(AppError::Conflict(FieldError::new("active", "in_use")));
    }
    with_tx!(tx, c => {
        sqlx::query("UPDATE users SET active = $1, version = version + 1, updated_at = $2 WHERE id = $3").bind(active).bind(now).bind(user_id).execute(&mut *c).await?;
        if !active {
            sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(user_id).execute(&mut *c).await?;
        }
    });
    audit::record(
        tx,
        &Actor::from(p),
        now,
        Entry {
            action: "update",
            object_type: "user",
            object_id: user_id,
            object_label: &user.login,
            changes: serde_json::json!({"active": [user.active, active]}),
        },
    )
    .await
}

/// Whether a role's scope needs a school, for the forms.
pub fn needs_school(role: Role) -> bool {
    role.scope() == ScopeKind::School
}

/// Loads the principal of an active user: its collectivité, language and assignments.
pub async fn principal(db: &Db, user_id: i64) -> AppResult<Option<Principal>> {
    let row: Option<(i64, String, String, i64, String, bool)> = with_db!(db, pool => {
        sqlx::query_as("SELECT id, login, display_name, collectivite_id, lang, active FROM users WHERE id = $1").bind(user_id).fetch_optional(pool).await?
    });
    let Some((id, login, display_name, collectivite_id, lang, active)) = row else {
        return Ok(None);
    };
    if !active {
        return Ok(None);
    }
    let rows: Vec<(String, Option<i64>, Option<i64>)> = with_db!(db, pool => {
        sqlx::query_as("SELECT role, school_id, contractor_id FROM role_assignments WHERE user_id = $1").bind(id).fetch_all(pool).await?
    });
    let assignments = rows
        .into_iter()
        .filter_map(|(role, school_id, contractor_id)| {
            Role::parse("role", &role).ok().map(|role| Assignment {
                role,
                school_id,
                contractor_id,
            })
        })
        .collect();
    let assignments: Vec<Assignment> = assignments;
    let lots: Vec<i64> = if assignments.iter().any(|a| a.role == Role::Prestataire) {
        with_db!(db, pool => {
            sqlx::query_scalar("SELECT l.id FROM lots l JOIN contracts c ON c.id = l.contract_id JOIN role_assignments ra ON ra.contractor_id = c.contractor_id WHERE ra.user_id = $1 AND ra.role = 'prestataire' AND c.collectivite_id = $2 ORDER BY l.id")
                .bind(id).bind(collectivite_id).fetch_all(pool).await?
        })
    } else {
        Vec::new()
    };
    let perimeter: Vec<i64> = if lots.is_empty() {
        Vec::new()
    } else {
        let mut sql =
            crate::db::Sql::new("SELECT DISTINCT school_id FROM lot_perimeters WHERE lot_id IN ");
        sql.bind_list(&lots).push(" ORDER BY school_id");
        with_db!(db, pool => {
            crate::bind_params!(sqlx::query_scalar(sqlx::AssertSqlSafe(sql.text.clone())), &sql.params).fetch_all(pool).await?
        })
    };
    Ok(Some(Principal {
        user_id: id,
        login,
        display_name,
        collectivite_id,
        lang: Lang::parse(&lang).unwrap_or_default(),
        assignments,
        lots,
        perimeter,
    }))
}

/// The collectivité's active technicians (tickets can be sent to them), by name.
pub async fn technicians(db: &Db, p: &Principal) -> AppResult<Vec<(i64, String)>> {
    Ok(with_db!(db, pool => {
        sqlx::query_as("SELECT DISTINCT u.id, u.display_name FROM users u JOIN role_assignments ra ON ra.user_id = u.id WHERE u.collectivite_id = $1 AND u.active = TRUE AND ra.role = 'technicien' ORDER BY u.display_name, u.id")
            .bind(p.collectivite_id).fetch_all(pool).await?
    }))
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Contractor {
    pub id: i64,
    pub name: String,
}

pub async fn contractors(db: &Db, p: &Principal) -> AppResult<Vec<Contractor>> {
    Ok(with_db!(db, pool => {
        sqlx::query_as::<_, Contractor>("SELECT id, name FROM contractors WHERE collectivite_id = $1 ORDER BY name").bind(p.collectivite_id).fetch_all(pool).await?
    }))
}

pub async fn create_contractor(
    tx: &mut Tx,
    p: &Principal,
    name: &str,
    now: DateTime<Utc>,
) -> AppResult<i64> {
    if !p.can_manage_collectivite() {
        return Err(AppError::Forbidden);
    }
    let name = text::required("name", name, 200)?;
    let id: i64 = with_tx!(tx, c => {
        sqlx::query_scalar("INSERT INTO contractors (collectivite_id, name, created_at) VALUES ($1, $2, $3) RETURNING id")
            .bind(p.collectivite_id).bind(&name).bind(now)
            .fetch_one(&mut *c).await.map_err(unique("name", "name_taken"))?
    });
    audit::record(
        tx,
        &Actor::from(p),
        now,
        Entry {
            action: "create",
            object_type: "contractor",
            object_id: id,
            object_label: &name,
            changes: serde_json::json!({"name": [null, name]}),
        },
    )
    .await?;
    Ok(id)
}
