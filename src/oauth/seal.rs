//! Sealing of every OAuth artifact: AES-256-GCM-SIV with a random nonce,
//! a key per artifact type derived by HKDF-SHA256 from the operator's secret,
//! and the type and key id in the associated data, so an artifact of one
//! type never opens as another and nothing inside is readable without the
//! secret.
//!
//! Owns: [`KeyRing`] (`kid:base64,…`: the first entry seals, all open), the
//! token format `PREFIX KID . BASE64URL(nonce ‖ ciphertext ‖ tag)` and the
//! expiry every sealed payload carries. Must not touch: what the artifacts
//! mean (see `artifacts.rs`) or HTTP.

use aws_lc_rs::aead::{AES_256_GCM_SIV, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_lc_rs::hkdf::{HKDF_SHA256, Salt};
use aws_lc_rs::hmac;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// The kinds of sealed artifact; each has its own key, prefix and label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The `/authorize` request carried through the sign-in form.
    SignIn,
    /// An authorization code.
    Code,
    /// An access token.
    Access,
    /// A refresh token.
    Refresh,
    /// A client id issued by dynamic client registration.
    Client,
    /// A pending Digistore24 key request (its token), kept in a cookie.
    KeyRequest,
    /// A usage dashboard session (tenant id and vendor id, never the key), kept in a cookie.
    DashboardSession,
    /// An operator dashboard session (the operator token checked), kept in a cookie.
    OperatorSession,
}

impl Kind {
    const ALL: [Kind; 8] = [
        Kind::SignIn,
        Kind::Code,
        Kind::Access,
        Kind::Refresh,
        Kind::Client,
        Kind::KeyRequest,
        Kind::DashboardSession,
        Kind::OperatorSession,
    ];

    /// The label in the HKDF info and the associated data.
    fn label(self) -> &'static str {
        match self {
            Kind::SignIn => "sign-in-request",
            Kind::Code => "authorization-code",
            Kind::Access => "access-token",
            Kind::Refresh => "refresh-token",
            Kind::Client => "client-id",
            Kind::KeyRequest => "key-request",
            Kind::DashboardSession => "dashboard-session",
            Kind::OperatorSession => "operator-session",
        }
    }

    /// The readable start of the artifact: lets the server tell its own
    /// tokens from raw Digistore24 keys, and lets secret scanners find them.
    pub fn prefix(self) -> &'static str {
        match self {
            Kind::SignIn => "ds24mcp_si_",
            Kind::Code => "ds24mcp_ac_",
            Kind::Access => "ds24mcp_at_",
            Kind::Refresh => "ds24mcp_rt_",
            Kind::Client => "ds24mcp_cl_",
            Kind::KeyRequest => "ds24mcp_kr_",
            Kind::DashboardSession => "ds24mcp_ds_",
            Kind::OperatorSession => "ds24mcp_os_",
        }
    }
}

/// Why an artifact did not open. Deliberately coarse: the caller answers
/// `invalid_grant`/`invalid_token` for all of them; the variant is for logs and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum OpenError {
    /// Not of the expected prefix or shape.
    #[error("malformed")]
    Malformed,
    /// Sealed with a key id that is not (or no longer) in the ring.
    #[error("unknown key id")]
    UnknownKid,
    /// The authentication tag did not match: tampered, another type, another secret.
    #[error("does not authenticate")]
    Forged,
    /// Authentic but past its expiry.
    #[error("expired")]
    Expired,
}

/// A key ring problem at start-up.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RingError {
    #[error("--oauth-secret is empty; give at least one kid:base64 entry")]
    Empty,
    #[error("--oauth-secret entry {0}: expected kid:base64 (kid of 1-16 letters, digits, - or _)")]
    Shape(usize),
    #[error("--oauth-secret entry {0}: the secret is not base64")]
    NotBase64(usize),
    #[error("--oauth-secret entry {0}: the secret must be at least 32 bytes (openssl rand -base64 32)")]
    TooShort(usize),
    #[error("--oauth-secret: key id {0} appears twice")]
    Duplicate(String),
}

/// One secret of the ring with its derived per-kind keys.
struct RingKey {
    kid: String,
    keys: Vec<(Kind, LessSafeKey)>,
    client_secret: hmac::Key,
}

/// The operator's secrets: the first entry seals, every entry opens, so a
/// secret can be rotated by putting a new one first and dropping the old one
/// once its tokens have expired.
pub struct KeyRing {
    entries: Vec<RingKey>,
}

impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kids: Vec<&str> = self.entries.iter().map(|e| e.kid.as_str()).collect();
        f.debug_struct("KeyRing").field("kids", &kids).finish_non_exhaustive()
    }
}

const SALT: &[u8] = b"digistore24-mcp oauth v1";

/// The payload frame: expiry (Unix seconds) and the artifact.
#[derive(Serialize, serde::Deserialize)]
struct Frame<T> {
    exp: u64,
    body: T,
}

impl KeyRing {
    /// Parses `kid:base64,kid:base64,…` (standard or URL-safe base64).
    pub fn parse(spec: &str) -> Result<KeyRing, RingError> {
        let mut entries = Vec::new();
        for (index, entry) in spec.split(',').map(str::trim).filter(|e| !e.is_empty()).enumerate() {
            let n = index + 1;
            let (kid, secret) = entry.split_once(':').ok_or(RingError::Shape(n))?;
            let kid_ok = !kid.is_empty() && kid.len() <= 16 && kid.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
            if !kid_ok {
                return Err(RingError::Shape(n));
            }
            let secret = secret.trim().trim_end_matches('=');
            let bytes = URL_SAFE_NO_PAD
                .decode(secret)
                .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(secret))
                .map_err(|_| RingError::NotBase64(n))?;
            if bytes.len() < 32 {
                return Err(RingError::TooShort(n));
            }
            if entries.iter().any(|e: &RingKey| e.kid == kid) {
                return Err(RingError::Duplicate(kid.to_owned()));
            }
            entries.push(RingKey::derive(kid, &bytes));
        }
        if entries.is_empty() {
            return Err(RingError::Empty);
        }
        Ok(KeyRing { entries })
    }

    /// A ring of one random secret (kid `random`): for the sandbox and tests,
    /// where tokens need not outlive the process or cross replicas.
    pub fn random() -> KeyRing {
        let mut secret = [0u8; 32];
        aws_lc_rs::rand::fill(&mut secret).expect("the system random source works");
        KeyRing { entries: vec![RingKey::derive("random", &secret)] }
    }

    /// A ring of one secret given as bytes (kid `kid`): the dashboard's
    /// sessions when `--oauth` is off, from `--state-secret`, so every
    /// replica with the same secret opens every session.
    pub fn from_secret(kid: &str, secret: &[u8]) -> KeyRing {
        KeyRing { entries: vec![RingKey::derive(kid, secret)] }
    }

    /// A `kid:base64` entry for a fresh random secret (for docs and tests).
    pub fn generate_entry(kid: &str) -> String {
        let mut secret = [0u8; 32];
        aws_lc_rs::rand::fill(&mut secret).expect("the system random source works");
        format!("{kid}:{}", STANDARD.encode(secret))
    }

    /// Seals `body` as an artifact of `kind`, valid until `exp` (Unix seconds).
    pub fn seal<T: Serialize>(&self, kind: Kind, body: &T, exp: u64) -> String {
        let sealer = &self.entries[0];
        let mut data = serde_json::to_vec(&Frame { exp, body }).expect("artifacts serialize");
        let mut nonce = [0u8; NONCE_LEN];
        aws_lc_rs::rand::fill(&mut nonce).expect("the system random source works");
        sealer
            .key(kind)
            .seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::from(aad(kind, &sealer.kid)), &mut data)
            .expect("sealing a small buffer cannot fail");
        let mut blob = nonce.to_vec();
        blob.extend_from_slice(&data);
        format!("{}{}.{}", kind.prefix(), sealer.kid, URL_SAFE_NO_PAD.encode(blob))
    }

    /// Opens an artifact of `kind` sealed by any key of the ring, if it has
    /// not expired at `now` (Unix seconds).
    pub fn open<T: DeserializeOwned>(&self, kind: Kind, token: &str, now: u64) -> Result<T, OpenError> {
        let rest = token.strip_prefix(kind.prefix()).ok_or(OpenError::Malformed)?;
        let (kid, blob) = rest.split_once('.').ok_or(OpenError::Malformed)?;
        let entry = self.entries.iter().find(|e| e.kid == kid).ok_or(OpenError::UnknownKid)?;
        let blob = URL_SAFE_NO_PAD.decode(blob).map_err(|_| OpenError::Malformed)?;
        if blob.len() < NONCE_LEN + AES_256_GCM_SIV.tag_len() {
            return Err(OpenError::Malformed);
        }
        let (nonce, sealed) = blob.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| OpenError::Malformed)?;
        let mut sealed = sealed.to_vec();
        let plain = entry.key(kind).open_in_place(nonce, Aad::from(aad(kind, kid)), &mut sealed).map_err(|_| OpenError::Forged)?;
        let frame: Frame<T> = serde_json::from_slice(plain).map_err(|_| OpenError::Malformed)?;
        if now >= frame.exp {
            return Err(OpenError::Expired);
        }
        Ok(frame.body)
    }

    /// The client secret of a registered client id: an HMAC of the id, so
    /// it is never stored and every replica can check it.
    pub fn client_secret(&self, client_id: &str) -> String {
        URL_SAFE_NO_PAD.encode(hmac::sign(&self.entries[0].client_secret, client_id.as_bytes()).as_ref())
    }

    /// Whether `secret` is the client secret of `client_id` under any key of the ring.
    pub fn check_client_secret(&self, client_id: &str, secret: &str) -> bool {
        let Ok(tag) = URL_SAFE_NO_PAD.decode(secret.trim_end_matches('=')) else { return false };
        self.entries.iter().any(|e| hmac::verify(&e.client_secret, client_id.as_bytes(), &tag).is_ok())
    }
}

fn aad(kind: Kind, kid: &str) -> Vec<u8> {
    format!("digistore24-mcp/oauth/v1/{}/{kid}", kind.label()).into_bytes()
}

impl RingKey {
    fn derive(kid: &str, secret: &[u8]) -> RingKey {
        let prk = Salt::new(HKDF_SHA256, SALT).extract(secret);
        let keys = Kind::ALL
            .iter()
            .map(|&kind| {
                let info = [kind.label().as_bytes()];
                let okm = prk.expand(&info, &AES_256_GCM_SIV).expect("32 bytes is a valid HKDF output length");
                (kind, LessSafeKey::new(UnboundKey::from(okm)))
            })
            .collect();
        let mut mac_key = [0u8; 32];
        prk.expand(&[b"client-secret".as_slice()], HmacLen)
            .and_then(|okm| okm.fill(&mut mac_key))
            .expect("32 bytes is a valid HKDF output");
        RingKey { kid: kid.to_owned(), keys, client_secret: hmac::Key::new(hmac::HMAC_SHA256, &mac_key) }
    }

    fn key(&self, kind: Kind) -> &LessSafeKey {
        &self.keys.iter().find(|(k, _)| *k == kind).expect("every kind has a key").1
    }
}

/// HKDF output length of the client-secret HMAC key.
struct HmacLen;

impl aws_lc_rs::hkdf::KeyType for HmacLen {
    fn len(&self) -> usize {
        32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize, serde::Deserialize, Debug, PartialEq)]
    struct Payload {
        key: String,
    }

    fn ring(spec: &str) -> KeyRing {
        KeyRing::parse(spec).unwrap()
    }

    const A: &str = "a:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";
    const B: &str = "b:HxwdHh8AAQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRo";

    #[test]
    fn opens_what_it_sealed_and_nothing_inside_is_readable() {
        let ring = ring(A);
        let token = ring.seal(Kind::Access, &Payload { key: "sandbox-writable".into() }, 1_000);
        assert!(token.starts_with("ds24mcp_at_a."), "{token}");
        assert!(!token.contains("sandbox"), "{token}");
        assert_eq!(ring.open::<Payload>(Kind::Access, &token, 999).unwrap(), Payload { key: "sandbox-writable".into() });
        // A fresh nonce each time: the same payload never seals the same way twice.
        assert_ne!(token, ring.seal(Kind::Access, &Payload { key: "sandbox-writable".into() }, 1_000));
    }

    #[test]
    fn expired_artifacts_do_not_open() {
        let ring = ring(A);
        let token = ring.seal(Kind::Code, &Payload { key: "k".into() }, 1_000);
        assert_eq!(ring.open::<Payload>(Kind::Code, &token, 1_000), Err(OpenError::Expired));
        assert!(ring.open::<Payload>(Kind::Code, &token, 999).is_ok());
    }

    #[test]
    fn any_changed_byte_is_refused() {
        let ring = ring(A);
        let token = ring.seal(Kind::Access, &Payload { key: "k".into() }, u64::MAX);
        let start = token.find('.').unwrap() + 1;
        for i in start..token.len() {
            let mut bytes = token.clone().into_bytes();
            bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
            let tampered = String::from_utf8(bytes).unwrap();
            let opened = ring.open::<Payload>(Kind::Access, &tampered, 0);
            assert!(matches!(opened, Err(OpenError::Forged | OpenError::Malformed)), "byte {i}: {opened:?}");
        }
    }

    #[test]
    fn an_artifact_of_one_type_never_opens_as_another() {
        let ring = ring(A);
        let code = ring.seal(Kind::Code, &Payload { key: "k".into() }, u64::MAX);
        // Even with the prefix swapped, the per-type key and the associated data refuse it.
        let as_access = code.replacen(Kind::Code.prefix(), Kind::Access.prefix(), 1);
        assert_eq!(ring.open::<Payload>(Kind::Access, &as_access, 0), Err(OpenError::Forged));
        assert_eq!(ring.open::<Payload>(Kind::Access, &code, 0), Err(OpenError::Malformed));
        let refresh = ring.seal(Kind::Refresh, &Payload { key: "k".into() }, u64::MAX);
        let as_access = refresh.replacen(Kind::Refresh.prefix(), Kind::Access.prefix(), 1);
        assert_eq!(ring.open::<Payload>(Kind::Access, &as_access, 0), Err(OpenError::Forged));
    }

    #[test]
    fn the_first_key_seals_all_open_and_a_dropped_kid_is_refused() {
        let old = ring(A);
        let token = old.seal(Kind::Access, &Payload { key: "k".into() }, u64::MAX);
        let rotated = ring(&format!("{B},{A}"));
        assert!(rotated.open::<Payload>(Kind::Access, &token, 0).is_ok(), "old tokens open during a rotation");
        assert!(rotated.seal(Kind::Access, &Payload { key: "k".into() }, u64::MAX).starts_with("ds24mcp_at_b."));
        let dropped = ring(B);
        assert_eq!(dropped.open::<Payload>(Kind::Access, &token, 0), Err(OpenError::UnknownKid));
        // Claiming the new kid does not help: the tag is bound to the sealing key.
        let relabelled = token.replacen("ds24mcp_at_a.", "ds24mcp_at_b.", 1);
        assert_eq!(dropped.open::<Payload>(Kind::Access, &relabelled, 0), Err(OpenError::Forged));
    }

    #[test]
    fn client_secrets_are_bound_to_the_client_id() {
        let ring = ring(A);
        let secret = ring.client_secret("ds24mcp_cl_a.xyz");
        assert!(ring.check_client_secret("ds24mcp_cl_a.xyz", &secret));
        assert!(!ring.check_client_secret("ds24mcp_cl_a.xyz2", &secret));
        assert!(!ring.check_client_secret("ds24mcp_cl_a.xyz", "nope"));
    }

    #[test]
    fn the_ring_refuses_weak_or_malformed_secrets() {
        assert_eq!(KeyRing::parse("").unwrap_err(), RingError::Empty);
        assert_eq!(KeyRing::parse("nokid").unwrap_err(), RingError::Shape(1));
        assert_eq!(KeyRing::parse("a:c2hvcnQ").unwrap_err(), RingError::TooShort(1));
        assert_eq!(KeyRing::parse("a:!!!").unwrap_err(), RingError::NotBase64(1));
        assert_eq!(KeyRing::parse(&format!("{A},{A}")).unwrap_err(), RingError::Duplicate("a".into()));
        assert!(KeyRing::parse(&KeyRing::generate_entry("k1")).is_ok());
    }
}
