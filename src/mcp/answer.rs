//! Shaping successful answers for an agent's context: paging hints and a
//! size bound that cuts at a record boundary, never silently.

use crate::catalog::Function;
use serde_json::{Map, Value, json};

/// Default bound of one answer: ~48 KiB of JSON stays well under 25,000 tokens.
pub const DEFAULT_MAX_RESULT_BYTES: usize = 48 * 1024;

/// Adds `_paging` to list answers and cuts answers larger than `max_bytes`.
/// Returns the answer and its JSON text (serialized once, here).
///
/// `Err` carries a message for the agent when even an empty cut is too big.
pub fn shape(function: &Function, args: &Map<String, Value>, data: Value, max_bytes: usize) -> Result<(Value, String), String> {
    let mut data = match data {
        Value::Object(map) => map,
        other => Map::from_iter([("data".to_string(), other)]),
    };
    if function.param("page_no").is_some()
        && let Some(paging) = paging(args, &data)
    {
        data.insert("_paging".into(), paging);
    }
    let text = serde_json::to_string(&data).map_err(|e| e.to_string())?;
    if text.len() <= max_bytes {
        return Ok((Value::Object(data), text));
    }
    let cut = truncate(data, text.len(), max_bytes, args)?;
    let text = serde_json::to_string(&cut).map_err(|e| e.to_string())?;
    Ok((cut, text))
}

/// Whether more pages exist and which `page_no` comes next.
fn paging(args: &Map<String, Value>, data: &Map<String, Value>) -> Option<Value> {
    let number = |v: Option<&Value>| -> Option<i64> {
        match v? {
            Value::Number(n) => n.as_i64(),
            Value::String(s) => s.parse().ok(),
            _ => None,
        }
    };
    let page_no = number(data.get("page_no")).or_else(|| number(args.get("page_no"))).unwrap_or(1);
    if let Some(page_count) = number(data.get("page_count")) {
        let has_more = page_no < page_count;
        return Some(json!({
            "page_no": page_no,
            "page_count": page_count,
            "has_more": has_more,
            "next_page_no": if has_more { Some(page_no + 1) } else { None },
        }));
    }
    // No counts in the answer: a full page means there may be more.
    let page_size = number(data.get("page_size")).or_else(|| number(args.get("page_size")))?;
    let (_, items) = largest_list(data)?;
    let has_more = page_size > 0 && items as i64 >= page_size;
    Some(json!({
        "page_no": page_no,
        "has_more": has_more,
        "next_page_no": if has_more { Some(page_no + 1) } else { None },
    }))
}

/// The key of the top-level list (or id-keyed map) with the most records.
fn largest_list(data: &Map<String, Value>) -> Option<(String, usize)> {
    data.iter()
        .filter_map(|(k, v)| match v {
            Value::Array(a) if !a.is_empty() => Some((k.clone(), a.len())),
            Value::Object(o) if o.len() > 1 && o.values().all(Value::is_object) => Some((k.clone(), o.len())),
            _ => None,
        })
        .max_by_key(|(_, n)| *n)
}

fn truncate(mut data: Map<String, Value>, size: usize, max_bytes: usize, args: &Map<String, Value>) -> Result<Value, String> {
    let too_big = || {
        format!(
            "The answer ({size} bytes) exceeds the {max_bytes}-byte limit and has no list to shorten; ask for less (one id, a narrower from/to or filter)."
        )
    };
    let Some((key, total)) = largest_list(&data) else { return Err(too_big()) };
    let records = data.remove(&key).expect("key exists");
    // Binary search for the most records that fit, with room for the note.
    let budget = max_bytes.saturating_sub(serialized_len(&data) + 400);
    let fits = |n: usize| serialized_len_value(&take(&records, n)) <= budget;
    let (mut lo, mut hi) = (0usize, total);
    while lo < hi {
        let mid = (lo + hi).div_ceil(2);
        if fits(mid) { lo = mid } else { hi = mid - 1 }
    }
    if lo == 0 {
        return Err(too_big());
    }
    let page_no = args.get("page_no").and_then(Value::as_i64).unwrap_or(1);
    let hint = if args.contains_key("page_size") || data.contains_key("_paging") {
        format!("ask for a smaller page_size, or page on with page_no={}", page_no + 1)
    } else {
        "ask for less: a narrower from/to range, a filter, or page_size/page_no where the tool has them".to_string()
    };
    data.insert(key.clone(), take(&records, lo));
    data.insert(
        "_truncated".into(),
        json!({
            "list": key,
            "records_shown": lo,
            "records_left_out": total - lo,
            "max_result_bytes": max_bytes,
            "how_to_get_the_rest": hint,
        }),
    );
    Ok(Value::Object(data))
}

fn take(records: &Value, n: usize) -> Value {
    match records {
        Value::Array(a) => Value::Array(a[..n].to_vec()),
        Value::Object(o) => Value::Object(o.iter().take(n).map(|(k, v)| (k.clone(), v.clone())).collect()),
        other => other.clone(),
    }
}

fn serialized_len(map: &Map<String, Value>) -> usize {
    serde_json::to_vec(map).map(|v| v.len()).unwrap_or(usize::MAX)
}

fn serialized_len_value(value: &Value) -> usize {
    serde_json::to_vec(value).map(|v| v.len()).unwrap_or(usize::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::lookup;

    fn purchases(n: usize) -> Value {
        let list: Vec<Value> = (0..n).map(|i| json!({"id": format!("P{i:05}"), "amount": "49.00", "note": "x".repeat(100)})).collect();
        json!({ "purchase_list": list })
    }

    #[test]
    fn small_answers_pass_unchanged_but_paged_lists_say_what_is_next() {
        let f = lookup("listBuyers").unwrap();
        let data = json!({"buyers": [{"id": 1}], "page_no": 1, "page_count": 3, "page_size": 1, "item_count": 3});
        let shaped = shape(f, &Map::new(), data, 10_000).unwrap().0;
        assert_eq!(shaped["_paging"], json!({"page_no": 1, "page_count": 3, "has_more": true, "next_page_no": 2}));
        let last = shape(f, &Map::new(), json!({"buyers": [], "page_no": 3, "page_count": 3}), 10_000).unwrap().0;
        assert_eq!(last["_paging"]["has_more"], false);
        let ping = shape(lookup("ping").unwrap(), &Map::new(), json!({"server_time": "x"}), 10_000).unwrap().0;
        assert_eq!(ping, json!({"server_time": "x"}));
    }

    #[test]
    fn full_page_without_counts_means_maybe_more() {
        let f = lookup("listPurchases").unwrap();
        let args = json!({"page_size": 2, "page_no": 4}).as_object().unwrap().clone();
        let shaped = shape(f, &args, purchases(2), 100_000).unwrap().0;
        assert_eq!(shaped["_paging"], json!({"page_no": 4, "has_more": true, "next_page_no": 5}));
    }

    #[test]
    fn large_answers_are_cut_at_a_record_boundary_and_say_so() {
        let f = lookup("listPurchases").unwrap();
        let (shaped, text) = shape(f, &Map::new(), purchases(1000), 20_000).unwrap();
        assert_eq!(text, serde_json::to_string(&shaped).unwrap());
        assert!(text.len() <= 20_000, "{}", text.len());
        let shown = shaped["purchase_list"].as_array().unwrap().len();
        assert!(shown > 50 && shown < 1000);
        assert_eq!(shaped["_truncated"]["records_shown"], shown);
        assert_eq!(shaped["_truncated"]["records_left_out"], 1000 - shown);
        assert_eq!(shaped["purchase_list"][shown - 1]["id"], format!("P{:05}", shown - 1));
    }

    #[test]
    fn unshortenable_answers_are_an_error_not_a_silent_cut() {
        let f = lookup("getProduct").unwrap();
        let err = shape(f, &Map::new(), json!({"blob": "x".repeat(5000)}), 1000).unwrap_err();
        assert!(err.contains("exceeds the 1000-byte limit"), "{err}");
    }
}
