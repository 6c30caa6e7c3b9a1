//! Checking `parameters.yaml`: each number, duration, contact or name the
//! documents fix, written once, its value checked against its type (the
//! values themselves and how expressions read them: `model/parameters.rs`).

use std::collections::BTreeMap;

use crate::load::problems::{Loader, Place};
use crate::model::bundle::SourceFile;
use crate::model::parameters::{ParamValue, Parameters};
use crate::model::policy::{ParameterKind, ParametersFile};

impl Loader {
    /// The parameters of `file`, each checked against its type; a bad one
    /// is reported and left out.
    pub(super) fn check_parameters(&mut self, spec: &ParametersFile, file: &SourceFile) -> Parameters {
        let mut parameters = BTreeMap::new();
        for (name, parameter) in &spec.parameters {
            let place = Place {
                file,
                item: name.clone(),
                anchors: vec![(name.as_str(), None)],
            };
            let well_formed = !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
                && !name.starts_with(|c: char| c.is_ascii_digit());
            if !well_formed {
                self.report(
                    &place,
                    None,
                    "o nome de um parâmetro é snake_case, por exemplo `dias_ate_bloqueio`".into(),
                );
                continue;
            }
            let value = match (parameter.kind, &parameter.value) {
                (ParameterKind::Integer, serde_yaml::Value::Number(n)) if n.as_i64().is_some() => {
                    ParamValue::Integer(n.as_i64().unwrap_or_default())
                }
                (ParameterKind::Text, serde_yaml::Value::String(text)) if !text.contains('\n') => {
                    ParamValue::Text(text.clone())
                }
                (kind, found) => {
                    let wanted = match kind {
                        ParameterKind::Integer => "um número inteiro",
                        ParameterKind::Text => "um texto de uma linha (entre aspas se tiver `:` ou `#`)",
                    };
                    let found = serde_yaml::to_string(found).unwrap_or_default();
                    self.report(
                        &place,
                        Some("value"),
                        format!("encontrado `{}`; o tipo pede {wanted}", found.trim()),
                    );
                    continue;
                }
            };
            parameters.insert(name.clone(), value);
        }
        Parameters::new(parameters)
    }
}
