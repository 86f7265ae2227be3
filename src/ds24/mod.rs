//! The Digistore24 side: API keys, argument validation and PHP-style wire
//! encoding, the response envelope, and the pooled HTTP client.
//!
//! Owns: everything between "a tool was called with these JSON arguments" and
//! "Digistore24 answered with this data or this error".
//! Must not touch: MCP types or the HTTP server; it knows nothing of how the
//! call arrived.

mod client;
mod encode;
mod envelope;
mod key;

pub use client::{Attempt, CallError, Client, ClientBuildError, ClientConfig, Observer};
pub use encode::{ArgError, FormBody, encode_args, parse_bool};
pub use envelope::{Envelope, EnvelopeError, parse_envelope};
pub use key::ApiKey;
