//! The policy files as written by process owners.
//!
//! These types are the single source of truth for the bundle format: serde
//! reads them (rejecting unknown keys, so a typo is an error, not a silently
//! ignored field) and schemars turns them into the JSON Schemas under
//! `schemas/` that editors use to validate and complete the YAML.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use crate::facts::spec::{FactKind, FactSpec};

/// `bundle.yaml`: what the bundle is and the shape of its decisions.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Short name of the bundle, shown in every decision.
    pub name: String,
    /// Version of the bundle, bumped by the process owner on each publication.
    pub version: String,
    /// What the bundle covers.
    #[serde(default)]
    pub description: Option<String>,
    /// Time zone of `now` when the situation gives none.
    pub timezone: TimezoneSpec,
    /// Ordered phases of a service; actions are listed in this order.
    pub phases: Vec<String>,
    /// Phases whose steps every call repeats (the greeting, the records):
    /// the page docked beside the helpdesk folds them under one line so
    /// this call's own steps lead.
    #[serde(default)]
    pub routine_phases: Vec<String>,
    /// The outputs a decision may set, with their allowed values.
    pub outputs: BTreeMap<String, OutputSpec>,
    /// Bounds on decisions and inputs; each has a default.
    #[serde(default)]
    pub limits: Limits,
    /// Facts an analyst is asked first, before any rule can say what is
    /// missing (a situation with no request yet asks nothing): the channel,
    /// who is calling, the topic. `ask` and the page start with them.
    #[serde(default)]
    pub first_questions: Vec<String>,
    /// Flows a case can be in (`agendamento_io`, `field_desk`...), each with
    /// what it is. A rule belongs to one (`flow`), and a rule that takes
    /// the case elsewhere ends others (`stops`).
    #[serde(default)]
    pub flows: BTreeMap<String, String>,
    /// What `roteiro publish` asks of a version before analysts get it.
    #[serde(default)]
    pub publishing: Publishing,
}

/// The gates a version passes before it is published, and who else must
/// agree to it.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Publishing {
    /// Least share of the rules (0 to 100) some policy test must fire.
    pub coverage_min: f64,
    /// A version published by one owner waits until another owner or an
    /// admin approves it.
    pub approval: bool,
}

impl Default for Publishing {
    fn default() -> Self {
        Self {
            coverage_min: 0.0,
            approval: false,
        }
    }
}

/// Bounds that keep every decision and every input small.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Wall-clock budget of one decision, in milliseconds, on top of Rhai's
    /// operation limit per expression.
    pub decision_ms: u64,
    /// Largest situation read, in bytes; a larger one is refused unread.
    pub situation_bytes: u64,
    /// Longest text fact, in characters, for facts without their own
    /// `max_length`.
    pub text_max_length: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            decision_ms: 50,
            situation_bytes: 1024 * 1024,
            text_max_length: 2_000,
        }
    }
}

/// The bundle's time zone: every moment is read in it.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TimezoneSpec {
    /// IANA name (e.g. `America/Sao_Paulo`); its offsets, past and future,
    /// come from the tz database.
    pub name: String,
}

/// One output of a decision.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OutputSpec {
    /// What the output means.
    pub description: String,
    /// Kind of value.
    #[serde(rename = "type")]
    pub kind: OutputKind,
    /// Allowed values, for `text` outputs with a closed set.
    #[serde(default)]
    pub values: Option<Vec<String>>,
    /// How people call the output (`route`: "Time responsável").
    #[serde(default)]
    pub label: Option<String>,
    /// How people read each of its values (`field_desk`: "Field Desk").
    #[serde(default)]
    pub names: BTreeMap<String, String>,
}

/// Kind of value an output holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum OutputKind {
    /// A string.
    Text,
    /// `true` or `false`.
    Bool,
    /// A calendar date, written `YYYY-MM-DD`.
    Date,
}

/// `parameters.yaml`: the numbers, durations, contacts and names the
/// documents fix, each named once and read by conditions, computed
/// outputs and texts as `param.NAME` (an integer's ordinal in words as
/// `param.NAME.ordinal`: 7 is "sétimo").
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ParametersFile {
    /// The parameters by name (snake_case).
    pub parameters: BTreeMap<String, ParameterSpec>,
}

/// One parameter.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ParameterSpec {
    /// `integer` or `text`.
    #[serde(rename = "type")]
    pub kind: ParameterKind,
    /// Its value.
    #[schemars(with = "serde_json::Value")]
    pub value: serde_yaml::Value,
    /// What it is and where the documents fix it.
    pub description: String,
}

/// Kind of value a parameter holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ParameterKind {
    /// A whole number (days, minutes).
    Integer,
    /// A text (a phone number, a name, a duration as people say it).
    Text,
}

/// `vocabulary.yaml`: every fact a situation may hold.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VocabularyFile {
    /// Facts by dotted path (e.g. `client.plan`).
    pub facts: BTreeMap<String, FactSpec>,
}

/// `catalog.yaml`: names people read, kept in one place.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
pub struct CatalogFile {
    /// Teams a case can go to, by id.
    pub teams: BTreeMap<String, String>,
    /// Macros by id, with their exact names.
    pub macros: BTreeMap<String, String>,
    /// Any other list of names (ticket codes, groups, phones, forms...).
    #[serde(flatten)]
    pub other: BTreeMap<String, BTreeMap<String, String>>,
}

/// `calendar.yaml`: business hours and holidays.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CalendarFile {
    /// Opening hours of each department, by department id.
    pub business_hours: BTreeMap<String, BusinessHours>,
    /// Days nobody works, `YYYY-MM-DD`, with the holiday's name.
    pub holidays: BTreeMap<String, String>,
}

/// When a department is open.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BusinessHours {
    /// Week days it opens: `seg ter qua qui sex sab dom`.
    pub days: Vec<String>,
    /// Opening time, `HH:MM`.
    pub open: String,
    /// Closing time, `HH:MM` (exclusive).
    pub close: String,
    /// Where the hours come from, or that they are an assumption.
    #[serde(default)]
    pub note: Option<String>,
}

/// A file under `procedures/`: the rules of one source document.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProcedureFile {
    /// File name of the source document under `seeds/`.
    pub document: String,
    /// Title of the procedure.
    pub title: String,
    /// Groups of facts (e.g. `request`) a situation must give for the rules
    /// of this file to apply; a rule's own `context` replaces it.
    #[serde(default)]
    pub context: Vec<String>,
    /// Flow (declared in bundle.yaml `flows`) every rule of the file belongs
    /// to unless it names its own.
    #[serde(default)]
    pub flow: Option<String>,
    /// The rules, in reading order.
    pub rules: Vec<RuleSpec>,
}

/// One rule: when its condition holds, it sets outputs and contributes steps.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    /// Unique id across the bundle, e.g. `io.filtro.onboarding`.
    pub id: String,
    /// Section or item of the source document this rule encodes.
    pub section: String,
    /// What the rule does, in a line.
    #[serde(default)]
    pub title: Option<String>,
    /// Groups of facts the situation must give for the rule to apply
    /// (default: the file's `context`). Outside its context a rule neither
    /// fires nor asks for anything.
    #[serde(default)]
    pub context: Option<Vec<String>>,
    /// Rhai condition over the situation; absent means always.
    #[serde(default)]
    pub when: Option<String>,
    /// Phase its actions belong to (one of the manifest's `phases`).
    pub phase: String,
    /// Higher wins when rules set the same output.
    #[serde(default)]
    pub priority: i64,
    /// First-match group: in file order, once one rule of the group fires,
    /// the later rules of the same group are skipped.
    #[serde(default)]
    pub group: Option<String>,
    /// Flow the rule belongs to (default: the file's `flow`).
    #[serde(default)]
    pub flow: Option<String>,
    /// Flows this rule ends when it fires: the case went elsewhere (to
    /// Financeiro, GR, Franchise), so the rules of those flows are not
    /// shown, wherever they sit in the bundle. A rule never ends itself.
    #[serde(default)]
    pub stops: Vec<String>,
    /// Outputs set to fixed values.
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, serde_json::Value>")]
    pub set: BTreeMap<String, serde_yaml::Value>,
    /// Outputs set to the value of a Rhai expression.
    #[serde(default)]
    pub compute: BTreeMap<String, String>,
    /// Steps for the analyst.
    #[serde(default)]
    pub actions: Vec<ActionSpec>,
    /// What to say or send to the client.
    #[serde(default)]
    pub scripts: Vec<ScriptSpec>,
    /// Guidelines to keep in mind (tone, documentation), not steps.
    #[serde(default)]
    pub reminders: Vec<ScriptSpec>,
    /// What must happen later, and when: a procedure that waits (for a
    /// reply, a payment, a week) says so here instead of leaving it to
    /// memory.
    #[serde(default)]
    pub follow_ups: Vec<FollowUpSpec>,
    /// Lint findings silenced on purpose, each with its reason.
    #[serde(default)]
    pub lint_allow: Vec<LintAllow>,
}

/// A lint finding silenced on purpose.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LintAllow {
    /// The lint (`gerundio`, `data`, `prazo`, `marcador`).
    pub lint: String,
    /// Only this action/script/reminder id (default: every text of the rule).
    #[serde(default)]
    pub item: Option<String>,
    /// Why the finding is acceptable here.
    pub reason: String,
}

/// A step for the analyst.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ActionSpec {
    /// Unique id of the step.
    pub id: String,
    /// What to do; `{{ expr }}` placeholders are filled.
    pub text: String,
    /// Team that does it (catalog `teams`).
    #[serde(default)]
    pub team: Option<String>,
    /// Macro to apply (catalog `macros`).
    #[serde(default)]
    pub r#macro: Option<String>,
    /// Extra Rhai condition for this step only.
    #[serde(default)]
    pub when: Option<String>,
    /// Phase, when it differs from the rule's.
    #[serde(default)]
    pub phase: Option<String>,
}

/// Something that must happen later: what, by when, and what closes it.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FollowUpSpec {
    /// Unique id of the follow-up.
    pub id: String,
    /// What to do then; `{{ expr }}` placeholders are filled.
    pub text: String,
    /// Team that does it (catalog `teams`).
    #[serde(default)]
    pub team: Option<String>,
    /// Rhai expression of the moment (or the day) it is due, worked out
    /// with the bundle's calendar: `add_minutes(appointment.starts_at, 5)`,
    /// `add_business_days(billing.paid_on, 5)`. Absent for a wait the
    /// procedure names without a deadline: it stays open, undated, until
    /// `until` holds.
    #[serde(default)]
    pub due: Option<String>,
    /// Rhai condition that closes it once the situation says what it
    /// waited for (`billing.payment_confirmed`); absent, only the day
    /// passing or a person closes it.
    #[serde(default)]
    pub until: Option<String>,
    /// Extra Rhai condition for this follow-up only.
    #[serde(default)]
    pub when: Option<String>,
}

/// A text to say or send (or a reminder).
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScriptSpec {
    /// Unique id of the text.
    pub id: String,
    /// The text; `{{ expr }}` placeholders are filled.
    pub text: String,
    /// Extra Rhai condition for this text only.
    #[serde(default)]
    pub when: Option<String>,
}

/// A file under `tests/`: situations and what the decision must hold.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicyTestFile {
    /// The moment of every case that does not pin its own `now` (RFC 3339).
    /// Time is an input: a case with neither is a failure, not the clock.
    #[serde(default)]
    pub now: Option<String>,
    /// The parameters (`parameters.yaml`) this file's expected dates and
    /// texts follow from, with the values they were written for: when
    /// the bundle's value differs, each failing case says which parameter
    /// moved, so its dates are recomputed rather than hunted for.
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, serde_json::Value>")]
    pub assumes: BTreeMap<String, serde_yaml::Value>,
    /// The cases, run in order.
    pub cases: Vec<PolicyTestCase>,
}

/// One policy test.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicyTestCase {
    /// What the case checks, in words.
    pub name: String,
    /// The situation, as `roteiro decide` reads it; editors check it
    /// against the situation schema generated from the vocabulary.
    #[schemars(schema_with = "situation_reference")]
    pub situation: serde_yaml::Value,
    /// What the decision must hold.
    pub expect: Expectation,
}

/// What a decision must hold; every field is optional.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Expectation {
    /// Outputs that must have exactly these values.
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, serde_json::Value>")]
    pub outputs: BTreeMap<String, serde_yaml::Value>,
    /// Outputs that must not be set.
    #[serde(default)]
    pub unset: Vec<String>,
    /// Action ids that must appear, in this relative order.
    #[serde(default)]
    pub actions: Vec<String>,
    /// Action ids that must not appear.
    #[serde(default)]
    pub no_actions: Vec<String>,
    /// Script ids that must appear.
    #[serde(default)]
    pub scripts: Vec<String>,
    /// Script ids that must not appear.
    #[serde(default)]
    pub no_scripts: Vec<String>,
    /// Pieces of text that must appear in some action, script, reminder or
    /// follow-up.
    #[serde(default)]
    pub texts: Vec<String>,
    /// Pieces of text that must appear nowhere.
    #[serde(default)]
    pub no_texts: Vec<String>,
    /// Follow-up ids that must be open.
    #[serde(default)]
    pub follow_ups: Vec<String>,
    /// Follow-up ids that must not be open (closed, or never due).
    #[serde(default)]
    pub no_follow_ups: Vec<String>,
    /// When follow-ups are due, as people read it (`dd/mm/aaaa` or
    /// `dd/mm/aaaa HH:MM`), by id; `sem prazo` for a wait with no deadline.
    #[serde(default)]
    pub due: BTreeMap<String, String>,
    /// Follow-up ids that must be overdue at the case's moment; every
    /// other follow-up listed in `follow_ups` must not be.
    #[serde(default)]
    pub overdue: Vec<String>,
    /// The missing facts, exactly (order does not matter).
    #[serde(default)]
    pub missing: Option<Vec<String>>,
    /// Facts that must not be asked.
    #[serde(default)]
    pub no_missing: Vec<String>,
    /// Rules that must fire.
    #[serde(default)]
    pub fired: Vec<String>,
}

/// A reference to the situation schema (`schemas/situation.schema.json`,
/// built from the vocabulary), so a policy test's `situation:` is checked
/// in the editor like a situation file.
fn situation_reference(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "$ref": "situation.schema.json",
        "description": "The situation, as `roteiro decide` reads it."
    })
}

/// The writing lints a rule may silence (`lint_allow`), by id, with what
/// each one checks. Part of the policy format, so loading a bundle does not
/// depend on the linter.
pub const LINTS: [(&str, &str); 4] = [
    (
        "gerundio",
        "frase no gerúndio (\"vou estar verificando\"), proibida pelo documento 002",
    ),
    ("data", "data fora do formato dd/mm/aaaa"),
    ("prazo", "promessa de prazo (documento 002, itens 48-49)"),
    ("marcador", "marcador mal formado; use {{ expressão }}"),
];
