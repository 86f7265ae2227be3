//! What each sealed artifact says: the sign-in request, the authorization
//! code, the access and refresh tokens and a registered client, plus the
//! scope they carry.
//!
//! Owns: the payload types and the rules between them (a refresh never
//! outlives its grant). Must not touch: sealing (see `seal.rs`) or HTTP.

use crate::ds24::ApiKey;
use serde::{Deserialize, Serialize};

/// The read scope: every read tool.
pub const SCOPE_READ: &str = "digistore24:read";
/// The write scope: every tool (implies read).
pub const SCOPE_WRITE: &str = "digistore24:write";

/// What a grant allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// Read tools only.
    Read,
    /// Every tool.
    Write,
}

impl Scope {
    /// The scope a client asked for (`scope` parameter): read only when it
    /// names the read scope without the write scope; a missing scope or one
    /// naming neither (e.g. only `offline_access`) asks for everything, since
    /// clients often send none. The key's own level still limits it.
    pub fn requested(scope: Option<&str>) -> Scope {
        let words: Vec<&str> = scope.unwrap_or("").split_ascii_whitespace().collect();
        if words.contains(&SCOPE_READ) && !words.contains(&SCOPE_WRITE) { Scope::Read } else { Scope::Write }
    }

    /// The narrower of two scopes.
    pub fn min(self, other: Scope) -> Scope {
        if self == Scope::Read || other == Scope::Read { Scope::Read } else { Scope::Write }
    }

    /// The space-separated OAuth scope string.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Read => SCOPE_READ,
            Scope::Write => "digistore24:read digistore24:write",
        }
    }
}

/// A Digistore24 key inside a sealed payload; `Debug` never shows it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SealedKey(String);

impl SealedKey {
    /// Wraps the key that goes into a token.
    pub fn new(key: &ApiKey) -> Self {
        SealedKey(key.expose().to_owned())
    }

    /// The key again (None if the sealed text was empty, which we never seal).
    pub fn key(&self) -> Option<ApiKey> {
        ApiKey::new(&self.0)
    }
}

impl std::fmt::Debug for SealedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.key() {
            Some(key) => write!(f, "SealedKey({key})"),
            None => f.write_str("SealedKey(empty)"),
        }
    }
}

/// The `/authorize` request, carried through the sign-in form so the POST
/// needs nothing stored; `csrf` equals the value of the sign-in cookie.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SignInRequest {
    pub client_id: String,
    pub client_name: Option<String>,
    pub redirect_uri: String,
    pub code_challenge: String,
    pub state: Option<String>,
    pub scope: Scope,
    pub resource: String,
    pub csrf: String,
}

/// The facts a grant carries from the sign-in to every token of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grant {
    /// The key the vendor pasted (or Digistore24 issued).
    pub key: SealedKey,
    pub scope: Scope,
    /// The protected resource (the MCP URL) the tokens are for.
    pub resource: String,
    pub client_id: String,
    /// Random id of the sign-in, for logs (never the key).
    pub grant_id: String,
    /// When the grant ends (Unix seconds): no refresh after this.
    pub grant_exp: u64,
}

/// An authorization code (60 seconds).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Code {
    pub grant: Grant,
    pub redirect_uri: String,
    pub code_challenge: String,
}

/// An access token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Access {
    pub grant: Grant,
}

/// A refresh token: sliding expiry, never past the grant's end.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Refresh {
    pub grant: Grant,
    /// 0 for the first refresh token of a grant, one more with each rotation
    /// (with Redis, a token two or more rotations old is a replay).
    #[serde(default)]
    pub generation: u32,
}

/// A Digistore24 key request started from the sign-in page: its token,
/// bound to the sign-in it belongs to.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct KeyRequest {
    pub token: String,
    pub csrf: String,
}

/// A client registered dynamically (RFC 7591): the client id is this, sealed.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RegisteredClient {
    pub redirect_uris: Vec<String>,
    pub client_name: Option<String>,
    /// `none`, `client_secret_basic` or `client_secret_post`.
    pub auth_method: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_or_foreign_scope_asks_for_everything_and_a_read_scope_stays_read() {
        assert_eq!(Scope::requested(None), Scope::Write);
        assert_eq!(Scope::requested(Some(" ")), Scope::Write);
        assert_eq!(Scope::requested(Some("digistore24:read")), Scope::Read);
        assert_eq!(Scope::requested(Some("digistore24:read digistore24:write")), Scope::Write);
        assert_eq!(Scope::requested(Some("offline_access")), Scope::Write, "a scope naming neither is not a read request");
        assert_eq!(Scope::requested(Some("offline_access digistore24:read")), Scope::Read);
        assert_eq!(Scope::Write.min(Scope::Read), Scope::Read);
    }

    #[test]
    fn a_sealed_key_never_prints() {
        let key = SealedKey::new(&ApiKey::new("secret-key-123").unwrap());
        assert!(!format!("{key:?}").contains("secret"));
        assert!(!format!("{:?}", Access { grant: grant(key) }).contains("secret"));
    }

    fn grant(key: SealedKey) -> Grant {
        Grant { key, scope: Scope::Read, resource: "r".into(), client_id: "c".into(), grant_id: "g".into(), grant_exp: 0 }
    }
}
