//! The `rmcp` server handler: lists the tools and runs tool calls through the
//! safety pipeline — filters, validation, limits, dry run, confirmation,
//! upstream call, answer shaping.

use super::answer;
use super::policy::{ConfirmPolicy, Limits, check_limits, summarize, summary_uses_purchase};
use super::tools::DRY_RUN;
use super::{ToolFilter, ToolList};
use crate::catalog::{self, Effect, Function};
use crate::ds24::{ApiKey, CallError, Client, FormBody, encode_args};
use crate::ops::cache::ResponseCache;
use crate::ops::limit::RateLimiter;
use crate::ops::metrics;
use axum::http::request::Parts;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, ElicitRequest, ElicitRequestParams, ElicitResult,
    ElicitationAction, Implementation, InputRequest, InputRequests, InputRequiredResult, ListToolsResult, PaginatedRequestParams,
    ProtocolVersion, RequestStateCodec, SealOptions, ServerCapabilities, ServerConfig,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData as McpError, Peer, RoleServer, ServerHandler};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Short guidance sent to every client as MCP `instructions`.
pub const INSTRUCTIONS: &str = "Tools for the Digistore24 vendor API; each tool is one API function of the same name. \
Amounts are decimal strings with a dot (\"49.00\") in the currency's units. Dates: YYYY-MM-DD; times: \
YYYY-MM-DD HH:MM:SS (server time); both also take now, today, start or offsets like -30d, -24h, 6M. \
List tools default to the last 24 hours: pass from/to and prefer narrow ranges and filters. \
Destructive tools (refunds, cancellations, deletions, charges) need the user's confirmation; \
every changing tool takes dry_run: true to preview the exact request without sending it. \
Every tool also accepts language (e.g. en, de) for Digistore24's messages.";

/// How long a confirmation request stays valid by default.
pub const CONFIRMATION_TTL: Duration = Duration::from_secs(300);
/// The key of the confirmation in MRTR input requests/responses.
const CONFIRM: &str = "confirm";

/// How a server instance is set up; fixed for its lifetime.
#[derive(Debug, Clone)]
pub struct ServerSettings {
    /// The operator's bound on which tools exist.
    pub filter: ToolFilter,
    /// Key used when a request brings none (stdio, single-tenant, sandbox).
    pub default_key: Option<ApiKey>,
    /// Which calls need the user's confirmation.
    pub confirm: ConfirmPolicy,
    /// Money caps and product allow-list.
    pub limits: Limits,
    /// Largest answer passed to the agent, in bytes of JSON.
    pub max_result_bytes: usize,
    /// Secret that seals confirmation state; the same on every replica.
    pub state_secret: Vec<u8>,
    /// How long the user has to confirm.
    pub confirmation_ttl: Duration,
    /// Per-key rate limit of tool calls that reach Digistore24.
    pub limiter: Option<Arc<RateLimiter>>,
    /// Cache of rarely-changing reference data.
    pub cache: Option<Arc<ResponseCache>>,
    /// How often a failed read is retried (writes never are).
    pub read_retries: u32,
    /// Count tool calls per key hash in the metrics.
    pub metrics_per_key: bool,
}

impl Default for ServerSettings {
    fn default() -> Self {
        ServerSettings {
            filter: ToolFilter::default(),
            default_key: None,
            confirm: ConfirmPolicy::default(),
            limits: Limits::default(),
            max_result_bytes: answer::DEFAULT_MAX_RESULT_BYTES,
            state_secret: random_secret(),
            confirmation_ttl: CONFIRMATION_TTL,
            limiter: None,
            cache: None,
            read_retries: 2,
            metrics_per_key: false,
        }
    }
}

/// A per-process secret for deployments that did not configure one.
pub fn random_secret() -> Vec<u8> {
    use rand::RngCore;
    let mut secret = vec![0u8; 32];
    rand::rng().fill_bytes(&mut secret);
    secret
}

/// The narrowing a request asked for (headers or URL path); it can only
/// remove tools from the operator's set, never add any.
#[derive(Debug, Clone)]
pub struct Narrowing {
    /// The filter the request asked for.
    pub filter: ToolFilter,
    /// How it was asked, for messages (e.g. "header X-MCP-Readonly").
    pub source: String,
}

/// The id of the HTTP request a call came with (from `X-Request-Id` or generated).
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// Where a confirmation can come from for this call.
enum Asker<'a> {
    /// 2026-07-28 client with elicitation: answer input-required (MRTR).
    Mrtr { state: Option<&'a str>, responses: Option<&'a rmcp::model::InputResponses> },
    /// Older client with elicitation on a live connection (stdio).
    Elicit(&'a Peer<RoleServer>),
    /// Nobody to ask.
    Nobody(&'static str),
}

/// Everything a tool call brings besides its name and arguments.
struct CallEnv<'a> {
    request_id: Option<&'a str>,
    key: Option<ApiKey>,
    narrowing: Option<&'a Narrowing>,
    asker: Asker<'a>,
}

/// Outcome of the pipeline, before logging.
enum Outcome {
    Done(CallToolResult, &'static str),
    AskUser(InputRequiredResult),
}

/// The MCP server: cheap to clone (one `Arc`), so the stateless HTTP service
/// can hand a copy to every request.
#[derive(Clone)]
pub struct Ds24Server {
    shared: Arc<Shared>,
}

struct Shared {
    client: Client,
    tools: ToolList,
    settings: ServerSettings,
    info: ServerConfig,
    codec: RequestStateCodec,
}

impl std::fmt::Debug for Ds24Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ds24Server").field("tools", &self.shared.tools.tools().len()).finish_non_exhaustive()
    }
}

impl Ds24Server {
    /// Builds the server; the tool list is built here, once.
    pub fn new(client: Client, settings: ServerSettings) -> Self {
        let tools = ToolList::new(&settings.filter);
        let info = ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("digistore24-mcp", env!("CARGO_PKG_VERSION")))
            .with_instructions(INSTRUCTIONS);
        let codec = RequestStateCodec::new_unchecked(settings.state_secret.clone());
        Ds24Server { shared: Arc::new(Shared { client, tools, settings, info, codec }) }
    }

    /// The tools this instance offers.
    pub fn tools(&self) -> &ToolList {
        &self.shared.tools
    }

    /// The key used when a request brings none.
    pub fn default_key(&self) -> Option<&ApiKey> {
        self.shared.settings.default_key.as_ref()
    }

    /// The per-key rate limiter, if one is configured.
    pub fn limiter(&self) -> Option<&RateLimiter> {
        self.shared.settings.limiter.as_deref()
    }

    /// The upstream client.
    pub fn client(&self) -> &Client {
        &self.shared.client
    }

    /// Runs one tool call from the shell (`call` subcommand): same pipeline,
    /// nobody to ask for confirmation. `Err` only for an unknown tool.
    pub async fn call(&self, name: &str, arguments: Option<Map<String, Value>>, key: Option<&ApiKey>) -> Result<CallToolResult, McpError> {
        let env = CallEnv {
            request_id: None,
            key: key.cloned(),
            narrowing: None,
            asker: Asker::Nobody("the command line cannot ask for confirmation"),
        };
        match self.dispatch(name, arguments.unwrap_or_default(), env).await? {
            Outcome::Done(result, _) => Ok(result),
            Outcome::AskUser(_) => unreachable!("no MRTR from the command line"),
        }
    }

    async fn dispatch(&self, name: &str, arguments: Map<String, Value>, env: CallEnv<'_>) -> Result<Outcome, McpError> {
        let Some(function) = catalog::lookup(name) else {
            return Err(McpError::invalid_params(format!("unknown tool `{name}`; tools/list shows the available tools"), None));
        };
        let started = Instant::now();
        let key_hash = env.key.as_ref().map(ApiKey::fingerprint).unwrap_or_else(|| "none".into());
        let request_id = env.request_id.unwrap_or("-").to_owned();
        let outcome = self.run(function, arguments, env).await;
        let label = match &outcome {
            Outcome::Done(_, label) => *label,
            Outcome::AskUser(_) => "confirmation_requested",
        };
        let elapsed = started.elapsed();
        let per_key = self.shared.settings.metrics_per_key.then_some(key_hash.as_str());
        metrics::tool_call(function.name, metrics::outcome_class(label), elapsed, per_key);
        tracing::info!(
            target: "digistore24_mcp::call",
            request_id = %request_id,
            tool = function.name,
            key = %key_hash,
            outcome = label,
            duration_ms = elapsed.as_secs_f64() * 1000.0,
            "tool call"
        );
        Ok(outcome)
    }

    async fn run(&self, function: &'static Function, mut arguments: Map<String, Value>, env: CallEnv<'_>) -> Outcome {
        let settings = &self.shared.settings;
        if !settings.filter.allows(function) {
            return done_err(self.disabled_reason(function), "disabled");
        }
        if let Some(narrowing) = env.narrowing
            && !narrowing.filter.allows(function)
        {
            let message = format!(
                "{} is not available on this connection: the client narrowed the tools with {}. Connect without that narrowing to use it.",
                function.name, narrowing.source
            );
            return done_err(message, "disabled");
        }
        let dry_run = if function.effect.is_read() {
            false
        } else {
            match arguments.remove(DRY_RUN).as_ref().map(crate::ds24::parse_bool) {
                None | Some(Some(false)) => false,
                Some(Some(true)) => true,
                Some(None) => {
                    return done_err(
                        format!("Invalid arguments for {}: argument `dry_run` must be true or false.", function.name),
                        "invalid_arguments",
                    );
                }
            }
        };
        let body = match encode_args(function, &arguments) {
            Ok(body) => body,
            Err(e) => {
                return done_err(
                    format!("Invalid arguments for {}: {e}. Nothing was sent to Digistore24.", function.name),
                    "invalid_arguments",
                );
            }
        };
        if dry_run {
            // A cap that needs the order's amount is checked when the call is made for real.
            if !settings.limits.needs_purchase(function)
                && let Err(message) = check_limits(function, &arguments, None, &settings.limits)
            {
                return done_err(message, "refused_by_limit");
            }
            return Outcome::Done(self.dry_run(function, &arguments, &body, env.key.as_ref()), "dry_run");
        }
        let Some(key) = env.key.as_ref() else {
            return done_err(
                "No Digistore24 API key: send it as `Authorization: Bearer KEY` (HTTP) or set DS24_API_KEY (stdio).".into(),
                "no_key",
            );
        };
        let needs_confirmation = settings.confirm.requires(function.effect);
        let asks_now = needs_confirmation && matches!(env.asker, Asker::Mrtr { state: None, .. } | Asker::Elicit(_));
        // The order's record makes a refund cap exact and a confirmation concrete;
        // it is looked up only when one of them needs it.
        let purchase = if settings.limits.needs_purchase(function) || (asks_now && summary_uses_purchase(function)) {
            match self.fetch_purchase(key, &arguments).await {
                Ok(p) => p,
                Err(e) => return done_err(format!("{} not sent: looking up the order first failed: {e}", function.name), e.kind()),
            }
        } else {
            None
        };
        if let Err(message) = check_limits(function, &arguments, purchase.as_ref(), &settings.limits) {
            return done_err(message, "refused_by_limit");
        }
        if needs_confirmation {
            let summary = summarize(function, &arguments, purchase.as_ref());
            match self.confirm(function, &arguments, key, &summary, env.asker).await {
                Confirmation::Confirmed => {}
                Confirmation::Ask(result) => return Outcome::AskUser(result),
                Confirmation::Refused(message, label) => return done_err(message, label),
            }
        }
        let cache = settings.cache.as_ref().filter(|_| ResponseCache::covers(function.name));
        if let Some(cache) = cache {
            let hit = cache.get(key, function.name, &body).await;
            metrics::cache(function.name, hit.is_some());
            if let Some(data) = hit {
                return self.answer(function, &arguments, data, "cached");
            }
        }
        if let Some(limiter) = &settings.limiter
            && let Err(wait) = limiter.check(key).await
        {
            metrics::rate_limited("tool_call");
            let seconds = wait.as_secs_f64().max(0.1);
            return done_err(
                format!("{} not sent: rate limit for this API key reached; retry after {seconds:.1} s.", function.name),
                "rate_limited",
            );
        }
        let result = if function.effect.is_read() {
            self.shared.client.call_read(key, function.name, &body, settings.read_retries).await
        } else {
            self.shared.client.call(key, function.name, &body).await
        };
        match result {
            Ok(data) => {
                if let Some(cache) = cache {
                    cache.put(key, function.name, &body, &data).await;
                }
                self.answer(function, &arguments, data, "success")
            }
            Err(e) => {
                let label = e.kind();
                done_err(describe_failure(function, &e), label)
            }
        }
    }

    fn answer(&self, function: &Function, arguments: &Map<String, Value>, data: Value, label: &'static str) -> Outcome {
        match answer::shape(function, arguments, data, self.shared.settings.max_result_bytes) {
            Ok((shaped, text)) => {
                // CallToolResult::structured would serialize the data a second time.
                let mut result = CallToolResult::success(vec![ContentBlock::text(text)]);
                result.structured_content = Some(shaped);
                Outcome::Done(result, label)
            }
            Err(message) => done_err(format!("{}: {message}", function.name), "too_large"),
        }
    }

    async fn fetch_purchase(&self, key: &ApiKey, arguments: &Map<String, Value>) -> Result<Option<Value>, CallError> {
        let Some(id) =
            arguments.get("purchase_id").and_then(|v| v.as_str().map(str::to_owned).or_else(|| v.as_i64().map(|n| n.to_string())))
        else {
            return Ok(None);
        };
        let body = FormBody { fields: vec![("purchase_id".into(), id)] };
        self.shared.client.call(key, "getPurchase", &body).await.map(Some)
    }

    fn dry_run(&self, function: &Function, arguments: &Map<String, Value>, body: &FormBody, key: Option<&ApiKey>) -> CallToolResult {
        let shown_key = key.map(|k| format!("[redacted {k}]")).unwrap_or_else(|| "(none: the real call would fail)".into());
        let fields: Vec<Value> = body.fields.iter().map(|(n, v)| json!([n, v])).collect();
        CallToolResult::structured(json!({
            "dry_run": true,
            "sent": false,
            "function": function.name,
            "effect": function.effect.as_str(),
            "would": summarize(function, arguments, None),
            "what_it_does": function.description,
            "needs_confirmation": self.shared.settings.confirm.requires(function.effect),
            "request": {
                "method": "POST",
                "url": self.shared.client.url_for(function.name),
                "headers": {
                    "X-DS-API-KEY": shown_key,
                    "Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
                    "Accept": "application/json",
                },
                "fields": fields,
                "body": body.to_urlencoded(),
            },
        }))
    }

    async fn confirm(
        &self,
        function: &Function,
        arguments: &Map<String, Value>,
        key: &ApiKey,
        summary: &str,
        asker: Asker<'_>,
    ) -> Confirmation {
        let policy = match self.shared.settings.confirm {
            ConfirmPolicy::Writes => "writes",
            _ => "destructive",
        };
        match asker {
            Asker::Mrtr { state: None, .. } => {
                let bound = binding(key, function, arguments);
                let options = SealOptions::new().associated_data(&bound).ttl(self.shared.settings.confirmation_ttl);
                let state = self.shared.codec.seal_with(function.name.as_bytes(), &options);
                let mut requests = InputRequests::new();
                requests.insert(CONFIRM.into(), InputRequest::Elicitation(ElicitRequest::new(confirmation_params(summary))));
                Confirmation::Ask(InputRequiredResult::new(Some(requests), Some(state)))
            }
            Asker::Mrtr { state: Some(state), responses } => {
                let bound = binding(key, function, arguments);
                if let Err(e) = self.shared.codec.open_with(state, &bound) {
                    // One message for every failure (expired, tampered, other key or
                    // arguments), as the codec asks; the detail goes to the log only.
                    tracing::debug!(tool = function.name, error = %e, "confirmation state refused");
                    return Confirmation::Refused(
                        format!(
                            "{} not sent: the confirmation is expired or does not match this call and key. Call the tool again to ask the user anew.",
                            function.name
                        ),
                        "confirmation_invalid",
                    );
                }
                let answer = responses.and_then(|r| r.get(CONFIRM)).cloned().and_then(|v| serde_json::from_value::<ElicitResult>(v).ok());
                judge(function, summary, answer)
            }
            Asker::Elicit(peer) => {
                let answer = peer
                    .create_elicitation_with_timeout(confirmation_params(summary), Some(self.shared.settings.confirmation_ttl))
                    .await
                    .ok();
                judge(function, summary, answer)
            }
            Asker::Nobody(why) => Confirmation::Refused(
                format!(
                    "{} not sent: this server asks the user to confirm {policy} calls (\"{summary}\"), but {why}. \
                     Use dry_run to preview it; the operator can change the policy with --confirm off.",
                    function.name
                ),
                "confirmation_unavailable",
            ),
        }
    }

    fn disabled_reason(&self, function: &Function) -> String {
        let filter = &self.shared.settings.filter;
        if filter.read_only && !function.effect.is_read() {
            format!(
                "{} is a {} tool and this server runs read-only; the operator can allow it by starting without --read-only.",
                function.name,
                function.effect.as_str()
            )
        } else {
            format!(
                "{} (toolset {}) is not enabled on this server; the operator can enable it with --toolsets or --tools.",
                function.name, function.toolset
            )
        }
    }

    fn request_key(&self, parts: Option<&Parts>) -> Option<ApiKey> {
        parts.and_then(|p| p.extensions.get::<ApiKey>().cloned()).or_else(|| self.shared.settings.default_key.clone())
    }
}

enum Confirmation {
    Confirmed,
    Ask(InputRequiredResult),
    Refused(String, &'static str),
}

fn judge(function: &Function, summary: &str, answer: Option<ElicitResult>) -> Confirmation {
    match answer {
        Some(ElicitResult { action: ElicitationAction::Accept, content: Some(content), .. })
            if content.get(CONFIRM).and_then(crate::ds24::parse_bool) == Some(true) =>
        {
            Confirmation::Confirmed
        }
        Some(_) => Confirmation::Refused(format!("{} not sent: the user did not confirm \"{summary}\".", function.name), "declined"),
        None => Confirmation::Refused(format!("{} not sent: no confirmation came back for \"{summary}\".", function.name), "declined"),
    }
}

fn confirmation_params(summary: &str) -> ElicitRequestParams {
    let schema = json!({
        "type": "object",
        "properties": {CONFIRM: {"type": "boolean", "title": "Confirm", "description": "Yes, do it"}},
        "required": [CONFIRM],
    });
    ElicitRequestParams::FormElicitationParams {
        meta: None,
        message: format!("Please confirm: {summary}."),
        requested_schema: serde_json::from_value(schema).expect("static elicitation schema"),
    }
}

/// What a confirmation is bound to: the key, the tool and the exact arguments.
fn binding(key: &ApiKey, function: &Function, arguments: &Map<String, Value>) -> Vec<u8> {
    let mut hash = Sha256::new();
    hash.update(key.expose().as_bytes());
    hash.update([0]);
    hash.update(function.name.as_bytes());
    hash.update([0]);
    // serde_json's map is ordered by key, so this serialization is canonical.
    hash.update(serde_json::to_vec(arguments).unwrap_or_default());
    hash.finalize().to_vec()
}

fn done_err(message: String, label: &'static str) -> Outcome {
    Outcome::Done(CallToolResult::error(vec![ContentBlock::text(message)]), label)
}

fn describe_failure(function: &Function, error: &CallError) -> String {
    let hint = match error {
        CallError::Api { code: Some(2), .. } | CallError::Api { status: 401, .. } => " Check the API key.",
        CallError::Api { code: Some(8), .. } | CallError::Api { status: 403, .. } => {
            " The key lacks the right for this call (a read-only key cannot change anything)."
        }
        CallError::Api { code: Some(4), .. } | CallError::Api { status: 404, .. } => " Check the id.",
        CallError::Timeout(_) if function.effect != Effect::Read => " Check with a read tool before retrying.",
        _ => "",
    };
    format!("{} failed: {error}.{hint}", function.name)
}

impl ServerHandler for Ds24Server {
    fn get_info(&self) -> ServerConfig {
        self.shared.info.clone()
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, McpError> {
        let narrowing = context.extensions.get::<Parts>().and_then(|p| p.extensions.get::<Narrowing>());
        let tools = match narrowing {
            Some(n) => self.shared.tools.narrowed(&n.filter),
            None => self.shared.tools.tools().to_vec(),
        };
        metrics::mcp_request("tools/list", true);
        Ok(ListToolsResult::with_all_items(tools))
    }

    async fn initialize(
        &self,
        request: rmcp::model::InitializeRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<rmcp::model::InitializeResult, McpError> {
        context.peer.set_peer_info(request.clone());
        let result = self.negotiate_initialize(&request);
        metrics::mcp_request("initialize", result.is_ok());
        result
    }

    async fn ping(&self, _context: RequestContext<RoleServer>) -> Result<(), McpError> {
        metrics::mcp_request("ping", true);
        Ok(())
    }

    async fn call_tool(&self, request: CallToolRequestParams, context: RequestContext<RoleServer>) -> Result<CallToolResponse, McpError> {
        let parts = context.extensions.get::<Parts>();
        let can_elicit = context.client_capabilities().is_some_and(|c| c.elicitation.is_some());
        let modern = context.protocol_version().is_some_and(|v| v >= ProtocolVersion::V_2026_07_28);
        let asker = match (can_elicit, modern, parts.is_some()) {
            (true, true, _) => Asker::Mrtr { state: request.request_state.as_deref(), responses: request.input_responses.as_ref() },
            (true, false, false) => Asker::Elicit(&context.peer),
            (true, false, true) => {
                Asker::Nobody("this client speaks a protocol older than 2026-07-28 over stateless HTTP, where the server cannot ask")
            }
            (false, ..) => Asker::Nobody("this client does not support elicitation, so the user cannot be asked"),
        };
        let env = CallEnv {
            request_id: parts.and_then(|p| p.extensions.get::<RequestId>()).map(|id| id.0.as_str()),
            key: self.request_key(parts),
            narrowing: parts.and_then(|p| p.extensions.get::<Narrowing>()),
            asker,
        };
        let response = match self.dispatch(&request.name, request.arguments.unwrap_or_default(), env).await {
            Ok(Outcome::Done(result, _)) => Ok(result.into()),
            Ok(Outcome::AskUser(input)) => Ok(input.into()),
            Err(e) => Err(e),
        };
        metrics::mcp_request("tools/call", response.is_ok());
        response
    }
}
