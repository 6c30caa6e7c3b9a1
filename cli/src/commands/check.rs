//! `roteiro check`: everything the loader rejects, then the static analysis.

use roteiro_engine::report::Warning;

use crate::args::BundleArgs;
use crate::failure::Failure;
use crate::render::Style;
use crate::Status;

/// Arguments of `roteiro check`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    bundle: BundleArgs,
    /// Falha também com avisos.
    #[arg(long)]
    strict: bool,
    /// Diz também quais expressões rodam no Rhai em vez da árvore nativa, e que regras citam cada valor dos fatos enum.
    #[arg(long)]
    verbose: bool,
}

/// Warnings as text.
pub fn render(warnings: &[Warning], style: Style) -> String {
    let mut out = String::new();
    for warning in warnings {
        out.push_str(&format!(
            "{}: {} `{}`: {}\n",
            warning.location,
            style.warn(&format!("aviso [{}]", warning.kind)),
            warning.item,
            warning.message
        ));
    }
    out
}

/// Where each value of each enum fact is named: the lists that decide a
/// derived fact or a catch-all rule, found without reading every rule.
fn value_uses(bundle: &roteiro_engine::Bundle) -> String {
    let mut out = String::from("valores citados pelas regras:\n");
    let uses = bundle.value_uses();
    for fact in bundle.vocabulary().facts().filter(|fact| !fact.values().is_empty()) {
        out.push_str(&format!("  {}:\n", fact.path));
        for value in fact.values() {
            let places = uses.get(&fact.path).and_then(|values| values.get(value));
            let said = places.map_or("nenhuma regra".to_string(), |places| places.join(", "));
            out.push_str(&format!("    {} ({value}): {said}\n", fact.value_name(value)));
        }
    }
    out
}

/// Runs the command: exit 3 on errors, 1 on rules that can only fail and,
/// with `--strict`, on any warning.
pub fn run(args: &Args) -> Result<Status, Failure> {
    let bundle = args.bundle.load()?;
    let warnings = bundle.analyze();
    let style = Style::detect();
    say_raw!("{}", render(&warnings, style));
    let info = bundle.info();
    say!(
        "{}: {} {} ({}), {} regras, {} aviso(s)",
        if warnings.is_empty() {
            style.good("ok")
        } else {
            style.warn("ok com avisos")
        },
        info.name,
        info.version,
        info.digest,
        bundle.rule_ids().count(),
        warnings.len()
    );
    let (native, total) = bundle.native_coverage();
    say!("expressões: {native} de {total} compiladas para a árvore nativa; as demais rodam no Rhai");
    if args.verbose {
        for (rule, field, source) in bundle.rhai_expressions() {
            say!("  rhai: `{rule}` {field}: {}", source.replace('\n', " "));
        }
        say_raw!("{}", value_uses(&bundle));
    }
    // A rule that can only fail would fail every decision that reaches it;
    // a fact without a label would show its raw path to an analyst.
    let broken = warnings
        .iter()
        .any(|warning| matches!(warning.kind.as_str(), "always_fails" | "unlabeled_fact"));
    Ok(if broken || (args.strict && !warnings.is_empty()) {
        Status::Failed
    } else {
        Status::Ok
    })
}
