//! Reading a situation (YAML or JSON) and checking it against the vocabulary.
//!
//! Validation happens inside deserialization (a `DeserializeSeed` that walks
//! the vocabulary), so that the parser attaches the line and column of the
//! offending value to every error, for YAML and JSON alike.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, FixedOffset};
use serde::de::{self, Deserialize, DeserializeSeed, IgnoredAny, MapAccess, Visitor};

use crate::decide::error::SituationError;
use crate::model::calendar;
use crate::model::policy::FactKind;
use crate::model::vocabulary::{Fact, FactValue, PathKind, Vocabulary, NOW};
use crate::text::input;
use crate::text::locate::Location;
use crate::text::suggest;

/// A validated situation: the facts it gives, by dotted path.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Situation {
    /// Where it was read from (a file path, `-`), for error messages.
    pub origin: String,
    /// Facts given, by path. Absent facts are simply not here. Shared, so
    /// a decision reads them without copying them.
    pub facts: Arc<BTreeMap<String, FactValue>>,
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
        Arc::make_mut(&mut self.facts).insert(NOW.to_string(), FactValue::DateTime(now));
    }

    /// Whether any fact under `group` is given.
    pub fn gives_group(&self, group: &str) -> bool {
        // Paths starting with `group` sort together right after it; one of
        // them continuing with a dot is under the group. No allocation: a
        // decision asks this for every rule with a context.
        self.facts
            .range::<str, _>((std::ops::Bound::Excluded(group), std::ops::Bound::Unbounded))
            .map(|(path, _)| path)
            .take_while(|path| path.starts_with(group))
            .any(|path| path.as_bytes().get(group.len()) == Some(&b'.'))
    }
}

/// How a situation is read: against which vocabulary, how large, and
/// whether unknown fields are errors (the default) or warnings.
pub struct Reading<'v> {
    /// The bundle's facts.
    pub vocabulary: &'v Vocabulary,
    /// Largest text accepted, in bytes.
    pub limit: u64,
    /// Unknown fields are warnings instead of errors.
    pub lenient: bool,
}

/// What went wrong in a field, kept aside while the parser unwinds.
#[derive(Debug, Default)]
struct Detail {
    field: String,
    found: Option<String>,
    allowed: Option<String>,
    message: String,
    /// A refused key (unknown or repeated): its line is looked up in the
    /// text afterwards.
    key: Option<String>,
    /// The key was given twice.
    duplicate: bool,
}

struct Reader<'v> {
    vocabulary: &'v Vocabulary,
    lenient: bool,
    facts: RefCell<BTreeMap<String, FactValue>>,
    warnings: RefCell<Vec<String>>,
    detail: RefCell<Option<Detail>>,
}

/// A value as an error message shows it: quoted, and cut when long, so a
/// 1 MB text is not echoed back.
fn shown(value: &str) -> String {
    const MAX: usize = 60;
    if value.chars().count() <= MAX {
        format!("`{value}`")
    } else {
        format!(
            "`{}…` ({} caracteres)",
            value.chars().take(MAX).collect::<String>(),
            value.chars().count()
        )
    }
}

impl<'v> Reader<'v> {
    fn new(vocabulary: &'v Vocabulary, lenient: bool) -> Self {
        Self {
            vocabulary,
            lenient,
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
        text: Option<(&str, bool)>,
        line: Option<usize>,
        column: Option<usize>,
        parser_message: &str,
    ) -> SituationError {
        let mut location = Location {
            file: origin.to_string(),
            line,
            column,
        };
        match self.detail.into_inner() {
            Some(mut detail) => {
                if let (Some(key), Some((text, json)), Some(line)) = (&detail.key, text, line) {
                    let (at, first) = locate_key(text, key, line, json, detail.duplicate);
                    if at.is_some() {
                        location.line = at;
                        location.column = None;
                    }
                    if detail.duplicate {
                        let first = first.map_or_else(String::new, |first| format!(" (a primeira na linha {first})"));
                        detail.message = format!("chave `{key}` repetida{first}; cada campo aparece uma vez só");
                    }
                }
                SituationError {
                    location,
                    field: Some(detail.field),
                    found: detail.found,
                    allowed: detail.allowed,
                    message: detail.message,
                }
            }
            None => malformed(location, parser_message),
        }
    }

    fn finish(self, origin: &str) -> Situation {
        Situation {
            origin: origin.to_string(),
            facts: Arc::new(self.facts.into_inner()),
            warnings: self.warnings.into_inner(),
        }
    }
}

/// A syntax error: where, and what the parser found, in Portuguese.
fn malformed(location: Location, parser_message: &str) -> SituationError {
    SituationError {
        location,
        field: None,
        found: None,
        allowed: None,
        message: format!("YAML/JSON malformado: {}", input::syntax_message(parser_message)),
    }
}

/// Lines (1-based) where `key` is written as a key: `key:` in YAML,
/// `"key":` in JSON, at the start of a line or inside a flow map.
fn key_lines(text: &str, key: &str) -> Vec<usize> {
    let forms = [format!("{key}:"), format!("\"{key}\":"), format!("'{key}':")];
    text.lines()
        .enumerate()
        .filter(|(_, line)| {
            forms.iter().any(|form| {
                line.match_indices(form.as_str()).any(|(at, _)| {
                    line.get(..at)
                        .and_then(|before| before.trim_end().chars().last())
                        .is_none_or(|c| matches!(c, '{' | ',' | '-'))
                })
            })
        })
        .map(|(index, _)| index + 1)
        .collect()
}

/// Where a key the reader refused is written. serde_yaml places errors of
/// a map at the map's first line, serde_json just after the key; the key's
/// own lines are found in the text around that position.
fn locate_key(text: &str, key: &str, reported: usize, json: bool, duplicate: bool) -> (Option<usize>, Option<usize>) {
    let lines = key_lines(text, key);
    let (first, second) = if json {
        let before: Vec<usize> = lines.into_iter().filter(|&line| line <= reported).collect();
        match (duplicate, before.as_slice()) {
            (true, [.., first, second]) => (Some(*first), Some(*second)),
            (_, [.., last]) => (Some(*last), None),
            _ => (None, None),
        }
    } else {
        let mut after = lines.into_iter().filter(|&line| line >= reported);
        (after.next(), after.next())
    };
    if duplicate {
        (second, first)
    } else {
        (first, None)
    }
}

/// Reads a situation; JSON when the text starts with `{`, YAML otherwise.
/// `origin` names the input in errors (a file path or `-`).
///
/// Bounds and encoding come first, then syntax (the whole text must parse
/// before any value is judged, so a broken line is reported as broken, not
/// as the strange value a half-parsed line makes), then meaning.
pub fn parse(bytes: &[u8], origin: &str, reading: &Reading<'_>) -> Result<Situation, SituationError> {
    let location = |line, column| Location {
        file: origin.to_string(),
        line,
        column,
    };
    let text = input::checked_text(bytes, reading.limit).map_err(|refusal| {
        let message = if refusal.line.is_none() {
            format!(
                "{}; o limite é `limits.situation_bytes` em bundle.yaml",
                refusal.message
            )
        } else {
            refusal.message
        };
        SituationError {
            location: location(refusal.line, refusal.column),
            field: None,
            found: None,
            allowed: None,
            message,
        }
    })?;
    if holds_nothing(text) {
        // Almost always the wrong file (an editor's new buffer, a redirect
        // that failed); an explicit `{}` stays a valid empty situation.
        return Err(SituationError {
            location: location(None, None),
            field: None,
            found: None,
            allowed: Some("uma situação em YAML ou JSON (`{}` para uma situação sem fatos)".to_string()),
            message: "o arquivo está vazio: não há nenhum fato nem `{}`".to_string(),
        });
    }
    let known = |n: usize| (n > 0).then_some(n);
    let json = text.trim_start().starts_with('{');
    // One pass against the vocabulary; only when it fails is the text read
    // again for its syntax alone, so a malformed file is reported as such
    // (at the syntax error) even when a field before it is wrong too.
    let reader = Reader::new(reading.vocabulary, reading.lenient);
    let seed = reader.root();
    if json {
        let mut deserializer = serde_json::Deserializer::from_str(text);
        let result = seed.deserialize(&mut deserializer).and_then(|()| deserializer.end());
        if let Err(err) = result {
            if let Err(syntax) = serde_json::from_str::<IgnoredAny>(text) {
                return Err(malformed(
                    location(known(syntax.line()), known(syntax.column())),
                    &syntax.to_string(),
                ));
            }
            let (line, column) = (known(err.line()), known(err.column()));
            return Err(reader.into_error(origin, Some((text, true)), line, column, &err.to_string()));
        }
    } else {
        let deserializer = serde_yaml::Deserializer::from_str(text);
        if let Err(err) = seed.deserialize(deserializer) {
            if let Err(syntax) = yaml_syntax(text) {
                let at = syntax.location();
                return Err(malformed(
                    location(at.as_ref().map(|l| l.line()), at.as_ref().map(|l| l.column())),
                    &syntax.to_string(),
                ));
            }
            let at = err.location();
            return Err(reader.into_error(
                origin,
                Some((text, false)),
                at.as_ref().map(|l| l.line()),
                at.as_ref().map(|l| l.column()),
                &err.to_string(),
            ));
        }
    }
    Ok(reader.finish(origin))
}

/// Whether `text` holds only blank lines and YAML comments.
fn holds_nothing(text: &str) -> bool {
    text.lines()
        .map(str::trim)
        .all(|line| line.is_empty() || line.starts_with('#'))
}

/// Whether `text` is one well-formed YAML document, whatever it holds.
fn yaml_syntax(text: &str) -> Result<(), serde_yaml::Error> {
    for (index, document) in serde_yaml::Deserializer::from_str(text).enumerate() {
        if index > 0 {
            return Err(de::Error::custom("more than one document"));
        }
        IgnoredAny::deserialize(document)?;
    }
    Ok(())
}

/// Reads a situation already parsed as YAML (policy tests embed them).
pub fn from_value(value: serde_yaml::Value, origin: &str, reading: &Reading<'_>) -> Result<Situation, SituationError> {
    let reader = Reader::new(reading.vocabulary, reading.lenient);
    let seed = reader.root();
    match seed.deserialize(value) {
        Ok(()) => Ok(reader.finish(origin)),
        Err(err) => Err(reader.into_error(origin, None, None, None, &err.to_string())),
    }
}

fn join(group: &str, key: &str) -> String {
    if group.is_empty() {
        key.to_string()
    } else {
        format!("{group}.{key}")
    }
}

/// A map key as text: `1: x` or `true: x` is a key named `1` or `true`,
/// reported as an unknown field, never as serde's "invalid type".
struct KeyText(String);

impl<'de> Deserialize<'de> for KeyText {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl Visitor<'_> for KeyVisitor {
            type Value = KeyText;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a key")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<KeyText, E> {
                Ok(KeyText(v.to_string()))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<KeyText, E> {
                Ok(KeyText(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<KeyText, E> {
                Ok(KeyText(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<KeyText, E> {
                Ok(KeyText(v.to_string()))
            }
            fn visit_i128<E: de::Error>(self, v: i128) -> Result<KeyText, E> {
                Ok(KeyText(v.to_string()))
            }
            fn visit_u128<E: de::Error>(self, v: u128) -> Result<KeyText, E> {
                Ok(KeyText(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<KeyText, E> {
                Ok(KeyText(v.to_string()))
            }
            fn visit_unit<E: de::Error>(self) -> Result<KeyText, E> {
                Ok(KeyText("null".into()))
            }
        }
        deserializer.deserialize_any(KeyVisitor)
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
    fn unknown_field<E: de::Error>(&self, key: &str, path: String) -> E {
        let children = self.reader.vocabulary.children(&self.path);
        let names: Vec<&str> = children.iter().map(|(name, _)| *name).collect();
        let hint = suggest::closest(key, names.iter().copied()).map_or_else(String::new, |name| {
            format!("; você quis dizer `{}`?", join(&self.path, name))
        });
        self.reader.fail(Detail {
            field: path,
            found: None,
            allowed: Some(names.join(", ")),
            message: format!("campo desconhecido (não está no vocabulário){hint}; use --lenient para ignorá-lo"),
            key: Some(key.to_string()),
            duplicate: false,
        })
    }

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
            key: None,
            duplicate: false,
        })
    }
}

impl<'de> Visitor<'de> for GroupSeed<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a map of facts")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut seen = BTreeSet::new();
        while let Some(key) = map.next_key::<KeyText>()? {
            let KeyText(key) = key;
            let path = join(&self.path, &key);
            if !seen.insert(key.clone()) {
                return Err(self.reader.fail(Detail {
                    field: path,
                    message: format!("chave `{key}` repetida"),
                    key: Some(key),
                    duplicate: true,
                    ..Detail::default()
                }));
            }
            match self.reader.vocabulary.lookup(&path) {
                Some(PathKind::Group) => map.next_value_seed(GroupSeed {
                    reader: self.reader,
                    path,
                })?,
                Some(PathKind::Fact(fact)) => map.next_value_seed(FactSeed {
                    reader: self.reader,
                    fact,
                })?,
                None if self.reader.lenient => {
                    map.next_value::<IgnoredAny>()?;
                    self.reader.warnings.borrow_mut().push(format!(
                        "campo desconhecido `{path}` ignorado (não está no vocabulário)"
                    ));
                }
                None => return Err(self.unknown_field(&key, path)),
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
    fn visit_i128<E: de::Error>(self, v: i128) -> Result<(), E> {
        Err(self.not_a_map(format!("`{v}`")))
    }
    fn visit_u128<E: de::Error>(self, v: u128) -> Result<(), E> {
        Err(self.not_a_map(format!("`{v}`")))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<(), E> {
        Err(self.not_a_map(format!("`{v}`")))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        Err(self.not_a_map(shown(v)))
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
            key: None,
            duplicate: false,
        })
    }

    fn wrong_type<E: de::Error>(&self, found: String) -> E {
        self.reject(found, "tipo errado")
    }

    fn text<E: de::Error>(&self, v: &str) -> Result<(), E> {
        let value = match self.fact.spec.kind {
            FactKind::Text => {
                let length = v.chars().count();
                match self.fact.spec.max_length {
                    Some(max) if length > max => {
                        return Err(self.reject(
                            format!("um texto de {length} caracteres"),
                            &format!("texto longo demais: o máximo é {max} caracteres (`max_length` no vocabulário)"),
                        ))
                    }
                    _ => FactValue::Text(v.into()),
                }
            }
            FactKind::Enum => {
                let allowed = self.fact.spec.values.iter().flatten().any(|value| value == v);
                if !allowed {
                    let hint = suggest::closest(v, self.fact.spec.values.iter().flatten().map(String::as_str))
                        .map_or_else(String::new, |value| format!("; você quis dizer `{value}`?"));
                    return Err(self.reject(shown(v), &format!("valor desconhecido{hint}")));
                }
                FactValue::Text(v.into())
            }
            FactKind::Date => FactValue::Date(
                calendar::parse_date(v).map_err(|_| self.reject(shown(v), "data impossível ou malformada"))?,
            ),
            FactKind::Datetime => FactValue::DateTime(
                calendar::parse_datetime(v)
                    .map_err(|_| self.reject(shown(v), "data e hora impossíveis ou malformadas"))?,
            ),
            // People write yes/no in Portuguese: `sim`/`não` read as true/false.
            FactKind::Bool => match v.trim().to_lowercase().as_str() {
                "sim" => FactValue::Bool(true),
                "não" | "nao" => FactValue::Bool(false),
                _ => return Err(self.wrong_type(format!("texto {}", shown(v)))),
            },
            FactKind::Integer => return Err(self.wrong_type(format!("texto {}", shown(v)))),
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
            FactKind::Text => self.accept(FactValue::Text(v.to_string().into())),
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
    // YAML integers past 64 bits (a long code written without quotes).
    fn visit_i128<E: de::Error>(self, v: i128) -> Result<(), E> {
        self.integer(v)
    }
    fn visit_u128<E: de::Error>(self, v: u128) -> Result<(), E> {
        match i128::try_from(v) {
            Ok(n) => self.integer(n),
            Err(_) if self.fact.spec.kind == FactKind::Text => self.accept(FactValue::Text(v.to_string().into())),
            Err(_) if self.fact.spec.kind == FactKind::Integer => {
                Err(self.reject(format!("`{v}`"), "número fora do intervalo"))
            }
            Err(_) => Err(self.wrong_type(format!("número `{v}`"))),
        }
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
    use crate::model::policy::FactSpec;

    fn vocabulary() -> Vocabulary {
        let spec = |kind, values: Option<&[&str]>| FactSpec {
            kind,
            values: values.map(|v| v.iter().map(|s| s.to_string()).collect()),
            description: String::new(),
            question: String::new(),
            label: None,
            minimum: None,
            maximum: None,
            max_length: None,
            personal: false,
            optional: false,
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

    fn parse(text: &str, origin: &str, vocabulary: &Vocabulary) -> Result<Situation, SituationError> {
        super::parse(
            text.as_bytes(),
            origin,
            &Reading {
                vocabulary,
                limit: 1 << 20,
                lenient: false,
            },
        )
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
        let err = err.unwrap_or_default();
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
    fn yes_and_no_in_portuguese_are_booleans() {
        let situation = parse("client:\n  plan_active: sim\n", "s.yaml", &vocabulary()).unwrap_or_default();
        assert_eq!(situation.facts.get("client.plan_active"), Some(&FactValue::Bool(true)));
        let situation = parse("{\"client\": {\"plan_active\": \"não\"}}", "s.json", &vocabulary()).unwrap_or_default();
        assert_eq!(situation.facts.get("client.plan_active"), Some(&FactValue::Bool(false)));
        assert!(parse("client:\n  plan_active: talvez\n", "s.yaml", &vocabulary()).is_err());
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
    fn unknown_fields_are_errors_with_a_suggestion_or_warnings_when_lenient() {
        let err = parse("clent:\n  plan: prime\n", "s.yaml", &vocabulary()).err();
        assert!(err
            .as_ref()
            .is_some_and(|e| e.field.as_deref() == Some("clent") && e.message.contains("você quis dizer `client`?")));
        let vocabulary = vocabulary();
        let lenient = Reading {
            vocabulary: &vocabulary,
            limit: 1 << 20,
            lenient: true,
        };
        let situation = super::parse(b"client:\n  colour: blue\n", "s.yaml", &lenient).unwrap_or_default();
        assert_eq!(situation.warnings.len(), 1);
        assert!(situation.warnings[0].contains("client.colour"));
    }

    #[test]
    fn a_repeated_key_names_both_lines() {
        let err = parse(
            "client:\n  plan: prime\n  code: '1'\n  plan: basico\n",
            "s.yaml",
            &vocabulary(),
        )
        .err();
        let err = err.unwrap_or_default();
        assert_eq!(err.field.as_deref(), Some("client.plan"));
        assert_eq!(err.location.line, Some(4));
        assert!(err.message.contains("a primeira na linha 2"), "{err}");
        let json = parse(
            "{\"client\": {\"plan\": \"prime\",\n \"plan\": \"basico\"}}",
            "s.json",
            &vocabulary(),
        )
        .err();
        assert!(json.is_some_and(|e| e.message.contains("repetida") && e.location.line == Some(2)));
    }

    #[test]
    fn broken_syntax_is_reported_as_syntax_before_any_value_is_judged() {
        let err = parse(
            "client: {plan: prime, code: 12\nbilling:\n  due_date: 2026-12-05\n",
            "s.yaml",
            &vocabulary(),
        )
        .err();
        assert!(
            err.as_ref()
                .is_some_and(|e| e.field.is_none() && e.message.starts_with("YAML/JSON malformado")),
            "{err:?}"
        );
        let two = parse(
            "client: {plan: prime}\n---\nclient: {plan: basico}\n",
            "s.yaml",
            &vocabulary(),
        )
        .err();
        assert!(two.is_some_and(|e| e.message.contains("mais de um documento")));
        // A wrong value before the syntax error: the file is still called
        // malformed, not judged value by value.
        for (text, origin) in [
            ("client:\n  plan: gold\nbilling: [2026-12-05\n", "s.yaml"),
            ("{\"client\": {\"plan\": \"gold\"}, \"billing\": [}", "s.json"),
        ] {
            let err = parse(text, origin, &vocabulary()).err();
            assert!(
                err.as_ref()
                    .is_some_and(|e| e.field.is_none() && e.message.starts_with("YAML/JSON malformado")),
                "{origin}: {err:?}"
            );
        }
    }

    #[test]
    fn null_and_empty_mean_absent() {
        let situation = parse("client:\n  plan: ~\nbilling:\n", "s.yaml", &vocabulary()).unwrap_or_default();
        assert!(situation.facts.is_empty());
        assert!(parse("{}", "s.yaml", &vocabulary()).is_ok_and(|s| s.facts.is_empty()));
    }

    #[test]
    fn a_file_with_nothing_in_it_is_refused_as_empty() {
        for text in ["", "   \n\t\n", "# só um comentário\n\n  # outro\n", "\u{feff}"] {
            let err = parse(text, "s.yaml", &vocabulary()).err();
            assert!(
                err.as_ref()
                    .is_some_and(|e| e.message.starts_with("o arquivo está vazio") && e.location.file == "s.yaml"),
                "{text:?}: {err:?}"
            );
        }
        for text in ["{}", "# comentário\n{}\n", "client:\n"] {
            assert!(parse(text, "s.yaml", &vocabulary()).is_ok(), "{text:?}");
        }
    }
}
