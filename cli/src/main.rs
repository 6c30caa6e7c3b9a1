//! The `roteiro` command: parses arguments, sets up logging, dispatches, and
//! maps errors to the exit codes of the contract. No business logic here.

#[macro_use]
mod stdout;
mod args;
mod clock;
mod commands;
mod database;
mod failure;
mod render;
mod source;

use std::process::ExitCode;

use clap::{Arg, ArgAction, Command as ClapCommand, CommandFactory, FromArgMatches, Subcommand};

/// mimalloc instead of the system's malloc: `serve` builds each logged
/// decision's row on a request thread and the log's writer thread frees
/// it, and glibc's arenas make every such free contend with the requests
/// allocating; with mimalloc the log's cost in the load bench fell from
/// 15.5-15.8% to 4.2-8.1% of the decisions per second
/// (service/benches/load.rs, which uses the same allocator).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Exit statuses fixed by the contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// A decision was made (also when facts are missing); a check passed.
    Ok = 0,
    /// Something failed that is neither the situation nor the bundle
    /// (a policy test failed, a diff found changes with `--fail-on-change`).
    Failed = 1,
    /// The situation is invalid.
    InvalidSituation = 2,
    /// The policy bundle is invalid.
    InvalidBundle = 3,
}

#[derive(Debug, clap::Parser)]
#[command(
    name = "roteiro",
    version,
    about = "Decisões de atendimento a partir de procedimentos escritos como políticas YAML"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Quem avalia as expressões: `native` (padrão) ou `rhai`, a referência, para auditoria.
    #[arg(long, global = true, value_enum, default_value_t = Engine::Native)]
    engine: Engine,
}

/// The evaluator named on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Engine {
    Native,
    Rhai,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Decide as próximas ações para uma situação (YAML ou JSON; `-` lê a entrada padrão).
    Decide(commands::decide::Args),
    /// Pergunta o que falta, uma pergunta por vez, e mostra o que fazer.
    Ask(commands::ask::Args),
    /// Roda os testes de política do pacote, com a cobertura de regras.
    Test(commands::test::Args),
    /// Explica uma decisão: cada regra, cada parte da condição, cada saída.
    Explain(commands::explain::Args),
    /// Confere as regras de escrita (sem gerúndio, datas dd/mm/aaaa, sem prometer prazos).
    Lint(commands::lint::Args),
    /// Carrega o pacote e aponta todos os problemas encontrados.
    Check(commands::check::Args),
    /// Mostra as decisões que uma edição muda num conjunto de situações.
    Diff(commands::diff::Args),
    /// Roda check, lint e test de novo a cada mudança num arquivo do pacote.
    Watch(commands::watch::Args),
    /// Imprime um JSON Schema: dos arquivos de política, da situação ou da decisão.
    Schema(commands::schema::Args),
    /// Serve decisões por HTTP, com a página dos analistas em `/`.
    Serve(commands::serve::Args),
    /// Números do log de decisões: rotas, procedimentos, regras, fatos que faltaram.
    Stats(commands::stats::Args),
    /// O log de decisões: exporta situações, apaga decisões antigas.
    Log(commands::log::Args),
    /// O caso de um ticket ao longo dos dias: abrir, responder, ver as pendências, encerrar.
    Case(commands::case::Args),
    /// Os casos: `--due` lista as pendências abertas, a mais próxima primeiro.
    Cases(commands::case::ListArgs),
    /// Os tokens de acesso do serviço: criar (papel analista, dono ou admin), listar, revogar.
    Token(commands::token::Args),
    /// Publica uma versão testada do pacote: portões, impacto nas decisões reais, confirmação.
    Publish(commands::release::PublishArgs),
    /// Lista as versões publicadas: autor, data, nota, estado e impacto.
    Releases(commands::release::ListArgs),
    /// Uma versão: mostrar, comparar com outra, aprovar.
    Release(commands::release::Args),
    /// Volta a uma versão anterior (fica registrado quem, quando e por quê).
    Rollback(commands::release::RollbackArgs),
    /// As réplicas de `roteiro serve` neste banco e a versão que cada uma serve.
    Replicas(commands::replicas::Args),
}

/// The help of every command and subcommand in Portuguese: headings,
/// usage line and the help and version flags (clap writes them in English).
fn in_portuguese(command: ClapCommand) -> ClapCommand {
    const TEMPLATE: &str = "{about-with-newline}\nUso: {usage}\n\n{all-args}{after-help}";
    let has_version = command.get_version().is_some();
    let mut command = command
        .help_template(TEMPLATE)
        .subcommand_help_heading("Comandos")
        .subcommand_value_name("COMANDO")
        .disable_help_flag(true)
        .disable_help_subcommand(true)
        .mut_args(|arg| {
            // Possible values and defaults, said in Portuguese in the help itself.
            let values: Vec<String> = arg
                .get_possible_values()
                .iter()
                .map(|v| v.get_name().to_string())
                .collect();
            let default: Vec<String> = arg
                .get_default_values()
                .iter()
                .map(|v| v.to_string_lossy().into_owned())
                .collect();
            let mut help = arg.get_help().map(ToString::to_string).unwrap_or_default();
            let says_more = (!values.is_empty() && values != ["true", "false"]) || !default.is_empty();
            if says_more && !help.is_empty() && !help.ends_with('.') && arg.get_action().takes_values() {
                help.push('.');
            }
            if !values.is_empty() && !arg.is_hide_possible_values_set() && values != ["true", "false"] {
                help.push_str(&format!(" Valores: {}.", values.join(", ")));
            }
            if !default.is_empty() && !arg.is_hide_default_value_set() && arg.get_action().takes_values() {
                help.push_str(&format!(" Padrão: {}.", default.join(", ")));
            }
            let takes_values = arg.get_action().takes_values();
            let arg = arg.help(help);
            let arg = if takes_values {
                arg.hide_possible_values(true).hide_default_value(true)
            } else {
                arg
            };
            if arg.is_positional() {
                arg.help_heading("Argumentos")
            } else {
                arg.help_heading("Opções")
            }
        })
        .arg(
            Arg::new("help")
                .short('h')
                .long("help")
                .action(ArgAction::Help)
                .help("Mostra esta ajuda")
                .help_heading("Opções"),
        );
    if has_version {
        command = command.disable_version_flag(true).arg(
            Arg::new("version")
                .short('V')
                .long("version")
                .action(ArgAction::Version)
                .help("Mostra a versão")
                .help_heading("Opções"),
        );
    }
    command.mut_subcommands(in_portuguese)
}

fn main() -> ExitCode {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .init();
    let cli = match Cli::from_arg_matches(&in_portuguese(Cli::command()).get_matches()) {
        Ok(cli) => cli,
        Err(err) => err.exit(),
    };
    source::choose_evaluation(match cli.engine {
        Engine::Native => roteiro_engine::Evaluation::Native,
        Engine::Rhai => roteiro_engine::Evaluation::Rhai,
    });
    let result = match &cli.command {
        Command::Decide(args) => commands::decide::run(args),
        Command::Ask(args) => commands::ask::run(args),
        Command::Test(args) => commands::test::run(args),
        Command::Explain(args) => commands::explain::run(args),
        Command::Check(args) => commands::check::run(args),
        Command::Lint(args) => commands::lint::run(args),
        Command::Schema(args) => commands::schema::run(args),
        Command::Diff(args) => commands::diff::run(args),
        Command::Watch(args) => commands::watch::run(args),
        Command::Serve(args) => commands::serve::run(args),
        Command::Stats(args) => commands::stats::run(args),
        Command::Log(args) => commands::log::run(args),
        Command::Case(args) => commands::case::run(args),
        Command::Cases(args) => commands::case::list(args),
        Command::Token(args) => commands::token::run(args),
        Command::Publish(args) => commands::release::publish(args),
        Command::Releases(args) => commands::release::list(args),
        Command::Release(args) => commands::release::run(args),
        Command::Rollback(args) => commands::release::rollback(args),
        Command::Replicas(args) => commands::replicas::run(args),
    };
    // Every failure is said here, once, and mapped to its exit status.
    let status = result.unwrap_or_else(|failure| {
        eprint!("{failure}");
        failure.status
    });
    ExitCode::from(status as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_portuguese_help_is_a_valid_command_line() {
        in_portuguese(Cli::command()).debug_assert();
    }
}
