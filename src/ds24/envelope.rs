//! Digistore24's JSON answer frame: `result` is `success` (payload under
//! `data`) or `error` (`code`, `message`), whatever the HTTP status says.

use serde_json::Value;

/// A parsed answer frame.
#[derive(Debug, Clone, PartialEq)]
pub enum Envelope {
    /// `result: "success"`; the payload (`{}` when `data` is absent).
    Success(Value),
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
pub fn parse_envelope(body: &[u8]) -> Result<Envelope, EnvelopeError> {
    let value: Value = serde_json::from_slice(body).map_err(|_| EnvelopeError::NotJson)?;
    let Value::Object(mut frame) = value else { return Err(EnvelopeError::NoResult) };
    let result = match frame.get("result") {
        Some(Value::String(r)) => r.clone(),
        _ => return Err(EnvelopeError::NoResult),
    };
    if result == "success" {
        let data = frame.remove("data").filter(|d| !d.is_null()).unwrap_or_else(|| Value::Object(Default::default()));
        return Ok(Envelope::Success(data));
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

    #[test]
    fn success_yields_data() {
        let body = br#"{"api_version":"1.2","result":"success","data":{"server_time":"2024-01-01 10:00:00"}}"#;
        assert_eq!(parse_envelope(body), Ok(Envelope::Success(json!({"server_time":"2024-01-01 10:00:00"}))));
        assert_eq!(parse_envelope(br#"{"result":"success"}"#), Ok(Envelope::Success(json!({}))));
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
