//! Any bytes as a situation of the shipped bundle: read, and when valid,
//! decided. Reading never panics; a valid situation never makes a rule
//! fail, and deciding it twice gives the same decision.
#![no_main]

use libfuzzer_sys::fuzz_target;
use roteiro_engine::{DecideError, Evaluation};
use roteiro_fuzz::{now, shipped};

fuzz_target!(|data: &[u8]| {
    let bundle = shipped(Evaluation::Native);
    let Ok(situation) = bundle.parse_situation(data, "fuzz") else {
        return;
    };
    let first = bundle.decide(&situation, now());
    if let Err(DecideError::Rule(err)) = &first {
        panic!("a rule failed on a valid situation: {err}");
    }
    let second = bundle.decide(&situation, now());
    assert_eq!(first.is_ok(), second.is_ok());
    if let (Ok(first), Ok(second)) = (first, second) {
        let json = |decision| serde_json::to_string(&decision).unwrap_or_default();
        assert_eq!(json(first), json(second), "deterministic");
    }
});
