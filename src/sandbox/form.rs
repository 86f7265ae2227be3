//! Decoder for `application/x-www-form-urlencoded` bodies and query strings with
//! PHP bracket notation, producing what PHP's `$_POST` would hold, as JSON.
//!
//! Owns: splitting and percent-decoding pairs, parsing `name[a][b][]` keys,
//! building the nested value with PHP's rules. Must not touch: argument meaning
//! or validation (see `args.rs`), HTTP.
//!
//! PHP rules reproduced here:
//! * `a[x]=1` makes `a` an array; a later scalar `a=2` replaces it, and vice versa;
//! * `a[]=x` appends with the next integer key (largest integer key + 1, or 0);
//! * keys that look like canonical integers (`"7"`, `"-3"`, not `"07"`) are integer
//!   keys; an array becomes a JSON list only when its keys are exactly `0..n` in
//!   insertion order, otherwise a JSON object;
//! * in the top-level name, `.` and space become `_`; an unclosed `[` becomes `_`;
//! * text after the last `]` is ignored; a later duplicate name overwrites.
//!
//! All leaves are JSON strings.

use serde_json::{Map, Value};

/// Largest number of pairs accepted in one request.
pub const MAX_PAIRS: usize = 10_000;
/// Deepest bracket nesting accepted (PHP's default `max_input_nesting_level` is 64).
pub const MAX_DEPTH: usize = 32;

/// Why a form could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FormError {
    /// More than [`MAX_PAIRS`] pairs.
    TooManyPairs,
    /// A key nests deeper than [`MAX_DEPTH`] levels.
    TooDeep(String),
}

impl std::fmt::Display for FormError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FormError::TooManyPairs => write!(f, "too many arguments (at most {MAX_PAIRS})"),
            FormError::TooDeep(k) => write!(f, "argument '{k}' is nested deeper than {MAX_DEPTH} levels"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Key {
    Int(i64),
    Str(String),
}

impl Key {
    /// PHP turns canonical decimal integer strings into integer keys.
    fn from_php(s: &str) -> Key {
        let canonical = {
            let digits = s.strip_prefix('-').unwrap_or(s);
            !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) && (digits == "0" || !digits.starts_with('0')) && s != "-0"
        };
        match canonical.then(|| s.parse::<i64>().ok()).flatten() {
            Some(i) => Key::Int(i),
            None => Key::Str(s.to_string()),
        }
    }

    fn text(&self) -> String {
        match self {
            Key::Int(i) => i.to_string(),
            Key::Str(s) => s.clone(),
        }
    }
}

#[derive(Debug, Clone)]
enum Node {
    Leaf(String),
    Branch(Vec<(Key, Node)>),
}

impl Node {
    fn into_value(self) -> Value {
        match self {
            Node::Leaf(s) => Value::String(s),
            Node::Branch(entries) => {
                let is_list = entries.iter().enumerate().all(|(i, (k, _))| *k == Key::Int(i as i64));
                if is_list && !entries.is_empty() {
                    Value::Array(entries.into_iter().map(|(_, n)| n.into_value()).collect())
                } else {
                    let mut map = Map::new();
                    for (k, n) in entries {
                        map.insert(k.text(), n.into_value());
                    }
                    Value::Object(map)
                }
            }
        }
    }
}

/// Splits a raw key into its base name and bracket segments (`None` = `[]`).
/// Returns `None` when PHP would drop the variable (empty name).
fn split_key(raw: &str) -> Option<(String, Vec<Option<String>>)> {
    let raw = raw.trim_start_matches(' ');
    let open = raw.find('[');
    let closes = open.map(|o| raw[o..].contains(']')).unwrap_or(false);
    let (base_raw, rest) = match open {
        Some(o) if closes => (&raw[..o], &raw[o..]),
        _ => (raw, ""),
    };
    let mut base: String = base_raw.chars().map(|c| if c == '.' || c == ' ' { '_' } else { c }).collect();
    if !closes {
        // An unclosed bracket: PHP replaces the first `[` with `_` and keeps the rest verbatim.
        if let Some(o) = base.find('[') {
            base.replace_range(o..o + 1, "_");
        }
    }
    if base.is_empty() {
        return None;
    }
    let mut segments = Vec::new();
    let mut rest = rest;
    while let Some(after_open) = rest.strip_prefix('[') {
        let Some(close) = after_open.find(']') else { break };
        let seg = &after_open[..close];
        segments.push(if seg.is_empty() { None } else { Some(seg.to_string()) });
        rest = &after_open[close + 1..];
    }
    Some((base, segments))
}

fn next_index(entries: &[(Key, Node)]) -> i64 {
    entries
        .iter()
        .filter_map(|(k, _)| if let Key::Int(i) = k { Some(*i) } else { None })
        .max()
        .map(|m| m.saturating_add(1).max(0))
        .unwrap_or(0)
}

fn insert(entries: &mut Vec<(Key, Node)>, keys: &[Option<String>], value: String) {
    let (first, rest) = keys.split_first().expect("at least one key");
    let key = match first {
        Some(k) => Key::from_php(k),
        None => Key::Int(next_index(entries)),
    };
    let pos = match entries.iter().position(|(k, _)| *k == key) {
        Some(p) => p,
        None => {
            entries.push((key, Node::Branch(Vec::new())));
            entries.len() - 1
        }
    };
    if rest.is_empty() {
        entries[pos].1 = Node::Leaf(value);
        return;
    }
    if let Node::Leaf(_) = entries[pos].1 {
        entries[pos].1 = Node::Branch(Vec::new());
    }
    if let Node::Branch(children) = &mut entries[pos].1 {
        insert(children, rest, value);
    }
}

/// Builds the nested value from already decoded `(name, value)` pairs, in order.
/// The result is always a JSON object (possibly empty).
pub fn decode_pairs<I, K, V>(pairs: I) -> Result<Value, FormError>
where
    I: IntoIterator<Item = (K, V)>,
    K: AsRef<str>,
    V: Into<String>,
{
    let mut root: Vec<(Key, Node)> = Vec::new();
    for (count, (k, v)) in pairs.into_iter().enumerate() {
        if count >= MAX_PAIRS {
            return Err(FormError::TooManyPairs);
        }
        let Some((base, segments)) = split_key(k.as_ref()) else { continue };
        if segments.len() > MAX_DEPTH {
            return Err(FormError::TooDeep(base));
        }
        let mut keys = Vec::with_capacity(segments.len() + 1);
        keys.push(Some(base));
        keys.extend(segments);
        insert(&mut root, &keys, v.into());
    }
    // The top level is PHP's $_POST: always an associative array.
    let mut map = Map::new();
    for (k, n) in root {
        map.insert(k.text(), n.into_value());
    }
    Ok(Value::Object(map))
}

/// Splits and percent-decodes an urlencoded string (`+` is a space) into pairs.
pub fn parse_pairs(input: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(input).map(|(k, v)| (k.into_owned(), v.into_owned())).collect()
}

/// Decodes an urlencoded body or query string into PHP's nested structure.
pub fn decode(input: &[u8]) -> Result<Value, FormError> {
    decode_pairs(parse_pairs(input))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn d(s: &str) -> Value {
        decode(s.as_bytes()).unwrap()
    }

    #[test]
    fn flat_pairs_and_percent_decoding() {
        assert_eq!(d("a=1&b=hello+world&c=%C3%A4%26"), json!({"a":"1","b":"hello world","c":"ä&"}));
        assert_eq!(d(""), json!({}));
        assert_eq!(d("a=1&a=2"), json!({"a":"2"}), "later value wins");
        assert_eq!(d("flag"), json!({"flag":""}));
    }

    #[test]
    fn nested_objects() {
        assert_eq!(d("data[name]=x&data[price]=9.00"), json!({"data":{"name":"x","price":"9.00"}}));
        assert_eq!(
            d("settings[pay_methods][0]=paypal&settings[pay_methods][1]=creditcard&settings[img]=abc"),
            json!({"settings":{"pay_methods":["paypal","creditcard"],"img":"abc"}})
        );
        assert_eq!(d("data%5Bname%5D=enc"), json!({"data":{"name":"enc"}}));
    }

    #[test]
    fn lists_of_objects() {
        assert_eq!(
            d("addons[0][product_id]=1&addons[0][amount]=2&addons[1][product_id]=3"),
            json!({"addons":[{"product_id":"1","amount":"2"},{"product_id":"3"}]})
        );
    }

    #[test]
    fn numeric_keys_become_lists_only_when_dense_and_ordered() {
        assert_eq!(d("q[0]=a&q[1]=b"), json!({"q":["a","b"]}));
        assert_eq!(d("quantities[1]=1&quantities[2]=5"), json!({"quantities":{"1":"1","2":"5"}}));
        assert_eq!(d("q[1]=a&q[0]=b"), json!({"q":{"1":"a","0":"b"}}));
        assert_eq!(d("q[0]=a&q[2]=b"), json!({"q":{"0":"a","2":"b"}}));
        // "01" is a string key in PHP, so this is not a list.
        assert_eq!(d("q[0]=a&q[01]=b"), json!({"q":{"0":"a","01":"b"}}));
    }

    #[test]
    fn append_syntax() {
        assert_eq!(d("a[]=x&a[]=y"), json!({"a":["x","y"]}));
        assert_eq!(d("a[5]=x&a[]=y"), json!({"a":{"5":"x","6":"y"}}));
        assert_eq!(d("a[k]=x&a[]=y"), json!({"a":{"k":"x","0":"y"}}));
        assert_eq!(d("a[][n]=1&a[][n]=2"), json!({"a":[{"n":"1"},{"n":"2"}]}));
    }

    #[test]
    fn scalar_and_array_replace_each_other() {
        assert_eq!(d("a=1&a[x]=2"), json!({"a":{"x":"2"}}));
        assert_eq!(d("a[x]=2&a=1"), json!({"a":"1"}));
    }

    #[test]
    fn php_name_mangling() {
        assert_eq!(d("a.b=1&c d=2"), json!({"a_b":"1","c_d":"2"}));
        assert_eq!(d("a[b=1"), json!({"a_b":"1"}));
        assert_eq!(d("a[x]junk[y]=1"), json!({"a":{"x":"1"}}));
        assert_eq!(d("image-url=u"), json!({"image-url":"u"}));
        assert_eq!(d("[x]=1&=2"), json!({}), "nameless variables are dropped");
        // Dots inside brackets are kept.
        assert_eq!(d("a[b.c]=1"), json!({"a":{"b.c":"1"}}));
    }

    #[test]
    fn deep_nesting_any_depth() {
        assert_eq!(d("a[b][c][d][e]=1"), json!({"a":{"b":{"c":{"d":{"e":"1"}}}}}));
        let too_deep = format!("a{}=1", "[x]".repeat(MAX_DEPTH + 1));
        assert!(matches!(decode(too_deep.as_bytes()), Err(FormError::TooDeep(_))));
    }

    #[test]
    fn pair_limit() {
        let many: String = (0..=MAX_PAIRS).map(|i| format!("k{i}=v&")).collect();
        assert_eq!(decode(many.as_bytes()), Err(FormError::TooManyPairs));
    }

    #[test]
    fn negative_and_big_integer_keys() {
        assert_eq!(d("a[-1]=x&a[]=y"), json!({"a":{"-1":"x","0":"y"}}));
        assert_eq!(d("a[99999999999999999999]=x"), json!({"a":{"99999999999999999999":"x"}}));
    }
}
