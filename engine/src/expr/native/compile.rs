//! Compiling Rhai's tree into the native tree, at load: `None` for any
//! part outside the subset, and the narrowing of the facts a block only
//! compares with texts.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use rhai::{Dynamic, Stmt, AST};

use crate::expr::native::tree::{Arith, Block, Cmp, Helper, Narrowing, Node, Step, Val};
use crate::expr::slots::FactSlots;
use crate::facts::vocabulary::{PathKind, Vocabulary};

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
