//! What OAuth enforces when Redis is configured (`--redis-url`): each code is
//! exchanged once (a second exchange also revokes the grant it came from,
//! RFC 6749 §4.1.2), a refresh token two or more rotations old is a replay
//! (the previous one stays usable for clients that lost the newest), and
//! `/revoke` (RFC 7009) ends a grant on every replica.
//! Without Redis nothing is kept and neither is enforced (README says so).
//!
//! Owns: the Redis keys `ds24mcp:oauth:code:{hash}`, `ds24mcp:oauth:generation:{grant id}`
//! and `ds24mcp:oauth:revoked:{grant id}`, each expiring with what it guards.
//! Never stores a code or a token: codes are kept as a SHA-256 hash.
//! Must not touch: sealing or HTTP answers.

use redis::aio::ConnectionManager;
use sha2::{Digest, Sha256};

/// The Redis ledger, or none.
#[derive(Clone, Default)]
pub struct Ledger(Option<ConnectionManager>);

impl std::fmt::Debug for Ledger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() { "Ledger(redis)" } else { "Ledger(none)" })
    }
}

/// Redis did not answer: the caller decides whether to refuse or go on.
#[derive(Debug)]
pub struct Unavailable;

impl Ledger {
    /// A ledger in Redis.
    pub fn redis(connection: ConnectionManager) -> Self {
        Ledger(Some(connection))
    }

    /// Whether single use and revocation are enforced.
    pub fn enforces(&self) -> bool {
        self.0.is_some()
    }

    /// Records the first exchange of `code`; `Ok(false)` when it was used
    /// before. Without Redis every exchange counts as the first.
    pub async fn first_use_of_code(&self, code: &str, ttl_secs: u64) -> Result<bool, Unavailable> {
        let Some(connection) = &self.0 else { return Ok(true) };
        let key = format!("ds24mcp:oauth:code:{}", hex::encode(Sha256::digest(code.as_bytes())));
        let set: Option<String> = redis::cmd("SET")
            .arg(&key)
            .arg(1)
            .arg("NX")
            .arg("EX")
            .arg(ttl_secs.max(1))
            .query_async(&mut connection.clone())
            .await
            .map_err(|_| Unavailable)?;
        Ok(set.is_some())
    }

    /// The generation of the refresh token a refresh with a token of
    /// `generation` issues, or `None` when that token is a replay (two or more
    /// rotations behind the newest). Without Redis every refresh is fine.
    pub async fn next_refresh_generation(&self, grant_id: &str, generation: u32, ttl_secs: u64) -> Result<Option<u32>, Unavailable> {
        let Some(connection) = &self.0 else { return Ok(Some(generation.saturating_add(1))) };
        // Atomic: read the newest generation, refuse a replay, record the new one.
        let script = redis::Script::new(
            r"local newest = tonumber(redis.call('GET', KEYS[1]) or '0')
              local given = tonumber(ARGV[1])
              if newest > given + 1 then return -1 end
              local next = given + 1
              if next > newest then redis.call('SET', KEYS[1], next, 'EX', ARGV[2]) end
              return next",
        );
        let next: i64 = script
            .key(format!("ds24mcp:oauth:generation:{grant_id}"))
            .arg(generation)
            .arg(ttl_secs.max(1))
            .invoke_async(&mut connection.clone())
            .await
            .map_err(|_| Unavailable)?;
        Ok(u32::try_from(next).ok())
    }

    /// Ends the grant `grant_id` until `until` (Unix seconds: its end).
    pub async fn revoke(&self, grant_id: &str, until: u64, now: u64) -> Result<(), Unavailable> {
        let Some(connection) = &self.0 else { return Err(Unavailable) };
        let ttl = until.saturating_sub(now).max(1);
        let _: () = redis::cmd("SET")
            .arg(format!("ds24mcp:oauth:revoked:{grant_id}"))
            .arg(1)
            .arg("EX")
            .arg(ttl)
            .query_async(&mut connection.clone())
            .await
            .map_err(|_| Unavailable)?;
        Ok(())
    }

    /// Whether the grant was revoked. Without Redis: never.
    pub async fn is_revoked(&self, grant_id: &str) -> Result<bool, Unavailable> {
        let Some(connection) = &self.0 else { return Ok(false) };
        redis::cmd("EXISTS")
            .arg(format!("ds24mcp:oauth:revoked:{grant_id}"))
            .query_async::<bool>(&mut connection.clone())
            .await
            .map_err(|_| Unavailable)
    }
}
