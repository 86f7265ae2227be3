//! The command line: parses flags (each also readable from the environment)
//! and runs one subcommand.
//!
//! Owns: process concerns — flags, logging set-up, signals, stdin/stdout,
//! exit codes, starting the in-process sandbox for `--sandbox`.
//! Must not touch: tool logic or wire details; it only wires the library's
//! parts together.

use crate::catalog::{self, Effect, LOCAL_TOOLSET, TOOLSETS};
use crate::dashboard;
use crate::ds24::{ApiKey, Client, ClientConfig};
use crate::http::{self, HttpConfig, Readiness, Shutdown};
use crate::mcp::{
    Bounds, ConfirmPolicy, DEFAULT_MAX_RESULT_BYTES, DEFAULT_MAX_RESULT_TOKENS, DEFAULT_READ_RETRIES, Ds24Server, Limits, ServerSettings,
    ToolFilter, ToolList, random_secret,
};
use crate::oauth::{self, KeyRing, OAuth, OAuthConfig};
use crate::ops::{
    self,
    cache::ResponseCache,
    limit::{RateLimit, RateLimiter},
};
use crate::sandbox::{self, SandboxConfig};
use clap::{Args, Parser, Subcommand, ValueEnum};
use rmcp::ServiceExt;
use rust_decimal::Decimal;
use std::collections::HashSet;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

/// The Digistore24 vendor API as Model Context Protocol tools.
#[derive(Debug, Parser)]
#[command(name = "digistore24-mcp", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Log format on stderr.
    #[arg(long, global = true, env = "DS24_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve MCP over Streamable HTTP (stateless; endpoint /mcp).
    Serve(Box<ServeArgs>),
    /// Serve MCP over stdin/stdout for a local client; key from DS24_API_KEY.
    Stdio(UpstreamArgs),
    /// Print the tool catalogue.
    Tools(ToolsArgs),
    /// Call one tool from the shell and print its result (exit 1 on error).
    Call(CallArgs),
    /// Check that DS24_API_KEY works by calling `ping`.
    TestKey(UpstreamArgs),
    /// Run only the built-in sandbox Digistore24 API.
    Sandbox(SandboxArgs),
}

/// Where the upstream is and which tools exist.
#[derive(Debug, Args)]
struct UpstreamArgs {
    /// Digistore24 API base URL; the function name is appended.
    #[arg(long, env = "DS24_API_BASE_URL", default_value = "https://www.digistore24.com/api/call")]
    api_base_url: String,
    /// Key used when a request brings none (stdio, call, test-key; single-tenant serve).
    #[arg(long, env = "DS24_API_KEY", hide_env_values = true)]
    api_key: Option<String>,
    /// Timeout of one upstream call, in seconds.
    #[arg(long, env = "DS24_TIMEOUT_SECS", default_value_t = 30)]
    timeout_secs: u64,
    #[command(flatten)]
    filter: FilterArgs,
    /// Start the built-in sandbox Digistore24 in this process and use it as the upstream.
    #[arg(long, env = "DS24_SANDBOX")]
    sandbox: bool,
    /// Seed of the sandbox's generated data.
    #[arg(long, env = "DS24_SANDBOX_SEED", default_value_t = 24)]
    sandbox_seed: u64,
    /// Extra sandbox keys (each `sandbox-…`), each with its own separate account.
    #[arg(long = "sandbox-extra-key", env = "DS24_SANDBOX_EXTRA_KEYS", value_delimiter = ',')]
    sandbox_extra_keys: Vec<String>,
    /// Which calls need the user's confirmation: destructive, writes or off.
    #[arg(long, env = "DS24_CONFIRM", default_value = "destructive")]
    confirm: ConfirmPolicy,
    /// Secret sealing confirmation state; give every replica the same one (random per process if unset).
    #[arg(long, env = "DS24_STATE_SECRET", hide_env_values = true)]
    state_secret: Option<String>,
    /// Largest refund (or credit) one call may make, e.g. 100.00.
    #[arg(long, env = "DS24_MAX_REFUND_AMOUNT")]
    max_refund_amount: Option<Decimal>,
    /// Largest charge one call may make, e.g. 500.00.
    #[arg(long, env = "DS24_MAX_CHARGE_AMOUNT")]
    max_charge_amount: Option<Decimal>,
    /// Only these product ids may be named by changing calls (comma list).
    #[arg(long, env = "DS24_ALLOW_PRODUCT_IDS", value_delimiter = ',')]
    allow_product_ids: Vec<String>,
    /// Largest answer handed to the agent, in bytes of JSON; longer lists are cut and say so.
    #[arg(long, env = "DS24_MAX_RESULT_BYTES", default_value_t = DEFAULT_MAX_RESULT_BYTES)]
    max_result_bytes: usize,
    /// Largest answer handed to the agent, in cl100k tokens; longer lists are cut and say so.
    #[arg(long, env = "DS24_MAX_RESULT_TOKENS", default_value_t = DEFAULT_MAX_RESULT_TOKENS)]
    max_result_tokens: usize,
}

#[derive(Debug, Args)]
struct ServeArgs {
    #[command(flatten)]
    upstream: UpstreamArgs,
    /// Address to listen on.
    #[arg(long, env = "DS24_MCP_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Host header values to accept besides loopback (comma list; `*` = any).
    #[arg(long = "allowed-host", env = "DS24_ALLOWED_HOSTS", value_delimiter = ',')]
    allowed_hosts: Vec<String>,
    /// Browser origins to accept besides loopback, e.g. https://app.example.com:443 (comma list; `*` = any).
    #[arg(long = "allowed-origin", env = "DS24_ALLOWED_ORIGINS", value_delimiter = ',')]
    allowed_origins: Vec<String>,
    /// Largest accepted request body, in bytes.
    #[arg(long, env = "DS24_MAX_BODY_BYTES", default_value_t = 4 * 1024 * 1024)]
    max_body_bytes: usize,
    /// Most MCP requests served at once; more get 503 with Retry-After (0 = no limit).
    #[arg(long, env = "DS24_MAX_CONCURRENCY", default_value_t = 1024)]
    max_concurrency: usize,
    /// Tool calls per second per API key (token bucket); off when unset.
    #[arg(long, env = "DS24_RATE_LIMIT_RPS")]
    rate_limit_rps: Option<f64>,
    /// Bucket size of the rate limit (calls at once after a quiet spell); default 2× the rate.
    #[arg(long, env = "DS24_RATE_LIMIT_BURST")]
    rate_limit_burst: Option<f64>,
    /// Redis URL: share rate limits and the cache across replicas (e.g. redis://127.0.0.1:6379).
    #[arg(long, env = "DS24_REDIS_URL", hide_env_values = true)]
    redis_url: Option<String>,
    /// Cache listCountries, listCurrencies, getGlobalSettings, listProductTypes per key for this many seconds (0 = off).
    #[arg(long, env = "DS24_CACHE_TTL_SECS", default_value_t = 0)]
    cache_ttl_secs: u64,
    /// Retries of a failed read (connection errors, 5xx, 429); writes are never retried.
    #[arg(long, env = "DS24_READ_RETRIES", default_value_t = DEFAULT_READ_RETRIES)]
    read_retries: u32,
    /// Count tool calls per key hash in /metrics (a short hash, never the key).
    #[arg(long, env = "DS24_METRICS_PER_KEY")]
    metrics_per_key: bool,
    /// On SIGTERM, keep serving (with /ready at 503) this long before closing the listener.
    #[arg(long, env = "DS24_SHUTDOWN_DELAY_SECS", default_value_t = 0)]
    shutdown_delay_secs: u64,
    /// Then let calls in flight finish for at most this long before exiting.
    #[arg(long, env = "DS24_SHUTDOWN_GRACE_SECS", default_value_t = 25)]
    shutdown_grace_secs: u64,
    /// Be an OAuth 2.1 authorization server for clients that cannot send a key header (needs --public-url, --oauth-secret).
    #[arg(long, env = "DS24_OAUTH")]
    oauth: bool,
    /// The URL clients reach this server at, e.g. https://mcp.example.com: its origin is the OAuth
    /// issuer, and events_connect registers {public-url}/ipn/{token} with Digistore24.
    #[arg(long, env = "DS24_PUBLIC_URL")]
    public_url: Option<String>,
    /// OAuth sealing key ring `kid:base64,…` (first seals, all open; ≥ 32 bytes each; the same on every replica).
    #[arg(long, env = "DS24_OAUTH_SECRET", hide_env_values = true)]
    oauth_secret: Option<String>,
    /// Lifetime of an OAuth access token, in seconds.
    #[arg(long, env = "DS24_OAUTH_ACCESS_TTL_SECS", default_value_t = oauth::ACCESS_TTL.as_secs())]
    oauth_access_ttl_secs: u64,
    /// Sliding lifetime of an OAuth refresh token, in seconds.
    #[arg(long, env = "DS24_OAUTH_REFRESH_TTL_SECS", default_value_t = oauth::REFRESH_TTL.as_secs())]
    oauth_refresh_ttl_secs: u64,
    /// Lifetime of a whole OAuth grant (no refresh after it), in seconds.
    #[arg(long, env = "DS24_OAUTH_GRANT_TTL_SECS", default_value_t = oauth::GRANT_TTL.as_secs())]
    oauth_grant_ttl_secs: u64,
    /// Private URI schemes allowed as OAuth redirects, e.g. cursor (comma list).
    #[arg(long = "oauth-redirect-scheme", env = "DS24_OAUTH_REDIRECT_SCHEMES", value_delimiter = ',')]
    oauth_redirect_schemes: Vec<String>,
    /// Digistore24 developer key: enables "Connect with Digistore24" on the sign-in page (the sandbox's key with --sandbox).
    #[arg(long, env = "DS24_DEVELOPER_KEY", hide_env_values = true)]
    developer_key: Option<String>,
    /// Pre-registered OAuth clients `CLIENT_ID=REDIRECT_URI[;REDIRECT_URI…]` (comma list).
    #[arg(long = "oauth-client", env = "DS24_OAUTH_CLIENTS", value_delimiter = ',')]
    oauth_clients: Vec<oauth::PreRegistered>,
    /// PEM certificate chain: serve HTTPS directly (with --tls-key).
    #[arg(long, env = "DS24_TLS_CERT", requires = "tls_key")]
    tls_cert: Option<std::path::PathBuf>,
    /// PEM private key for --tls-cert.
    #[arg(long, env = "DS24_TLS_KEY", requires = "tls_cert")]
    tls_key: Option<std::path::PathBuf>,
    /// Token of the operator's dashboard (/dashboard/operator, at least 16 characters); the page is off without it.
    #[arg(long, env = "DS24_OPERATOR_TOKEN", hide_env_values = true)]
    operator_token: Option<String>,
    #[command(flatten)]
    events: EventsArgs,
    #[command(flatten)]
    usage: UsageArgs,
}

/// Recording every tool call into the database (when one is open).
#[derive(Debug, Args)]
struct UsageArgs {
    /// Record a usage row per tool call into the database (on whenever one is open).
    #[arg(long, env = "DS24_USAGE_RECORDING", value_enum, default_value_t = Switch::On)]
    usage_recording: Switch,
    /// Days raw usage rows are kept (hourly aggregates are kept a year).
    #[arg(long, env = "DS24_USAGE_RETENTION_DAYS", default_value_t = ops::usage::DEFAULT_RETENTION_DAYS)]
    usage_retention_days: u32,
    /// This replica's name in its heartbeat row (default hostname-pid).
    #[arg(long, env = "DS24_REPLICA_NAME")]
    replica_name: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Switch {
    On,
    Off,
}

impl UsageArgs {
    /// The recorder, when a database is open and recording is not switched off.
    fn recorder(&self, store: Option<Arc<dyn crate::store::usage::UsageStore>>) -> Option<Arc<ops::usage::Recorder>> {
        let store = store.filter(|_| self.usage_recording == Switch::On)?;
        let config = ops::usage::RecorderConfig {
            replica: self.replica_name.clone().unwrap_or_else(ops::usage::default_replica_name),
            retention_days: self.usage_retention_days.max(1),
            ..ops::usage::RecorderConfig::default()
        };
        Some(ops::usage::Recorder::start(store, config))
    }
}

/// The IPN receiver and the database of its events.
#[derive(Debug, Args)]
struct EventsArgs {
    /// Database of IPN events: sqlite://FILE (created if missing) or postgres://…
    #[arg(long, env = "DS24_DATABASE_URL", hide_env_values = true)]
    database_url: Option<String>,
    /// Secret deriving every vendor's IPN URL and passphrase (POST /ipn/{token}); the same on every replica.
    #[arg(long, env = "DS24_IPN_SECRET", hide_env_values = true)]
    ipn_secret: Option<String>,
    /// Passphrase of the single-tenant POST /ipn, entered by hand in the Digistore24 back office.
    #[arg(long, env = "DS24_IPN_PASSPHRASE", hide_env_values = true)]
    ipn_passphrase: Option<String>,
    /// Days IPN events are kept; older ones are deleted automatically.
    #[arg(long, env = "DS24_EVENTS_RETENTION_DAYS", default_value_t = crate::ipn::DEFAULT_RETENTION_DAYS)]
    events_retention_days: u32,
    /// IPNs per second the receiver takes per URL token (and per client address for POST /ipn and bad tokens); more get 429 (0 = no limit).
    #[arg(long, env = "DS24_IPN_RATE_LIMIT_RPS", default_value_t = crate::ipn::DEFAULT_IPN_RATE_PER_SECOND)]
    ipn_rate_limit_rps: f64,
    /// Bucket size of the IPN rate limit (IPNs at once after a quiet spell); shared through --redis-url.
    #[arg(long, env = "DS24_IPN_RATE_LIMIT_BURST", default_value_t = crate::ipn::DEFAULT_IPN_BURST)]
    ipn_rate_limit_burst: f64,
}

/// Temporary event databases of `serve --sandbox`: this prefix, the pid, `.db`.
const SANDBOX_DB_PREFIX: &str = "digistore24-mcp-sandbox-";

/// Deletes the temporary databases of sandbox servers that are gone (a
/// killed process cannot clean up after itself).
fn remove_stale_sandbox_databases() {
    // Liveness is read from /proc; elsewhere nothing is deleted.
    if !std::path::Path::new("/proc/self").exists() {
        return;
    }
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = name.strip_prefix(SANDBOX_DB_PREFIX).and_then(|rest| rest.split('.').next()) else { continue };
        if pid.parse::<u32>().is_ok() && !std::path::Path::new(&format!("/proc/{pid}")).exists() {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// The database file of `serve` when events are on and no URL is given.
const DEFAULT_DATABASE_URL: &str = "sqlite://digistore24-mcp.db";

impl EventsArgs {
    /// Opens the database (migrating it) when any IPN flag is given or the
    /// sandbox runs; `None` leaves the receiver and `events` tools off.
    /// `listening` is this server's own address: the sandbox reaches the
    /// receiver there when no `public_url` (--public-url) is given.
    async fn open(
        &self,
        sandbox: bool,
        listening: SocketAddr,
        public_url: Option<&str>,
        redis_url: Option<&str>,
    ) -> Result<Option<(Arc<crate::ipn::Events>, Arc<dyn crate::store::usage::UsageStore>)>, String> {
        let on = sandbox || self.database_url.is_some() || self.ipn_secret.is_some() || self.ipn_passphrase.is_some();
        if !on {
            return Ok(None);
        }
        let url = match (&self.database_url, sandbox) {
            (Some(url), _) => url.clone(),
            // The sandbox's events live as long as its data: a fresh file per process.
            (None, true) => {
                remove_stale_sandbox_databases();
                let path = std::env::temp_dir().join(format!("{SANDBOX_DB_PREFIX}{}.db", std::process::id()));
                let _ = std::fs::remove_file(&path);
                format!("sqlite://{}", path.display())
            }
            (None, false) => DEFAULT_DATABASE_URL.to_owned(),
        };
        let secret = match &self.ipn_secret {
            Some(secret) if secret.len() >= 16 => Some(secret.as_bytes().to_vec()),
            Some(_) => return Err("--ipn-secret must be at least 16 characters".into()),
            None if sandbox => Some(random_secret()),
            None => None,
        };
        let database = crate::store::open_database(&url).await.map_err(|e| format!("cannot open the events database: {e}"))?;
        let store = database.events;
        tracing::info!(backend = store.backend(), retention_days = self.events_retention_days, "IPN events database ready");
        crate::store::spawn_pruning(store.clone(), self.events_retention_days.max(1));
        let public_url = public_url.map(str::to_owned).or_else(|| sandbox.then(|| format!("http://{listening}")));
        let mut events = crate::ipn::Events::new(store, secret, self.ipn_passphrase.clone(), public_url);
        if let Some(limiter) = self.ipn_limiter(redis_url).await? {
            events = events.with_rate_limit(limiter);
        }
        Ok(Some((Arc::new(if sandbox { events.with_loopback_urls() } else { events }), database.usage)))
    }

    /// The receiver's own rate limit, in Redis when given (so it holds across replicas).
    async fn ipn_limiter(&self, redis_url: Option<&str>) -> Result<Option<Arc<RateLimiter>>, String> {
        let (rps, burst) = (self.ipn_rate_limit_rps, self.ipn_rate_limit_burst);
        if rps == 0.0 {
            return Ok(None);
        }
        if !(rps > 0.0 && burst >= 1.0) {
            return Err("--ipn-rate-limit-rps must be positive (0 = no limit) and --ipn-rate-limit-burst at least 1".into());
        }
        let limit = RateLimit { per_second: rps, burst };
        Ok(Some(Arc::new(match redis_url {
            Some(url) => RateLimiter::redis(limit, ops::connect_redis(url).await.map_err(|e| format!("cannot connect to Redis: {e}"))?),
            None => RateLimiter::in_memory(limit),
        })))
    }
}

impl ServeArgs {
    /// The usage dashboards: on whenever a database is open (`serve --sandbox` always has one).
    fn dashboard(
        &self,
        server: &Ds24Server,
        oauth: Option<&Arc<OAuth>>,
        usage: Option<Arc<dyn crate::store::usage::UsageStore>>,
    ) -> Result<Option<Arc<dashboard::Dashboard>>, String> {
        // The pages read the database even with recording off (earlier rows).
        let (Some(events), Some(usage)) = (server.events(), usage) else { return Ok(None) };
        let operator_token = self.operator_token.as_deref().map(str::trim).filter(|t| !t.is_empty());
        if operator_token.is_some_and(|t| t.len() < 16) {
            return Err("--operator-token must be at least 16 characters (e.g. openssl rand -base64 24)".into());
        }
        let oauth_secret = if self.oauth { self.oauth_secret.as_deref() } else { None };
        let ring = dashboard::session_ring(oauth_secret, self.upstream.state_secret.as_deref().map(str::as_bytes))?;
        Ok(Some(Arc::new(dashboard::Dashboard::new(dashboard::DashboardConfig {
            usage,
            events: Some(events.clone()),
            ring,
            client: server.client().clone(),
            secure_cookies: self.public_url.as_deref().is_some_and(|u| u.starts_with("https://")) || self.tls_cert.is_some(),
            operator_token: operator_token.map(str::to_owned),
            sandbox_hint: self.upstream.sandbox,
            session_ttl: dashboard::SESSION_TTL,
            oauth: oauth.cloned(),
        }))))
    }

    /// The OAuth authorization server, when `--oauth` is on.
    async fn oauth(&self, client: &Client) -> Result<Option<Arc<OAuth>>, String> {
        if !self.oauth {
            return Ok(None);
        }
        let public_url = self.public_url.clone().ok_or("--oauth needs --public-url (DS24_PUBLIC_URL), e.g. https://mcp.example.com")?;
        let ring = match &self.oauth_secret {
            Some(spec) => KeyRing::parse(spec).map_err(|e| e.to_string())?,
            None if self.upstream.sandbox => {
                tracing::warn!("--oauth without --oauth-secret: a random secret, so tokens end with this process (sandbox only)");
                KeyRing::random()
            }
            None => return Err(format!("--oauth needs --oauth-secret (DS24_OAUTH_SECRET), e.g. {}", KeyRing::generate_entry("k1"))),
        };
        let ttl = |secs: u64, flag: &str| if secs == 0 { Err(format!("{flag} must be positive")) } else { Ok(Duration::from_secs(secs)) };
        let config = OAuthConfig {
            public_url,
            ring,
            access_ttl: ttl(self.oauth_access_ttl_secs, "--oauth-access-ttl-secs")?,
            refresh_ttl: ttl(self.oauth_refresh_ttl_secs, "--oauth-refresh-ttl-secs")?,
            grant_ttl: ttl(self.oauth_grant_ttl_secs, "--oauth-grant-ttl-secs")?,
            redirect_schemes: clean(&self.oauth_redirect_schemes).into_iter().collect(),
            clients: self.oauth_clients.clone(),
            sandbox_hint: self.upstream.sandbox,
            cimd_allow_loopback: false,
            ledger: match &self.redis_url {
                Some(url) => oauth::Ledger::redis(ops::connect_redis(url).await.map_err(|e| format!("cannot connect to Redis: {e}"))?),
                None => oauth::Ledger::default(),
            },
            developer_key: self
                .developer_key
                .as_deref()
                .and_then(ApiKey::new)
                .or_else(|| self.upstream.sandbox.then(|| ApiKey::new(sandbox::WRITABLE_KEY)).flatten()),
        };
        OAuth::new(config, client.clone()).map(|o| Some(Arc::new(o)))
    }

    /// The rate limiter and cache, connected to Redis when asked.
    async fn ops(&self) -> Result<(Option<Arc<RateLimiter>>, Option<Arc<ResponseCache>>), String> {
        let redis = match &self.redis_url {
            Some(url) => Some(ops::connect_redis(url).await.map_err(|e| format!("cannot connect to Redis: {e}"))?),
            None => None,
        };
        let limiter = match self.rate_limit_rps {
            Some(rps) if rps > 0.0 => {
                let limit = RateLimit { per_second: rps, burst: self.rate_limit_burst.unwrap_or(rps * 2.0).max(1.0) };
                Some(Arc::new(match &redis {
                    Some(connection) => RateLimiter::redis(limit, connection.clone()),
                    None => RateLimiter::in_memory(limit),
                }))
            }
            Some(_) => return Err("--rate-limit-rps must be positive".into()),
            None => None,
        };
        let cache = (self.cache_ttl_secs > 0).then(|| {
            let ttl = Duration::from_secs(self.cache_ttl_secs);
            Arc::new(match &redis {
                Some(connection) => ResponseCache::redis(ttl, connection.clone()),
                None => ResponseCache::in_memory(ttl),
            })
        });
        Ok((limiter, cache))
    }
}

#[derive(Debug, Args)]
struct ToolsArgs {
    /// Print exactly the `tools` array that tools/list returns.
    #[arg(long, env = "DS24_TOOLS_JSON")]
    json: bool,
    /// Print the context cost (cl100k tokens) of each toolset's tool list.
    #[arg(long, env = "DS24_TOOLS_COST", conflicts_with = "json")]
    cost: bool,
    #[command(flatten)]
    filter: FilterArgs,
}

/// Which tools exist: the operator's upper bound.
#[derive(Debug, Args)]
struct FilterArgs {
    /// Only these toolsets (comma list); default all. `tools` lists them.
    #[arg(long, env = "DS24_TOOLSETS", value_delimiter = ',')]
    toolsets: Vec<String>,
    /// Only these tools (comma list of names); default all.
    #[arg(long, env = "DS24_TOOLS", value_delimiter = ',')]
    tools: Vec<String>,
    /// Offer and allow only read tools.
    #[arg(long, env = "DS24_READ_ONLY")]
    read_only: bool,
}

impl FilterArgs {
    fn build(&self) -> Result<ToolFilter, String> {
        build_filter(&self.toolsets, &self.tools, self.read_only)
    }
}

#[derive(Debug, Args)]
struct CallArgs {
    /// Tool name, e.g. listProducts.
    name: String,
    /// Arguments as a JSON object.
    #[arg(default_value = "{}")]
    arguments: String,
    #[command(flatten)]
    upstream: UpstreamArgs,
}

#[derive(Debug, Args)]
struct SandboxArgs {
    /// Address to listen on.
    #[arg(long, env = "DS24_SANDBOX_LISTEN", default_value = "127.0.0.1:8099")]
    listen: SocketAddr,
    /// Seed of the generated data.
    #[arg(long, env = "DS24_SANDBOX_SEED", default_value_t = 24)]
    seed: u64,
    /// Delay added to every answer, in milliseconds.
    #[arg(long, env = "DS24_SANDBOX_LATENCY_MS", default_value_t = 0)]
    latency_ms: u64,
    /// Share of calls (0 to 1) that fail with HTTP 500.
    #[arg(long, env = "DS24_SANDBOX_FAULT_RATE", default_value_t = 0.0)]
    fault_rate: f64,
    /// Extra keys (each `sandbox-…`), each with its own separate account.
    #[arg(long = "extra-key", env = "DS24_SANDBOX_EXTRA_KEYS", value_delimiter = ',')]
    extra_keys: Vec<String>,
}

/// Parses the command line and runs it.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    // One-shot commands print their answer on stdout; keep stderr quiet unless asked.
    let quiet = matches!(cli.command, Command::Tools(_) | Command::Call(_) | Command::TestKey(_));
    // Held to the end: dropping it flushes the lines still in the log buffer.
    let _log_flush = init_logging(cli.log_format, if quiet { "warn" } else { "info" });
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.command)) {
        Ok(code) => code,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Lines the log writer holds before it drops new ones rather than block a call.
/// The channel allocates and touches every slot at start (32 B each), so this
/// is idle memory: 8,192 lines are 256 KiB and ~0.4 s of a stalled stderr at 20k calls/s.
const LOG_BUFFER_LINES: usize = 8 * 1024;

/// Logs go to stderr through a buffered writer on its own thread, so a tool
/// call never waits for the terminal or the log collector; when the buffer is
/// full, lines are dropped (and counted in `/metrics`), never waited for.
fn init_logging(format: LogFormat, default_level: &str) -> tracing_appender::non_blocking::WorkerGuard {
    use std::io::IsTerminal;
    // rmcp logs every message at debug and some at info; ours say what matters.
    let default = format!("{default_level},rmcp=warn");
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| default.into());
    let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .lossy(true)
        .buffered_lines_limit(LOG_BUFFER_LINES)
        .finish(std::io::stderr());
    crate::ops::metrics::count_dropped_log_lines(writer.error_counter());
    // Colours only for a person at a terminal; a log collector gets plain text.
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(writer).with_ansi(std::io::stderr().is_terminal());
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().flatten_event(true).init(),
    }
    guard
}

async fn run(command: Command) -> Result<ExitCode, String> {
    match command {
        Command::Serve(args) => serve(*args).await,
        Command::Stdio(args) => stdio(args).await,
        Command::Tools(args) => tools(args),
        Command::Call(args) => call(args).await,
        Command::TestKey(args) => test_key(args).await,
        Command::Sandbox(args) => run_sandbox(args).await,
    }
}

/// The MCP server and what it needs, built from the upstream flags.
struct Upstream {
    server: Ds24Server,
    sandbox_url: Option<String>,
}

impl UpstreamArgs {
    async fn build(&self) -> Result<Upstream, String> {
        self.build_with(|_| {}).await
    }

    /// Builds the server, letting the caller adjust the settings first.
    async fn build_with(&self, adjust: impl FnOnce(&mut ServerSettings)) -> Result<Upstream, String> {
        let filter = self.filter.build()?;
        let mut base_url = self.api_base_url.clone();
        let mut default_key = self.api_key.as_deref().and_then(ApiKey::new);
        let mut sandbox_url = None;
        if self.sandbox {
            let config = SandboxConfig { seed: self.sandbox_seed, extra_keys: self.sandbox_extra_keys.clone(), ..SandboxConfig::default() };
            let (addr, _task) =
                sandbox::spawn(config, ([127, 0, 0, 1], 0).into()).await.map_err(|e| format!("cannot start the sandbox: {e}"))?;
            base_url = format!("http://{addr}/api/call");
            default_key = default_key.or_else(|| ApiKey::new(sandbox::WRITABLE_KEY));
            sandbox_url = Some(base_url.clone());
        }
        let client = Client::new(ClientConfig {
            base_url,
            timeout: Duration::from_secs(self.timeout_secs.max(1)),
            observer: Some(crate::ops::metrics::upstream),
        })
        .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        let state_secret = match &self.state_secret {
            Some(secret) if secret.len() >= 16 => secret.as_bytes().to_vec(),
            Some(_) => return Err("--state-secret must be at least 16 characters".into()),
            None => random_secret(),
        };
        let allowed = clean(&self.allow_product_ids);
        let mut settings = ServerSettings {
            filter,
            default_key,
            confirm: self.confirm,
            limits: Limits {
                max_refund: self.max_refund_amount,
                max_charge: self.max_charge_amount,
                allowed_product_ids: (!allowed.is_empty()).then_some(allowed),
            },
            // Below these, not even one ordinary record would fit.
            result_bounds: Bounds { max_bytes: self.max_result_bytes.max(1024), max_tokens: self.max_result_tokens.max(256) },
            ..ServerSettings::new(state_secret)
        };
        adjust(&mut settings);
        let server = Ds24Server::new(client, settings);
        Ok(Upstream { server, sandbox_url })
    }
}

fn build_filter(toolsets: &[String], tools: &[String], read_only: bool) -> Result<ToolFilter, String> {
    // An empty flag (`--toolsets ""`) means not given, as it always has.
    fn given(values: &[String]) -> Option<impl Iterator<Item = &str>> {
        values.iter().any(|v| !v.trim().is_empty()).then(|| values.iter().map(String::as_str))
    }
    ToolFilter::parse(given(toolsets), given(tools), read_only).map_err(|unknown| unknown.message(None))
}

fn clean(values: &[String]) -> HashSet<String> {
    values.iter().map(|v| v.trim().to_owned()).filter(|v| !v.is_empty()).collect()
}

async fn serve(args: ServeArgs) -> Result<ExitCode, String> {
    let (limiter, cache) = args.ops().await?;
    let listener = tokio::net::TcpListener::bind(args.listen).await.map_err(|e| format!("cannot listen on {}: {e}", args.listen))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let opened = args.events.open(args.upstream.sandbox, addr, args.public_url.as_deref(), args.redis_url.as_deref()).await?;
    let (events, usage_store) = opened.map_or((None, None), |(events, usage)| (Some(events), Some(usage)));
    let recorder = args.usage.recorder(usage_store.clone());
    let shutdown = Shutdown::default();
    let upstream = args
        .upstream
        .build_with(|settings| {
            settings.stopping = shutdown.stop_accepting.clone();
            settings.limiter = limiter;
            settings.cache = cache;
            settings.read_retries = args.read_retries;
            settings.metrics_per_key = args.metrics_per_key;
            settings.events = events;
            settings.usage = recorder.clone();
        })
        .await?;
    let readiness = Readiness::default();
    let oauth = args.oauth(upstream.server.client()).await?;
    let config = HttpConfig {
        allowed_hosts: args.allowed_hosts.clone(),
        allowed_origins: args.allowed_origins.clone(),
        max_body_bytes: args.max_body_bytes,
        max_concurrency: args.max_concurrency,
        readiness: readiness.clone(),
        dashboard: args.dashboard(&upstream.server, oauth.as_ref(), usage_store)?,
        oauth,
        sse_keep_alive: http::SSE_KEEP_ALIVE,
    };
    let app = http::router(upstream.server.clone(), &config, shutdown.hard_stop.clone());
    let scheme = if args.tls_cert.is_some() { "https" } else { "http" };
    if let Some(oauth) = &config.oauth {
        say(format_args!("OAuth on: issuer {}, sign-in at {}/authorize", oauth.issuer(), oauth.issuer()));
    }
    let tool_count = upstream.server.tools().tools().len();
    say(format_args!("digistore24-mcp {} serving {tool_count} tools at {scheme}://{addr}/mcp", env!("CARGO_PKG_VERSION")));
    if let Some(url) = &upstream.sandbox_url {
        say(format_args!("upstream: built-in sandbox Digistore24 at {url}"));
        // With OAuth on, a request without credentials is told to sign in instead.
        let fallback = if config.oauth.is_some() { "" } else { ", used when a request sends no key" };
        say(format_args!("sandbox keys: {} (full access{fallback}), {} (read access)", sandbox::WRITABLE_KEY, sandbox::READONLY_KEY));
    } else {
        say(format_args!("upstream: {}", upstream.server.client().base_url()));
    }
    if let Some(dashboard) = &config.dashboard {
        let operator = if dashboard.config.operator_token.is_some() { ", operator's at /dashboard/operator" } else { "" };
        say(format_args!("usage dashboard at {scheme}://{addr}/dashboard{operator}"));
    }
    if let Some(events) = upstream.server.events() {
        let purchases =
            upstream.sandbox_url.as_ref().map(|u| format!("; sandbox purchases: POST {}", u.replace("/api/call", "/sandbox/purchases")));
        say(format_args!("IPN events: {} database, receiver at /ipn/{{token}}{}", events.store.backend(), purchases.unwrap_or_default()));
    }
    if let Some(recorder) = &recorder {
        say(format_args!(
            "usage recording: on (replica {}, raw rows kept {} days, hourly aggregates a year)",
            recorder.replica(),
            args.usage.usage_retention_days.max(1)
        ));
    }
    let delay = Duration::from_secs(args.shutdown_delay_secs);
    let grace = Duration::from_secs(args.shutdown_grace_secs);
    tokio::spawn(drain_on_signal(readiness, shutdown.clone(), delay, grace));
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => Some(http::TlsFiles { cert, key }),
        _ => None,
    };
    let served = http::serve(listener, app, &shutdown, tls).await;
    if let Some(recorder) = &recorder {
        // The calls are answered; their rows still queued go out now, within a bound.
        let flushed = recorder.flush(USAGE_FLUSH_WAIT).await;
        tracing::info!(flushed, written = recorder.rows_written(), dropped = recorder.rows_dropped(), "usage rows flushed");
    }
    served.map_err(|e| e.to_string())?;
    tracing::info!("stopped");
    Ok(ExitCode::SUCCESS)
}

/// Longest a graceful stop waits for queued usage rows to be written.
const USAGE_FLUSH_WAIT: Duration = Duration::from_secs(5);

/// Prints a status line; a closed stdout must not take the server down.
fn say(line: std::fmt::Arguments<'_>) {
    use std::io::Write;
    let _ = writeln!(std::io::stdout(), "{line}");
}

/// On SIGTERM/SIGINT: report not ready and keep serving for `delay` (so a
/// load balancer can stop sending), close the listener, let requests in
/// flight finish for up to `grace`, then stop.
async fn drain_on_signal(readiness: Readiness, shutdown: Shutdown, delay: Duration, grace: Duration) {
    wait_for_signal().await;
    tracing::info!(?delay, ?grace, "shutdown requested: draining");
    readiness.drain();
    tokio::time::sleep(delay).await;
    shutdown.stop_accepting.cancel();
    let deadline = tokio::time::Instant::now() + grace;
    // Connections taken from the queue at the close still send their request.
    tokio::time::sleep(Duration::from_millis(300).min(grace)).await;
    while readiness.in_flight() > 0 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    shutdown.close_connections.cancel();
    tokio::time::sleep_until(deadline).await;
    tracing::warn!("shutdown deadline passed: aborting calls still in flight");
    shutdown.hard_stop.cancel();
    // Connections that still linger must not keep the process alive.
    tokio::time::sleep(Duration::from_secs(2)).await;
    std::process::exit(0);
}

async fn wait_for_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).expect("SIGTERM handler");
        tokio::select! { _ = ctrl_c => {}, _ = term.recv() => {} }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

async fn stdio(args: UpstreamArgs) -> Result<ExitCode, String> {
    let upstream = args.build().await?;
    if upstream.server.key_for(None).is_none() {
        tracing::warn!("DS24_API_KEY is not set: tool calls will fail until it is (or use --sandbox)");
    }
    let service = upstream.server.serve(rmcp::transport::stdio()).await.map_err(|e| format!("MCP start-up failed: {e}"))?;
    service.waiting().await.map_err(|e| e.to_string())?;
    Ok(ExitCode::SUCCESS)
}

fn tools(args: ToolsArgs) -> Result<ExitCode, String> {
    let filter = args.filter.build()?;
    let list = ToolList::new(&filter);
    if args.cost {
        print_cost(&filter);
        return Ok(ExitCode::SUCCESS);
    }
    if args.json {
        say(format_args!("{}", serde_json::to_string_pretty(list.tools()).map_err(|e| e.to_string())?));
        return Ok(ExitCode::SUCCESS);
    }
    say(format_args!("{:<36} {:<17} EFFECT", "TOOL", "TOOLSET"));
    for f in catalog::all_tools().filter(|f| filter.allows(f)) {
        let effect = match (f.effect, f.idempotent) {
            (Effect::Read, _) => "read".to_string(),
            (e, true) => format!("{} (idempotent)", e.as_str()),
            (e, false) => e.as_str().to_string(),
        };
        say(format_args!("{:<36} {:<17} {effect}", f.name, f.toolset));
    }
    say(format_args!("{} tools", list.tools().len()));
    Ok(ExitCode::SUCCESS)
}

/// Context cost of each toolset's list and of the whole list.
fn print_cost(filter: &ToolFilter) {
    let bpe = bpe_openai::cl100k_base();
    let tokens = |tools: &[rmcp::model::Tool]| bpe.count(&serde_json::to_string(tools).unwrap_or_default());
    say(format_args!("{:<17} {:>5} {:>7}", "TOOLSET", "TOOLS", "TOKENS"));
    for set in TOOLSETS.iter().chain([&LOCAL_TOOLSET]) {
        let mut narrowed = filter.clone();
        narrowed.toolsets = Some(match &filter.toolsets {
            Some(allowed) if !allowed.contains(*set) => continue,
            _ => [set.to_string()].into(),
        });
        let list = ToolList::new(&narrowed);
        if !list.tools().is_empty() {
            say(format_args!("{:<17} {:>5} {:>7}", set, list.tools().len(), tokens(list.tools())));
        }
    }
    let all = ToolList::new(filter);
    say(format_args!("{:<17} {:>5} {:>7}", "all", all.tools().len(), tokens(all.tools())));
}

async fn call(args: CallArgs) -> Result<ExitCode, String> {
    let arguments: serde_json::Value = serde_json::from_str(&args.arguments).map_err(|e| format!("arguments are not valid JSON: {e}"))?;
    let serde_json::Value::Object(arguments) = arguments else {
        return Err("arguments must be a JSON object, e.g. '{\"purchase_id\":\"ABC\"}'".into());
    };
    let upstream = args.upstream.build().await?;
    let result = upstream.server.call(&args.name, Some(arguments), None).await.map_err(|e| e.message.to_string())?;
    let failed = result.is_error == Some(true);
    match &result.structured_content {
        Some(value) => say(format_args!("{}", serde_json::to_string_pretty(value).map_err(|e| e.to_string())?)),
        None => {
            for block in &result.content {
                if let Some(text) = block.as_text() {
                    if failed { eprintln!("{}", text.text) } else { say(format_args!("{}", text.text)) }
                }
            }
        }
    }
    Ok(if failed { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}

async fn test_key(args: UpstreamArgs) -> Result<ExitCode, String> {
    let upstream = args.build().await?;
    let Some(key) = upstream.server.key_for(None) else {
        return Err("DS24_API_KEY is not set".into());
    };
    match upstream.server.client().ping(&key).await {
        Ok(data) => {
            let time = data.get("server_time").and_then(|t| t.as_str()).unwrap_or("?");
            say(format_args!("key {key} works: Digistore24 answered ping (server time {time})"));
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            say(format_args!("key {key} does not work: {e}"));
            Ok(ExitCode::FAILURE)
        }
    }
}

async fn run_sandbox(args: SandboxArgs) -> Result<ExitCode, String> {
    let config = SandboxConfig { seed: args.seed, latency_ms: args.latency_ms, fault_rate: args.fault_rate, extra_keys: args.extra_keys };
    let (addr, task) =
        sandbox::spawn(config, args.listen).await.map_err(|e| format!("cannot start the sandbox on {}: {e}", args.listen))?;
    say(format_args!("sandbox Digistore24 API at http://{addr}/api/call/{{function}}"));
    say(format_args!("keys: {} (full access), {} (read access)", sandbox::WRITABLE_KEY, sandbox::READONLY_KEY));
    tokio::select! {
        _ = task => {},
        _ = tokio::signal::ctrl_c() => {},
    }
    Ok(ExitCode::SUCCESS)
}
