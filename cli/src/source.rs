//! Which policy bundle a command uses.

use std::io::Read;
use std::path::{Path, PathBuf};

use chrono::{DateTime, FixedOffset};

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

/// A bundle error with the offending line of each file under its problem;
/// `text_of` gives a file's text by its path inside the bundle.
pub fn render_error(error: &BundleError, text_of: impl Fn(&str) -> Option<String>) -> String {
    let count = error.problems.len();
    let mut out = format!(
        "pacote de políticas inválido: {count} problema{}\n",
        if count == 1 { "" } else { "s" }
    );
    for problem in &error.problems {
        out.push_str(&format!("  {problem}\n"));
        let snippet = problem.location.line.and_then(|line| {
            let text = text_of(&problem.location.file)?;
            let source = text.lines().nth(line.checked_sub(1)?)?.to_string();
            Some((line, source))
        });
        if let Some((line, source)) = snippet {
            let width = line.to_string().len();
            out.push_str(&format!("  {:width$} |\n  {line} | {source}\n", ""));
            if let Some(column) = problem.location.column {
                out.push_str(&format!("  {:width$} | {:>column$}\n", "", "^"));
            }
        }
    }
    out
}

/// Prints a bundle error, with snippets, on stderr; the caller exits with 3.
pub fn report(error: &BundleError, explicit: Option<&Path>) {
    let dir = folder(explicit);
    let text_of = |file: &str| match &dir {
        Some(dir) => std::fs::read_to_string(dir.join(file)).ok(),
        None => embedded::FILES
            .iter()
            .find(|(path, _)| *path == file)
            .map(|(_, text)| (*text).to_string()),
    };
    eprint!("{}", render_error(error, text_of));
}

/// The bundle, or its problems printed and exit status 3.
pub fn bundle(explicit: Option<&Path>) -> Result<Bundle, Status> {
    load(explicit).map_err(|err| {
        report(&err, explicit);
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

/// The bundle and the situation read from `name`, pinned to `now` when
/// given; on failure the problem is printed and the exit status given (3 for
/// the bundle, 2 for the situation).
pub fn bundle_and_situation(
    explicit: Option<&Path>,
    name: &str,
    now: Option<DateTime<FixedOffset>>,
) -> Result<(Bundle, Situation), Status> {
    let bundle = bundle(explicit)?;
    let text = read_input(name).map_err(|err| {
        eprintln!("situação inválida {name}: não foi possível ler: {err}");
        Status::InvalidSituation
    })?;
    let mut situation = bundle.parse_situation(&text, name).map_err(|err| {
        eprintln!("{err}");
        Status::InvalidSituation
    })?;
    if let Some(at) = now {
        situation.set_now(at);
    }
    Ok((bundle, situation))
}
