//! Loading a policy bundle: read every file, check everything, compile once.
//!
//! A bundle is either valid as a whole or rejected with the full list of its
//! problems; nothing is half-loaded. Every Rhai expression is compiled here,
//! once, and reused by every decision.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::Path;
use std::sync::Arc;

use chrono::FixedOffset;
use rhai::{Engine, AST};
use serde::de::DeserializeOwned;

use crate::calendar::{self, Calendar, Hours};
use crate::decision::{BundleInfo, Source};
use crate::error::{BundleError, Location, Problem};
use crate::input;
use crate::locate::{self, Anchor};
use crate::native;
use crate::policy::{
    CalendarFile, CatalogFile, FactKind, Manifest, OutputKind, ProcedureFile, RuleSpec, ScriptSpec, VocabularyFile,
};
use crate::sandbox;
use crate::scan;
use crate::shared::Shared;
use crate::template::{self, Piece};
use crate::vocabulary::{Vocabulary, NOW};

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
const BUILTIN_CALLS: [&str; 6] = ["type_of", "print", "debug", "is_def_var", "is_def_fn", "Fn"];

/// An expression as written and as compiled.
pub(crate) struct Expr {
    pub source: String,
    pub ast: AST,
    /// The same expression as a native tree, when it stays inside the
    /// subset `native` compiles (set once the whole bundle is known).
    pub native: Option<native::Block>,
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
    pub set: Vec<(String, serde_json::Value)>,
    pub compute: Vec<(String, Expr)>,
    pub actions: Vec<Item>,
    pub scripts: Vec<Item>,
    pub reminders: Vec<Item>,
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

    fn expressions_mut(&mut self) -> impl Iterator<Item = &mut Expr> {
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

    fn expressions_mut(&mut self) -> impl Iterator<Item = &mut Expr> {
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
    /// The calendar behind the date helpers, for the native tree.
    pub(crate) calendar: Arc<Calendar>,
    /// Which evaluator runs expressions.
    pub(crate) evaluation: Evaluation,
    pub(crate) rules: Vec<Rule>,
    pub(crate) files: Vec<SourceFile>,
    /// The procedure files as written, for lint and static checks.
    pub(crate) procedures: Vec<(String, ProcedureFile)>,
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
        let files = read_dir(dir).map_err(|problems| BundleError { problems })?;
        Self::from_files(files)
    }

    /// Loads a bundle from files held in memory (e.g. compiled into a binary).
    pub fn from_files(mut files: Vec<SourceFile>) -> Result<Self, BundleError> {
        files.sort_by(|a, b| a.path.cmp(&b.path));
        Loader::default().load(files)
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
            .map(|path| ("vocabulary".to_string(), format!("{path}.derive"), String::new()))
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

    /// Compiles every expression that fits the native subset: derivations
    /// first, since an expression reading a derived fact is native only
    /// when the derivation is.
    fn compile_native(&mut self) {
        let vocabulary = self.vocabulary.clone();
        let catalog = self.catalog.clone();
        let none = BTreeMap::new();
        let names = native::Names {
            vocabulary: &vocabulary,
            catalog: catalog.lists(),
            native_derivations: &none,
        };
        let derived: BTreeMap<String, Arc<native::Block>> = self
            .derivations
            .iter()
            .filter_map(|(path, ast)| Some((path.clone(), Arc::new(native::compile(ast, &names)?))))
            .collect();
        let names = native::Names {
            native_derivations: &derived,
            ..names
        };
        for rule in &mut self.rules {
            for expr in rule.expressions_mut() {
                expr.native = native::compile(&expr.ast, &names);
            }
            rule.discriminant = rule
                .when
                .as_ref()
                .and_then(|expr| expr.native.as_ref())
                .and_then(native::Discriminant::of);
        }
        self.native_derivations = derived;
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

/// Largest bundle file read, in bytes.
pub const MAX_FILE_BYTES: u64 = 8 * 1024 * 1024;
/// Most files and folders a bundle folder may hold.
const MAX_ENTRIES: usize = 10_000;
/// Deepest folder nesting inside a bundle.
const MAX_FOLDER_DEPTH: usize = 8;

fn file_problem_at(path: &str, message: String) -> Problem {
    Problem {
        location: Location {
            file: path.to_string(),
            ..Location::default()
        },
        item: None,
        field: None,
        message,
        source_line: None,
    }
}

/// A file refused by the input bounds (size, encoding, nesting).
fn refused(file: String, refusal: input::Refusal) -> Problem {
    Problem {
        location: Location {
            file,
            line: refusal.line,
            column: refusal.column,
        },
        item: None,
        field: None,
        message: refusal.message,
        source_line: None,
    }
}

/// Reads every YAML file under `dir`. Symbolic links that leave the
/// folder, anything that is not a regular file (a FIFO would block, a
/// device never ends) and files over [`MAX_FILE_BYTES`] are refused before
/// a byte of them is read.
fn read_dir(dir: &Path) -> Result<Vec<SourceFile>, Vec<Problem>> {
    let shown = |path: &Path| path.display().to_string();
    let root = dir
        .canonicalize()
        .map_err(|err| vec![file_problem_at(&shown(dir), format!("não foi possível ler: {err}"))])?;
    let mut files = Vec::new();
    let mut problems = Vec::new();
    let mut visited = BTreeSet::from([root.clone()]);
    let mut pending = vec![(root.clone(), 0usize)];
    let mut entries_seen = 0usize;
    while let Some((folder, depth)) = pending.pop() {
        let entries = match std::fs::read_dir(&folder) {
            Ok(entries) => entries,
            Err(err) => {
                problems.push(file_problem_at(&shown(&folder), format!("não foi possível ler: {err}")));
                continue;
            }
        };
        for entry in entries.flatten() {
            entries_seen += 1;
            if entries_seen > MAX_ENTRIES {
                problems.push(file_problem_at(
                    &shown(dir),
                    format!("mais de {MAX_ENTRIES} arquivos e pastas; um pacote é bem menor"),
                ));
                return Err(problems);
            }
            let path = entry.path();
            let relative = path.strip_prefix(&root).unwrap_or(&path);
            let name = relative
                .components()
                .map(|c| c.as_os_str().to_string_lossy())
                .collect::<Vec<_>>()
                .join("/");
            let Ok(target) = path.canonicalize() else {
                problems.push(file_problem_at(&name, "link simbólico quebrado ou ilegível".into()));
                continue;
            };
            if !target.starts_with(&root) {
                problems.push(file_problem_at(
                    &name,
                    "link simbólico que aponta para fora da pasta do pacote; recusado".into(),
                ));
                continue;
            }
            let Ok(meta) = std::fs::metadata(&target) else {
                problems.push(file_problem_at(&name, "não foi possível ler".into()));
                continue;
            };
            if meta.is_dir() {
                if depth >= MAX_FOLDER_DEPTH {
                    problems.push(file_problem_at(
                        &name,
                        format!("pastas mais fundas que {MAX_FOLDER_DEPTH} níveis"),
                    ));
                } else if visited.insert(target.clone()) {
                    pending.push((target, depth + 1));
                }
                continue;
            }
            if !(name.ends_with(".yaml") || name.ends_with(".yml")) {
                continue;
            }
            if !meta.is_file() {
                problems.push(file_problem_at(
                    &name,
                    "não é um arquivo comum (FIFO, dispositivo...); recusado".into(),
                ));
                continue;
            }
            if meta.len() > MAX_FILE_BYTES {
                problems.push(file_problem_at(
                    &name,
                    format!(
                        "arquivo grande demais: {} bytes; o máximo é {MAX_FILE_BYTES}",
                        meta.len()
                    ),
                ));
                continue;
            }
            let mut bytes = Vec::new();
            let read =
                std::fs::File::open(&target).and_then(|file| file.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes));
            if let Err(err) = read {
                problems.push(file_problem_at(&name, format!("não foi possível ler: {err}")));
                continue;
            }
            match input::checked_text(&bytes, MAX_FILE_BYTES) {
                Ok(text) => files.push(SourceFile {
                    path: name,
                    text: text.to_string(),
                }),
                Err(refusal) => problems.push(refused(name, refusal)),
            }
        }
    }
    if problems.is_empty() {
        Ok(files)
    } else {
        Err(problems)
    }
}

/// Paths, sizes and modification times of every bundle file (`.yaml`,
/// `.yml`) under `dir`: what `watch` and the service compare to notice an
/// edit. Other files (an editor's swap file) do not count. Bounded like
/// loading.
pub fn folder_fingerprint(dir: &Path) -> Vec<(std::path::PathBuf, u64, Option<std::time::SystemTime>)> {
    let mut out = Vec::new();
    let mut pending = vec![(dir.to_path_buf(), 0usize)];
    while let Some((folder, depth)) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&folder) else {
            continue;
        };
        for entry in entries.flatten().take(MAX_ENTRIES) {
            let path = entry.path();
            match entry.metadata() {
                Ok(meta) if meta.is_dir() && depth < MAX_FOLDER_DEPTH => pending.push((path, depth + 1)),
                Ok(meta) if path.extension().is_some_and(|ext| ext == "yaml" || ext == "yml") => {
                    out.push((path, meta.len(), meta.modified().ok()));
                }
                Ok(_) | Err(_) => {}
            }
        }
        if out.len() > MAX_ENTRIES {
            break;
        }
    }
    out.sort();
    out
}

/// Collects problems while building the bundle.
#[derive(Default)]
struct Loader {
    problems: Vec<Problem>,
    /// Ids of actions, scripts and reminders seen so far, with their rule.
    item_ids: BTreeMap<String, String>,
}

/// Where an item of a file is, for messages.
struct Place<'a> {
    file: &'a SourceFile,
    item: String,
    anchors: Vec<Anchor<'a>>,
}

impl Loader {
    /// A flow named by a rule must be declared in bundle.yaml `flows`.
    fn check_flow(&mut self, context: &Context<'_>, place: &Place<'_>, field: &str, flow: &str) {
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

    fn report(&mut self, place: &Place<'_>, field: Option<&str>, message: String) {
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
    fn point_at_placeholder(&mut self, place: &Place<'_>, text: &str, offset: usize) {
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

    fn file_problem(&mut self, file: &str, message: String) {
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
    fn fail(mut self, files: &[SourceFile]) -> BundleError {
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

    fn parse<T: DeserializeOwned>(&mut self, file: &SourceFile) -> Option<T> {
        // Files held in memory get the same bounds as files read from disk.
        if let Err(refusal) = input::checked_text(file.text.as_bytes(), MAX_FILE_BYTES) {
            self.problems.push(refused(file.path.clone(), refusal));
            return None;
        }
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

    fn required<'f>(&mut self, files: &'f [SourceFile], name: &str) -> Option<&'f SourceFile> {
        let found = files.iter().find(|file| file.path == name);
        if found.is_none() {
            self.file_problem(name, "arquivo obrigatório ausente do pacote".into());
        }
        found
    }

    fn load(mut self, files: Vec<SourceFile>) -> Result<Bundle, BundleError> {
        let manifest_file = self.required(&files, MANIFEST);
        let vocabulary_file = self.required(&files, VOCABULARY);
        let catalog_file = self.required(&files, CATALOG);
        let calendar_file = self.required(&files, CALENDAR);
        let manifest: Option<Manifest> = manifest_file.and_then(|f| self.parse(f));
        let vocabulary: Option<VocabularyFile> = vocabulary_file.and_then(|f| self.parse(f));
        let catalog: Option<CatalogFile> = catalog_file.and_then(|f| self.parse(f));
        let calendar: Option<CalendarFile> = calendar_file.and_then(|f| self.parse(f));
        let procedures: Vec<(&SourceFile, ProcedureFile)> = files
            .iter()
            .filter(|file| file.path.starts_with(PROCEDURES))
            .filter_map(|file| self.parse(file).map(|parsed| (file, parsed)))
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
            return Err(self.fail(&files));
        };
        let (Some(manifest_file), Some(vocabulary_file), Some(calendar_file)) =
            (manifest_file, vocabulary_file, calendar_file)
        else {
            return Err(self.fail(&files));
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
        let mut rules = Vec::new();
        if procedures.is_empty() && !files.iter().any(|file| file.path.starts_with(PROCEDURES)) {
            self.file_problem(
                PROCEDURES,
                "o pacote não tem procedimentos: as regras ficam em procedures/*.yaml".into(),
            );
        }
        let mut seen_rules: BTreeMap<String, String> = BTreeMap::new();
        for (file, procedure) in &procedures {
            let mut in_file: BTreeMap<&str, usize> = BTreeMap::new();
            for spec in &procedure.rules {
                // The n-th rule with this id in the file is found by walking
                // past the n-1 before it: a repeated id points at itself.
                let occurrence = in_file.entry(spec.id.as_str()).or_default();
                *occurrence += 1;
                let place = Place {
                    file,
                    item: spec.id.clone(),
                    anchors: vec![("id", Some(spec.id.as_str())); *occurrence],
                };
                if let Some(previous) = seen_rules.insert(spec.id.clone(), file.path.clone()) {
                    self.report(
                        &place,
                        Some("id"),
                        format!("id de regra repetido; `{}` já está definido em {previous}", spec.id),
                    );
                    continue;
                }
                if let Some(rule) = self.compile_rule(&context, procedure, spec, &place) {
                    rules.push(rule);
                }
            }
        }

        let (true, Some(offset)) = (self.problems.is_empty(), offset) else {
            return Err(self.fail(&files));
        };
        if rules.is_empty() {
            self.file_problem(PROCEDURES, "o pacote não tem nenhuma regra".into());
            return Err(self.fail(&files));
        }
        let info = BundleInfo {
            name: manifest.name.clone(),
            version: manifest.version.clone(),
            digest: digest(&files),
        };
        let catalog = catalog_lists(catalog);
        let procedures = procedures
            .into_iter()
            .map(|(file, parsed)| (file.path.clone(), parsed))
            .collect();
        let mut bundle = Bundle {
            manifest,
            info,
            vocabulary,
            catalog,
            offset,
            engine,
            derivations: Arc::new(derivations),
            native_derivations: BTreeMap::new(),
            calendar,
            evaluation: Evaluation::default(),
            rules,
            files,
            procedures,
        };
        bundle.compile_native();
        Ok(bundle)
    }

    fn check_manifest(&mut self, manifest: &Manifest, file: &SourceFile) -> Option<FixedOffset> {
        fn place<'a>(file: &'a SourceFile, item: &'a str) -> Place<'a> {
            Place {
                file,
                item: item.to_string(),
                anchors: vec![(item, None)],
            }
        }
        if manifest.phases.is_empty() {
            self.report(&place(file, "phases"), None, "é preciso ao menos uma fase".into());
        }
        for (name, output) in &manifest.outputs {
            let has_values = output.values.as_ref().is_some_and(|v| !v.is_empty());
            if has_values && output.kind != OutputKind::Text {
                self.report(
                    &place(file, name),
                    Some("values"),
                    "só saídas `text` aceitam lista de valores".into(),
                );
            }
        }
        let limits = &manifest.limits;
        if !(1..=60_000).contains(&limits.decision_ms) {
            self.report(
                &place(file, "limits"),
                Some("decision_ms"),
                format!("`{}` fora do permitido: de 1 a 60000 ms", limits.decision_ms),
            );
        }
        if !(1024..=MAX_SITUATION_BYTES).contains(&limits.situation_bytes) {
            self.report(
                &place(file, "limits"),
                Some("situation_bytes"),
                format!(
                    "`{}` fora do permitido: de 1024 a {MAX_SITUATION_BYTES} bytes",
                    limits.situation_bytes
                ),
            );
        }
        if !(1..=MAX_TEXT_LENGTH).contains(&limits.text_max_length) {
            self.report(
                &place(file, "limits"),
                Some("text_max_length"),
                format!(
                    "`{}` fora do permitido: de 1 a {MAX_TEXT_LENGTH} caracteres",
                    limits.text_max_length
                ),
            );
        }
        match calendar::parse_offset(&manifest.timezone.utc_offset) {
            Ok(offset) => Some(offset),
            Err(message) => {
                self.report(&place(file, "timezone"), Some("utc_offset"), message);
                None
            }
        }
    }

    fn check_vocabulary(&mut self, vocabulary: &VocabularyFile, file: &SourceFile) {
        let paths: BTreeSet<&str> = vocabulary.facts.keys().map(String::as_str).collect();
        for (path, spec) in &vocabulary.facts {
            let place = Place {
                file,
                item: path.clone(),
                anchors: vec![(path.as_str(), None)],
            };
            let well_formed = path.split('.').all(|segment| {
                !segment.is_empty()
                    && segment
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
                    && !segment.starts_with(|c: char| c.is_ascii_digit())
            });
            if !well_formed {
                self.report(
                    &place,
                    None,
                    "o caminho de um fato é snake_case com pontos, por exemplo `client.plan_active`".into(),
                );
            }
            if path != NOW && !path.contains('.') {
                self.report(
                    &place,
                    None,
                    format!("fatos pertencem a um grupo (`grupo.fato`); só `{NOW}` fica sozinho"),
                );
            }
            if paths.iter().any(|other| other.starts_with(&format!("{path}."))) {
                self.report(
                    &place,
                    None,
                    "é ao mesmo tempo um fato e um grupo de outros fatos".into(),
                );
            }
            match (spec.kind, &spec.values) {
                (FactKind::Enum, None) => self.report(&place, Some("values"), "um fato enum lista seus valores".into()),
                (FactKind::Enum, Some(values)) if values.is_empty() => {
                    self.report(&place, Some("values"), "um fato enum lista ao menos um valor".into())
                }
                (FactKind::Enum, Some(values)) => {
                    let unique: BTreeSet<&String> = values.iter().collect();
                    if unique.len() != values.len() {
                        self.report(&place, Some("values"), "valores repetidos".into());
                    }
                }
                (_, Some(_)) => self.report(&place, Some("values"), "só fatos enum aceitam `values`".into()),
                (_, None) => {}
            }
            if let Some(value) = &spec.default {
                if let Err(message) = crate::vocabulary::default_value(spec, value) {
                    self.report(&place, Some("default"), message);
                }
                if spec.derive.is_some() {
                    self.report(
                        &place,
                        Some("default"),
                        "um fato é derivado ou tem padrão, não os dois".into(),
                    );
                }
            }
            match (spec.kind, spec.max_length) {
                (FactKind::Text, Some(length)) if !(1..=MAX_TEXT_LENGTH).contains(&length) => self.report(
                    &place,
                    Some("max_length"),
                    format!("`{length}` fora do permitido: de 1 a {MAX_TEXT_LENGTH} caracteres"),
                ),
                (FactKind::Text, _) | (_, None) => {}
                (_, Some(_)) => self.report(&place, Some("max_length"), "só fatos text aceitam `max_length`".into()),
            }
            if spec.question.trim().is_empty() {
                self.report(
                    &place,
                    Some("question"),
                    "a pergunta feita quando o fato falta está vazia".into(),
                );
            }
        }
        match vocabulary.facts.get(NOW) {
            Some(spec) if spec.kind == FactKind::Datetime => {}
            _ => self.file_problem(
                &file.path,
                format!("o vocabulário precisa declarar `{NOW}` como fato `datetime`"),
            ),
        }
    }

    /// Top-level names become Rhai variables, so none may be a Rhai keyword.
    fn check_root_names(&mut self, context: &Context<'_>, file: &SourceFile) {
        for (root, _) in context.vocabulary.roots() {
            let reserved = context
                .engine
                .compile(format!("let {root} = 0;"))
                .err()
                .is_some_and(|err| err.0.to_string().contains("reserved keyword"));
            if reserved {
                let place = Place {
                    file,
                    item: root.to_string(),
                    anchors: vec![(root, None)],
                };
                self.report(
                    &place,
                    None,
                    format!("`{root}` é palavra reservada do Rhai e não pode nomear um grupo de fatos"),
                );
            }
        }
    }

    fn build_calendar(&mut self, spec: &CalendarFile, file: &SourceFile) -> Calendar {
        let mut holidays = BTreeMap::new();
        for (date, name) in &spec.holidays {
            match calendar::parse_date(date) {
                Ok(day) => {
                    holidays.insert(day, name.clone());
                }
                Err(message) => {
                    let place = Place {
                        file,
                        item: format!("holidays.{date}"),
                        anchors: vec![("holidays", None), (date.as_str(), None)],
                    };
                    self.report(&place, None, message);
                }
            }
        }
        let mut hours = BTreeMap::new();
        for (department, entry) in &spec.business_hours {
            match Hours::parse(&entry.days, &entry.open, &entry.close) {
                Ok(parsed) => {
                    hours.insert(department.clone(), parsed);
                }
                Err(message) => {
                    let place = Place {
                        file,
                        item: format!("business_hours.{department}"),
                        anchors: vec![("business_hours", None), (department.as_str(), None)],
                    };
                    self.report(&place, None, message);
                }
            }
        }
        Calendar::new(holidays, hours)
    }

    fn compile_derivations(
        &mut self,
        context: &Context<'_>,
        vocabulary: &VocabularyFile,
        file: &SourceFile,
    ) -> BTreeMap<String, Arc<AST>> {
        let mut out = BTreeMap::new();
        for (path, spec) in &vocabulary.facts {
            let Some(source) = &spec.derive else { continue };
            let place = Place {
                file,
                item: path.clone(),
                anchors: vec![(path.as_str(), None)],
            };
            let Some(expr) = self.compile_expr(context, &place, "derive", source) else {
                continue;
            };
            for reference in scan::scan(source).paths {
                let dotted = reference.dotted();
                if dotted != *path
                    && vocabulary
                        .facts
                        .get(&dotted)
                        .is_some_and(|other| other.derive.is_some())
                {
                    self.report(
                        &place,
                        Some("derive"),
                        format!("lê `{dotted}`, outro fato derivado; derive só de fatos informados"),
                    );
                }
                if dotted == *path {
                    self.report(&place, Some("derive"), "deriva o fato dele mesmo".into());
                }
            }
            out.insert(path.clone(), Arc::new(expr.ast));
        }
        out
    }

    fn compile_rule(
        &mut self,
        context: &Context<'_>,
        procedure: &ProcedureFile,
        spec: &RuleSpec,
        place: &Place<'_>,
    ) -> Option<Rule> {
        let before = self.problems.len();
        let id_ok = !spec.id.is_empty()
            && spec
                .id
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '.' || c == '-');
        if !id_ok {
            self.report(
                place,
                Some("id"),
                "ids de regra usam letras minúsculas, dígitos, `_`, `-` e `.`".into(),
            );
        }
        if spec.section.trim().is_empty() {
            self.report(
                place,
                Some("section"),
                "toda regra cita a seção do seu documento".into(),
            );
        }
        let phase = self.phase(context, place, "phase", &spec.phase);
        let rule_context = spec.context.clone().unwrap_or_else(|| procedure.context.clone());
        for group in &rule_context {
            if !matches!(
                context.vocabulary.lookup(group),
                Some(crate::vocabulary::PathKind::Group)
            ) {
                let roots = context
                    .vocabulary
                    .roots()
                    .iter()
                    .filter(|(_, is_group)| *is_group)
                    .map(|(name, _)| name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ");
                self.report(
                    place,
                    Some("context"),
                    format!("`{group}` não é um grupo do vocabulário; grupos: {roots}"),
                );
            }
        }
        let flow = spec.flow.as_ref().or(procedure.flow.as_ref());
        if let Some(flow) = flow {
            self.check_flow(context, place, "flow", flow);
        }
        for (index, stopped) in spec.stops.iter().enumerate() {
            self.check_flow(context, place, &format!("stops[{index}]"), stopped);
        }
        let when = spec
            .when
            .as_ref()
            .and_then(|source| self.compile_expr(context, place, "when", source));
        let mut set = Vec::new();
        for (name, value) in &spec.set {
            if let Some(json) = self.check_output_value(context, place, name, value) {
                set.push((name.clone(), json));
            }
        }
        let mut compute = Vec::new();
        for (name, source) in &spec.compute {
            let field = format!("compute.{name}");
            if !context.manifest.outputs.contains_key(name) {
                self.report(place, Some(&field), unknown_output(context, name));
            }
            if spec.set.contains_key(name) {
                self.report(
                    place,
                    Some(&field),
                    "a saída está em `set` e em `compute` na mesma regra".into(),
                );
            }
            if let Some(expr) = self.compile_expr(context, place, &field, source) {
                compute.push((name.clone(), expr));
            }
        }
        let mut actions = Vec::new();
        for (index, action) in spec.actions.iter().enumerate() {
            let field = format!("actions[{index}]");
            let item_place = Place {
                file: place.file,
                item: spec.id.clone(),
                anchors: vec![("id", Some(spec.id.as_str())), ("id", Some(action.id.as_str()))],
            };
            self.unique_item(&item_place, &field, &action.id);
            let team = action.team.as_ref().and_then(|team| {
                if context.catalog.teams.contains_key(team) {
                    Some(Shared::from(team))
                } else {
                    let known = context.catalog.teams.keys().cloned().collect::<Vec<_>>().join(", ");
                    self.report(
                        &item_place,
                        Some(&format!("{field}.team")),
                        format!(
                            "time desconhecido `{team}`{}; times do catálogo: {known}",
                            crate::suggest::hint(team, context.catalog.teams.keys().map(String::as_str))
                        ),
                    );
                    None
                }
            });
            let macro_name = action
                .r#macro
                .as_ref()
                .and_then(|key| match context.catalog.macros.get(key) {
                    Some(name) => Some(Shared::from(name)),
                    None => {
                        self.report(
                            &item_place,
                            Some(&format!("{field}.macro")),
                            format!(
                                "a macro `{key}` não está em `macros` do catálogo{}; macros: {}",
                                crate::suggest::hint(key, context.catalog.macros.keys().map(String::as_str)),
                                context.catalog.macros.keys().cloned().collect::<Vec<_>>().join(", ")
                            ),
                        );
                        None
                    }
                });
            let item_phase = match &action.phase {
                Some(name) => self.phase(context, &item_place, &format!("{field}.phase"), name),
                None => phase,
            };
            let spec = ScriptSpec {
                id: action.id.clone(),
                text: action.text.clone(),
                when: action.when.clone(),
            };
            if let Some(mut item) = self.compile_item(context, &item_place, &field, &spec, item_phase) {
                item.team = team;
                item.macro_name = macro_name;
                actions.push(item);
            }
        }
        let scripts = self.compile_items(context, place.file, spec, "scripts", &spec.scripts, phase);
        let reminders = self.compile_items(context, place.file, spec, "reminders", &spec.reminders, phase);
        for (index, allow) in spec.lint_allow.iter().enumerate() {
            let field = format!("lint_allow[{index}]");
            if !crate::lint::LINTS.iter().any(|(id, _)| *id == allow.lint) {
                let known = crate::lint::LINTS
                    .iter()
                    .map(|(id, _)| *id)
                    .collect::<Vec<_>>()
                    .join(", ");
                self.report(
                    place,
                    Some(&field),
                    format!("lint desconhecido `{}`; lints: {known}", allow.lint),
                );
            }
            if allow.reason.trim().is_empty() {
                self.report(
                    place,
                    Some(&field),
                    "silenciar um lint exige um motivo (`reason`)".into(),
                );
            }
            let items = spec
                .actions
                .iter()
                .map(|a| &a.id)
                .chain(spec.scripts.iter().map(|s| &s.id))
                .chain(spec.reminders.iter().map(|s| &s.id));
            if let Some(item) = &allow.item {
                if !items.clone().any(|id| id == item) {
                    self.report(
                        place,
                        Some(&field),
                        format!("a regra não tem ação, script ou lembrete `{item}`"),
                    );
                }
            }
        }
        if spec.set.is_empty()
            && spec.compute.is_empty()
            && spec.actions.is_empty()
            && spec.scripts.is_empty()
            && spec.reminders.is_empty()
        {
            self.report(
                place,
                None,
                "a regra não define saída nem contribui ação, script ou lembrete".into(),
            );
        }
        if self.problems.len() != before {
            return None;
        }
        let condition = when.as_ref().map_or("(sempre)", |expr| expr.source.as_str());
        let reasons = [
            format!("condição verdadeira: {condition}").into(),
            format!("condição falsa: {condition}").into(),
        ];
        Some(Rule {
            reasons,
            discriminant: None,
            flow: flow.map(Shared::from),
            stops: spec.stops.clone(),
            id: spec.id.as_str().into(),
            file: place.file.path.clone(),
            source: Source {
                document: procedure.document.as_str().into(),
                section: spec.section.as_str().into(),
            },
            when,
            priority: spec.priority,
            group: spec.group.clone(),
            context: rule_context,
            set,
            compute,
            actions,
            scripts,
            reminders,
        })
    }

    fn compile_items(
        &mut self,
        context: &Context<'_>,
        file: &SourceFile,
        rule: &RuleSpec,
        kind: &str,
        specs: &[ScriptSpec],
        phase: usize,
    ) -> Vec<Item> {
        let mut items = Vec::new();
        for (index, spec) in specs.iter().enumerate() {
            let field = format!("{kind}[{index}]");
            let place = Place {
                file,
                item: rule.id.clone(),
                anchors: vec![("id", Some(rule.id.as_str())), ("id", Some(spec.id.as_str()))],
            };
            self.unique_item(&place, &field, &spec.id);
            if let Some(item) = self.compile_item(context, &place, &field, spec, phase) {
                items.push(item);
            }
        }
        items
    }

    fn unique_item(&mut self, place: &Place<'_>, field: &str, id: &str) {
        if let Some(previous) = self.item_ids.insert(id.to_string(), place.item.clone()) {
            self.report(
                place,
                Some(&format!("{field}.id")),
                format!("id repetido `{id}`; já usado na regra `{previous}`"),
            );
        }
    }

    fn compile_item(
        &mut self,
        context: &Context<'_>,
        place: &Place<'_>,
        field: &str,
        spec: &ScriptSpec,
        phase: usize,
    ) -> Option<Item> {
        let when = spec
            .when
            .as_ref()
            .and_then(|source| self.compile_expr(context, place, &format!("{field}.when"), source));
        let text_field = format!("{field}.text");
        let pieces = match template::split(&spec.text) {
            Ok(pieces) => pieces,
            Err(err) => {
                self.report(place, Some(&text_field), err.message);
                self.point_at_placeholder(place, &spec.text, err.offset);
                return None;
            }
        };
        let mut text = Vec::new();
        for piece in pieces {
            match piece {
                Piece::Literal(literal) => text.push(Segment::Literal(literal)),
                Piece::Placeholder { source, .. } => {
                    let expr = self.compile_expr(context, place, &text_field, &source)?;
                    text.push(Segment::Placeholder(expr));
                }
            }
        }
        Some(Item {
            id: spec.id.as_str().into(),
            text,
            when,
            team: None,
            macro_name: None,
            phase,
            phase_name: context
                .manifest
                .phases
                .get(phase)
                .map(String::as_str)
                .unwrap_or_default()
                .into(),
        })
    }

    fn phase(&mut self, context: &Context<'_>, place: &Place<'_>, field: &str, name: &str) -> usize {
        match context.manifest.phases.iter().position(|phase| phase == name) {
            Some(index) => index,
            None => {
                self.report(
                    place,
                    Some(field),
                    format!(
                        "fase desconhecida `{name}`{}; permitidas: {}",
                        crate::suggest::hint(name, context.manifest.phases.iter().map(String::as_str)),
                        context.manifest.phases.join(", ")
                    ),
                );
                0
            }
        }
    }

    fn check_output_value(
        &mut self,
        context: &Context<'_>,
        place: &Place<'_>,
        name: &str,
        value: &serde_yaml::Value,
    ) -> Option<serde_json::Value> {
        let field = format!("set.{name}");
        let Some(output) = context.manifest.outputs.get(name) else {
            self.report(place, Some(&field), unknown_output(context, name));
            return None;
        };
        let json = match (output.kind, value) {
            (OutputKind::Bool, serde_yaml::Value::Bool(flag)) => serde_json::Value::Bool(*flag),
            (OutputKind::Text, serde_yaml::Value::String(text)) => {
                if let Some(values) = &output.values {
                    if !values.contains(text) {
                        self.report(
                            place,
                            Some(&field),
                            format!("valor `{text}` não permitido; permitidos: {}", values.join(", ")),
                        );
                        return None;
                    }
                }
                serde_json::Value::String(text.clone())
            }
            (OutputKind::Date, serde_yaml::Value::String(text)) => match calendar::parse_date(text) {
                Ok(_) => serde_json::Value::String(text.clone()),
                Err(message) => {
                    self.report(place, Some(&field), message);
                    return None;
                }
            },
            (kind, other) => {
                self.report(
                    place,
                    Some(&field),
                    format!("esperado um valor {kind:?}, encontrado `{}`", yaml_text(other)),
                );
                return None;
            }
        };
        Some(json)
    }

    /// Compiles one expression and checks what it refers to.
    fn compile_expr(&mut self, context: &Context<'_>, place: &Place<'_>, field: &str, source: &str) -> Option<Expr> {
        let before = self.problems.len();
        let scan = scan::scan(source);
        for reference in &scan.paths {
            if let Some(message) = context.check_path(&reference.segments) {
                self.report(place, Some(field), message);
            }
        }
        for comparison in &scan.comparisons {
            if let Some(message) = context.check_comparison(&comparison.path, &comparison.literals) {
                self.report(place, Some(field), message);
            }
        }
        for (name, _) in &scan.calls {
            if !context.functions.contains(name) && !BUILTIN_CALLS.contains(&name.as_str()) {
                self.report(place, Some(field), format!("função desconhecida `{name}`"));
            }
        }
        let scope = sandbox::compile_scope(context.vocabulary, &GLOBALS);
        let ast = match context.engine.compile_with_scope(&scope, source) {
            Ok(ast) => Some(ast),
            Err(err) => {
                let position = err.1;
                let at = match (position.line(), position.position()) {
                    (Some(line), Some(column)) => format!(" (linha {line}, coluna {column} da expressão)"),
                    _ => String::new(),
                };
                let kind = err.0.to_string();
                let help = if kind.contains("reserved keyword") {
                    "; um fato com nome de palavra reservada do Rhai é lido com índice: `request[\"module\"]`"
                } else {
                    ""
                };
                self.report(
                    place,
                    Some(field),
                    format!("o Rhai não compila `{}`: {kind}{at}{help}", source.trim()),
                );
                None
            }
        };
        if self.problems.len() != before {
            return None;
        }
        ast.map(|ast| Expr {
            source: source.trim().to_string(),
            ast,
            native: None,
        })
    }
}

/// A serde_yaml error in Portuguese, without its English " at line L
/// column C" (the location says it).
pub(crate) fn yaml_error_message(err: &serde_yaml::Error) -> String {
    let message = err.to_string();
    portuguese(message.split(" at line ").next().unwrap_or(&message))
}

/// serde's usual messages in Portuguese; anything else is kept as it is.
fn portuguese(message: &str) -> String {
    [
        ("unknown field", "campo desconhecido"),
        ("expected one of", "esperado um de"),
        ("missing field", "campo obrigatório ausente"),
        ("invalid type", "tipo inválido"),
        ("unknown variant", "valor desconhecido"),
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
    .fold(message.to_string(), |text, (english, portuguese)| {
        text.replace(english, portuguese)
    })
}

fn unknown_output(context: &Context<'_>, name: &str) -> String {
    let known = context.manifest.outputs.keys().cloned().collect::<Vec<_>>().join(", ");
    format!("saída desconhecida `{name}`; saídas declaradas: {known}")
}

fn yaml_text(value: &serde_yaml::Value) -> String {
    serde_yaml::to_string(value)
        .map(|text| text.trim().to_string())
        .unwrap_or_default()
}

/// What expressions are checked against.
struct Context<'a> {
    vocabulary: &'a Vocabulary,
    catalog: &'a CatalogFile,
    functions: BTreeSet<String>,
    engine: &'a Engine,
    manifest: &'a Manifest,
}

impl Context<'_> {
    fn check_path(&self, segments: &[String]) -> Option<String> {
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
                Some(crate::vocabulary::PathKind::Fact(_)) if end < segments.len() => {
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

    fn check_catalog(&self, segments: &[String]) -> Option<String> {
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

    fn check_comparison(&self, path: &str, literals: &[String]) -> Option<String> {
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

/// Every list of the catalog by name, `teams` and `macros` included.
fn catalog_lists(catalog: CatalogFile) -> sandbox::Catalog {
    let mut lists = catalog.other;
    lists.insert("teams".into(), catalog.teams);
    lists.insert("macros".into(), catalog.macros);
    sandbox::Catalog::new(lists)
}

/// FNV-1a over paths and contents: stable across Rust versions and machines.
fn digest(files: &[SourceFile]) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for file in files {
        for byte in file.path.bytes().chain([0]).chain(file.text.bytes()).chain([0]) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{hash:016x}")
}
