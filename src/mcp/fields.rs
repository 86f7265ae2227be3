//! Field selection: which parts of a record an agent sees. Dotted paths
//! (`buyer.email`) select within nested objects and pass through lists
//! (`items.product_id` keeps `product_id` of every item); whatever is left
//! out is named, so the agent knows what it can ask for.
//!
//! Owns: the path tree, the projection of one value and the `_fields` note.
//! Must not touch: which records an answer shows (paging and cuts are
//! `answer.rs`'s) or the catalogue's choice of default paths.

use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};

/// Parsed dotted paths: a key maps to everything below it, or to a sub-tree.
#[derive(Debug, Default)]
pub(super) struct Selection {
    keys: BTreeMap<String, Node>,
}

#[derive(Debug)]
enum Node {
    All,
    Some(Selection),
}

/// What a projection left out and which requested paths matched nothing.
#[derive(Debug, Default)]
pub(super) struct Report {
    left_out: BTreeSet<String>,
    matched: BTreeSet<String>,
    requested: Vec<String>,
}

impl Selection {
    /// The tree of `paths`; a path and a longer one below it mean the shorter (all of it).
    pub(super) fn new<S: AsRef<str>>(paths: &[S]) -> Self {
        let mut selection = Selection::default();
        for path in paths {
            let mut keys = &mut selection.keys;
            let mut segments = path.as_ref().split('.').peekable();
            while let Some(segment) = segments.next() {
                if segments.peek().is_none() {
                    keys.insert(segment.to_owned(), Node::All);
                    break;
                }
                match keys.entry(segment.to_owned()).or_insert_with(|| Node::Some(Selection::default())) {
                    Node::All => break,
                    Node::Some(sub) => keys = &mut sub.keys,
                }
            }
        }
        selection
    }

    /// Keeps only the selected parts of `value`, in place (nothing kept is
    /// copied), noting in `report` what was left out.
    pub(super) fn project(&self, value: &mut Value, report: &mut Report) {
        self.project_at(value, "", report);
    }

    fn project_at(&self, value: &mut Value, prefix: &str, report: &mut Report) {
        match value {
            Value::Object(map) => {
                let mut path = String::new();
                map.retain(|key, inner| {
                    path.clear();
                    if !prefix.is_empty() {
                        path.push_str(prefix);
                        path.push('.');
                    }
                    path.push_str(key);
                    match self.keys.get(key) {
                        None => {
                            note(&mut report.left_out, &path);
                            false
                        }
                        Some(Node::All) => {
                            note(&mut report.matched, &path);
                            true
                        }
                        Some(Node::Some(sub)) => {
                            sub.project_at(inner, &path, report);
                            true
                        }
                    }
                });
            }
            Value::Array(items) => items.iter_mut().for_each(|item| self.project_at(item, prefix, report)),
            // A path that goes deeper than the data does keeps the value itself.
            _ => {}
        }
    }
}

/// Adds `path` to `paths`, allocating only the first time (every record of a list names the same paths).
fn note(paths: &mut BTreeSet<String>, path: &str) {
    if !paths.contains(path) {
        paths.insert(path.to_owned());
    }
}

impl Report {
    /// A report for a projection with these requested paths.
    pub(super) fn new<S: AsRef<str>>(requested: &[S]) -> Self {
        Report { requested: requested.iter().map(|p| p.as_ref().to_owned()).collect(), ..Report::default() }
    }

    /// Counts `path` as found though no projection matched it.
    pub(super) fn found(&mut self, path: &str) {
        self.matched.insert(path.to_owned());
    }

    /// The `_fields` note, if anything was left out or not found: which
    /// fields exist besides those shown, and how to ask for them.
    pub(super) fn note(&self) -> Option<Value> {
        // A field found in one record and left out in another was shown.
        let left_out: Vec<&String> = self.left_out.iter().filter(|p| !self.matched.contains(*p)).collect();
        // A requested path is found when it, something below it or above it matched.
        let related = |requested: &str, matched: &str| {
            let (short, long) = if requested.len() <= matched.len() { (requested, matched) } else { (matched, requested) };
            long.strip_prefix(short).is_some_and(|rest| rest.is_empty() || rest.starts_with('.'))
        };
        let not_found: Vec<&String> = self.requested.iter().filter(|p| !self.matched.iter().any(|m| related(p, m))).collect();
        if left_out.is_empty() && not_found.is_empty() {
            return None;
        }
        let mut note = json!({
            "left_out": left_out,
            "how_to_get_them": "call again with fields: a list of dotted paths (those shown plus any of these), or [\"*\"] for everything",
        });
        if !not_found.is_empty() {
            note["not_found"] = json!(not_found);
        }
        Some(note)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn project(paths: &[&str], value: Value) -> (Value, Option<Value>) {
        let mut report = Report::new(paths);
        let mut projected = value;
        Selection::new(paths).project(&mut projected, &mut report);
        (projected, report.note())
    }

    #[test]
    fn dotted_paths_select_nested_fields_and_pass_through_lists() {
        let record = json!({"id": "A", "amount": "9.00", "buyer": {"email": "a@b.example", "city": "Köln"}, "items": [{"product_id": "1", "note": "x"}]});
        let (projected, note) = project(&["id", "buyer.email", "items.product_id"], record);
        assert_eq!(projected, json!({"id": "A", "buyer": {"email": "a@b.example"}, "items": [{"product_id": "1"}]}));
        assert_eq!(note.unwrap()["left_out"], json!(["amount", "buyer.city", "items.note"]));
    }

    #[test]
    fn a_path_and_one_below_it_mean_all_of_it() {
        let (projected, note) = project(&["buyer.email", "buyer"], json!({"buyer": {"email": "e", "city": "c"}}));
        assert_eq!(projected, json!({"buyer": {"email": "e", "city": "c"}}));
        assert_eq!(note, None, "nothing left out, nothing missing");
    }

    #[test]
    fn paths_that_match_nothing_are_named() {
        let (_, note) = project(&["id", "amout"], json!({"id": "A", "amount": "1.00"}));
        let note = note.unwrap();
        assert_eq!(note["not_found"], json!(["amout"]));
        assert_eq!(note["left_out"], json!(["amount"]));
    }
}
