//! Response cache for reference data that rarely changes (countries,
//! currencies, global settings, product types), per key hash, with a TTL, in
//! memory or in Redis. Which functions qualify is the catalogue's
//! `Function::cacheable`; this module only stores answers.

use crate::catalog::Function;
use crate::ds24::{ApiKey, FormBody};
use redis::AsyncCommands;
use redis::aio::ConnectionManager;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Largest number of entries kept in memory.
const MAX_ENTRIES: usize = 10_000;

enum Store {
    Memory(Mutex<HashMap<String, (Instant, Value)>>),
    Redis(ConnectionManager),
}

/// The cache.
pub struct ResponseCache {
    ttl: Duration,
    store: Store,
}

impl std::fmt::Debug for ResponseCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseCache").field("ttl", &self.ttl).finish_non_exhaustive()
    }
}

impl ResponseCache {
    /// In this process's memory.
    pub fn in_memory(ttl: Duration) -> Self {
        ResponseCache { ttl, store: Store::Memory(Mutex::new(HashMap::new())) }
    }

    /// Shared through Redis.
    pub fn redis(ttl: Duration, connection: ConnectionManager) -> Self {
        ResponseCache { ttl, store: Store::Redis(connection) }
    }

    /// Whether answers of `function` are cached at all.
    pub fn covers(function: &Function) -> bool {
        function.cacheable
    }

    fn entry_key(key: &ApiKey, function: &str, body: &FormBody) -> String {
        let args = hex::encode(&Sha256::digest(body.to_urlencoded().as_bytes())[..8]);
        format!("ds24mcp:cache:{}:{function}:{args}", super::key_hash(key))
    }

    /// A cached answer, if fresh.
    pub async fn get(&self, key: &ApiKey, function: &str, body: &FormBody) -> Option<Value> {
        let entry = Self::entry_key(key, function, body);
        match &self.store {
            Store::Memory(map) => {
                let map = map.lock().unwrap_or_else(|e| e.into_inner());
                map.get(&entry).filter(|(expires, _)| *expires > Instant::now()).map(|(_, v)| v.clone())
            }
            Store::Redis(connection) => {
                let mut connection = connection.clone();
                let text: Option<String> = connection.get(&entry).await.ok()?;
                serde_json::from_str(&text?).ok()
            }
        }
    }

    /// Stores a fresh answer.
    pub async fn put(&self, key: &ApiKey, function: &str, body: &FormBody, value: &Value) {
        let entry = Self::entry_key(key, function, body);
        match &self.store {
            Store::Memory(map) => {
                let mut map = map.lock().unwrap_or_else(|e| e.into_inner());
                let now = Instant::now();
                if map.len() >= MAX_ENTRIES {
                    map.retain(|_, (expires, _)| *expires > now);
                }
                if map.len() < MAX_ENTRIES {
                    map.insert(entry, (now + self.ttl, value.clone()));
                }
            }
            Store::Redis(connection) => {
                let mut connection = connection.clone();
                let result: Result<(), _> = connection.set_ex(&entry, value.to_string(), self.ttl.as_secs().max(1)).await;
                if let Err(e) = result {
                    tracing::warn!(error = %e, "response cache store unreachable");
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[tokio::test]
    async fn entries_are_per_key_and_expire() {
        let cache = ResponseCache::in_memory(Duration::from_millis(50));
        let a = ApiKey::new("a").unwrap();
        let b = ApiKey::new("b").unwrap();
        let body = FormBody::default();
        cache.put(&a, "listCountries", &body, &json!({"DE": "Germany"})).await;
        assert_eq!(cache.get(&a, "listCountries", &body).await, Some(json!({"DE": "Germany"})));
        assert_eq!(cache.get(&b, "listCountries", &body).await, None, "another key never sees it");
        tokio::time::sleep(Duration::from_millis(80)).await;
        assert_eq!(cache.get(&a, "listCountries", &body).await, None);
        let covers = |name| ResponseCache::covers(crate::catalog::lookup(name).unwrap());
        assert!(covers("listCurrencies") && !covers("listPurchases"));
    }
}
