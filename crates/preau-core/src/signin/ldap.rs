//! LDAP and Active Directory: search, then bind. Préau binds with the collectivité's
//! service account, finds the one entry whose login attribute is what the person typed
//! (escaped), then binds as that entry with their password. Never an anonymous bind (an
//! empty password is refused before anything is sent: many servers take it as one), never
//! a password in clear (`ldaps://`, or `ldap://` with StartTLS), the server's certificate
//! checked against the collectivité's CA when one is given, else the system's.

use ldap3::{LdapConnAsync, LdapConnSettings, Scope, SearchEntry};
use preau_domain::FieldError;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Duration;

use super::External;

/// How long a directory has to answer each step.
const TIMEOUT: Duration = Duration::from_secs(5);

/// A directory's settings, stored as JSON (the service account's password among them:
/// never shown back, never logged).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Config {
    pub url: String,
    #[serde(default)]
    pub starttls: bool,
    /// PEM certificates of the authorities to trust instead of the system's.
    #[serde(default)]
    pub ca_pem: Option<String>,
    pub bind_dn: String,
    pub bind_password: String,
    pub base_dn: String,
    /// With `{login}` where the typed login goes, e.g. `(uid={login})`.
    pub filter: String,
    pub login_attribute: String,
    pub name_attribute: String,
    pub mail_attribute: String,
}

/// A directory as the administrator's form sends it.
#[derive(Debug, Clone, Default)]
pub struct ConfigInput {
    pub url: String,
    pub starttls: bool,
    pub ca_pem: String,
    pub bind_dn: String,
    /// Empty: keep the stored one.
    pub bind_password: String,
    pub base_dn: String,
    pub filter: String,
    pub login_attribute: String,
    pub name_attribute: String,
    pub mail_attribute: String,
}

/// An attribute's name as typed (letters, digits, dashes), or its default when empty.
pub(crate) fn attribute_or(
    errors: &mut Vec<FieldError>,
    field: &str,
    value: &str,
    default: &str,
) -> String {
    let v = value.trim();
    let v = if v.is_empty() { default } else { v };
    if v.len() > 64
        || !v
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        errors.push(FieldError::new(field, "invalid_characters"));
        return String::new();
    }
    v.to_string()
}

/// Authorities pasted as PEM (nothing when empty); unreadable ones are an error on `ca_pem`.
pub(crate) fn checked_pem(pem: &str, errors: &mut Vec<FieldError>) -> Option<String> {
    let pem = Some(pem.trim().to_string()).filter(|p| !p.is_empty());
    if let Some(p) = &pem
        && certificates(p).is_none()
    {
        errors.push(FieldError::new("ca_pem", "pem_format"));
    }
    pem
}

impl ConfigInput {
    /// The settings to store, or every field's error. `stored` gives the password kept
    /// when the form leaves it empty.
    pub fn check(&self, stored: Option<&Config>) -> Result<Config, Vec<FieldError>> {
        let mut errors = Vec::new();
        let url = self.url.trim().to_string();
        let secure_scheme = url.starts_with("ldaps://");
        if !(secure_scheme || url.starts_with("ldap://")) || url.len() > 200 || url.contains(' ') {
            errors.push(FieldError::new("url", "ldap_url"));
        } else if !secure_scheme && !self.starttls {
            errors.push(FieldError::new("starttls", "ldap_tls_required"));
        }
        let ca_pem = checked_pem(&self.ca_pem, &mut errors);
        let bind_dn = self.bind_dn.trim().to_string();
        if bind_dn.is_empty() {
            errors.push(FieldError::new("bind_dn", "required"));
        }
        let bind_password = if self.bind_password.is_empty() {
            stored.map(|s| s.bind_password.clone()).unwrap_or_default()
        } else {
            self.bind_password.clone()
        };
        if bind_password.is_empty() {
            errors.push(FieldError::new("bind_password", "required"));
        }
        let base_dn = self.base_dn.trim().to_string();
        if base_dn.is_empty() {
            errors.push(FieldError::new("base_dn", "required"));
        }
        let filter = self.filter.trim().to_string();
        if !(filter.starts_with('(') && filter.ends_with(')') && filter.contains("{login}"))
            || filter.len() > 300
        {
            errors.push(FieldError::new("filter", "ldap_filter"));
        }
        let login_attribute =
            attribute_or(&mut errors, "login_attribute", &self.login_attribute, "uid");
        let name_attribute =
            attribute_or(&mut errors, "name_attribute", &self.name_attribute, "cn");
        let mail_attribute =
            attribute_or(&mut errors, "mail_attribute", &self.mail_attribute, "mail");
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(Config {
            url,
            starttls: self.starttls && !secure_scheme,
            ca_pem,
            bind_dn,
            bind_password,
            base_dn,
            filter,
            login_attribute,
            name_attribute,
            mail_attribute,
        })
    }
}

fn certificates(pem: &str) -> Option<Vec<rustls::pki_types::CertificateDer<'static>>> {
    use rustls::pki_types::pem::PemObject;
    let certs: Vec<_> = rustls::pki_types::CertificateDer::pem_slice_iter(pem.as_bytes())
        .collect::<Result<_, _>>()
        .ok()?;
    (!certs.is_empty()).then_some(certs)
}

fn tls_config(cfg: &Config) -> anyhow::Result<Option<Arc<rustls::ClientConfig>>> {
    cfg.ca_pem
        .as_deref()
        .map(|pem| crate::http::tls_config(Some(pem)))
        .transpose()
}

/// Why a directory could not say yes or no.
#[derive(Debug, thiserror::Error)]
#[error("directory unavailable: {0}")]
pub struct Unavailable(pub String);

/// Checks a login and password against the directory: the person, or None when the
/// login is unknown, ambiguous or the password wrong. An error means the directory could
/// not answer (down, misconfigured, refusing the service account).
pub async fn authenticate(
    cfg: &Config,
    login: &str,
    password: &str,
) -> Result<Option<External>, Unavailable> {
    let login = login.trim();
    if password.is_empty() || login.is_empty() || login.len() > 128 {
        return Ok(None);
    }
    let fail = |what: &str, e: &dyn std::fmt::Display| Unavailable(format!("{what}: {e}"));
    let mut settings = LdapConnSettings::new()
        .set_conn_timeout(TIMEOUT)
        .set_starttls(cfg.starttls);
    if let Some(tls) = tls_config(cfg).map_err(|e| fail("TLS", &e))? {
        settings = settings.set_config(tls);
    }
    let (conn, mut ldap) = LdapConnAsync::with_settings(settings, &cfg.url)
        .await
        .map_err(|e| fail("connection", &e))?;
    ldap3::drive!(conn);
    ldap.with_timeout(TIMEOUT)
        .simple_bind(&cfg.bind_dn, &cfg.bind_password)
        .await
        .and_then(|r| r.success())
        .map_err(|e| fail("service account", &e))?;
    let filter = cfg.filter.replace("{login}", &ldap3::ldap_escape(login));
    let attrs = [
        cfg.login_attribute.as_str(),
        cfg.name_attribute.as_str(),
        cfg.mail_attribute.as_str(),
    ];
    let ldap3::SearchResult(entries, result) = ldap
        .with_timeout(TIMEOUT)
        .with_search_options(ldap3::SearchOptions::new().sizelimit(2))
        .search(&cfg.base_dn, Scope::Subtree, &filter, attrs)
        .await
        .map_err(|e| fail("search", &e))?;
    // 4: sizeLimitExceeded — more than one entry for this login.
    if !matches!(result.rc, 0 | 4) {
        let _ = ldap.unbind().await;
        return Err(Unavailable(format!("search answered {}", result.rc)));
    }
    let [entry] = entries.as_slice() else {
        // Nobody, or two entries for one login: no sign-in.
        let _ = ldap.unbind().await;
        return Ok(None);
    };
    let entry = SearchEntry::construct(entry.clone());
    let bound = ldap
        .with_timeout(TIMEOUT)
        .simple_bind(&entry.dn, password)
        .await
        .map_err(|e| fail("bind", &e))?;
    let _ = ldap.unbind().await;
    // 49: invalidCredentials. Anything else but success is the directory's trouble.
    match bound.rc {
        0 => {}
        49 => return Ok(None),
        rc => return Err(Unavailable(format!("bind answered {rc}"))),
    }
    let first = |a: &str| {
        entry
            .attrs
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(a))
            .and_then(|(_, v)| v.first().cloned())
    };
    let subject = first(&cfg.login_attribute)
        .unwrap_or_else(|| login.to_string())
        .to_lowercase();
    Ok(Some(External {
        display_name: first(&cfg.name_attribute).unwrap_or_else(|| subject.clone()),
        email: first(&cfg.mail_attribute),
        login: Some(subject.clone()),
        subject,
    }))
}
