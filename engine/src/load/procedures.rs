//! Compiling procedures: each rule, its items and every expression, checked
//! against the vocabulary, the catalog and the manifest; and derivations.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use rhai::{Engine, AST};

use crate::expr::scan;
use crate::expr::template::{self, Piece};
use crate::model::calendar;
use crate::model::policy::{
    CatalogFile, FactKind, Manifest, OutputKind, ProcedureFile, RuleSpec, ScriptSpec, VocabularyFile,
};
use crate::model::shared::Shared;
use crate::model::source::Source;
use crate::model::vocabulary::Vocabulary;

use crate::load::problems::{Loader, Place};
use crate::model::bundle::{Expr, Item, Rule, Segment, SourceFile, BUILTIN_CALLS};

impl Loader {
    pub(super) fn compile_derivations(
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
            let Some(ast) = expr.held_ast() else { continue };
            out.insert(path.clone(), ast.clone());
        }
        out
    }

    pub(super) fn compile_rule(
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
                Some(crate::model::vocabulary::PathKind::Group)
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
        let mut set = BTreeMap::new();
        for (name, value) in &spec.set {
            if let Some(json) = self.check_output_value(context, place, name, value) {
                set.insert(name.clone(), json);
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
        let mut actions = Vec::with_capacity(spec.actions.len());
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
                            crate::text::suggest::hint(team, context.catalog.teams.keys().map(String::as_str))
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
                                crate::text::suggest::hint(key, context.catalog.macros.keys().map(String::as_str)),
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
            if !crate::model::policy::LINTS.iter().any(|(id, _)| *id == allow.lint) {
                let known = crate::model::policy::LINTS
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
            required: Vec::new(),
            set: Arc::new(set),
            compute,
            actions,
            scripts,
            reminders,
        })
    }

    pub(super) fn compile_items(
        &mut self,
        context: &Context<'_>,
        file: &SourceFile,
        rule: &RuleSpec,
        kind: &str,
        specs: &[ScriptSpec],
        phase: usize,
    ) -> Vec<Item> {
        let mut items = Vec::with_capacity(specs.len());
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

    pub(super) fn unique_item(&mut self, place: &Place<'_>, field: &str, id: &str) {
        if let Some(previous) = self.item_ids.insert(id.to_string(), place.item.clone()) {
            self.report(
                place,
                Some(&format!("{field}.id")),
                format!("id repetido `{id}`; já usado na regra `{previous}`"),
            );
        }
    }

    pub(super) fn compile_item(
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
        let mut text = Vec::with_capacity(pieces.len());
        for piece in pieces {
            match piece {
                Piece::Literal(literal) => text.push(Segment::Literal(literal)),
                Piece::Placeholder { source, .. } => {
                    let expr = self.compile_expr(context, place, &text_field, &source)?;
                    text.push(Segment::Placeholder(expr));
                }
            }
        }
        let literal = text
            .iter()
            .map(|segment| match segment {
                Segment::Literal(literal) => Some(literal.as_str()),
                Segment::Placeholder(_) => None,
            })
            .collect::<Option<String>>()
            .map(Shared::from);
        Some(Item {
            id: spec.id.as_str().into(),
            text,
            literal,
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

    pub(super) fn phase(&mut self, context: &Context<'_>, place: &Place<'_>, field: &str, name: &str) -> usize {
        match context.manifest.phases.iter().position(|phase| phase == name) {
            Some(index) => index,
            None => {
                self.report(
                    place,
                    Some(field),
                    format!(
                        "fase desconhecida `{name}`{}; permitidas: {}",
                        crate::text::suggest::hint(name, context.manifest.phases.iter().map(String::as_str)),
                        context.manifest.phases.join(", ")
                    ),
                );
                0
            }
        }
    }

    pub(super) fn check_output_value(
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
    pub(super) fn compile_expr(
        &mut self,
        context: &Context<'_>,
        place: &Place<'_>,
        field: &str,
        source: &str,
    ) -> Option<Expr> {
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
        let ast = match context.engine.compile_with_scope(&context.scope, source) {
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
        ast.map(|ast| Expr::new(source.trim().to_string(), Arc::new(ast), None))
    }
}

pub(super) fn unknown_output(context: &Context<'_>, name: &str) -> String {
    let known = context.manifest.outputs.keys().cloned().collect::<Vec<_>>().join(", ");
    format!("saída desconhecida `{name}`; saídas declaradas: {known}")
}

pub(super) fn yaml_text(value: &serde_yaml::Value) -> String {
    serde_yaml::to_string(value)
        .map(|text| text.trim().to_string())
        .unwrap_or_default()
}

/// What expressions are checked against.
pub(super) struct Context<'a> {
    pub(super) vocabulary: &'a Vocabulary,
    pub(super) catalog: &'a CatalogFile,
    pub(super) functions: BTreeSet<String>,
    pub(super) engine: &'a Engine,
    /// The names every expression compiles against, built once.
    pub(super) scope: rhai::Scope<'static>,
    pub(super) manifest: &'a Manifest,
}

impl Context<'_> {
    pub(super) fn check_path(&self, segments: &[String]) -> Option<String> {
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
                Some(crate::model::vocabulary::PathKind::Fact(_)) if end < segments.len() => {
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

    pub(super) fn check_catalog(&self, segments: &[String]) -> Option<String> {
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

    pub(super) fn check_comparison(&self, path: &str, literals: &[String]) -> Option<String> {
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

impl Loader {
    /// A flow named by a rule must be declared in bundle.yaml `flows`.
    pub(super) fn check_flow(&mut self, context: &Context<'_>, place: &Place<'_>, field: &str, flow: &str) {
        if context.manifest.flows.contains_key(flow) {
            return;
        }
        let declared = context.manifest.flows.keys().map(String::as_str);
        let hint = crate::text::suggest::closest(flow, declared.clone())
            .map_or_else(String::new, |near| format!("; você quis dizer `{near}`?"));
        let all = declared.collect::<Vec<_>>().join(", ");
        self.report(
            place,
            Some(field),
            format!("o fluxo `{flow}` não está em `flows` de bundle.yaml{hint} (fluxos: {all})"),
        );
    }
}
