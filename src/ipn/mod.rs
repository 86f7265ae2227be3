//! Digistore24's IPN (Instant Payment Notification) webhooks: the receiver,
//! the secrets derived per tenant, and the agent's view of an event.
//!
//! Owns: [`Events`] (what the receiver and the `events` tools share), the
//! derivation of a tenant's URL token and passphrase from `--ipn-secret`
//! (nothing secret is stored; any replica can verify any IPN), signature
//! checks ([`signature`]), the HTTP receiver ([`receiver`]) and summaries.
//! Must not touch: SQL (see [`crate::store`]) or MCP types.

pub mod receiver;
pub mod signature;
pub mod summary;

use crate::ds24::ApiKey;
use crate::ops::limit::RateLimiter;
use crate::store::EventStore;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Digest;
use sha2::Sha256;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use subtle::ConstantTimeEq;

/// How long `events_wait` waits by default and at most, in seconds.
pub const WAIT_DEFAULT_SECS: u64 = 25;
/// See [`WAIT_DEFAULT_SECS`].
pub const WAIT_MAX_SECS: u64 = 50;
/// Default of `--events-retention-days`.
pub const DEFAULT_RETENTION_DAYS: u32 = 90;
/// Largest IPN body accepted (a real 173-field IPN is about 8 KiB).
pub const MAX_IPN_BODY_BYTES: usize = 64 * 1024;
/// Default of `--ipn-rate-limit-rps`: Digistore24 sends a handful of IPNs
/// per sale, so a vendor's normal traffic stays far below it.
pub const DEFAULT_IPN_RATE_PER_SECOND: f64 = 50.0;
/// Default of `--ipn-rate-limit-burst`.
pub const DEFAULT_IPN_BURST: f64 = 200.0;
/// How many recent rejections `events_status` can show.
const REJECTIONS_KEPT: usize = 50;

/// What the receiver and the tools share: the store and the IPN secrets.
pub struct Events {
    pub store: Arc<dyn EventStore>,
    /// `--ipn-secret`: derives every tenant's token and passphrase.
    secret: Option<Vec<u8>>,
    /// `--ipn-passphrase`: the single-tenant `POST /ipn` set up by hand.
    single_passphrase: Option<String>,
    /// `--public-url`: where Digistore24 reaches this server.
    pub public_url: Option<String>,
    /// Recent rejections, in memory only (a forged flood must not fill the database).
    rejections: Mutex<VecDeque<Rejection>>,
    /// Tenant of each key seen, by the key's SHA-256 (never the key itself).
    tenants: Mutex<HashMap<[u8; 32], String>>,
    /// Whether a loopback `http://` receiver URL may be registered (the sandbox only).
    loopback_urls: bool,
    /// The receiver's own rate limit (per URL token, else per client
    /// address); separate from the MCP one. `None`: unlimited.
    pub limiter: Option<Arc<RateLimiter>>,
}

/// One refused IPN: when, for whom (if the token was valid) and why.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Rejection {
    pub at: i64,
    #[serde(skip)]
    pub tenant: Option<String>,
    pub reason: String,
}

impl std::fmt::Debug for Events {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Events").field("backend", &self.store.backend()).field("public_url", &self.public_url).finish_non_exhaustive()
    }
}

impl Events {
    pub fn new(store: Arc<dyn EventStore>, secret: Option<Vec<u8>>, single_passphrase: Option<String>, public_url: Option<String>) -> Self {
        let public_url = public_url.map(|u| u.trim_end_matches('/').to_owned());
        Events {
            store,
            secret,
            single_passphrase,
            public_url,
            rejections: Mutex::default(),
            tenants: Mutex::default(),
            loopback_urls: false,
            limiter: None,
        }
    }

    /// Allows registering a loopback `http://` receiver URL: only for the
    /// built-in sandbox, which (unlike Digistore24) can reach it.
    pub fn with_loopback_urls(mut self) -> Self {
        self.loopback_urls = true;
        self
    }

    /// Limits how often the receiver accepts IPNs (see [`Events::limiter`]).
    pub fn with_rate_limit(mut self, limiter: Arc<RateLimiter>) -> Self {
        self.limiter = Some(limiter);
        self
    }

    /// See [`Events::with_loopback_urls`].
    pub fn loopback_urls(&self) -> bool {
        self.loopback_urls
    }

    fn derive(&self, purpose: &str, tenant: &str) -> Option<String> {
        let secret = self.secret.as_ref()?;
        let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes keys of any length");
        mac.update(purpose.as_bytes());
        mac.update(&[0]);
        mac.update(tenant.as_bytes());
        Some(hex::encode(mac.finalize().into_bytes())[..32].to_owned())
    }

    /// The URL token of a tenant: `{tenant}-{mac}`, so the receiver learns
    /// the tenant from the URL and checks it without any lookup.
    pub fn token_for(&self, tenant: &str) -> Option<String> {
        Some(format!("{tenant}-{}", self.derive("ipn-url", tenant)?))
    }

    /// The tenant a URL token belongs to, if the token is genuine.
    pub fn tenant_of(&self, token: &str) -> Option<String> {
        let (tenant, mac) = token.rsplit_once('-')?;
        if tenant.is_empty() || !tenant.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            return None;
        }
        let expected = self.derive("ipn-url", tenant)?;
        bool::from(expected.as_bytes().ct_eq(mac.as_bytes())).then(|| tenant.to_owned())
    }

    /// The `sha_passphrase` of a tenant's connection.
    pub fn passphrase_for(&self, tenant: &str) -> Option<String> {
        self.derive("ipn-passphrase", tenant)
    }

    /// The passphrase of the single-tenant `POST /ipn`.
    pub fn single_passphrase(&self) -> Option<&str> {
        self.single_passphrase.as_deref()
    }

    /// The receiver URL of a tenant, when `--public-url` and `--ipn-secret` are set.
    pub fn url_for(&self, tenant: &str) -> Option<String> {
        Some(format!("{}/ipn/{}", self.public_url.as_ref()?, self.token_for(tenant)?))
    }

    /// Whether per-tenant connections can be made (`--ipn-secret` is set).
    pub fn multi_tenant(&self) -> bool {
        self.secret.is_some()
    }

    /// Notes a refused IPN (the reason only, never the body).
    pub fn reject(&self, tenant: Option<&str>, reason: String) {
        tracing::warn!(target: "digistore24_mcp::ipn", tenant = tenant.unwrap_or("-"), reason, "IPN rejected");
        crate::ops::metrics::ipn("rejected");
        let mut kept = self.rejections.lock().unwrap_or_else(|p| p.into_inner());
        if kept.len() == REJECTIONS_KEPT {
            kept.pop_front();
        }
        kept.push_back(Rejection { at: crate::store::now_ms(), tenant: tenant.map(str::to_owned), reason });
    }

    /// The tenant of a key asked before in this process.
    pub fn cached_tenant(&self, key: &ApiKey) -> Option<String> {
        self.tenants.lock().unwrap_or_else(|p| p.into_inner()).get(&key_hash(key)).cloned()
    }

    /// Remembers the tenant of a key (a vendor's id does not change).
    pub fn remember_tenant(&self, key: &ApiKey, tenant: &str) {
        let mut tenants = self.tenants.lock().unwrap_or_else(|p| p.into_inner());
        // Bounded: a flood of made-up keys must not grow memory without end.
        if tenants.len() >= 100_000 {
            tenants.clear();
        }
        tenants.insert(key_hash(key), tenant.to_owned());
    }

    /// The tenant's recent rejections on this replica, newest last.
    pub fn rejections_of(&self, tenant: &str) -> Vec<Rejection> {
        let kept = self.rejections.lock().unwrap_or_else(|p| p.into_inner());
        kept.iter().filter(|r| r.tenant.as_deref() == Some(tenant)).cloned().collect()
    }
}

fn key_hash(key: &ApiKey) -> [u8; 32] {
    Sha256::digest(key.expose().as_bytes()).into()
}
