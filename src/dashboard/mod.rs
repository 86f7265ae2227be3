//! The usage dashboards: the customer's page (`/dashboard`) with its JSON
//! and CSV (`/api/usage`, `/dashboard/usage.csv`), and the operator's page
//! (`/dashboard/operator`, behind `--operator-token`).
//!
//! Owns: the dashboard's settings ([`DashboardConfig`]), its session cookies
//! (`session.rs`), the period and export formats (`api.rs`), the pages
//! (`render.rs`), the SVG chart (`charts.rs`) and the routes (`routes.rs`).
//! Must not touch: how usage is recorded or queried (`crate::store::usage`
//! and the recorder own that; the pages render the report types as they
//! are) or the MCP routes. The tenant always comes from the credentials
//! (the session or the key), never from a parameter; no key is ever stored.

pub mod api;
mod charts;
mod empty;
pub mod render;
mod routes;
pub mod session;

pub use empty::NotRecorded;
pub use routes::routes;

use crate::ds24::Client;
use crate::ipn::Events;
use crate::oauth::{KeyRing, OAuth};
use crate::store::usage::UsageStore;
use std::sync::Arc;
use std::time::Duration;

/// How long a dashboard session (customer or operator) lasts.
pub const SESSION_TTL: Duration = Duration::from_secs(12 * 3600);

/// What the dashboard needs from the rest of the server.
pub struct DashboardConfig {
    /// Where the reports come from (the database's usage half).
    pub usage: Arc<dyn UsageStore>,
    /// The IPN events, for the events section (absent when IPN is off).
    pub events: Option<Arc<Events>>,
    /// Seals the session cookies; see [`session_ring`] for where it comes from.
    pub ring: KeyRing,
    /// Checks a pasted key with Digistore24 (`getUserInfo`).
    pub client: Client,
    /// Mark cookies `Secure` (the public URL is https).
    pub secure_cookies: bool,
    /// `--operator-token`: the operator's page is off (404) without it.
    pub operator_token: Option<String>,
    /// Show the sandbox keys on the sign-in page.
    pub sandbox_hint: bool,
    pub session_ttl: Duration,
    /// With `--oauth`, `/api/usage` also takes the access tokens `/mcp` takes.
    pub oauth: Option<Arc<OAuth>>,
}

impl std::fmt::Debug for DashboardConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DashboardConfig")
            .field("secure_cookies", &self.secure_cookies)
            .field("operator", &self.operator_token.is_some())
            .finish_non_exhaustive()
    }
}

/// The dashboard: its settings and what it remembers between requests
/// (only the vendor ids of keys used on `/api/usage`).
#[derive(Debug)]
pub struct Dashboard {
    pub config: DashboardConfig,
    vendors: session::Vendors,
}

impl Dashboard {
    pub fn new(config: DashboardConfig) -> Dashboard {
        Dashboard { config, vendors: session::Vendors::default() }
    }
}

/// Where the session cookies' sealing key comes from, first match wins:
/// the OAuth key ring (`--oauth-secret`, so rotation works the same way),
/// else a ring derived from `--state-secret` (every replica with the same
/// secret opens every session), else a random secret for this process only
/// (sessions end with it and do not cross replicas; a warning says so).
pub fn session_ring(oauth_secret: Option<&str>, state_secret: Option<&[u8]>) -> Result<KeyRing, String> {
    if let Some(spec) = oauth_secret {
        return KeyRing::parse(spec).map_err(|e| e.to_string());
    }
    if let Some(secret) = state_secret {
        return Ok(KeyRing::from_secret("state", secret));
    }
    tracing::warn!(
        "dashboard sessions sealed with a random secret: they end with this process and do not cross replicas (set --state-secret)"
    );
    Ok(KeyRing::random())
}
