//! The inventory agents' endpoint: OCS Inventory agent, FusionInventory agent and GLPI
//! Agent, on their real wire protocols, at `/ocsinventory` and the other paths agents are
//! commonly given (see `WebConfig::agent_paths`).
//!
//! Agents authenticate with their collectivité's agent credentials over HTTP Basic. The
//! Perl agents send them only after a `401` with `WWW-Authenticate: Basic realm="preau"`
//! (and the OCS agent only for the realm it was given), so every unauthenticated post gets
//! exactly that challenge and nothing is read or stored. An inventory is answered `200`
//! only once it is committed.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use preau_core::inventory::agents;
use preau_core::inventory::ingest::{self, StoreError};
use preau_inventory::InventoryError;
use preau_inventory::body::{self, Compression};
use preau_inventory::protocol::{self, Format, Request};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::AppState;

/// Largest body accepted off the wire (compressed).
pub const MAX_BODY: usize = 16 * 1024 * 1024;
/// Largest inventory once inflated: GLPI's biggest samples are a few megabytes. With
/// `WebConfig::max_ingestions` it bounds what inventories being read hold in memory.
pub const MAX_INFLATED: usize = 16 * 1024 * 1024;
/// How often agents are asked to come back, in hours.
pub const PROLOG_FREQ: u32 = 24;

/// Successful agent sign-ins, remembered for a few minutes: a fleet posting hundreds of
/// inventories must not pay for an argon2 check each time. Keyed by login and a SHA-256 of
/// the secret (the secret itself is never kept), with the credentials' rotation stamp: a
/// remembered sign-in counts only while the database still has that stamp.
#[derive(Default)]
pub struct AgentAuthCache {
    inner: Mutex<HashMap<CacheKey, Remembered>>,
}

/// The collectivité, the credentials' rotation stamp, and when the sign-in was checked.
type Remembered = (i64, DateTime<Utc>, Instant);

/// A login and the SHA-256 of the secret it was checked with.
type CacheKey = (String, [u8; 32]);

const AUTH_TTL: Duration = Duration::from_secs(300);

impl AgentAuthCache {
    fn key(login: &str, secret: &str) -> CacheKey {
        (login.to_string(), Sha256::digest(secret.as_bytes()).into())
    }

    fn get(&self, login: &str, secret: &str) -> Option<(i64, DateTime<Utc>)> {
        let m = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        m.get(&Self::key(login, secret))
            .filter(|(_, _, at)| at.elapsed() < AUTH_TTL)
            .map(|(cid, stamp, _)| (*cid, *stamp))
    }

    fn put(&self, login: &str, secret: &str, cid: i64, stamp: DateTime<Utc>) {
        let mut m = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if m.len() > 1000 {
            m.retain(|_, (_, _, at)| at.elapsed() < AUTH_TTL);
        }
        m.insert(Self::key(login, secret), (cid, stamp, Instant::now()));
    }

    fn forget(&self, login: &str, secret: &str) {
        self.inner
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&Self::key(login, secret));
    }

    pub fn clear(&self) {
        self.inner.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }
}

fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, b64) = v.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64_decode(b64.trim())?;
    let text = String::from_utf8(decoded).ok()?;
    let (login, secret) = text.split_once(':')?;
    Some((login.to_string(), secret.to_string()))
}

/// Basic credentials' base64 (padded or not; the URL-safe alphabet some clients use
/// too), at most 1 KB of it.
fn base64_decode(s: &str) -> Option<Vec<u8>> {
    use base64::Engine;
    use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
    if s.len() > 1024 {
        return None;
    }
    let lenient =
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent);
    GeneralPurpose::new(&base64::alphabet::STANDARD, lenient)
        .decode(s)
        .or_else(|_| GeneralPurpose::new(&base64::alphabet::URL_SAFE, lenient).decode(s))
        .ok()
}

fn challenge() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        [(header::WWW_AUTHENTICATE, "Basic realm=\"preau\"")],
        "authentication required\n",
    )
        .into_response()
}

/// Which agent is talking, from its headers: it decides the reply's content type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Agent {
    Ocs,
    Fusion,
    Glpi,
    Other,
}

impl Agent {
    fn of(headers: &HeaderMap) -> Agent {
        let ua = headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if headers.contains_key("glpi-agent-id") || ua.starts_with("GLPI-Agent") {
            Agent::Glpi
        } else if ua.starts_with("FusionInventory") {
            Agent::Fusion
        } else if ua.starts_with("OCS-NG") || ua.contains("OCS") {
            Agent::Ocs
        } else {
            Agent::Other
        }
    }

    /// The name written in a device's history.
    fn source(self) -> &'static str {
        match self {
            Agent::Ocs => "OCS Inventory agent",
            Agent::Fusion => "FusionInventory agent",
            Agent::Glpi => "GLPI Agent",
            Agent::Other => "agent",
        }
    }
}

fn reply(
    agent: Agent,
    how: Compression,
    json: bool,
    status: StatusCode,
    body: Vec<u8>,
) -> Response {
    let content_type = match (how, json, agent) {
        (Compression::Plain, true, _) => "application/json",
        (Compression::Plain, false, _) => "application/xml",
        (Compression::Gzip, _, Agent::Glpi) => "application/x-compress-gzip",
        (Compression::Deflate, _, Agent::Glpi) => "application/x-compress-deflate",
        (_, _, Agent::Glpi) => "application/x-compress-zlib",
        // What OCS Inventory NG answers, and what both Perl agents parse.
        _ => "application/x-compressed",
    };
    let mut resp = (status, body::deflate(&body, how)).into_response();
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    resp
}

/// A refusal the agent logs: JSON for GLPI Agent's native protocol, plain text otherwise.
fn refuse(agent: Agent, json: bool, status: StatusCode, e: &InventoryError) -> Response {
    tracing::info!(agent = agent.source(), error = %e, "inventory refused");
    let message = e.to_string();
    if json || agent == Agent::Glpi {
        let mut r = (status, protocol::error_reply(&message)).into_response();
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        r
    } else {
        (status, format!("{message}\n")).into_response()
    }
}

/// Too many inventories are being read: the agent keeps its own and comes back.
fn busy() -> Response {
    let mut r = StatusCode::SERVICE_UNAVAILABLE.into_response();
    r.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("120"));
    r
}

/// The database could not take the inventory: the agent keeps it and comes back.
fn unavailable() -> Response {
    let mut r = StatusCode::SERVICE_UNAVAILABLE.into_response();
    r.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("60"));
    r
}

/// Wrong agent secrets tolerated per (address, login), and per address, in the window.
const AGENT_FAILURES: u32 = 10;
const AGENT_FAILURES_PER_ADDRESS: u32 = 50;
const AGENT_WINDOW: std::time::Duration = std::time::Duration::from_secs(15 * 60);

/// Too many wrong secrets: the agent retries later (`Retry-After`), the secret is not
/// even checked.
fn throttled() -> Response {
    let mut r = (
        StatusCode::TOO_MANY_REQUESTS,
        "Trop de tentatives, réessayez dans 15 minutes. / Too many attempts, try again in 15 minutes.\n",
    )
        .into_response();
    r.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("900"));
    r
}

async fn collectivite_of(
    s: &AppState,
    headers: &HeaderMap,
    addr: &str,
) -> Result<Option<i64>, Response> {
    let Some((login, secret)) = basic_credentials(headers) else {
        return Ok(None);
    };
    if let Some((cid, stamp)) = s.agent_auth.get(&login, &secret) {
        match agents::stamp(&s.db, &login).await {
            Ok(Some(now)) if now == stamp => return Ok(Some(cid)),
            Ok(_) => s.agent_auth.forget(&login, &secret),
            Err(e) => {
                tracing::error!(error = %e, "agent credentials check failed");
                return Err(StatusCode::SERVICE_UNAVAILABLE.into_response());
            }
        }
    }
    let pair = format!("agent:{addr}:{login}");
    let address = format!("agent:{addr}");
    if s.limiter.blocked(&pair, AGENT_FAILURES, AGENT_WINDOW)
        || s.limiter
            .blocked(&address, AGENT_FAILURES_PER_ADDRESS, AGENT_WINDOW)
    {
        return Err(throttled());
    }
    match agents::check(&s.db, &login, &secret).await {
        Ok(Some((cid, stamp))) => {
            s.limiter.clear(&pair);
            s.agent_auth.put(&login, &secret, cid, stamp);
            Ok(Some(cid))
        }
        Ok(None) => {
            tracing::info!("agent credentials refused");
            s.limiter.fail(&pair, AGENT_WINDOW);
            s.limiter.fail(&address, AGENT_WINDOW);
            Ok(None)
        }
        Err(e) => {
            tracing::error!(error = %e, "agent credentials check failed");
            Err(StatusCode::SERVICE_UNAVAILABLE.into_response())
        }
    }
}

/// `POST /ocsinventory` (and the other agent paths).
pub async fn endpoint(
    State(s): State<AppState>,
    ext: axum::http::Extensions,
    headers: HeaderMap,
    raw: Bytes,
) -> Response {
    let addr = crate::session::client_addr(&ext);
    match collectivite_of(&s, &headers, &addr).await {
        Err(r) => r,
        Ok(None) => challenge(),
        Ok(Some(cid)) => handle(&s, cid, &headers, &raw).await,
    }
}

async fn handle(s: &AppState, cid: i64, headers: &HeaderMap, raw: &[u8]) -> Response {
    let agent = Agent::of(headers);
    // Inventories are read a few at a time; the others come back later.
    let wait = s.config.ingestion_wait;
    let Ok(Ok(_permit)) = tokio::time::timeout(wait, s.ingestions.acquire()).await else {
        tracing::info!(
            agent = agent.source(),
            "inventory deferred: too many at once"
        );
        return busy();
    };
    // Raw deflate has no signature: only a header saying so (`Content-Encoding: deflate`,
    // or GLPI Agent's `application/x-compress-deflate`) lets it be tried.
    let says = |h| headers.get(h).and_then(|v| v.to_str().ok()).unwrap_or("");
    let encoding = (says(header::CONTENT_ENCODING).eq_ignore_ascii_case("deflate")
        || says(header::CONTENT_TYPE).contains("deflate"))
    .then_some("deflate");
    let (plain, how) = match body::inflate(raw, encoding, MAX_INFLATED) {
        Ok(x) => x,
        Err(e @ (InventoryError::TooLarge(_) | InventoryError::TooManyNodes(_))) => {
            return refuse(agent, false, StatusCode::PAYLOAD_TOO_LARGE, &e);
        }
        Err(e) => return refuse(agent, false, StatusCode::BAD_REQUEST, &e),
    };
    let (request, format) = match protocol::parse_lazy(&plain) {
        Ok(x) => x,
        Err(e @ (InventoryError::TooManyNodes(_) | InventoryError::TooDeep(_))) => {
            let json = plain.trim_ascii_start().starts_with(b"{");
            return refuse(agent, json, StatusCode::PAYLOAD_TOO_LARGE, &e);
        }
        Err(e) => {
            let json = plain.trim_ascii_start().starts_with(b"{");
            return refuse(agent, json, StatusCode::BAD_REQUEST, &e);
        }
    };
    let json = format == Format::Json;
    let xml_encoding = match &format {
        Format::Xml { encoding } => encoding.clone(),
        Format::Json => "utf-8".into(),
    };
    match request {
        Request::Prolog { .. } if agent == Agent::Glpi => reply(
            agent,
            how,
            true,
            StatusCode::OK,
            protocol::ok_reply(PROLOG_FREQ),
        ),
        Request::Prolog { .. } => reply(
            agent,
            how,
            false,
            StatusCode::OK,
            protocol::prolog_reply(&xml_encoding, PROLOG_FREQ),
        ),
        Request::Contact { .. } => reply(
            agent,
            how,
            true,
            StatusCode::OK,
            protocol::contact_reply(PROLOG_FREQ),
        ),
        Request::Other { kind } => {
            tracing::debug!(kind, "agent request ignored");
            let body = if json {
                protocol::ok_reply(PROLOG_FREQ)
            } else {
                protocol::other_reply(&xml_encoding)
            };
            reply(agent, how, json, StatusCode::OK, body)
        }
        Request::Network(list) => {
            match ingest::store_network(&s.db, cid, agent.source(), &list, Utc::now()).await {
                Ok(()) => {
                    tracing::info!(
                        devices = list.len(),
                        agent = agent.source(),
                        "network inventory stored"
                    );
                    reply(
                        agent,
                        how,
                        false,
                        StatusCode::OK,
                        protocol::inventory_reply(&xml_encoding, None),
                    )
                }
                Err(e) => {
                    tracing::error!(error = %e, "network inventory not stored");
                    unavailable()
                }
            }
        }
        Request::Inventory(inv) => {
            let started = Instant::now();
            match ingest::store(&s.db, cid, agent.source(), *inv, Utc::now()).await {
                Ok(outcome) => {
                    tracing::info!(
                        device = outcome.device_id,
                        created = outcome.created,
                        changed = outcome.changed.len(),
                        ms = started.elapsed().as_millis() as u64,
                        agent = agent.source(),
                        "inventory stored"
                    );
                    let body = if json {
                        protocol::ok_reply(PROLOG_FREQ)
                    } else {
                        protocol::inventory_reply(&xml_encoding, outcome.set_tag.as_deref())
                    };
                    reply(agent, how, json, StatusCode::OK, body)
                }
                Err(StoreError::Invalid(e)) => refuse(agent, false, StatusCode::BAD_REQUEST, &e),
                Err(StoreError::Database(e)) => {
                    tracing::error!(error = %e, "inventory not stored");
                    unavailable()
                }
            }
        }
    }
}
