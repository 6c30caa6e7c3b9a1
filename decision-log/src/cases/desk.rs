//! Working a case with a bundle: open it on a first situation, merge the
//! answers that come (the later wins, before and after kept in the
//! history), decide again with the bundle in force, and keep the case's
//! follow-ups in step with each decision.

use chrono::{DateTime, FixedOffset};
use roteiro_engine::{Bundle, DecideError, Decision, Situation, SituationError};
use serde_json::Value;

use crate::cases::store::{Case, CaseError, CaseEvent, CaseFollowUp, Cases};
use crate::{decide_and_record, Recorder};

/// A case as it stands after a decision: the case, the decision made on it
/// now, and its open follow-ups, soonest first.
#[derive(Debug)]
pub struct CaseView {
    /// The case.
    pub case: Case,
    /// The decision on its situation, with the bundle in force.
    pub decision: Decision,
    /// Its open follow-ups.
    pub open: Vec<CaseFollowUp>,
    /// Everything that happened to it, oldest first (each decision with
    /// the digest of the bundle that made it).
    pub history: Vec<CaseEvent>,
    /// Whether the decision log holds this decision as its durability
    /// promises, once the writer says: settled `true` for a read, which
    /// records nothing, and when there is no log.
    pub receipt: crate::Receipt,
}

/// Why a case could not be worked: the case, or the situation it holds.
#[derive(Debug, thiserror::Error)]
pub enum DeskError {
    /// The case could not be read or changed.
    #[error(transparent)]
    Case(#[from] CaseError),
    /// The situation (or an answer) does not fit the vocabulary.
    #[error(transparent)]
    Situation(#[from] SituationError),
    /// A rule failed while deciding.
    #[error(transparent)]
    Decide(#[from] DecideError),
    /// An answer is not `fact=value`.
    #[error("resposta inválida `{0}`: use fato=valor, por exemplo billing.payment_confirmed=sim")]
    Answer(String),
    /// An answer names a fact the vocabulary does not declare.
    #[error("resposta a um fato desconhecido `{0}`: responda fatos do vocabulário, como billing.payment_confirmed")]
    UnknownFact(String),
}

/// A bundle and a case store, working cases together.
pub struct CaseDesk<'b> {
    /// The bundle that decides.
    pub bundle: &'b Bundle,
    /// Where the cases are.
    pub cases: Cases,
    /// Where the decisions that change a case are recorded, like any other
    /// decision (`origin` "caso"), so stats and diffs see them.
    pub log: Option<&'b dyn Recorder>,
    /// Who is logged in, when someone is: fills the facts the vocabulary
    /// marks `from_login` in the decisions made for them, never in the
    /// case, which other analysts read too.
    pub signed_in: Option<String>,
}

impl CaseDesk<'_> {
    /// Opens the case of `ticket` on `situation` (text, YAML or JSON).
    pub fn open(
        &mut self,
        ticket: &str,
        situation: &str,
        origin: &str,
        by: Option<&str>,
        now: DateTime<FixedOffset>,
    ) -> Result<CaseView, DeskError> {
        let now = self.bundle.local(&now);
        let given = self.bundle.parse_situation(situation, origin)?;
        let by = who(by, &given);
        let json = self.bundle.situation_json(&given, true);
        self.cases.open_case(ticket, &json, &by, &now.to_rfc3339())?;
        self.decide(ticket, &by, now)
    }

    /// The case as it stands now, decided again with the bundle in force
    /// as of `now`. A read: nothing is recorded, in the case or the log.
    pub fn show(&mut self, ticket: &str, now: DateTime<FixedOffset>) -> Result<CaseView, DeskError> {
        let now = self.bundle.local(&now);
        let case = self.found(ticket)?;
        let decision = self.bundle.decide(&self.deciding(&case)?, now)?;
        Ok(CaseView {
            open: self.cases.follow_ups(ticket, true)?,
            history: self.cases.events(ticket)?,
            case,
            decision,
            receipt: crate::Receipt::settled(true),
        })
    }

    /// Sets `fact=value` answers on the case, made on `version` (else the
    /// version it reads now), and decides again.
    pub fn answer(
        &mut self,
        ticket: &str,
        answers: &[String],
        version: Option<i64>,
        by: Option<&str>,
        now: DateTime<FixedOffset>,
    ) -> Result<CaseView, DeskError> {
        let values = answers
            .iter()
            .map(|answer| {
                let (path, raw) = answer
                    .split_once('=')
                    .ok_or_else(|| DeskError::Answer(answer.chars().take(80).collect()))?;
                // `sim`, `3`, `2026-12-08` read as YAML reads them; anything else is text.
                let value = serde_yaml::from_str(raw).unwrap_or_else(|_| Value::String(raw.to_string()));
                Ok((path.trim().to_string(), value))
            })
            .collect::<Result<Vec<_>, DeskError>>()?;
        self.answer_values(ticket, &values, version, by, now)
    }

    /// Sets answers given as values (`billing.payment_confirmed` = `true`)
    /// on the case, made on `version` (else the version it reads now), and
    /// decides again.
    pub fn answer_values(
        &mut self,
        ticket: &str,
        answers: &[(String, Value)],
        version: Option<i64>,
        by: Option<&str>,
        now: DateTime<FixedOffset>,
    ) -> Result<CaseView, DeskError> {
        let now = self.bundle.local(&now);
        let case = self.found(ticket)?;
        let mut given = self.situation(&case)?;
        // Each answer read as the vocabulary says (the later wins), its
        // before and after kept for the history.
        let mut changes = serde_json::Map::new();
        for (path, value) in answers {
            let before = self.bundle.answer(&mut given, path, value).map_err(|err| {
                if self.bundle.vocabulary().fact(path).is_none() {
                    DeskError::UnknownFact(path.chars().take(80).collect())
                } else {
                    DeskError::Situation(err)
                }
            })?;
            let after = given
                .facts
                .get(path.as_str())
                .map_or(Value::Null, |value| value.to_json());
            let before = before.map_or(Value::Null, |value| value.to_json());
            changes.insert(path.clone(), serde_json::json!({ "antes": before, "depois": after }));
        }
        let changes = Value::Object(changes);
        let by = who(by, &given);
        let json = self.bundle.situation_json(&given, true);
        let version = version.unwrap_or(case.version);
        self.cases
            .answer(ticket, version, &json, &changes.to_string(), &by, &now.to_rfc3339())?;
        self.decide(ticket, &by, now)
    }

    fn found(&mut self, ticket: &str) -> Result<Case, CaseError> {
        self.cases
            .case(ticket)?
            .ok_or_else(|| CaseError::NotFound(ticket.to_string()))
    }

    fn situation(&self, case: &Case) -> Result<Situation, SituationError> {
        self.bundle
            .parse_situation(&case.situation, &format!("caso {}", case.ticket))
    }

    /// The case's situation as decided for who asks: with their name
    /// where the vocabulary fills it from the login.
    fn deciding(&self, case: &Case) -> Result<Situation, SituationError> {
        let mut given = self.situation(case)?;
        if let Some(name) = &self.signed_in {
            self.bundle.sign_in(&mut given, name)?;
        }
        Ok(given)
    }

    /// Decides the case as it is after a change, records the decision
    /// (with the bundle's digest) in its history and in the decision log,
    /// and makes its follow-ups the decision's.
    fn decide(&mut self, ticket: &str, by: &str, now: DateTime<FixedOffset>) -> Result<CaseView, DeskError> {
        // Recorded and shown as the bundle's zone reads it.
        let now = self.bundle.local(&now);
        let case = self.found(ticket)?;
        let given = self.deciding(&case)?;
        let decided = match self.log {
            Some(log) => decide_and_record(self.bundle, &given, now, "caso", log)?,
            None => decide_and_record(self.bundle, &given, now, "caso", &None::<crate::CommandLog>)?,
        };
        let decision = decided.decision;
        if case.closed_at.is_none() {
            let follow_ups: Vec<CaseFollowUp> = decision
                .follow_ups
                .iter()
                .map(|f| CaseFollowUp {
                    ticket: ticket.to_string(),
                    id: f.id.to_string(),
                    text: f.text.to_string(),
                    team: f.team.as_ref().map(ToString::to_string),
                    due: f.due.clone(),
                    due_text: f.due_text.clone(),
                    until: f.until.as_ref().map(ToString::to_string),
                    rule: f.rule.to_string(),
                    closed: None,
                })
                .collect();
            let detail = serde_json::json!({
                "bundle": decision.bundle,
                "outputs": decision.outputs,
                "missing": decision.missing.iter().map(|m| m.fact.to_string()).collect::<Vec<_>>(),
            });
            self.cases
                .record_decision(ticket, &detail.to_string(), &follow_ups, by, &now.to_rfc3339())?;
        }
        Ok(CaseView {
            case: self.found(ticket)?,
            open: self.cases.follow_ups(ticket, true)?,
            history: self.cases.events(ticket)?,
            decision,
            receipt: decided.receipt,
        })
    }
}

/// Who is answering: the one named, else the situation's analyst.
fn who(by: Option<&str>, situation: &Situation) -> String {
    by.map(str::to_string)
        .unwrap_or_else(|| match situation.facts.get("analyst.name") {
            Some(roteiro_engine::FactValue::Text(name)) => name.to_string(),
            _ => "não informado".to_string(),
        })
}
