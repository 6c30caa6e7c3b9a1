//! Access from the command line: tokens made, listed and revoked; a fresh
//! install told how to make the first; no authentication refused beyond
//! loopback; personal facts kept or exported only with an admin's token;
//! and no personal fact in the service's own log lines, at debug level,
//! even for a situation it refuses.
#![expect(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "a test fails loudly on what it did not expect"
)]

mod common;

use std::io::{BufRead, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

fn scratch(name: &str) -> PathBuf {
    let folder = std::env::temp_dir().join(format!("roteiro-access-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&folder);
    std::fs::create_dir_all(&folder).unwrap();
    folder
}

/// The binary with `ROTEIRO_TOKEN` set to `token` (or unset).
fn roteiro_as(token: Option<&str>, args: &[&str], cwd: &Path) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_roteiro"));
    command
        .args(args)
        .current_dir(cwd)
        .env_remove("RUST_LOG")
        .env_remove("ROTEIRO_DATABASE_URL")
        .env_remove("ROTEIRO_TOKEN");
    if let Some(token) = token {
        command.env("ROTEIRO_TOKEN", token);
    }
    command.output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn tokens_are_made_listed_and_revoked_and_the_secret_is_shown_once() {
    let folder = scratch("tokens");
    let db = folder.join("r.db");
    let db = db.to_str().unwrap();
    let token = common::make_token(db.as_ref(), "dono", "Dora");
    assert!(token.starts_with("rot_"));
    let listed = roteiro_as(None, &["token", "list", "--database", db], &folder);
    let listed = text(&listed.stdout);
    assert!(
        listed.contains("Dora") && listed.contains("dono") && listed.contains("ativo"),
        "{listed}"
    );
    assert!(
        !listed.contains(token.rsplit('_').next().unwrap()),
        "the secret is never listed"
    );
    let revoked = roteiro_as(None, &["token", "revoke", "Dora", "--database", db], &folder);
    assert!(revoked.status.success());
    let listed = text(&roteiro_as(None, &["token", "list", "--database", db], &folder).stdout);
    assert!(listed.contains("revogado em"), "{listed}");
    let unknown = roteiro_as(None, &["token", "revoke", "Dora", "--database", db], &folder);
    assert_eq!(unknown.status.code(), Some(1));
    assert!(
        text(&unknown.stderr).contains("nenhum token ativo"),
        "{}",
        text(&unknown.stderr)
    );
    let bad_role = roteiro_as(
        None,
        &["token", "create", "--role", "chefe", "--name", "x", "--database", db],
        &folder,
    );
    assert!(text(&bad_role.stderr).contains("analista, dono e admin"));
    std::fs::remove_dir_all(&folder).unwrap();
}

/// Starts `serve` with `args`; the child and what it said before it
/// announced its address (or everything, when it exits first).
fn serve_saying(args: &[&str], cwd: &Path, env: &[(&str, &str)]) -> (std::process::Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_roteiro"))
        .args(["serve", "--addr", "127.0.0.1:0", "--policies"])
        .arg(common::root().join("policies"))
        .args(args)
        .current_dir(cwd)
        .env_remove("RUST_LOG")
        .env_remove("ROTEIRO_TOKEN")
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut said = String::new();
    for _ in 0..20 {
        let mut line = String::new();
        if stderr.read_line(&mut line).unwrap_or(0) == 0 || line.contains("servindo em") {
            said.push_str(&line);
            break;
        }
        said.push_str(&line);
    }
    std::thread::spawn(move || std::io::copy(&mut stderr, &mut std::io::sink()));
    (child, said)
}

fn stop(mut child: std::process::Child) {
    let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
    let _ = child.wait();
}

#[test]
fn a_fresh_install_is_told_how_to_make_its_first_token() {
    let folder = scratch("fresh");
    let (child, said) = serve_saying(&["--database", "novo.db"], &folder, &[]);
    assert!(said.contains("roteiro token create --role admin"), "{said}");
    assert!(said.contains("servindo em http://127.0.0.1:"), "{said}");
    stop(child);
    std::fs::remove_dir_all(&folder).unwrap();
}

#[test]
fn no_authentication_is_refused_beyond_loopback_and_said_loudly_on_it() {
    let folder = scratch("insecure");
    let refused = roteiro_as(
        None,
        &[
            "serve",
            "--insecure-no-auth",
            "--addr",
            "0.0.0.0:0",
            "--database",
            "r.db",
        ],
        &folder,
    );
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        text(&refused.stderr).contains("só vale em endereço local"),
        "{}",
        text(&refused.stderr)
    );
    let (child, said) = serve_saying(&["--insecure-no-auth", "--database", "r.db"], &folder, &[]);
    assert!(said.contains("ATENÇÃO: --insecure-no-auth"), "{said}");
    stop(child);
    std::fs::remove_dir_all(&folder).unwrap();
}

#[test]
fn personal_facts_are_kept_and_exported_only_with_an_admins_token() {
    let folder = scratch("personal");
    let db = "r.db";
    let admin = common::make_token(folder.join(db).as_os_str(), "admin", "Ana");
    let analyst = common::make_token(folder.join(db).as_os_str(), "analista", "Bia");
    let situation =
        r#"{"now": "2026-12-08T10:15:00-03:00", "contact": {"name": "Maria Pessoal"}, "request": {"topic": "xml"}}"#;
    std::fs::write(folder.join("s.json"), situation).unwrap();
    let policies = common::root().join("policies");
    let policies = policies.to_str().unwrap();
    let keep = [
        "decide",
        "s.json",
        "--policies",
        policies,
        "--log",
        "--log-personal",
        "--database",
        db,
    ];
    let refused = roteiro_as(Some(&analyst), &keep, &folder);
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        text(&refused.stderr).contains("pede um token de admin"),
        "{}",
        text(&refused.stderr)
    );
    assert_eq!(roteiro_as(None, &keep, &folder).status.code(), Some(1));
    let kept = roteiro_as(Some(&admin), &keep, &folder);
    assert!(kept.status.success(), "{}", text(&kept.stderr));

    // Exported masked by default; as kept only for an admin, with a warning.
    let masked = roteiro_as(
        None,
        &["log", "export", "masked", "--policies", policies, "--database", db],
        &folder,
    );
    assert!(masked.status.success(), "{}", text(&masked.stderr));
    let written = std::fs::read_dir(folder.join("masked")).unwrap().count();
    assert_eq!(written, 1);
    let all: String = std::fs::read_dir(folder.join("masked"))
        .unwrap()
        .map(|entry| std::fs::read_to_string(entry.unwrap().path()).unwrap())
        .collect();
    assert!(all.contains("***") && !all.contains("Maria Pessoal"), "{all}");
    let personal = ["log", "export", "inteiro", "--personal", "--database", db];
    assert_eq!(roteiro_as(Some(&analyst), &personal, &folder).status.code(), Some(1));
    assert!(!folder.join("inteiro").exists());
    let exported = roteiro_as(Some(&admin), &personal, &folder);
    assert!(exported.status.success(), "{}", text(&exported.stderr));
    assert!(text(&exported.stderr).contains("LGPD"));
    let warning = std::fs::read_to_string(folder.join("inteiro/LEIA-ANTES-DADOS-PESSOAIS.txt")).unwrap();
    assert!(warning.contains("log prune"));
    let all: String = std::fs::read_dir(folder.join("inteiro"))
        .unwrap()
        .map(|entry| std::fs::read_to_string(entry.unwrap().path()).unwrap())
        .collect();
    assert!(all.contains("Maria Pessoal"));
    std::fs::remove_dir_all(&folder).unwrap();
}

/// One request to `addr` with `token`; the whole answer.
fn exchange(addr: &str, token: &str, method: &str, path: &str, body: &str) -> String {
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer
}

#[test]
fn no_personal_fact_reaches_the_services_log_lines() {
    let folder = scratch("tracing");
    let token = common::make_token(folder.join("r.db").as_os_str(), "admin", "Ana");
    let log_file = folder.join("serve.log");
    let mut child = Command::new(env!("CARGO_BIN_EXE_roteiro"))
        .args(["serve", "--addr", "127.0.0.1:0", "--database", "r.db", "--policies"])
        .arg(common::root().join("policies"))
        .current_dir(&folder)
        .env("RUST_LOG", "debug")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log_file).unwrap())
        .spawn()
        .unwrap();
    let mut addr = None;
    for _ in 0..100 {
        addr = common::announced_address(&std::fs::read_to_string(&log_file).unwrap_or_default());
        if addr.is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let addr = addr.expect("announced");
    let personal = ["Maria Pessoal", "(21) 99999-0000", "48213", "Padaria Secreta"];
    let good = r#"{"contact": {"kind": "cliente", "name": "Maria Pessoal", "phone": "(21) 99999-0000"}, "client": {"code": "48213", "name": "Padaria Secreta"}, "request": {"topic": "xml"}}"#;
    assert!(exchange(&addr, &token, "POST", "/v1/decide", good).starts_with("HTTP/1.1 200"));
    // Refused situations, a case and a wrong login carry them too.
    let refused = r#"{"contact": {"name": "Maria Pessoal"}, "client": {"code": "48213", "plan": "ouro"}}"#;
    assert!(exchange(&addr, &token, "POST", "/v1/decide", refused).starts_with("HTTP/1.1 422"));
    let case = exchange(&addr, &token, "POST", "/v1/cases/777", good);
    assert!(case.starts_with("HTTP/1.1 201"), "{case}");
    exchange(&addr, "rot_0_Maria Pessoal", "GET", "/v1/vocabulary", "");
    exchange(&addr, &token, "POST", "/v1/login", r#"{"token": "Maria Pessoal"}"#);
    let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
    let _ = child.wait();
    let lines = std::fs::read_to_string(&log_file).unwrap();
    assert!(lines.contains("requisição"), "the log lines were written: {lines}");
    for value in personal {
        assert!(!lines.contains(value), "`{value}` in the service's log:\n{lines}");
    }
    std::fs::remove_dir_all(&folder).unwrap();
}
