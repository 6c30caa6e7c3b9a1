//! The library as a caller uses it: the crate example, one bundle on many
//! threads, batches, situations as JSON, procedure files read in batches.
#![expect(clippy::expect_used, reason = "a test fails loudly on what it did not expect")]

mod common;

use roteiro_engine::Bundle;

/// The example at the top of the engine's documentation, line for line.
#[test]
fn the_crate_example_decides() -> Result<(), Box<dyn std::error::Error>> {
    let bundle = Bundle::load_dir(&common::policies())?;
    let situation = bundle.parse_situation("request:\n  topic: boleto\n", "example.yaml")?;
    let now = chrono::DateTime::parse_from_rfc3339("2026-12-08T10:15:00-03:00")?;
    let decision = bundle.decide(&situation, now)?;
    assert_eq!(decision.outputs["route"], "suporte");
    assert!(decision
        .assumed
        .iter()
        .any(|a| a.fact == "now" && a.value == "08/12/2026 10:15"));
    Ok(())
}

#[test]
fn one_loaded_bundle_decides_on_many_threads_at_once() {
    fn shareable<T: Send + Sync>() {}
    shareable::<Bundle>();
    let bundle = common::shipped();
    let folder = common::root().join("tests/situations");
    let mut paths: Vec<_> = std::fs::read_dir(&folder)
        .expect("corpus")
        .map(|entry| entry.expect("entry").path())
        .collect();
    paths.sort();
    let decide_all = |bundle: &Bundle| -> Vec<String> {
        paths
            .iter()
            .map(|path| {
                let text = std::fs::read(path).expect("read");
                let situation = bundle.parse_situation(&text, "s").expect("valid");
                let decision = bundle.decide(&situation, common::now()).expect("decision");
                serde_json::to_string(&decision).expect("json")
            })
            .collect()
    };
    let expected = decide_all(&bundle);
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..4).map(|_| scope.spawn(|| decide_all(&bundle))).collect();
        for worker in workers {
            assert_eq!(
                worker.join().expect("no panic"),
                expected,
                "same decisions on every thread"
            );
        }
    });
}

/// The decision log stores a situation as JSON written straight from its
/// facts: groups nested (one level and two), every kind of value in the
/// form `decide` reads back, personal facts masked unless kept.
#[test]
fn a_situation_is_written_as_json_that_reads_back_to_the_same_facts() {
    let bundle = common::shipped();
    let text = "now: 2026-12-08T10:15:00-03:00\ncontact: {kind: cliente, name: Maria \"Souza\", phone: '(21) 99999-0000'}\nclient: {plan_active: true}\nbilling: {due_date: 2026-12-05}\nmonitoring: {attempts: 3}\nrequest: {topic: configuracao_balanca, equipment: {model: Toledo Prix 3, manufacturer: Toledo}}\n";
    let situation = bundle.parse_situation(text, "s.yaml").expect("valid");
    let masked: serde_json::Value = serde_json::from_str(&bundle.situation_json(&situation, false)).expect("JSON");
    assert_eq!(
        masked,
        serde_json::json!({
            "now": "2026-12-08T10:15:00-03:00",
            "contact": {"kind": "cliente", "name": "***", "phone": "***"},
            "client": {"plan_active": true},
            "billing": {"due_date": "2026-12-05"},
            "monitoring": {"attempts": 3},
            "request": {"topic": "configuracao_balanca", "equipment": {"manufacturer": "Toledo", "model": "Toledo Prix 3"}}
        })
    );
    let kept = bundle.situation_json(&situation, true);
    let again = bundle.parse_situation(&kept, "s.json").expect("reads back");
    assert_eq!(again.facts, situation.facts);
}

#[test]
fn parallel_work_comes_back_in_the_callers_order() {
    let items: Vec<u64> = (0..1_000).collect();
    let squares = roteiro_engine::in_parallel(&items, |n| n * n);
    assert_eq!(squares, items.iter().map(|n| n * n).collect::<Vec<_>>());
    assert!(roteiro_engine::in_parallel(&[] as &[u64], |n| *n).is_empty());
}

#[test]
fn a_batch_decides_exactly_what_one_by_one_decides() {
    let bundle = common::shipped();
    let mut situations = Vec::new();
    for entry in std::fs::read_dir(common::root().join("tests/situations")).expect("corpus") {
        let text = std::fs::read_to_string(entry.expect("entry").path()).expect("situation");
        situations.push(bundle.parse_situation(&text, "s").expect("valid"));
    }
    let situations: Vec<_> = situations.iter().cycle().take(situations.len() * 4).cloned().collect();
    let one_by_one: Vec<_> = situations.iter().map(|s| bundle.decide(s, common::now())).collect();
    assert_eq!(bundle.decide_batch(&situations, common::now()), one_by_one);
}

/// Procedure files are read a batch of rules at a time; a file whose
/// batches do not read on their own (here an alias to an anchor some
/// 30 KB earlier) is read again whole, with every rule and nothing else.
#[test]
fn a_file_whose_rules_need_each_other_is_read_whole() {
    let p002 = "procedures/002-atendimento-padrao.yaml";
    let bundle = common::edited(p002, |text| {
        text.replacen(
            "    section: Procedimentos de atendimento\n",
            "    section: &primeira Procedimentos de atendimento\n",
            1,
        )
        .replacen("    section: Documentar é preciso\n", "    section: *primeira\n", 1)
    })
    .expect("an alias across the file is valid YAML");
    let shipped = common::shipped();
    assert!(bundle.rule_ids().eq(shipped.rule_ids()));
    let situation = bundle
        .parse_situation("contact:\n  channel: telefone\n", "s")
        .expect("valid");
    let decision = bundle.decide(&situation, common::now()).expect("decides");
    let documentar = decision
        .actions
        .iter()
        .find(|action| action.rule.as_str() == "padrao.documentar.telefone")
        .expect("the last rule fires on a phone call");
    assert_eq!(documentar.source.section.as_str(), "Procedimentos de atendimento");
}

/// A mistake in a late batch is reported where the whole file has it.
#[test]
fn a_mistake_in_a_later_batch_names_its_line_in_the_file() {
    let p002 = "procedures/002-atendimento-padrao.yaml";
    let shipped = common::shipped();
    let text = &shipped
        .files()
        .iter()
        .find(|file| file.path == p002)
        .expect("shipped")
        .text;
    let line = text
        .lines()
        .position(|line| line == "    section: Documentar é preciso")
        .expect("present")
        + 1;
    let err = common::edited(p002, |text| {
        text.replacen(
            "    section: Documentar é preciso\n",
            "    section: Documentar é preciso\n    secao: x\n",
            1,
        )
    })
    .expect_err("an unknown field is an error");
    let problem = &err.problems[0];
    assert_eq!(
        (problem.location.file.as_str(), problem.location.line),
        (p002, Some(line + 1)),
        "{err}"
    );
    assert!(err.to_string().contains("secao"), "{err}");
}

#[test]
fn an_answer_is_read_like_a_situation_and_the_later_wins() {
    let bundle = common::shipped();
    let mut situation = bundle
        .parse_situation("request: {topic: boleto}\n", "caso")
        .expect("valid");
    // Yes/no as an analyst types it, read as the vocabulary says.
    let before = bundle
        .answer(&mut situation, "billing.payment_confirmed", &serde_json::json!("sim"))
        .expect("a declared yes/no");
    assert_eq!(before, None);
    let replaced = bundle
        .answer(&mut situation, "request.topic", &serde_json::json!("xml"))
        .expect("a value of the topic");
    assert_eq!(replaced.map(|value| value.to_json()), Some(serde_json::json!("boleto")));
    let json: serde_json::Value = serde_json::from_str(&bundle.situation_json(&situation, true)).expect("json");
    assert_eq!(json["billing"]["payment_confirmed"], true);
    assert_eq!(json["request"]["topic"], "xml");
    // A moment in any offset is held in the bundle's zone.
    bundle
        .answer(&mut situation, "now", &serde_json::json!("2026-12-08T19:00:00Z"))
        .expect("a moment");
    assert_eq!(
        situation.now().map(|at| at.to_rfc3339()).as_deref(),
        Some("2026-12-08T16:00:00-03:00")
    );
    // Refused as a situation would refuse it, naming the field.
    let wrong = bundle
        .answer(&mut situation, "request.topic", &serde_json::json!("nfe-x"))
        .expect_err("not a topic");
    assert_eq!(wrong.field.as_deref(), Some("request.topic"));
    assert!(bundle
        .answer(&mut situation, "request.nothing", &serde_json::json!(1))
        .is_err());
    assert!(bundle
        .answer(&mut situation, "request", &serde_json::json!({"topic": "xml"}))
        .is_err());
    // null takes the answer back.
    bundle
        .answer(&mut situation, "request.topic", &serde_json::Value::Null)
        .expect("taken back");
    assert!(!situation.facts.contains_key("request.topic"));
}
