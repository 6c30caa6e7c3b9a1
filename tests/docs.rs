//! Every `roteiro` command the README and `docs/` show, checked against
//! the binary so none goes stale:
//! - a command in a code block runs for real, in order, in a scratch
//!   folder holding a copy of `policies/` (and `publicado/`, the published
//!   bundle the owners' steps keep), with a Movidesk stand-in and the token
//!   the block's own `token create` printed; it must exit 0. A file written
//!   with `cat > /tmp/NAME <<'TAG'` is written into the scratch folder.
//! - `serve` and `watch` (which run until stopped), commands naming a
//!   server elsewhere, and commands quoted inline in the prose are checked
//!   for their words: the subcommand exists and every `--flag` is one of
//!   its options.
#![expect(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    reason = "a test fails loudly on what it did not expect"
)]

#[path = "../helpdesk/tests/standin/mod.rs"]
mod standin;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use serde_json::json;

/// The repository's root.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// The documents that show commands.
fn documents() -> Vec<PathBuf> {
    let mut found = vec![root().join("README.md")];
    let mut docs: Vec<PathBuf> = std::fs::read_dir(root().join("docs"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "md"))
        .collect();
    docs.sort();
    found.extend(docs);
    found
}

/// What a document asks to do, in order.
#[derive(Debug)]
enum Step {
    /// `roteiro` with these words, from a code block.
    Run(Vec<String>),
    /// A file written by a heredoc: its name and text.
    Write(String, String),
    /// `roteiro` words quoted in the prose.
    Quoted(Vec<String>),
}

/// `roteiro ...` or `cargo run -- ...` as the words after `roteiro`.
fn roteiro_words(line: &str) -> Option<Vec<String>> {
    let line = line.trim().trim_start_matches("$ ");
    let rest = line
        .strip_prefix("roteiro ")
        .or_else(|| line.strip_prefix("cargo run -- "))?;
    Some(words(rest)).filter(|words| !words.is_empty())
}

/// Shell words: double and single quotes group, `#` outside them starts a
/// comment.
fn words(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut quote = None;
    let mut started = false;
    for c in text.chars() {
        match (quote, c) {
            (Some(open), c) if c == open => quote = None,
            (Some(_), c) => word.push(c),
            (None, '"' | '\'') => {
                quote = Some(c);
                started = true;
            }
            (None, '#') if !started => break,
            (None, c) if c.is_whitespace() => {
                if started {
                    out.push(std::mem::take(&mut word));
                    started = false;
                }
            }
            (None, c) => {
                word.push(c);
                started = true;
            }
        }
    }
    if started {
        out.push(word);
    }
    out
}

fn steps(text: &str) -> Vec<Step> {
    // A command continued on the next line (`\` at the end) is one line.
    let text = text.replace("\\\n", " ");
    let mut steps = Vec::new();
    let mut in_block = false;
    let mut heredoc: Option<(String, String, String)> = None;
    for line in text.lines() {
        if let Some((name, tag, body)) = heredoc.as_mut() {
            if line.trim() == tag {
                steps.push(Step::Write(name.clone(), std::mem::take(body)));
                heredoc = None;
            } else {
                body.push_str(line);
                body.push('\n');
            }
            continue;
        }
        if line.trim_start().starts_with("```") {
            in_block = !in_block;
            continue;
        }
        if in_block {
            if let Some(rest) = line.trim().strip_prefix("cat > /tmp/") {
                let (name, tag) = rest.split_once(" <<").unwrap();
                heredoc = Some((name.to_string(), tag.trim_matches('\'').to_string(), String::new()));
            } else if let Some(words) = roteiro_words(line) {
                steps.push(Step::Run(words));
            }
            continue;
        }
        for (n, span) in line.split('`').enumerate() {
            if n % 2 == 1 {
                if let Some(words) = roteiro_words(span) {
                    steps.push(Step::Quoted(words));
                }
            }
        }
    }
    steps
}

fn roteiro(args: &[String], cwd: &Path, env: &[(&str, String)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_roteiro"));
    command
        .args(args)
        .current_dir(cwd)
        .env("NO_COLOR", "1")
        .env_remove("RUST_LOG")
        .env_remove("ROTEIRO_DATABASE_URL")
        .env_remove("ROTEIRO_TOKEN")
        .env_remove("ROTEIRO_MOVIDESK_CONFIG");
    for (key, value) in env {
        command.env(key, value);
    }
    command.output().unwrap()
}

/// The subcommand the words name (`case open`, `log export`, `decide`):
/// the longest leading run of plain words whose `--help` answers.
fn subcommand(words: &[String], cwd: &Path) -> (Vec<String>, String) {
    let plain = words
        .iter()
        .take_while(|word| word.chars().all(|c| c.is_ascii_lowercase() || c == '-') && !word.starts_with('-'))
        .count();
    for len in (1..=plain.min(2)).rev() {
        let mut asked: Vec<String> = words[..len].to_vec();
        asked.push("--help".into());
        let answer = roteiro(&asked, cwd, &[]);
        if answer.status.success() {
            return (
                words[..len].to_vec(),
                String::from_utf8_lossy(&answer.stdout).into_owned(),
            );
        }
    }
    panic!("`roteiro {}` names no subcommand", words.join(" "));
}

/// The subcommand exists and each `--flag` is one of its options.
fn check_words(words: &[String], cwd: &Path, document: &Path) {
    let (_, help) = subcommand(words, cwd);
    for flag in words.iter().filter(|word| word.starts_with("--")) {
        let flag = flag.split('=').next().unwrap();
        assert!(
            help.contains(&format!("{flag} "))
                || help.contains(&format!("{flag},"))
                || help.contains(&format!("{flag}\n"))
                || help.contains(&format!("{flag} <")),
            "{}: `roteiro {}`: {flag} is not an option:\n{help}",
            document.display(),
            words.join(" ")
        );
    }
}

/// Commands that run until stopped or reach a server elsewhere.
fn only_checked(words: &[String]) -> bool {
    matches!(words.first().map(String::as_str), Some("serve" | "watch" | "ask"))
        || words.iter().any(|word| word.contains("://"))
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

fn scratch(document: &Path) -> PathBuf {
    let name = document.file_stem().unwrap().to_string_lossy().into_owned();
    let dir = std::env::temp_dir().join(format!("roteiro-docs-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    copy_tree(&root().join("policies"), &dir.join("policies"));
    copy_tree(&root().join("policies"), &dir.join("publicado"));
    dir
}

#[test]
fn every_documented_command_runs_or_names_real_options() {
    let movidesk = standin::StandIn::start("tok-docs", Duration::from_secs(60));
    for ticket in ["5150", "4242"] {
        movidesk.put_ticket(json!({
            "id": ticket,
            "subject": "Dúvida sobre boleto",
            "status": "Novo",
            "clients": [{"businessName": "Padaria Pão Quente"}],
            "actions": [],
        }));
    }
    let mut ran = 0;
    for document in documents() {
        let text = std::fs::read_to_string(&document).unwrap();
        let cwd = scratch(&document);
        let mut env = vec![
            ("ROTEIRO_MOVIDESK_URL", movidesk.base()),
            ("ROTEIRO_MOVIDESK_TOKEN", "tok-docs".to_string()),
            ("ROTEIRO_MOVIDESK_AGENT", "agente-docs".to_string()),
        ];
        for step in steps(&text) {
            match step {
                Step::Write(name, body) => std::fs::write(cwd.join(name), body).unwrap(),
                Step::Quoted(words) => check_words(&words, &cwd, &document),
                Step::Run(words) if only_checked(&words) => check_words(&words, &cwd, &document),
                Step::Run(words) => {
                    let words: Vec<String> = words.iter().map(|word| word.replace("/tmp/", "")).collect();
                    let answer = roteiro(&words, &cwd, &env);
                    assert!(
                        answer.status.success(),
                        "{}: `roteiro {}` exited {:?}:\n{}{}",
                        document.display(),
                        words.join(" "),
                        answer.status.code(),
                        String::from_utf8_lossy(&answer.stdout),
                        String::from_utf8_lossy(&answer.stderr)
                    );
                    if words.starts_with(&["token".to_string(), "create".to_string()]) {
                        let printed = String::from_utf8_lossy(&answer.stdout);
                        let token = printed
                            .split_whitespace()
                            .find(|word| word.starts_with("rot_"))
                            .expect("token create prints the token");
                        env.push(("ROTEIRO_TOKEN", token.to_string()));
                    }
                    ran += 1;
                }
            }
        }
        std::fs::remove_dir_all(&cwd).unwrap();
    }
    assert!(ran >= 10, "only {ran} documented commands ran");
}
