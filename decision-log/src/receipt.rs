//! What appending a decision's row gives back: a receipt the caller keeps
//! until it answers, then awaits (the service) or waits on (a command, a
//! case's blocking work). One path for every caller: no callback to fill,
//! no slot to remember.

use std::time::Duration;

use tokio::sync::oneshot::{self, error::TryRecvError};

use crate::writer::Ack;

/// Longest a blocking caller waits for its row to be committed.
const COMMIT_WAIT: Duration = Duration::from_secs(30);
/// How often a blocking wait looks again: counted in sleeps, not against
/// a deadline, which a faked clock (tests run under libfaketime) can move.
const WAIT_STEP: Duration = Duration::from_millis(1);

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
    Pending(oneshot::Receiver<bool>),
}

impl Receipt {
    /// A row known recorded (`true`) or lost (`false`) already.
    pub fn settled(recorded: bool) -> Self {
        Self(State::Settled(recorded))
    }

    /// A receipt the writer settles through the returned acknowledgement
    /// (dropped unsettled, it reads as lost).
    pub(crate) fn pending() -> (Ack, Self) {
        let (told, heard) = oneshot::channel();
        let ack: Ack = Box::new(move |on_disk| {
            let _ = told.send(on_disk);
        });
        (ack, Self(State::Pending(heard)))
    }

    /// Whether the row is recorded, awaited (an async caller); settled
    /// once heard, so asking again answers the same at once.
    pub async fn recorded(&mut self) -> bool {
        if let State::Pending(heard) = &mut self.0 {
            let told = heard.await.unwrap_or(false);
            self.0 = State::Settled(told);
        }
        matches!(self.0, State::Settled(true))
    }

    /// Whether the row is recorded, waiting on this thread for at most
    /// 30 s (a command, a blocking task); past that, lost.
    pub fn wait(&mut self) -> bool {
        if let State::Pending(heard) = &mut self.0 {
            let steps = COMMIT_WAIT.as_millis() / WAIT_STEP.as_millis().max(1);
            let mut told = false;
            for _ in 0..steps {
                match heard.try_recv() {
                    Ok(recorded) => {
                        told = recorded;
                        break;
                    }
                    Err(TryRecvError::Closed) => break,
                    Err(TryRecvError::Empty) => std::thread::sleep(WAIT_STEP),
                }
            }
            self.0 = State::Settled(told);
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
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap_or_else(|_| unreachable!());
        assert!(!runtime.block_on(receipt.recorded()));
    }
}
