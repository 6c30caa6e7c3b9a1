//! Exactly what a push writes into the ticket, shown before it is
//! written: the actions the decision gives, the scripts sent, the ticket
//! code, the bundle's digest and the analyst, and a marker that lets a
//! retried push find the action it already wrote.

use roteiro_engine::Decision;

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
    pub fn of(ticket: &str, decision: &Decision, analyst: &str, public: bool) -> Self {
        let mut body = format!("Registro do roteiro, caso do ticket {ticket}\n");
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
        if let Some(code) = decision.outputs.get("ticket_code").and_then(|code| code.as_str()) {
            body.push_str(&format!("\nCódigo de atendimento: {code}\n"));
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
    fn fnv1a_matches_its_reference_values() {
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
    }
}
