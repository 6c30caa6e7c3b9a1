//! `roteiro stats`: what the decision log says about real traffic.

use std::fmt::Write as _;

use chrono::{DateTime, Utc};
use roteiro_decision_log::{stats, Filter, Stats};

use crate::args::BundleArgs;
use crate::database::{self, DatabaseArgs};
use crate::failure::Failure;
use crate::render::Style;
use crate::Status;

/// Arguments of `roteiro stats`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The bundle, for the rules that never fired.
    #[command(flatten)]
    bundle: BundleArgs,
    #[command(flatten)]
    log: DatabaseArgs,
    /// Só decisões registradas desde (AAAA-MM-DD ou RFC 3339).
    #[arg(long, value_parser = database::parse_moment)]
    since: Option<DateTime<Utc>>,
    /// Formato da saída.
    #[arg(long, value_enum, default_value_t = StatsFormat::Text)]
    format: StatsFormat,
}

/// How the numbers are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum StatsFormat {
    /// Texto para ler, em português.
    Text,
    /// Um documento JSON.
    Json,
}

/// Runs the command.
pub fn run(args: &Args) -> Result<Status, Failure> {
    let bundle = args.bundle.load()?;
    let records = roteiro_decision_log::open(&args.log.address()).and_then(|mut store| {
        store.read(&Filter {
            since: args.since,
            ..Filter::default()
        })
    });
    let records = records.map_err(Failure::failed)?;
    let numbers = stats(&records, bundle.rule_ids());
    match args.format {
        StatsFormat::Json => say!(
            "{}",
            serde_json::to_string_pretty(&numbers)
                .map_err(|err| Failure::failed(format!("não foi possível escrever: {err}")))?
        ),
        StatsFormat::Text => say_raw!("{}", render(&numbers, Style::detect())),
    }
    Ok(Status::Ok)
}

fn bar(count: usize, most: usize) -> String {
    let width = if most == 0 { 0 } else { (count * 30).div_ceil(most) };
    "█".repeat(width)
}

/// The numbers as text, with bars.
pub fn render(numbers: &Stats, style: Style) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}", style.heading(&format!("{} decisões", numbers.decisions)));
    let mut section = |title: &str, rows: Vec<(String, usize)>| {
        let most = rows.iter().map(|(_, n)| *n).max().unwrap_or(0);
        let _ = writeln!(out, "\n{}", style.heading(title));
        for (name, count) in rows {
            let _ = writeln!(out, "  {count:>6}  {:<30}  {name}", bar(count, most));
        }
    };
    section(
        "Por rota",
        numbers.by_route.iter().map(|(k, v)| (k.clone(), *v)).collect(),
    );
    section(
        "Por procedimento",
        numbers.by_document.iter().map(|(k, v)| (k.clone(), *v)).collect(),
    );
    section(
        "Regras que mais disparam",
        numbers.rules.iter().take(20).cloned().collect(),
    );
    section(
        "Fatos que mais faltaram",
        numbers.most_missing.iter().take(15).cloned().collect(),
    );
    let _ = writeln!(out, "\n{}", style.heading("Regras que não dispararam no período"));
    let _ = writeln!(
        out,
        "  {}",
        if numbers.never_fired.is_empty() {
            "nenhuma".to_string()
        } else {
            numbers.never_fired.join(", ")
        }
    );
    let _ = writeln!(out, "\n{}", style.heading("Decisões mais lentas"));
    for (id, micros) in &numbers.slowest {
        let _ = writeln!(out, "  #{id}: {micros} µs");
    }
    out
}
