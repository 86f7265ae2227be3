//! The catalogue of Digistore24 functions: the single source of truth.
//!
//! Owns: the declarative description of every API function (name, toolset,
//! effect, parameters) in [`functions`], the aliases the anchor server used,
//! and lookups over them. Everything else — the MCP tool list, argument
//! validation, wire encoding, annotations, the `tools` subcommand and the
//! sandbox's argument checks — is derived from this data.
//!
//! Must not touch: JSON Schema, HTTP, MCP types. This module is plain data.

mod aliases;
mod functions;

use std::collections::HashMap;
use std::sync::LazyLock;

pub use aliases::ANCHOR_ALIASES;
pub use functions::FUNCTIONS;

/// What calling a function does to the vendor's account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Effect {
    /// Reads only; safe to call any number of times.
    Read,
    /// Creates or changes records (products, vouchers, links, settings).
    Write,
    /// Moves money, cancels, deletes or does something that cannot be undone.
    Destructive,
}

impl Effect {
    /// Lower-case name as shown by `digistore24-mcp tools`.
    pub fn as_str(self) -> &'static str {
        match self {
            Effect::Read => "read",
            Effect::Write => "write",
            Effect::Destructive => "destructive",
        }
    }

    /// Whether a read-only key (or `--read-only`) may call it.
    pub fn is_read(self) -> bool {
        self == Effect::Read
    }
}

/// Largest value of a Digistore24 integer field. The reference names no
/// bounds; ids, counts and pages are 32-bit signed columns server-side
/// (inferred), so anything beyond is refused instead of overflowing upstream.
pub const INT32_MAX: i64 = i32::MAX as i64;
/// Smallest value of a Digistore24 integer field (see [`INT32_MAX`]).
pub const INT32_MIN: i64 = i32::MIN as i64;

/// The type of one argument, with its constraints.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    /// Free text.
    Str,
    /// One record id: non-empty, no spaces or commas. Numeric ids may come as JSON numbers.
    Id,
    /// One id or a comma list of ids: `"123"`, `"1,2,3"`.
    Ids,
    /// A comma list of ids, or `all`.
    IdsOrAll,
    /// An e-mail address.
    Email,
    /// A public `https://` URL: Digistore24 refuses `http` and `localhost`.
    Url,
    /// Text limited to a fixed set of values.
    OneOf(&'static [&'static str]),
    /// Whole number, optionally bounded.
    Int { min: Option<i64>, max: Option<i64> },
    /// Money amount or rate, never negative: a decimal with a dot (`"49.00"`); sent as given.
    Amount,
    /// Money amount that may be negative (a balance change): `"-5.00"`.
    SignedAmount,
    /// Yes/no; sent upstream as `Y`/`N`.
    Bool,
    /// Calendar date: `YYYY-MM-DD`, `now`, `today` or an offset like `-30d`.
    Date,
    /// One date (as [`Kind::Date`]) or a comma list of them.
    Dates,
    /// Point in time: `YYYY-MM-DD HH:MM:SS`, ISO-8601, `now`, `start` or an offset.
    DateTime,
    /// Calendar month: `YYYY-MM`.
    Month,
    /// Nested object with named fields: `name[field]=…` on the wire.
    Object(&'static [Param]),
    /// Free key/value map with values of one kind: `name[KEY]=…` on the wire.
    Map(&'static Kind),
    /// Ordered list: `name[0]=…` or `name[0][field]=…` on the wire.
    List(&'static Kind),
}

/// One named argument of a function (or a field of a nested object).
#[derive(Debug, Clone, Copy)]
pub struct Param {
    /// Name exactly as Digistore24 spells it (typos included: `affiliate_commision`).
    pub name: &'static str,
    /// Type and constraints.
    pub kind: Kind,
    /// Whether the call is refused without it. A required text argument
    /// must also be non-empty: Digistore24's PHP treats `""` as missing.
    pub required: bool,
    /// Short hint for an agent, only where name and type do not say it all.
    pub doc: Option<&'static str>,
}

impl Param {
    /// An optional argument without a hint.
    pub const fn new(name: &'static str, kind: Kind) -> Self {
        Param { name, kind, required: false, doc: None }
    }

    /// Marks the argument as required.
    pub const fn req(mut self) -> Self {
        self.required = true;
        self
    }

    /// Adds a hint for the agent.
    pub const fn doc(mut self, doc: &'static str) -> Self {
        self.doc = Some(doc);
        self
    }
}

/// One Digistore24 API function, exposed as one MCP tool of the same name.
#[derive(Debug, Clone, Copy)]
pub struct Function {
    /// Exact Digistore24 name, also the MCP tool name and the URL's last segment.
    pub name: &'static str,
    /// Toolset (Digistore24's category), used by `--toolsets`.
    pub toolset: &'static str,
    /// What the call does to the account.
    pub effect: Effect,
    /// Repeating the call with the same arguments changes nothing more.
    pub idempotent: bool,
    /// Written for an agent: what it does, when to pick it, what it changes.
    pub description: &'static str,
    /// Arguments in Digistore24's order.
    pub params: &'static [Param],
}

impl Function {
    const fn new(name: &'static str, toolset: &'static str, effect: Effect, description: &'static str, params: &'static [Param]) -> Self {
        // Reads are idempotent by nature; writes must opt in.
        let idempotent = matches!(effect, Effect::Read);
        Function { name, toolset, effect, idempotent, description, params }
    }

    /// A function that only reads.
    pub const fn read(name: &'static str, toolset: &'static str, description: &'static str, params: &'static [Param]) -> Self {
        Self::new(name, toolset, Effect::Read, description, params)
    }

    /// A function that creates or changes records.
    pub const fn write(name: &'static str, toolset: &'static str, description: &'static str, params: &'static [Param]) -> Self {
        Self::new(name, toolset, Effect::Write, description, params)
    }

    /// A function that moves money, cancels or deletes.
    pub const fn destructive(name: &'static str, toolset: &'static str, description: &'static str, params: &'static [Param]) -> Self {
        Self::new(name, toolset, Effect::Destructive, description, params)
    }

    /// Marks a write as idempotent: repeating it changes nothing more.
    pub const fn idempotent(mut self) -> Self {
        self.idempotent = true;
        self
    }

    /// The argument of this name, if the function has one.
    pub fn param(&self, name: &str) -> Option<&'static Param> {
        self.params.iter().find(|p| p.name == name)
    }
}

/// Every toolset name, in the order `tools` prints them.
pub const TOOLSETS: &[&str] = &[
    "purchases",
    "billing",
    "transactions",
    "payouts",
    "products",
    "product_groups",
    "upsells",
    "buy_urls",
    "buyers",
    "affiliates",
    "vouchers",
    "orderforms",
    "payment_plans",
    "upgrades",
    "conversion_tools",
    "shipping",
    "deliveries",
    "etickets",
    "images",
    "invoices",
    "stats",
    "marketplace",
    "service_proofs",
    "custom_forms",
    "licenses",
    "ipn",
    "api_keys",
    "account",
    "system",
];

/// Optional arguments every Digistore24 function accepts (from the official connector).
pub const COMMON_PARAMS: &[Param] = &[Param::new("language", Kind::Str).doc("language of messages, e.g. en or de")];

static BY_NAME: LazyLock<HashMap<&'static str, &'static Function>> = LazyLock::new(|| {
    let mut map: HashMap<&'static str, &'static Function> = FUNCTIONS.iter().map(|f| (f.name, f)).collect();
    for (alias, target) in ANCHOR_ALIASES {
        if let Some(f) = FUNCTIONS.iter().find(|f| f.name == *target) {
            map.insert(alias, f);
        }
    }
    map
});

/// Finds a function by its Digistore24 name or by an anchor-server alias.
pub fn lookup(name: &str) -> Option<&'static Function> {
    BY_NAME.get(name).copied()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn every_real_function_is_catalogued_once() {
        assert_eq!(FUNCTIONS.len(), 123);
        let names: HashSet<_> = FUNCTIONS.iter().map(|f| f.name).collect();
        assert_eq!(names.len(), FUNCTIONS.len(), "duplicate function name");
        // The two doubtful aliases of the reference are deliberately absent.
        assert!(!names.contains("getUpgrades") && !names.contains("globalSettings"));
    }

    #[test]
    fn toolsets_are_known_and_used() {
        for f in FUNCTIONS {
            assert!(TOOLSETS.contains(&f.toolset), "{} has unknown toolset {}", f.name, f.toolset);
        }
        for t in TOOLSETS {
            assert!(FUNCTIONS.iter().any(|f| f.toolset == *t), "toolset {t} is empty");
        }
    }

    #[test]
    fn params_are_unique_and_objects_non_empty() {
        fn check(owner: &str, params: &[Param]) {
            let mut seen = HashSet::new();
            for p in params {
                assert!(seen.insert(p.name), "{owner}: duplicate param {}", p.name);
                check_kind(owner, &p.kind);
            }
        }
        fn check_kind(owner: &str, kind: &Kind) {
            match kind {
                Kind::Object(fields) => check(owner, fields),
                Kind::OneOf(values) => assert!(!values.is_empty(), "{owner}: empty enum"),
                Kind::Map(inner) | Kind::List(inner) => check_kind(owner, inner),
                _ => {}
            }
        }
        for f in FUNCTIONS {
            check(f.name, f.params);
            assert!(f.param("language").is_none(), "{}: language is a common param", f.name);
        }
    }

    #[test]
    fn anchor_aliases_resolve_to_real_functions() {
        assert!(ANCHOR_ALIASES.len() >= 40);
        for (alias, target) in ANCHOR_ALIASES {
            assert_eq!(lookup(alias).map(|f| f.name), Some(*target), "alias {alias}");
            assert!(lookup(target).is_some());
        }
        assert_eq!(lookup("GetGetpurchase").unwrap().name, "getPurchase");
        assert!(lookup("nope").is_none());
    }

    #[test]
    fn descriptions_are_written_for_agents() {
        for f in FUNCTIONS {
            assert!(f.description.len() >= 30, "{}: description too short", f.name);
            assert!(!f.description.ends_with(' '), "{}", f.name);
        }
    }
}
