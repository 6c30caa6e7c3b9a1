//! A policy file's YAML error made plain for the person who wrote it.
//!
//! serde's messages name positions in the data (`rules[36].actions[0]`),
//! list every allowed key, and say "mapping values are not allowed" for a
//! line indented too far. The writer thinks in rule ids and lines: this
//! names the rule by its id, suggests the closest allowed key, and calls an
//! over-indented line what it is.

use crate::text::suggest;

/// The message, line and column, rewritten where a plainer reading exists.
pub(crate) fn clearer(
    text: &str,
    message: String,
    line: Option<usize>,
    column: Option<usize>,
) -> (String, Option<usize>, Option<usize>) {
    if let Some(found) = line.and_then(|line| over_indented(text, line)) {
        return found;
    }
    if let Some(found) = line.and_then(|line| dedented_field(text, &message, line)) {
        return found;
    }
    let message = with_ids(text, &message);
    let message = with_suggestion(&message);
    (message, line, column)
}

/// `key: value` on a line indented deeper than the line before it, which
/// already holds a value: YAML reads it as a nested map and fails.
fn over_indented(text: &str, line: usize) -> Option<(String, Option<usize>, Option<usize>)> {
    let lines: Vec<&str> = text.lines().collect();
    let current = lines.get(line.checked_sub(1)?)?;
    let indent = |l: &str| l.len() - l.trim_start().len();
    let (previous_index, previous) = lines[..line - 1]
        .iter()
        .enumerate()
        .rev()
        .find(|(_, l)| !l.trim().is_empty() && !l.trim_start().starts_with('#'))?;
    let (mine, theirs) = (indent(current), indent(previous));
    let previous_has_value = previous
        .split_once(": ")
        .is_some_and(|(_, value)| !value.trim().is_empty() && !value.trim().starts_with('#'));
    let is_key = current
        .trim_start()
        .split_once(':')
        .is_some_and(|(key, _)| !key.is_empty() && key.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '-'));
    if mine <= theirs || !previous_has_value || !is_key || previous.trim_start().starts_with("- ") {
        return None;
    }
    let key = current.trim_start().split(':').next().unwrap_or_default();
    let message = format!(
        "indentação: `{key}` tem {mine} espaços, mais que os {theirs} da linha {} acima, que já tem valor; alinhe `{key}` com ela",
        previous_index + 1
    );
    Some((message, Some(line), Some(mine + 1)))
}

/// Most lines after an item looked at for its dedented field.
const ITEM_LINES: usize = 200;

/// A required field "missing" from a list item because its line is less
/// indented than the item's other fields: YAML reads it outside the item.
/// The problem is said at that line, not at the item's first.
fn dedented_field(text: &str, message: &str, line: usize) -> Option<(String, Option<usize>, Option<usize>)> {
    let field = message.split("campo obrigatório ausente `").nth(1)?.split('`').next()?;
    let lines: Vec<&str> = text.lines().collect();
    let item = lines.get(line.checked_sub(1)?)?;
    let dash = item.len() - item.trim_start().len();
    let content = item.trim_start().strip_prefix("- ")?;
    let fields_at = dash + 2 + (content.len() - content.trim_start().len());
    let first_key = content.trim_start().split(':').next().unwrap_or_default();
    for (index, next) in lines.iter().enumerate().skip(line).take(ITEM_LINES) {
        let indent = next.len() - next.trim_start().len();
        let trimmed = next.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        if trimmed.strip_prefix(field).is_some_and(|rest| rest.starts_with(':')) && indent < fields_at {
            let message = format!(
                "indentação: `{field}` tem {indent} espaços, menos que os {fields_at} dos campos do item da linha {line}, que fica sem `{field}`; alinhe `{field}` com `{first_key}`"
            );
            return Some((message, Some(index + 1), Some(indent + 1)));
        }
        if indent <= dash {
            return None;
        }
    }
    None
}

/// `rules[36].actions[0]: ...` becomes `` regra `padrao.xml`, ação `padrao.xml.bot`: ... ``
/// when the file parses as plain YAML and those items have ids.
fn with_ids(text: &str, message: &str) -> String {
    let Some((path, rest)) = message.split_once(": ") else {
        return message.to_string();
    };
    if !path.contains('[') || path.contains(' ') {
        return message.to_string();
    }
    let Ok(root) = serde_yaml::from_str::<serde_yaml::Value>(text) else {
        return message.to_string();
    };
    let mut node = &root;
    let mut named = Vec::new();
    for segment in path.split('.') {
        let (key, index) = match segment.split_once('[') {
            Some((key, index)) => (key, index.trim_end_matches(']').parse::<usize>().ok()),
            None => (segment, None),
        };
        let Some(next) = node.get(key) else {
            return message.to_string();
        };
        node = next;
        match index {
            Some(index) => {
                let Some(item) = node.get(index) else {
                    return message.to_string();
                };
                node = item;
                match item.get("id").and_then(serde_yaml::Value::as_str) {
                    Some(id) => named.push(format!("{} `{id}`", in_words(key))),
                    None => named.push(segment.to_string()),
                }
            }
            None => named.push(segment.to_string()),
        }
    }
    format!("{}: {rest}", named.join(", "))
}

/// What an item of a list is called, in the writer's words.
fn in_words(list: &str) -> &str {
    match list {
        "rules" => "regra",
        "actions" => "ação",
        "scripts" => "script",
        "reminders" => "lembrete",
        "cases" => "caso",
        other => other,
    }
}

/// "campo desconhecido `whn`, esperado um de `id`, `when`..." gains
/// "você quis dizer `when`?".
fn with_suggestion(message: &str) -> String {
    let Some((_, after)) = message.split_once("campo desconhecido `") else {
        return message.to_string();
    };
    let Some((unknown, allowed)) = after.split_once('`') else {
        return message.to_string();
    };
    let candidates: Vec<&str> = allowed.split('`').skip(1).step_by(2).collect();
    match suggest::closest(unknown, candidates) {
        Some(near) => format!("{message}; você quis dizer `{near}`?"),
        None => message.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_rule_by_its_id_and_suggests_the_key() {
        let text = "rules:\n  - id: a\n  - id: padrao.xml\n    whn: x\n";
        let (message, ..) = clearer(
            text,
            "rules[1]: campo desconhecido `whn`, esperado um de `id`, `when`, `phase`".into(),
            Some(4),
            Some(5),
        );
        assert_eq!(
            message,
            "regra `padrao.xml`: campo desconhecido `whn`, esperado um de `id`, `when`, `phase`; você quis dizer `when`?"
        );
    }

    #[test]
    fn an_over_indented_key_is_called_indentation_at_its_own_line() {
        let text = "rules:\n  - id: a\n    phase: b\n      when: c\n";
        let (message, line, column) = clearer(text, "valores de mapa não são permitidos".into(), Some(4), Some(11));
        assert_eq!((line, column), (Some(4), Some(7)));
        assert!(
            message.starts_with("indentação: `when` tem 6 espaços, mais que os 4 da linha 3"),
            "{message}"
        );
    }
}
