//! One sandbox account behind its lock, with a version that every write
//! lock bumps, and the encoded answers of pure reads kept per version.
//!
//! Owns: [`AccountCell`] (the only way to reach an account, so no write can
//! bypass the version), which functions' answers may be kept ([`CACHEABLE`])
//! and the bound of what is kept. Must not touch: what a handler answers (the
//! kept bytes are exactly what the handler's `Value` serializes to), HTTP, the
//! envelope around `data`.

use super::model::Account;
use axum::body::Bytes;
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, RwLock, RwLockReadGuard, RwLockWriteGuard};

/// Reads whose answer depends only on the account and the arguments (not on
/// the time, the key, its access level or the site), so an answer encoded once
/// holds until the account changes. `tests::kept_answers_ignore_the_context`
/// checks each against other contexts.
pub const CACHEABLE: &[&str] =
    &["listProducts", "getProduct", "listProductGroups", "getProductGroup", "listProductTypes", "listCountries", "listCurrencies"];

/// Most answers kept per account; past it the store starts over (argument
/// variety is small in practice: pages, filters).
pub const MAX_KEPT: usize = 64;
/// Larger answers are not kept (they are rare, and would hold memory).
pub const MAX_KEPT_BYTES: usize = 256 * 1024;

/// One account, its version and its kept answers.
pub struct AccountCell {
    account: RwLock<Account>,
    /// Bumped on every write lock, before anything can change.
    version: AtomicU64,
    /// `function \0 arguments` → (version it was built at, encoded `data`).
    kept: Mutex<HashMap<String, (u64, Bytes)>>,
}

impl AccountCell {
    /// A cell around a freshly seeded account.
    pub fn new(account: Account) -> AccountCell {
        AccountCell { account: RwLock::new(account), version: AtomicU64::new(0), kept: Mutex::default() }
    }

    /// Shared access (a panicked handler's poison is ignored: the model has no half-written invariants that matter).
    pub fn read(&self) -> RwLockReadGuard<'_, Account> {
        self.account.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Exclusive access; every kept answer is stale from here on.
    pub fn write(&self) -> RwLockWriteGuard<'_, Account> {
        let guard = self.account.write().unwrap_or_else(|e| e.into_inner());
        self.version.fetch_add(1, Ordering::AcqRel);
        guard
    }

    /// The encoded answer of a pure read: kept if this version already built
    /// it, else built by `run` under the read lock (and kept if it succeeds).
    pub fn answer<E>(&self, function: &str, raw: &Map<String, Value>, run: impl FnOnce(&Account) -> Result<Value, E>) -> Result<Bytes, E> {
        let key = format!("{function}\0{}", serde_json::to_string(raw).unwrap_or_default());
        let version = self.version.load(Ordering::Acquire);
        if let Some((kept_at, bytes)) = self.kept.lock().unwrap_or_else(|e| e.into_inner()).get(&key)
            && *kept_at == version
        {
            return Ok(bytes.clone());
        }
        let account = self.read();
        // Read under the lock: no write runs while it is held, so the answer belongs to this version.
        let version = self.version.load(Ordering::Acquire);
        let data = run(&account)?;
        drop(account);
        let bytes = encode(&data);
        if bytes.len() <= MAX_KEPT_BYTES {
            let mut kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
            if kept.len() >= MAX_KEPT {
                kept.retain(|_, (at, _)| *at == version);
                if kept.len() >= MAX_KEPT {
                    kept.clear();
                }
            }
            kept.insert(key, (version, bytes.clone()));
        }
        Ok(bytes)
    }
}

/// The compact JSON of `data`, as `serde_json::to_vec` writes it.
pub fn encode(data: &Value) -> Bytes {
    Bytes::from(serde_json::to_vec(data).expect("a Value always serializes"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sandbox::handlers::{self, Ctx, Handler};
    use crate::sandbox::keys::Access;
    use crate::sandbox::{SandboxConfig, WRITABLE_KEY, seed};
    use serde_json::json;

    fn arguments(a: &Account, function: &str) -> Vec<Map<String, Value>> {
        let product = a.products.keys().next().expect("seeded products").to_string();
        let group = a.product_groups.keys().next().expect("seeded groups").to_string();
        let maps = match function {
            "listProducts" => vec![json!({}), json!({"sort_by": "group"})],
            "getProduct" => vec![json!({"product_id": product}), json!({"product_id": product, "show_deleted": "Y"})],
            "getProductGroup" => vec![json!({"product_group_id": group})],
            "listCurrencies" => vec![json!({}), json!({"convert_to": "all"})],
            _ => vec![json!({})],
        };
        maps.into_iter().map(|m| m.as_object().cloned().expect("object")).collect()
    }

    /// A kept answer is only right if no other fact of the call could change it.
    #[test]
    fn kept_answers_ignore_the_context() {
        let account = seed::seed_account(24, None);
        let now = crate::sandbox::dates::now();
        let base = Ctx { now, key: WRITABLE_KEY, access: Access::Writable, site: "http://127.0.0.1:1" };
        let others = [
            Ctx { now: now + chrono::Duration::days(400), ..base },
            Ctx { now: now - chrono::Duration::days(3000), ..base },
            Ctx { key: "sandbox-other", access: Access::ReadOnly, site: "http://example.test:8", ..base },
        ];
        for function in CACHEABLE {
            let Some(Handler::Read(f)) = handlers::lookup(function) else { panic!("{function} is not a read") };
            for raw in arguments(&account, function) {
                let expected =
                    f(&account, crate::sandbox::args::Args::new(&raw), &base).unwrap_or_else(|e| panic!("{function}: {}", e.message));
                for ctx in &others {
                    let got = f(&account, crate::sandbox::args::Args::new(&raw), ctx).expect("same call");
                    assert_eq!(got, expected, "{function} {raw:?} depends on the call's context; it must not be kept");
                }
            }
        }
    }

    #[test]
    fn a_write_makes_kept_answers_stale() {
        let cell = AccountCell::new(seed::seed_account(24, None));
        let raw = Map::new();
        let names = |a: &Account| -> Result<Value, ()> { Ok(json!(a.products.values().map(|p| p.name.clone()).collect::<Vec<_>>())) };
        let first = cell.answer("listProducts", &raw, names).unwrap();
        let again = cell.answer("listProducts", &raw, |_| Err::<Value, ()>(())).expect("kept, not built again");
        assert_eq!(first, again);
        cell.write().products.values_mut().next().expect("a product").name = "Renamed".into();
        let after = cell.answer("listProducts", &raw, names).unwrap();
        assert_ne!(after, first);
        assert!(String::from_utf8_lossy(&after).contains("Renamed"));
        // Other arguments are another answer.
        let mut other = Map::new();
        other.insert("sort_by".into(), json!("group"));
        assert!(cell.answer("listProducts", &other, |_| Err::<Value, ()>(())).is_err(), "not kept yet");
    }

    #[test]
    fn the_store_stays_bounded() {
        let cell = AccountCell::new(seed::seed_account(24, None));
        for i in 0..(MAX_KEPT * 3) {
            let mut raw = Map::new();
            raw.insert("page_no".into(), json!(i.to_string()));
            cell.answer("listProducts", &raw, |_| Ok::<_, ()>(json!(i))).unwrap();
        }
        assert!(cell.kept.lock().unwrap().len() <= MAX_KEPT);
    }

    /// Through the sandbox's own call path: the same bytes as building the answer anew, and a write shows at once.
    #[test]
    fn calls_answer_the_same_bytes_kept_or_not() {
        let sb = crate::sandbox::Sandbox::new(SandboxConfig::default());
        let fresh = |sb: &crate::sandbox::Sandbox| {
            let entry = sb.keys.get(WRITABLE_KEY).unwrap();
            let Some(Handler::Read(f)) = handlers::lookup("listProducts") else { unreachable!() };
            let ctx = Ctx { now: crate::sandbox::dates::now(), key: WRITABLE_KEY, access: Access::Writable, site: "" };
            encode(&f(&entry.account.read(), crate::sandbox::args::Args::new(&Map::new()), &ctx).unwrap())
        };
        let first = sb.call(Some(WRITABLE_KEY), "listProducts", Map::new(), "").unwrap();
        assert_eq!(first, fresh(&sb));
        assert_eq!(sb.call(Some(WRITABLE_KEY), "listProducts", Map::new(), "").unwrap(), first);
        let id = serde_json::from_slice::<Value>(&first).unwrap()["products"][0]["id"].as_str().unwrap().to_string();
        let mut update = Map::new();
        update.insert("product_id".into(), json!(id));
        update.insert("data".into(), json!({"name_intern": "renamed-by-test"}));
        sb.call(Some(WRITABLE_KEY), "updateProduct", update, "").expect("update");
        let after = sb.call(Some(WRITABLE_KEY), "listProducts", Map::new(), "").unwrap();
        assert_eq!(after, fresh(&sb));
        assert!(String::from_utf8_lossy(&after).contains("renamed-by-test"));
    }
}
