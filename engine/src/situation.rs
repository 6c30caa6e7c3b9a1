//! Reading a situation (YAML or JSON) and checking it against the vocabulary.
//!
//! Validation happens inside deserialization (a `DeserializeSeed` that walks
//! the vocabulary), so that the parser attaches the line and column of the
//! offending value to every error, for YAML and JSON alike.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, FixedOffset};
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, Visitor};

use crate::calendar;
use crate::error::{Location, SituationError};
use crate::policy::FactKind;
use crate::vocabulary::{Fact, FactValue, PathKind, Vocabulary, NOW};

/// A validated situation: the facts it gives, by dotted path.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Situation {
    /// Facts given, by path. Absent facts are simply not here.
    pub facts: BTreeMap<String, FactValue>,
    /// Things the reader ignored (unknown fields), in Portuguese.
    pub warnings: Vec<String>,
}

impl Situation {
    /// The moment the situation pins, if any.
    pub fn now(&self) -> Option<DateTime<FixedOffset>> {
        match self.facts.get(NOW) {
            Some(FactValue::DateTime(at)) => Some(*at),
            _ => None,
        }
    }

    /// Pins the moment of the decision (`--now` wins over the file's own).
    pub fn set_now(&mut self, now: DateTime<FixedOffset>) {
        self.facts.insert(NOW.to_string(), FactValue::DateTime(now));
    }

    /// Whether any fact under `group` is given.
    pub fn gives_group(&self, group: &str) -> bool {
        let prefix = format!("{group}.");
        self.facts
            .range(prefix.clone()..)
            .next()
            .is_some_and(|(path, _)| path.starts_with(&prefix))
    }
}

/// What went wrong in a field, kept aside while the parser unwinds.
#[derive(Debug, Default)]
struct Detail {
    field: String,
    found: Option<String>,
    allowed: Option<String>,
    message: String,
}

struct Reader<'v> {
    vocabulary: &'v Vocabulary,
    facts: RefCell<BTreeMap<String, FactValue>>,
    warnings: RefCell<Vec<String>>,
    detail: RefCell<Option<Detail>>,
}

impl<'v> Reader<'v> {
    fn new(vocabulary: &'v Vocabulary) -> Self {
        Self {
            vocabulary,
            facts: RefCell::default(),
            warnings: RefCell::default(),
            detail: RefCell::default(),
        }
    }

    /// The seed that reads the whole situation.
    fn root(&self) -> GroupSeed<'_, 'v> {
        GroupSeed {
            reader: self,
            path: String::new(),
        }
    }

    fn fail<E: de::Error>(&self, detail: Detail) -> E {
        let error = E::custom(format!("campo `{}`: {}", detail.field, detail.message));
        *self.detail.borrow_mut() = Some(detail);
        error
    }

    fn into_error(
        self,
        origin: &str,
        line: Option<usize>,
        column: Option<usize>,
        parser_message: String,
    ) -> SituationError {
        let location = Location {
            file: origin.to_string(),
            line,
            column,
        };
        match self.detail.into_inner() {
            Some(detail) => SituationError {
                location,
                field: Some(detail.field),
                found: detail.found,
                allowed: detail.allowed,
                message: detail.message,
            },
            None => SituationError {
                location,
                field: None,
                found: None,
                allowed: None,
                message: format!("YAML/JSON malformado: {parser_message}"),
            },
        }
    }

    fn finish(self) -> Situation {
        Situation {
            facts: self.facts.into_inner(),
            warnings: self.warnings.into_inner(),
        }
    }
}

/// Reads a situation; JSON when the text starts with `{`, YAML otherwise.
/// `origin` names the input in errors (a file path or `-`).
pub fn parse(text: &str, origin: &str, vocabulary: &Vocabulary) -> Result<Situation, SituationError> {
    let reader = Reader::new(vocabulary);
    let seed = reader.root();
    if text.trim_start().starts_with('{') {
        let mut deserializer = serde_json::Deserializer::from_str(text);
        let result = seed.deserialize(&mut deserializer).and_then(|()| deserializer.end());
        if let Err(err) = result {
            let (line, column) = (err.line(), err.column());
            let known = |n: usize| (n > 0).then_some(n);
            return Err(reader.into_error(origin, known(line), known(column), err.to_string()));
        }
    } else {
        let deserializer = serde_yaml::Deserializer::from_str(text);
        if let Err(err) = seed.deserialize(deserializer) {
            let location = err.location();
            return Err(reader.into_error(
                origin,
                location.as_ref().map(|l| l.line()),
                location.as_ref().map(|l| l.column()),
                err.to_string(),
            ));
        }
    }
    Ok(reader.finish())
}

/// Reads a situation already parsed as YAML (policy tests embed them).
pub fn from_value(
    value: serde_yaml::Value,
    origin: &str,
    vocabulary: &Vocabulary,
) -> Result<Situation, SituationError> {
    let reader = Reader::new(vocabulary);
    let seed = reader.root();
    match seed.deserialize(value) {
        Ok(()) => Ok(reader.finish()),
        Err(err) => Err(reader.into_error(origin, None, None, err.to_string())),
    }
}

fn join(group: &str, key: &str) -> String {
    if group.is_empty() {
        key.to_string()
    } else {
        format!("{group}.{key}")
    }
}

struct GroupSeed<'r, 'v> {
    reader: &'r Reader<'v>,
    path: String,
}

impl<'de> DeserializeSeed<'de> for GroupSeed<'_, '_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl GroupSeed<'_, '_> {
    fn not_a_map<E: de::Error>(&self, found: String) -> E {
        let field = if self.path.is_empty() {
            "(root)".to_string()
        } else {
            self.path.clone()
        };
        let allowed = self
            .reader
            .vocabulary
            .children(&self.path)
            .iter()
            .map(|(name, _)| *name)
            .collect::<Vec<_>>()
            .join(", ");
        self.reader.fail(Detail {
            field,
            found: Some(found),
            allowed: Some(format!("um mapa com os campos {allowed}")),
            message: "esperado um grupo de campos".into(),
        })
    }
}

impl<'de> Visitor<'de> for GroupSeed<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a map of facts")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<String>()? {
            let path = join(&self.path, &key);
            match self.reader.vocabulary.lookup(&path) {
                Some(PathKind::Group) => map.next_value_seed(GroupSeed {
                    reader: self.reader,
                    path,
                })?,
                Some(PathKind::Fact(fact)) => map.next_value_seed(FactSeed {
                    reader: self.reader,
                    fact,
                })?,
                None => {
                    map.next_value::<IgnoredAny>()?;
                    self.reader.warnings.borrow_mut().push(format!(
                        "campo desconhecido `{path}` ignorado (não está no vocabulário)"
                    ));
                }
            }
        }
        Ok(())
    }

    // An empty group (`client:` with nothing under it) gives no facts.
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<(), E> {
        Err(self.not_a_map(format!("`{v}`")))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<(), E> {
        Err(self.not_a_map(format!("`{v}`")))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<(), E> {
        Err(self.not_a_map(format!("`{v}`")))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<(), E> {
        Err(self.not_a_map(format!("`{v}`")))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        Err(self.not_a_map(format!("`{v}`")))
    }
    fn visit_seq<A: de::SeqAccess<'de>>(self, _seq: A) -> Result<(), A::Error> {
        Err(self.not_a_map("uma lista".into()))
    }
}

struct FactSeed<'r, 'v> {
    reader: &'r Reader<'v>,
    fact: &'v Fact,
}

impl<'de> DeserializeSeed<'de> for FactSeed<'_, '_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl FactSeed<'_, '_> {
    fn accept<E: de::Error>(&self, value: FactValue) -> Result<(), E> {
        self.reader.facts.borrow_mut().insert(self.fact.path.clone(), value);
        Ok(())
    }

    fn reject<E: de::Error>(&self, found: String, message: &str) -> E {
        self.reader.fail(Detail {
            field: self.fact.path.clone(),
            found: Some(found),
            allowed: Some(self.fact.allowed()),
            message: message.to_string(),
        })
    }

    fn wrong_type<E: de::Error>(&self, found: String) -> E {
        self.reject(found, "tipo errado")
    }

    fn text<E: de::Error>(&self, v: &str) -> Result<(), E> {
        let value = match self.fact.spec.kind {
            FactKind::Text => FactValue::Text(v.to_string()),
            FactKind::Enum => {
                let allowed = self.fact.spec.values.iter().flatten().any(|value| value == v);
                if !allowed {
                    return Err(self.reject(format!("`{v}`"), "valor desconhecido"));
                }
                FactValue::Text(v.to_string())
            }
            FactKind::Date => FactValue::Date(
                calendar::parse_date(v).map_err(|_| self.reject(format!("`{v}`"), "data impossível ou malformada"))?,
            ),
            FactKind::Datetime => FactValue::DateTime(
                calendar::parse_datetime(v)
                    .map_err(|_| self.reject(format!("`{v}`"), "data e hora impossíveis ou malformadas"))?,
            ),
            FactKind::Bool | FactKind::Integer => return Err(self.wrong_type(format!("texto `{v}`"))),
        };
        self.accept(value)
    }

    fn integer<E: de::Error>(&self, v: i128) -> Result<(), E> {
        match self.fact.spec.kind {
            FactKind::Integer => match i64::try_from(v) {
                Ok(n)
                    if self.fact.spec.minimum.is_none_or(|min| n >= min)
                        && self.fact.spec.maximum.is_none_or(|max| n <= max) =>
                {
                    self.accept(FactValue::Integer(n))
                }
                _ => Err(self.reject(format!("`{v}`"), "número fora do intervalo")),
            },
            // Codes and phone numbers written without quotes are still text.
            FactKind::Text => self.accept(FactValue::Text(v.to_string())),
            _ => Err(self.wrong_type(format!("número `{v}`"))),
        }
    }
}

impl<'de> Visitor<'de> for FactSeed<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.fact.allowed())
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<(), E> {
        if self.fact.spec.kind == FactKind::Bool {
            self.accept(FactValue::Bool(v))
        } else {
            Err(self.wrong_type(format!("booleano `{v}`")))
        }
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<(), E> {
        self.integer(i128::from(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<(), E> {
        self.integer(i128::from(v))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<(), E> {
        Err(self.wrong_type(format!("número decimal `{v}`")))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        self.text(v)
    }
    // `field: ~` or `field: null` means "not given".
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_seq<A: de::SeqAccess<'de>>(self, _seq: A) -> Result<(), A::Error> {
        Err(self.wrong_type("uma lista".into()))
    }
    fn visit_map<A: MapAccess<'de>>(self, _map: A) -> Result<(), A::Error> {
        Err(self.wrong_type("um mapa".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::FactSpec;

    fn vocabulary() -> Vocabulary {
        let spec = |kind, values: Option<&[&str]>| FactSpec {
            kind,
            values: values.map(|v| v.iter().map(|s| s.to_string()).collect()),
            description: String::new(),
            question: String::new(),
            label: None,
            minimum: None,
            maximum: None,
            default: None,
            derive: None,
        };
        Vocabulary::new(BTreeMap::from([
            (
                "client.plan".to_string(),
                spec(FactKind::Enum, Some(&["basico", "prime"])),
            ),
            ("client.code".to_string(), spec(FactKind::Text, None)),
            ("client.plan_active".to_string(), spec(FactKind::Bool, None)),
            ("billing.due_date".to_string(), spec(FactKind::Date, None)),
            ("monitoring.attempts".to_string(), spec(FactKind::Integer, None)),
        ]))
    }

    #[test]
    fn valid_yaml_gives_typed_facts() {
        let text = "client:\n  plan: prime\n  code: 48213\n  plan_active: true\nbilling:\n  due_date: 2026-12-05\n";
        let situation = parse(text, "s.yaml", &vocabulary()).unwrap_or_default();
        assert_eq!(
            situation.facts.get("client.plan"),
            Some(&FactValue::Text("prime".into()))
        );
        assert_eq!(
            situation.facts.get("client.code"),
            Some(&FactValue::Text("48213".into()))
        );
        assert_eq!(situation.facts.get("client.plan_active"), Some(&FactValue::Bool(true)));
        assert!(matches!(
            situation.facts.get("billing.due_date"),
            Some(FactValue::Date(_))
        ));
    }

    #[test]
    fn unknown_enum_value_names_field_found_allowed_and_line() {
        let err = parse("client:\n  plan: gold\n", "s.yaml", &vocabulary()).err();
        let err = err.unwrap_or_else(|| SituationError {
            location: Location::default(),
            field: None,
            found: None,
            allowed: None,
            message: String::new(),
        });
        assert_eq!(err.field.as_deref(), Some("client.plan"));
        assert_eq!(err.found.as_deref(), Some("`gold`"));
        assert_eq!(err.allowed.as_deref(), Some("basico, prime"));
        assert_eq!(err.location.line, Some(2));
    }

    #[test]
    fn json_errors_have_positions_too() {
        let err = parse("{\"client\": {\"plan_active\": \"yes\"}}", "s.json", &vocabulary()).err();
        assert_eq!(
            err.as_ref().and_then(|e| e.field.as_deref()),
            Some("client.plan_active")
        );
        assert_eq!(err.as_ref().and_then(|e| e.location.line), Some(1));
    }

    #[test]
    fn impossible_date_is_an_error() {
        let err = parse("billing:\n  due_date: 2026-02-30\n", "s.yaml", &vocabulary()).err();
        assert_eq!(err.as_ref().and_then(|e| e.field.as_deref()), Some("billing.due_date"));
    }

    #[test]
    fn malformed_yaml_has_no_field_but_a_line() {
        let err = parse("client:\n  code: \"48213\n  plan: prime\n", "s.yaml", &vocabulary()).err();
        assert!(err
            .as_ref()
            .is_some_and(|e| e.field.is_none() && e.location.line.is_some()));
    }

    #[test]
    fn unknown_fields_are_warned_not_fatal() {
        let situation = parse("client:\n  colour: blue\n", "s.yaml", &vocabulary()).unwrap_or_default();
        assert_eq!(situation.warnings.len(), 1);
        assert!(situation.warnings[0].contains("client.colour"));
    }

    #[test]
    fn null_and_empty_mean_absent() {
        let situation = parse("client:\n  plan: ~\nbilling:\n", "s.yaml", &vocabulary()).unwrap_or_default();
        assert!(situation.facts.is_empty());
        assert!(parse("", "s.yaml", &vocabulary()).is_ok());
    }
}
