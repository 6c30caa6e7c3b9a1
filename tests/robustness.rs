//! Hostile and broken input through the command line, one test per class:
//! each asserts the exit status, an empty stdout and the words of the
//! message. Nothing here may hang, panic or blame the wrong party.
#![expect(clippy::expect_used, reason = "a test fails loudly on what it did not expect")]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const NOW: &str = "2026-12-08T10:15:00-03:00";

fn roteiro(args: &[&str], stdin: &[u8]) -> Output {
    common::run(args, &common::root(), stdin)
}

/// Decides `situation` from stdin and expects exit `code`, nothing on
/// stdout and every word of `expected` on stderr; the stderr is returned.
fn refused(situation: &[u8], extra: &[&str], code: i32, expected: &[&str]) -> String {
    let mut args = vec!["decide", "-", "--format", "json", "--now", NOW];
    args.extend_from_slice(extra);
    let out = roteiro(&args, situation);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(code), "{stderr}");
    assert!(
        out.stdout.is_empty(),
        "stdout must be empty: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    for word in expected {
        assert!(stderr.contains(word), "stderr lacks {word:?}: {stderr}");
    }
    for english in [
        "invalid type",
        "expected",
        " at line ",
        "more than one",
        "as u128",
        "EOF while",
    ] {
        assert!(
            !stderr.contains(english),
            "English reached the user ({english:?}): {stderr}"
        );
    }
    stderr
}

/// A scratch copy of the shipped bundle, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn bundle(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("roteiro-robust-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        common::copy_shipped_to(&dir);
        Self(dir)
    }

    fn path(&self, inside: &str) -> PathBuf {
        self.0.join(inside)
    }

    /// `roteiro check` on this bundle: exit 3, empty stdout, the stderr.
    fn rejected(&self, expected: &[&str]) -> String {
        let out = roteiro(&["check", "--policies", self.0.to_str().expect("utf-8")], b"");
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.code(), Some(3), "{stderr}");
        assert!(out.stdout.is_empty());
        for word in expected {
            assert!(stderr.contains(word), "stderr lacks {word:?}: {stderr}");
        }
        stderr
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn symlink(target: &Path, link: &Path) {
    let _ = std::fs::remove_file(link);
    std::os::unix::fs::symlink(target, link).expect("symlink");
}

#[test]
fn a_situation_over_the_size_limit_is_refused_unread() {
    let huge = format!("contact:\n  name: \"{}\"\n", "a".repeat(1_100_000));
    refused(huge.as_bytes(), &[], 2, &["grande demais", "limits.situation_bytes"]);
    for device in ["/dev/zero", "/dev/urandom"] {
        let out = roteiro(&["decide", device, "--now", NOW], b"");
        assert_eq!(out.status.code(), Some(2), "{device}");
        assert!(out.stdout.is_empty());
        assert!(String::from_utf8_lossy(&out.stderr).contains("grande demais"));
    }
}

#[test]
fn deep_nesting_is_refused_at_its_line_and_column() {
    refused(
        "[".repeat(100_000).as_bytes(),
        &[],
        2,
        &["aninhamento", "64", "linha 1, coluna 65"],
    );
    let json = format!("{{\"request\": {}", "{\"a\": ".repeat(50_000));
    refused(json.as_bytes(), &[], 2, &["aninhamento"]);
}

#[test]
fn broken_yaml_is_reported_as_broken_yaml_where_it_breaks() {
    let stderr = refused(
        b"contact: {kind: cliente, channel: chat\nclient:\n  plan: prime\n",
        &[],
        2,
        &["malformado", "linha"],
    );
    assert!(
        !stderr.contains("chat client"),
        "not the value of a half-parsed line: {stderr}"
    );
    refused(b"{\"client\": {\"plan\": \"prime\"", &[], 2, &["malformado", "linha 1"]);
    refused(
        b"client: {plan: prime}\n---\nclient: {plan: basico}\n",
        &[],
        2,
        &["mais de um documento"],
    );
}

#[test]
fn invalid_utf8_names_the_byte_and_its_line() {
    refused(
        b"contact:\n  name: Jos\xe9\n",
        &[],
        2,
        &["UTF-8 inválido", "0xE9", "linha 2, coluna 12"],
    );
}

#[test]
fn a_repeated_key_names_the_key_and_both_lines() {
    refused(
        b"request:\n  topic: boleto\n  urgent: false\n  topic: xml\n",
        &[],
        2,
        &["`topic` repetida", "linha 4", "a primeira na linha 2"],
    );
    refused(
        b"{\"request\": {\"topic\": \"boleto\",\n \"topic\": \"xml\"}}",
        &[],
        2,
        &["`topic` repetida", "linha 2", "a primeira na linha 1"],
    );
}

#[test]
fn a_byte_order_mark_is_accepted() {
    let out = roteiro(
        &["decide", "-", "--format", "json", "--now", NOW],
        "\u{feff}request: {topic: xml}\n".as_bytes(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn a_misspelled_group_or_field_is_refused_with_a_suggestion_unless_lenient() {
    refused(
        b"clent:\n  plan: prime\n",
        &[],
        2,
        &["`clent`", "você quis dizer `client`?", "--lenient"],
    );
    refused(
        b"request:\n  topc: boleto\n",
        &[],
        2,
        &["você quis dizer `request.topic`?"],
    );
    refused(b"client:\n  plan: premiun\n", &[], 2, &["você quis dizer `premium`?"]);
    let out = roteiro(
        &["decide", "-", "--format", "json", "--now", NOW, "--lenient"],
        b"clent:\n  plan: prime\nrequest: {topic: xml}\n",
    );
    assert_eq!(out.status.code(), Some(0));
    let decision: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert!(decision["warnings"].to_string().contains("clent"), "{decision}");
}

#[test]
fn integers_past_64_bits_are_out_of_range_or_text_never_a_bare_type_error() {
    // YAML reads 20 digits as a 128-bit integer, which a visitor without
    // the 128-bit methods refuses as "invalid type" with no field.
    refused(
        b"monitoring: {attempts: 99999999999999999999}\n",
        &[],
        2,
        &["monitoring.attempts", "fora do intervalo", "99999999999999999999"],
    );
    refused(
        b"client: {plan_active: 340282366920938463463374607431768211455}\n",
        &[],
        2,
        &["client.plan_active", "tipo errado"],
    );
    // A long code written without quotes is still the code.
    let bundle = common::shipped();
    for digits in ["12345678901234567890123", "340282366920938463463374607431768211455"] {
        let situation = bundle
            .parse_situation(format!("client: {{code: {digits}}}\n"), "code.yaml")
            .expect("a code of digits is text");
        assert_eq!(
            situation.facts.get("client.code"),
            Some(&roteiro_engine::FactValue::Text(digits.into()))
        );
    }
}

#[test]
fn a_text_fact_over_its_max_length_is_the_situations_error() {
    let long = format!("contact:\n  name: \"{}\"\nrequest: {{topic: xml}}\n", "M".repeat(3_000));
    let stderr = refused(long.as_bytes(), &[], 2, &["contact.name", "3000 caracteres", "2000"]);
    assert!(
        !stderr.contains("MMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMM"),
        "not echoed"
    );
}

#[test]
fn a_procedure_linked_out_of_the_bundle_is_refused_and_never_echoed() {
    let scratch = Scratch::bundle("symlink");
    symlink(Path::new("/etc/passwd"), &scratch.path("procedures/999-fora.yaml"));
    let stderr = scratch.rejected(&["procedures/999-fora.yaml", "fora da pasta do pacote"]);
    assert!(!stderr.contains("root:"), "the content of /etc/passwd leaked: {stderr}");
    symlink(Path::new("/dev/zero"), &scratch.path("catalog.yaml"));
    scratch.rejected(&["catalog.yaml", "fora da pasta do pacote"]);
}

#[test]
fn special_files_inside_the_bundle_are_refused_without_reading() {
    let scratch = Scratch::bundle("fifo");
    let fifo = scratch.path("procedures/fila.yaml");
    let made = Command::new("mkfifo").arg(&fifo).status().is_ok_and(|s| s.success());
    if !made {
        eprintln!("skipped: mkfifo is not available here");
        return;
    }
    scratch.rejected(&["procedures/fila.yaml", "não é um arquivo comum"]);
}

#[test]
fn a_bundle_without_procedures_or_rules_is_invalid() {
    let scratch = Scratch::bundle("empty");
    std::fs::remove_dir_all(scratch.path("procedures")).expect("remove");
    std::fs::remove_dir_all(scratch.path("tests")).expect("remove");
    scratch.rejected(&["procedures/", "não tem procedimentos"]);
    std::fs::create_dir_all(scratch.path("procedures")).expect("folder");
    std::fs::write(
        scratch.path("procedures/vazio.yaml"),
        "document: d.txt\ntitle: vazio\nrules: []\n",
    )
    .expect("write");
    scratch.rejected(&["nenhuma regra"]);
}

#[test]
fn a_repeated_rule_id_points_at_the_repetition() {
    let scratch = Scratch::bundle("duplicate");
    let path = scratch.path("procedures/004-agendamento-io.yaml");
    let text = std::fs::read_to_string(&path).expect("read");
    let first_rule_at = text.find("\n  - id:").expect("a rule") + 1;
    let first_rule_end = text[first_rule_at..].find("\n  - id:").expect("second rule") + first_rule_at + 1;
    let first_rule = &text[first_rule_at..first_rule_end];
    let doubled = format!("{}{first_rule}", &text);
    std::fs::write(&path, &doubled).expect("write");
    let expected_line = doubled[..doubled.len() - first_rule.len()].lines().count() + 1;
    scratch.rejected(&["id de regra repetido", &format!("linha {expected_line}")]);
}

#[test]
fn rule_errors_name_the_rule_its_file_and_its_yaml_line() {
    let scratch = Scratch::bundle("overflow");
    let path = scratch.path("procedures/002-atendimento-padrao.yaml");
    let text = std::fs::read_to_string(&path).expect("read");
    let edited = text.replacen(
        "add_days(billing.due_date, param.dias_ate_bloqueio)",
        "add_days(date(\"2026-01-01\"), 99999999999)",
        1,
    );
    assert_ne!(text, edited, "the shipped rule computes the block date with add_days");
    std::fs::write(&path, &edited).expect("write");
    let line = edited
        .lines()
        .position(|l| l.contains("99999999999"))
        .expect("edited line")
        + 1;
    let out = roteiro(
        &[
            "decide",
            "-",
            "--policies",
            scratch.0.to_str().expect("utf-8"),
            "--now",
            NOW,
        ],
        b"billing: {due_date: 2026-12-05}\n",
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(out.stdout.is_empty());
    for word in [
        "procedures/002-atendimento-padrao.yaml",
        &format!("linha {line}"),
        "fora do intervalo",
        "2026-01-01",
    ] {
        assert!(stderr.contains(word), "stderr lacks {word:?}: {stderr}");
    }
    assert!(!stderr.contains("position"), "{stderr}");
}

#[test]
fn watch_survives_a_rule_that_never_ends() {
    let scratch = Scratch::bundle("watch-loop");
    let path = scratch.path("procedures/002-atendimento-padrao.yaml");
    let mut text = std::fs::read_to_string(&path).expect("read");
    text.push_str(
        "\n  - id: teste.laco\n    section: '1'\n    phase: tratativa\n    when: 'let n = 0; loop { n += 1; }'\n    set: {route: suporte}\n",
    );
    std::fs::write(&path, text).expect("write");
    let out = roteiro(
        &[
            "watch",
            "--max-runs",
            "1",
            "--policies",
            scratch.0.to_str().expect("utf-8"),
        ],
        b"",
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(1),
        "a round with failures, not a crash: {stdout}"
    );
    assert!(stdout.contains("teste.laco"), "the runaway rule is named: {stdout}");
    assert!(stdout.contains("always_fails"), "check says it can only fail: {stdout}");
}
