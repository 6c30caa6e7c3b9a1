//! Compiling a rule's items: actions (with their team, macro and phase),
//! scripts, reminders and follow-ups, each id unique in the bundle and each text's
//! placeholders compiled.

use crate::expr::template::{self, Piece};
use crate::facts::shared::Shared;
use crate::model::policy::{RuleSpec, ScriptSpec};

use crate::load::problems::{Loader, Place};
use crate::model::bundle::{FollowUp, Item, Segment, SourceFile};

use crate::load::context::Context;

impl Loader {
    /// An item's team, which must be one of the catalog's.
    fn team(&mut self, context: &Context<'_>, place: &Place<'_>, field: &str, team: Option<&str>) -> Option<Shared> {
        let team = team?;
        if context.catalog.teams.contains_key(team) {
            return Some(Shared::from(team));
        }
        let known = context.catalog.teams.keys().cloned().collect::<Vec<_>>().join(", ");
        self.report(
            place,
            Some(&format!("{field}.team")),
            format!(
                "time desconhecido `{team}`{}; times do catálogo: {known}",
                crate::text::suggest::hint(team, context.catalog.teams.keys().map(String::as_str))
            ),
        );
        None
    }

    /// A rule's follow-ups: text and team as an item's, the moment they
    /// are due and the condition that closes them, each compiled.
    pub(super) fn compile_follow_ups(
        &mut self,
        context: &Context<'_>,
        place: &Place<'_>,
        spec: &RuleSpec,
        phase: usize,
    ) -> Vec<FollowUp> {
        let mut follow_ups = Vec::with_capacity(spec.follow_ups.len());
        for (index, follow_up) in spec.follow_ups.iter().enumerate() {
            let field = format!("follow_ups[{index}]");
            let item_place = Place {
                file: place.file,
                item: spec.id.clone(),
                anchors: vec![("id", Some(spec.id.as_str())), ("id", Some(follow_up.id.as_str()))],
            };
            self.unique_item(&item_place, &field, &follow_up.id);
            let team = self.team(context, &item_place, &field, follow_up.team.as_deref());
            // `None` when written but broken (reported); `Some(None)` when
            // the wait has no deadline.
            let due = match &follow_up.due {
                Some(source) => self
                    .compile_expr(context, &item_place, &format!("{field}.due"), source)
                    .map(Some),
                None => Some(None),
            };
            let until = follow_up
                .until
                .as_ref()
                .and_then(|source| self.compile_expr(context, &item_place, &format!("{field}.until"), source));
            let text = ScriptSpec {
                id: follow_up.id.clone(),
                text: follow_up.text.clone(),
                when: follow_up.when.clone(),
            };
            let item = self.compile_item(context, &item_place, &field, &text, phase);
            if let (Some(mut item), Some(due)) = (item, due) {
                item.team = team;
                follow_ups.push(FollowUp {
                    item,
                    due,
                    until,
                    until_words: None,
                });
            }
        }
        follow_ups
    }

    /// A rule's actions: their teams and macros from the catalog, their
    /// phase (the rule's unless they name one), their texts compiled.
    pub(super) fn compile_actions(
        &mut self,
        context: &Context<'_>,
        place: &Place<'_>,
        spec: &RuleSpec,
        phase: usize,
    ) -> Vec<Item> {
        let mut actions = Vec::with_capacity(spec.actions.len());
        for (index, action) in spec.actions.iter().enumerate() {
            let field = format!("actions[{index}]");
            let item_place = Place {
                file: place.file,
                item: spec.id.clone(),
                anchors: vec![("id", Some(spec.id.as_str())), ("id", Some(action.id.as_str()))],
            };
            self.unique_item(&item_place, &field, &action.id);
            let team = self.team(context, &item_place, &field, action.team.as_deref());
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
        actions
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
}
