//! Compiling procedures: each rule, its items and every expression, checked
//! against the vocabulary, the catalog and the manifest; and derivations.

use std::collections::BTreeMap;
use std::sync::Arc;

use rhai::AST;

use crate::expr::scan;
use crate::facts::calendar;
use crate::facts::shared::Shared;
use crate::model::policy::{OutputKind, ProcedureFile, RuleSpec, VocabularyFile};
use crate::model::source::Source;

use crate::load::context::Context;
use crate::load::problems::{Loader, Place};
use crate::model::bundle::{Expr, Rule, SourceFile, BUILTIN_CALLS};

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
        self.check_names(place, spec);
        let phase = self.phase(context, place, "phase", &spec.phase);
        let rule_context = spec.context.clone().unwrap_or_else(|| procedure.context.clone());
        self.check_context(context, place, &rule_context);
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
        let set = self.compile_set(context, place, spec);
        let compute = self.compile_compute(context, place, spec);
        let actions = self.compile_actions(context, place, spec, phase);
        let scripts = self.compile_items(context, place.file, spec, "scripts", &spec.scripts, phase);
        let reminders = self.compile_items(context, place.file, spec, "reminders", &spec.reminders, phase);
        let follow_ups = self.compile_follow_ups(context, place, spec, phase);
        self.check_lint_allow(place, spec);
        self.check_contributes(place, spec);
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
            follow_ups,
        })
    }

    /// A rule's id is written in the allowed characters, and it cites a section.
    fn check_names(&mut self, place: &Place<'_>, spec: &RuleSpec) {
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
    }

    /// Every group of a rule's context is a group of the vocabulary.
    fn check_context(&mut self, context: &Context<'_>, place: &Place<'_>, rule_context: &[String]) {
        for group in rule_context {
            if !matches!(
                context.vocabulary.lookup(group),
                Some(crate::facts::vocabulary::PathKind::Group)
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
    }

    /// The outputs a rule sets, each checked against the manifest.
    fn compile_set(
        &mut self,
        context: &Context<'_>,
        place: &Place<'_>,
        spec: &RuleSpec,
    ) -> BTreeMap<String, serde_json::Value> {
        let mut set = BTreeMap::new();
        for (name, value) in &spec.set {
            if let Some(json) = self.check_output_value(context, place, name, value) {
                set.insert(name.clone(), json);
            }
        }
        set
    }

    /// The outputs a rule computes, each a declared output not also set.
    fn compile_compute(&mut self, context: &Context<'_>, place: &Place<'_>, spec: &RuleSpec) -> Vec<(String, Expr)> {
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
        compute
    }

    /// Each `lint_allow` names a known lint, gives a reason and, when it
    /// names an item, one of the rule's own.
    fn check_lint_allow(&mut self, place: &Place<'_>, spec: &RuleSpec) {
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
                .chain(spec.reminders.iter().map(|s| &s.id))
                .chain(spec.follow_ups.iter().map(|f| &f.id));
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
    }

    /// A rule contributes something: an output, an action, a script or a
    /// reminder.
    fn check_contributes(&mut self, place: &Place<'_>, spec: &RuleSpec) {
        if spec.set.is_empty()
            && spec.compute.is_empty()
            && spec.actions.is_empty()
            && spec.scripts.is_empty()
            && spec.reminders.is_empty()
            && spec.follow_ups.is_empty()
        {
            self.report(
                place,
                None,
                "a regra não define saída nem contribui ação, script ou lembrete".into(),
            );
        }
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
        let source = match context.parameters.substitute(source) {
            Ok(source) => source,
            Err(message) => {
                self.report(place, Some(field), message);
                return None;
            }
        };
        let source = source.as_str();
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
                let kind = super::rhai_messages::parse_error(&err.0);
                let help = if super::rhai_messages::is_reserved(&err.0) {
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
