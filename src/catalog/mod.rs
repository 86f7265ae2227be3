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
mod local;

use std::collections::HashMap;
use std::sync::LazyLock;

pub use aliases::ANCHOR_ALIASES;
pub use functions::FUNCTIONS;
pub use local::{IPN_EVENTS, LOCAL_TOOLS, LOCAL_TOOLSET};

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

/// How a call moves money, as far as it can be known before it is sent.
/// The money caps (`--max-refund-amount`, `--max-charge-amount`) read this
/// and nothing else.
///
/// Amount paths name form fields in wire notation: `amount`,
/// `payment_plan[first_amount]`; `[*]` stands for every item of a list and
/// `a|b` in the last segment for "a, else b" (`addons[*][first_amount|single_amount]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Money {
    /// Moves no money.
    None,
    /// Refunds the whole order; the amount is the order's, looked up first (see [`Function::lookup`]).
    RefundsOrder,
    /// Refunds the sum of the amounts at these paths.
    Refunds(&'static [&'static str]),
    /// Charges the sum of the amounts at these paths; unknown when one is missing.
    Charges(&'static [&'static str]),
    /// The amount at this path is a signed balance: positive charges, negative refunds.
    Balance(&'static str),
    /// Refunds an amount that cannot be known before the call.
    RefundsUnknown,
    /// Charges an amount that cannot be known before the call.
    ChargesUnknown,
    /// Refunds an unknown amount when the field at `path` has `value`; otherwise moves none.
    RefundsUnknownWhen {
        /// Wire name of the field.
        path: &'static str,
        /// The value that makes the call a refund.
        value: &'static str,
    },
}

/// A record fetched before a call, to check a cap or word a confirmation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lookup {
    /// The read function that fetches it.
    pub function: &'static str,
    /// The argument of the call that names the record, passed on under the same name.
    pub by: &'static str,
}

/// The order of a `purchase_id`, fetched with `getPurchase`.
pub const ORDER_LOOKUP: Lookup = Lookup { function: "getPurchase", by: "purchase_id" };

/// The reads behind the MCP resources (`digistore24://…`, see `mcp/resources.rs`)
/// and the account lists completions draw on (`mcp/complete.rs`).
pub mod reads {
    use super::Lookup;

    /// `digistore24://account`: who the key belongs to, and the account's settings.
    pub const ACCOUNT: [&str; 2] = ["getUserInfo", "getGlobalSettings"];
    /// `digistore24://products`, and product ids and names for completions.
    pub const PRODUCTS: &str = "listProducts";
    /// `digistore24://purchases/{purchase_id}`.
    pub const PURCHASE: Lookup = super::ORDER_LOOKUP;
    /// `digistore24://products/{product_id}`.
    pub const PRODUCT: Lookup = Lookup { function: "getProduct", by: "product_id" };
    /// `digistore24://buyers/{buyer_id}`.
    pub const BUYER: Lookup = Lookup { function: "getBuyer", by: "buyer_id" };
    /// Recent order ids for completions.
    pub const PURCHASES: &str = "listPurchases";
    /// Buyer ids and e-mails for completions.
    pub const BUYERS: &str = "listBuyers";
    /// Currency codes for completions.
    pub const CURRENCIES: &str = "listCurrencies";
}

/// The function that checks a key (`test-key`, `/test-api-key`): cheap, reads nothing.
pub const KEY_CHECK: &str = "ping";

/// Who a key belongs to and its access level (`api_key_permissions`): the
/// OAuth sign-in checks a pasted key with it, and the IPN events of a key are
/// its vendor's (`user_id`).
pub const ACCOUNT_INFO: &str = "getUserInfo";

/// Digistore24's interactive key flow, used by the sign-in page's "Connect
/// with Digistore24": start a key request (developer key), then fetch the key.
pub const KEY_REQUEST: &str = "requestApiKey";
/// See [`KEY_REQUEST`].
pub const KEY_RETRIEVE: &str = "retrieveApiKey";

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
    /// How the call moves money; `None` = not declared (a catalogue test
    /// requires it of every destructive function; the caps treat it as unknown).
    pub money: Option<Money>,
    /// The answer is reference data that may be cached per key (`--cache-ttl-secs`).
    pub cacheable: bool,
    /// A read-only key is refused (every change, and a few reads).
    pub full_access: bool,
    /// Plain-language sentence of what the call does, for confirmations and dry
    /// runs: `{field}` is an argument by wire name, `{order.amount}`,
    /// `{order.currency}`, `{order.email}` come from [`Function::lookup`]'s
    /// record; a `[...]` part is left out when every placeholder in it is empty.
    pub summary: Option<&'static str>,
    /// The record to fetch first when the money cap or the summary needs it.
    pub lookup: Option<&'static Lookup>,
    /// The compact projection of a list's records an agent gets unless it
    /// asks for other `fields`: dotted paths relative to one record. `None`:
    /// every field (get tools, and lists not curated yet).
    pub default_fields: Option<&'static [&'static str]>,
}

impl Function {
    const fn new(name: &'static str, toolset: &'static str, effect: Effect, description: &'static str, params: &'static [Param]) -> Self {
        // Reads are idempotent by nature; writes must opt in. Only destructive
        // functions can move money (that is what the effect means), so they
        // alone must declare how.
        let reads = matches!(effect, Effect::Read);
        let money = if matches!(effect, Effect::Destructive) { None } else { Some(Money::None) };
        Function {
            name,
            toolset,
            effect,
            idempotent: reads,
            description,
            params,
            money,
            cacheable: false,
            full_access: !reads,
            summary: None,
            lookup: None,
            default_fields: None,
        }
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

    /// Declares how the call moves money.
    pub const fn money(mut self, money: Money) -> Self {
        self.money = Some(money);
        self
    }

    /// Marks the answer as reference data that may be cached.
    pub const fn cacheable(mut self) -> Self {
        self.cacheable = true;
        self
    }

    /// Marks a read that nevertheless needs a key with full access.
    pub const fn needs_full_access(mut self) -> Self {
        self.full_access = true;
        self
    }

    /// Sets the plain-language summary template (see [`Function::summary`]).
    pub const fn summary(mut self, template: &'static str) -> Self {
        self.summary = Some(template);
        self
    }

    /// Declares the record to fetch first.
    pub const fn lookup(mut self, lookup: &'static Lookup) -> Self {
        self.lookup = Some(lookup);
        self
    }

    /// Declares the compact projection of the list's records (see [`Function::default_fields`]).
    pub const fn default_fields(mut self, paths: &'static [&'static str]) -> Self {
        self.default_fields = Some(paths);
        self
    }

    /// Whether the answer is a list of records (Digistore24 names every such
    /// function `list…`): `fields` then select within each record, not the
    /// answer's top level.
    pub fn answers_list(&self) -> bool {
        self.effect.is_read() && (self.name.starts_with("list") || self.default_fields.is_some())
    }

    /// The argument of this name, if the function has one.
    pub fn param(&self, name: &str) -> Option<&'static Param> {
        self.params.iter().find(|p| p.name == name)
    }

    /// Whether the call needs the [`Function::lookup`] record for its money cap.
    pub fn cap_needs_lookup(&self) -> bool {
        matches!(self.money, Some(Money::RefundsOrder))
    }

    /// Whether the summary says more with the [`Function::lookup`] record.
    pub fn summary_needs_lookup(&self) -> bool {
        self.summary.is_some_and(|s| s.contains("{order."))
    }
}

/// Argument names that identify products, wherever they stand (top level or
/// nested): the product allow-list (`--allow-product-ids`) checks them.
pub const PRODUCT_ID_PARAMS: [&str; 5] = ["product_id", "product_ids", "to_product_id", "for_product_ids", "orderbump_product_id"];

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

/// Finds any tool: a Digistore24 function (or alias), else a local tool.
pub fn lookup_tool(name: &str) -> Option<&'static Function> {
    lookup(name).or_else(|| LOCAL_TOOLS.iter().find(|t| t.name == name))
}

/// Every tool in tools/list order: the functions, then the local tools.
pub fn all_tools() -> impl Iterator<Item = &'static Function> {
    FUNCTIONS.iter().chain(LOCAL_TOOLS)
}

/// Whether the tool is served locally (see [`LOCAL_TOOLS`]) rather than by Digistore24.
pub fn is_local(function: &Function) -> bool {
    function.toolset == LOCAL_TOOLSET
}

/// Whether `name` is a toolset (of functions or local tools).
pub fn is_toolset(name: &str) -> bool {
    TOOLSETS.contains(&name) || name == LOCAL_TOOLSET
}

/// The function that registers an IPN connection.
pub const IPN_CONNECT: &str = "ipnSetup";
/// The function that deletes an IPN connection.
pub const IPN_DISCONNECT: &str = "ipnDelete";

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn every_real_function_is_catalogued_once() {
        // The count itself is pinned once, in tests/tools.rs (DOCUMENTED_TOOL_COUNT).
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

    /// The kind of the field at a wire path (`addons[*][amount]`, `data[name]`).
    fn kind_at(params: &[Param], path: &str) -> Option<Kind> {
        let mut segments = path.split(['[', ']']).filter(|s| !s.is_empty());
        let first = segments.next()?;
        let mut kind = params.iter().find(|p| p.name == first)?.kind;
        for segment in segments {
            kind = match kind {
                Kind::List(inner) if segment == "*" => *inner,
                Kind::Map(inner) => *inner,
                Kind::Object(fields) => fields.iter().find(|p| p.name == segment)?.kind,
                _ => return None,
            };
        }
        Some(kind)
    }

    #[test]
    fn every_destructive_function_declares_how_it_moves_money() {
        for f in FUNCTIONS.iter().filter(|f| f.effect == Effect::Destructive) {
            assert!(f.money.is_some(), "{} is destructive and must declare its money behaviour (.money(...))", f.name);
        }
    }

    #[test]
    fn money_paths_name_amount_arguments() {
        for f in FUNCTIONS {
            let paths: Vec<&str> = match f.money {
                Some(Money::Refunds(paths) | Money::Charges(paths)) => paths.to_vec(),
                Some(Money::Balance(path)) => vec![path],
                Some(Money::RefundsUnknownWhen { path, .. }) => {
                    assert!(kind_at(f.params, path).is_some(), "{}: unknown field {path}", f.name);
                    vec![]
                }
                _ => vec![],
            };
            for path in paths {
                let (stem, last) = path.rsplit_once('[').map(|(s, l)| (s, l.trim_end_matches(']'))).unwrap_or(("", path));
                for alternative in last.split('|') {
                    let wire = if stem.is_empty() { alternative.to_owned() } else { format!("{stem}[{alternative}]") };
                    assert!(
                        matches!(kind_at(f.params, &wire), Some(Kind::Amount | Kind::SignedAmount)),
                        "{}: {wire} is not an amount argument",
                        f.name
                    );
                }
            }
        }
    }

    #[test]
    fn lookups_are_declared_where_needed_and_name_catalogue_reads() {
        for f in FUNCTIONS {
            if f.cap_needs_lookup() || f.summary_needs_lookup() {
                let l = f.lookup.unwrap_or_else(|| panic!("{} needs a record looked up first but declares no lookup", f.name));
                let read = lookup(l.function).unwrap_or_else(|| panic!("{}: lookup {} is not catalogued", f.name, l.function));
                assert!(read.effect.is_read() && read.param(l.by).is_some() && f.param(l.by).is_some(), "{}", f.name);
            }
        }
        assert!(lookup(KEY_CHECK).is_some_and(|f| f.effect.is_read() && f.params.is_empty()));
        assert!(lookup(ACCOUNT_INFO).is_some_and(|f| f.effect.is_read() && f.params.is_empty() && !f.full_access));
        assert!(lookup(KEY_REQUEST).is_some_and(|f| f.params.iter().any(|p| p.name == "return_url")));
        assert!(lookup(KEY_RETRIEVE).is_some_and(|f| f.params.iter().any(|p| p.name == "token")));
        assert!(lookup(IPN_CONNECT).is_some_and(|f| f.param("ipn_url").is_some() && f.param("sha_passphrase").is_some()));
        assert!(lookup(IPN_DISCONNECT).is_some_and(|f| f.effect == Effect::Destructive && f.param("domain_id").is_some()));
    }

    #[test]
    fn summary_placeholders_name_arguments_or_the_record() {
        for f in FUNCTIONS {
            let Some(template) = f.summary else { continue };
            for placeholder in template.split('{').skip(1).filter_map(|p| p.split_once('}')).map(|(name, _)| name) {
                let known =
                    matches!(placeholder, "order.amount" | "order.currency" | "order.email") || kind_at(f.params, placeholder).is_some();
                assert!(known, "{}: summary names unknown {{{placeholder}}}", f.name);
            }
        }
    }

    #[test]
    fn full_access_covers_every_change_and_the_cache_only_reads() {
        for f in FUNCTIONS {
            assert!(f.full_access || f.effect.is_read(), "{} changes something and must need full access", f.name);
            assert!(!f.cacheable || f.effect.is_read(), "{} is cacheable but not a read", f.name);
        }
        assert_eq!(FUNCTIONS.iter().filter(|f| f.effect.is_read() && f.full_access).count(), 2);
    }

    /// Only the catalogue (and the sandbox, which plays Digistore24) may name
    /// a Digistore24 function: every other string literal in `src/` that is,
    /// or looks like, a function name is a fact that belongs in an entry.
    #[test]
    fn no_function_name_is_spelt_outside_the_catalogue() {
        let looks_like_a_function = |s: &str| {
            let verbs =
                ["list", "get", "create", "update", "delete", "refund", "start", "stop", "add", "set", "request", "retrieve", "ipn"];
            s.len() > 4
                && s.chars().all(|c| c.is_ascii_alphanumeric())
                && verbs.iter().any(|v| s.strip_prefix(v).is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_uppercase())))
        };
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut stack = vec![root.clone()];
        let mut offenders = Vec::new();
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                let relative = path.strip_prefix(&root).unwrap().to_string_lossy().into_owned();
                if relative.starts_with("catalog") || relative.starts_with("sandbox") {
                    continue;
                }
                if path.is_dir() {
                    stack.push(path);
                    continue;
                }
                let text = std::fs::read_to_string(&path).unwrap();
                // Unit tests may name functions to pick entries.
                let code = text.split("#[cfg(test)]").next().unwrap_or("");
                for literal in code.split('"').skip(1).step_by(2) {
                    // MCP's own `ping` method shares the name of Digistore24's function.
                    if relative == "mcp/handler.rs" && literal == "ping" {
                        continue;
                    }
                    if lookup(literal).is_some() || looks_like_a_function(literal) {
                        offenders.push(format!("{relative}: \"{literal}\""));
                    }
                }
            }
        }
        assert!(offenders.is_empty(), "function names outside the catalogue: {offenders:?}");
    }

    #[test]
    fn resource_and_completion_reads_are_catalogue_reads_with_their_argument() {
        let lists = [reads::PRODUCTS, reads::PURCHASES, reads::BUYERS, reads::CURRENCIES];
        for name in reads::ACCOUNT.iter().chain(&lists) {
            assert!(lookup(name).is_some_and(|f| f.effect.is_read()), "{name}");
        }
        for record in [reads::PURCHASE, reads::PRODUCT, reads::BUYER] {
            let function = lookup(record.function).unwrap();
            assert!(function.effect.is_read() && function.param(record.by).is_some_and(|p| p.required), "{record:?}");
        }
    }

    #[test]
    fn local_tools_are_apart_from_the_functions() {
        for tool in LOCAL_TOOLS {
            assert!(lookup(tool.name).is_none(), "{} shadows a function", tool.name);
            assert_eq!(lookup_tool(tool.name).map(|t| t.name), Some(tool.name));
            assert!(is_local(tool) && tool.money.is_some());
            assert!(tool.full_access || tool.effect.is_read());
        }
        assert!(!FUNCTIONS.iter().any(is_local));
        assert!(!TOOLSETS.contains(&LOCAL_TOOLSET) && is_toolset(LOCAL_TOOLSET));
    }

    #[test]
    fn descriptions_are_written_for_agents() {
        for f in FUNCTIONS {
            assert!(f.description.len() >= 30, "{}: description too short", f.name);
            assert!(!f.description.ends_with(' '), "{}", f.name);
        }
    }
}
