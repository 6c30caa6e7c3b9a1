//! `roteiro ask`: guided questions, one at a time, the most decisive first.
//!
//! Line based: it reads answers from stdin whether or not it is a terminal,
//! so it works on a call, in a pipe and in tests alike; a closed stdin ends
//! the questions and prints the decision reached so far, never a hang.
//! Every answer goes through the engine (`Bundle::answer`), read as a
//! situation's value would be, so what `ask` saves is exactly what
//! `decide` reads.

use std::collections::BTreeSet;
use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime};
use roteiro_engine::report::compare_decisions;
use roteiro_engine::{Bundle, Decision, FactKind, Situation, Zone};
use serde_yaml::Value;

use inquire::error::InquireError;
use inquire::validator::Validation;
use inquire::{Select, Text};
use roteiro_decision_log::cases::{self, Case, CaseDesk, CaseError, Cases};
use roteiro_decision_log::{decide_and_record, CommandLog, Recorder};

use crate::args::BundleArgs;
use crate::database::LogArgs;
use crate::failure::Failure;
use crate::render::{self, Format};
use crate::{clock, source, Status};

/// Arguments of `roteiro ask`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Situação parcial de onde começar (YAML ou JSON).
    situation: Option<PathBuf>,
    /// Retoma o caso deste ticket: começa da situação dele e grava nele as respostas.
    #[arg(long, conflicts_with = "situation")]
    case: Option<String>,
    #[command(flatten)]
    bundle: BundleArgs,
    /// Decide como neste momento (RFC 3339); padrão: o da situação, senão agora.
    #[arg(long, value_parser = clock::parse)]
    now: Option<DateTime<FixedOffset>>,
    /// Grava aqui a situação final (e a decisão ao lado, `.decisao.json`).
    #[arg(long)]
    save: Option<PathBuf>,
    #[command(flatten)]
    log: LogArgs,
}

/// Most questions asked in one session: one per declared fact at most.
fn question_limit(bundle: &Bundle) -> usize {
    bundle.vocabulary().facts().count()
}

/// Runs the command.
pub fn run(args: &Args) -> Result<Status, Failure> {
    // A question skipped with Esc says so in the analyst's language.
    inquire::set_global_render_config(
        inquire::ui::RenderConfig::default_colored()
            .with_canceled_prompt_indicator(inquire::ui::Styled::new("(pulada)")),
    );
    let bundle = args.bundle.load()?;
    let case = args.case.as_deref().map(|ticket| resumed(ticket, args)).transpose()?;
    let mut given = start(&bundle, args, case.as_ref())?;
    // Every decision of the session is logged, not only the last: each
    // answer is a decision the analyst saw. A log that cannot be opened
    // is said; the questions go on without it.
    let log = args.log.writer().map_err(|failure| eprint!("{failure}")).ok();
    let status = session(&bundle, args, &mut given, &log)?;
    if let Some(log) = log {
        log.close();
    }
    match case {
        Some(case) if status == Status::Ok => write_back(&bundle, args, &case, &given),
        _ => Ok(status),
    }
}

/// The case to resume, as stored.
fn resumed(ticket: &str, args: &Args) -> Result<Case, Failure> {
    let ticket = cases::ticket(ticket).map_err(Failure::situation)?;
    crate::database::require_case_reader(&args.log.address()).map_err(Failure::failed)?;
    let mut store = Cases::open(&args.log.address()).map_err(Failure::failed)?;
    match store.case(&ticket).map_err(Failure::failed)? {
        Some(case) if case.closed_at.is_none() => Ok(case),
        Some(_) => Err(Failure::failed(CaseError::Closed(ticket))),
        None => Err(Failure::failed(CaseError::NotFound(ticket))),
    }
}

/// Writes the session's answers into the case (on the version it was
/// resumed from: someone else's change in between is a conflict, said),
/// leaving out the moment the session pinned.
fn write_back(bundle: &Bundle, args: &Args, case: &Case, given: &Situation) -> Result<Status, Failure> {
    let before: serde_json::Value = serde_json::from_str(&case.situation).unwrap_or_default();
    let mut after: serde_json::Value = serde_json::from_str(&bundle.situation_json(given, true)).unwrap_or_default();
    if before.get("now").is_none() {
        if let Some(map) = after.as_object_mut() {
            map.remove("now");
        }
    }
    let mut changed = Vec::new();
    leaves(&after, "", &mut |path, value| {
        if pointer(&before, path) != Some(value) {
            changed.push((path.to_string(), value.clone()));
        }
    });
    if changed.is_empty() {
        say!("\ncaso do ticket {}: nenhuma resposta nova", case.ticket);
        return Ok(Status::Ok);
    }
    let cases = Cases::open(&args.log.address()).map_err(Failure::failed)?;
    // Every decision of the session is in the log already (origin "ask"),
    // the last one included: the write-back records it in the case only.
    let mut desk = CaseDesk {
        bundle,
        cases,
        log: None,
        signed_in: None,
    };
    let now = clock::now(bundle, args.now);
    let view = desk
        .answer_values(&case.ticket, &changed, Some(case.version), None, now)
        .map_err(Failure::failed)?;
    say!(
        "\ncaso do ticket {}: {} resposta(s) gravada(s), versão {}",
        case.ticket,
        changed.len(),
        view.case.version
    );
    Ok(Status::Ok)
}

/// Every leaf of a JSON tree with its dotted path.
fn leaves(value: &serde_json::Value, prefix: &str, visit: &mut impl FnMut(&str, &serde_json::Value)) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, child) in map {
                let path = if prefix.is_empty() {
                    key.clone()
                } else {
                    format!("{prefix}.{key}")
                };
                leaves(child, &path, visit);
            }
        }
        leaf => visit(prefix, leaf),
    }
}

/// The value at a dotted path of a JSON tree.
fn pointer<'v>(tree: &'v serde_json::Value, path: &str) -> Option<&'v serde_json::Value> {
    path.split('.').try_fold(tree, |node, key| node.get(key))
}

/// Asks until nothing decisive is missing or the input ends.
fn session(bundle: &Bundle, args: &Args, given: &mut Situation, log: &Option<CommandLog>) -> Result<Status, Failure> {
    let stdin = std::io::stdin();
    let mut input = stdin.lock();
    let mut out = std::io::stdout();
    let mut skipped: BTreeSet<String> = BTreeSet::new();
    let mut previous: Option<Decision> = None;
    // Menus when a person is at a terminal; numbered lines otherwise, so
    // pipes and scripts work too.
    let terminal = std::io::stdin().is_terminal() && std::io::stdout().is_terminal();
    for _ in 0..=question_limit(bundle) {
        let decision = decide(bundle, given, log)?;
        if let Some(before) = &previous {
            let _ = write!(out, "{}", changes(bundle, before, &decision));
        }
        let first = bundle
            .first_questions()
            .iter()
            .filter(|fact| !given.facts.contains_key(*fact) && !skipped.contains(*fact))
            .filter_map(|fact| Some((fact.clone(), bundle.vocabulary().fact(fact)?.question().to_string())));
        let missing = decision
            .most_decisive_missing()
            .into_iter()
            .filter(|missing| !skipped.contains(missing.fact.as_str()))
            .map(|missing| (missing.fact.to_string(), missing.question.to_string()));
        let Some((fact, question)) = first.chain(missing).next() else {
            return Ok(finish(bundle, given, &decision, args));
        };
        let answer = if terminal {
            ask_in_terminal(bundle, &fact, &question)
        } else {
            ask(bundle, &fact, &question, &mut input, &mut out)
        };
        match answer {
            Answer::Value(value) => {
                let value = serde_json::to_value(&value).unwrap_or(serde_json::Value::Null);
                if let Err(err) = bundle.answer(given, &fact, &value) {
                    // Asked again: the answer did not fit the vocabulary.
                    let _ = writeln!(out, "{err}");
                }
            }
            Answer::Skip => {
                skipped.insert(fact);
            }
            Answer::Closed => {
                let _ = writeln!(
                    out,
                    "\n(entrada encerrada: esta é a decisão com o que se sabe até aqui)"
                );
                return Ok(finish(bundle, given, &decision, args));
            }
        }
        previous = Some(decision);
    }
    Ok(Status::Ok)
}

/// The starting situation (read as `decide` reads it), with `now` pinned
/// so the saved situation decides the same way tomorrow.
fn start(bundle: &Bundle, args: &Args, case: Option<&Case>) -> Result<Situation, Failure> {
    let mut given = match (&args.situation, case) {
        (Some(path), _) => {
            let name = path.display().to_string();
            let bytes = source::read_situation(&name, bundle.situation_limit())?;
            parsed(bundle, &bytes, &name)?
        }
        // A case's situation is the JSON `decide` reads.
        (None, Some(case)) => parsed(bundle, case.situation.as_bytes(), "caso")?,
        (None, None) => parsed(bundle, b"{}", "ask")?,
    };
    let now = clock::now(bundle, args.now.or(given.now()));
    bundle.answer(&mut given, "now", &serde_json::Value::from(now.to_rfc3339()))?;
    Ok(given)
}

fn parsed(bundle: &Bundle, bytes: &[u8], origin: &str) -> Result<Situation, Failure> {
    Ok(bundle.parse_situation(bytes, origin)?)
}

/// The decision on what is known so far, logged when the session logs.
fn decide(bundle: &Bundle, situation: &Situation, log: &impl Recorder) -> Result<Decision, Failure> {
    let now = clock::now(bundle, situation.now());
    let mut decided = decide_and_record(bundle, situation, now, "ask", log)?;
    if !decided.receipt.wait() {
        eprintln!("roteiro: a decisão não foi gravada no log de decisões");
    }
    Ok(decided.decision)
}

enum Answer {
    Value(Value),
    Skip,
    Closed,
}

/// Asks one question in a terminal: a menu for choices and sim/não, a text
/// field checked as typed otherwise. Esc (or an empty text) skips it;
/// Ctrl-C ends the session with the decision so far.
fn ask_in_terminal(bundle: &Bundle, fact: &str, question: &str) -> Answer {
    let Some(spec) = bundle.vocabulary().fact(fact) else {
        return Answer::Skip;
    };
    let values = spec.values().to_vec();
    let help = "Esc pula a pergunta · Ctrl-C encerra com a decisão até aqui";
    let asked = match spec.kind() {
        FactKind::Enum => {
            // In the menu's order, each option with its section: typing
            // filters on both.
            let values = offered(spec);
            let shown: Vec<String> = (spec.menu().iter())
                .flat_map(|section| {
                    section.values.iter().map(|value| match section.title {
                        Some(title) => format!("{}{SECTION_MARK}{title}", spec.value_name(value)),
                        None => spec.value_name(value),
                    })
                })
                .collect();
            let help = format!("digite para filtrar · {help}");
            Select::new(question, shown.clone())
                .with_help_message(&help)
                .with_scorer(&menu_score)
                .prompt_skippable()
                .map(|choice| {
                    let index = choice.and_then(|choice| shown.iter().position(|s| *s == choice));
                    index.and_then(|i| values.get(i)).map(|v| Value::String(v.clone()))
                })
        }
        FactKind::Bool => Select::new(question, vec!["Sim", "Não"])
            .with_help_message(help)
            .prompt_skippable()
            .map(|choice| choice.map(|choice| Value::Bool(choice == "Sim"))),
        kind => {
            let format = match kind {
                FactKind::Date => "dd/mm/aaaa",
                FactKind::Datetime => "dd/mm/aaaa HH:MM",
                FactKind::Integer => "um número",
                _ => "texto",
            };
            let help = format!("{format} · vazio ou Esc pula · Ctrl-C encerra com a decisão até aqui");
            let accepted = values.clone();
            let zone = bundle.zone();
            Text::new(question)
                .with_help_message(&help)
                .with_validator(move |input: &str| {
                    let input = input.trim();
                    Ok(match parse_answer(kind, &accepted, zone, input) {
                        _ if input.is_empty() => Validation::Valid,
                        Ok(_) => Validation::Valid,
                        Err(message) => Validation::Invalid(message.into()),
                    })
                })
                .prompt_skippable()
                .map(|typed| {
                    let typed = typed.unwrap_or_default();
                    parse_answer(kind, &values, zone, typed.trim())
                        .ok()
                        .filter(|_| !typed.trim().is_empty())
                })
        }
    };
    match asked {
        Ok(Some(value)) => Answer::Value(value),
        Ok(None) => Answer::Skip,
        // Ctrl-C, or a terminal that went away: the decision so far.
        Err(InquireError::OperationInterrupted | InquireError::NotTTY | InquireError::IO(_)) => Answer::Closed,
        Err(_) => Answer::Skip,
    }
}

/// Asks one question until the answer is valid, empty (skip) or stdin closes.
fn ask(bundle: &Bundle, fact: &str, question: &str, input: &mut impl BufRead, out: &mut impl Write) -> Answer {
    let Some(spec) = bundle.vocabulary().fact(fact) else {
        return Answer::Skip;
    };
    let values = offered(spec);
    let hint = match spec.kind() {
        FactKind::Enum => {
            let mut number = 0;
            for section in spec.menu() {
                if let Some(title) = section.title {
                    let _ = writeln!(out, "  {title}");
                }
                for value in section.values {
                    number += 1;
                    let _ = writeln!(out, "    {number}) {}", spec.value_name(value));
                }
            }
            "número da opção".to_string()
        }
        FactKind::Bool => "s/n".into(),
        FactKind::Date => "dd/mm/aaaa".into(),
        FactKind::Datetime => "dd/mm/aaaa HH:MM".into(),
        FactKind::Integer => "número".into(),
        FactKind::Text => "texto".into(),
    };
    loop {
        let _ = write!(out, "? {question} [{fact}] ({hint}; vazio pula): ");
        let _ = out.flush();
        let mut line = String::new();
        match input.read_line(&mut line) {
            Ok(0) | Err(_) => return Answer::Closed,
            Ok(_) => {}
        }
        let line = line.trim();
        // Piped answers are not echoed by a terminal: show them, so the
        // transcript reads as a conversation.
        if !std::io::stdin().is_terminal() {
            let _ = writeln!(out, "{line}");
        }
        if line.is_empty() {
            return Answer::Skip;
        }
        // An option typed by its display name is that option.
        let named = values.iter().find(|value| spec.value_name(value) == line);
        match parse_answer(spec.kind(), &values, bundle.zone(), named.map_or(line, String::as_str)) {
            Ok(value) => return Answer::Value(value),
            Err(message) => {
                let _ = writeln!(out, "  {message}");
            }
        }
    }
}

/// Between an option's name and its section in a terminal menu.
const SECTION_MARK: &str = " · ";

/// The values of an `enum` in the order its menu offers them: option
/// numbers count in this order.
fn offered(spec: &roteiro_engine::Fact) -> Vec<String> {
    (spec.menu().into_iter())
        .flat_map(|section| section.values.into_iter().map(String::from))
        .collect()
}

/// Orders a menu as the analyst types: the name equal to what is typed
/// first, then names starting with it, names holding it, and last the
/// options whose section holds it ("equip" lists every equipment); the
/// menu's order within each. Case and accents do not count.
fn menu_score(typed: &str, _: &String, shown: &str, index: usize) -> Option<i64> {
    let typed = roteiro_engine::plain(typed.trim());
    let (name, section) = shown.split_once(SECTION_MARK).unwrap_or((shown, ""));
    let name = roteiro_engine::plain(name);
    let tier = match () {
        () if typed.is_empty() || name == typed => 4,
        () if name.starts_with(&typed) => 3,
        () if name.contains(&typed) => 2,
        () if roteiro_engine::plain(section).contains(&typed) => 1,
        () => return None,
    };
    Some(tier * 100_000 - i64::try_from(index).unwrap_or(i64::MAX / 2))
}

/// An answer typed the way people write it, as a situation value.
fn parse_answer(kind: FactKind, values: &[String], zone: Zone, line: &str) -> Result<Value, String> {
    match kind {
        FactKind::Enum => {
            let chosen = line
                .parse::<usize>()
                .ok()
                .and_then(|n| n.checked_sub(1))
                .and_then(|i| values.get(i))
                .or_else(|| {
                    values
                        .iter()
                        .find(|v| v.as_str() == line || v.replace('_', " ") == line)
                });
            chosen
                .map(|v| Value::String(v.clone()))
                .ok_or_else(|| format!("escolha um número de 1 a {}", values.len()))
        }
        FactKind::Bool => match line.to_lowercase().as_str() {
            "s" | "sim" | "true" => Ok(Value::Bool(true)),
            "n" | "nao" | "não" | "false" => Ok(Value::Bool(false)),
            _ => Err("responda s (sim) ou n (não)".into()),
        },
        FactKind::Date => NaiveDate::parse_from_str(line, "%d/%m/%Y")
            .map(|date| Value::String(date.format("%Y-%m-%d").to_string()))
            .map_err(|_| "data inválida; escreva dd/mm/aaaa, por exemplo 05/12/2026".into()),
        // As the bundle's zone shows it: its offset that day, from the tz
        // database (never a fixed -03:00).
        FactKind::Datetime => NaiveDateTime::parse_from_str(line, "%d/%m/%Y %H:%M")
            .map_err(|_| "data e hora inválidas; escreva dd/mm/aaaa HH:MM, por exemplo 08/12/2026 10:15".to_string())
            .and_then(|local| {
                zone.at(local)
                    .map(|at| Value::String(at.to_rfc3339()))
                    .ok_or_else(|| format!("{line} não existe em {} (o relógio pula essa hora)", zone.name()))
            }),
        FactKind::Integer => line
            .parse::<i64>()
            .map(|n| Value::Number(n.into()))
            .map_err(|_| "escreva um número inteiro".into()),
        FactKind::Text => Ok(Value::String(line.to_string())),
    }
}

/// An output's value as an analyst reads it: not decided yet, or as the
/// bundle words it.
fn in_words(bundle: &Bundle, output: &str, value: Option<&serde_json::Value>) -> String {
    value.map_or_else(|| "a decidir".into(), |value| bundle.output_in_words(output, value))
}

/// What changed between two decisions, in a line or two, outputs by
/// their display names.
fn changes(bundle: &Bundle, before: &Decision, after: &Decision) -> String {
    let change = compare_decisions(before, after);
    let mut parts = Vec::new();
    let names: std::collections::BTreeSet<&String> = before.outputs.keys().chain(after.outputs.keys()).collect();
    for name in names {
        // An output still open reads "a decidir" on either side.
        let shown = |decision: &Decision| match decision.open_outputs.contains_key(name) {
            true => "a decidir".to_string(),
            false => in_words(bundle, name, decision.outputs.get(name)),
        };
        let (old, new) = (shown(before), shown(after));
        if old != new {
            parts.push(format!("{}: {old} → {new}", bundle.output_label(name)));
        }
    }
    if !change.actions_added.is_empty() {
        parts.push(format!("{} ação(ões) nova(s)", change.actions_added.len()));
    }
    if !change.actions_removed.is_empty() {
        parts.push(format!("{} ação(ões) a menos", change.actions_removed.len()));
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!("  → mudou: {}\n", parts.join("; "))
    }
}

/// Prints the decision (brief) and saves what was asked for.
fn finish(bundle: &Bundle, given: &Situation, decision: &Decision, args: &Args) -> Status {
    // On a call the essentials come first: `decide` on the saved
    // situation shows the reminders and the reasons.
    let view = render::View {
        brief: true,
        bundle: Some(bundle),
    };
    match render::decision(decision, Format::Text, view) {
        Ok(text) => say_raw!("\n{text}"),
        Err(err) => eprintln!("não foi possível imprimir a decisão: {err}"),
    }
    let Some(path) = &args.save else { return Status::Ok };
    let tree: serde_json::Value = serde_json::from_str(&bundle.situation_json(given, true)).unwrap_or_default();
    let saved = serde_yaml::to_string(&tree)
        .map_err(|err| err.to_string())
        .and_then(|yaml| {
            std::fs::write(path, format!("# situação salva por roteiro ask\n{yaml}")).map_err(|e| e.to_string())
        })
        .and_then(|()| {
            let json = render::decision(decision, Format::Json, render::View::default())?;
            std::fs::write(path.with_extension("decisao.json"), json).map_err(|e| e.to_string())
        });
    match saved.and_then(|()| {
        let text = std::fs::read(path).map_err(|err| err.to_string())?;
        bundle
            .parse_situation(&text, &path.display().to_string())
            .map(|_| ())
            .map_err(|_| "situação salva inválida".to_string())
    }) {
        Ok(()) => {
            eprintln!("situação salva em {} (decisão ao lado, .decisao.json)", path.display());
            Status::Ok
        }
        Err(err) => {
            eprintln!("não foi possível salvar em {}: {err}", path.display());
            Status::Failed
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A moment typed at the terminal is read as the bundle's zone shows
    /// it, with that day's offset: Brasília had daylight saving until 2019.
    #[test]
    fn a_typed_moment_takes_the_zones_offset_of_its_day() {
        let zone = Zone::named("America/Sao_Paulo").unwrap();
        let read = |line| parse_answer(FactKind::Datetime, &[], zone, line).unwrap();
        assert_eq!(
            read("08/12/2026 10:15"),
            Value::String("2026-12-08T10:15:00-03:00".into())
        );
        assert_eq!(
            read("15/01/2018 10:15"),
            Value::String("2018-01-15T10:15:00-02:00".into())
        );
        // The hour the clock skipped when daylight saving began.
        let skipped = parse_answer(FactKind::Datetime, &[], zone, "04/11/2018 00:30").unwrap_err();
        assert!(skipped.contains("não existe em America/Sao_Paulo"), "{skipped}");
    }
}
