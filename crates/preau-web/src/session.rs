//! Who is calling: session cookies for the pages, bearer tokens for the API; CSRF checks
//! on every form; login rate limiting; security headers on every response.

use axum::extract::{FromRequest, FromRequestParts, Request, State};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE, COOKIE};
use axum::http::{HeaderMap, HeaderValue, StatusCode, request::Parts};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use preau_core::users::auth;
use preau_domain::{Lang, Principal};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::AppState;
use crate::error::{ApiError, PageError};

pub const SESSION_COOKIE: &str = "preau_session";
pub const CSRF_COOKIE: &str = "preau_csrf";
pub const LANG_COOKIE: &str = "preau_lang";

/// What the authentication layer learnt about the request, in its extensions.
#[derive(Clone)]
pub struct Caller {
    pub principal: Option<Principal>,
    /// The CSRF token forms must carry: the session's, or the anonymous cookie's.
    pub csrf: Option<String>,
    pub lang: Lang,
    /// True when the principal came from a bearer token (API), not a cookie.
    pub via_token: bool,
    /// The signed-in person's notifications not opened yet (pages only).
    pub unread: i64,
}

pub fn cookies(headers: &HeaderMap) -> HashMap<String, String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| {
            let (k, v) = kv.trim().split_once('=')?;
            Some((k.to_string(), v.to_string()))
        })
        .collect()
}

fn accept_language(headers: &HeaderMap) -> Option<Lang> {
    let v = headers.get("accept-language")?.to_str().ok()?;
    v.split(',')
        .filter_map(|part| part.split(';').next())
        .find_map(|tag| Lang::parse(tag.trim().split('-').next().unwrap_or("")))
}

/// Resolves the caller once per request; never fails (an anonymous caller is a caller).
pub async fn authenticate(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    // Who is asking: the connection's address, or, from a trusted reverse proxy, the
    // client it names (the last address of X-Forwarded-For that is not a proxy of ours).
    // From anyone else the forwarding headers are dropped, so nothing downstream believes
    // them.
    let peer = req
        .extensions()
        .get::<axum::extract::ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let client = match peer {
        Some(ip) if state.config.trusts(ip) => {
            let forwarded: Vec<std::net::IpAddr> = req
                .headers()
                .get_all("x-forwarded-for")
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(','))
                .map_while(|a| a.trim().parse().ok())
                .collect();
            forwarded
                .iter()
                .rev()
                .find(|a| !state.config.trusts(**a))
                .or(forwarded.first())
                .copied()
                .unwrap_or(ip)
        }
        other => {
            for h in ["x-forwarded-for", "x-forwarded-proto", "x-forwarded-host"] {
                req.headers_mut().remove(h);
            }
            other.unwrap_or(std::net::IpAddr::from([127, 0, 0, 1]))
        }
    };
    req.extensions_mut().insert(ClientAddr(client.to_string()));
    let jar = cookies(req.headers());
    let now = Utc::now();
    let mut caller = Caller {
        principal: None,
        csrf: jar.get(CSRF_COOKIE).cloned(),
        lang: Lang::Fr,
        via_token: false,
        unread: 0,
    };
    let bearer = req
        .headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|t| t.trim().to_string());
    if let Some(token) = bearer {
        match auth::principal_for_token(&state.db, &token, now).await {
            Ok(p) => {
                caller.principal = p;
                caller.via_token = true;
            }
            Err(e) => tracing::error!(error = %e, "token lookup failed"),
        }
    } else if let Some(sid) = jar.get(SESSION_COOKIE) {
        match auth::session(&state.db, sid, now).await {
            Ok(Some((p, csrf))) => {
                if !req.uri().path().starts_with("/static/") {
                    match preau_core::notifications::unread(&state.db, &p).await {
                        Ok(n) => caller.unread = n,
                        Err(e) => tracing::error!(error = %e, "notification count failed"),
                    }
                }
                caller.principal = Some(p);
                caller.csrf = Some(csrf);
            }
            Ok(None) => {}
            Err(e) => tracing::error!(error = %e, "session lookup failed"),
        }
    }
    // Language: `?lang=` (the footer switch, remembered in a cookie), then the cookie,
    // then the user's preference, then the browser's Accept-Language, then French.
    let query_lang = req.uri().query().and_then(|q| {
        q.split('&')
            .find_map(|kv| kv.strip_prefix("lang="))
            .and_then(Lang::parse)
    });
    caller.lang = query_lang
        .or_else(|| jar.get(LANG_COOKIE).and_then(|l| Lang::parse(l)))
        .or(caller.principal.as_ref().map(|p| p.lang))
        .or_else(|| accept_language(req.headers()))
        .unwrap_or_default();
    if let Some(p) = caller.principal.as_mut() {
        p.lang = caller.lang;
    }
    // Anonymous visitors get a CSRF cookie for the login form (double-submit).
    let new_csrf = if caller.csrf.is_none() {
        let t = preau_core::secrets::random_token();
        caller.csrf = Some(t.clone());
        Some(t)
    } else {
        None
    };
    req.extensions_mut().insert(caller.clone());
    let mut resp = next.run(req).await;
    if let Some(err) = resp.extensions().get::<PageError>().cloned() {
        resp = crate::error::render_error(&caller, &err);
    }
    if let Some(l) = query_lang {
        let cookie = cookie(
            LANG_COOKIE,
            l.code(),
            state.config.secure_cookies,
            Some(365 * 86400),
        );
        if let Ok(v) = HeaderValue::from_str(&cookie) {
            resp.headers_mut().append(axum::http::header::SET_COOKIE, v);
        }
    }
    if let Some(t) = new_csrf {
        let cookie = cookie(CSRF_COOKIE, &t, state.config.secure_cookies, None);
        if let Ok(v) = HeaderValue::from_str(&cookie) {
            resp.headers_mut().append(axum::http::header::SET_COOKIE, v);
        }
    }
    resp
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Lax, Path=/, Secure unless turned off.
pub fn cookie(name: &str, value: &str, secure: bool, max_age: Option<i64>) -> String {
    let mut c = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax");
    if secure {
        c.push_str("; Secure");
    }
    if let Some(age) = max_age {
        c.push_str(&format!("; Max-Age={age}"));
    }
    c
}

/// When Préau serves HTTPS itself, browsers are told to keep to it for a year.
pub async fn strict_transport(State(s): State<AppState>, req: Request, next: Next) -> Response {
    let mut resp = next.run(req).await;
    if s.config.hsts {
        resp.headers_mut().insert(
            "strict-transport-security",
            HeaderValue::from_static("max-age=31536000"),
        );
    }
    resp
}

pub async fn security_headers(req: Request, next: Next) -> Response {
    let is_static = req.uri().path().starts_with("/static/");
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    let set = |h: &mut HeaderMap, k: &'static str, v: &'static str| {
        h.insert(k, HeaderValue::from_static(v));
    };
    // A response that set its own, stricter policy (an uploaded file's sandbox) keeps it.
    if !h.contains_key("content-security-policy") {
        set(
            h,
            "content-security-policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'",
        );
    }
    set(h, "x-content-type-options", "nosniff");
    set(h, "x-frame-options", "DENY");
    set(h, "referrer-policy", "same-origin");
    set(
        h,
        "permissions-policy",
        "camera=(), microphone=(), geolocation=()",
    );
    set(h, "cross-origin-opener-policy", "same-origin");
    if !is_static && !h.contains_key("cache-control") {
        set(h, "cache-control", "no-store");
    }
    resp
}

fn caller_of(parts: &Parts) -> Caller {
    parts.extensions.get::<Caller>().cloned().unwrap_or(Caller {
        principal: None,
        csrf: None,
        lang: Lang::Fr,
        via_token: false,
        unread: 0,
    })
}

/// A logged-in user on a page; anonymous visitors are sent to the login page.
pub struct Auth {
    pub p: Principal,
    pub csrf: String,
    pub lang: Lang,
    pub unread: i64,
}

impl<S: Send + Sync> FromRequestParts<S> for Auth {
    type Rejection = Response;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let c = caller_of(parts);
        match (c.principal, c.via_token) {
            (Some(p), false) => Ok(Auth {
                p,
                csrf: c.csrf.unwrap_or_default(),
                lang: c.lang,
                unread: c.unread,
            }),
            _ => {
                let next = parts
                    .uri
                    .path_and_query()
                    .map(|p| p.as_str())
                    .unwrap_or("/");
                let target = format!("/login?next={}", url_encode(next));
                Err(Redirect::to(&target).into_response())
            }
        }
    }
}

/// The caller as the page layer sees it, logged in or not (login page, errors).
pub struct MaybeAuth(pub Caller);

impl<S: Send + Sync> FromRequestParts<S> for MaybeAuth {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(MaybeAuth(caller_of(parts)))
    }
}

/// An API caller authenticated by a bearer token; anyone else gets a 401 problem.
pub struct ApiAuth(pub Principal);

impl<S: Send + Sync> FromRequestParts<S> for ApiAuth {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        match caller_of(parts) {
            Caller {
                principal: Some(p),
                via_token: true,
                ..
            } => Ok(ApiAuth(p)),
            _ => Err(ApiError::unauthenticated()),
        }
    }
}

#[derive(Deserialize)]
struct CsrfField {
    #[serde(default)]
    csrf: String,
}

/// A form body whose `csrf` field matched the caller's token; anything else is refused
/// before the handler runs.
pub struct CsrfForm<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for CsrfForm<T> {
    type Rejection = PageError;
    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let expected = req
            .extensions()
            .get::<Caller>()
            .and_then(|c| c.csrf.clone());
        let is_form = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
        if !is_form {
            return Err(PageError::bad_request("formulaire attendu / form expected"));
        }
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|_| PageError::bad_request("corps illisible / unreadable body"))?;
        let field: CsrfField =
            serde_urlencoded::from_bytes(&bytes).map_err(|_| PageError::csrf())?;
        match expected {
            Some(t) if !t.is_empty() && constant_time_eq(t.as_bytes(), field.csrf.as_bytes()) => {}
            _ => return Err(PageError::csrf()),
        }
        serde_urlencoded::from_bytes(&bytes)
            .map(CsrfForm)
            .map_err(|e| PageError::bad_request(&e.to_string()))
    }
}

pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

pub fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Inventory agents' failed authentications per key (a login at an address, an
/// address) in a window that starts at the first failure, kept by each node in memory:
/// agents post hundreds of times a second, and a wrong agent secret is the
/// collectivité's own configuration to fix. People's sign-ins are counted in the
/// database (`preau_core::signin::throttle`).
#[derive(Default)]
pub struct LoginLimiter {
    failures: Mutex<HashMap<String, Failures>>,
}

/// How many failures, since when, and the last one.
struct Failures {
    count: u32,
    since: Instant,
    last: Instant,
}

impl LoginLimiter {
    /// `max` failures or more in the window: refused until it ends.
    pub fn blocked(&self, key: &str, max: u32, window: Duration) -> bool {
        let map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        map.get(key)
            .is_some_and(|f| f.count >= max && f.since.elapsed() < window)
    }

    pub fn fail(&self, key: &str, window: Duration) {
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() > 100_000 {
            map.retain(|_, f| f.since.elapsed() < window);
        }
        let now = Instant::now();
        let f = map.entry(key.to_string()).or_insert(Failures {
            count: 0,
            since: now,
            last: now,
        });
        if f.since.elapsed() >= window {
            f.count = 0;
            f.since = now;
        }
        f.count += 1;
        f.last = now;
    }

    pub fn clear(&self, key: &str) {
        self.failures
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(key);
    }
}

/// The client's address as `authenticate` found it (see there).
#[derive(Clone)]
pub struct ClientAddr(pub String);

/// The client address, when the server was started with connection info.
pub fn client_addr(parts_ext: &axum::http::Extensions) -> String {
    parts_ext
        .get::<ClientAddr>()
        .map(|c| c.0.clone())
        .or_else(|| {
            parts_ext
                .get::<axum::extract::ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip().to_string())
        })
        .unwrap_or_else(|| "local".into())
}

pub fn too_many() -> Response {
    (StatusCode::TOO_MANY_REQUESTS, "Trop de tentatives, réessayez dans 15 minutes. / Too many attempts, try again in 15 minutes.").into_response()
}

/// One part of a multipart form.
pub struct Part {
    pub name: String,
    pub file_name: Option<String>,
    pub bytes: axum::body::Bytes,
}

/// A multipart form (a file upload) whose `csrf` part matches the session's token. The
/// route's body limit bounds the whole upload.
pub struct CsrfMultipart {
    pub parts: Vec<Part>,
}

impl CsrfMultipart {
    /// The text of the part `name`, trimmed; `None` when absent or empty.
    pub fn text(&self, name: &str) -> Option<String> {
        self.parts
            .iter()
            .find(|p| p.name == name)
            .map(|p| String::from_utf8_lossy(&p.bytes).trim().to_string())
            .filter(|s| !s.is_empty())
    }

    /// The file sent as `name`, if one was chosen.
    pub fn file(&self, name: &str) -> Option<&Part> {
        self.parts
            .iter()
            .find(|p| p.name == name && p.file_name.as_deref().is_some_and(|f| !f.is_empty()))
    }
}

impl<S: Send + Sync> FromRequest<S> for CsrfMultipart {
    type Rejection = PageError;
    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let expected = req
            .extensions()
            .get::<Caller>()
            .and_then(|c| c.csrf.clone());
        let mut mp = axum::extract::Multipart::from_request(req, state)
            .await
            .map_err(|_| PageError::bad_request("formulaire attendu / form expected"))?;
        let mut parts = Vec::new();
        loop {
            let field = match mp.next_field().await {
                Ok(Some(f)) => f,
                Ok(None) => break,
                Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                    return Err(PageError::too_large());
                }
                Err(_) => return Err(PageError::bad_request("corps illisible / unreadable body")),
            };
            let name = field.name().unwrap_or("").to_string();
            let file_name = field.file_name().map(str::to_string);
            let bytes = field.bytes().await.map_err(|e| {
                if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    PageError::too_large()
                } else {
                    PageError::bad_request("corps illisible / unreadable body")
                }
            })?;
            parts.push(Part {
                name,
                file_name,
                bytes,
            });
        }
        let form = CsrfMultipart { parts };
        let sent = form.text("csrf").unwrap_or_default();
        match expected {
            Some(t) if !t.is_empty() && constant_time_eq(t.as_bytes(), sent.as_bytes()) => Ok(form),
            _ => Err(PageError::csrf()),
        }
    }
}

/// Files uploaded for a preview, kept in memory until the user confirms (or for an hour):
/// the confirmation applies exactly the file that was previewed, without sending it again.
#[derive(Default)]
pub struct Uploads {
    inner: Mutex<HashMap<String, Upload>>,
}

struct Upload {
    user_id: i64,
    kind: &'static str,
    bytes: axum::body::Bytes,
    meta: String,
    at: Instant,
}

const UPLOADS_KEPT: usize = 32;

/// How long a previewed file waits for its confirmation: an ONDE export carries every
/// pupil's birth date and INE, so it is dropped from memory after 15 minutes; the other
/// imports after an hour.
fn ttl(kind: &str) -> Duration {
    match kind {
        "onde" => Duration::from_secs(15 * 60),
        _ => Duration::from_secs(3600),
    }
}

impl Uploads {
    /// Keeps `bytes` for `user_id`; returns the key the confirmation form sends back. The
    /// file leaves memory when its time is up, confirmed or not.
    pub fn keep(
        self: &Arc<Self>,
        user_id: i64,
        kind: &'static str,
        bytes: axum::body::Bytes,
        meta: String,
    ) -> String {
        let key = preau_core::secrets::random_token();
        let store = Arc::downgrade(self);
        let forget = key.clone();
        tokio::spawn(async move {
            tokio::time::sleep(ttl(kind)).await;
            if let Some(store) = store.upgrade() {
                store
                    .inner
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .remove(&forget);
            }
        });
        let mut m = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        m.retain(|_, u| u.at.elapsed() < ttl(u.kind));
        while m.len() >= UPLOADS_KEPT {
            let Some(oldest) = m.iter().min_by_key(|(_, u)| u.at).map(|(k, _)| k.clone()) else {
                break;
            };
            m.remove(&oldest);
        }
        m.insert(
            key.clone(),
            Upload {
                user_id,
                kind,
                bytes,
                meta,
                at: Instant::now(),
            },
        );
        key
    }

    /// Takes back what `user_id` kept under `key` for `kind` (once).
    pub fn take(
        &self,
        user_id: i64,
        kind: &'static str,
        key: &str,
    ) -> Option<(axum::body::Bytes, String)> {
        let mut m = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        match m.get(key) {
            Some(u) if u.user_id == user_id && u.kind == kind && u.at.elapsed() < ttl(kind) => {
                m.remove(key).map(|u| (u.bytes, u.meta))
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_onde_export_waits_fifteen_minutes_at_most() {
        let store = Arc::new(Uploads::default());
        let key = store.keep(7, "onde", axum::body::Bytes::from_static(b"x"), "m".into());
        assert_eq!(ttl("onde"), Duration::from_secs(900));
        assert!(ttl("schools") > ttl("onde"));
        // Sixteen minutes later it is refused (and its removal was scheduled at keep).
        store.inner.lock().unwrap().get_mut(&key).unwrap().at -= Duration::from_secs(16 * 60);
        assert!(store.take(7, "onde", &key).is_none());
        // Within its time: once, by its user and its kind only.
        let key = store.keep(7, "onde", axum::body::Bytes::from_static(b"y"), "m".into());
        assert!(store.take(8, "onde", &key).is_none());
        assert!(store.take(7, "devices", &key).is_none());
        assert_eq!(
            store.take(7, "onde", &key).map(|(b, _)| b.to_vec()),
            Some(b"y".to_vec())
        );
        assert!(store.take(7, "onde", &key).is_none());
    }
}
