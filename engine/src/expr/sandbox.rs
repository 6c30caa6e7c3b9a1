//! The Rhai engine policies run in: sandboxed, with the helpers they may call.
//!
//! Built from `Engine::new_raw()` so nothing reaches files, the network or
//! `eval`; every limit is set explicitly, so a runaway condition stops with an
//! error instead of hanging a decision. Facts are not plain Rhai maps: each
//! group of the situation is a [`FactNode`] whose indexer goes through the
//! [`Probe`], which is how the evaluator sees every fact a condition reads,
//! including the absent ones.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, TimeDelta, Timelike};
use rhai::packages::{
    ArithmeticPackage, BasicArrayPackage, BasicStringPackage, LogicPackage, MoreStringPackage, Package,
};
use rhai::{Dynamic, Engine, EvalAltResult, ImmutableString, NativeCallContext, Position, Scope, AST};

use crate::expr::budget;
use crate::expr::native::tree::{Narrowing, Val};
use crate::expr::slots::FactSlots;
use crate::model::calendar::{self, Calendar};
use crate::model::shared::Shared;
use crate::model::vocabulary::{FactValue, PathKind, Vocabulary};

/// Operations one expression may run before it is stopped.
pub const MAX_OPERATIONS: u64 = 50_000;

/// Longest string an expression may build. Text facts are bounded well
/// below it when a situation is read (`max_length`), so a long fact is the
/// situation's error, never this limit's.
pub const MAX_STRING_BYTES: usize = 64 * 1024;

/// The probe of one evaluation, shared with the fact groups Rhai holds.
/// A decision runs on one thread, so the lock is never contended; it is
/// there so a loaded bundle can be shared by every thread of a service.
pub type SharedProbe = Arc<Mutex<Probe>>;

/// The probe, whatever a panicking holder left behind: a probe is rebuilt
/// for every run, so a poisoned one is still consistent enough to read.
pub fn lock(probe: &SharedProbe) -> MutexGuard<'_, Probe> {
    probe.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A group of the situation (`client`, `request.equipment`) as Rhai sees it.
#[derive(Clone)]
pub struct FactNode {
    path: ImmutableString,
    probe: SharedProbe,
}

/// The catalog as Rhai sees it: `catalog.macros.io_fim` and
/// `catalog.ticket_codes["000001"]` read through indexers, so putting it in
/// a scope copies a pointer, not every list.
#[derive(Debug, Clone, Default)]
pub struct Catalog(Arc<BTreeMap<String, BTreeMap<String, String>>>);

impl Catalog {
    /// The catalog's lists by name.
    pub fn new(lists: BTreeMap<String, BTreeMap<String, String>>) -> Self {
        Self(Arc::new(lists))
    }

    /// Every list, by name.
    pub fn lists(&self) -> &BTreeMap<String, BTreeMap<String, String>> {
        &self.0
    }
}

/// One list of the catalog, by name.
#[derive(Debug, Clone)]
pub struct CatalogList {
    catalog: Catalog,
    name: String,
}

fn catalog_list(catalog: &mut Catalog, name: &str) -> Result<CatalogList, Box<EvalAltResult>> {
    if catalog.0.contains_key(name) {
        Ok(CatalogList {
            catalog: catalog.clone(),
            name: name.to_string(),
        })
    } else {
        Err(format!("o catálogo não tem a lista `{name}`").into())
    }
}

fn catalog_entry(list: &mut CatalogList, key: &str) -> Result<String, Box<EvalAltResult>> {
    list.catalog
        .0
        .get(&list.name)
        .and_then(|entries| entries.get(key))
        .cloned()
        .ok_or_else(|| format!("`catalog.{}.{key}` não está no catálogo", list.name).into())
}

/// What a choice of the exploration tries values for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    /// An absent enumerable fact, by slot.
    Fact(usize),
    /// `given(...)` in static analysis, by its place in `Probe::given_keys`.
    Given(usize),
}

/// One pending choice for an absent enumerable fact (see `evaluate`).
#[derive(Debug, Clone)]
pub struct Choice {
    /// What is being tried.
    pub key: Key,
    /// How many values it has.
    pub len: usize,
    /// The value tried in the current run.
    pub index: usize,
}

/// What the facts read during one evaluation looked like.
///
/// Facts are kept by slot (their place in the vocabulary) and values as the
/// index of the value tried, so reading an absent fact allocates nothing.
pub struct Probe {
    /// The facts the situation gives.
    pub facts: Arc<BTreeMap<String, FactValue>>,
    /// The declared vocabulary.
    pub vocabulary: Arc<Vocabulary>,
    /// The vocabulary by slot: defaults, values to try, derivations.
    pub slots: Arc<FactSlots>,
    /// Compiled `derive` expressions of derived facts.
    pub derivations: Arc<BTreeMap<String, Arc<AST>>>,
    /// The catalog, which every Rhai expression sees as `catalog`.
    pub catalog: Catalog,
    /// The decision's date, which every Rhai expression sees as `today`.
    pub today: Option<NaiveDate>,
    /// Whether absent enumerable facts are tried value by value (conditions)
    /// or simply unknown (texts and computed values).
    pub branching: bool,
    /// The choices of the exploration, outermost first.
    pub choices: Vec<Choice>,
    /// The value (its index) given to each absent fact tried in the
    /// current run, in the order the run reached them.
    pub assigned: Vec<(Key, usize)>,
    /// Absent facts read, over all runs, by slot.
    pub reads: Vec<usize>,
    /// Set when the current run read an absent fact it could not try.
    pub aborted: bool,
    /// Absent facts read through their vocabulary default, by slot.
    pub assumed: Vec<usize>,
    /// Static analysis: every fact is unknown and `given(...)` is a choice too.
    pub symbolic: bool,
    /// The groups and facts `given(...)` asked about, in static analysis.
    given_keys: Vec<String>,
    /// How many times a run met something the situation does not give (an
    /// absent fact, a symbolic `given`): a derivation that met nothing is a
    /// function of the situation alone, and its value can be kept.
    pub(crate) absent_reads: u64,
    /// Derived facts worked out from the situation alone, by slot.
    derived: Vec<Option<Val>>,
    /// The values of the expression Rhai explores that are worth trying,
    /// when its native tree narrowed them (see `native::tree::Narrowing`): the
    /// native tree passes its own instead.
    pub narrowing: Narrowing,
}

impl Probe {
    /// A probe over the situation's facts, before any run.
    pub fn new(facts: Arc<BTreeMap<String, FactValue>>, bundle_parts: ProbeParts) -> Self {
        Self {
            facts,
            vocabulary: bundle_parts.vocabulary,
            slots: bundle_parts.slots,
            derivations: bundle_parts.derivations,
            catalog: bundle_parts.catalog,
            today: bundle_parts.today,
            branching: false,
            choices: Vec::new(),
            assigned: Vec::new(),
            reads: Vec::new(),
            aborted: false,
            assumed: Vec::new(),
            symbolic: false,
            given_keys: Vec::new(),
            absent_reads: 0,
            derived: Vec::new(),
            narrowing: Narrowing::default(),
        }
    }

    /// A derived fact's value, when it was worked out from the situation
    /// alone earlier in this decision.
    pub(crate) fn derived_value(&self, slot: usize) -> Option<Val> {
        self.derived.get(slot).cloned().flatten()
    }

    /// Keeps a derived fact's value for the rest of the decision; only for
    /// values that read nothing absent (see `absent_reads`).
    pub(crate) fn keep_derived(&mut self, slot: usize, value: Val) {
        if self.derived.len() <= slot {
            self.derived.resize(self.slots.len(), None);
        }
        if let Some(kept) = self.derived.get_mut(slot) {
            *kept = Some(value);
        }
    }

    /// Readies the probe for exploring one expression: conditions try
    /// absent enumerable facts (`branching`), texts and values do not.
    pub(crate) fn start(&mut self, branching: bool) {
        self.branching = branching;
        self.choices.clear();
        self.reads.clear();
    }

    /// Moves to the next combination of choices; false when all were tried.
    pub(crate) fn next_choice(&mut self) -> bool {
        let depth = self.assigned.len();
        self.choices.truncate(depth);
        while let Some(choice) = self.choices.last_mut() {
            if choice.index + 1 < choice.len {
                choice.index += 1;
                return true;
            }
            self.choices.pop();
        }
        false
    }

    /// Reads a fact by path, as Rhai does.
    pub(crate) fn read(&mut self, path: &str) -> Read {
        if let Some(value) = self.facts.get(path) {
            return Read::Value(Val::of(value));
        }
        let Some(slot) = self.vocabulary.slot(path) else {
            return Read::Unknown;
        };
        let narrowing = std::mem::take(&mut self.narrowing);
        let absent = self.read_absent(slot, narrowing.of(slot));
        self.narrowing = narrowing;
        match absent {
            Absent::Value(value) => Read::Value(value),
            Absent::Unknown => Read::Unknown,
            Absent::Derive => match self.derivations.get(path) {
                Some(ast) => Read::Derive(ast.clone()),
                None => Read::Unknown,
            },
        }
    }

    /// Reads a fact the situation does not give: it is derived, or has a
    /// default, or is tried value by value (those of `narrowed`, indexes
    /// into its values, when given), or is unknown (and the run is aborted).
    pub(crate) fn read_absent(&mut self, slot: usize, narrowed: Option<&[usize]>) -> Absent {
        // What the slot holds is looked up again where it is used, not kept
        // across the probe's updates: no copy of the table's handle, whose
        // counter every thread deciding on the bundle would share.
        let Some((derived, defaulted, values)) = self
            .slots
            .get(slot)
            .map(|fact| (fact.derived, fact.default.is_some(), fact.domain.len()))
        else {
            return Absent::Unknown;
        };
        if derived {
            return Absent::Derive;
        }
        self.absent_reads += 1;
        // The choice is a position in the values tried.
        let tried = |choice: usize| narrowed.map_or(Some(choice), |indexes| indexes.get(choice).copied());
        if let Some(choice) = self.assigned_index(Key::Fact(slot)) {
            let value = tried(choice).and_then(|index| self.domain_value(slot, index));
            return value.map_or(Absent::Unknown, Absent::Value);
        }
        if defaulted && !self.symbolic {
            if !self.assumed.contains(&slot) {
                self.assumed.push(slot);
            }
            let default = self.slots.get(slot).and_then(|fact| fact.default.clone());
            return default.map_or(Absent::Unknown, Absent::Value);
        }
        if !self.reads.contains(&slot) {
            self.reads.push(slot);
        }
        let chosen = if self.branching {
            let values = narrowed.map_or(values, <[usize]>::len);
            self.choose(Key::Fact(slot), values)
                .and_then(tried)
                .and_then(|index| self.domain_value(slot, index))
        } else {
            None
        };
        match chosen {
            Some(value) => Absent::Value(value),
            None => {
                self.aborted = true;
                Absent::Unknown
            }
        }
    }

    /// The value at `index` of the values the fact at `slot` is tried with.
    fn domain_value(&self, slot: usize, index: usize) -> Option<Val> {
        self.slots.get(slot)?.domain.get(index).cloned()
    }

    fn assigned_index(&self, key: Key) -> Option<usize> {
        self.assigned
            .iter()
            .find_map(|(assigned, index)| (*assigned == key).then_some(*index))
    }

    /// The value (its index) tried for `key` in this run, opening a new
    /// choice the first time the run reaches it; `None` when it has none.
    fn choose(&mut self, key: Key, len: usize) -> Option<usize> {
        if let Some(index) = self.assigned_index(key) {
            return Some(index);
        }
        let depth = self.assigned.len();
        let index = match self.choices.get(depth) {
            Some(choice) if choice.key == key => choice.index,
            _ => {
                self.choices.truncate(depth);
                self.choices.push(Choice { key, len, index: 0 });
                0
            }
        };
        if index >= len {
            return None;
        }
        self.assigned.push((key, index));
        Some(index)
    }

    /// `given(...)`: known in a decision, a choice in static analysis.
    pub(crate) fn given(&mut self, key: &str, known: bool) -> bool {
        if !self.symbolic {
            return known;
        }
        self.absent_reads += 1;
        let place = match self.given_keys.iter().position(|given| given == key) {
            Some(place) => place,
            None => {
                self.given_keys.push(key.to_string());
                self.given_keys.len() - 1
            }
        };
        // Tried true first, then false.
        self.choose(Key::Given(place), 2) == Some(0)
    }

    /// The paths of the absent facts read, in path order.
    pub(crate) fn read_paths(&self) -> BTreeSet<Shared> {
        self.reads
            .iter()
            .filter_map(|slot| self.slots.path(*slot).cloned())
            .collect()
    }
}

/// What a probe needs from the bundle.
pub struct ProbeParts {
    /// The declared vocabulary.
    pub vocabulary: Arc<Vocabulary>,
    /// The vocabulary by slot.
    pub slots: Arc<FactSlots>,
    /// Compiled `derive` expressions of derived facts.
    pub derivations: Arc<BTreeMap<String, Arc<AST>>>,
    /// The catalog.
    pub catalog: Catalog,
    /// The decision's date, if it has one.
    pub today: Option<NaiveDate>,
}

/// A fact read by path.
pub(crate) enum Read {
    Value(Val),
    Derive(Arc<AST>),
    Unknown,
}

/// An absent fact read by slot.
pub(crate) enum Absent {
    Value(Val),
    /// Its derivation gives it.
    Derive,
    Unknown,
}

/// The marker error raised when an expression reads an unknown fact.
pub fn unknown_fact(path: &str) -> Box<EvalAltResult> {
    Box::new(EvalAltResult::ErrorRuntime(
        Dynamic::from(format!("fato ausente: {path}")),
        Position::NONE,
    ))
}

/// A fact value as Rhai sees it.
pub fn to_dynamic(value: &FactValue) -> Dynamic {
    match value {
        FactValue::Bool(b) => Dynamic::from_bool(*b),
        FactValue::Integer(n) => Dynamic::from_int(*n),
        FactValue::Text(text) => Dynamic::from(text.to_string()),
        FactValue::Date(date) => Dynamic::from(*date),
        FactValue::DateTime(at) => Dynamic::from(*at),
    }
}

/// The text of a value shown to people (dates as dd/mm/yyyy).
pub fn display(value: &Dynamic) -> String {
    if let Some(date) = value.clone().try_cast::<NaiveDate>() {
        calendar::format_date(date)
    } else if let Some(at) = value.clone().try_cast::<DateTime<FixedOffset>>() {
        calendar::format_datetime(at)
    } else if let Ok(flag) = value.as_bool() {
        if flag { "sim" } else { "não" }.to_string()
    } else {
        value.to_string()
    }
}

/// A fresh scope holding the fact groups and the globals.
pub fn scope_for(probe: &SharedProbe) -> Scope<'static> {
    let mut scope = Scope::new();
    let (roots, catalog, today) = {
        let state = lock(probe);
        let roots: Vec<(String, bool, Option<FactValue>)> = state
            .vocabulary
            .roots()
            .iter()
            .map(|(name, is_group)| (name.clone(), *is_group, state.facts.get(name).cloned()))
            .collect();
        (roots, state.catalog.clone(), state.today)
    };
    for (name, is_group, value) in roots {
        match (is_group, value) {
            (true, _) => scope.push(
                name.clone(),
                FactNode {
                    path: name.into(),
                    probe: probe.clone(),
                },
            ),
            (false, Some(value)) => scope.push_dynamic(name, to_dynamic(&value)),
            // A top-level fact that is absent (only `now`, in static
            // analysis) stays undefined: reading it is an error, not a guess.
            (false, None) => &mut scope,
        };
    }
    // Built here, on the Rhai path only: a native decision never needs them.
    scope.push_dynamic("catalog", Dynamic::from(catalog));
    scope.push_dynamic("today", today.map_or(Dynamic::UNIT, Dynamic::from));
    scope
}

/// The variable names every expression may use, for compiling with strict
/// variables (so a misspelt group is a load error, not a runtime surprise).
pub fn compile_scope(vocabulary: &Vocabulary, globals: &[&str]) -> Scope<'static> {
    let mut scope = Scope::new();
    for (name, _) in vocabulary.roots() {
        scope.push_dynamic(name.clone(), Dynamic::UNIT);
    }
    for name in globals {
        scope.push_dynamic(name.to_string(), Dynamic::UNIT);
    }
    scope
}

fn fact_node_get(context: NativeCallContext, node: &mut FactNode, key: &str) -> Result<Dynamic, Box<EvalAltResult>> {
    let path = format!("{}.{key}", node.path);
    let read = {
        let mut probe = lock(&node.probe);
        match probe.vocabulary.lookup(&path) {
            None => {
                return Err(format!("`{path}` não é um fato do vocabulário").into());
            }
            Some(PathKind::Group) => {
                return Ok(Dynamic::from(FactNode {
                    path: path.clone().into(),
                    probe: node.probe.clone(),
                }))
            }
            Some(PathKind::Fact(_)) => probe.read(&path),
        }
    };
    match read {
        Read::Value(value) => Ok(value.to_dynamic()),
        Read::Unknown => Err(unknown_fact(&path)),
        Read::Derive(ast) => {
            let mut scope = scope_for(&node.probe);
            context.engine().eval_ast_with_scope::<Dynamic>(&mut scope, &ast)
        }
    }
}

/// Whether the situation gives any fact under this group.
fn given_group(node: &mut FactNode) -> bool {
    let prefix = format!("{}.", node.path);
    let mut probe = lock(&node.probe);
    let known = probe.facts.keys().any(|path| path.starts_with(&prefix));
    probe.given(&node.path, known)
}

/// Whether the situation gives this fact (derived facts count as given).
fn given_fact(node: &mut FactNode, key: &str) -> bool {
    let path = format!("{}.{key}", node.path);
    let mut probe = lock(&node.probe);
    let known = probe.facts.contains_key(&path) || probe.derivations.contains_key(&path);
    probe.given(&path, known)
}

/// Builds the sandboxed engine with the bundle's calendar behind the helpers.
///
/// Only pure, total packages are registered: arithmetic (overflow is an
/// error, not a wrap), logic, strings and arrays. Rhai's language core is
/// left out on purpose: it holds `sleep`, which blocks the thread, and
/// nothing a rule needs. `engine/tests/sandbox.rs` holds the exact list of callable
/// functions, so adding one is a reviewed change.
pub fn build_engine(calendar: Arc<Calendar>) -> Engine {
    let mut engine = Engine::new_raw();
    ArithmeticPackage::new().register_into_engine(&mut engine);
    LogicPackage::new().register_into_engine(&mut engine);
    BasicStringPackage::new().register_into_engine(&mut engine);
    MoreStringPackage::new().register_into_engine(&mut engine);
    BasicArrayPackage::new().register_into_engine(&mut engine);
    engine
        .set_max_operations(MAX_OPERATIONS)
        .set_max_call_levels(16)
        .set_max_expr_depths(64, 32)
        .set_max_string_size(MAX_STRING_BYTES)
        .set_max_array_size(512)
        .set_max_map_size(512)
        .set_strict_variables(true)
        .disable_symbol("eval")
        .on_progress(budget::check)
        .on_print(|text| tracing::info!(target: "roteiro::rhai", "{text}"))
        .on_debug(|text, _, _| tracing::debug!(target: "roteiro::rhai", "{text}"));

    engine.register_type_with_name::<FactNode>("FactGroup");
    engine.register_indexer_get(fact_node_get);
    engine.register_type_with_name::<Catalog>("Catalog");
    engine.register_indexer_get(catalog_list);
    engine.register_type_with_name::<CatalogList>("CatalogList");
    engine.register_indexer_get(catalog_entry);
    engine.register_fn("given", given_group);
    engine.register_fn("given", given_fact);

    register_dates(&mut engine, calendar);
    engine
}

/// A result outside what dates and times can hold. Raised as an arithmetic
/// error, so the evaluator can blame the situation value that caused it.
fn out_of_range(what: String) -> Box<EvalAltResult> {
    Box::new(EvalAltResult::ErrorArithmetic(
        format!("{what}: resultado fora do intervalo de datas"),
        Position::NONE,
    ))
}

fn add_days(date: NaiveDate, days: i64) -> Result<NaiveDate, Box<EvalAltResult>> {
    TimeDelta::try_days(days)
        .and_then(|delta| date.checked_add_signed(delta))
        .ok_or_else(|| out_of_range(format!("add_days({}, {days})", date.format("%Y-%m-%d"))))
}

fn add_minutes(at: DateTime<FixedOffset>, minutes: i64) -> Result<DateTime<FixedOffset>, Box<EvalAltResult>> {
    TimeDelta::try_minutes(minutes)
        .and_then(|delta| at.checked_add_signed(delta))
        .ok_or_else(|| out_of_range(format!("add_minutes({}, {minutes})", at.to_rfc3339())))
}

fn register_dates(engine: &mut Engine, calendar: Arc<Calendar>) {
    type Date = NaiveDate;
    type Instant = DateTime<FixedOffset>;
    engine.register_type_with_name::<Date>("Date");
    engine.register_type_with_name::<Instant>("DateTime");

    engine.register_fn("date", |text: &str| -> Result<Date, Box<EvalAltResult>> {
        calendar::parse_date(text).map_err(Into::into)
    });
    engine.register_fn("date", |at: Instant| at.date_naive());
    engine.register_fn("add_days", add_days);
    // Any two dates chrono holds are fewer than 2^28 days apart.
    engine.register_fn("days_between", |from: Date, to: Date| (to - from).num_days());
    engine.register_fn("weekday", |date: Date| i64::from(date.weekday().number_from_monday()));
    engine.register_fn("day", |date: Date| i64::from(date.day()));
    engine.register_fn("month", |date: Date| i64::from(date.month()));
    engine.register_fn("year", |date: Date| i64::from(date.year()));
    engine.register_fn("fmt", calendar::format_date);
    engine.register_fn("iso", |date: Date| date.format("%Y-%m-%d").to_string());
    engine.register_fn("to_string", |date: &mut Date| calendar::format_date(*date));
    {
        let calendar = calendar.clone();
        engine.register_fn(
            "add_business_days",
            move |date: Date, days: i64| -> Result<Date, Box<EvalAltResult>> {
                calendar
                    .add_business_days(date, days)
                    .ok_or_else(|| out_of_range(format!("add_business_days({}, {days})", date.format("%Y-%m-%d"))))
            },
        );
    }
    {
        let calendar = calendar.clone();
        engine.register_fn("business_days_between", move |from: Date, to: Date| {
            calendar.business_days_between(from, to)
        });
    }
    {
        let calendar = calendar.clone();
        engine.register_fn("is_business_day", move |date: Date| calendar.is_business_day(date));
    }

    engine.register_fn("hour", |at: Instant| i64::from(at.hour()));
    engine.register_fn("minute", |at: Instant| i64::from(at.minute()));
    engine.register_fn("weekday", |at: Instant| i64::from(at.weekday().number_from_monday()));
    engine.register_fn("minutes_between", |from: Instant, to: Instant| {
        (to - from).num_minutes()
    });
    engine.register_fn("hours_between", |from: Instant, to: Instant| (to - from).num_hours());
    engine.register_fn("add_minutes", add_minutes);
    engine.register_fn("fmt", calendar::format_datetime);
    engine.register_fn("fmt_time", |at: Instant| at.format("%H:%M").to_string());
    engine.register_fn("to_string", |at: &mut Instant| calendar::format_datetime(*at));
    engine.register_fn(
        "is_open",
        move |department: &str, at: Instant| -> Result<bool, Box<EvalAltResult>> {
            calendar
                .is_open(department, at)
                .ok_or_else(|| format!("o calendário não tem expediente para `{department}`").into())
        },
    );

    macro_rules! comparisons {
        ($t:ty) => {
            engine.register_fn("==", |a: $t, b: $t| a == b);
            engine.register_fn("!=", |a: $t, b: $t| a != b);
            engine.register_fn("<", |a: $t, b: $t| a < b);
            engine.register_fn("<=", |a: $t, b: $t| a <= b);
            engine.register_fn(">", |a: $t, b: $t| a > b);
            engine.register_fn(">=", |a: $t, b: $t| a >= b);
        };
    }
    comparisons!(Date);
    comparisons!(Instant);
}

/// Names of every function a policy expression may call.
pub fn function_names(engine: &Engine) -> BTreeSet<String> {
    engine
        .gen_fn_signatures(true)
        .into_iter()
        .filter_map(|signature| {
            let name = signature.split('(').next()?.trim();
            let name = name.rsplit(' ').next()?.to_string();
            Some(name)
        })
        .collect()
}
