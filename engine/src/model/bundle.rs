//! The compiled bundle: its rules, expressions and texts as loading left
//! them, and what deciding reads. A bundle is built only by `load`, whole
//! or not at all.

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use rhai::{Engine, AST};

use crate::expr::catalog::Catalog;
use crate::expr::native;
use crate::expr::sandbox;
use crate::expr::slots::FactSlots;
use crate::facts::calendar::Calendar;
use crate::facts::shared::Shared;
use crate::facts::vocabulary::Vocabulary;
use crate::model::policy::Manifest;
use crate::model::rule_index::RuleIndex;
use crate::model::source::{BundleInfo, Source};

/// A file of a bundle: its path inside the bundle (with `/`) and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFile {
    /// Path relative to the bundle folder, e.g. `procedures/004-io.yaml`.
    pub path: String,
    /// Contents.
    pub text: String,
}

/// The files every bundle has, besides `procedures/*.yaml`.
pub const MANIFEST: &str = "bundle.yaml";
/// The fact vocabulary.
pub const VOCABULARY: &str = "vocabulary.yaml";
/// Names people read.
pub const CATALOG: &str = "catalog.yaml";
/// Business hours and holidays.
pub const CALENDAR: &str = "calendar.yaml";
/// The named numbers and texts the documents fix (optional).
pub const PARAMETERS: &str = "parameters.yaml";
/// Folder of the rule files.
pub const PROCEDURES: &str = "procedures/";
/// Folder of the policy tests.
pub const TESTS: &str = "tests/";

/// Largest `limits.situation_bytes` a bundle may set.
pub const MAX_SITUATION_BYTES: u64 = 16 * 1024 * 1024;

/// Longest text fact a bundle may allow, in characters: four bytes each
/// still fit Rhai's string limit, so a long fact never trips it.
pub const MAX_TEXT_LENGTH: usize = sandbox::MAX_STRING_BYTES / 4;

/// Variables every expression sees besides the fact groups.
pub(crate) const GLOBALS: [&str; 2] = ["catalog", "today"];

/// Rhai's own functions that are not listed among registered ones.
pub(crate) const BUILTIN_CALLS: [&str; 6] = ["type_of", "print", "debug", "is_def_var", "is_def_fn", "Fn"];

/// A rule's words every trace entry of it repeats, written once at load.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct RuleWords {
    pub id: Shared,
    pub source: Source,
    /// Why, when it fires and when it does not.
    pub reasons: [Shared; 2],
    /// Why it did not fire when the situation lacks the first group its
    /// context requires (the most common reason of all: every rule of
    /// another procedure's context).
    pub out_of_context: Shared,
}

/// An expression as written and as compiled.
pub(crate) struct Expr {
    pub source: String,
    /// Rhai's tree. An expression the native tree runs lets it go once the
    /// bundle is compiled (two trees per expression were a third of a large
    /// bundle's memory) and parses it again the first time Rhai is asked
    /// for it: an audit with `--engine rhai`, or a native run that defers.
    rhai: OnceLock<Arc<AST>>,
    /// The same expression as a native tree, when it stays inside the
    /// subset `native` compiles (set once the whole bundle is known).
    pub native: Option<Arc<native::tree::Block>>,
}

impl Expr {
    pub(crate) fn new(source: String, ast: Arc<AST>, native: Option<Arc<native::tree::Block>>) -> Self {
        Self {
            source,
            rhai: OnceLock::from(ast),
            native,
        }
    }

    /// Rhai's tree, when it is still held.
    pub(crate) fn held_ast(&self) -> Option<&Arc<AST>> {
        self.rhai.get()
    }

    /// Lets Rhai's tree go when the native tree runs the expression.
    pub(crate) fn release_ast_if_native(&mut self) {
        if self.native.is_some() {
            self.rhai = OnceLock::new();
        }
    }
}

/// A compiled text.
pub(crate) enum Segment {
    Literal(String),
    Placeholder(Expr),
}

/// An action, script or reminder, compiled.
pub(crate) struct Item {
    pub id: Shared,
    pub text: Vec<Segment>,
    /// The whole text when it has no placeholder: every decision that
    /// shows it shares it instead of writing it again.
    pub literal: Option<Shared>,
    pub when: Option<Expr>,
    pub team: Option<Shared>,
    pub macro_name: Option<Shared>,
    pub phase: usize,
    /// The phase's name, as decisions show it.
    pub phase_name: Shared,
}

/// A rule, compiled.
pub(crate) struct Rule {
    pub id: Shared,
    /// The trace's words when it fires and when it does not, written once
    /// at load instead of in every decision.
    pub reasons: [Shared; 2],
    /// The equality its condition starts with, so a decision can pass
    /// over a rule about another topic without running it.
    pub discriminant: Option<native::tree::Discriminant>,
    /// The flow it belongs to, if any.
    pub flow: Option<Shared>,
    /// The flows it ends when it fires.
    pub stops: Vec<String>,
    pub file: String,
    pub source: Source,
    pub when: Option<Expr>,
    pub priority: i64,
    pub group: Option<String>,
    /// Groups the situation must give for the rule to apply.
    pub context: Vec<String>,
    /// The same groups by their place in `Bundle::context_groups`, each
    /// with the trace's words when the situation lacks it.
    pub required: Vec<(usize, Shared)>,
    /// The outputs the rule sets, shared with the trace of every decision
    /// it fires in.
    pub set: Arc<BTreeMap<String, serde_json::Value>>,
    pub compute: Vec<(String, Expr)>,
    pub actions: Vec<Item>,
    pub scripts: Vec<Item>,
    pub reminders: Vec<Item>,
    pub follow_ups: Vec<FollowUp>,
}

/// A follow-up, compiled: its text and team as an item's, the moment it is
/// due and the condition that closes it.
pub(crate) struct FollowUp {
    pub item: Item,
    /// Absent when the procedure gives the wait no deadline.
    pub due: Option<Expr>,
    pub until: Option<Expr>,
    /// `until` in words, as analysts read it (worked out once the bundle
    /// is built).
    pub until_words: Option<Shared>,
}

impl FollowUp {
    /// Its expressions with the field each is written in.
    fn expressions(&self) -> impl Iterator<Item = (&'static str, &Expr)> {
        self.item
            .expressions()
            .map(|expr| ("text", expr))
            .chain(self.due.iter().map(|expr| ("due", expr)))
            .chain(self.until.iter().map(|expr| ("until", expr)))
    }
}

impl Rule {
    /// What a trace entry of the rule repeats.
    pub(crate) fn words(&self) -> RuleWords {
        RuleWords {
            id: self.id.clone(),
            source: self.source.clone(),
            reasons: self.reasons.clone(),
            out_of_context: self
                .context
                .first()
                .map_or_else(|| self.reasons[1].clone(), |group| out_of_context(group)),
        }
    }
}

impl Item {
    fn expressions(&self) -> impl Iterator<Item = &Expr> {
        self.when
            .iter()
            .chain(self.text.iter().filter_map(|segment| match segment {
                Segment::Placeholder(expr) => Some(expr),
                Segment::Literal(_) => None,
            }))
    }

    pub(crate) fn expressions_mut(&mut self) -> impl Iterator<Item = &mut Expr> {
        self.when
            .iter_mut()
            .chain(self.text.iter_mut().filter_map(|segment| match segment {
                Segment::Placeholder(expr) => Some(expr),
                Segment::Literal(_) => None,
            }))
    }
}

impl Rule {
    /// Every expression of the rule with the field it is written in.
    pub(crate) fn expressions(&self) -> Vec<(String, &Expr)> {
        let mut out: Vec<(String, &Expr)> = self.when.iter().map(|expr| ("when".to_string(), expr)).collect();
        out.extend(
            self.compute
                .iter()
                .map(|(name, expr)| (format!("compute.{name}"), expr)),
        );
        for (kind, items) in [
            ("actions", &self.actions),
            ("scripts", &self.scripts),
            ("reminders", &self.reminders),
        ] {
            for item in items {
                out.extend(item.expressions().map(|expr| (format!("{kind}.{}", item.id), expr)));
            }
        }
        for follow_up in &self.follow_ups {
            let id = &follow_up.item.id;
            out.extend(
                follow_up
                    .expressions()
                    .map(|(field, expr)| (format!("follow_ups.{id}.{field}"), expr)),
            );
        }
        out
    }

    pub(crate) fn expressions_mut(&mut self) -> impl Iterator<Item = &mut Expr> {
        self.when
            .iter_mut()
            .chain(self.compute.iter_mut().map(|(_, expr)| expr))
            .chain(
                self.actions
                    .iter_mut()
                    .chain(self.scripts.iter_mut())
                    .chain(self.reminders.iter_mut())
                    .flat_map(Item::expressions_mut),
            )
            .chain(self.follow_ups.iter_mut().flat_map(|follow_up| {
                follow_up
                    .item
                    .expressions_mut()
                    .chain(follow_up.due.iter_mut())
                    .chain(follow_up.until.iter_mut())
            }))
    }
}

/// A loaded, checked and compiled policy bundle.
pub struct Bundle {
    /// The parameters the expressions were written with (`param.NAME`).
    pub(crate) parameters: crate::model::parameters::Parameters,
    pub(crate) manifest: Manifest,
    pub(crate) info: BundleInfo,
    pub(crate) vocabulary: Arc<Vocabulary>,
    /// Catalog lists by name (`teams`, `macros`, ...), shared with Rhai.
    pub(crate) catalog: Catalog,
    pub(crate) engine: Engine,
    pub(crate) derivations: Arc<BTreeMap<String, Arc<AST>>>,
    /// Derivations compiled natively, by fact.
    pub(crate) native_derivations: BTreeMap<String, Arc<native::tree::Block>>,
    /// The vocabulary by slot, for reading absent facts.
    pub(crate) slots: Arc<FactSlots>,
    /// Every group some rule requires (`context`), once each.
    pub(crate) context_groups: Vec<String>,
    /// The calendar behind the date helpers, for the native tree.
    pub(crate) calendar: Arc<Calendar>,
    /// Which evaluator runs expressions.
    pub(crate) evaluation: Evaluation,
    pub(crate) rules: Vec<Rule>,
    /// Which rules a decision on the native tree visits.
    pub(crate) rule_index: RuleIndex,
    /// The rules' ids, sources and reasons, shared by every decision's trace.
    pub(crate) trace_words: Arc<[RuleWords]>,
    pub(crate) files: Vec<SourceFile>,
}

impl std::fmt::Debug for Bundle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bundle")
            .field("info", &self.info)
            .field("rules", &self.rules.len())
            .finish()
    }
}

/// Which evaluator runs a bundle's expressions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Evaluation {
    /// The native tree where an expression compiled to one, Rhai elsewhere.
    #[default]
    Native,
    /// Rhai for every expression: the reference, kept selectable for audits.
    Rhai,
}

impl Bundle {
    /// Rhai's tree of `expr`, parsed again if it was let go. The same
    /// source, engine and scope gave a tree when the bundle loaded, so
    /// parsing again gives the same tree; an error here is a bug, said as a
    /// failed rule rather than a panic.
    pub(crate) fn rhai_ast<'e>(&self, expr: &'e Expr) -> Result<&'e AST, String> {
        if let Some(ast) = expr.rhai.get() {
            return Ok(ast);
        }
        let ast = self.parse_again(expr)?;
        Ok(expr.rhai.get_or_init(|| ast))
    }

    /// Rhai's tree of `expr` for one look, without holding it when it had
    /// been let go (wording follow-ups at load must not undo the release).
    pub(crate) fn rhai_ast_once(&self, expr: &Expr) -> Result<Arc<AST>, String> {
        match expr.rhai.get() {
            Some(ast) => Ok(Arc::clone(ast)),
            None => self.parse_again(expr),
        }
    }

    fn parse_again(&self, expr: &Expr) -> Result<Arc<AST>, String> {
        let scope = sandbox::compile_scope(&self.vocabulary, &GLOBALS);
        self.engine
            .compile_with_scope(&scope, &expr.source)
            .map(Arc::new)
            .map_err(|err| format!("o Rhai não compila `{}` de novo: {err}", expr.source))
    }
}

/// Why a rule did not fire when the situation gives nothing under `group`.
pub(crate) fn out_of_context(group: &str) -> Shared {
    format!("fora de contexto: a situação não traz `{group}`").into()
}
