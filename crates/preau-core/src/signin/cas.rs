//! CAS 2 and 3: the person is sent to the CAS server's login with Préau's service address,
//! comes back with a service ticket, and Préau has the server validate it
//! (`p3/serviceValidate`, which also gives the attributes released to Préau; CAS 2's
//! `serviceValidate` for older servers). The protocol of many ENTs and academic portals.

use preau_domain::FieldError;
use quick_xml::events::Event;
use serde::{Deserialize, Serialize};

use super::External;
use crate::http;

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Config {
    /// The server's base address, e.g. `https://cas.ent.example/cas`.
    pub url: String,
    /// 3 (attributes in the validation) or 2.
    pub version: u8,
    #[serde(default)]
    pub ca_pem: Option<String>,
    pub mail_attribute: String,
    pub name_attribute: String,
}

#[derive(Debug, Clone, Default)]
pub struct ConfigInput {
    pub url: String,
    pub version: String,
    pub ca_pem: String,
    pub mail_attribute: String,
    pub name_attribute: String,
}

impl ConfigInput {
    pub fn check(&self) -> Result<Config, Vec<FieldError>> {
        let mut errors = Vec::new();
        let url = self.url.trim().trim_end_matches('/').to_string();
        if !http::acceptable(&url) || url.len() > 300 {
            errors.push(FieldError::new("url", "https_url"));
        }
        let version = match self.version.trim() {
            "" | "3" => 3,
            "2" => 2,
            _ => {
                errors.push(FieldError::new("version", "unknown_value"));
                3
            }
        };
        let ca_pem = super::ldap::checked_pem(&self.ca_pem, &mut errors);
        let mail_attribute =
            super::ldap::attribute_or(&mut errors, "mail_attribute", &self.mail_attribute, "mail");
        let name_attribute = super::ldap::attribute_or(
            &mut errors,
            "name_attribute",
            &self.name_attribute,
            "displayName",
        );
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(Config {
            url,
            version,
            ca_pem,
            mail_attribute,
            name_attribute,
        })
    }
}

/// Where to send the person.
pub fn login_url(cfg: &Config, service: &str) -> String {
    format!("{}/login?service={}", cfg.url, http::encode(service))
}

/// Has the server validate a ticket for this service: the person, or None when the
/// server refuses the ticket (used, expired, for another service).
pub async fn validate(
    cfg: &Config,
    service: &str,
    ticket: &str,
) -> anyhow::Result<Option<External>> {
    let path = if cfg.version == 2 {
        "serviceValidate"
    } else {
        "p3/serviceValidate"
    };
    let url = format!(
        "{}/{path}?service={}&ticket={}",
        cfg.url,
        http::encode(service),
        http::encode(ticket)
    );
    let resp = http::send("GET", &url, &[], None, cfg.ca_pem.as_deref()).await?;
    anyhow::ensure!(
        resp.status == 200,
        "the CAS server answered {}",
        resp.status
    );
    parse(&resp.body, cfg)
}

/// Reads a `serviceResponse`: the user and the attributes asked for.
pub fn parse(xml: &[u8], cfg: &Config) -> anyhow::Result<Option<External>> {
    let mut reader = quick_xml::Reader::from_reader(xml);
    let mut path: Vec<String> = Vec::new();
    let mut user = None;
    let mut failure = false;
    let mut attrs: Vec<(String, String)> = Vec::new();
    let mut buf = Vec::new();
    // An element's text arrives in pieces: text, then each entity or character reference.
    let mut text = String::new();
    loop {
        match reader.read_event_into(&mut buf)? {
            Event::Start(e) => {
                let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                if name == "authenticationFailure" {
                    failure = true;
                }
                path.push(name);
                text.clear();
                anyhow::ensure!(path.len() <= 16, "a CAS answer nested too deep");
            }
            Event::Text(t) => {
                anyhow::ensure!(text.len() < 4096, "a CAS attribute too long");
                text.push_str(&t.decode()?);
            }
            Event::GeneralRef(r) => {
                let name = String::from_utf8_lossy(&r).into_owned();
                let value = preau_inventory::tree::entity(&name)
                    .ok_or_else(|| anyhow::anyhow!("unknown entity &{name};"))?;
                text.push_str(&value);
            }
            Event::End(_) => {
                let value = std::mem::take(&mut text).trim().to_string();
                match path
                    .iter()
                    .map(String::as_str)
                    .collect::<Vec<_>>()
                    .as_slice()
                {
                    [.., "authenticationSuccess", "user"] => user = Some(value),
                    [.., "attributes", name] if attrs.len() < 200 => {
                        attrs.push((name.to_string(), value))
                    }
                    _ => {}
                }
                path.pop();
            }
            Event::DocType(_) => anyhow::bail!("a DOCTYPE in a CAS answer"),
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    if failure {
        return Ok(None);
    }
    let user = user.ok_or_else(|| anyhow::anyhow!("a CAS answer with no user"))?;
    let attr = |name: &str| {
        attrs
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
            .filter(|v| !v.is_empty())
    };
    Ok(Some(External {
        subject: user.clone(),
        login: Some(user.to_lowercase()),
        email: attr(&cfg.mail_attribute),
        display_name: attr(&cfg.name_attribute).unwrap_or_else(|| user.clone()),
    }))
}
