//! The `rmcp` server handler: what the protocol asks of a server (initialize,
//! ping, tools/list, tools/call), each answered from [`Ds24Server`].
//!
//! Owns: reading the protocol-level facts of a call (the client's
//! capabilities and protocol era) to decide who can be asked for a
//! confirmation. Must not touch: the stages of a call (see `pipeline.rs`).

use super::confirm::Asker;
use super::context::CallContext;
use super::pipeline::{Ds24Server, Reply};
use crate::ops::metrics;
use rmcp::model::{CallToolRequestParams, CallToolResponse, ListToolsResult, PaginatedRequestParams, ProtocolVersion, ServerConfig};
use rmcp::service::RequestContext;
use rmcp::{ErrorData as McpError, RoleServer, ServerHandler};

impl ServerHandler for Ds24Server {
    fn get_info(&self) -> ServerConfig {
        self.shared.info.clone()
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, McpError> {
        let narrowing = CallContext::of(&context).and_then(|c| c.narrowing.as_ref()).map(|n| &n.filter);
        metrics::mcp_request("tools/list", true);
        Ok(ListToolsResult::with_all_items(self.tools_for(narrowing)))
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
        // Over HTTP the front attached a context; over stdio the server's own
        // key applies and the live connection lets us ask mid-call.
        let live;
        let call_context = match CallContext::of(&context) {
            Some(attached) => attached,
            None => {
                live = CallContext { key: self.key_for(None), can_ask_mid_call: true, ..CallContext::default() };
                &live
            }
        };
        let can_elicit = context.client_capabilities().is_some_and(|c| c.elicitation.is_some());
        let modern = context.protocol_version().is_some_and(|v| v >= ProtocolVersion::V_2026_07_28);
        let asker = match (can_elicit, modern, call_context.can_ask_mid_call) {
            (true, true, _) => Asker::Mrtr { state: request.request_state.as_deref(), responses: request.input_responses.as_ref() },
            (true, false, true) => Asker::Elicit(&context.peer),
            (true, false, false) => {
                Asker::Nobody("this client speaks a protocol older than 2026-07-28 over stateless HTTP, where the server cannot ask")
            }
            (false, ..) => Asker::Nobody("this client does not support elicitation, so the user cannot be asked"),
        };
        let response =
            self.dispatch(&request.name, request.arguments.unwrap_or_default(), call_context, asker).await.map(|reply| match reply {
                Reply::Result(result) => result.into(),
                Reply::Ask(input) => input.into(),
            });
        metrics::mcp_request("tools/call", response.is_ok());
        response
    }
}
