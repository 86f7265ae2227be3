//! Benchmark helpers for digistore24-mcp (see bench/README.md).
//!
//! ds24-bench upstream --listen 127.0.0.1:PORT [--threads N]
//!     A minimal, fast fake Digistore24: every POST /api/call/{function}
//!     answers a fixed success envelope with two products (~0.9 KB). A call
//!     without X-DS-API-KEY gets Digistore24's error envelope instead, so a
//!     server that stopped forwarding the key shows up as errors.
//!
//! ds24-bench coldstart --runs N -- PROGRAM ARGS...
//!     Spawns PROGRAM N times (`{port}` in ARGS is replaced by a free port),
//!     polls GET /health on that port every 100 µs and prints one JSON line
//!     with the milliseconds from spawn to the first 200, each run and the
//!     median. The child is killed after each run.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use std::convert::Infallible;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

/// What the fake upstream answers: Digistore24's envelope, two products.
const PRODUCTS: &str = concat!(
    r#"{"api_version":"1.2","result":"success","data":{"products":["#,
    r#"{"id":"635003","name":"Achtsamkeits-Meditationskurs","name_intern":"mindful-meditation-course","language":"de","#,
    r#""currency":"EUR,USD,CHF","product_type_id":"2","product_group_id":"33400","product_group_name":"Online Courses","#,
    r#""affiliate_commission":"50.00","is_active":"Y","is_deleted":"N","units_left":"infinite","tag":"","note":"","#,
    r#""created_at":"2024-10-23 22:49:27","modified_at":"2025-06-24 22:49:27","#,
    r#""image_url":"https://cdn.example/merchant_8348718/image/product/NXTZZ02L.png"},"#,
    r#"{"id":"635004","name":"Yoga for Beginners","name_intern":"yoga-beginners","language":"en","#,
    r#""currency":"EUR,USD","product_type_id":"2","product_group_id":"33400","product_group_name":"Online Courses","#,
    r#""affiliate_commission":"15.00","is_active":"Y","is_deleted":"N","units_left":"infinite","tag":"","note":"","#,
    r#""created_at":"2024-11-02 10:12:00","modified_at":"2025-05-01 08:00:00","#,
    r#""image_url":"https://cdn.example/merchant_8348718/image/product/K2LQ81AB.png"}"#,
    r#"]}}"#
);
const NO_KEY: &str = r#"{"api_version":"1.2","result":"error","code":2,"message":"Missing API key"}"#;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("upstream") => upstream(&args[1..]),
        Some("coldstart") => coldstart(&args[1..]),
        _ => {
            eprintln!("usage: ds24-bench upstream --listen ADDR [--threads N] | coldstart --runs N -- PROGRAM ARGS...");
            ExitCode::from(2)
        }
    }
}

fn flag<'a>(args: &'a [String], name: &str) -> Option<&'a str> {
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).map(String::as_str)
}

fn upstream(args: &[String]) -> ExitCode {
    let listen: SocketAddr = flag(args, "--listen").unwrap_or("127.0.0.1:8099").parse().expect("--listen ADDR");
    let threads: usize = flag(args, "--threads").unwrap_or("2").parse().expect("--threads N");
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(threads.max(1)).enable_all().build().expect("runtime");
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(listen).await.expect("bind");
        println!("fake upstream at http://{}/api/call/{{function}}", listener.local_addr().expect("addr"));
        loop {
            let Ok((tcp, _)) = listener.accept().await else { continue };
            let _ = tcp.set_nodelay(true);
            tokio::spawn(async move {
                let service = hyper::service::service_fn(answer);
                let _ = hyper::server::conn::http1::Builder::new().keep_alive(true).serve_connection(TokioIo::new(tcp), service).await;
            });
        }
    })
}

async fn answer(request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let has_key = request.headers().contains_key("x-ds-api-key");
    let found = request.uri().path().starts_with("/api/call/");
    // Read the form body as a real server would.
    let _ = request.into_body().collect().await;
    let (status, body) = match (found, has_key) {
        (false, _) => (StatusCode::NOT_FOUND, r#"{"result":"error","message":"not found"}"#),
        (true, false) => (StatusCode::OK, NO_KEY),
        (true, true) => (StatusCode::OK, PRODUCTS),
    };
    let response = Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from_static(body.as_bytes())))
        .expect("static response");
    Ok(response)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("free port")
}

fn healthy(port: u16) -> bool {
    let Ok(mut tcp) = TcpStream::connect(("127.0.0.1", port)) else { return false };
    let _ = tcp.set_read_timeout(Some(Duration::from_secs(2)));
    if tcp.write_all(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").is_err() {
        return false;
    }
    let mut head = [0u8; 12];
    tcp.read_exact(&mut head).is_ok() && &head[9..12] == b"200"
}

fn coldstart(args: &[String]) -> ExitCode {
    let runs: usize = flag(args, "--runs").unwrap_or("10").parse().expect("--runs N");
    let Some(split) = args.iter().position(|a| a == "--") else {
        eprintln!("coldstart: give the program after --");
        return ExitCode::from(2);
    };
    let (program, rest) = match args[split + 1..].split_first() {
        Some(p) => p,
        None => return ExitCode::from(2),
    };
    let mut times = Vec::new();
    for _ in 0..runs {
        let port = free_port();
        let argv: Vec<String> = rest.iter().map(|a| a.replace("{port}", &port.to_string())).collect();
        let started = Instant::now();
        let mut child = match Command::new(program).args(&argv).stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null()).spawn() {
            Ok(c) => c,
            Err(e) => {
                eprintln!("coldstart: cannot spawn {program}: {e}");
                return ExitCode::FAILURE;
            }
        };
        let deadline = started + Duration::from_secs(10);
        let mut ok = false;
        while Instant::now() < deadline {
            if healthy(port) {
                ok = true;
                break;
            }
            if let Ok(Some(status)) = child.try_wait() {
                eprintln!("coldstart: the server exited early: {status}");
                break;
            }
            std::thread::sleep(Duration::from_micros(100));
        }
        let elapsed = started.elapsed().as_secs_f64() * 1000.0;
        let _ = child.kill();
        let _ = child.wait();
        if !ok {
            eprintln!("coldstart: no healthy /health within 10 s");
            return ExitCode::FAILURE;
        }
        times.push(elapsed);
        std::thread::sleep(Duration::from_millis(50));
    }
    let mut sorted = times.clone();
    sorted.sort_by(f64::total_cmp);
    let median = if sorted.len() % 2 == 1 {
        sorted[sorted.len() / 2]
    } else {
        (sorted[sorted.len() / 2 - 1] + sorted[sorted.len() / 2]) / 2.0
    };
    let list: Vec<String> = times.iter().map(|t| format!("{t:.2}")).collect();
    println!(
        "{{\"runs\":{},\"median_ms\":{median:.2},\"min_ms\":{:.2},\"max_ms\":{:.2},\"each_ms\":[{}]}}",
        times.len(),
        sorted[0],
        sorted[sorted.len() - 1],
        list.join(",")
    );
    ExitCode::SUCCESS
}
