//! Writing off the request path: a bounded queue to one thread that owns
//! the database connection.
//!
//! One crash-recovery file, the log's journal (journal.rs): JSON lines of
//! numbered rows beside the log, replayed by the next writer on the same
//! log from the database's mark, so nothing is written twice. Three
//! durabilities decide when a row goes there. `Commit` (the default): a
//! row is appended to the journal on the request's thread before the
//! answer, and reaches the database in the batches buffered mode writes,
//! so an answer means that a crash of the process loses nothing; a writer
//! that cannot have the journal (another process holds it) waits for a
//! database commit instead. `Sync`: a row comes with an acknowledgement,
//! called once the batch holding it is committed and synced to the disk
//! (SQLite `synchronous=FULL`), or, with the database down, once it is in
//! the journal, synced; batches are whatever queued while the last commit
//! ran (group commit). `Buffered`: a decision only pushes its row into the
//! queue, and the thread gathers batches for up to 100 ms.
//!
//! When the database fails, what waits stays in memory and is retried
//! every half second. Past the memory bound, and when the writer closes
//! with the database still down, rows wait in the journal alone (synced
//! when they were not there yet), and are read back, in order, once the
//! database takes rows again. A PostgreSQL log in `commit` or `sync` has
//! no journal: an answer waits for PostgreSQL itself. Only a full queue
//! (without a journal), or a journal past its bound, drops a row, counted
//! and logged as an error, never silently.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, SyncSender, TrySendError};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::journal::{self, Journal};
use crate::{LogError, Row, Store};

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
    /// Records kept in memory; past it they wait in the journal alone.
    pub waiting: usize,
    /// How long closing waits for the database before leaving the rest
    /// in the journal.
    pub grace: Duration,
    /// What an answer may promise.
    pub durability: Durability,
}

impl Default for Buffering {
    fn default() -> Self {
        Self {
            waiting: WAITING,
            grace: GRACE,
            durability: Durability::default(),
        }
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
    /// Records kept in the journal until the database takes them.
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
    /// The journal rows are appended to before they are queued (commit
    /// durability).
    journal: Option<Arc<Mutex<Journal>>>,
    /// Told to the writer when the queue refused a journaled row.
    refused: Arc<AtomicBool>,
}

impl LogWriter {
    /// Starts writing to `store` on a thread of its own, keeping in memory
    /// what the database cannot take yet (no journal).
    pub fn start(store: Box<dyn Store>) -> Self {
        Self::start_with(store, Buffering::default(), None)
    }

    /// Starts writing to `store`, buffering as `buffering` says, keeping in
    /// `journal` what memory and a down database cannot hold. In `Commit`,
    /// rows are journaled before they are queued; without a journal,
    /// `Commit` waits for database commits.
    fn start_with(store: Box<dyn Store>, buffering: Buffering, journal: Option<Journal>) -> Self {
        let (sender, receiver) = mpsc::sync_channel(QUEUE);
        let counts = Arc::new(WriterCounts::default());
        let thread_counts = counts.clone();
        let durability = buffering.durability;
        let journal = journal.map(|journal| Arc::new(Mutex::new(journal)));
        let journal_first = durability == Durability::Commit && journal.is_some();
        let refused = Arc::new(AtomicBool::new(false));
        let ends = Ends {
            journal: journal.clone(),
            journal_first,
            refused: refused.clone(),
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
            journal: journal.filter(|_| journal_first),
            refused,
        }
    }

    /// Opens the database at `address` and starts writing to it, with its
    /// journal, as durable as [`Durability::Commit`].
    pub fn open(address: &str) -> Result<Self, LogError> {
        Self::open_with(address, Durability::Commit)
    }

    /// Opens the database at `address` with `durability`. What dead
    /// writers left in the log's journal is replayed first.
    pub fn open_with(address: &str, durability: Durability) -> Result<Self, LogError> {
        Self::start_on(crate::open(address)?, address, durability)
    }

    /// Starts writing with `durability` on a connection of `pool`, the
    /// process's one handle on the database (migrated when it opened).
    pub fn open_on(pool: &crate::db::DbPool, durability: Durability) -> Result<Self, LogError> {
        let db: crate::db::Db = pool.take()?;
        Self::start_on(crate::store_on(db, pool.address())?, pool.address(), durability)
    }

    /// Starts writing to `store`, the log at `address`, with `durability`.
    fn start_on(mut store: Box<dyn Store>, address: &str, durability: Durability) -> Result<Self, LogError> {
        // A PostgreSQL log is shared by replicas: an answer promised
        // durable must be where every replica finds it. So `commit` and
        // `sync` wait for PostgreSQL's commit and keep nothing on this
        // machine's disk (no journal): a replica that never comes back
        // loses nothing it answered, and with the database down decisions
        // are answered 503 rather than kept here.
        let shared = matches!(crate::Address::of(address)?, crate::Address::Postgres);
        let buffering = Buffering {
            durability,
            ..Buffering::default()
        };
        match durability {
            // In PostgreSQL once committed there: a crash of this replica
            // loses nothing; the server's own crash may lose its last
            // fraction of a second, as a power cut may lose a SQLite
            // journal's last second. `sync` waits for its disk.
            Durability::Commit if shared => store.commits_may_lag()?,
            Durability::Sync => store.sync_every_commit()?,
            Durability::Commit | Durability::Buffered => {}
        }
        let journal = if shared && durability != Durability::Buffered {
            None
        } else {
            open_journal(address, &mut *store, durability)
        };
        Ok(Self::start_with(store, buffering, journal))
    }

    /// What an answer may promise with this writer.
    pub fn durability(&self) -> Durability {
        self.durability
    }

    /// Queues one record; never blocks; whether the queue took it.
    pub fn log(&self, record: Row) -> bool {
        self.send(Entry::Row {
            row: record,
            ack: None,
            seq: None,
        })
    }

    /// Queues one record; `ack` hears `true` once it is on disk (in the
    /// journal, or committed), `false` if it is lost (not journaled and
    /// the queue full or the writer closed; the journal full with the
    /// database down). Never waits for the database.
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
        // journaled rows in their journal's order.
        let mut journal = journal.lock().unwrap_or_else(PoisonError::into_inner);
        match journal.append(&record) {
            Ok(seq) => {
                let entry = Entry::Row {
                    row: record,
                    ack: None,
                    seq: Some(seq),
                };
                if let Some(sender) = &self.sender {
                    if sender.try_send(entry).is_err() {
                        // In the journal all the same: the writer reads it
                        // back (or the next writer replays it).
                        self.refused.store(true, Ordering::SeqCst);
                    }
                }
                drop(journal);
                ack(true);
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
            Durability::Buffered => crate::Receipt::settled(self.log(record)),
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
        drop(self.sender.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The log's journal, when this process can have it (another process
/// writing the same log holds it).
fn open_journal(address: &str, store: &mut dyn Store, durability: Durability) -> Option<Journal> {
    let without = match durability {
        Durability::Commit => "cada resposta espera o commit",
        Durability::Sync | Durability::Buffered => "com o banco fora do ar, as decisões esperam só na memória",
    };
    match Journal::open(&journal::base_path(address), store) {
        Ok(Some(journal)) => Some(journal),
        Ok(None) => {
            tracing::info!("outro processo tem o diário deste log: {without}");
            None
        }
        Err(err) => {
            tracing::warn!("diário do log indisponível ({err}): {without}");
            None
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
    use std::path::PathBuf;
    use std::sync::Mutex;

    use super::*;
    use crate::{Filter, Record};

    /// A store that fails while `down` is set and keeps what it accepts.
    struct Flaky {
        down: Arc<AtomicBool>,
        kept: Arc<Mutex<Vec<Record>>>,
    }

    /// What a test store does; the rest of [`Store`] is alike for all.
    trait Appends: Send {
        fn append(&mut self, rows: &[Row], mark: Option<(&str, u64)>) -> Result<(), LogError>;
        /// The highest journal number committed.
        fn mark(&self) -> u64 {
            0
        }
    }

    impl<T: Appends> Store for T {
        fn append_marked(&mut self, rows: &[Row], mark: Option<(&str, u64)>) -> Result<(), LogError> {
            Appends::append(self, rows, mark)
        }
        fn read(&mut self, _: &Filter) -> Result<Vec<Record>, LogError> {
            Ok(Vec::new())
        }
        fn prune(&mut self, _: chrono::DateTime<chrono::Utc>) -> Result<u64, LogError> {
            Ok(0)
        }
        fn journal_mark(&mut self, _: &str) -> Result<u64, LogError> {
            Ok(self.mark())
        }
        fn forget_journal(&mut self, _: &str) -> Result<(), LogError> {
            Ok(())
        }
    }

    impl Appends for Flaky {
        fn append(&mut self, rows: &[Row], _: Option<(&str, u64)>) -> Result<(), LogError> {
            if self.down.load(Ordering::SeqCst) {
                return Err(LogError::Address("fora do ar".into()));
            }
            self.kept.lock().unwrap().extend(rows.iter().map(Row::record));
            Ok(())
        }
    }

    #[test]
    fn what_memory_and_a_down_database_cannot_hold_is_journaled_and_replayed_later() {
        let setup = journaled("spilled");
        let buffering = Buffering {
            waiting: 5,
            grace: Duration::ZERO,
            durability: Durability::Buffered,
        };
        let writer = setup.writer(buffering);
        for n in 0..40 {
            assert!(writer.log(crate::tests::row(n)));
        }
        let counts = writer.counts.clone();
        writer.close();
        assert!(setup.kept.lock().unwrap().is_empty(), "the database was down");
        assert_eq!(
            counts.spilled.load(Ordering::SeqCst),
            40,
            "past memory and at close, all journaled"
        );
        assert_eq!(counts.dropped.load(Ordering::SeqCst), 0, "nothing dropped");

        // The database is back: the next writer on the same log replays
        // the journal as it opens it.
        setup.back().1.unwrap().finish();
        assert_eq!(
            latencies(&setup.kept),
            (0..40).collect::<Vec<_>>(),
            "every record, once"
        );
        assert_eq!(
            std::fs::read_dir(&setup.folder).unwrap().count(),
            0,
            "the journal is gone"
        );
        setup.remove();
    }

    /// The latencies of the rows a store kept, sorted.
    fn latencies(kept: &Mutex<Vec<Record>>) -> Vec<i64> {
        let mut written: Vec<i64> = kept.lock().unwrap().iter().map(|r| r.latency_us).collect();
        written.sort_unstable();
        written
    }

    #[test]
    fn what_waited_in_the_journal_is_read_back_when_the_database_returns() {
        for durability in [Durability::Buffered, Durability::Commit] {
            let setup = journaled("read-back");
            let buffering = Buffering {
                waiting: 3,
                grace: Duration::ZERO,
                durability,
            };
            let writer = setup.writer(buffering);
            for n in 0..30 {
                assert!(writer.append(crate::tests::row(n)).wait());
            }
            assert!(!writer.flush(Duration::from_secs(10)), "the database is down");
            setup.down.store(false, Ordering::SeqCst);
            assert!(
                writer.flush(Duration::from_secs(10)),
                "{durability:?}: read back and written"
            );
            assert_eq!(
                latencies(&setup.kept),
                (0..30).collect::<Vec<_>>(),
                "{durability:?}: each once"
            );
            assert_eq!(writer.counts().dropped.load(Ordering::SeqCst), 0);
            writer.close();
            assert_eq!(
                std::fs::read_dir(&setup.folder).unwrap().count(),
                0,
                "the journal is gone"
            );
            setup.remove();
        }
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
        let setup = journaled("sync");
        setup.down.store(false, Ordering::SeqCst);
        let buffering = Buffering {
            durability: Durability::Sync,
            ..Buffering::default()
        };
        let writer = setup.writer(buffering);
        // Heard only once in the store, and without the 100 ms gathering.
        assert_eq!(acknowledged(&writer, 20), vec![true; 20]);
        assert_eq!(setup.kept.lock().unwrap().len(), 20);
        // The database down: heard once synced in the journal.
        setup.down.store(true, Ordering::SeqCst);
        assert_eq!(acknowledged_from(&writer, 20..25), vec![true; 5]);
        assert_eq!(writer.counts().spilled.load(Ordering::SeqCst), 5);
        assert_eq!(setup.kept.lock().unwrap().len(), 20);
        // Back: the next round brings the journaled rows in too.
        setup.down.store(false, Ordering::SeqCst);
        assert_eq!(acknowledged_from(&writer, 25..26), vec![true]);
        assert!(writer.flush(Duration::from_secs(10)));
        writer.close();
        assert_eq!(latencies(&setup.kept), (0..26).collect::<Vec<_>>());
        assert_eq!(
            std::fs::read_dir(&setup.folder).unwrap().count(),
            0,
            "the journal is gone"
        );
        setup.remove();
    }

    #[test]
    fn a_row_the_journal_refused_is_answered_once_kept_not_when_the_database_returns() {
        let setup = journaled("refused");
        let writer = setup.writer(Buffering {
            grace: Duration::ZERO,
            ..Buffering::default()
        });
        writer
            .journal
            .as_ref()
            .unwrap()
            .lock()
            .unwrap()
            .fail_next_write()
            .unwrap();
        // Its journal line failed and the database is down: the answer
        // hears once the failed write put it in the journal after all,
        // synced, not when (if ever) the database comes back.
        let mut receipt = writer.append(crate::tests::row(7));
        assert!(receipt.wait(), "kept in the journal");
        assert_eq!(writer.counts().spilled.load(Ordering::SeqCst), 1);
        writer.close();
        assert!(setup.kept.lock().unwrap().is_empty());
        setup.back().1.unwrap().finish();
        assert_eq!(latencies(&setup.kept), vec![7], "replayed by the next writer");
        setup.remove();
    }

    /// A fresh folder with a journal's base, and the switch and rows of
    /// a store that starts down.
    struct Setup {
        folder: PathBuf,
        base: PathBuf,
        down: Arc<AtomicBool>,
        kept: Arc<Mutex<Vec<Record>>>,
    }

    fn journaled(name: &str) -> Setup {
        let folder = std::env::temp_dir().join(format!("roteiro-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&folder);
        std::fs::create_dir_all(&folder).unwrap();
        Setup {
            base: folder.join("log.journal"),
            folder,
            down: Arc::new(AtomicBool::new(true)),
            kept: Arc::new(Mutex::new(Vec::new())),
        }
    }

    impl Setup {
        fn store(&self) -> Flaky {
            Flaky {
                down: self.down.clone(),
                kept: self.kept.clone(),
            }
        }

        /// A writer on the store, with the journal (replayed first).
        fn writer(&self, buffering: Buffering) -> LogWriter {
            let mut store = self.store();
            let journal = Journal::open(&self.base, &mut store).unwrap();
            LogWriter::start_with(Box::new(store), buffering, journal)
        }

        /// The database back: the next writer's store and journal, what
        /// the last one left replayed.
        fn back(&self) -> (Flaky, Option<Journal>) {
            self.down.store(false, Ordering::SeqCst);
            let mut store = self.store();
            let journal = Journal::open(&self.base, &mut store).unwrap();
            (store, journal)
        }

        fn remove(self) {
            std::fs::remove_dir_all(self.folder).unwrap();
        }
    }

    #[test]
    fn a_journaled_row_is_answered_before_the_database_has_it_and_kept_until_it_does() {
        let setup = journaled("journaled");
        let buffering = Buffering {
            grace: Duration::ZERO,
            ..Buffering::default()
        };
        let writer = setup.writer(buffering);
        // The database is down, yet each is answered: it is in the journal.
        assert_eq!(acknowledged(&writer, 5), vec![true; 5]);
        assert!(
            !writer.flush(Duration::from_secs(10)),
            "a flush says the database lacks them"
        );
        let counts = writer.counts.clone();
        writer.close();
        assert!(setup.kept.lock().unwrap().is_empty());
        assert_eq!(
            counts.spilled.load(Ordering::SeqCst),
            0,
            "journaled rows are not journaled twice"
        );

        // The next writer on the log, the database back: replayed once.
        let (store, journal) = setup.back();
        let mut replayed: Vec<i64> = setup.kept.lock().unwrap().iter().map(|r| r.latency_us).collect();
        replayed.sort_unstable();
        assert_eq!(replayed, vec![0, 1, 2, 3, 4]);

        // Up: a flush waits until the rows are in (no 100 ms gathering
        // left to chance), and a clean close leaves no file behind.
        let writer = LogWriter::start_with(Box::new(store), Buffering::default(), journal);
        assert_eq!(acknowledged(&writer, 3), vec![true; 3]);
        assert!(writer.flush(Duration::from_secs(10)));
        assert_eq!(setup.kept.lock().unwrap().len(), 8);
        writer.close();
        assert_eq!(
            std::fs::read_dir(&setup.folder).unwrap().count(),
            0,
            "journal and lock removed"
        );
        setup.remove();
    }

    /// A store whose first commit goes through but whose answer is lost
    /// (the server went away during COMMIT): the caller sees an error.
    struct LostReply {
        kept: Arc<Mutex<Vec<Record>>>,
        mark: u64,
        lose_next: bool,
    }

    impl Appends for LostReply {
        fn append(&mut self, rows: &[Row], named: Option<(&str, u64)>) -> Result<(), LogError> {
            self.kept.lock().unwrap().extend(rows.iter().map(Row::record));
            if let Some((_, seq)) = named {
                self.mark = self.mark.max(seq);
            }
            if std::mem::take(&mut self.lose_next) {
                return Err(LogError::Database("conexão perdida durante o COMMIT".into()));
            }
            Ok(())
        }
        fn mark(&self) -> u64 {
            self.mark
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
        let writer = LogWriter::start_with(Box::new(store), Buffering::default(), journal);
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
        let setup = journaled("journal-full");
        let buffering = Buffering {
            waiting: 2,
            grace: Duration::ZERO,
            ..Buffering::default()
        };
        let writer = setup.writer(buffering);
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
        setup.back().1.unwrap().finish();
        let mut replayed: Vec<i64> = setup.kept.lock().unwrap().iter().map(|r| r.latency_us).collect();
        replayed.sort_unstable();
        assert_eq!(replayed, (0..15).collect::<Vec<_>>(), "every one, from the journal");
        setup.remove();
    }

    #[test]
    fn a_row_that_cannot_reach_the_disk_is_acknowledged_as_lost() {
        let store = Flaky {
            down: Arc::new(AtomicBool::new(true)),
            kept: Arc::new(Mutex::new(Vec::new())),
        };
        // No spill file: nowhere to keep it.
        let writer = LogWriter::start(Box::new(store));
        assert_eq!(acknowledged(&writer, 3), vec![false; 3]);
        assert_eq!(writer.counts().dropped.load(Ordering::SeqCst), 3);
    }

    /// A store whose writes wait until the test opens it.
    struct Blocked {
        open: Arc<(Mutex<bool>, std::sync::Condvar)>,
        kept: Arc<Mutex<Vec<Record>>>,
    }

    impl Appends for Blocked {
        fn append(&mut self, rows: &[Row], _: Option<(&str, u64)>) -> Result<(), LogError> {
            let (open, opened) = &*self.open;
            let mut is_open = open.lock().unwrap();
            while !*is_open {
                is_open = opened.wait(is_open).unwrap();
            }
            self.kept.lock().unwrap().extend(rows.iter().map(Row::record));
            Ok(())
        }
    }

    #[test]
    fn a_buffered_receipt_says_lost_when_the_full_queue_refused_the_row() {
        let open = Arc::new((Mutex::new(false), std::sync::Condvar::new()));
        let kept = Arc::new(Mutex::new(Vec::new()));
        let store = Blocked {
            open: open.clone(),
            kept: kept.clone(),
        };
        let buffering = Buffering {
            durability: Durability::Buffered,
            ..Buffering::default()
        };
        let writer = LogWriter::start_with(Box::new(store), buffering, None);
        // The writer holds a batch or so in a write that waits; the queue
        // behind it fills.
        let total = 3 * QUEUE;
        let heard: Vec<bool> = (0..total)
            .map(|n| writer.append(crate::tests::row(n as i64)).wait())
            .collect();
        let lost = heard.iter().filter(|recorded| !**recorded).count();
        // Opened before any assertion: a failing one must not leave the
        // writer's close waiting forever.
        *open.0.lock().unwrap() = true;
        open.1.notify_all();
        assert!(lost > 0, "a full queue refuses");
        let counts = writer.counts.clone();
        writer.close();
        assert_eq!(counts.dropped.load(Ordering::SeqCst) as usize, lost);
        assert_eq!(kept.lock().unwrap().len(), total - lost, "every row said recorded is");
    }
}
