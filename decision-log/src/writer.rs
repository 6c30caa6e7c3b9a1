//! Writing off the request path: a bounded queue to one thread that owns
//! the database connection.
//!
//! Two durabilities. `Commit` (the default): a record comes with an
//! acknowledgement, called once the batch holding it is committed (or,
//! with the database down, once it is in the fsynced spill file), so an
//! answer given after it means "on disk"; batches are whatever queued
//! while the last commit ran (group commit), with no wait to gather more,
//! and SQLite syncs each commit (`synchronous=FULL`). `Buffered`: a
//! decision only pushes its record into the queue; the thread gathers
//! batches for up to 100 ms; when the database fails, the batch waits in
//! memory and is retried every half second, so records logged while the
//! database is down are written when it returns. Past the memory bound, and when the writer
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

/// What a logged decision's answer may promise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Durability {
    /// Answered once committed: nothing answered is lost on a crash, nor
    /// (SQLite `synchronous=FULL`) on a power cut.
    #[default]
    Commit,
    /// Answered at once, written within about 100 ms: a crash loses what
    /// was queued, a power cut the last commits (`synchronous=NORMAL`).
    Buffered,
}

/// Called once a record is on disk (`true`), or known lost (`false`).
pub type Ack = Box<dyn FnOnce(bool) + Send>;

/// How a writer buffers what the database cannot take yet.
#[derive(Debug, Clone)]
pub struct Buffering {
    /// Records kept in memory while the database is down.
    pub waiting: usize,
    /// Where records past `waiting`, or left at close, are kept.
    pub spill: Option<PathBuf>,
    /// How long closing waits for the database before spilling.
    pub grace: Duration,
    /// What an answer may promise.
    pub durability: Durability,
}

impl Default for Buffering {
    fn default() -> Self {
        Self {
            waiting: WAITING,
            spill: None,
            grace: GRACE,
            durability: Durability::default(),
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
    sender: Option<SyncSender<(Row, Option<Ack>)>>,
    thread: Option<JoinHandle<()>>,
    counts: Arc<WriterCounts>,
    durability: Durability,
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
        let durability = buffering.durability;
        let thread = std::thread::Builder::new()
            .name("roteiro-log".into())
            .spawn(move || write_loop(store, &receiver, &thread_counts, &buffering))
            .ok();
        Self {
            sender: Some(sender),
            thread,
            counts,
            durability,
        }
    }

    /// Opens the database at `address` and starts writing to it, with its
    /// spill file (see [`spill_path`]), as durable as [`Durability::Commit`].
    pub fn open(address: &str) -> Result<Self, LogError> {
        Self::open_with(address, Durability::Commit)
    }

    /// Opens the database at `address` with `durability`.
    pub fn open_with(address: &str, durability: Durability) -> Result<Self, LogError> {
        let buffering = Buffering {
            spill: Some(spill_path(address)),
            durability,
            ..Buffering::default()
        };
        let mut store = crate::open(address)?;
        if durability == Durability::Commit {
            store.sync_every_commit()?;
        }
        Ok(Self::start_with(store, buffering))
    }

    /// What an answer may promise with this writer.
    pub fn durability(&self) -> Durability {
        self.durability
    }

    /// Queues one record; never blocks.
    pub fn log(&self, record: Row) {
        self.queue(record, None);
    }

    /// Queues one record; `ack` hears `true` once it is on disk, `false`
    /// if it is lost (the queue full, the writer closed, every buffer
    /// full). Never blocks.
    pub fn log_then(&self, record: Row, ack: Ack) {
        self.queue(record, Some(ack));
    }

    /// Queues one record and waits until it is on disk (or `timeout`
    /// passes); whether it is.
    pub fn log_and_wait(&self, record: Row, timeout: Duration) -> bool {
        let (told, heard) = mpsc::channel();
        self.log_then(
            record,
            Box::new(move |on_disk| {
                let _ = told.send(on_disk);
            }),
        );
        heard.recv_timeout(timeout).unwrap_or(false)
    }

    fn queue(&self, record: Row, ack: Option<Ack>) {
        let refused = match &self.sender {
            Some(sender) => match sender.try_send((record, ack)) {
                Ok(()) => return,
                Err(TrySendError::Full((_, ack)) | TrySendError::Disconnected((_, ack))) => ack,
            },
            None => ack,
        };
        self.counts.dropped.fetch_add(1, Ordering::Relaxed);
        tracing::error!("log de decisões cheio: um registro foi descartado");
        if let Some(ack) = refused {
            ack(false);
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

/// Records waiting to be written, each with its acknowledgement.
#[derive(Default)]
struct Waiting {
    rows: VecDeque<Row>,
    acks: VecDeque<Option<Ack>>,
}

impl Waiting {
    fn push(&mut self, (row, ack): (Row, Option<Ack>)) {
        self.rows.push_back(row);
        self.acks.push_back(ack);
    }

    /// Rows read back from the spill file: nobody waits on them.
    fn extend(&mut self, rows: Vec<Row>) {
        self.acks.extend(rows.iter().map(|_| None));
        self.rows.extend(rows);
    }

    fn len(&self) -> usize {
        self.rows.len()
    }

    fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Removes the first `count`, telling each acknowledgement `on_disk`.
    fn settle(&mut self, count: usize, on_disk: bool) {
        self.rows.drain(..count);
        for ack in self.acks.drain(..count).flatten() {
            ack(on_disk);
        }
    }

    /// Moves those from `from` on to the spill file (or drops them), and
    /// tells their acknowledgements how it went.
    fn spill_from(&mut self, from: usize, spill: Option<&Path>, counts: &WriterCounts) {
        let rows: Vec<Row> = self.rows.drain(from..).collect();
        let on_disk = spill_or_drop(spill, &rows, counts);
        for ack in self.acks.drain(from..).flatten() {
            ack(on_disk);
        }
    }
}

fn write_loop(
    mut store: Box<dyn Store>,
    receiver: &Receiver<(Row, Option<Ack>)>,
    counts: &WriterCounts,
    buffering: &Buffering,
) {
    let commit = buffering.durability == Durability::Commit;
    let spill = buffering.spill.as_deref();
    // What an earlier writer spilled goes first.
    let mut waiting = Waiting::default();
    waiting.extend(spill.map(|path| take_spilled(path, counts)).unwrap_or_default());
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
                Ok(entry) => waiting.push(entry),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => open = false,
            }
            // Buffered, gather a batch for a moment before writing: one
            // transaction for many decisions costs a busy service far
            // less than one each. With commits waited for, the batch is
            // what queued while the last commit ran: waiting longer would
            // only keep answers waiting.
            if !commit {
                open = gather(receiver, &mut waiting) && open;
            }
            while let Ok(entry) = receiver.try_recv() {
                waiting.push(entry);
                if waiting.len() > buffering.waiting {
                    waiting.spill_from(buffering.waiting, spill, counts);
                }
            }
        }
        while !waiting.is_empty() {
            // The batch is written from where it waits: a failed write
            // leaves it in place for the next try, and nothing is copied.
            let size = waiting.len().min(BATCH);
            let batch = waiting.rows.make_contiguous().get(..size).unwrap_or_default();
            match store.append(batch) {
                Ok(()) => {
                    waiting.settle(size, true);
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
                    if commit {
                        // Answers wait on these: into the fsynced spill
                        // file now, replayed once the database is back.
                        waiting.spill_from(0, spill, counts);
                    }
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
                waiting.spill_from(0, spill, counts);
                return;
            }
            std::thread::sleep(Duration::from_millis(500).min(buffering.grace));
        }
    }
}

/// Takes what queues within [`GATHER`], up to a batch; whether the queue
/// is still open.
fn gather(receiver: &Receiver<(Row, Option<Ack>)>, waiting: &mut Waiting) -> bool {
    // Counted in short sleeps, not against a deadline: a deadline read
    // from a faked clock (tests run under libfaketime) can make a timed
    // wait last until the next record arrives.
    for _ in 0..GATHER_STEPS {
        loop {
            match receiver.try_recv() {
                Ok(entry) => waiting.push(entry),
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => return false,
            }
            if waiting.len() >= BATCH {
                return true;
            }
        }
        std::thread::sleep(GATHER / GATHER_STEPS);
    }
    true
}

/// Appends `records` to the spill file, or counts them dropped when there
/// is none, it is full, or it cannot be written; whether they are on disk.
fn spill_or_drop(spill: Option<&Path>, records: &[Row], counts: &WriterCounts) -> bool {
    if records.is_empty() {
        return true;
    }
    match spill.map(|path| append_spill(path, records)) {
        Some(Ok(())) => {
            counts.spilled.fetch_add(records.len() as u64, Ordering::Relaxed);
            tracing::warn!("{} decisões guardadas no arquivo de espera do log", records.len());
            true
        }
        failed => {
            counts.dropped.fetch_add(records.len() as u64, Ordering::Relaxed);
            let why = match failed {
                Some(Err(err)) => err.to_string(),
                _ => "sem arquivo de espera".to_string(),
            };
            tracing::error!("{} decisões não gravadas no log: {why}", records.len());
            false
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
            durability: Durability::Buffered,
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

    /// Logs `count` rows with acknowledgements; what each heard.
    fn acknowledged(writer: &LogWriter, count: i64) -> Vec<bool> {
        let heard: Vec<_> = (0..count)
            .map(|n| {
                let (told, heard) = mpsc::channel();
                writer.log_then(
                    crate::tests::row(n),
                    Box::new(move |on_disk| {
                        let _ = told.send(on_disk);
                    }),
                );
                heard
            })
            .collect();
        heard
            .into_iter()
            .map(|heard| heard.recv_timeout(Duration::from_secs(10)).unwrap_or(false))
            .collect()
    }

    #[test]
    fn with_commits_waited_for_an_acknowledgement_means_the_row_is_on_disk() {
        let spill = std::env::temp_dir().join(format!("roteiro-spill-commit-{}.jsonl", std::process::id()));
        let _ = std::fs::remove_file(&spill);
        let down = Arc::new(AtomicBool::new(false));
        let kept = Arc::new(Mutex::new(Vec::new()));
        let store = Flaky {
            down: down.clone(),
            kept: kept.clone(),
        };
        let buffering = Buffering {
            spill: Some(spill.clone()),
            ..Buffering::default()
        };
        let writer = LogWriter::start_with(Box::new(store), buffering);
        assert_eq!(writer.durability(), Durability::Commit);
        // Heard only once in the store, and without the 100 ms gathering.
        assert_eq!(acknowledged(&writer, 20), vec![true; 20]);
        assert_eq!(kept.lock().unwrap().len(), 20);
        // The database down: heard once in the fsynced spill file.
        down.store(true, Ordering::SeqCst);
        assert_eq!(acknowledged(&writer, 5), vec![true; 5]);
        assert_eq!(std::fs::read_to_string(&spill).unwrap().lines().count(), 5);
        // Back: the next commit brings the spilled rows in too.
        down.store(false, Ordering::SeqCst);
        assert_eq!(acknowledged(&writer, 1), vec![true]);
        writer.close();
        assert_eq!(kept.lock().unwrap().len(), 26);
        assert!(!spill.exists());
    }

    #[test]
    fn a_row_that_cannot_reach_the_disk_is_acknowledged_as_lost() {
        let store = Flaky {
            down: Arc::new(AtomicBool::new(true)),
            kept: Arc::new(Mutex::new(Vec::new())),
        };
        // No spill file: nowhere to keep it.
        let writer = LogWriter::start_with(Box::new(store), Buffering::default());
        assert_eq!(acknowledged(&writer, 3), vec![false; 3]);
        assert_eq!(writer.counts().dropped.load(Ordering::SeqCst), 3);
    }
}
