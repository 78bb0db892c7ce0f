//! Login, logout and the user's own account (password, language, API tokens).

use askama::Template;
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use preau_core::AppError;
use preau_core::signin::{self, throttle};
use preau_core::users::{self, auth};
use preau_core::write_tx;
use preau_domain::Lang;
use serde::Deserialize;

use super::LangTitle;
use super::{Ctx, flash_key, paris, render, see_other};
use crate::AppState;
use crate::error::PageError;
use crate::session::{self, Auth, CsrfForm, MaybeAuth};

type PageResult = Result<Response, PageError>;

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    ctx: Ctx,
    error: Option<&'static str>,
    next: String,
    login: String,
    /// Where the login and password are checked: the collectivités' directories, then
    /// Préau's own accounts (`local`); empty when there is no directory.
    sources: Vec<(String, String)>,
    source: String,
    /// OpenID Connect and CAS providers: (address, label), a button each.
    sso: Vec<(String, String)>,
    /// Whether the "link by e-mail" way is offered (this server knows its address).
    email_links: bool,
}

#[derive(Deserialize, Default)]
pub struct LoginQuery {
    next: Option<String>,
    flash: Option<String>,
}

/// Only a path of this site is followed after login, never another site: one leading `/`
/// then a relative reference with no scheme or authority, and no character a browser
/// would drop or rewrite before resolving it (controls such as a tab, blanks, a
/// backslash), which could turn `/\t/evil.example` into `//evil.example`.
pub(crate) fn safe_next(next: Option<&str>) -> String {
    let local = |n: &str| {
        let mut chars = n.chars();
        chars.next() == Some('/')
            && !matches!(chars.next(), Some('/'))
            && !n
                .chars()
                .any(|c| c.is_control() || c.is_whitespace() || c == '\\')
    };
    match next {
        Some(n) if local(n) => n.to_string(),
        _ => "/".to_string(),
    }
}

/// The sign-in page's ways in: the enabled directories (then the local accounts) for the
/// form's "sign in with", and the OpenID Connect and CAS providers as buttons.
type WaysIn = (Vec<(String, String)>, Vec<(i64, String)>);

/// The buttons' addresses, each going on to `next` once signed in.
fn sso_links(sso: Vec<(i64, String)>, next: &str) -> Vec<(String, String)> {
    sso.into_iter()
        .map(|(id, label)| {
            (
                format!("/login/sso/{id}?next={}", session::url_encode(next)),
                label,
            )
        })
        .collect()
}

async fn ways_in(s: &AppState, lang: preau_domain::Lang) -> Result<WaysIn, PageError> {
    let providers = signin::enabled_providers(&s.db).await?;
    let several = providers
        .iter()
        .any(|p| p.collectivite_id != providers[0].collectivite_id);
    let named = |p: &signin::Provider| {
        if several {
            format!("{} — {}", p.collectivite, p.label)
        } else {
            p.label.clone()
        }
    };
    let mut sources: Vec<(String, String)> = providers
        .iter()
        .filter(|p| matches!(p.config, signin::Config::Ldap(_)))
        .map(|p| (format!("ldap:{}", p.id), named(p)))
        .collect();
    if !sources.is_empty() {
        sources.push((
            "local".into(),
            crate::i18n::t(lang, "signin.local_account").into(),
        ));
    }
    let buttons = providers
        .iter()
        .filter(|p| !matches!(p.config, signin::Config::Ldap(_)))
        .map(|p| (p.id, named(p)))
        .collect();
    Ok((sources, buttons))
}

/// What the sign-in form shows again.
#[derive(Default)]
struct LoginState {
    error: Option<&'static str>,
    flash: Option<&'static str>,
    next: String,
    login: String,
    source: String,
}

async fn login_form(s: &AppState, c: &crate::session::Caller, st: LoginState) -> PageResult {
    let ctx = Ctx::anonymous(
        c.lang,
        c.csrf.as_deref().unwrap_or(""),
        crate::i18n::t(c.lang, "login.title"),
    )
    .flash(st.flash);
    let (sources, sso) = ways_in(s, c.lang).await?;
    let sso = sso_links(sso, &st.next);
    let source = if sources.iter().any(|x| x.0 == st.source) {
        st.source
    } else {
        sources.first().map(|x| x.0.clone()).unwrap_or_default()
    };
    render(&LoginPage {
        ctx,
        error: st.error,
        next: st.next,
        login: st.login,
        sources,
        source,
        sso,
        email_links: s.config.public_url.is_some(),
    })
}

pub async fn login_page(
    State(s): State<AppState>,
    MaybeAuth(c): MaybeAuth,
    Query(q): Query<LoginQuery>,
) -> PageResult {
    if c.principal.is_some() && !c.via_token {
        return Ok(Redirect::to("/").into_response());
    }
    login_form(
        &s,
        &c,
        LoginState {
            flash: flash_key(q.flash.as_deref()),
            next: safe_next(q.next.as_deref()),
            ..Default::default()
        },
    )
    .await
}

#[derive(Deserialize)]
pub struct LoginForm {
    login: String,
    password: String,
    next: Option<String>,
    #[serde(default)]
    source: String,
}

/// How a sign-in attempt ended before a session is made.
enum Checked {
    User(i64),
    /// A directory vouched for someone: matched to a user, or an access request.
    Provider(signin::Resolved),
    Refused,
    /// The directory could not answer.
    Unavailable,
}

pub async fn login(State(s): State<AppState>, MaybeAuth(c): MaybeAuth, req: Request) -> PageResult {
    let addr = session::client_addr(req.extensions());
    let CsrfForm(f) =
        <CsrfForm<LoginForm> as axum::extract::FromRequest<AppState>>::from_request(req, &s)
            .await?;
    let login = f.login.trim().to_lowercase();
    let next = safe_next(f.next.as_deref());
    // Wrong passwords slow down the (login, address) pair that sends them, progressively;
    // a stranger elsewhere cannot lock the real user out, and a school's shared address
    // is refused only after many failures across its logins.
    let (free, window) = (s.config.login_attempts, s.config.login_window);
    let keys = [format!("login:{login}@{addr}"), format!("addr:{addr}")];
    // Counted in the database: every node of a deployment sees the same failures.
    let now = Utc::now();
    let wait = throttle::wait(&s.db, &keys[0], free, window, now).await?;
    let blocked =
        wait.is_some() || throttle::blocked(&s.db, &keys[1], free * 20, window, now).await?;
    let checked = if blocked {
        Checked::Refused
    } else if let Some(id) = f
        .source
        .strip_prefix("ldap:")
        .and_then(|x| x.parse::<i64>().ok())
    {
        let provider = signin::enabled_provider(&s.db, id).await?;
        let signin::Config::Ldap(directory) = &provider.config else {
            return Err(preau_core::AppError::NotFound.into());
        };
        match signin::ldap::authenticate(directory, &login, &f.password).await {
            Ok(Some(who)) => {
                Checked::Provider(signin::resolve(&s.db, &provider, &who, Utc::now()).await?)
            }
            Ok(None) => Checked::Refused,
            Err(e) => {
                tracing::warn!(provider = provider.id, error = %e, "directory unavailable");
                Checked::Unavailable
            }
        }
    } else {
        match auth::check_credentials(&s.db, &login, &f.password).await? {
            Some(id) if signin::local_password_allowed(&s.db, id).await? => Checked::User(id),
            _ => Checked::Refused,
        }
    };
    match checked {
        Checked::User(user_id) => {
            throttle::clear(&s.db, &keys[0]).await?;
            start_session(&s, user_id, &next).await
        }
        Checked::Provider(resolved) => {
            throttle::clear(&s.db, &keys[0]).await?;
            super::signin::after_provider(&s, &c, resolved, &next).await
        }
        Checked::Refused | Checked::Unavailable => {
            let unavailable = matches!(checked, Checked::Unavailable);
            if !blocked && !unavailable {
                for k in &keys {
                    throttle::fail(&s.db, k, window, now).await?;
                }
            }
            tracing::info!(blocked, unavailable, "login refused");
            let msg = crate::i18n::t(
                c.lang,
                if blocked {
                    "login.blocked"
                } else if unavailable {
                    "signin.directory_down"
                } else {
                    "login.failed"
                },
            );
            let mut resp = login_form(
                &s,
                &c,
                LoginState {
                    error: Some(msg),
                    flash: None,
                    next,
                    login: f.login.clone(),
                    source: f.source.clone(),
                },
            )
            .await?;
            *resp.status_mut() = if blocked {
                axum::http::StatusCode::TOO_MANY_REQUESTS
            } else if unavailable {
                axum::http::StatusCode::SERVICE_UNAVAILABLE
            } else {
                axum::http::StatusCode::UNAUTHORIZED
            };
            if blocked {
                let secs = wait.map_or(window.as_secs(), |w| w.as_secs().max(1));
                if let Ok(v) = axum::http::HeaderValue::from_str(&secs.to_string()) {
                    resp.headers_mut()
                        .insert(axum::http::header::RETRY_AFTER, v);
                }
            }
            Ok(resp)
        }
    }
}

/// Opens a session for a user whose sign-in succeeded (password, directory, e-mail
/// link) and goes on to `next`.
pub(crate) async fn start_session(s: &AppState, user_id: i64, next: &str) -> PageResult {
    let new = auth::create_session(&s.db, user_id, Utc::now()).await?;
    tracing::info!(user_id, "login");
    let mut resp = Redirect::to(next).into_response();
    let secure = s.config.secure_cookies;
    for c in [
        session::cookie(
            session::SESSION_COOKIE,
            &new.id,
            secure,
            Some(auth::SESSION_HOURS * 3600),
        ),
        // The session's own CSRF token replaces the anonymous one.
        session::cookie(session::CSRF_COOKIE, &new.csrf, secure, None),
    ] {
        if let Ok(v) = HeaderValue::from_str(&c) {
            resp.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    Ok(resp)
}

#[derive(Deserialize)]
pub struct Empty {}

pub async fn logout(State(s): State<AppState>, req: Request) -> PageResult {
    let sid = session::cookies(req.headers())
        .get(session::SESSION_COOKIE)
        .cloned();
    let CsrfForm(_) =
        <CsrfForm<Empty> as axum::extract::FromRequest<AppState>>::from_request(req, &s).await?;
    if let Some(sid) = sid {
        auth::delete_session(&s.db, &sid).await?;
    }
    let mut resp = Redirect::to("/login").into_response();
    let c = session::cookie(
        session::SESSION_COOKIE,
        "",
        s.config.secure_cookies,
        Some(0),
    );
    if let Ok(v) = HeaderValue::from_str(&c) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(resp)
}

pub struct TokenRow {
    id: i64,
    name: String,
    last_used: String,
    expires: String,
    revoked: bool,
    expired: bool,
}

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    ctx: Ctx,
    password_error: Option<String>,
    new_token: Option<String>,
    tokens: Vec<TokenRow>,
}

async fn account_page(
    s: &AppState,
    a: &Auth,
    password_error: Option<String>,
    new_token: Option<String>,
    flash: Option<&str>,
) -> PageResult {
    let p = &a.p;
    let never = crate::i18n::t(p.lang, "account.never");
    let now = chrono::Utc::now();
    let tokens = auth::list_tokens(&s.db, p)
        .await?
        .into_iter()
        .map(|t| TokenRow {
            id: t.id,
            name: t.name,
            last_used: t
                .last_used_at
                .map(paris)
                .unwrap_or_else(|| never.to_string()),
            expires: preau_domain::paris::day(t.expires_at)
                .format("%d/%m/%Y")
                .to_string(),
            revoked: t.revoked_at.is_some(),
            expired: t.expires_at <= now,
        })
        .collect();
    let status = if password_error.is_some() {
        axum::http::StatusCode::UNPROCESSABLE_ENTITY
    } else {
        axum::http::StatusCode::OK
    };
    let mut resp = render(&AccountPage {
        ctx: Ctx::page(a, p.lang_title("account.title"), "account").flash(flash_key(flash)),
        password_error,
        new_token,
        tokens,
    })?;
    *resp.status_mut() = status;
    Ok(resp)
}

#[derive(Deserialize, Default)]
pub struct FlashQuery {
    flash: Option<String>,
}

pub async fn account(
    State(s): State<AppState>,
    a: Auth,
    Query(q): Query<FlashQuery>,
) -> PageResult {
    account_page(&s, &a, None, None, q.flash.as_deref()).await
}

#[derive(Deserialize)]
pub struct PasswordForm {
    current_password: String,
    new_password: String,
    confirm_password: String,
}

pub async fn change_password(
    State(s): State<AppState>,
    a: Auth,
    CsrfForm(f): CsrfForm<PasswordForm>,
) -> PageResult {
    let result = write_tx!(s.db, tx => {
        users::change_own_password(
            tx,
            &a.p,
            &f.current_password,
            &f.new_password,
            &f.confirm_password, Utc::now(),
        )
        .await?
    });
    match result {
        Ok(()) => Ok(see_other("/login", "password_changed")),
        Err(AppError::Invalid(errs)) => {
            let msg = super::messages(&errs, a.p.lang);
            account_page(&s, &a, Some(msg), None, None).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct LangForm {
    lang: String,
}

pub async fn change_lang(
    State(s): State<AppState>,
    a: Auth,
    CsrfForm(f): CsrfForm<LangForm>,
) -> PageResult {
    let lang = Lang::parse(&f.lang).ok_or_else(|| PageError::bad_request("lang"))?;
    write_tx!(s.db, tx => users::set_lang(tx, &a.p, lang).await?)?;
    let mut resp = see_other("/account", "saved");
    let c = session::cookie(
        session::LANG_COOKIE,
        lang.code(),
        s.config.secure_cookies,
        Some(365 * 86400),
    );
    if let Ok(v) = HeaderValue::from_str(&c) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(resp)
}

#[derive(Deserialize)]
pub struct TokenForm {
    name: String,
}

pub async fn create_token(
    State(s): State<AppState>,
    a: Auth,
    CsrfForm(f): CsrfForm<TokenForm>,
) -> PageResult {
    let token = write_tx!(s.db, tx => auth::create_token(tx, &a.p, a.p.user_id, &f.name, Utc::now()).await?)?;
    account_page(&s, &a, None, Some(token), None).await
}

pub async fn revoke_token(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<Empty>,
) -> PageResult {
    write_tx!(s.db, tx => auth::revoke_token(tx, &a.p, id, Utc::now()).await?)?;
    Ok(see_other("/account", "saved"))
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn only_local_paths_are_followed_after_login() {
        for good in [
            "/",
            "/tickets?status=all",
            "/devices/12",
            "/schools/3#salles",
        ] {
            assert_eq!(safe_next(Some(good)), good);
        }
        for bad in [
            "//evil.example/",
            "/\t/evil.example/",
            "/\n/evil.example/",
            "/\r//evil.example",
            "/ /evil.example",
            "/\\evil.example",
            "\\\\evil.example",
            "https://evil.example/",
            "evil.example",
            "javascript:alert(1)",
            "/\u{0}x",
            "",
        ] {
            assert_eq!(safe_next(Some(bad)), "/", "{bad:?}");
        }
        assert_eq!(safe_next(None), "/");
    }
}
