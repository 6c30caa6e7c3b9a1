//! `roteiro lint`: the company's writing rules on every text.

use roteiro_engine::report::LintFinding;

use crate::args::BundleArgs;
use crate::failure::Failure;
use crate::render::Style;
use crate::Status;

/// Arguments of `roteiro lint`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    bundle: BundleArgs,
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
pub fn run(args: &Args) -> Result<Status, Failure> {
    let bundle = args.bundle.load()?;
    let findings = bundle.lint();
    say_raw!("{}", render(&findings, Style::detect()));
    Ok(if findings.is_empty() {
        Status::Ok
    } else {
        Status::Failed
    })
}
