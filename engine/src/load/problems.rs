//! The problems of a bundle being loaded, collected in one place: each
//! with its file, line, item and field, and YAML's own errors said in
//! Portuguese.

use std::collections::BTreeMap;

use serde::de::DeserializeOwned;

use crate::load::error::{BundleError, Problem};
use crate::load::yaml_hints;
use crate::model::bundle::SourceFile;
use crate::text::locate::{self, Anchor, Location};

/// Collects problems while building the bundle.
#[derive(Default)]
pub(super) struct Loader {
    pub(super) problems: Vec<Problem>,
    /// Ids of actions, scripts and reminders seen so far, with their rule.
    pub(super) item_ids: BTreeMap<String, String>,
    /// The same files already turned into JSON at build time, by path
    /// (see [`crate::Bundle::from_embedded`]): read with serde_json, a
    /// tenth of libyaml's cost.
    pub(super) prepared: &'static [(&'static str, &'static str)],
}

/// Where an item of a file is, for messages.
pub(super) struct Place<'a> {
    pub(super) file: &'a SourceFile,
    pub(super) item: String,
    pub(super) anchors: Vec<Anchor<'a>>,
}

impl Loader {
    pub(super) fn report(&mut self, place: &Place<'_>, field: Option<&str>, message: String) {
        let mut anchors = place.anchors.clone();
        if let Some(field) = field {
            let key = field.rsplit('.').next().unwrap_or(field);
            let key = key.split('[').next().unwrap_or(key);
            // `id` is already the item's own anchor: another `id:` below it
            // would be the next item's.
            if anchors.last().is_none_or(|(last, _)| *last != key) {
                anchors.push((key, None));
            }
        }
        let line =
            locate::line_of(&place.file.text, &anchors).or_else(|| locate::line_of(&place.file.text, &place.anchors));
        self.problems.push(Problem {
            location: Location {
                file: place.file.path.clone(),
                line,
                column: None,
            },
            item: Some(place.item.clone()),
            field: field.map(str::to_string),
            message,
            source_line: None,
        });
    }

    /// Moves the last problem from the `text:` key to the line and column of
    /// the placeholder at `offset`, found by its first characters in the
    /// file (a folded text spans lines; the byte offset alone means nothing
    /// to the writer).
    pub(super) fn point_at_placeholder(&mut self, place: &Place<'_>, text: &str, offset: usize) {
        let Some(problem) = self.problems.last_mut() else {
            return;
        };
        let needle: String = text
            .get(offset..)
            .unwrap_or_default()
            .lines()
            .next()
            .unwrap_or_default()
            .to_string();
        let needle = needle.trim_end();
        let from = problem.location.line.unwrap_or(1);
        let found = place
            .file
            .text
            .lines()
            .enumerate()
            .skip(from.saturating_sub(1))
            .find_map(|(index, line)| {
                line.find(needle)
                    .map(|byte| (index + 1, line[..byte].chars().count() + 1))
            });
        if let Some((line, column)) = found {
            problem.location.line = Some(line);
            problem.location.column = Some(column);
        }
    }

    pub(super) fn file_problem(&mut self, file: &str, message: String) {
        self.problems.push(Problem {
            location: Location {
                file: file.to_string(),
                ..Location::default()
            },
            item: None,
            field: None,
            message,
            source_line: None,
        });
    }

    /// The problems found, each with its offending line as the bundle
    /// holds it.
    pub(super) fn fail(mut self, files: &[SourceFile]) -> BundleError {
        for problem in &mut self.problems {
            problem.source_line = problem.location.line.and_then(|line| {
                let file = files.iter().find(|file| file.path == problem.location.file)?;
                Some(file.text.lines().nth(line.checked_sub(1)?)?.to_string())
            });
        }
        BundleError {
            problems: self.problems,
        }
    }

    /// Parses a file whose bounds were checked (see `Bundle::from_files`).
    pub(super) fn parse<T: DeserializeOwned>(&mut self, file: &SourceFile) -> Option<T> {
        // A prepared form that does not read (it never should) falls back
        // to the text, whose errors are the ones to report.
        if let Some(read) = self
            .prepared(file)
            .and_then(|json| serde_json::from_str::<T>(json).ok())
        {
            return Some(read);
        }
        match serde_yaml::from_str::<T>(&file.text) {
            Ok(value) => Some(value),
            Err(err) => {
                let location = err.location();
                let (message, line, column) = yaml_hints::clearer(
                    &file.text,
                    yaml_error_message(&err),
                    location.as_ref().map(|l| l.line()),
                    location.as_ref().map(|l| l.column()),
                );
                self.problems.push(Problem {
                    location: Location {
                        file: file.path.clone(),
                        line,
                        column,
                    },
                    item: None,
                    field: None,
                    message,
                    source_line: None,
                });
                None
            }
        }
    }

    /// The JSON form of `file`, when the build prepared one.
    pub(super) fn prepared(&self, file: &SourceFile) -> Option<&'static str> {
        (self.prepared.iter())
            .find(|(path, _)| *path == file.path)
            .map(|(_, json)| *json)
    }

    pub(super) fn required<'f>(&mut self, files: &'f [SourceFile], name: &str) -> Option<&'f SourceFile> {
        let found = files.iter().find(|file| file.path == name);
        if found.is_none() {
            self.file_problem(name, "arquivo obrigatório ausente do pacote".into());
        }
        found
    }
}

/// A serde_yaml error in Portuguese, without its English " at line L
/// column C" (the location says it).
pub(crate) fn yaml_error_message(err: &serde_yaml::Error) -> String {
    let message = err.to_string();
    portuguese(message.split(" at line ").next().unwrap_or(&message))
}

/// Each English phrase of serde and libyaml with its Portuguese; longer
/// phrases first, so the single words below them do not cut them.
const TRANSLATIONS: &[(&str, &str)] = &[
    // libyaml's and serde's phrases first: the words below would
    // otherwise translate them piece by piece.
    (
        "found a tab character that violates indentation",
        "há uma tabulação na indentação: indente só com espaços",
    ),
    (
        "found a tab character where an indentation space is expected",
        "há uma tabulação na indentação: indente só com espaços",
    ),
    (
        "found character that cannot start any token",
        "há um caractere que não pode começar um valor",
    ),
    ("found unexpected end of stream", "o arquivo termina antes do esperado"),
    (
        "found undefined alias",
        "referência (*âncora) a uma âncora que não existe",
    ),
    ("unknown anchor", "referência a uma âncora que não existe"),
    (
        "did not find expected key",
        "não encontrou a chave esperada (confira a indentação)",
    ),
    ("did not find expected node content", "não encontrou o valor esperado"),
    (
        "did not find expected '-' indicator",
        "não encontrou o `-` esperado de um item de lista",
    ),
    (
        "could not find expected ':'",
        "não encontrou o `:` esperado depois de uma chave",
    ),
    ("while parsing a block mapping", "ao ler um mapa"),
    ("while parsing a block collection", "ao ler uma lista"),
    ("while parsing a flow mapping", "ao ler um mapa entre chaves"),
    ("while parsing a flow sequence", "ao ler uma lista entre colchetes"),
    ("while scanning a simple key", "ao ler uma chave"),
    ("while scanning a quoted scalar", "ao ler um texto entre aspas"),
    ("duplicate entry with key", "chave repetida"),
    ("duplicate field", "campo repetido"),
    ("recursion limit exceeded", "aninhamento profundo demais"),
    ("invalid length", "tamanho inválido"),
    ("did not find expected", "não encontrou o esperado"),
    ("unknown field", "campo desconhecido"),
    ("expected one of", "esperado um de"),
    ("missing field", "campo obrigatório ausente"),
    ("invalid type", "tipo inválido"),
    ("invalid value", "valor inválido"),
    ("unknown variant", "valor desconhecido"),
    // Numbers serde could not fit: "integer `N` as u128, expected i64".
    (" as u128", ""),
    (" as i128", ""),
    ("integer `", "número inteiro `"),
    ("floating point `", "número decimal `"),
    ("expected i64", "esperado um número inteiro"),
    ("expected i32", "esperado um número inteiro"),
    ("expected u64", "esperado um número inteiro a partir de 0"),
    ("expected u32", "esperado um número inteiro a partir de 0"),
    ("expected u16", "esperado um número inteiro a partir de 0"),
    ("expected u8", "esperado um número inteiro a partir de 0"),
    ("expected usize", "esperado um número inteiro a partir de 0"),
    ("expected", "esperado"),
    ("a sequence", "uma lista"),
    ("a map", "um mapa"),
    ("a string", "um texto"),
    ("a boolean", "um booleano"),
    (
        "mapping values are not allowed in this context",
        "valores de mapa não são permitidos neste contexto (use aspas no texto com `: `)",
    ),
];

/// serde's usual messages in Portuguese; anything else is kept as it is.
pub(super) fn portuguese(message: &str) -> String {
    // serde calls a number past 64 bits a type it cannot take ("invalid
    // type: integer `N` as u128"); to a person it is out of range.
    let message = if message.contains(" as u128") || message.contains(" as i128") {
        message.replacen("invalid type", "número fora do intervalo", 1)
    } else {
        message.to_string()
    };
    TRANSLATIONS
        .iter()
        .fold(message, |text, (english, portuguese)| text.replace(english, portuguese))
}
