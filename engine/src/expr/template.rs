//! Texts with `{{ expression }}` placeholders.
//!
//! A placeholder is any Rhai expression (`{{ client.name }}`,
//! `{{ fmt(add_days(billing.due_date, 7)) }}`); it is split out and compiled
//! once at load. A placeholder whose fact is unknown is shown as the fact's
//! label in brackets, never left blank, and the fact is reported missing
//! unless the vocabulary marks it optional.

/// A piece of a template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    /// Text shown as written.
    Literal(String),
    /// An expression, with its byte offset in the template.
    Placeholder {
        /// The Rhai source between the braces, trimmed.
        source: String,
        /// Byte offset of `{{`.
        offset: usize,
    },
}

/// A template that cannot be split: what is wrong and where (the byte
/// offset of the `{{` at fault, which the loader turns into a line and a
/// column of the file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateError {
    pub message: String,
    pub offset: usize,
}

/// The placeholder at `offset` as the writer sees it, up to its line's end.
fn quoted(text: &str, offset: usize) -> String {
    let rest = text.get(offset..).unwrap_or_default();
    let line = rest.lines().next().unwrap_or_default();
    let shown: String = line.chars().take(40).collect();
    format!("`{}`", shown.trim_end())
}

/// Splits a template; an unclosed or empty placeholder is an error.
pub fn split(text: &str) -> Result<Vec<Piece>, TemplateError> {
    let mut pieces = Vec::new();
    let mut rest = text;
    let mut consumed = 0;
    while let Some(open) = rest.find("{{") {
        if open > 0 {
            pieces.push(Piece::Literal(rest[..open].to_string()));
        }
        let after = &rest[open + 2..];
        let at = consumed + open;
        let fail = |what: &str| TemplateError {
            message: format!("o marcador {} {what}", quoted(text, at)),
            offset: at,
        };
        let close = after.find("}}").ok_or_else(|| fail("nunca é fechado com `}}`"))?;
        let source = after[..close].trim();
        if source.is_empty() {
            return Err(fail("está vazio"));
        }
        if source.contains("{{") {
            return Err(fail("contém outro `{{` antes de fechar"));
        }
        pieces.push(Piece::Placeholder {
            source: source.to_string(),
            offset: consumed + open,
        });
        let used = open + 2 + close + 2;
        consumed += used;
        rest = &rest[used..];
    }
    if let Some(close) = rest.find("}}") {
        return Err(TemplateError {
            message: format!("`}}}}` sem `{{{{` correspondente em {}", quoted(rest, 0)),
            offset: consumed + close,
        });
    }
    if !rest.is_empty() {
        pieces.push(Piece::Literal(rest.to_string()));
    }
    Ok(pieces)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_literals_and_placeholders() {
        let pieces = split("Olá, {{ client.name }}! Vence em {{fmt(billing.due_date)}}.").unwrap_or_default();
        assert_eq!(pieces.len(), 5);
        assert_eq!(
            pieces[1],
            Piece::Placeholder {
                source: "client.name".into(),
                offset: 6
            }
        );
        assert_eq!(pieces[4], Piece::Literal(".".into()));
    }

    #[test]
    fn malformed_placeholders_are_errors() {
        let unclosed = split("Olá, {{ client.name").err();
        assert_eq!(
            unclosed,
            Some(TemplateError {
                message: "o marcador `{{ client.name` nunca é fechado com `}}`".into(),
                offset: 6
            })
        );
        assert!(split("Olá, {{ }}").is_err());
        assert!(split("Olá, client.name }}").is_err());
        assert_eq!(split("sem marcadores").map(|p| p.len()), Ok(1));
    }
}
