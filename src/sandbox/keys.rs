//! The sandbox's fixed API keys and what a key may do.
//!
//! Owns: the two shared keys of the default account and the access levels.
//! Must not touch: the key table (built in `sandbox/mod.rs`), accounts.

/// The shared key with read access to the default sandbox account.
pub const READONLY_KEY: &str = "sandbox-readonly";
/// The shared key with full access to the default sandbox account.
pub const WRITABLE_KEY: &str = "sandbox-writable";

/// The access level of an API key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Read access only.
    ReadOnly,
    /// Full access.
    Writable,
}
