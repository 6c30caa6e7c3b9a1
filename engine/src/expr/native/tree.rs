//! The native tree: its values, nodes and blocks, the equality a condition
//! starts with, and how two values compare, as Rhai compares them. Built
//! by `compile` at load, run by `eval` at decide time.

use std::sync::Arc;

use chrono::{DateTime, FixedOffset, NaiveDate};
use rhai::Dynamic;

use crate::facts::calendar;
use crate::facts::vocabulary::FactValue;

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

pub(super) type Outcome = Result<Val, Stop>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Cmp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Arith {
    Add,
    Sub,
    Mul,
    Div,
    Rem,
}

/// The helpers of `sandbox::register_dates`, called natively.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Helper {
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
    SecondsBetween,
    MinutesBetween,
    HoursBetween,
    AddMinutes,
    FmtTime,
    IsOpen,
}

impl Helper {
    pub(super) fn named(name: &str, arity: usize) -> Option<Self> {
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
            ("seconds_between", 2) => Self::SecondsBetween,
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
pub(super) enum Node {
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
pub(super) enum Step {
    Let(usize, Node),
    Eval(Node),
}

/// Statements whose value is the last one's (unit after a `let`).
#[derive(Debug, Clone, Default)]
pub(crate) struct Block {
    pub(super) steps: Vec<Step>,
    /// Locals the block and its inner blocks declare.
    pub(super) locals: usize,
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
pub(crate) struct Narrowing(pub(super) Vec<(usize, Box<[usize]>)>);

impl Narrowing {
    /// The values to try for the fact at `slot`, when narrowed.
    pub(crate) fn of(&self, slot: usize) -> Option<&[usize]> {
        self.0
            .iter()
            .find_map(|(narrowed, indexes)| (*narrowed == slot).then_some(&**indexes))
    }
}

/// The equality a condition starts with, `fact == "a"` or `fact in ["a",
/// "b"]`, as the fact's slot and the values that let the rest be tried:
/// when the situation gives the fact another value, the condition is false
/// having read nothing else, so a decision need not run it.
#[derive(Debug, Clone)]
pub(crate) struct Discriminant {
    pub(super) slot: usize,
    pub(super) values: Vec<Val>,
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

/// Comparisons Rhai makes between two values of one type; anything else
/// (types that differ, units, arrays) is left to Rhai.
pub(super) fn compare(cmp: Cmp, a: &Val, b: &Val) -> Result<bool, Stop> {
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
