//! Situations as callers hand them to a bundle: read from text (YAML or
//! JSON) against the vocabulary, and written back as the JSON `decide`
//! reads (the decision log stores one per decision).

use crate::decide::error::SituationError;
use crate::decide::situation::Situation;
use crate::facts::vocabulary::FactValue;
use crate::model::bundle::Bundle;

impl Bundle {
    /// Reads and validates a situation (YAML, or JSON when it starts with `{`).
    /// `origin` names the input in errors. A field the vocabulary does not
    /// know is an error: the engine never decides on a situation it half
    /// understood.
    pub fn parse_situation(&self, text: impl AsRef<[u8]>, origin: &str) -> Result<Situation, SituationError> {
        crate::decide::situation::parse(text.as_ref(), origin, &self.reading(false))
    }

    /// As [`Bundle::parse_situation`], but unknown fields are ignored with a
    /// warning (`--lenient`).
    pub fn parse_situation_lenient(&self, text: impl AsRef<[u8]>, origin: &str) -> Result<Situation, SituationError> {
        crate::decide::situation::parse(text.as_ref(), origin, &self.reading(true))
    }

    /// Validates a situation already parsed as YAML (as in policy tests).
    pub(crate) fn situation_from_yaml(
        &self,
        value: serde_yaml::Value,
        origin: &str,
    ) -> Result<Situation, SituationError> {
        crate::decide::situation::from_value(value, origin, &self.reading(false))
    }

    /// The situation as the text of a JSON document `decide` reads back
    /// (groups nested, dates as `YYYY-MM-DD`, moments in RFC 3339). Facts
    /// marked `personal` in the vocabulary are masked unless
    /// `keep_personal`.
    ///
    /// Written straight from the sorted facts, with no JSON tree in
    /// between: the decision log stores one per decision. The facts of a
    /// group sort together (they share the prefix `group.`), so each group
    /// is opened once.
    pub fn situation_json(&self, situation: &Situation, keep_personal: bool) -> String {
        let mut out = Vec::with_capacity(64 + 32 * situation.facts.len());
        self.write_situation_json(situation, keep_personal, &mut out);
        String::from_utf8(out).unwrap_or_default()
    }

    /// As [`Bundle::situation_json`], appended to `out` (the decision log
    /// writes a row's columns into one buffer).
    pub fn write_situation_json(&self, situation: &Situation, keep_personal: bool, out: &mut Vec<u8>) {
        use std::io::Write as _;
        // The groups open around the fact being written.
        let mut open: Vec<&str> = Vec::new();
        // Whether the object being written has no member yet.
        let mut empty = true;
        out.push(b'{');
        for (path, value) in situation.facts.iter() {
            let (groups, last) = match path.rsplit_once('.') {
                Some((groups, last)) => (Some(groups), last),
                None => (None, path.as_str()),
            };
            let mut groups = groups.into_iter().flat_map(|groups| groups.split('.')).peekable();
            let mut common = 0;
            while common < open.len() && groups.peek() == open.get(common) {
                groups.next();
                common += 1;
            }
            while open.len() > common {
                open.pop();
                out.push(b'}');
                empty = false;
            }
            for group in groups {
                json_key(out, group, empty);
                out.push(b'{');
                open.push(group);
                empty = true;
            }
            json_key(out, last, empty);
            empty = false;
            let start = out.len();
            let written = match value {
                _ if !keep_personal && self.vocabulary.is_personal(path) => serde_json::to_writer(&mut *out, "***"),
                FactValue::Bool(flag) => serde_json::to_writer(&mut *out, flag),
                FactValue::Integer(n) => serde_json::to_writer(&mut *out, n),
                FactValue::Text(text) => serde_json::to_writer(&mut *out, text),
                FactValue::Date(date) => write!(out, "\"{}\"", date.format("%Y-%m-%d")).map_err(serde_json::Error::io),
                FactValue::DateTime(at) => serde_json::to_writer(&mut *out, &at.to_rfc3339()),
            };
            // Writing into memory cannot fail; a value that somehow did is
            // written as null rather than half-written.
            if written.is_err() {
                out.truncate(start);
                out.extend_from_slice(b"null");
            }
        }
        out.extend(std::iter::repeat_n(b'}', open.len() + 1));
    }

    /// Answers the fact at `path` with `value` (as a situation's JSON would
    /// hold it: `true`, `"boleto"`, `"2026-12-08"`; `null` takes the
    /// answer back): the value is read against the vocabulary exactly as
    /// in a situation, and the later answer wins. What it replaced, if
    /// anything. The one way ask, cases and the service's answers change
    /// a situation.
    pub fn answer(
        &self,
        situation: &mut Situation,
        path: &str,
        value: &serde_json::Value,
    ) -> Result<Option<FactValue>, SituationError> {
        let origin = situation.origin.clone();
        let refused = |found: String, allowed: &str, message: String| SituationError {
            location: crate::Location {
                file: origin.clone(),
                line: None,
                column: None,
            },
            field: Some(path.chars().take(120).collect()),
            found: Some(found),
            allowed: Some(allowed.to_string()),
            message,
        };
        // Only a declared fact is answered: nothing is built from a path
        // the vocabulary does not hold, however deep.
        if self.vocabulary.fact(path).is_none() {
            let shown: String = path.chars().take(120).collect();
            return Err(refused(
                shown.clone(),
                "um fato do vocabulário",
                format!("resposta a um fato desconhecido `{shown}`"),
            ));
        }
        let facts = std::sync::Arc::make_mut(&mut situation.facts);
        if value.is_null() {
            return Ok(facts.remove(path));
        }
        // The answer as the one fact of a situation, so it is read by the
        // same reader (kinds, values, bounds, the zone's clock).
        let mut alone = value.clone();
        for segment in path.rsplit('.') {
            alone = serde_json::json!({ segment: alone });
        }
        let read = self.parse_situation(alone.to_string(), &origin)?;
        let answered = read.facts.get(path).cloned().ok_or_else(|| {
            refused(
                value.to_string(),
                "o valor do fato",
                format!("`{path}` não ficou respondido"),
            )
        })?;
        Ok(facts.insert(path.to_string(), answered))
    }

    /// Fills the facts the vocabulary marks `from_login` with the name of
    /// who is logged in, where the situation does not give them: an
    /// analyst who entered is never asked their own name. For the request
    /// at hand only: a case shared by analysts keeps none of it.
    pub fn sign_in(&self, situation: &mut Situation, name: &str) -> Result<(), SituationError> {
        let paths: Vec<&str> = self
            .vocabulary
            .facts()
            .filter(|fact| fact.filled_from_login() && !situation.facts.contains_key(&fact.path))
            .map(|fact| fact.path.as_str())
            .collect();
        for path in paths {
            self.answer(situation, path, &serde_json::Value::String(name.to_string()))?;
        }
        Ok(())
    }

    /// Largest situation read, in bytes: read at most one byte more.
    pub fn situation_limit(&self) -> u64 {
        self.manifest.limits.situation_bytes
    }

    fn reading(&self, lenient: bool) -> crate::decide::situation::Reading<'_> {
        crate::decide::situation::Reading {
            vocabulary: &self.vocabulary,
            limit: self.manifest.limits.situation_bytes,
            lenient,
            zone: self.calendar.zone(),
        }
    }
}

/// `"key":`, after a comma unless it is the object's first member.
fn json_key(out: &mut Vec<u8>, key: &str, first: bool) {
    if !first {
        out.push(b',');
    }
    if serde_json::to_writer(&mut *out, key).is_err() {
        out.extend_from_slice(b"\"\"");
    }
    out.push(b':');
}
