//! Client ID Metadata Documents: a client whose id is an https URL (claude.ai's
//! is `https://claude.ai/oauth/mcp-oauth-client-metadata`) publishes its name and
//! redirect URIs there, and the server fetches them — under SSRF rules, since the
//! URL comes from whoever opens `/authorize`.
//!
//! Owns: the fetch rules (https only; every resolved address public, checked
//! after resolution and then pinned so a second lookup cannot change it; no
//! redirects; at most 5 KB; at most 5 s; `client_id` equal to the URL) and a
//! short in-memory cache (a cache only: any replica can fetch again).
//! Must not touch: the redirect rules (see `clients.rs`).

use super::clients::KnownClient;
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

const MAX_BYTES: usize = 5 * 1024;
const TIMEOUT: Duration = Duration::from_secs(5);
const CACHE_TTL: Duration = Duration::from_secs(300);
const CACHE_ENTRIES: usize = 1000;

/// Fetches and caches client metadata documents.
#[derive(Debug)]
pub struct Documents {
    /// Tests only: let documents live on loopback over http.
    allow_loopback: bool,
    cache: Mutex<HashMap<String, (Instant, KnownClient)>>,
}

impl Documents {
    /// `allow_loopback` is for tests, which serve documents on 127.0.0.1.
    pub fn new(allow_loopback: bool) -> Self {
        Documents { allow_loopback, cache: Mutex::default() }
    }

    /// Whether a client id is a metadata document URL (https with a path;
    /// in tests also http on loopback). Anything else is looked up elsewhere.
    pub fn describes(&self, client_id: &str) -> bool {
        url::Url::parse(client_id).is_ok_and(|u| {
            let https = u.scheme() == "https" || (self.allow_loopback && u.scheme() == "http");
            https && u.path() != "/" && !u.path().is_empty()
        })
    }

    /// The client the document at `client_id` describes, or why not.
    pub async fn client(&self, client_id: &str) -> Result<KnownClient, String> {
        if let Some((at, client)) = self.cache.lock().unwrap_or_else(|e| e.into_inner()).get(client_id)
            && at.elapsed() < CACHE_TTL
        {
            return Ok(client.clone());
        }
        let client = self.fetch(client_id).await?;
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        if cache.len() >= CACHE_ENTRIES {
            cache.retain(|_, (at, _)| at.elapsed() < CACHE_TTL);
            if cache.len() >= CACHE_ENTRIES {
                cache.clear();
            }
        }
        cache.insert(client_id.to_owned(), (Instant::now(), client.clone()));
        Ok(client)
    }

    async fn fetch(&self, client_id: &str) -> Result<KnownClient, String> {
        let url = url::Url::parse(client_id).map_err(|_| "the client id is not a URL".to_owned())?;
        let host = url.host_str().ok_or("the client id URL has no host")?.trim_matches(['[', ']']).to_owned();
        let loopback_test = self.allow_loopback && url.scheme() == "http";
        if url.scheme() != "https" && !loopback_test {
            return Err("client metadata documents must be served over https".into());
        }
        if !url.username().is_empty() || url.password().is_some() || url.fragment().is_some() {
            return Err("the client id URL must not carry credentials or a fragment".into());
        }
        let port = url.port_or_known_default().unwrap_or(443);
        let addrs: Vec<SocketAddr> = tokio::time::timeout(TIMEOUT, tokio::net::lookup_host((host.as_str(), port)))
            .await
            .map_err(|_| format!("resolving {host} took too long"))?
            .map_err(|_| format!("{host} does not resolve"))?
            .collect();
        let Some(first) = addrs.first().copied() else { return Err(format!("{host} does not resolve")) };
        if let Some(bad) = addrs.iter().find(|a| !(is_public(a.ip()) || (self.allow_loopback && a.ip().is_loopback()))) {
            return Err(format!("{host} resolves to {}, which is not a public address", bad.ip()));
        }
        // Pinned to the address just checked: no second lookup can point it elsewhere.
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(TIMEOUT)
            .resolve(&host, first)
            .user_agent(concat!("digistore24-mcp/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        let mut response = http
            .get(url.as_str())
            .header("accept", "application/json")
            .send()
            .await
            .map_err(|_| format!("{client_id} could not be fetched"))?;
        if !response.status().is_success() {
            return Err(format!("{client_id} answered HTTP {} (redirects are not followed)", response.status().as_u16()));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|_| format!("reading {client_id} failed"))? {
            body.extend_from_slice(&chunk);
            if body.len() > MAX_BYTES {
                return Err(format!("{client_id} is larger than {MAX_BYTES} bytes"));
            }
        }
        parse(client_id, &body)
    }
}

fn parse(client_id: &str, body: &[u8]) -> Result<KnownClient, String> {
    let doc: serde_json::Value = serde_json::from_slice(body).map_err(|_| "the client metadata document is not JSON".to_owned())?;
    if doc.get("client_id").and_then(|v| v.as_str()) != Some(client_id) {
        return Err("the document's client_id is not its own URL".into());
    }
    let redirect_uris: Vec<String> = doc
        .get("redirect_uris")
        .and_then(|v| v.as_array())
        .map(|uris| uris.iter().filter_map(|u| u.as_str().map(str::to_owned)).collect())
        .unwrap_or_default();
    if redirect_uris.is_empty() {
        return Err("the document lists no redirect_uris".into());
    }
    let method = doc.get("token_endpoint_auth_method").and_then(|v| v.as_str()).unwrap_or("none");
    if method != "none" {
        return Err(format!("token_endpoint_auth_method {method} is not supported for metadata documents (use none)"));
    }
    let name = doc.get("client_name").and_then(|v| v.as_str()).map(|n| n.chars().take(100).collect());
    Ok(KnownClient { client_id: client_id.to_owned(), name, redirect_uris, confidential: false })
}

/// Whether an address is on the public internet (not private, loopback,
/// link-local, shared, documentation, multicast or reserved).
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_public_v4(v4),
            None => is_public_v6(v6),
        },
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_private()
        || ip.is_loopback()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_documentation()
        || ip.is_unspecified()
        || ip.is_multicast()
        || a == 0
        || (a == 100 && (64..128).contains(&b))
        || (a == 192 && b == 0 && c == 0)
        || (a == 198 && (18..20).contains(&b))
        || a >= 240)
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    !(ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || (first & 0xfe00) == 0xfc00
        || (first & 0xffc0) == 0xfe80
        || (first == 0x2001 && ip.segments()[1] == 0x0db8)
        || (first == 0x0064 && ip.segments()[1] == 0xff9b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_public_addresses_pass() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["1.1.1.1", "160.79.104.10", "2606:4700::1111"] {
            assert!(is_public(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn the_document_must_name_itself_and_list_redirects() {
        let id = "https://claude.ai/oauth/mcp-oauth-client-metadata";
        let good = format!(r#"{{"client_id":"{id}","client_name":"Claude","redirect_uris":["https://claude.ai/api/mcp/auth_callback"]}}"#);
        let client = parse(id, good.as_bytes()).unwrap();
        assert_eq!(client.name.as_deref(), Some("Claude"));
        assert!(client.allows_redirect("https://claude.ai/api/mcp/auth_callback"));
        assert!(parse("https://evil.example/meta", good.as_bytes()).is_err(), "client_id must equal the URL");
        assert!(parse(id, format!(r#"{{"client_id":"{id}","redirect_uris":[]}}"#).as_bytes()).is_err());
        let secret =
            format!(r#"{{"client_id":"{id}","redirect_uris":["https://a/cb"],"token_endpoint_auth_method":"client_secret_basic"}}"#);
        assert!(parse(id, secret.as_bytes()).is_err());
    }

    #[tokio::test]
    async fn a_document_on_loopback_is_refused_outside_tests() {
        let documents = Documents::new(false);
        assert!(documents.describes("https://claude.ai/oauth/mcp-oauth-client-metadata"));
        assert!(!documents.describes("https://claude.ai/"), "a document URL has a path");
        assert!(!documents.describes("http://127.0.0.1:9/meta"));
        assert!(!documents.describes("ds24mcp_cl_k1.abc"));
        let refused = documents.client("https://127.0.0.1:9/meta").await.unwrap_err();
        assert!(refused.contains("not a public address"), "{refused}");
        let refused = documents.client("https://localhost:9/meta").await.unwrap_err();
        assert!(refused.contains("not a public address"), "{refused}");
        let refused = documents.client("http://127.0.0.1:9/meta").await.unwrap_err();
        assert!(refused.contains("https"), "{refused}");
    }
}
