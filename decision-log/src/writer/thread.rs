//! The writer's thread: a state machine that takes the queue in batches,
//! writes them with the journal's mark, keeps in the journal what memory
//! and a down database cannot hold, reads it back when the database
//! returns, and closes within its grace.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, TryRecvError};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use super::waiting::Waiting;
use super::{Buffering, Durability, Entry, WriterCounts, BATCH, GATHER, GATHER_STEPS, QUEUE};
use crate::journal::Journal;
use crate::{Row, Store};

/// Batches written between two looks at the queue while catching up.
const CATCH_UP: usize = 10;

/// Where the writer's thread is.
#[derive(Debug, Clone, Copy)]
enum State {
    /// Taking rows from the queue and writing them.
    Open,
    /// The last write failed, and may have committed all the same (the
    /// server went away during COMMIT): before journaled rows are tried
    /// again, the database's mark says which it holds.
    Failed,
    /// The queue is closed: what is left is written within the grace,
    /// then kept in the journal for the next writer (or, without one,
    /// lost and counted).
    Closing { since: Instant, failed: bool },
    /// Done; the thread returns.
    Closed,
}

/// The journal as the writer's thread sees it.
struct Journaled {
    journal: Arc<Mutex<Journal>>,
    /// The journal's name, kept here so a batch does not lock for it.
    id: String,
    /// Every row numbered up to here is in the database.
    through: u64,
    /// Every row numbered up to here is in the database or in memory.
    loaded: u64,
    /// Rows numbered past `loaded` may be in the journal alone (memory
    /// was full, or they were spilled): they are read back in order.
    behind: bool,
}

impl Journaled {
    fn lock(&self) -> std::sync::MutexGuard<'_, Journal> {
        self.journal.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A batch through `seq` is committed: closed segments it covers go.
    fn committed(&mut self, seq: u64) {
        self.through = self.through.max(seq);
        let through = self.through;
        self.lock().committed(through);
    }

    /// Keeps `rows` in the journal, synced to the disk, to be read back;
    /// how many of the first are (all, unless the journal failed).
    fn spill(&mut self, rows: &[Row]) -> (usize, std::io::Result<()>) {
        self.behind = true;
        self.lock().append_synced(rows)
    }

    /// Reads back, in order, at most `room` of the rows the journal alone
    /// holds.
    fn read_back(&mut self, room: usize) -> Vec<(u64, Row)> {
        let (rows, upto, next) = {
            let journal = self.lock();
            let (rows, upto) = journal.read_back(self.loaded, room);
            (rows, upto, journal.next())
        };
        self.loaded = upto;
        self.behind = upto + 1 < next;
        rows
    }

    /// At close: with everything journaled in the database, the journal's
    /// files and mark go; else they stay for the next writer.
    fn close(self, store: &mut dyn Store) {
        let mut journal = self.lock();
        if journal.drained_by(self.through) {
            journal.finish();
            if let Err(err) = store.forget_journal(&self.id) {
                tracing::warn!("marca do diário {} não removida: {err}", self.id);
            }
        } else {
            tracing::warn!("o diário do log fica para o próximo início: o banco não recebeu tudo");
        }
    }
}

/// What the writer's thread shares with its handle besides the queue.
pub(super) struct Ends {
    pub(super) journal: Option<Arc<Mutex<Journal>>>,
    /// Rows are journaled before they are queued (commit durability).
    pub(super) journal_first: bool,
    /// Set when the full queue refused a journaled row: the writer reads
    /// it back from the journal.
    pub(super) refused: Arc<AtomicBool>,
}

pub(super) fn write_loop(
    store: Box<dyn Store>,
    receiver: &Receiver<Entry>,
    counts: &WriterCounts,
    buffering: &Buffering,
    ends: Ends,
) {
    let mut writer = Writer::new(store, counts, buffering, ends);
    let mut state = State::Open;
    loop {
        state = match state {
            State::Open | State::Failed => writer.run(receiver, matches!(state, State::Failed)),
            State::Closing { since, failed } => writer.close(since, failed),
            State::Closed => return,
        };
        let done = writer.waiting.is_empty() && !writer.journal.as_ref().is_some_and(|journal| journal.behind);
        writer.waiting.settle_flushes(done);
    }
}

/// The thread's state between rounds.
struct Writer<'a> {
    store: Box<dyn Store>,
    counts: &'a WriterCounts,
    buffering: &'a Buffering,
    refused: Arc<AtomicBool>,
    journal: Option<Journaled>,
    /// Answers wait for the commit itself: no journal holds their rows.
    waits: bool,
    waiting: Waiting,
}

impl<'a> Writer<'a> {
    fn new(store: Box<dyn Store>, counts: &'a WriterCounts, buffering: &'a Buffering, ends: Ends) -> Self {
        let journal = ends.journal.map(|journal| {
            let id = journal.lock().unwrap_or_else(PoisonError::into_inner).id().to_string();
            Journaled {
                journal,
                id,
                through: 0,
                loaded: 0,
                behind: false,
            }
        });
        Self {
            store,
            counts,
            buffering,
            refused: ends.refused,
            journal,
            waits: buffering.durability != Durability::Buffered && !ends.journal_first,
            waiting: Waiting::default(),
        }
    }

    /// One round while the queue is open: take what comes, then write
    /// (after a failure, once the database's mark is read).
    fn run(&mut self, receiver: &Receiver<Entry>, failed: bool) -> State {
        let open = self.receive(receiver, failed);
        let written = (!failed || self.settle_by_mark()) && self.write();
        match (open, written) {
            (true, true) => State::Open,
            (true, false) => State::Failed,
            (false, _) => State::Closing {
                since: Instant::now(),
                failed: !written,
            },
        }
    }

    /// One round while closing: a down database gets the grace to come
    /// back; then the rest is kept in the journal (or lost, counted).
    fn close(&mut self, since: Instant, failed: bool) -> State {
        let written = (!failed || self.settle_by_mark()) && self.write();
        let behind = self.journal.as_ref().is_some_and(|journal| journal.behind);
        if (written && self.waiting.is_empty() && !behind) || since.elapsed() >= self.buffering.grace {
            self.spill_from(0);
            if let Some(journal) = self.journal.take() {
                journal.close(&mut *self.store);
            }
            return State::Closed;
        }
        if !written {
            std::thread::sleep(Duration::from_millis(500).min(self.buffering.grace));
        }
        State::Closing {
            since,
            failed: !written,
        }
    }

    /// Takes what the queue holds: at least one entry (when idle, or
    /// waiting to try a failed write again), then a batch; whether the
    /// queue is still open.
    fn receive(&mut self, receiver: &Receiver<Entry>, failed: bool) -> bool {
        if let Some(journal) = self.journal.as_mut() {
            journal.behind |= self.refused.swap(false, Ordering::SeqCst);
        }
        let idle = self.waiting.is_empty() && !self.journal.as_ref().is_some_and(|journal| journal.behind);
        let timeout = match (idle, failed) {
            (true, _) => Duration::from_secs(3600),
            (false, true) => Duration::from_millis(500),
            (false, false) => Duration::ZERO,
        };
        let hurry = match receiver.recv_timeout(timeout) {
            Ok(entry) => self.take(entry),
            Err(RecvTimeoutError::Timeout) => false,
            Err(RecvTimeoutError::Disconnected) => return false,
        };
        // Unless an answer waits for the commit, gather a batch for a
        // moment before writing: one transaction for many decisions costs
        // a busy service far less than one each. With commits waited for,
        // the batch is what queued while the last commit ran: waiting
        // longer would only keep answers waiting.
        if !self.waits && !hurry && !self.gather(receiver) {
            return false;
        }
        // Bounded: a queue refilled as fast as it drains still gets written.
        for _ in 0..QUEUE {
            match receiver.try_recv() {
                Ok(entry) => {
                    self.take(entry);
                }
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => return false,
            }
        }
        if self.waiting.len() > self.buffering.waiting {
            self.spill_from(self.buffering.waiting);
        }
        true
    }

    /// Takes what queues within [`GATHER`], up to a batch or a flush;
    /// whether the queue is still open.
    fn gather(&mut self, receiver: &Receiver<Entry>) -> bool {
        // Counted in short sleeps, not against a deadline: a deadline read
        // from a faked clock (tests run under libfaketime) can make a timed
        // wait last until the next record arrives.
        for _ in 0..GATHER_STEPS {
            loop {
                match receiver.try_recv() {
                    Ok(entry) => {
                        if self.take(entry) {
                            return true;
                        }
                    }
                    Err(TryRecvError::Empty) => break,
                    Err(TryRecvError::Disconnected) => return false,
                }
                if self.waiting.len() >= BATCH {
                    return true;
                }
            }
            std::thread::sleep(GATHER / GATHER_STEPS);
        }
        true
    }

    /// Takes one entry; whether it asks for a write now (a flush). A
    /// journaled row is kept in memory only in its turn and while memory
    /// has room; else the journal alone keeps it until it is read back.
    fn take(&mut self, entry: Entry) -> bool {
        if let (Entry::Row { seq: Some(seq), .. }, Some(journal)) = (&entry, self.journal.as_mut()) {
            if *seq <= journal.loaded {
                // Read back from the journal before it came off the queue.
                return false;
            }
            if *seq != journal.loaded + 1 || self.waiting.len() >= self.buffering.waiting {
                journal.behind = true;
                return false;
            }
            journal.loaded = *seq;
        }
        self.waiting.push(entry)
    }

    /// After a failed write, the database's journal mark says which rows
    /// it holds; whether it answered.
    fn settle_by_mark(&mut self) -> bool {
        let Some(journal) = self.journal.as_mut() else {
            return true;
        };
        let Ok(through) = self.store.journal_mark(&journal.id) else {
            return false;
        };
        let held = self.waiting.held_through(through);
        self.waiting.settle(held, true);
        self.counts.written.fetch_add(held as u64, Ordering::Relaxed);
        journal.committed(through);
        true
    }

    /// Writes batches, reading back what the journal alone holds as
    /// memory allows, until nothing is left or [`CATCH_UP`] batches are
    /// written (the queue is taken between them); whether every write held.
    fn write(&mut self) -> bool {
        for _ in 0..CATCH_UP {
            self.read_back();
            if self.waiting.is_empty() {
                return true;
            }
            if !self.write_batch() {
                return false;
            }
        }
        true
    }

    /// Brings rows the journal alone holds back into memory.
    fn read_back(&mut self) {
        let room = self.buffering.waiting.saturating_sub(self.waiting.len());
        let Some(journal) = self.journal.as_mut().filter(|journal| journal.behind && room > 0) else {
            return;
        };
        for (seq, row) in journal.read_back(room) {
            self.waiting.push_loaded(seq, row);
        }
    }

    /// Writes the first batch of what waits; whether it held.
    fn write_batch(&mut self) -> bool {
        // The batch is written from where it waits: a failed write leaves
        // it in place for the next try, and nothing is copied.
        let size = self.waiting.len().min(BATCH);
        let mark = self.waiting.mark(size);
        let batch = self.waiting.rows.make_contiguous().get(..size).unwrap_or_default();
        let named = self
            .journal
            .as_ref()
            .zip(mark)
            .map(|(journal, seq)| (journal.id.as_str(), seq));
        let mut written = self.store.append_marked(batch, named);
        if written.is_err() && self.waits && named.is_none() {
            // Answers wait on this batch and nothing else holds it: a
            // connection the server closed (it restarted) is opened
            // again by the store, so one more try spares the waiting
            // answers a 503. A first try that committed and lost its
            // answer would leave a row twice, never a row lost.
            written = self.store.append_marked(batch, named);
        }
        match written {
            Ok(()) => {
                self.waiting.settle(size, true);
                self.counts.written.fetch_add(size as u64, Ordering::Relaxed);
                if let (Some(journal), Some(seq)) = (self.journal.as_mut(), mark) {
                    journal.committed(seq);
                }
                true
            }
            Err(err) => {
                self.counts.failures.fetch_add(1, Ordering::Relaxed);
                tracing::error!(
                    "não foi possível gravar {} decisões no log: {err}; nova tentativa em breve",
                    self.waiting.len()
                );
                if self.waits || self.waiting.answers_wait() {
                    // Answers wait on these (in commit durability, rows
                    // the journal could not take when they came): into
                    // the journal, synced, and read back once the
                    // database is back; without it the answers hear
                    // "lost" now rather than wait for the database.
                    self.spill_from(0);
                }
                false
            }
        }
    }

    /// Lets go of the rows from `from` on: journaled ones stay in the
    /// journal to be read back; the others are written to it, synced, and
    /// their acknowledgements hear whether they are on disk (without a
    /// journal, they are lost and counted).
    fn spill_from(&mut self, from: usize) {
        let taken = self.waiting.split_off(from);
        let mut rows = Vec::new();
        let mut acks = Vec::new();
        let mut let_go = false;
        for (row, ack, seq) in taken {
            if seq.is_some() {
                let_go = true;
            } else {
                rows.push(row);
                acks.push(ack);
            }
        }
        if let (true, Some(journal)) = (let_go, self.journal.as_mut()) {
            // Journaled rows in memory run on from the mark without a gap.
            journal.loaded = self.waiting.last_seq().unwrap_or(journal.through);
            journal.behind = true;
        }
        if rows.is_empty() {
            return;
        }
        let (kept, failed) = match self.journal.as_mut() {
            Some(journal) => {
                let (kept, written) = journal.spill(&rows);
                (kept, written.err().map(|err| err.to_string()))
            }
            None => (0, Some("sem diário".to_string())),
        };
        if kept > 0 {
            self.counts.spilled.fetch_add(kept as u64, Ordering::Relaxed);
            tracing::warn!("{kept} decisões guardadas no diário do log até o banco voltar");
        }
        if let Some(why) = failed {
            let lost = rows.len() - kept;
            self.counts.dropped.fetch_add(lost as u64, Ordering::Relaxed);
            tracing::error!("{lost} decisões não gravadas no log: {why}");
        }
        // The first `kept` are on disk; an answer on any other hears lost.
        for (index, ack) in acks.into_iter().enumerate() {
            if let Some(ack) = ack {
                ack(index < kept);
            }
        }
    }
}
