//! OpenID Connect: the authorization code flow with PKCE (S256), the provider found by
//! discovery, the ID token's signature checked against the provider's published keys
//! (RS256, ES256), and its issuer, audience, expiry and nonce. Entra ID, Keycloak,
//! LemonLDAP::NG and the ENTs that speak it.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use preau_domain::FieldError;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::External;
use crate::http;

/// A provider's settings, stored as JSON (the client secret among them: never shown back,
/// never logged).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Config {
    /// The issuer, as its discovery document names it.
    pub issuer: String,
    pub client_id: String,
    pub client_secret: String,
    #[serde(default)]
    pub ca_pem: Option<String>,
    /// The claim that is the person's login (`preferred_username`, `upn`…).
    pub login_claim: String,
}

#[derive(Debug, Clone, Default)]
pub struct ConfigInput {
    pub issuer: String,
    pub client_id: String,
    /// Empty: keep the stored one.
    pub client_secret: String,
    pub ca_pem: String,
    pub login_claim: String,
}

impl ConfigInput {
    pub fn check(&self, stored: Option<&Config>) -> Result<Config, Vec<FieldError>> {
        let mut errors = Vec::new();
        let issuer = self.issuer.trim().trim_end_matches('/').to_string();
        if !http::acceptable(&issuer) || issuer.len() > 300 {
            errors.push(FieldError::new("issuer", "https_url"));
        }
        let client_id = self.client_id.trim().to_string();
        if client_id.is_empty() || client_id.len() > 200 {
            errors.push(FieldError::new("client_id", "required"));
        }
        let client_secret = if self.client_secret.is_empty() {
            stored.map(|s| s.client_secret.clone()).unwrap_or_default()
        } else {
            self.client_secret.clone()
        };
        if client_secret.is_empty() {
            errors.push(FieldError::new("client_secret", "required"));
        }
        let ca_pem = super::ldap::checked_pem(&self.ca_pem, &mut errors);
        let login_claim = match self.login_claim.trim() {
            "" => "preferred_username".to_string(),
            c if c.len() <= 64 && c.chars().all(|x| x.is_ascii_alphanumeric() || x == '_') => {
                c.to_string()
            }
            _ => {
                errors.push(FieldError::new("login_claim", "invalid_characters"));
                String::new()
            }
        };
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(Config {
            issuer,
            client_id,
            client_secret,
            ca_pem,
            login_claim,
        })
    }
}

/// What discovery tells of a provider.
#[derive(Debug, Clone)]
pub struct Discovery {
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub jwks_uri: String,
}

pub async fn discover(cfg: &Config) -> anyhow::Result<Discovery> {
    let url = format!("{}/.well-known/openid-configuration", cfg.issuer);
    let doc = http::send("GET", &url, &[], None, cfg.ca_pem.as_deref())
        .await?
        .json()?;
    let field = |k: &str| -> anyhow::Result<String> {
        let v = doc
            .get(k)
            .and_then(Value::as_str)
            .ok_or_else(|| anyhow::anyhow!("discovery document without {k}"))?;
        anyhow::ensure!(
            k == "issuer" || http::acceptable(v),
            "{k} is not an https:// address"
        );
        Ok(v.to_string())
    };
    anyhow::ensure!(
        field("issuer")?.trim_end_matches('/') == cfg.issuer,
        "the discovery document names another issuer"
    );
    Ok(Discovery {
        authorization_endpoint: field("authorization_endpoint")?,
        token_endpoint: field("token_endpoint")?,
        jwks_uri: field("jwks_uri")?,
    })
}

/// A random value for state, nonce and PKCE verifier (256 bits, URL-safe).
pub fn random() -> String {
    crate::secrets::random_token()
}

/// The PKCE challenge of a verifier (S256).
pub fn challenge(verifier: &str) -> String {
    use sha2::Digest;
    URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier.as_bytes()))
}

/// Where to send the person: the provider's authorization endpoint with this flow's
/// state, nonce and challenge.
pub fn authorization_url(
    d: &Discovery,
    cfg: &Config,
    redirect_uri: &str,
    state: &str,
    nonce: &str,
    verifier: &str,
) -> String {
    let sep = if d.authorization_endpoint.contains('?') {
        '&'
    } else {
        '?'
    };
    let q = http::form(&[
        ("response_type", "code"),
        ("client_id", &cfg.client_id),
        ("redirect_uri", redirect_uri),
        ("scope", "openid email profile"),
        ("state", state),
        ("nonce", nonce),
        ("code_challenge", &challenge(verifier)),
        ("code_challenge_method", "S256"),
    ]);
    format!(
        "{}{sep}{}",
        d.authorization_endpoint,
        String::from_utf8_lossy(&q)
    )
}

/// Exchanges the code for the tokens and returns whom the checked ID token names.
pub async fn finish(
    cfg: &Config,
    redirect_uri: &str,
    code: &str,
    verifier: &str,
    nonce: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<External> {
    let d = discover(cfg).await?;
    let basic = base64::engine::general_purpose::STANDARD.encode(format!(
        "{}:{}",
        http::encode(&cfg.client_id),
        http::encode(&cfg.client_secret)
    ));
    let tokens = http::send(
        "POST",
        &d.token_endpoint,
        &[("authorization", format!("Basic {basic}"))],
        Some((
            "application/x-www-form-urlencoded",
            http::form(&[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", redirect_uri),
                ("client_id", &cfg.client_id),
                ("code_verifier", verifier),
            ]),
        )),
        cfg.ca_pem.as_deref(),
    )
    .await?
    .json()?;
    let id_token = tokens
        .get("id_token")
        .and_then(Value::as_str)
        .ok_or_else(|| anyhow::anyhow!("the token answer has no id_token"))?;
    let keys = http::send("GET", &d.jwks_uri, &[], None, cfg.ca_pem.as_deref())
        .await?
        .json()?;
    let claims = verify(id_token, &keys, cfg, nonce, now)?;
    let text = |k: &str| {
        claims
            .get(k)
            .and_then(Value::as_str)
            .map(str::to_string)
            .filter(|s| !s.is_empty())
    };
    let subject = text("sub").ok_or_else(|| anyhow::anyhow!("the ID token has no sub"))?;
    // An address the provider says it has not verified is not used to match anyone.
    let email = text("email").filter(|_| {
        claims
            .get("email_verified")
            .and_then(Value::as_bool)
            .unwrap_or(true)
    });
    let login = text(&cfg.login_claim);
    Ok(External {
        display_name: text("name")
            .or_else(|| login.clone())
            .unwrap_or_else(|| subject.clone()),
        email,
        login,
        subject,
    })
}

/// Checks an ID token: its signature by one of the provider's keys, then issuer, audience,
/// expiry (two minutes of clock difference allowed) and nonce. Returns its claims.
pub fn verify(
    token: &str,
    jwks: &Value,
    cfg: &Config,
    nonce: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<serde_json::Map<String, Value>> {
    let mut parts = token.split('.');
    let (Some(h), Some(p), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        anyhow::bail!("an ID token has three parts");
    };
    let header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(h)?)?;
    let signature = URL_SAFE_NO_PAD.decode(s)?;
    let signed = format!("{h}.{p}");
    let alg = header.get("alg").and_then(Value::as_str).unwrap_or("");
    let kid = header.get("kid").and_then(Value::as_str);
    let keys = jwks
        .get("keys")
        .and_then(Value::as_array)
        .ok_or_else(|| anyhow::anyhow!("the provider's key set has no keys"))?;
    let candidates = keys.iter().filter(|k| {
        kid.is_none_or(|kid| k.get("kid").and_then(Value::as_str) == Some(kid))
            && k.get("use")
                .and_then(Value::as_str)
                .is_none_or(|u| u == "sig")
    });
    let mut verified = false;
    for key in candidates {
        let b64 = |f: &str| -> Option<Vec<u8>> {
            URL_SAFE_NO_PAD
                .decode(key.get(f).and_then(Value::as_str)?)
                .ok()
        };
        let ok = match (alg, key.get("kty").and_then(Value::as_str)) {
            ("RS256", Some("RSA")) => match (b64("n"), b64("e")) {
                (Some(n), Some(e)) => ring::signature::RsaPublicKeyComponents { n, e }
                    .verify(
                        &ring::signature::RSA_PKCS1_2048_8192_SHA256,
                        signed.as_bytes(),
                        &signature,
                    )
                    .is_ok(),
                _ => false,
            },
            ("ES256", Some("EC")) => match (b64("x"), b64("y")) {
                (Some(x), Some(y)) if x.len() == 32 && y.len() == 32 => {
                    let mut point = vec![4u8];
                    point.extend(x);
                    point.extend(y);
                    ring::signature::UnparsedPublicKey::new(
                        &ring::signature::ECDSA_P256_SHA256_FIXED,
                        point,
                    )
                    .verify(signed.as_bytes(), &signature)
                    .is_ok()
                }
                _ => false,
            },
            _ => false,
        };
        if ok {
            verified = true;
            break;
        }
    }
    anyhow::ensure!(
        verified,
        "the ID token's signature ({alg}) matches none of the provider's keys"
    );
    let claims: serde_json::Map<String, Value> =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(p)?)?;
    let iss = claims.get("iss").and_then(Value::as_str).unwrap_or("");
    anyhow::ensure!(
        iss.trim_end_matches('/') == cfg.issuer,
        "the ID token comes from another issuer"
    );
    let audience = match claims.get("aud") {
        Some(Value::String(a)) => a == &cfg.client_id,
        Some(Value::Array(a)) => a.iter().any(|x| x.as_str() == Some(&cfg.client_id)),
        _ => false,
    };
    anyhow::ensure!(audience, "the ID token is for another client");
    let exp = claims.get("exp").and_then(Value::as_i64).unwrap_or(0);
    anyhow::ensure!(exp + 120 > now.timestamp(), "the ID token has expired");
    anyhow::ensure!(
        claims.get("nonce").and_then(Value::as_str) == Some(nonce),
        "the ID token's nonce is not this sign-in's"
    );
    Ok(claims)
}
