//! The sandbox's error type and the Digistore24 error codes it answers with.
//!
//! Owns: [`ApiError`] (code, message, HTTP status) and its constructors, one per
//! connector error code. Must not touch: HTTP bodies or envelopes (see
//! `envelope.rs`), account data.

use axum::http::StatusCode;

/// A failed call, as Digistore24 reports it: connector `code`, readable
/// `message`, and the HTTP status the sandbox sends with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// Connector error code (0 unknown, 2 bad key, 3 bad params, 4 not found,
    /// 8 permission denied, 9 bad API call).
    pub code: u8,
    /// Human-readable message in Digistore24's style, naming the argument or id.
    pub message: String,
    /// HTTP status sent with the error envelope.
    pub status: StatusCode,
}

impl ApiError {
    fn new(code: u8, status: StatusCode, message: impl Into<String>) -> Self {
        ApiError { code, message: message.into(), status }
    }

    /// Code 2 / HTTP 401: missing or unknown API key.
    pub fn bad_key(message: impl Into<String>) -> Self {
        Self::new(2, StatusCode::UNAUTHORIZED, message)
    }

    /// Code 3 / HTTP 400: an argument is missing, malformed or not allowed.
    pub fn params(message: impl Into<String>) -> Self {
        Self::new(3, StatusCode::BAD_REQUEST, message)
    }

    /// Code 3 / HTTP 400 with the standard "missing argument" wording.
    pub fn missing(name: &str) -> Self {
        Self::params(format!("Missing required argument: {name}"))
    }

    /// Code 4 / HTTP 404: the id names no record of this account.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(4, StatusCode::NOT_FOUND, message)
    }

    /// Code 4 / HTTP 404 with the standard wording `What 'id' not found`.
    pub fn no_such(what: &str, id: impl std::fmt::Display) -> Self {
        Self::not_found(format!("{what} '{id}' not found"))
    }

    /// Code 8 / HTTP 403: the key's access level does not allow this call.
    pub fn permission(message: impl Into<String>) -> Self {
        Self::new(8, StatusCode::FORBIDDEN, message)
    }

    /// Code 9 / HTTP 400: the call itself is wrong (unknown function, limit reached).
    pub fn bad_call(message: impl Into<String>) -> Self {
        Self::new(9, StatusCode::BAD_REQUEST, message)
    }

    /// Code 0 / HTTP 500: the sandbox failed (or a fault was injected).
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(0, StatusCode::INTERNAL_SERVER_ERROR, message)
    }

    /// Code 3 / HTTP 413: the request body exceeds the size limit.
    pub fn too_large(message: impl Into<String>) -> Self {
        Self::new(3, StatusCode::PAYLOAD_TOO_LARGE, message)
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "code {}: {}", self.code, self.message)
    }
}

impl std::error::Error for ApiError {}
