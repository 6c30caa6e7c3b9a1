//! Texts with `{{ expression }}` placeholders.
//!
//! A placeholder is any Rhai expression (`{{ client.name }}`,
//! `{{ fmt(add_days(billing.due_date, 7)) }}`); it is split out and compiled
//! once at load. A placeholder whose fact is unknown is shown as the fact's
//! label in brackets, never left blank; in a script (said to the client) the
//! fact is also reported missing, while in an action the bracketed label is
//! itself the instruction to collect it.

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

/// Splits a template; an unclosed or empty placeholder is an error.
pub fn split(text: &str) -> Result<Vec<Piece>, String> {
    let mut pieces = Vec::new();
    let mut rest = text;
    let mut consumed = 0;
    while let Some(open) = rest.find("{{") {
        if open > 0 {
            pieces.push(Piece::Literal(rest[..open].to_string()));
        }
        let after = &rest[open + 2..];
        let close = after
            .find("}}")
            .ok_or_else(|| format!("marcador aberto no byte {} nunca é fechado com `}}}}`", consumed + open))?;
        let source = after[..close].trim();
        if source.is_empty() {
            return Err(format!("marcador vazio no byte {}", consumed + open));
        }
        if source.contains("{{") {
            return Err(format!("o marcador no byte {} contém `{{{{`", consumed + open));
        }
        pieces.push(Piece::Placeholder {
            source: source.to_string(),
            offset: consumed + open,
        });
        let used = open + 2 + close + 2;
        consumed += used;
        rest = &rest[used..];
    }
    if rest.contains("}}") {
        return Err("`}}` sem `{{` correspondente".into());
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
        assert!(split("Olá, {{ client.name").is_err());
        assert!(split("Olá, {{ }}").is_err());
        assert!(split("Olá, client.name }}").is_err());
        assert_eq!(split("sem marcadores").map(|p| p.len()), Ok(1));
    }
}
