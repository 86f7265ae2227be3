//! A throw-away PostgreSQL server for tests: `initdb` + `pg_ctl` on a free
//! loopback port in a temporary folder, stopped and deleted on drop. As
//! root the server runs as user `postgres` (initdb refuses root).
//! `DS24_TEST_DATABASE_URL` points the tests at an existing server instead
//! (each `TestPostgres` then gets a fresh database on it).
//!
//! Reused by the IPN tests, the replica test and later the usage dashboard.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

pub struct TestPostgres {
    /// `postgres://…` of a database no other test uses.
    pub url: String,
    /// The data folder of a server we started (None with `DS24_TEST_DATABASE_URL`).
    own: Option<(PathBuf, PathBuf)>,
}

/// The folder holding `initdb` and `pg_ctl`, newest version first.
fn bin_dir() -> Option<PathBuf> {
    if let Ok(dir) = std::env::var("DS24_TEST_PG_BIN") {
        return Some(PathBuf::from(dir));
    }
    let mut dirs: Vec<PathBuf> =
        std::fs::read_dir("/usr/lib/postgresql").ok()?.filter_map(|e| e.ok()).map(|e| e.path().join("bin")).collect();
    dirs.sort();
    dirs.into_iter().rev().find(|d| d.join("initdb").exists())
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.starts_with(b"0\n"))
}

/// Runs a Postgres binary, as `postgres` when we are root.
fn run(bin: &Path, program: &str, args: &[&str]) -> std::process::Output {
    let path = bin.join(program);
    let mut command = if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(&path);
        c
    } else {
        Command::new(&path)
    };
    command.args(args).output().unwrap_or_else(|e| panic!("cannot run {}: {e}", path.display()))
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

static NEXT: AtomicU32 = AtomicU32::new(0);

impl TestPostgres {
    /// A fresh database, or `None` (with a message) when no Postgres is available.
    pub async fn start() -> Option<TestPostgres> {
        if let Ok(url) = std::env::var("DS24_TEST_DATABASE_URL") {
            return Some(Self::fresh_database(&url).await);
        }
        let Some(bin) = bin_dir() else {
            let why = "no PostgreSQL binaries (scripts/ensure-postgres.sh installs them, or set DS24_TEST_DATABASE_URL)";
            // scripts/test-all.sh asks for them: there, a skip would hide a gap.
            assert!(std::env::var_os("DS24_REQUIRE_POSTGRES").is_none(), "{why}");
            eprintln!("SKIPPED: {why}");
            return None;
        };
        let n = NEXT.fetch_add(1, Ordering::SeqCst);
        let dir = std::env::temp_dir().join(format!("ds24-pg-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        if is_root() {
            assert!(Command::new("chown").args(["postgres:", dir.to_str().unwrap()]).status().unwrap().success());
        }
        let data = dir.join("data");
        let data_str = data.to_str().unwrap();
        let init = run(&bin, "initdb", &["-D", data_str, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"]);
        assert!(init.status.success(), "initdb failed: {}", String::from_utf8_lossy(&init.stderr));
        let port = free_port();
        let options = format!("-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200", dir.display());
        let log = dir.join("log");
        let started = run(&bin, "pg_ctl", &["-D", data_str, "-o", &options, "-l", log.to_str().unwrap(), "-w", "-t", "30", "start"]);
        assert!(
            started.status.success(),
            "pg_ctl start failed: {}{}",
            String::from_utf8_lossy(&started.stderr),
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        Some(TestPostgres { url: format!("postgres://postgres@127.0.0.1:{port}/postgres"), own: Some((bin, dir)) })
    }

    async fn fresh_database(server_url: &str) -> TestPostgres {
        use sqlx::Connection;
        let name = format!("ds24_test_{}_{}", std::process::id(), NEXT.fetch_add(1, Ordering::SeqCst));
        let mut admin = sqlx::PgConnection::connect(server_url).await.expect("DS24_TEST_DATABASE_URL is reachable");
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&mut admin).await.unwrap();
        let (base, _) = server_url.rsplit_once('/').expect("a URL with a database name");
        TestPostgres { url: format!("{base}/{name}"), own: None }
    }
}

impl Drop for TestPostgres {
    fn drop(&mut self) {
        if let Some((bin, dir)) = &self.own {
            let data = dir.join("data");
            let _ = run(bin, "pg_ctl", &["-D", data.to_str().unwrap(), "-m", "immediate", "-w", "stop"]);
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}
