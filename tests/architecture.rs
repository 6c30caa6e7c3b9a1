//! The house rules a newcomer can rely on, checked on every run: in each
//! crate, no two top-level modules import each other, directly or around
//! a loop; no product file (its part before `#[cfg(test)]`) is over 600
//! lines; no function is over 80.
//!
//! A scan, not a compiler: `crate::name` (and `crate::{a, b}`) in a
//! module's files is an edge to module `name`; a function runs from its
//! `fn` line to the brace that closes it, string and character literals
//! and comments left out of the count of braces.
#![expect(clippy::expect_used, reason = "a test fails loudly on what it did not expect")]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const CRATES: [&str; 6] = ["engine", "decision-log", "auth", "helpdesk", "service", "cli"];
const MAX_FILE_LINES: usize = 600;
const MAX_FUNCTION_LINES: usize = 80;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the workspace")
        .to_path_buf()
}

/// Every `.rs` file under `dir`, with its path relative to `dir`.
fn sources(dir: &Path, under: &Path, found: &mut Vec<(PathBuf, String)>) {
    for entry in std::fs::read_dir(dir).expect("a source folder") {
        let path = entry.expect("an entry").path();
        if path.is_dir() {
            sources(&path, under, found);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            let relative = path.strip_prefix(under).expect("inside").to_path_buf();
            found.push((relative, std::fs::read_to_string(&path).expect("readable")));
        }
    }
}

/// The part of a file before its tests.
fn product(text: &str) -> Vec<&str> {
    text.lines()
        .take_while(|line| !line.trim_start().starts_with("#[cfg(test)]"))
        .collect()
}

/// A line without its literals and its comment.
fn code_of(line: &str) -> String {
    let mut out = String::new();
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                while let Some(inner) = chars.next() {
                    match inner {
                        '\\' => {
                            chars.next();
                        }
                        '"' => break,
                        _ => {}
                    }
                }
            }
            // A character literal ('{', '\''), not a lifetime ('a).
            '\'' if matches!(chars.clone().nth(1), Some('\'')) || chars.peek() == Some(&'\\') => {
                for inner in chars.by_ref() {
                    if inner == '\'' {
                        break;
                    }
                }
            }
            '/' if chars.peek() == Some(&'/') => break,
            _ => out.push(c),
        }
    }
    out
}

/// The top-level module a file belongs to (`src/load/loader.rs` → `load`).
fn module_of(relative: &Path) -> Option<String> {
    let first = relative.components().next()?.as_os_str().to_str()?;
    let name = first.strip_suffix(".rs").unwrap_or(first);
    (!matches!(name, "lib" | "main")).then(|| name.to_string())
}

/// The modules `text` names through `crate::`.
fn named_modules(text: &str) -> BTreeSet<String> {
    let mut named = BTreeSet::new();
    for (at, _) in text.match_indices("crate::") {
        let rest = &text[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let inner = group.split('}').next().unwrap_or_default();
            for item in inner.split(',') {
                let name: String = item
                    .trim()
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                named.insert(name);
            }
        } else {
            named.insert(rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect());
        }
    }
    named
}

/// The loops of `graph` (each as its modules, sorted).
fn loops(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    let reaches = |from: &str, to: &str| {
        let mut seen = BTreeSet::new();
        let mut next = vec![from.to_string()];
        while let Some(at) = next.pop() {
            for step in graph.get(&at).into_iter().flatten() {
                if step == to {
                    return true;
                }
                if seen.insert(step.clone()) {
                    next.push(step.clone());
                }
            }
        }
        false
    };
    let mut found: BTreeSet<Vec<String>> = BTreeSet::new();
    for module in graph.keys() {
        let mut part: Vec<String> = graph
            .keys()
            .filter(|other| *other == module || (reaches(module, other) && reaches(other, module)))
            .cloned()
            .collect();
        if part.len() > 1 {
            part.sort();
            found.insert(part);
        }
    }
    found.into_iter().collect()
}

/// Functions over the bound in `lines`, as "file:line name (n lines)".
fn long_functions(file: &str, lines: &[&str]) -> Vec<String> {
    let mut long = Vec::new();
    let mut at = 0;
    while at < lines.len() {
        let trimmed = lines[at].trim_start();
        let is_fn = [
            "fn ",
            "pub fn ",
            "pub(crate) fn ",
            "pub(super) fn ",
            "async fn ",
            "pub async fn ",
            "const fn ",
            "pub const fn ",
        ]
        .iter()
        .any(|start| trimmed.starts_with(start))
            && !trimmed.trim_end().ends_with(';');
        if !is_fn {
            at += 1;
            continue;
        }
        let (mut depth, mut opened, mut end) = (0i64, false, at);
        while end < lines.len() {
            let code = code_of(lines[end]);
            depth += code.matches('{').count() as i64 - code.matches('}').count() as i64;
            opened |= code.contains('{');
            if opened && depth <= 0 {
                break;
            }
            end += 1;
        }
        let length = end - at + 1;
        if length > MAX_FUNCTION_LINES {
            long.push(format!("{file}:{} {} ({length} lines)", at + 1, trimmed.trim_end()));
        }
        at = end + 1;
    }
    long
}

#[test]
fn no_module_loops_no_long_files_no_long_functions() {
    let mut problems = Vec::new();
    for krate in CRATES {
        let src = root().join(krate).join("src");
        let mut files = Vec::new();
        sources(&src, &src, &mut files);
        let modules: BTreeSet<String> = files.iter().filter_map(|(path, _)| module_of(path)).collect();
        let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (path, text) in &files {
            let name = format!("{krate}/src/{}", path.display());
            let lines = product(text);
            if lines.len() > MAX_FILE_LINES {
                problems.push(format!("{name}: {} product lines", lines.len()));
            }
            problems.extend(long_functions(&name, &lines));
            if let Some(module) = module_of(path) {
                let edges = graph.entry(module.clone()).or_default();
                for named in named_modules(&lines.join("\n")) {
                    if named != module && modules.contains(&named) {
                        edges.insert(named);
                    }
                }
            }
        }
        for found in loops(&graph) {
            problems.push(format!("{krate}: modules import each other: {}", found.join(" ↔ ")));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_scan_sees_a_loop_a_long_function_and_braces_in_literals() {
    let graph: BTreeMap<String, BTreeSet<String>> = [
        ("a".to_string(), BTreeSet::from(["b".to_string()])),
        ("b".to_string(), BTreeSet::from(["c".to_string()])),
        ("c".to_string(), BTreeSet::from(["a".to_string()])),
        ("d".to_string(), BTreeSet::from(["a".to_string()])),
    ]
    .into();
    assert_eq!(
        loops(&graph),
        vec![vec!["a".to_string(), "b".to_string(), "c".to_string()]]
    );
    let mut body = vec!["fn long() {"];
    body.extend(std::iter::repeat_n("    let x = \"{{\"; // }", 85));
    body.push("}");
    assert_eq!(long_functions("f.rs", &body).len(), 1);
    assert!(long_functions("f.rs", &["fn short() {", "    let c = '{';", "}", "fn next() {}"]).is_empty());
    assert_eq!(
        named_modules("use crate::{desk::Desk, reply};\nlet x = crate::limits::peer();"),
        BTreeSet::from(["desk".to_string(), "reply".to_string(), "limits".to_string()])
    );
}
