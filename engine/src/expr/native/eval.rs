//! Running the native tree, at decide time: the same reads through the
//! same probe, in the same order, as Rhai would make.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{Datelike, NaiveDate, TimeDelta, Timelike};

use crate::expr::native::tree::{compare, Arith, Block, Cmp, Helper, Narrowing, Node, Outcome, Step, Stop, Val};
use crate::expr::probe::{Absent, Probe};
use crate::expr::sandbox;
use crate::facts::calendar::{self, Calendar};
use crate::facts::vocabulary::{FactValue, Vocabulary};

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
            Node::And(items) => self.junction(items, false, locals),
            Node::Or(items) => self.junction(items, true, locals),
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
            Node::Call(helper, args) => self.call_with(*helper, args, locals),
            Node::Interpolated(parts) => self.interpolate(parts, locals),
            Node::If(condition, then, otherwise) => match self.eval(condition, locals)? {
                Val::Bool(true) => self.block(then, locals),
                Val::Bool(false) => self.block(otherwise, locals),
                _ => Err(Stop::Rhai),
            },
            Node::Block(block) => self.block(block, locals),
        }
    }

    /// `&&` (stops at the first false) or `||` (at the first true): `ends`
    /// is the value that stops it, and the junction's value then.
    fn junction(&mut self, items: &[Node], ends: bool, locals: &mut [Val]) -> Outcome {
        for item in items {
            match self.eval(item, locals)? {
                Val::Bool(value) if value == ends => return Ok(Val::Bool(ends)),
                Val::Bool(_) => {}
                _ => return Err(Stop::Rhai),
            }
        }
        Ok(Val::Bool(!ends))
    }

    /// A helper called with its arguments evaluated left to right. The
    /// helpers take one or two arguments: no list for them.
    fn call_with(&mut self, helper: Helper, args: &[Node], locals: &mut [Val]) -> Outcome {
        match args {
            [first] => {
                let first = self.eval(first, locals)?;
                self.call(helper, &[first])
            }
            [first, second] => {
                let first = self.eval(first, locals)?;
                let second = self.eval(second, locals)?;
                self.call(helper, &[first, second])
            }
            _ => {
                let values = args
                    .iter()
                    .map(|arg| self.eval(arg, locals))
                    .collect::<Result<Vec<_>, _>>()?;
                self.call(helper, &values)
            }
        }
    }

    /// A text with `${...}` parts, within Rhai's string limit.
    fn interpolate(&mut self, parts: &[Node], locals: &mut [Val]) -> Outcome {
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
            (Helper::SecondsBetween, [Instant(from), Instant(to)]) => Int((*to - *from).num_seconds()),
            (Helper::MinutesBetween, [Instant(from), Instant(to)]) => Int((*to - *from).num_minutes()),
            (Helper::HoursBetween, [Instant(from), Instant(to)]) => Int((*to - *from).num_hours()),
            (Helper::AddMinutes, [Instant(at), Int(minutes)]) => Instant(
                TimeDelta::try_minutes(*minutes)
                    .and_then(|delta| at.checked_add_signed(delta))
                    .map(|later| calendar.zone().local(&later))
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
