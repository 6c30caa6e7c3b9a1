//! The reader of a situation: the facts it took and the first refusal, kept
//! while the parser unwinds, then placed at the line of the offending key
//! or value and said in Portuguese.

use std::cell::RefCell;
use std::collections::BTreeMap;

use serde::de;

use crate::decide::error::SituationError;
use crate::facts::vocabulary::{FactValue, Vocabulary};
use crate::text::input;
use crate::text::locate::Location;

/// What went wrong in a field, kept aside while the parser unwinds.
#[derive(Debug, Default)]
pub(super) struct Detail {
    pub(super) field: String,
    pub(super) found: Option<String>,
    pub(super) allowed: Option<String>,
    pub(super) message: String,
    /// A refused key (unknown or repeated): its line is looked up in the
    /// text afterwards.
    pub(super) key: Option<String>,
    /// The key was given twice.
    pub(super) duplicate: bool,
}

pub(super) struct Reader<'v> {
    pub(super) vocabulary: &'v Vocabulary,
    pub(super) lenient: bool,
    pub(super) facts: RefCell<BTreeMap<String, FactValue>>,
    pub(super) warnings: RefCell<Vec<String>>,
    pub(super) detail: RefCell<Option<Detail>>,
}

/// A value as an error message shows it: quoted, and cut when long, so a
/// 1 MB text is not echoed back.
pub(super) fn shown(value: &str) -> String {
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
    pub(super) fn new(vocabulary: &'v Vocabulary, lenient: bool) -> Self {
        Self {
            vocabulary,
            lenient,
            facts: RefCell::default(),
            warnings: RefCell::default(),
            detail: RefCell::default(),
        }
    }

    pub(super) fn fail<E: de::Error>(&self, detail: Detail) -> E {
        let error = E::custom(format!("campo `{}`: {}", detail.field, detail.message));
        *self.detail.borrow_mut() = Some(detail);
        error
    }

    pub(super) fn into_error(
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

    /// The facts read, and the warnings about fields left out.
    pub(super) fn finish(self) -> (BTreeMap<String, FactValue>, Vec<String>) {
        (self.facts.into_inner(), self.warnings.into_inner())
    }
}

/// A syntax error: where, and what the parser found, in Portuguese.
pub(super) fn malformed(location: Location, parser_message: &str) -> SituationError {
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
