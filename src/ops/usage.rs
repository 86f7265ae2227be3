//! Recording usage rows without ever holding up a tool call: a bounded queue
//! that calls put rows into with `try_send` (a full queue drops the row and
//! counts it), one writer task per process that writes batches, a heartbeat
//! of this replica's counters, and the pruning of old rows. Also the meter of
//! one call: the time spent waiting for Digistore24 and how a confirmation
//! ended, noted by the pipeline's stages as they run.
//!
//! Owns: batching, retries, the counters of written and dropped rows, the
//! replica name, retention. Must not touch: what a row holds or how it is
//! stored (see [`crate::store::usage`]), or MCP types (the pipeline builds
//! the row).

use crate::ops::metrics;
use crate::store::now_ms;
use crate::store::usage::{ReplicaHealth, UsageRow, UsageStore};
use std::cell::Cell;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::{CancellationToken, DropGuard};

/// Days raw rows are kept by default (`--usage-retention-days`).
pub const DEFAULT_RETENTION_DAYS: u32 = 30;
/// Days the hourly aggregates are kept: a year of dashboards.
pub const HOURLY_RETENTION_DAYS: u32 = 365;

/// How the recorder batches, retries and reports; [`Default`] is the production setting.
#[derive(Debug, Clone)]
pub struct RecorderConfig {
    /// This replica's name in its heartbeat row.
    pub replica: String,
    /// Days raw rows are kept.
    pub retention_days: u32,
    /// Rows queued at most; more are dropped (and counted).
    pub capacity: usize,
    /// Most rows per write.
    pub batch_rows: usize,
    /// Longest a row waits for its batch to fill.
    pub batch_wait: Duration,
    /// Tries of one batch before its rows count as dropped.
    pub write_attempts: u32,
    /// Longest one try may take (an unreachable database must not stall the writer).
    pub write_timeout: Duration,
    /// How often the heartbeat row is written.
    pub heartbeat_every: Duration,
    /// How often old rows are pruned.
    pub prune_every: Duration,
}

impl Default for RecorderConfig {
    fn default() -> Self {
        RecorderConfig {
            replica: default_replica_name(),
            retention_days: DEFAULT_RETENTION_DAYS,
            capacity: 16_384,
            batch_rows: 500,
            batch_wait: Duration::from_millis(250),
            write_attempts: 3,
            write_timeout: Duration::from_secs(5),
            heartbeat_every: Duration::from_secs(30),
            prune_every: Duration::from_secs(3600),
        }
    }
}

/// `hostname-pid`: unique per process, and readable on the operator's page.
pub fn default_replica_name() -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/proc/sys/kernel/hostname").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "replica".into());
    format!("{host}-{}", std::process::id())
}

#[derive(Debug, Default)]
struct Counters {
    written: AtomicU64,
    dropped: AtomicU64,
}

impl Counters {
    fn wrote(&self, rows: u64) {
        self.written.fetch_add(rows, Ordering::Relaxed);
        metrics::usage_rows_written(rows);
    }

    fn dropped(&self, rows: u64) {
        self.dropped.fetch_add(rows, Ordering::Relaxed);
        metrics::usage_rows_dropped(rows);
    }

    fn health(&self, replica: &str) -> ReplicaHealth {
        ReplicaHealth {
            replica: replica.to_owned(),
            last_seen_ms: now_ms(),
            rows_dropped: self.dropped.load(Ordering::Relaxed) as i64,
            rows_written: self.written.load(Ordering::Relaxed) as i64,
        }
    }
}

/// The process's usage recorder; its tasks stop when it is dropped.
pub struct Recorder {
    rows: mpsc::Sender<UsageRow>,
    flushes: mpsc::Sender<oneshot::Sender<()>>,
    counters: Arc<Counters>,
    store: Arc<dyn UsageStore>,
    replica: String,
    _stop: DropGuard,
}

impl std::fmt::Debug for Recorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recorder").field("replica", &self.replica).field("counters", &self.counters).finish_non_exhaustive()
    }
}

impl Recorder {
    /// Starts the writer, heartbeat and pruning tasks (on the current runtime).
    pub fn start(store: Arc<dyn UsageStore>, config: RecorderConfig) -> Arc<Recorder> {
        let (rows, rows_rx) = mpsc::channel(config.capacity.max(1));
        let (flushes, flushes_rx) = mpsc::channel(16);
        let counters = Arc::new(Counters::default());
        // Present in /metrics from the start, so an alert on them has a series.
        metrics::usage_rows_written(0);
        metrics::usage_rows_dropped(0);
        let stop = CancellationToken::new();
        let writer = Writer { store: store.clone(), counters: counters.clone(), config: config.clone() };
        tokio::spawn(writer.run(rows_rx, flushes_rx));
        tokio::spawn(heartbeat(store.clone(), counters.clone(), config.clone(), stop.clone()));
        tokio::spawn(prune(store.clone(), config.clone(), stop.clone()));
        Arc::new(Recorder { rows, flushes, counters, store, replica: config.replica, _stop: stop.drop_guard() })
    }

    /// Queues a row; never waits. A full queue drops it, counted.
    pub fn record(&self, row: UsageRow) {
        if self.rows.try_send(row).is_err() {
            self.counters.dropped(1);
        }
    }

    /// Writes everything queued so far; `false` when that took longer than `within`.
    pub async fn flush(&self, within: Duration) -> bool {
        let (done, written) = oneshot::channel();
        let asked = async { self.flushes.send(done).await.is_ok() && written.await.is_ok() };
        tokio::time::timeout(within, asked).await.unwrap_or(false)
    }

    /// Rows written since start.
    pub fn rows_written(&self) -> u64 {
        self.counters.written.load(Ordering::Relaxed)
    }

    /// Rows dropped since start (queue full, or the database failed every try).
    pub fn rows_dropped(&self) -> u64 {
        self.counters.dropped.load(Ordering::Relaxed)
    }

    /// The database the rows go to, for the dashboards' reports.
    pub fn store(&self) -> &Arc<dyn UsageStore> {
        &self.store
    }

    /// This replica's name in its heartbeat row.
    pub fn replica(&self) -> &str {
        &self.replica
    }
}

struct Writer {
    store: Arc<dyn UsageStore>,
    counters: Arc<Counters>,
    config: RecorderConfig,
}

impl Writer {
    /// Ends when the recorder (every sender) is gone, after writing what is left.
    async fn run(self, mut rows: mpsc::Receiver<UsageRow>, mut flushes: mpsc::Receiver<oneshot::Sender<()>>) {
        let limit = self.config.batch_rows.max(1);
        let mut batch = Vec::with_capacity(limit);
        loop {
            tokio::select! {
                biased;
                Some(done) = flushes.recv() => {
                    while let Ok(row) = rows.try_recv() {
                        batch.push(row);
                        if batch.len() >= limit {
                            self.write(&mut batch).await;
                        }
                    }
                    self.write(&mut batch).await;
                    let _ = done.send(());
                }
                got = rows.recv_many(&mut batch, limit) => {
                    if got == 0 {
                        break;
                    }
                    // Under load the batch fills at once; when quiet, a row waits at most batch_wait.
                    let deadline = tokio::time::Instant::now() + self.config.batch_wait;
                    while batch.len() < limit {
                        let room = limit - batch.len();
                        match tokio::time::timeout_at(deadline, rows.recv_many(&mut batch, room)).await {
                            Ok(0) | Err(_) => break,
                            Ok(_) => {}
                        }
                    }
                    self.write(&mut batch).await;
                }
            }
        }
        self.write(&mut batch).await;
    }

    /// Writes the batch (a bounded number of tries), else counts it dropped; empties it.
    async fn write(&self, batch: &mut Vec<UsageRow>) {
        if batch.is_empty() {
            return;
        }
        let rows = batch.len() as u64;
        // One name for every try of this batch: a try whose commit went
        // through but whose answer was lost is not counted again.
        let name = uuid::Uuid::new_v4().simple().to_string();
        let attempts = self.config.write_attempts.max(1);
        for attempt in 1..=attempts {
            let started = Instant::now();
            match tokio::time::timeout(self.config.write_timeout, self.store.insert_usage(&name, batch)).await {
                Ok(Ok(())) => {
                    self.counters.wrote(rows);
                    tracing::trace!(rows, ms = started.elapsed().as_secs_f64() * 1000.0, "usage rows written");
                    batch.clear();
                    return;
                }
                Ok(Err(e)) => tracing::warn!(error = %e, attempt, rows, "writing usage rows failed"),
                Err(_) => tracing::warn!(timeout = ?self.config.write_timeout, attempt, rows, "writing usage rows timed out"),
            }
            if attempt < attempts {
                tokio::time::sleep(Duration::from_millis(200) * attempt).await;
            }
        }
        tracing::warn!(rows, "usage rows dropped after {attempts} failed writes");
        self.counters.dropped(rows);
        batch.clear();
    }
}

/// Writes this replica's counters now and then (the first at once).
async fn heartbeat(store: Arc<dyn UsageStore>, counters: Arc<Counters>, config: RecorderConfig, stop: CancellationToken) {
    let mut tick = tokio::time::interval(config.heartbeat_every.max(Duration::from_millis(10)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tick.tick() => {}
        }
        let health = counters.health(&config.replica);
        let beat = tokio::select! {
            _ = stop.cancelled() => return,
            beat = tokio::time::timeout(config.write_timeout, store.heartbeat(&health)) => beat,
        };
        match beat {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "usage heartbeat failed"),
            Err(_) => tracing::warn!("usage heartbeat timed out"),
        }
    }
}

/// Deletes raw rows after `retention_days` and aggregates after a year (the first at once).
async fn prune(store: Arc<dyn UsageStore>, config: RecorderConfig, stop: CancellationToken) {
    let mut tick = tokio::time::interval(config.prune_every.max(Duration::from_millis(10)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tick.tick() => {}
        }
        let now = now_ms();
        let raw_before = now - i64::from(config.retention_days.max(1)) * 86_400_000;
        let hourly_before = now - i64::from(HOURLY_RETENTION_DAYS) * 86_400_000;
        let pruned = tokio::select! {
            _ = stop.cancelled() => return,
            pruned = store.prune_usage(raw_before, hourly_before) => pruned,
        };
        match pruned {
            Ok(0) => {}
            Ok(deleted) => tracing::info!(deleted, retention_days = config.retention_days, "old usage rows pruned"),
            Err(e) => tracing::warn!(error = %e, "pruning usage rows failed"),
        }
    }
}

/// What the stages of one call noted while it ran.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Metered {
    /// Time inside the Digistore24 client, microseconds.
    pub upstream_us: i64,
    /// A confirmation round ended accepted (`true`) or declined (`false`).
    pub confirmed: Option<bool>,
}

#[derive(Default)]
struct Meter {
    upstream_us: Cell<i64>,
    confirmed: Cell<Option<bool>>,
}

tokio::task_local! {
    static METER: Meter;
}

/// Runs one call with a fresh meter and returns what its stages noted.
pub async fn metered<F: Future>(call: F) -> (F::Output, Metered) {
    METER
        .scope(Meter::default(), async move {
            let output = call.await;
            let noted = METER.with(|m| Metered { upstream_us: m.upstream_us.get(), confirmed: m.confirmed.get() });
            (output, noted)
        })
        .await
}

/// Awaits a Digistore24 request, adding its time to the call's meter.
pub async fn upstream<F: Future>(request: F) -> F::Output {
    let started = Instant::now();
    let output = request.await;
    let spent = started.elapsed().as_micros() as i64;
    let _ = METER.try_with(|m| m.upstream_us.set(m.upstream_us.get() + spent));
    output
}

/// Notes how the call's confirmation round ended.
pub fn note_confirmation(accepted: bool) {
    let _ = METER.try_with(|m| m.confirmed.set(Some(accepted)));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::StoreError;
    use crate::store::usage::{OperatorReport, Period, UsageReport};
    use futures::future::BoxFuture;
    use std::sync::Mutex;
    use std::sync::atomic::AtomicBool;

    /// A store that keeps batches in memory (a batch name once, as the
    /// databases do), fails while `failing` is set, or with `losing_answers`
    /// commits each batch and then reports a failure the first time.
    #[derive(Default)]
    struct MemoryStore {
        batches: Mutex<Vec<usize>>,
        names: Mutex<std::collections::HashSet<String>>,
        failing: AtomicBool,
        losing_answers: AtomicBool,
        heartbeats: Mutex<Vec<ReplicaHealth>>,
    }

    impl UsageStore for MemoryStore {
        fn insert_usage<'a>(&'a self, batch: &'a str, rows: &'a [UsageRow]) -> BoxFuture<'a, Result<(), StoreError>> {
            Box::pin(async move {
                if self.failing.load(Ordering::SeqCst) {
                    return Err(StoreError::Corrupt("down".into()));
                }
                if self.names.lock().unwrap().insert(batch.to_owned()) {
                    self.batches.lock().unwrap().push(rows.len());
                    if self.losing_answers.load(Ordering::SeqCst) {
                        return Err(StoreError::Corrupt("committed, but the answer was lost".into()));
                    }
                }
                Ok(())
            })
        }
        fn usage_report<'a>(&'a self, _: &'a str, _: Option<&'a str>, _: Period) -> BoxFuture<'a, Result<UsageReport, StoreError>> {
            unreachable!()
        }
        fn operator_report(&self, _: Period) -> BoxFuture<'_, Result<OperatorReport, StoreError>> {
            unreachable!()
        }
        fn heartbeat<'a>(&'a self, health: &'a ReplicaHealth) -> BoxFuture<'a, Result<(), StoreError>> {
            Box::pin(async move {
                self.heartbeats.lock().unwrap().push(health.clone());
                Ok(())
            })
        }
        fn prune_usage(&self, _: i64, _: i64) -> BoxFuture<'_, Result<u64, StoreError>> {
            Box::pin(async { Ok(0) })
        }
    }

    fn row() -> UsageRow {
        UsageRow {
            at_ms: now_ms(),
            tenant: "t".into(),
            vendor_id: None,
            tool: "listProducts".into(),
            class: "success".into(),
            detail: "success".into(),
            duration_us: 1000,
            upstream_us: 500,
            answer_bytes: 10,
            upstream_code: None,
            confirmed: None,
            era: "2026-07-28".into(),
            transport: "http".into(),
        }
    }

    fn quick(capacity: usize) -> RecorderConfig {
        RecorderConfig {
            replica: "test".into(),
            capacity,
            batch_rows: 100,
            batch_wait: Duration::from_millis(20),
            write_attempts: 2,
            write_timeout: Duration::from_secs(1),
            heartbeat_every: Duration::from_millis(50),
            ..RecorderConfig::default()
        }
    }

    #[tokio::test]
    async fn rows_are_written_in_batches_and_counted() {
        let store = Arc::new(MemoryStore::default());
        let recorder = Recorder::start(store.clone(), quick(1000));
        for _ in 0..250 {
            recorder.record(row());
        }
        assert!(recorder.flush(Duration::from_secs(5)).await);
        let batches = store.batches.lock().unwrap().clone();
        assert_eq!(batches.iter().sum::<usize>(), 250);
        assert!(batches.iter().all(|&n| n <= 100), "no batch over batch_rows: {batches:?}");
        assert_eq!((recorder.rows_written(), recorder.rows_dropped()), (250, 0));
        tokio::time::sleep(Duration::from_millis(120)).await;
        let beat = store.heartbeats.lock().unwrap().last().cloned().expect("a heartbeat");
        assert_eq!((beat.replica.as_str(), beat.rows_written), ("test", 250));
    }

    #[tokio::test]
    async fn a_failing_database_drops_rows_after_the_tries_and_a_full_queue_drops_at_once() {
        let store = Arc::new(MemoryStore::default());
        store.failing.store(true, Ordering::SeqCst);
        let recorder = Recorder::start(store.clone(), quick(10));
        // `record` is not async: it cannot wait for the database, it only queues or drops.
        for _ in 0..1000 {
            recorder.record(row());
        }
        assert!(recorder.flush(Duration::from_secs(10)).await);
        assert_eq!(recorder.rows_written(), 0);
        assert_eq!(recorder.rows_dropped(), 1000, "every row is either written or counted as dropped");
        store.failing.store(false, Ordering::SeqCst);
        recorder.record(row());
        assert!(recorder.flush(Duration::from_secs(5)).await);
        assert_eq!(recorder.rows_written(), 1, "writing resumes when the database is back");
    }

    #[tokio::test]
    async fn a_batch_retried_after_its_commit_is_counted_once() {
        let store = Arc::new(MemoryStore::default());
        store.losing_answers.store(true, Ordering::SeqCst);
        let recorder = Recorder::start(store.clone(), quick(1000));
        for _ in 0..250 {
            recorder.record(row());
        }
        assert!(recorder.flush(Duration::from_secs(5)).await);
        assert_eq!(store.batches.lock().unwrap().iter().sum::<usize>(), 250, "each row stored once");
        assert_eq!((recorder.rows_written(), recorder.rows_dropped()), (250, 0));
    }

    #[tokio::test]
    async fn the_meter_adds_upstream_time_and_the_confirmation_of_its_own_call_only() {
        let (_, noted) = metered(async {
            upstream(tokio::time::sleep(Duration::from_millis(5))).await;
            upstream(tokio::time::sleep(Duration::from_millis(5))).await;
            note_confirmation(true);
        })
        .await;
        assert!(noted.upstream_us >= 10_000, "{noted:?}");
        assert_eq!(noted.confirmed, Some(true));
        let (_, other) = metered(async {}).await;
        assert_eq!(other, Metered::default());
        // Outside a metered call nothing is noted and nothing fails.
        upstream(async {}).await;
        note_confirmation(false);
    }
}
