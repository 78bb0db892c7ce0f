//! `/metrics` in Prometheus' text format, off unless a token is configured
//! (`--metrics-token`), then read with it as a bearer token: requests and their latency
//! per route (the route's pattern, never an id), inventories being read, the e-mail queue,
//! the database pool, and the periodic passes (how long, how many failed).

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::AppState;

/// Latency buckets, in seconds.
const BUCKETS: [f64; 11] = [
    0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];

#[derive(Default, Clone)]
struct Series {
    count: u64,
    sum: f64,
    /// Cumulative counts per bucket (`le`), as Prometheus reads them.
    buckets: [u64; BUCKETS.len()],
}

impl Series {
    fn observe(&mut self, seconds: f64) {
        self.count += 1;
        self.sum += seconds;
        for (i, le) in BUCKETS.iter().enumerate() {
            if seconds <= *le {
                self.buckets[i] += 1;
            }
        }
    }
}

/// The counters, shared by every request and the periodic passes.
#[derive(Default)]
pub struct Metrics {
    /// (method, route, status class) → latencies.
    requests: Mutex<BTreeMap<(String, String, &'static str), Series>>,
    /// pass name → (durations, failures).
    passes: Mutex<BTreeMap<String, (Series, u64)>>,
}

impl Metrics {
    /// Records one run of a periodic pass (`tickets`, `connectivity`…).
    pub fn pass(&self, name: &str, seconds: f64, ok: bool) {
        if let Ok(mut m) = self.passes.lock() {
            let e = m.entry(name.to_string()).or_default();
            e.0.observe(seconds);
            if !ok {
                e.1 += 1;
            }
        }
    }
}

fn class(status: StatusCode) -> &'static str {
    match status.as_u16() {
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    }
}

/// Times every request under its route's pattern.
pub async fn record(State(s): State<AppState>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let method = req.method().as_str().to_string();
    let started = Instant::now();
    let resp = next.run(req).await;
    let seconds = started.elapsed().as_secs_f64();
    if let Ok(mut m) = s.metrics.requests.lock() {
        m.entry((method, route, class(resp.status())))
            .or_default()
            .observe(seconds);
    }
    resp
}

fn write_histogram(out: &mut String, name: &str, labels: &str, s: &Series) {
    for (i, le) in BUCKETS.iter().enumerate() {
        let _ = writeln!(
            out,
            "{name}_bucket{{{labels},le=\"{le}\"}} {}",
            s.buckets[i]
        );
    }
    let _ = writeln!(out, "{name}_bucket{{{labels},le=\"+Inf\"}} {}", s.count);
    let _ = writeln!(out, "{name}_sum{{{labels}}} {:.6}", s.sum);
    let _ = writeln!(out, "{name}_count{{{labels}}} {}", s.count);
}

fn label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', " ")
}

/// The text a scraper reads.
async fn render(s: &AppState) -> Result<String, preau_core::AppError> {
    let mut out = String::new();
    out.push_str("# HELP preau_http_request_duration_seconds Time to answer, per route pattern and status class.\n# TYPE preau_http_request_duration_seconds histogram\n");
    let requests = s
        .metrics
        .requests
        .lock()
        .map(|m| m.clone())
        .unwrap_or_default();
    for ((method, route, status), series) in &requests {
        let labels = format!(
            "method=\"{}\",route=\"{}\",status=\"{status}\"",
            label(method),
            label(route)
        );
        write_histogram(
            &mut out,
            "preau_http_request_duration_seconds",
            &labels,
            series,
        );
    }
    out.push_str("# HELP preau_http_requests_total Requests answered, per route pattern and status class.\n# TYPE preau_http_requests_total counter\n");
    for ((method, route, status), series) in &requests {
        let _ = writeln!(
            out,
            "preau_http_requests_total{{method=\"{}\",route=\"{}\",status=\"{status}\"}} {}",
            label(method),
            label(route),
            series.count
        );
    }
    let max = s.config.max_ingestions;
    let reading = max.saturating_sub(s.ingestions.available_permits());
    let _ = writeln!(
        out,
        "# HELP preau_ingestions_in_progress Inventories being read now.\n# TYPE preau_ingestions_in_progress gauge\npreau_ingestions_in_progress {reading}\npreau_ingestions_max {max}"
    );
    let (waiting, failed) = preau_core::jobs::mail_counts(&s.db, None).await?;
    let _ = writeln!(
        out,
        "# HELP preau_jobs E-mails waiting to be sent, and given up.\n# TYPE preau_jobs gauge\npreau_jobs{{state=\"waiting\"}} {waiting}\npreau_jobs{{state=\"failed\"}} {failed}"
    );
    let (size, idle) = s.db.pool_stats();
    let _ = writeln!(
        out,
        "# HELP preau_db_pool_connections Database connections open, and idle.\n# TYPE preau_db_pool_connections gauge\npreau_db_pool_connections{{state=\"open\"}} {size}\npreau_db_pool_connections{{state=\"idle\"}} {idle}"
    );
    out.push_str("# HELP preau_pass_duration_seconds Periodic passes (every five minutes).\n# TYPE preau_pass_duration_seconds histogram\n");
    let passes = s
        .metrics
        .passes
        .lock()
        .map(|m| m.clone())
        .unwrap_or_default();
    for (name, (series, _)) in &passes {
        write_histogram(
            &mut out,
            "preau_pass_duration_seconds",
            &format!("pass=\"{}\"", label(name)),
            series,
        );
    }
    out.push_str("# HELP preau_pass_failures_total Periodic passes that failed.\n# TYPE preau_pass_failures_total counter\n");
    for (name, (_, failures)) in &passes {
        let _ = writeln!(
            out,
            "preau_pass_failures_total{{pass=\"{}\"}} {failures}",
            label(name)
        );
    }
    Ok(out)
}

/// Compares without stopping at the first difference.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// `GET /metrics`: not found while no token is configured; the token as a bearer else.
pub async fn endpoint(State(s): State<AppState>, req: Request) -> Response {
    let Some(token) = s.config.metrics_token.as_deref() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let given = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    if !same(given.trim().as_bytes(), token.as_bytes()) {
        let mut r = StatusCode::UNAUTHORIZED.into_response();
        r.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"metrics\""),
        );
        return r;
    }
    match render(&s).await {
        Ok(text) => (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
            )],
            text,
        )
            .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "metrics not rendered");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}
