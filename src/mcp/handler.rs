//! The `rmcp` server handler: lists the tools and runs tool calls.

use super::{ToolFilter, ToolList};
use crate::catalog::{self, Function};
use crate::ds24::{ApiKey, CallError, Client, encode_args};
use axum::http::request::Parts;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation, ListToolsResult,
    PaginatedRequestParams, ServerCapabilities, ServerConfig,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData as McpError, RoleServer, ServerHandler};
use serde_json::{Map, Value};
use std::sync::Arc;
use std::time::Instant;

/// Short guidance sent to every client as MCP `instructions`.
pub const INSTRUCTIONS: &str = "Tools for the Digistore24 vendor API; each tool is one API function of the same name. \
Amounts are decimal strings with a dot (\"49.00\") in the currency's units. Times: YYYY-MM-DD or \
YYYY-MM-DD HH:MM:SS (server time), now, today, start, or offsets like -30d, -24h. List tools default to \
the last 24 hours: pass from/to and prefer narrow ranges. Tools marked destructive move money, cancel \
or delete; confirm them with the user first. Every tool also accepts language (e.g. en, de) for messages.";

/// How a server instance is set up; fixed for its lifetime.
#[derive(Debug, Clone)]
pub struct ServerSettings {
    /// The operator's bound on which tools exist.
    pub filter: ToolFilter,
    /// Key used when a request brings none (stdio, single-tenant, sandbox).
    pub default_key: Option<ApiKey>,
}

/// The MCP server: cheap to clone (one `Arc`), so the stateless HTTP service
/// can hand a copy to every request.
#[derive(Debug, Clone)]
pub struct Ds24Server {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    client: Client,
    tools: ToolList,
    settings: ServerSettings,
    info: ServerConfig,
}

impl Ds24Server {
    /// Builds the server; the tool list is built here, once.
    pub fn new(client: Client, settings: ServerSettings) -> Self {
        let tools = ToolList::new(&settings.filter);
        let info = ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("digistore24-mcp", env!("CARGO_PKG_VERSION")))
            .with_instructions(INSTRUCTIONS);
        Ds24Server { shared: Arc::new(Shared { client, tools, settings, info }) }
    }

    /// The tools this instance offers.
    pub fn tools(&self) -> &ToolList {
        &self.shared.tools
    }

    /// The key used when a request brings none.
    pub fn default_key(&self) -> Option<&ApiKey> {
        self.shared.settings.default_key.as_ref()
    }

    /// The upstream client.
    pub fn client(&self) -> &Client {
        &self.shared.client
    }

    /// Runs one tool call with an explicit key; used by the MCP handler and
    /// by the `call` subcommand. `Err` only for an unknown tool name.
    pub async fn call(&self, name: &str, arguments: Option<Map<String, Value>>, key: Option<&ApiKey>) -> Result<CallToolResult, McpError> {
        let Some(function) = catalog::lookup(name) else {
            return Err(McpError::invalid_params(format!("unknown tool `{name}`; tools/list shows the available tools"), None));
        };
        let started = Instant::now();
        let (result, outcome) = self.run(function, arguments.unwrap_or_default(), key).await;
        tracing::info!(
            target: "digistore24_mcp::call",
            tool = function.name,
            key = %key.map(ApiKey::fingerprint).unwrap_or_else(|| "none".into()),
            outcome,
            duration_ms = started.elapsed().as_secs_f64() * 1000.0,
            "tool call"
        );
        Ok(result)
    }

    async fn run(&self, function: &Function, arguments: Map<String, Value>, key: Option<&ApiKey>) -> (CallToolResult, &'static str) {
        if !self.shared.tools.contains(function.name) {
            return (tool_error(self.disabled_reason(function)), "disabled");
        }
        let body = match encode_args(function, &arguments) {
            Ok(body) => body,
            Err(e) => return (tool_error(format!("Invalid arguments for {}: {e}. Nothing was sent to Digistore24.", function.name)), "invalid_arguments"),
        };
        let Some(key) = key else {
            return (
                tool_error("No Digistore24 API key: send it as `Authorization: Bearer KEY` (HTTP) or set DS24_API_KEY (stdio).".into()),
                "no_key",
            );
        };
        match self.shared.client.call(key, function.name, &body).await {
            Ok(data) => (success(data), "success"),
            Err(e) => {
                let kind = e.kind();
                (tool_error(describe_failure(function, &e)), kind)
            }
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

    fn request_key(&self, context: &RequestContext<RoleServer>) -> Option<ApiKey> {
        context
            .extensions
            .get::<Parts>()
            .and_then(|parts| parts.extensions.get::<ApiKey>().cloned())
            .or_else(|| self.shared.settings.default_key.clone())
    }
}

fn success(data: Value) -> CallToolResult {
    // structuredContent must be an object; Digistore24's data almost always is.
    let structured = match data {
        Value::Object(_) => data,
        other => serde_json::json!({ "data": other }),
    };
    CallToolResult::structured(structured)
}

fn tool_error(message: String) -> CallToolResult {
    CallToolResult::error(vec![ContentBlock::text(message)])
}

fn describe_failure(function: &Function, error: &CallError) -> String {
    let hint = match error {
        CallError::Api { code: Some(2), .. } | CallError::Api { status: 401, .. } => " Check the API key.",
        CallError::Api { code: Some(8), .. } | CallError::Api { status: 403, .. } => {
            " The key lacks the right for this call (a read-only key cannot change anything)."
        }
        CallError::Api { code: Some(4), .. } | CallError::Api { status: 404, .. } => " Check the id.",
        CallError::Timeout(_) if !function.effect.is_read() => " Check with a read tool before retrying.",
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
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, McpError> {
        Ok(ListToolsResult::with_all_items(self.shared.tools.tools().to_vec()))
    }

    async fn call_tool(&self, request: CallToolRequestParams, context: RequestContext<RoleServer>) -> Result<CallToolResponse, McpError> {
        let key = self.request_key(&context);
        Ok(self.call(&request.name, request.arguments, key.as_ref()).await?.into())
    }
}
