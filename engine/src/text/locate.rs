//! Finding where an item sits in a YAML file, for error messages.
//!
//! serde_yaml gives positions only for its own errors; for mistakes found
//! after parsing (a condition naming an unknown fact), the loader walks the
//! text to the item's anchors, e.g. the line `- id: io.agendar` and then the
//! first `when:` below it.

use std::fmt;

use serde::Serialize;

/// One step of the walk: a key, optionally with its exact scalar value.
pub type Anchor<'a> = (&'a str, Option<&'a str>);

/// Line (1-based) of the last anchor, each searched after the previous one.
pub fn line_of(text: &str, anchors: &[Anchor<'_>]) -> Option<usize> {
    let lines: Vec<&str> = text.lines().collect();
    let mut from = 0;
    let mut found = None;
    for (key, value) in anchors {
        let index = (from..lines.len()).find(|&i| matches_anchor(lines[i], key, *value))?;
        found = Some(index + 1);
        from = index + 1;
    }
    found
}

fn matches_anchor(line: &str, key: &str, value: Option<&str>) -> bool {
    let trimmed = line
        .trim_start()
        .trim_start_matches("- ")
        .trim_start()
        .trim_start_matches(['"', '\'']);
    let Some(rest) = trimmed.strip_prefix(key) else {
        return false;
    };
    let rest = rest.trim_start_matches(['"', '\'']);
    let Some(rest) = rest.strip_prefix(':') else {
        return false;
    };
    match value {
        None => true,
        Some(expected) => {
            let rest = rest.split(" #").next().unwrap_or(rest);
            rest.trim().trim_matches(['"', '\'']) == expected
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walks_anchors_in_order() {
        let text = "rules:\n  - id: a\n    when: x\n  - id: \"b\"\n    phase: p\n    when: y\n";
        assert_eq!(line_of(text, &[("id", Some("b")), ("when", None)]), Some(6));
        assert_eq!(line_of(text, &[("id", Some("a")), ("when", None)]), Some(3));
        assert_eq!(line_of(text, &[("id", Some("c"))]), None);
    }

    #[test]
    fn quoted_keys_match() {
        assert_eq!(
            line_of("facts:\n  \"client.plan\":\n", &[("client.plan", None)]),
            Some(2)
        );
    }
}

/// Where a problem sits in a file. Lines and columns start at 1.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Location {
    /// Path of the file, relative to the bundle folder (or as given).
    pub file: String,
    /// Line, when known.
    pub line: Option<usize>,
    /// Column, when known.
    pub column: Option<usize>,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(line) = self.line {
            write!(f, ", linha {line}")?;
            if let Some(column) = self.column {
                write!(f, ", coluna {column}")?;
            }
        }
        Ok(())
    }
}
