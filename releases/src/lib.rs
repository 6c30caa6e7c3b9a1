//! Releases of a policy bundle: what a process owner publishes, tested,
//! for every replica to serve.
//!
//! A bundle goes through its [`gates`] (it loads, `check --strict`, `lint`,
//! every policy test, the declared rule coverage), then its [`impact`] on
//! the log's latest decisions is measured, and it is stored as an
//! immutable [`Release`] with a version assigned at publication
//! ([`store`]). When the bundle asks for approval, a second owner or an
//! admin approves it; the active release is the one the latest activation
//! names, so a rollback is one more recorded event. [`changes`] says what
//! differs between two releases in words.
#![deny(missing_docs)]

pub mod changes;
pub mod gates;
pub mod impact;
pub mod store;

use roteiro_decision_log::{LogError, Record};
use roteiro_engine::{Bundle, BundleError, SourceFile};

pub use gates::Gates;
pub use impact::Impact;
pub use store::{Active, Draft, Event, Release, Releases, State};

/// Why a release could not be stored, approved or activated.
#[derive(Debug, thiserror::Error)]
pub enum ReleaseError {
    /// The database failed.
    #[error(transparent)]
    Database(#[from] LogError),
    /// A gate failed: nothing is stored.
    #[error("a versão não passou nos portões; nada foi publicado")]
    GatesFailed,
    /// The same files as the active release.
    #[error("nada mudou: o pacote é igual ao da versão ativa {0}")]
    Unchanged(String),
    /// No release with this version.
    #[error("não há versão `{0}`")]
    NotFound(String),
    /// Not waiting for approval.
    #[error("a versão {0} não está esperando aprovação")]
    NotProposed(String),
    /// The author tried to approve their own release.
    #[error("a versão {0} foi publicada por você: outra pessoa (dono ou admin) precisa aprová-la")]
    OwnApproval(String),
    /// Activated before its approval.
    #[error("a versão {0} ainda espera aprovação; aprove-a com `roteiro release approve {0}`")]
    AwaitingApproval(String),
    /// Already the active one.
    #[error("a versão {0} já é a ativa")]
    AlreadyActive(String),
    /// A rollback must say why.
    #[error("diga o motivo de voltar a esta versão (na linha de comando, --note)")]
    NoteMissing,
    /// What the database holds could not be read back.
    #[error("a versão guardada não pôde ser lida: {0}")]
    Stored(String),
}

/// `files` through the gates, and, when they pass, the release to store
/// at `now` with its impact on `records` (the log's latest decisions,
/// oldest first).
pub fn prepare(
    files: Vec<SourceFile>,
    note: &str,
    records: &[Record],
    now: chrono::DateTime<chrono::Utc>,
) -> (Gates, Option<Draft>) {
    let kept = files.clone();
    let (gates, bundle) = gates::run(files);
    let Some(bundle) = bundle.filter(|_| gates.passed()) else {
        return (gates, None);
    };
    let impact = impact::replay(&bundle, records);
    let draft = Draft {
        bundle_name: bundle.info().name.to_string(),
        digest: bundle.info().digest.to_string(),
        files: kept,
        note: note.trim().to_string(),
        gates: gates.clone(),
        impact,
        needs_approval: bundle.publishing().approval,
        local_date: bundle.local(&now).date_naive(),
    };
    (gates, Some(draft))
}

/// The bundle of a stored release, named by its version.
pub fn load(version: &str, files: Vec<SourceFile>) -> Result<Bundle, BundleError> {
    let mut bundle = Bundle::from_files(files)?;
    bundle.set_release(version);
    Ok(bundle)
}
