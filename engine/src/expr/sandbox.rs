//! The Rhai engine policies run in: sandboxed, with the helpers they may call.
//!
//! Built from `Engine::new_raw()` so nothing reaches files, the network or
//! `eval`; every limit is set explicitly, so a runaway condition stops with an
//! error instead of hanging a decision. Facts are not plain Rhai maps: each
//! group of the situation is a [`FactNode`] whose indexer goes through the
//! [`Probe`], which is how the evaluator sees every fact a condition reads,
//! including the absent ones.

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, TimeDelta, Timelike};
use rhai::packages::{
    ArithmeticPackage, BasicArrayPackage, BasicStringPackage, LogicPackage, MoreStringPackage, Package,
};
use rhai::{Dynamic, Engine, EvalAltResult, ImmutableString, NativeCallContext, Position, Scope};

use crate::expr::budget;
use crate::expr::catalog::{catalog_entry, catalog_list, Catalog, CatalogList};
use crate::expr::probe::{lock, Read, SharedProbe};
use crate::facts::calendar::{self, Calendar};
use crate::facts::vocabulary::{FactValue, PathKind, Vocabulary};
use crate::facts::zone::Zone;

/// Operations one expression may run before it is stopped.
pub const MAX_OPERATIONS: u64 = 50_000;

/// Longest string an expression may build. Text facts are bounded well
/// below it when a situation is read (`max_length`), so a long fact is the
/// situation's error, never this limit's.
pub const MAX_STRING_BYTES: usize = 64 * 1024;

/// A group of the situation (`client`, `request.equipment`) as Rhai sees it.
#[derive(Clone)]
pub struct FactNode {
    path: ImmutableString,
    probe: SharedProbe,
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

/// `minutes` after `at`, on the zone's clock (its offset may differ).
fn add_minutes(
    zone: Zone,
    at: DateTime<FixedOffset>,
    minutes: i64,
) -> Result<DateTime<FixedOffset>, Box<EvalAltResult>> {
    TimeDelta::try_minutes(minutes)
        .and_then(|delta| at.checked_add_signed(delta))
        .map(|later| zone.local(&later))
        .ok_or_else(|| out_of_range(format!("add_minutes({}, {minutes})", at.to_rfc3339())))
}

type Date = NaiveDate;
type Instant = DateTime<FixedOffset>;

/// Days and moments, the helpers over them and their comparisons.
fn register_dates(engine: &mut Engine, calendar: Arc<Calendar>) {
    register_days(engine, &calendar);
    register_moments(engine, calendar);
}

/// Days: read, shifted (by calendar or business days), told apart, shown.
fn register_days(engine: &mut Engine, calendar: &Arc<Calendar>) {
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
}

/// Moments: hours, waits to the second, shifts on the zone's clock, shown,
/// the departments' hours; then both types' comparisons.
fn register_moments(engine: &mut Engine, calendar: Arc<Calendar>) {
    engine.register_fn("hour", |at: Instant| i64::from(at.hour()));
    engine.register_fn("minute", |at: Instant| i64::from(at.minute()));
    engine.register_fn("weekday", |at: Instant| i64::from(at.weekday().number_from_monday()));
    // Whole seconds, minutes or hours from one moment to the other,
    // truncated toward zero: a wait is compared to the second with
    // `seconds_between` or by comparing moments (`now >= add_minutes(...)`).
    engine.register_fn("seconds_between", |from: Instant, to: Instant| {
        (to - from).num_seconds()
    });
    engine.register_fn("minutes_between", |from: Instant, to: Instant| {
        (to - from).num_minutes()
    });
    engine.register_fn("hours_between", |from: Instant, to: Instant| (to - from).num_hours());
    {
        let zone = calendar.zone();
        engine.register_fn("add_minutes", move |at: Instant, minutes: i64| {
            add_minutes(zone, at, minutes)
        });
    }
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

/// Every function the sandbox's engine offers, by name: what
/// [`function_names`] reads from the engine, written out so a load does not
/// format every signature Rhai knows to find them (a twentieth of a cold
/// `roteiro decide`). A test holds it to the engine's own list.
pub const FUNCTION_NAMES: &[&str] = &[
    "!",
    "!=",
    "+",
    "+=",
    "-",
    "<",
    "<=",
    "==",
    ">",
    ">=",
    "abs",
    "add_business_days",
    "add_days",
    "add_minutes",
    "all",
    "append",
    "business_days_between",
    "bytes",
    "chop",
    "clear",
    "contains",
    "crop",
    "date",
    "day",
    "days_between",
    "debug",
    "dedup",
    "drain",
    "ends_with",
    "extract",
    "filter",
    "find",
    "find_map",
    "fmt",
    "fmt_time",
    "for_each",
    "get",
    "get$bytes",
    "get$is_empty",
    "get$is_even",
    "get$is_odd",
    "get$is_zero",
    "get$len",
    "given",
    "hour",
    "hours_between",
    "index$get$",
    "index_of",
    "insert",
    "is_business_day",
    "is_empty",
    "is_even",
    "is_odd",
    "is_open",
    "is_zero",
    "iso",
    "len",
    "make_lower",
    "make_upper",
    "map",
    "max",
    "min",
    "minute",
    "minutes_between",
    "month",
    "order",
    "order_by",
    "order_desc",
    "pad",
    "pop",
    "print",
    "push",
    "reduce",
    "reduce_rev",
    "remove",
    "replace",
    "retain",
    "reverse",
    "seconds_between",
    "set",
    "shift",
    "sign",
    "some",
    "sort",
    "sort_by",
    "sort_desc",
    "splice",
    "split",
    "split_rev",
    "starts_with",
    "sub_string",
    "to_binary",
    "to_blob",
    "to_chars",
    "to_debug",
    "to_hex",
    "to_int",
    "to_lower",
    "to_octal",
    "to_string",
    "to_upper",
    "trim",
    "truncate",
    "weekday",
    "year",
    "zip",
];

/// Names of every function a policy expression may call, as the engine
/// lists them.
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The written-out list is the engine's own: a Rhai upgrade or a new
    /// helper that changes what rules may call fails here, naming the
    /// difference.
    #[test]
    fn the_listed_function_names_are_exactly_the_engines() {
        let engine = build_engine(Arc::new(Calendar::default()));
        let listed: BTreeSet<String> = FUNCTION_NAMES.iter().map(|name| (*name).to_string()).collect();
        let offered = function_names(&engine);
        assert_eq!(
            listed.symmetric_difference(&offered).collect::<Vec<_>>(),
            Vec::<&String>::new(),
            "FUNCTION_NAMES differs from the engine's functions"
        );
    }
}
