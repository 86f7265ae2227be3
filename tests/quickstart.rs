//! The README's first command works: `serve --sandbox` starts, prints its URL
//! and keys, and an official MCP client lists the tools and calls one with no
//! configuration at all (no key: the sandbox's writable key is used).

use rmcp::ServiceExt;
use rmcp::model::CallToolRequestParams;
use rmcp::transport::StreamableHttpClientTransport;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

#[tokio::test]
async fn serve_sandbox_works_with_no_configuration() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_digistore24-mcp"))
        .args(["serve", "--sandbox", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut banner = String::new();
    for _ in 0..3 {
        stdout.read_line(&mut banner).unwrap();
    }
    assert!(banner.contains("sandbox-writable") && banner.contains("sandbox-readonly"), "{banner}");
    let url = banner.split_whitespace().find(|w| w.ends_with("/mcp")).expect("the banner names the MCP URL").to_owned();
    std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));

    let client = ().serve(StreamableHttpClientTransport::from_uri(url)).await.expect("connects without a key");
    let tools = client.list_all_tools().await.unwrap();
    // `serve --sandbox` turns IPN events on: the functions plus the local tools.
    assert_eq!(tools.len(), digistore24_mcp::catalog::all_tools().count());
    let result = client.call_tool(CallToolRequestParams::new("listProducts")).await.unwrap();
    assert_eq!(result.is_error, Some(false));
    let products = result.structured_content.unwrap()["products"].as_array().cloned().unwrap();
    assert!(products.len() >= 10, "the sandbox is seeded with products");
    client.cancel().await.unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn every_subcommand_has_help() {
    for sub in ["serve", "stdio", "tools", "call", "test-key", "sandbox"] {
        let out = Command::new(env!("CARGO_BIN_EXE_digistore24-mcp")).args([sub, "--help"]).output().unwrap();
        assert!(out.status.success(), "{sub} --help");
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(text.contains("Usage:"), "{sub}: {text}");
    }
    let out = Command::new(env!("CARGO_BIN_EXE_digistore24-mcp")).args(["serve", "--help"]).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    for env in ["DS24_MCP_LISTEN", "DS24_API_BASE_URL", "DS24_ALLOWED_HOSTS", "DS24_ALLOWED_ORIGINS", "DS24_TOOLSETS", "DS24_READ_ONLY"] {
        assert!(text.contains(env), "serve --help should name {env}");
    }
}

#[test]
fn call_and_test_key_against_the_sandbox() {
    let run = |args: &[&str], key: Option<&str>| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_digistore24-mcp"));
        c.args(args).env_remove("DS24_API_KEY");
        if let Some(key) = key {
            c.env("DS24_API_KEY", key);
        }
        c.output().unwrap()
    };
    let ok = run(&["call", "getUserInfo", "{}", "--sandbox"], None);
    assert!(ok.status.success());
    let info: serde_json::Value = serde_json::from_slice(&ok.stdout).unwrap();
    assert!(info["user_name"].is_string(), "{info}");
    let bad = run(&["call", "getPurchase", "{}", "--sandbox"], None);
    assert_eq!(bad.status.code(), Some(1), "an error result exits 1");
    assert!(String::from_utf8_lossy(&bad.stderr).contains("purchase_id"));
    let refused = run(&["call", "createVoucher", r#"{"data":{"code":"RO1"}}"#, "--sandbox"], Some("sandbox-readonly"));
    assert_eq!(refused.status.code(), Some(1));
    assert!(run(&["test-key", "--sandbox"], Some("sandbox-readonly")).status.success());
    let wrong = run(&["test-key", "--sandbox"], Some("not-a-sandbox-key"));
    assert_eq!(wrong.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&wrong.stdout).contains("does not work"));
}
