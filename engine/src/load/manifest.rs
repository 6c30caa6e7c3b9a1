//! Checking the manifest (`bundle.yaml`), the vocabulary and the calendar.

use std::collections::{BTreeMap, BTreeSet};

use crate::facts::calendar::{self, Calendar, Hours};
use crate::facts::spec::MenuSection;
use crate::facts::vocabulary::NOW;
use crate::facts::zone::Zone;
use crate::model::policy::{CalendarFile, FactKind, FactSpec, Manifest, OutputKind, VocabularyFile};

use crate::load::context::Context;
use crate::load::problems::{Loader, Place};
use crate::model::bundle::{SourceFile, MAX_SITUATION_BYTES, MAX_TEXT_LENGTH};

impl Loader {
    pub(super) fn check_manifest(&mut self, manifest: &Manifest, file: &SourceFile) -> Option<Zone> {
        fn place<'a>(file: &'a SourceFile, item: &'a str) -> Place<'a> {
            Place {
                file,
                item: item.to_string(),
                anchors: vec![(item, None)],
            }
        }
        if manifest.phases.is_empty() {
            self.report(&place(file, "phases"), None, "é preciso ao menos uma fase".into());
        }
        for phase in manifest
            .routine_phases
            .iter()
            .filter(|phase| !manifest.phases.contains(phase))
        {
            self.report(
                &place(file, "routine_phases"),
                None,
                format!("`{phase}` não está em `phases`: {}", manifest.phases.join(", ")),
            );
        }
        for (name, output) in &manifest.outputs {
            let has_values = output.values.as_ref().is_some_and(|v| !v.is_empty());
            if has_values && output.kind != OutputKind::Text {
                self.report(
                    &place(file, name),
                    Some("values"),
                    "só saídas `text` aceitam lista de valores".into(),
                );
            }
            let values = output.values.as_deref().unwrap_or_default();
            self.check_display_names(&place(file, name), &output.names, values, "saídas com `values`");
        }
        let limits = &manifest.limits;
        if !(1..=60_000).contains(&limits.decision_ms) {
            self.report(
                &place(file, "limits"),
                Some("decision_ms"),
                format!("`{}` fora do permitido: de 1 a 60000 ms", limits.decision_ms),
            );
        }
        if !(1024..=MAX_SITUATION_BYTES).contains(&limits.situation_bytes) {
            self.report(
                &place(file, "limits"),
                Some("situation_bytes"),
                format!(
                    "`{}` fora do permitido: de 1024 a {MAX_SITUATION_BYTES} bytes",
                    limits.situation_bytes
                ),
            );
        }
        if !(1..=MAX_TEXT_LENGTH).contains(&limits.text_max_length) {
            self.report(
                &place(file, "limits"),
                Some("text_max_length"),
                format!(
                    "`{}` fora do permitido: de 1 a {MAX_TEXT_LENGTH} caracteres",
                    limits.text_max_length
                ),
            );
        }
        match Zone::named(&manifest.timezone.name) {
            Ok(zone) => Some(zone),
            Err(message) => {
                self.report(&place(file, "timezone"), Some("name"), message);
                None
            }
        }
    }

    pub(super) fn check_vocabulary(&mut self, vocabulary: &VocabularyFile, file: &SourceFile) {
        let paths: BTreeSet<&str> = vocabulary.facts.keys().map(String::as_str).collect();
        for (path, spec) in &vocabulary.facts {
            let place = Place {
                file,
                item: path.clone(),
                anchors: vec![(path.as_str(), None)],
            };
            self.check_fact_path(&place, path, &paths);
            self.check_fact_spec(&place, spec);
        }
        match vocabulary.facts.get(NOW) {
            Some(spec) if spec.kind == FactKind::Datetime => {}
            _ => self.file_problem(
                &file.path,
                format!("o vocabulário precisa declarar `{NOW}` como fato `datetime`"),
            ),
        }
    }

    /// A fact's path: snake_case with dots, under a group, not a group too.
    fn check_fact_path(&mut self, place: &Place<'_>, path: &str, paths: &BTreeSet<&str>) {
        let well_formed = path.split('.').all(|segment| {
            !segment.is_empty()
                && segment
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
                && !segment.starts_with(|c: char| c.is_ascii_digit())
        });
        if !well_formed {
            self.report(
                place,
                None,
                "o caminho de um fato é snake_case com pontos, por exemplo `client.plan_active`".into(),
            );
        }
        if path != NOW && !path.contains('.') {
            self.report(
                place,
                None,
                format!("fatos pertencem a um grupo (`grupo.fato`); só `{NOW}` fica sozinho"),
            );
        }
        if paths.iter().any(|other| other.starts_with(&format!("{path}."))) {
            self.report(
                place,
                None,
                "é ao mesmo tempo um fato e um grupo de outros fatos".into(),
            );
        }
    }

    /// A fact's values, default, length and question fit its type.
    fn check_fact_spec(&mut self, place: &Place<'_>, spec: &FactSpec) {
        match (spec.kind, &spec.values) {
            (FactKind::Enum, None) => self.report(place, Some("values"), "um fato enum lista seus valores".into()),
            (FactKind::Enum, Some(values)) if values.is_empty() => {
                self.report(place, Some("values"), "um fato enum lista ao menos um valor".into())
            }
            (FactKind::Enum, Some(values)) => {
                let unique: BTreeSet<&String> = values.iter().collect();
                if unique.len() != values.len() {
                    self.report(place, Some("values"), "valores repetidos".into());
                }
            }
            (_, Some(_)) => self.report(place, Some("values"), "só fatos enum aceitam `values`".into()),
            (_, None) => {}
        }
        let values = spec.values.as_deref().unwrap_or_default();
        self.check_display_names(place, &spec.names, values, "fatos enum");
        self.check_menu(place, &spec.menu, values);
        for value in spec.no_rule.iter().filter(|value| !values.contains(value)) {
            self.report(
                place,
                Some("no_rule"),
                format!("`{value}` não está entre os valores: {}", values.join(", ")),
            );
        }
        if let Some(value) = &spec.default {
            if let Err(message) = crate::facts::vocabulary::default_value(spec, value) {
                self.report(place, Some("default"), message);
            }
            if spec.derive.is_some() {
                self.report(
                    place,
                    Some("default"),
                    "um fato é derivado ou tem padrão, não os dois".into(),
                );
            }
        }
        match (spec.kind, spec.max_length) {
            (FactKind::Text, Some(length)) if !(1..=MAX_TEXT_LENGTH).contains(&length) => self.report(
                place,
                Some("max_length"),
                format!("`{length}` fora do permitido: de 1 a {MAX_TEXT_LENGTH} caracteres"),
            ),
            (FactKind::Text, _) | (_, None) => {}
            (_, Some(_)) => self.report(place, Some("max_length"), "só fatos text aceitam `max_length`".into()),
        }
        if spec.question.trim().is_empty() {
            self.report(
                place,
                Some("question"),
                "a pergunta feita quando o fato falta está vazia".into(),
            );
        }
    }

    /// Display names name listed values, each with some text.
    fn check_display_names(
        &mut self,
        place: &Place<'_>,
        names: &BTreeMap<String, String>,
        values: &[String],
        who: &str,
    ) {
        if !names.is_empty() && values.is_empty() {
            self.report(place, Some("names"), format!("só {who} aceitam `names`"));
            return;
        }
        for (value, name) in names {
            if !values.contains(value) {
                self.report(
                    place,
                    Some("names"),
                    format!(
                        "`{value}` não está entre os valores; os nomes são de: {}",
                        values.join(", ")
                    ),
                );
            } else if name.trim().is_empty() {
                self.report(place, Some("names"), format!("o nome de `{value}` está vazio"));
            }
        }
    }

    /// A menu offers every value of its fact once, under a titled section.
    fn check_menu(&mut self, place: &Place<'_>, menu: &[MenuSection], values: &[String]) {
        if menu.is_empty() {
            return;
        }
        if values.is_empty() {
            self.report(place, Some("menu"), "só fatos enum aceitam `menu`".into());
            return;
        }
        let mut offered = BTreeSet::new();
        // Reported at `menu:` (a section has no anchor of its own), naming
        // the section.
        for (index, section) in menu.iter().enumerate() {
            let name = format!("seção {} (“{}”)", index + 1, section.title.trim());
            if section.title.trim().is_empty() {
                self.report(
                    place,
                    Some("menu"),
                    format!("o título da seção {} está vazio", index + 1),
                );
            }
            for value in &section.values {
                if !values.contains(value) {
                    self.report(
                        place,
                        Some("menu"),
                        format!("{name}: `{value}` não está entre os valores: {}", values.join(", ")),
                    );
                } else if !offered.insert(value) {
                    self.report(
                        place,
                        Some("menu"),
                        format!("{name}: `{value}` já está em outra seção do menu; cada valor fica em uma só"),
                    );
                }
            }
        }
        let left_out: Vec<&str> = (values.iter())
            .filter(|v| !offered.contains(v))
            .map(String::as_str)
            .collect();
        if !left_out.is_empty() {
            self.report(
                place,
                Some("menu"),
                format!(
                    "todo valor aparece em uma seção do menu, senão a página não o oferece; faltam: {}",
                    left_out.join(", ")
                ),
            );
        }
    }

    /// Top-level names become Rhai variables, so none may be a Rhai keyword.
    pub(super) fn check_root_names(&mut self, context: &Context<'_>, file: &SourceFile) {
        for (root, _) in context.vocabulary.roots() {
            let reserved = context
                .engine
                .compile(format!("let {root} = 0;"))
                .err()
                .is_some_and(|err| super::rhai_messages::is_reserved(&err.0));
            if reserved {
                let place = Place {
                    file,
                    item: root.to_string(),
                    anchors: vec![(root, None)],
                };
                self.report(
                    &place,
                    None,
                    format!("`{root}` é palavra reservada do Rhai e não pode nomear um grupo de fatos"),
                );
            }
        }
    }

    pub(super) fn build_calendar(&mut self, spec: &CalendarFile, file: &SourceFile, zone: Zone) -> Calendar {
        let mut holidays = BTreeMap::new();
        for (date, name) in &spec.holidays {
            match calendar::parse_date(date) {
                Ok(day) => {
                    holidays.insert(day, name.clone());
                }
                Err(message) => {
                    let place = Place {
                        file,
                        item: format!("holidays.{date}"),
                        anchors: vec![("holidays", None), (date.as_str(), None)],
                    };
                    self.report(&place, None, message);
                }
            }
        }
        let mut hours = BTreeMap::new();
        for (department, entry) in &spec.business_hours {
            match Hours::parse(&entry.days, &entry.open, &entry.close) {
                Ok(parsed) => {
                    hours.insert(department.clone(), parsed);
                }
                Err(message) => {
                    let place = Place {
                        file,
                        item: format!("business_hours.{department}"),
                        anchors: vec![("business_hours", None), (department.as_str(), None)],
                    };
                    self.report(&place, None, message);
                }
            }
        }
        Calendar::new(holidays, hours, zone)
    }
}
