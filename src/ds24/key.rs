//! The customer's Digistore24 API key, kept out of every log line and error.

use sha2::{Digest, Sha256};
use std::fmt;

/// A Digistore24 API key. `Debug` and `Display` print only a short hash, so a
/// key cannot leak through a log line, an error message or a metric label.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ApiKey(String);

impl ApiKey {
    /// Wraps a key; surrounding white space is trimmed. `None` when empty.
    pub fn new(raw: &str) -> Option<Self> {
        let raw = raw.trim();
        (!raw.is_empty()).then(|| ApiKey(raw.to_owned()))
    }

    /// The key itself, for the `X-DS-API-KEY` header only.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// A short stable hash (8 hex digits) that identifies the key in logs.
    pub fn fingerprint(&self) -> String {
        let digest = Sha256::digest(self.0.as_bytes());
        hex::encode(&digest[..4])
    }

    /// The tenant of usage records: 16 hex digits of SHA-256 (64 bits), long
    /// enough that two customers never share one, unlike the 8-digit fingerprint.
    pub fn tenant_id(&self) -> String {
        let digest = Sha256::digest(self.0.as_bytes());
        hex::encode(&digest[..8])
    }

    /// Replaces every occurrence of the key in `text` (for upstream messages
    /// that might echo it back).
    pub fn redact(&self, text: &str) -> String {
        text.replace(&self.0, "[redacted]")
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ApiKey(#{})", self.fingerprint())
    }
}

impl fmt::Display for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.fingerprint())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_prints_the_key() {
        let key = ApiKey::new(" 123-secretsecret ").unwrap();
        assert_eq!(key.expose(), "123-secretsecret");
        for shown in [format!("{key}"), format!("{key:?}")] {
            assert!(!shown.contains("secret"), "{shown}");
        }
        assert_eq!(key.fingerprint(), ApiKey::new("123-secretsecret").unwrap().fingerprint());
        assert_eq!(key.redact("bad key 123-secretsecret!"), "bad key [redacted]!");
        assert!(ApiKey::new("  ").is_none());
    }

    #[test]
    fn the_tenant_id_is_a_longer_stable_hash_that_separates_keys() {
        let key = ApiKey::new("123-secretsecret").unwrap();
        let tenant = key.tenant_id();
        assert_eq!(tenant.len(), 16);
        assert!(tenant.bytes().all(|b| b.is_ascii_hexdigit()));
        assert!(tenant.starts_with(&key.fingerprint()), "the fingerprint is its prefix, so logs and dashboards agree");
        assert_eq!(tenant, ApiKey::new(" 123-secretsecret").unwrap().tenant_id());
        assert_ne!(tenant, ApiKey::new("123-secretsecreu").unwrap().tenant_id());
        assert!(!tenant.contains("secret"));
    }
}
