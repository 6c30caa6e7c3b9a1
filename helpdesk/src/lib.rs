//! The answer reaches the ticket.
//!
//! - [`Helpdesk`]: what roteiro needs of a helpdesk: read a ticket, add an
//!   action to it at most once.
//! - [`Movidesk`]: that over Movidesk's public REST API v1, within its
//!   budget (about 10 requests a minute; a 429 is waited out, never
//!   dropped), the token never shown ([`Secret`]).
//! - [`Preview`]: exactly what a case would write: the actions done, the
//!   script sent, the ticket code, the bundle digest, the analyst.
//! - [`Pushes`]: the queue of pushes in the log's database (migration
//!   0004), so a push survives a 429, a Movidesk outage and a restart of
//!   roteiro, and is written exactly once.
#![deny(missing_docs)]

mod config;
mod movidesk;
mod preview;
mod pushes;

pub use config::{ConfigError, MovideskConfig, Secret};
pub use movidesk::Movidesk;
pub use preview::Preview;
pub use pushes::{deliver_due, Push, PushState, Pushes};

/// A ticket as roteiro reads it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Ticket {
    /// The ticket number.
    pub id: String,
    /// Its subject.
    pub subject: Option<String>,
    /// Its status name.
    pub status: Option<String>,
    /// The first client's name (a company or a person).
    pub client_name: Option<String>,
}

/// An action to add to a ticket.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct NewAction {
    /// Public (the client sees it) or internal.
    pub public: bool,
    /// The text, ending with the push's marker.
    pub description: String,
    /// A text only this push's action holds: what makes a retried push
    /// find the action it already wrote instead of writing it again.
    pub marker: String,
}

/// Why the helpdesk could not be read or written; the token is never in
/// the message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HelpdeskError {
    /// The token was refused.
    #[error("o helpdesk recusou o token (401): confira ROTEIRO_MOVIDESK_TOKEN")]
    Unauthorized,
    /// No such ticket.
    #[error("o ticket {0} não existe no helpdesk")]
    NotFound(String),
    /// The budget is spent; try again after the wait.
    #[error("o helpdesk pediu para esperar {0} s (limite de requisições); o envio fica na fila")]
    RateLimited(u64),
    /// The helpdesk failed (5xx).
    #[error("o helpdesk falhou ({0}); o envio fica na fila e é tentado de novo")]
    Server(u16),
    /// The request was refused for another reason.
    #[error("o helpdesk recusou o pedido ({0}): {1}")]
    Refused(u16, String),
    /// No answer: the network, a timeout.
    #[error("sem resposta do helpdesk: {0}; o envio fica na fila e é tentado de novo")]
    Transport(String),
}

impl HelpdeskError {
    /// Whether trying again later may succeed (the push stays queued).
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::RateLimited(_) | Self::Server(_) | Self::Transport(_))
    }
}

/// What roteiro needs of a helpdesk.
pub trait Helpdesk {
    /// The ticket `id`.
    fn ticket(&self, id: &str) -> Result<Ticket, HelpdeskError>;
    /// Adds `action` to ticket `id` unless an action holding its marker is
    /// already there; the id of the action that holds it.
    fn add_action(&self, id: &str, action: &NewAction) -> Result<String, HelpdeskError>;
}
