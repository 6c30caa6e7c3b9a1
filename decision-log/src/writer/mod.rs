//! Writing off the request path: a bounded queue to one thread that owns
//! the database connection.
//!
//! Three durabilities. `Commit` (the default): a record is appended to the
//! log's journal (journal.rs) on the request's thread before the answer,
//! and reaches the database in the batches buffered mode writes, so an
//! answer means that a crash of the process loses nothing; a writer that
//! cannot have the journal (another process holds it) waits for a
//! database commit instead. `Sync`: a record comes with an
//! acknowledgement, called once the batch holding it is committed and
//! synced to the disk (SQLite `synchronous=FULL`), or, with the database
//! down, once it is in the fsynced spill file; batches are whatever
//! queued while the last commit ran (group commit). `Buffered`: a
//! decision only pushes its record into the queue. Without a wait for a
//! commit, the thread gathers batches for up to 100 ms; when the database
//! fails, the batch waits in memory and is retried every half second, so
//! records logged while the database is down are written when it returns.
//! Past the memory bound, and when the writer closes with the database
//! still down, records go to a spill file (JSON lines beside the SQLite
//! file, or in the working folder for PostgreSQL), which the next writer
//! on the same log replays first; journaled records stay in the journal
//! instead (past the bound, the queue fills and refuses). Only a full queue
//! or a spill file past its bound drops a record, counted and logged as an
//! error, never silently.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, SyncSender, TrySendError};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::journal::{self, Journal};
use crate::{LogError, Row, Store};

mod spill;
mod thread;
mod waiting;

use thread::{write_loop, Ends};

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
    /// SQLite: answered once in the log's journal (or committed, when
    /// another process has the journal): nothing answered is lost on a
    /// crash of the process; a power cut may lose the last second.
    /// PostgreSQL: answered once committed there (group commit), nothing
    /// kept on this machine's disk.
    #[default]
    Commit,
    /// Answered once committed and synced (SQLite `synchronous=FULL`):
    /// nothing answered is lost on a power cut either.
    Sync,
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
    crate::beside_log(address, ".spill.jsonl", || "roteiro-log.spill.jsonl".to_string())
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

/// What the writer's queue carries.
enum Entry {
    /// A record; `ack` waits for its commit, `seq` is its journal line.
    Row {
        row: Row,
        ack: Option<Ack>,
        seq: Option<u64>,
    },
    /// Told once everything queued before it is in the database.
    Flush(Ack),
}

/// The handle decisions log through.
pub struct LogWriter {
    sender: Option<SyncSender<Entry>>,
    thread: Option<JoinHandle<()>>,
    counts: Arc<WriterCounts>,
    durability: Durability,
    journal: Option<Arc<Mutex<Journal>>>,
    /// Set when closing: a writer that stopped taking rows (journaled
    /// ones past the memory bound) would not see the queue close.
    closing: Arc<AtomicBool>,
}

impl LogWriter {
    /// Starts writing to `store` on a thread of its own, keeping in memory
    /// what the database cannot take yet (no spill file).
    pub fn start(store: Box<dyn Store>) -> Self {
        Self::start_with(store, Buffering::default())
    }

    /// Starts writing to `store`, buffering as `buffering` says (without a
    /// journal: `Commit` waits for database commits).
    pub fn start_with(store: Box<dyn Store>, buffering: Buffering) -> Self {
        Self::start_journaled(store, buffering, None)
    }

    fn start_journaled(store: Box<dyn Store>, buffering: Buffering, journal: Option<Journal>) -> Self {
        let (sender, receiver) = mpsc::sync_channel(QUEUE);
        let counts = Arc::new(WriterCounts::default());
        let thread_counts = counts.clone();
        let durability = buffering.durability;
        let journal = journal.map(|journal| Arc::new(Mutex::new(journal)));
        let thread_journal = journal.clone();
        let closing = Arc::new(AtomicBool::new(false));
        let ends = Ends {
            journal: thread_journal,
            closing: closing.clone(),
        };
        let thread = std::thread::Builder::new()
            .name("roteiro-log".into())
            .spawn(move || write_loop(store, &receiver, &thread_counts, &buffering, ends))
            .ok();
        Self {
            sender: Some(sender),
            thread,
            counts,
            durability,
            journal,
            closing,
        }
    }

    /// Opens the database at `address` and starts writing to it, with its
    /// spill file (see [`spill_path`]) and journal, as durable as
    /// [`Durability::Commit`].
    pub fn open(address: &str) -> Result<Self, LogError> {
        Self::open_with(address, Durability::Commit)
    }

    /// Opens the database at `address` with `durability`. In `Commit`,
    /// what dead writers left in the journal is replayed first.
    pub fn open_with(address: &str, durability: Durability) -> Result<Self, LogError> {
        // A PostgreSQL log is shared by replicas: an answer promised
        // durable must be where every replica finds it. So `commit` and
        // `sync` wait for PostgreSQL's commit and keep nothing on this
        // machine's disk (no journal, no spill file): a replica that never
        // comes back loses nothing it answered, and with the database down
        // decisions are answered 503 rather than kept here.
        let shared = matches!(crate::Address::of(address)?, crate::Address::Postgres);
        let local_only = shared && durability != Durability::Buffered;
        let buffering = Buffering {
            spill: (!local_only).then(|| spill_path(address)),
            durability,
            ..Buffering::default()
        };
        let mut store = crate::open(address)?;
        let journal = match durability {
            Durability::Commit if shared => {
                // In PostgreSQL once committed there: a crash of this
                // replica loses nothing; the server's own crash may lose
                // its last fraction of a second, as a power cut may lose a
                // SQLite journal's last second. `sync` waits for its disk.
                store.commits_may_lag()?;
                None
            }
            Durability::Sync => {
                store.sync_every_commit()?;
                None
            }
            Durability::Commit => match Journal::open(&journal::base_path(address), &mut *store) {
                Ok(Some(journal)) => Some(journal),
                Ok(None) => {
                    tracing::info!("outro processo tem o diário deste log: cada resposta espera o commit");
                    None
                }
                Err(err) => {
                    tracing::warn!("diário do log indisponível ({err}): cada resposta espera o commit");
                    None
                }
            },
            Durability::Buffered => None,
        };
        Ok(Self::start_journaled(store, buffering, journal))
    }

    /// What an answer may promise with this writer.
    pub fn durability(&self) -> Durability {
        self.durability
    }

    /// Queues one record; never blocks.
    pub fn log(&self, record: Row) {
        self.send(Entry::Row {
            row: record,
            ack: None,
            seq: None,
        });
    }

    /// Queues one record; `ack` hears `true` once it is on disk (in the
    /// journal, or committed), `false` if it is lost (the queue full, the
    /// writer closed, every buffer full). Never waits for the database.
    fn log_then(&self, record: Row, ack: Ack) {
        let Some(journal) = &self.journal else {
            self.send(Entry::Row {
                row: record,
                ack: Some(ack),
                seq: None,
            });
            return;
        };
        // Numbered, written and queued under one lock, so the queue holds
        // journaled rows in their journal's order and a batch's highest
        // number is the mark of everything before it.
        let mut journal = journal.lock().unwrap_or_else(PoisonError::into_inner);
        let seq = journal.take_seq();
        match journal.write(seq, &record) {
            Ok(()) => {
                let queued = self.send(Entry::Row {
                    row: record,
                    ack: None,
                    seq: Some(seq),
                });
                drop(journal);
                ack(queued);
            }
            Err(err) => {
                drop(journal);
                tracing::error!("diário do log: {err}; esta resposta espera o commit");
                self.send(Entry::Row {
                    row: record,
                    ack: Some(ack),
                    seq: None,
                });
            }
        }
    }

    /// Appends one record as the writer's durability says an answer
    /// waits for it: queued (`Buffered`), or in the journal or committed,
    /// which the receipt hears. Never waits for the database.
    pub fn append(&self, record: Row) -> crate::Receipt {
        match self.durability {
            Durability::Buffered => {
                self.log(record);
                crate::Receipt::settled(true)
            }
            Durability::Commit | Durability::Sync => {
                let (ack, receipt) = crate::Receipt::pending();
                self.log_then(record, ack);
                receipt
            }
        }
    }

    /// Waits until everything queued so far is in the database (or
    /// `timeout` passes), so a read that follows sees it; whether it is.
    pub fn flush(&self, timeout: Duration) -> bool {
        let (told, heard) = mpsc::channel();
        self.flush_then(Box::new(move |done| {
            let _ = told.send(done);
        }));
        heard.recv_timeout(timeout).unwrap_or(false)
    }

    /// Asks for everything queued so far to be written now; `ack` hears
    /// whether it is. Never blocks.
    pub fn flush_then(&self, ack: Ack) {
        self.send(Entry::Flush(ack));
    }

    /// Hands `entry` to the writer's thread; whether it took it (when not,
    /// its acknowledgement hears `false`).
    fn send(&self, entry: Entry) -> bool {
        let refused = match &self.sender {
            Some(sender) => match sender.try_send(entry) {
                Ok(()) => return true,
                Err(TrySendError::Full(entry) | TrySendError::Disconnected(entry)) => entry,
            },
            None => entry,
        };
        let ack = match refused {
            Entry::Row { ack, .. } => {
                self.counts.dropped.fetch_add(1, Ordering::Relaxed);
                tracing::error!("log de decisões cheio: um registro foi descartado");
                ack
            }
            Entry::Flush(ack) => Some(ack),
        };
        if let Some(ack) = ack {
            ack(false);
        }
        false
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
        self.closing.store(true, Ordering::SeqCst);
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

#[cfg(test)]
mod tests {

    use std::sync::Mutex;

    use super::*;
    use crate::{Filter, Record};

    /// A store that fails while `down` is set and keeps what it accepts.
    struct Flaky {
        down: Arc<AtomicBool>,
        kept: Arc<Mutex<Vec<Record>>>,
    }

    impl Store for Flaky {
        fn append_marked(&mut self, rows: &[Row], _: Option<(&str, u64)>) -> Result<(), LogError> {
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
        fn journal_mark(&mut self, _: &str) -> Result<u64, LogError> {
            Ok(0)
        }
        fn forget_journal(&mut self, _: &str) -> Result<(), LogError> {
            Ok(())
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
        acknowledged_from(writer, 0..count)
    }

    /// Logs the rows of `latencies` with acknowledgements; what each heard.
    fn acknowledged_from(writer: &LogWriter, latencies: std::ops::Range<i64>) -> Vec<bool> {
        let heard: Vec<_> = latencies
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

    /// A fresh folder, its journal's base, and the switch and rows of a
    /// store that is down.
    struct Setup {
        folder: PathBuf,
        base: PathBuf,
        down: Arc<AtomicBool>,
        kept: Arc<Mutex<Vec<Record>>>,
    }

    /// A [`Setup`], its store, and a journal over it.
    fn journaled(name: &str) -> (Setup, Flaky, Option<Journal>) {
        let folder = std::env::temp_dir().join(format!("roteiro-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&folder);
        std::fs::create_dir_all(&folder).unwrap();
        let base = folder.join("log.journal");
        let down = Arc::new(AtomicBool::new(true));
        let kept = Arc::new(Mutex::new(Vec::new()));
        let mut store = Flaky {
            down: down.clone(),
            kept: kept.clone(),
        };
        let journal = Journal::open(&base, &mut store).unwrap();
        (
            Setup {
                folder,
                base,
                down,
                kept,
            },
            store,
            journal,
        )
    }

    #[test]
    fn a_journaled_row_is_answered_before_the_database_has_it_and_kept_until_it_does() {
        let (
            Setup {
                folder,
                base,
                down,
                kept,
            },
            store,
            journal,
        ) = journaled("journaled");
        let spill = folder.join("log.spill");
        let buffering = Buffering {
            spill: Some(spill.clone()),
            grace: Duration::ZERO,
            ..Buffering::default()
        };
        let writer = LogWriter::start_journaled(Box::new(store), buffering, journal);
        // The database is down, yet each is answered: it is in the journal.
        assert_eq!(acknowledged(&writer, 5), vec![true; 5]);
        assert!(
            !writer.flush(Duration::from_secs(10)),
            "a flush says the database lacks them"
        );
        writer.close();
        assert!(kept.lock().unwrap().is_empty());
        assert!(
            !spill.exists(),
            "journaled rows are not spilled: the journal keeps them"
        );

        // The next writer on the log, the database back: replayed once.
        down.store(false, Ordering::SeqCst);
        let mut store = Flaky {
            down,
            kept: kept.clone(),
        };
        let journal = Journal::open(&base, &mut store).unwrap();
        let mut replayed: Vec<i64> = kept.lock().unwrap().iter().map(|r| r.latency_us).collect();
        replayed.sort_unstable();
        assert_eq!(replayed, vec![0, 1, 2, 3, 4]);

        // Up: a flush waits until the rows are in (no 100 ms gathering
        // left to chance), and a clean close leaves no file behind.
        let writer = LogWriter::start_journaled(Box::new(store), Buffering::default(), journal);
        assert_eq!(acknowledged(&writer, 3), vec![true; 3]);
        assert!(writer.flush(Duration::from_secs(10)));
        assert_eq!(kept.lock().unwrap().len(), 8);
        writer.close();
        assert_eq!(
            std::fs::read_dir(&folder).unwrap().count(),
            0,
            "journal and lock removed"
        );
        std::fs::remove_dir_all(folder).unwrap();
    }

    /// A store whose first commit goes through but whose answer is lost
    /// (the server went away during COMMIT): the caller sees an error.
    struct LostReply {
        kept: Arc<Mutex<Vec<Record>>>,
        mark: u64,
        lose_next: bool,
    }

    impl Store for LostReply {
        fn append_marked(&mut self, rows: &[Row], named: Option<(&str, u64)>) -> Result<(), LogError> {
            self.kept.lock().unwrap().extend(rows.iter().map(Row::record));
            if let Some((_, seq)) = named {
                self.mark = self.mark.max(seq);
            }
            if std::mem::take(&mut self.lose_next) {
                return Err(LogError::Database("conexão perdida durante o COMMIT".into()));
            }
            Ok(())
        }
        fn read(&mut self, _: &Filter) -> Result<Vec<Record>, LogError> {
            Ok(self.kept.lock().unwrap().clone())
        }
        fn prune(&mut self, _: chrono::DateTime<chrono::Utc>) -> Result<u64, LogError> {
            Ok(0)
        }
        fn journal_mark(&mut self, _: &str) -> Result<u64, LogError> {
            Ok(self.mark)
        }
        fn forget_journal(&mut self, _: &str) -> Result<(), LogError> {
            Ok(())
        }
    }

    #[test]
    fn a_commit_whose_answer_was_lost_is_not_written_again() {
        let folder = std::env::temp_dir().join(format!("roteiro-lost-reply-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&folder);
        std::fs::create_dir_all(&folder).unwrap();
        let kept = Arc::new(Mutex::new(Vec::new()));
        let mut store = LostReply {
            kept: kept.clone(),
            mark: 0,
            lose_next: true,
        };
        let journal = Journal::open(&folder.join("log.journal"), &mut store).unwrap();
        let writer = LogWriter::start_journaled(Box::new(store), Buffering::default(), journal);
        assert_eq!(acknowledged(&writer, 5), vec![true; 5]);
        // The first flush may meet the failed commit; the next one finds
        // the rows held by the database's mark.
        let _ = writer.flush(Duration::from_secs(10));
        assert!(writer.flush(Duration::from_secs(10)), "the mark says they are in");
        writer.close();
        let mut written: Vec<i64> = kept.lock().unwrap().iter().map(|r| r.latency_us).collect();
        written.sort_unstable();
        assert_eq!(
            written,
            vec![0, 1, 2, 3, 4],
            "each once, though the first commit said it failed"
        );
        std::fs::remove_dir_all(folder).unwrap();
    }

    #[test]
    fn a_journaled_writer_past_its_memory_bound_still_closes_and_loses_nothing() {
        let (
            Setup {
                folder,
                base,
                down,
                kept,
            },
            store,
            journal,
        ) = journaled("journal-full");
        let buffering = Buffering {
            waiting: 2,
            grace: Duration::ZERO,
            ..Buffering::default()
        };
        let writer = LogWriter::start_journaled(Box::new(store), buffering, journal);
        assert_eq!(acknowledged(&writer, 10), vec![true; 10]);
        // Past the bound once a write failed: the writer stops taking rows,
        // and those that come stay in the queue.
        for _ in 0..100 {
            if writer.counts().failures.load(Ordering::SeqCst) > 0 {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        assert!(writer.counts().failures.load(Ordering::SeqCst) > 0);
        assert_eq!(acknowledged_from(&writer, 10..15), vec![true; 5]);
        let (told, closed) = mpsc::channel();
        std::thread::spawn(move || {
            writer.close();
            let _ = told.send(());
        });
        assert!(closed.recv_timeout(Duration::from_secs(10)).is_ok(), "close returns");
        down.store(false, Ordering::SeqCst);
        let mut store = Flaky {
            down,
            kept: kept.clone(),
        };
        Journal::open(&base, &mut store).unwrap().unwrap().finish();
        let mut replayed: Vec<i64> = kept.lock().unwrap().iter().map(|r| r.latency_us).collect();
        replayed.sort_unstable();
        assert_eq!(replayed, (0..15).collect::<Vec<_>>(), "every one, from the journal");
        std::fs::remove_dir_all(folder).unwrap();
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
