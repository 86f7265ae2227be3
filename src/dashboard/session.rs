//! Who is looking at the dashboard: the sealed session cookies (customer
//! and operator), the double-submit values that protect the sign-in and
//! sign-out forms, the key check with Digistore24, and the credentials of
//! `/api/usage` (the session, or the key as on `/mcp`).
//!
//! Owns: the cookies' names, contents and attributes (`HttpOnly;
//! SameSite=Lax`, `Secure` behind https) and the rule that the tenant comes
//! from the credentials only. A session holds the tenant id (a hash of the
//! key), the vendor id and a CSRF value, never the key. Must not touch:
//! the pages' markup or the reports.

use super::DashboardConfig;
use crate::ds24::{ApiKey, CallError, Client, FormBody};
use crate::oauth::{Kind, now};
use axum::http::{HeaderMap, HeaderValue, header};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use subtle::ConstantTimeEq;

/// The customer's session cookie.
pub const SESSION_COOKIE: &str = "ds24dash_session";
/// The operator's session cookie.
pub const OPERATOR_COOKIE: &str = "ds24dash_operator";
/// The sign-in forms' double-submit cookie.
pub const CSRF_COOKIE: &str = "ds24dash_csrf";
/// Lifetime of a sign-in form.
const FORM_TTL: Duration = Duration::from_secs(30 * 60);
/// How long a key's vendor id is remembered for `/api/usage` with a key.
const VENDOR_TTL: Duration = Duration::from_secs(3600);

/// A signed-in customer: who, never the key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    /// `ApiKey::tenant_id` of the key signed in with.
    pub tenant: String,
    /// The Digistore24 user id (`getUserInfo`), the tenant of IPN events.
    pub vendor_id: Option<String>,
    /// Posted back by the sign-out form.
    pub csrf: String,
}

/// A signed-in operator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperatorSession {
    pub csrf: String,
}

/// Why a key could not sign in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyProblem {
    /// Digistore24 did not accept it.
    Rejected,
    /// Digistore24 could not be asked.
    Unreachable,
}

/// A random URL-safe value for a CSRF field.
pub fn random_value() -> String {
    use base64::Engine;
    let mut buf = [0u8; 18];
    aws_lc_rs::rand::fill(&mut buf).expect("the system random source works");
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf)
}

/// Whether two secrets are equal, in time independent of where they differ.
pub fn same_secret(a: &str, b: &str) -> bool {
    bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

pub use crate::oauth::request_cookie as cookie;

/// A `Set-Cookie` value; `max_age` 0 clears the cookie.
pub fn set_cookie(name: &str, value: &str, path: &str, max_age: Duration, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    let text = format!("{name}={value}; Path={path}; HttpOnly; SameSite=Lax; Max-Age={}{secure}", max_age.as_secs());
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static("invalid=; Max-Age=0"))
}

/// What a request's session cookie comes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cookie<T> {
    /// No cookie was sent.
    Missing,
    /// Sent, but tampered with, from another secret or expired.
    Invalid,
    Valid(T),
}

impl DashboardConfig {
    fn open<T: serde::de::DeserializeOwned>(&self, kind: Kind, headers: &HeaderMap, name: &str) -> Cookie<T> {
        match cookie(headers, name) {
            None | Some("") => Cookie::Missing,
            Some(sealed) => match self.ring.open(kind, sealed, now()) {
                Ok(body) => Cookie::Valid(body),
                Err(why) => {
                    tracing::info!(target: "digistore24_mcp::dashboard", reason = %why, cookie = name, "session cookie refused");
                    Cookie::Invalid
                }
            },
        }
    }

    /// The customer's session, if the cookie holds a valid one.
    pub fn session(&self, headers: &HeaderMap) -> Cookie<Session> {
        self.open(Kind::DashboardSession, headers, SESSION_COOKIE)
    }

    /// The operator's session, if the cookie holds a valid one.
    pub fn operator_session(&self, headers: &HeaderMap) -> Cookie<OperatorSession> {
        self.open(Kind::OperatorSession, headers, OPERATOR_COOKIE)
    }

    /// The `Set-Cookie` that starts a customer session.
    pub fn start_session(&self, session: &Session) -> HeaderValue {
        let sealed = self.ring.seal(Kind::DashboardSession, session, now() + self.session_ttl.as_secs());
        set_cookie(SESSION_COOKIE, &sealed, "/", self.session_ttl, self.secure_cookies)
    }

    /// The `Set-Cookie` that starts an operator session.
    pub fn start_operator_session(&self, session: &OperatorSession) -> HeaderValue {
        let sealed = self.ring.seal(Kind::OperatorSession, session, now() + self.session_ttl.as_secs());
        set_cookie(OPERATOR_COOKIE, &sealed, "/dashboard", self.session_ttl, self.secure_cookies)
    }

    /// The `Set-Cookie` that clears `name` (at the path it was set with).
    pub fn clear(&self, name: &str) -> HeaderValue {
        let path = if name == SESSION_COOKIE { "/" } else { "/dashboard" };
        set_cookie(name, "", path, Duration::ZERO, self.secure_cookies)
    }

    /// The double-submit cookie of a sign-in form.
    pub fn form_cookie(&self, csrf: &str) -> HeaderValue {
        set_cookie(CSRF_COOKIE, csrf, "/dashboard", FORM_TTL, self.secure_cookies)
    }

    /// Whether a posted form's `csrf` equals its cookie (another site can
    /// post a form, but cannot read or set our cookie).
    pub fn form_is_ours(&self, headers: &HeaderMap, posted: Option<&str>) -> bool {
        match (cookie(headers, CSRF_COOKIE), posted) {
            (Some(cookie), Some(posted)) if !cookie.is_empty() => same_secret(cookie, posted),
            _ => false,
        }
    }

    /// Whether `token` is the operator token (constant time).
    pub fn is_operator_token(&self, token: &str) -> bool {
        self.operator_token.as_deref().is_some_and(|expected| same_secret(expected, token.trim()))
    }

    /// Whether the request carries the operator token as `Authorization: Bearer`.
    pub fn operator_bearer(&self, headers: &HeaderMap) -> bool {
        bearer(headers).is_some_and(|token| self.is_operator_token(token))
    }
}

/// The value of `Authorization: Bearer …`, if any.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim()).filter(|t| !t.is_empty())
}

/// The key of a request as on `/mcp`: `Authorization: Bearer KEY` or `X-DS-API-KEY`.
pub fn key_from_headers(headers: &HeaderMap) -> Option<ApiKey> {
    bearer(headers).and_then(ApiKey::new).or_else(|| headers.get("x-ds-api-key").and_then(|v| v.to_str().ok()).and_then(ApiKey::new))
}

/// Asks Digistore24 whose key this is: the vendor (user) id, or why not.
pub async fn check_key(client: &Client, key: &ApiKey) -> Result<Option<String>, KeyProblem> {
    match client.call(key, crate::catalog::ACCOUNT_INFO, &FormBody::default()).await {
        Ok(info) => Ok(match &info["user_id"] {
            Value::String(s) if !s.is_empty() => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        }),
        Err(CallError::Api { code: Some(2), .. } | CallError::Api { status: 401, .. }) => Err(KeyProblem::Rejected),
        Err(error) => {
            tracing::warn!(target: "digistore24_mcp::dashboard", key = key.fingerprint(), error = error.kind(), "dashboard: key check failed");
            Err(KeyProblem::Unreachable)
        }
    }
}

/// Vendor ids of keys used on `/api/usage`, by tenant id, so a script
/// polling the API does not cost a Digistore24 call each time; a refused
/// key is remembered briefly too, so made-up keys cannot make us ask
/// Digistore24 at the caller's pace.
#[derive(Debug, Default)]
pub struct Vendors {
    known: Mutex<HashMap<String, Checked>>,
}

/// What a key check said (the vendor id, or why not), and when.
type Checked = (Result<Option<String>, KeyProblem>, Instant);

/// How long a refused key stays refused without asking again.
const REFUSED_TTL: Duration = Duration::from_secs(60);

impl Vendors {
    /// The key's vendor id: remembered, else asked. A key Digistore24
    /// refuses is refused; when Digistore24 cannot be asked the report is
    /// served without the events (the usage rows are the key's own anyway).
    pub async fn vendor_of(&self, client: &Client, key: &ApiKey) -> Result<Option<String>, KeyProblem> {
        let tenant = key.tenant_id();
        if let Some((known, at)) = self.known.lock().unwrap_or_else(|p| p.into_inner()).get(&tenant) {
            let ttl = if known.is_ok() { VENDOR_TTL } else { REFUSED_TTL };
            if at.elapsed() < ttl {
                return known.clone();
            }
        }
        let checked = match check_key(client, key).await {
            Err(KeyProblem::Unreachable) => return Ok(None),
            checked => checked,
        };
        let mut known = self.known.lock().unwrap_or_else(|p| p.into_inner());
        // Bounded: made-up keys must not grow memory without end.
        if known.len() >= 10_000 {
            known.clear();
        }
        known.insert(tenant, (checked.clone(), Instant::now()));
        checked
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_read_by_exact_name() {
        let mut headers = HeaderMap::new();
        headers.insert(header::COOKIE, HeaderValue::from_static("ds24dash_session_x=1; ds24dash_session=abc; other=2"));
        assert_eq!(cookie(&headers, SESSION_COOKIE), Some("abc"));
        assert_eq!(cookie(&headers, CSRF_COOKIE), None);
    }

    #[test]
    fn set_cookie_has_the_attributes_and_secure_only_behind_https() {
        let plain = set_cookie(SESSION_COOKIE, "v", "/", Duration::from_secs(60), false);
        assert_eq!(plain, "ds24dash_session=v; Path=/; HttpOnly; SameSite=Lax; Max-Age=60");
        let secure = set_cookie(SESSION_COOKIE, "v", "/", Duration::from_secs(60), true);
        assert!(secure.to_str().unwrap().ends_with("; Secure"));
    }

    #[test]
    fn secrets_compare_whole() {
        assert!(same_secret("operator-token", "operator-token"));
        assert!(!same_secret("operator-token", "operator-toke"));
        assert!(!same_secret("operator-token", "operator-tokeN"));
    }
}
