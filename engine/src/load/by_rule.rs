//! Reading a procedure file a batch of rules at a time.
//!
//! serde_yaml keeps every event of a document while it deserializes it,
//! 192 bytes an event: a 10,000-rule file holds 25 MB of events (and the
//! copies its growing list leaves behind) at once, more than the loaded
//! bundle itself. A procedure file is a mapping whose `rules:` is a block
//! sequence, so runs of its entries can be read as small documents of
//! their own and the rest of the file as another; the loader compiles
//! each batch while the next is read.
//!
//! This is only a shortcut: when the text is not in that plain shape, or
//! any batch does not parse, the loader reads every file again whole, so
//! what a file means and every error message are serde_yaml's. A batch
//! that parses on its own parses the same inside the file: an entry starts
//! at a line whose dash is at the entries' indentation, which ends any
//! block scalar, plain scalar or mapping of the entry before it; a quoted
//! scalar or flow collection cut by such a line leaves its batch
//! unterminated, and an alias to an anchor in another batch is unknown in
//! its own, so both fall back (the property test below slips such lines
//! into the shipped files).

use serde::de::{DeserializeOwned, IgnoredAny};

use crate::model::policy::{ProcedureFile, RuleSpec};

/// The key whose block sequence is read entry by entry.
const RULES_KEY: &str = "rules:";

/// Text read as one document at a time: whole entries up to about this
/// many bytes. Parsing starts a libyaml parser, so one per entry costs
/// more than the memory it saves; 16 KiB of entries are some 1,000 events.
const BATCH_BYTES: usize = 16 * 1024;

/// A procedure file cut into the rest of the file and its rule entries.
#[derive(Debug, PartialEq, Eq)]
struct Pieces<'t> {
    text: &'t str,
    /// The file up to its `rules:` line.
    head: &'t str,
    /// The file without its entries, `rules:` given an empty list.
    rest: String,
    /// Where each entry starts, then where the last one ends.
    bounds: Vec<usize>,
}

impl<'t> Pieces<'t> {
    /// Each entry's lines, a one-item block sequence.
    #[cfg(test)]
    fn entries(&self) -> Vec<&'t str> {
        self.bounds
            .windows(2)
            .map(|pair| &self.text[pair[0]..pair[1]])
            .collect()
    }

    /// Runs of whole entries of about `size` bytes.
    fn batches(&self, size: usize) -> Vec<Batch<'t>> {
        let mut batches = Vec::new();
        let (mut start, mut count) = (self.bounds[0], 0);
        for (index, &end) in self.bounds.iter().enumerate().skip(1) {
            count += 1;
            if end - start >= size || index + 1 == self.bounds.len() {
                batches.push(Batch {
                    text: &self.text[start..end],
                    entries: count,
                });
                (start, count) = (end, 0);
            }
        }
        batches
    }
}

/// The file read a batch of rules at a time, or whole when it must be;
/// `None` when it does not read at all. For readers of one file (lint);
/// the loader reads batches as it compiles them (`start`).
pub(super) fn read(text: &str) -> Option<ProcedureFile> {
    read_in_batches(text, BATCH_BYTES).or_else(|| parse(text))
}

fn read_in_batches(text: &str, batch_bytes: usize) -> Option<ProcedureFile> {
    let (mut procedure, batches) = start_in_batches(text, batch_bytes)?;
    for batch in batches {
        procedure.rules.extend(batch.read()?);
    }
    Some(procedure)
}

/// Whole rule entries of a file, read as one block sequence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Batch<'t> {
    text: &'t str,
    entries: usize,
}

impl Batch<'_> {
    /// How many rules the batch holds.
    pub(super) fn entries(&self) -> usize {
        self.entries
    }

    /// The batch's rules, or `None` when it does not read on its own as
    /// one rule per entry (the file must then be read whole).
    pub(super) fn read(&self) -> Option<Vec<RuleSpec>> {
        parse::<Vec<RuleSpec>>(self.text).filter(|rules| rules.len() == self.entries)
    }
}

/// A file without its rules, and the batches of its rule entries, or
/// `None` when the file must be read whole.
pub(super) fn start(text: &str) -> Option<(ProcedureFile, Vec<Batch<'_>>)> {
    start_in_batches(text, BATCH_BYTES)
}

fn start_in_batches(text: &str, batch_bytes: usize) -> Option<(ProcedureFile, Vec<Batch<'_>>)> {
    let pieces = split(text)?;
    // The head must be whole on its own, or the `rules:` line could be
    // inside one of its quoted scalars or flow collections.
    parse::<IgnoredAny>(pieces.head)?;
    let procedure: ProcedureFile = parse(&pieces.rest)?;
    if !procedure.rules.is_empty() {
        return None;
    }
    Some((procedure, pieces.batches(batch_bytes)))
}

fn parse<T: DeserializeOwned>(text: &str) -> Option<T> {
    serde_yaml::from_str(text).ok()
}

/// Cuts `text` at its entries, or `None` when its shape is not the plain
/// one: exactly one `rules:` line at the margin with nothing after the
/// colon, its entries all at one indentation, no directive or document
/// marker anywhere.
fn split(text: &str) -> Option<Pieces<'_>> {
    let mut rules_line: Option<(usize, usize)> = None;
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let content = line.trim_end();
        if content.starts_with('%') || content.starts_with("---") || content.starts_with("...") {
            return None;
        }
        if content == RULES_KEY {
            if rules_line.is_some() {
                return None;
            }
            rules_line = Some((offset, offset + line.len()));
        }
        offset += line.len();
    }
    let (key_start, region_start) = rules_line?;

    let mut indent: Option<usize> = None;
    let mut entry_starts = Vec::new();
    let mut region_end = text.len();
    let mut offset = region_start;
    for line in text[region_start..].split_inclusive('\n') {
        let content = line.trim_end();
        let body = content.trim_start_matches(' ');
        let column = content.len() - body.len();
        if body.is_empty() || body.starts_with('#') {
            offset += line.len();
            continue;
        }
        let is_entry = body == "-" || body.starts_with("- ");
        match indent {
            None if is_entry => {
                indent = Some(column);
                entry_starts.push(offset);
            }
            None => return None,
            Some(expected) if column == expected && is_entry => entry_starts.push(offset),
            Some(expected) if column > expected => {}
            Some(_) if column == 0 => {
                region_end = offset;
                break;
            }
            Some(_) => return None,
        }
        offset += line.len();
    }
    if entry_starts.is_empty() {
        return None;
    }
    let mut bounds = entry_starts;
    bounds.push(region_end);
    let mut rest = String::with_capacity(key_start + text.len() - region_end + 16);
    rest.push_str(&text[..key_start]);
    rest.push_str("rules: []\n");
    rest.push_str(&text[region_end..]);
    Some(Pieces {
        text,
        head: &text[..key_start],
        rest,
        bounds,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn whole(text: &str) -> Option<ProcedureFile> {
        serde_yaml::from_str(text).ok()
    }

    /// The same procedure, compared through its JSON (the types do not
    /// implement `PartialEq`).
    fn same(a: &ProcedureFile, b: &ProcedureFile) -> bool {
        serde_json::to_value(a).ok() == serde_json::to_value(b).ok()
    }

    /// `text` read by rule, checked to be what the whole file reads as.
    fn read_as_whole(text: &str) -> ProcedureFile {
        let by_rule = read_in_batches(text, BATCH_BYTES).expect("reads rule by rule");
        assert!(same(&by_rule, &whole(text).expect("valid")), "{text}");
        by_rule
    }

    const PLAIN: &str = "\
# comentário
document: doc.txt
title: Título
rules:
  - id: a
    section: '1'
    phase: triagem
    when: caso.n > 1
    actions:
      - {id: p, text: Passo}
  # entre regras
  - id: b
    section: '2'
    phase: triagem
    actions:
      - id: q
        text: |
          Linha um
          - não é uma regra
flow: principal
";

    #[test]
    fn a_plain_file_is_cut_at_its_entries_and_reads_as_the_whole() {
        let pieces = split(PLAIN).expect("plain shape");
        let entries = pieces.entries();
        assert_eq!(entries.len(), 2);
        assert!(entries[0].starts_with("  - id: a"));
        assert!(entries[0].ends_with("# entre regras\n"));
        assert!(entries[1].ends_with("- não é uma regra\n"));
        let batch = |text, entries| Batch { text, entries };
        assert_eq!(pieces.batches(1), [batch(entries[0], 1), batch(entries[1], 1)]);
        let both = &PLAIN[PLAIN.find("  - id: a").unwrap_or(0)..PLAIN.find("flow:").unwrap_or(0)];
        assert_eq!(pieces.batches(BATCH_BYTES), [batch(both, 2)]);
        assert_eq!(
            pieces.rest,
            "# comentário\ndocument: doc.txt\ntitle: Título\nrules: []\nflow: principal\n"
        );
        assert_eq!(read_as_whole(PLAIN).rules.len(), 2);
    }

    #[test]
    fn entries_at_the_margin_are_cut_too() {
        let text = "document: d\ntitle: t\nrules:\n- id: a\n  section: '1'\n  phase: p\n-\n  id: b\n  section: '2'\n  phase: p\n";
        assert_eq!(read_as_whole(text).rules.len(), 2);
    }

    #[test]
    fn rules_may_come_first() {
        let text = "rules:\n  - id: a\n    section: '1'\n    phase: p\ndocument: d\ntitle: t\n";
        let by_rule = read_as_whole(text);
        assert_eq!((by_rule.rules.len(), by_rule.title.as_str()), (1, "t"));
    }

    #[test]
    fn other_shapes_are_left_to_the_whole_file() {
        for text in [
            // No block sequence under `rules:`.
            "document: d\ntitle: t\nrules: []\n",
            "document: d\ntitle: t\nrules:\n",
            "document: d\ntitle: t\nrules: # nada\n  - id: a\n    section: '1'\n",
            // Two `rules:` keys (serde_yaml's duplicate-field error stays).
            "document: d\ntitle: t\nrules:\n  - id: a\n    section: '1'\nrules:\n  - id: b\n    section: '2'\n",
            // A document marker or directive.
            "---\ndocument: d\ntitle: t\nrules:\n  - id: a\n    section: '1'\n",
            "%YAML 1.2\ndocument: d\ntitle: t\nrules:\n  - id: a\n    section: '1'\n",
            // A line less indented than the entries but not at the margin.
            "document: d\ntitle: t\nrules:\n    - id: a\n      section: '1'\n  - id: b\n    section: '2'\n",
            // A key where an entry was expected.
            "document: d\ntitle: t\nrules:\n  id: a\n",
        ] {
            assert_eq!(split(text), None, "{text}");
        }
    }

    #[test]
    fn pieces_that_need_each_other_fall_back() {
        // Read an entry at a time, so that every entry is cut from the next.
        for (text, whole_is_valid) in [
            // An alias to an anchor of another entry.
            ("document: d\ntitle: t\nrules:\n  - id: a\n    section: &s '1'\n    phase: p\n  - id: b\n    section: *s\n    phase: p\n", true),
            // A quoted scalar across an entry's first line.
            ("document: d\ntitle: t\nrules:\n  - id: a\n    phase: p\n    section: \"1\n  - b\"\n", true),
            // The `rules:` line inside a quoted scalar of the head, with a
            // real `rules:` later: the whole file has no rule.
            ("document: d\ntitle: \"t\nrules:\n  - id: a\n    section: '1'\n    phase: p\n\"\nrules: []\n", true),
            // A flow list across it.
            ("document: d\ntitle: t\nrules:\n  - id: a\n    section: '1'\n    phase: p\n    context: [x,\n  - y]\n", false),
        ] {
            assert!(split(text).is_some(), "{text}");
            assert!(read_in_batches(text, 1).is_none(), "{text}");
            // What the file means is then serde_yaml's, valid or not.
            assert_eq!(whole(text).is_some(), whole_is_valid, "{text}");
        }
    }

    fn shipped_procedures() -> Vec<(String, String)> {
        let folder = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../policies/procedures");
        let mut files: Vec<(String, String)> = std::fs::read_dir(&folder)
            .into_iter()
            .flatten()
            .flatten()
            .map(|entry| entry.path())
            .filter(|path| path.extension().is_some_and(|ext| ext == "yaml"))
            .map(|path| {
                (
                    path.display().to_string(),
                    std::fs::read_to_string(&path).unwrap_or_default(),
                )
            })
            .collect();
        files.sort();
        files
    }

    #[test]
    fn every_shipped_procedure_reads_the_same_in_batches_of_any_size() {
        let files = shipped_procedures();
        assert!(files.len() >= 5, "{files:?}");
        for (path, text) in &files {
            let whole = whole(text).unwrap_or_else(|| panic!("{path} is valid"));
            for batch_bytes in [1, 1024, BATCH_BYTES] {
                let by_rule = read_in_batches(text, batch_bytes).unwrap_or_else(|| panic!("{path} reads by rule"));
                assert!(same(&by_rule, &whole), "{path} in batches of {batch_bytes} bytes");
            }
        }
    }

    /// Text that puts the cutting at risk: anchors and aliases across
    /// entries, quotes and flow lists across an entry's first line, block
    /// scalars holding dashes and `rules:`, lines at odd indentations,
    /// markers, tabs. Whole entries first, single lines after.
    const HOSTILE: &[&str] = &[
        "  - id: ancora\n    section: &s '9'\n    phase: triagem\n",
        "  - id: alias\n    section: *s\n    phase: triagem\n",
        "  - id: aspas\n    section: \"um\n  - dois\"\n    phase: triagem\n",
        "  - id: lista\n    section: '1'\n    phase: triagem\n    context: [a,\n  - b]\n",
        "  - id: bloco\n    section: '1'\n    phase: triagem\n    title: |\n      - não\n    \n      rules:\n",
        "  # comentário\n",
        "# na margem\n",
        "\n",
        "    title: &a texto\n",
        "    title: *a\n",
        "    title: \"aberta\n",
        "  - fecha\"\n",
        "rules:\n",
        "---\n",
        "   x\n",
        " - y\n",
        "\t- z\n",
        "  -\n",
        "flow: principal\n",
        "rules: []\n",
    ];

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(512))]

        /// Whatever is slipped into a shipped procedure, between its entries
        /// or anywhere, reading it by rule either gives what the whole file
        /// gives or declines.
        #[test]
        fn reading_by_rule_never_differs_from_the_whole_file(
            file in 0usize..5,
            insertions in proptest::collection::vec((proptest::bool::ANY, 0usize..400, 0..HOSTILE.len()), 1..4),
            batch_bytes in proptest::sample::select(vec![1usize, 700, BATCH_BYTES]),
        ) {
            let files = shipped_procedures();
            let (_, text) = &files[file % files.len()];
            let mut lines: Vec<&str> = text.split_inclusive('\n').collect();
            for (between_entries, at, hostile) in insertions {
                let mut at = at % (lines.len() + 1);
                if between_entries {
                    while at < lines.len() && !lines[at].starts_with("  - id:") {
                        at += 1;
                    }
                }
                lines.insert(at, HOSTILE[hostile]);
            }
            let text = lines.concat();
            if let Some(by_rule) = read_in_batches(&text, batch_bytes) {
                let whole = whole(&text);
                proptest::prop_assert!(whole.is_some(), "read by rule, invalid whole:\n{text}");
                proptest::prop_assert!(whole.is_some_and(|whole| same(&by_rule, &whole)), "differs:\n{text}");
            }
        }
    }
}
