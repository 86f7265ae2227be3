//! OAuth end to end against the in-process sandbox: registration, the
//! sign-in form, the token endpoint, tokens on /mcp, and every refusal the
//! issue lists (each a test that fails if the check it names is removed).

mod common;

use common::{MCP_HEADERS, post_raw};
use digistore24_mcp::ds24::{ApiKey, Client, ClientConfig};
use digistore24_mcp::http::{HttpConfig, Shutdown, router, serve};
use digistore24_mcp::mcp::{ConfirmPolicy, Ds24Server, ServerSettings};
use digistore24_mcp::oauth::artifacts::{Access, Code, Grant, Refresh, SealedKey};
use digistore24_mcp::oauth::{self, KeyRing, Kind, Ledger, OAuth, OAuthConfig, Scope};
use digistore24_mcp::sandbox::{self, SandboxConfig};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::sync::Arc;
use std::time::Duration;

const RING: &str = "k1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";
const OTHER_RING: &str = "k2:HxwdHh8AAQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRo";
const REDIRECT: &str = "https://claude.ai/api/mcp/auth_callback";
const VERIFIER: &str = "a-verifier-of-enough-length-0123456789-abcdefghijkl";
const TENANT: &str = "sandbox-oauth-tenant";

struct Setup {
    /// The public URL (the issuer): the first replica's address.
    base: String,
    /// Where this replica listens (the same as `base` for the first).
    at: String,
    sandbox: String,
    _shutdown: Shutdown,
}

impl Drop for Setup {
    fn drop(&mut self) {
        self._shutdown.stop_accepting.cancel();
        self._shutdown.close_connections.cancel();
        self._shutdown.hard_stop.cancel();
    }
}

/// `serve --sandbox --oauth --public-url http://127.0.0.1:PORT` in process.
async fn start(ring: &str, access_ttl: Duration) -> Setup {
    start_replicas(ring, access_ttl, 1).await.pop().unwrap()
}

async fn start_replicas(ring: &str, access_ttl: Duration, count: usize) -> Vec<Setup> {
    start_with_ledger(ring, access_ttl, count, Ledger::default()).await
}

/// `count` replicas sharing one sandbox, one public URL (the first's), one key ring and one ledger.
async fn start_with_ledger(ring: &str, access_ttl: Duration, count: usize, ledger: Ledger) -> Vec<Setup> {
    let config = SandboxConfig { extra_keys: vec![TENANT.into()], ..SandboxConfig::default() };
    let (sandbox_addr, _task) = sandbox::spawn(config, ([127, 0, 0, 1], 0).into()).await.unwrap();
    let sandbox = format!("http://{sandbox_addr}/api/call");
    let mut listeners = Vec::new();
    for _ in 0..count {
        listeners.push(tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap());
    }
    let base = format!("http://{}", listeners[0].local_addr().unwrap());
    let mut replicas = Vec::new();
    for listener in listeners {
        let at = format!("http://{}", listener.local_addr().unwrap());
        let client = Client::new(ClientConfig { base_url: sandbox.clone(), timeout: Duration::from_secs(10), observer: None }).unwrap();
        let oauth = OAuth::new(
            OAuthConfig {
                public_url: base.clone(),
                ring: KeyRing::parse(ring).unwrap(),
                access_ttl,
                refresh_ttl: oauth::REFRESH_TTL,
                grant_ttl: oauth::GRANT_TTL,
                redirect_schemes: vec!["cursor".into()],
                clients: vec![],
                sandbox_hint: true,
                cimd_allow_loopback: true,
                developer_key: ApiKey::new(sandbox::WRITABLE_KEY),
                ledger: ledger.clone(),
            },
            client.clone(),
        )
        .unwrap();
        // The sandbox's default key is set, as with --sandbox: OAuth must still challenge.
        let settings = ServerSettings {
            default_key: ApiKey::new(sandbox::WRITABLE_KEY),
            confirm: ConfirmPolicy::Off,
            ..ServerSettings::new(b"0123456789abcdef".to_vec())
        };
        let server = Ds24Server::new(client, settings);
        let shutdown = Shutdown::default();
        let http = HttpConfig { oauth: Some(Arc::new(oauth)), ..HttpConfig::default() };
        let app = router(server, &http, shutdown.hard_stop.clone());
        let stages = shutdown.clone();
        tokio::spawn(async move { serve(listener, app, &stages, None).await });
        replicas.push(Setup { base: base.clone(), at, sandbox: sandbox.clone(), _shutdown: shutdown });
    }
    replicas
}

fn http() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

fn challenge_of(verifier: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

impl Setup {
    async fn register(&self, redirect: &str) -> (u16, Value) {
        let body = json!({"redirect_uris": [redirect], "client_name": "Claude <test>", "token_endpoint_auth_method": "none"});
        let response = http().post(format!("{}/register", self.at)).json(&body).send().await.unwrap();
        (response.status().as_u16(), response.json().await.unwrap())
    }

    async fn client_id(&self) -> String {
        let (status, body) = self.register(REDIRECT).await;
        assert_eq!(status, 201, "{body}");
        body["client_id"].as_str().unwrap().to_owned()
    }

    /// GET /authorize; returns status, Location, the sealed request and the cookie.
    async fn authorize(&self, query: &[(&str, &str)]) -> (u16, Option<String>, String, Option<String>) {
        let query = form_urlencoded::Serializer::new(String::new()).extend_pairs(query).finish();
        let response = http().get(format!("{}/authorize?{query}", self.at)).send().await.unwrap();
        let status = response.status().as_u16();
        let location = response.headers().get("location").map(|v| v.to_str().unwrap().to_owned());
        let cookie = response.headers().get("set-cookie").map(|v| v.to_str().unwrap().split(';').next().unwrap().to_owned());
        let html = response.text().await.unwrap();
        (status, location, html, cookie)
    }

    async fn sign_in_page(&self, client_id: &str, scope: Option<&str>) -> (String, String) {
        let challenge = challenge_of(VERIFIER);
        let resource = format!("{}/mcp", self.base);
        let mut query = vec![
            ("response_type", "code"),
            ("client_id", client_id),
            ("redirect_uri", REDIRECT),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
            ("state", "st<ate>"),
            ("resource", &resource),
        ];
        if let Some(scope) = scope {
            query.push(("scope", scope));
        }
        let (status, _, html, cookie) = self.authorize(&query).await;
        assert_eq!(status, 200, "{html}");
        (hidden_request(&html), cookie.expect("the page sets the sign-in cookie"))
    }

    /// POST /authorize with the key; returns status, Location and body.
    async fn post_sign_in(&self, request: &str, cookie: Option<&str>, key: &str) -> (u16, Option<String>, String) {
        let mut post = http().post(format!("{}/authorize", self.at)).header("content-type", "application/x-www-form-urlencoded");
        if let Some(cookie) = cookie {
            post = post.header("cookie", cookie);
        }
        let body = form_urlencoded::Serializer::new(String::new()).append_pair("request", request).append_pair("api_key", key).finish();
        let response = post.body(body).send().await.unwrap();
        let status = response.status().as_u16();
        let location = response.headers().get("location").map(|v| v.to_str().unwrap().to_owned());
        (status, location, response.text().await.unwrap())
    }

    /// The whole sign-in up to the code.
    async fn code(&self, client_id: &str, key: &str, scope: Option<&str>) -> String {
        let (request, cookie) = self.sign_in_page(client_id, scope).await;
        let (status, location, body) = self.post_sign_in(&request, Some(&cookie), key).await;
        assert_eq!(status, 303, "{body}");
        let location = url::Url::parse(&location.unwrap()).unwrap();
        assert!(location.as_str().starts_with(REDIRECT));
        let pairs: std::collections::HashMap<_, _> = location.query_pairs().into_owned().collect();
        assert_eq!(pairs["state"], "st<ate>");
        assert_eq!(pairs["iss"], self.base);
        pairs["code"].clone()
    }

    async fn token(&self, form: &[(&str, &str)]) -> (u16, reqwest::header::HeaderMap, Value) {
        self.token_at("/token", form).await
    }

    /// A form POST to `/token` or `/revoke`.
    async fn token_at(&self, path: &str, form: &[(&str, &str)]) -> (u16, reqwest::header::HeaderMap, Value) {
        let body = form_urlencoded::Serializer::new(String::new()).extend_pairs(form).finish();
        let response = http()
            .post(format!("{}{path}", self.at))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        (status, headers, response.json().await.unwrap())
    }

    async fn exchange(&self, client_id: &str, code: &str) -> (u16, Value) {
        let (status, _, body) = self
            .token(&[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("client_id", client_id),
                ("redirect_uri", REDIRECT),
                ("code_verifier", VERIFIER),
            ])
            .await;
        (status, body)
    }

    async fn tokens(&self, key: &str, scope: Option<&str>) -> (String, Value) {
        let client_id = self.client_id().await;
        let code = self.code(&client_id, key, scope).await;
        let (status, body) = self.exchange(&client_id, &code).await;
        assert_eq!(status, 200, "{body}");
        (client_id, body)
    }

    /// A raw tools/call (or tools/list when `tool` is None) at `path` with a bearer.
    async fn mcp(&self, path: &str, bearer: Option<&str>, tool: Option<&str>) -> (u16, reqwest::header::HeaderMap, String) {
        let body = match tool {
            Some(tool) => json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": tool, "arguments": {}}}),
            None => json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}),
        };
        let mut headers: Vec<(&str, &str)> = MCP_HEADERS.to_vec();
        headers.push(("mcp-protocol-version", "2025-06-18"));
        let auth = bearer.map(|b| format!("Bearer {b}"));
        if let Some(auth) = &auth {
            headers.push(("authorization", auth));
        }
        post_raw(&format!("{}{path}", self.at), &headers, &body.to_string()).await
    }

    fn grant(&self, key: &str, scope: Scope) -> Grant {
        Grant {
            key: SealedKey::new(&ApiKey::new(key).unwrap()),
            scope,
            resource: format!("{}/mcp", self.base),
            client_id: "ignored".into(),
            grant_id: "test".into(),
            grant_exp: oauth::now() + 3600,
        }
    }
}

fn hidden_request(html: &str) -> String {
    let start = html.find("name=\"request\" value=\"").expect("the form carries the sealed request") + 22;
    html[start..start + html[start..].find('"').unwrap()].to_owned()
}

fn www_authenticate(headers: &reqwest::header::HeaderMap) -> String {
    headers.get("www-authenticate").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default()
}

#[tokio::test]
async fn the_whole_flow_carries_the_pasted_key_to_digistore24_and_refreshes() {
    let s = start(RING, oauth::ACCESS_TTL).await;
    // Discovery: the challenge points at absolute metadata URLs.
    let (status, headers, _) = s.mcp("/mcp", None, None).await;
    assert_eq!(status, 401);
    let challenge = www_authenticate(&headers);
    assert!(challenge.contains(&format!("resource_metadata=\"{}/.well-known/oauth-protected-resource/mcp\"", s.base)), "{challenge}");
    let prm: Value = http().get(format!("{}/.well-known/oauth-protected-resource/mcp", s.base)).send().await.unwrap().json().await.unwrap();
    assert_eq!(prm["resource"], format!("{}/mcp", s.base));
    assert_eq!(prm["authorization_servers"][0], s.base);
    let asm: Value = http().get(format!("{}/.well-known/oauth-authorization-server", s.base)).send().await.unwrap().json().await.unwrap();
    assert_eq!(asm["issuer"], s.base);
    assert_eq!(asm["code_challenge_methods_supported"], json!(["S256"]));
    let oidc: Value = http().get(format!("{}/.well-known/openid-configuration", s.base)).send().await.unwrap().json().await.unwrap();
    assert_eq!(oidc, asm);

    let (client_id, tokens) = s.tokens(TENANT, None).await;
    let access = tokens["access_token"].as_str().unwrap();
    assert!(access.starts_with("ds24mcp_at_k1."), "{access}");
    assert!(!access.contains(TENANT));
    assert_eq!(tokens["scope"], "digistore24:read digistore24:write");
    assert_eq!(tokens["expires_in"], 86400);

    // The sandbox answers getUserInfo for the tenant's own account: the key inside the token is the pasted one.
    let direct: Value =
        http().post(format!("{}/getUserInfo", s.sandbox)).header("x-ds-api-key", TENANT).send().await.unwrap().json().await.unwrap();
    let (status, _, body) = s.mcp("/mcp", Some(access), Some("getUserInfo")).await;
    assert_eq!(status, 200, "{body}");
    let answer: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(answer["result"]["structuredContent"]["user_id"], direct["data"]["user_id"], "{body}");
    assert_ne!(direct["data"]["user_id"], Value::Null);

    // Refresh rotates, and the previous refresh token keeps working.
    let first = tokens["refresh_token"].as_str().unwrap();
    let (status, headers, refreshed) =
        s.token(&[("grant_type", "refresh_token"), ("refresh_token", first), ("client_id", &client_id)]).await;
    assert_eq!(status, 200, "{refreshed}");
    assert_eq!(headers["cache-control"], "no-store");
    assert_ne!(refreshed["refresh_token"].as_str().unwrap(), first);
    let (status, _, again) = s.token(&[("grant_type", "refresh_token"), ("refresh_token", first), ("client_id", &client_id)]).await;
    assert_eq!(status, 200, "{again}");
    let (status, _, body) = s.mcp("/mcp", refreshed["access_token"].as_str(), Some("getUserInfo")).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn raw_keys_work_as_before_and_never_get_a_challenge() {
    let s = start(RING, oauth::ACCESS_TTL).await;
    let (status, _, body) = s.mcp("/mcp", Some(sandbox::WRITABLE_KEY), Some("ping")).await;
    assert_eq!(status, 200, "{body}");
    // A wrong raw key is a tool error (as today), not a 401 that would push the client into OAuth.
    let (status, _, body) = s.mcp("/mcp", Some("not-a-real-key"), Some("ping")).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"isError\":true"), "{body}");
    let headers = [MCP_HEADERS[0], MCP_HEADERS[1], ("x-ds-api-key", sandbox::READONLY_KEY), ("mcp-protocol-version", "2025-06-18")];
    let list = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}).to_string();
    let (status, _, _) = post_raw(&format!("{}/mcp", s.base), &headers, &list).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn a_read_only_key_gets_a_read_grant_that_sees_read_tools_and_gets_403_on_writes() {
    let s = start(RING, oauth::ACCESS_TTL).await;
    let (_, tokens) = s.tokens(sandbox::READONLY_KEY, Some("digistore24:read digistore24:write")).await;
    assert_eq!(tokens["scope"], "digistore24:read");
    let access = tokens["access_token"].as_str().unwrap();
    let (status, _, body) = s.mcp("/mcp", Some(access), None).await;
    assert_eq!(status, 200);
    let list: Value = serde_json::from_str(&body).unwrap();
    let names: Vec<&str> = list["result"]["tools"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert!(names.contains(&"listPurchases") && !names.contains(&"refundPurchase"), "{names:?}");
    let (status, headers, body) = s.mcp("/mcp", Some(access), Some("createVoucher")).await;
    assert_eq!(status, 403, "{body}");
    let challenge = www_authenticate(&headers);
    assert!(challenge.contains("error=\"insufficient_scope\"") && challenge.contains("digistore24:write"), "{challenge}");
    // A write key asked for read only gets read only too.
    let (_, tokens) = s.tokens(sandbox::WRITABLE_KEY, Some("digistore24:read")).await;
    assert_eq!(tokens["scope"], "digistore24:read");
}

#[tokio::test]
async fn a_wrong_key_shows_the_error_on_the_page_and_issues_no_code() {
    let s = start(RING, oauth::ACCESS_TTL).await;
    let client_id = s.client_id().await;
    let (request, cookie) = s.sign_in_page(&client_id, None).await;
    let (status, location, html) = s.post_sign_in(&request, Some(&cookie), "sandbox-no-such-key").await;
    assert_eq!(status, 400);
    assert!(location.is_none());
    assert!(html.contains("did not accept this API key"), "{html}");
    // Without the cookie set with the page, the form is refused (CSRF).
    let (status, location, _) = s.post_sign_in(&request, None, sandbox::WRITABLE_KEY).await;
    assert_eq!(status, 403);
    assert!(location.is_none());
    let (status, location, _) = s.post_sign_in(&request, Some("ds24mcp_signin=forged"), sandbox::WRITABLE_KEY).await;
    assert_eq!((status, location), (403, None));
}

#[tokio::test]
async fn bad_clients_and_redirects_get_an_error_page_never_a_redirect() {
    let s = start(RING, oauth::ACCESS_TTL).await;
    let client_id = s.client_id().await;
    let challenge = challenge_of(VERIFIER);
    let base = |client: &str, redirect: &str| {
        vec![
            ("response_type", "code".to_owned()),
            ("client_id", client.to_owned()),
            ("redirect_uri", redirect.to_owned()),
            ("code_challenge", challenge.clone()),
            ("code_challenge_method", "S256".to_owned()),
        ]
    };
    for (client, redirect) in [
        (client_id.as_str(), "https://evil.example/callback"),
        (client_id.as_str(), "https://claude.ai/api/mcp/auth_callback/extra"),
        ("ds24mcp_cl_k1.forged", REDIRECT),
        ("unknown-client", REDIRECT),
    ] {
        let query = base(client, redirect);
        let query: Vec<(&str, &str)> = query.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (status, location, html, _) = s.authorize(&query).await;
        assert_eq!(status, 400, "{client} {redirect}");
        assert!(location.is_none(), "{client} {redirect}");
        assert!(html.contains("cannot continue"), "{html}");
    }
    // With a trusted redirect, a missing PKCE goes back to the client as an OAuth error.
    let (status, location, _, _) =
        s.authorize(&[("response_type", "code"), ("client_id", &client_id), ("redirect_uri", REDIRECT), ("state", "x")]).await;
    assert_eq!(status, 303);
    let location = location.unwrap();
    assert!(location.starts_with(REDIRECT) && location.contains("error=invalid_request"), "{location}");
    // Registration refuses redirects that are neither https, loopback nor an allowed scheme.
    for bad in ["http://example.com/cb", "javascript:alert(1)", "vscode://cb"] {
        let (status, body) = s.register(bad).await;
        assert_eq!(status, 400, "{bad}: {body}");
        assert_eq!(body["error"], "invalid_redirect_uri");
    }
    let (status, _) = s.register("cursor://anysphere.cursor-mcp/oauth/callback").await;
    assert_eq!(status, 201);
    let (status, body) = s.register(&format!("https://claude.ai/{}", "x".repeat(2000))).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_redirect_uri")), "client ids stay short enough for URLs");
}

#[tokio::test]
async fn a_wrong_pkce_verifier_another_client_or_redirect_gets_invalid_grant() {
    let s = start(RING, oauth::ACCESS_TTL).await;
    let client_id = s.client_id().await;
    let code = s.code(&client_id, sandbox::WRITABLE_KEY, None).await;
    let (status, _, body) = s
        .token(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("client_id", &client_id),
            ("code_verifier", "another-verifier-of-enough-length-0123456789-abcdef"),
        ])
        .await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")), "{body}");
    let (status, _, body) = s
        .token(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("client_id", &client_id),
            ("redirect_uri", "https://claude.ai/other"),
            ("code_verifier", VERIFIER),
        ])
        .await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")), "{body}");
    let other_client = s.client_id().await;
    let (status, body) = s.exchange(&other_client, &code).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")), "{body}");
    let (status, _, body) = s.token(&[("grant_type", "authorization_code"), ("code", &code), ("client_id", "nobody")]).await;
    assert_eq!((status, body["error"].as_str()), (401, Some("invalid_client")), "{body}");
    // The right verifier still works (none of the refusals used the code up: there is no store without Redis).
    let (status, body) = s.exchange(&client_id, &code).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn expired_codes_and_tokens_are_refused() {
    let s = start(RING, oauth::ACCESS_TTL).await;
    let ring = KeyRing::parse(RING).unwrap();
    let client_id = s.client_id().await;
    let mut grant = s.grant(sandbox::WRITABLE_KEY, Scope::Write);
    grant.client_id = client_id.clone();
    let code = Code { grant: grant.clone(), redirect_uri: REDIRECT.into(), code_challenge: challenge_of(VERIFIER) };
    let expired_code = ring.seal(Kind::Code, &code, oauth::now() - 1);
    let (status, body) = s.exchange(&client_id, &expired_code).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")), "{body}");
    let fresh_code = ring.seal(Kind::Code, &code, oauth::now() + 60);
    let (status, body) = s.exchange(&client_id, &fresh_code).await;
    assert_eq!(status, 200, "{body}");

    let expired = ring.seal(Kind::Access, &Access { grant: grant.clone() }, oauth::now() - 1);
    let (status, headers, _) = s.mcp("/mcp", Some(&expired), Some("ping")).await;
    assert_eq!(status, 401);
    assert!(www_authenticate(&headers).contains("error=\"invalid_token\""));

    // Refresh after the grant's end: refused even though the refresh token itself is not expired.
    let mut ended = grant;
    ended.grant_exp = oauth::now() - 1;
    let refresh = ring.seal(Kind::Refresh, &Refresh { grant: ended, generation: 0 }, oauth::now() + 3600);
    let (status, _, body) = s.token(&[("grant_type", "refresh_token"), ("refresh_token", &refresh), ("client_id", &client_id)]).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")), "{body}");
}

#[tokio::test]
async fn tampered_dropped_kid_and_foreign_resource_tokens_get_invalid_token() {
    let s = start(RING, oauth::ACCESS_TTL).await;
    let ring = KeyRing::parse(RING).unwrap();
    let good = ring.seal(Kind::Access, &Access { grant: s.grant(sandbox::WRITABLE_KEY, Scope::Write) }, oauth::now() + 60);
    let (status, _, body) = s.mcp("/mcp", Some(&good), Some("ping")).await;
    assert_eq!(status, 200, "{body}");
    // Narrowing paths accept a token for the whole endpoint.
    let (status, _, _) = s.mcp("/mcp/readonly", Some(&good), Some("ping")).await;
    assert_eq!(status, 200);

    let mut tampered = good.clone().into_bytes();
    let at = tampered.len() - 5;
    tampered[at] = if tampered[at] == b'A' { b'B' } else { b'A' };
    let dropped = KeyRing::parse(OTHER_RING).unwrap();
    let old_kid = dropped.seal(Kind::Access, &Access { grant: s.grant(sandbox::WRITABLE_KEY, Scope::Write) }, oauth::now() + 60);
    let mut foreign = s.grant(sandbox::WRITABLE_KEY, Scope::Write);
    foreign.resource = "https://other.example/mcp".into();
    let foreign = ring.seal(Kind::Access, &Access { grant: foreign }, oauth::now() + 60);
    let mut narrow = s.grant(sandbox::WRITABLE_KEY, Scope::Write);
    narrow.resource = format!("{}/mcp/readonly", s.base);
    let narrow = ring.seal(Kind::Access, &Access { grant: narrow }, oauth::now() + 60);
    let code_as_token = ring.seal(Kind::Code, &Access { grant: s.grant(sandbox::WRITABLE_KEY, Scope::Write) }, oauth::now() + 60).replacen(
        Kind::Code.prefix(),
        Kind::Access.prefix(),
        1,
    );
    for (name, token, path) in [
        ("tampered", String::from_utf8(tampered).unwrap(), "/mcp"),
        ("dropped kid", old_kid, "/mcp"),
        ("another resource", foreign, "/mcp"),
        ("narrower resource on the full endpoint", narrow, "/mcp"),
        ("a code passed as a token", code_as_token, "/mcp"),
    ] {
        let (status, headers, body) = s.mcp(path, Some(&token), Some("ping")).await;
        assert_eq!(status, 401, "{name}: {body}");
        let challenge = www_authenticate(&headers);
        assert!(challenge.contains("error=\"invalid_token\"") && challenge.contains("resource_metadata=\"http://"), "{name}: {challenge}");
    }
}

#[tokio::test]
async fn a_key_digistore24_no_longer_accepts_ends_the_token_with_401() {
    let s = start(RING, oauth::ACCESS_TTL).await;
    let ring = KeyRing::parse(RING).unwrap();
    // A token whose key the sandbox does not know: as if the vendor deleted it in Digistore24.
    let revoked = ring.seal(Kind::Access, &Access { grant: s.grant("sandbox-deleted-key", Scope::Write) }, oauth::now() + 60);
    let (status, headers, body) = s.mcp("/mcp", Some(&revoked), Some("ping")).await;
    assert_eq!(status, 401, "{body}");
    let challenge = www_authenticate(&headers);
    assert!(challenge.contains("error=\"invalid_token\"") && challenge.contains("resource_metadata="), "{challenge}");
    assert!(!body.contains("sandbox-deleted-key"), "{body}");
}

#[tokio::test]
async fn metadata_lives_at_the_root_and_for_every_mcp_path() {
    let s = start(RING, oauth::ACCESS_TTL).await;
    for (path, resource) in [
        ("/.well-known/oauth-protected-resource", "/mcp"),
        ("/.well-known/oauth-protected-resource/mcp", "/mcp"),
        ("/.well-known/oauth-protected-resource/mcp/readonly", "/mcp/readonly"),
        ("/.well-known/oauth-protected-resource/mcp/x/products", "/mcp/x/products"),
    ] {
        let body: Value = http().get(format!("{}{path}", s.base)).send().await.unwrap().json().await.unwrap();
        assert_eq!(body["resource"], format!("{}{resource}", s.base), "{path}");
        assert_eq!(body["scopes_supported"], json!(["digistore24:read", "digistore24:write"]));
    }
    let status = http().get(format!("{}/.well-known/oauth-protected-resource/other", s.base)).send().await.unwrap().status();
    assert_eq!(status, 404);
    let (status, headers, _) = s.mcp("/mcp/x/products", None, None).await;
    assert_eq!(status, 401);
    assert!(www_authenticate(&headers).contains("/.well-known/oauth-protected-resource/mcp/x/products\""));
}

#[tokio::test]
async fn without_oauth_nothing_changes() {
    let upstream = common::FakeUpstream::start().await;
    let server = common::TestServer::start(&upstream.base_url(), common::Options::default()).await;
    let status = http().get(format!("http://{}/.well-known/oauth-authorization-server", server.addr)).send().await.unwrap().status();
    assert_eq!(status, 404);
    let (status, headers, _) =
        post_raw(&server.url(), &MCP_HEADERS, &json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}).to_string()).await;
    assert_eq!(status, 401);
    assert!(!www_authenticate(&headers).contains("resource_metadata"));
}

/// Serves one client metadata document on loopback; returns its URL (the client id).
async fn serve_document(name: &str, own_id: bool) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/oauth/client-metadata.json", listener.local_addr().unwrap());
    let id = if own_id { url.clone() } else { "https://someone.else/meta".to_owned() };
    let doc = json!({"client_id": id, "client_name": name, "redirect_uris": [REDIRECT], "token_endpoint_auth_method": "none"});
    let app = axum::Router::new().route("/oauth/client-metadata.json", axum::routing::get(move || async move { axum::Json(doc) }));
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

#[tokio::test]
async fn a_client_metadata_document_url_signs_in_without_registration() {
    let s = start(RING, oauth::ACCESS_TTL).await;
    let asm: Value = http().get(format!("{}/.well-known/oauth-authorization-server", s.base)).send().await.unwrap().json().await.unwrap();
    assert_eq!(asm["client_id_metadata_document_supported"], true);
    let client_id = serve_document("Claude <CIMD>", true).await;
    let (request, cookie) = s.sign_in_page(&client_id, None).await;
    assert!(!request.is_empty() && !cookie.is_empty());
    let code = s.code(&client_id, sandbox::WRITABLE_KEY, None).await;
    let (status, body) = s.exchange(&client_id, &code).await;
    assert_eq!(status, 200, "{body}");
    // The name comes from the document, escaped.
    let challenge = challenge_of(VERIFIER);
    let query = [
        ("response_type", "code"),
        ("client_id", client_id.as_str()),
        ("redirect_uri", REDIRECT),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    let (_, _, html, _) = s.authorize(&query).await;
    assert!(html.contains("Claude &lt;CIMD&gt;"), "{html}");
    // A document that does not name its own URL is refused with the error page.
    let impostor = serve_document("Impostor", false).await;
    let query = [
        ("response_type", "code"),
        ("client_id", impostor.as_str()),
        ("redirect_uri", REDIRECT),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    let (status, location, html, _) = s.authorize(&query).await;
    assert_eq!((status, location), (400, None));
    assert!(html.contains("client_id is not its own URL"), "{html}");
}

#[tokio::test]
async fn three_replicas_sign_in_on_one_use_on_another_refresh_on_the_third() {
    let replicas = start_replicas(RING, oauth::ACCESS_TTL, 3).await;
    let [a, b, c] = [&replicas[0], &replicas[1], &replicas[2]];
    let client_id = a.client_id().await;
    // The page from A, the form posted to B: the sealed request and cookie need no shared store.
    let (request, cookie) = a.sign_in_page(&client_id, None).await;
    let (status, location, body) = b.post_sign_in(&request, Some(&cookie), TENANT).await;
    assert_eq!(status, 303, "{body}");
    let location = url::Url::parse(&location.unwrap()).unwrap();
    let code = location.query_pairs().find(|(k, _)| k == "code").unwrap().1.into_owned();
    let (status, tokens) = c.exchange(&client_id, &code).await;
    assert_eq!(status, 200, "{tokens}");
    let (status, _, body) = a.mcp("/mcp", tokens["access_token"].as_str(), Some("getUserInfo")).await;
    assert_eq!(status, 200, "{body}");
    let (status, _, refreshed) = b
        .token(&[("grant_type", "refresh_token"), ("refresh_token", tokens["refresh_token"].as_str().unwrap()), ("client_id", &client_id)])
        .await;
    assert_eq!(status, 200, "{refreshed}");
    let (status, _, body) = c.mcp("/mcp", refreshed["access_token"].as_str(), Some("getUserInfo")).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"user_id\""), "{body}");
}

/// The `name=value` of a response's Set-Cookie for `name`.
fn set_cookie(response: &reqwest::Response, name: &str) -> String {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_owned())
        .find(|c| c.starts_with(&format!("{name}=")))
        .unwrap_or_else(|| panic!("no {name} cookie"))
}

#[tokio::test]
async fn connect_with_digistore24_approves_a_new_key_in_the_sandbox_and_signs_in_with_it() {
    let s = start(RING, oauth::ACCESS_TTL).await;
    let client_id = s.client_id().await;
    let (request, csrf) = s.sign_in_page(&client_id, Some("digistore24:read")).await;
    let form = form_urlencoded::Serializer::new(String::new()).append_pair("request", &request).finish();
    let started = http()
        .post(format!("{}/authorize/connect", s.at))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("cookie", &csrf)
        .body(form.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(started.status(), 303);
    let approval = started.headers()["location"].to_str().unwrap().to_owned();
    let sandbox_origin = s.sandbox.trim_end_matches("/api/call");
    assert!(approval.starts_with(&format!("{sandbox_origin}/en/api/key/request/")), "{approval}");
    let cookies = format!("{csrf}; {}", set_cookie(&started, "ds24mcp_keyreq"));
    // Without the cookie of its page, the connect form is refused.
    let forged = http().post(format!("{}/authorize/connect", s.at)).header("content-type", "application/x-www-form-urlencoded").body(form);
    assert_eq!(forged.send().await.unwrap().status(), 403);

    let page = http().get(&approval).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("read access") && page.contains("Approve"), "{page}");
    // Back before approving: still pending, the sign-in page says so.
    let return_url = {
        let mut url = url::Url::parse(&format!("{}/authorize/return", s.at)).unwrap();
        url.query_pairs_mut().append_pair("request", &request);
        url.to_string()
    };
    let early = http().get(&return_url).header("cookie", &cookies).send().await.unwrap();
    assert_eq!(early.status(), 200);
    assert!(early.text().await.unwrap().contains("has not confirmed the new key yet"));

    let approved =
        http().post(&approval).header("content-type", "application/x-www-form-urlencoded").body("answer=approve").send().await.unwrap();
    assert_eq!(approved.status(), 303);
    let back = approved.headers()["location"].to_str().unwrap().replace(&s.base, &s.at);
    assert!(back.starts_with(&format!("{}/authorize/return?", s.at)), "{back}");
    let finished = http().get(&back).header("cookie", &cookies).send().await.unwrap();
    assert_eq!(finished.status(), 303, "{}", finished.text().await.unwrap());
    let location = url::Url::parse(finished.headers()["location"].to_str().unwrap()).unwrap();
    assert!(location.as_str().starts_with(REDIRECT));
    let code = location.query_pairs().find(|(k, _)| k == "code").unwrap().1.into_owned();
    let (status, tokens) = s.exchange(&client_id, &code).await;
    assert_eq!(status, 200, "{tokens}");
    // The sandbox handed out its read-only key for a read request: the grant is read-only.
    assert_eq!(tokens["scope"], "digistore24:read");
    let (status, _, body) = s.mcp("/mcp", tokens["access_token"].as_str(), Some("getUserInfo")).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"api_key_permissions\":\"readonly\""), "{body}");
}

/// A throwaway redis-server on a free loopback port, stopped when dropped.
struct Redis(std::process::Child, String);

impl Redis {
    async fn start() -> Redis {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = std::process::Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("redis-server is installed (apt-get install redis-server)");
        // Owned at once, so even the panic below stops (and reaps) it.
        let redis = Redis(child, format!("redis://127.0.0.1:{port}"));
        for _ in 0..50 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
                return redis;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("redis-server did not start");
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn with_redis_a_code_is_single_use_and_revoke_ends_the_grant_on_every_replica() {
    let redis = Redis::start().await;
    let ledger = Ledger::redis(digistore24_mcp::ops::connect_redis(&redis.1).await.unwrap());
    let replicas = start_with_ledger(RING, oauth::ACCESS_TTL, 2, ledger).await;
    let (a, b) = (&replicas[0], &replicas[1]);
    let asm: Value = http().get(format!("{}/.well-known/oauth-authorization-server", a.at)).send().await.unwrap().json().await.unwrap();
    assert_eq!(asm["revocation_endpoint"], format!("{}/revoke", a.base));
    let client_id = a.client_id().await;
    let code = a.code(&client_id, sandbox::WRITABLE_KEY, None).await;
    let (status, tokens) = a.exchange(&client_id, &code).await;
    assert_eq!(status, 200, "{tokens}");
    // The same code on another replica: refused, and the grant it gave is ended too.
    let (status, body) = b.exchange(&client_id, &code).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")), "{body}");
    let (status, _, _) = a.mcp("/mcp", tokens["access_token"].as_str(), Some("ping")).await;
    assert_eq!(status, 401, "the tokens of a replayed code are revoked");

    // A fresh sign-in, revoked through /revoke on one replica, ends on the other.
    let code = a.code(&client_id, sandbox::WRITABLE_KEY, None).await;
    let (_, tokens) = a.exchange(&client_id, &code).await;
    let access = tokens["access_token"].as_str().unwrap();
    let (status, _, _) = b.mcp("/mcp", Some(access), Some("ping")).await;
    assert_eq!(status, 200);
    let (status, _, body) = a.token_at("/revoke", &[("token", tokens["refresh_token"].as_str().unwrap()), ("client_id", &client_id)]).await;
    assert_eq!(status, 200, "{body}");
    let (status, headers, _) = b.mcp("/mcp", Some(access), Some("ping")).await;
    assert_eq!(status, 401);
    assert!(www_authenticate(&headers).contains("invalid_token"));
    let (status, _, body) = b
        .token(&[("grant_type", "refresh_token"), ("refresh_token", tokens["refresh_token"].as_str().unwrap()), ("client_id", &client_id)])
        .await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")), "{body}");
}

#[tokio::test]
async fn without_redis_revoke_says_it_cannot_and_is_not_advertised() {
    let s = start(RING, oauth::ACCESS_TTL).await;
    let asm: Value = http().get(format!("{}/.well-known/oauth-authorization-server", s.at)).send().await.unwrap().json().await.unwrap();
    assert!(asm.get("revocation_endpoint").is_none(), "{asm}");
    let client_id = s.client_id().await;
    let (status, _, body) = s.token_at("/revoke", &[("token", "x"), ("client_id", &client_id)]).await;
    assert_eq!((status, body["error"].as_str()), (503, Some("temporarily_unavailable")), "{body}");
}

#[tokio::test]
async fn rmcp_oauth_client_registers_signs_in_through_the_form_calls_tools_and_refreshes() {
    use rmcp::ServiceExt;
    use rmcp::transport::StreamableHttpClientTransport;
    use rmcp::transport::auth::{AuthClient, AuthorizationRequest, OAuthState};
    use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;

    let s = start(RING, oauth::ACCESS_TTL).await;
    let mcp_url = format!("{}/mcp", s.base);
    let callback = "http://127.0.0.1:53682/callback";
    let mut state = OAuthState::new(&mcp_url, None).await.expect("discovery");
    state.start_authorization(AuthorizationRequest::new(callback).with_client_name("rmcp oauth test")).await.expect("DCR");
    let authorize = state.get_authorization_url().await.unwrap();
    // The test is the browser: the sign-in page, the key, the redirect.
    let page = http().get(&authorize).send().await.unwrap();
    let cookie = page.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned();
    let request = hidden_request(&page.text().await.unwrap());
    let (status, location, body) = s.post_sign_in(&request, Some(&cookie), TENANT).await;
    assert_eq!(status, 303, "{body}");
    let location = location.unwrap();
    assert!(location.starts_with(callback), "{location}");
    state.handle_callback_url(&location).await.expect("code exchanged, iss checked");
    let manager = state.into_authorization_manager().expect("authorized");
    let before = manager.get_access_token().await.unwrap();
    manager.refresh_token().await.expect("refresh works");
    let refreshed = manager.get_access_token().await.unwrap();
    assert!(refreshed.starts_with("ds24mcp_at_") && refreshed != before, "the refresh gave a new token");
    let client = AuthClient::new(reqwest::Client::default(), manager);
    let transport = StreamableHttpClientTransport::with_client(client, StreamableHttpClientTransportConfig::with_uri(mcp_url));
    let service = ().serve(transport).await.expect("MCP over the OAuth client");
    let tools = service.list_all_tools().await.unwrap();
    assert!(tools.iter().any(|t| t.name == "refundPurchase"), "{} tools", tools.len());
    let info = common::call(&service, "getUserInfo", json!({})).await;
    let direct: Value =
        http().post(format!("{}/getUserInfo", s.sandbox)).header("x-ds-api-key", TENANT).send().await.unwrap().json().await.unwrap();
    assert_eq!(info.structured_content.unwrap()["user_id"], direct["data"]["user_id"], "the upstream saw the pasted key");
}

#[tokio::test]
async fn browser_clients_may_read_metadata_and_tokens_from_any_origin_but_not_the_sign_in_page() {
    let s = start(RING, oauth::ACCESS_TTL).await;
    let preflight = http()
        .request(reqwest::Method::OPTIONS, format!("{}/token", s.at))
        .header("origin", "https://inspector.example")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type")
        .send()
        .await
        .unwrap();
    assert!(preflight.status().is_success(), "{}", preflight.status());
    assert_eq!(preflight.headers()["access-control-allow-origin"], "*");
    let metadata = http()
        .get(format!("{}/.well-known/oauth-protected-resource/mcp", s.at))
        .header("origin", "https://inspector.example")
        .send()
        .await
        .unwrap();
    assert_eq!(metadata.headers()["access-control-allow-origin"], "*");
    let page = http().get(format!("{}/authorize", s.at)).header("origin", "https://inspector.example").send().await.unwrap();
    assert!(page.headers().get("access-control-allow-origin").is_none(), "the sign-in page is not for fetch()");
}

#[tokio::test]
async fn a_key_revoked_in_the_sandbox_ends_its_tokens_with_401_invalid_token() {
    let s = start(RING, oauth::ACCESS_TTL).await;
    let (_, tokens) = s.tokens(TENANT, None).await;
    let access = tokens["access_token"].as_str().unwrap();
    let (status, _, body) = s.mcp("/mcp", Some(access), Some("ping")).await;
    assert_eq!(status, 200, "{body}");
    let sandbox_origin = s.sandbox.trim_end_matches("/api/call");
    let revoked = http().post(format!("{sandbox_origin}/sandbox/keys/revoke")).json(&json!({"key": TENANT})).send().await.unwrap();
    assert_eq!(revoked.status(), 200);
    let (status, headers, body) = s.mcp("/mcp", Some(access), Some("ping")).await;
    assert_eq!(status, 401, "{body}");
    let challenge = www_authenticate(&headers);
    assert!(challenge.contains("error=\"invalid_token\"") && challenge.contains("resource_metadata=\"http://"), "{challenge}");
    // The same key sent raw is a tool error, as without OAuth: raw keys never get a 401.
    let (status, _, body) = s.mcp("/mcp", Some(TENANT), Some("ping")).await;
    assert_eq!(status, 200);
    assert!(body.contains("\"isError\":true"), "{body}");
}

#[tokio::test]
async fn a_confidential_client_must_show_its_secret_at_the_token_endpoint() {
    let s = start(RING, oauth::ACCESS_TTL).await;
    let body = json!({"redirect_uris": [REDIRECT], "client_name": "Confidential", "token_endpoint_auth_method": "client_secret_post"});
    let registered: Value = http().post(format!("{}/register", s.at)).json(&body).send().await.unwrap().json().await.unwrap();
    let client_id = registered["client_id"].as_str().unwrap().to_owned();
    let secret = registered["client_secret"].as_str().expect("a secret for client_secret_post").to_owned();
    let code = s.code(&client_id, sandbox::WRITABLE_KEY, None).await;
    let form = |secret: Option<&str>| {
        let mut form = vec![
            ("grant_type", "authorization_code".to_owned()),
            ("code", code.clone()),
            ("client_id", client_id.clone()),
            ("code_verifier", VERIFIER.to_owned()),
        ];
        if let Some(secret) = secret {
            form.push(("client_secret", secret.to_owned()));
        }
        form
    };
    for (name, attempt) in [("no secret", form(None)), ("a wrong secret", form(Some("wrong")))] {
        let pairs: Vec<(&str, &str)> = attempt.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (status, headers, body) = s.token(&pairs).await;
        assert_eq!((status, body["error"].as_str()), (401, Some("invalid_client")), "{name}: {body}");
        assert!(headers.contains_key("www-authenticate"), "{name}");
    }
    // The right secret, sent with HTTP Basic this time.
    use base64::Engine;
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{client_id}:{secret}"));
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs([("grant_type", "authorization_code"), ("code", &code), ("code_verifier", VERIFIER)])
        .finish();
    let response = http()
        .post(format!("{}/token", s.at))
        .header("authorization", format!("Basic {basic}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
}

#[tokio::test]
async fn with_redis_the_previous_refresh_token_works_but_an_older_one_is_a_replay_that_ends_the_grant() {
    let redis = Redis::start().await;
    let ledger = Ledger::redis(digistore24_mcp::ops::connect_redis(&redis.1).await.unwrap());
    let s = start_with_ledger(RING, oauth::ACCESS_TTL, 1, ledger).await.pop().unwrap();
    let (client_id, tokens) = s.tokens(sandbox::WRITABLE_KEY, None).await;
    let refresh = |token: String| {
        let client_id = client_id.clone();
        let s = &s;
        async move { s.token(&[("grant_type", "refresh_token"), ("refresh_token", &token), ("client_id", &client_id)]).await }
    };
    let first = tokens["refresh_token"].as_str().unwrap().to_owned();
    let (status, _, second) = refresh(first.clone()).await;
    assert_eq!(status, 200, "{second}");
    // The client lost the second one: the first still works (twice, even).
    let (status, _, again) = refresh(first.clone()).await;
    assert_eq!(status, 200, "{again}");
    let (status, _, third) = refresh(second["refresh_token"].as_str().unwrap().to_owned()).await;
    assert_eq!(status, 200, "{third}");
    // Now the first is two rotations behind: a replay; the grant ends for everyone.
    let (status, _, body) = refresh(first).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")), "{body}");
    let (status, _, _) = s.mcp("/mcp", third["access_token"].as_str(), Some("ping")).await;
    assert_eq!(status, 401);
}
