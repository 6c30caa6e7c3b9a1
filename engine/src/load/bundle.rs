//! Loading a policy bundle: read every file, check everything, compile once.
//!
//! A bundle is either valid as a whole or rejected with the full list of its
//! problems; nothing is half-loaded. Every Rhai expression is compiled here,
//! once, and reused by every decision.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::{Arc, OnceLock};

use chrono::FixedOffset;
use rhai::{Engine, AST};
use serde::de::DeserializeOwned;

use super::by_rule;
use crate::calendar::Calendar;
use crate::decision::{BundleInfo, Source};
use crate::error::{BundleError, Location, Problem};
use crate::input;
use crate::locate::{self, Anchor};
use crate::native;
use crate::parallel;
use crate::policy::{CalendarFile, CatalogFile, Manifest, ProcedureFile, RuleSpec, VocabularyFile};
use crate::rule_index::RuleIndex;
use crate::sandbox;
use crate::shared::Shared;
use crate::slots::FactSlots;
use crate::trace::RuleWords;
use crate::vocabulary::Vocabulary;

pub use super::files::{folder_fingerprint, FolderFingerprint, MAX_FILE_BYTES};
use super::files::{read_dir, refused};
use super::native_pass::NativePass;
use super::procedures::Context;

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
pub(super) const BUILTIN_CALLS: [&str; 6] = ["type_of", "print", "debug", "is_def_var", "is_def_fn", "Fn"];

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
    pub native: Option<Arc<native::Block>>,
}

impl Expr {
    pub(crate) fn new(source: String, ast: Arc<AST>, native: Option<Arc<native::Block>>) -> Self {
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
    pub(super) fn release_ast_if_native(&mut self) {
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
    pub discriminant: Option<native::Discriminant>,
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
}

impl Rule {
    /// What a trace entry of the rule repeats.
    fn words(&self) -> RuleWords {
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

    pub(super) fn expressions_mut(&mut self) -> impl Iterator<Item = &mut Expr> {
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
    fn expressions(&self) -> Vec<(String, &Expr)> {
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
        out
    }

    pub(super) fn expressions_mut(&mut self) -> impl Iterator<Item = &mut Expr> {
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
    }
}

/// A loaded, checked and compiled policy bundle.
pub struct Bundle {
    pub(crate) manifest: Manifest,
    pub(crate) info: BundleInfo,
    pub(crate) vocabulary: Arc<Vocabulary>,
    /// Catalog lists by name (`teams`, `macros`, ...), shared with Rhai.
    pub(crate) catalog: sandbox::Catalog,
    pub(crate) offset: FixedOffset,
    pub(crate) engine: Engine,
    pub(crate) derivations: Arc<BTreeMap<String, Arc<AST>>>,
    /// Derivations compiled natively, by fact.
    pub(crate) native_derivations: BTreeMap<String, Arc<native::Block>>,
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
    /// Loads the bundle in `dir` (its `bundle.yaml`, `vocabulary.yaml`,
    /// `catalog.yaml`, `calendar.yaml`, `procedures/*.yaml`, `tests/*.yaml`).
    pub fn load_dir(dir: &Path) -> Result<Self, BundleError> {
        // Reading checked each file's bounds and encoding.
        let files = read_dir(dir).map_err(|problems| BundleError { problems })?;
        Self::from_checked_files(files)
    }

    /// Loads a bundle from files held in memory (e.g. compiled into a binary).
    pub fn from_files(files: Vec<SourceFile>) -> Result<Self, BundleError> {
        // Files held in memory get the same bounds as files read from disk.
        let problems: Vec<Problem> = files
            .iter()
            .filter_map(|file| {
                let refusal = input::checked_text(file.text.as_bytes(), MAX_FILE_BYTES).err()?;
                Some(refused(file.path.clone(), refusal))
            })
            .collect();
        if !problems.is_empty() {
            return Err(BundleError { problems });
        }
        Self::from_checked_files(files)
    }

    fn from_checked_files(mut files: Vec<SourceFile>) -> Result<Self, BundleError> {
        files.sort_by(|a, b| a.path.cmp(&b.path));
        match Loader::default().load(files, Reading::ByRule) {
            Loaded::Done(result) => result,
            // Rare: a procedure file whose batches do not read on their
            // own (an alias across them, say). Everything read so far is
            // dropped and the files are read again, each as one document.
            Loaded::ReadWhole(files) => match Loader::default().load(files, Reading::Whole) {
                Loaded::Done(result) => result,
                Loaded::ReadWhole(_) => unreachable!("a whole reading never asks for one"),
            },
        }
    }

    /// Chooses which evaluator runs the expressions (native by default);
    /// decisions are the same either way.
    pub fn set_evaluation(&mut self, evaluation: Evaluation) {
        self.evaluation = evaluation;
    }

    /// The expressions that run on Rhai because they use something the
    /// native tree does not compile: `(rule id, field, source)`.
    pub fn rhai_expressions(&self) -> Vec<(String, String, String)> {
        let mut out: Vec<(String, String, String)> = self
            .derivations
            .keys()
            .filter(|path| !self.native_derivations.contains_key(*path))
            .map(|path| {
                let source = self.vocabulary.fact(path).and_then(|fact| fact.spec.derive.clone());
                (
                    "vocabulary".to_string(),
                    format!("{path}.derive"),
                    source.unwrap_or_default(),
                )
            })
            .collect();
        for rule in &self.rules {
            for (field, expr) in rule.expressions() {
                if expr.native.is_none() {
                    out.push((rule.id.to_string(), field, expr.source.clone()));
                }
            }
        }
        out
    }

    /// How many expressions the bundle has, and how many run natively.
    pub fn native_coverage(&self) -> (usize, usize) {
        let mut total = self.derivations.len();
        let mut native = self.native_derivations.len();
        for rule in &self.rules {
            for (_, expr) in rule.expressions() {
                total += 1;
                native += usize::from(expr.native.is_some());
            }
        }
        (native, total)
    }

    /// Indexes the rules by the equality they start with, and lists those
    /// that end flows. A rule whose trace may say more than "did not fire"
    /// (its flow ended, its group already won, a context missing) is
    /// visited by every decision.
    fn index_rules(&mut self) {
        self.rule_index = RuleIndex::new(self.rules.iter().map(|rule| {
            let plain = rule.flow.is_none() && rule.group.is_none() && rule.required.is_empty();
            (!rule.stops.is_empty(), rule.discriminant.as_ref().filter(|_| plain))
        }));
    }

    /// Numbers the groups rules require, so a decision asks the situation
    /// about each group once instead of once per rule.
    fn index_contexts(&mut self) {
        let mut groups: Vec<String> = Vec::new();
        for rule in &mut self.rules {
            rule.required = rule
                .context
                .iter()
                .map(|group| {
                    let index = groups.iter().position(|known| known == group).unwrap_or_else(|| {
                        groups.push(group.clone());
                        groups.len() - 1
                    });
                    (index, out_of_context(group))
                })
                .collect();
        }
        self.context_groups = groups;
    }

    /// Name, version and digest.
    pub fn info(&self) -> &BundleInfo {
        &self.info
    }

    /// The declared facts.
    pub fn vocabulary(&self) -> &Vocabulary {
        &self.vocabulary
    }

    /// The files the bundle was loaded from, sorted by path.
    pub fn files(&self) -> &[SourceFile] {
        &self.files
    }

    /// The manifest (`bundle.yaml`).
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// The text of a bundle file (empty when there is no such file).
    /// The procedure files as written, for lint and static checks: read
    /// again from their text, since a decision never needs them and they
    /// would double a loaded bundle's memory. They parsed when the bundle
    /// loaded, so none is left out.
    pub(crate) fn procedure_files(&self) -> impl Iterator<Item = (&str, ProcedureFile)> {
        self.files
            .iter()
            .filter(|file| file.path.starts_with(PROCEDURES))
            .filter_map(|file| Some((file.path.as_str(), by_rule::read(&file.text)?)))
    }

    /// Rhai's tree of `expr`, parsed again if it was let go. The same
    /// source, engine and scope gave a tree when the bundle loaded, so
    /// parsing again gives the same tree; an error here is a bug, said as a
    /// failed rule rather than a panic.
    pub(crate) fn rhai_ast<'e>(&self, expr: &'e Expr) -> Result<&'e AST, String> {
        if let Some(ast) = expr.rhai.get() {
            return Ok(ast);
        }
        let scope = sandbox::compile_scope(&self.vocabulary, &GLOBALS);
        let ast = self
            .engine
            .compile_with_scope(&scope, &expr.source)
            .map_err(|err| format!("o Rhai não compila `{}` de novo: {err}", expr.source))?;
        Ok(expr.rhai.get_or_init(|| Arc::new(ast)))
    }

    pub(crate) fn file_text(&self, path: &str) -> &str {
        self.files
            .iter()
            .find(|f| f.path == path)
            .map_or("", |f| f.text.as_str())
    }

    /// Every function a rule may call, by name: the sandbox's whole reach.
    pub fn callable_functions(&self) -> BTreeSet<String> {
        let mut names = sandbox::function_names(&self.engine);
        names.extend(BUILTIN_CALLS.iter().map(|name| name.to_string()));
        names
    }

    /// Ids of every rule, in evaluation order.
    pub fn rule_ids(&self) -> impl Iterator<Item = &str> {
        self.rules.iter().map(|rule| rule.id.as_str())
    }
}

/// Collects problems while building the bundle.
#[derive(Default)]
pub(super) struct Loader {
    pub(super) problems: Vec<Problem>,
    /// Ids of actions, scripts and reminders seen so far, with their rule.
    pub(super) item_ids: BTreeMap<String, String>,
}

/// Below this many batches of rules, they are read on the loading thread:
/// starting another costs about a millisecond (a cold `roteiro decide` on
/// the shipped bundle, 7 batches, took 8.4-8.7 ms median with one against
/// 7.6-8.3 without, alternated). Sixteen keeps the shipped bundle and a
/// 1,000-rule synthetic one (12 batches) on one thread; it was not tuned
/// further.
const PIPELINE_MIN_BATCHES: usize = 16;

/// How procedure files are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Reading {
    /// A batch of rules at a time, each batch compiled as it is read while
    /// the next is read on another core (see `by_rule`).
    ByRule,
    /// Each file as one document.
    Whole,
}

/// What a load gave: the bundle or its problems, or the files back to be
/// read whole.
#[expect(clippy::large_enum_variant, reason = "one per load, taken apart at once")]
pub(super) enum Loaded {
    Done(Result<Bundle, BundleError>),
    ReadWhole(Vec<SourceFile>),
}

/// A procedure file to compile: read whole, or its head and the batches
/// of rules still to read.
enum Procedure<'t> {
    Whole(ProcedureFile),
    ByRule(ProcedureFile, Vec<by_rule::Batch<'t>>),
}

impl Procedure<'_> {
    /// How many rules the file holds.
    fn rules(&self) -> usize {
        match self {
            Self::Whole(procedure) => procedure.rules.len(),
            Self::ByRule(_, batches) => batches.iter().map(by_rule::Batch::entries).sum(),
        }
    }
}

/// The rules compiled so far, in reading order, with the file each id was
/// first seen in, and what compiling them needs.
struct Compiled<'a> {
    context: &'a Context<'a>,
    native_pass: &'a NativePass<'a>,
    rules: Vec<Rule>,
    seen: BTreeMap<String, String>,
}

/// Where an item of a file is, for messages.
pub(super) struct Place<'a> {
    pub(super) file: &'a SourceFile,
    pub(super) item: String,
    pub(super) anchors: Vec<Anchor<'a>>,
}

impl Loader {
    /// A flow named by a rule must be declared in bundle.yaml `flows`.
    pub(super) fn check_flow(&mut self, context: &Context<'_>, place: &Place<'_>, field: &str, flow: &str) {
        if context.manifest.flows.contains_key(flow) {
            return;
        }
        let declared = context.manifest.flows.keys().map(String::as_str);
        let hint = crate::suggest::closest(flow, declared.clone())
            .map_or_else(String::new, |near| format!("; você quis dizer `{near}`?"));
        let all = declared.collect::<Vec<_>>().join(", ");
        self.report(
            place,
            Some(field),
            format!("o fluxo `{flow}` não está em `flows` de bundle.yaml{hint} (fluxos: {all})"),
        );
    }

    pub(super) fn report(&mut self, place: &Place<'_>, field: Option<&str>, message: String) {
        let mut anchors = place.anchors.clone();
        if let Some(field) = field {
            let key = field.rsplit('.').next().unwrap_or(field);
            let key = key.split('[').next().unwrap_or(key);
            // `id` is already the item's own anchor: another `id:` below it
            // would be the next item's.
            if anchors.last().is_none_or(|(last, _)| *last != key) {
                anchors.push((key, None));
            }
        }
        let line =
            locate::line_of(&place.file.text, &anchors).or_else(|| locate::line_of(&place.file.text, &place.anchors));
        self.problems.push(Problem {
            location: Location {
                file: place.file.path.clone(),
                line,
                column: None,
            },
            item: Some(place.item.clone()),
            field: field.map(str::to_string),
            message,
            source_line: None,
        });
    }

    /// Moves the last problem from the `text:` key to the line and column of
    /// the placeholder at `offset`, found by its first characters in the
    /// file (a folded text spans lines; the byte offset alone means nothing
    /// to the writer).
    pub(super) fn point_at_placeholder(&mut self, place: &Place<'_>, text: &str, offset: usize) {
        let Some(problem) = self.problems.last_mut() else {
            return;
        };
        let needle: String = text
            .get(offset..)
            .unwrap_or_default()
            .lines()
            .next()
            .unwrap_or_default()
            .to_string();
        let needle = needle.trim_end();
        let from = problem.location.line.unwrap_or(1);
        let found = place
            .file
            .text
            .lines()
            .enumerate()
            .skip(from.saturating_sub(1))
            .find_map(|(index, line)| {
                line.find(needle)
                    .map(|byte| (index + 1, line[..byte].chars().count() + 1))
            });
        if let Some((line, column)) = found {
            problem.location.line = Some(line);
            problem.location.column = Some(column);
        }
    }

    pub(super) fn file_problem(&mut self, file: &str, message: String) {
        self.problems.push(Problem {
            location: Location {
                file: file.to_string(),
                ..Location::default()
            },
            item: None,
            field: None,
            message,
            source_line: None,
        });
    }

    /// The problems found, each with its offending line as the bundle
    /// holds it.
    pub(super) fn fail(mut self, files: &[SourceFile]) -> BundleError {
        for problem in &mut self.problems {
            problem.source_line = problem.location.line.and_then(|line| {
                let file = files.iter().find(|file| file.path == problem.location.file)?;
                Some(file.text.lines().nth(line.checked_sub(1)?)?.to_string())
            });
        }
        BundleError {
            problems: self.problems,
        }
    }

    /// Parses a file whose bounds were checked (see `Bundle::from_files`).
    pub(super) fn parse<T: DeserializeOwned>(&mut self, file: &SourceFile) -> Option<T> {
        match serde_yaml::from_str::<T>(&file.text) {
            Ok(value) => Some(value),
            Err(err) => {
                let location = err.location();
                let (message, line, column) = crate::yaml_hints::clearer(
                    &file.text,
                    yaml_error_message(&err),
                    location.as_ref().map(|l| l.line()),
                    location.as_ref().map(|l| l.column()),
                );
                self.problems.push(Problem {
                    location: Location {
                        file: file.path.clone(),
                        line,
                        column,
                    },
                    item: None,
                    field: None,
                    message,
                    source_line: None,
                });
                None
            }
        }
    }

    pub(super) fn required<'f>(&mut self, files: &'f [SourceFile], name: &str) -> Option<&'f SourceFile> {
        let found = files.iter().find(|file| file.path == name);
        if found.is_none() {
            self.file_problem(name, "arquivo obrigatório ausente do pacote".into());
        }
        found
    }

    pub(super) fn load(mut self, files: Vec<SourceFile>, reading: Reading) -> Loaded {
        let manifest_file = self.required(&files, MANIFEST);
        let vocabulary_file = self.required(&files, VOCABULARY);
        let catalog_file = self.required(&files, CATALOG);
        let calendar_file = self.required(&files, CALENDAR);
        let manifest: Option<Manifest> = manifest_file.and_then(|f| self.parse(f));
        let vocabulary: Option<VocabularyFile> = vocabulary_file.and_then(|f| self.parse(f));
        let catalog: Option<CatalogFile> = catalog_file.and_then(|f| self.parse(f));
        let calendar: Option<CalendarFile> = calendar_file.and_then(|f| self.parse(f));
        let procedures: Vec<(&SourceFile, Procedure<'_>)> = files
            .iter()
            .filter(|file| file.path.starts_with(PROCEDURES))
            .filter_map(|file| {
                let by_rule = (reading == Reading::ByRule).then(|| by_rule::start(&file.text));
                let procedure = match by_rule.flatten() {
                    Some((head, batches)) => Procedure::ByRule(head, batches),
                    None => Procedure::Whole(self.parse(file)?),
                };
                Some((file, procedure))
            })
            .collect();
        for file in &files {
            let known = [MANIFEST, VOCABULARY, CATALOG, CALENDAR].contains(&file.path.as_str())
                || file.path.starts_with(PROCEDURES)
                || file.path.starts_with(TESTS)
                || file.path.starts_with("examples/");
            if !known {
                self.file_problem(
                    &file.path,
                    format!("arquivo inesperado; um pacote contém {MANIFEST}, {VOCABULARY}, {CATALOG}, {CALENDAR}, procedures/, tests/ e examples/"),
                );
            }
        }

        let (Some(manifest), Some(vocabulary_spec), Some(catalog), Some(calendar_spec)) =
            (manifest, vocabulary, catalog, calendar)
        else {
            return Loaded::Done(Err(self.fail(&files)));
        };
        let (Some(manifest_file), Some(vocabulary_file), Some(calendar_file)) =
            (manifest_file, vocabulary_file, calendar_file)
        else {
            return Loaded::Done(Err(self.fail(&files)));
        };

        let offset = self.check_manifest(&manifest, manifest_file);
        self.check_vocabulary(&vocabulary_spec, vocabulary_file);
        let calendar = self.build_calendar(&calendar_spec, calendar_file);
        let vocabulary = Arc::new(
            Vocabulary::new(vocabulary_spec.facts.clone()).with_text_max_length(manifest.limits.text_max_length),
        );
        let calendar = Arc::new(calendar);
        let engine = sandbox::build_engine(calendar.clone());
        let context = Context {
            vocabulary: &vocabulary,
            catalog: &catalog,
            functions: sandbox::function_names(&engine),
            engine: &engine,
            scope: sandbox::compile_scope(&vocabulary, &GLOBALS),
            manifest: &manifest,
        };
        self.check_root_names(&context, vocabulary_file);
        for fact in &manifest.first_questions {
            if vocabulary.fact(fact).is_none() {
                let place = Place {
                    file: manifest_file,
                    item: "first_questions".into(),
                    anchors: vec![("first_questions", None)],
                };
                let hint = crate::suggest::closest(fact, vocabulary.facts().map(|f| f.path.as_str()))
                    .map_or_else(String::new, |near| format!("; você quis dizer `{near}`?"));
                self.report(&place, None, format!("`{fact}` não é um fato do vocabulário{hint}"));
            }
        }
        let derivations = self.compile_derivations(&context, &vocabulary_spec, vocabulary_file);
        let catalog_lists = catalog_lists(catalog.clone());
        let native_pass = NativePass::new(&vocabulary, &catalog_lists, &derivations);
        if procedures.is_empty() && !files.iter().any(|file| file.path.starts_with(PROCEDURES)) {
            self.file_problem(
                PROCEDURES,
                "o pacote não tem procedimentos: as regras ficam em procedures/*.yaml".into(),
            );
        }
        let batches: Vec<by_rule::Batch<'_>> = procedures
            .iter()
            .filter_map(|(_, procedure)| match procedure {
                Procedure::ByRule(_, batches) => Some(batches),
                Procedure::Whole(_) => None,
            })
            .flatten()
            .copied()
            .collect();
        let mut compiled = Compiled {
            context: &context,
            native_pass: &native_pass,
            rules: Vec::with_capacity(procedures.iter().map(|(_, procedure)| procedure.rules()).sum()),
            seen: BTreeMap::new(),
        };
        let all_read = parallel::pipelined(&batches, PIPELINE_MIN_BATCHES, by_rule::Batch::read, |read| {
            for (file, procedure) in &procedures {
                let mut in_file = BTreeMap::new();
                match procedure {
                    Procedure::Whole(procedure) => {
                        self.take_rules(&mut compiled, file, procedure, &procedure.rules, &mut in_file);
                    }
                    Procedure::ByRule(head, batches) => {
                        for _ in batches {
                            let Some(Some(specs)) = read.next() else { return false };
                            self.take_rules(&mut compiled, file, head, &specs, &mut in_file);
                        }
                    }
                }
            }
            true
        });
        if !all_read {
            return Loaded::ReadWhole(files);
        }
        let rules = compiled.rules;

        let (true, Some(offset)) = (self.problems.is_empty(), offset) else {
            return Loaded::Done(Err(self.fail(&files)));
        };
        if rules.is_empty() {
            self.file_problem(PROCEDURES, "o pacote não tem nenhuma regra".into());
            return Loaded::Done(Err(self.fail(&files)));
        }
        let info = BundleInfo {
            name: manifest.name.as_str().into(),
            version: manifest.version.as_str().into(),
            digest: digest(&files).into(),
        };
        drop(procedures);
        let (native_derivations, slots) = native_pass.finish();
        let trace_words = rules.iter().map(Rule::words).collect();
        let mut bundle = Bundle {
            manifest,
            info,
            vocabulary,
            catalog: catalog_lists,
            offset,
            engine,
            derivations: Arc::new(derivations),
            native_derivations,
            slots: Arc::new(slots),
            context_groups: Vec::new(),
            calendar,
            evaluation: Evaluation::default(),
            rules,
            rule_index: RuleIndex::default(),
            trace_words,
            files,
        };
        bundle.index_contexts();
        bundle.index_rules();
        Loaded::Done(Ok(bundle))
    }

    /// Compiles rules of `file` into `compiled`, each unless its id was
    /// taken. `in_file` counts each id's rules in the file so far, to
    /// point at the n-th one.
    fn take_rules(
        &mut self,
        compiled: &mut Compiled<'_>,
        file: &SourceFile,
        procedure: &ProcedureFile,
        specs: &[RuleSpec],
        in_file: &mut BTreeMap<String, usize>,
    ) {
        for spec in specs {
            // The n-th rule with this id in the file is found by walking
            // past the n-1 before it: a repeated id points at itself.
            let occurrence = in_file.entry(spec.id.clone()).or_default();
            *occurrence += 1;
            let place = Place {
                file,
                item: spec.id.clone(),
                anchors: vec![("id", Some(spec.id.as_str())); *occurrence],
            };
            if let Some(previous) = compiled.seen.insert(spec.id.clone(), file.path.clone()) {
                self.report(
                    &place,
                    Some("id"),
                    format!("id de regra repetido; `{}` já está definido em {previous}", spec.id),
                );
                continue;
            }
            if let Some(mut rule) = self.compile_rule(compiled.context, procedure, spec, &place) {
                compiled.native_pass.compile_rule(&mut rule);
                compiled.rules.push(rule);
            }
        }
    }
}

/// A serde_yaml error in Portuguese, without its English " at line L
/// column C" (the location says it).
pub(crate) fn yaml_error_message(err: &serde_yaml::Error) -> String {
    let message = err.to_string();
    portuguese(message.split(" at line ").next().unwrap_or(&message))
}

/// serde's usual messages in Portuguese; anything else is kept as it is.
pub(super) fn portuguese(message: &str) -> String {
    // serde calls a number past 64 bits a type it cannot take ("invalid
    // type: integer `N` as u128"); to a person it is out of range.
    let message = if message.contains(" as u128") || message.contains(" as i128") {
        message.replacen("invalid type", "número fora do intervalo", 1)
    } else {
        message.to_string()
    };
    [
        ("unknown field", "campo desconhecido"),
        ("expected one of", "esperado um de"),
        ("missing field", "campo obrigatório ausente"),
        ("invalid type", "tipo inválido"),
        ("invalid value", "valor inválido"),
        ("unknown variant", "valor desconhecido"),
        // Numbers serde could not fit: "integer `N` as u128, expected i64".
        (" as u128", ""),
        (" as i128", ""),
        ("integer `", "número inteiro `"),
        ("floating point `", "número decimal `"),
        ("expected i64", "esperado um número inteiro"),
        ("expected i32", "esperado um número inteiro"),
        ("expected u64", "esperado um número inteiro a partir de 0"),
        ("expected u32", "esperado um número inteiro a partir de 0"),
        ("expected u16", "esperado um número inteiro a partir de 0"),
        ("expected u8", "esperado um número inteiro a partir de 0"),
        ("expected usize", "esperado um número inteiro a partir de 0"),
        ("expected", "esperado"),
        ("a sequence", "uma lista"),
        ("a map", "um mapa"),
        ("a string", "um texto"),
        ("a boolean", "um booleano"),
        ("did not find expected", "não encontrou o esperado"),
        (
            "mapping values are not allowed in this context",
            "valores de mapa não são permitidos neste contexto (use aspas no texto com `: `)",
        ),
    ]
    .iter()
    .fold(message, |text, (english, portuguese)| text.replace(english, portuguese))
}

/// Every list of the catalog by name, `teams` and `macros` included.
pub(super) fn catalog_lists(catalog: CatalogFile) -> sandbox::Catalog {
    let mut lists = catalog.other;
    lists.insert("teams".into(), catalog.teams);
    lists.insert("macros".into(), catalog.macros);
    sandbox::Catalog::new(lists)
}

/// Why a rule did not fire when the situation gives nothing under `group`.
fn out_of_context(group: &str) -> Shared {
    format!("fora de contexto: a situação não traz `{group}`").into()
}

/// FNV-1a over paths and contents: stable across Rust versions and machines.
pub(super) fn digest(files: &[SourceFile]) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    // Each part ends with a zero byte, so moving text between a path and
    // its file changes the digest.
    let parts = files
        .iter()
        .flat_map(|file| [file.path.as_bytes(), &[0], file.text.as_bytes(), &[0]]);
    for part in parts {
        for byte in part {
            hash ^= u64::from(*byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{hash:016x}")
}
