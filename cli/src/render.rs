//! Printing decisions: JSON and YAML documents, or text for a terminal.

use std::fmt::Write as _;
use std::io::IsTerminal;

use roteiro_engine::output::RuleStatus;
use roteiro_engine::{Bundle, Decision};

/// How a decision is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Texto para ler, em português.
    Text,
    /// Um documento JSON.
    Json,
    /// Um documento YAML.
    Yaml,
}

/// What the text form shows besides the decision itself.
#[derive(Debug, Clone, Copy, Default)]
pub struct View<'b> {
    /// Only route, actions, scripts, missing (and warnings): no reminders,
    /// no assumptions, no "Por quê".
    pub brief: bool,
    /// The bundle that decided, to say each rule's condition in words.
    pub bundle: Option<&'b Bundle>,
}

/// The decision in the chosen format.
pub fn decision(decision: &Decision, format: Format, view: View<'_>) -> Result<String, String> {
    match format {
        Format::Json => serde_json::to_string_pretty(decision)
            .map(|text| text + "\n")
            .map_err(|e| e.to_string()),
        Format::Yaml => serde_yaml::to_string(decision).map_err(|e| e.to_string()),
        Format::Text => Ok(text(decision, Style::detect(), view)),
    }
}

/// ANSI styling, on only for a terminal without NO_COLOR.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    color: bool,
}

impl Style {
    /// Color when stdout is a terminal and NO_COLOR is unset.
    pub fn detect() -> Self {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Self {
            color: std::io::stdout().is_terminal() && !no_color,
        }
    }

    fn paint(self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    /// Bold.
    pub fn heading(self, text: &str) -> String {
        self.paint("1", text)
    }

    /// Green.
    pub fn good(self, text: &str) -> String {
        self.paint("32", text)
    }

    /// Yellow.
    pub fn warn(self, text: &str) -> String {
        self.paint("33", text)
    }

    /// Red.
    pub fn bad(self, text: &str) -> String {
        self.paint("31", text)
    }

    /// Dim.
    pub fn dim(self, text: &str) -> String {
        self.paint("2", text)
    }
}

fn source_ref(document: &str, section: &str) -> String {
    let short = document.split('_').next().unwrap_or(document);
    format!("doc {short} §{section}")
}

/// Why a rule fired, or what it waits for, in words when the bundle can
/// say its condition that way; the trace's own words otherwise.
fn reason(decision: &Decision, entry: roteiro_engine::output::TraceEntry<'_>, view: View<'_>) -> String {
    match entry.status {
        RuleStatus::Fired => match view.bundle.and_then(|bundle| bundle.condition_in_words(entry.rule)) {
            Some(words) => format!("porque {words}"),
            None if entry.why.starts_with("condição verdadeira: (sempre)") => "sempre se aplica".into(),
            None => entry.why.to_string(),
        },
        RuleStatus::Undecided => {
            let waiting: Vec<&str> = decision
                .missing
                .iter()
                .filter(|m| m.needed_by.iter().any(|by| by == entry.rule))
                .map(|m| m.question.as_str())
                .collect();
            if waiting.is_empty() {
                entry.why.to_string()
            } else {
                format!("depende de: {}", waiting.join(" "))
            }
        }
        _ => entry.why.to_string(),
    }
}

/// The decision as text for an analyst: what to do first, then (unless
/// brief) what was assumed, the reminders and why.
pub fn text(decision: &Decision, style: Style, view: View<'_>) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}",
        style.dim(&format!(
            "roteiro · {} {} ({})",
            decision.bundle.name, decision.bundle.version, decision.bundle.digest
        ))
    );
    outputs(&mut out, decision, style, view.bundle);
    actions(&mut out, decision, style);
    scripts(&mut out, decision, style);
    follow_ups(&mut out, decision, style);
    missing(&mut out, decision, style);
    warnings(&mut out, decision, style);
    if view.brief {
        return out;
    }
    assumed(&mut out, decision, style);
    reminders(&mut out, decision, style);
    why(&mut out, decision, style, view);
    out
}

/// The outputs by their display names (the bundle's `label` and
/// `names`), yes/no as sim/não, dates as dd/mm/aaaa.
fn outputs(out: &mut String, decision: &Decision, style: Style, bundle: Option<&Bundle>) {
    // An output an undecided rule may still change is "a decidir", with
    // what decides it, never the value it holds for now.
    let open = &decision.open_outputs;
    let names: std::collections::BTreeSet<&String> = decision.outputs.keys().chain(open.keys()).collect();
    if !names.is_empty() {
        let _ = writeln!(out, "\n{}", style.heading("Decisão"));
        for name in names {
            let shown = match (bundle, open.get(name), decision.outputs.get(name)) {
                (Some(bundle), Some(facts), _) => open_in_words(bundle, facts),
                (Some(bundle), None, Some(value)) => bundle.output_in_words(name, value),
                (None, _, Some(serde_json::Value::String(text))) => text.clone(),
                (_, _, value) => value.map(ToString::to_string).unwrap_or_default(),
            };
            let label = bundle.map_or_else(|| name.to_string(), |b| b.output_label(name));
            let _ = writeln!(out, "  {label}: {shown}");
        }
    }
}

/// "a decidir", with the facts that decide it by their labels.
pub fn open_in_words(bundle: &Bundle, facts: &[String]) -> String {
    let labels: Vec<&str> = (facts.iter())
        .map(|fact| {
            bundle
                .vocabulary()
                .fact(fact)
                .and_then(|f| f.declared_label())
                .unwrap_or(fact)
        })
        .collect();
    match labels.is_empty() {
        true => "a decidir".to_string(),
        false => format!("a decidir (depende de {})", labels.join(", ")),
    }
}

/// The next actions in order, each with its macro, team and source.
fn actions(out: &mut String, decision: &Decision, style: Style) {
    if !decision.actions.is_empty() {
        let _ = writeln!(out, "\n{}", style.heading("Próximas ações"));
        for (index, action) in decision.actions.iter().enumerate() {
            let _ = writeln!(out, "  {}. {}", index + 1, action.text);
            let mut details = Vec::new();
            if let Some(name) = &action.r#macro {
                details.push(format!("macro: {name}"));
            }
            if let Some(team) = &action.team {
                details.push(format!("time: {team}"));
            }
            details.push(source_ref(&action.source.document, &action.source.section));
            let _ = writeln!(out, "     {}", style.dim(&details.join(" · ")));
        }
    }
}

/// What to say or send.
fn scripts(out: &mut String, decision: &Decision, style: Style) {
    if !decision.scripts.is_empty() {
        let _ = writeln!(out, "\n{}", style.heading("O que dizer ou enviar"));
        for script in &decision.scripts {
            let _ = writeln!(out, "  » {}", script.text.replace('\n', "\n    "));
        }
    }
}

/// What to follow up later, and by when.
fn follow_ups(out: &mut String, decision: &Decision, style: Style) {
    if !decision.follow_ups.is_empty() {
        let _ = writeln!(out, "\n{}", style.heading("Pendências (acompanhar depois)"));
        for follow_up in &decision.follow_ups {
            let when = match (&follow_up.due_text, follow_up.overdue) {
                (Some(due), true) => style.bad(&format!("ATRASADO desde {due}")),
                (Some(due), false) => format!("até {due}"),
                // A wait the procedure gives no deadline.
                (None, _) if follow_up.needs.is_empty() => style.warn("sem prazo"),
                (None, _) => style.warn(&format!("prazo a definir (falta {})", follow_up.needs.join(", "))),
            };
            let _ = writeln!(out, "  ⏲ {when}: {}", follow_up.text);
            if let Some(until) = &follow_up.until {
                let _ = writeln!(out, "     {}", style.dim(&format!("encerra quando: {until}")));
            }
        }
    }
}

/// What is still to be asked.
fn missing(out: &mut String, decision: &Decision, style: Style) {
    if !decision.missing.is_empty() {
        let _ = writeln!(out, "\n{}", style.heading(&style.warn("Falta saber")));
        for missing in &decision.missing {
            let _ = writeln!(
                out,
                "  ? {} {}",
                missing.question,
                style.dim(&format!("({})", missing.fact))
            );
        }
    }
}

/// The decision's warnings.
fn warnings(out: &mut String, decision: &Decision, style: Style) {
    if !decision.warnings.is_empty() {
        let _ = writeln!(out, "\n{}", style.heading(&style.warn("Avisos")));
        for warning in &decision.warnings {
            let _ = writeln!(out, "  ! {warning}");
        }
    }
}

/// Facts taken by default.
fn assumed(out: &mut String, decision: &Decision, style: Style) {
    if !decision.assumed.is_empty() {
        let _ = writeln!(out, "\n{}", style.heading("Assumido (confirme se tiver dúvida)"));
        for assumed in &decision.assumed {
            let _ = writeln!(
                out,
                "  ~ {} = {} {}",
                assumed.fact,
                assumed.value,
                style.dim(&format!("({})", assumed.question))
            );
        }
    }
}

/// The reminders.
fn reminders(out: &mut String, decision: &Decision, style: Style) {
    if !decision.reminders.is_empty() {
        let _ = writeln!(out, "\n{}", style.heading("Lembretes"));
        for reminder in &decision.reminders {
            let _ = writeln!(out, "  - {}", reminder.text);
        }
    }
}

/// Each rule that fired or is undecided, in words.
fn why(out: &mut String, decision: &Decision, style: Style, view: View<'_>) {
    let relevant: Vec<_> = decision
        .trace
        .iter()
        .filter(|entry| entry.status != RuleStatus::NotFired)
        .collect();
    if !relevant.is_empty() {
        let _ = writeln!(out, "\n{}", style.heading("Por quê"));
        for entry in relevant {
            let mark = match entry.status {
                RuleStatus::Fired => style.good("✓"),
                _ => style.warn("?"),
            };
            let _ = writeln!(
                out,
                "  {mark} {} {}",
                entry.rule,
                style.dim(&format!(
                    "({})",
                    source_ref(&entry.source.document, &entry.source.section)
                ))
            );
            let _ = writeln!(out, "    {}", style.dim(&reason(decision, entry, view)));
        }
    }
}
