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

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, TimeDelta, Timelike};
use rhai::{Dynamic, Stmt, AST};

use crate::expr::sandbox::{self, Absent, Probe};
use crate::expr::slots::FactSlots;
use crate::model::calendar::{self, Calendar};
use crate::model::vocabulary::{FactValue, PathKind, Vocabulary};

/// A value of the native tree.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Val {
    Unit,
    Bool(bool),
    Int(i64),
    Text(Arc<str>),
    Date(NaiveDate),
    Instant(DateTime<FixedOffset>),
    Array(Arc<[Val]>),
}

impl Val {
    /// Writes the text people read, as `sandbox::display` writes it, at the
    /// end of `out` (a text being rendered: no String of its own); false,
    /// writing nothing, for values only Rhai prints (units, arrays).
    pub(crate) fn write_display(&self, out: &mut String) -> bool {
        match self {
            Self::Bool(b) => out.push_str(if *b { "sim" } else { "não" }),
            Self::Int(n) => {
                use std::fmt::Write;
                let _ = write!(out, "{n}");
            }
            Self::Text(text) => out.push_str(text),
            Self::Date(date) => out.push_str(&calendar::format_date(*date)),
            Self::Instant(at) => out.push_str(&calendar::format_datetime(*at)),
            Self::Unit | Self::Array(_) => return false,
        }
        true
    }

    pub(crate) fn of(value: &FactValue) -> Self {
        match value {
            FactValue::Bool(b) => Self::Bool(*b),
            FactValue::Integer(n) => Self::Int(*n),
            FactValue::Text(text) => Self::Text(text.arc()),
            FactValue::Date(date) => Self::Date(*date),
            FactValue::DateTime(at) => Self::Instant(*at),
        }
    }

    /// The same value as Rhai holds it.
    pub(crate) fn to_dynamic(&self) -> Dynamic {
        match self {
            Self::Unit => Dynamic::UNIT,
            Self::Bool(b) => Dynamic::from_bool(*b),
            Self::Int(n) => Dynamic::from_int(*n),
            Self::Text(text) => Dynamic::from(text.to_string()),
            Self::Date(date) => Dynamic::from(*date),
            Self::Instant(at) => Dynamic::from(*at),
            Self::Array(items) => Dynamic::from_array(items.iter().map(Self::to_dynamic).collect()),
        }
    }
}

/// Why a run gave no value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stop {
    /// It read an absent fact it could not try (the probe says which).
    Unknown,
    /// Only Rhai can say what happens here (an error, in practice).
    Rhai,
}

type Outcome = Result<Val, Stop>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cmp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Arith {
    Add,
    Sub,
    Mul,
    Div,
    Rem,
}

/// The helpers of `sandbox::register_dates`, called natively.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Helper {
    Date,
    AddDays,
    DaysBetween,
    Weekday,
    Day,
    Month,
    Year,
    Fmt,
    Iso,
    AddBusinessDays,
    BusinessDaysBetween,
    IsBusinessDay,
    Hour,
    Minute,
    MinutesBetween,
    HoursBetween,
    AddMinutes,
    FmtTime,
    IsOpen,
}

impl Helper {
    fn named(name: &str, arity: usize) -> Option<Self> {
        Some(match (name, arity) {
            ("date", 1) => Self::Date,
            ("add_days", 2) => Self::AddDays,
            ("days_between", 2) => Self::DaysBetween,
            ("weekday", 1) => Self::Weekday,
            ("day", 1) => Self::Day,
            ("month", 1) => Self::Month,
            ("year", 1) => Self::Year,
            ("fmt", 1) => Self::Fmt,
            ("iso", 1) => Self::Iso,
            ("add_business_days", 2) => Self::AddBusinessDays,
            ("business_days_between", 2) => Self::BusinessDaysBetween,
            ("is_business_day", 1) => Self::IsBusinessDay,
            ("hour", 1) => Self::Hour,
            ("minute", 1) => Self::Minute,
            ("minutes_between", 2) => Self::MinutesBetween,
            ("hours_between", 2) => Self::HoursBetween,
            ("add_minutes", 2) => Self::AddMinutes,
            ("fmt_time", 1) => Self::FmtTime,
            ("is_open", 2) => Self::IsOpen,
            _ => return None,
        })
    }
}

/// One node of a compiled expression.
#[derive(Debug, Clone)]
enum Node {
    Value(Val),
    /// A fact under a group (`client.plan`), by its slot in the fact
    /// table; read through the probe when the situation does not give it.
    Fact(usize),
    /// A top-level fact, read from the situation only (`now`).
    TopFact(usize),
    Today,
    Local(usize),
    /// `given(group)`, with the slots of the facts under the group.
    GivenGroup(Arc<str>, Vec<usize>),
    /// `given(group, "fact")`, with the fact's slot and whether it is
    /// derived (a derived fact counts as given).
    GivenFact(Arc<str>, usize, bool),
    Not(Box<Node>),
    And(Vec<Node>),
    Or(Vec<Node>),
    Compare(Cmp, Box<[Node; 2]>),
    Arith(Arith, Box<[Node; 2]>),
    Negate(Box<Node>),
    /// `contains(container, value)`, which is what `value in container` is.
    Contains(Box<[Node; 2]>),
    Array(Vec<Node>),
    Call(Helper, Vec<Node>),
    Interpolated(Vec<Node>),
    If(Box<Node>, Box<Block>, Box<Block>),
    Block(Box<Block>),
}

#[derive(Debug, Clone)]
enum Step {
    Let(usize, Node),
    Eval(Node),
}

/// Statements whose value is the last one's (unit after a `let`).
#[derive(Debug, Clone, Default)]
pub(crate) struct Block {
    steps: Vec<Step>,
    /// Locals the block and its inner blocks declare.
    locals: usize,
    /// The values worth trying for the absent facts it reads (see
    /// [`Block::narrow`]).
    pub narrowing: Narrowing,
}

/// For some facts an expression reads, the values worth trying when the
/// situation does not give them, as indexes into the fact's values.
///
/// An expression that only compares a fact with texts (`fact == "a"`,
/// `fact != "b"`, `fact in ["a", "c"]`) cannot tell apart the values it
/// never names: trying one of them tells what trying each would. So a
/// condition on one topic of thirty tries two, not thirty, and finds the
/// same outcomes and the same missing facts (the exploration's cap on runs
/// is met later, which only makes it more exact).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Narrowing(Vec<(usize, Box<[usize]>)>);

impl Narrowing {
    /// The values to try for the fact at `slot`, when narrowed.
    pub(crate) fn of(&self, slot: usize) -> Option<&[usize]> {
        self.0
            .iter()
            .find_map(|(narrowed, indexes)| (*narrowed == slot).then_some(&**indexes))
    }
}

/// How an expression, with the derivations of the derived facts it reads,
/// uses the facts it reads.
struct Uses<'s> {
    slots: &'s FactSlots,
    /// Facts compared with texts, with the texts.
    compared: BTreeMap<usize, BTreeSet<Arc<str>>>,
    /// Facts used any other way.
    other: BTreeSet<usize>,
    /// Derived facts whose derivation was looked at.
    derived: BTreeSet<usize>,
    /// Locals that hold a fact as read (`let topic = request.topic`), in
    /// the block being looked at.
    aliases: BTreeMap<usize, usize>,
}

impl Uses<'_> {
    fn block(&mut self, block: &Block) {
        for step in &block.steps {
            match step {
                Step::Let(local, Node::Fact(slot)) if !self.is_derived(*slot) => {
                    self.aliases.insert(*local, *slot);
                }
                Step::Let(_, node) | Step::Eval(node) => self.node(node),
            }
        }
    }

    fn is_derived(&self, slot: usize) -> bool {
        self.slots.get(slot).is_some_and(|fact| fact.derived)
    }

    /// The fact a node reads as it is: a fact, or a local holding one.
    fn fact_of(&self, node: &Node) -> Option<usize> {
        match node {
            Node::Fact(slot) => Some(*slot),
            Node::Local(local) => self.aliases.get(local).copied(),
            _ => None,
        }
    }

    fn node(&mut self, node: &Node) {
        if let Some((fact, texts)) = compared_with_texts(node) {
            if let Some(slot) = self.fact_of(fact) {
                self.compared.entry(slot).or_default().extend(texts.cloned());
                return;
            }
        }
        match node {
            Node::Fact(slot) => {
                self.other.insert(*slot);
                // Reading a derived fact runs its derivation, which reads
                // facts of its own.
                let derivation = self.slots.get(*slot).and_then(|fact| fact.native_derivation.as_ref());
                if let Some(derivation) = derivation {
                    if self.derived.insert(*slot) {
                        // Its locals are numbered apart from the reader's.
                        let aliases = std::mem::take(&mut self.aliases);
                        self.block(derivation);
                        self.aliases = aliases;
                    }
                }
            }
            Node::GivenFact(_, slot, _) => {
                self.other.insert(*slot);
            }
            Node::GivenGroup(_, slots) => self.other.extend(slots.iter().copied()),
            Node::Local(local) => {
                if let Some(slot) = self.aliases.get(local) {
                    self.other.insert(*slot);
                }
            }
            Node::Value(_) | Node::TopFact(_) | Node::Today => {}
            Node::Not(inner) | Node::Negate(inner) => self.node(inner),
            Node::And(nodes)
            | Node::Or(nodes)
            | Node::Array(nodes)
            | Node::Call(_, nodes)
            | Node::Interpolated(nodes) => {
                nodes.iter().for_each(|inner| self.node(inner));
            }
            Node::Compare(_, pair) | Node::Arith(_, pair) | Node::Contains(pair) => {
                pair.iter().for_each(|inner| self.node(inner));
            }
            Node::If(condition, then, otherwise) => {
                self.node(condition);
                self.block(then);
                self.block(otherwise);
            }
            Node::Block(block) => self.block(block),
        }
    }
}

/// `fact == "a"`, `"a" != fact`, `fact in ["a", "b"]`: the node compared
/// (a fact or a local) and the texts.
fn compared_with_texts(node: &Node) -> Option<(&Node, impl Iterator<Item = &Arc<str>>)> {
    fn texts(values: &[Val]) -> Option<Vec<&Arc<str>>> {
        values
            .iter()
            .map(|value| match value {
                Val::Text(text) => Some(text),
                _ => None,
            })
            .collect()
    }
    match node {
        Node::Compare(Cmp::Eq | Cmp::Ne, pair) => match pair.as_ref() {
            [fact @ (Node::Fact(_) | Node::Local(_)), Node::Value(value)]
            | [Node::Value(value), fact @ (Node::Fact(_) | Node::Local(_))] => {
                Some((fact, texts(std::slice::from_ref(value))?.into_iter()))
            }
            _ => None,
        },
        Node::Contains(pair) => match pair.as_ref() {
            [Node::Value(Val::Array(values)), fact @ (Node::Fact(_) | Node::Local(_))] => {
                Some((fact, texts(values)?.into_iter()))
            }
            _ => None,
        },
        _ => None,
    }
}

impl Block {
    /// Works out the block's [`Narrowing`]: facts tried among texts that
    /// the block, and every derivation it reads, only compare with texts.
    pub(crate) fn narrow(&mut self, slots: &FactSlots) {
        let mut uses = Uses {
            slots,
            compared: BTreeMap::new(),
            other: BTreeSet::new(),
            derived: BTreeSet::new(),
            aliases: BTreeMap::new(),
        };
        uses.block(self);
        let mut narrowing = Vec::new();
        for (slot, texts) in uses.compared {
            if uses.other.contains(&slot) {
                continue;
            }
            let Some(fact) = slots.get(slot).filter(|fact| !fact.derived) else {
                continue;
            };
            let mut kept = Vec::new();
            let mut unnamed_kept = false;
            for (index, value) in fact.domain.iter().enumerate() {
                let Val::Text(text) = value else {
                    kept.clear();
                    break;
                };
                if texts.contains(text) {
                    kept.push(index);
                } else if !unnamed_kept {
                    unnamed_kept = true;
                    kept.push(index);
                }
            }
            if !kept.is_empty() && kept.len() < fact.domain.len() {
                narrowing.push((slot, kept.into_boxed_slice()));
            }
        }
        self.narrowing = Narrowing(narrowing);
    }
}

/// What compiling needs to know about the bundle.
pub(crate) struct Names<'a> {
    pub vocabulary: &'a Vocabulary,
    pub catalog: &'a BTreeMap<String, BTreeMap<String, String>>,
    /// Derived facts that compiled natively (a fact whose derivation did not
    /// keeps every expression reading it on Rhai).
    pub native_derivations: &'a BTreeMap<String, Arc<Block>>,
}

/// Compiles an expression's AST; `None` when some part is outside the subset.
pub(crate) fn compile(ast: &AST, names: &Names<'_>) -> Option<Block> {
    let mut compiler = Compiler {
        names,
        locals: Vec::new(),
        declared: 0,
    };
    let mut block = compiler.block(ast.statements())?;
    block.locals = compiler.declared;
    Some(block)
}

struct Compiler<'n, 'a> {
    names: &'n Names<'a>,
    /// Locals in scope, innermost last, with their slots.
    locals: Vec<(String, usize)>,
    declared: usize,
}

impl Compiler<'_, '_> {
    fn block(&mut self, statements: &[Stmt]) -> Option<Block> {
        let depth = self.locals.len();
        let mut steps = Vec::with_capacity(statements.len());
        for statement in statements {
            steps.push(self.statement(statement)?);
        }
        self.locals.truncate(depth);
        Some(Block {
            steps,
            locals: 0,
            narrowing: Narrowing::default(),
        })
    }

    fn statement(&mut self, statement: &Stmt) -> Option<Step> {
        Some(match statement {
            Stmt::Expr(expr) => Step::Eval(self.expr(expr)?),
            Stmt::FnCall(call, _) => Step::Eval(self.call(&call.name, &call.args)?),
            Stmt::Var(declaration, ..) => {
                let (ident, value, _) = declaration.as_ref();
                let value = self.expr(value)?;
                let slot = self.declared;
                self.declared += 1;
                self.locals.push((ident.name.to_string(), slot));
                Step::Let(slot, value)
            }
            Stmt::If(flow, _) => Step::Eval(Node::If(
                Box::new(self.expr(&flow.expr)?),
                Box::new(self.block(flow.body.statements())?),
                Box::new(self.block(flow.branch.statements())?),
            )),
            Stmt::Block(block) => Step::Eval(Node::Block(Box::new(self.block(block.statements())?))),
            _ => return None,
        })
    }

    fn expr(&mut self, expr: &rhai::Expr) -> Option<Node> {
        use rhai::Expr as E;
        Some(match expr {
            E::BoolConstant(b, _) => Node::Value(Val::Bool(*b)),
            E::IntegerConstant(n, _) => Node::Value(Val::Int(*n)),
            E::StringConstant(text, _) => Node::Value(Val::Text(Arc::from(text.as_str()))),
            E::Unit(_) => Node::Value(Val::Unit),
            // Rhai folds a literal array into one constant.
            E::DynamicConstant(value, _) => Node::Value(constant(value)?),
            E::Array(items, _) => Node::Array(items.iter().map(|item| self.expr(item)).collect::<Option<_>>()?),
            E::InterpolatedString(parts, _) => {
                Node::Interpolated(parts.iter().map(|part| self.expr(part)).collect::<Option<_>>()?)
            }
            E::And(list, _) => Node::And(list.iter().map(|item| self.expr(item)).collect::<Option<_>>()?),
            E::Or(list, _) => Node::Or(list.iter().map(|item| self.expr(item)).collect::<Option<_>>()?),
            E::FnCall(call, _) => self.call(&call.name, &call.args)?,
            E::Stmt(block) => Node::Block(Box::new(self.block(block.statements())?)),
            E::Variable(..) | E::Dot(..) | E::Index(..) => self.path(expr)?,
            _ => return None,
        })
    }

    fn call(&mut self, name: &str, args: &[rhai::Expr]) -> Option<Node> {
        let comparison = match name {
            "==" => Some(Cmp::Eq),
            "!=" => Some(Cmp::Ne),
            "<" => Some(Cmp::Lt),
            "<=" => Some(Cmp::Le),
            ">" => Some(Cmp::Gt),
            ">=" => Some(Cmp::Ge),
            _ => None,
        };
        let arith = match name {
            "+" => Some(Arith::Add),
            "-" => Some(Arith::Sub),
            "*" => Some(Arith::Mul),
            "/" => Some(Arith::Div),
            "%" => Some(Arith::Rem),
            _ => None,
        };
        if let [a, b] = args {
            if let Some(cmp) = comparison {
                return Some(Node::Compare(cmp, Box::new([self.expr(a)?, self.expr(b)?])));
            }
            if let Some(op) = arith {
                return Some(Node::Arith(op, Box::new([self.expr(a)?, self.expr(b)?])));
            }
            if name == "contains" {
                return Some(Node::Contains(Box::new([self.expr(a)?, self.expr(b)?])));
            }
        }
        match (name, args) {
            ("!", [a]) => Some(Node::Not(Box::new(self.expr(a)?))),
            ("-", [a]) => Some(Node::Negate(Box::new(self.expr(a)?))),
            ("given", [group]) => match self.group_path(group)? {
                (path, true) => {
                    let prefix = format!("{path}.");
                    let slots = (self.names.vocabulary.paths().enumerate())
                        .filter(|(_, fact)| fact.starts_with(&prefix))
                        .map(|(slot, _)| slot)
                        .collect();
                    Some(Node::GivenGroup(path.into(), slots))
                }
                _ => None,
            },
            ("given", [group, rhai::Expr::StringConstant(key, _)]) => match self.group_path(group)? {
                (path, true) => {
                    let path = format!("{path}.{key}");
                    let derived = self.names.vocabulary.fact(&path)?.spec.derive.is_some();
                    let slot = self.names.vocabulary.slot(&path)?;
                    Some(Node::GivenFact(path.into(), slot, derived))
                }
                _ => None,
            },
            _ => {
                let helper = Helper::named(name, args.len())?;
                let args = args.iter().map(|arg| self.expr(arg)).collect::<Option<Vec<_>>>()?;
                Some(Node::Call(helper, args))
            }
        }
    }

    /// A group's dotted path, and whether it is a group.
    fn group_path(&self, expr: &rhai::Expr) -> Option<(String, bool)> {
        let mut segments = Vec::new();
        segments_of(expr, &mut segments)?;
        if self.is_local(segments.first()?) {
            return None;
        }
        let path = segments.join(".");
        let group = matches!(self.names.vocabulary.lookup(&path), Some(PathKind::Group));
        Some((path, group))
    }

    fn is_local(&self, name: &str) -> bool {
        self.locals.iter().any(|(local, _)| local == name)
    }

    /// A variable, a fact path or a catalog entry.
    fn path(&self, expr: &rhai::Expr) -> Option<Node> {
        let mut segments = Vec::new();
        segments_of(expr, &mut segments)?;
        let (first, rest) = segments.split_first()?;
        if let Some((_, slot)) = self.locals.iter().rev().find(|(local, _)| local == first) {
            return rest.is_empty().then_some(Node::Local(*slot));
        }
        match (first.as_str(), rest) {
            ("today", []) => return Some(Node::Today),
            ("catalog", [list, key]) => {
                let entry = self.names.catalog.get(list)?.get(key)?;
                return Some(Node::Value(Val::Text(Arc::from(entry.as_str()))));
            }
            ("catalog", _) => return None,
            _ => {}
        }
        let path = segments.join(".");
        match self.names.vocabulary.lookup(&path)? {
            PathKind::Fact(_) if rest.is_empty() => Some(Node::TopFact(self.names.vocabulary.slot(&path)?)),
            PathKind::Fact(_) => {
                let derived = self.names.vocabulary.fact(&path)?.spec.derive.is_some();
                if derived && !self.names.native_derivations.contains_key(&path) {
                    return None;
                }
                let slot = self.names.vocabulary.slot(&path)?;
                Some(Node::Fact(slot))
            }
            PathKind::Group => None,
        }
    }
}

/// The equality a condition starts with, `fact == "a"` or `fact in ["a",
/// "b"]`, as the fact's slot and the values that let the rest be tried:
/// when the situation gives the fact another value, the condition is false
/// having read nothing else, so a decision need not run it.
#[derive(Debug, Clone)]
pub(crate) struct Discriminant {
    slot: usize,
    values: Vec<Val>,
}

impl Discriminant {
    /// The first conjunct of a condition, when it is such an equality.
    pub(crate) fn of(block: &Block) -> Option<Self> {
        let [Step::Eval(node)] = block.steps.as_slice() else {
            return None;
        };
        let first = match node {
            Node::And(items) => items.first()?,
            other => other,
        };
        let (slot, values) = match first {
            Node::Compare(Cmp::Eq, pair) => match pair.as_ref() {
                [Node::Fact(slot), Node::Value(value)] | [Node::Value(value), Node::Fact(slot)] => {
                    (*slot, vec![value.clone()])
                }
                _ => return None,
            },
            Node::Contains(pair) => match pair.as_ref() {
                [Node::Value(Val::Array(values)), Node::Fact(slot)] => (*slot, values.to_vec()),
                _ => return None,
            },
            _ => return None,
        };
        Some(Self { slot, values })
    }

    /// The fact's slot and the values that let the rule through, when all
    /// are texts: then a text the situation gives rules the rule out
    /// exactly when it is none of them (see [`Discriminant::rules_out`]).
    pub(crate) fn texts(&self) -> Option<(usize, impl Iterator<Item = &Arc<str>>)> {
        let all_texts = self.values.iter().all(|value| matches!(value, Val::Text(_)));
        let texts = self.values.iter().filter_map(|value| match value {
            Val::Text(text) => Some(text),
            _ => None,
        });
        all_texts.then_some((self.slot, texts))
    }

    /// Whether the situation's facts make the condition false. Only a fact
    /// the situation gives counts, and only comparisons Rhai would make the
    /// same way: anything else is left to the evaluation.
    pub(crate) fn rules_out(&self, table: &[Option<Val>]) -> bool {
        let Some(Some(given)) = table.get(self.slot) else {
            return false;
        };
        self.values
            .iter()
            .all(|value| compare(Cmp::Eq, value, given) == Ok(false))
    }
}

/// A constant Rhai folded at compile time, when the tree holds its type.
fn constant(value: &Dynamic) -> Option<Val> {
    if let Ok(b) = value.as_bool() {
        Some(Val::Bool(b))
    } else if let Ok(n) = value.as_int() {
        Some(Val::Int(n))
    } else if let Some(text) = value.read_lock::<rhai::ImmutableString>() {
        Some(Val::Text(Arc::from(text.as_str())))
    } else if let Some(items) = value.read_lock::<rhai::Array>() {
        let items = items.iter().map(constant).collect::<Option<Vec<_>>>()?;
        Some(Val::Array(items.into()))
    } else {
        None
    }
}

/// The names along `a.b["c"].d`, or `None` for anything else.
fn segments_of(expr: &rhai::Expr, out: &mut Vec<String>) -> Option<()> {
    use rhai::Expr as E;
    match expr {
        E::Variable(variable, ..) => out.push(variable.1.to_string()),
        E::Property(property, _) => out.push(property.2.to_string()),
        E::Dot(pair, ..) => {
            segments_of(&pair.lhs, out)?;
            segments_of(&pair.rhs, out)?;
        }
        E::Index(pair, ..) => {
            segments_of(&pair.lhs, out)?;
            match &pair.rhs {
                E::StringConstant(key, _) => out.push(key.to_string()),
                _ => return None,
            }
        }
        _ => return None,
    }
    Some(())
}

/// The situation's facts by slot (see [`Vocabulary::slot`]), converted
/// once per decision so a run reads a given fact without a lookup by name.
pub(crate) fn fact_table(vocabulary: &Vocabulary, facts: &BTreeMap<String, FactValue>) -> Vec<Option<Val>> {
    let mut table = vec![None; vocabulary.len()];
    let mut given = facts.iter().peekable();
    for (slot, path) in vocabulary.paths().enumerate() {
        // Both are in path order: walk them side by side.
        while given.next_if(|(key, _)| key.as_str() < path.as_str()).is_some() {}
        if let Some((_, value)) = given.next_if(|(key, _)| *key == path) {
            table[slot] = Some(Val::of(value));
        }
    }
    table
}

/// What one run reads besides the probe.
pub(crate) struct Context<'a> {
    /// The situation's facts by slot: what `probe.read` finds first.
    pub table: &'a [Option<Val>],
    pub probe: &'a mut Probe,
    /// The values worth trying, from the expression's root block.
    pub narrowing: &'a Narrowing,
    pub calendar: &'a Calendar,
    pub today: Option<NaiveDate>,
}

/// Runs a compiled expression once.
pub(crate) fn run(block: &Block, context: &mut Context<'_>) -> Outcome {
    if let (0, [Step::Eval(node)]) = (block.locals, block.steps.as_slice()) {
        return context.eval(node, &mut []);
    }
    // Most blocks have a few locals: they live on the stack.
    const ON_STACK: usize = 8;
    if block.locals <= ON_STACK {
        let mut locals: [Val; ON_STACK] = std::array::from_fn(|_| Val::Unit);
        return context.block(block, &mut locals[..block.locals]);
    }
    let mut locals = vec![Val::Unit; block.locals];
    context.block(block, &mut locals)
}

/// Runs a condition once: its truth, or `Stop::Rhai` when it is not a
/// truth (Rhai words that error). The same reads in the same order as
/// [`run`], without building a value for every `&&`, `||` and `!`.
pub(crate) fn truth(block: &Block, context: &mut Context<'_>) -> Result<bool, Stop> {
    if let (0, [Step::Eval(node)]) = (block.locals, block.steps.as_slice()) {
        return context.truth(node, &mut []);
    }
    match run(block, context)? {
        Val::Bool(b) => Ok(b),
        _ => Err(Stop::Rhai),
    }
}

impl<'a> Context<'a> {
    fn block(&mut self, block: &Block, locals: &mut [Val]) -> Outcome {
        let mut last = Val::Unit;
        for step in &block.steps {
            last = match step {
                Step::Let(slot, node) => {
                    let value = self.eval(node, locals)?;
                    *locals.get_mut(*slot).ok_or(Stop::Rhai)? = value;
                    Val::Unit
                }
                Step::Eval(node) => self.eval(node, locals)?,
            };
        }
        Ok(last)
    }

    fn eval(&mut self, node: &Node, locals: &mut [Val]) -> Outcome {
        match node {
            Node::Value(value) => Ok(value.clone()),
            Node::Fact(slot) => match self.table.get(*slot) {
                Some(Some(value)) => Ok(value.clone()),
                _ => self.absent(*slot),
            },
            Node::TopFact(slot) => self.table.get(*slot).cloned().flatten().ok_or(Stop::Rhai),
            Node::Today => self.today.map(Val::Date).ok_or(Stop::Rhai),
            Node::Local(slot) => locals.get(*slot).cloned().ok_or(Stop::Rhai),
            Node::GivenGroup(path, slots) => {
                let known = slots.iter().any(|slot| matches!(self.table.get(*slot), Some(Some(_))));
                Ok(Val::Bool(self.probe.given(path, known)))
            }
            Node::GivenFact(path, slot, derived) => {
                let known = *derived || matches!(self.table.get(*slot), Some(Some(_)));
                Ok(Val::Bool(self.probe.given(path, known)))
            }
            Node::Not(inner) => match self.eval(inner, locals)? {
                Val::Bool(b) => Ok(Val::Bool(!b)),
                _ => Err(Stop::Rhai),
            },
            Node::And(items) => {
                for item in items {
                    match self.eval(item, locals)? {
                        Val::Bool(true) => {}
                        Val::Bool(false) => return Ok(Val::Bool(false)),
                        _ => return Err(Stop::Rhai),
                    }
                }
                Ok(Val::Bool(true))
            }
            Node::Or(items) => {
                for item in items {
                    match self.eval(item, locals)? {
                        Val::Bool(true) => return Ok(Val::Bool(true)),
                        Val::Bool(false) => {}
                        _ => return Err(Stop::Rhai),
                    }
                }
                Ok(Val::Bool(false))
            }
            Node::Compare(cmp, pair) => {
                let (a, b) = self.operands(pair, locals)?;
                compare(*cmp, a.as_ref(), b.as_ref()).map(Val::Bool)
            }
            Node::Arith(op, pair) => {
                let a = self.eval(&pair[0], locals)?;
                let b = self.eval(&pair[1], locals)?;
                arith(*op, &a, &b)
            }
            Node::Negate(inner) => match self.eval(inner, locals)? {
                Val::Int(n) => n.checked_neg().map(Val::Int).ok_or(Stop::Rhai),
                _ => Err(Stop::Rhai),
            },
            Node::Contains(pair) => {
                let (container, value) = self.operands(pair, locals)?;
                contains(container.as_ref(), value.as_ref()).map(Val::Bool)
            }
            Node::Array(items) => {
                let values = items
                    .iter()
                    .map(|item| self.eval(item, locals))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(Val::Array(values.into()))
            }
            // The helpers take one or two arguments: no list for them.
            Node::Call(helper, args) => match args.as_slice() {
                [first] => {
                    let first = self.eval(first, locals)?;
                    self.call(*helper, &[first])
                }
                [first, second] => {
                    let first = self.eval(first, locals)?;
                    let second = self.eval(second, locals)?;
                    self.call(*helper, &[first, second])
                }
                _ => {
                    let values = args
                        .iter()
                        .map(|arg| self.eval(arg, locals))
                        .collect::<Result<Vec<_>, _>>()?;
                    self.call(*helper, &values)
                }
            },
            Node::Interpolated(parts) => {
                let mut text = String::new();
                for part in parts {
                    match self.eval(part, locals)? {
                        Val::Text(part) => text.push_str(&part),
                        Val::Int(n) => text.push_str(&n.to_string()),
                        _ => return Err(Stop::Rhai),
                    }
                    if text.len() > sandbox::MAX_STRING_BYTES {
                        return Err(Stop::Rhai);
                    }
                }
                Ok(Val::Text(text.into()))
            }
            Node::If(condition, then, otherwise) => match self.eval(condition, locals)? {
                Val::Bool(true) => self.block(then, locals),
                Val::Bool(false) => self.block(otherwise, locals),
                _ => Err(Stop::Rhai),
            },
            Node::Block(block) => self.block(block, locals),
        }
    }

    /// A node that must give a truth, evaluated as `eval` would.
    fn truth(&mut self, node: &Node, locals: &mut [Val]) -> Result<bool, Stop> {
        match node {
            Node::Not(inner) => Ok(!self.truth(inner, locals)?),
            Node::And(items) => {
                for item in items {
                    if !self.truth(item, locals)? {
                        return Ok(false);
                    }
                }
                Ok(true)
            }
            Node::Or(items) => {
                for item in items {
                    if self.truth(item, locals)? {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
            Node::Compare(cmp, pair) => {
                let (a, b) = self.operands(pair, locals)?;
                compare(*cmp, a.as_ref(), b.as_ref())
            }
            Node::Contains(pair) => {
                let (container, value) = self.operands(pair, locals)?;
                contains(container.as_ref(), value.as_ref())
            }
            other => match self.eval(other, locals)? {
                Val::Bool(b) => Ok(b),
                _ => Err(Stop::Rhai),
            },
        }
    }

    /// Both operands, left to right; a literal or a fact the situation
    /// gives is borrowed, not copied (a comparison is most of a condition).
    fn operands<'v>(&mut self, pair: &'v [Node; 2], locals: &mut [Val]) -> Result<(Operand<'v>, Operand<'v>), Stop>
    where
        'a: 'v,
    {
        let [left, right] = pair;
        let left = match at_hand(self.table, left) {
            Some(value) => Operand::Borrowed(value),
            None => Operand::Owned(self.eval(left, locals)?),
        };
        let right = match at_hand(self.table, right) {
            Some(value) => Operand::Borrowed(value),
            None => Operand::Owned(self.eval(right, locals)?),
        };
        Ok((left, right))
    }

    /// A fact the situation does not give, exactly as
    /// `sandbox::fact_node_get` reads it.
    fn absent(&mut self, slot: usize) -> Outcome {
        match self.probe.read_absent(slot, self.narrowing.of(slot)) {
            Absent::Value(value) => Ok(value),
            Absent::Unknown if self.probe.aborted => Err(Stop::Unknown),
            Absent::Unknown => Err(Stop::Rhai),
            Absent::Derive => {
                if let Some(value) = self.probe.derived_value(slot) {
                    return Ok(value);
                }
                let slots = Arc::clone(&self.probe.slots);
                let block = slots.get(slot).and_then(|fact| fact.native_derivation.as_ref());
                let before = self.probe.absent_reads;
                let value = run(block.ok_or(Stop::Rhai)?, self)?;
                if self.probe.absent_reads == before {
                    self.probe.keep_derived(slot, value.clone());
                }
                Ok(value)
            }
        }
    }

    fn call(&self, helper: Helper, args: &[Val]) -> Outcome {
        use Val::{Bool, Date, Instant, Int, Text};
        let calendar = self.calendar;
        Ok(match (helper, args) {
            (Helper::Date, [Text(text)]) => Date(calendar::parse_date(text).map_err(|_| Stop::Rhai)?),
            (Helper::Date, [Instant(at)]) => Date(at.date_naive()),
            (Helper::AddDays, [Date(date), Int(days)]) => Date(
                TimeDelta::try_days(*days)
                    .and_then(|delta| date.checked_add_signed(delta))
                    .ok_or(Stop::Rhai)?,
            ),
            (Helper::DaysBetween, [Date(from), Date(to)]) => Int((*to - *from).num_days()),
            (Helper::Weekday, [Date(date)]) => Int(i64::from(date.weekday().number_from_monday())),
            (Helper::Weekday, [Instant(at)]) => Int(i64::from(at.weekday().number_from_monday())),
            (Helper::Day, [Date(date)]) => Int(i64::from(date.day())),
            (Helper::Month, [Date(date)]) => Int(i64::from(date.month())),
            (Helper::Year, [Date(date)]) => Int(i64::from(date.year())),
            (Helper::Fmt, [Date(date)]) => Text(calendar::format_date(*date).into()),
            (Helper::Fmt, [Instant(at)]) => Text(calendar::format_datetime(*at).into()),
            (Helper::Iso, [Date(date)]) => Text(date.format("%Y-%m-%d").to_string().into()),
            (Helper::AddBusinessDays, [Date(date), Int(days)]) => {
                Date(calendar.add_business_days(*date, *days).ok_or(Stop::Rhai)?)
            }
            (Helper::BusinessDaysBetween, [Date(from), Date(to)]) => Int(calendar.business_days_between(*from, *to)),
            (Helper::IsBusinessDay, [Date(date)]) => Bool(calendar.is_business_day(*date)),
            (Helper::Hour, [Instant(at)]) => Int(i64::from(at.hour())),
            (Helper::Minute, [Instant(at)]) => Int(i64::from(at.minute())),
            (Helper::MinutesBetween, [Instant(from), Instant(to)]) => Int((*to - *from).num_minutes()),
            (Helper::HoursBetween, [Instant(from), Instant(to)]) => Int((*to - *from).num_hours()),
            (Helper::AddMinutes, [Instant(at), Int(minutes)]) => Instant(
                TimeDelta::try_minutes(*minutes)
                    .and_then(|delta| at.checked_add_signed(delta))
                    .ok_or(Stop::Rhai)?,
            ),
            (Helper::FmtTime, [Instant(at)]) => Text(at.format("%H:%M").to_string().into()),
            (Helper::IsOpen, [Text(department), Instant(at)]) => {
                Bool(calendar.is_open(department, *at).ok_or(Stop::Rhai)?)
            }
            _ => return Err(Stop::Rhai),
        })
    }
}

/// An operand's value, borrowed when it needed no evaluation.
enum Operand<'v> {
    Borrowed(&'v Val),
    Owned(Val),
}

impl AsRef<Val> for Operand<'_> {
    fn as_ref(&self) -> &Val {
        match self {
            Self::Borrowed(value) => value,
            Self::Owned(value) => value,
        }
    }
}

/// The value of a node that reads nothing through the probe (a literal, a
/// fact the situation gives), so taking it early changes no read order.
fn at_hand<'v>(table: &'v [Option<Val>], node: &'v Node) -> Option<&'v Val> {
    match node {
        Node::Value(value) => Some(value),
        Node::Fact(slot) => table.get(*slot)?.as_ref(),
        _ => None,
    }
}

/// Comparisons Rhai makes between two values of one type; anything else
/// (types that differ, units, arrays) is left to Rhai.
fn compare(cmp: Cmp, a: &Val, b: &Val) -> Result<bool, Stop> {
    use std::cmp::Ordering;
    let ordering: Ordering = match (a, b) {
        (Val::Int(a), Val::Int(b)) => a.cmp(b),
        (Val::Text(a), Val::Text(b)) => a.cmp(b),
        (Val::Date(a), Val::Date(b)) => a.cmp(b),
        (Val::Instant(a), Val::Instant(b)) => a.cmp(b),
        (Val::Bool(a), Val::Bool(b)) => {
            return match cmp {
                Cmp::Eq => Ok(a == b),
                Cmp::Ne => Ok(a != b),
                _ => Err(Stop::Rhai),
            }
        }
        _ => return Err(Stop::Rhai),
    };
    Ok(match cmp {
        Cmp::Eq => ordering.is_eq(),
        Cmp::Ne => ordering.is_ne(),
        Cmp::Lt => ordering.is_lt(),
        Cmp::Le => ordering.is_le(),
        Cmp::Gt => ordering.is_gt(),
        Cmp::Ge => ordering.is_ge(),
    })
}

/// Checked integer arithmetic: an overflow is Rhai's error to report.
fn arith(op: Arith, a: &Val, b: &Val) -> Outcome {
    let (Val::Int(a), Val::Int(b)) = (a, b) else {
        return Err(Stop::Rhai);
    };
    let result = match op {
        Arith::Add => a.checked_add(*b),
        Arith::Sub => a.checked_sub(*b),
        Arith::Mul => a.checked_mul(*b),
        Arith::Div => a.checked_div(*b),
        Arith::Rem => a.checked_rem(*b),
    };
    result.map(Val::Int).ok_or(Stop::Rhai)
}

/// `value in container`: an array holding an equal value of the same type.
fn contains(container: &Val, value: &Val) -> Result<bool, Stop> {
    let Val::Array(items) = container else {
        return Err(Stop::Rhai);
    };
    for item in items.iter() {
        if compare(Cmp::Eq, item, value)? {
            return Ok(true);
        }
    }
    Ok(false)
}

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
