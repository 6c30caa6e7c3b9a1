//! `roteiro case` and `roteiro cases`: a ticket's case over days. Open it,
//! answer what the procedure asks as the answers come, see what it waits
//! for, close it; another analyst resumes it by ticket number.

use chrono::{DateTime, FixedOffset};
use roteiro_decision_log::cases::{self, Case, CaseDesk, CaseError, CaseFollowUp, CaseView, Cases, DeskError};
use roteiro_decision_log::Recorder;
use roteiro_engine::Bundle;
use serde_json::Value;

use crate::args::{BundleArgs, MomentArgs};
use crate::database::{DatabaseArgs, LogArgs};
use crate::failure::Failure;
use crate::render::{self, Format};
use crate::{clock, source, Status};

/// What every case command shares.
#[derive(Debug, clap::Args)]
pub struct Common {
    #[command(flatten)]
    bundle: BundleArgs,
    #[command(flatten)]
    moment: MomentArgs,
    /// Quem está atendendo, para o histórico do caso (padrão: analyst.name da situação).
    #[arg(long, global = true)]
    by: Option<String>,
    /// Formato da saída.
    #[arg(long, global = true, value_enum, default_value_t = Format::Text)]
    format: Format,
}

/// Arguments of `roteiro case`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    action: Action,
    #[command(flatten)]
    common: Common,
    /// Opening and answering decide, and the decision goes to the log.
    #[command(flatten)]
    log: LogArgs,
}

#[derive(Debug, clap::Subcommand)]
enum Action {
    /// Abre o caso do ticket, com a situação inicial (arquivo YAML/JSON; sem ele, vazia).
    Open {
        ticket: String,
        situation: Option<String>,
        /// Lê o ticket no helpdesk (Movidesk): o cliente vai para a situação, o assunto e o status para o histórico.
        #[arg(long, conflicts_with = "situation")]
        from_helpdesk: bool,
    },
    /// Escreve no ticket do helpdesk o que a decisão do caso diz: mostra a prévia e pede confirmação.
    Push {
        ticket: String,
        /// Ação pública (o cliente vê); sem isto, interna.
        #[arg(long)]
        public: bool,
        /// Só mostra a prévia; nada é escrito.
        #[arg(long)]
        dry_run: bool,
        /// Confirma sem perguntar (sem terminal, é obrigatório).
        #[arg(long)]
        yes: bool,
    },
    /// Mostra o caso: a decisão com o pacote atual, o que falta e as pendências.
    Show { ticket: String },
    /// Responde fatos do caso (`fato=valor`, por exemplo `billing.payment_confirmed=sim`).
    Answer {
        ticket: String,
        #[arg(required = true)]
        answers: Vec<String>,
        /// A versão do caso sobre a qual se responde (padrão: a atual).
        #[arg(long)]
        version: Option<i64>,
    },
    /// Encerra o caso, ou só uma pendência dele (`--follow-up ID`), com o motivo.
    Close {
        ticket: String,
        #[arg(long)]
        reason: String,
        #[arg(long)]
        follow_up: Option<String>,
    },
}

/// Arguments of `roteiro cases`.
#[derive(Debug, clap::Args)]
pub struct ListArgs {
    /// Lista as pendências abertas de todos os casos, a mais próxima primeiro.
    #[arg(long)]
    due: bool,
    /// Só as pendências deste time.
    #[arg(long)]
    team: Option<String>,
    #[command(flatten)]
    common: Common,
    #[command(flatten)]
    database: DatabaseArgs,
}

/// Runs `roteiro case`.
pub fn run(args: &Args) -> Result<Status, Failure> {
    let common = &args.common;
    let bundle = common.bundle.load()?;
    // A change of the case is a decision like any other: into the log.
    let changes = matches!(args.action, Action::Open { .. } | Action::Answer { .. });
    let log = changes.then(|| args.log.writer()).transpose()?;
    let mut desk = CaseDesk {
        bundle: &bundle,
        cases: open_store(&args.log.database)?,
        log: log.as_ref().map(|log| log as &dyn Recorder),
        signed_in: None,
    };
    let now = clock::now(&bundle, common.moment.now);
    let by = common.by.as_deref();
    let mut view = match &args.action {
        Action::Open {
            ticket,
            situation,
            from_helpdesk,
        } => open(
            &mut desk,
            &valid(ticket)?,
            situation.as_deref(),
            *from_helpdesk,
            by,
            now,
        )?,
        Action::Push {
            ticket,
            public,
            dry_run,
            yes,
        } => {
            let ask = super::push::Ask {
                ticket: &valid(ticket)?,
                public: *public,
                dry_run: *dry_run,
                yes: *yes,
                by,
                now,
                address: args.log.address(),
            };
            return super::push::run(&mut desk, &ask);
        }
        Action::Show { ticket } => desk.show(&valid(ticket)?, now).map_err(desk_failed)?,
        Action::Answer {
            ticket,
            answers,
            version,
        } => desk
            .answer(&valid(ticket)?, answers, *version, by, now)
            .map_err(desk_failed)?,
        Action::Close {
            ticket,
            reason,
            follow_up,
        } => return close(&mut desk.cases, &valid(ticket)?, reason, follow_up.as_deref(), by, now),
    };
    if !view.receipt.wait() {
        eprintln!("roteiro: a decisão do caso não foi gravada no log de decisões");
    }
    say_raw!("{}", shown(&bundle, &view, now, common.format)?);
    Ok(Status::Ok)
}

/// Opens the case on the situation file, or on what its helpdesk ticket
/// says (the ticket's subject and status noted in the history).
fn open(
    desk: &mut CaseDesk<'_>,
    ticket: &str,
    situation: Option<&str>,
    from_helpdesk: bool,
    by: Option<&str>,
    now: DateTime<FixedOffset>,
) -> Result<CaseView, Failure> {
    let opening = if from_helpdesk {
        Some(super::push::read_ticket(ticket)?.opening(desk.bundle))
    } else {
        None
    };
    let text = match (situation, &opening) {
        (Some(path), _) => source::situation_text(path, desk.bundle)?,
        (None, Some(opening)) => opening.situation.clone(),
        (None, None) => "{}".to_string(),
    };
    let opened = desk
        .open(ticket, &text, situation.unwrap_or("-"), by, now)
        .map_err(desk_failed)?;
    let Some(opening) = opening else { return Ok(opened) };
    let who = by.unwrap_or("não informado");
    desk.cases
        .note(ticket, "helpdesk", &opening.note, who, &now.to_rfc3339())
        .map_err(failed)?;
    desk.show(ticket, now).map_err(desk_failed)
}

/// Closes the case, or only its follow-up `follow_up`.
fn close(
    cases: &mut Cases,
    ticket: &str,
    reason: &str,
    follow_up: Option<&str>,
    by: Option<&str>,
    now: DateTime<FixedOffset>,
) -> Result<Status, Failure> {
    let at = now.to_rfc3339();
    let by = by.unwrap_or("não informado");
    match follow_up {
        Some(id) => cases.close_follow_up(ticket, id, reason, by, &at),
        None => cases.close(ticket, reason, by, &at),
    }
    .map_err(failed)?;
    say!(
        "{}",
        if follow_up.is_some() {
            "pendência encerrada"
        } else {
            "caso encerrado"
        }
    );
    Ok(Status::Ok)
}

/// Runs `roteiro cases`.
pub fn list(args: &ListArgs) -> Result<Status, Failure> {
    let common = &args.common;
    if !args.due {
        return Err(Failure::failed(
            "diga o que listar: `roteiro cases --due` lista as pendências abertas",
        ));
    }
    let mut store = open_store(&args.database)?;
    // A day is overdue by the bundle's calendar, not the machine's.
    let bundle = common.bundle.load()?;
    let now = clock::now(&bundle, common.moment.now);
    let due = store.due(args.team.as_deref()).map_err(failed)?;
    say_raw!("{}", pending(&due, now, common.format));
    Ok(Status::Ok)
}

fn open_store(log: &DatabaseArgs) -> Result<Cases, Failure> {
    crate::database::require_case_reader(&log.address()).map_err(Failure::failed)?;
    Cases::open(&log.address()).map_err(Failure::failed)
}

fn valid(ticket: &str) -> Result<String, Failure> {
    cases::ticket(ticket).map_err(Failure::situation)
}

fn desk_failed(err: DeskError) -> Failure {
    match err {
        DeskError::Case(err) => failed(err),
        DeskError::Decide(err) => err.into(),
        DeskError::Situation(err) => err.into(),
        DeskError::Answer(_) | DeskError::UnknownFact(_) => Failure::situation(err),
    }
}

/// A case's error: exit 2 for a ticket that is not a number, 1 otherwise.
pub fn failed(err: CaseError) -> Failure {
    match err {
        CaseError::Ticket(_) => Failure::situation(err),
        _ => Failure::failed(err),
    }
}

fn shown(bundle: &Bundle, view: &CaseView, now: DateTime<FixedOffset>, format: Format) -> Result<String, Failure> {
    let (case, decision, open) = (&view.case, &view.decision, &view.open);
    if format != Format::Text {
        // The decision document as `decide` prints it, with the case and
        // its follow-ups (their due times as they started) beside.
        let decision: Value = serde_json::to_value(decision).unwrap_or(Value::Null);
        let pending: Value = serde_json::from_str(&pending(open, now, Format::Json)).unwrap_or(Value::Null);
        let history: Vec<Value> = view
            .history
            .iter()
            .map(roteiro_decision_log::cases::CaseEvent::to_json)
            .collect();
        let out = serde_json::json!({ "case": case_json(case), "decision": decision, "follow_ups": pending, "history": history });
        return Ok(format!("{}\n", serde_json::to_string_pretty(&out).unwrap_or_default()));
    }
    // The case's own follow-ups are shown: a wait keeps the due time it
    // started with, where the decision works it out again.
    let mut decision = decision.clone();
    decision.follow_ups.clear();
    let options = render::View {
        brief: true,
        bundle: Some(bundle),
    };
    let rendered = render::decision(&decision, format, options)
        .map_err(|err| Failure::failed(format!("não foi possível imprimir a decisão: {err}")))?;
    let state = match &case.closed_at {
        Some(at) => format!(
            "encerrado em {at} ({})",
            case.closed_reason.as_deref().unwrap_or_default()
        ),
        None => "aberto".to_string(),
    };
    Ok(format!(
        "Caso do ticket {} · versão {} · {state} · aberto por {} em {}\n\n{rendered}{}",
        case.ticket,
        case.version,
        case.opened_by,
        case.opened_at,
        pending(open, now, Format::Text)
    ))
}

fn case_json(case: &Case) -> Value {
    serde_json::json!({
        "ticket": case.ticket,
        "version": case.version,
        "opened_at": case.opened_at,
        "opened_by": case.opened_by,
        "closed_at": case.closed_at,
        "closed_reason": case.closed_reason,
    })
}

/// Open follow-ups, soonest first, overdue ones marked.
fn pending(list: &[CaseFollowUp], now: DateTime<FixedOffset>, format: Format) -> String {
    if format != Format::Text {
        let items: Vec<Value> = list.iter().map(|f| f.to_json(now)).collect();
        return format!("{}\n", serde_json::to_string_pretty(&items).unwrap_or_default());
    }
    if list.is_empty() {
        return "\nNenhuma pendência aberta.\n".to_string();
    }
    let mut out = String::from("\nPendências\n");
    for f in list {
        let when = match (&f.due_text, f.overdue(now)) {
            (Some(due), true) => format!("ATRASADA desde {due}"),
            (Some(due), false) => format!("até {due}"),
            (None, _) => "sem prazo".to_string(),
        };
        let team = f.team.as_deref().map(|t| format!(" · time {t}")).unwrap_or_default();
        out.push_str(&format!("  ⏲ ticket {} · {when}{team}: {}\n", f.ticket, f.text));
    }
    out
}
