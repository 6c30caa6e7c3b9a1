//! Exactly what a push writes into the ticket, shown before it is
//! written: the decided outputs by their names, the actions, the scripts
//! sent, the bundle's digest and the analyst, and a marker that lets a
//! retried push find the action it already wrote.

use roteiro_engine::{Bundle, Decision};

use crate::NewAction;

/// A push's text, as the analyst sees it before confirming.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Preview {
    /// The ticket written to.
    pub ticket: String,
    /// Public (the client sees it) or internal.
    pub public: bool,
    /// The whole text of the action, marker included.
    pub text: String,
    /// The marker at its end.
    pub marker: String,
}

impl Preview {
    /// What `decision`, made for the case of `ticket` by `analyst`, would
    /// write.
    /// Outputs are written as `bundle` names them ("Código de atendimento:
    /// 000001 - Dúvidas sobre o sistema").
    pub fn of(ticket: &str, decision: &Decision, bundle: &Bundle, analyst: &str, public: bool) -> Self {
        let mut body = format!("Registro do roteiro, caso do ticket {ticket}\n");
        if !decision.outputs.is_empty() {
            body.push_str("\nDecisão:\n");
            for (name, value) in &decision.outputs {
                body.push_str(&format!(
                    "- {}: {}\n",
                    bundle.output_label(name),
                    bundle.output_in_words(name, value)
                ));
            }
        }
        if !decision.actions.is_empty() {
            body.push_str("\nAções:\n");
            for (n, action) in decision.actions.iter().enumerate() {
                body.push_str(&format!("{}. {}", n + 1, action.text));
                if let Some(name) = &action.r#macro {
                    body.push_str(&format!(" (macro {name})"));
                }
                body.push('\n');
            }
        }
        if !decision.scripts.is_empty() {
            body.push_str("\nScripts enviados:\n");
            for script in &decision.scripts {
                body.push_str(&format!("- {}\n", script.text));
            }
        }
        let info = &decision.bundle;
        body.push_str(&format!(
            "\nAnalista: {analyst}\nPacote: {} {} ({})\n",
            info.name, info.version, info.digest
        ));
        let marker = format!("[roteiro {ticket}-{:016x}]", fnv1a(body.as_bytes()));
        Self {
            ticket: ticket.to_string(),
            public,
            text: format!("{body}{marker}"),
            marker,
        }
    }

    /// The action to add.
    pub fn action(&self) -> NewAction {
        NewAction {
            public: self.public,
            description: self.text.clone(),
            marker: self.marker.clone(),
        }
    }
}

/// FNV-1a, 64 bits: stable across builds and versions, unlike the
/// standard library's hasher, so a push queued by one roteiro is
/// recognised by the next.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outputs_are_written_by_their_names() -> Result<(), Box<dyn std::error::Error>> {
        let bundle = Bundle::load_dir(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../policies"))?;
        let situation = bundle.parse_situation(
            "monitoring: {week: 1, reached: true, demand: duvida}\nanalyst: {name: Ana}\n",
            "monitoramento.yaml",
        )?;
        let now = chrono::DateTime::parse_from_rfc3339("2026-12-08T10:15:00-03:00")?;
        let decision = bundle.decide(&situation, now)?;
        let preview = Preview::of("77", &decision, &bundle, "Ana", false);
        assert!(
            preview
                .text
                .contains("- Código de atendimento: 000001 - Dúvidas sobre o sistema\n"),
            "{}",
            preview.text
        );
        assert!(
            preview.text.contains("- Fluxo: Monitoramento pós-implantação\n"),
            "{}",
            preview.text
        );
        Ok(())
    }

    #[test]
    fn fnv1a_matches_its_reference_values() {
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
    }
}
