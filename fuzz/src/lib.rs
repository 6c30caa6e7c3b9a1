//! What the fuzz targets share: the shipped bundle (with a decision budget
//! no sanitized build reaches, so a slow run is never mistaken for a
//! rule's failure), the moment they decide at, and the small bundle the
//! expression target writes conditions into.

use std::path::PathBuf;
use std::sync::OnceLock;

use roteiro_engine::{Bundle, Evaluation, SourceFile};

/// A Tuesday morning in Brasília: the fuzz targets never read the clock.
pub fn now() -> chrono::DateTime<chrono::FixedOffset> {
    chrono::DateTime::parse_from_rfc3339("2026-12-08T10:15:00-03:00").unwrap_or_default()
}

fn policies() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../policies")
}

/// The shipped bundle's files, its budget raised.
pub fn shipped_files() -> &'static [SourceFile] {
    static FILES: OnceLock<Vec<SourceFile>> = OnceLock::new();
    FILES.get_or_init(|| {
        let mut files = Bundle::load_dir(&policies())
            .map(|bundle| bundle.files().to_vec())
            .unwrap_or_default();
        for file in &mut files {
            if file.path == "bundle.yaml" {
                file.text = file.text.replace("decision_ms: 250", "decision_ms: 60000");
            }
        }
        files
    })
}

/// The shipped bundle on `evaluation`, loaded once.
pub fn shipped(evaluation: Evaluation) -> &'static Bundle {
    static NATIVE: OnceLock<Bundle> = OnceLock::new();
    static RHAI: OnceLock<Bundle> = OnceLock::new();
    let cell = match evaluation {
        Evaluation::Rhai => &RHAI,
        _ => &NATIVE,
    };
    cell.get_or_init(|| {
        let mut bundle = Bundle::from_files(shipped_files().to_vec()).unwrap_or_else(|err| panic!("{err}"));
        bundle.set_evaluation(evaluation);
        bundle
    })
}

/// A small bundle whose one rule fires on `condition`.
pub fn with_condition(condition: &str) -> Vec<SourceFile> {
    let quoted = serde_json::to_string(condition).unwrap_or_default();
    let procedure = format!(
        "document: d.txt\ntitle: t\nrules:\n  - id: regra\n    section: '1'\n    phase: a\n    when: {quoted}\n    set: {{route: x}}\n    actions:\n      - id: acao\n        text: \"{{{{ caso.name }}}} {{{{ caso.count }}}}\"\n"
    );
    [
        (
            "bundle.yaml",
            "name: fuzz\nversion: '1'\ntimezone: {name: America/Sao_Paulo}\nlimits: {decision_ms: 60000}\nphases: [a]\noutputs:\n  route: {description: r, type: text, values: [x]}\n",
        ),
        (
            "vocabulary.yaml",
            "facts:\n  now: {type: datetime, description: n, question: q}\n  caso.kind: {type: enum, values: [k1, k2, k3], description: k, question: Qual o tipo?}\n  caso.flag: {type: bool, description: f, question: Flag?}\n  caso.name: {type: text, description: n, question: Qual o nome?, label: nome}\n  caso.day: {type: date, description: d, question: Qual o dia?}\n  caso.at: {type: datetime, description: a, question: Quando?}\n  caso.count: {type: integer, description: c, question: Quantos?}\n",
        ),
        ("catalog.yaml", "teams: {t: Time}\n"),
        (
            "calendar.yaml",
            "business_hours:\n  financeiro: {days: [seg, ter, qua, qui, sex], open: '08:00', close: '18:00'}\nholidays:\n  '2026-12-25': Natal\n",
        ),
        ("procedures/p.yaml", procedure.as_str()),
    ]
    .iter()
    .map(|(path, text)| SourceFile {
        path: (*path).to_string(),
        text: (*text).to_string(),
    })
    .collect()
}

/// Situations the expression target decides each condition on: nothing
/// known, everything known, and values at the edges.
pub const SITUATIONS: [&str; 4] = [
    "{}",
    r#"{"caso": {"kind": "k1", "flag": true, "name": "Ana", "day": "2026-12-25", "at": "2026-12-08T13:00:00Z", "count": 3}}"#,
    r#"{"caso": {"kind": "k3", "flag": false, "name": "", "day": "2026-02-28", "at": "2026-12-08T10:15:00-03:00", "count": -9223372036854775808}}"#,
    r#"{"now": "2026-12-09T01:00:00Z", "caso": {"count": 9223372036854775807, "name": "ção {{ x }}"}}"#,
];
