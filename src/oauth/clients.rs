//! Which clients may sign in and where they may be sent back: client ids
//! we issued (a sealed [`RegisteredClient`]), clients the operator
//! registered (`--oauth-client`), and the redirect URI rules (exact match;
//! loopback on any port, RFC 8252 §7.3; https; operator-allowed private schemes).
//!
//! Owns: those rules. Must not touch: sealing details or HTTP answers.

use super::artifacts::RegisteredClient;
use super::seal::{KeyRing, Kind};

/// A client the operator registered: `CLIENT_ID=REDIRECT_URI[;REDIRECT_URI…]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreRegistered {
    pub client_id: String,
    pub redirect_uris: Vec<String>,
}

impl std::str::FromStr for PreRegistered {
    type Err = String;

    fn from_str(spec: &str) -> Result<Self, String> {
        let (client_id, uris) = spec.split_once('=').ok_or("--oauth-client: expected CLIENT_ID=REDIRECT_URI[;REDIRECT_URI…]")?;
        let client_id = client_id.trim();
        if client_id.is_empty() {
            return Err("--oauth-client: the client id is empty (CLIENT_ID=REDIRECT_URI)".into());
        }
        let redirect_uris: Vec<String> = uris.split(';').map(str::trim).filter(|u| !u.is_empty()).map(str::to_owned).collect();
        if redirect_uris.is_empty() {
            return Err(format!("--oauth-client {client_id}: give at least one redirect URI (CLIENT_ID=REDIRECT_URI)"));
        }
        for uri in &redirect_uris {
            url::Url::parse(uri).map_err(|e| format!("--oauth-client {client_id}: redirect URI {uri}: {e}"))?;
        }
        Ok(PreRegistered { client_id: client_id.to_owned(), redirect_uris })
    }
}

/// A client known at `/authorize` and `/token`.
#[derive(Debug, Clone)]
pub struct KnownClient {
    pub client_id: String,
    pub name: Option<String>,
    pub redirect_uris: Vec<String>,
    /// Whether `/token` must see the client secret.
    pub confidential: bool,
}

/// Finds a client: one we issued (opens as a sealed registration) or one
/// the operator registered.
pub fn find(ring: &KeyRing, registered: &[PreRegistered], client_id: &str) -> Option<KnownClient> {
    if client_id.starts_with(Kind::Client.prefix()) {
        let client: RegisteredClient = ring.open(Kind::Client, client_id, super::now()).ok()?;
        return Some(KnownClient {
            client_id: client_id.to_owned(),
            name: client.client_name,
            redirect_uris: client.redirect_uris,
            confidential: client.auth_method != "none",
        });
    }
    registered.iter().find(|c| c.client_id == client_id).map(|c| KnownClient {
        client_id: c.client_id.clone(),
        name: None,
        redirect_uris: c.redirect_uris.clone(),
        confidential: false,
    })
}

impl KnownClient {
    /// Whether `redirect_uri` is one of the client's, exactly; a loopback
    /// http redirect matches on any port (native apps pick a free one).
    pub fn allows_redirect(&self, redirect_uri: &str) -> bool {
        self.redirect_uris.iter().any(|registered| registered == redirect_uri || same_but_loopback_port(registered, redirect_uri))
    }
}

fn same_but_loopback_port(registered: &str, given: &str) -> bool {
    let (Ok(registered), Ok(given)) = (url::Url::parse(registered), url::Url::parse(given)) else { return false };
    registered.scheme() == "http"
        && given.scheme() == "http"
        && is_loopback_host(registered.host_str().unwrap_or(""))
        && registered.host_str() == given.host_str()
        && registered.path() == given.path()
        && registered.query() == given.query()
        && given.fragment().is_none()
}

/// `localhost`, `127.0.0.1` (any 127/8) or `::1`.
pub fn is_loopback_host(host: &str) -> bool {
    let host = host.trim_matches(['[', ']']);
    host.eq_ignore_ascii_case("localhost") || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Why a redirect URI cannot be registered; `None` when it can.
pub fn redirect_problem(uri: &str, private_schemes: &[String]) -> Option<String> {
    let Ok(url) = url::Url::parse(uri) else { return Some(format!("{uri} is not an absolute URI")) };
    if url.fragment().is_some() {
        return Some(format!("{uri} has a fragment"));
    }
    match url.scheme() {
        "https" if url.host_str().is_some() => None,
        "http" if is_loopback_host(url.host_str().unwrap_or("")) => None,
        "http" => Some(format!("{uri}: plain http is allowed on loopback addresses only")),
        scheme if private_schemes.iter().any(|s| s.eq_ignore_ascii_case(scheme)) => None,
        scheme => Some(format!(
            "{uri}: the scheme {scheme} is not allowed; use https, a loopback http address, or ask the operator to allow it (--oauth-redirect-scheme)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(uris: &[&str]) -> KnownClient {
        KnownClient { client_id: "c".into(), name: None, redirect_uris: uris.iter().map(|u| u.to_string()).collect(), confidential: false }
    }

    #[test]
    fn redirects_match_exactly_except_the_loopback_port() {
        let c = client(&["https://claude.ai/api/mcp/auth_callback", "http://127.0.0.1/callback"]);
        assert!(c.allows_redirect("https://claude.ai/api/mcp/auth_callback"));
        assert!(!c.allows_redirect("https://claude.ai/api/mcp/auth_callback/"));
        assert!(!c.allows_redirect("https://claude.ai/api/mcp/auth_callback?x=1"));
        assert!(!c.allows_redirect("https://evil.example/api/mcp/auth_callback"));
        assert!(c.allows_redirect("http://127.0.0.1:53682/callback"));
        assert!(!c.allows_redirect("http://127.0.0.1:53682/other"));
        assert!(!c.allows_redirect("http://localhost:53682/callback"), "the host stays the same");
    }

    #[test]
    fn registrable_redirects_are_https_loopback_or_allowed_schemes() {
        let schemes = vec!["cursor".to_owned()];
        assert_eq!(redirect_problem("https://chatgpt.com/connector_platform_oauth_redirect", &schemes), None);
        assert_eq!(redirect_problem("http://localhost:7777/oauth/callback", &schemes), None);
        assert_eq!(redirect_problem("http://[::1]:7777/cb", &schemes), None);
        assert_eq!(redirect_problem("cursor://anysphere.cursor-mcp/oauth/callback", &schemes), None);
        assert!(redirect_problem("http://example.com/cb", &schemes).is_some());
        assert!(redirect_problem("javascript:alert(1)", &schemes).is_some());
        assert!(redirect_problem("vscode://x/cb", &schemes).is_some());
        assert!(redirect_problem("https://a.example/cb#frag", &schemes).is_some());
    }

    #[test]
    fn operator_clients_parse() {
        let c: PreRegistered = "my-app=https://app.example/cb;http://127.0.0.1/cb".parse().unwrap();
        assert_eq!(c.client_id, "my-app");
        assert_eq!(c.redirect_uris.len(), 2);
        assert!("my-app".parse::<PreRegistered>().is_err());
        assert!("my-app=not a url".parse::<PreRegistered>().is_err());
    }
}
