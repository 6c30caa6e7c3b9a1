//! Parameters (`parameters.yaml`) as a process owner changes them: the
//! block day moved from 7 to 10 in one place moves every decision and
//! text that follows from it, and the policy tests written for 7 say
//! which parameter moved; the Financeiro's WhatsApp changes without the
//! PIX key; an unknown `param.` is refused naming the file and field.
#![expect(clippy::expect_used, reason = "a test fails loudly on what it did not expect")]

mod common;

use roteiro_engine::Decision;

/// A blocked-system call (002 item 28): due on 05/12, a call on `day`.
fn blocked_call(day: u32) -> String {
    format!(
        "now: 2026-12-{day:02}T10:15:00-03:00\nanalyst: {{name: Carla}}\ncontact: {{kind: cliente, channel: chat, name: Maria}}\nclient: {{code: \"1\", plan: essencial, plan_active: true, in_onboarding: false, franchise: false}}\nrequest: {{topic: sistema_bloqueado}}\nbilling: {{due_date: 2026-12-05, payment_method: boleto}}\nsystem: {{blocked: false}}\n"
    )
}

fn texts(decision: &Decision) -> String {
    let actions = decision.actions.iter().map(|a| a.text.to_string());
    let scripts = decision.scripts.iter().map(|s| s.text.to_string());
    actions.chain(scripts).collect::<Vec<_>>().join("\n")
}

#[test]
fn the_block_day_moved_in_one_place_moves_every_date_and_word() {
    let seven = common::shipped();
    let ten = common::edited("parameters.yaml", |text| {
        text.replacen("    value: 7\n", "    value: 10\n", 1)
    })
    .unwrap();
    // On the 13th: blocked since the 12th with 7 days, not until the 15th with 10.
    let before = common::decide(&seven, &blocked_call(13));
    let after = common::decide(&ten, &blocked_call(13));
    assert_eq!(before.outputs["block_date"], "2026-12-12");
    assert_eq!(after.outputs["block_date"], "2026-12-15");
    let (before, after) = (texts(&before), texts(&after));
    assert!(before.contains("no sétimo dia após o vencimento"), "{before}");
    assert!(
        before.contains("o bloqueio ocorrerá no dia 12; dia 15 será bloqueado no dia 22"),
        "{before}"
    );
    assert!(after.contains("no décimo dia após o vencimento"), "{after}");
    assert!(
        after.contains("o bloqueio ocorrerá no dia 15; dia 15 será bloqueado no dia 25"),
        "{after}"
    );
    assert!(after.contains("o bloqueio ocorrerá em 15/12/2026"), "{after}");
    assert!(!after.contains("sétimo") && !after.contains("12/12/2026"), "{after}");

    // The policy tests were written for 7: those that fail say so.
    let report = ten.run_tests(None, None).unwrap();
    let failed: Vec<_> = report.cases.iter().filter(|case| !case.passed()).collect();
    assert!(!failed.is_empty());
    for case in failed {
        assert!(
            case.failures
                .iter()
                .any(|f| f.contains("parâmetro `dias_ate_bloqueio` = 7 (assumes), e o pacote tem 10")),
            "{}: {:?}",
            case.name,
            case.failures
        );
    }
}

#[test]
fn the_whatsapp_changes_without_the_pix_key() {
    let bundle = common::edited("parameters.yaml", |text| {
        let at = text.find("  whatsapp_financeiro:").unwrap();
        let (head, tail) = text.split_at(at);
        format!("{head}{}", tail.replacen("(21) 98016-8691", "(21) 97777-0000", 1))
    })
    .unwrap();
    let boleto = common::decide(
        &bundle,
        "now: 2026-12-08T10:15:00-03:00\ncontact: {kind: cliente, channel: chat}\nrequest: {topic: boleto}\n",
    );
    assert!(texts(&boleto).contains("(21) 97777-0000"), "{}", texts(&boleto));
    let stranger = common::decide(
        &bundle,
        "now: 2026-12-08T10:15:00-03:00\ncontact: {kind: nao_cliente, channel: telefone, name: José, phone: \"(21) 91111-2222\"}\nrequest: {topic: duvida_sistema}\n",
    );
    let said = texts(&stranger);
    assert!(
        said.contains("Pix – (21) 98016-8691") && !said.contains("97777"),
        "{said}"
    );
}

#[test]
fn an_unknown_parameter_is_refused_with_its_file_field_and_a_suggestion() {
    let err = common::edited("procedures/002-atendimento-padrao.yaml", |text| {
        text.replacen("param.dias_ate_bloqueio)", "param.dias_ate_bloqeio)", 1)
    })
    .unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains("procedures/002-atendimento-padrao.yaml, linha"),
        "{message}"
    );
    assert!(
        message.contains("parâmetro desconhecido `param.dias_ate_bloqeio`; você quis dizer `dias_ate_bloqueio`?"),
        "{message}"
    );
    let err = common::edited("parameters.yaml", |text| {
        text.replacen("    value: 7\n", "    value: sete\n", 1)
    })
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("encontrado `sete`; o tipo pede um número inteiro"),
        "{err}"
    );
}

#[test]
fn a_new_plan_no_rule_names_is_a_strict_warning_naming_where_its_siblings_are() {
    let bundle = common::edited("vocabulary.yaml", |text| {
        text.replacen(
            "values: [light, basico, essencial, prime, plus, premium]",
            "values: [light, basico, essencial, prime, plus, premium, ultra]",
            1,
        )
        .replacen(
            "      premium: Premium\n",
            "      premium: Premium\n      ultra: Ultra\n",
            1,
        )
    })
    .unwrap();
    let warnings = bundle.analyze();
    let ultra: Vec<_> = warnings.iter().filter(|w| w.kind == "unhandled_value").collect();
    assert_eq!(ultra.len(), 1, "{warnings:?}");
    assert_eq!(ultra[0].item, "client.plan");
    assert!(ultra[0].location.line.is_some());
    assert!(
        ultra[0].message.starts_with(
            "`ultra` em `client.plan` não aparece em nenhuma regra, e os outros valores aparecem (`light` em `"
        ),
        "{}",
        ultra[0].message
    );
    assert!(
        common::shipped().analyze().is_empty(),
        "the shipped bundle names every plan"
    );
}
