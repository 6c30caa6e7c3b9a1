//! Writing off the request path: a bounded queue to one thread that owns
//! the database connection.
//!
//! A decision only pushes its record into the queue. The thread writes in
//! batches; when the database fails, the batch waits in memory and is
//! retried every half second, so records logged while the database is down
//! are written when it returns. Past the memory bound, and when the writer
//! closes with the database still down, records go to a spill file (JSON
//! lines beside the SQLite file, or in the working folder for PostgreSQL),
//! which the next writer on the same log replays first. Only a full queue
//! or a spill file past its bound drops a record, counted and logged as an
//! error, never silently.

use std::collections::VecDeque;
use std::io::{BufRead, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender, TryRecvError, TrySendError};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::{LogError, Record, Row, Store};

/// Records waiting in the queue before the writer takes them.
const QUEUE: usize = 10_000;
/// Records kept in memory while the database is down.
const WAITING: usize = 200_000;
/// Records written per transaction, at most: a record costs a fifth less
/// in transactions of 1,000 than of 100 (benches/record.rs), and a busy
/// service gathers 1,000 in about the `GATHER` time anyway.
const BATCH: usize = 1000;
/// How long the writer gathers records into one transaction, in steps.
const GATHER: Duration = Duration::from_millis(100);
const GATHER_STEPS: u32 = 20;
/// Largest spill file; past it records are dropped (and counted).
const SPILL_BYTES: u64 = 512 * 1024 * 1024;
/// How long a closing writer waits for a down database before spilling.
const GRACE: Duration = Duration::from_secs(10);

/// How a writer buffers what the database cannot take yet.
#[derive(Debug, Clone)]
pub struct Buffering {
    /// Records kept in memory while the database is down.
    pub waiting: usize,
    /// Where records past `waiting`, or left at close, are kept.
    pub spill: Option<PathBuf>,
    /// How long closing waits for the database before spilling.
    pub grace: Duration,
}

impl Default for Buffering {
    fn default() -> Self {
        Self {
            waiting: WAITING,
            spill: None,
            grace: GRACE,
        }
    }
}

/// The spill file of the log at `address`: beside a SQLite file, in the
/// working folder for a server.
pub fn spill_path(address: &str) -> PathBuf {
    if address.contains("://") && !address.starts_with("sqlite://") {
        PathBuf::from("roteiro-log.spill.jsonl")
    } else {
        PathBuf::from(format!("{}.spill.jsonl", address.trim_start_matches("sqlite://")))
    }
}

/// Counters of the writer, for `/metrics`.
#[derive(Debug, Default)]
pub struct WriterCounts {
    /// Records written.
    pub written: AtomicU64,
    /// Failed writes (each retried).
    pub failures: AtomicU64,
    /// Records dropped because every buffer was full.
    pub dropped: AtomicU64,
    /// Records written to the spill file.
    pub spilled: AtomicU64,
}

/// The handle decisions log through.
pub struct LogWriter {
    sender: Option<SyncSender<Row>>,
    thread: Option<JoinHandle<()>>,
    counts: Arc<WriterCounts>,
}

impl LogWriter {
    /// Starts writing to `store` on a thread of its own, keeping in memory
    /// what the database cannot take yet (no spill file).
    pub fn start(store: Box<dyn Store>) -> Self {
        Self::start_with(store, Buffering::default())
    }

    /// Starts writing to `store`, buffering as `buffering` says.
    pub fn start_with(store: Box<dyn Store>, buffering: Buffering) -> Self {
        let (sender, receiver) = mpsc::sync_channel(QUEUE);
        let counts = Arc::new(WriterCounts::default());
        let thread_counts = counts.clone();
        let thread = std::thread::Builder::new()
            .name("roteiro-log".into())
            .spawn(move || write_loop(store, &receiver, &thread_counts, &buffering))
            .ok();
        Self {
            sender: Some(sender),
            thread,
            counts,
        }
    }

    /// Opens the database at `address` and starts writing to it, with its
    /// spill file (see [`spill_path`]).
    pub fn open(address: &str) -> Result<Self, LogError> {
        let buffering = Buffering {
            spill: Some(spill_path(address)),
            ..Buffering::default()
        };
        Ok(Self::start_with(crate::open(address)?, buffering))
    }

    /// Queues one record; never blocks.
    pub fn log(&self, record: Row) {
        let Some(sender) = &self.sender else { return };
        if let Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) = sender.try_send(record) {
            self.counts.dropped.fetch_add(1, Ordering::Relaxed);
            tracing::error!("log de decisões cheio: um registro foi descartado");
        }
    }

    /// The writer's counters.
    pub fn counts(&self) -> &WriterCounts {
        &self.counts
    }

    /// Writes everything queued (trying for a while if the database is
    /// down) and stops the thread.
    pub fn close(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        drop(self.sender.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for LogWriter {
    fn drop(&mut self) {
        self.shutdown();
    }
}

fn write_loop(mut store: Box<dyn Store>, receiver: &Receiver<Row>, counts: &WriterCounts, buffering: &Buffering) {
    let spill = buffering.spill.as_deref();
    // What an earlier writer spilled goes first.
    let mut waiting: VecDeque<Row> = spill.map(|path| take_spilled(path, counts)).unwrap_or_default().into();
    let mut open = true;
    let mut closing_since: Option<Instant> = None;
    loop {
        if open {
            let timeout = if waiting.is_empty() {
                Duration::from_secs(3600)
            } else {
                Duration::from_millis(500)
            };
            match receiver.recv_timeout(timeout) {
                Ok(record) => waiting.push_back(record),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => open = false,
            }
            // Gather a batch for a moment before writing: one transaction
            // for many decisions costs a busy service far less than one
            // each. The queue is kept moving all the while, and what memory
            // cannot hold goes to the spill file.
            // Counted in short sleeps, not against a deadline: a deadline
            // read from a faked clock (tests run under libfaketime) can
            // make a timed wait last until the next record arrives.
            for _ in 0..GATHER_STEPS {
                loop {
                    match receiver.try_recv() {
                        Ok(record) => waiting.push_back(record),
                        Err(TryRecvError::Empty) => break,
                        Err(TryRecvError::Disconnected) => {
                            open = false;
                            break;
                        }
                    }
                    if waiting.len() >= BATCH {
                        break;
                    }
                }
                if !open || waiting.len() >= BATCH {
                    break;
                }
                std::thread::sleep(GATHER / GATHER_STEPS);
            }
            while let Ok(record) = receiver.try_recv() {
                waiting.push_back(record);
                if waiting.len() > buffering.waiting {
                    let excess: Vec<Row> = waiting.drain(buffering.waiting..).collect();
                    spill_or_drop(spill, &excess, counts);
                }
            }
        }
        while !waiting.is_empty() {
            // The batch is written from where it waits: a failed write
            // leaves it in place for the next try, and nothing is copied.
            let size = waiting.len().min(BATCH);
            let batch = waiting.make_contiguous().get(..size).unwrap_or_default();
            match store.append(batch) {
                Ok(()) => {
                    waiting.drain(..size);
                    counts.written.fetch_add(size as u64, Ordering::Relaxed);
                    // The database is back: what was spilled follows.
                    if waiting.is_empty() {
                        if let Some(path) = spill {
                            waiting.extend(take_spilled(path, counts));
                        }
                    }
                }
                Err(err) => {
                    counts.failures.fetch_add(1, Ordering::Relaxed);
                    tracing::error!(
                        "não foi possível gravar {} decisões no log: {err}; nova tentativa em breve",
                        waiting.len()
                    );
                    break;
                }
            }
        }
        if !open {
            // Closing: give a down database a while to come back, then keep
            // the rest in the spill file for the next writer.
            let since = *closing_since.get_or_insert_with(Instant::now);
            if waiting.is_empty() {
                return;
            }
            if since.elapsed() >= buffering.grace {
                let rest: Vec<Row> = waiting.drain(..).collect();
                spill_or_drop(spill, &rest, counts);
                return;
            }
            std::thread::sleep(Duration::from_millis(500).min(buffering.grace));
        }
    }
}

/// Appends `records` to the spill file, or counts them dropped when there
/// is none, it is full, or it cannot be written.
fn spill_or_drop(spill: Option<&Path>, records: &[Row], counts: &WriterCounts) {
    if records.is_empty() {
        return;
    }
    match spill.map(|path| append_spill(path, records)) {
        Some(Ok(())) => {
            counts.spilled.fetch_add(records.len() as u64, Ordering::Relaxed);
            tracing::warn!("{} decisões guardadas no arquivo de espera do log", records.len());
        }
        failed => {
            counts.dropped.fetch_add(records.len() as u64, Ordering::Relaxed);
            let why = match failed {
                Some(Err(err)) => err.to_string(),
                _ => "sem arquivo de espera".to_string(),
            };
            tracing::error!("{} decisões não gravadas no log: {why}", records.len());
        }
    }
}

/// Spilled rows are written as the records they read back as (JSON lines),
/// a format that does not change with the columns.
fn append_spill(path: &Path, records: &[Row]) -> std::io::Result<()> {
    let size = std::fs::metadata(path).map_or(0, |meta| meta.len());
    if size >= SPILL_BYTES {
        return Err(std::io::Error::other(format!(
            "o arquivo de espera {} passou de {SPILL_BYTES} bytes",
            path.display()
        )));
    }
    let mut file = std::fs::OpenOptions::new().create(true).append(true).open(path)?;
    let mut text = String::new();
    for record in records {
        text.push_str(&serde_json::to_string(&record.record()).map_err(std::io::Error::other)?);
        text.push('\n');
    }
    file.write_all(text.as_bytes())?;
    file.sync_data()
}

/// The records of the spill file, which is then removed; a line that is
/// not a record (a torn last write) is counted dropped and skipped.
fn take_spilled(path: &Path, counts: &WriterCounts) -> Vec<Row> {
    let Ok(file) = std::fs::File::open(path) else {
        return Vec::new();
    };
    let mut records = Vec::new();
    // Bounded by SPILL_BYTES when written; read no more than that.
    let reader = std::io::BufReader::new(file.take(SPILL_BYTES + 1024 * 1024));
    for line in reader.lines() {
        match line.map(|line| serde_json::from_str::<Record>(&line)) {
            Ok(Ok(record)) => records.push(Row::from_record(&record)),
            _ => {
                counts.dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
    if let Err(err) = std::fs::remove_file(path) {
        tracing::error!("não foi possível remover o arquivo de espera {}: {err}", path.display());
    } else if !records.is_empty() {
        tracing::info!("{} decisões do arquivo de espera voltam ao log", records.len());
    }
    records
}

#[cfg(test)]
mod tests {

    use std::sync::atomic::AtomicBool;
    use std::sync::Mutex;

    use super::*;
    use crate::Filter;

    /// A store that fails while `down` is set and keeps what it accepts.
    struct Flaky {
        down: Arc<AtomicBool>,
        kept: Arc<Mutex<Vec<Record>>>,
    }

    impl Store for Flaky {
        fn append(&mut self, rows: &[Row]) -> Result<(), LogError> {
            if self.down.load(Ordering::SeqCst) {
                return Err(LogError::Address("fora do ar".into()));
            }
            self.kept.lock().unwrap().extend(rows.iter().map(Row::record));
            Ok(())
        }
        fn read(&mut self, _: &Filter) -> Result<Vec<Record>, LogError> {
            Ok(self.kept.lock().unwrap().clone())
        }
        fn prune(&mut self, _: chrono::DateTime<chrono::Utc>) -> Result<u64, LogError> {
            Ok(0)
        }
    }

    #[test]
    fn what_memory_and_a_down_database_cannot_hold_is_spilled_and_replayed_later() {
        let spill = std::env::temp_dir().join(format!("roteiro-spill-{}.jsonl", std::process::id()));
        let _ = std::fs::remove_file(&spill);
        let down = Arc::new(AtomicBool::new(true));
        let kept = Arc::new(Mutex::new(Vec::new()));
        let buffering = Buffering {
            waiting: 5,
            spill: Some(spill.clone()),
            grace: Duration::ZERO,
        };
        let store = Flaky {
            down: down.clone(),
            kept: kept.clone(),
        };
        let writer = LogWriter::start_with(Box::new(store), buffering.clone());
        for n in 0..40 {
            writer.log(crate::tests::row(n));
        }
        let counts = writer.counts.clone();
        writer.close();
        assert!(kept.lock().unwrap().is_empty(), "the database was down");
        assert_eq!(
            counts.spilled.load(Ordering::SeqCst),
            40,
            "past memory and at close, all spilled"
        );
        assert_eq!(counts.dropped.load(Ordering::SeqCst), 0, "nothing dropped");
        assert!(spill.exists());

        // The database is back: the next writer on the same log replays the spill.
        down.store(false, Ordering::SeqCst);
        let store = Flaky {
            down,
            kept: kept.clone(),
        };
        let writer = LogWriter::start_with(Box::new(store), buffering);
        writer.close();
        let mut written: Vec<i64> = kept.lock().unwrap().iter().map(|r| r.latency_us).collect();
        written.sort_unstable();
        assert_eq!(written, (0..40).collect::<Vec<_>>(), "every record, once");
        assert!(!spill.exists(), "the spill file is removed once replayed");
    }
}
