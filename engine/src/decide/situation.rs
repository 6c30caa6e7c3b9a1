//! Reading a situation (YAML or JSON) and checking it against the vocabulary.
//!
//! Validation happens inside deserialization (a `DeserializeSeed` that walks
//! the vocabulary), so that the parser attaches the line and column of the
//! offending value to every error, for YAML and JSON alike.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, FixedOffset};
use serde::de::{self, Deserialize, DeserializeSeed, IgnoredAny};

use crate::decide::error::SituationError;
use crate::decide::reader::{malformed, Reader};
use crate::decide::seeds;
use crate::facts::vocabulary::{FactValue, Vocabulary, NOW};
use crate::facts::zone::Zone;
use crate::text::input;
use crate::text::locate::Location;

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
    /// The zone every moment is read in.
    pub zone: Zone,
}

/// Reads a situation; JSON when the text starts with `{`, YAML otherwise.
/// `origin` names the input in errors (a file path or `-`).
///
/// Bounds and encoding come first, then syntax (the whole text must parse
/// before any value is judged, so a broken line is reported as broken, not
/// as the strange value a half-parsed line makes), then meaning.
pub fn parse(bytes: &[u8], origin: &str, reading: &Reading<'_>) -> Result<Situation, SituationError> {
    let text = checked(bytes, origin, reading.limit)?;
    let json = text.trim_start().starts_with('{');
    // One pass against the vocabulary; only when it fails is the text read
    // again for its syntax alone, so a malformed file is reported as such
    // (at the syntax error) even when a field before it is wrong too.
    let reader = Reader::new(reading.vocabulary, reading.lenient);
    let read = if json {
        read_json(text, origin, &reader)
    } else {
        read_yaml(text, origin, &reader)
    };
    match read {
        Ok(()) => Ok(situation(origin, reader, reading.zone)),
        Err(Misread::Malformed(err)) => Err(err),
        Err(Misread::Meaning { line, column, message }) => {
            Err(reader.into_error(origin, Some((text, json)), line, column, &message))
        }
    }
}

/// Why a text did not read as a situation.
enum Misread {
    /// Its syntax is broken (reported at the break).
    Malformed(SituationError),
    /// A value does not fit the vocabulary, here.
    Meaning {
        line: Option<usize>,
        column: Option<usize>,
        message: String,
    },
}

fn at(origin: &str, line: Option<usize>, column: Option<usize>) -> Location {
    Location {
        file: origin.to_string(),
        line,
        column,
    }
}

/// The text within its bounds, UTF-8, and holding something.
fn checked<'t>(bytes: &'t [u8], origin: &str, limit: u64) -> Result<&'t str, SituationError> {
    let text = input::checked_text(bytes, limit).map_err(|refusal| {
        let message = if refusal.line.is_none() {
            format!(
                "{}; o limite é `limits.situation_bytes` em bundle.yaml",
                refusal.message
            )
        } else {
            refusal.message
        };
        SituationError {
            location: at(origin, refusal.line, refusal.column),
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
            location: at(origin, None, None),
            field: None,
            found: None,
            allowed: Some("uma situação em YAML ou JSON (`{}` para uma situação sem fatos)".to_string()),
            message: "o arquivo está vazio: não há nenhum fato nem `{}`".to_string(),
        });
    }
    Ok(text)
}

/// A line or column as serde_json counts them (0: unknown).
fn known(n: usize) -> Option<usize> {
    (n > 0).then_some(n)
}

fn read_json(text: &str, origin: &str, reader: &Reader<'_>) -> Result<(), Misread> {
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let result = seeds::root(reader)
        .deserialize(&mut deserializer)
        .and_then(|()| deserializer.end());
    let Err(err) = result else { return Ok(()) };
    if let Err(syntax) = serde_json::from_str::<IgnoredAny>(text) {
        let location = at(origin, known(syntax.line()), known(syntax.column()));
        return Err(Misread::Malformed(malformed(location, &syntax.to_string())));
    }
    Err(Misread::Meaning {
        line: known(err.line()),
        column: known(err.column()),
        message: err.to_string(),
    })
}

fn read_yaml(text: &str, origin: &str, reader: &Reader<'_>) -> Result<(), Misread> {
    let deserializer = serde_yaml::Deserializer::from_str(text);
    let Err(err) = seeds::root(reader).deserialize(deserializer) else {
        return Ok(());
    };
    if let Err(syntax) = yaml_syntax(text) {
        let place = syntax.location();
        let location = at(
            origin,
            place.as_ref().map(|l| l.line()),
            place.as_ref().map(|l| l.column()),
        );
        return Err(Misread::Malformed(malformed(location, &syntax.to_string())));
    }
    let place = err.location();
    Err(Misread::Meaning {
        line: place.as_ref().map(|l| l.line()),
        column: place.as_ref().map(|l| l.column()),
        message: err.to_string(),
    })
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
    let seed = seeds::root(&reader);
    match seed.deserialize(value) {
        Ok(()) => Ok(situation(origin, reader, reading.zone)),
        Err(err) => Err(reader.into_error(origin, None, None, None, &err.to_string())),
    }
}

/// The situation the reader took, named by where it came from, its
/// moments in `zone`.
fn situation(origin: &str, reader: Reader<'_>, zone: Zone) -> Situation {
    let (facts, warnings) = reader.finish();
    let mut facts = Arc::new(facts);
    localize(&mut facts, zone);
    Situation {
        origin: origin.to_string(),
        facts,
        warnings,
    }
}

/// Writes every moment of `facts` in `zone`: the same instants, so that
/// hours, days and texts read the zone's clock whatever offset a caller
/// wrote. Copies the facts only when one moment needs it.
pub(crate) fn localize(facts: &mut Arc<BTreeMap<String, FactValue>>, zone: Zone) {
    let elsewhere = |value: &FactValue| matches!(value, FactValue::DateTime(at) if !zone.shows(at));
    if !facts.values().any(elsewhere) {
        return;
    }
    for value in Arc::make_mut(facts).values_mut() {
        if let FactValue::DateTime(at) = value {
            *at = zone.local(at);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::policy::FactKind;
    use crate::model::policy::FactSpec;

    fn vocabulary() -> Vocabulary {
        let spec = |kind, values: Option<&[&str]>| FactSpec {
            kind,
            values: values.map(|v| v.iter().map(|s| s.to_string()).collect()),
            description: String::new(),
            question: String::new(),
            label: None,
            names: BTreeMap::new(),
            no_rule: Vec::new(),
            menu: Vec::new(),
            minimum: None,
            maximum: None,
            max_length: None,
            personal: false,
            optional: false,
            from_login: false,
            default: None,
            derive: None,
        };
        Vocabulary::new(BTreeMap::from([
            (
                "client.plan".to_string(),
                spec(FactKind::Enum, Some(&["basico", "prime"])),
            ),
            ("client.code".to_string(), spec(FactKind::Text, None)),
            (
                "contact.phone".to_string(),
                FactSpec {
                    personal: true,
                    ..spec(FactKind::Integer, None)
                },
            ),
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
                zone: Zone::default(),
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
    fn a_personal_facts_value_is_never_echoed_in_an_error() {
        // Text where a number is kept, and a number past 64 bits, in YAML
        // and in JSON.
        for text in [
            "contact:\n  phone: '11 98765-4321'\n",
            r#"{"contact": {"phone": 119876543211198765432111}}"#,
        ] {
            let err = parse(text, "s.yaml", &vocabulary()).err().unwrap_or_default();
            assert_eq!(err.field.as_deref(), Some("contact.phone"), "{text}");
            assert!(!err.to_string().contains("98765"), "{err}");
            assert!(
                err.found.as_deref().is_some_and(|found| found.contains("fato pessoal")),
                "{err}"
            );
        }
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
            zone: Zone::default(),
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
