//! Digistore24's JSON answer frame: `result` is `success` (payload under
//! `data`) or `error` (`code`, `message`), whatever the HTTP status says.
//!
//! Owns: reading the frame and keeping the payload's own text next to its
//! parsed tree ([`Payload`]), so that an answer nothing changes can be passed
//! on as it came. Must not touch: what is done with the payload.

use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::Value;
use serde_json::value::RawValue;
use std::borrow::Cow;

/// The `data` of a success frame: the parsed tree and, when it came from
/// Digistore24, its text exactly as sent.
#[derive(Debug, Clone)]
pub struct Payload {
    value: Value,
    json: Option<Box<RawValue>>,
}

/// Equal when the trees are: the text is how it was written.
impl PartialEq for Payload {
    fn eq(&self, other: &Self) -> bool {
        self.value == other.value
    }
}

impl Payload {
    /// A payload known only as a tree (a cached answer): it has no text of its own.
    pub fn parsed(value: Value) -> Self {
        Payload { value, json: None }
    }

    /// The parsed tree.
    pub fn value(&self) -> &Value {
        &self.value
    }

    /// The upstream's text of the payload, if known.
    pub fn json(&self) -> Option<&str> {
        self.json.as_deref().map(RawValue::get)
    }

    /// The tree alone.
    pub fn into_value(self) -> Value {
        self.value
    }

    /// The tree and the upstream's text.
    pub fn into_parts(self) -> (Value, Option<Box<RawValue>>) {
        (self.value, self.json)
    }
}

/// A parsed answer frame.
#[derive(Debug, Clone, PartialEq)]
pub enum Envelope {
    /// `result: "success"`; the payload (`{}` when `data` is absent or null).
    Success(Payload),
    /// `result: "error"` (or any other non-success result).
    Error {
        /// Digistore24's error code, when it sent one.
        code: Option<i64>,
        /// Digistore24's message, or a fallback naming the result.
        message: String,
    },
}

/// Why a body is not an envelope.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EnvelopeError {
    /// Not JSON at all (an HTML error page, a proxy's text).
    #[error("the answer is not JSON")]
    NotJson,
    /// JSON, but without the `result` field every Digistore24 answer has.
    #[error("the answer is JSON but has no `result` field")]
    NoResult,
}

/// The frame's fields, borrowed from the body: `data` is only delimited here
/// (and parsed once, on its own), the small fields are parsed as values.
#[derive(Default)]
struct Frame<'a> {
    result: Option<Value>,
    data: Option<&'a RawValue>,
    code: Option<Value>,
    message: Option<Value>,
}

/// An object key, borrowed unless it has escapes.
struct Key<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a key")
            }
            fn visit_borrowed_str<E>(self, key: &'de str) -> Result<Self::Value, E> {
                Ok(Key(Cow::Borrowed(key)))
            }
            fn visit_str<E>(self, key: &str) -> Result<Self::Value, E> {
                Ok(Key(Cow::Owned(key.to_owned())))
            }
        }
        deserializer.deserialize_str(KeyVisitor)
    }
}

impl<'de> Deserialize<'de> for Frame<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct FrameVisitor;
        impl<'de> Visitor<'de> for FrameVisitor {
            type Value = Frame<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an answer frame (an object)")
            }
            // Like a `serde_json::Map`, a repeated key counts with its last value.
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut frame = Frame::default();
                while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
                    match key.as_ref() {
                        "data" => frame.data = Some(map.next_value()?),
                        "result" => frame.result = Some(map.next_value()?),
                        "code" => frame.code = Some(map.next_value()?),
                        "message" => frame.message = Some(map.next_value()?),
                        // Parsed, not skipped: a field that is not valid JSON makes
                        // the whole answer "not JSON", as it always has.
                        _ => drop(map.next_value::<Value>()?),
                    }
                }
                Ok(frame)
            }
        }
        deserializer.deserialize_map(FrameVisitor)
    }
}

/// Parses an answer body. Like the official connector, an answer counts only
/// if it carries `result`; `success` yields `data`, anything else an error.
pub fn parse_envelope(body: &[u8]) -> Result<Envelope, EnvelopeError> {
    // Anything the borrowing read does not take (not JSON, not an object)
    // is judged by reading it as a tree, as every answer once was.
    let Ok(frame) = serde_json::from_slice::<Frame<'_>>(body) else { return parse_tree(body) };
    // `data` is checked whatever the result says: a payload that is not valid
    // JSON (a number out of range) makes the answer "not JSON".
    let data = match frame.data {
        Some(raw) => Some((serde_json::from_str::<Value>(raw.get()).map_err(|_| EnvelopeError::NotJson)?, raw)),
        None => None,
    };
    let payload = || match data {
        Some((value, raw)) if !value.is_null() => Payload { value, json: Some(raw.to_owned()) },
        _ => Payload { value: Value::Object(Default::default()), json: RawValue::from_string("{}".to_owned()).ok() },
    };
    judge(frame.result, payload, frame.code, frame.message)
}

/// The whole body as one tree: the slow path, for bodies that are not a frame.
fn parse_tree(body: &[u8]) -> Result<Envelope, EnvelopeError> {
    let value: Value = serde_json::from_slice(body).map_err(|_| EnvelopeError::NotJson)?;
    let Value::Object(mut frame) = value else { return Err(EnvelopeError::NoResult) };
    let data = frame.remove("data").filter(|d| !d.is_null()).unwrap_or_else(|| Value::Object(Default::default()));
    judge(frame.remove("result"), || Payload::parsed(data), frame.remove("code"), frame.remove("message"))
}

/// Success or error, from the frame's fields.
fn judge(
    result: Option<Value>,
    payload: impl FnOnce() -> Payload,
    code: Option<Value>,
    message: Option<Value>,
) -> Result<Envelope, EnvelopeError> {
    let Some(Value::String(result)) = result else { return Err(EnvelopeError::NoResult) };
    if result == "success" {
        return Ok(Envelope::Success(payload()));
    }
    let code = match code {
        Some(Value::Number(n)) => n.as_i64(),
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    };
    let message = match message {
        Some(Value::String(m)) if !m.trim().is_empty() => m,
        _ => format!("Digistore24 answered result \"{result}\" without a message"),
    };
    Ok(Envelope::Error { code, message })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn success(body: &[u8]) -> (Value, Option<String>) {
        match parse_envelope(body) {
            Ok(Envelope::Success(payload)) => (payload.value().clone(), payload.json().map(str::to_owned)),
            other => panic!("not a success: {other:?}"),
        }
    }

    #[test]
    fn success_yields_data_and_its_text_as_sent() {
        let body = br#"{"api_version":"1.2","result":"success","data": {"server_time" : "2024-01-01 10:00:00","b":"a\/b"} }"#;
        let (value, json) = success(body);
        assert_eq!(value, json!({"server_time":"2024-01-01 10:00:00","b":"a/b"}));
        assert_eq!(json.as_deref(), Some(r#"{"server_time" : "2024-01-01 10:00:00","b":"a\/b"}"#), "the bytes, not a rewrite");
        assert_eq!(success(br#"{"result":"success"}"#), (json!({}), Some("{}".to_owned())));
        assert_eq!(success(br#"{"result":"success","data":null}"#), (json!({}), Some("{}".to_owned())));
        assert_eq!(success(br#"{"result":"success","data":[1]}"#), (json!([1]), Some("[1]".to_owned())));
    }

    #[test]
    fn the_frame_reads_like_a_json_object() {
        let (value, _) = success(br#"{"data":{"a":1},"result":"error","data":{"a":2},"\u0072esult":"success"}"#);
        assert_eq!(value, json!({"a": 2}), "the last of a repeated key counts, escaped keys are keys");
        assert_eq!(parse_envelope(br#"{"result":"success","data":{"n":1e400}}"#), Err(EnvelopeError::NotJson));
        assert_eq!(parse_envelope(br#"{"result":"success","runtime_seconds":1e400}"#), Err(EnvelopeError::NotJson));
    }

    #[test]
    fn error_under_any_status_is_an_error() {
        let body = br#"{"api_version":"1.2","result":"error","code":"4","message":"Purchase not found"}"#;
        assert_eq!(parse_envelope(body), Ok(Envelope::Error { code: Some(4), message: "Purchase not found".into() }));
        let Ok(Envelope::Error { code: None, message }) = parse_envelope(br#"{"result":"warning"}"#) else { panic!() };
        assert!(message.contains("warning"));
        assert_eq!(
            parse_envelope(br#"{"result":"error","code":8,"message":" "}"#).map(|e| matches!(e, Envelope::Error { code: Some(8), .. })),
            Ok(true)
        );
    }

    #[test]
    fn non_envelopes_are_refused() {
        assert_eq!(parse_envelope(b"<html>502</html>"), Err(EnvelopeError::NotJson));
        assert_eq!(parse_envelope(br#"{"data":{}}"#), Err(EnvelopeError::NoResult));
        assert_eq!(parse_envelope(br#"[1,2]"#), Err(EnvelopeError::NoResult));
        assert_eq!(parse_envelope(br#"["success",{}]"#), Err(EnvelopeError::NoResult), "an array is no frame");
        assert_eq!(parse_envelope(br#"{"result":1}"#), Err(EnvelopeError::NoResult));
        assert_eq!(parse_envelope(br#"{"result":"success""#), Err(EnvelopeError::NotJson));
    }
}
