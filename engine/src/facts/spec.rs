//! A fact as `vocabulary.yaml` declares it: its kind, its values, how it
//! is asked and shown, its default or derivation.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// One fact of the vocabulary.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FactSpec {
    /// Kind of value.
    #[serde(rename = "type")]
    pub kind: FactKind,
    /// Allowed values of an `enum` fact.
    #[serde(default)]
    pub values: Option<Vec<String>>,
    /// What the fact means.
    pub description: String,
    /// The question an analyst asks when the fact is missing (Portuguese).
    pub question: String,
    /// How a text names the fact while it is unknown, e.g. `nome do cliente`.
    #[serde(default)]
    pub label: Option<String>,
    /// How people read each value of an `enum` fact (`nao_cliente: Não
    /// cliente`): the page, `ask`, the text output and conditions in words
    /// show these names; rules and situations keep the values.
    #[serde(default)]
    pub names: BTreeMap<String, String>,
    /// Values of an `enum` fact no rule needs to name, because they take
    /// the general path (`nenhum` of a receipt): `check --strict` warns of
    /// a value no rule names while its siblings are named, unless it is
    /// listed here.
    #[serde(default)]
    pub no_rule: Vec<String>,
    /// How the page and `ask` offer the values of a long `enum`: sections
    /// in this order, each with a title and its values (offered sorted by
    /// display name). When given, every value is in exactly one section.
    #[serde(default)]
    pub menu: Vec<MenuSection>,
    /// Smallest value of an `integer` fact.
    #[serde(default)]
    pub minimum: Option<i64>,
    /// Largest value of an `integer` fact.
    #[serde(default)]
    pub maximum: Option<i64>,
    /// Longest value of a `text` fact, in characters (default: the
    /// manifest's `limits.text_max_length`).
    #[serde(default)]
    pub max_length: Option<usize>,
    /// Value assumed when the situation does not give the fact: for flags of
    /// exceptions (`request.asks_deadline`) that are false unless someone
    /// says otherwise. An assumed fact is never missing; the decision lists
    /// it under `assumed`.
    #[serde(default)]
    #[schemars(with = "Option<serde_json::Value>")]
    pub default: Option<serde_yaml::Value>,
    /// Rhai expression computing the fact when the situation does not give it.
    #[serde(default)]
    pub derive: Option<String>,
    /// Identifies a person or a client (a name, a phone, a client code):
    /// masked in the decision log unless `--log-personal` is given.
    #[serde(default)]
    pub personal: bool,
    /// Nice to show but not needed to act: a text reading it while it is
    /// absent shows its label in brackets without asking for it. Any other
    /// fact a shown text needs is asked (`missing`).
    #[serde(default)]
    pub optional: bool,
    /// Who is logged in: `roteiro serve` fills it with the name of the
    /// session's (or the token's) owner when the situation does not give
    /// it, so it is never asked of someone logged in.
    #[serde(default)]
    pub from_login: bool,
}

/// One section of an `enum` fact's menu (`Equipamentos`: the
/// equipment topics).
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MenuSection {
    /// What the values of the section have in common, as the analyst reads it.
    pub title: String,
    /// The values it offers.
    pub values: Vec<String>,
}

/// Kind of value a fact holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FactKind {
    /// `true` or `false`.
    Bool,
    /// Free text.
    Text,
    /// One of the listed `values`.
    Enum,
    /// A whole number.
    Integer,
    /// A calendar date, `YYYY-MM-DD`.
    Date,
    /// An instant, RFC 3339 (`2026-12-08T10:15:00-03:00`).
    Datetime,
}
