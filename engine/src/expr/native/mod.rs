//! Expressions compiled to a native tree, evaluated without Rhai.
//!
//! The bundle's conditions, computes, placeholders and derivations use a
//! small part of Rhai: fact paths, literals, comparisons, `in`, `&& || !`,
//! integer arithmetic, `given`, `let`, `if` and the date helpers. At load,
//! every expression whose Rhai AST stays inside that part is also compiled
//! here; the evaluator runs this tree and keeps Rhai for the rest.
//!
//! The tree reads facts through the same [`Probe`] as Rhai does, in the same
//! order (left to right, `&&`/`||` short-circuit), so the exploration of
//! absent facts in `evaluate` sees the same reads and the same choices: a
//! decision is byte for byte the one Rhai would make. Whatever the tree
//! cannot answer exactly as Rhai would (a type mismatch, an overflow, a date
//! out of range, a misspelt helper argument) ends the run with
//! [`Stop::Rhai`], and the evaluator redoes the whole expression on Rhai,
//! which gives the error in its own words.
//!
//! `tree` holds the tree's types, `compile` builds it from Rhai's AST at
//! load, `eval` runs it when deciding. Callers name the part they use.

pub(crate) mod compile;
pub(crate) mod eval;
pub(crate) mod tree;

#[cfg(test)]
mod tests {

    /// The narrowing of the condition of a bundle's only rule, as the
    /// values tried for `caso.kind` (declared `k1` to `k4`).
    fn kinds_tried(when: &str) -> Option<Vec<String>> {
        let bundle = crate::test_bundle::with_procedure(&format!(
            "document: d.txt\ntitle: t\nrules:\n  - id: r\n    section: '1'\n    phase: a\n    when: '{when}'\n    set: {{route: x}}\n"
        ));
        let rule = bundle.rules.first().expect("one rule");
        let block = rule
            .when
            .as_ref()
            .and_then(|expr| expr.native.as_ref())
            .expect("native");
        let slot = bundle.vocabulary.slot("caso.kind").expect("declared");
        let domain = &bundle.slots.get(slot).expect("slot").domain;
        block.narrowing.of(slot).map(|indexes| {
            indexes
                .iter()
                .map(|index| {
                    let mut shown = String::new();
                    domain[*index].write_display(&mut shown);
                    shown
                })
                .collect()
        })
    }

    #[test]
    fn values_an_expression_never_names_are_tried_once() {
        // The named value, and one of the others for all of them.
        assert_eq!(kinds_tried(r#"caso.kind == "k2""#).unwrap(), ["k1", "k2"]);
        assert_eq!(
            kinds_tried(r#"caso.kind != "k1" && caso.kind in ["k3"]"#).unwrap(),
            ["k1", "k2", "k3"]
        );
        // Through a local that holds the fact, and through a derivation
        // that only compares it too.
        assert_eq!(kinds_tried(r#"let k = caso.kind; k == "k3""#).unwrap(), ["k1", "k3"]);
        assert_eq!(
            kinds_tried(r#"caso.kind == "k2" || caso.listed"#).unwrap(),
            ["k1", "k2", "k3"]
        );
    }

    #[test]
    fn a_fact_used_any_other_way_is_tried_with_every_value() {
        // Every value named: nothing to narrow.
        assert_eq!(kinds_tried(r#"caso.kind in ["k1", "k2", "k3", "k4"]"#), None);
        // Compared with another fact, here or in a derivation it reads.
        assert_eq!(kinds_tried(r#"caso.kind == "k2" || caso.name == caso.kind"#), None);
        assert_eq!(kinds_tried(r#"caso.kind == "k2" || caso.special"#), None);
        // Held in a local used as a value.
        assert_eq!(kinds_tried(r#"let k = caso.kind; k == "k2" || k == caso.name"#), None);
    }
}
