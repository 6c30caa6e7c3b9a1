//! A small bundle for the engine's unit tests: a vocabulary of a few
//! `caso.*` facts and the procedure file a test gives.

use crate::model::bundle::{Bundle, SourceFile};

/// Loads a bundle whose `procedures/p.yaml` is `procedure`; its facts are
/// `caso.kind` (enum `k1`..`k4`), `caso.name` (text), two derived
/// booleans (`caso.special`, `caso.listed`), `caso.flag`, a boolean that
/// defaults to false, and `outro.nome` (text); its one flow is `f`.
pub(crate) fn with_procedure(procedure: &str) -> Bundle {
    let files = [
        ("bundle.yaml", "name: n\nversion: '1'\ntimezone: {name: America/Sao_Paulo}\nphases: [a]\nflows: {f: Um fluxo}\noutputs:\n  route: {description: r, type: text}\n"),
        ("vocabulary.yaml", "facts:\n  now: {type: datetime, description: n, question: q}\n  caso.kind: {type: enum, values: [k1, k2, k3, k4], description: k, question: q}\n  caso.name: {type: text, description: n, question: q}\n  caso.special: {type: bool, description: s, question: q, derive: 'caso.kind == \"k4\" || caso.name == caso.kind'}\n  caso.listed: {type: bool, description: s, question: q, derive: 'caso.kind in [\"k3\"]'}\n  caso.flag: {type: bool, description: f, question: q, default: false}\n  outro.nome: {type: text, description: o, question: q}\n"),
        ("catalog.yaml", "teams: {t: Time}\nmacros: {}\n"),
        ("calendar.yaml", "business_hours: {}\nholidays: {}\n"),
        ("procedures/p.yaml", procedure),
    ];
    let files = files
        .into_iter()
        .map(|(path, text)| SourceFile {
            path: path.into(),
            text: text.into(),
        })
        .collect();
    Bundle::from_files(files).unwrap_or_else(|err| panic!("{err}"))
}
