//! `roteiro diff`: the decisions an edit changes, over a corpus of situations.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use chrono::{DateTime, FixedOffset};
use roteiro_engine::report::{compare_decisions, DecisionChange};
use roteiro_engine::Bundle;

use crate::args::{BundleArgs, MomentArgs};
use crate::database::{self, DatabaseArgs};
use crate::failure::Failure;
use crate::render::Style;
use crate::{clock, source, Status};

/// Arguments of `roteiro diff`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Pasta de situações (YAML ou JSON) decididas com os dois pacotes.
    #[arg(required_unless_present = "from_log")]
    corpus: Option<PathBuf>,
    /// Lê as situações direto do log de decisões (em vez de uma pasta).
    #[arg(long, conflicts_with = "corpus")]
    from_log: bool,
    #[command(flatten)]
    log: DatabaseArgs,
    /// Com --from-log: registradas desde (AAAA-MM-DD ou RFC 3339).
    #[arg(long, value_parser = database::parse_moment, requires = "from_log")]
    since: Option<chrono::DateTime<chrono::Utc>>,
    /// Com --from-log: registradas antes de (AAAA-MM-DD ou RFC 3339).
    #[arg(long, value_parser = database::parse_moment, requires = "from_log")]
    until: Option<chrono::DateTime<chrono::Utc>>,
    /// Com --from-log: só decisões com esta saída, por exemplo `route=gr`.
    #[arg(long = "where", requires = "from_log")]
    condition: Option<String>,
    /// O pacote como publicado (antes da edição).
    #[arg(long)]
    base: PathBuf,
    /// The edited bundle.
    #[command(flatten)]
    bundle: BundleArgs,
    /// Every situation decided as of `--now`, over each one's own.
    #[command(flatten)]
    moment: MomentArgs,
    /// Sai com 1 quando alguma decisão mudou.
    #[arg(long)]
    fail_on_change: bool,
}

fn corpus(dir: &Path) -> std::io::Result<Vec<(String, String)>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let is_situation = path
            .extension()
            .is_some_and(|ext| ext == "yaml" || ext == "yml" || ext == "json");
        if is_situation {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().to_string())
                .unwrap_or_default();
            files.push((name, std::fs::read_to_string(&path)?));
        }
    }
    files.sort();
    Ok(files)
}

/// One situation's change, or why it could not be compared.
enum Outcome {
    Same,
    Changed(Box<DecisionChange>),
    Failed(String),
}

/// Decides `text` with both bundles; `now` pins every situation when given,
/// `clock` stands in for the ones that pin nothing (the same for both).
fn compare(
    base: &Bundle,
    new: &Bundle,
    (name, text): (&str, &str),
    now: Option<DateTime<FixedOffset>>,
    clock: DateTime<FixedOffset>,
) -> Outcome {
    let decide = |bundle: &Bundle| -> Result<roteiro_engine::Decision, String> {
        let mut situation = bundle.parse_situation(text, name).map_err(|e| e.to_string())?;
        if let Some(at) = now {
            situation.set_now(at);
        }
        bundle.decide(&situation, clock).map_err(|e| e.to_string())
    };
    match (decide(base), decide(new)) {
        (Ok(before), Ok(after)) => {
            let change = compare_decisions(&before, &after);
            if change.is_empty() {
                Outcome::Same
            } else {
                Outcome::Changed(Box::new(change))
            }
        }
        (Err(err), _) | (_, Err(err)) => Outcome::Failed(err),
    }
}

/// The report, in Portuguese.
fn render(results: &[(String, Outcome)], style: Style) -> String {
    let mut out = String::new();
    let mut by_rule: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    let mut changed = 0;
    for (name, outcome) in results {
        match outcome {
            Outcome::Same => {}
            Outcome::Failed(err) => {
                let _ = writeln!(out, "{} {name}: {err}", style.bad("erro"));
            }
            Outcome::Changed(change) => {
                changed += 1;
                let _ = writeln!(out, "{} {name}", style.warn("mudou"));
                for (output, before, after) in &change.outputs {
                    let _ = writeln!(out, "    saída {output}: {before} → {after}");
                }
                // Steps and texts under the rule behind them: added (+),
                // removed (-), reworded (~) with the old and new wording.
                let mut owners: BTreeMap<&str, Vec<&roteiro_engine::report::ItemChange>> = BTreeMap::new();
                for item in &change.items {
                    owners.entry(item.rule.as_str()).or_default().push(item);
                }
                for (rule, items) in owners {
                    let _ = writeln!(out, "    regra {rule}:");
                    for item in items {
                        let kind = if item.kind == "action" { "ação" } else { "script" };
                        match (&item.before, &item.after) {
                            (None, Some(after)) => {
                                let _ = writeln!(out, "      {} {kind} {}: «{after}»", style.good("+"), item.id);
                            }
                            (Some(before), None) => {
                                let _ = writeln!(out, "      {} {kind} {}: «{before}»", style.bad("-"), item.id);
                            }
                            (Some(before), Some(after)) => {
                                let _ = writeln!(out, "      {} {kind} {} reescrita:", style.warn("~"), item.id);
                                let _ = writeln!(out, "          antes: «{before}»");
                                let _ = writeln!(out, "          agora: «{after}»");
                            }
                            (None, None) => {}
                        }
                    }
                }
                if !change.missing_added.is_empty() {
                    let _ = writeln!(out, "    passa a perguntar: {}", change.missing_added.join(", "));
                }
                if !change.missing_removed.is_empty() {
                    let _ = writeln!(out, "    deixa de perguntar: {}", change.missing_removed.join(", "));
                }
                for rule in &change.rules {
                    by_rule.entry(rule.as_str()).or_default().push(name.as_str());
                }
                if change.rules.is_empty() {
                    by_rule
                        .entry("(mesmas regras, textos ou valores novos)")
                        .or_default()
                        .push(name.as_str());
                }
            }
        }
    }
    if !by_rule.is_empty() {
        let _ = writeln!(out, "\n{}", style.heading("Por regra"));
        for (rule, names) in &by_rule {
            let _ = writeln!(out, "  {rule}: {} situação(ões) — {}", names.len(), names.join(", "));
        }
    }
    let _ = writeln!(out, "\n{changed} de {} decisões mudaram", results.len());
    out
}

/// Runs the command.
pub fn run(args: &Args) -> Result<Status, Failure> {
    let base = source::bundle(Some(&args.base))?;
    let new = args.bundle.load()?;
    let read = match &args.corpus {
        Some(dir) => corpus(dir).map_err(|err| format!("não foi possível ler o corpus {}: {err}", dir.display())),
        None => super::log::logged_situations(&args.log, args.since, args.until, args.condition.as_deref())
            .map_err(|err| format!("não foi possível ler o log de decisões: {err}")),
    };
    let situations = read.map_err(Failure::failed)?;
    let clock = clock::system(&new);
    // Every core replays its share; the report keeps the corpus order.
    let results: Vec<(String, Outcome)> = roteiro_engine::in_parallel(&situations, |(name, text)| {
        (name.clone(), compare(&base, &new, (name, text), args.moment.now, clock))
    });
    say_raw!("{}", render(&results, Style::detect()));
    let any_change = results.iter().any(|(_, o)| !matches!(o, Outcome::Same));
    Ok(if args.fail_on_change && any_change {
        Status::Failed
    } else {
        Status::Ok
    })
}
