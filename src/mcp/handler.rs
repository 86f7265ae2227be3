//! The `rmcp` server handler: what the protocol asks of a server (initialize,
//! ping, tools, resources and their subscriptions, prompts, completions),
//! each answered from [`Ds24Server`].
//!
//! Owns: reading the protocol-level facts of a call (the client's
//! capabilities and protocol era) to decide who can be asked for a
//! confirmation. Must not touch: the stages of a call (see `pipeline.rs`).

use super::confirm::Asker;
use super::context::{CallContext, Transport};
use super::pipeline::{Ds24Server, Reply};
use super::{prompts, resources, subscriptions};
use crate::ops::metrics;
use rmcp::model::{
    CacheScope, CallToolRequestParams, CallToolResponse, CompleteRequestParams, CompleteResult, GetPromptRequestParams, GetPromptResponse,
    ListPromptsResult, ListResourceTemplatesResult, ListResourcesResult, ListToolsResult, PaginatedRequestParams, ProtocolVersion,
    ReadResourceRequestParams, ReadResourceResponse, ReadResourceResult, Reference, ServerConfig, SubscribeRequestParams,
    SubscriptionFilter, UnsubscribeRequestParams,
};
use rmcp::service::{RequestContext, SubscriptionContext};
use rmcp::{ErrorData as McpError, RoleServer, ServerHandler};
use serde_json::Value;
use std::collections::HashMap;

/// How long clients may keep the lists of resources, templates and prompts (they change with a release).
const LIST_TTL_MS: u64 = 3_600_000;
/// How long clients may keep a read of account data: a minute, as orders change.
const READ_TTL_MS: u64 = 60_000;
/// How long clients may keep a guide (it changes with a release).
const GUIDE_TTL_MS: u64 = 86_400_000;

/// Whether the client speaks 2026-07-28 or later, where results carry caching hints.
fn modern(context: &RequestContext<RoleServer>) -> bool {
    context.protocol_version().is_some_and(|v| v >= ProtocolVersion::V_2026_07_28)
}

impl Ds24Server {
    /// The context the HTTP front attached, else (stdio) the server's own key.
    fn context_of(&self, context: &RequestContext<RoleServer>) -> CallContext {
        CallContext::of(context).cloned().unwrap_or_else(|| CallContext {
            key: self.key_for(None),
            transport: Transport::Stdio,
            ..CallContext::default()
        })
    }
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

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, McpError> {
        metrics::mcp_request("resources/list", true);
        let result = ListResourcesResult::with_all_items(resources::list(self.events().is_some()));
        // The same for every caller: public.
        Ok(if modern(&context) { result.with_ttl_ms(LIST_TTL_MS).with_cache_scope(CacheScope::Public) } else { result })
    }

    async fn list_resource_templates(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListResourceTemplatesResult, McpError> {
        metrics::mcp_request("resources/templates/list", true);
        let result = ListResourceTemplatesResult::with_all_items(resources::templates(self.events().is_some()));
        Ok(if modern(&context) { result.with_ttl_ms(LIST_TTL_MS).with_cache_scope(CacheScope::Public) } else { result })
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, McpError> {
        let call_context = self.context_of(&context);
        let read = self.read(&request.uri, &call_context).await;
        metrics::mcp_request("resources/read", read.is_ok());
        let guide = request.uri.starts_with(&format!("{}guide/", resources::SCHEME));
        let events = subscriptions::subscribable(&request.uri).is_some();
        let result = ReadResourceResult::new(vec![read?]);
        let result = match (modern(&context), guide) {
            (false, _) => result,
            (true, true) => result.with_ttl_ms(GUIDE_TTL_MS).with_cache_scope(CacheScope::Public),
            // Changes with every IPN: subscribe rather than keep it.
            (true, false) if events => result.with_ttl_ms(0).with_cache_scope(CacheScope::Private),
            // The caller's own account data: only their client may keep it.
            (true, false) => result.with_ttl_ms(READ_TTL_MS).with_cache_scope(CacheScope::Private),
        };
        Ok(result.into())
    }

    fn accepted_subscription_filter(&self, requested: &SubscriptionFilter) -> Option<SubscriptionFilter> {
        // Without events there is nothing to listen to (and nothing advertised).
        self.events()?;
        let uris = requested.resource_subscriptions.iter().flatten().filter(|uri| subscriptions::subscribable(uri).is_some());
        Some(SubscriptionFilter::builder().resource_subscriptions(uris.cloned()).build())
    }

    /// 2026-07-28: one stream per listen request; over stateless HTTP the
    /// answer is that stream, kept open by SSE keep-alives.
    async fn listen(&self, subscription: SubscriptionContext) -> Result<(), McpError> {
        let context = self.context_of(subscription.request_context());
        // A listen only waits; other calls may have the concurrency slot.
        if let Some(slot) = &context.slot {
            slot.release();
        }
        let uris = subscription.accepted().resource_subscriptions.clone().unwrap_or_default();
        if uris.is_empty() {
            subscription.cancelled().await;
            return Ok(());
        }
        let watching = self.watch(&uris, &context, subscriptions::LISTEN_SLACK_MS).await;
        metrics::mcp_request("subscriptions/listen", watching.is_ok());
        let mut watch = watching?;
        loop {
            tokio::select! {
                _ = subscription.cancelled() => return Ok(()),
                // The final result tells the client to listen again elsewhere.
                _ = self.shared.settings.stopping.cancelled() => return Ok(()),
                updated = watch.next() => for uri in updated {
                    if subscription.sink().notify_resource_updated(uri).await.is_err() {
                        // The client went away.
                        return Ok(());
                    }
                },
            }
        }
    }

    /// The session era: only on a live session (stdio), since stateless HTTP
    /// has no channel to send a later notification on.
    async fn subscribe(&self, request: SubscribeRequestParams, context: RequestContext<RoleServer>) -> Result<(), McpError> {
        let result = if CallContext::of(&context).is_some() {
            Err(McpError::invalid_request(
                "resources/subscribe needs a live session, and this HTTP endpoint is stateless; use subscriptions/listen \
                 (protocol 2026-07-28) or the events_wait tool",
                Some(serde_json::json!({"uri": request.uri})),
            ))
        } else {
            self.subscribe_session(request.uri, context.peer.clone(), &self.context_of(&context)).await
        };
        metrics::mcp_request("resources/subscribe", result.is_ok());
        result
    }

    async fn unsubscribe(&self, request: UnsubscribeRequestParams, _context: RequestContext<RoleServer>) -> Result<(), McpError> {
        self.unsubscribe_session(&request.uri);
        metrics::mcp_request("resources/unsubscribe", true);
        Ok(())
    }

    async fn list_prompts(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListPromptsResult, McpError> {
        metrics::mcp_request("prompts/list", true);
        let result = ListPromptsResult::with_all_items(prompts::WORKFLOWS.iter().map(prompts::Workflow::prompt).collect());
        Ok(if modern(&context) { result.with_ttl_ms(LIST_TTL_MS).with_cache_scope(CacheScope::Public) } else { result })
    }

    async fn get_prompt(
        &self,
        request: GetPromptRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<GetPromptResponse, McpError> {
        let given: HashMap<String, String> = request
            .arguments
            .unwrap_or_default()
            .into_iter()
            .map(|(name, value)| match value {
                Value::String(text) => (name, text),
                other => (name, other.to_string()),
            })
            .collect();
        let result = match prompts::find(&request.name) {
            None => Err(McpError::invalid_params(format!("unknown prompt `{}`; prompts/list shows them", request.name), None)),
            Some(workflow) => workflow.get(&given).map_err(|message| McpError::invalid_params(message, None)),
        };
        metrics::mcp_request("prompts/get", result.is_ok());
        Ok(result?.into())
    }

    async fn complete(&self, request: CompleteRequestParams, context: RequestContext<RoleServer>) -> Result<CompleteResult, McpError> {
        // Only arguments of our own prompts and templates complete; anything
        // else gets no suggestions rather than an error.
        let known = match &request.r#ref {
            Reference::Prompt(prompt) => {
                prompts::find(&prompt.name).is_some_and(|w| w.args.iter().any(|a| a.name == request.argument.name))
            }
            Reference::Resource(template) => resources::TEMPLATES
                .iter()
                .chain(&resources::EVENT_TEMPLATES)
                .any(|(t, ..)| *t == template.uri && t.contains(&format!("{{{}}}", request.argument.name))),
            _ => false,
        };
        let completion = if known {
            self.complete_argument(&request.argument.name, &request.argument.value, &self.context_of(&context)).await
        } else {
            rmcp::model::CompletionInfo::default()
        };
        metrics::mcp_request("completion/complete", true);
        Ok(CompleteResult::new(completion))
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
                let era = context.protocol_version().and_then(|v| super::context::known_era(v.as_str())).unwrap_or_default();
                live = CallContext {
                    key: self.key_for(None),
                    can_ask_mid_call: true,
                    era,
                    transport: Transport::Stdio,
                    ..CallContext::default()
                };
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
