//! Gzip for text answers (pages, styles, scripts, SVG, JSON, CSV) when the client takes
//! it: a page of QR labels is half a megabyte of SVG, a school's classroom tablet on a
//! slow school link waits for every byte. Spreadsheets and photos are compressed already
//! and pass as they are; so do small answers and those already encoded.

use std::io::Write;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use flate2::Compression;
use flate2::write::GzEncoder;

/// Below this, gzip's header and the CPU cost more than they save.
const MIN_BYTES: usize = 1024;
/// Larger answers (exports of a whole fleet) are sent as they are rather than held in memory.
const MAX_BYTES: usize = 32 * 1024 * 1024;

fn accepts_gzip(req: &Request) -> bool {
    req.headers()
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|part| {
            let mut it = part.split(';');
            let name = it.next().unwrap_or("").trim();
            let refused = it.any(|q| matches!(q.trim(), "q=0" | "q=0.0" | "q=0.00" | "q=0.000"));
            (name.eq_ignore_ascii_case("gzip") || name == "*") && !refused
        })
}

fn compressible(resp: &Response) -> bool {
    if resp.headers().contains_key(header::CONTENT_ENCODING) {
        return false;
    }
    let Some(kind) = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let kind = kind.split(';').next().unwrap_or("").trim();
    kind.starts_with("text/")
        || matches!(
            kind,
            "application/json"
                | "application/problem+json"
                | "application/javascript"
                | "image/svg+xml"
        )
}

pub async fn gzip(req: Request, next: Next) -> Response {
    let wanted = accepts_gzip(&req);
    let resp = next.run(req).await;
    if !wanted || !compressible(&resp) {
        return resp;
    }
    let (mut parts, body) = resp.into_parts();
    let bytes = match axum::body::to_bytes(body, MAX_BYTES).await {
        Ok(b) => b,
        Err(e) => {
            tracing::warn!(error = %e, "answer too large to compress");
            parts.headers.remove(header::CONTENT_LENGTH);
            return Response::from_parts(parts, Body::empty());
        }
    };
    parts
        .headers
        .append(header::VARY, HeaderValue::from_static("accept-encoding"));
    if bytes.len() < MIN_BYTES {
        return Response::from_parts(parts, Body::from(bytes));
    }
    let mut enc = GzEncoder::new(Vec::with_capacity(bytes.len() / 4), Compression::fast());
    let packed = enc.write_all(&bytes).and_then(|_| enc.finish());
    match packed {
        Ok(out) => {
            parts
                .headers
                .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
            parts.headers.remove(header::CONTENT_LENGTH);
            Response::from_parts(parts, Body::from(out))
        }
        Err(_) => Response::from_parts(parts, Body::from(bytes)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(enc: &str) -> Request {
        Request::builder()
            .header(header::ACCEPT_ENCODING, enc)
            .body(Body::empty())
            .unwrap()
    }

    #[test]
    fn gzip_is_used_only_when_the_client_takes_it() {
        assert!(accepts_gzip(&req("gzip, deflate, br")));
        assert!(accepts_gzip(&req("br;q=1.0, gzip;q=0.8")));
        assert!(accepts_gzip(&req("*")));
        assert!(!accepts_gzip(&req("gzip;q=0")));
        assert!(!accepts_gzip(&req("br, identity")));
    }
}
