//! `roteiro explain`: the trace in words, part by part.

use std::fmt::Write as _;
use std::path::PathBuf;

use chrono::{DateTime, FixedOffset};

use roteiro_engine::{Explanation, RuleStatus};

use crate::render::Style;
use crate::{clock, source, Status};

/// Arguments of `roteiro explain`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Situation file (YAML or JSON, by content); `-` reads stdin.
    situation: String,
    /// Policy bundle folder (default: ./policies, else the embedded bundle).
    #[arg(long)]
    policies: Option<PathBuf>,
    /// Decide as of this moment (RFC 3339), over the situation's own `now`.
    #[arg(long, value_parser = clock::parse)]
    now: Option<DateTime<FixedOffset>>,
    /// Ignore fields the vocabulary does not know (with a warning) instead of refusing them.
    #[arg(long)]
    lenient: bool,
    /// Also list the rules outside their context.
    #[arg(long)]
    all: bool,
    /// Print the explanation as JSON instead of text.
    #[arg(long)]
    json: bool,
}

/// Runs the command.
pub fn run(args: &Args) -> Status {
    let (bundle, situation) =
        match source::bundle_and_situation(args.policies.as_deref(), &args.situation, args.now, args.lenient) {
            Ok(loaded) => loaded,
            Err(status) => return status,
        };
    match bundle.explain(&situation, clock::system()) {
        Ok(explanation) if args.json => match serde_json::to_string_pretty(&explanation) {
            Ok(json) => {
                println!("{json}");
                Status::Ok
            }
            Err(err) => {
                eprintln!("não foi possível imprimir a explicação: {err}");
                Status::Failed
            }
        },
        Ok(explanation) => {
            print!("{}", render(&explanation, args.all, Style::detect()));
            Status::Ok
        }
        Err(err) => source::report_decide_error(&err),
    }
}

/// The explanation as text.
pub fn render(explanation: &Explanation, all: bool, style: Style) -> String {
    let mut out = String::new();
    let sections = [
        (RuleStatus::Fired, "Regras que dispararam", "✓"),
        (RuleStatus::Undecided, "Regras indeterminadas (falta saber)", "?"),
        (RuleStatus::NotFired, "Regras que não dispararam", "✗"),
        (RuleStatus::Skipped, "Regras não avaliadas (grupo já decidido)", "–"),
    ];
    let mut outside = 0;
    for (status, title, mark) in sections {
        let rules: Vec<_> = explanation
            .rules
            .iter()
            .filter(|rule| rule.status == status)
            .filter(|rule| {
                let out_of_context = rule.why.starts_with("fora de contexto");
                if out_of_context && !all {
                    outside += 1;
                }
                all || !out_of_context
            })
            .collect();
        if rules.is_empty() {
            continue;
        }
        let _ = writeln!(out, "{}", style.heading(title));
        for rule in rules {
            let short = rule.source.document.split('_').next().unwrap_or_default();
            let _ = writeln!(
                out,
                "  {mark} {} {}",
                rule.rule,
                style.dim(&format!("(doc {short} §{})", rule.source.section))
            );
            if rule.parts.is_empty() {
                let _ = writeln!(out, "      {}", style.dim(&rule.why));
            }
            for part in &rule.parts {
                let facts = part
                    .facts
                    .iter()
                    .map(|(fact, value)| format!("{fact} = {value}"))
                    .collect::<Vec<_>>()
                    .join("; ");
                let facts = if facts.is_empty() {
                    String::new()
                } else {
                    format!("  [{facts}]")
                };
                let _ = writeln!(
                    out,
                    "      `{}` foi {}{}",
                    part.expression,
                    part.value,
                    style.dim(&facts)
                );
            }
        }
        out.push('\n');
    }
    if outside > 0 {
        let _ = writeln!(
            out,
            "{}\n",
            style.dim(&format!("{outside} regras fora de contexto (use --all para listá-las)"))
        );
    }
    if !explanation.outputs.is_empty() {
        let _ = writeln!(out, "{}", style.heading("Saídas"));
        for winner in &explanation.outputs {
            let _ = write!(out, "  {} = {} ← {}", winner.output, winner.value, winner.rule);
            if !winner.overridden.is_empty() {
                let _ = write!(out, " (venceu {})", winner.overridden.join(", "));
            }
            out.push('\n');
        }
        out.push('\n');
    }
    if !explanation.decision.missing.is_empty() {
        let _ = writeln!(out, "{}", style.heading("Falta saber"));
        for missing in &explanation.decision.missing {
            let _ = writeln!(
                out,
                "  ? {} — {} (bloqueia: {})",
                missing.fact,
                missing.question,
                missing.needed_by.join(", ")
            );
        }
    }
    out
}
