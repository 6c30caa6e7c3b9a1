//! What changed between two releases, in words a process owner reads:
//! rules added and removed, conditions changed, texts reworded, and any
//! other value of the bundle (a catalog entry, a vocabulary value, a
//! holiday) with its before and after. Read from the files themselves, so
//! two releases compare even when one of them no longer loads.

use std::collections::BTreeMap;

use roteiro_engine::SourceFile;
use serde_yaml::Value;

/// Most lines told (the rest are counted).
const MAX_LINES: usize = 300;

/// Deepest nesting compared value by value; deeper, a whole value.
const MAX_DEPTH: usize = 12;

/// Longest value quoted in a line, in characters.
const MAX_QUOTED: usize = 160;

/// Every change from `before` to `after`, one line each, file by file.
pub fn between(before: &[SourceFile], after: &[SourceFile]) -> Vec<String> {
    let old: BTreeMap<&str, &str> = before.iter().map(|f| (f.path.as_str(), f.text.as_str())).collect();
    let new: BTreeMap<&str, &str> = after.iter().map(|f| (f.path.as_str(), f.text.as_str())).collect();
    let mut lines = Vec::new();
    for (path, text) in &new {
        match old.get(path) {
            None => lines.push(format!("{path}: arquivo novo")),
            Some(previous) if previous == text => {}
            Some(previous) => file_changes(path, previous, text, &mut lines),
        }
    }
    for path in old.keys().filter(|path| !new.contains_key(*path)) {
        lines.push(format!("{path}: arquivo removido"));
    }
    if lines.len() > MAX_LINES {
        let more = lines.len() - MAX_LINES;
        lines.truncate(MAX_LINES);
        lines.push(format!("... e mais {more} mudança(s)"));
    }
    lines
}

fn parse(text: &str) -> Option<Value> {
    serde_yaml::from_str(text).ok()
}

fn file_changes(path: &str, before: &str, after: &str, lines: &mut Vec<String>) {
    let (Some(old), Some(new)) = (parse(before), parse(after)) else {
        lines.push(format!("{path}: arquivo mudou (não é um YAML legível)"));
        return;
    };
    let start = lines.len();
    if path.starts_with("procedures/") {
        rule_changes(path, &old, &new, lines);
        let (mut old, mut new) = (old, new);
        for value in [&mut old, &mut new] {
            if let Value::Mapping(map) = value {
                map.remove("rules");
            }
        }
        value_changes(path, "", &old, &new, 0, lines);
    } else {
        value_changes(path, "", &old, &new, 0, lines);
    }
    if lines.len() == start {
        lines.push(format!("{path}: só comentários ou formatação mudaram"));
    }
}

/// The rules of a procedure file by id, in file order.
fn rules(file: &Value) -> Vec<(String, &Value)> {
    file.get("rules")
        .and_then(Value::as_sequence)
        .map(|rules| {
            rules
                .iter()
                .filter_map(|rule| Some((rule.get("id")?.as_str()?.to_string(), rule)))
                .collect()
        })
        .unwrap_or_default()
}

fn rule_changes(path: &str, old: &Value, new: &Value, lines: &mut Vec<String>) {
    let (before, after) = (rules(old), rules(new));
    let title = |rule: &Value| {
        rule.get("title")
            .and_then(Value::as_str)
            .map(|title| format!(" ({title})"))
            .unwrap_or_default()
    };
    for (id, rule) in &after {
        match before.iter().find(|(old_id, _)| old_id == id) {
            None => lines.push(format!("{path}: regra nova `{id}`{}", title(rule))),
            Some((_, previous)) if previous == rule => {}
            Some((_, previous)) => {
                let place = format!("{path}: regra `{id}`");
                value_changes(&place, "", previous, rule, 0, lines);
            }
        }
    }
    for (id, rule) in &before {
        if !after.iter().any(|(new_id, _)| new_id == id) {
            lines.push(format!("{path}: regra removida `{id}`{}", title(rule)));
        }
    }
}

/// What a field is called in a line: conditions and texts by their role.
fn field_words(field: &str) -> String {
    let last = field.rsplit('.').next().unwrap_or(field);
    match last {
        "when" => format!("condição `{field}`"),
        "text" => format!("texto `{field}`"),
        _ => format!("`{field}`"),
    }
}

fn quoted(value: &Value) -> String {
    let text = match value {
        Value::String(text) => text.clone(),
        Value::Null => "(vazio)".to_string(),
        other => serde_yaml::to_string(other)
            .unwrap_or_default()
            .trim()
            .replace('\n', " "),
    };
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if text.chars().count() > MAX_QUOTED {
        format!("«{}...»", text.chars().take(MAX_QUOTED).collect::<String>())
    } else {
        format!("«{text}»")
    }
}

/// Both values quoted; two long texts from a little before where they
/// start to differ, so the change itself is what the line shows.
fn around_difference(old: &Value, new: &Value) -> (String, String) {
    const CONTEXT: usize = 30;
    let (Value::String(a), Value::String(b)) = (old, new) else {
        return (quoted(old), quoted(new));
    };
    let words = |text: &str| text.split_whitespace().collect::<Vec<_>>().join(" ");
    let (a, b) = (words(a), words(b));
    if a.chars().count() <= MAX_QUOTED && b.chars().count() <= MAX_QUOTED {
        return (quoted(old), quoted(new));
    }
    let same = a.chars().zip(b.chars()).take_while(|(x, y)| x == y).count();
    let skip = same.saturating_sub(CONTEXT);
    let from = |text: &str| {
        let rest: String = text.chars().skip(skip).collect();
        let shown = quoted(&Value::String(rest));
        if skip > 0 {
            shown.replacen('«', "«...", 1)
        } else {
            shown
        }
    };
    (from(&a), from(&b))
}

fn joined(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_string()
    } else {
        format!("{prefix}.{key}")
    }
}

/// A list item's name: its `id` when it has one, else its position.
fn item_key(item: &Value, at: usize) -> String {
    item.get("id")
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| (at + 1).to_string())
}

fn value_changes(place: &str, field: &str, old: &Value, new: &Value, depth: usize, lines: &mut Vec<String>) {
    if old == new || lines.len() > MAX_LINES {
        return;
    }
    match (old, new) {
        (Value::Mapping(a), Value::Mapping(b)) if depth < MAX_DEPTH => {
            for (key, value) in b {
                let name = joined(field, &key_text(key));
                match a.get(key) {
                    Some(previous) => value_changes(place, &name, previous, value, depth + 1, lines),
                    None => lines.push(format!("{place}: {} novo: {}", field_words(&name), quoted(value))),
                }
            }
            for (key, value) in a {
                if !b.contains_key(key) {
                    let name = joined(field, &key_text(key));
                    lines.push(format!(
                        "{place}: {} removido (era {})",
                        field_words(&name),
                        quoted(value)
                    ));
                }
            }
        }
        (Value::Sequence(a), Value::Sequence(b)) if depth < MAX_DEPTH && keyed(a) && keyed(b) => {
            let named = |items: &Vec<Value>| -> Vec<(String, Value)> {
                items
                    .iter()
                    .enumerate()
                    .map(|(at, item)| (item_key(item, at), item.clone()))
                    .collect()
            };
            let (a, b) = (named(a), named(b));
            for (key, value) in &b {
                let name = joined(field, key);
                match a.iter().find(|(old_key, _)| old_key == key) {
                    Some((_, previous)) => value_changes(place, &name, previous, value, depth + 1, lines),
                    None => lines.push(format!("{place}: `{name}` novo: {}", quoted(value))),
                }
            }
            for (key, value) in &a {
                if !b.iter().any(|(new_key, _)| new_key == key) {
                    lines.push(format!(
                        "{place}: `{}` removido (era {})",
                        joined(field, key),
                        quoted(value)
                    ));
                }
            }
        }
        _ => {
            let (before, after) = around_difference(old, new);
            lines.push(format!(
                "{place}: {} mudou: antes {before}, agora {after}",
                field_words(if field.is_empty() { "(arquivo)" } else { field }),
            ));
        }
    }
}

/// Whether every item of a list has an `id` (actions, scripts...), so
/// items compare by it rather than by position.
fn keyed(items: &[Value]) -> bool {
    !items.is_empty()
        && items
            .iter()
            .all(|item| item.get("id").and_then(Value::as_str).is_some())
}

fn key_text(key: &Value) -> String {
    match key {
        Value::String(text) => text.clone(),
        other => serde_yaml::to_string(other).unwrap_or_default().trim().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str, text: &str) -> SourceFile {
        SourceFile {
            path: path.to_string(),
            text: text.to_string(),
        }
    }

    #[test]
    fn rules_added_removed_and_changed_are_said_by_id_with_conditions_and_texts() {
        let before = [
            file(
                "procedures/a.yaml",
                "document: a.txt\nrules:\n  - id: a.um\n    title: Um\n    when: x == 1\n    actions:\n      - id: a.um.f\n        text: Faça isto.\n  - id: a.dois\n    title: Dois\n",
            ),
            file("catalog.yaml", "contatos:\n  whatsapp: \"1111\"\n  pix: \"1111\"\n"),
        ];
        let after = [
            file(
                "procedures/a.yaml",
                "document: a.txt\nrules:\n  - id: a.um\n    title: Um\n    when: x == 2\n    actions:\n      - id: a.um.f\n        text: Faça aquilo.\n  - id: a.tres\n    title: Três\n",
            ),
            file("catalog.yaml", "contatos:\n  whatsapp: \"2222\"\n  pix: \"1111\"\n"),
            file("tests/novo.yaml", "cases: []\n"),
        ];
        let lines = between(&before, &after);
        assert_eq!(
            lines,
            [
                "catalog.yaml: `contatos.whatsapp` mudou: antes «1111», agora «2222»",
                "procedures/a.yaml: regra `a.um`: condição `when` mudou: antes «x == 1», agora «x == 2»",
                "procedures/a.yaml: regra `a.um`: texto `actions.a.um.f.text` mudou: antes «Faça isto.», agora «Faça aquilo.»",
                "procedures/a.yaml: regra nova `a.tres` (Três)",
                "procedures/a.yaml: regra removida `a.dois` (Dois)",
                "tests/novo.yaml: arquivo novo",
            ]
        );
    }

    #[test]
    fn the_same_files_have_no_change_and_a_comment_is_said_as_formatting() {
        let one = [file("bundle.yaml", "name: x\n")];
        assert!(between(&one, &one).is_empty());
        let commented = [file("bundle.yaml", "# nota\nname: x\n")];
        assert_eq!(
            between(&one, &commented),
            ["bundle.yaml: só comentários ou formatação mudaram"]
        );
    }
}
