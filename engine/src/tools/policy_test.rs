//! Policy tests: situations with what their decision must hold, written in
//! YAML beside the policies, plus the rule coverage they reach.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, FixedOffset};
use serde::Serialize;

use crate::decide::decision::Decision;
use crate::decide::trace::RuleStatus;
use crate::facts::calendar;
use crate::load::error::{BundleError, Problem};
use crate::model::bundle::{Bundle, SourceFile};
use crate::model::policy::{Expectation, PolicyTestFile};
use crate::text::locate::Location;

/// The outcome of one case.
#[derive(Debug, Clone, Serialize)]
pub struct CaseOutcome {
    /// File of the case.
    pub file: String,
    /// Name of the case.
    pub name: String,
    /// What did not match; empty when the case passed.
    pub failures: Vec<String>,
}

impl CaseOutcome {
    /// Whether every expectation held.
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }
}

/// Every case's outcome and the coverage of the bundle's rules.
#[derive(Debug, Clone, Serialize)]
pub struct TestReport {
    /// Outcomes, in file and case order.
    pub cases: Vec<CaseOutcome>,
    /// Rules no case fired.
    pub never_fired: Vec<String>,
    /// Rules whose condition was never false in any case (conditions only).
    pub never_false: Vec<String>,
    /// Percentage of rules fired by at least one case.
    pub coverage: f64,
}

impl TestReport {
    /// Cases that failed.
    pub fn failed(&self) -> usize {
        self.cases.iter().filter(|case| !case.passed()).count()
    }
}

impl Bundle {
    /// Runs the policy tests in `files` (the bundle's own `tests/` when
    /// `files` is `None`). A test file that does not parse is an error.
    ///
    /// Each case decides as of its own `now`, else its file's `now`; `now`
    /// given here overrides both (`roteiro test --now`). A case pinned by
    /// none of them fails: a test must not depend on the hour it runs.
    pub fn run_tests(
        &self,
        files: Option<&[SourceFile]>,
        now: Option<DateTime<FixedOffset>>,
    ) -> Result<TestReport, BundleError> {
        let own: Vec<SourceFile>;
        let files = match files {
            Some(files) => files,
            None => {
                own = self
                    .files
                    .iter()
                    .filter(|f| f.path.starts_with(crate::model::bundle::TESTS))
                    .cloned()
                    .collect();
                &own
            }
        };
        let mut problems = Vec::new();
        let mut cases = Vec::new();
        let mut statuses: BTreeMap<String, BTreeSet<RuleStatus>> = BTreeMap::new();
        for file in files {
            let (parsed, file_now) = match read_test_file(file) {
                Ok(read) => read,
                Err(problem) => {
                    problems.push(problem);
                    continue;
                }
            };
            let moved = match self.moved_parameters(file, &parsed.assumes) {
                Ok(moved) => moved,
                Err(problem) => {
                    problems.push(problem);
                    continue;
                }
            };
            for case in parsed.cases {
                let failures = self.run_case(
                    format!("{} ({})", file.path, case.name),
                    case.situation,
                    &case.expect,
                    now,
                    file_now,
                    &mut statuses,
                );
                let mut failures = match failures {
                    Ok(failures) => failures,
                    Err(failure) => vec![failure],
                };
                if !failures.is_empty() {
                    failures.extend(moved.iter().cloned());
                }
                cases.push(CaseOutcome {
                    file: file.path.clone(),
                    name: case.name,
                    failures,
                });
            }
        }
        if !problems.is_empty() {
            return Err(BundleError { problems });
        }
        Ok(self.report(cases, &statuses))
    }

    /// What each parameter `assumes` names moved to, as a note for the
    /// file's failing cases (none when all hold); an unknown name is a
    /// problem of the file.
    fn moved_parameters(
        &self,
        file: &SourceFile,
        assumes: &BTreeMap<String, serde_yaml::Value>,
    ) -> Result<Vec<String>, Problem> {
        let shown = |value: &serde_yaml::Value| serde_yaml::to_string(value).unwrap_or_default().trim().to_string();
        let mut moved = Vec::new();
        for (name, assumed) in assumes {
            let Some(actual) = self.parameters.yaml(name) else {
                return Err(Problem {
                    location: Location {
                        file: file.path.clone(),
                        line: crate::text::locate::line_of(&file.text, &[("assumes", None), (name.as_str(), None)]),
                        column: None,
                    },
                    item: None,
                    field: Some(format!("assumes.{name}")),
                    message: format!("`{name}` não é um parâmetro de parameters.yaml"),
                    source_line: None,
                });
            };
            if actual != *assumed {
                moved.push(format!(
                    "este arquivo foi escrito com o parâmetro `{name}` = {} (assumes), e o pacote tem {}: refaça as datas e textos que dependem dele",
                    shown(assumed),
                    shown(&actual)
                ));
            }
        }
        Ok(moved)
    }

    /// One case decided: what differs from its expectation, or why it
    /// could not be decided. The moment is the caller's, else the
    /// situation's own, else the file's.
    fn run_case(
        &self,
        origin: String,
        situation: serde_yaml::Value,
        expect: &Expectation,
        now: Option<DateTime<FixedOffset>>,
        file_now: Option<DateTime<FixedOffset>>,
        statuses: &mut BTreeMap<String, BTreeSet<RuleStatus>>,
    ) -> Result<Vec<String>, String> {
        let mut situation = self
            .situation_from_yaml(situation, &origin)
            .map_err(|err| format!("situação inválida: {err}"))?;
        if let Some(at) = now.or(situation.now()).or(file_now) {
            situation.set_now(at);
        }
        let at = situation
            .now()
            .ok_or("o caso não fixa `now` (nem o arquivo): um teste não pode depender da hora em que roda")?;
        let decision = self
            .decide(&situation, at)
            .map_err(|err| format!("erro na regra: {err}"))?;
        for entry in &decision.trace {
            statuses.entry(entry.rule.to_string()).or_default().insert(entry.status);
        }
        Ok(compare(expect, &decision))
    }

    /// The report: the cases, and the rules no case fired or made false.
    fn report(&self, cases: Vec<CaseOutcome>, statuses: &BTreeMap<String, BTreeSet<RuleStatus>>) -> TestReport {
        let has_condition: BTreeSet<&str> = self
            .rules
            .iter()
            .filter(|rule| rule.when.is_some())
            .map(|rule| rule.id.as_str())
            .collect();
        let never_fired: Vec<String> = self
            .rule_ids()
            .filter(|id| !statuses.get(*id).is_some_and(|s| s.contains(&RuleStatus::Fired)))
            .map(str::to_string)
            .collect();
        let never_false: Vec<String> = self
            .rule_ids()
            .filter(|id| has_condition.contains(id))
            .filter(|id| !statuses.get(*id).is_some_and(|s| s.contains(&RuleStatus::NotFired)))
            .map(str::to_string)
            .collect();
        let total = self.rules.len().max(1) as f64;
        let coverage = 100.0 * (self.rules.len() - never_fired.len()) as f64 / total;
        TestReport {
            cases,
            never_fired,
            never_false,
            coverage,
        }
    }
}

/// A policy test file and the moment it pins, or the problem reading it.
fn read_test_file(file: &SourceFile) -> Result<(PolicyTestFile, Option<DateTime<FixedOffset>>), Problem> {
    let parsed: PolicyTestFile = serde_yaml::from_str(&file.text).map_err(|err| {
        let location = err.location();
        Problem {
            location: Location {
                file: file.path.clone(),
                line: location.as_ref().map(|l| l.line()),
                column: location.as_ref().map(|l| l.column()),
            },
            item: None,
            field: None,
            message: crate::load::problems::yaml_error_message(&err),
            source_line: None,
        }
    })?;
    let file_now = parsed
        .now
        .as_deref()
        .map(calendar::parse_datetime)
        .transpose()
        .map_err(|message| Problem {
            location: Location {
                file: file.path.clone(),
                line: crate::text::locate::line_of(&file.text, &[("now", None)]),
                column: None,
            },
            item: None,
            field: Some("now".into()),
            message,
            source_line: None,
        })?;
    Ok((parsed, file_now))
}

fn yaml_to_json(value: &serde_yaml::Value) -> serde_json::Value {
    serde_json::to_value(value).unwrap_or(serde_json::Value::Null)
}

/// Every way `decision` differs from `expect`, in words.
pub fn compare(expect: &Expectation, decision: &Decision) -> Vec<String> {
    let mut failures = Vec::new();
    compare_outputs(expect, decision, &mut failures);
    compare_items(expect, decision, &mut failures);
    compare_texts(expect, decision, &mut failures);
    compare_follow_ups(expect, decision, &mut failures);
    compare_missing_and_fired(expect, decision, &mut failures);
    failures
}

/// Outputs set to the expected values, and outputs left unset.
fn compare_outputs(expect: &Expectation, decision: &Decision, failures: &mut Vec<String>) {
    for (name, wanted) in &expect.outputs {
        let wanted = yaml_to_json(wanted);
        match decision.outputs.get(name) {
            Some(actual) if *actual == wanted => {}
            Some(actual) => failures.push(format!("saída `{name}`: esperado {wanted}, obtido {actual}")),
            None => failures.push(format!("saída `{name}`: esperado {wanted}, mas não foi definida")),
        }
    }
    for name in &expect.unset {
        if let Some(actual) = decision.outputs.get(name) {
            failures.push(format!("saída `{name}`: não devia ser definida, obtido {actual}"));
        }
    }
}

/// Actions in their expected relative order, scripts present, and those
/// that must not appear.
fn compare_items(expect: &Expectation, decision: &Decision, failures: &mut Vec<String>) {
    let action_ids: Vec<&str> = decision.actions.iter().map(|a| a.id.as_str()).collect();
    let mut cursor = 0;
    for wanted in &expect.actions {
        match action_ids[cursor..].iter().position(|id| id == wanted) {
            Some(offset) => cursor += offset + 1,
            None if action_ids.contains(&wanted.as_str()) => failures.push(format!(
                "ação `{wanted}` fora da ordem esperada; ações: {}",
                action_ids.join(", ")
            )),
            None => failures.push(format!("ação `{wanted}` ausente; ações: {}", action_ids.join(", "))),
        }
    }
    for unwanted in &expect.no_actions {
        if action_ids.contains(&unwanted.as_str()) {
            failures.push(format!("ação `{unwanted}` não devia aparecer"));
        }
    }
    let script_ids: Vec<&str> = decision.scripts.iter().map(|s| s.id.as_str()).collect();
    for wanted in &expect.scripts {
        if !script_ids.contains(&wanted.as_str()) {
            failures.push(format!("script `{wanted}` ausente; scripts: {}", script_ids.join(", ")));
        }
    }
    for unwanted in &expect.no_scripts {
        if script_ids.contains(&unwanted.as_str()) {
            failures.push(format!("script `{unwanted}` não devia aparecer"));
        }
    }
}

/// What a policy test writes under `due` for a follow-up with no deadline.
const NO_DEADLINE: &str = "sem prazo";

/// Follow-ups open or not, when they are due, and which are overdue.
fn compare_follow_ups(expect: &Expectation, decision: &Decision, failures: &mut Vec<String>) {
    let open: Vec<&str> = decision.follow_ups.iter().map(|f| f.id.as_str()).collect();
    for wanted in &expect.follow_ups {
        if !open.contains(&wanted.as_str()) {
            failures.push(format!("pendência `{wanted}` ausente; pendências: {}", open.join(", ")));
        }
    }
    for unwanted in &expect.no_follow_ups {
        if open.contains(&unwanted.as_str()) {
            failures.push(format!("pendência `{unwanted}` não devia estar aberta"));
        }
    }
    for (id, wanted) in &expect.due {
        let actual = decision
            .follow_ups
            .iter()
            .find(|f| f.id == *id)
            .map(|f| f.due_text.as_deref());
        match actual {
            Some(Some(actual)) if actual == wanted => {}
            // A wait the procedure gives no deadline.
            Some(None) if wanted == NO_DEADLINE => {}
            Some(Some(actual)) => failures.push(format!("pendência `{id}`: prazo esperado {wanted}, obtido {actual}")),
            Some(None) => failures.push(format!("pendência `{id}`: prazo esperado {wanted}, mas está a definir")),
            None => failures.push(format!("pendência `{id}` ausente (prazo esperado {wanted})")),
        }
    }
    for follow_up in &decision.follow_ups {
        let wanted = expect.overdue.iter().any(|id| *id == follow_up.id.as_str());
        let listed = wanted || expect.follow_ups.iter().any(|id| *id == follow_up.id.as_str());
        if listed && follow_up.overdue != wanted {
            let state = if follow_up.overdue { "atrasada" } else { "em dia" };
            failures.push(format!("pendência `{}` está {state}", follow_up.id));
        }
    }
    for id in &expect.overdue {
        if !open.contains(&id.as_str()) {
            failures.push(format!("pendência `{id}` devia estar atrasada, mas não está aberta"));
        }
    }
}

/// Pieces of text in some action, script or reminder, or in none.
fn compare_texts(expect: &Expectation, decision: &Decision, failures: &mut Vec<String>) {
    let texts: Vec<&str> = decision
        .actions
        .iter()
        .flat_map(|a| std::iter::once(a.text.as_str()).chain(a.r#macro.as_deref()))
        .chain(decision.scripts.iter().map(|s| s.text.as_str()))
        .chain(decision.reminders.iter().map(|s| s.text.as_str()))
        .chain(decision.follow_ups.iter().map(|f| f.text.as_str()))
        .collect();
    for wanted in &expect.texts {
        if !texts.iter().any(|text| text.contains(wanted.as_str())) {
            failures.push(format!(
                "texto «{wanted}» não aparece em nenhuma ação, script, lembrete ou pendência"
            ));
        }
    }
    for unwanted in &expect.no_texts {
        if let Some(text) = texts.iter().find(|text| text.contains(unwanted.as_str())) {
            failures.push(format!("texto «{unwanted}» não devia aparecer, mas está em «{text}»"));
        }
    }
}

/// The missing facts exactly, facts not asked, rules that fired.
fn compare_missing_and_fired(expect: &Expectation, decision: &Decision, failures: &mut Vec<String>) {
    if let Some(wanted) = &expect.missing {
        let wanted: BTreeSet<&str> = wanted.iter().map(String::as_str).collect();
        let actual: BTreeSet<&str> = decision.missing.iter().map(|m| m.fact.as_str()).collect();
        if wanted != actual {
            let show = |set: &BTreeSet<&str>| set.iter().copied().collect::<Vec<_>>().join(", ");
            failures.push(format!(
                "fatos faltantes: esperado [{}], obtido [{}]",
                show(&wanted),
                show(&actual)
            ));
        }
    }
    for unwanted in &expect.no_missing {
        if decision.missing.iter().any(|m| m.fact == *unwanted) {
            failures.push(format!("o fato `{unwanted}` não devia ser perguntado"));
        }
    }
    for rule in &expect.fired {
        if !decision.trace.iter().any(|entry| entry.rule == *rule && entry.fired) {
            failures.push(format!("regra `{rule}` devia disparar"));
        }
    }
}
