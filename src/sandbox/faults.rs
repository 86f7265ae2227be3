//! Fault injection: make calls fail on purpose so clients can test their error paths.
//!
//! Owns: the queue of one-shot faults armed through `POST /sandbox/faults`, and
//! the random failure share (`fault_rate`). Must not touch: account data, the
//! answers of calls that no fault matches.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Mutex;

/// Most faults that can be armed at once.
pub const MAX_RULES: usize = 1_000;

/// How an armed call fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultKind {
    /// HTTP 500 with an error envelope.
    Http500,
    /// HTTP 429 with `Retry-After: 2`.
    Http429,
    /// The answer comes only after 60 seconds.
    Timeout,
    /// HTTP 200 with an HTML page instead of JSON.
    NotJson,
    /// HTTP 200 with `result: "error"`.
    ErrorEnvelope,
}

impl FaultKind {
    /// Parses the admin endpoint's `kind`.
    pub fn parse(s: &str) -> Option<FaultKind> {
        Some(match s {
            "http500" => FaultKind::Http500,
            "http429" => FaultKind::Http429,
            "timeout" => FaultKind::Timeout,
            "not_json" => FaultKind::NotJson,
            "error_envelope" => FaultKind::ErrorEnvelope,
            _ => return None,
        })
    }

    /// Wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            FaultKind::Http500 => "http500",
            FaultKind::Http429 => "http429",
            FaultKind::Timeout => "timeout",
            FaultKind::NotJson => "not_json",
            FaultKind::ErrorEnvelope => "error_envelope",
        }
    }
}

/// Body of `POST /sandbox/faults`.
#[derive(Debug, Deserialize)]
pub struct FaultRequest {
    /// `http500`, `http429`, `timeout`, `not_json` or `error_envelope`.
    pub kind: String,
    /// Only calls of this function fail (all calls when absent).
    #[serde(default)]
    pub function: Option<String>,
    /// How many matching calls fail (default 1).
    #[serde(default)]
    pub count: Option<u32>,
}

#[derive(Debug, Clone)]
struct Rule {
    kind: FaultKind,
    function: Option<String>,
    remaining: u32,
}

/// Armed faults plus the random failure share.
#[derive(Debug)]
pub struct Faults {
    rules: Mutex<Vec<Rule>>,
    rng: Mutex<ChaCha8Rng>,
    rate: f64,
}

impl Faults {
    /// No armed faults; `rate` (0..1) of calls fail at random, drawn from a generator seeded with `seed`.
    pub fn new(rate: f64, seed: u64) -> Faults {
        let rate = if rate.is_finite() { rate.clamp(0.0, 1.0) } else { 0.0 };
        Faults { rules: Mutex::new(Vec::new()), rng: Mutex::new(ChaCha8Rng::seed_from_u64(seed ^ 0x5eed_fa17)), rate }
    }

    /// Arms a fault; returns an error text for a bad request.
    pub fn arm(&self, req: FaultRequest) -> Result<(), String> {
        let kind = FaultKind::parse(&req.kind)
            .ok_or_else(|| format!("unknown kind '{}'; use http500, http429, timeout, not_json or error_envelope", req.kind))?;
        let count = req.count.unwrap_or(1);
        if count == 0 || count > 10_000 {
            return Err("count must be between 1 and 10000".into());
        }
        let function = req.function.map(|f| f.trim().to_string()).filter(|f| !f.is_empty());
        let mut rules = self.rules.lock().unwrap_or_else(|e| e.into_inner());
        if rules.len() >= MAX_RULES {
            return Err(format!("at most {MAX_RULES} faults can be armed; DELETE /sandbox/faults first"));
        }
        rules.push(Rule { kind, function, remaining: count });
        Ok(())
    }

    /// Removes every armed fault; returns how many there were.
    pub fn clear(&self) -> usize {
        let mut rules = self.rules.lock().unwrap_or_else(|e| e.into_inner());
        let n = rules.len();
        rules.clear();
        n
    }

    /// The armed faults, for display.
    pub fn pending(&self) -> Vec<Value> {
        let rules = self.rules.lock().unwrap_or_else(|e| e.into_inner());
        rules.iter().map(|r| json!({"kind": r.kind.as_str(), "function": r.function, "count": r.remaining})).collect()
    }

    /// Number of armed faults.
    pub fn pending_count(&self) -> usize {
        self.rules.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// Consumes the first armed fault that matches a call of `function`.
    pub fn take(&self, function: &str) -> Option<FaultKind> {
        let mut rules = self.rules.lock().unwrap_or_else(|e| e.into_inner());
        let i = rules.iter().position(|r| r.function.as_deref().is_none_or(|f| f == function))?;
        let kind = rules[i].kind;
        rules[i].remaining -= 1;
        if rules[i].remaining == 0 {
            rules.remove(i);
        }
        Some(kind)
    }

    /// Whether this call falls into the random failure share.
    pub fn random_failure(&self) -> bool {
        if self.rate <= 0.0 {
            return false;
        }
        let mut rng = self.rng.lock().unwrap_or_else(|e| e.into_inner());
        rng.random::<f64>() < self.rate
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(kind: &str, function: Option<&str>, count: Option<u32>) -> FaultRequest {
        FaultRequest { kind: kind.into(), function: function.map(str::to_string), count }
    }

    #[test]
    fn armed_faults_are_consumed_in_order() {
        let f = Faults::new(0.0, 1);
        f.arm(req("http429", Some("listProducts"), Some(2))).unwrap();
        f.arm(req("not_json", None, None)).unwrap();
        assert_eq!(f.take("listProducts"), Some(FaultKind::Http429));
        assert_eq!(f.take("ping"), Some(FaultKind::NotJson));
        assert_eq!(f.take("ping"), None);
        assert_eq!(f.take("listProducts"), Some(FaultKind::Http429));
        assert_eq!(f.take("listProducts"), None);
        assert!(f.arm(req("boom", None, None)).is_err());
        assert!(f.arm(req("timeout", None, Some(0))).is_err());
        f.arm(req("timeout", None, Some(3))).unwrap();
        assert_eq!(f.pending_count(), 1);
        assert_eq!(f.clear(), 1);
    }

    #[test]
    fn random_share() {
        assert!(!Faults::new(0.0, 1).random_failure());
        let always = Faults::new(1.0, 1);
        assert!((0..50).all(|_| always.random_failure()));
        let half = Faults::new(0.5, 7);
        let n = (0..2000).filter(|_| half.random_failure()).count();
        assert!((800..1200).contains(&n), "{n}");
    }
}
