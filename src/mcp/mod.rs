//! The MCP side: the tool list, the call pipeline and the `rmcp` server handler.
//!
//! Owns: turning catalogue entries into MCP tools and MCP tool calls into
//! Digistore24 calls (through [`crate::ds24`]), and the tool results agents see.
//! Must not touch: HTTP routing, listeners or process setup (see [`crate::http`]
//! and [`crate::cli`]); it works the same over stdio and Streamable HTTP, and
//! learns about a call's transport only through [`CallContext`].
//!
//! Rooms: `pipeline` (the stages of a call) reads `prepare` (parse once),
//! `policy` (caps, summaries), `confirm` (asking the user), `answer` (paging,
//! size bound, its cl100k counts from `tokens`) and records an `outcome`; `handler` is the rmcp face;
//! `settings` and `context` are what a server and a call are given.

mod answer;
mod complete;
mod confirm;
mod context;
mod fields;
mod handler;
mod local;
mod outcome;
mod pipeline;
mod policy;
mod prepare;
mod prompts;
mod resources;
mod settings;
mod subscriptions;
mod tokens;
mod tools;

pub use answer::{Bounds, DEFAULT_MAX_RESULT_BYTES, DEFAULT_MAX_RESULT_TOKENS};
pub use context::{CallContext, GrantContext, GrantProblem, Narrowing, Slot, Transport, known_era};
pub use outcome::{Class, Outcome, Refusal};
pub use pipeline::{Ds24Server, INSTRUCTIONS};
pub use policy::{ConfirmPolicy, Limits, summarize};
pub use prepare::{DRY_RUN, FIELDS, Fields, PreparedCall, SKIP};
pub use prompts::{WORKFLOWS, Workflow};
pub use resources::{EVENTS_URI, GUIDES, Guide, SCHEME};
pub use settings::{CONFIRMATION_TTL, DEFAULT_READ_RETRIES, ServerSettings, random_secret};
pub use tools::{ToolFilter, ToolList, tool_for};
