//! Which policy bundle a command uses.

use std::io::Read;
use std::path::{Path, PathBuf};

use chrono::{DateTime, FixedOffset};

use roteiro_engine::{Bundle, BundleError, Evaluation, Situation, SourceFile};

use crate::failure::Failure;

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/embedded.rs"));
}

/// `--policies DIR`, else `./policies` when it exists, else the bundle
/// compiled into the binary.
pub fn load(explicit: Option<&Path>) -> Result<Bundle, BundleError> {
    let mut bundle = match folder(explicit) {
        Some(dir) => {
            tracing::debug!("loading policies from {}", dir.display());
            Bundle::load_dir(&dir)
        }
        None => {
            tracing::debug!("loading the embedded policies");
            Bundle::from_embedded(embedded_files(), embedded::PREPARED)
        }
    }?;
    bundle.set_evaluation(EVALUATION.get().copied().unwrap_or_default());
    Ok(bundle)
}

/// The evaluator every bundle of this process uses (`--engine`), chosen
/// once in `main` so every command and every reload of `serve` agree.
static EVALUATION: std::sync::OnceLock<Evaluation> = std::sync::OnceLock::new();

/// Chooses the evaluator for the rest of the process.
pub fn choose_evaluation(evaluation: Evaluation) {
    // Set once, before any command runs; a second call changes nothing.
    let _ = EVALUATION.set(evaluation);
}

/// The folder a command reads, if any.
pub fn folder(explicit: Option<&Path>) -> Option<PathBuf> {
    match explicit {
        Some(dir) => Some(dir.to_path_buf()),
        None => {
            let default = PathBuf::from("policies");
            default.is_dir().then_some(default)
        }
    }
}

/// The shipped bundle's files.
pub fn embedded_files() -> Vec<SourceFile> {
    embedded::FILES
        .iter()
        .map(|(path, text)| SourceFile {
            path: (*path).to_string(),
            text: (*text).to_string(),
        })
        .collect()
}

/// The bundle, or its problems (exit status 3).
pub fn bundle(explicit: Option<&Path>) -> Result<Bundle, Failure> {
    Ok(load(explicit)?)
}

/// Reads a situation file, or stdin for `-`: at most one byte over
/// `limit`, so `/dev/zero` or a huge file is refused without reading it all.
fn read_input(name: &str, limit: u64) -> std::io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    let bound = limit.saturating_add(1);
    if name == "-" {
        std::io::stdin().lock().take(bound).read_to_end(&mut bytes)?;
    } else {
        std::fs::File::open(name)?.take(bound).read_to_end(&mut bytes)?;
    }
    Ok(bytes)
}

/// The bytes of the situation `name` (a file, or `-` for stdin), at most
/// one over `limit` (exit status 2 when it cannot be read).
pub fn read_situation(name: &str, limit: u64) -> Result<Vec<u8>, Failure> {
    read_input(name, limit)
        .map_err(|err| Failure::situation(format!("situação inválida {name}: não foi possível ler: {err}")))
}

/// The text of the situation `name`, read and checked as `decide` reads
/// it (invalid UTF-8, broken syntax or an unknown field is exit status 2,
/// never replaced or guessed), for commands that keep the text itself.
pub fn situation_text(name: &str, bundle: &Bundle) -> Result<String, Failure> {
    let bytes = read_situation(name, bundle.situation_limit())?;
    bundle.parse_situation(&bytes, name)?;
    String::from_utf8(bytes).map_err(|err| Failure::situation(format!("situação inválida {name}: não é UTF-8 ({err})")))
}

/// The bundle and the situation read from `name`, pinned to `now` when
/// given (exit status 3 for the bundle, 2 for the situation).
pub fn bundle_and_situation(
    explicit: Option<&Path>,
    name: &str,
    now: Option<DateTime<FixedOffset>>,
    lenient: bool,
) -> Result<(Bundle, Situation), Failure> {
    let bundle = bundle(explicit)?;
    let text = read_situation(name, bundle.situation_limit())?;
    let parsed = if lenient {
        bundle.parse_situation_lenient(&text, name)
    } else {
        bundle.parse_situation(&text, name)
    };
    let mut situation = parsed?;
    if let Some(at) = now {
        situation.set_now(at);
    }
    Ok((bundle, situation))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The JSON the build prepared reads as the YAML does: every file was
    /// converted, and the bundle decides every example and corpus
    /// situation exactly as the one read from YAML.
    #[test]
    fn the_prepared_bundle_decides_as_its_yaml_does() {
        assert_eq!(embedded::PREPARED.len(), embedded::FILES.len(), "every file converts");
        let prepared = Bundle::from_embedded(embedded_files(), embedded::PREPARED).unwrap();
        let yaml = Bundle::from_embedded(embedded_files(), &[]).unwrap();
        assert_eq!(prepared.info().digest, yaml.info().digest);
        let now = DateTime::parse_from_rfc3339("2026-12-08T10:15:00-03:00").unwrap();
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut decided = 0;
        for dir in ["policies/examples", "tests/situations"] {
            for entry in std::fs::read_dir(root.join(dir)).unwrap() {
                let path = entry.unwrap().path();
                let text = std::fs::read_to_string(&path).unwrap();
                let origin = path.display().to_string();
                let decide = |bundle: &Bundle| {
                    let situation = bundle.parse_situation(&text, &origin).unwrap();
                    serde_json::to_value(bundle.decide(&situation, now).unwrap()).unwrap()
                };
                assert_eq!(decide(&prepared), decide(&yaml), "{origin}");
                decided += 1;
            }
        }
        assert!(decided > 30, "{decided} situations");
        assert_eq!(
            serde_json::to_value(prepared.rules_in_words()).unwrap(),
            serde_json::to_value(yaml.rules_in_words()).unwrap()
        );
    }
}
