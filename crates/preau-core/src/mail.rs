//! Sending e-mail over SMTP to the deployment's relay: the one seam the tests exercise
//! against a real listener on loopback. Plain SMTP (EHLO, MAIL, RCPT, DATA), UTF-8 text
//! bodies; TLS and authentication are the relay's job (a local Postfix or msmtp, as
//! public bodies' mail usually goes out), which keeps secrets out of Préau.

use base64::Engine;
use chrono::{DateTime, Utc};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// Where and as whom to send.
#[derive(Debug, Clone)]
pub struct SmtpConfig {
    /// `host:port` of the relay.
    pub relay: String,
    /// The sender address (`preau@mairie.example`).
    pub from: String,
    /// The name this host gives in EHLO.
    pub helo: String,
}

impl SmtpConfig {
    /// Reads `smtp://host:port` (port 25 by default).
    pub fn from_url(url: &str, from: &str) -> anyhow::Result<SmtpConfig> {
        let rest = url
            .strip_prefix("smtp://")
            .ok_or_else(|| anyhow::anyhow!("the SMTP relay must be given as smtp://host:port"))?;
        let rest = rest.trim_end_matches('/');
        anyhow::ensure!(
            !rest.is_empty() && !rest.contains('@'),
            "the SMTP relay must be given as smtp://host:port, without credentials"
        );
        let relay = if rest.contains(':') {
            rest.to_string()
        } else {
            format!("{rest}:25")
        };
        anyhow::ensure!(
            from.contains('@') && !from.contains(['\r', '\n', '<', '>']),
            "invalid sender address {from:?}"
        );
        Ok(SmtpConfig {
            relay,
            from: from.to_string(),
            helo: "preau.localdomain".into(),
        })
    }
}

/// One message: a recipient, a subject, a text body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub to: String,
    pub subject: String,
    pub body: String,
}

/// An address fit for an SMTP envelope: no line breaks, no angle brackets, one `@`.
pub fn is_sendable(addr: &str) -> bool {
    let a = addr.trim();
    a.len() <= 254
        && a.matches('@').count() == 1
        && !a.starts_with('@')
        && !a.ends_with('@')
        && !a
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | ',' | ';'))
}

fn encode_header(s: &str) -> String {
    if s.is_ascii() {
        s.to_string()
    } else {
        format!(
            "=?UTF-8?B?{}?=",
            base64::engine::general_purpose::STANDARD.encode(s)
        )
    }
}

/// The message as it goes after DATA: headers, a blank line, the body with CRLF line
/// ends and dot-stuffing, and the final dot.
pub fn wire(from: &str, m: &Message, now: DateTime<Utc>) -> String {
    let date = now.to_rfc2822();
    let id = format!(
        "<{}.{}@preau>",
        now.timestamp_nanos_opt().unwrap_or_default(),
        m.to.len()
    );
    let mut out = format!(
        "From: Préau <{from}>\r\nTo: <{}>\r\nSubject: {}\r\nDate: {date}\r\nMessage-ID: {id}\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\nAuto-Submitted: auto-generated\r\n\r\n",
        m.to,
        encode_header(&m.subject)
    )
    .replace("Préau <", &format!("{} <", encode_header("Préau")));
    for line in m.body.replace("\r\n", "\n").split('\n') {
        if line.starts_with('.') {
            out.push('.');
        }
        out.push_str(line);
        out.push_str("\r\n");
    }
    out.push_str(".\r\n");
    out
}

async fn reply<R: tokio::io::AsyncBufRead + Unpin>(r: &mut R) -> Result<(u16, String), String> {
    let mut text = String::new();
    loop {
        let mut line = String::new();
        let n = tokio::time::timeout(Duration::from_secs(30), r.read_line(&mut line))
            .await
            .map_err(|_| "the relay did not answer in time".to_string())?
            .map_err(|e| format!("read: {e}"))?;
        if n == 0 {
            return Err("the relay closed the connection".into());
        }
        let code: u16 = line
            .get(..3)
            .and_then(|c| c.parse().ok())
            .ok_or_else(|| format!("unreadable reply {line:?}"))?;
        text.push_str(line.get(4..).unwrap_or("").trim_end());
        if line.as_bytes().get(3) != Some(&b'-') {
            return Ok((code, text));
        }
        text.push(' ');
    }
}

/// Sends one message through the relay. An error says what the relay answered; a
/// 5xx answer is final (`Err((true, …))`), anything else may be retried.
pub async fn send(cfg: &SmtpConfig, m: &Message, now: DateTime<Utc>) -> Result<(), (bool, String)> {
    if !is_sendable(&m.to) {
        return Err((true, "invalid recipient address".into()));
    }
    let stream = tokio::time::timeout(Duration::from_secs(10), TcpStream::connect(&cfg.relay))
        .await
        .map_err(|_| (false, format!("no answer from {}", cfg.relay)))?
        .map_err(|e| (false, format!("cannot reach {}: {e}", cfg.relay)))?;
    let (r, mut w) = stream.into_split();
    let mut r = BufReader::new(r);
    let step = |expect: &'static [u16], got: (u16, String)| -> Result<(), (bool, String)> {
        if expect.contains(&got.0) {
            Ok(())
        } else {
            Err((got.0 >= 500, format!("{} {}", got.0, got.1)))
        }
    };
    step(&[220], reply(&mut r).await.map_err(|e| (false, e))?)?;
    for (cmd, expect) in [
        (format!("EHLO {}\r\n", cfg.helo), &[250u16][..]),
        (format!("MAIL FROM:<{}>\r\n", cfg.from), &[250][..]),
        (format!("RCPT TO:<{}>\r\n", m.to.trim()), &[250, 251][..]),
        ("DATA\r\n".to_string(), &[354][..]),
    ] {
        w.write_all(cmd.as_bytes())
            .await
            .map_err(|e| (false, format!("write: {e}")))?;
        step(expect, reply(&mut r).await.map_err(|e| (false, e))?)?;
    }
    w.write_all(wire(&cfg.from, m, now).as_bytes())
        .await
        .map_err(|e| (false, format!("write: {e}")))?;
    step(&[250], reply(&mut r).await.map_err(|e| (false, e))?)?;
    let _ = w.write_all(b"QUIT\r\n").await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_dot_stuffed_and_headers_encoded() {
        let m = Message {
            to: "directrice@ecole.example".into(),
            subject: "Intervention planifiée".into(),
            body: "Bonjour,\n.point au début\nFin".into(),
        };
        let w = wire("preau@mairie.example", &m, Utc::now());
        assert!(w.contains("\r\n..point au début\r\n"));
        assert!(w.contains("Subject: =?UTF-8?B?"));
        assert!(w.ends_with("Fin\r\n.\r\n"));
        assert!(!is_sendable("a@b.fr\r\nRCPT TO:<x@y>"));
        assert!(!is_sendable("pas une adresse"));
        assert!(is_sendable("prenom.nom@mairie.fr"));
        assert!(SmtpConfig::from_url("smtp://127.0.0.1:2525", "p@m.fr").is_ok());
        assert!(SmtpConfig::from_url("smtps://user:pw@relay", "p@m.fr").is_err());
    }
}
