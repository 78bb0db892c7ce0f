//! Login, logout and the user's own account (password, language, API tokens).

use askama::Template;
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use preau_core::AppError;
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
fn safe_next(next: Option<&str>) -> String {
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

pub async fn login_page(MaybeAuth(c): MaybeAuth, Query(q): Query<LoginQuery>) -> PageResult {
    if c.principal.is_some() && !c.via_token {
        return Ok(Redirect::to("/").into_response());
    }
    let ctx = Ctx::anonymous(
        c.lang,
        c.csrf.as_deref().unwrap_or(""),
        crate::i18n::t(c.lang, "login.title"),
    )
    .flash(flash_key(q.flash.as_deref()));
    render(&LoginPage {
        ctx,
        error: None,
        next: safe_next(q.next.as_deref()),
        login: String::new(),
    })
}

#[derive(Deserialize)]
pub struct LoginForm {
    login: String,
    password: String,
    next: Option<String>,
}

pub async fn login(State(s): State<AppState>, MaybeAuth(c): MaybeAuth, req: Request) -> PageResult {
    let addr = session::client_addr(req.extensions());
    let CsrfForm(f) =
        <CsrfForm<LoginForm> as axum::extract::FromRequest<AppState>>::from_request(req, &s)
            .await?;
    let login = f.login.trim().to_lowercase();
    // Wrong passwords slow down the (login, address) pair that sends them, progressively;
    // a stranger elsewhere cannot lock the real user out, and a school's shared address
    // is refused only after many failures across its logins.
    let (free, window) = (s.config.login_attempts, s.config.login_window);
    let keys = [format!("login:{login}@{addr}"), format!("addr:{addr}")];
    let wait = s.limiter.wait(&keys[0], free, window);
    let blocked = wait.is_some() || s.limiter.blocked(&keys[1], free * 20, window);
    let user_id = if blocked {
        None
    } else {
        auth::check_credentials(&s.db, &login, &f.password).await?
    };
    let Some(user_id) = user_id else {
        if !blocked {
            keys.iter().for_each(|k| s.limiter.fail(k, window));
        }
        tracing::info!(blocked, "login refused");
        let ctx = Ctx::anonymous(
            c.lang,
            c.csrf.as_deref().unwrap_or(""),
            crate::i18n::t(c.lang, "login.title"),
        );
        let msg = crate::i18n::t(
            c.lang,
            if blocked {
                "login.blocked"
            } else {
                "login.failed"
            },
        );
        let mut resp = render(&LoginPage {
            ctx,
            error: Some(msg),
            next: safe_next(f.next.as_deref()),
            login: f.login.clone(),
        })?;
        *resp.status_mut() = if blocked {
            axum::http::StatusCode::TOO_MANY_REQUESTS
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
        return Ok(resp);
    };
    s.limiter.clear(&keys[0]);
    let new = auth::create_session(&s.db, user_id, Utc::now()).await?;
    tracing::info!(user_id, "login");
    let mut resp = Redirect::to(&safe_next(f.next.as_deref())).into_response();
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
