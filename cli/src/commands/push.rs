//! `roteiro case push TICKET`: writes what the case's decision says into
//! its helpdesk ticket. The preview is printed first, exactly as it will
//! be written; nothing is written without `--yes` or a "sim" at the
//! terminal. The push is queued in the database before anything is sent,
//! and every due push is tried, so one left by a 429 or an outage goes
//! out with the next.

use std::io::IsTerminal;

use chrono::{DateTime, FixedOffset};
use roteiro_decision_log::cases::{CaseDesk, CaseView};
use roteiro_helpdesk::{deliver_due, Helpdesk, Movidesk, MovideskConfig, PushState, Pushes};

use crate::failure::Failure;
use crate::Status;

/// What `case push` was asked.
pub struct Ask<'a> {
    pub ticket: &'a str,
    pub public: bool,
    pub dry_run: bool,
    pub yes: bool,
    pub by: Option<&'a str>,
    pub now: DateTime<FixedOffset>,
    pub address: String,
}

fn failed(message: impl std::fmt::Display) -> Failure {
    Failure::failed(message)
}

/// Who the action is written as: `--by`, else the situation's analyst.
fn analyst(view: &CaseView, by: Option<&str>) -> String {
    by.map(str::to_string)
        .or_else(|| {
            serde_json::from_str::<serde_json::Value>(&view.case.situation)
                .ok()
                .and_then(|situation| situation["analyst"]["name"].as_str().map(str::to_string))
        })
        .unwrap_or_else(|| "não informado".to_string())
}

/// Previews, confirms, queues and delivers.
pub fn run(desk: &mut CaseDesk<'_>, ask: &Ask<'_>) -> Result<Status, Failure> {
    let view = desk.show(ask.ticket, ask.now).map_err(failed)?;
    let who = analyst(&view, ask.by);
    let preview = roteiro_helpdesk::Preview::of(ask.ticket, &view.decision, desk.bundle, &who, ask.public);
    let kind = if ask.public {
        "pública (o cliente vê)"
    } else {
        "interna"
    };
    say!("Prévia da ação {kind} no ticket {}:\n", ask.ticket);
    say!("{}\n", preview.text);
    if ask.dry_run {
        eprintln!("--dry-run: nada foi escrito");
        return Ok(Status::Ok);
    }
    let config = MovideskConfig::from_env().map_err(failed)?;
    if !ask.yes && !confirmed(ask.ticket)? {
        eprintln!("nada foi escrito");
        return Ok(Status::Ok);
    }
    let mut pushes = Pushes::open(&ask.address).map_err(failed)?;
    let queued = pushes.enqueue(&preview, &who, ask.now.to_utc()).map_err(failed)?;
    // The account's budget is shared with every `serve` on this database.
    let pool = roteiro_decision_log::db::DbPool::open(&ask.address).map_err(failed)?;
    let movidesk = Movidesk::sharing(config, std::sync::Arc::new(pool));
    let now = ask.now.to_utc();
    deliver_due(&movidesk as &dyn Helpdesk, &mut pushes, &mut desk.cases, &|| now).map_err(failed)?;
    let push = pushes.get(queued.id).map_err(failed)?.unwrap_or(queued);
    let result = push.result.as_deref().unwrap_or("");
    match push.state {
        PushState::Feito => {
            say!("escrito no ticket {}: ação {result}", push.ticket);
            Ok(Status::Ok)
        }
        PushState::Fila => {
            say!("na fila (envio {}): {result}", push.id);
            say!("vai no próximo `roteiro case push` ou pelo `roteiro serve` com o helpdesk configurado");
            Ok(Status::Ok)
        }
        PushState::Falhou => Err(failed(format!("não escrito: {result}"))),
    }
}

/// A "sim" at the terminal; without a terminal, `--yes` is required.
fn confirmed(ticket: &str) -> Result<bool, Failure> {
    if !std::io::stdin().is_terminal() {
        return Err(failed(
            "sem terminal para confirmar: veja a prévia com --dry-run e confirme com --yes",
        ));
    }
    inquire::Confirm::new(&format!("Escrever esta ação no ticket {ticket}?"))
        .with_default(false)
        .prompt()
        .map_err(failed)
}

/// The ticket read from the helpdesk, for `case open --from-helpdesk`.
pub fn read_ticket(ticket: &str) -> Result<roteiro_helpdesk::Ticket, Failure> {
    let config = MovideskConfig::from_env().map_err(failed)?;
    Movidesk::new(config).ticket(ticket).map_err(failed)
}
