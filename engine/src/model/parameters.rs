//! The bundle's parameters as loaded (`parameters.yaml`, checked by
//! `load/parameters.rs`): `param.NAME` in an expression stands for one,
//! and `param.NAME.ordinal` for an integer's ordinal in words. The loader
//! puts each value in its place before compiling, so both evaluators, the
//! analysis and the explanations see a plain literal.

use std::collections::BTreeMap;

/// The prefix that names a parameter in an expression.
const PREFIX: &str = "param.";

/// A parameter's checked value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ParamValue {
    /// A whole number.
    Integer(i64),
    /// A text, one line.
    Text(String),
}

/// The bundle's parameters by name.
#[derive(Debug, Clone, Default)]
pub(crate) struct Parameters(BTreeMap<String, ParamValue>);

impl Parameters {
    /// The checked parameters.
    pub(crate) fn new(parameters: BTreeMap<String, ParamValue>) -> Self {
        Self(parameters)
    }
}

impl Parameters {
    /// The value of `name` as a YAML value, to compare with what a policy
    /// test assumes.
    pub(crate) fn yaml(&self, name: &str) -> Option<serde_yaml::Value> {
        Some(match self.0.get(name)? {
            ParamValue::Integer(n) => serde_yaml::Value::Number((*n).into()),
            ParamValue::Text(text) => serde_yaml::Value::String(text.clone()),
        })
    }

    /// `source` with every `param.NAME` (and `param.NAME.ordinal`) outside
    /// string literals replaced by its value as a Rhai literal; why not,
    /// naming the unknown parameter.
    pub(crate) fn substitute(&self, source: &str) -> Result<String, String> {
        if !source.contains(PREFIX) {
            return Ok(source.to_string());
        }
        let mut out = String::with_capacity(source.len());
        let mut rest = source;
        let mut quote: Option<char> = None;
        while let Some(c) = rest.chars().next() {
            if let Some(open) = quote {
                out.push(c);
                rest = &rest[c.len_utf8()..];
                if c == '\\' {
                    if let Some(escaped) = rest.chars().next() {
                        out.push(escaped);
                        rest = &rest[escaped.len_utf8()..];
                    }
                } else if c == open {
                    quote = None;
                }
                continue;
            }
            let starts_word = !out.ends_with(|p: char| p.is_alphanumeric() || p == '_' || p == '.');
            if starts_word && rest.starts_with(PREFIX) {
                let (literal, used) = self.literal(&rest[PREFIX.len()..])?;
                out.push_str(&literal);
                rest = &rest[PREFIX.len() + used..];
                continue;
            }
            if matches!(c, '"' | '\'' | '`') {
                quote = Some(c);
            }
            out.push(c);
            rest = &rest[c.len_utf8()..];
        }
        Ok(out)
    }

    /// The literal for `NAME` or `NAME.ordinal` at the start of `text`,
    /// and how many bytes it took.
    fn literal(&self, text: &str) -> Result<(String, usize), String> {
        let name_end = text
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(text.len());
        let name = &text[..name_end];
        let Some(value) = self.0.get(name) else {
            let hint = crate::text::suggest::hint(name, self.0.keys().map(String::as_str));
            let known = self.0.keys().cloned().collect::<Vec<_>>().join(", ");
            return Err(format!(
                "parâmetro desconhecido `param.{name}`{hint}; parameters.yaml declara: {known}"
            ));
        };
        let ordinal = ".ordinal";
        let wants_ordinal = text[name_end..].starts_with(ordinal)
            && !text[name_end + ordinal.len()..].starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_');
        match (value, wants_ordinal) {
            (ParamValue::Integer(n), true) => Ok((text_literal(&ordinal_words(*n)), name_end + ordinal.len())),
            (ParamValue::Text(_), true) => Err(format!("`param.{name}` é um texto; só números têm `.ordinal`")),
            (ParamValue::Integer(n), false) => Ok((n.to_string(), name_end)),
            (ParamValue::Text(text), false) => Ok((text_literal(text), name_end)),
        }
    }
}

/// A Rhai string literal holding `text`.
fn text_literal(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

/// The ordinal of `n` in words, masculine ("sétimo dia"); `Nº` past 99.
pub(crate) fn ordinal_words(n: i64) -> String {
    const UNITS: [&str; 10] = [
        "", "primeiro", "segundo", "terceiro", "quarto", "quinto", "sexto", "sétimo", "oitavo", "nono",
    ];
    const TENS: [&str; 10] = [
        "",
        "décimo",
        "vigésimo",
        "trigésimo",
        "quadragésimo",
        "quinquagésimo",
        "sexagésimo",
        "septuagésimo",
        "octogésimo",
        "nonagésimo",
    ];
    if !(1..=99).contains(&n) {
        return format!("{n}º");
    }
    let (tens, units) = ((n / 10) as usize, (n % 10) as usize);
    match (TENS[tens], UNITS[units]) {
        ("", unit) => unit.to_string(),
        (ten, "") => ten.to_string(),
        (ten, unit) => format!("{ten} {unit}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parameters() -> Parameters {
        Parameters(BTreeMap::from([
            ("dias_ate_bloqueio".to_string(), ParamValue::Integer(7)),
            ("pix".to_string(), ParamValue::Text("(21) \"9\"".to_string())),
        ]))
    }

    #[test]
    fn a_parameter_becomes_its_literal_outside_strings_only() {
        let p = parameters();
        assert_eq!(
            p.substitute("add_days(billing.due_date, param.dias_ate_bloqueio)")
                .unwrap(),
            "add_days(billing.due_date, 7)"
        );
        assert_eq!(p.substitute("param.dias_ate_bloqueio.ordinal").unwrap(), "\"sétimo\"");
        assert_eq!(p.substitute("param.pix").unwrap(), r#""(21) \"9\"""#);
        assert_eq!(
            p.substitute(r#""param.pix" + x.param.pix"#).unwrap(),
            r#""param.pix" + x.param.pix"#
        );
        let unknown = p.substitute("param.dias_ate_bloqeio").unwrap_err();
        assert!(
            unknown.contains("`param.dias_ate_bloqeio`; você quis dizer `dias_ate_bloqueio`?"),
            "{unknown}"
        );
        assert!(p.substitute("param.pix.ordinal").is_err());
    }

    #[test]
    fn ordinals_in_words() {
        let said: Vec<String> = [1, 7, 10, 12, 20, 21, 99, 100].into_iter().map(ordinal_words).collect();
        assert_eq!(
            said,
            [
                "primeiro",
                "sétimo",
                "décimo",
                "décimo segundo",
                "vigésimo",
                "vigésimo primeiro",
                "nonagésimo nono",
                "100º"
            ]
        );
    }
}
