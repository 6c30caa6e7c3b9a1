//! A procedure file of the shipped bundle replaced by any text: the bundle
//! is loaded whole or refused with its problems, never half-loaded and
//! never a panic; what loads is linted and its policy tests run.
#![no_main]

use libfuzzer_sys::fuzz_target;
use roteiro_engine::Bundle;
use roteiro_fuzz::shipped_files;

fuzz_target!(|data: &[u8]| {
    let Some((&which, text)) = data.split_first() else {
        return;
    };
    let mut files = shipped_files().to_vec();
    let procedures: Vec<usize> = files
        .iter()
        .enumerate()
        .filter(|(_, file)| file.path.starts_with("procedures/"))
        .map(|(index, _)| index)
        .collect();
    let Some(&index) = procedures.get(usize::from(which) % procedures.len().max(1)) else {
        return;
    };
    files[index].text = String::from_utf8_lossy(text).into_owned();
    match Bundle::from_files(files) {
        Err(err) => assert!(!err.problems.is_empty(), "a refusal names its problems"),
        Ok(bundle) => {
            let _ = bundle.lint();
            let _ = bundle.run_tests(None, None);
        }
    }
});
