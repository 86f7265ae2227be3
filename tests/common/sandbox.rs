//! A spawned sandbox Digistore24 and a plain HTTP caller for it.

use digistore24_mcp::sandbox::{self, READONLY_KEY, SandboxConfig, WRITABLE_KEY};
use serde_json::Value;
use std::net::SocketAddr;
use std::time::Duration;

pub struct Sandbox {
    pub base: String,
    pub http: reqwest::Client,
    _server: tokio::task::JoinHandle<()>,
}

pub struct Answer {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }

    pub fn data(&self) -> Value {
        let v = self.json();
        assert_eq!(v["result"], "success", "expected success, got {v}");
        v["data"].clone()
    }

    pub fn error(&self) -> (i64, String) {
        let v = self.json();
        assert_eq!(v["result"], "error", "expected an error, got {v}");
        (v["code"].as_i64().expect("numeric code"), v["message"].as_str().unwrap_or_default().to_string())
    }
}

pub fn form(pairs: &[(&str, &str)]) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        s.append_pair(k, v);
    }
    s.finish()
}

impl Sandbox {
    pub async fn start(config: SandboxConfig) -> Sandbox {
        let listen: SocketAddr = "127.0.0.1:0".parse().unwrap();
        let (addr, server) = sandbox::spawn(config, listen).await.expect("sandbox binds");
        let http = reqwest::Client::builder().timeout(Duration::from_secs(20)).build().unwrap();
        Sandbox { base: format!("http://{addr}"), http, _server: server }
    }

    pub async fn default() -> Sandbox {
        Sandbox::start(SandboxConfig::default()).await
    }

    pub async fn post_url(&self, url: &str, key: Option<&str>, body: String) -> Answer {
        let mut rb = self.http.post(url).header("content-type", "application/x-www-form-urlencoded; charset=utf-8").body(body);
        if let Some(k) = key {
            rb = rb.header("X-DS-API-KEY", k);
        }
        let r = rb.send().await.expect("request");
        Answer { status: r.status().as_u16(), headers: r.headers().clone(), text: r.text().await.unwrap() }
    }

    pub async fn call(&self, key: Option<&str>, function: &str, pairs: &[(&str, &str)]) -> Answer {
        self.post_url(&format!("{}/api/call/{function}", self.base), key, form(pairs)).await
    }

    pub async fn call_owned(&self, key: &str, function: &str, pairs: &[(String, String)]) -> Answer {
        let borrowed: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        self.call(Some(key), function, &borrowed).await
    }

    pub async fn read(&self, function: &str, pairs: &[(&str, &str)]) -> Value {
        self.call(Some(READONLY_KEY), function, pairs).await.data()
    }

    pub async fn write(&self, function: &str, pairs: &[(&str, &str)]) -> Value {
        self.call(Some(WRITABLE_KEY), function, pairs).await.data()
    }

    pub async fn arm(&self, fault: Value) {
        let r = self.http.post(format!("{}/sandbox/faults", self.base)).json(&fault).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 200, "{}", r.text().await.unwrap());
    }
}

pub fn s(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

pub fn money(v: &Value) -> f64 {
    s(v).parse().unwrap_or_else(|_| panic!("not an amount: {v}"))
}

pub async fn all_purchases(sb: &Sandbox, key: &str) -> Vec<Value> {
    let d = sb.call(Some(key), "listPurchases", &[("from", "start"), ("page_size", "1000")]).await.data();
    d["purchase_list"].as_array().unwrap().clone()
}
