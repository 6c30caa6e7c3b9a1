//! `roteiro schema`: the JSON Schemas editors and other programs use.

use crate::args::BundleArgs;
use crate::failure::Failure;
use crate::Status;

/// Which schema to print.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Kind {
    /// Um arquivo de procedimento (`procedures/*.yaml`), onde ficam as regras.
    Policy,
    /// `bundle.yaml`.
    Bundle,
    /// `vocabulary.yaml`.
    Vocabulary,
    /// `catalog.yaml`.
    Catalog,
    /// `calendar.yaml`.
    Calendar,
    /// Um arquivo de testes de política (`tests/*.yaml`).
    PolicyTest,
    /// Uma situação, a partir do vocabulário do pacote.
    Situation,
    /// O documento da decisão de `decide --format json`.
    Decision,
}

/// Arguments of `roteiro schema`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Qual schema.
    #[arg(value_enum)]
    kind: Kind,
    /// The bundle, for the situation's schema.
    #[command(flatten)]
    bundle: BundleArgs,
}

/// Runs the command.
pub fn run(args: &Args) -> Result<Status, Failure> {
    let stem = match args.kind {
        Kind::Policy => "procedure",
        Kind::Bundle => "bundle",
        Kind::Vocabulary => "vocabulary",
        Kind::Catalog => "catalog",
        Kind::Calendar => "calendar",
        Kind::PolicyTest => "policy-test",
        Kind::Decision => "decision",
        Kind::Situation => {
            return print(&args.bundle.load()?.situation_schema());
        }
    };
    let schema = roteiro_engine::type_schemas()
        .into_iter()
        .find(|(name, _)| *name == stem)
        .map(|(_, schema)| schema);
    print(&schema.unwrap_or_default())
}

fn print(schema: &serde_json::Value) -> Result<Status, Failure> {
    let text = serde_json::to_string_pretty(schema)
        .map_err(|err| Failure::failed(format!("não foi possível imprimir o schema: {err}")))?;
    say!("{text}");
    Ok(Status::Ok)
}
