//! Helpers shared by the integration tests that run the `roteiro` binary;
//! the bundle helpers are the engine's own.
#![expect(dead_code, reason = "each test crate uses a different subset")]

#[path = "../../engine/tests/common/mod.rs"]
mod bundle;

pub use bundle::*;

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
