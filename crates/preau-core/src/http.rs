//! A small HTTP client for the identity providers' back channel (OpenID Connect discovery,
//! keys and tokens; CAS ticket validation): HTTPS through rustls, the system's authorities
//! or the collectivité's own; plain HTTP only to this machine. Every exchange is bounded:
//! 5 seconds to connect, 10 to answer, 1 MB read at most.

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::rt::TokioIo;
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};

const CONNECT: Duration = Duration::from_secs(5);
const ANSWER: Duration = Duration::from_secs(10);
const MAX_BODY: usize = 1 << 20;

#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub body: Vec<u8>,
}

impl Response {
    pub fn json(&self) -> anyhow::Result<serde_json::Value> {
        anyhow::ensure!(
            (200..300).contains(&self.status),
            "answered {}: {}",
            self.status,
            String::from_utf8_lossy(&self.body[..self.body.len().min(200)])
        );
        Ok(serde_json::from_slice(&self.body)?)
    }
}

/// Whether a URL may be used: HTTPS, or HTTP to this machine only.
pub fn acceptable(url: &str) -> bool {
    let Ok(uri) = url.parse::<hyper::Uri>() else {
        return false;
    };
    match (uri.scheme_str(), uri.host()) {
        (Some("https"), Some(_)) => true,
        (Some("http"), Some(h)) => matches!(h, "127.0.0.1" | "localhost" | "[::1]" | "::1"),
        _ => false,
    }
}

/// The authorities to trust: the PEM given, else the system's.
// ring is the one provider this build carries (as for the server's own TLS).
#[allow(deprecated)]
pub fn tls_config(ca_pem: Option<&str>) -> anyhow::Result<Arc<rustls::ClientConfig>> {
    static SYSTEM: OnceLock<Arc<rustls::ClientConfig>> = OnceLock::new();
    let build = |roots: rustls::RootCertStore| -> anyhow::Result<Arc<rustls::ClientConfig>> {
        Ok(Arc::new(
            rustls::ClientConfig::builder_with_provider(Arc::new(
                rustls::crypto::ring::default_provider(),
            ))
            .with_safe_default_protocol_versions()?
            .with_root_certificates(roots)
            .with_no_client_auth(),
        ))
    };
    match ca_pem {
        Some(pem) => {
            use rustls::pki_types::pem::PemObject;
            let mut roots = rustls::RootCertStore::empty();
            for c in rustls::pki_types::CertificateDer::pem_slice_iter(pem.as_bytes()) {
                roots.add(c?)?;
            }
            build(roots)
        }
        None => {
            if let Some(c) = SYSTEM.get() {
                return Ok(c.clone());
            }
            let mut roots = rustls::RootCertStore::empty();
            for c in rustls_native_certs::load_native_certs().certs {
                let _ = roots.add(c);
            }
            let c = build(roots)?;
            Ok(SYSTEM.get_or_init(|| c).clone())
        }
    }
}

/// One request; `body` with its content type for a POST.
pub async fn send(
    method: &str,
    url: &str,
    headers: &[(&str, String)],
    body: Option<(&str, Vec<u8>)>,
    ca_pem: Option<&str>,
) -> anyhow::Result<Response> {
    anyhow::ensure!(acceptable(url), "not an https:// address: {url}");
    let uri: hyper::Uri = url.parse()?;
    let host = uri
        .host()
        .ok_or_else(|| anyhow::anyhow!("no host in {url}"))?
        .trim_matches(['[', ']'])
        .to_string();
    let https = uri.scheme_str() == Some("https");
    let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
    let mut req = hyper::Request::builder()
        .method(method)
        .uri(uri.path_and_query().map_or("/", |p| p.as_str()))
        .header(
            hyper::header::HOST,
            uri.authority().map_or(host.clone(), |a| a.to_string()),
        )
        .header(hyper::header::USER_AGENT, "Preau")
        .header(hyper::header::ACCEPT, "application/json, text/xml, */*");
    for (k, v) in headers {
        req = req.header(*k, v.as_str());
    }
    let payload = match body {
        Some((content_type, bytes)) => {
            req = req.header(hyper::header::CONTENT_TYPE, content_type);
            Bytes::from(bytes)
        }
        None => Bytes::new(),
    };
    let req = req.body(Full::new(payload))?;
    let tcp = tokio::time::timeout(
        CONNECT,
        tokio::net::TcpStream::connect((host.as_str(), port)),
    )
    .await
    .map_err(|_| anyhow::anyhow!("{host}:{port} did not answer within 5 s"))??;
    let exchange = async {
        if https {
            let name = rustls::pki_types::ServerName::try_from(host.clone())?;
            let tls = tokio_rustls::TlsConnector::from(tls_config(ca_pem)?)
                .connect(name, tcp)
                .await?;
            exchange(tls, req).await
        } else {
            exchange(tcp, req).await
        }
    };
    tokio::time::timeout(ANSWER, exchange)
        .await
        .map_err(|_| anyhow::anyhow!("{host}:{port} did not answer within 10 s"))?
}

async fn exchange<I>(io: I, req: hyper::Request<Full<Bytes>>) -> anyhow::Result<Response>
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(io)).await?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    let resp = sender.send_request(req).await?;
    let status = resp.status().as_u16();
    let body = Limited::new(resp.into_body(), MAX_BODY)
        .collect()
        .await
        .map_err(|e| anyhow::anyhow!("reading the answer: {e}"))?
        .to_bytes()
        .to_vec();
    Ok(Response { status, body })
}

/// `application/x-www-form-urlencoded` of these pairs.
pub fn form(pairs: &[(&str, &str)]) -> Vec<u8> {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
        .into_bytes()
}

/// Percent-encodes everything but unreserved characters (RFC 3986).
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
