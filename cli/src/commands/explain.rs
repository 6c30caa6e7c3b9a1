//! `roteiro explain`: the trace in words, part by part.

use std::fmt::Write as _;

use roteiro_engine::output::RuleStatus;
use roteiro_engine::report::Explanation;

use crate::args::{BundleArgs, SituationArgs};
use crate::failure::Failure;
use crate::render::Style;
use crate::{clock, Status};

/// Arguments of `roteiro explain`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    situation: SituationArgs,
    #[command(flatten)]
    bundle: BundleArgs,
    /// Lista também as regras fora de contexto.
    #[arg(long)]
    all: bool,
    /// Imprime a explicação em JSON em vez de texto.
    #[arg(long)]
    json: bool,
}

/// Runs the command.
pub fn run(args: &Args) -> Result<Status, Failure> {
    let (bundle, situation) = args.situation.load(&args.bundle)?;
    let explanation = bundle.explain(&situation, clock::system(&bundle))?;
    if args.json {
        let json = serde_json::to_string_pretty(&explanation)
            .map_err(|err| Failure::failed(format!("não foi possível imprimir a explicação: {err}")))?;
        say!("{json}");
    } else {
        say_raw!("{}", render(&explanation, args.all, Style::detect()));
        say_raw!("{}", values_named(&bundle, &situation));
    }
    Ok(Status::Ok)
}

/// How a node's parts are joined, in words.
/// For each listed value the situation gives (the topic, the plan...),
/// the rules and derivations that name it: where the lists that decide it
/// live, so an owner changing one finds them without reading every rule.
fn values_named(bundle: &roteiro_engine::Bundle, situation: &roteiro_engine::Situation) -> String {
    let uses = bundle.value_uses();
    let mut out = String::new();
    for (path, value) in situation.facts.iter() {
        let (Some(fact), roteiro_engine::FactValue::Text(value)) = (bundle.vocabulary().fact(path), value) else {
            continue;
        };
        if fact.values().is_empty() {
            continue;
        }
        let places = uses.get(path).and_then(|values| values.get(value.as_ref()));
        let said = places.map_or("nenhuma regra (segue o caminho geral)".to_string(), |places| {
            places.join(", ")
        });
        if out.is_empty() {
            out.push_str("\nOnde as regras citam os valores desta situação\n");
        }
        let _ = writeln!(out, "  {path} = {} ({value}): {said}", fact.value_name(value));
    }
    out
}

fn joined(join: &str) -> String {
    match join {
        "e" => "todas estas (e):".to_string(),
        "ou" => "alguma destas (ou):".to_string(),
        other => format!("{other}:"),
    }
}

/// One part of a condition and, indented below it, the parts it is made of.
fn tree(out: &mut String, part: &roteiro_engine::report::PartValue, level: usize, style: Style) {
    let indent = "  ".repeat(level);
    let mark = match part.value.as_str() {
        "verdadeiro" => style.good("✓"),
        "falso" => style.bad("✗"),
        "não avaliada" => style.dim("·"),
        _ => style.warn("?"),
    };
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
    let decided = if part.decided { "  ← decidiu" } else { "" };
    let value = if part.value == "não avaliada" {
        style.dim("(não avaliada)")
    } else {
        format!("foi {}", part.value)
    };
    let _ = writeln!(
        out,
        "{indent}{mark} `{}` {value}{}{decided}",
        part.expression,
        style.dim(&facts)
    );
    if let Some(join) = &part.join {
        let label = if join == "não" {
            "negação de:".to_string()
        } else {
            joined(join)
        };
        let _ = writeln!(out, "{indent}  {}", style.dim(&label));
    }
    for child in &part.children {
        tree(out, child, level + 1, style);
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
            if let Some(join) = &rule.join {
                let _ = writeln!(out, "      {}", style.dim(&joined(join)));
            }
            for part in &rule.parts {
                tree(&mut out, part, 3, style);
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
