//! Bounds and encoding of every text roteiro reads (situations and bundle
//! files), checked before any parser sees it.
//!
//! A parser given a 6 GB file or 100,000 nested `[` spends minutes or
//! gigabytes before it fails; these checks are one linear pass that refuses
//! such input at once, with the line and column of the problem.

/// Deepest nesting of lists and maps accepted.
pub const MAX_DEPTH: usize = 64;

/// Why a text was refused, with where (1-based line and column).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// What is wrong, in Portuguese.
    pub message: String,
    /// Line, when the problem has one.
    pub line: Option<usize>,
    /// Column, when the problem has one.
    pub column: Option<usize>,
}

impl Refusal {
    fn at(message: String, bytes: &[u8], offset: usize) -> Self {
        let (line, column) = position(bytes, offset);
        Self {
            message,
            line: Some(line),
            column: Some(column),
        }
    }
}

/// Line and column (1-based, in characters) of a byte offset.
pub fn position(bytes: &[u8], offset: usize) -> (usize, usize) {
    let before = bytes.get(..offset).unwrap_or(bytes);
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let line_start = before.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    let column = String::from_utf8_lossy(before.get(line_start..).unwrap_or_default())
        .chars()
        .count()
        + 1;
    (line, column)
}

/// The text of `bytes` when it is small enough, UTF-8 (a leading BOM is
/// dropped) and nested at most [`MAX_DEPTH`] deep.
pub fn checked_text(bytes: &[u8], limit: u64) -> Result<&str, Refusal> {
    if u64::try_from(bytes.len()).map_or(true, |len| len > limit) {
        return Err(Refusal {
            message: format!("grande demais: mais de {limit} bytes"),
            line: None,
            column: None,
        });
    }
    let bytes = bytes.strip_prefix("\u{feff}".as_bytes()).unwrap_or(bytes);
    let text = std::str::from_utf8(bytes).map_err(|err| {
        let at = err.valid_up_to();
        let byte = bytes.get(at).copied().unwrap_or_default();
        Refusal::at(format!("UTF-8 inválido: byte 0x{byte:02X}"), bytes, at)
    })?;
    check_depth(text)?;
    Ok(text)
}

/// The bytes that can change the nesting depth or the state of the scan
/// outside quotes and comments.
const STRUCTURAL: [bool; 256] = {
    let mut table = [false; 256];
    let mut index = 0;
    let bytes = b"\n\"'#[]{}";
    while index < bytes.len() {
        table[bytes[index] as usize] = true;
        index += 1;
    }
    table
};

/// Refuses flow nesting (`[`, `{`) and block nesting (indentation levels)
/// deeper than [`MAX_DEPTH`], skipping quoted strings and comments.
fn check_depth(text: &str) -> Result<(), Refusal> {
    let bytes = text.as_bytes();
    let too_deep = |offset: usize| {
        Refusal::at(
            format!("aninhamento mais fundo que {MAX_DEPTH} níveis de listas e mapas"),
            bytes,
            offset,
        )
    };
    let mut depth = 0usize;
    let mut quote: Option<u8> = None;
    let mut escaped = false;
    let mut comment = false;
    let mut indents: Vec<usize> = Vec::new();
    let mut line_start = true;
    let mut indent = 0usize;
    for (offset, &byte) in bytes.iter().enumerate() {
        // Most bytes are inside a line and neither open, close, quote nor
        // comment anything: one table lookup passes them over.
        if !line_start && !comment && quote.is_none() && !STRUCTURAL[usize::from(byte)] {
            continue;
        }
        if byte == b'\n' {
            comment = false;
            line_start = true;
            indent = 0;
            // YAML quoted scalars may span lines; JSON strings may not, and
            // the parser reports those.
            continue;
        }
        if line_start {
            if byte == b' ' || byte == b'-' {
                indent += 1;
                continue;
            }
            line_start = false;
            if quote.is_none() && depth == 0 && byte != b'#' {
                while indents.last().is_some_and(|&last| last >= indent) {
                    indents.pop();
                }
                indents.push(indent);
                if indents.len() > MAX_DEPTH + 1 {
                    return Err(too_deep(offset));
                }
            }
        }
        if comment {
            continue;
        }
        match quote {
            Some(q) => {
                if escaped {
                    escaped = false;
                } else if byte == b'\\' && q == b'"' {
                    escaped = true;
                } else if byte == q {
                    quote = None;
                }
            }
            None => match byte {
                b'"' | b'\'' => quote = Some(byte),
                b'#' => comment = true,
                b'[' | b'{' => {
                    depth += 1;
                    if depth + indents.len().saturating_sub(1) > MAX_DEPTH {
                        return Err(too_deep(offset));
                    }
                }
                b']' | b'}' => depth = depth.saturating_sub(1),
                _ => {}
            },
        }
    }
    Ok(())
}

/// A parser's message in Portuguese: serde_yaml's and serde_json's English
/// never reaches the user. Unknown messages become a plain "sintaxe
/// inválida"; the line and column still say where.
pub fn syntax_message(english: &str) -> String {
    const KNOWN: [(&str, &str); 22] = [
        ("EOF while parsing", "o texto termina antes de fechar o que foi aberto"),
        ("trailing characters", "há texto depois do fim do documento"),
        ("trailing comma", "vírgula sobrando antes de fechar"),
        ("expected `,` or `}`", "esperada `,` ou `}`"),
        ("expected `,` or `]`", "esperada `,` ou `]`"),
        ("expected `:`", "esperado `:` depois da chave"),
        ("expected value", "esperado um valor"),
        ("expected ident", "valor malformado (use true, false ou null)"),
        ("key must be a string", "a chave precisa ser um texto entre aspas"),
        ("invalid escape", "sequência de escape inválida no texto"),
        ("invalid number", "número malformado"),
        ("number out of range", "número fora do intervalo"),
        ("control character", "caractere de controle dentro de um texto"),
        ("invalid unicode code point", "código unicode inválido"),
        ("lone leading surrogate", "código unicode inválido"),
        ("recursion limit exceeded", "aninhamento fundo demais"),
        (
            "more than one document",
            "mais de um documento no mesmo arquivo (`---`)",
        ),
        (
            "did not find expected key",
            "chave esperada não encontrada (indentação ou `:` faltando?)",
        ),
        ("did not find expected ',' or ']'", "esperada `,` ou `]`"),
        (
            "did not find expected ',' or '}'",
            "esperada `,` ou `}` (mapa aberto com `{` não fechado)",
        ),
        (
            "mapping values are not allowed in this context",
            "`: ` não é permitido aqui (use aspas no texto que contém `: `)",
        ),
        (
            "found character that cannot start any token",
            "caractere que não pode começar um valor (`@`, `` ` `` ou tabulação?)",
        ),
    ];
    const MORE: [(&str, &str); 8] = [
        (
            "found unexpected end of stream",
            "o texto termina antes de fechar o que foi aberto",
        ),
        ("found undefined tag handle", "tag YAML desconhecida"),
        (
            "found unknown escape character",
            "sequência de escape inválida no texto",
        ),
        (
            "block sequence entries are not allowed",
            "item de lista (`- `) fora do lugar",
        ),
        ("could not find expected ':'", "`:` esperado depois da chave"),
        ("unknown anchor", "âncora YAML desconhecida"),
        ("found a tab character", "tabulação na indentação; use espaços"),
        ("invalid type", "tipo inválido"),
    ];
    KNOWN
        .iter()
        .chain(MORE.iter())
        .find(|(english_part, _)| english.contains(english_part))
        .map_or_else(
            || "sintaxe inválida".to_string(),
            |(_, portuguese)| (*portuguese).to_string(),
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn size_encoding_and_bom() {
        assert!(checked_text(b"a: 1\n", 4).is_err());
        assert_eq!(checked_text("\u{feff}a: 1\n".as_bytes(), 100), Ok("a: 1\n"));
        let err = checked_text(b"a: 1\nb: \xff\n", 100).err();
        assert_eq!(err.as_ref().and_then(|e| e.line), Some(2));
        assert_eq!(err.as_ref().and_then(|e| e.column), Some(4));
        assert!(err.is_some_and(|e| e.message.contains("0xFF")));
    }

    #[test]
    fn deep_nesting_is_refused_in_one_pass() {
        let deep = "[".repeat(100_000);
        let err = checked_text(deep.as_bytes(), 1 << 20).err();
        assert_eq!(err.and_then(|e| e.column), Some(MAX_DEPTH + 1));
        let ok = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(checked_text(ok.as_bytes(), 1 << 20).is_ok());
        // Brackets inside quotes and comments do not count.
        let quoted = format!("a: \"{}\" # {}\n", "[".repeat(200), "{".repeat(200));
        assert!(checked_text(quoted.as_bytes(), 1 << 20).is_ok());
        let block: String = (0..100).map(|i| format!("{}k{i}:\n", " ".repeat(i))).collect();
        assert!(checked_text(block.as_bytes(), 1 << 20).is_err());
    }

    #[test]
    fn parser_messages_come_out_in_portuguese() {
        assert_eq!(
            syntax_message("EOF while parsing an object"),
            "o texto termina antes de fechar o que foi aberto"
        );
        assert_eq!(syntax_message("something new"), "sintaxe inválida");
    }
}
