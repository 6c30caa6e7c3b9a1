//! The writer's thread: takes the queue in batches, writes them, keeps
//! the journal's mark with each, spills what the database cannot take, and
//! closes within its grace.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, TryRecvError};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use super::spill::take_spilled;
use super::waiting::Waiting;
use super::{Buffering, Durability, Entry, WriterCounts, BATCH, GATHER, GATHER_STEPS};
use crate::journal::Journal;
use crate::Store;

/// The journal as the writer's thread sees it: what the database holds
/// of it.
struct Journaled {
    journal: Arc<Mutex<Journal>>,
    /// The journal's name, kept here so a batch does not lock for it.
    id: String,
    through: u64,
}

impl Journaled {
    /// A batch through `seq` is committed: closed segments it covers go.
    fn committed(&mut self, seq: u64) {
        self.through = self.through.max(seq);
        self.journal
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .committed(self.through);
    }

    /// At close: with everything journaled in the database, the journal's
    /// files and mark go; else they stay for the next writer.
    fn close(self, store: &mut dyn Store) {
        let mut journal = self.journal.lock().unwrap_or_else(PoisonError::into_inner);
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
    pub(super) closing: Arc<AtomicBool>,
}

pub(super) fn write_loop(
    store: Box<dyn Store>,
    receiver: &Receiver<Entry>,
    counts: &WriterCounts,
    buffering: &Buffering,
    ends: Ends,
) {
    let mut writer = Writer::new(store, counts, buffering, ends);
    loop {
        writer.receive(receiver);
        writer.read_mark_if_uncertain();
        writer.write();
        writer.waiting.settle_flushes(writer.waiting.is_empty());
        if writer.closed() {
            return;
        }
    }
}

/// The thread's state between rounds.
struct Writer<'a> {
    store: Box<dyn Store>,
    counts: &'a WriterCounts,
    buffering: &'a Buffering,
    closing: Arc<AtomicBool>,
    journal: Option<Journaled>,
    /// Answers wait for the commit itself: no journal holds their rows.
    waits: bool,
    waiting: Waiting,
    /// The queue still takes rows.
    open: bool,
    closing_since: Option<Instant>,
    /// A write failed, and may have committed all the same (the server
    /// went away during COMMIT): before trying journaled rows again, the
    /// database's mark says which it already holds.
    uncertain: bool,
}

impl<'a> Writer<'a> {
    fn new(store: Box<dyn Store>, counts: &'a WriterCounts, buffering: &'a Buffering, ends: Ends) -> Self {
        let journal = ends.journal.map(|journal| {
            let id = journal.lock().unwrap_or_else(PoisonError::into_inner).id().to_string();
            Journaled {
                journal,
                id,
                through: 0,
            }
        });
        let waits = buffering.durability != Durability::Buffered && journal.is_none();
        // What an earlier writer spilled goes first.
        let mut waiting = Waiting::default();
        waiting.extend(
            buffering
                .spill
                .as_deref()
                .map(|path| take_spilled(path, counts))
                .unwrap_or_default(),
        );
        Self {
            store,
            counts,
            buffering,
            closing: ends.closing,
            journal,
            waits,
            waiting,
            open: true,
            closing_since: None,
            uncertain: false,
        }
    }

    /// Takes what the queue holds: a batch, or at least one row.
    fn receive(&mut self, receiver: &Receiver<Entry>) {
        // Journaled rows are never spilled: past the memory bound they
        // stay in the queue, which then refuses new ones.
        let room = self.journal.is_none() || self.waiting.len() < self.buffering.waiting;
        if !self.open {
            return;
        }
        if !room {
            // What stays queued at close is in the journal for the next
            // writer.
            self.open = !self.closing.load(Ordering::SeqCst);
            if self.open {
                std::thread::sleep(Duration::from_millis(500));
            }
            return;
        }
        let timeout = if self.waiting.is_empty() {
            Duration::from_secs(3600)
        } else {
            Duration::from_millis(500)
        };
        let mut hurry = false;
        match receiver.recv_timeout(timeout) {
            Ok(entry) => hurry = self.waiting.push(entry),
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => self.open = false,
        }
        // Unless an answer waits for the commit, gather a batch for a
        // moment before writing: one transaction for many decisions costs
        // a busy service far less than one each. With commits waited for,
        // the batch is what queued while the last commit ran: waiting
        // longer would only keep answers waiting.
        if !self.waits && !hurry && self.open {
            self.open = gather(receiver, &mut self.waiting);
        }
        while let Ok(entry) = receiver.try_recv() {
            self.waiting.push(entry);
            if self.waiting.len() > self.buffering.waiting {
                if self.journal.is_some() {
                    break;
                }
                self.waiting
                    .spill_from(self.buffering.waiting, self.buffering.spill.as_deref(), self.counts);
            }
        }
    }

    /// After a failed write, the database's journal mark says which rows
    /// it holds; nothing is tried until it answers.
    fn read_mark_if_uncertain(&mut self) {
        if !self.uncertain || self.waiting.is_empty() {
            return;
        }
        let Some(journal) = self.journal.as_mut() else {
            self.uncertain = false;
            return;
        };
        if let Ok(through) = self.store.journal_mark(&journal.id) {
            let held = self.waiting.held_through(through);
            self.waiting.settle(held, true);
            self.counts.written.fetch_add(held as u64, Ordering::Relaxed);
            if held > 0 {
                journal.committed(through);
            }
            self.uncertain = false;
        }
    }

    /// Writes batches until nothing waits or a write fails.
    fn write(&mut self) {
        let spill = self.buffering.spill.as_deref();
        while !self.waiting.is_empty() && !self.uncertain {
            // The batch is written from where it waits: a failed write
            // leaves it in place for the next try, and nothing is copied.
            let size = self.waiting.len().min(BATCH);
            let mark = self.waiting.mark(size);
            let batch = self.waiting.rows.make_contiguous().get(..size).unwrap_or_default();
            let named = self
                .journal
                .as_ref()
                .zip(mark)
                .map(|(journal, seq)| (journal.id.as_str(), seq));
            let mut written = self.store.append_marked(batch, named);
            if written.is_err() && self.waits && self.journal.is_none() {
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
                    // The database is back: what was spilled follows.
                    if self.waiting.is_empty() {
                        if let Some(path) = spill {
                            self.waiting.extend(take_spilled(path, self.counts));
                        }
                    }
                }
                Err(err) => {
                    self.uncertain = true;
                    self.counts.failures.fetch_add(1, Ordering::Relaxed);
                    tracing::error!(
                        "não foi possível gravar {} decisões no log: {err}; nova tentativa em breve",
                        self.waiting.len()
                    );
                    if self.waits {
                        // Answers wait on these: into the fsynced spill
                        // file now, replayed once the database is back.
                        self.waiting.spill_from(0, spill, self.counts);
                    }
                    return;
                }
            }
        }
    }

    /// Closing: a down database gets a while to come back, then the rest
    /// goes to the spill file (or stays in the journal) for the next
    /// writer; whether the thread is done.
    fn closed(&mut self) -> bool {
        if self.open {
            return false;
        }
        let since = *self.closing_since.get_or_insert_with(Instant::now);
        if self.waiting.is_empty() || since.elapsed() >= self.buffering.grace {
            self.waiting.spill_from(0, self.buffering.spill.as_deref(), self.counts);
            if let Some(journal) = self.journal.take() {
                journal.close(&mut *self.store);
            }
            return true;
        }
        std::thread::sleep(Duration::from_millis(500).min(self.buffering.grace));
        false
    }
}

/// Takes what queues within [`GATHER`], up to a batch or a flush; whether
/// the queue is still open.
fn gather(receiver: &Receiver<Entry>, waiting: &mut Waiting) -> bool {
    // Counted in short sleeps, not against a deadline: a deadline read
    // from a faked clock (tests run under libfaketime) can make a timed
    // wait last until the next record arrives.
    for _ in 0..GATHER_STEPS {
        loop {
            match receiver.try_recv() {
                Ok(entry) => {
                    if waiting.push(entry) {
                        return true;
                    }
                }
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
