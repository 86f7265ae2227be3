//! Whether a JSON text is already byte for byte what `serde_json` writes for
//! the value it parses to: no whitespace, every object's keys in ascending
//! byte order without repeats (a `serde_json::Map` is sorted), strings with
//! exactly serde_json's escapes, integers only. Such a text can be handed on
//! as it came instead of being written anew from its tree.
//!
//! Owns: that one check, on text already known to be valid JSON. Must not
//! touch: parsing or shaping. It may say "no" to a text that would pass (a
//! float, a key with an escape): that only costs a rewrite; it must never say
//! "yes" wrongly.

/// The text of the top-level `data` of `frame` (a body already parsed as a
/// JSON object), if it is an object written exactly as serde_json would write
/// it. `None` also when the frame's keys could mislead a plain byte search:
/// an escaped key (it might spell `data`) or `data` twice.
pub(super) fn canonical_data(frame: &[u8]) -> Option<&str> {
    let mut at = skip_space(frame, 0);
    if frame.get(at) != Some(&b'{') {
        return None;
    }
    let mut found = None;
    loop {
        at = skip_space(frame, at + 1);
        let (key, escaped) = string(frame, &mut at).or_else(|| any_string(frame, &mut at).map(|k| (k, true)))?;
        if escaped {
            return None;
        }
        at = skip_space(frame, at);
        if frame.get(at) != Some(&b':') {
            return None;
        }
        at = skip_space(frame, at + 1);
        let start = at;
        if key == b"data" {
            if found.is_some() {
                return None;
            }
            if frame.get(at) != Some(&b'{') || !value(frame, &mut at) {
                return None;
            }
            found = Some(start..at);
        } else {
            skip_value(frame, &mut at)?;
        }
        at = skip_space(frame, at);
        match frame.get(at) {
            Some(b',') => {}
            Some(b'}') => break,
            _ => return None,
        }
    }
    std::str::from_utf8(&frame[found?]).ok()
}

fn skip_space(bytes: &[u8], mut at: usize) -> usize {
    while bytes.get(at).is_some_and(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r')) {
        at += 1;
    }
    at
}

/// A string with any escapes: its raw content.
fn any_string<'a>(bytes: &'a [u8], at: &mut usize) -> Option<&'a [u8]> {
    let start = *at + 1;
    let mut i = start;
    loop {
        match *bytes.get(i)? {
            b'"' => break,
            b'\\' => i += 2,
            _ => i += 1,
        }
    }
    *at = i + 1;
    Some(&bytes[start..i])
}

/// Moves past one value of valid JSON, whatever its form.
fn skip_value(bytes: &[u8], at: &mut usize) -> Option<()> {
    match *bytes.get(*at)? {
        b'"' => drop(any_string(bytes, at)?),
        b'{' | b'[' => {
            let mut depth = 0usize;
            loop {
                match *bytes.get(*at)? {
                    b'"' => {
                        any_string(bytes, at)?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            *at += 1;
                            return Some(());
                        }
                    }
                    _ => {}
                }
                *at += 1;
            }
        }
        _ => {
            while bytes.get(*at).is_some_and(|b| !matches!(b, b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r')) {
                *at += 1;
            }
        }
    }
    Some(())
}

/// Whether `json`, an object, is written exactly as serde_json would write it.
#[cfg(test)]
fn is_canonical_object(json: &str) -> bool {
    let bytes = json.as_bytes();
    let mut at = 0;
    bytes.first() == Some(&b'{') && value(bytes, &mut at) && at == bytes.len()
}

/// One value at `at`, which moves past it. The text is valid JSON, so its
/// nesting is bounded by serde_json's recursion limit.
fn value(bytes: &[u8], at: &mut usize) -> bool {
    match bytes.get(*at) {
        Some(b'{') => object(bytes, at),
        Some(b'[') => array(bytes, at),
        Some(b'"') => string(bytes, at).is_some(),
        Some(b't') => literal(bytes, at, b"true"),
        Some(b'f') => literal(bytes, at, b"false"),
        Some(b'n') => literal(bytes, at, b"null"),
        Some(b'-' | b'0'..=b'9') => integer(bytes, at),
        _ => false,
    }
}

fn object(bytes: &[u8], at: &mut usize) -> bool {
    *at += 1;
    if bytes.get(*at) == Some(&b'}') {
        *at += 1;
        return true;
    }
    let mut previous: Option<&[u8]> = None;
    loop {
        // A key with an escape would have to be decoded to be ordered: rare, so "no".
        let Some((key, false)) = string(bytes, at) else { return false };
        if previous.is_some_and(|previous| previous >= key) {
            return false;
        }
        previous = Some(key);
        if bytes.get(*at) != Some(&b':') {
            return false;
        }
        *at += 1;
        if !value(bytes, at) {
            return false;
        }
        match bytes.get(*at) {
            Some(b',') => *at += 1,
            Some(b'}') => {
                *at += 1;
                return true;
            }
            _ => return false,
        }
    }
}

fn array(bytes: &[u8], at: &mut usize) -> bool {
    *at += 1;
    if bytes.get(*at) == Some(&b']') {
        *at += 1;
        return true;
    }
    loop {
        if !value(bytes, at) {
            return false;
        }
        match bytes.get(*at) {
            Some(b',') => *at += 1,
            Some(b']') => {
                *at += 1;
                return true;
            }
            _ => return false,
        }
    }
}

/// A string at `at`: its raw content and whether it has escapes, if every
/// escape is one serde_json writes (`\"`, `\\`, `\b \f \n \r \t`, and
/// `\u00xx` in lower case for the other control characters).
fn string<'a>(bytes: &'a [u8], at: &mut usize) -> Option<(&'a [u8], bool)> {
    let start = *at + 1;
    let mut i = start;
    let mut escaped = false;
    loop {
        i = plain_run_end(bytes, i);
        match *bytes.get(i)? {
            b'"' => break,
            b'\\' => {
                escaped = true;
                match *bytes.get(i + 1)? {
                    b'"' | b'\\' | b'b' | b'f' | b'n' | b'r' | b't' => i += 2,
                    b'u' => {
                        let hex = bytes.get(i + 2..i + 6)?;
                        let lower = |b: u8| b.is_ascii_digit() || (b'a'..=b'f').contains(&b);
                        if &hex[..2] != b"00" || !hex[2..].iter().all(|b| lower(*b)) {
                            return None;
                        }
                        let code = u8::from_str_radix(std::str::from_utf8(&hex[2..]).ok()?, 16).ok()?;
                        // Those with a short form are written short.
                        if code >= 0x20 || matches!(code, 0x08 | 0x09 | 0x0a | 0x0c | 0x0d) {
                            return None;
                        }
                        i += 6;
                    }
                    _ => return None,
                }
            }
            0x00..=0x1f => return None,
            _ => i += 1,
        }
    }
    *at = i + 1;
    Some((&bytes[start..i], escaped))
}

/// The first index from `i` on whose byte is `"`, `\\` or a control
/// character, eight bytes at a time (text is mostly plain).
fn plain_run_end(bytes: &[u8], mut i: usize) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let zero_byte = |w: u64| w.wrapping_sub(ONES) & !w & HIGHS;
    while let Some(chunk) = bytes.get(i..i + 8) {
        let word = u64::from_le_bytes(chunk.try_into().expect("eight bytes"));
        // A byte below 0x20 (ignoring the high bit, which is checked alone), a quote, a backslash.
        let special = zero_byte(word & !HIGHS & 0xe0e0_e0e0_e0e0_e0e0) & !(word & HIGHS)
            | zero_byte(word ^ (ONES * u64::from(b'"')))
            | zero_byte(word ^ (ONES * u64::from(b'\\')));
        if special != 0 {
            break;
        }
        i += 8;
    }
    i
}

fn literal(bytes: &[u8], at: &mut usize, word: &[u8]) -> bool {
    let found = bytes.get(*at..*at + word.len()) == Some(word);
    *at += word.len();
    found
}

/// An integer that serde_json keeps as one (`u64`, or `i64` when negative)
/// and so writes back as it is; a fraction or exponent is a float, written
/// its own way, and so is `-0`.
fn integer(bytes: &[u8], at: &mut usize) -> bool {
    let start = *at;
    let digits_from = start + usize::from(bytes[start] == b'-');
    let mut end = digits_from;
    while bytes.get(end).is_some_and(u8::is_ascii_digit) {
        end += 1;
    }
    *at = end;
    if matches!(bytes.get(end), Some(b'.' | b'e' | b'E')) || end == digits_from {
        return false;
    }
    let digits = &bytes[digits_from..end];
    if digits.len() > 1 && digits[0] == b'0' {
        return false;
    }
    let Ok(text) = std::str::from_utf8(&bytes[start..end]) else { return false };
    if digits_from > start { text != "-0" && text.parse::<i64>().is_ok() } else { text.parse::<u64>().is_ok() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::Value;

    /// What serde_json writes for the value `json` parses to.
    fn rewritten(json: &str) -> String {
        serde_json::to_string(&serde_json::from_str::<Value>(json).unwrap()).unwrap()
    }

    #[test]
    fn what_serde_json_writes_passes() {
        for json in [
            r#"{}"#,
            r#"{"a":1,"b":[true,false,null,-7,0,18446744073709551615,-9223372036854775808],"c":{"d":"","e":[]}}"#,
            "{\"controls\":\"\\u0000\\u001f\\b\\f\\n\\r\\t\\\"\\\\\",\"del\":\"\u{7f}\",\"utf8\":\"Zürich 東京 🚀 \u{2028}\"}",
            r#"{"A":1,"B":2,"a":3,"ä":4}"#,
        ] {
            assert_eq!(rewritten(json), json, "the premise");
            assert!(is_canonical_object(json), "{json}");
        }
    }

    #[test]
    fn what_serde_json_would_write_differently_does_not() {
        for json in [
            r#"{"b":1,"a":2}"#,
            r#"{"a":1,"a":2}"#,
            r#"{ "a":1}"#,
            r#"{"a" :1}"#,
            r#"{"a":[1, 2]}"#,
            r#"{"a":"a\/b"}"#,
            r#"{"a":"\u00e9"}"#,
            r#"{"a":"\u001F"}"#,
            r#"{"a":"\u000a"}"#,
            r#"{"a":"\ud83d\ude00"}"#,
            r#"{"a":1.5}"#,
            r#"{"a":1e3}"#,
            r#"{"a":-0}"#,
            r#"{"a":18446744073709551616}"#,
            r#"{"a":-9223372036854775809}"#,
            r#"{"\u0061":1}"#,
            r#"[1]"#,
            r#"{"a":1}  "#,
        ] {
            assert!(!is_canonical_object(json), "{json}");
        }
    }

    /// Valid JSON objects written in many ways: key order, spaces, escapes, number forms.
    fn json_text() -> impl Strategy<Value = String> {
        let key = prop::sample::select(vec!["a", "b", "B", "ä", "id", "a\\u0062", "a\\/"]).prop_map(str::to_owned);
        let scalar = prop::sample::select(vec![
            "1",
            "-1",
            "0",
            "-0",
            "1.0",
            "1.5",
            "1e3",
            "18446744073709551615",
            "18446744073709551616",
            "-9223372036854775808",
            "true",
            "null",
            "\"\"",
            "\"x\\\"y\"",
            "\"\\u00e9\"",
            "\"é\"",
            "\"\\u0001\"",
            "\"\\u0008\"",
            "\"\\n\"",
            "\"\\/\"",
            "\"\u{7f}\"",
        ])
        .prop_map(str::to_owned);
        let space = prop::sample::select(vec!["", "", "", " ", "\n"]);
        scalar.prop_recursive(4, 40, 6, move |inner| {
            prop_oneof![
                (prop::collection::vec((key.clone(), inner.clone(), space.clone()), 0..6)).prop_map(|entries| {
                    let body: Vec<String> = entries.iter().map(|(k, v, s)| format!("{s}\"{k}\"{s}:{v}")).collect();
                    format!("{{{}}}", body.join(","))
                }),
                (prop::collection::vec(inner, 0..4)).prop_map(|items| format!("[{}]", items.join(","))),
            ]
        })
    }

    #[test]
    fn the_data_of_a_frame_is_found_only_where_it_is_surely_the_data() {
        fn found(frame: &str) -> Option<&str> {
            canonical_data(frame.as_bytes())
        }
        assert_eq!(
            found(r#"{"api_version":"1.2","x":{"data":[1,"}"]},"result":"success","data":{"a":"\\\"}"}}"#),
            Some(r#"{"a":"\\\"}"}"#)
        );
        assert_eq!(found("{ \"result\" : \"success\" ,\n \"data\" : {\"a\":[1,2]} }\n"), Some(r#"{"a":[1,2]}"#));
        assert_eq!(found(r#"{"n":-1.5e3,"t":true,"data":{}}"#), Some("{}"));
        assert_eq!(found(r#"{"data":{"b":1,"a":2}}"#), None, "not as serde_json writes it");
        assert_eq!(found(r#"{"data":{"a":1},"data":{"a":2}}"#), None, "twice");
        assert_eq!(found(r#"{"data":{"a":1},"\u0064ata":{"a":2}}"#), None, "an escaped key might be the data");
        assert_eq!(found(r#"{"data":[1]}"#), None, "not an object");
        assert_eq!(found(r#"{"result":"success"}"#), None);
    }

    #[test]
    fn plain_runs_stop_at_every_special_byte() {
        for special in [b'"', b'\\', 0x00, 0x1f, 0x0a] {
            for at in 0..20 {
                let mut text = "é€abcdefghijklmnopqrstuvwxyz".as_bytes().to_vec();
                text[at] = special;
                assert!(plain_run_end(&text, 0) <= at, "{special:#x} at {at}");
            }
        }
    }

    proptest! {
        #[test]
        fn a_yes_is_always_right(json in json_text()) {
            let json = format!("{{\"k\":{json}}}");
            if is_canonical_object(&json) {
                prop_assert_eq!(rewritten(&json), json);
            }
        }

        #[test]
        fn what_serde_json_wrote_is_always_a_yes_without_floats(json in json_text()) {
            let json = rewritten(&format!("{{\"k\":{json}}}"));
            if !json.contains('.') {
                prop_assert!(is_canonical_object(&json), "{}", json);
            }
        }
    }
}
