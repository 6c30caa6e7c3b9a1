//! The answer reaches the ticket.
//!
//! - [`Helpdesk`]: what roteiro needs of a helpdesk: read a ticket, add an
//!   action to it at most once.
//! - [`Movidesk`]: that over Movidesk's public REST API v1 as documented,
//!   within its budget ([`Budget`]: 10 requests in any minute; a 429 is
//!   waited out, never dropped), the token never shown ([`Secret`]).
//! - [`Preview`]: exactly what a case would write: the actions done, the
//!   script sent, the ticket code, the bundle digest, the analyst.
//! - [`Pushes`]: the queue of pushes in the log's database (migration
//!   0004), so a push survives a 429, a Movidesk outage and a restart of
//!   roteiro, and is written exactly once.
#![deny(missing_docs)]

mod budget;
mod config;
mod movidesk;
mod opening;
mod preview;
mod pushes;
mod turns;

pub use budget::Budget;
pub use config::{ConfigError, MovideskConfig, Secret};
pub use movidesk::Movidesk;
pub use opening::Opening;
pub use preview::Preview;
pub use pushes::{deliver_due, Push, PushState, Pushes, Written, CLAIM_MINUTES};

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
    /// Read only: last updated more than 90 days ago, so Movidesk keeps
    /// it under `/tickets/past`, where nothing can be written.
    pub read_only: bool,
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
    /// The ticket can be read but not written.
    #[error("o ticket {0} não é atualizado há mais de 90 dias: o Movidesk só o mostra em /tickets/past, que é somente leitura; registre a ação à mão no ticket")]
    ReadOnly(String),
    /// An action was sent and does not show yet.
    #[error("a ação enviada ainda não aparece no ticket; a confirmação é tentada de novo, sem escrever outra vez")]
    Unconfirmed,
    /// The helpdesk took an action (at the moment given) that never
    /// showed in the ticket.
    #[error(
        "o helpdesk aceitou a ação em {0}, mas ela não aparece no ticket; confira o ticket antes de pedir outro envio"
    )]
    NotShown(String),
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
        matches!(
            self,
            Self::RateLimited(_) | Self::Server(_) | Self::Transport(_) | Self::Unconfirmed
        )
    }

    /// Whether a write that ended so may still have reached the ticket
    /// (the helpdesk failed or never answered): only a later read can
    /// tell, so the push is not written again before one.
    pub fn may_have_written(&self) -> bool {
        matches!(self, Self::Server(_) | Self::Transport(_) | Self::Unconfirmed)
    }
}

/// What roteiro needs of a helpdesk; writing exactly once is built on it
/// by [`deliver_due`].
pub trait Helpdesk {
    /// The ticket `id`.
    fn ticket(&self, id: &str) -> Result<Ticket, HelpdeskError>;
    /// The id of the action of ticket `id` whose text holds `marker`, if
    /// one is there (deleted actions do not count);
    /// [`HelpdeskError::ReadOnly`] when none is and none can be added.
    fn find_action(&self, id: &str, marker: &str) -> Result<Option<String>, HelpdeskError>;
    /// Adds `action` to ticket `id` as a new action, touching no other.
    fn write_action(&self, id: &str, action: &NewAction) -> Result<(), HelpdeskError>;
}
