//! What a bundle's expressions are checked against while it loads: the
//! vocabulary, the catalog, the callable functions and the manifest.

use std::collections::{BTreeMap, BTreeSet};

use rhai::Engine;

use crate::expr::sandbox;
use crate::facts::vocabulary::Vocabulary;
use crate::model::bundle::GLOBALS;
use crate::model::parameters::Parameters;
use crate::model::policy::{CatalogFile, FactKind, Manifest};

/// What expressions are checked against.
pub(super) struct Context<'a> {
    pub(super) vocabulary: &'a Vocabulary,
    pub(super) catalog: &'a CatalogFile,
    pub(super) functions: BTreeSet<String>,
    pub(super) engine: &'a Engine,
    /// The names every expression compiles against, built once.
    pub(super) scope: rhai::Scope<'static>,
    pub(super) manifest: &'a Manifest,
    /// The parameters `param.NAME` stands for.
    pub(super) parameters: &'a Parameters,
}

impl<'a> Context<'a> {
    /// The context of a bundle being loaded, its scope built once.
    pub(super) fn new(
        vocabulary: &'a Vocabulary,
        catalog: &'a CatalogFile,
        engine: &'a Engine,
        manifest: &'a Manifest,
        parameters: &'a Parameters,
    ) -> Self {
        Self {
            vocabulary,
            catalog,
            functions: sandbox::FUNCTION_NAMES.iter().map(|name| (*name).to_string()).collect(),
            engine,
            scope: sandbox::compile_scope(vocabulary, &GLOBALS),
            manifest,
            parameters,
        }
    }

    pub(super) fn check_path(&self, segments: &[String]) -> Option<String> {
        let root = segments.first()?;
        if root == "catalog" {
            return self.check_catalog(segments);
        }
        if !self.vocabulary.roots().iter().any(|(name, _)| name == root) {
            // Local variables and globals; strict compilation catches the rest.
            return None;
        }
        for end in (1..=segments.len()).rev() {
            let path = segments[..end].join(".");
            match self.vocabulary.lookup(&path) {
                Some(crate::facts::vocabulary::PathKind::Fact(_)) if end < segments.len() => {
                    return Some(format!("`{path}` é um fato, não tem o campo `{}`", segments[end]));
                }
                Some(_) => return None,
                None if end == segments.len() => {
                    let group = segments[..end - 1].join(".");
                    let near = self
                        .vocabulary
                        .children(&group)
                        .iter()
                        .map(|(name, _)| *name)
                        .collect::<Vec<_>>()
                        .join(", ");
                    return Some(format!(
                        "`{path}` não está declarado no vocabulário; `{group}` tem: {near}"
                    ));
                }
                None => {}
            }
        }
        None
    }

    pub(super) fn check_catalog(&self, segments: &[String]) -> Option<String> {
        let kind = segments.get(1)?;
        let entries: Option<&BTreeMap<String, String>> = match kind.as_str() {
            "teams" => Some(&self.catalog.teams),
            "macros" => Some(&self.catalog.macros),
            other => self.catalog.other.get(other),
        };
        let Some(entries) = entries else {
            return Some(format!("o catálogo não tem a lista `{kind}`"));
        };
        let key = segments.get(2)?;
        (!entries.contains_key(key)).then(|| format!("`catalog.{kind}.{key}` não está no catálogo"))
    }

    pub(super) fn check_comparison(&self, path: &str, literals: &[String]) -> Option<String> {
        let fact = self.vocabulary.fact(path)?;
        match fact.spec.kind {
            FactKind::Enum => {
                let values = fact.spec.values.as_deref().unwrap_or_default();
                let wrong: Vec<&String> = literals.iter().filter(|literal| !values.contains(literal)).collect();
                (!wrong.is_empty()).then(|| {
                    format!(
                        "`{path}` é comparado com {}, que não está entre seus valores: {}",
                        wrong.iter().map(|w| format!("`{w}`")).collect::<Vec<_>>().join(", "),
                        values.join(", ")
                    )
                })
            }
            FactKind::Text => None,
            kind => Some(format!("`{path}` é um fato {kind:?} e está comparado com texto")),
        }
    }
}
