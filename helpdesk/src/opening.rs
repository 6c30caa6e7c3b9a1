//! A case opened from its helpdesk ticket: what the ticket tells the
//! situation (the client's name, when the vocabulary has the fact) and
//! what it tells the case's history (its subject and status).

use roteiro_engine::Bundle;
use serde_json::json;

use crate::Ticket;

/// The fact a ticket's client name fills.
const CLIENT_NAME: &str = "client.name";

/// What a ticket gives a new case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opening {
    /// The first situation, as JSON.
    pub situation: String,
    /// The history's note: the ticket's subject and status, as JSON.
    pub note: String,
}

impl Ticket {
    /// What this ticket gives a case opened from it with `bundle`.
    pub fn opening(&self, bundle: &Bundle) -> Opening {
        let mut situation = json!({});
        if let Some(name) = &self.client_name {
            if bundle.vocabulary().facts().any(|fact| fact.path == CLIENT_NAME) {
                situation["client"] = json!({ "name": name });
            }
        }
        let mut note = json!({"assunto": self.subject, "status": self.status});
        if self.read_only {
            note["somente_leitura"] = json!(true);
        }
        Opening {
            situation: situation.to_string(),
            note: note.to_string(),
        }
    }
}
