//! Probes: an address the server checks for a school every few minutes — a TCP port that
//! must accept a connection, or an HTTP address that must answer — for schools whose link
//! should be watched even when no agent reports (or whose agents sleep between lessons).
//! A probed school is judged by its probe alone (`preau_domain::connectivity::probe_status`).
//!
//! Each check is bounded: [`TIMEOUT`] for the connection and the answer, the first line of
//! the answer only (at most [`MAX_ANSWER`] bytes), [`AT_ONCE`] checks at a time.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use preau_domain::Principal;
use preau_domain::connectivity::Probe;
use serde::Serialize;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::audit::{self, Actor, Entry};
use crate::db::{Db, Tx};
use crate::error::{AppError, AppResult};
use crate::{with_db, with_tx};

/// How long a check waits for the connection, then for the answer.
pub const TIMEOUT: Duration = Duration::from_secs(5);
/// Checks run at once.
pub const AT_ONCE: usize = 256;
/// What is read of an HTTP answer: its status line.
pub const MAX_ANSWER: usize = 1024;

/// Why a check failed, as stored (the page words it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// The name does not resolve.
    Name,
    /// The port refused the connection (the machine answered).
    Refused,
    /// Nothing answered in time.
    Timeout,
    /// Something answered that is not HTTP.
    NotHttp,
    /// Any other network error (no route…).
    Unreachable,
}

impl Failure {
    pub fn code(self) -> &'static str {
        match self {
            Failure::Name => "name",
            Failure::Refused => "refused",
            Failure::Timeout => "timeout",
            Failure::NotHttp => "not_http",
            Failure::Unreachable => "unreachable",
        }
    }
}

/// Checks one probe: `Ok` when the port accepts a connection (TCP) or when an HTTP status
/// line comes back, whatever the status (the link works even if the page is an error).
pub async fn check(probe: &Probe, timeout: Duration) -> Result<(), Failure> {
    let (host, port) = probe.address();
    let addrs: Vec<std::net::SocketAddr> =
        match tokio::time::timeout(timeout, tokio::net::lookup_host((host, port))).await {
            Err(_) => return Err(Failure::Timeout),
            Ok(Err(_)) => return Err(Failure::Name),
            Ok(Ok(a)) => a.collect(),
        };
    let Some(addr) = addrs.first() else {
        return Err(Failure::Name);
    };
    let mut stream = match tokio::time::timeout(timeout, tokio::net::TcpStream::connect(addr)).await
    {
        Err(_) => return Err(Failure::Timeout),
        Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
            return Err(Failure::Refused);
        }
        Ok(Err(_)) => return Err(Failure::Unreachable),
        Ok(Ok(s)) => s,
    };
    let Probe::Http { path, .. } = probe else {
        return Ok(());
    };
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {}\r\nUser-Agent: Preau-sonde\r\nConnection: close\r\n\r\n",
        if port == 80 {
            host.to_string()
        } else {
            format!("{host}:{port}")
        }
    );
    let answer = async {
        stream.write_all(request.as_bytes()).await?;
        let mut buf = vec![0u8; MAX_ANSWER];
        let mut len = 0;
        while len < buf.len() && !buf[..len].contains(&b'\n') {
            let n = stream.read(&mut buf[len..]).await?;
            if n == 0 {
                break;
            }
            len += n;
        }
        buf.truncate(len);
        Ok::<_, std::io::Error>(buf)
    };
    match tokio::time::timeout(timeout, answer).await {
        Err(_) => Err(Failure::Timeout),
        Ok(Err(_)) => Err(Failure::Unreachable),
        Ok(Ok(buf)) => {
            let line = buf.split(|b| *b == b'\n').next().unwrap_or_default();
            let mut words = line.split(|b| *b == b' ');
            let version = words.next().unwrap_or_default();
            let status = words.next().unwrap_or_default();
            if version.starts_with(b"HTTP/")
                && status.len() == 3
                && status.iter().all(u8::is_ascii_digit)
            {
                Ok(())
            } else {
                Err(Failure::NotHttp)
            }
        }
    }
}

/// A school's probe and what it last found.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct ProbeState {
    pub school_id: i64,
    pub target: String,
    pub last_checked_at: Option<DateTime<Utc>>,
    pub last_ok_at: Option<DateTime<Utc>>,
    pub failures: i64,
    pub failing_since: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
}

const STATE: &str = "SELECT school_id, target, last_checked_at, last_ok_at, failures, failing_since, last_error FROM school_probes";

/// A school's probe, for those who read its connectivity.
pub async fn get(db: &Db, p: &Principal, school_id: i64) -> AppResult<Option<ProbeState>> {
    super::reach_school(db, p, school_id).await?;
    Ok(with_db!(db, pool => {
        sqlx::query_as(sqlx::AssertSqlSafe(format!("{STATE} WHERE school_id = $1")))
            .bind(school_id).fetch_optional(pool).await?
    }))
}

/// Sets (or removes, `None`) a school's probe; the administrator's or the school's
/// technician's, audited. A new address starts afresh (no failures, never checked).
pub async fn set(
    tx: &mut Tx,
    p: &Principal,
    school_id: i64,
    target: Option<&str>,
    now: DateTime<Utc>,
) -> AppResult<()> {
    super::editor(p, school_id)?;
    crate::schools::get_in_tx(tx, p.collectivite_id, school_id).await?;
    let probe = match target.map(str::trim).filter(|t| !t.is_empty()) {
        None => None,
        Some(t) => Some(Probe::parse(t).map_err(|e| AppError::Invalid(vec![e]))?),
    };
    let before: Option<String> = with_tx!(tx, c => {
        sqlx::query_scalar("SELECT target FROM school_probes WHERE school_id = $1").bind(school_id).fetch_optional(&mut *c).await?
    });
    let after = probe.as_ref().map(Probe::url);
    if before == after {
        return Ok(());
    }
    with_tx!(tx, c => {
        sqlx::query("DELETE FROM school_probes WHERE school_id = $1").bind(school_id).execute(&mut *c).await?;
        if let Some(url) = &after {
            sqlx::query("INSERT INTO school_probes (school_id, target, failures, updated_at) VALUES ($1, $2, 0, $3)")
                .bind(school_id).bind(url).bind(now).execute(&mut *c).await?;
        }
    });
    audit::record(
        tx,
        &Actor::from(p),
        now,
        Entry {
            action: "update",
            object_type: "school_probe",
            object_id: school_id,
            object_label: after.as_deref().unwrap_or("sans sonde"),
            changes: serde_json::json!({"target": {"before": before, "after": after}}),
        },
    )
    .await
}

/// Checks every probe of every collectivité, [`AT_ONCE`] at a time, and stores what each
/// found; returns each probed school's state after the check. When every probe fails (and
/// there are at least two), the fault is the server's own network: nothing is counted.
pub(super) async fn run_all(
    db: &Db,
    now: DateTime<Utc>,
    timeout: Duration,
) -> AppResult<HashMap<i64, ProbeState>> {
    let states: Vec<ProbeState> = with_db!(db, pool => {
        sqlx::query_as(sqlx::AssertSqlSafe(format!("{STATE} p WHERE EXISTS (SELECT 1 FROM schools s WHERE s.id = p.school_id AND s.status = 'active')")))
            .fetch_all(pool).await?
    });
    if states.is_empty() {
        return Ok(HashMap::new());
    }
    let gate = Arc::new(tokio::sync::Semaphore::new(AT_ONCE));
    let mut checks = tokio::task::JoinSet::new();
    for s in &states {
        let gate = gate.clone();
        let (school, target) = (s.school_id, s.target.clone());
        checks.spawn(async move {
            let _permit = gate.acquire_owned().await;
            let result = match Probe::parse(&target) {
                Ok(probe) => check(&probe, timeout).await,
                Err(_) => Err(Failure::Unreachable),
            };
            (school, result)
        });
    }
    let mut results: HashMap<i64, Result<(), Failure>> = HashMap::new();
    while let Some(done) = checks.join_next().await {
        let (school, result) = done.map_err(|e| AppError::Other(e.into()))?;
        results.insert(school, result);
    }
    let server_cut_off = results.len() >= 2 && results.values().all(Result::is_err);
    if server_cut_off {
        tracing::warn!(
            probes = results.len(),
            "every probe failed: the server's own network is out, no school is judged on it"
        );
    }
    let mut out = HashMap::new();
    let mut tx = db.begin().await?;
    for mut s in states {
        match results.get(&s.school_id) {
            Some(Ok(())) => {
                s.last_ok_at = Some(now);
                s.failures = 0;
                s.failing_since = None;
                s.last_error = None;
            }
            Some(Err(f)) if !server_cut_off => {
                if s.failures == 0 {
                    s.failing_since = Some(now);
                }
                s.failures += 1;
                s.last_error = Some(f.code().to_string());
            }
            _ => {}
        }
        s.last_checked_at = Some(now);
        with_tx!(&mut tx, c => {
            sqlx::query("UPDATE school_probes SET last_checked_at = $1, last_ok_at = $2, failures = $3, failing_since = $4, last_error = $5 WHERE school_id = $6")
                .bind(s.last_checked_at).bind(s.last_ok_at).bind(s.failures).bind(s.failing_since).bind(&s.last_error).bind(s.school_id)
                .execute(&mut *c).await?;
        });
        out.insert(s.school_id, s);
    }
    tx.commit().await?;
    Ok(out)
}
