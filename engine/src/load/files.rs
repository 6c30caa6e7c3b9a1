//! Reading a bundle's files from disk within bounds: no link out of the
//! folder, no FIFO or device, no file past its size, no folder too deep or
//! too full; and the folder's fingerprint that hot reload compares.

use std::collections::BTreeSet;
use std::io::Read;
use std::path::Path;

use crate::load::error::Problem;
use crate::text::input;
use crate::text::locate::Location;

use crate::model::bundle::SourceFile;

/// Largest bundle file read, in bytes.
pub const MAX_FILE_BYTES: u64 = 8 * 1024 * 1024;
/// Most files and folders a bundle folder may hold.
const MAX_ENTRIES: usize = 10_000;
/// Deepest folder nesting inside a bundle.
const MAX_FOLDER_DEPTH: usize = 8;

fn file_problem_at(path: &str, message: String) -> Problem {
    Problem {
        location: Location {
            file: path.to_string(),
            ..Location::default()
        },
        item: None,
        field: None,
        message,
        source_line: None,
    }
}

/// A file refused by the input bounds (size, encoding, nesting).
pub(super) fn refused(file: String, refusal: input::Refusal) -> Problem {
    Problem {
        location: Location {
            file,
            line: refusal.line,
            column: refusal.column,
        },
        item: None,
        field: None,
        message: refusal.message,
        source_line: None,
    }
}

/// Reads every YAML file under `dir`. Symbolic links that leave the
/// folder, anything that is not a regular file (a FIFO would block, a
/// device never ends) and files over [`MAX_FILE_BYTES`] are refused before
/// a byte of them is read.
pub(super) fn read_dir(dir: &Path) -> Result<Vec<SourceFile>, Vec<Problem>> {
    let shown = |path: &Path| path.display().to_string();
    let root = dir
        .canonicalize()
        .map_err(|err| vec![file_problem_at(&shown(dir), format!("não foi possível ler: {err}"))])?;
    let mut files = Vec::new();
    let mut problems = Vec::new();
    let mut visited = BTreeSet::from([root.clone()]);
    let mut pending = vec![(root.clone(), 0usize)];
    let mut entries_seen = 0usize;
    while let Some((folder, depth)) = pending.pop() {
        let entries = match std::fs::read_dir(&folder) {
            Ok(entries) => entries,
            Err(err) => {
                problems.push(file_problem_at(&shown(&folder), format!("não foi possível ler: {err}")));
                continue;
            }
        };
        for entry in entries.flatten() {
            entries_seen += 1;
            if entries_seen > MAX_ENTRIES {
                problems.push(file_problem_at(
                    &shown(dir),
                    format!("mais de {MAX_ENTRIES} arquivos e pastas; um pacote é bem menor"),
                ));
                return Err(problems);
            }
            let path = entry.path();
            let relative = path.strip_prefix(&root).unwrap_or(&path);
            let name = relative
                .components()
                .map(|c| c.as_os_str().to_string_lossy())
                .collect::<Vec<_>>()
                .join("/");
            let Ok(target) = path.canonicalize() else {
                problems.push(file_problem_at(&name, "link simbólico quebrado ou ilegível".into()));
                continue;
            };
            if !target.starts_with(&root) {
                problems.push(file_problem_at(
                    &name,
                    "link simbólico que aponta para fora da pasta do pacote; recusado".into(),
                ));
                continue;
            }
            let Ok(meta) = std::fs::metadata(&target) else {
                problems.push(file_problem_at(&name, "não foi possível ler".into()));
                continue;
            };
            if meta.is_dir() {
                if depth >= MAX_FOLDER_DEPTH {
                    problems.push(file_problem_at(
                        &name,
                        format!("pastas mais fundas que {MAX_FOLDER_DEPTH} níveis"),
                    ));
                } else if visited.insert(target.clone()) {
                    pending.push((target, depth + 1));
                }
                continue;
            }
            if !(name.ends_with(".yaml") || name.ends_with(".yml")) {
                continue;
            }
            match read_file(name, &target, &meta) {
                Ok(file) => files.push(file),
                Err(problem) => problems.push(problem),
            }
        }
    }
    if problems.is_empty() {
        Ok(files)
    } else {
        Err(problems)
    }
}

/// One policy file of the folder, refused before a byte is read when it is
/// not a regular file or is too large.
fn read_file(name: String, target: &Path, meta: &std::fs::Metadata) -> Result<SourceFile, Problem> {
    if !meta.is_file() {
        return Err(file_problem_at(
            &name,
            "não é um arquivo comum (FIFO, dispositivo...); recusado".into(),
        ));
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(file_problem_at(
            &name,
            format!(
                "arquivo grande demais: {} bytes; o máximo é {MAX_FILE_BYTES}",
                meta.len()
            ),
        ));
    }
    let mut bytes = Vec::new();
    let read = std::fs::File::open(target).and_then(|file| file.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes));
    if let Err(err) = read {
        return Err(file_problem_at(&name, format!("não foi possível ler: {err}")));
    }
    match input::checked_text(&bytes, MAX_FILE_BYTES) {
        Ok(text) => Ok(SourceFile {
            path: name,
            text: text.to_string(),
        }),
        Err(refusal) => Err(refused(name, refusal)),
    }
}

/// What a bundle folder looks like: its policy files with their sizes and
/// modification times, sorted by path.
pub type FolderFingerprint = Vec<(std::path::PathBuf, u64, Option<std::time::SystemTime>)>;

/// Paths, sizes and modification times of every bundle file (`.yaml`,
/// `.yml`) under `dir`: what `watch` and the service compare to notice an
/// edit. Other files (an editor's swap file) do not count. Bounded like
/// loading.
pub fn folder_fingerprint(dir: &Path) -> FolderFingerprint {
    let mut out = Vec::new();
    let mut pending = vec![(dir.to_path_buf(), 0usize)];
    while let Some((folder, depth)) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&folder) else {
            continue;
        };
        for entry in entries.flatten().take(MAX_ENTRIES) {
            let path = entry.path();
            match entry.metadata() {
                Ok(meta) if meta.is_dir() && depth < MAX_FOLDER_DEPTH => pending.push((path, depth + 1)),
                Ok(meta) if path.extension().is_some_and(|ext| ext == "yaml" || ext == "yml") => {
                    out.push((path, meta.len(), meta.modified().ok()));
                }
                Ok(_) | Err(_) => {}
            }
        }
        if out.len() > MAX_ENTRIES {
            break;
        }
    }
    out.sort();
    out
}
