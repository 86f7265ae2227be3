//! Browser access: which page origins may call the server, and CORS.
//!
//! Owns: the origin allow-list ([`Origins`]: loopback by default, plus
//! `--allowed-origin`, `*` for any), the 403 for other origins (preflight
//! included), and [`for_browsers`], the one function that opens a route to
//! allowed pages (tower-http's `CorsLayer` with the headers MCP clients send
//! and read). A route that later serves browsers is wrapped with it.
//! Must not touch: the Host check (rmcp's, on the MCP routes) or what the
//! routes answer.

use super::errors::{jsonrpc_error, origin_refused};
use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, Uri, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use std::sync::Arc;
use std::time::Duration;
use tower_http::cors::{AllowHeaders, AllowMethods, AllowOrigin, CorsLayer, ExposeHeaders};

/// Origins allowed by default: pages served from this machine.
pub(super) const LOOPBACK_ORIGINS: [&str; 6] =
    ["http://localhost:*", "http://127.0.0.1:*", "http://[::1]:*", "https://localhost:*", "https://127.0.0.1:*", "https://[::1]:*"];

/// Request headers an allowed page may send: what the MCP clients send
/// (auth, protocol, the 2026 routing headers), our narrowing and request id.
const ALLOWED_REQUEST_HEADERS: [&str; 12] = [
    "content-type",
    "accept",
    "authorization",
    "x-ds-api-key",
    "mcp-protocol-version",
    "mcp-method",
    "mcp-name",
    "x-mcp-toolsets",
    "x-mcp-tools",
    "x-mcp-readonly",
    "x-request-id",
    "last-event-id",
];
/// The family of per-argument headers (`Mcp-Param-{name}`), allowed by prefix.
const ALLOWED_REQUEST_HEADER_PREFIX: &str = "mcp-param-";
/// Answer headers a page's script may read.
const EXPOSED_HEADERS: [&str; 4] = ["www-authenticate", "x-request-id", "retry-after", "mcp-protocol-version"];

/// The browser origins the operator allows.
#[derive(Debug, Clone)]
pub(super) struct Origins {
    any: bool,
    allowed: Arc<[AllowedOrigin]>,
}

impl Origins {
    /// Loopback origins plus `extra` (`*` among them allows any origin).
    pub(super) fn new(extra: &[String]) -> Self {
        let any = extra.iter().any(|o| o.trim() == "*");
        let allowed = LOOPBACK_ORIGINS.iter().copied().chain(extra.iter().map(String::as_str)).filter_map(AllowedOrigin::parse).collect();
        Origins { any, allowed }
    }

    /// Whether a page of `origin` (the `Origin` header's value) may call.
    pub(super) fn allows(&self, origin: &str) -> bool {
        self.any || Origin::parse(origin).is_some_and(|o| self.allowed.iter().any(|a| a.matches(&o)))
    }
}

/// A parsed `Origin` value.
#[derive(Debug, PartialEq, Eq)]
enum Origin {
    /// `null`: a sandboxed or file page.
    Null,
    Tuple {
        scheme: String,
        host: String,
        port: Option<u16>,
    },
}

impl Origin {
    fn parse(value: &str) -> Option<Origin> {
        let value = value.trim();
        if value.eq_ignore_ascii_case("null") {
            return Some(Origin::Null);
        }
        let uri: Uri = value.parse().ok()?;
        let authority = uri.authority()?;
        Some(Origin::Tuple {
            scheme: uri.scheme_str()?.to_ascii_lowercase(),
            host: authority.host().trim_matches(['[', ']']).to_ascii_lowercase(),
            port: authority.port_u16(),
        })
    }
}

/// One allow-list entry, matched as rmcp's Origin check matches it: `:*` is
/// any port, no port is any port, an explicit port also matches the
/// scheme's default port left out of the `Origin` value.
#[derive(Debug)]
struct AllowedOrigin {
    origin: Origin,
    any_port: bool,
}

impl AllowedOrigin {
    fn parse(entry: &str) -> Option<AllowedOrigin> {
        let entry = entry.trim();
        match entry.strip_suffix(":*") {
            Some(base) => match Origin::parse(base)? {
                origin @ Origin::Tuple { port: None, .. } => Some(AllowedOrigin { origin, any_port: true }),
                _ => None,
            },
            None => {
                let origin = Origin::parse(entry)?;
                let any_port = matches!(origin, Origin::Tuple { port: None, .. });
                Some(AllowedOrigin { origin, any_port })
            }
        }
    }

    fn matches(&self, origin: &Origin) -> bool {
        match (&self.origin, origin) {
            (Origin::Null, Origin::Null) => true,
            (Origin::Tuple { scheme, host, port }, Origin::Tuple { scheme: s, host: h, port: p }) => {
                let default_port = match s.as_str() {
                    "http" => Some(80),
                    "https" => Some(443),
                    _ => None,
                };
                scheme == s && host == h && (self.any_port || *port == p.or(default_port))
            }
            _ => false,
        }
    }
}

/// Opens `router`'s routes to pages of allowed origins: answers their CORS
/// preflights (`methods` are what the routes serve) and marks their answers
/// readable; refuses every other origin with 403, preflight included.
pub(super) fn for_browsers<S: Clone + Send + Sync + 'static>(router: Router<S>, origins: &Origins, methods: &[Method]) -> Router<S> {
    let allowed = origins.clone();
    let cors = CorsLayer::new()
        .allow_origin(AllowOrigin::predicate(move |origin: &HeaderValue, _| origin.to_str().is_ok_and(|o| allowed.allows(o))))
        .allow_methods(AllowMethods::list(methods.iter().cloned()))
        // Mirrors what the preflight asks for after `check_origin` has cut
        // it down to the allowed headers (the `Mcp-Param-*` family has no
        // fixed list to send).
        .allow_headers(AllowHeaders::mirror_request())
        .expose_headers(ExposeHeaders::list(EXPOSED_HEADERS.map(header::HeaderName::from_static)))
        .max_age(Duration::from_secs(600));
    router.layer(cors).layer(middleware::from_fn_with_state(origins.clone(), check_origin))
}

/// Refuses pages of other origins (403, a JSON-RPC error) and keeps only
/// allowed names in a preflight's `Access-Control-Request-Headers`.
async fn check_origin(State(origins): State<Origins>, mut request: Request, next: Next) -> Response {
    let Some(origin) = request.headers().get(header::ORIGIN) else { return next.run(request).await };
    let origin = origin.to_str().unwrap_or("(not text)").to_owned();
    if !origins.allows(&origin) {
        return jsonrpc_error(StatusCode::FORBIDDEN, super::errors::INVALID_REQUEST, &origin_refused(&origin));
    }
    if request.method() == Method::OPTIONS
        && let Some(asked) = request.headers().get(header::ACCESS_CONTROL_REQUEST_HEADERS).and_then(|v| v.to_str().ok())
    {
        let kept: Vec<String> = asked.split(',').map(|h| h.trim().to_ascii_lowercase()).filter(|h| is_allowed_request_header(h)).collect();
        match HeaderValue::from_str(&kept.join(",")) {
            Ok(value) if !kept.is_empty() => request.headers_mut().insert(header::ACCESS_CONTROL_REQUEST_HEADERS, value),
            _ => request.headers_mut().remove(header::ACCESS_CONTROL_REQUEST_HEADERS),
        };
    }
    next.run(request).await
}

fn is_allowed_request_header(name: &str) -> bool {
    ALLOWED_REQUEST_HEADERS.contains(&name) || name.strip_prefix(ALLOWED_REQUEST_HEADER_PREFIX).is_some_and(|rest| !rest.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_match_like_the_mcp_origin_check() {
        let origins = Origins::new(&["https://app.example.com:443".into(), "http://127.0.0.1:9000".into(), "https://any.example".into()]);
        for allowed in [
            "http://localhost:3000",
            "http://[::1]:8080",
            "https://127.0.0.1:1",
            "https://app.example.com",
            "https://app.example.com:443",
            "https://any.example:8443",
            "HTTPS://APP.EXAMPLE.COM",
        ] {
            assert!(origins.allows(allowed), "{allowed}");
        }
        for refused in [
            "https://evil.example",
            "http://app.example.com",
            "https://app.example.com:8443",
            "null",
            "",
            "not a url",
            "http://localhost.evil:80",
        ] {
            assert!(!origins.allows(refused), "{refused}");
        }
        assert!(Origins::new(&["*".into()]).allows("https://evil.example"));
    }

    #[test]
    fn request_headers_are_the_listed_ones_and_the_param_family() {
        for name in ["content-type", "mcp-protocol-version", "mcp-param-purchase_id", "x-mcp-toolsets", "last-event-id"] {
            assert!(is_allowed_request_header(name), "{name}");
        }
        for name in ["cookie", "x-forwarded-for", "mcp-param-", "mcp-params"] {
            assert!(!is_allowed_request_header(name), "{name}");
        }
    }
}
