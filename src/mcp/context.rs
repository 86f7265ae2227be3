//! What a tool call brings besides its name and arguments, independent of
//! the transport: the key, the client's narrowing, the request id, whether
//! the client can be asked something in the middle of the call, and the
//! protocol era and transport the usage record notes.
//!
//! Owns: [`CallContext`] and how the handler finds it. The HTTP front puts
//! one into every request; over stdio there is none and the server's own
//! defaults apply. Must not touch: HTTP routing or header parsing.

use super::ToolFilter;
use crate::ds24::ApiKey;
use rmcp::RoleServer;
use rmcp::service::RequestContext;
use std::sync::{Arc, Mutex, OnceLock};

/// The narrowing a request asked for (headers or URL path); it can only
/// remove tools from the operator's set, never add any.
#[derive(Debug, Clone)]
pub struct Narrowing {
    /// The filter the request asked for.
    pub filter: ToolFilter,
    /// How it was asked, for messages (e.g. "header X-MCP-Readonly").
    pub source: String,
}

impl Narrowing {
    /// The narrowing of a read-only OAuth grant: read tools only.
    pub fn read_grant() -> Narrowing {
        Narrowing { filter: ToolFilter { read_only: true, ..ToolFilter::default() }, source: "the sign-in's read-only access".into() }
    }

    /// This narrowing, further limited to read tools by a read-only grant.
    pub fn and_read_only(mut self) -> Narrowing {
        self.filter.read_only = true;
        self.source = format!("{} and the sign-in's read-only access", self.source);
        self
    }
}

/// Everything about one call that does not come from its arguments.
#[derive(Debug, Clone, Default)]
pub struct CallContext {
    /// The key to call Digistore24 with (already the server's default where
    /// the request brought none; see `ServerSettings::key_for`).
    pub key: Option<ApiKey>,
    /// The client's own narrowing of the tool set.
    pub narrowing: Option<Narrowing>,
    /// The id of the request the call came with, for the log line.
    pub request_id: Option<String>,
    /// Whether the server can send the client a request mid-call (a live
    /// connection such as stdio; never over stateless HTTP).
    pub can_ask_mid_call: bool,
    /// The OAuth grant the key came from, if it came from one.
    pub grant: Option<GrantContext>,
    /// The transport's concurrency slot, which a long idle wait gives back.
    pub slot: Option<Slot>,
    /// The protocol version the request speaks (a known `YYYY-MM-DD`), `""` when unknown.
    pub era: &'static str,
    /// Which way the call came.
    pub transport: Transport,
}

/// Which way a call came, for the usage record.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Transport {
    /// Streamable HTTP.
    Http,
    /// A live stdio connection.
    Stdio,
    /// The `call` subcommand (and whatever did not say).
    #[default]
    CommandLine,
}

impl Transport {
    pub fn as_str(self) -> &'static str {
        match self {
            Transport::Http => "http",
            Transport::Stdio => "stdio",
            Transport::CommandLine => "cli",
        }
    }
}

/// The protocol version `version` names, if it is one rmcp knows; stateless
/// requests (2026-07-28 on) and session-era ones (before) tell apart by it.
pub fn known_era(version: &str) -> Option<&'static str> {
    rmcp::model::ProtocolVersion::KNOWN_VERSIONS.iter().map(|v| v.as_str()).find(|known| *known == version)
}

/// A call made with an OAuth access token: what it may do, and where the
/// pipeline reports a problem that the transport must answer itself (the
/// HTTP front turns it into 401 `invalid_token` or 403 `insufficient_scope`,
/// so the client signs in again or steps up instead of showing a tool error).
#[derive(Debug, Clone, Default)]
pub struct GrantContext {
    /// The grant allows read tools only.
    pub read_only: bool,
    /// The grant's id, for the log line (never the token).
    pub grant_id: String,
    /// Set by the pipeline at most once per request.
    pub problem: Arc<OnceLock<GrantProblem>>,
}

/// Why a call made with a grant must be answered by the transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrantProblem {
    /// Digistore24 refused the key inside the token (deleted or deactivated).
    KeyRejected,
    /// The tool changes data and the grant is read-only.
    InsufficientScope,
}

/// Something the transport holds for the length of a call (the HTTP front's
/// concurrency permit); [`Slot::release`] gives it back early, so a call
/// that only waits (`events_wait`) does not keep others out.
#[derive(Clone, Default)]
pub struct Slot(Arc<Mutex<Option<Box<dyn Send>>>>);

impl Slot {
    /// A slot holding `held` until released or dropped.
    pub fn holding(held: impl Send + 'static) -> Self {
        Slot(Arc::new(Mutex::new(Some(Box::new(held)))))
    }

    /// Gives the held thing back now.
    pub fn release(&self) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).take();
    }

    /// Whether it is still held.
    pub fn is_held(&self) -> bool {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).is_some()
    }
}

impl std::fmt::Debug for Slot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Slot").field(&self.is_held()).finish()
    }
}

impl CallContext {
    /// The era for the usage record: the protocol version, else `unversioned`.
    pub fn era_label(&self) -> &'static str {
        if self.era.is_empty() { "unversioned" } else { self.era }
    }

    /// The context the HTTP front attached to this request, if any. rmcp
    /// hands the handler the request head; only our context is read from it.
    pub fn of(request: &RequestContext<RoleServer>) -> Option<&CallContext> {
        request.extensions.get::<http::request::Parts>().and_then(|parts| parts.extensions.get::<CallContext>())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_era_is_a_known_protocol_version_or_unversioned() {
        assert_eq!(known_era("2026-07-28"), Some("2026-07-28"));
        assert_eq!(known_era("2025-06-18"), Some("2025-06-18"));
        assert_eq!(known_era("1999-01-01"), None, "a made-up version is not recorded as sent");
        assert_eq!(CallContext::default().era_label(), "unversioned");
        let context = CallContext { era: "2025-06-18", transport: Transport::Stdio, ..CallContext::default() };
        assert_eq!((context.era_label(), context.transport.as_str()), ("2025-06-18", "stdio"));
        assert_eq!(CallContext::default().transport.as_str(), "cli");
    }
}
