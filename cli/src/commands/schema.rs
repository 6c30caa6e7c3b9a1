//! `roteiro schema`: the JSON Schemas editors and other programs use.

use std::path::PathBuf;

use crate::{source, Status};

/// Which schema to print.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Kind {
    /// A procedure file (`procedures/*.yaml`), where the rules are.
    Policy,
    /// `bundle.yaml`.
    Bundle,
    /// `vocabulary.yaml`.
    Vocabulary,
    /// `catalog.yaml`.
    Catalog,
    /// `calendar.yaml`.
    Calendar,
    /// A policy test file (`tests/*.yaml`).
    PolicyTest,
    /// A situation, from the bundle's vocabulary.
    Situation,
    /// The decision document of `decide --format json`.
    Decision,
}

/// Arguments of `roteiro schema`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Which schema.
    #[arg(value_enum)]
    kind: Kind,
    /// Policy bundle folder, for the situation schema.
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
