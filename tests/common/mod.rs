//! Helpers shared by the integration tests.
#![allow(dead_code, reason = "each test crate uses a different subset")]

use std::path::PathBuf;

use roteiro_engine::{Bundle, BundleError, SourceFile};

/// The moment tests decide at when a situation pins none: a Tuesday
/// morning, business hours in Brasília. Tests never read the clock.
pub fn now() -> chrono::DateTime<chrono::FixedOffset> {
    chrono::DateTime::parse_from_rfc3339("2026-12-08T10:15:00-03:00").expect("a valid moment")
}

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The shipped bundle folder.
pub fn policies() -> PathBuf {
    root().join("policies")
}

/// The shipped bundle.
pub fn shipped() -> Bundle {
    Bundle::load_dir(&policies()).expect("the shipped bundle loads")
}

/// The shipped bundle's files, to edit in memory.
pub fn shipped_files() -> Vec<SourceFile> {
    shipped().files().to_vec()
}

/// Runs the `roteiro` binary in `cwd` with `stdin`, plain output and no
/// inherited log or database settings. A command may refuse its input
/// before reading all of it, so only a broken pipe is tolerated on stdin.
pub fn run(args: &[&str], cwd: &std::path::Path, stdin: &[u8]) -> std::process::Output {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_roteiro"))
        .args(args)
        .current_dir(cwd)
        .env("NO_COLOR", "1")
        .env_remove("RUST_LOG")
        .env_remove("ROTEIRO_DATABASE_URL")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("roteiro runs");
    let mut input = child.stdin.take().expect("stdin");
    if let Err(err) = input.write_all(stdin) {
        assert_eq!(err.kind(), std::io::ErrorKind::BrokenPipe, "write stdin: {err}");
    }
    drop(input);
    child.wait_with_output().expect("roteiro finishes")
}

/// Writes a copy of the shipped bundle into `dir`, for tests that edit it.
pub fn copy_shipped_to(dir: &std::path::Path) {
    for file in shipped_files() {
        let path = dir.join(&file.path);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("folders");
        std::fs::write(path, file.text).expect("copy");
    }
}

/// The shipped files with `edit` applied to the file at `path`.
pub fn edited(path: &str, edit: impl Fn(&str) -> String) -> Result<Bundle, BundleError> {
    let mut files = shipped_files();
    let file = files
        .iter_mut()
        .find(|f| f.path == path)
        .expect("file exists in the bundle");
    file.text = edit(&file.text);
    Bundle::from_files(files)
}

/// A minimal bundle around one procedure file, for engine mechanisms.
pub fn mini(procedure: &str) -> Result<Bundle, BundleError> {
    Bundle::from_files(mini_files(procedure))
}

/// The files of [`mini`], for tests that edit one of them.
pub fn mini_files(procedure: &str) -> Vec<SourceFile> {
    let files = [
        (
            "bundle.yaml",
            "name: mini\nversion: '1'\ntimezone: {name: America/Sao_Paulo, utc_offset: '-03:00'}\nphases: [a, b]\noutputs:\n  route: {description: r, type: text, values: [x, y, z]}\n  due: {description: d, type: date}\n",
        ),
        (
            "vocabulary.yaml",
            "facts:\n  now: {type: datetime, description: n, question: q}\n  caso.kind: {type: enum, values: [k1, k2, k3], description: k, question: Qual o tipo?}\n  caso.flag: {type: bool, description: f, question: Flag?}\n  caso.name: {type: text, description: n, question: Qual o nome?, label: nome}\n  caso.day: {type: date, description: d, question: Qual o dia?}\n  caso.count: {type: integer, description: c, question: Quantos?}\n",
        ),
        ("catalog.yaml", "teams: {t: Time}\nmacros: {m: Macro Exata - Ação pública}\n"),
        (
            "calendar.yaml",
            "business_hours:\n  financeiro: {days: [seg, ter, qua, qui, sex], open: '08:00', close: '18:00'}\nholidays:\n  '2026-12-25': Natal\n",
        ),
        ("procedures/p.yaml", procedure),
    ];
    files
        .iter()
        .map(|(path, text)| SourceFile {
            path: (*path).to_string(),
            text: (*text).to_string(),
        })
        .collect()
}

/// Starts `roteiro serve` on a free loopback port with `args` added; the
/// child and the address it announced. Its log keeps being drained, so the
/// server never writes into a closed pipe.
pub fn start_serve(args: &[&std::ffi::OsStr]) -> (std::process::Child, String) {
    use std::io::BufRead;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_roteiro"))
        .args(["serve", "--addr", "127.0.0.1:0"])
        .args(args)
        .current_dir(root())
        .env_remove("RUST_LOG")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("roteiro serve starts");
    let mut stderr = std::io::BufReader::new(child.stderr.take().expect("stderr"));
    let mut line = String::new();
    stderr.read_line(&mut line).expect("the announcement");
    std::thread::spawn(move || std::io::copy(&mut stderr, &mut std::io::sink()));
    let addr = line
        .split("http://")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .map(str::to_string);
    assert!(addr.is_some(), "no address announced: {line:?}");
    let addr = addr.unwrap_or_default();
    (child, addr)
}
