//! A light scanner over Rhai expressions for the checks Rhai cannot do.
//!
//! Rhai compiles `client.plna` and `request.topic == "boletto"` without a
//! word, and only notices an unknown function when it is called. The
//! scanner finds the dotted paths, the string literals they are compared
//! with, and the functions called, so the loader can check them against the
//! vocabulary, the catalog and the engine before any decision is made.

use std::borrow::Cow;

/// A dotted name such as `request.equipment.model`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathRef {
    /// The segments.
    pub segments: Vec<String>,
    /// Byte offset in the expression.
    pub offset: usize,
}

impl PathRef {
    /// The dotted text.
    pub fn dotted(&self) -> String {
        self.segments.join(".")
    }
}

/// A path compared with string literals (`==`, `!=`, `in [..]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comparison {
    /// The dotted path.
    pub path: String,
    /// The literals it is compared with.
    pub literals: Vec<String>,
    /// Byte offset of the path.
    pub offset: usize,
}

/// What an expression refers to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scan {
    /// Dotted names (and single names) read.
    pub paths: Vec<PathRef>,
    /// Comparisons with string literals.
    pub comparisons: Vec<Comparison>,
    /// Functions called, with their offsets.
    pub calls: Vec<(String, usize)>,
}

/// A token, borrowed from the expression (a string literal is copied only
/// when it has escapes).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Token<'s> {
    Ident(&'s str),
    Str(Cow<'s, str>),
    Dot,
    Punct(&'s str),
}

fn tokenize(source: &str) -> Vec<(Token<'_>, usize)> {
    let bytes = source.as_bytes();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let start = i;
        if c.is_ascii_whitespace() {
            i += 1;
        } else if c == b'/' && bytes.get(i + 1) == Some(&b'/') {
            while i < bytes.len() && bytes[i] != b'\n' {
                i += 1;
            }
        } else if c == b'/' && bytes.get(i + 1) == Some(&b'*') {
            i += 2;
            while i + 1 < bytes.len() && !(bytes[i] == b'*' && bytes[i + 1] == b'/') {
                i += 1;
            }
            i += 2;
        } else if c == b'"' || c == b'`' || c == b'\'' {
            let quote = c;
            let mut text: Option<String> = None;
            i += 1;
            while i < bytes.len() && bytes[i] != quote {
                if bytes[i] == b'\\' {
                    // Copied from the first escape on: the escaped character
                    // stands for itself.
                    text.get_or_insert_with(|| source.get(start + 1..i).unwrap_or("").to_string());
                    i += 1;
                }
                if let Some(ch) = source.get(i..).and_then(|rest| rest.chars().next()) {
                    if let Some(text) = &mut text {
                        text.push(ch);
                    }
                    i += ch.len_utf8();
                } else {
                    i += 1;
                }
            }
            let text = match text {
                Some(text) => Cow::Owned(text),
                None => Cow::Borrowed(source.get(start + 1..i.min(bytes.len())).unwrap_or("")),
            };
            i += 1;
            tokens.push((Token::Str(text), start));
        } else if c.is_ascii_alphabetic() || c == b'_' {
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                i += 1;
            }
            tokens.push((Token::Ident(&source[start..i]), start));
        } else if c.is_ascii_digit() {
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                i += 1;
            }
        } else if c == b'.' {
            i += 1;
            tokens.push((Token::Dot, start));
        } else {
            let two = source.get(i..i + 2).unwrap_or("");
            let len = if ["==", "!=", "<=", ">=", "&&", "||", "?.", "=>"].contains(&two) {
                2
            } else {
                // One character, however many bytes it takes.
                source
                    .get(i..)
                    .and_then(|rest| rest.chars().next())
                    .map_or(1, char::len_utf8)
            };
            let end = (i + len).min(bytes.len());
            tokens.push((Token::Punct(source.get(i..end).unwrap_or("")), start));
            i = end;
        }
    }
    tokens
}

const KEYWORDS: &[&str] = &[
    "true", "false", "if", "else", "in", "let", "const", "switch", "while", "loop", "for", "do", "until", "break",
    "continue", "return", "throw", "try", "catch", "fn", "this", "is", "not",
];

/// Scans one expression.
pub fn scan(source: &str) -> Scan {
    let tokens = tokenize(source);
    let mut out = Scan::default();
    let mut i = 0;
    while i < tokens.len() {
        let (Token::Ident(first), offset) = &tokens[i] else {
            i += 1;
            continue;
        };
        let after_dot = i > 0 && tokens[i - 1].0 == Token::Dot;
        if KEYWORDS.contains(first) || after_dot {
            i += 1;
            continue;
        }
        let mut segments = vec![(*first).to_string()];
        let mut j = i + 1;
        while j + 1 < tokens.len() && tokens[j].0 == Token::Dot {
            match &tokens[j + 1].0 {
                Token::Ident(next) => {
                    segments.push((*next).to_string());
                    j += 2;
                }
                _ => break,
            }
        }
        // `name(` is a call; `path.method(` calls a method on `path`.
        if matches!(tokens.get(j), Some((Token::Punct(p), _)) if *p == "(") {
            let called = segments.pop().unwrap_or_default();
            out.calls.push((called, *offset));
            if segments.is_empty() {
                i = j;
                continue;
            }
        }
        let path = PathRef {
            segments,
            offset: *offset,
        };
        let literals = compared_literals(&tokens, i, j);
        if !literals.is_empty() {
            out.comparisons.push(Comparison {
                path: path.dotted(),
                literals,
                offset: *offset,
            });
        }
        out.paths.push(path);
        i = j;
    }
    out
}

/// String literals compared with the path spanning tokens `start..end`.
fn compared_literals(tokens: &[(Token<'_>, usize)], start: usize, end: usize) -> Vec<String> {
    let is_op = |index: usize| matches!(tokens.get(index), Some((Token::Punct(p), _)) if *p == "==" || *p == "!=");
    let mut literals = Vec::new();
    if is_op(end) {
        if let Some((Token::Str(text), _)) = tokens.get(end + 1) {
            literals.push(text.to_string());
        }
    }
    if start >= 2 && is_op(start - 1) {
        if let Some((Token::Str(text), _)) = tokens.get(start - 2) {
            literals.push(text.to_string());
        }
    }
    if matches!(tokens.get(end), Some((Token::Ident(word), _)) if *word == "in")
        && matches!(tokens.get(end + 1), Some((Token::Punct(p), _)) if *p == "[")
    {
        let mut k = end + 2;
        while let Some((token, _)) = tokens.get(k) {
            match token {
                Token::Str(text) => literals.push(text.to_string()),
                Token::Punct(p) if *p == "," => {}
                _ => break,
            }
            k += 1;
        }
    }
    literals
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_paths_comparisons_and_calls() {
        let scan = scan(
            r#"request.topic in ["boleto", "xml"] && !client.in_onboarding && minutes_between(appointment.starts_at, now) >= 5"#,
        );
        let paths: Vec<String> = scan.paths.iter().map(PathRef::dotted).collect();
        assert_eq!(
            paths,
            ["request.topic", "client.in_onboarding", "appointment.starts_at", "now"]
        );
        assert_eq!(scan.comparisons.len(), 1);
        assert_eq!(scan.comparisons[0].literals, ["boleto", "xml"]);
        assert_eq!(scan.calls, [("minutes_between".to_string(), 63)]);
    }

    #[test]
    fn literals_on_either_side_and_methods() {
        let scan = scan(r#""pf" == client.person_type || client.name.len() > 3 // client.ignored"#);
        assert_eq!(scan.comparisons[0].path, "client.person_type");
        assert_eq!(scan.comparisons[0].literals, ["pf"]);
        assert!(scan.calls.iter().any(|(name, _)| name == "len"));
        assert!(scan.paths.iter().any(|p| p.dotted() == "client.name"));
        assert!(!scan.paths.iter().any(|p| p.dotted() == "client.ignored"));
    }

    #[test]
    fn strings_hide_their_content() {
        let scan = scan(r#""client.plan == x" + catalog.macros.io_fim"#);
        let paths: Vec<String> = scan.paths.iter().map(PathRef::dotted).collect();
        assert_eq!(paths, ["catalog.macros.io_fim"]);
    }

    #[test]
    fn escaped_and_accented_literals_read_as_written() {
        let scan = scan(r#"a.b == "x\"y\\z" || a.c in ["é", 'b', `ç`] || a.d ≠ "q""#);
        let literals: Vec<(&str, &[String])> = scan
            .comparisons
            .iter()
            .map(|comparison| (comparison.path.as_str(), comparison.literals.as_slice()))
            .collect();
        assert_eq!(
            literals,
            [
                ("a.b", &["x\"y\\z".to_string()][..]),
                ("a.c", &["é".to_string(), "b".to_string(), "ç".to_string()][..])
            ]
        );
        let paths: Vec<String> = scan.paths.iter().map(PathRef::dotted).collect();
        assert_eq!(paths, ["a.b", "a.c", "a.d"]);
    }

    #[test]
    fn an_unterminated_string_or_escape_ends_the_scan_quietly() {
        for source in [r#"a.b == "open"#, r#"a.b == "x\"#, "a.b == \"é\\"] {
            let scan = scan(source);
            assert_eq!(scan.paths.len(), 1, "{source}");
        }
    }
}
