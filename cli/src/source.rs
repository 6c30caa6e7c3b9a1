//! Which policy bundle a command uses.

use std::path::{Path, PathBuf};

use std::io::Read;

use roteiro_engine::{Bundle, BundleError, Situation, SourceFile};

use crate::Status;

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/embedded.rs"));
}

/// `--policies DIR`, else `./policies` when it exists, else the bundle
/// compiled into the binary.
pub fn load(explicit: Option<&Path>) -> Result<Bundle, BundleError> {
    match folder(explicit) {
        Some(dir) => {
            tracing::debug!("loading policies from {}", dir.display());
            Bundle::load_dir(&dir)
        }
        None => {
            tracing::debug!("loading the embedded policies");
            Bundle::from_files(embedded_files())
        }
    }
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

/// Prints a bundle error on stderr; the caller exits with status 3.
pub fn report(error: &BundleError) {
    eprint!("{error}");
}

/// The bundle, or its problems printed and exit status 3.
pub fn bundle(explicit: Option<&Path>) -> Result<Bundle, Status> {
    load(explicit).map_err(|err| {
        report(&err);
        Status::InvalidBundle
    })
}

/// Reads a situation file, or stdin for `-`.
fn read_input(name: &str) -> std::io::Result<String> {
    if name == "-" {
        let mut text = String::new();
        std::io::stdin().read_to_string(&mut text)?;
        Ok(text)
    } else {
        std::fs::read_to_string(name)
    }
}

/// The bundle and the situation read from `name`; on failure the problem is
/// printed and the exit status given (3 for the bundle, 2 for the situation).
pub fn bundle_and_situation(explicit: Option<&Path>, name: &str) -> Result<(Bundle, Situation), Status> {
    let bundle = bundle(explicit)?;
    let text = read_input(name).map_err(|err| {
        eprintln!("invalid situation {name}: cannot read: {err}");
        Status::InvalidSituation
    })?;
    let situation = bundle.parse_situation(&text, name).map_err(|err| {
        eprintln!("{err}");
        Status::InvalidSituation
    })?;
    Ok((bundle, situation))
}
