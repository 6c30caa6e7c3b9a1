//! `roteiro ask` at a real terminal: a tmux session runs it in a pseudo-
//! terminal, the test types keys (`send-keys`) and reads the screen
//! (`capture-pane`), as an analyst on a call would use it: menus for
//! choices, a text field for names and dates, Esc to skip a question and
//! Ctrl-C to end with the decision so far.
#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    reason = "a test fails loudly on what it did not expect"
)]

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

/// A tmux server of the tests' own, apart from anyone's sessions.
const SOCKET: &str = "roteiro-tests";

/// One tmux session running `ask`, killed when dropped.
struct Terminal {
    session: String,
}

impl Terminal {
    /// Starts `ask` in a 160x50 terminal; `None` (with the reason printed)
    /// when tmux is not installed.
    fn start(name: &str, save: &std::path::Path) -> Option<Self> {
        if Command::new("tmux").arg("-V").output().is_err() {
            eprintln!("tmux ausente: o teste de terminal não roda aqui (o .ci/run o instala)");
            return None;
        }
        let session = format!("roteiro-{name}-{}", std::process::id());
        let command = format!(
            "{} ask --now 2026-12-08T10:15:00-03:00 --policies policies --database {db} --save {save}; echo FIM-$?; sleep 30",
            env!("CARGO_BIN_EXE_roteiro"),
            db = save.with_extension("db").display(),
            save = save.display(),
        );
        let started = Command::new("tmux")
            .args([
                "-L",
                SOCKET,
                "new-session",
                "-d",
                "-s",
                &session,
                "-x",
                "160",
                "-y",
                "50",
                "-c",
            ])
            .arg(common::root())
            .arg(command)
            .status()
            .unwrap();
        assert!(started.success(), "tmux started");
        Some(Self { session })
    }

    fn screen(&self) -> String {
        let out = Command::new("tmux")
            .args(["-L", SOCKET, "capture-pane", "-p", "-S", "-200", "-t", &self.session])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Waits (at most 20 s) until the screen shows `text`.
    fn wait_for(&self, text: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let screen = self.screen();
            if screen.contains(text) {
                return screen;
            }
            assert!(Instant::now() < deadline, "«{text}» never appeared:\n{screen}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn keys(&self, keys: &[&str]) {
        Command::new("tmux")
            .args(["-L", SOCKET, "send-keys", "-t", &self.session])
            .args(keys)
            .status()
            .unwrap();
    }

    fn type_text(&self, text: &str) {
        Command::new("tmux")
            .args(["-L", SOCKET, "send-keys", "-t", &self.session, "-l", text])
            .status()
            .unwrap();
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", SOCKET, "kill-session", "-t", &self.session])
            .status();
    }
}

#[test]
fn a_boleto_call_is_answered_with_menus_skipped_with_esc_and_ended_with_ctrl_c() {
    let save = std::env::temp_dir().join(format!("roteiro-terminal-{}.yaml", std::process::id()));
    let Some(terminal) = Terminal::start("boleto", &save) else {
        return;
    };

    // A menu: the channel's first option is telefone; Enter takes it.
    terminal.wait_for("? Por qual canal é o atendimento");
    terminal.keys(&["Enter"]);
    terminal.wait_for("? Quem está em contato é cliente");
    terminal.keys(&["Enter"]);
    // Typing filters a menu: "boleto" leaves one option.
    terminal.wait_for("? Sobre o que é a solicitação do cliente?");
    terminal.type_text("boleto");
    terminal.keys(&["Enter"]);
    let screen = terminal.wait_for("? Qual o nome do analista que está atendendo?");
    assert!(screen.contains("→ mudou:"), "each answer shows what changed:\n{screen}");
    terminal.type_text("Carla");
    terminal.keys(&["Enter"]);
    // Esc skips the question and the next one comes.
    terminal.wait_for("? Qual o código do cliente?");
    terminal.keys(&["Escape"]);
    terminal.wait_for("? Qual o código do cliente? <canceled>");
    // Ctrl-C ends with the decision so far, saved, exit 0.
    std::thread::sleep(Duration::from_millis(300));
    terminal.keys(&["C-c"]);
    let screen = terminal.wait_for("FIM-");
    assert!(screen.contains("FIM-0"), "Ctrl-C leaves cleanly:\n{screen}");
    assert!(
        screen.contains("Próximas ações"),
        "the decision so far is shown:\n{screen}"
    );
    let saved = std::fs::read_to_string(&save).unwrap();
    assert!(
        saved.contains("topic: boleto") && saved.contains("name: Carla"),
        "{saved}"
    );
    assert!(
        !saved.contains("code:"),
        "the skipped question is not in the situation:\n{saved}"
    );
    for suffix in ["yaml", "decisao.json", "db", "db-wal", "db-shm"] {
        let _ = std::fs::remove_file(save.with_extension(suffix));
    }
}
