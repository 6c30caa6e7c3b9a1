//! Compiling a loaded rule's expressions to the native tree, as soon as the
//! rule is compiled: what the native compiler needs of the whole bundle (the
//! vocabulary, the catalog, the derivations) is known before the first rule,
//! and letting each rule's Rhai trees go right away keeps a large bundle
//! from ever holding every expression twice.

use std::collections::BTreeMap;
use std::sync::Arc;

use rhai::AST;

use crate::expr::catalog::Catalog;
use crate::expr::native;
use crate::expr::slots::FactSlots;
use crate::facts::vocabulary::Vocabulary;

use crate::model::bundle::Rule;

/// The bundle-wide part of native compilation.
pub(super) struct NativePass<'a> {
    vocabulary: &'a Vocabulary,
    catalog: &'a Catalog,
    /// Derivations compiled natively, by fact: an expression reading a
    /// derived fact is native only when the derivation is.
    derived: BTreeMap<String, Arc<native::tree::Block>>,
    slots: FactSlots,
}

impl<'a> NativePass<'a> {
    pub(super) fn new(
        vocabulary: &'a Vocabulary,
        catalog: &'a Catalog,
        derivations: &BTreeMap<String, Arc<AST>>,
    ) -> Self {
        let none = BTreeMap::new();
        let names = native::compile::Names {
            vocabulary,
            catalog: catalog.lists(),
            native_derivations: &none,
        };
        let derived: BTreeMap<String, Arc<native::tree::Block>> = derivations
            .iter()
            .filter_map(|(path, ast)| Some((path.clone(), Arc::new(native::compile::compile(ast, &names)?))))
            .collect();
        let slots = FactSlots::new(vocabulary, derivations, &derived);
        Self {
            vocabulary,
            catalog,
            derived,
            slots,
        }
    }

    /// Compiles every expression of `rule` that fits the native subset,
    /// lets go of the Rhai trees the native tree replaces, and notes the
    /// equality the condition starts with.
    pub(super) fn compile_rule(&self, rule: &mut Rule) {
        let names = native::compile::Names {
            vocabulary: self.vocabulary,
            catalog: self.catalog.lists(),
            native_derivations: &self.derived,
        };
        for expr in rule.expressions_mut() {
            expr.native = expr
                .held_ast()
                .and_then(|ast| native::compile::compile(ast, &names))
                .map(|mut block| {
                    block.narrow(&self.slots);
                    Arc::new(block)
                });
            expr.release_ast_if_native();
        }
        rule.discriminant = rule
            .when
            .as_ref()
            .and_then(|expr| expr.native.as_deref())
            .and_then(native::tree::Discriminant::of);
    }

    /// The derivations compiled natively and the vocabulary by slot, for
    /// the bundle.
    pub(super) fn finish(self) -> (BTreeMap<String, Arc<native::tree::Block>>, FactSlots) {
        (self.derived, self.slots)
    }
}

#[cfg(test)]
mod tests {

    use crate::model::bundle::Expr;

    const PROCEDURE: &str = "document: d.txt\ntitle: t\nrules:\n  - id: nativa\n    section: '1'\n    phase: a\n    when: caso.kind == \"k2\"\n    set: {route: x}\n  - id: escolha\n    section: '2'\n    phase: a\n    when: 'switch caso.kind { \"k3\" => true, _ => false }'\n    set: {route: y}\n";

    #[test]
    fn only_expressions_left_on_rhai_keep_rhais_tree_after_load() {
        let bundle = crate::test_bundle::with_procedure(PROCEDURE);
        let when = |index: usize| -> &Expr { bundle.rules[index].when.as_ref().expect("a condition") };
        assert!(when(0).native.is_some() && when(0).held_ast().is_none());
        assert!(when(1).native.is_none() && when(1).held_ast().is_some());
    }

    #[test]
    fn a_released_tree_is_parsed_again_when_rhai_is_asked_for_it() {
        let bundle = crate::test_bundle::with_procedure(PROCEDURE);
        let expr = bundle.rules[0].when.as_ref().expect("a condition");
        let again = bundle.rhai_ast(expr).expect("parses as it did at load");
        let fresh = bundle
            .engine
            .compile_with_scope(
                &crate::expr::sandbox::compile_scope(&bundle.vocabulary, &crate::model::bundle::GLOBALS),
                &expr.source,
            )
            .expect("compiles");
        assert_eq!(format!("{:?}", again.statements()), format!("{:?}", fresh.statements()));
        // Kept from then on: the second ask parses nothing.
        assert!(expr.held_ast().is_some());
        // The condition in words walks Rhai's tree, released or not.
        assert_eq!(bundle.condition_in_words("nativa").as_deref(), Some("caso.kind é “k2”"));
    }

    #[test]
    fn a_follow_ups_closing_condition_is_worded_at_load_and_its_tree_still_let_go() {
        let procedure = "document: d.txt\ntitle: t\nrules:\n  - id: espera\n    section: '1'\n    phase: a\n    follow_ups:\n      - {id: retorno, text: Retorne., due: date(now), until: caso.flag}\n";
        let bundle = crate::test_bundle::with_procedure(procedure);
        let follow_up = &bundle.rules[0].follow_ups[0];
        let until = follow_up.until.as_ref().expect("a closing condition");
        assert!(until.native.is_some() && until.held_ast().is_none());
        assert_eq!(follow_up.until_words.as_deref(), Some("caso.flag"));
    }
}
