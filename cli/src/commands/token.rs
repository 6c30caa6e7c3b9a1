//! `roteiro token`: the access tokens of `roteiro serve`, kept in the same
//! database as the log (`--database`). The secret is printed once, at
//! creation, and never stored.

use roteiro_auth::{Role, TokenError, TokenInfo, Tokens};

use crate::database::DatabaseArgs;
use crate::failure::Failure;
use crate::Status;

/// Arguments of `roteiro token`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    action: Action,
    #[command(flatten)]
    log: DatabaseArgs,
}

#[derive(Debug, clap::Subcommand)]
enum Action {
    /// Cria um token e o mostra uma única vez.
    Create {
        /// O que o token pode: analista, dono ou admin.
        #[arg(long, value_parser = |text: &str| text.parse::<Role>())]
        role: Role,
        /// De quem é o token; é o nome que o log e os casos registram.
        #[arg(long)]
        name: String,
    },
    /// Lista os tokens (nunca o segredo), revogados inclusive.
    List,
    /// Revoga um token pelo id ou pelo nome; o serviço o recusa em até um segundo.
    Revoke { token: String },
}

/// Runs the command.
pub fn run(args: &Args) -> Result<Status, Failure> {
    act(args).map_err(|err| Failure::failed(format!("roteiro token: {err}")))?;
    Ok(Status::Ok)
}

fn act(args: &Args) -> Result<(), TokenError> {
    let mut tokens = Tokens::open(&args.log.address())?;
    let now = chrono::Utc::now();
    match &args.action {
        Action::Create { role, name } => {
            let (info, whole) = tokens.create(name, *role, now)?;
            say!("{whole}");
            eprintln!(
                "token `{}` ({}) criado para {}. Guarde-o agora: ele não será mostrado de novo.",
                info.id, info.role, info.name
            );
        }
        Action::List => {
            for token in tokens.list()? {
                say!("{}", line(&token));
            }
        }
        Action::Revoke { token } => {
            let revoked = tokens.revoke(token, now)?;
            say!("revogado: {}", line(&revoked));
        }
    }
    Ok(())
}

fn line(token: &TokenInfo) -> String {
    let state = match &token.revoked_at {
        Some(at) => format!("revogado em {at}"),
        None => "ativo".to_string(),
    };
    format!(
        "{}  {:<8}  {}  criado em {}  {state}",
        token.id, token.role, token.name, token.created_at
    )
}
