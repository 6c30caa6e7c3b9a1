//! Rhai's parse errors in Portuguese, each with what a process owner most
//! likely meant: `=` for `==`, a value written without quotes, two
//! conditions with no `&&` between them. What is not listed keeps Rhai's
//! own words, said as such.

use rhai::{LexError, ParseErrorType};

/// The error in Portuguese.
pub(crate) fn parse_error(err: &ParseErrorType) -> String {
    match err {
        ParseErrorType::BadInput(LexError::ImproperSymbol(symbol, _)) if symbol == "=" => {
            "`=` guarda um valor; para comparar use `==`".to_string()
        }
        ParseErrorType::BadInput(LexError::ImproperSymbol(symbol, _)) => format!("símbolo fora de lugar `{symbol}`"),
        ParseErrorType::BadInput(LexError::UnterminatedString) => "texto sem as aspas de fechamento".to_string(),
        ParseErrorType::BadInput(LexError::UnexpectedInput(text)) => format!("caractere inesperado `{text}`"),
        ParseErrorType::BadInput(LexError::MalformedNumber(text)) => format!("número mal escrito `{text}`"),
        ParseErrorType::VariableUndefined(name) => {
            format!("`{name}` não é um fato nem um nome conhecido; se é um valor, escreva-o entre aspas: \"{name}\"")
        }
        ParseErrorType::MissingToken(token, _) if token == ";" => {
            "duas partes seguidas sem nada entre elas: falta `&&`, `||` ou uma comparação?".to_string()
        }
        ParseErrorType::MissingToken(token, _) => format!("falta `{token}`"),
        ParseErrorType::UnexpectedEOF => "a expressão termina no meio: falta um valor ou um parêntese?".to_string(),
        ParseErrorType::UnknownOperator(operator) => format!("operador desconhecido `{operator}`"),
        ParseErrorType::Reserved(word) => format!("`{word}` é uma palavra reservada do Rhai"),
        ParseErrorType::ExprTooDeep => "expressão complexa demais".to_string(),
        ParseErrorType::LiteralTooLarge(..) => "valor grande demais".to_string(),
        other => format!("expressão inválida (nas palavras do Rhai: {other})"),
    }
}

/// Whether the error is a reserved word used as a name (a fact called
/// like one of Rhai's keywords).
pub(crate) fn is_reserved(err: &ParseErrorType) -> bool {
    matches!(err, ParseErrorType::Reserved(_))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(source: &str) -> String {
        let mut engine = rhai::Engine::new_raw();
        engine.set_strict_variables(true);
        let mut scope = rhai::Scope::new();
        scope.push("plan", 1_i64);
        let err = engine
            .compile_with_scope(&scope, source)
            .err()
            .map(|err| *err.0.clone());
        err.map(|err| parse_error(&err)).unwrap_or_default()
    }

    #[test]
    fn the_usual_slips_are_said_in_portuguese_with_what_was_meant() {
        let typo = message("plan == 1 && plan = 2");
        assert!(typo.contains("para comparar use `==`"), "{typo}");
        assert!(
            message("ultra").contains("escreva-o entre aspas: \"ultra\""),
            "{}",
            message("ultra")
        );
        assert!(message("\"a").contains("aspas de fechamento"), "{}", message("\"a"));
        let adjacent = message("plan == 1 plan == 2");
        assert!(adjacent.contains("falta `&&`"), "{adjacent}");
        assert!(message("(1 + ").contains("termina no meio"), "{}", message("(1 + "));
    }
}
