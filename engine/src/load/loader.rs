//! Building a bundle from its files: read every file, check everything,
//! compile once.
//!
//! A bundle is either valid as a whole or rejected with the full list of its
//! problems; nothing is half-loaded. Every Rhai expression is compiled here,
//! once, and reused by every decision.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use crate::expr::catalog::Catalog;
use crate::expr::sandbox;
use crate::facts::vocabulary::Vocabulary;
use crate::load::by_rule;
use crate::load::context::Context;
use crate::load::error::{BundleError, Problem};
use crate::load::files::{read_dir, refused, MAX_FILE_BYTES};
use crate::load::native_pass::NativePass;
use crate::load::problems::{Loader, Place};
use crate::model::bundle::{
    out_of_context, Bundle, Evaluation, Rule, SourceFile, CALENDAR, CATALOG, MANIFEST, PARAMETERS, PROCEDURES, TESTS,
    VOCABULARY,
};
use crate::model::parameters::Parameters;
use crate::model::policy::{
    CalendarFile, CatalogFile, Manifest, ParametersFile, ProcedureFile, RuleSpec, VocabularyFile,
};
use crate::model::rule_index::RuleIndex;
use crate::model::source::BundleInfo;
use crate::parallel;
use crate::text::input;

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

    /// Loads a bundle compiled into a binary from a bundle folder. Its
    /// files were within bounds and UTF-8 when [`Bundle::load_dir`] read
    /// that folder (the build's tests load it so), so they are not scanned
    /// again: a tenth of a cold `roteiro decide`. `prepared` holds, by
    /// path, the files the build already turned from YAML into JSON (the
    /// same data; the text still gives the digest, lines and messages):
    /// reading JSON skips libyaml, half of what was left. Every check of
    /// meaning still runs.
    pub fn from_embedded(
        files: Vec<SourceFile>,
        prepared: &'static [(&'static str, &'static str)],
    ) -> Result<Self, BundleError> {
        Self::load_sorted(
            files,
            Loader {
                prepared,
                ..Loader::default()
            },
        )
    }

    fn from_checked_files(files: Vec<SourceFile>) -> Result<Self, BundleError> {
        Self::load_sorted(files, Loader::default())
    }

    fn load_sorted(mut files: Vec<SourceFile>, loader: Loader) -> Result<Self, BundleError> {
        files.sort_by(|a, b| a.path.cmp(&b.path));
        match loader.load(files, Reading::ByRule) {
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

/// The bundle's files as read, before any is checked against another.
struct Parts<'f> {
    manifest: Manifest,
    vocabulary: VocabularyFile,
    catalog: CatalogFile,
    calendar: CalendarFile,
    manifest_file: &'f SourceFile,
    vocabulary_file: &'f SourceFile,
    calendar_file: &'f SourceFile,
    /// `parameters.yaml`, checked (none when the bundle has no such file).
    parameters: Parameters,
    procedures: Vec<(&'f SourceFile, Procedure<'f>)>,
}

impl Loader {
    pub(super) fn load(mut self, files: Vec<SourceFile>, reading: Reading) -> Loaded {
        let Some(parts) = self.read_parts(&files, reading) else {
            return Loaded::Done(Err(self.fail(&files)));
        };
        let Parts {
            manifest,
            vocabulary: vocabulary_spec,
            catalog,
            calendar: calendar_spec,
            manifest_file,
            vocabulary_file,
            calendar_file,
            parameters,
            procedures,
        } = parts;
        let zone = self.check_manifest(&manifest, manifest_file);
        self.check_vocabulary(&vocabulary_spec, vocabulary_file);
        let calendar = self.build_calendar(&calendar_spec, calendar_file, zone.unwrap_or_default());
        let vocabulary = Arc::new(
            Vocabulary::new(vocabulary_spec.facts.clone()).with_text_max_length(manifest.limits.text_max_length),
        );
        let calendar = Arc::new(calendar);
        let engine = sandbox::build_engine(calendar.clone());
        let context = Context::new(&vocabulary, &catalog, &engine, &manifest, &parameters);
        self.check_root_names(&context, vocabulary_file);
        self.check_first_questions(&manifest, &vocabulary, manifest_file);
        let derivations = self.compile_derivations(&context, &vocabulary_spec, vocabulary_file);
        let catalog_lists = catalog_lists(catalog.clone());
        let native_pass = NativePass::new(&vocabulary, &catalog_lists, &derivations);
        if procedures.is_empty() && !files.iter().any(|file| file.path.starts_with(PROCEDURES)) {
            self.file_problem(
                PROCEDURES,
                "o pacote não tem procedimentos: as regras ficam em procedures/*.yaml".into(),
            );
        }
        let Some(rules) = self.compile_procedures(&context, &native_pass, &procedures) else {
            return Loaded::ReadWhole(files);
        };

        // A bundle whose zone is unknown never decides (its calendar was
        // built in UTC only so the other files could still be checked).
        let (true, Some(_)) = (self.problems.is_empty(), zone) else {
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
            parameters,
            manifest,
            info,
            vocabulary,
            catalog: catalog_lists,
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
        bundle.word_follow_ups();
        Loaded::Done(Ok(bundle))
    }

    /// The four required files read, and the procedures; `None` when a
    /// required file is missing or unreadable (its problem recorded).
    fn read_parts<'f>(&mut self, files: &'f [SourceFile], reading: Reading) -> Option<Parts<'f>> {
        let manifest_file = self.required(files, MANIFEST);
        let vocabulary_file = self.required(files, VOCABULARY);
        let catalog_file = self.required(files, CATALOG);
        let calendar_file = self.required(files, CALENDAR);
        let manifest: Option<Manifest> = manifest_file.and_then(|f| self.parse(f));
        let vocabulary: Option<VocabularyFile> = vocabulary_file.and_then(|f| self.parse(f));
        let catalog: Option<CatalogFile> = catalog_file.and_then(|f| self.parse(f));
        let calendar: Option<CalendarFile> = calendar_file.and_then(|f| self.parse(f));
        let parameters = match files.iter().find(|file| file.path == PARAMETERS) {
            Some(file) => match self.parse::<ParametersFile>(file) {
                Some(spec) => self.check_parameters(&spec, file),
                None => Parameters::default(),
            },
            None => Parameters::default(),
        };
        // Read even when a required file failed: every problem at once.
        let procedures = self.read_procedures(files, reading);
        self.check_unexpected_files(files);
        Some(Parts {
            manifest: manifest?,
            vocabulary: vocabulary?,
            catalog: catalog?,
            calendar: calendar?,
            manifest_file: manifest_file?,
            vocabulary_file: vocabulary_file?,
            calendar_file: calendar_file?,
            parameters,
            procedures,
        })
    }

    /// Each procedure file, read a batch of rules at a time when it can
    /// be, else whole.
    fn read_procedures<'f>(
        &mut self,
        files: &'f [SourceFile],
        reading: Reading,
    ) -> Vec<(&'f SourceFile, Procedure<'f>)> {
        files
            .iter()
            .filter(|file| file.path.starts_with(PROCEDURES))
            .filter_map(|file| {
                // A prepared file reads whole: JSON is read fast enough.
                let by_rule =
                    (reading == Reading::ByRule && self.prepared(file).is_none()).then(|| by_rule::start(&file.text));
                let procedure = match by_rule.flatten() {
                    Some((head, batches)) => Procedure::ByRule(head, batches),
                    None => Procedure::Whole(self.parse(file)?),
                };
                Some((file, procedure))
            })
            .collect()
    }

    /// A bundle holds its four files, procedures/, tests/ and examples/.
    fn check_unexpected_files(&mut self, files: &[SourceFile]) {
        for file in files {
            let known = [MANIFEST, VOCABULARY, CATALOG, CALENDAR, PARAMETERS].contains(&file.path.as_str())
                || file.path.starts_with(PROCEDURES)
                || file.path.starts_with(TESTS)
                || file.path.starts_with("examples/");
            if !known {
                self.file_problem(
                    &file.path,
                    format!("arquivo inesperado; um pacote contém {MANIFEST}, {VOCABULARY}, {CATALOG}, {CALENDAR}, {PARAMETERS}, procedures/, tests/ e examples/"),
                );
            }
        }
    }

    /// The manifest's first questions are facts of the vocabulary.
    fn check_first_questions(&mut self, manifest: &Manifest, vocabulary: &Vocabulary, manifest_file: &SourceFile) {
        for fact in &manifest.first_questions {
            if vocabulary.fact(fact).is_none() {
                let place = Place {
                    file: manifest_file,
                    item: "first_questions".into(),
                    anchors: vec![("first_questions", None)],
                };
                let hint = crate::text::suggest::closest(fact, vocabulary.facts().map(|f| f.path.as_str()))
                    .map_or_else(String::new, |near| format!("; você quis dizer `{near}`?"));
                self.report(&place, None, format!("`{fact}` não é um fato do vocabulário{hint}"));
            }
        }
    }

    /// Every rule of every procedure, compiled in file order while the
    /// next batches are read on another core; `None` when a batch did not
    /// read on its own and the files must be read whole.
    fn compile_procedures(
        &mut self,
        context: &Context<'_>,
        native_pass: &NativePass<'_>,
        procedures: &[(&SourceFile, Procedure<'_>)],
    ) -> Option<Vec<Rule>> {
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
            context,
            native_pass,
            rules: Vec::with_capacity(procedures.iter().map(|(_, procedure)| procedure.rules()).sum()),
            seen: BTreeMap::new(),
        };
        let all_read = parallel::pipelined(&batches, PIPELINE_MIN_BATCHES, by_rule::Batch::read, |read| {
            for (file, procedure) in procedures {
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
        all_read.then_some(compiled.rules)
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

/// Every list of the catalog by name, `teams` and `macros` included.
pub(super) fn catalog_lists(catalog: CatalogFile) -> Catalog {
    let mut lists = catalog.other;
    lists.insert("teams".into(), catalog.teams);
    lists.insert("macros".into(), catalog.macros);
    Catalog::new(lists)
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
