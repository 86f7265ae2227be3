//! Rate limiting: a token bucket per (hashed) key — or per any other
//! caller's name, such as an IPN URL token or client address — in this
//! process's memory or shared by every replica through Redis.

use crate::ds24::ApiKey;
use redis::aio::ConnectionManager;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Rate and burst of the bucket every key gets.
#[derive(Debug, Clone, Copy)]
pub struct RateLimit {
    /// Tokens added per second.
    pub per_second: f64,
    /// Bucket size: calls allowed at once after a quiet spell.
    pub burst: f64,
}

/// Where the buckets live.
enum Store {
    Memory(Mutex<HashMap<String, Bucket>>),
    Redis(ConnectionManager),
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    updated: Instant,
}

/// Atomic token bucket in Redis. It reads the clock with `TIME` on the Redis
/// server, so replicas with skewed clocks still share one bucket fairly.
/// Returns {allowed (0/1), milliseconds until a token is available}.
const BUCKET_SCRIPT: &str = r#"
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1])
local ts = tonumber(state[2])
if tokens == nil then tokens = burst; ts = now end
tokens = math.min(burst, tokens + math.max(0, now - ts) / 1000 * rate)
local allowed = 0
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
else
  wait = math.ceil((1 - tokens) / rate * 1000)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
return {allowed, wait}
"#;

/// The limiter; cheap to share behind an `Arc`.
pub struct RateLimiter {
    limit: RateLimit,
    store: Store,
    script: redis::Script,
}

impl std::fmt::Debug for RateLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let store = match self.store {
            Store::Memory(_) => "memory",
            Store::Redis(_) => "redis",
        };
        f.debug_struct("RateLimiter").field("limit", &self.limit).field("store", &store).finish()
    }
}

impl RateLimiter {
    /// Buckets in this process only.
    pub fn in_memory(limit: RateLimit) -> Self {
        RateLimiter { limit, store: Store::Memory(Mutex::new(HashMap::new())), script: redis::Script::new(BUCKET_SCRIPT) }
    }

    /// Buckets shared by all replicas using the same Redis.
    pub fn redis(limit: RateLimit, connection: ConnectionManager) -> Self {
        RateLimiter { limit, store: Store::Redis(connection), script: redis::Script::new(BUCKET_SCRIPT) }
    }

    /// Takes one token for `key`; `Err` says how long until one is available.
    ///
    /// If Redis cannot be reached the call is allowed (and logged): an outage
    /// of the limiter's store must not take every customer down with it.
    pub async fn check(&self, key: &ApiKey) -> Result<(), Duration> {
        self.check_id(super::key_hash(key)).await
    }

    /// Takes one token from the bucket named `id` (a hash or other
    /// non-secret name; callers of different kinds prefix theirs, e.g.
    /// `ipn:`); otherwise like [`RateLimiter::check`].
    pub async fn check_id(&self, id: String) -> Result<(), Duration> {
        match &self.store {
            Store::Memory(buckets) => self.check_memory(buckets, id, Instant::now()),
            Store::Redis(connection) => {
                let mut connection = connection.clone();
                let answer: Result<(i64, i64), _> = self
                    .script
                    .key(format!("ds24mcp:rl:{id}"))
                    .arg(self.limit.per_second)
                    .arg(self.limit.burst)
                    .invoke_async(&mut connection)
                    .await;
                match answer {
                    Ok((1, _)) => Ok(()),
                    Ok((_, wait_ms)) => Err(Duration::from_millis(wait_ms.max(1) as u64)),
                    Err(e) => {
                        tracing::warn!(error = %e, "rate limit store unreachable; allowing the call");
                        Ok(())
                    }
                }
            }
        }
    }

    fn check_memory(&self, buckets: &Mutex<HashMap<String, Bucket>>, hash: String, now: Instant) -> Result<(), Duration> {
        let RateLimit { per_second, burst } = self.limit;
        let mut buckets = buckets.lock().unwrap_or_else(|e| e.into_inner());
        // Forget buckets that have refilled completely; keeps memory bounded.
        if buckets.len() > 10_000 {
            buckets.retain(|_, b| b.tokens + now.duration_since(b.updated).as_secs_f64() * per_second < burst);
        }
        let bucket = buckets.entry(hash).or_insert(Bucket { tokens: burst, updated: now });
        bucket.tokens = (bucket.tokens + now.duration_since(bucket.updated).as_secs_f64() * per_second).min(burst);
        bucket.updated = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - bucket.tokens) / per_second))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn bucket_allows_burst_then_refills_at_the_rate() {
        let limiter = RateLimiter::in_memory(RateLimit { per_second: 10.0, burst: 3.0 });
        let a = ApiKey::new("key-a").unwrap();
        let b = ApiKey::new("key-b").unwrap();
        for _ in 0..3 {
            assert!(limiter.check(&a).await.is_ok());
        }
        let wait = limiter.check(&a).await.unwrap_err();
        assert!(wait > Duration::ZERO && wait <= Duration::from_millis(100), "{wait:?}");
        // Another key has its own bucket, and so has a name of another kind.
        assert!(limiter.check(&b).await.is_ok());
        assert!(limiter.check_id("ipn:token".into()).await.is_ok());
        tokio::time::sleep(Duration::from_millis(120)).await;
        assert!(limiter.check(&a).await.is_ok(), "one token refilled after 1/rate seconds");
    }
}
