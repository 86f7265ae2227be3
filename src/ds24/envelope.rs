//! Digistore24's JSON answer frame: `result` is `success` (payload under
//! `data`) or `error` (`code`, `message`), whatever the HTTP status says.
//!
//! Owns: reading the frame, and keeping the body next to the parsed payload
//! ([`Payload`]) so that an answer nothing changes can be passed on as
//! Digistore24 wrote it. Must not touch: what is done with the payload.

use super::canonical;
use serde_json::Value;

/// The `data` of a success frame: the parsed tree and, when it came from
/// Digistore24, the whole body it was parsed from.
#[derive(Debug, Clone)]
pub struct Payload {
    value: Value,
    frame: Option<Vec<u8>>,
}

/// Equal when the trees are: the body is how it was written.
impl PartialEq for Payload {
    fn eq(&self, other: &Self) -> bool {
        self.value == other.value
    }
}

impl Payload {
    /// A payload known only as a tree (a cached answer).
    pub fn parsed(value: Value) -> Self {
        Payload { value, frame: None }
    }

    /// The same payload, with the body (the frame) it was parsed from.
    pub fn with_frame(self, body: Vec<u8>) -> Self {
        Payload { frame: Some(body), ..self }
    }

    /// The parsed tree.
    pub fn value(&self) -> &Value {
        &self.value
    }

    /// Takes the tree out, leaving `null`; the frame stays.
    pub fn take_value(&mut self) -> Value {
        std::mem::take(&mut self.value)
    }

    /// The tree alone.
    pub fn into_value(self) -> Value {
        self.value
    }

    /// The frame's `data` as Digistore24 wrote it, if that is an object
    /// written byte for byte as serde_json would write its tree (the
    /// sandbox's answers are): one scan, nothing parsed or allocated.
    pub fn text_as_written(&self) -> Option<&str> {
        canonical::canonical_data(self.frame.as_deref()?)
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

/// Parses an answer body. Like the official connector, an answer counts only
/// if it carries `result`; `success` yields `data`, anything else an error.
/// The body is parsed once, as a whole (a borrowing read that only delimits
/// `data` and parses it on its own was measured slower: it scans `data` twice).
pub fn parse_envelope(body: &[u8]) -> Result<Envelope, EnvelopeError> {
    let value: Value = serde_json::from_slice(body).map_err(|_| EnvelopeError::NotJson)?;
    let Value::Object(mut frame) = value else { return Err(EnvelopeError::NoResult) };
    let result = match frame.get("result") {
        Some(Value::String(r)) => r.clone(),
        _ => return Err(EnvelopeError::NoResult),
    };
    if result == "success" {
        let data = frame.remove("data").filter(|d| !d.is_null()).unwrap_or_else(|| Value::Object(Default::default()));
        return Ok(Envelope::Success(Payload::parsed(data)));
    }
    let code = match frame.get("code") {
        Some(Value::Number(n)) => n.as_i64(),
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    };
    let message = match frame.remove("message") {
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
            Ok(Envelope::Success(payload)) => {
                let payload = payload.with_frame(body.to_vec());
                (payload.value().clone(), payload.text_as_written().map(str::to_owned))
            }
            other => panic!("not a success: {other:?}"),
        }
    }

    #[test]
    fn success_yields_data_and_its_text_when_written_as_serde_json_would() {
        let body = br#"{"api_version":"1.2","result":"success","data": {"server_time" : "2024-01-01 10:00:00","b":"a\/b"} }"#;
        assert_eq!(success(body), (json!({"server_time":"2024-01-01 10:00:00","b":"a/b"}), None));
        let body = br#"{"api_version":"1.2","result":"success","data":{"b":"a/b","server_time":"2024-01-01 10:00:00"}}"#;
        assert_eq!(success(body).1.as_deref(), Some(r#"{"b":"a/b","server_time":"2024-01-01 10:00:00"}"#), "the bytes as sent");
        assert_eq!(success(br#"{"result":"success"}"#).0, json!({}));
        assert_eq!(success(br#"{"result":"success","data":null}"#), (json!({}), None));
        assert_eq!(success(br#"{"result":"success","data":[1]}"#), (json!([1]), None));
    }

    #[test]
    fn error_under_any_status_is_an_error() {
        let body = br#"{"api_version":"1.2","result":"error","code":"4","message":"Purchase not found"}"#;
        assert_eq!(parse_envelope(body), Ok(Envelope::Error { code: Some(4), message: "Purchase not found".into() }));
        let Ok(Envelope::Error { code: None, message }) = parse_envelope(br#"{"result":"warning"}"#) else { panic!() };
        assert!(message.contains("warning"));
    }

    #[test]
    fn non_envelopes_are_refused() {
        assert_eq!(parse_envelope(b"<html>502</html>"), Err(EnvelopeError::NotJson));
        assert_eq!(parse_envelope(br#"{"data":{}}"#), Err(EnvelopeError::NoResult));
        assert_eq!(parse_envelope(br#"[1,2]"#), Err(EnvelopeError::NoResult));
    }
}
