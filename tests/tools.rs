//! The process owners' commands on bundles made for the test: every kind of
//! check and lint finding provoked once (`tests/fixtures/findings`), the
//! human output snapshotted, and `diff` on two bundles that differ in one
//! rule.
#![expect(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "a test fails loudly on what it did not expect"
)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

const FIXTURE: &str = "tests/fixtures/findings";

fn roteiro(args: &[&str]) -> Output {
    common::run(args, &common::root(), b"")
}

/// `diff` of the corpus between the shipped bundle and `policies`.
fn diff_corpus(policies: &str, extra: &[&str]) -> Output {
    let mut args = vec!["diff", "tests/situations", "--base", "policies", "--policies", policies];
    args.extend_from_slice(extra);
    roteiro(&args)
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The output without the bundle digest, which changes with any edit.
fn stable(text: &str) -> String {
    text.lines()
        .map(|line| match (line.find(" ("), line.find("), ")) {
            (Some(open), Some(close)) if line.contains(" regras") && open < close => {
                format!("{}{}", &line[..open], &line[close + 1..])
            }
            _ => line.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn check_reports_each_kind_of_warning() {
    let out = roteiro(&["check", "--policies", FIXTURE]);
    assert_eq!(out.status.code(), Some(0), "warnings alone do not fail");
    let text = stdout(&out);
    for kind in [
        "[never_fires] `contraditoria`",
        "[output_conflict] `urgente`",
        "[unused_fact] `caso.esquecido`",
        "[unused_catalog] `catalog.macros.sobrando`",
    ] {
        assert!(text.contains(kind), "{kind} missing from:\n{text}");
    }
    insta::assert_snapshot!(stable(&text));
}

#[test]
fn check_strict_fails_on_warnings_and_the_shipped_bundle_has_none() {
    assert_eq!(
        roteiro(&["check", "--strict", "--policies", FIXTURE]).status.code(),
        Some(1)
    );
    let shipped = roteiro(&["check", "--strict", "--policies", "policies"]);
    assert_eq!(shipped.status.code(), Some(0), "{}", stdout(&shipped));
    assert!(stdout(&shipped).contains("0 aviso(s)"));
}

#[test]
fn check_exits_3_on_a_bundle_the_loader_rejects() {
    let out = roteiro(&["check", "--policies", "tests/situations"]);
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("bundle.yaml: arquivo obrigatório ausente"));
}

#[test]
fn lint_reports_each_writing_rule_and_respects_a_silenced_finding() {
    let out = roteiro(&["lint", "--policies", FIXTURE]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    for lint in [
        "[gerundio] `boleto` › `boleto.script`",
        "[data] `boleto` › `boleto.explicar`",
        "[prazo] `urgente` › `urgente.prometer`",
        "[marcador] `boleto` › `boleto.script`",
    ] {
        assert!(text.contains(lint), "{lint} missing from:\n{text}");
    }
    assert!(!text.contains("urgente.citar"), "the silenced finding is not reported");
    insta::assert_snapshot!(text);
}

#[test]
fn the_shipped_bundle_passes_lint() {
    let out = roteiro(&["lint", "--policies", "policies"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
}

#[test]
fn test_command_output_with_failures_and_coverage() {
    let out = roteiro(&["test", "--policies", FIXTURE]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(text.contains("regras que nenhum teste dispara: contraditoria"));
    insta::assert_snapshot!(text);
}

#[test]
fn coverage_minimum_fails_under_the_threshold() {
    let file = PathBuf::from(FIXTURE).join("tests/p.yaml");
    let out = roteiro(&[
        "test",
        file.to_str().unwrap(),
        "--policies",
        "policies",
        "--coverage-min",
        "95",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("abaixo do mínimo"), "{}", stdout(&out));
}

#[test]
fn explain_gives_each_part_of_each_condition() {
    let out = roteiro(&[
        "explain",
        "tests/fixtures/findings/examples/situation.yaml",
        "--policies",
        FIXTURE,
    ]);
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    assert!(
        text.contains("`caso.tipo == \"bug\"` foi falso  [caso.tipo = boleto]"),
        "{text}"
    );
    assert!(text.contains("route = \"suporte\" ← boleto"), "{text}");
    insta::assert_snapshot!(text);
}

/// The topic lists that decide IO scheduling live in a derivation and in
/// several rules: `explain` names them for the values the situation gives.
#[test]
fn explain_names_where_the_situations_values_are_listed() {
    let out = roteiro(&[
        "explain",
        "policies/examples/004-cenario1-treinamento.yaml",
        "--policies",
        "policies",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    let section = text
        .split("Onde as regras citam os valores desta situação\n")
        .nth(1)
        .unwrap_or_else(|| panic!("{text}"));
    let topic = section
        .lines()
        .find(|line| line.starts_with("  request.topic = Treinamento (treinamento): "))
        .unwrap_or_else(|| panic!("{section}"));
    assert!(
        topic.contains("derive de request.needs_io_appointment") && topic.contains("io.agendar"),
        "{topic}"
    );
}

#[test]
fn explain_json_is_a_document() {
    let out = roteiro(&[
        "explain",
        "policies/examples/004-cenario1-treinamento.yaml",
        "--policies",
        "policies",
        "--json",
    ]);
    let explanation: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let winner = explanation["outputs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["output"] == "route")
        .unwrap()
        .clone();
    assert_eq!(winner["rule"], "io.agendar");
}

/// A copy of the shipped bundle with one rule changed.
fn edited_copy(dir: &Path) -> PathBuf {
    edited_copy_with(dir, "procedures/004-agendamento-io.yaml", |text| {
        text.replace("    set:\n      route: franchise", "    set:\n      route: gr")
    })
}

/// A copy of the shipped bundle with `edit` applied to the file at `path`.
fn edited_copy_with(dir: &Path, edited: &str, edit: impl Fn(&str) -> String) -> PathBuf {
    let target = dir.join("policies");
    for file in common::shipped_files() {
        let path = target.join(&file.path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let text = if file.path == edited {
            edit(&file.text)
        } else {
            file.text
        };
        std::fs::write(path, text).unwrap();
    }
    target
}

#[test]
fn diff_reports_the_decisions_one_rule_changes() {
    let dir = std::env::temp_dir().join(format!("roteiro-diff-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let edited = edited_copy(&dir);
    let edited = edited.to_str().unwrap();
    let out = diff_corpus(edited, &["--fail-on-change"]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(text.contains("mudou 004-cenario3.yaml"), "{text}");
    assert!(text.contains("saída route: \"franchise\" → \"gr\""), "{text}");
    assert!(text.contains("io.filtro.franchise: 1 situação(ões)"), "{text}");
    assert!(text.contains("1 de 35 decisões mudaram"), "{text}");
    let same = diff_corpus("policies", &["--fail-on-change"]);
    assert_eq!(same.status.code(), Some(0));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn diff_blames_no_new_rule_where_it_never_fired() {
    let dir = std::env::temp_dir().join(format!("roteiro-diff-new-rule-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let edited = edited_copy_with(&dir, "procedures/004-agendamento-io.yaml", |text| {
        let changed = text.replace("    set:\n      route: franchise", "    set:\n      route: gr");
        let new_rule = "\n  - id: io.regra_nova\n    section: \"1\"\n    title: Uma regra nova que nenhuma situação dispara\n    phase: triagem\n    when: request.topic == \"hardware\" && request.from_zero\n    set:\n      io_scheduling: true\n";
        changed.replacen(
            "\n  - id: io.aplicar_filtros",
            &format!("{new_rule}\n  - id: io.aplicar_filtros"),
            1,
        )
    });
    let out = diff_corpus(edited.to_str().unwrap(), &[]);
    let text = stdout(&out);
    assert!(text.contains("io.filtro.franchise: 1 situação(ões)"), "{text}");
    assert!(!text.contains("io.regra_nova"), "the new rule fired nowhere:\n{text}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn diff_shows_a_reworded_text_before_and_after_under_its_rule() {
    let dir = std::env::temp_dir().join(format!("roteiro-diff-words-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let edited = edited_copy_with(&dir, "procedures/002-atendimento-padrao.yaml", |text| {
        text.replace(
            "Para desbloquear, faça o pagamento via PIX: o desbloqueio é automático.",
            "Para desbloquear, pague via PIX: o desbloqueio é automático.",
        )
    });
    let out = diff_corpus(edited.to_str().unwrap(), &[]);
    let text = stdout(&out);
    assert!(text.contains("    regra padrao.bloqueio.bloqueado:"), "{text}");
    assert!(
        text.contains("~ script padrao.bloqueio.bloqueado.script reescrita:"),
        "{text}"
    );
    assert!(
        text.contains("antes: «Para desbloquear, faça o pagamento via PIX"),
        "{text}"
    );
    assert!(text.contains("agora: «Para desbloquear, pague via PIX"), "{text}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn watch_runs_check_lint_and_test_once() {
    let out = roteiro(&["watch", "--policies", "policies", "--max-runs", "1"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let text = stdout(&out);
    let rules = common::shipped().rule_ids().count();
    assert!(text.contains(&format!("check: {rules} regras, 0 aviso(s)")), "{text}");
    assert!(text.contains("0 problema(s) de escrita"));
    assert!(text.contains(" failed, cobertura 100.0%"));
}

#[test]
fn check_verbose_says_which_rules_name_each_value() {
    let out = roteiro(&["check", "--verbose", "--policies", "policies"]);
    assert_eq!(out.status.code(), Some(0));
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("valores citados pelas regras:"), "{said}");
    assert!(
        said.contains("    Plus (plus): padrao.field_desk.incluso, padrao.hardware.sem_solucao_incluso\n"),
        "{said}"
    );
    // The topics that decide IO scheduling are found where they are: a derivation.
    assert!(said.contains("    Módulo completo (completo): "), "{said}");
    assert!(said.contains("derive de "), "{said}");
}
