//! The facts a situation may hold, as the bundle declares them.
//!
//! Paths are dotted (`request.equipment.model`); every proper prefix of a
//! fact path is a group (`request`, `request.equipment`).

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, FixedOffset, NaiveDate};

use crate::facts::calendar;
use crate::facts::shared::Shared;
use crate::facts::spec::{FactKind, FactSpec};

/// The reserved fact holding the moment of the decision.
pub const NOW: &str = "now";

/// A fact's value, once validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FactValue {
    /// `bool` facts.
    Bool(bool),
    /// `integer` facts.
    Integer(i64),
    /// `text` and `enum` facts (shared: every decision reads the same
    /// text without copying it).
    Text(Shared),
    /// `date` facts.
    Date(NaiveDate),
    /// `datetime` facts.
    DateTime(DateTime<FixedOffset>),
}

impl FactValue {
    /// The value as a situation's JSON holds it (dates `YYYY-MM-DD`,
    /// moments in RFC 3339).
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Self::Bool(flag) => serde_json::Value::Bool(*flag),
            Self::Integer(n) => serde_json::Value::from(*n),
            Self::Text(text) => serde_json::Value::from(text.to_string()),
            Self::Date(date) => serde_json::Value::from(date.format("%Y-%m-%d").to_string()),
            Self::DateTime(at) => serde_json::Value::from(at.to_rfc3339()),
        }
    }

    /// The value as people read it (dates as dd/mm/yyyy).
    pub fn display(&self) -> String {
        match self {
            Self::Bool(true) => "sim".into(),
            Self::Bool(false) => "não".into(),
            Self::Integer(n) => n.to_string(),
            Self::Text(text) => text.to_string(),
            Self::Date(date) => calendar::format_date(*date),
            Self::DateTime(at) => calendar::format_datetime(*at),
        }
    }
}

/// One declared fact.
#[derive(Debug, Clone)]
pub struct Fact {
    /// Dotted path.
    pub path: String,
    /// The declaration as written in `vocabulary.yaml`: read through the
    /// methods below, so the file's format is not the library's surface.
    pub(crate) spec: FactSpec,
    /// The checked `default`, if any.
    pub default: Option<FactValue>,
    /// Its position among all facts in path order: its slot in a
    /// decision's fact table.
    pub(crate) slot: usize,
}

impl Fact {
    /// The kind of value it holds.
    pub fn kind(&self) -> FactKind {
        self.spec.kind
    }

    /// How people read `value` of this fact: its display name
    /// (`vocabulary.yaml`, `names`), else the value with spaces for
    /// underscores.
    pub fn value_name(&self, value: &str) -> String {
        self.spec
            .names
            .get(value)
            .cloned()
            .unwrap_or_else(|| value.replace('_', " "))
    }

    /// The display names of its values, as declared.
    pub fn value_names(&self) -> &BTreeMap<String, String> {
        &self.spec.names
    }

    /// The values of an `enum` fact as they are offered: the menu's
    /// sections in order, each sorted by display name; one untitled
    /// section in the declared order when the vocabulary gives no menu.
    pub fn menu(&self) -> Vec<Choices<'_>> {
        if self.spec.menu.is_empty() {
            return vec![Choices {
                title: None,
                values: self.values().iter().map(String::as_str).collect(),
            }];
        }
        (self.spec.menu.iter())
            .map(|section| {
                let mut values: Vec<&str> = section.values.iter().map(String::as_str).collect();
                values.sort_by_cached_key(|value| plain(&self.value_name(value)));
                Choices {
                    title: Some(&section.title),
                    values,
                }
            })
            .collect()
    }

    /// The values of an `enum` fact (empty for the others).
    pub fn values(&self) -> &[String] {
        self.spec.values.as_deref().unwrap_or_default()
    }

    /// The question an analyst asks when it is missing.
    pub fn question(&self) -> &str {
        &self.spec.question
    }

    /// What it means.
    pub fn description(&self) -> &str {
        &self.spec.description
    }

    /// The name the vocabulary gives it for texts, if it gives one.
    pub fn declared_label(&self) -> Option<&str> {
        self.spec.label.as_deref()
    }

    /// Computed from other facts, never asked.
    pub fn derived(&self) -> bool {
        self.spec.derive.is_some()
    }

    /// The bounds of an `integer` fact.
    pub fn bounds(&self) -> (Option<i64>, Option<i64>) {
        (self.spec.minimum, self.spec.maximum)
    }

    /// The longest text it takes, when the vocabulary bounds it itself.
    pub fn max_length(&self) -> Option<usize> {
        self.spec.max_length
    }

    /// Identifies a person or a client: masked in the log.
    pub fn personal(&self) -> bool {
        self.spec.personal
    }

    /// Filled with the logged-in person's name by the service.
    pub fn filled_from_login(&self) -> bool {
        self.spec.from_login
    }

    /// Every value an unknown fact is tried with when deciding whether it
    /// matters (booleans and enums); empty for the others.
    pub fn domain(&self) -> Vec<FactValue> {
        match self.spec.kind {
            FactKind::Bool => vec![FactValue::Bool(true), FactValue::Bool(false)],
            FactKind::Enum => self
                .spec
                .values
                .iter()
                .flatten()
                .map(|value| FactValue::Text(value.into()))
                .collect(),
            _ => Vec::new(),
        }
    }

    /// How a text names the fact while it is unknown.
    pub fn label(&self) -> String {
        format!("[{}]", self.spec.label.as_deref().unwrap_or(&self.path))
    }

    /// The allowed values, in words, for error messages.
    pub fn allowed(&self) -> String {
        match self.spec.kind {
            FactKind::Bool => "true ou false (ou sim / não)".into(),
            FactKind::Text => "texto".into(),
            FactKind::Integer => match (self.spec.minimum, self.spec.maximum) {
                (Some(min), Some(max)) => format!("um número inteiro de {min} a {max}"),
                (Some(min), None) => format!("um número inteiro a partir de {min}"),
                (None, Some(max)) => format!("um número inteiro até {max}"),
                (None, None) => "um número inteiro".into(),
            },
            FactKind::Date => "uma data AAAA-MM-DD".into(),
            FactKind::Datetime => "data e hora em RFC 3339, por exemplo 2026-12-08T10:15:00-03:00".into(),
            FactKind::Enum => self
                .spec
                .values
                .iter()
                .flatten()
                .cloned()
                .collect::<Vec<_>>()
                .join(", "),
        }
    }
}

/// One section of the values an `enum` fact offers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choices<'a> {
    /// The section's title (`Equipamentos`), if the vocabulary groups them.
    pub title: Option<&'a str>,
    /// Its values, in the order they are offered.
    pub values: Vec<&'a str>,
}

/// A text with case and accents set aside, to sort and search names as a
/// Portuguese reader expects ("Ábaco" before "baixa"; "duvida" finds
/// "Dúvida").
pub fn plain(name: &str) -> String {
    name.to_lowercase()
        .chars()
        .map(|c| match c {
            'á' | 'à' | 'â' | 'ã' | 'ä' => 'a',
            'é' | 'ê' | 'è' => 'e',
            'í' | 'î' => 'i',
            'ó' | 'ô' | 'õ' | 'ö' => 'o',
            'ú' | 'ü' => 'u',
            'ç' => 'c',
            other => other,
        })
        .collect()
}

/// Checks a `default` against its fact's kind.
pub fn default_value(spec: &FactSpec, value: &serde_yaml::Value) -> Result<FactValue, String> {
    use serde_yaml::Value as Y;
    match (spec.kind, value) {
        (FactKind::Bool, Y::Bool(flag)) => Ok(FactValue::Bool(*flag)),
        (FactKind::Integer, Y::Number(n)) => n
            .as_i64()
            .map(FactValue::Integer)
            .ok_or_else(|| format!("`{n}` não é um número inteiro")),
        (FactKind::Text, Y::String(text)) => Ok(FactValue::Text(text.into())),
        (FactKind::Enum, Y::String(text)) if spec.values.iter().flatten().any(|v| v == text) => {
            Ok(FactValue::Text(text.into()))
        }
        (FactKind::Date, Y::String(text)) => calendar::parse_date(text).map(FactValue::Date),
        (FactKind::Datetime, Y::String(text)) => calendar::parse_datetime(text).map(FactValue::DateTime),
        (kind, other) => Err(format!(
            "o padrão `{}` não serve para um fato {kind:?}",
            serde_yaml::to_string(other).unwrap_or_default().trim()
        )),
    }
}

/// What a dotted path names.
#[derive(Debug, Clone, Copy)]
pub enum PathKind<'a> {
    /// A declared fact.
    Fact(&'a Fact),
    /// A prefix of declared facts.
    Group,
}

/// All declared facts, looked up by path.
#[derive(Debug, Clone, Default)]
pub struct Vocabulary {
    facts: BTreeMap<String, Fact>,
    groups: BTreeSet<String>,
    /// Top-level names and whether each is a group; every evaluation puts
    /// them in its Rhai scope, so they are worked out once.
    roots: Vec<(String, bool)>,
    /// Paths of the facts marked `personal`: a handful, checked for every
    /// fact of every logged situation, so a scan beats a tree lookup.
    personal: Vec<String>,
}

impl Vocabulary {
    /// Gives every text fact without its own `max_length` this one.
    pub fn with_text_max_length(mut self, length: usize) -> Self {
        for fact in self.facts.values_mut() {
            if fact.spec.kind == FactKind::Text && fact.spec.max_length.is_none() {
                fact.spec.max_length = Some(length);
            }
        }
        self
    }

    /// Builds the lookup tables from checked declarations.
    pub(crate) fn new(specs: BTreeMap<String, FactSpec>) -> Self {
        let mut groups = BTreeSet::new();
        let mut facts = BTreeMap::new();
        for (path, spec) in specs {
            let mut prefix = String::new();
            for segment in path
                .split('.')
                .collect::<Vec<_>>()
                .split_last()
                .map(|(_, rest)| rest)
                .unwrap_or(&[])
            {
                if !prefix.is_empty() {
                    prefix.push('.');
                }
                prefix.push_str(segment);
                groups.insert(prefix.clone());
            }
            let default = spec.default.as_ref().and_then(|value| default_value(&spec, value).ok());
            facts.insert(
                path.clone(),
                Fact {
                    path,
                    spec,
                    default,
                    slot: 0,
                },
            );
        }
        for (slot, fact) in facts.values_mut().enumerate() {
            fact.slot = slot;
        }
        let personal = facts
            .values()
            .filter(|fact| fact.spec.personal)
            .map(|fact| fact.path.clone())
            .collect();
        let mut vocabulary = Self {
            facts,
            groups,
            roots: Vec::new(),
            personal,
        };
        vocabulary.roots = vocabulary
            .children("")
            .into_iter()
            .map(|(name, is_group)| (name.to_string(), is_group))
            .collect();
        vocabulary
    }

    /// What `path` names, if anything.
    pub fn lookup(&self, path: &str) -> Option<PathKind<'_>> {
        if let Some(fact) = self.facts.get(path) {
            Some(PathKind::Fact(fact))
        } else if self.groups.contains(path) {
            Some(PathKind::Group)
        } else {
            None
        }
    }

    /// The declared fact at `path`.
    pub fn fact(&self, path: &str) -> Option<&Fact> {
        self.facts.get(path)
    }

    /// Whether the fact at `path` is marked `personal`.
    pub(crate) fn is_personal(&self, path: &str) -> bool {
        self.personal.iter().any(|personal| personal == path)
    }

    /// A fact's position among all facts in path order: its slot in a
    /// decision's fact table.
    pub(crate) fn slot(&self, path: &str) -> Option<usize> {
        self.facts.get(path).map(|fact| fact.slot)
    }

    /// How many facts there are (the size of a fact table).
    pub(crate) fn len(&self) -> usize {
        self.facts.len()
    }

    /// Facts in path order, for building a fact table alongside.
    pub(crate) fn paths(&self) -> impl Iterator<Item = &String> {
        self.facts.keys()
    }

    /// Every fact, by path.
    pub fn facts(&self) -> impl Iterator<Item = &Fact> {
        self.facts.values()
    }

    /// Top-level names a condition may start from (`client`, `now`...),
    /// each with whether it is a group.
    pub fn roots(&self) -> &[(String, bool)] {
        &self.roots
    }

    /// Direct children of a group, as `(segment, is_group)`.
    pub fn children(&self, group: &str) -> Vec<(&str, bool)> {
        let prefix = if group.is_empty() {
            String::new()
        } else {
            format!("{group}.")
        };
        let mut out: BTreeMap<&str, bool> = BTreeMap::new();
        for path in self.facts.keys() {
            if let Some(rest) = path.strip_prefix(&prefix) {
                match rest.split_once('.') {
                    Some((head, _)) => {
                        out.insert(head, true);
                    }
                    None => {
                        out.entry(rest).or_insert(false);
                    }
                }
            }
        }
        out.into_iter().collect()
    }
}
