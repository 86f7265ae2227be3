//! The MCP tool list, derived from the catalogue once at start.
//!
//! Schemas are kept compact on purpose: the whole list is read into the
//! agent's context on every connection, so no boilerplate, enums instead of
//! prose, and a description only where a name and type leave doubt. Formats
//! go as JSON Schema keywords clients check themselves (`format: email|uri`);
//! rules that hold for every tool are said once in the server instructions
//! (non-empty required text, `fields`, `language`, `dry_run`, date forms);
//! what no keyword says cheaply is in the validation message an agent gets back.

use super::prepare::DRY_RUN;
use crate::catalog::{self, Effect, Function, INT32_MAX, INT32_MIN, Kind, Param, TOOLSETS};
use rmcp::model::{JsonObject, Tool, ToolAnnotations};
use serde_json::{Value, json};
use std::collections::HashSet;
use std::sync::Arc;

/// Which tools an operator (or a request) allows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ToolFilter {
    /// Only these toolsets; `None` means all.
    pub toolsets: Option<HashSet<String>>,
    /// Only these tool names; `None` means all.
    pub tools: Option<HashSet<String>>,
    /// Only read tools.
    pub read_only: bool,
}

/// A toolset or tool name the catalogue does not know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UnknownName {
    /// Not one of [`TOOLSETS`].
    Toolset(String),
    /// Not the name of a catalogued function.
    Tool(String),
}

impl UnknownName {
    /// What to tell the operator or client; `source` says where the name came
    /// from (`header X-MCP-Tools`, `the URL path`), `None` for the command line.
    pub fn message(&self, source: Option<&str>) -> String {
        let place = source.map(|s| format!(" in {s}")).unwrap_or_default();
        match (self, source) {
            (UnknownName::Toolset(name), _) => {
                format!("unknown toolset `{name}`{place}; known: {}, {}", TOOLSETS.join(", "), catalog::LOCAL_TOOLSET)
            }
            (UnknownName::Tool(name), None) => format!("unknown tool `{name}`; `digistore24-mcp tools` lists them"),
            (UnknownName::Tool(name), Some(_)) => format!("unknown tool `{name}`{place}"),
        }
    }
}

impl ToolFilter {
    /// Builds a filter from name lists, the one parser of the command line
    /// and of a request's narrowing. `None` means not given (all); a given
    /// list keeps exactly its names (trimmed, empties dropped), each of
    /// which must exist, so a typo is an error rather than an empty list.
    pub fn parse<'a>(
        toolsets: Option<impl IntoIterator<Item = &'a str>>,
        tools: Option<impl IntoIterator<Item = &'a str>>,
        read_only: bool,
    ) -> Result<ToolFilter, UnknownName> {
        fn clean<'a>(names: impl IntoIterator<Item = &'a str>) -> HashSet<String> {
            names.into_iter().map(str::trim).filter(|n| !n.is_empty()).map(str::to_owned).collect()
        }
        let toolsets = toolsets.map(clean);
        if let Some(unknown) = toolsets.iter().flatten().find(|t| !catalog::is_toolset(t)) {
            return Err(UnknownName::Toolset(unknown.clone()));
        }
        let tools = tools.map(clean);
        if let Some(unknown) = tools.iter().flatten().find(|t| !catalog::all_tools().any(|f| f.name == t.as_str())) {
            return Err(UnknownName::Tool(unknown.clone()));
        }
        Ok(ToolFilter { toolsets, tools, read_only })
    }

    /// Whether `function` passes this filter.
    pub fn allows(&self, function: &Function) -> bool {
        (!self.read_only || function.effect.is_read())
            && self.toolsets.as_ref().is_none_or(|t| t.contains(function.toolset))
            && self.tools.as_ref().is_none_or(|t| t.contains(function.name))
    }
}

/// The tools one server instance offers, built once and shared.
#[derive(Debug, Clone)]
pub struct ToolList {
    tools: Arc<[Tool]>,
}

impl ToolList {
    /// Builds the tools for every catalogued function and local tool the filter allows.
    pub fn new(filter: &ToolFilter) -> Self {
        let tools = catalog::all_tools().filter(|f| filter.allows(f)).map(tool_for).collect();
        ToolList { tools }
    }

    /// The tools, in catalogue order.
    pub fn tools(&self) -> &[Tool] {
        &self.tools
    }

    /// The tools a request's narrowing leaves (a copy; only narrowed requests pay for it).
    pub fn narrowed(&self, narrowing: &ToolFilter) -> Vec<Tool> {
        self.tools.iter().filter(|t| catalog::lookup_tool(&t.name).is_some_and(|f| narrowing.allows(f))).cloned().collect()
    }
}

/// The MCP tool for one function: name, description, schema, annotations.
pub fn tool_for(function: &Function) -> Tool {
    // COMMON_PARAMS (`language`) are accepted everywhere but explained once in
    // the server instructions instead of 123 times here.
    let mut schema = object_schema(function.params.iter());
    // Every changing tool accepts dry_run (the instructions say so once); it
    // is listed where a preview matters most: destructive tools whose request
    // is more than the one id the agent already knows.
    if function.effect == Effect::Destructive && function.params.len() > 1 {
        schema["properties"][DRY_RUN] = json!({"type": "boolean"});
    }
    // Every read takes `fields`; it is not listed per tool (two dozen copies
    // would cost the tool list's budget): the instructions say once what it
    // takes and that lists answer with a compact default, and every such
    // answer names what it left out and how to ask for it (`_fields`).
    let Value::Object(schema) = schema else { unreachable!("object_schema builds an object") };
    // Hints at their MCP defaults are left out (readOnlyHint false,
    // idempotentHint false, openWorldHint true): 123 copies of defaults would
    // cost context. Destructive tools still say so, though it is the default
    // too: a client that shows a warning only on an explicit hint must show it.
    // idempotentHint true is left out as well: no client we know acts on it,
    // and its 30 copies (210 tokens) are what the events toolset needed to
    // fit the 12,000-token budget; the catalogue keeps the fact (`tools` shows it).
    let mut annotations = ToolAnnotations::default();
    match function.effect {
        Effect::Read => annotations.read_only_hint = Some(true),
        // readOnlyHint false is the MCP default; destructiveHint false is not.
        Effect::Write => annotations.destructive_hint = Some(false),
        Effect::Destructive => annotations.destructive_hint = Some(true),
    }
    let mut tool = Tool::new(function.name, function.description, Arc::new(schema as JsonObject));
    tool.annotations = Some(annotations);
    tool
}

fn object_schema<'a>(params: impl Iterator<Item = &'a Param>) -> Value {
    let mut properties = serde_json::Map::new();
    let mut required = Vec::new();
    for param in params {
        let mut schema = kind_schema(&param.kind);
        // Required text and ids must be non-empty (optional ids are refused
        // empty too; the instructions say so once for them).
        if param.required && matches!(param.kind, Kind::Str | Kind::Id | Kind::Ids | Kind::IdsOrAll) {
            schema["minLength"] = 1.into();
        }
        if let (Some(doc), Value::Object(map)) = (param.doc.or_else(|| kind_hint(&param.kind)), &mut schema) {
            map.insert("description".into(), doc.into());
        }
        properties.insert(param.name.into(), schema);
        if param.required {
            required.push(Value::from(param.name));
        }
    }
    let mut schema = json!({"type": "object"});
    if !properties.is_empty() {
        schema["properties"] = Value::Object(properties);
    }
    if !required.is_empty() {
        schema["required"] = Value::Array(required);
    }
    schema
}

/// The hint a kind brings when the parameter has no doc of its own.
fn kind_hint(kind: &Kind) -> Option<&'static str> {
    match kind {
        // The parameter's name says they are ids.
        Kind::Ids => Some("comma list"),
        Kind::IdsOrAll => Some("comma list, or all"),
        Kind::Dates => Some("date or comma list"),
        Kind::Month => Some("YYYY-MM"),
        _ => None,
    }
}

fn kind_schema(kind: &Kind) -> Value {
    match kind {
        Kind::Str => json!({"type": "string"}),
        // Ids accept JSON numbers too, but agents are told the wire type: text.
        Kind::Id | Kind::Ids | Kind::IdsOrAll => json!({"type": "string"}),
        Kind::Email => json!({"type": "string", "format": "email"}),
        Kind::Url => json!({"type": "string", "format": "uri"}),
        Kind::Month | Kind::Dates => json!({"type": "string"}),
        Kind::OneOf(values) => json!({"type": "string", "enum": values}),
        Kind::Int { min, max } => {
            let mut schema = json!({"type": "integer"});
            // A lower bound of 0 or 1 goes without saying for counts and pages,
            // and the 32-bit range for every integer (it would cost ~500 tokens
            // across the list; the validation message names it).
            if let Some(min) = min.filter(|m| (*m > 1 || *m < 0) && *m != INT32_MIN) {
                schema["minimum"] = min.into();
            }
            if let Some(max) = max.filter(|m| *m != INT32_MAX) {
                schema["maximum"] = max.into();
            }
            schema
        }
        // The format (decimal string with a dot) is in the server instructions.
        Kind::Amount | Kind::SignedAmount => json!({"type": "string"}),
        Kind::Bool => json!({"type": "boolean"}),
        // Date forms (2024-01-31, now, -30d, …) are in the server instructions.
        Kind::Date | Kind::DateTime => json!({"type": "string"}),
        Kind::Object(fields) => object_schema(fields.iter()),
        // A map of free text needs no value schema: text is what agents send.
        Kind::Map(Kind::Str) => json!({"type": "object"}),
        Kind::Map(inner) => json!({"type": "object", "additionalProperties": kind_schema(inner)}),
        Kind::List(inner) => json!({"type": "array", "items": kind_schema(inner)}),
    }
}
