//! Shaping successful answers for an agent's context, in one pass: the
//! selected fields (the catalogue's compact default for lists), paging hints
//! and a bound in bytes and in cl100k tokens that cuts at a record boundary,
//! never silently and never with a gap: a cut answer says in `_truncated.next_arguments` exactly how
//! to get the first record it left out, with the same `fields`.
//!
//! Owns: `_fields`, `_paging`, `_truncated` and the server-side `skip`
//! continuation. Must not touch: what is sent upstream (`skip` and `fields` never are).

use super::fields::{Report, Selection};
use super::prepare::{Fields, PreparedCall, SKIP};
use super::tokens;
#[cfg(test)]
use super::tokens::cl100k;
use serde_json::{Map, Value, json};

/// Default bound of one answer: ~48 KiB of JSON stays well under 25,000 tokens.
pub const DEFAULT_MAX_RESULT_BYTES: usize = 48 * 1024;
/// Default bound of one answer in cl100k tokens: a tenth of a small context window.
pub const DEFAULT_MAX_RESULT_TOKENS: usize = 8_000;

/// How large one answer may be; both bounds hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bounds {
    /// Bytes of JSON text.
    pub max_bytes: usize,
    /// cl100k tokens of the same text.
    pub max_tokens: usize,
}

impl Default for Bounds {
    fn default() -> Self {
        Bounds { max_bytes: DEFAULT_MAX_RESULT_BYTES, max_tokens: DEFAULT_MAX_RESULT_TOKENS }
    }
}

/// Loads the tokenizer now (it takes a moment); the server leaves it to the first long answer.
#[cfg(test)]
fn load_tokenizer() {
    cl100k();
}

/// The cl100k tokens of `text` if they are more than `max`, else `None`.
/// Every token is at least one byte, so a text of at most `max` bytes is
/// surely within and is not counted; only longer ones are (loading the
/// tokenizer takes ~30 ms, on the first long answer; counting is ~70
/// instructions per byte, ~40 where the pieces were counted before, as in
/// a cut of the text just counted: see `tokens.rs`).
fn tokens_over(text: &str, max: usize) -> Option<usize> {
    if text.len() <= max {
        return None;
    }
    let tokens = tokens::count(text);
    (tokens > max).then_some(tokens)
}

/// Leaves out the call's `skip` records, keeps the selected fields (noting
/// in `_fields` what was left out), adds `_paging` to list answers, and cuts
/// answers over either bound, all on the one parsed tree, in place. Returns
/// the answer and its JSON text (serialized once, here, and again only where
/// it was cut).
///
/// `Err` carries a message for the agent when even an empty cut is too big.
pub fn shape(call: &PreparedCall, data: Value, bounds: Bounds) -> Result<(Value, String), String> {
    let mut data = match data {
        Value::Object(map) => map,
        other => Map::from_iter([("data".to_string(), other)]),
    };
    // Paging is judged on the whole page, before anything is left out.
    let paging = if call.function.param("page_no").is_some() { paging(call, &data) } else { None };
    let list = largest_list(&data);
    if call.skip > 0
        && let Some((key, _)) = &list
    {
        skip(data.get_mut(key).expect("the key was just found"), call.skip);
    }
    if let Some(note) = select(call, &mut data, list.as_ref().map(|(key, _)| key.as_str())) {
        data.insert("_fields".into(), note);
    }
    if let Some(paging) = &paging {
        data.insert("_paging".into(), paging.clone());
    }
    let text = serde_json::to_string(&data).map_err(|e| e.to_string())?;
    let list = list.map(|(key, _)| key);
    let mut tokens = None;
    if text.len() <= bounds.max_bytes {
        tokens = tokens_over(&text, bounds.max_tokens);
        if tokens.is_none() {
            return Ok((Value::Object(data), text));
        }
    }
    let size = match tokens {
        Some(tokens) => format!("{tokens} tokens"),
        None => format!("{} bytes", text.len()),
    };
    let Some(records) = list.as_deref().and_then(|key| Records::take_from(&mut data, key)) else {
        return Err(too_big(&size, bounds));
    };
    let list = list.expect("records come from the list");
    // Cut to the byte bound, then, while the cut is over the token bound, to
    // fewer bytes in proportion (a few rounds at most: JSON's bytes per token
    // vary little within one list).
    let mut byte_budget = match tokens {
        Some(tokens) => scaled(text.len(), bounds.max_tokens, tokens),
        None => bounds.max_bytes,
    };
    for _ in 0..8 {
        let cut = truncate(&data, &list, &records, &size, byte_budget, bounds, call)?;
        let text = serde_json::to_string(&cut).map_err(|e| e.to_string())?;
        match tokens_over(&text, bounds.max_tokens) {
            None => return Ok((cut, text)),
            Some(tokens) => byte_budget = scaled(byte_budget.min(text.len()), bounds.max_tokens, tokens),
        }
    }
    Err(too_big(&size, bounds))
}

/// `bytes` shrunk by `max_tokens / tokens`, with a little room to spare.
fn scaled(bytes: usize, max_tokens: usize, tokens: usize) -> usize {
    (bytes as u128 * max_tokens as u128 * 95 / (tokens as u128 * 100)) as usize
}

fn too_big(size: &str, bounds: Bounds) -> String {
    format!(
        "The answer ({size}) exceeds the limit of {} bytes and {} tokens and has no list to shorten; ask for less (fields, one id, a narrower from/to or filter).",
        bounds.max_bytes, bounds.max_tokens
    )
}

/// Keeps the call's fields: of each record where the function answers a
/// list, else of the whole answer. Returns the `_fields` note.
fn select(call: &PreparedCall, data: &mut Map<String, Value>, list: Option<&str>) -> Option<Value> {
    let paths: &[String] = match &call.fields {
        Fields::All => return None,
        Fields::Paths(paths) => paths,
        Fields::Default => {
            let paths = call.function.default_fields?;
            return select_paths(call, data, list, paths);
        }
    };
    select_paths(call, data, list, paths)
}

fn select_paths<S: AsRef<str>>(call: &PreparedCall, data: &mut Map<String, Value>, list: Option<&str>, paths: &[S]) -> Option<Value> {
    let selection = Selection::new(paths);
    let mut report = Report::new(paths);
    if call.function.answers_list() {
        // The list's metadata (counts, totals, dates) stays; the records are selected.
        let list = list?;
        for path in paths {
            // Asking for kept metadata (item_count, summary.amounts) is not a miss.
            let top = path.as_ref().split('.').next().unwrap_or_default();
            if top != list && data.contains_key(top) {
                report.found(path.as_ref());
            }
        }
        let records = data.get_mut(list)?;
        match records {
            Value::Array(items) => items.iter_mut().for_each(|item| selection.project(item, &mut report)),
            Value::Object(by_id) => by_id.values_mut().for_each(|item| selection.project(item, &mut report)),
            _ => {}
        }
    } else {
        let mut whole = Value::Object(std::mem::take(data));
        selection.project(&mut whole, &mut report);
        let Value::Object(kept) = whole else { unreachable!("an object projects to an object") };
        *data = kept;
    }
    report.note()
}

/// Whether more pages exist and which `page_no` comes next.
fn paging(call: &PreparedCall, data: &Map<String, Value>) -> Option<Value> {
    let number = |v: Option<&Value>| -> Option<i64> {
        match v? {
            Value::Number(n) => n.as_i64(),
            Value::String(s) => s.parse().ok(),
            _ => None,
        }
    };
    let page_no = number(data.get("page_no")).or_else(|| call.int("page_no")).unwrap_or(1);
    let has_more = match number(data.get("page_count")) {
        Some(page_count) => page_no < page_count,
        // No counts in the answer: a full page means there may be more.
        None => {
            let page_size = number(data.get("page_size")).or_else(|| call.int("page_size"))?;
            let (_, items) = largest_list(data)?;
            page_size > 0 && items as i64 >= page_size
        }
    };
    let mut paging = json!({"page_no": page_no, "has_more": has_more, "next_page_no": has_more.then_some(page_no + 1)});
    if let Some(page_count) = number(data.get("page_count")) {
        paging["page_count"] = page_count.into();
    }
    if has_more {
        let mut next = call.continuation();
        next.insert("page_no".into(), (page_no + 1).into());
        paging["next_arguments"] = Value::Object(next);
    }
    Some(paging)
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

/// The list being cut, taken out of the answer, with the bytes each record
/// adds to the list's text measured once (not once per tried cut).
struct Records {
    list: Value,
    lengths: Vec<usize>,
}

impl Records {
    /// Takes the list at `key` out of `data`; `None` if there is none (a
    /// projection of a whole record may have left it out).
    fn take_from(data: &mut Map<String, Value>, key: &str) -> Option<Self> {
        let list = data.remove(key)?;
        let lengths = match &list {
            Value::Array(items) => items.iter().map(serialized_len).collect(),
            // `"id":record`
            Value::Object(by_id) => by_id.iter().map(|(id, record)| serialized_len(id) + 1 + serialized_len(record)).collect(),
            _ => Vec::new(),
        };
        Some(Records { list, lengths })
    }

    fn total(&self) -> usize {
        self.lengths.len()
    }

    /// The most leading records whose list (`[a,b]` or `{"1":a,"2":b}`) is at most `budget` bytes.
    fn fitting(&self, budget: usize) -> usize {
        // The opening bracket, then each record with the comma or closing bracket after it.
        let mut length = 1;
        self.lengths
            .iter()
            .take_while(|record| {
                length += *record + 1;
                length <= budget
            })
            .count()
    }
}

/// The answer with the most leading records of the list that fit
/// `max_bytes`, and the note on how to get the rest. `rest` is the answer
/// without the list.
fn truncate(
    rest: &Map<String, Value>,
    key: &str,
    records: &Records,
    size: &str,
    max_bytes: usize,
    bounds: Bounds,
    call: &PreparedCall,
) -> Result<Value, String> {
    let total = records.total();
    // The most records that fit, with room for the note.
    let mut next = call.continuation();
    let budget = max_bytes.saturating_sub(serialized_len(rest) + 400 + serialized_len(&next));
    let shown = records.fitting(budget);
    if shown == 0 {
        return Err(too_big(size, bounds));
    }
    let mut data = rest.clone();
    // The rest of this page comes with the same arguments and a larger skip,
    // so the next page number must not be taken before it.
    next.insert(SKIP.into(), (call.skip + shown).into());
    if let Some(Value::Object(paging)) = data.get_mut("_paging") {
        let page_no = paging.get("page_no").cloned().unwrap_or(Value::Null);
        paging.insert("has_more".into(), true.into());
        paging.insert("next_page_no".into(), page_no);
        paging.insert("next_arguments".into(), Value::Object(next.clone()));
    }
    data.insert(key.to_owned(), take(&records.list, shown));
    data.insert(
        "_truncated".into(),
        json!({
            "list": key,
            "records_shown": shown,
            "records_left_out": total - shown,
            "max_result_bytes": bounds.max_bytes,
            "max_result_tokens": bounds.max_tokens,
            "next_arguments": next,
            "how_to_get_the_rest": "call the tool again with next_arguments: it starts at the first record left out",
        }),
    );
    Ok(Value::Object(data))
}

/// The first `n` records of a list or id-keyed map.
fn take(records: &Value, n: usize) -> Value {
    match records {
        Value::Array(a) => Value::Array(a[..n.min(a.len())].to_vec()),
        Value::Object(o) => Value::Object(o.iter().take(n).map(|(k, v)| (k.clone(), v.clone())).collect()),
        other => other.clone(),
    }
}

/// Leaves out the first `n` records of a list or id-keyed map, in place.
fn skip(records: &mut Value, n: usize) {
    match records {
        Value::Array(a) => drop(a.drain(..n.min(a.len()))),
        Value::Object(o) => *o = std::mem::take(o).into_iter().skip(n).collect(),
        _ => {}
    }
}

/// Counts the bytes written, keeps none.
struct Counter(usize);

impl std::io::Write for Counter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0 += bytes.len();
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The length of `value`'s JSON text, without writing it anywhere.
fn serialized_len(value: &(impl serde::Serialize + ?Sized)) -> usize {
    let mut counter = Counter(0);
    match serde_json::to_writer(&mut counter, value) {
        Ok(()) => counter.0,
        Err(_) => usize::MAX,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::lookup;

    fn call(name: &str, args: Value) -> PreparedCall {
        PreparedCall::new(lookup(name).unwrap(), args.as_object().unwrap().clone()).unwrap()
    }

    fn bytes(max_bytes: usize) -> Bounds {
        Bounds { max_bytes, max_tokens: usize::MAX }
    }

    fn purchases(n: usize) -> Value {
        let list: Vec<Value> = (0..n).map(|i| json!({"id": format!("P{i:05}"), "amount": "49.00", "note": "x".repeat(100)})).collect();
        json!({ "purchase_list": list })
    }

    #[test]
    fn small_answers_pass_unchanged_but_paged_lists_say_what_is_next() {
        let list = call("listBuyers", json!({}));
        let data = json!({"buyers": [{"id": 1}], "page_no": 1, "page_count": 3, "page_size": 1, "item_count": 3});
        let shaped = shape(&list, data, bytes(10_000)).unwrap().0;
        assert_eq!(
            shaped["_paging"],
            json!({"page_no": 1, "page_count": 3, "has_more": true, "next_page_no": 2, "next_arguments": {"page_no": 2}})
        );
        let last = shape(&list, json!({"buyers": [], "page_no": 3, "page_count": 3}), bytes(10_000)).unwrap().0;
        assert_eq!(last["_paging"]["has_more"], false);
        let ping = shape(&call("ping", json!({})), json!({"server_time": "x"}), bytes(10_000)).unwrap().0;
        assert_eq!(ping, json!({"server_time": "x"}));
    }

    #[test]
    fn full_page_without_counts_means_maybe_more_and_text_page_numbers_count() {
        let page = call("listPurchases", json!({"page_size": 2, "page_no": "4"}));
        let shaped = shape(&page, purchases(2), bytes(100_000)).unwrap().0;
        assert_eq!(shaped["_paging"]["next_page_no"], 5, "page_no given as text is still page 4");
        assert_eq!(shaped["_paging"]["next_arguments"], json!({"page_size": 2, "page_no": 5}));
    }

    #[test]
    fn large_answers_are_cut_at_a_record_boundary_and_say_how_to_go_on() {
        let list = call("listPurchases", json!({"page_size": 1000}));
        let (shaped, text) = shape(&list, purchases(1000), bytes(20_000)).unwrap();
        assert_eq!(text, serde_json::to_string(&shaped).unwrap());
        assert!(text.len() <= 20_000, "{}", text.len());
        let shown = shaped["purchase_list"].as_array().unwrap().len();
        assert!(shown > 50 && shown < 1000);
        assert_eq!(shaped["_truncated"]["records_shown"], shown);
        assert_eq!(shaped["_truncated"]["records_left_out"], 1000 - shown);
        assert_eq!(shaped["purchase_list"][shown - 1]["id"], format!("P{:05}", shown - 1));
        assert_eq!(shaped["_truncated"]["next_arguments"], json!({"page_size": 1000, "skip": shown}));
        assert_eq!(shaped["_paging"]["next_page_no"], 1, "the rest of page 1 comes before page 2");
    }

    #[test]
    fn following_next_arguments_shows_every_record_exactly_once() {
        let mut args = json!({"page_size": 1000});
        let mut seen = Vec::new();
        for _ in 0..100 {
            let shaped = shape(&call("listPurchases", args.clone()), purchases(1000), bytes(8_000)).unwrap().0;
            seen.extend(shaped["purchase_list"].as_array().unwrap().iter().map(|p| p["id"].as_str().unwrap().to_owned()));
            match shaped.get("_truncated") {
                Some(cut) => args = cut["next_arguments"].clone(),
                None => break,
            }
        }
        let expected: Vec<String> = (0..1000).map(|i| format!("P{i:05}")).collect();
        assert_eq!(seen, expected);
    }

    #[test]
    fn lists_get_their_default_fields_and_every_continuation_carries_the_callers_fields() {
        let shaped = shape(&call("listPurchases", json!({"page_size": 1000})), purchases(1000), bytes(8_000)).unwrap().0;
        assert_eq!(shaped["purchase_list"][0], json!({"id": "P00000", "amount": "49.00"}), "the catalogue's default");
        assert_eq!(shaped["_fields"]["left_out"], json!(["note"]));
        assert_eq!(shaped["_truncated"]["next_arguments"].get("fields"), None, "the default needs no argument");
        let chosen = call("listPurchases", json!({"page_size": 1000, "fields": ["id", "note"]}));
        let shaped = shape(&chosen, purchases(1000), bytes(8_000)).unwrap().0;
        assert_eq!(shaped["purchase_list"][0].as_object().unwrap().len(), 2);
        let next = &shaped["_truncated"]["next_arguments"];
        assert_eq!(next["fields"], json!(["id", "note"]));
        assert_eq!(shaped["_paging"]["next_arguments"], *next, "the rest of the page, shaped alike");
        let metadata = call("listPurchases", json!({"fields": ["id", "item_count", "nothing"]}));
        let mut data = purchases(2);
        data["item_count"] = 2.into();
        let shaped = shape(&metadata, data, bytes(100_000)).unwrap().0;
        assert_eq!(shaped["item_count"], 2, "a list's metadata stays");
        assert_eq!(shaped["_fields"]["not_found"], json!(["nothing"]), "asking for kept metadata is no miss");
    }

    #[test]
    fn everything_means_the_answer_as_it_came() {
        let all = shape(&call("listPurchases", json!({"fields": "*"})), purchases(3), bytes(100_000)).unwrap();
        assert_eq!(all.1, serde_json::to_string(&purchases(3)).unwrap(), "byte for byte");
        let record = json!({"id": "A", "buyer": {"email": "e", "city": "c"}});
        let get = shape(&call("getPurchase", json!({"purchase_id": "A"})), record.clone(), bytes(100_000)).unwrap().0;
        assert_eq!(get, record, "get tools default to all fields");
        let get = shape(&call("getPurchase", json!({"purchase_id": "A", "fields": ["buyer.email"]})), record, bytes(100_000)).unwrap().0;
        assert_eq!(get["buyer"], json!({"email": "e"}), "a record's fields are paths from its top");
        assert_eq!(get["_fields"]["left_out"], json!(["buyer.city", "id"]));
    }

    #[test]
    fn the_token_bound_cuts_too_and_following_it_shows_every_record_once() {
        let bounds = Bounds { max_bytes: usize::MAX, max_tokens: 2_000 };
        let mut args = json!({"page_size": 1000, "fields": "*"});
        let mut seen = Vec::new();
        for _ in 0..200 {
            let (shaped, text) = shape(&call("listPurchases", args.clone()), purchases(1000), bounds).unwrap();
            let tokens = reference_tokens(&text);
            assert!(tokens <= 2_000, "{tokens} tokens");
            seen.extend(shaped["purchase_list"].as_array().unwrap().iter().map(|p| p["id"].as_str().unwrap().to_owned()));
            match shaped.get("_truncated") {
                Some(cut) => {
                    assert_eq!(cut["max_result_tokens"], 2_000);
                    assert!(tokens > 1_500, "the cut uses most of the bound, not a sliver: {tokens}");
                    args = cut["next_arguments"].clone();
                }
                None => break,
            }
        }
        assert_eq!(seen, (0..1000).map(|i| format!("P{i:05}")).collect::<Vec<_>>());
    }

    /// tiktoken's count: the reference the server's tokenizer must equal.
    fn reference_tokens(text: &str) -> usize {
        tiktoken_rs::cl100k_base_singleton().encode_ordinary(text).len()
    }

    #[test]
    fn the_servers_token_count_is_tiktokens_on_every_golden_answer_and_awkward_text() {
        let golden = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
        let mut texts: Vec<String> =
            std::fs::read_dir(golden).unwrap().map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap()).collect();
        assert!(texts.len() > 10, "the golden answers are there");
        texts.extend(
            [
                "  spaces\t\ttabs\r\n\n\nnewlines   ",
                "Ärger über Öl 🎉🎉 \u{2028} 中文 العربية",
                "<|endoftext|> is text here",
                "1234567890 3.14159 -0 1e3 ''s 've 'LL",
            ]
            .map(String::from),
        );
        texts.push(serde_json::to_string(&purchases(300)).unwrap());
        for text in &texts {
            assert_eq!(tokens::count(text), reference_tokens(text), "{}", &text[..text.len().min(80)]);
        }
    }

    #[test]
    fn counting_tokens_is_cheap_and_short_answers_are_not_counted() {
        load_tokenizer();
        let text = serde_json::to_string(&purchases(350)).unwrap();
        let started = std::time::Instant::now();
        let tokens = reference_tokens(&text);
        println!("cl100k: {} bytes -> {tokens} tokens in {:?}", text.len(), started.elapsed());
        assert_eq!(tokens_over(&text, tokens), None);
        assert_eq!(tokens_over(&text, tokens - 1), Some(tokens));
        assert_eq!(tokens_over("{}", 2), None, "at most as many tokens as bytes");
    }

    #[test]
    fn unshortenable_answers_are_an_error_not_a_silent_cut() {
        let err = shape(&call("getProduct", json!({"product_id": "1"})), json!({"blob": "x".repeat(5000)}), bytes(1000)).unwrap_err();
        assert!(err.contains("(5011 bytes) exceeds the limit of 1000 bytes"), "{err}");
    }

    #[test]
    fn a_cut_of_an_id_keyed_map_fits_and_counts_its_keys() {
        let by_id: Map<String, Value> = (0..300).map(|i| (format!("{i:04}"), json!({"id": i, "note": "x".repeat(50)}))).collect();
        let data = json!({"items": by_id});
        let (shaped, text) = shape(&call("getPurchase", json!({"purchase_id": "A"})), data, bytes(8_000)).unwrap();
        assert!(text.len() <= 8_000, "{}", text.len());
        let shown = shaped["items"].as_object().unwrap().len();
        assert_eq!(shaped["_truncated"]["records_shown"], shown);
        assert!(shown > 50, "most of the bound is used: {shown}");
    }

    #[test]
    fn a_projection_that_leaves_out_the_list_is_too_big_not_a_panic() {
        let data = json!({"id": "A", "items": (0..200).map(|i| json!({"n": i, "x": "y".repeat(40)})).collect::<Vec<_>>(), "blob": "z".repeat(3000)});
        let get = call("getPurchase", json!({"purchase_id": "A", "fields": ["blob"]}));
        let err = shape(&get, data, bytes(1000)).unwrap_err();
        assert!(err.contains("exceeds the limit"), "{err}");
    }
}
