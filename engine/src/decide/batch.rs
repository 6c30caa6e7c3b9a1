//! Many decisions at once, on every core, in the caller's order.
//!
//! A loaded bundle is `Send + Sync`, so replaying a corpus or a decision
//! log is `in_parallel` over its situations: the output is the same
//! whatever the number of cores.

use chrono::{DateTime, FixedOffset};

use crate::decide::decision::Decision;
use crate::decide::error::DecideError;
use crate::decide::situation::Situation;
use crate::model::bundle::Bundle;
use crate::parallel::in_parallel;

impl Bundle {
    /// Decides every situation at `now` (each situation's own `now` wins),
    /// on every core, in order.
    pub fn decide_batch(
        &self,
        situations: &[Situation],
        now: DateTime<FixedOffset>,
    ) -> Vec<Result<Decision, DecideError>> {
        in_parallel(situations, |situation| self.decide(situation, now))
    }
}
