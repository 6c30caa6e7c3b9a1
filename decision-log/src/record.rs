//! Deciding and recording as one step: the path `decide --log`, `ask` and
//! `serve` share, so what a logged row says about its decision (the moment,
//! the latency, whether personal facts were kept) is worked out once.

use std::time::{Duration, Instant};

use chrono::{DateTime, FixedOffset};
use roteiro_engine::{Bundle, DecideError, Decision, Situation};

use crate::{LogWriter, Made, Receipt, Row};

/// Whether decisions are recorded, and how.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Logging {
    /// Nothing is recorded: no row is even built.
    Off,
    /// Rows are recorded, keeping personal facts or masking them.
    On {
        /// Keep personal facts instead of masking them.
        keep_personal: bool,
    },
}

/// Where a decision's row goes once the decision is made.
pub trait Recorder {
    /// Whether rows are recorded, and whether they keep personal facts.
    fn logging(&self) -> Logging;
    /// Takes one row; its receipt says whether it is recorded as far as
    /// the log's durability promises before an answer (queued, in the
    /// journal, committed). The caller waits on it before answering and
    /// says so to whoever asked: a library prints nothing.
    fn record(&self, row: Row) -> Receipt;
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

impl Recorder for CommandLog {
    fn logging(&self) -> Logging {
        Logging::On {
            keep_personal: self.keep_personal,
        }
    }

    fn record(&self, row: Row) -> Receipt {
        self.writer.append(row)
    }
}

impl<R: Recorder> Recorder for Option<R> {
    fn logging(&self) -> Logging {
        self.as_ref().map_or(Logging::Off, Recorder::logging)
    }

    fn record(&self, row: Row) -> Receipt {
        match self {
            Some(recorder) => recorder.record(row),
            None => Receipt::settled(true),
        }
    }

    fn analyst(&self) -> Option<&str> {
        self.as_ref().and_then(Recorder::analyst)
    }
}

/// A decision and how long it took.
#[derive(Debug)]
pub struct Decided {
    /// The decision.
    pub decision: Decision,
    /// Time spent deciding (the row's latency).
    pub latency: Duration,
    /// Whether its row is recorded as the log promises, once the writer
    /// says (settled `true` when nothing is recorded).
    pub receipt: Receipt,
}

/// Decides `situation` as of `now` (the situation's own moment wins) and
/// hands the decision's row to `recorder`; `origin` says which door it
/// came through (`decide`, `ask`, `serve`).
pub fn decide_and_record(
    bundle: &Bundle,
    situation: &Situation,
    now: DateTime<FixedOffset>,
    origin: &str,
    recorder: &(impl Recorder + ?Sized),
) -> Result<Decided, DecideError> {
    let started = Instant::now();
    let decision = bundle.decide(situation, now)?;
    let latency = started.elapsed();
    let receipt = match recorder.logging() {
        Logging::Off => Receipt::settled(true),
        Logging::On { keep_personal } => {
            let made = Made {
                origin,
                now,
                latency,
                keep_personal,
                analyst: recorder.analyst(),
            };
            recorder.record(Row::of(bundle, situation, &decision, made))
        }
    };
    Ok(Decided {
        decision,
        latency,
        receipt,
    })
}
