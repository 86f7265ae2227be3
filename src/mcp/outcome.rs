//! How a tool call ends, as types: the refusals the pipeline can make before
//! anything is sent, and the outcome every call is recorded with.
//!
//! Owns: the wording of every refusal an agent reads, and the one exhaustive
//! mapping from an outcome to its metric class and log label (the usage record
//! of a later issue reads the same). Must not touch: how a call is made.

use super::context::GrantProblem;
use crate::catalog::Function;
use crate::ds24::{ArgError, CallError};
use rust_decimal::Decimal;

/// Why the pipeline did not send a call. The `Display` text is what the agent
/// reads: it says what happened and what to do instead.
#[derive(Debug, Clone, thiserror::Error)]
pub enum Refusal {
    /// The operator runs the server read-only and the tool changes something.
    #[error("{tool} is a {effect} tool and this server runs read-only; the operator can allow it by starting without --read-only.")]
    ReadOnlyServer { tool: &'static str, effect: &'static str },
    /// The operator did not enable the tool's toolset or name.
    #[error("{tool} (toolset {toolset}) is not enabled on this server; the operator can enable it with --toolsets or --tools.")]
    NotEnabled { tool: &'static str, toolset: &'static str },
    /// The client narrowed its own tool set and this tool is outside it.
    #[error(
        "{tool} is not available on this connection: the client narrowed the tools with {narrowed_by}. Connect without that narrowing to use it."
    )]
    Narrowed { tool: &'static str, narrowed_by: String },
    /// An argument is missing, mistyped or unknown.
    #[error("Invalid arguments for {tool}: {error}. Nothing was sent to Digistore24.")]
    InvalidArguments { tool: &'static str, error: ArgError },
    /// No key came with the call and the server has none.
    #[error("No Digistore24 API key: send it as `Authorization: Bearer KEY` (HTTP) or set DS24_API_KEY (stdio).")]
    NoKey,
    /// The call would move more money than the operator allows.
    #[error("{tool} refused: the {what} of {amount} is over the operator's limit {flag} {cap}; nothing was sent.")]
    OverCap { tool: &'static str, what: &'static str, amount: Decimal, flag: &'static str, cap: Decimal },
    /// A cap is set and the amount of the call cannot be known in advance.
    #[error(
        "{tool} refused: the operator set {flag} {cap} and the amount of this {what} cannot be known before it is made; nothing was sent."
    )]
    UnknownAmount { tool: &'static str, what: &'static str, flag: &'static str, cap: Decimal },
    /// The call names a product outside the operator's allow-list.
    #[error("{tool} refused: product {product} is not in the operator's --allow-product-ids list; nothing was sent.")]
    ProductNotAllowed { tool: &'static str, product: String },
    /// The call needs the user's confirmation and nobody can be asked.
    #[error(
        "{tool} not sent: this server asks the user to confirm {policy} calls (\"{summary}\"), but {why}. Use dry_run to preview it; the operator can change the policy with --confirm off."
    )]
    ConfirmationUnavailable { tool: &'static str, policy: &'static str, summary: String, why: &'static str },
    /// The confirmation state sent back is expired, tampered or for another call.
    #[error("{tool} not sent: the confirmation is expired or does not match this call and key. Call the tool again to ask the user anew.")]
    ConfirmationInvalid { tool: &'static str },
    /// The user said no.
    #[error("{tool} not sent: the user did not confirm \"{summary}\".")]
    Declined { tool: &'static str, summary: String },
    /// No answer came back from the confirmation request.
    #[error("{tool} not sent: no confirmation came back for \"{summary}\".")]
    NoConfirmation { tool: &'static str, summary: String },
    /// The call changes data and the OAuth grant allows reads only.
    #[error(
        "{tool} changes data and this connection was granted read access only; sign in again with write access (digistore24:write) and a key with full access."
    )]
    InsufficientScope { tool: &'static str },
    /// The key's rate limit is used up.
    #[error("{tool} not sent: rate limit for this API key reached; retry after {seconds:.1} s.")]
    RateLimited { tool: &'static str, seconds: f64 },
    /// A local `events` tool cannot answer (events off, bad cursor, database down, …).
    #[error("{tool}: {message}")]
    Events { tool: &'static str, message: String },
    /// Even the shortest cut of the answer is over the size bound.
    #[error("{tool}: {message}")]
    TooLarge { tool: &'static str, message: String },
}

impl Refusal {
    /// The refusal for invalid arguments of `function`.
    pub fn invalid(function: &Function, error: ArgError) -> Self {
        Refusal::InvalidArguments { tool: function.name, error }
    }

    /// Short label for logs (and the usage record): which refusal it was.
    pub fn label(&self) -> &'static str {
        match self {
            Refusal::ReadOnlyServer { .. } | Refusal::NotEnabled { .. } | Refusal::Narrowed { .. } => "disabled",
            Refusal::InvalidArguments { .. } => "invalid_arguments",
            Refusal::NoKey => "no_key",
            Refusal::OverCap { .. } | Refusal::UnknownAmount { .. } | Refusal::ProductNotAllowed { .. } => "refused_by_limit",
            Refusal::ConfirmationUnavailable { .. } => "confirmation_unavailable",
            Refusal::ConfirmationInvalid { .. } => "confirmation_invalid",
            Refusal::Declined { .. } | Refusal::NoConfirmation { .. } => "declined",
            Refusal::RateLimited { .. } => "rate_limited",
            Refusal::InsufficientScope { .. } => "insufficient_scope",
            Refusal::TooLarge { .. } => "too_large",
            Refusal::Events { .. } => "events_unavailable",
        }
    }

    /// The metric class: a rate limit is the policy working, everything else
    /// is a tool error (the caller's to fix), never an upstream error.
    pub fn class(&self) -> Class {
        match self {
            Refusal::RateLimited { .. } => Class::RateLimited,
            _ => Class::ToolError,
        }
    }
}

/// The outcome classes of `ds24_mcp_tool_calls_total{outcome}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Class {
    /// Digistore24 answered with data.
    Success,
    /// Answered from the reference-data cache.
    Cached,
    /// A dry run: shown, not sent.
    DryRun,
    /// The first round of a confirmation: the client was asked to confirm.
    ConfirmationRequested,
    /// Refused by the per-key rate limit.
    RateLimited,
    /// Refused before sending: invalid arguments, a cap, a disabled tool, declined, …
    ToolError,
    /// Digistore24 answered with an error or something that is not an answer, or could not be reached.
    UpstreamError,
    /// Digistore24 did not answer in time.
    Timeout,
}

impl Class {
    /// Every class, for tests and documentation.
    pub const ALL: [Class; 8] = [
        Class::Success,
        Class::Cached,
        Class::DryRun,
        Class::ConfirmationRequested,
        Class::RateLimited,
        Class::ToolError,
        Class::UpstreamError,
        Class::Timeout,
    ];

    /// The metric label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Class::Success => "success",
            Class::Cached => "cached",
            Class::DryRun => "dry_run",
            Class::ConfirmationRequested => "confirmation_requested",
            Class::RateLimited => "rate_limited",
            Class::ToolError => "tool_error",
            Class::UpstreamError => "upstream_error",
            Class::Timeout => "timeout",
        }
    }
}

/// How one tool call ended.
#[derive(Debug, Clone, Copy)]
pub enum Outcome<'a> {
    /// Answered with Digistore24's data.
    Success,
    /// Answered from the cache.
    Cached,
    /// Shown as a dry run.
    DryRun,
    /// Asked the client to confirm (input required).
    ConfirmationRequested,
    /// Refused before anything was sent.
    Refused(&'a Refusal),
    /// Sent (or the lookup before it was), and it failed.
    Failed(&'a CallError),
}

impl Outcome<'_> {
    /// The metric class.
    pub fn class(&self) -> Class {
        match self {
            Outcome::Success => Class::Success,
            Outcome::Cached => Class::Cached,
            Outcome::DryRun => Class::DryRun,
            Outcome::ConfirmationRequested => Class::ConfirmationRequested,
            Outcome::Refused(refusal) => refusal.class(),
            Outcome::Failed(CallError::Timeout(_)) => Class::Timeout,
            Outcome::Failed(_) => Class::UpstreamError,
        }
    }

    /// What the transport must answer itself on a call made with an OAuth
    /// grant: Digistore24 refusing the key (code 2 or HTTP 401), or a write
    /// refused for the grant's read scope.
    pub fn grant_problem(&self) -> Option<GrantProblem> {
        match self {
            Outcome::Failed(CallError::Api { code: Some(2), .. } | CallError::Api { status: 401, .. }) => Some(GrantProblem::KeyRejected),
            Outcome::Refused(Refusal::InsufficientScope { .. }) => Some(GrantProblem::InsufficientScope),
            _ => None,
        }
    }

    /// The log label: the class where that says it all, else the detail.
    pub fn label(&self) -> &'static str {
        match self {
            Outcome::Refused(refusal) => refusal.label(),
            Outcome::Failed(error) => error.kind(),
            other => other.class().as_str(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn every_refusal() -> Vec<Refusal> {
        let tool = "refundPurchase";
        let cap = Decimal::new(40, 0);
        vec![
            Refusal::ReadOnlyServer { tool, effect: "destructive" },
            Refusal::NotEnabled { tool, toolset: "purchases" },
            Refusal::Narrowed { tool, narrowed_by: "header X-MCP-Readonly".into() },
            Refusal::InvalidArguments { tool, error: ArgError::Missing("purchase_id".into()) },
            Refusal::NoKey,
            Refusal::OverCap { tool, what: "refund", amount: Decimal::new(49, 0), flag: "--max-refund-amount", cap },
            Refusal::UnknownAmount { tool, what: "refund", flag: "--max-refund-amount", cap },
            Refusal::ProductNotAllowed { tool, product: "7".into() },
            Refusal::ConfirmationUnavailable { tool, policy: "destructive", summary: "Refund order A".into(), why: "nobody can be asked" },
            Refusal::ConfirmationInvalid { tool },
            Refusal::Declined { tool, summary: "Refund order A".into() },
            Refusal::NoConfirmation { tool, summary: "Refund order A".into() },
            Refusal::RateLimited { tool, seconds: 1.5 },
            Refusal::InsufficientScope { tool },
            Refusal::TooLarge { tool, message: "too big".into() },
        ]
    }

    #[test]
    fn every_refusal_is_a_tool_error_except_the_rate_limit_and_none_is_upstream() {
        for refusal in every_refusal() {
            let outcome = Outcome::Refused(&refusal);
            let expected = if matches!(refusal, Refusal::RateLimited { .. }) { Class::RateLimited } else { Class::ToolError };
            assert_eq!(outcome.class(), expected, "{refusal:?}");
            assert!(!refusal.to_string().is_empty());
            assert_ne!(outcome.label(), "tool_error", "a refusal's label says which one: {refusal:?}");
        }
    }

    #[test]
    fn an_answer_too_large_is_the_callers_to_fix_not_an_upstream_error() {
        let refusal = Refusal::TooLarge { tool: "listPurchases", message: "x".into() };
        assert_eq!(Outcome::Refused(&refusal).class(), Class::ToolError);
        assert_eq!(Outcome::Refused(&refusal).label(), "too_large");
    }

    #[test]
    fn asking_for_confirmation_is_not_an_error() {
        assert_eq!(Outcome::ConfirmationRequested.class(), Class::ConfirmationRequested);
        assert_eq!(Outcome::ConfirmationRequested.label(), "confirmation_requested");
    }

    #[test]
    fn upstream_failures_are_upstream_errors_or_timeouts() {
        let failures = [
            CallError::Api { status: 200, code: Some(4), message: "x".into() },
            CallError::Http { status: 502, snippet: "x".into() },
            CallError::BadResponse { status: 200, reason: crate::ds24::EnvelopeError::NotJson, snippet: "x".into() },
            CallError::Connect("refused".into()),
            CallError::TooLarge,
        ];
        for error in &failures {
            assert_eq!(Outcome::Failed(error).class(), Class::UpstreamError, "{error:?}");
            assert_eq!(Outcome::Failed(error).label(), error.kind());
        }
        let timeout = CallError::Timeout(Duration::from_secs(1));
        assert_eq!(Outcome::Failed(&timeout).class(), Class::Timeout);
    }

    #[test]
    fn only_a_rejected_key_and_a_missing_scope_are_grant_problems() {
        let bad_key = CallError::Api { status: 200, code: Some(2), message: "Invalid API key".into() };
        assert_eq!(Outcome::Failed(&bad_key).grant_problem(), Some(GrantProblem::KeyRejected));
        let unauthorized = CallError::Api { status: 401, code: None, message: "x".into() };
        assert_eq!(Outcome::Failed(&unauthorized).grant_problem(), Some(GrantProblem::KeyRejected));
        let permission = CallError::Api { status: 403, code: Some(8), message: "read only".into() };
        assert_eq!(Outcome::Failed(&permission).grant_problem(), None);
        let scope = Refusal::InsufficientScope { tool: "refundPurchase" };
        assert_eq!(Outcome::Refused(&scope).grant_problem(), Some(GrantProblem::InsufficientScope));
        for refusal in every_refusal().iter().filter(|r| !matches!(r, Refusal::InsufficientScope { .. })) {
            assert_eq!(Outcome::Refused(refusal).grant_problem(), None, "{refusal:?}");
        }
        assert_eq!(Outcome::Success.grant_problem(), None);
    }

    #[test]
    fn every_class_has_its_own_label() {
        let labels: std::collections::HashSet<_> = Class::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(labels.len(), Class::ALL.len());
        for (outcome, class) in [
            (Outcome::Success, Class::Success),
            (Outcome::Cached, Class::Cached),
            (Outcome::DryRun, Class::DryRun),
            (Outcome::ConfirmationRequested, Class::ConfirmationRequested),
        ] {
            assert_eq!(outcome.class(), class);
            assert_eq!(outcome.label(), class.as_str());
        }
    }
}
