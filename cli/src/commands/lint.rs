//! `roteiro lint`: the company's writing rules on every text.

use std::path::PathBuf;

use roteiro_engine::report::LintFinding;

use crate::render::Style;
use crate::{source, Status};

/// Arguments of `roteiro lint`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Pasta do pacote de políticas (padrão: ./policies, senão o pacote embutido).
    #[arg(long)]
    policies: Option<PathBuf>,
}

/// Findings as text, one block each.
pub fn render(findings: &[LintFinding], style: Style) -> String {
    let mut out = String::new();
    for finding in findings {
        out.push_str(&format!(
            "{}: {} `{}` › `{}`: {}\n    «{}»\n",
            finding.location,
            style.warn(&format!("[{}]", finding.lint)),
            finding.rule,
            finding.item,
            finding.message,
            finding.text.trim()
        ));
    }
    out.push_str(&format!("{} problema(s) de escrita\n", findings.len()));
    out
}

/// Runs the command; fails when anything is found.
pub fn run(args: &Args) -> Status {
    let bundle = match source::bundle(args.policies.as_deref()) {
        Ok(bundle) => bundle,
        Err(status) => return status,
    };
    let findings = bundle.lint();
    print!("{}", render(&findings, Style::detect()));
    if findings.is_empty() {
        Status::Ok
    } else {
        Status::Failed
    }
}
