//! The `roteiro` command: parses arguments, sets up logging, dispatches, and
//! maps errors to the exit codes of the contract. No business logic here.

mod clock;
mod commands;
mod database;
mod render;
mod source;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

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

#[derive(Debug, Parser)]
#[command(
    name = "roteiro",
    version,
    about = "Decisões de atendimento a partir de procedimentos escritos como políticas YAML"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Decide the next actions for a situation (YAML or JSON; `-` reads stdin).
    Decide(commands::decide::Args),
    /// Ask what is missing, one question at a time, then show what to do.
    Ask(commands::ask::Args),
    /// Run the bundle's policy tests, with rule coverage.
    Test(commands::test::Args),
    /// Explain a decision: each rule, each part of its condition, each output.
    Explain(commands::explain::Args),
    /// Check the writing rules (no gerund phrases, dd/mm/yyyy dates, no deadline promises).
    Lint(commands::lint::Args),
    /// Load the bundle and report every problem found.
    Check(commands::check::Args),
    /// Show the decisions an edit changes over a corpus of situations.
    Diff(commands::diff::Args),
    /// Re-run check, lint and test whenever a bundle file changes.
    Watch(commands::watch::Args),
    /// Print a JSON Schema: of policy files, of the situation, or of the decision.
    Schema(commands::schema::Args),
    /// Serve decisions over HTTP, with the analysts' page at `/`.
    Serve(commands::serve::Args),
    /// Numbers from the decision log: routes, procedures, rules, missing facts.
    Stats(commands::stats::Args),
    /// The decision log: export situations, prune old decisions.
    Log(commands::log::Args),
}

fn main() -> ExitCode {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .init();
    let cli = Cli::parse();
    let status = match &cli.command {
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
    };
    ExitCode::from(status as u8)
}
