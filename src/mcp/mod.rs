//! The MCP side: the tool list and the `rmcp` server handler.
//!
//! Owns: turning catalogue entries into MCP tools and MCP tool calls into
//! Digistore24 calls (through [`crate::ds24`]), and the tool results agents see.
//! Must not touch: HTTP routing, listeners or process setup (see [`crate::http`]
//! and [`crate::cli`]); it works the same over stdio and Streamable HTTP.

mod answer;
mod handler;
mod policy;
mod tools;

pub use answer::DEFAULT_MAX_RESULT_BYTES;
pub use handler::{CONFIRMATION_TTL, Ds24Server, INSTRUCTIONS, Narrowing, RequestId, ServerSettings, random_secret};
pub use policy::{ConfirmPolicy, Limits, summarize};
pub use tools::{ToolFilter, ToolList, tool_for};
