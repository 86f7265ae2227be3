//! Operating the hosted service: metrics, per-key rate limits, the response
//! cache for rarely-changing reference data, the shared Redis connection, and
//! the usage recorder.
//!
//! Owns: cross-request, cross-replica bookkeeping. Must not touch: tool
//! semantics or wire encoding; callers ask "may this key call now?" or "is
//! this answer cached?" and get a yes or no. No key is ever stored: state is
//! keyed by a hash of the key.

pub mod cache;
pub mod limit;
pub mod metrics;
pub mod usage;

use crate::ds24::ApiKey;
use sha2::{Digest, Sha256};

/// A long, stable hash of a key for state keys (the short fingerprint in
/// logs could collide between tenants; this cannot in practice).
pub fn key_hash(key: &ApiKey) -> String {
    hex::encode(&Sha256::digest(key.expose().as_bytes())[..16])
}

/// Connects to Redis once; the connection manager reconnects on its own.
pub async fn connect_redis(url: &str) -> Result<redis::aio::ConnectionManager, redis::RedisError> {
    let client = redis::Client::open(url)?;
    redis::aio::ConnectionManager::new(client).await
}
