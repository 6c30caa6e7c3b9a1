//! What appending a decision's row gives back: a receipt the caller keeps
//! until it answers, then awaits (the service) or waits on (a command, a
//! case's blocking work). One path for every caller: no callback to fill,
//! no slot to remember.

use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::Notify;

use crate::writer::Ack;

/// Longest a caller waits for its row to be committed: an answer is
/// never held longer, whatever the database does.
const COMMIT_WAIT: Duration = Duration::from_secs(30);
/// A blocking wait is counted in steps of this, not against one deadline,
/// which a faked clock (tests run under libfaketime) can move; each step
/// ends at once when the writer tells.
const WAIT_STEP: Duration = Duration::from_millis(100);

/// Whether a row is where the log's durability promises before an answer
/// (queued; in the journal; committed), now or once the writer says.
#[derive(Debug)]
#[must_use = "an answer waits for its row's receipt"]
pub struct Receipt(State);

#[derive(Debug)]
enum State {
    /// Known already: nothing recorded, queued without a wait, or lost.
    Settled(bool),
    /// The writer tells once the row is on disk, or lost.
    Pending(Arc<Told>),
}

/// What the writer told, and the two ways a caller hears it: a thread
/// blocked on the condition, a task awaiting the notification.
#[derive(Debug, Default)]
struct Told {
    recorded: Mutex<Option<bool>>,
    thread: Condvar,
    task: Notify,
}

impl Told {
    fn heard(&self) -> Option<bool> {
        *self.recorded.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// What the writer tells within [`COMMIT_WAIT`], blocking this thread;
    /// past it, lost.
    fn wait(&self) -> bool {
        let steps = COMMIT_WAIT.as_millis() / WAIT_STEP.as_millis().max(1);
        let mut recorded = self.recorded.lock().unwrap_or_else(PoisonError::into_inner);
        for _ in 0..steps {
            if recorded.is_some() {
                break;
            }
            recorded = self
                .thread
                .wait_timeout(recorded, WAIT_STEP)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        recorded.unwrap_or(false)
    }
}

/// The writer's end: tells once; dropped untold, it tells "lost".
struct Teller(Arc<Told>);

impl Teller {
    fn tell(&self, recorded: bool) {
        let mut told = self.0.recorded.lock().unwrap_or_else(PoisonError::into_inner);
        if told.is_none() {
            *told = Some(recorded);
            self.0.thread.notify_all();
            self.0.task.notify_waiters();
        }
    }
}

impl Drop for Teller {
    fn drop(&mut self) {
        self.tell(false);
    }
}

impl Receipt {
    /// A row known recorded (`true`) or lost (`false`) already.
    pub fn settled(recorded: bool) -> Self {
        Self(State::Settled(recorded))
    }

    /// A receipt the writer settles through the returned acknowledgement
    /// (dropped unsettled, it reads as lost).
    pub(crate) fn pending() -> (Ack, Self) {
        let told = Arc::new(Told::default());
        let teller = Teller(told.clone());
        let ack: Ack = Box::new(move |on_disk| teller.tell(on_disk));
        (ack, Self(State::Pending(told)))
    }

    /// Whether the row is recorded, awaited (an async caller) for at most
    /// 30 s, past which it reads as lost; settled once heard, so asking
    /// again answers the same at once.
    pub async fn recorded(&mut self) -> bool {
        self.recorded_within(COMMIT_WAIT).await
    }

    /// [`Self::recorded`], heard within `bound`.
    async fn recorded_within(&mut self, bound: Duration) -> bool {
        if let State::Pending(told) = &self.0 {
            let told = told.clone();
            let heard = async {
                loop {
                    // Made before looking: a tell in between still wakes it.
                    let notified = told.task.notified();
                    if let Some(recorded) = told.heard() {
                        break recorded;
                    }
                    notified.await;
                }
            };
            let recorded = tokio::time::timeout(bound, heard).await.unwrap_or(false);
            self.0 = State::Settled(recorded);
        }
        matches!(self.0, State::Settled(true))
    }

    /// Whether the row is recorded, waiting on this thread for at most
    /// 30 s (a command, a blocking task); past that, lost.
    pub fn wait(&mut self) -> bool {
        if let State::Pending(told) = &self.0 {
            let recorded = told.wait();
            self.0 = State::Settled(recorded);
        }
        matches!(self.0, State::Settled(true))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_receipt_tells_what_its_acknowledgement_said_or_lost_when_dropped() {
        assert!(Receipt::settled(true).wait());
        assert!(!Receipt::settled(false).wait());
        let (ack, mut receipt) = Receipt::pending();
        let writer = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            ack(true);
        });
        assert!(receipt.wait(), "heard the commit from another thread");
        assert!(receipt.wait(), "and remembers it");
        writer.join().unwrap_or_default();
        let (ack, mut receipt) = Receipt::pending();
        drop(ack);
        assert!(!receipt.wait(), "an acknowledgement never called is a lost row");
        let (ack, mut receipt) = Receipt::pending();
        ack(false);
        // Timers and I/O, as the service's runtime has.
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap_or_else(|_| unreachable!());
        assert!(!runtime.block_on(receipt.recorded()));
        // Awaited before the writer tells: woken by the tell.
        let (ack, mut receipt) = Receipt::pending();
        let writer = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            ack(true);
        });
        assert!(runtime.block_on(receipt.recorded()), "heard while awaiting");
        writer.join().unwrap_or_default();
        // Never told within the bound: lost, and the answer goes.
        let (ack, mut receipt) = Receipt::pending();
        assert!(!runtime.block_on(receipt.recorded_within(Duration::from_millis(50))));
        ack(true);
        assert!(!runtime.block_on(receipt.recorded()), "settled as lost");
    }
}
