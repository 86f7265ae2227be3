//! How a server instance is set up; fixed for its lifetime.
//!
//! Owns: [`ServerSettings`], its defaults and the one rule for which key a
//! call uses. The CLI and the tests build settings the same way:
//! [`ServerSettings::new`] and then the fields they set.

use super::ToolFilter;
use super::answer::Bounds;
use super::policy::{ConfirmPolicy, Limits};
use crate::ds24::ApiKey;
use crate::ipn::Events;
use crate::ops::cache::ResponseCache;
use crate::ops::limit::RateLimiter;
use crate::ops::usage::Recorder;
use std::sync::Arc;
use std::time::Duration;

/// How long a confirmation request stays valid by default.
pub const CONFIRMATION_TTL: Duration = Duration::from_secs(300);
/// How often a failed read is retried by default (writes never are).
pub const DEFAULT_READ_RETRIES: u32 = 2;

/// How a server instance is set up.
#[derive(Debug, Clone)]
pub struct ServerSettings {
    /// The operator's bound on which tools exist.
    pub filter: ToolFilter,
    /// Key used when a request brings none (stdio, single-tenant, sandbox).
    pub default_key: Option<ApiKey>,
    /// Which calls need the user's confirmation.
    pub confirm: ConfirmPolicy,
    /// Money caps and product allow-list.
    pub limits: Limits,
    /// Largest answer passed to the agent, in bytes of JSON and in cl100k tokens.
    pub result_bounds: Bounds,
    /// Secret that seals confirmation state; the same on every replica.
    pub state_secret: Vec<u8>,
    /// How long the user has to confirm.
    pub confirmation_ttl: Duration,
    /// Per-key rate limit of tool calls that reach Digistore24.
    pub limiter: Option<Arc<RateLimiter>>,
    /// Cache of rarely-changing reference data.
    pub cache: Option<Arc<ResponseCache>>,
    /// How often a failed read is retried (writes never are).
    pub read_retries: u32,
    /// Count tool calls per key hash in the metrics.
    pub metrics_per_key: bool,
    /// The IPN store and secrets; `None` = the receiver and `events` tools are off.
    pub events: Option<Arc<Events>>,
    /// Cancelled when this instance stops taking connections: open
    /// `subscriptions/listen` streams then end gracefully, so their clients
    /// listen again on another replica instead of holding up the stop.
    pub stopping: tokio_util::sync::CancellationToken,
    /// Where a usage row of every call goes; `None` = not recorded.
    pub usage: Option<Arc<Recorder>>,
}

impl ServerSettings {
    /// The defaults, sealing confirmations with `state_secret`.
    pub fn new(state_secret: Vec<u8>) -> Self {
        ServerSettings {
            filter: ToolFilter::default(),
            default_key: None,
            confirm: ConfirmPolicy::default(),
            limits: Limits::default(),
            result_bounds: Bounds::default(),
            state_secret,
            confirmation_ttl: CONFIRMATION_TTL,
            limiter: None,
            cache: None,
            read_retries: DEFAULT_READ_RETRIES,
            metrics_per_key: false,
            events: None,
            stopping: tokio_util::sync::CancellationToken::new(),
            usage: None,
        }
    }

    /// The key a call uses: the request's own, else the server's default.
    /// The one place this fallback is decided.
    pub fn key_for(&self, given: Option<ApiKey>) -> Option<ApiKey> {
        given.or_else(|| self.default_key.clone())
    }
}

impl Default for ServerSettings {
    /// The defaults with a random per-process secret.
    fn default() -> Self {
        ServerSettings::new(random_secret())
    }
}

/// A per-process secret for deployments that did not configure one.
pub fn random_secret() -> Vec<u8> {
    use rand::RngCore;
    let mut secret = vec![0u8; 32];
    rand::rng().fill_bytes(&mut secret);
    secret
}
