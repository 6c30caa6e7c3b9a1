//! Any text as a rule's condition: a bundle with it loads or is refused
//! (never a panic), and what loads decides alike on the native evaluator
//! and on Rhai, byte for byte, errors included.
#![no_main]

use libfuzzer_sys::fuzz_target;
use roteiro_engine::{Bundle, Evaluation};
use roteiro_fuzz::{now, with_condition, SITUATIONS};

fuzz_target!(|data: &[u8]| {
    let Ok(condition) = std::str::from_utf8(data) else {
        return;
    };
    if condition.len() > 512 {
        return;
    }
    let Ok(mut native) = Bundle::from_files(with_condition(condition)) else {
        return;
    };
    native.set_evaluation(Evaluation::Native);
    let Ok(mut rhai) = Bundle::from_files(with_condition(condition)) else {
        panic!("the same files loaded once and not twice");
    };
    rhai.set_evaluation(Evaluation::Rhai);
    for text in SITUATIONS {
        let (Ok(a), Ok(b)) = (native.parse_situation(text, "s"), rhai.parse_situation(text, "s")) else {
            continue;
        };
        let words = |decided: Result<roteiro_engine::Decision, roteiro_engine::DecideError>| match decided {
            Ok(decision) => serde_json::to_string(&decision).unwrap_or_default(),
            Err(err) => format!("erro: {err}"),
        };
        let (native_says, rhai_says) = (words(native.decide(&a, now())), words(rhai.decide(&b, now())));
        assert_eq!(native_says, rhai_says, "condition: {condition}\nsituation: {text}");
    }
});
