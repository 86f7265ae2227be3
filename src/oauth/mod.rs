//! The server as its own OAuth 2.1 authorization server, for clients that
//! cannot send a header (claude.ai, ChatGPT): the vendor pastes a
//! Digistore24 key into the sign-in page once, and every token the client
//! then holds carries that key sealed inside, so nothing is stored anywhere
//! and any replica with the same `--oauth-secret` serves any request.
//!
//! Owns: the OAuth settings ([`OAuthConfig`]), checking a request's access
//! token ([`OAuth::authenticate`]) and the answers that send a client to
//! sign in (401) or to step up (403); the endpoints live in `endpoints.rs`,
//! the sign-in page in `page.rs`, client and redirect rules in `clients.rs`,
//! sealing in `seal.rs`, the payloads in `artifacts.rs`.
//! Must not touch: tool logic ([`crate::mcp`]; a grant reaches it only as a
//! [`crate::mcp::GrantContext`]) or the key (logged as its fingerprint only).

pub mod artifacts;
mod cimd;
mod clients;
mod endpoints;
mod ledger;
pub mod page;
pub mod seal;

pub use artifacts::Grant;
pub use artifacts::{SCOPE_READ, SCOPE_WRITE, Scope};
pub use clients::PreRegistered;
pub use endpoints::routes;
pub use ledger::Ledger;
pub use seal::{KeyRing, Kind, OpenError};

use crate::ds24::{ApiKey, Client};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Default lifetime of an access token: long, because claude.ai often never refreshes.
pub const ACCESS_TTL: Duration = Duration::from_secs(24 * 3600);
/// Default sliding lifetime of a refresh token.
pub const REFRESH_TTL: Duration = Duration::from_secs(90 * 24 * 3600);
/// Default lifetime of a whole grant: no refresh after it.
pub const GRANT_TTL: Duration = Duration::from_secs(365 * 24 * 3600);
/// Lifetime of an authorization code.
pub const CODE_TTL: Duration = Duration::from_secs(60);
/// Lifetime of the sign-in page's form.
pub const SIGN_IN_TTL: Duration = Duration::from_secs(30 * 60);

/// How the operator set OAuth up.
#[derive(Debug)]
pub struct OAuthConfig {
    /// The public URL clients reach the server at (its origin is the issuer).
    pub public_url: String,
    /// The secrets sealing every artifact.
    pub ring: KeyRing,
    pub access_ttl: Duration,
    pub refresh_ttl: Duration,
    pub grant_ttl: Duration,
    /// Private URI schemes allowed as redirects (e.g. `cursor`).
    pub redirect_schemes: Vec<String>,
    /// Clients the operator registered by hand.
    pub clients: Vec<PreRegistered>,
    /// Show the sandbox keys on the sign-in page.
    pub sandbox_hint: bool,
    /// Tests only: fetch client metadata documents from loopback over http
    /// (outside tests such a document is refused, like every private address).
    pub cimd_allow_loopback: bool,
    /// The operator's Digistore24 developer key: enables "Connect with Digistore24".
    pub developer_key: Option<ApiKey>,
    /// Single-use codes and revocation, when Redis is configured.
    pub ledger: Ledger,
}

/// The configured authorization server: settings, issuer and the upstream
/// client that checks pasted keys.
#[derive(Debug)]
pub struct OAuth {
    config: OAuthConfig,
    /// `scheme://host[:port]`, no path, no trailing slash.
    issuer: String,
    client: Client,
    documents: cimd::Documents,
}

/// What a request's credentials come to when OAuth is on.
pub enum Authenticated {
    /// No token of ours: go on as without OAuth (raw key or none).
    NotOurs,
    /// A valid access token.
    Token { key: ApiKey, scope: Scope, grant_id: String },
    /// Refused: the answer to send (401 with the challenge).
    Refused(Response),
}

impl OAuth {
    /// Checks the public URL (https, or http on a loopback host only) and
    /// takes its origin as the issuer.
    pub fn new(config: OAuthConfig, client: Client) -> Result<OAuth, String> {
        let url = url::Url::parse(&config.public_url).map_err(|e| format!("--public-url {}: {e}", config.public_url))?;
        let loopback = clients::is_loopback_host(url.host_str().unwrap_or(""));
        match url.scheme() {
            "https" => {}
            "http" if loopback => {}
            _ => return Err(format!("--public-url must be https (http only on a loopback address for tests), not {}", config.public_url)),
        }
        if url.host_str().is_none() || url.query().is_some() || url.fragment().is_some() {
            return Err(format!("--public-url must be a plain URL such as https://mcp.example.com, not {}", config.public_url));
        }
        let issuer = url.origin().ascii_serialization();
        let documents = cimd::Documents::new(config.cimd_allow_loopback);
        Ok(OAuth { config, issuer, client, documents })
    }

    /// The issuer: the public URL's origin.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The host clients reach us at (for the Host allow-list).
    pub fn public_host(&self) -> Option<String> {
        url::Url::parse(&self.issuer).ok().and_then(|u| u.host_str().map(|h| h.trim_matches(['[', ']']).to_owned()))
    }

    /// The sealing key ring.
    pub fn ring(&self) -> &KeyRing {
        &self.config.ring
    }

    /// The URL of the protected-resource metadata for the MCP path `path`.
    pub fn resource_metadata_url(&self, path: &str) -> String {
        format!("{}/.well-known/oauth-protected-resource{path}", self.issuer)
    }

    /// Reads the request's bearer token: ours → opened, checked against the
    /// path it is used on and (with Redis) against revocation; anything else is not ours.
    pub async fn authenticate(&self, headers: &HeaderMap, path: &str) -> Authenticated {
        let Some(token) = bearer(headers) else { return Authenticated::NotOurs };
        if !token.starts_with(Kind::Access.prefix()) {
            return Authenticated::NotOurs;
        }
        let access: artifacts::Access = match self.config.ring.open(Kind::Access, token, now()) {
            Ok(access) => access,
            Err(why) => {
                tracing::info!(target: "digistore24_mcp::oauth", reason = %why, "access token refused");
                return Authenticated::Refused(self.invalid_token(path, "the access token is invalid or expired; sign in again"));
            }
        };
        let grant = access.grant;
        if !self.resource_covers(&grant.resource, path) {
            tracing::info!(target: "digistore24_mcp::oauth", grant = %grant.grant_id, "access token for another resource");
            return Authenticated::Refused(self.invalid_token(path, "the access token was issued for another resource"));
        }
        match self.config.ledger.is_revoked(&grant.grant_id).await {
            Ok(false) => {}
            Ok(true) => {
                tracing::info!(target: "digistore24_mcp::oauth", grant = %grant.grant_id, "access token of a revoked grant");
                return Authenticated::Refused(self.invalid_token(path, "the sign-in was revoked; sign in again"));
            }
            // Availability over revocation: a Redis outage must not end every session.
            Err(_) => {
                tracing::warn!(target: "digistore24_mcp::oauth", grant = %grant.grant_id, "Redis unavailable: revocation not checked")
            }
        }
        match grant.key.key() {
            Some(key) => Authenticated::Token { key, scope: grant.scope, grant_id: grant.grant_id },
            None => Authenticated::Refused(self.invalid_token(path, "the access token carries no key")),
        }
    }

    /// Whether a token for `resource` may be used at the MCP path `path`:
    /// the same URL, or a token for the whole server (`/mcp` or the origin),
    /// since the narrowing paths can only remove tools.
    fn resource_covers(&self, resource: &str, path: &str) -> bool {
        let resource = resource.trim_end_matches('/');
        resource == format!("{}{path}", self.issuer).trim_end_matches('/')
            || resource == format!("{}/mcp", self.issuer)
            || resource == self.issuer
    }

    /// 401 for a request without credentials: where to sign in.
    pub fn challenge(&self, path: &str) -> Response {
        let value = format!("Bearer resource_metadata=\"{}\", scope=\"{}\"", self.resource_metadata_url(path), Scope::Write.as_str());
        let message = "Unauthorized: sign in with OAuth (see the WWW-Authenticate header), or send a Digistore24 API key as `Authorization: Bearer YOUR_KEY` or `X-DS-API-KEY: YOUR_KEY`.";
        refusal(StatusCode::UNAUTHORIZED, &value, message)
    }

    /// 401 `invalid_token`: the token (or the key inside it) no longer works.
    pub fn invalid_token(&self, path: &str, why: &str) -> Response {
        let value = format!(
            "Bearer error=\"invalid_token\", error_description=\"{why}\", resource_metadata=\"{}\", scope=\"{}\"",
            self.resource_metadata_url(path),
            Scope::Write.as_str()
        );
        refusal(StatusCode::UNAUTHORIZED, &value, &format!("Unauthorized: {why}."))
    }

    /// 403 `insufficient_scope`: the call needs the write scope.
    pub fn insufficient_scope(&self, path: &str) -> Response {
        let value = format!(
            "Bearer error=\"insufficient_scope\", scope=\"{}\", resource_metadata=\"{}\", error_description=\"this tool changes data and needs the scope {SCOPE_WRITE}\"",
            Scope::Write.as_str(),
            self.resource_metadata_url(path)
        );
        refusal(
            StatusCode::FORBIDDEN,
            &value,
            &format!(
                "Forbidden: this tool changes data and the sign-in granted read access only; sign in again with the scope {SCOPE_WRITE} and a key with full access."
            ),
        )
    }
}

/// A JSON-RPC error answer with a `WWW-Authenticate` header.
fn refusal(status: StatusCode, challenge: &str, message: &str) -> Response {
    let body = json!({"jsonrpc": "2.0", "id": null, "error": {"code": -32001, "message": message}});
    let mut response = (status, axum::Json(body)).into_response();
    if let Ok(value) = HeaderValue::from_str(challenge) {
        response.headers_mut().insert(header::WWW_AUTHENTICATE, value);
    }
    response
}

/// The value of `Authorization: Bearer …`, if any.
fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim()).filter(|t| !t.is_empty())
}

/// Unix seconds now.
pub fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// A random URL-safe id of `bytes` random bytes.
fn random_id(bytes: usize) -> String {
    use base64::Engine;
    let mut buf = vec![0u8; bytes];
    aws_lc_rs::rand::fill(&mut buf).expect("the system random source works");
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf)
}

/// The value of cookie `name`, if the request sent it (the sign-in pages'
/// cookies; the dashboard reads its session with the same rule).
pub fn request_cookie<'a>(headers: &'a axum::http::HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v)
}
