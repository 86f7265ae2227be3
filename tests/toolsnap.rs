//! Golden snapshot of the whole `tools/list` (names, descriptions, schemas,
//! annotations): any change to what agents see shows up as a diff of
//! `tests/snapshots/tools.json` in review.
//!
//! `UPDATE_TOOLSNAPS=1 cargo test --test toolsnap` rewrites the snapshot.

use digistore24_mcp::mcp::{ToolFilter, ToolList};
use serde_json::Value;
use std::path::Path;

const SNAPSHOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/snapshots/tools.json");

/// The tool list exactly as `digistore24-mcp tools --json` prints it, pretty.
fn current() -> String {
    let tools = serde_json::to_value(ToolList::new(&ToolFilter::default()).tools()).unwrap();
    serde_json::to_string_pretty(&tools).unwrap() + "\n"
}

fn name(tool: &Value) -> &str {
    tool["name"].as_str().unwrap_or("<unnamed>")
}

/// A short hint at where two tool lists part: the first tool that differs.
fn first_difference(old: &[Value], new: &[Value]) -> String {
    for (i, (o, n)) in old.iter().zip(new).enumerate() {
        if o != n {
            let field = ["name", "title", "description", "inputSchema", "outputSchema", "annotations"]
                .into_iter()
                .find(|k| o.get(k) != n.get(k))
                .unwrap_or("another field");
            return if name(o) == name(n) {
                format!("tool #{i} `{}` differs in `{field}`", name(n))
            } else {
                format!("tool #{i} is `{}`, the snapshot has `{}` there", name(n), name(o))
            };
        }
    }
    match new.len().cmp(&old.len()) {
        std::cmp::Ordering::Greater => format!("new tool `{}` at the end", name(&new[old.len()])),
        std::cmp::Ordering::Less => format!("tool `{}` is gone from the end", name(&old[new.len()])),
        std::cmp::Ordering::Equal => "same tools, different formatting".to_owned(),
    }
}

#[test]
fn tool_list_matches_the_snapshot() {
    let current = current();
    if std::env::var_os("UPDATE_TOOLSNAPS").is_some_and(|v| v == "1") {
        std::fs::create_dir_all(Path::new(SNAPSHOT).parent().unwrap()).unwrap();
        std::fs::write(SNAPSHOT, &current).unwrap();
        println!("rewrote {SNAPSHOT}");
        return;
    }
    let update = "if the change is intended: UPDATE_TOOLSNAPS=1 cargo test --test toolsnap, and commit tests/snapshots/tools.json";
    let snapshot = std::fs::read_to_string(SNAPSHOT).unwrap_or_else(|e| panic!("cannot read {SNAPSHOT} ({e}); {update}"));
    if snapshot != current {
        let old: Vec<Value> = serde_json::from_str(&snapshot).unwrap_or_default();
        let new: Vec<Value> = serde_json::from_str(&current).unwrap();
        panic!("tools/list differs from the snapshot: {}; {update}", first_difference(&old, &new));
    }
}

#[test]
fn the_difference_hint_names_the_tool() {
    let tools: Vec<Value> = serde_json::from_str(&current()).unwrap();
    let mut changed = tools.clone();
    changed[3]["description"] = Value::from("something else");
    assert_eq!(first_difference(&tools, &changed), format!("tool #3 `{}` differs in `description`", name(&tools[3])));
    assert_eq!(
        first_difference(&tools, &tools[..tools.len() - 1]),
        format!("tool `{}` is gone from the end", name(&tools[tools.len() - 1]))
    );
}
