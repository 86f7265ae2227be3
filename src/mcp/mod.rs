//! The MCP side: the tool list and the `rmcp` server handler.
//!
//! Owns: turning catalogue entries into MCP tools and MCP tool calls into
//! Digistore24 calls (through [`crate::ds24`]), and the tool results agents see.
//! Must not touch: HTTP routing, listeners or process setup (see [`crate::http`]
//! and [`crate::cli`]); it works the same over stdio and Streamable HTTP.

mod handler;
mod tools;

pub use handler::{Ds24Server, INSTRUCTIONS, ServerSettings};
pub use tools::{ToolFilter, ToolList, tool_for};
