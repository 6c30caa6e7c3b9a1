//! `roteiro ask` at a real terminal: a tmux session runs it in a pseudo-
//! terminal, the test types keys (`send-keys`) and reads the screen
//! (`capture-pane`), as an analyst on a call would use it: menus for
//! choices, a text field for names and dates, Esc to skip a question and
//! Ctrl-C to end with the decision so far.
#![expect(
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
        Self::start_with(name, save, "")
    }

    /// As [`Terminal::start`], with more arguments for `ask`.
    fn start_with(name: &str, save: &std::path::Path, extra: &str) -> Option<Self> {
        if Command::new("tmux").arg("-V").output().is_err() {
            eprintln!("tmux ausente: o teste de terminal não roda aqui (o .ci/run o instala)");
            return None;
        }
        let session = format!("roteiro-{name}-{}", std::process::id());
        // A test that pins its own moment passes `--now` in `extra`.
        let now = if extra.contains("--now") {
            ""
        } else {
            "--now 2026-12-08T10:15:00-03:00"
        };
        let command = format!(
            "{} ask {now} --policies policies --database {db} --save {save} {extra}; echo FIM-$?; sleep 30",
            env!("CARGO_BIN_EXE_roteiro"),
            db = save.with_extension("db").display(),
            save = save.display(),
        );
        // The tests share one tmux server: two of them starting it at once
        // may see it refuse the first session while it comes up (seen under
        // libfaketime's slower start). A few tries, a moment apart.
        let start = || {
            Command::new("tmux")
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
                .arg(&command)
                .output()
                .unwrap()
        };
        let mut started = start();
        for _ in 0..5 {
            if started.status.success() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(300));
            started = start();
        }
        assert!(
            started.status.success(),
            "tmux started: {}",
            String::from_utf8_lossy(&started.stderr)
        );
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
    assert!(
        !screen.contains("null"),
        "an output not decided yet is said in words:\n{screen}"
    );
    terminal.type_text("Carla");
    terminal.keys(&["Enter"]);
    // Esc skips the question and the next one comes.
    terminal.wait_for("? Qual o código do cliente?");
    terminal.keys(&["Escape"]);
    terminal.wait_for("? Qual o código do cliente? (pulada)");
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

/// The question waiting for an answer: the last "? " line that was not
/// skipped (a skipped one stays on screen marked `<canceled>`).
fn open_question(screen: &str) -> Option<&str> {
    screen
        .lines()
        .rev()
        .find(|line| line.starts_with("? ") && !line.trim_end().ends_with("<canceled>"))
        .map(str::trim_end)
}

/// Answers every question the terminal shows from `answers` (fact → what
/// to type; a menu filters on it, Enter takes the match), Esc for the rest,
/// until the session ends. Returns the last screen.
fn converse(terminal: &Terminal, answers: &[(&str, &str)]) -> String {
    let bundle = common::shipped();
    let by_question: Vec<(String, String)> = bundle
        .vocabulary()
        .facts()
        .map(|fact| (fact.question().to_string(), fact.path.clone()))
        .collect();
    let mut answered = 0;
    // Bounded in time, and by one answer per fact.
    let session_deadline = Instant::now() + Duration::from_secs(90);
    while Instant::now() < session_deadline && answered <= by_question.len() {
        let screen = terminal.screen();
        if screen.contains("FIM-") {
            return screen;
        }
        // The open question is the last "? " line with no answer after it.
        let Some(question) = open_question(&screen) else {
            std::thread::sleep(Duration::from_millis(100));
            continue;
        };
        let text = question.trim_start_matches("? ");
        // A menu shows what is typed after its question: match by prefix.
        let Some((asked, fact)) = by_question.iter().find(|(q, _)| text.starts_with(q.as_str())).cloned() else {
            terminal.keys(&["Escape"]);
            std::thread::sleep(Duration::from_millis(100));
            continue;
        };
        if text != asked {
            // Something typed is still being taken in; look again.
            std::thread::sleep(Duration::from_millis(50));
            continue;
        }
        match answers.iter().find(|(f, _)| *f == fact) {
            Some((_, typed)) => {
                terminal.type_text(typed);
                terminal.keys(&["Enter"]);
                answered += 1;
            }
            None => terminal.keys(&["Escape"]),
        }
        // Wait until this question is answered (its "? " line is gone) and
        // the next one, or the end, is on screen: typing only filters.
        let asked = question.to_string();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let now_showing = terminal.screen();
            let still_open = open_question(&now_showing).is_some_and(|open| open.starts_with(asked.as_str()));
            if now_showing.contains("FIM-") || !still_open {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "«{asked}» was never answered:\n{now_showing}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    panic!(
        "the session did not end after {answered} answers:\n{}",
        terminal.screen()
    );
}

#[test]
fn the_three_scenarios_of_document_004_are_reached_through_the_menus() {
    let common_answers = [
        ("contact.channel", "chat"),
        ("contact.kind", "cliente"),
        ("request.topic", "treinamento"),
        ("request.scope", "completo"),
        ("client.plan_active", "Sim"),
        ("client.account_blocked", "Não"),
    ];
    for (name, onboarding, franchise, route) in [
        ("cenario1", "Não", "Não", "io"),
        ("cenario2", "Sim", "Não", "gr"),
        ("cenario3", "Não", "Sim", "franchise"),
    ] {
        let save = std::env::temp_dir().join(format!("roteiro-terminal-{name}-{}.yaml", std::process::id()));
        let Some(terminal) = Terminal::start(name, &save) else {
            return;
        };
        let mut answers = common_answers.to_vec();
        answers.extend([("client.in_onboarding", onboarding), ("client.franchise", franchise)]);
        let screen = converse(&terminal, &answers);
        assert!(screen.contains("FIM-0"), "{name}:\n{screen}");
        assert!(screen.contains(&common::team(route)), "{name}:\n{screen}");
        // Menus and answers show values by their display names.
        assert!(screen.contains("? Módulo completo"), "{name}:\n{screen}");
        let saved = std::fs::read_to_string(&save).unwrap();
        assert!(saved.contains("topic: treinamento"), "{name}: {saved}");
        for suffix in ["yaml", "decisao.json", "db", "db-wal", "db-shm"] {
            let _ = std::fs::remove_file(save.with_extension(suffix));
        }
    }
}

/// The next analyst resumes a ticket's case at the terminal: `ask --case`
/// starts from the case's situation, asks what is still open, and the
/// answers land in the case.
#[test]
fn a_case_is_resumed_at_the_terminal_and_its_answers_land_in_it() {
    let save = std::env::temp_dir().join(format!("roteiro-terminal-case-{}.yaml", std::process::id()));
    let database = save.with_extension("db");
    let situation = save.with_extension("inicial.yaml");
    std::fs::write(
        &situation,
        "contact: {kind: nao_cliente, channel: whatsapp}\nrequest: {topic: erro_sistema}\n",
    )
    .unwrap();
    let opened = common::run(
        &[
            "case",
            "open",
            "7070",
            situation.to_str().unwrap(),
            "--now",
            "2026-12-08T10:00:00-03:00",
            "--database",
            database.to_str().unwrap(),
        ],
        &common::root(),
        b"",
    );
    assert_eq!(
        opened.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&opened.stderr)
    );
    let Some(terminal) = Terminal::start_with("case", &save, "--case 7070") else {
        return;
    };
    // The case already says who and what: the payment is what is open.
    let screen = terminal.wait_for("? O Financeiro já confirmou o pagamento?");
    assert!(
        !screen.contains("Sobre o que é a solicitação"),
        "the case's facts are not asked again:\n{screen}"
    );
    terminal.type_text("Sim");
    terminal.keys(&["Enter"]);
    std::thread::sleep(Duration::from_millis(300));
    terminal.keys(&["C-c"]);
    let screen = terminal.wait_for("FIM-");
    assert!(screen.contains("FIM-0"), "{screen}");
    assert!(
        screen.contains("caso do ticket 7070: 1 resposta(s) gravada(s), versão 2"),
        "{screen}"
    );
    for path in [save.clone(), situation, save.with_extension("decisao.json")] {
        let _ = std::fs::remove_file(path);
    }
    for suffix in ["db", "db-wal", "db-shm"] {
        let _ = std::fs::remove_file(save.with_extension(suffix));
    }
}

/// The three calls of issue 38's walkthrough, at the terminal: every
/// screen in Portuguese words, no key, no `null`, no English.
#[test]
fn the_three_calls_of_the_walkthrough_read_in_words_at_the_terminal() {
    // (name, extra arguments, answers by fact, a text the end shows)
    type Call<'a> = (&'a str, &'a str, &'a [(&'a str, &'a str)], &'a str);
    let calls: [Call; 3] = [
        (
            "bloqueado",
            "",
            &[
                ("contact.channel", "chat"),
                ("contact.kind", "cliente"),
                ("request.topic", "Sistema bloqueado"),
                ("billing.due_date", "05/12/2026"),
                ("billing.payment_method", "Boleto"),
                ("system.blocked", "Não"),
                ("analyst.name", "Carla"),
            ],
            "15/12/2026",
        ),
        (
            "nao-cliente",
            "--now 2026-12-11T19:30:00-03:00",
            &[
                ("contact.channel", "WhatsApp"),
                ("contact.kind", "Não cliente"),
                ("analyst.name", "Carla"),
            ],
            "Não cliente",
        ),
        (
            "treinamento-financeiro",
            "",
            &[
                ("contact.channel", "chat"),
                ("contact.kind", "cliente"),
                ("request.topic", "Treinamento"),
                ("request.scope", "Módulo completo"),
                ("request.module", "financeiro"),
                ("client.plan_active", "Sim"),
                ("client.account_blocked", "Não"),
                ("client.in_onboarding", "Não"),
                ("client.franchise", "Não"),
                ("analyst.name", "Carla"),
            ],
            "Implementação e Onboarding (IO)",
        ),
    ];
    for (name, now, answers, expected) in calls {
        let save = std::env::temp_dir().join(format!("roteiro-terminal-{name}-{}.yaml", std::process::id()));
        let Some(terminal) = Terminal::start_with(name, &save, now) else {
            return;
        };
        let screen = converse(&terminal, answers);
        assert!(screen.contains("FIM-0"), "{name}:\n{screen}");
        assert!(screen.contains(expected), "{name}: «{expected}» on screen:\n{screen}");
        let found = not_in_words(&screen);
        assert!(found.is_empty(), "{name}: {found:?} on screen:\n{screen}");
        for suffix in ["yaml", "decisao.json", "db", "db-wal", "db-shm"] {
            let _ = std::fs::remove_file(save.with_extension(suffix));
        }
    }
}

/// What would show a key or a library's English on screen: a snake_case
/// word (`nao_cliente`), `null`, `true`/`false`, an English status word,
/// an ISO date.
fn not_in_words(screen: &str) -> Vec<String> {
    const ENGLISH: [&str; 6] = ["null", "true", "false", "canceled", "changed", "none"];
    let words = screen.split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '-'));
    words
        .filter(|word| {
            let snake = word.contains('_') && word.chars().any(char::is_alphabetic);
            let iso = word.len() >= 10 && word.as_bytes()[4] == b'-' && word[..4].chars().all(|c| c.is_ascii_digit());
            snake || iso || ENGLISH.contains(word)
        })
        .map(String::from)
        .collect()
}
