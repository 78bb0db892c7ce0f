//! Signing in without a Préau password: the one-time link by e-mail, a directory
//! (LDAP/AD) chosen on the sign-in form; and what the administrator sets for it — the
//! collectivité's methods, its directories, the access requests of people a directory
//! knows and Préau does not — and the directeur's invitations of the school's teachers.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use preau_core::signin::{self, MatchBy, links};
use preau_core::{AppError, schools, users, write_tx};
use preau_domain::{FieldError, Role};
use serde::Deserialize;

use super::{Ctx, LangTitle, flash_key, paris, render, see_other};
use crate::AppState;
use crate::error::PageError;
use crate::session::{Auth, CsrfForm, MaybeAuth};

type PageResult = Result<Response, PageError>;

/// A page with a title, a message, and maybe a form to ask for a new link.
#[derive(Template)]
#[template(path = "signin_message.html")]
struct MessagePage {
    ctx: Ctx,
    text: &'static str,
    /// The e-mail form under the message (an expired link, say).
    ask_again: bool,
    /// A button that signs in with a valid link (its address posts back here).
    use_link: Option<String>,
    who: String,
}

fn message(
    c: &crate::session::Caller,
    title: &str,
    text: &str,
    ask_again: bool,
    status: StatusCode,
) -> PageResult {
    let ctx = Ctx::anonymous(
        c.lang,
        c.csrf.as_deref().unwrap_or(""),
        crate::i18n::t(c.lang, title),
    );
    let mut r = render(&MessagePage {
        ctx,
        text: crate::i18n::t(c.lang, text),
        ask_again,
        use_link: None,
        who: String::new(),
    })?;
    *r.status_mut() = status;
    Ok(r)
}

/// What the sign-in page shows after a directory answered: the session, or why not.
pub(crate) async fn after_provider(
    s: &AppState,
    c: &crate::session::Caller,
    resolved: signin::Resolved,
    next: &str,
) -> PageResult {
    match resolved {
        signin::Resolved::User(id) => super::user::start_session(s, id, next).await,
        signin::Resolved::Requested => message(
            c,
            "signin.requested_title",
            "signin.requested_text",
            false,
            StatusCode::ACCEPTED,
        ),
        signin::Resolved::Refused => message(
            c,
            "signin.refused_title",
            "signin.refused_text",
            false,
            StatusCode::FORBIDDEN,
        ),
    }
}

#[derive(Template)]
#[template(path = "signin_email.html")]
struct EmailPage {
    ctx: Ctx,
    address: String,
    error: Option<String>,
    sent: bool,
    available: bool,
}

#[derive(Deserialize, Default)]
pub struct EmailQuery {
    address: Option<String>,
}

fn email_page(
    s: &AppState,
    c: &crate::session::Caller,
    address: String,
    error: Option<String>,
    sent: bool,
) -> PageResult {
    render(&EmailPage {
        ctx: Ctx::anonymous(
            c.lang,
            c.csrf.as_deref().unwrap_or(""),
            crate::i18n::t(c.lang, "signin.email_title"),
        ),
        address,
        error,
        sent,
        available: s.config.public_url.is_some(),
    })
}

pub async fn email_form(
    State(s): State<AppState>,
    MaybeAuth(c): MaybeAuth,
    Query(q): Query<EmailQuery>,
) -> PageResult {
    email_page(&s, &c, q.address.unwrap_or_default(), None, false)
}

#[derive(Deserialize)]
pub struct EmailForm {
    #[serde(default)]
    address: String,
}

/// Sends the link, if the address is someone's; the answer is the same either way.
pub async fn email_send(
    State(s): State<AppState>,
    MaybeAuth(c): MaybeAuth,
    req: axum::extract::Request,
) -> PageResult {
    let addr = crate::session::client_addr(req.extensions());
    let CsrfForm(f) =
        <CsrfForm<EmailForm> as axum::extract::FromRequest<AppState>>::from_request(req, &s)
            .await?;
    // Links are only ever sent to the configured address of this server: a link built
    // from the request's Host would let anyone have someone's key sent to their site.
    let Some(base) = s.config.public_url.clone() else {
        return email_page(&s, &c, f.address, None, false);
    };
    let key = format!("link:{addr}");
    let window = s.config.login_window;
    let now = Utc::now();
    if signin::throttle::blocked(&s.db, &key, s.config.login_attempts * 2, window, now).await? {
        let mut r = email_page(
            &s,
            &c,
            f.address,
            Some(crate::i18n::t(c.lang, "login.blocked").to_string()),
            false,
        )?;
        *r.status_mut() = StatusCode::TOO_MANY_REQUESTS;
        return Ok(r);
    }
    signin::throttle::fail(&s.db, &key, window, now).await?;
    match links::request(&s.db, &f.address, &base, now).await {
        Ok(n) => {
            tracing::info!(sent = n, "sign-in link asked");
            email_page(&s, &c, String::new(), None, true)
        }
        Err(AppError::Invalid(errs)) => {
            let mut r = email_page(
                &s,
                &c,
                f.address,
                errs.first().map(|e| e.message(c.lang)),
                false,
            )?;
            *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            Ok(r)
        }
        Err(e) => Err(e.into()),
    }
}

/// A link opened: who it signs in, and a button (a mail scanner following the link does
/// not use it up).
pub async fn link_page(
    State(s): State<AppState>,
    MaybeAuth(c): MaybeAuth,
    Path(token): Path<String>,
) -> PageResult {
    match links::peek(&s.db, &token, Utc::now()).await? {
        links::LinkState::Valid { display_name } => render(&MessagePage {
            ctx: Ctx::anonymous(
                c.lang,
                c.csrf.as_deref().unwrap_or(""),
                crate::i18n::t(c.lang, "signin.link_title"),
            ),
            text: crate::i18n::t(c.lang, "signin.link_text"),
            ask_again: false,
            use_link: Some(format!("/login/link/{token}")),
            who: display_name,
        }),
        state => link_refused(&s, &c, state),
    }
}

fn link_refused(_s: &AppState, c: &crate::session::Caller, state: links::LinkState) -> PageResult {
    let text = match state {
        links::LinkState::Expired => "signin.link_expired",
        links::LinkState::Used => "signin.link_used",
        _ => "signin.link_unknown",
    };
    message(c, "signin.link_title", text, true, StatusCode::GONE)
}

#[derive(Deserialize)]
pub struct Empty {}

pub async fn link_use(
    State(s): State<AppState>,
    MaybeAuth(c): MaybeAuth,
    Path(token): Path<String>,
    req: axum::extract::Request,
) -> PageResult {
    let CsrfForm(_) =
        <CsrfForm<Empty> as axum::extract::FromRequest<AppState>>::from_request(req, &s).await?;
    let now = Utc::now();
    match links::consume(&s.db, &token, now).await? {
        Some(user_id) => {
            tracing::info!(user_id, "sign-in by e-mail link");
            super::user::start_session(&s, user_id, "/").await
        }
        None => {
            let state = links::peek(&s.db, &token, now).await?;
            link_refused(&s, &c, state)
        }
    }
}

/// The administrator's page: the collectivité's methods and directories.
#[derive(Template)]
#[template(path = "admin_signin.html")]
struct AdminSignInPage {
    ctx: Ctx,
    settings: signin::Settings,
    providers: Vec<ProviderRow>,
    public_url: bool,
}

pub struct ProviderRow {
    id: i64,
    label: String,
    kind: &'static str,
    address: String,
    enabled: bool,
}

/// A kind of provider in words.
fn kind_label(lang: preau_domain::Lang, kind: &str) -> &'static str {
    crate::i18n::t(
        lang,
        match kind {
            "oidc" => "signin.kind_oidc",
            "cas" => "signin.kind_cas",
            _ => "signin.kind_ldap",
        },
    )
}

#[derive(Deserialize, Default)]
pub struct FlashQuery {
    flash: Option<String>,
}

pub async fn admin_page(
    State(s): State<AppState>,
    a: Auth,
    Query(q): Query<FlashQuery>,
) -> PageResult {
    let p = &a.p;
    let providers = signin::providers(&s.db, p)
        .await?
        .into_iter()
        .map(|x| ProviderRow {
            id: x.id,
            kind: kind_label(p.lang, x.config.kind()),
            address: x.config.address().to_string(),
            label: x.label,
            enabled: x.enabled,
        })
        .collect();
    render(&AdminSignInPage {
        ctx: Ctx::page(&a, p.lang_title("signin.admin_title"), "admin")
            .crumb("/admin", p.lang_title("nav.admin"))
            .flash(flash_key(q.flash.as_deref())),
        settings: signin::settings(&s.db, p.collectivite_id).await?,
        providers,
        public_url: s.config.public_url.is_some(),
    })
}

#[derive(Deserialize)]
pub struct SettingsForm {
    #[serde(default)]
    local_passwords: Option<String>,
    #[serde(default)]
    email_links: Option<String>,
    #[serde(default)]
    version: i64,
}

pub async fn settings_save(
    State(s): State<AppState>,
    a: Auth,
    CsrfForm(f): CsrfForm<SettingsForm>,
) -> PageResult {
    let local = f.local_passwords.is_some();
    let links = f.email_links.is_some();
    write_tx!(s.db, tx => signin::set_settings(tx, &a.p, local, links, f.version, Utc::now()).await?)?;
    Ok(see_other("/admin/sign-in", "saved"))
}

#[derive(Template)]
#[template(path = "admin_provider.html")]
struct ProviderPage {
    ctx: Ctx,
    action: String,
    input: ProviderForm,
    match_options: Vec<(&'static str, &'static str)>,
    errors: Vec<(String, String)>,
    has_secret: bool,
    kind: &'static str,
    /// The address a provider sends people back to (OpenID Connect), to register there.
    redirect_uri: String,
}

/// The provider form as posted, for every kind (a ticked box sends its value, an unticked
/// one nothing); shown again as typed, never with a stored secret.
#[derive(Deserialize, Default)]
pub struct ProviderForm {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    label: String,
    #[serde(default)]
    match_by: String,
    enabled: Option<String>,
    #[serde(default)]
    url: String,
    starttls: Option<String>,
    #[serde(default)]
    ca_pem: String,
    #[serde(default)]
    bind_dn: String,
    #[serde(default)]
    bind_password: String,
    #[serde(default)]
    base_dn: String,
    #[serde(default)]
    filter: String,
    #[serde(default)]
    login_attribute: String,
    #[serde(default)]
    name_attribute: String,
    #[serde(default)]
    mail_attribute: String,
    #[serde(default)]
    issuer: String,
    #[serde(default)]
    client_id: String,
    #[serde(default)]
    client_secret: String,
    #[serde(default)]
    login_claim: String,
    #[serde(default)]
    cas_version: String,
    #[serde(default)]
    version: i64,
}

impl ProviderForm {
    fn of(p: &signin::Provider) -> ProviderForm {
        let mut f = ProviderForm {
            kind: p.config.kind().into(),
            label: p.label.clone(),
            match_by: p.match_by.code().into(),
            enabled: p.enabled.then(|| "true".into()),
            version: p.version,
            ..Default::default()
        };
        match &p.config {
            signin::Config::Ldap(c) => {
                f.url = c.url.clone();
                f.starttls = c.starttls.then(|| "true".into());
                f.ca_pem = c.ca_pem.clone().unwrap_or_default();
                f.bind_dn = c.bind_dn.clone();
                f.base_dn = c.base_dn.clone();
                f.filter = c.filter.clone();
                f.login_attribute = c.login_attribute.clone();
                f.name_attribute = c.name_attribute.clone();
                f.mail_attribute = c.mail_attribute.clone();
            }
            signin::Config::Oidc(c) => {
                f.issuer = c.issuer.clone();
                f.client_id = c.client_id.clone();
                f.ca_pem = c.ca_pem.clone().unwrap_or_default();
                f.login_claim = c.login_claim.clone();
            }
            signin::Config::Cas(c) => {
                f.url = c.url.clone();
                f.cas_version = c.version.to_string();
                f.ca_pem = c.ca_pem.clone().unwrap_or_default();
                f.name_attribute = c.name_attribute.clone();
                f.mail_attribute = c.mail_attribute.clone();
            }
        }
        f
    }

    /// A new provider's form, with the usual defaults of its kind.
    fn new_of(kind: &str) -> ProviderForm {
        let mut f = ProviderForm {
            kind: kind.into(),
            match_by: "login".into(),
            enabled: Some("true".into()),
            ..Default::default()
        };
        match kind {
            "oidc" => {
                f.kind = "oidc".into();
                f.match_by = "email".into();
                f.login_claim = "preferred_username".into();
            }
            "cas" => {
                f.kind = "cas".into();
                f.cas_version = "3".into();
                f.name_attribute = "displayName".into();
                f.mail_attribute = "mail".into();
            }
            _ => {
                f.kind = "ldap".into();
                f.starttls = Some("true".into());
                f.filter = "(uid={login})".into();
                f.login_attribute = "uid".into();
                f.name_attribute = "cn".into();
                f.mail_attribute = "mail".into();
            }
        }
        f
    }

    fn input(&self) -> signin::ProviderInput {
        let config = match self.kind.as_str() {
            "oidc" => signin::ConfigInput::Oidc(signin::oidc::ConfigInput {
                issuer: self.issuer.clone(),
                client_id: self.client_id.clone(),
                client_secret: self.client_secret.clone(),
                ca_pem: self.ca_pem.clone(),
                login_claim: self.login_claim.clone(),
            }),
            "cas" => signin::ConfigInput::Cas(signin::cas::ConfigInput {
                url: self.url.clone(),
                version: self.cas_version.clone(),
                ca_pem: self.ca_pem.clone(),
                mail_attribute: self.mail_attribute.clone(),
                name_attribute: self.name_attribute.clone(),
            }),
            _ => signin::ConfigInput::Ldap(signin::ldap::ConfigInput {
                url: self.url.clone(),
                starttls: self.starttls.is_some(),
                ca_pem: self.ca_pem.clone(),
                bind_dn: self.bind_dn.clone(),
                bind_password: self.bind_password.clone(),
                base_dn: self.base_dn.clone(),
                filter: self.filter.clone(),
                login_attribute: self.login_attribute.clone(),
                name_attribute: self.name_attribute.clone(),
                mail_attribute: self.mail_attribute.clone(),
            }),
        };
        signin::ProviderInput {
            label: self.label.clone(),
            match_by: self.match_by.clone(),
            enabled: self.enabled.is_some(),
            config,
            version: self.version,
        }
    }

    /// The form shown again: secrets are never written back into the page.
    fn shown(mut self) -> ProviderForm {
        self.bind_password.clear();
        self.client_secret.clear();
        self
    }
}

fn provider_page(
    s: &AppState,
    a: &Auth,
    id: Option<i64>,
    input: ProviderForm,
    has_secret: bool,
    errors: &[FieldError],
) -> PageResult {
    let lang = a.p.lang;
    let t = |k: &str| crate::i18n::t(lang, k);
    let input_kind = input.kind.clone();
    let mut r = render(&ProviderPage {
        ctx: Ctx::page(a, a.p.lang_title("signin.provider_title"), "admin")
            .crumb("/admin", a.p.lang_title("nav.admin"))
            .crumb("/admin/sign-in", a.p.lang_title("signin.admin_title")),
        action: match id {
            Some(id) => format!("/admin/sign-in/providers/{id}"),
            None => "/admin/sign-in/providers".into(),
        },
        input: input.shown(),
        match_options: MatchBy::ALL
            .iter()
            .map(|m| {
                (
                    m.code(),
                    t(match m {
                        MatchBy::Login => "signin.match_login",
                        MatchBy::Email => "signin.match_email",
                        MatchBy::Subject => "signin.match_subject",
                    }),
                )
            })
            .collect(),
        errors: errors
            .iter()
            .map(|e| (crate::i18n::field_label(lang, &e.field), e.message(lang)))
            .collect(),
        has_secret,
        kind: kind_label(lang, &input_kind),
        redirect_uri: format!(
            "{}/login/sso/callback",
            s.config.public_url.as_deref().unwrap_or("https://…")
        ),
    })?;
    if !errors.is_empty() {
        *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(r)
}

#[derive(Deserialize, Default)]
pub struct KindQuery {
    kind: Option<String>,
}

pub async fn provider_new(
    State(s): State<AppState>,
    a: Auth,
    Query(q): Query<KindQuery>,
) -> PageResult {
    if !a.p.can_manage_users() {
        return Err(AppError::Forbidden.into());
    }
    let form = ProviderForm::new_of(q.kind.as_deref().unwrap_or("ldap"));
    provider_page(&s, &a, None, form, false, &[])
}

pub async fn provider_edit(State(s): State<AppState>, a: Auth, Path(id): Path<i64>) -> PageResult {
    let p = signin::provider(&s.db, &a.p, id).await?;
    provider_page(&s, &a, Some(id), ProviderForm::of(&p), true, &[])
}

async fn provider_save(s: &AppState, a: &Auth, id: Option<i64>, f: ProviderForm) -> PageResult {
    let input = f.input();
    match write_tx!(s.db, tx => signin::save_provider(tx, &a.p, id, &input, Utc::now()).await?) {
        Ok(_) => Ok(see_other("/admin/sign-in", "saved")),
        Err(AppError::Invalid(errs)) => provider_page(s, a, id, f, id.is_some(), &errs),
        Err(e) => Err(e.into()),
    }
}

pub async fn provider_create(
    State(s): State<AppState>,
    a: Auth,
    CsrfForm(f): CsrfForm<ProviderForm>,
) -> PageResult {
    provider_save(&s, &a, None, f).await
}

pub async fn provider_update(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm<ProviderForm>,
) -> PageResult {
    provider_save(&s, &a, Some(id), f).await
}

#[derive(Deserialize, Default)]
pub struct NextQuery {
    next: Option<String>,
}

/// Sends the person to an OpenID Connect or CAS provider, a flow of ten minutes kept.
pub async fn sso_start(
    State(s): State<AppState>,
    MaybeAuth(c): MaybeAuth,
    Path(id): Path<i64>,
    Query(q): Query<NextQuery>,
) -> PageResult {
    let provider = signin::enabled_provider(&s.db, id).await?;
    let Some(base) = s.config.public_url.clone() else {
        return message(
            &c,
            "signin.sso_title",
            "signin.sso_unavailable",
            false,
            StatusCode::SERVICE_UNAVAILABLE,
        );
    };
    let next = super::user::safe_next(q.next.as_deref());
    let now = Utc::now();
    let target = match &provider.config {
        signin::Config::Oidc(cfg) => {
            let discovery = match signin::oidc::discover(cfg).await {
                Ok(d) => d,
                Err(e) => {
                    tracing::warn!(provider = provider.id, error = %e, "provider unavailable");
                    return message(
                        &c,
                        "signin.sso_title",
                        "signin.sso_failed",
                        false,
                        StatusCode::BAD_GATEWAY,
                    );
                }
            };
            let (state, flow) = signin::start_flow(&s.db, provider.id, &next, now).await?;
            let url = signin::oidc::authorization_url(
                &discovery,
                cfg,
                &format!("{base}/login/sso/callback"),
                &state,
                &flow.nonce,
                &flow.verifier,
            );
            (url, state)
        }
        signin::Config::Cas(cfg) => {
            let (state, _) = signin::start_flow(&s.db, provider.id, &next, now).await?;
            let url = signin::cas::login_url(cfg, &format!("{base}/login/cas/{state}"));
            (url, state)
        }
        signin::Config::Ldap(_) => return Err(AppError::NotFound.into()),
    };
    let mut resp = Redirect::to(&target.0).into_response();
    // The state goes back only with the browser that started the sign-in: a link to the
    // return address, sent to someone else, signs nobody into another's account.
    let c = crate::session::cookie(
        SSO_COOKIE,
        &target.1,
        s.config.secure_cookies,
        Some(signin::FLOW_MINUTES * 60),
    );
    if let Ok(v) = axum::http::HeaderValue::from_str(&c) {
        resp.headers_mut().append(axum::http::header::SET_COOKIE, v);
    }
    Ok(resp)
}

/// The cookie holding the state of the sign-in this browser started at a provider.
const SSO_COOKIE: &str = "preau_sso";

/// Whether this browser started the sign-in `state` names.
fn started_here(headers: &HeaderMap, state: &str) -> bool {
    crate::session::cookies(headers)
        .get(SSO_COOKIE)
        .is_some_and(|c| !state.is_empty() && c == state)
}

#[derive(Deserialize, Default)]
pub struct CallbackQuery {
    state: Option<String>,
    code: Option<String>,
    ticket: Option<String>,
    error: Option<String>,
}

fn sso_failed(c: &crate::session::Caller, status: StatusCode) -> PageResult {
    message(c, "signin.sso_title", "signin.sso_failed", true, status)
}

/// Back from an OpenID Connect provider: the code exchanged, the ID token checked.
pub async fn sso_callback(
    State(s): State<AppState>,
    MaybeAuth(c): MaybeAuth,
    headers: HeaderMap,
    Query(q): Query<CallbackQuery>,
) -> PageResult {
    let now = Utc::now();
    let flow = match q.state.as_deref() {
        Some(state) if started_here(&headers, state) => {
            signin::take_flow(&s.db, state, now).await?
        }
        _ => None,
    };
    let Some(flow) = flow else {
        return message(
            &c,
            "signin.sso_title",
            "signin.sso_expired",
            false,
            StatusCode::BAD_REQUEST,
        );
    };
    let provider = signin::enabled_provider(&s.db, flow.provider_id).await?;
    let (signin::Config::Oidc(cfg), Some(code), None) = (&provider.config, &q.code, &q.error)
    else {
        return sso_failed(&c, StatusCode::UNAUTHORIZED);
    };
    let base = s.config.public_url.clone().unwrap_or_default();
    let redirect_uri = format!("{base}/login/sso/callback");
    match signin::oidc::finish(cfg, &redirect_uri, code, &flow.verifier, &flow.nonce, now).await {
        Ok(who) => {
            let resolved = signin::resolve(&s.db, &provider, &who, now).await?;
            after_provider(&s, &c, resolved, &flow.next).await
        }
        Err(e) => {
            tracing::warn!(provider = provider.id, error = %e, "OpenID Connect sign-in failed");
            sso_failed(&c, StatusCode::BAD_GATEWAY)
        }
    }
}

/// Back from a CAS server with a service ticket, validated by the server.
pub async fn cas_return(
    State(s): State<AppState>,
    MaybeAuth(c): MaybeAuth,
    headers: HeaderMap,
    Path(state): Path<String>,
    Query(q): Query<CallbackQuery>,
) -> PageResult {
    let now = Utc::now();
    let flow = if started_here(&headers, &state) {
        signin::take_flow(&s.db, &state, now).await?
    } else {
        None
    };
    let Some(flow) = flow else {
        return message(
            &c,
            "signin.sso_title",
            "signin.sso_expired",
            false,
            StatusCode::BAD_REQUEST,
        );
    };
    let provider = signin::enabled_provider(&s.db, flow.provider_id).await?;
    let (signin::Config::Cas(cfg), Some(ticket)) = (&provider.config, &q.ticket) else {
        return sso_failed(&c, StatusCode::UNAUTHORIZED);
    };
    let base = s.config.public_url.clone().unwrap_or_default();
    match signin::cas::validate(cfg, &format!("{base}/login/cas/{state}"), ticket).await {
        Ok(Some(who)) => {
            let resolved = signin::resolve(&s.db, &provider, &who, now).await?;
            after_provider(&s, &c, resolved, &flow.next).await
        }
        Ok(None) => sso_failed(&c, StatusCode::UNAUTHORIZED),
        Err(e) => {
            tracing::warn!(provider = provider.id, error = %e, "CAS validation failed");
            sso_failed(&c, StatusCode::BAD_GATEWAY)
        }
    }
}

/// An access request as the administrator's list shows it.
pub struct RequestView {
    id: i64,
    who: String,
    email: String,
    provider: String,
    subject: String,
    when: String,
    waiting: bool,
    status: &'static str,
    version: i64,
}

#[derive(Template)]
#[template(path = "admin_access.html")]
struct AccessPage {
    ctx: Ctx,
    requests: Vec<RequestView>,
    roles: Vec<(&'static str, &'static str)>,
    schools: Vec<(i64, String)>,
    users: Vec<(i64, String)>,
}

pub async fn access_page(
    State(s): State<AppState>,
    a: Auth,
    Query(q): Query<FlashQuery>,
) -> PageResult {
    let p = &a.p;
    let lang = p.lang;
    let t = |k: &str| crate::i18n::t(lang, k);
    let requests = signin::access_requests(&s.db, p)
        .await?
        .into_iter()
        .map(|r| RequestView {
            id: r.id,
            who: r.display_name,
            email: r.email.unwrap_or_default(),
            provider: r.provider,
            subject: r.subject,
            when: paris(r.created_at),
            waiting: r.status == "en_attente",
            status: t(match r.status.as_str() {
                "accordee" => "signin.status_granted",
                "refusee" => "signin.status_refused",
                _ => "signin.status_waiting",
            }),
            version: r.version,
        })
        .collect();
    let schools = schools::all_readable(&s.db, p)
        .await?
        .into_iter()
        .map(|x| (x.id, format!("{} ({})", x.name, x.uai)))
        .collect();
    let users = users::list(&s.db, p)
        .await?
        .into_iter()
        .map(|u| (u.id, format!("{} ({})", u.display_name, u.login)))
        .collect();
    render(&AccessPage {
        ctx: Ctx::page(&a, p.lang_title("signin.access_title"), "admin")
            .crumb("/admin", p.lang_title("nav.admin"))
            .flash(flash_key(q.flash.as_deref())),
        requests,
        roles: Role::ALL
            .iter()
            .filter(|r| !matches!(r, Role::Prestataire | Role::Intervenant))
            .map(|r| (r.code(), r.label(lang)))
            .collect(),
        schools,
        users,
    })
}

#[derive(Deserialize)]
pub struct GrantForm {
    #[serde(default)]
    user_id: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    school_id: String,
    #[serde(default)]
    version: i64,
}

fn id_or_none(field: &str, v: &str) -> Result<Option<i64>, FieldError> {
    match v.trim() {
        "" => Ok(None),
        x => x
            .parse()
            .map(Some)
            .map_err(|_| FieldError::new(field, "unknown_value")),
    }
}

pub async fn grant(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm<GrantForm>,
) -> PageResult {
    let g = signin::Grant {
        user_id: id_or_none("user_id", &f.user_id).map_err(AppError::from)?,
        role: Some(f.role.clone()).filter(|r| !r.is_empty()),
        school_id: id_or_none("school_id", &f.school_id).map_err(AppError::from)?,
        version: f.version,
    };
    write_tx!(s.db, tx => signin::grant(tx, &a.p, id, &g, Utc::now()).await?)?;
    Ok(see_other("/admin/access", "saved"))
}

#[derive(Deserialize)]
pub struct RefuseForm {
    #[serde(default)]
    version: i64,
}

pub async fn refuse(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm<RefuseForm>,
) -> PageResult {
    write_tx!(s.db, tx => signin::refuse(tx, &a.p, id, f.version, Utc::now()).await?)?;
    Ok(see_other("/admin/access", "saved"))
}

#[derive(Template)]
#[template(path = "invite.html")]
struct InvitePage {
    ctx: Ctx,
    school_id: i64,
    school: String,
    addresses: String,
    error: Option<String>,
    done: Vec<(String, &'static str)>,
    teachers: Vec<String>,
}

async fn invite_page(
    s: &AppState,
    a: &Auth,
    school_id: i64,
    addresses: String,
    error: Option<String>,
    done: Vec<(String, &'static str)>,
) -> PageResult {
    let p = &a.p;
    if !p.can_invite_teachers(school_id) {
        return Err(AppError::Forbidden.into());
    }
    let school = schools::get(&s.db, p, school_id).await?;
    let teachers = users::people_of_school(&s.db, p, school_id)
        .await?
        .into_iter()
        .filter(|x| x.role == Role::Enseignant.code())
        .map(|x| x.display_name)
        .collect();
    let mut r = render(&InvitePage {
        ctx: Ctx::page(a, p.lang_title("signin.invite_title"), "schools")
            .crumb("/schools", p.lang_title("nav.schools"))
            .crumb(format!("/schools/{school_id}"), school.name.clone()),
        school_id,
        school: school.name,
        addresses,
        error: error.clone(),
        done,
        teachers,
    })?;
    if error.is_some() {
        *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(r)
}

pub async fn invite_form(State(s): State<AppState>, a: Auth, Path(id): Path<i64>) -> PageResult {
    invite_page(&s, &a, id, String::new(), None, Vec::new()).await
}

#[derive(Deserialize)]
pub struct InviteForm {
    #[serde(default)]
    addresses: String,
}

pub async fn invite(
    State(s): State<AppState>,
    a: Auth,
    headers: HeaderMap,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm<InviteForm>,
) -> PageResult {
    let base = super::base_url(&s, &headers);
    let lang = a.p.lang;
    match write_tx!(s.db, tx => links::invite(tx, &a.p, id, &f.addresses, &base, Utc::now()).await?)
    {
        Ok(done) => {
            let t = |k: &str| crate::i18n::t(lang, k);
            let done = done
                .into_iter()
                .map(|d| match d {
                    links::Invited::Created(m) => (m, t("signin.invited_created")),
                    links::Invited::Added(m) => (m, t("signin.invited_added")),
                    links::Invited::Already(m) => (m, t("signin.invited_already")),
                })
                .collect();
            invite_page(&s, &a, id, String::new(), None, done).await
        }
        Err(AppError::Invalid(errs)) => {
            let msg = errs.first().map(|e| e.message(lang));
            invite_page(&s, &a, id, f.addresses, msg, Vec::new()).await
        }
        Err(e) => Err(e.into()),
    }
}
