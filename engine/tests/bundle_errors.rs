//! Every kind of policy mistake is rejected at load, with the file, the
//! position where there is one, the rule id and what is wrong; the whole
//! bundle is rejected and every problem is reported at once.
#![expect(clippy::expect_used, reason = "a test fails loudly on what it did not expect")]

mod common;

use roteiro_engine::BundleError;

const P002: &str = "procedures/002-atendimento-padrao.yaml";

fn problems(result: Result<roteiro_engine::Bundle, BundleError>) -> BundleError {
    result.expect_err("the bundle must be rejected")
}

#[test]
fn yaml_syntax_error_names_file_line_and_column() {
    let err = problems(common::edited(P002, |t| {
        t.replacen("rules:\n", "rules:\n  - id: [\n", 1)
    }));
    let problem = &err.problems[0];
    assert_eq!(problem.location.file, P002);
    assert!(
        problem.location.line.is_some() && problem.location.column.is_some(),
        "{problem}"
    );
}

#[test]
fn numbers_serde_cannot_fit_are_explained_in_portuguese() {
    let err = problems(common::edited(P002, |t| {
        t.replacen("    priority: 50\n", "    priority: 99999999999999999999\n", 1)
    }));
    let message = err.to_string();
    assert!(message.contains("priority"), "{message}");
    assert!(
        message.contains("número fora do intervalo: número inteiro `99999999999999999999`"),
        "{message}"
    );
    let err = problems(common::edited("bundle.yaml", |t| {
        t.replacen("decision_ms: 250", "decision_ms: 2.5", 1)
    }));
    let message = err.to_string();
    assert!(message.contains("limits.decision_ms"), "{message}");
    assert!(message.contains("número decimal `2.5`"), "{message}");
    for english in ["as u128", "integer", "floating point", "expected", "u64", "i64"] {
        assert!(
            !message.contains(english),
            "English reached the user ({english:?}): {message}"
        );
    }
}

#[test]
fn unknown_key_is_an_error_not_ignored() {
    let err = problems(common::edited(P002, |t| {
        t.replacen(
            "    when: request.topic == \"xml\"",
            "    whn: request.topic == \"xml\"",
            1,
        )
    }));
    let message = err.to_string();
    assert!(message.contains("campo desconhecido `whn`"), "{message}");
    assert!(message.contains(P002), "{message}");
}

#[test]
fn rhai_that_does_not_compile_names_the_rule_and_field() {
    let err = problems(common::edited(P002, |t| {
        t.replacen("request.topic == \"xml\"", "request.topic == (\"xml\"", 1)
    }));
    let problem = &err.problems[0];
    assert_eq!(problem.item.as_deref(), Some("padrao.xml"));
    assert_eq!(problem.field.as_deref(), Some("when"));
    assert!(problem.message.contains("o Rhai não compila"), "{problem}");
    assert!(problem.location.line.is_some());
}

#[test]
fn condition_naming_an_undeclared_fact_is_rejected() {
    let err = problems(common::edited(P002, |t| {
        t.replacen("request.topic == \"xml\"", "request.topik == \"xml\"", 1)
    }));
    let problem = &err.problems[0];
    assert_eq!(problem.item.as_deref(), Some("padrao.xml"));
    assert!(
        problem
            .message
            .contains("`request.topik` não está declarado no vocabulário"),
        "{problem}"
    );
}

#[test]
fn enum_literal_outside_the_allowed_values_is_rejected() {
    let err = problems(common::edited(P002, |t| {
        t.replacen("request.topic == \"xml\"", "request.topic == \"xlm\"", 1)
    }));
    let message = err.problems[0].to_string();
    assert!(message.contains("`xlm`") && message.contains("boleto"), "{message}");
}

#[test]
fn placeholder_without_a_fact_behind_it_is_rejected() {
    let err = problems(common::edited(P002, |t| {
        t.replacen("{{ client.plan }} possui", "{{ client.plano }} possui", 1)
    }));
    let problem = &err.problems[0];
    assert_eq!(problem.item.as_deref(), Some("padrao.field_desk.incluso"));
    assert_eq!(problem.field.as_deref(), Some("actions[0].text"));
    assert!(problem.message.contains("client.plano"), "{problem}");
}

#[test]
fn malformed_placeholder_is_rejected() {
    let err = problems(common::edited(P002, |t| {
        t.replacen("{{ client.plan }} possui", "{{ client.plan possui", 1)
    }));
    assert!(err.problems[0].message.contains("nunca é fechado"), "{}", err);
}

#[test]
fn duplicate_rule_ids_are_rejected_naming_both_files() {
    let err = problems(common::edited(P002, |t| {
        t.replacen("- id: padrao.xml\n", "- id: io.agendar\n", 1)
    }));
    let message = err.to_string();
    assert!(message.contains("id de regra repetido"), "{message}");
    assert!(message.contains("004-agendamento-io.yaml"), "{message}");
}

#[test]
fn unknown_function_macro_team_and_output_are_rejected() {
    let err = problems(common::edited("procedures/001-core-onboarding.yaml", |t| {
        t.replacen("macro: gr_confirmacao_agendamento", "macro: gr_confirmacao", 1)
            .replacen("team: gr\n", "team: vendas\n", 1)
            .replacen("      route: gr\n", "      rota: gr\n", 1)
    }));
    let message = err.to_string();
    for expected in [
        "macro `gr_confirmacao`",
        "time desconhecido `vendas`",
        "saída desconhecida `rota`",
    ] {
        assert!(message.contains(expected), "{expected} not in {message}");
    }
}

#[test]
fn unknown_function_in_a_derived_fact_is_rejected() {
    let err = problems(common::edited("vocabulary.yaml", |t| {
        t.replacen("minutes_between(", "minutos_entre(", 1)
    }));
    assert!(err.to_string().contains("função desconhecida `minutos_entre`"), "{err}");
}

#[test]
fn every_problem_is_reported_in_one_pass() {
    let err = problems(common::mini(
        "document: d.txt
title: t
rules:
  - id: a
    section: '1'
    phase: a
    when: caso.kind == \"k9\"
    set: {route: x}
  - id: b
    section: '1'
    phase: z
    when: caso.nome == \"x\"
    actions:
      - {id: b1, text: 'Olá, {{ caso.name }', macro: nenhuma}
",
    ));
    assert_eq!(err.problems.len(), 5, "{err}");
    insta::assert_snapshot!(err.to_string());
}

#[test]
fn set_value_outside_the_output_values_is_rejected() {
    let err = problems(common::edited(P002, |t| {
        t.replacen("      route: suporte\n", "      route: vendas\n", 1)
    }));
    assert!(err.to_string().contains("valor `vendas` não permitido"), "{err}");
}

#[test]
fn missing_required_file_is_reported() {
    let mut files = common::shipped_files();
    files.retain(|f| f.path != "catalog.yaml");
    let err = roteiro_engine::Bundle::from_files(files).expect_err("rejected");
    assert!(
        err.to_string().contains("catalog.yaml: arquivo obrigatório ausente"),
        "{err}"
    );
}

#[test]
fn files_held_in_memory_get_the_bounds_of_files_on_disk() {
    let mut files = common::shipped_files();
    let deep = format!("{}{}\n", "[".repeat(80), "]".repeat(80));
    let catalog = files.iter_mut().find(|f| f.path == "catalog.yaml").expect("catalog");
    catalog.text = format!("{deep}{}", catalog.text);
    let err = roteiro_engine::Bundle::from_files(files).expect_err("rejected");
    let text = err.to_string();
    assert!(text.contains("catalog.yaml") && text.contains("aninhamento"), "{text}");
}

#[test]
fn bad_vocabulary_entries_are_rejected() {
    let err = problems(common::edited("vocabulary.yaml", |t| {
        t.replacen("    values: [pf, pj]\n", "", 1).replacen(
            "default: false  # exceção: o cliente pediu prazo",
            "default: talvez",
            1,
        )
    }));
    let message = err.to_string();
    assert!(
        message.contains("client.person_type") && message.contains("um fato enum lista seus valores"),
        "{message}"
    );
    assert!(
        message.contains("request.asks_deadline") && message.contains("default"),
        "{message}"
    );
}

#[test]
fn a_group_named_like_a_rhai_keyword_is_rejected() {
    let err = problems(common::edited("vocabulary.yaml", |t| {
        t.replace("  monitoring.", "  case.")
    }));
    assert!(err.to_string().contains("`case` é palavra reservada do Rhai"), "{err}");
}

const XML_RULE: &str = "    phase: tratativa\n    when: request.topic == \"xml\"";
const PROCEDURE_002: &str = "procedures/002-atendimento-padrao.yaml";

#[test]
fn a_misplaced_key_names_the_rule_by_its_id_and_the_key_it_meant() {
    let err = problems(common::edited(PROCEDURE_002, |text| {
        text.replace(XML_RULE, "    phase: tratativa\n    whn: request.topic == \"xml\"")
    }));
    let text = err.to_string();
    assert!(text.contains("regra `padrao.xml`: campo desconhecido `whn`"), "{text}");
    assert!(text.contains("você quis dizer `when`?"), "{text}");
    assert!(!text.contains("rules["), "{text}");
}

#[test]
fn an_over_indented_line_is_reported_as_indentation_at_its_own_line() {
    let edited = common::edited(PROCEDURE_002, |text| {
        text.replace(XML_RULE, "    phase: tratativa\n      when: request.topic == \"xml\"")
    });
    let err = problems(edited);
    let problem = &err.problems[0];
    assert!(
        problem.message.starts_with("indentação: `when` tem 6 espaços"),
        "{problem}"
    );
    assert_eq!(problem.location.column, Some(7));
    let line = problem.location.line.expect("a line");
    let shipped = std::fs::read_to_string(common::policies().join(PROCEDURE_002)).expect("file");
    assert_eq!(
        shipped.lines().nth(line - 1).map(str::trim),
        Some("when: request.topic == \"xml\"")
    );
}

#[test]
fn misspelt_teams_macros_and_phases_get_a_suggestion() {
    let err = problems(common::edited(PROCEDURE_002, |text| {
        text.replacen("team: financeiro", "team: finaceiro", 1)
            .replace(XML_RULE, "    phase: tratatva\n    when: request.topic == \"xml\"")
    }));
    let text = err.to_string();
    assert!(
        text.contains("time desconhecido `finaceiro`; você quis dizer `financeiro`?"),
        "{text}"
    );
    assert!(
        text.contains("fase desconhecida `tratatva`; você quis dizer `tratativa`?"),
        "{text}"
    );
}

#[test]
fn an_unclosed_placeholder_is_pointed_at_by_line_and_column() {
    let err = problems(common::edited(PROCEDURE_002, |text| {
        text.replacen(
            "Pergunte se ficou alguma dúvida.",
            "Pergunte se ficou {{ alguma dúvida.",
            1,
        )
    }));
    let problem = &err.problems[0];
    assert!(
        problem
            .message
            .contains("o marcador `{{ alguma dúvida.` nunca é fechado"),
        "{problem}"
    );
    assert!(!problem.message.contains("byte"), "{problem}");
    assert!(
        problem.location.line.is_some() && problem.location.column.is_some(),
        "{problem}"
    );
}

/// What libyaml, serde and Rhai say in English reaches the owner in
/// Portuguese, with what was most likely meant.
#[test]
fn library_messages_are_said_in_portuguese() {
    let said = |edit: &dyn Fn(&str) -> String| problems(common::edited(P002, edit)).problems[0].message.clone();
    let tab = said(&|t| t.replacen("\n    when:", "\n\t  when:", 1));
    assert!(tab.contains("tabulação na indentação"), "{tab}");
    let repeated = said(&|t| t.replacen("\n    when:", "\n    section: a\n    section: b\n    when:", 1));
    assert!(repeated.contains("campo repetido `section`"), "{repeated}");
    let adjacent = said(&|t| {
        t.replacen(
            "request.topic == \"xml\"",
            "request.topic == \"xml\" request.topic == \"boleto\"",
            1,
        )
    });
    assert!(adjacent.contains("falta `&&`"), "{adjacent}");
    let unquoted = said(&|t| t.replacen("request.topic == \"xml\"", "request.topic == xml", 1));
    assert!(unquoted.contains("escreva-o entre aspas: \"xml\""), "{unquoted}");
    for message in [tab, repeated, adjacent, unquoted] {
        for english in ["found", "duplicate", "Expecting", "Undefined", "Possibly"] {
            assert!(!message.contains(english), "{english} in {message}");
        }
    }
}

/// A field dedented out of its list item is said at its own line, not as
/// "missing" on the item's first line.
#[test]
fn a_dedented_field_is_reported_at_its_line() {
    let path = "procedures/004-agendamento-io.yaml";
    let original = common::shipped_files()
        .into_iter()
        .find(|file| file.path == path)
        .unwrap()
        .text;
    let item = "      - id: io.agendar.duracao\n        text: >-";
    let item_line = original[..original.find(item).unwrap()].lines().count() + 1;
    let err = problems(common::edited(path, |t| {
        t.replacen(item, "      - id: io.agendar.duracao\n      text: >-", 1)
    }));
    let problem = &err.problems[0];
    assert_eq!(problem.location.line, Some(item_line + 1), "{problem}");
    assert!(
        problem.message.contains("`text` tem 6 espaços, menos que os 8"),
        "{problem}"
    );
    assert!(problem.message.contains("alinhe `text` com `id`"), "{problem}");
}

#[test]
fn a_display_name_for_a_value_the_fact_does_not_have_is_rejected() {
    let err = problems(common::edited("vocabulary.yaml", |t| {
        t.replacen("      nao_cliente: Não cliente\n", "      nao_clente: Não cliente\n", 1)
    }));
    let message = err.to_string();
    assert!(message.contains("vocabulary.yaml, linha"), "{message}");
    assert!(message.contains("`contact.kind`, campo `names`"), "{message}");
    assert!(
        message.contains("`nao_clente` não está entre os valores; os nomes são de: cliente, parceiro, nao_cliente"),
        "{message}"
    );
    let err = problems(common::edited("bundle.yaml", |t| {
        t.replacen("      supervisao: Supervisão\n", "      supervisor: Supervisão\n", 1)
    }));
    assert!(
        err.to_string().contains("`supervisor` não está entre os valores"),
        "{err}"
    );
}

#[test]
fn a_menu_must_offer_every_value_once() {
    let section = "        values: [boleto, sistema_bloqueado]\n";
    let menu_line = |text: &str| text[..text.find("    menu:\n").unwrap()].lines().count() + 1;
    let left_out = problems(common::edited("vocabulary.yaml", |t| {
        t.replacen(section, "        values: [boleto]\n", 1)
    }));
    let problem = &left_out.problems[0];
    assert!(problem.message.contains("faltam: sistema_bloqueado"), "{problem}");
    let text = common::shipped_files()
        .into_iter()
        .find(|f| f.path == "vocabulary.yaml")
        .unwrap()
        .text;
    assert_eq!(problem.location.line, Some(menu_line(&text)), "{problem}");

    let twice = problems(common::edited("vocabulary.yaml", |t| {
        t.replacen(section, "        values: [boleto, sistema_bloqueado, xml]\n", 1)
    }))
    .to_string();
    assert!(
        twice.contains("seção 5 (“Problemas e dúvidas no sistema”): `xml` já está em outra seção do menu"),
        "{twice}"
    );

    let unknown = problems(common::edited("vocabulary.yaml", |t| {
        t.replacen(section, "        values: [boleto, sistema_bloqueado, boletto]\n", 1)
    }))
    .to_string();
    assert!(unknown.contains("`boletto` não está entre os valores"), "{unknown}");
}

#[test]
fn the_topic_menu_groups_what_the_client_wants_sorted_by_name() {
    let bundle = common::shipped();
    let topic = bundle.vocabulary().fact("request.topic").unwrap();
    let menu = topic.menu();
    let titles: Vec<_> = menu.iter().map(|section| section.title.unwrap()).collect();
    assert_eq!(
        titles,
        [
            "Equipamentos",
            "Integrações e aplicativos",
            "Treinamentos",
            "Financeiro",
            "Problemas e dúvidas no sistema",
            "Outros setores"
        ]
    );
    let offered: std::collections::BTreeSet<&str> = menu.iter().flat_map(|s| s.values.iter().copied()).collect();
    let declared: std::collections::BTreeSet<&str> = topic.values().iter().map(String::as_str).collect();
    assert_eq!(offered, declared);
    for section in &menu {
        let names: Vec<String> = section
            .values
            .iter()
            .map(|v| topic.value_name(v).to_lowercase())
            .collect();
        let mut sorted = names.clone();
        sorted.sort();
        assert_eq!(names, sorted, "{:?}", section.title);
    }
    // Accents do not move a name out of its place: "Dúvida" sorts among the d's.
    let system = &menu[4].values;
    assert_eq!(system.first(), Some(&"bug"), "{system:?}");
    assert_eq!(system.get(2), Some(&"duvida_sistema"), "{system:?}");
    // A fact without a menu offers its values as declared, untitled.
    let kind = bundle.vocabulary().fact("contact.kind").unwrap().menu();
    assert_eq!(kind.len(), 1);
    assert_eq!(kind[0].title, None);
    assert_eq!(kind[0].values, ["cliente", "parceiro", "nao_cliente"]);
}
