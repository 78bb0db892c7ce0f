//! Préau's HTTP layer: the server-rendered pages (French first), the `/api/v1` JSON API,
//! sessions, CSRF, rate limiting and security headers. No SQL here: handlers call the use
//! cases of `preau-core`, which check scope and write the audit log.

pub mod agent;
pub mod api;
pub mod error;
pub mod export;
pub mod i18n;
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
}

impl AppState {
    pub fn new(db: Db, config: WebConfig) -> AppState {
        AppState {
            db,
            limiter: Arc::new(session::LoginLimiter::default()),
            uploads: Arc::new(session::Uploads::default()),
            agent_auth: Arc::new(agent::AgentAuthCache::default()),
            ingestions: Arc::new(tokio::sync::Semaphore::new(config.max_ingestions)),
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
    Router::new()
        .merge(pages::routes())
        .merge(agents)
        .nest("/api/v1", api::routes())
        .route("/healthz", get(healthz))
        .route("/static/preau.css", get(pages::stylesheet))
        .route("/static/preau.js", get(pages::script))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            session::authenticate,
        ))
        .layer(axum::middleware::from_fn(session::security_headers))
        .with_state(state)
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
