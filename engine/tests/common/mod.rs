//! Helpers shared by the engine's integration tests (and by the
//! binary's, which include this file).
#![expect(dead_code, reason = "each test crate uses a different subset")]

use std::path::PathBuf;

use roteiro_engine::{Bundle, BundleError, Decision, Evaluation, SourceFile};

/// The moment tests decide at when a situation pins none: a Tuesday
/// morning, business hours in Brasília. Tests never read the clock.
pub fn now() -> chrono::DateTime<chrono::FixedOffset> {
    chrono::DateTime::parse_from_rfc3339("2026-12-08T10:15:00-03:00").expect("a valid moment")
}

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The shipped bundle folder.
pub fn policies() -> PathBuf {
    root().join("policies")
}

/// The shipped bundle.
pub fn shipped() -> Bundle {
    Bundle::load_dir(&policies()).expect("the shipped bundle loads")
}

/// The shipped bundle's files, to edit in memory.
pub fn shipped_files() -> Vec<SourceFile> {
    shipped().files().to_vec()
}

/// The shipped files with `edit` applied to the file at `path`.
pub fn edited(path: &str, edit: impl Fn(&str) -> String) -> Result<Bundle, BundleError> {
    let mut files = shipped_files();
    let file = files
        .iter_mut()
        .find(|f| f.path == path)
        .expect("file exists in the bundle");
    file.text = edit(&file.text);
    Bundle::from_files(files)
}

/// A minimal bundle around one procedure file, for engine mechanisms.
pub fn mini(procedure: &str) -> Result<Bundle, BundleError> {
    Bundle::from_files(mini_files(procedure))
}

/// The files of [`mini`], for tests that edit one of them.
pub fn mini_files(procedure: &str) -> Vec<SourceFile> {
    let files = [
        (
            "bundle.yaml",
            "name: mini\nversion: '1'\ntimezone: {name: America/Sao_Paulo}\nphases: [a, b]\noutputs:\n  route: {description: r, type: text, values: [x, y, z]}\n  due: {description: d, type: date}\n",
        ),
        (
            "vocabulary.yaml",
            "facts:\n  now: {type: datetime, description: n, question: q}\n  caso.kind: {type: enum, values: [k1, k2, k3], description: k, question: Qual o tipo?}\n  caso.flag: {type: bool, description: f, question: Flag?}\n  caso.name: {type: text, description: n, question: Qual o nome?, label: nome}\n  caso.day: {type: date, description: d, question: Qual o dia?}\n  caso.count: {type: integer, description: c, question: Quantos?}\n",
        ),
        ("catalog.yaml", "teams: {t: Time}\nmacros: {m: Macro Exata - Ação pública}\n"),
        (
            "calendar.yaml",
            "business_hours:\n  financeiro: {days: [seg, ter, qua, qui, sex], open: '08:00', close: '18:00'}\nholidays:\n  '2026-12-25': Natal\n",
        ),
        ("procedures/p.yaml", procedure),
    ];
    files
        .iter()
        .map(|(path, text)| SourceFile {
            path: (*path).to_string(),
            text: (*text).to_string(),
        })
        .collect()
}

/// The decision on `situation` at the suite's moment.
pub fn decide(bundle: &Bundle, situation: &str) -> Decision {
    let situation = bundle.parse_situation(situation, "test").expect("valid situation");
    bundle.decide(&situation, now()).expect("decision")
}

/// The paths of the facts a decision asks for.
pub fn missing(decision: &Decision) -> Vec<&str> {
    decision.missing.iter().map(|m| m.fact.as_str()).collect()
}

/// A bundle's files loaded twice: decided by the native tree, and by Rhai
/// alone.
pub fn native_and_rhai(files: Vec<SourceFile>) -> (Bundle, Bundle) {
    let native = Bundle::from_files(files.clone()).expect("loads");
    let mut reference = Bundle::from_files(files).expect("loads");
    reference.set_evaluation(Evaluation::Rhai);
    (native, reference)
}
