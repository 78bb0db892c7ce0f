//! Administration pages: the index, the collectivité, school years, users and roles, the
//! audit log.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use chrono::{NaiveDate, Utc};
use preau_core::audit::{self, AuditFilter};
use preau_core::collectivites::{self, CollectiviteInput};
use preau_core::inventory::{agents, categories, devices};
use preau_core::users::UserInput;
use preau_core::write_tx;
use preau_core::years::SchoolYearInput;
use preau_core::{AppError, schools, users, years};
use preau_domain::Role;
use preau_domain::org::CollectiviteKind;
use serde::Deserialize;

use super::{
    Ctx, Field, FormPage, Versioned, flash_key, messages, options, paris, render, see_other,
};
use super::{FormSpec, LangTitle, save};
use crate::AppState;
use crate::error::PageError;
use crate::session::{Auth, CsrfForm};

type PageResult = Result<Response, PageError>;

#[derive(Deserialize, Default)]
pub struct FlashQuery {
    flash: Option<String>,
}

#[derive(Template)]
#[template(path = "years.html")]
struct YearsPage {
    ctx: Ctx,
    years: Vec<years::SchoolYear>,
    can_create: bool,
}

pub async fn years(State(s): State<AppState>, a: Auth, Query(q): Query<FlashQuery>) -> PageResult {
    let p = &a.p;
    render(&YearsPage {
        ctx: Ctx::page(&a, p.lang_title("years.title"), "admin")
            .flash(flash_key(q.flash.as_deref())),
        years: years::list(&s.db, p).await?,
        can_create: p.can_manage_collectivite(),
    })
}

fn year_form(a: &Auth, v: &SchoolYearInput) -> FormPage {
    let p = &a.p;
    let t = |k| crate::i18n::t(p.lang, k);
    FormPage {
        ctx: Ctx::page(a, t("years.new"), "admin").crumb("/school-years", t("years.title")),
        action: "/school-years".into(),
        fields: vec![
            Field::text("label", t("field.label"), v.label.clone())
                .required()
                .hint(t("years.label_hint")),
            Field::text("starts_on", t("field.starts_on"), v.starts_on.clone())
                .required()
                .input("date"),
            Field::text("ends_on", t("field.ends_on"), v.ends_on.clone())
                .required()
                .input("date"),
        ],
        hidden: vec![],
        submit: t("form.create").into(),
        cancel: "/school-years".into(),
        has_errors: false,
        other_errors: vec![],
    }
}

pub async fn year_new(a: Auth) -> PageResult {
    if !a.p.can_manage_collectivite() {
        return Err(AppError::Forbidden.into());
    }
    year_form(&a, &SchoolYearInput::default()).respond(&[])
}

pub async fn year_create(
    State(s): State<AppState>,
    a: Auth,
    CsrfForm(f): CsrfForm<SchoolYearInput>,
) -> PageResult {
    if !a.p.can_manage_collectivite() {
        return Err(AppError::Forbidden.into());
    }
    let result = write_tx!(s.db, tx => {
        let v = f.parse()?;
        years::create(tx, &a.p, &v, Utc::now()).await?
    });
    match result {
        Ok(_) => Ok(see_other("/school-years", "created")),
        Err(AppError::Invalid(errs)) => year_form(&a, &f).respond(&errs),
        Err(AppError::Conflict(e)) => year_form(&a, &f).respond(&[e]),
        Err(e) => Err(e.into()),
    }
}

pub struct UserRow {
    id: i64,
    login: String,
    name: String,
    roles: String,
    active: bool,
}

#[derive(Template)]
#[template(path = "users.html")]
struct UsersPage {
    ctx: Ctx,
    rows: Vec<UserRow>,
}

pub async fn users(State(s): State<AppState>, a: Auth, Query(q): Query<FlashQuery>) -> PageResult {
    let p = &a.p;
    let list = users::list(&s.db, p).await?;
    let mut rows = Vec::new();
    for u in list {
        let roles = users::roles(&s.db, u.id).await?;
        let mut labels: Vec<&str> = roles
            .iter()
            .map(|r| Role::from_db(&r.role).label(p.lang))
            .collect();
        labels.dedup();
        rows.push(UserRow {
            id: u.id,
            login: u.login,
            name: u.display_name,
            roles: labels.join(", "),
            active: u.active,
        });
    }
    render(&UsersPage {
        ctx: Ctx::page(&a, p.lang_title("users.title"), "admin")
            .flash(flash_key(q.flash.as_deref())),
        rows,
    })
}

fn user_form(a: &Auth, v: &UserInput) -> FormPage {
    let p = &a.p;
    let t = |k| crate::i18n::t(p.lang, k);
    FormPage {
        ctx: Ctx::page(a, t("users.new"), "admin").crumb("/admin/users", t("users.title")),
        action: "/admin/users".into(),
        fields: vec![
            Field::text("login", t("field.login"), v.login.clone())
                .required()
                .autocomplete("off"),
            Field::text(
                "display_name",
                t("field.display_name"),
                v.display_name.clone(),
            )
            .required(),
            Field::text(
                "email",
                t("field.email"),
                v.email.clone().unwrap_or_default(),
            )
            .input("email"),
            Field::text("password", t("field.password"), "")
                .required()
                .input("password")
                .autocomplete("new-password"),
            Field::select(
                "lang",
                t("field.lang"),
                v.lang.clone().unwrap_or_else(|| "fr".into()),
                vec![
                    ("fr".into(), "Français".into()),
                    ("en".into(), "English".into()),
                ],
            ),
        ],
        hidden: vec![],
        submit: t("form.create").into(),
        cancel: "/admin/users".into(),
        has_errors: false,
        other_errors: vec![],
    }
}

pub async fn user_new(a: Auth) -> PageResult {
    if !a.p.can_manage_users() {
        return Err(AppError::Forbidden.into());
    }
    user_form(&a, &UserInput::default()).respond(&[])
}

pub async fn user_create(
    State(s): State<AppState>,
    a: Auth,
    CsrfForm(f): CsrfForm<UserInput>,
) -> PageResult {
    let result = write_tx!(s.db, tx => users::create(tx, &a.p, &f, Utc::now()).await?);
    match result {
        Ok(u) => Ok(see_other(&format!("/admin/users/{}", u.id), "created")),
        Err(AppError::Invalid(errs)) => user_form(&a, &f).respond(&errs),
        Err(AppError::Conflict(e)) => user_form(&a, &f).respond(&[e]),
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "user.html")]
struct UserPage {
    ctx: Ctx,
    user: users::User,
    roles: Vec<(i64, &'static str, String)>,
    fields: Vec<Field>,
    role_error: Option<String>,
    password_error: Option<String>,
}

async fn user_page(
    s: &AppState,
    a: &Auth,
    id: i64,
    role_error: Option<String>,
    password_error: Option<String>,
    flash: Option<&str>,
) -> PageResult {
    let p = &a.p;
    if !p.can_manage_users() {
        return Err(AppError::NotFound.into());
    }
    let lang = p.lang;
    let t = |k| crate::i18n::t(lang, k);
    let user = users::get(&s.db, p, id).await?;
    let roles = users::roles(&s.db, id)
        .await?
        .into_iter()
        .map(|r| {
            (
                r.id,
                Role::from_db(&r.role).label(lang),
                r.school_name.or(r.contractor_name).unwrap_or_default(),
            )
        })
        .collect();
    let mut school_opts = vec![(String::new(), t("users.none").to_string())];
    school_opts.extend(
        schools::all_readable(&s.db, p)
            .await?
            .into_iter()
            .map(|s| (s.id.to_string(), format!("{} ({})", s.name, s.uai))),
    );
    let mut contractor_opts = vec![(String::new(), t("users.none").to_string())];
    contractor_opts.extend(
        users::contractors(&s.db, p)
            .await?
            .into_iter()
            .map(|c| (c.id.to_string(), c.name)),
    );
    let fields = vec![
        Field::select(
            "role",
            t("field.role"),
            "",
            options(Role::ALL, Role::code, |r| r.label(lang)),
        )
        .required(),
        Field::select("school_id", t("field.school"), "", school_opts),
        Field::select("contractor_id", t("field.contractor"), "", contractor_opts),
    ];
    let status = if role_error.is_some() || password_error.is_some() {
        axum::http::StatusCode::UNPROCESSABLE_ENTITY
    } else {
        axum::http::StatusCode::OK
    };
    let mut resp = render(&UserPage {
        ctx: Ctx::page(a, user.display_name.clone(), "admin")
            .crumb("/admin/users", t("users.title"))
            .flash(flash_key(flash)),
        user,
        roles,
        fields,
        role_error,
        password_error,
    })?;
    *resp.status_mut() = status;
    Ok(resp)
}

pub async fn user(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i64>,
    Query(q): Query<FlashQuery>,
) -> PageResult {
    user_page(&s, &a, id, None, None, q.flash.as_deref()).await
}

#[derive(Deserialize)]
pub struct RoleForm {
    role: String,
    school_id: Option<String>,
    contractor_id: Option<String>,
}

pub async fn role_add(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm<RoleForm>,
) -> PageResult {
    let parse_id = |v: &Option<String>| {
        v.as_deref()
            .filter(|v| !v.is_empty())
            .and_then(|v| v.parse::<i64>().ok())
    };
    let result = write_tx!(s.db, tx => {
        let role = Role::parse("role", &f.role)?;
        users::add_role(
            tx,
            &a.p,
            id,
            role,
            parse_id(&f.school_id),
            parse_id(&f.contractor_id), Utc::now(),
        )
        .await?
    });
    match result {
        Ok(()) => Ok(see_other(&format!("/admin/users/{id}"), "saved")),
        Err(AppError::Invalid(errs)) => {
            user_page(&s, &a, id, Some(messages(&errs, a.p.lang)), None, None).await
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn role_remove(
    State(s): State<AppState>,
    a: Auth,
    Path((id, rid)): Path<(i64, i64)>,
    CsrfForm(_): CsrfForm<super::Empty>,
) -> PageResult {
    write_tx!(s.db, tx => users::remove_role(tx, &a.p, id, rid, Utc::now()).await?)?;
    Ok(see_other(&format!("/admin/users/{id}"), "saved"))
}

#[derive(Deserialize)]
pub struct PasswordForm {
    password: String,
}

pub async fn password_reset(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm<PasswordForm>,
) -> PageResult {
    let result = write_tx!(s.db, tx => {
        users::reset_password(tx, &a.p, id, &f.password, Utc::now()).await?
    });
    match result {
        Ok(()) => Ok(see_other(&format!("/admin/users/{id}"), "saved")),
        Err(AppError::Invalid(errs)) => {
            user_page(&s, &a, id, None, Some(messages(&errs, a.p.lang)), None).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct ActiveForm {
    active: String,
}

pub async fn set_active(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm<ActiveForm>,
) -> PageResult {
    write_tx!(s.db, tx => users::set_active(tx, &a.p, id, f.active == "true", Utc::now()).await?)?;
    Ok(see_other(&format!("/admin/users/{id}"), "saved"))
}

pub struct AuditView {
    when: String,
    who: String,
    action: String,
    object: String,
    changes: Vec<(String, String)>,
    /// Reads of pupil data folded into this line (one person's, in a row), and where to
    /// see them one by one.
    folded: usize,
    detail: Option<String>,
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    ctx: Ctx,
    rows: Vec<AuditView>,
    object_types: Vec<(String, String)>,
    actions: Vec<(String, String)>,
    object_type: String,
    object_id: String,
    actor: String,
    since: String,
    /// `read_pupils` shows only the reads of pupil data; empty, everything.
    action: String,
    older: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct AuditQuery {
    object_type: Option<String>,
    object_id: Option<String>,
    action: Option<String>,
    actor: Option<String>,
    since: Option<String>,
    before: Option<i64>,
}

const AUDIT_PAGE: i64 = 50;

/// What the log records, by the codes its writers use (each with its words).
const AUDIT_TYPES: &[&str] = &[
    "agent_credentials",
    "api_token",
    "booking",
    "bookable",
    "calendar_feed",
    "class",
    "collectivite",
    "contract",
    "contractor",
    "device",
    "device_category",
    "intervention",
    "loan",
    "lot",
    "lot_perimeter",
    "needs_campaign",
    "needs_request",
    "pupil",
    "pupil_search",
    "pupil_settings",
    "pupils",
    "referentiel",
    "renewal",
    "room",
    "routing_rule",
    "school",
    "school_closed_day",
    "school_link",
    "school_probe",
    "school_year",
    "sla_grid",
    "subsidy",
    "ticket",
    "user",
    "visio_programme",
    "visio_series",
    "visio_session",
];
const AUDIT_ACTIONS: &[&str] = &[
    "create",
    "update",
    "delete",
    "cancel",
    "change_password",
    "decide",
    "erase_pupil",
    "export_pupil",
    "grant",
    "import_onde",
    "merge",
    "purge",
    "read_pupils",
    "reset_password",
    "return",
    "revoke",
    "sign",
];

/// Codes with their words (`audit.{part}.{code}`), sorted by the words.
fn labelled(lang: preau_domain::Lang, part: &str, codes: &[&str]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = codes
        .iter()
        .map(|c| {
            (
                c.to_string(),
                crate::i18n::t(lang, &format!("audit.{part}.{c}")).to_string(),
            )
        })
        .collect();
    out.sort_by(|a, b| a.1.cmp(&b.1));
    out
}

pub async fn audit(State(s): State<AppState>, a: Auth, Query(q): Query<AuditQuery>) -> PageResult {
    let p = &a.p;
    let lang = p.lang;
    let t = |k| crate::i18n::t(lang, k);
    if !p.can_read_audit() {
        return Err(AppError::Forbidden.into());
    }
    let nonempty = |v: &Option<String>| v.clone().filter(|v| !v.trim().is_empty());
    let since = nonempty(&q.since).and_then(|d| NaiveDate::parse_from_str(&d, "%Y-%m-%d").ok());
    let filter = AuditFilter {
        object_type: nonempty(&q.object_type),
        actor: nonempty(&q.actor),
        since: since
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .and_then(preau_domain::paris::instant),
        before_id: q.before,
        action: nonempty(&q.action).filter(|a| AUDIT_ACTIONS.contains(&a.as_str())),
        object_id: nonempty(&q.object_id)
            .and_then(|n| n.trim().trim_start_matches('#').parse().ok()),
        ..Default::default()
    };
    let rows = audit::list(&s.db, p.collectivite_id, &filter, AUDIT_PAGE).await?;
    let older = (rows.len() as i64 == AUDIT_PAGE).then(|| {
        format!(
            "/admin/audit?object_type={}&object_id={}&action={}&actor={}&since={}&before={}",
            filter.object_type.clone().unwrap_or_default(),
            filter.object_id.map(|n| n.to_string()).unwrap_or_default(),
            filter.action.clone().unwrap_or_default(),
            crate::session::url_encode(&filter.actor.clone().unwrap_or_default()),
            q.since.clone().unwrap_or_default(),
            rows.last().map(|r| r.id).unwrap_or(0)
        )
    });
    // Unless reads are asked for, one person's reads of pupil data in a row fold into one
    // line: they would otherwise bury the changes.
    let fold = filter.action.is_none();
    let mut runs: Vec<(audit::AuditRow, usize, String)> = Vec::new();
    for r in rows {
        if let Some(last) = runs.last_mut()
            && fold
            && r.action == "read_pupils"
            && last.0.action == "read_pupils"
            && last.0.actor_login == r.actor_login
        {
            last.1 += 1;
            last.2 = paris(r.occurred_at);
            continue;
        }
        let first = paris(r.occurred_at);
        runs.push((r, 1, first));
    }
    let views = runs
        .into_iter()
        .map(|(r, folded, earliest)| {
            let changes = serde_json::from_str::<serde_json::Value>(&r.changes)
                .ok()
                .and_then(|v| v.as_object().cloned())
                .map(|m| {
                    m.into_iter()
                        .map(|(k, v)| {
                            let show = |x: &serde_json::Value| match x {
                                serde_json::Value::Null => t("history.empty").to_string(),
                                serde_json::Value::String(s) if s.is_empty() => {
                                    t("history.empty").to_string()
                                }
                                serde_json::Value::String(s) => s.clone(),
                                other => other.to_string(),
                            };
                            let text = match v.as_array() {
                                Some(pair) if pair.len() == 2 => {
                                    format!("{} → {}", show(&pair[0]), show(&pair[1]))
                                }
                                _ => show(&v),
                            };
                            (crate::i18n::field_label(lang, &k), text)
                        })
                        .collect()
                })
                .unwrap_or_default();
            let detail = (folded > 1).then(|| {
                format!(
                    "/admin/audit?action=read_pupils&actor={}&before={}",
                    crate::session::url_encode(&r.actor_login),
                    r.id + 1
                )
            });
            AuditView {
                when: if folded > 1 {
                    format!("{earliest} → {}", paris(r.occurred_at))
                } else {
                    paris(r.occurred_at)
                },
                folded,
                detail,
                who: r.actor_login,
                action: crate::i18n::t_or(lang, &format!("audit.do.{}", r.action), &r.action),
                object: format!(
                    "{} n° {} — {}",
                    crate::i18n::t_or(
                        lang,
                        &format!("audit.type.{}", r.object_type),
                        &r.object_type
                    ),
                    r.object_id,
                    r.object_label
                ),
                changes,
            }
        })
        .collect();
    render(&AuditPage {
        ctx: Ctx::page(&a, p.lang_title("audit.title"), "admin"),
        rows: views,
        object_types: labelled(lang, "type", AUDIT_TYPES),
        actions: labelled(lang, "do", AUDIT_ACTIONS),
        object_id: filter.object_id.map(|n| n.to_string()).unwrap_or_default(),
        object_type: filter.object_type.unwrap_or_default(),
        actor: filter.actor.unwrap_or_default(),
        since: q.since.unwrap_or_default(),
        action: filter.action.unwrap_or_default(),
        older,
    })
}

fn profile_fields(lang: preau_domain::Lang, v: &users::ProfileInput) -> Vec<Field> {
    let t = |k| crate::i18n::t(lang, k);
    vec![
        Field::text(
            "display_name",
            t("field.display_name"),
            v.display_name.clone(),
        )
        .required()
        .autocomplete("name"),
        Field::text(
            "email",
            t("field.email"),
            v.email.clone().unwrap_or_default(),
        )
        .input("email")
        .autocomplete("email"),
    ]
}

pub async fn user_edit(State(s): State<AppState>, a: Auth, Path(id): Path<i64>) -> PageResult {
    let p = &a.p;
    if !p.can_manage_users() {
        return Err(AppError::NotFound.into());
    }
    let user = users::get(&s.db, p, id).await?;
    let input = users::ProfileInput {
        display_name: user.display_name.clone(),
        email: user.email.clone(),
    };
    FormSpec::edit(
        "users.edit_title",
        format!("/admin/users/{id}"),
        user.version,
    )
    .section("admin")
    .crumb(format!("/admin/users/{id}"), user.display_name)
    .show(&a, profile_fields(p.lang, &input), &[])
}

pub async fn user_update(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm<Versioned<users::ProfileInput>>,
) -> PageResult {
    let p = &a.p;
    let version = f.version.unwrap_or(0);
    save(
        &a,
        write_tx!(s.db, tx => users::update_profile(tx, p, id, version, &f.input, Utc::now()).await?),
        |_| format!("/admin/users/{id}"),
        FormSpec::edit("users.edit_title", format!("/admin/users/{id}"), version).section("admin"),
        profile_fields(p.lang, &f.input),
    )
}

fn collectivite_fields(lang: preau_domain::Lang, v: &CollectiviteInput) -> Vec<Field> {
    let t = |k| crate::i18n::t(lang, k);
    vec![
        Field::text("name", t("field.name"), v.name.clone()).required(),
        Field::select(
            "kind",
            t("field.kind"),
            v.kind.clone(),
            options(CollectiviteKind::ALL, CollectiviteKind::code, |k| {
                k.label(lang)
            }),
        )
        .required(),
        Field::text(
            "insee_code",
            t("field.insee_code"),
            v.insee_code.clone().unwrap_or_default(),
        )
        .hint(t("collectivite.insee_hint")),
    ]
}

pub async fn collectivite_edit(State(s): State<AppState>, a: Auth) -> PageResult {
    let p = &a.p;
    if !p.can_manage_collectivite() {
        return Err(AppError::Forbidden.into());
    }
    let c = collectivites::get(&s.db, p, p.collectivite_id).await?;
    FormSpec::edit(
        "collectivite.edit_title",
        "/admin/collectivite".into(),
        c.version,
    )
    .section("admin")
    .crumb("/admin", p.lang_title("nav.admin"))
    .show(&a, collectivite_fields(p.lang, &c.to_input()), &[])
}

pub async fn collectivite_update(
    State(s): State<AppState>,
    a: Auth,
    CsrfForm(f): CsrfForm<Versioned<CollectiviteInput>>,
) -> PageResult {
    let p = &a.p;
    let version = f.version.unwrap_or(0);
    save(
        &a,
        write_tx!(s.db, tx => collectivites::update(tx, p, version, &f.input, Utc::now()).await?),
        |_| "/admin".to_string(),
        FormSpec::edit(
            "collectivite.edit_title",
            "/admin/collectivite".into(),
            version,
        )
        .section("admin"),
        collectivite_fields(p.lang, &f.input),
    )
}

pub struct AdminLink {
    href: &'static str,
    title: &'static str,
    text: &'static str,
}

#[derive(Template)]
#[template(path = "admin.html")]
struct AdminPage {
    ctx: Ctx,
    collectivite: collectivites::Collectivite,
    kind_label: &'static str,
    links: Vec<AdminLink>,
    /// When the last backup was taken and its size, in words; whether it is too old.
    backup: Option<String>,
    backup_late: bool,
}

/// Past this, the administration page and the home page say the backups stopped.
pub const BACKUP_LATE_HOURS: i64 = 48;

/// The last backup in words, and whether it is older than two days (or missing).
pub async fn backup_state(
    s: &AppState,
    lang: preau_domain::Lang,
) -> Result<(Option<String>, bool), PageError> {
    let last = preau_core::backup::last(&s.db).await?;
    let late = last
        .is_none_or(|(at, _)| chrono::Utc::now() - at > chrono::Duration::hours(BACKUP_LATE_HOURS));
    Ok((
        last.map(|(at, bytes)| {
            format!(
                "{} ({} {})",
                paris(at),
                preau_domain::sla::thousands(bytes / 1024),
                crate::i18n::t(lang, "backup.kb")
            )
        }),
        late,
    ))
}

/// The administration index: the collectivité's identity and a card per tool the caller
/// may use.
pub async fn index(State(s): State<AppState>, a: Auth, Query(q): Query<FlashQuery>) -> PageResult {
    let p = &a.p;
    if !(p.can_manage_collectivite() || p.can_manage_users() || p.can_read_audit()) {
        return Err(AppError::Forbidden.into());
    }
    let lang = p.lang;
    let t = |k: &str| crate::i18n::t(lang, k);
    let c = collectivites::get(&s.db, p, p.collectivite_id).await?;
    let mut links = Vec::new();
    let mut add = |href, key: &str| {
        let title = format!("admin.{key}");
        let text = format!("{title}_text");
        links.push(AdminLink {
            href,
            title: crate::i18n::t(lang, &title),
            text: crate::i18n::t(lang, &text),
        })
    };
    if p.can_manage_collectivite() {
        add("/admin/collectivite/edit", "collectivite");
        add("/school-years", "years");
        add("/schools/import", "import");
        add("/admin/agents", "agents");
        add("/admin/categories", "categories");
        add("/admin/assistance", "assistance");
        add("/admin/pupils", "pupils");
        add("/admin/registre", "registre");
    }
    if p.can_manage_users() {
        add("/admin/users", "users");
        add("/admin/sign-in", "sign_in");
        add("/admin/access", "access");
    }
    if p.can_read_audit() {
        add("/admin/audit", "audit");
    }
    let (backup, backup_late) = backup_state(&s, lang).await?;
    render(&AdminPage {
        ctx: Ctx::page(&a, t("nav.admin"), "admin").flash(flash_key(q.flash.as_deref())),
        kind_label: CollectiviteKind::from_db(&c.kind).label(p.lang),
        collectivite: c,
        links,
        backup,
        backup_late,
    })
}

#[derive(Template)]
#[template(path = "agents.html")]
struct AgentsPage {
    ctx: Ctx,
    current: Option<agents::AgentCredentials>,
    created: String,
    login: String,
    secret: Option<String>,
    error: Option<String>,
    urls: Vec<String>,
    base: String,
    devices_by_agent: i64,
}

async fn agents_page(
    s: &AppState,
    a: &Auth,
    headers: &axum::http::HeaderMap,
    secret: Option<String>,
    error: Option<String>,
) -> PageResult {
    let p = &a.p;
    let current = agents::current(&s.db, p).await?;
    let base = super::base_url(s, headers);
    let devices_by_agent = devices::list(
        &s.db,
        p,
        &devices::DeviceFilter {
            not_seen_days: Some(0),
            ..Default::default()
        },
        Utc::now(),
        0,
        1,
    )
    .await?
    .total;
    let mut resp = render(&AgentsPage {
        ctx: Ctx::page(a, p.lang_title("agents.title"), "admin")
            .crumb("/admin", p.lang_title("nav.admin")),
        created: current
            .as_ref()
            .map(|c| paris(c.created_at))
            .unwrap_or_default(),
        login: current
            .as_ref()
            .map(|c| c.login.clone())
            .unwrap_or_else(|| "agent".into()),
        current,
        urls: s
            .config
            .agent_paths
            .iter()
            .map(|path| format!("{base}{path}"))
            .collect(),
        base,
        secret,
        devices_by_agent,
        error: error.clone(),
    })?;
    if error.is_some() {
        *resp.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(resp)
}

pub async fn agents_show(
    State(s): State<AppState>,
    a: Auth,
    headers: axum::http::HeaderMap,
) -> PageResult {
    agents_page(&s, &a, &headers, None, None).await
}

#[derive(Deserialize)]
pub struct AgentsForm {
    login: String,
    #[serde(default)]
    secret: Option<String>,
}

/// Sets or rotates the agent credentials; the new secret is shown once, on this answer.
pub async fn agents_set(
    State(s): State<AppState>,
    a: Auth,
    headers: axum::http::HeaderMap,
    CsrfForm(f): CsrfForm<AgentsForm>,
) -> PageResult {
    match write_tx!(s.db, tx => agents::set(tx, &a.p, &f.login, f.secret.as_deref(), Utc::now()).await?)
    {
        Ok(secret) => {
            s.agent_auth.clear();
            agents_page(&s, &a, &headers, Some(secret), None).await
        }
        Err(AppError::Invalid(errs)) => {
            agents_page(&s, &a, &headers, None, Some(messages(&errs, a.p.lang))).await
        }
        Err(AppError::Conflict(e)) => {
            agents_page(&s, &a, &headers, None, Some(e.message(a.p.lang))).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "categories.html")]
struct CategoriesPage {
    ctx: Ctx,
    rows: Vec<(String, String, String, bool)>,
    error: Option<String>,
}

async fn categories_page(
    s: &AppState,
    a: &Auth,
    error: Option<String>,
    flash: Option<&str>,
) -> PageResult {
    let p = &a.p;
    if !p.can_manage_collectivite() {
        return Err(AppError::Forbidden.into());
    }
    let rows = categories::list(&s.db, p)
        .await?
        .into_iter()
        .map(|c| {
            let builtin = preau_domain::device::BUILTIN_CATEGORIES
                .iter()
                .any(|b| b.0 == c.code);
            (c.code, c.label_fr, c.label_en, builtin)
        })
        .collect();
    let mut resp = render(&CategoriesPage {
        ctx: Ctx::page(a, p.lang_title("categories.title"), "admin")
            .crumb("/admin", p.lang_title("nav.admin"))
            .flash(flash_key(flash)),
        rows,
        error: error.clone(),
    })?;
    if error.is_some() {
        *resp.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(resp)
}

pub async fn categories_show(
    State(s): State<AppState>,
    a: Auth,
    Query(q): Query<FlashQuery>,
) -> PageResult {
    categories_page(&s, &a, None, q.flash.as_deref()).await
}

#[derive(Deserialize)]
pub struct CategoryForm {
    label_fr: String,
    #[serde(default)]
    label_en: Option<String>,
}

pub async fn category_create(
    State(s): State<AppState>,
    a: Auth,
    CsrfForm(f): CsrfForm<CategoryForm>,
) -> PageResult {
    match write_tx!(s.db, tx => categories::create(tx, &a.p, &f.label_fr, f.label_en.as_deref(), Utc::now()).await?)
    {
        Ok(_) => Ok(see_other("/admin/categories", "created")),
        Err(AppError::Invalid(errs)) => {
            categories_page(&s, &a, Some(messages(&errs, a.p.lang)), None).await
        }
        Err(AppError::Conflict(e)) => {
            categories_page(&s, &a, Some(e.message(a.p.lang)), None).await
        }
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    /// Every kind of object and action the log's filters offer has its words.
    #[test]
    fn audit_codes_have_words() {
        for (part, codes) in [("type", super::AUDIT_TYPES), ("do", super::AUDIT_ACTIONS)] {
            for c in codes {
                let key = format!("audit.{part}.{c}");
                assert_ne!(
                    crate::i18n::t_or(preau_domain::Lang::Fr, &key, "?"),
                    "?",
                    "{key}"
                );
            }
        }
    }
}
