//! The narrowing a request asks for: which of the operator's tools it wants.
//!
//! Owns: reading `X-MCP-Toolsets`, `X-MCP-Tools`, `X-MCP-Readonly` and the
//! paths `/mcp/readonly`, `/mcp/x/{toolsets}[/readonly]` into a [`Narrowing`].
//! Name checking is [`ToolFilter::parse`], shared with the command line.
//! Must not touch: applying it (the MCP handler does, and only ever removes tools).

use crate::mcp::{Narrowing, ToolFilter};
use axum::http::HeaderMap;
use std::collections::HashSet;

/// The narrowing a request asks for with `X-MCP-Toolsets`, `X-MCP-Tools`,
/// `X-MCP-Readonly` or the paths `/mcp/readonly`, `/mcp/x/{toolsets}[/readonly]`.
/// Every part only removes tools; unknown names are an error, not a silent empty list.
pub fn narrowing(path: &str, headers: &HeaderMap) -> Result<Option<Narrowing>, String> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim).filter(|v| !v.is_empty());
    let mut filter = ToolFilter::default();
    let mut sources = Vec::new();
    let rest = path.strip_prefix("/mcp").unwrap_or("");
    let (path_toolsets, path_readonly) = match rest.trim_end_matches('/') {
        "" => (None, false),
        "/readonly" => (None, true),
        other => match other.strip_prefix("/x/") {
            Some(x) => match x.strip_suffix("/readonly") {
                Some(sets) => (Some(sets.to_owned()), true),
                None => (Some(x.to_owned()), false),
            },
            None => (None, false),
        },
    };
    let parse = |toolsets: Option<&str>, tools: Option<&str>, source: &str| {
        ToolFilter::parse(toolsets.map(|l| l.split(',')), tools.map(|l| l.split(',')), false)
            .map_err(|unknown| unknown.message(Some(source)))
    };
    let mut toolsets: Option<HashSet<String>> = None;
    for (list, source) in [(path_toolsets.as_deref(), "the URL path"), (header("x-mcp-toolsets"), "header X-MCP-Toolsets")] {
        let Some(list) = list else { continue };
        let named = parse(Some(list), None, source)?.toolsets.unwrap_or_default();
        // Two narrowings together leave only what both allow.
        toolsets = Some(match toolsets {
            Some(previous) => previous.intersection(&named).cloned().collect(),
            None => named,
        });
        sources.push(source.to_owned());
    }
    filter.toolsets = toolsets;
    if let Some(list) = header("x-mcp-tools") {
        filter.tools = parse(None, Some(list), "header X-MCP-Tools")?.tools;
        sources.push("header X-MCP-Tools".into());
    }
    if path_readonly {
        filter.read_only = true;
        sources.push("the URL path /readonly".into());
    }
    if let Some(value) = header("x-mcp-readonly") {
        match crate::ds24::parse_bool(&serde_json::Value::String(value.to_owned())) {
            Some(true) => {
                filter.read_only = true;
                sources.push("header X-MCP-Readonly".into());
            }
            Some(false) => {}
            None => return Err(format!("header X-MCP-Readonly must be true or false, not `{value}`")),
        }
    }
    Ok((!sources.is_empty()).then(|| Narrowing { filter, source: sources.join(" and ") }))
}
