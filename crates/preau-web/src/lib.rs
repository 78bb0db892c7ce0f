//! Préau's HTTP layer: the server-rendered pages (French first), the `/api/v1` JSON API,
//! sessions, CSRF, rate limiting and security headers. No SQL here: handlers call the use
//! cases of `preau-core`, which check scope and write the audit log.

pub mod agent;
pub mod api;
mod compress;
pub mod error;
pub mod export;
pub mod i18n;
pub mod metrics;
pub mod pages;
pub mod session;

use axum::Router;
use axum::routing::get;
use preau_core::Db;
use std::sync::Arc;

/// What the web layer needs to know about its deployment.
#[derive(Clone, Debug)]
pub struct WebConfig {
    /// Mark cookies `Secure` (the default). Only a plain-HTTP test or LAN set-up turns it off.
    pub secure_cookies: bool,
    /// Failed logins from one address for one login before each next try waits (2 s, 4 s,
    /// 8 s…); ×20 failures across logins refuse the address until `login_window` ends.
    pub login_attempts: u32,
    pub login_window: std::time::Duration,
    /// The paths inventory agents post to.
    pub agent_paths: Vec<String>,
    /// The address users reach Préau at (`https://preau.ville.fr`), for links that leave
    /// the browser: QR labels. Without it, the request's own host is used.
    pub public_url: Option<String>,
    /// Inventories read at once (inflated, parsed, stored); others wait `ingestion_wait`,
    /// then are answered 503 with `Retry-After`, which agents honour.
    pub max_ingestions: usize,
    pub ingestion_wait: std::time::Duration,
    /// The bearer token `/metrics` asks for; without it, `/metrics` is off.
    pub metrics_token: Option<String>,
    /// Reverse proxies (addresses, or IPv4 ranges) whose `X-Forwarded-For` and
    /// `X-Forwarded-Proto` are believed; from anyone else they are dropped.
    pub trusted_proxies: Vec<TrustedProxy>,
    /// Préau serves HTTPS itself: browsers are told to keep to it (HSTS).
    pub hsts: bool,
}

/// A reverse proxy Préau believes: one address, or an IPv4 range.
#[derive(Debug, Clone)]
pub enum TrustedProxy {
    Ip(std::net::IpAddr),
    Range(preau_domain::device::Ipv4Range),
}

impl TrustedProxy {
    /// `192.0.2.10`, `::1` or `10.0.0.0/8`; the error names the value.
    pub fn parse(v: &str) -> Result<TrustedProxy, String> {
        let v = v.trim();
        if let Ok(ip) = v.parse::<std::net::IpAddr>() {
            return Ok(TrustedProxy::Ip(ip));
        }
        match preau_domain::device::ip_ranges("trusted_proxy", Some(v)) {
            Ok(r) if r.len() == 1 => Ok(TrustedProxy::Range(r[0])),
            _ => Err(format!(
                "--trusted-proxy: not an address or an IPv4 range: {v:?}"
            )),
        }
    }

    fn holds(&self, ip: std::net::IpAddr) -> bool {
        match self {
            TrustedProxy::Ip(a) => *a == ip,
            TrustedProxy::Range(r) => r.contains(&ip.to_string()),
        }
    }
}

impl WebConfig {
    pub fn trusts(&self, ip: std::net::IpAddr) -> bool {
        self.trusted_proxies.iter().any(|t| t.holds(ip))
    }
}

/// Where agents are usually told to send: OCS Inventory's path, GLPI's and its plugins'.
pub const DEFAULT_AGENT_PATHS: &[&str] = &[
    "/ocsinventory",
    "/inventory",
    "/front/inventory.php",
    "/marketplace/glpiinventory/",
    "/plugins/fusioninventory/",
    "/plugins/glpiinventory/",
];

impl Default for WebConfig {
    fn default() -> Self {
        WebConfig {
            secure_cookies: true,
            login_attempts: 5,
            login_window: std::time::Duration::from_secs(15 * 60),
            agent_paths: DEFAULT_AGENT_PATHS.iter().map(|p| p.to_string()).collect(),
            public_url: None,
            max_ingestions: std::thread::available_parallelism()
                .map_or(4, |n| n.get() * 2)
                .max(4),
            ingestion_wait: std::time::Duration::from_secs(10),
            metrics_token: None,
            trusted_proxies: Vec::new(),
            hsts: false,
        }
    }
}

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub config: Arc<WebConfig>,
    pub limiter: Arc<session::LoginLimiter>,
    pub uploads: Arc<session::Uploads>,
    pub agent_auth: Arc<agent::AgentAuthCache>,
    /// One permit per inventory being read (`WebConfig::max_ingestions`).
    pub ingestions: Arc<tokio::sync::Semaphore>,
    pub metrics: Arc<metrics::Metrics>,
}

impl AppState {
    pub fn new(db: Db, config: WebConfig) -> AppState {
        AppState {
            db,
            limiter: Arc::new(session::LoginLimiter::default()),
            uploads: Arc::new(session::Uploads::default()),
            agent_auth: Arc::new(agent::AgentAuthCache::default()),
            ingestions: Arc::new(tokio::sync::Semaphore::new(config.max_ingestions)),
            metrics: Arc::new(metrics::Metrics::default()),
            config: Arc::new(config),
        }
    }
}

/// The whole application: pages, API, static assets, health check.
pub fn router(state: AppState) -> Router {
    let mut agents = Router::new();
    for path in &state.config.agent_paths {
        agents = agents.route(path, axum::routing::post(agent::endpoint));
    }
    let agents = agents.layer(axum::extract::DefaultBodyLimit::max(agent::MAX_BODY));
    // Pages, the API and the static files are gzipped for clients that take it; the
    // agents' endpoint answers each agent in its own protocol's encoding.
    let gzip = || axum::middleware::from_fn(compress::gzip);
    Router::new()
        .merge(
            pages::routes()
                .layer(axum::middleware::from_fn(page_rejections))
                .layer(gzip()),
        )
        .merge(agents)
        .nest(
            "/api/v1",
            api::routes()
                .layer(axum::middleware::from_fn(api_rejections))
                .layer(gzip()),
        )
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics::endpoint))
        .route("/static/preau.css", get(pages::stylesheet).layer(gzip()))
        .route("/static/preau.js", get(pages::script).layer(gzip()))
        .fallback(unknown_address)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            session::authenticate,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            session::strict_transport,
        ))
        .layer(axum::middleware::from_fn(session::security_headers))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::record,
        ))
        .with_state(state)
}

/// An address no route answers: the French error page, or a problem for the API.
async fn unknown_address(uri: axum::http::Uri) -> axum::response::Response {
    use axum::response::IntoResponse;
    if uri.path().starts_with("/api/") {
        error::ApiError::from(preau_core::AppError::NotFound).into_response()
    } else {
        error::PageError::not_found().into_response()
    }
}

/// What the framework answers by itself in plain English text — a malformed id in the
/// address (`/tickets/abc`), a query string or body it cannot read, a method the route
/// does not take — becomes the app's own answer: the error page in the person's language
/// (a malformed id is a page that does not exist: 404), or a problem for the API.
async fn page_rejections(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    plain_rejection(next.run(req).await, false).await
}

async fn api_rejections(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    plain_rejection(next.run(req).await, true).await
}

async fn plain_rejection(resp: axum::response::Response, api: bool) -> axum::response::Response {
    use axum::response::IntoResponse;
    let plain = resp
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_none_or(|v| v.starts_with("text/plain"));
    let status = resp.status();
    if !status.is_client_error()
        || !plain
        || resp.extensions().get::<error::PageError>().is_some()
        || status == axum::http::StatusCode::UNAUTHORIZED
        || status == axum::http::StatusCode::TOO_MANY_REQUESTS
        || status == axum::http::StatusCode::PAYLOAD_TOO_LARGE
    {
        return resp;
    }
    let bytes = axum::body::to_bytes(resp.into_body(), 4096)
        .await
        .unwrap_or_default();
    let text = String::from_utf8_lossy(&bytes);
    let malformed_path = text.starts_with("Invalid URL");
    let status = if malformed_path {
        axum::http::StatusCode::NOT_FOUND
    } else {
        status
    };
    if api {
        let mut e = error::ApiError::bad_request(text.trim().to_string());
        e.status = status;
        if malformed_path {
            e = error::ApiError::from(preau_core::AppError::NotFound);
        }
        e.into_response()
    } else {
        error::PageError {
            status,
            key: if status == axum::http::StatusCode::NOT_FOUND {
                "error.not_found"
            } else {
                "error.bad_request"
            },
            detail: None,
        }
        .into_response()
    }
}

async fn healthz(
    axum::extract::State(s): axum::extract::State<AppState>,
) -> (axum::http::StatusCode, &'static str) {
    if s.db.ping().await {
        (axum::http::StatusCode::OK, "ok")
    } else {
        (
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            "database unavailable",
        )
    }
}
