//! `roteiro schema`: the JSON Schemas editors and other programs use.

use std::path::PathBuf;

use crate::{source, Status};

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
    /// Pasta do pacote de políticas, para o schema da situação.
    #[arg(long)]
    policies: Option<PathBuf>,
}

/// Runs the command.
pub fn run(args: &Args) -> Status {
    let stem = match args.kind {
        Kind::Policy => "procedure",
        Kind::Bundle => "bundle",
        Kind::Vocabulary => "vocabulary",
        Kind::Catalog => "catalog",
        Kind::Calendar => "calendar",
        Kind::PolicyTest => "policy-test",
        Kind::Decision => "decision",
        Kind::Situation => {
            return match source::bundle(args.policies.as_deref()) {
                Ok(bundle) => print(&bundle.situation_schema()),
                Err(status) => status,
            }
        }
    };
    let schema = roteiro_engine::type_schemas()
        .into_iter()
        .find(|(name, _)| *name == stem)
        .map(|(_, schema)| schema);
    print(&schema.unwrap_or_default())
}

fn print(schema: &serde_json::Value) -> Status {
    match serde_json::to_string_pretty(schema) {
        Ok(text) => {
            println!("{text}");
            Status::Ok
        }
        Err(err) => {
            eprintln!("não foi possível imprimir o schema: {err}");
            Status::Failed
        }
    }
}
