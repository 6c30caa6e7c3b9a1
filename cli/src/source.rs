//! Which policy bundle a command uses.

use std::path::{Path, PathBuf};

use roteiro_engine::{Bundle, BundleError, SourceFile};

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
