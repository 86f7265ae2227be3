//! Benchmark helpers for digistore24-mcp (see bench/README.md).
//!
//! ds24-bench upstream --listen 127.0.0.1:PORT [--threads N] [--latency-ms MS]
//!     A minimal, fast fake Digistore24: every POST /api/call/{function}
//!     answers a fixed success envelope with two products (~0.9 KB), except
//!     listPurchases, which answers a page of `page_size` purchases (default
//!     50, at most 500; ~0.95 KB each, the field names of Digistore24's
//!     listPurchases), built once per size. A call without X-DS-API-KEY gets
//!     Digistore24's error envelope instead, so a server that stopped
//!     forwarding the key shows up as errors. `--latency-ms` holds every
//!     answer back that long (a slow upstream: many calls in flight).
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
use std::sync::{Arc, OnceLock};
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
    let latency = Duration::from_millis(flag(args, "--latency-ms").unwrap_or("0").parse().expect("--latency-ms MS"));
    let pages: Arc<Vec<OnceLock<Bytes>>> = Arc::new((0..=MAX_PAGE).map(|_| OnceLock::new()).collect());
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(threads.max(1)).enable_all().build().expect("runtime");
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(listen).await.expect("bind");
        println!("fake upstream at http://{}/api/call/{{function}}", listener.local_addr().expect("addr"));
        loop {
            let Ok((tcp, _)) = listener.accept().await else { continue };
            let _ = tcp.set_nodelay(true);
            let pages = pages.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |request| answer(request, pages.clone(), latency));
                let _ = hyper::server::conn::http1::Builder::new().keep_alive(true).serve_connection(TokioIo::new(tcp), service).await;
            });
        }
    })
}

/// Largest `page_size` the fake answers in full.
const MAX_PAGE: usize = 500;

async fn answer(
    request: Request<Incoming>,
    pages: Arc<Vec<OnceLock<Bytes>>>,
    latency: Duration,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let has_key = request.headers().contains_key("x-ds-api-key");
    let path = request.uri().path().to_string();
    let found = path.starts_with("/api/call/");
    // Read the form body as a real server would.
    let body = request.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let (status, body) = match (found, has_key) {
        (false, _) => (StatusCode::NOT_FOUND, Bytes::from_static(br#"{"result":"error","message":"not found"}"#)),
        (true, false) => (StatusCode::OK, Bytes::from_static(NO_KEY.as_bytes())),
        (true, true) if path == "/api/call/listPurchases" => {
            let size = form_value(&body, "page_size").and_then(|v| v.parse::<usize>().ok()).unwrap_or(50).clamp(1, MAX_PAGE);
            (StatusCode::OK, pages[size].get_or_init(|| Bytes::from(purchases_page(size))).clone())
        }
        (true, true) => (StatusCode::OK, Bytes::from_static(PRODUCTS.as_bytes())),
    };
    let response =
        Response::builder().status(status).header("content-type", "application/json").body(Full::new(body)).expect("static response");
    Ok(response)
}

/// The value of a plain `name=value` pair of a form body (no decoding needed for numbers).
fn form_value<'a>(body: &'a [u8], name: &str) -> Option<&'a str> {
    std::str::from_utf8(body).ok()?.split('&').find_map(|pair| pair.strip_prefix(name)?.strip_prefix('='))
}

/// Digistore24's listPurchases envelope with `count` purchases; the records
/// vary (ids, buyers, amounts, dates) so nothing compresses into repeats.
fn purchases_page(count: usize) -> String {
    const FIRST: &[&str] = &["Anna", "Jonas", "Mia", "Lukas", "Lea", "Felix", "Emma", "Paul"];
    const LAST: &[&str] = &["Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Hoffmann", "Koch"];
    const ITEMS: &[(&str, &str)] =
        &[("635003", "Achtsamkeits-Meditationskurs"), ("635004", "Yoga for Beginners"), ("635011", "Coaching Premium")];
    let mut list = Vec::with_capacity(count);
    for i in 0..count {
        let (first, last) = (FIRST[i % FIRST.len()], LAST[(i / 3) % LAST.len()]);
        let (product_id, product_name) = ITEMS[i % ITEMS.len()];
        let cents = 1_900 + (i * 731) % 18_000;
        let (amount, vat) =
            (format!("{}.{:02}", cents / 100, cents % 100), format!("{}.{:02}", cents * 19 / 119 / 100, cents * 19 / 119 % 100));
        let subscription = i % 4 == 0;
        let (day, hour, minute) = (1 + i % 28, i % 24, (i * 7) % 60);
        let affiliate = i % 3 == 0;
        list.push(format!(
            concat!(
                r#"{{"id":"{id}","created_at":"2025-06-{day:02} {hour:02}:{minute:02}:{sec:02}","product_id":"{product_id}","product_name":"{product_name}","#,
                r#""quantity":"1","amount":"{amount}","other_amounts":"{other}","currency":"EUR","vat_rate":"19.00","vat_amount":"{vat}","vat_country":"DE","#,
                r#""number_of_installments":"{installments}","billing_type":"{billing}","billing_type_msg":"{billing_msg}","billing_status":"{status}","#,
                r#""billing_status_msg":"{status_msg}","payment_plan_msg":"{plan}","pay_method":"{pay}","pay_method_msg":"{pay_msg}","#,
                r#""order_type":"live","purchase_type":"regular","role":"vendor","earned_amount":"{earned}","paid_amount":"{amount}","#,
                r#""refund_status":"none","refunded_amount":"0.00","refunded_at":"","is_chargeback":"N","rebilling_active":"{rebilling}","#,
                r#""next_payment_at":"{next}","rebill_stop_noted_at":"","payment_count":"1","buyer_id":"{buyer_id}","#,
                r#""buyer_email":"{email}","buyer_first_name":"{first}","buyer_last_name":"{last}","affiliate_id":"{affiliate_id}","#,
                r#""affiliate_name":"{affiliate_name}","campaignkey":"","trackingkey":"{tracking}","custom":"","voucher_code":"{voucher}"}}"#
            ),
            id = format!("{}{:04}", ["XK2M", "PL7Q", "ZR4T", "HB9W"][i % 4], 1000 + i * 37 % 9000),
            day = day,
            hour = hour,
            minute = minute,
            sec = (i * 13) % 60,
            product_id = product_id,
            product_name = product_name,
            amount = amount,
            vat = vat,
            first = first,
            last = last,
            other = if subscription { amount.as_str() } else { "0.00" },
            installments = if subscription { "0" } else { "1" },
            billing = if subscription { "subscription" } else { "single_payment" },
            billing_msg = if subscription { "Subscription" } else { "Single payment" },
            status = if subscription { "paying" } else { "completed" },
            status_msg = if subscription { "Paying" } else { "Completed" },
            plan = if subscription { format!("{amount} EUR per month") } else { format!("{amount} EUR once") },
            pay = ["paypal", "creditcard", "sofort", "ezdebit"][i % 4],
            pay_msg = ["PayPal", "Credit card", "Sofortueberweisung", "Direct debit"][i % 4],
            earned = format!("{}.{:02}", cents * 80 / 100 / 100, cents * 80 / 100 % 100),
            rebilling = if subscription { "Y" } else { "N" },
            next = if subscription { format!("2025-07-{day:02}") } else { String::new() },
            buyer_id = 48_000_000 + i * 97,
            email = format!("{}.{}{}@example.com", first.to_lowercase(), last.to_lowercase(), i),
            affiliate_id = if affiliate { (7_100_000 + i).to_string() } else { String::new() },
            affiliate_name = if affiliate { format!("partner{}", i % 11) } else { String::new() },
            tracking = if i % 5 == 0 { "newsletter-june" } else { "" },
            voucher = if i % 7 == 0 { "SUMMER25" } else { "" },
        ));
    }
    format!(
        r#"{{"api_version":"1.2","current_time":"2025-06-30 12:00:00","runtime_seconds":0.012,"result":"success","data":{{"from":"2025-06-01 00:00:00","to":"2025-06-30 12:00:00","page_no":1,"page_size":{count},"page_count":1,"item_count":{count},"purchase_list":[{}]}}}}"#,
        list.join(",")
    )
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
    let median =
        if sorted.len() % 2 == 1 { sorted[sorted.len() / 2] } else { (sorted[sorted.len() / 2 - 1] + sorted[sorted.len() / 2]) / 2.0 };
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
