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
        .env_remove("ROTEIRO_TOKEN")
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

/// A `roteiro serve` started by a test: the child, the address it
/// announced and an admin token made for it with `roteiro token create`.
pub struct Served {
    /// The server process.
    pub child: std::process::Child,
    /// `127.0.0.1:PORT`.
    pub addr: String,
    /// A bearer token with the admin role.
    pub token: String,
}

/// Makes a token with `role` for `name` in `database` through the binary;
/// the token it printed.
pub fn make_token(database: &std::ffi::OsStr, role: &str, name: &str) -> String {
    let made = std::process::Command::new(env!("CARGO_BIN_EXE_roteiro"))
        .args(["token", "create", "--role", role, "--name", name, "--database"])
        .arg(database)
        .current_dir(root())
        .output()
        .expect("roteiro token runs");
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    String::from_utf8_lossy(&made.stdout).trim().to_string()
}

/// The address `roteiro serve` announced in `said` ("servindo em
/// http://ADDR ...").
pub fn announced_address(said: &str) -> Option<String> {
    said.split("servindo em http://")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .map(str::to_string)
}

/// SIGTERM to `child` (a server), then its exit code once it has stopped.
pub fn terminate(child: &mut std::process::Child) -> Option<i32> {
    // A child already reaped keeps its status; its pid may be another
    // process's by now.
    if let Ok(Some(status)) = child.try_wait() {
        return status.code();
    }
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    child.wait().ok().and_then(|status| status.code())
}

/// Starts `roteiro serve` on a free loopback port with `args` added (they
/// name its `--database`, where an admin token is made first). Its log
/// keeps being drained, so the server never writes into a closed pipe.
pub fn start_serve(args: &[&std::ffi::OsStr]) -> Served {
    start_serve_with_env(args, &[])
}

/// [`start_serve`] with these environment variables set for the server.
pub fn start_serve_with_env(args: &[&std::ffi::OsStr], env: &[(&str, &str)]) -> Served {
    use std::io::BufRead;
    let database = args
        .iter()
        .position(|arg| *arg == "--database")
        .and_then(|at| args.get(at + 1))
        .expect("a test server names its --database");
    // A name of its own: a test may start several servers on one database.
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_nanos());
    let token = make_token(database, "admin", &format!("testes-{nanos}"));
    // A free port unless the test names its own address.
    let addr: &[&str] = if args.iter().any(|arg| *arg == "--addr") {
        &[]
    } else {
        &["--addr", "127.0.0.1:0"]
    };
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_roteiro"))
        .arg("serve")
        .args(addr)
        .args(args)
        .current_dir(root())
        .env_remove("RUST_LOG")
        .envs(env.iter().copied())
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("roteiro serve starts");
    let mut stderr = std::io::BufReader::new(child.stderr.take().expect("stderr"));
    // The announcement, after any warning lines (bounded).
    let mut addr = None;
    let mut said = String::new();
    for _ in 0..20 {
        let mut line = String::new();
        if stderr.read_line(&mut line).unwrap_or(0) == 0 {
            break;
        }
        said.push_str(&line);
        addr = announced_address(&line);
        if addr.is_some() {
            break;
        }
    }
    std::thread::spawn(move || std::io::copy(&mut stderr, &mut std::io::sink()));
    assert!(addr.is_some(), "no address announced: {said:?}");
    Served {
        child,
        addr: addr.unwrap_or_default(),
        token,
    }
}

/// One HTTP/1.1 exchange with `addr`: status, head, body. `headers` are
/// whole lines, each ending in `\r\n`.
pub fn exchange(addr: &str, method: &str, path: &str, headers: &str, body: &str) -> (u16, String, String) {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).expect("connects");
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .expect("timeout");
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n{headers}\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).expect("sends");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("reads");
    let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
    let status = head.split(' ').nth(1).and_then(|code| code.parse().ok()).unwrap_or(0);
    (status, head.to_string(), body.to_string())
}

/// The route as the text output and `ask` name it (bundle.yaml,
/// `outputs.route`'s `label` and `names`).
pub fn team(route: &str) -> String {
    let name = match route {
        "io" => "Implementação e Onboarding (IO)",
        "gr" => "GR",
        "franchise" => "Franchise",
        _ => "Suporte",
    };
    format!("Time responsável: {name}")
}
