//! Deciding and recording as one step: the path `decide --log`, `ask` and
//! `serve` share, so what a logged row says about its decision (the moment,
//! the latency, whether personal facts were kept) is worked out once.

use std::time::{Duration, Instant};

use chrono::{DateTime, FixedOffset};
use roteiro_engine::{Bundle, DecideError, Decision, Situation};

use crate::{LogWriter, Made, Row};

/// Where a decision's row goes once the decision is made.
pub trait Recorder {
    /// Whether rows keep personal facts, or `None` when nothing is recorded
    /// (then no row is built at all).
    fn keeps_personal(&self) -> Option<bool>;
    /// Takes one row; queues it, never waits for the database.
    fn record(&self, row: Row);
    /// Who decides, when the recorder knows (an authenticated caller);
    /// `None` leaves the situation's `analyst.name`.
    fn analyst(&self) -> Option<&str> {
        None
    }
}

/// A command's log: its writer, and whether rows keep personal facts
/// (`--log-personal`).
pub struct CommandLog {
    /// The writer rows are queued to.
    pub writer: LogWriter,
    /// Keep personal facts instead of masking them.
    pub keep_personal: bool,
}

impl CommandLog {
    /// Writes what is queued and stops the writer.
    pub fn close(self) {
        self.writer.close();
    }
}

/// Longest a command waits for its decision to be committed.
const COMMIT_WAIT: Duration = Duration::from_secs(30);

impl Recorder for CommandLog {
    fn keeps_personal(&self) -> Option<bool> {
        Some(self.keep_personal)
    }

    /// With commits waited for, returns once the row is on disk, and says
    /// so on standard error when it could not be.
    fn record(&self, row: Row) {
        match self.writer.durability() {
            crate::Durability::Buffered => self.writer.log(row),
            crate::Durability::Commit | crate::Durability::Sync => {
                if !self.writer.log_and_wait(row, COMMIT_WAIT) {
                    eprintln!("roteiro: a decisão não foi gravada no log de decisões");
                }
            }
        }
    }
}

impl<R: Recorder> Recorder for Option<R> {
    fn keeps_personal(&self) -> Option<bool> {
        self.as_ref().and_then(Recorder::keeps_personal)
    }

    fn record(&self, row: Row) {
        if let Some(recorder) = self {
            recorder.record(row);
        }
    }
}

/// A decision and how long it took.
#[derive(Debug)]
pub struct Decided {
    /// The decision.
    pub decision: Decision,
    /// Time spent deciding (the row's latency).
    pub latency: Duration,
}

/// Decides `situation` as of `now` (the situation's own moment wins) and
/// hands the decision's row to `recorder`; `origin` says which door it
/// came through (`decide`, `ask`, `serve`).
pub fn decide_and_record(
    bundle: &Bundle,
    situation: &Situation,
    now: DateTime<FixedOffset>,
    origin: &str,
    recorder: &impl Recorder,
) -> Result<Decided, DecideError> {
    let started = Instant::now();
    let decision = bundle.decide(situation, now)?;
    let latency = started.elapsed();
    if let Some(keep_personal) = recorder.keeps_personal() {
        let made = Made {
            origin,
            now,
            latency,
            keep_personal,
            analyst: recorder.analyst(),
        };
        recorder.record(Row::of(bundle, situation, &decision, made));
    }
    Ok(Decided { decision, latency })
}
