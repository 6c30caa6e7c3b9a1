//! Writing off the request path: a bounded queue to one thread that owns
//! the database connection.
//!
//! A decision only pushes its record into the queue. The thread writes in
//! batches; when the database fails, the batch waits in memory and is
//! retried every half second, so records logged while the database is down
//! are written when it returns. The queue and the waiting room are both
//! bounded: past them a record is dropped, counted and logged as an error,
//! never silently.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::{LogError, Record, Store};

/// Records waiting in the queue before the writer takes them.
const QUEUE: usize = 10_000;
/// Records kept in memory while the database is down.
const WAITING: usize = 200_000;
/// Records written per transaction.
const BATCH: usize = 500;

/// Counters of the writer, for `/metrics`.
#[derive(Debug, Default)]
pub struct WriterCounts {
    /// Records written.
    pub written: AtomicU64,
    /// Failed writes (each retried).
    pub failures: AtomicU64,
    /// Records dropped because every buffer was full.
    pub dropped: AtomicU64,
}

/// The handle decisions log through.
pub struct LogWriter {
    sender: Option<SyncSender<Record>>,
    thread: Option<JoinHandle<()>>,
    counts: Arc<WriterCounts>,
}

impl LogWriter {
    /// Starts writing to `store` on a thread of its own.
    pub fn start(store: Box<dyn Store>) -> Self {
        let (sender, receiver) = mpsc::sync_channel(QUEUE);
        let counts = Arc::new(WriterCounts::default());
        let thread_counts = counts.clone();
        let thread = std::thread::Builder::new()
            .name("roteiro-log".into())
            .spawn(move || write_loop(store, &receiver, &thread_counts))
            .ok();
        Self {
            sender: Some(sender),
            thread,
            counts,
        }
    }

    /// Opens the database at `address` and starts writing to it.
    pub fn open(address: &str) -> Result<Self, LogError> {
        Ok(Self::start(crate::open(address)?))
    }

    /// Queues one record; never blocks.
    pub fn log(&self, record: Record) {
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

fn write_loop(mut store: Box<dyn Store>, receiver: &Receiver<Record>, counts: &WriterCounts) {
    let mut waiting: VecDeque<Record> = VecDeque::new();
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
            while waiting.len() < WAITING {
                match receiver.try_recv() {
                    Ok(record) => waiting.push_back(record),
                    Err(_) => break,
                }
            }
        }
        while !waiting.is_empty() {
            let batch: Vec<Record> = waiting.iter().take(BATCH).cloned().collect();
            match store.append(&batch) {
                Ok(()) => {
                    waiting.drain(..batch.len());
                    counts.written.fetch_add(batch.len() as u64, Ordering::Relaxed);
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
            // Closing: give a down database 10 s to come back, then say
            // what is lost.
            let since = *closing_since.get_or_insert_with(Instant::now);
            if waiting.is_empty() {
                return;
            }
            if since.elapsed() > Duration::from_secs(10) {
                counts.dropped.fetch_add(waiting.len() as u64, Ordering::Relaxed);
                tracing::error!("encerrando com {} decisões não gravadas no log", waiting.len());
                return;
            }
            std::thread::sleep(Duration::from_millis(500));
        }
    }
}
