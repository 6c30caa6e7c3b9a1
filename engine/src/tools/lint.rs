//! The company's writing rules, checked on every text of the bundle.
//!
//! Document 002 forbids gerund phrases ("vou estar verificando") and
//! promises of other sectors' deadlines (items 48-49); dates are shown as
//! dd/mm/yyyy; placeholders are `{{ ... }}`. Each finding names the rule,
//! the text and the lint, and a rule silences one with `lint_allow` and a
//! reason written next to it.

use serde::Serialize;

use crate::expr::template::{self, Piece};
use crate::model::bundle::Bundle;
use crate::text::locate;
use crate::text::locate::Location;

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LintFinding {
    /// Where the text is.
    pub location: Location,
    /// The rule it belongs to.
    pub rule: String,
    /// The action, script or reminder id.
    pub item: String,
    /// The lint id.
    pub lint: String,
    /// What is wrong, with the offending words.
    pub message: String,
    /// The text, as written.
    pub text: String,
}

const FUTURE_AUXILIARIES: [&str; 9] = ["vou", "vamos", "vai", "vão", "irei", "iremos", "irá", "irão", "ira"];
const ESTAR_FUTURE: [&str; 7] = [
    "estarei",
    "estaremos",
    "estará",
    "estarão",
    "estaria",
    "estaríamos",
    "estariam",
];
const CLITICS: [&str; 10] = ["lhe", "lhes", "te", "o", "a", "os", "as", "se", "me", "nos"];
/// What completes a case, by stem: "resolver", "libera", "retornará".
const DELIVERY_STEMS: [&str; 14] = [
    "resolv",
    "liber",
    "retorn",
    "corrig",
    "entreg",
    "conclu",
    "respond",
    "soluciona",
    "finaliz",
    "arrum",
    "consert",
    "ativ",
    "desbloque",
    "normaliz",
];
/// Commitments in the first person, whatever follows.
const PROMISE_WORDS: [&str; 4] = ["prometo", "prometemos", "garanto", "garantimos"];
/// Participles of a passive commitment ("será corrigido", "fica pronto").
const DONE_WORDS: [&str; 10] = [
    "resolvido",
    "resolvida",
    "corrigido",
    "corrigida",
    "liberado",
    "liberada",
    "concluído",
    "concluída",
    "entregue",
    "pronto",
];
/// Auxiliaries of a commitment about the future.
const WILL_WORDS: [&str; 6] = ["vai", "vão", "será", "serão", "ficará", "fica"];
/// Words before a noun, never before a verb.
const ARTICLES: [&str; 14] = [
    "a", "o", "as", "os", "da", "do", "na", "no", "pela", "pelo", "sua", "seu", "uma", "um",
];
/// Units of a time span ("em 2 dias", "48 horas").
const SPANS: [&str; 9] = [
    "minuto", "minutos", "hora", "horas", "h", "dia", "dias", "semana", "semanas",
];
/// Days a promise names ("até amanhã", "na sexta").
const DAYS: [&str; 9] = [
    "amanhã", "hoje", "segunda", "terça", "quarta", "quinta", "sexta", "sábado", "domingo",
];

fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

fn is_gerund(word: &str) -> bool {
    word.len() > 4 && (word.ends_with("ando") || word.ends_with("endo") || word.ends_with("indo"))
}

/// The gerund phrase in `text`, if any ("vou estar verificando").
pub fn gerund_phrase(text: &str) -> Option<String> {
    let words = words(text);
    for (i, word) in words.iter().enumerate() {
        let after_estar =
            if FUTURE_AUXILIARIES.contains(&word.as_str()) && words.get(i + 1).map(String::as_str) == Some("estar") {
                i + 2
            } else if ESTAR_FUTURE.contains(&word.as_str()) {
                i + 1
            } else {
                continue;
            };
        let mut j = after_estar;
        if words.get(j).is_some_and(|w| CLITICS.contains(&w.as_str())) {
            j += 1;
        }
        if words.get(j).is_some_and(|w| is_gerund(w)) {
            return Some(words[i..=j].join(" "));
        }
    }
    None
}

/// A date written other than dd/mm/yyyy (ISO, or a two-digit year).
pub fn bad_date(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let digits =
        |from: usize, n: usize| (from + n <= bytes.len()) && bytes[from..from + n].iter().all(u8::is_ascii_digit);
    for i in 0..bytes.len() {
        if i > 0 && bytes[i - 1].is_ascii_digit() {
            continue;
        }
        if digits(i, 4)
            && bytes.get(i + 4) == Some(&b'-')
            && digits(i + 5, 2)
            && bytes.get(i + 7) == Some(&b'-')
            && digits(i + 8, 2)
        {
            return Some(text[i..i + 10].to_string());
        }
        if digits(i, 2)
            && bytes.get(i + 2) == Some(&b'/')
            && digits(i + 3, 2)
            && bytes.get(i + 5) == Some(&b'/')
            && digits(i + 6, 2)
            && !digits(i + 6, 3)
        {
            return Some(text[i..i + 8].to_string());
        }
    }
    None
}

/// A promise of a deadline: in one sentence, a commitment (a delivery verb
/// in the present or future — "resolve", "vai liberar", "retornará" —, a
/// passive "será corrigido", or "prometo") and a time ("até amanhã", "em 2
/// dias", "48 horas", "amanhã"). The sector may be named or not: "O
/// Financeiro vai resolver em 2 dias", "resolve até amanhã", "retorna em 48
/// horas", "Amanhã o Financeiro libera". Returns the sentence.
pub fn promise(text: &str) -> Option<String> {
    text.split(['.', '!', '?', ';', '\n'])
        .find(|sentence| {
            let words = words(sentence);
            commits(&words) && names_a_time(&words)
        })
        .map(|sentence| sentence.trim().to_string())
}

fn commits(words: &[String]) -> bool {
    let delivery = |word: &str| DELIVERY_STEMS.iter().any(|stem| word.starts_with(stem));
    words.iter().enumerate().any(|(index, word)| {
        let next = words.get(index + 1).map(String::as_str).unwrap_or_default();
        // After an article or a preposition it is a noun: "após a entrega".
        let noun = index
            .checked_sub(1)
            .and_then(|before| words.get(before))
            .is_some_and(|before| ARTICLES.contains(&before.as_str()));
        PROMISE_WORDS.contains(&word.as_str())
            || (WILL_WORDS.contains(&word.as_str()) && (delivery(next) || DONE_WORDS.contains(&next)))
            || (delivery(word) && is_present_or_future(word) && !noun)
    })
}

/// "resolve", "liberam", "retornará", "corrigirão": a finite form that
/// states what will happen, not a noun ("liberação") or a participle.
fn is_present_or_future(word: &str) -> bool {
    ["a", "e", "am", "em", "rá", "rão", "i"]
        .iter()
        .any(|ending| word.ends_with(ending))
        && !word.ends_with("ção")
        && !word.ends_with("ade")
}

fn names_a_time(words: &[String]) -> bool {
    words.iter().enumerate().any(|(index, word)| {
        let next = words.get(index + 1).map(String::as_str).unwrap_or_default();
        let number = !word.is_empty() && word.chars().all(|c| c.is_ascii_digit());
        DAYS.contains(&word.as_str())
            || (number && SPANS.contains(&next))
            || (word.ends_with('h') && word.len() > 1 && word[..word.len() - 1].chars().all(|c| c.is_ascii_digit()))
    })
}

/// A lone `{` or `}` outside `{{ }}`.
pub fn lone_brace(text: &str) -> bool {
    match template::split(text) {
        Ok(pieces) => pieces
            .iter()
            .any(|piece| matches!(piece, Piece::Literal(l) if l.contains('{') || l.contains('}'))),
        Err(_) => true,
    }
}

impl Bundle {
    /// Every writing-rule finding in the bundle's texts.
    pub fn lint(&self) -> Vec<LintFinding> {
        let mut findings = Vec::new();
        for (path, procedure) in self.procedure_files() {
            let file_text = self.file_text(path);
            for rule in &procedure.rules {
                let items = rule
                    .actions
                    .iter()
                    .map(|a| (&a.id, &a.text))
                    .chain(rule.scripts.iter().map(|s| (&s.id, &s.text)))
                    .chain(rule.reminders.iter().map(|s| (&s.id, &s.text)))
                    .chain(rule.follow_ups.iter().map(|f| (&f.id, &f.text)));
                for (item, text) in items {
                    // Only what people read: the literal parts of the text.
                    let literal: String = template::split(text)
                        .unwrap_or_default()
                        .into_iter()
                        .map(|piece| match piece {
                            Piece::Literal(l) => l,
                            Piece::Placeholder { .. } => " ".into(),
                        })
                        .collect();
                    let mut found: Vec<(&str, String)> = Vec::new();
                    if let Some(phrase) = gerund_phrase(&literal) {
                        found.push((
                            "gerundio",
                            format!("frase no gerúndio «{phrase}»: reescreva sem o gerúndio (documento 002)"),
                        ));
                    }
                    if let Some(date) = bad_date(&literal) {
                        found.push(("data", format!("data «{date}» fora do formato dd/mm/aaaa")));
                    }
                    if text.contains("iso(") {
                        found.push((
                            "data",
                            "`iso(...)` mostra a data como AAAA-MM-DD; use a data direto ou `fmt(...)`".into(),
                        ));
                    }
                    if let Some(words) = promise(&literal) {
                        found.push(("prazo", format!("promessa de prazo «{words}»: não se comprometa com prazos de outros setores (documento 002, itens 48-49)")));
                    }
                    if lone_brace(text) {
                        found.push((
                            "marcador",
                            "chave solta; marcadores são escritos {{ expressão }}".into(),
                        ));
                    }
                    for (lint, message) in found {
                        let allowed = rule
                            .lint_allow
                            .iter()
                            .any(|allow| allow.lint == lint && allow.item.as_ref().is_none_or(|i| i == item));
                        if allowed {
                            continue;
                        }
                        findings.push(LintFinding {
                            location: Location {
                                file: path.to_string(),
                                line: locate::line_of(
                                    file_text,
                                    &[("id", Some(rule.id.as_str())), ("id", Some(item.as_str()))],
                                ),
                                column: None,
                            },
                            rule: rule.id.clone(),
                            item: item.clone(),
                            lint: lint.to_string(),
                            message,
                            text: text.clone(),
                        });
                    }
                }
            }
        }
        findings
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gerund_phrases_of_the_documents_are_found() {
        assert_eq!(
            gerund_phrase("Vou estar verificando o problema…").as_deref(),
            Some("vou estar verificando")
        );
        assert_eq!(
            gerund_phrase("Estarei passando para o fulano").as_deref(),
            Some("estarei passando")
        );
        assert_eq!(
            gerund_phrase("Estaremos mantendo contato").as_deref(),
            Some("estaremos mantendo")
        );
        assert_eq!(
            gerund_phrase("Sr.(a), estarei lhe transferindo").as_deref(),
            Some("estarei lhe transferindo")
        );
        assert_eq!(gerund_phrase("Vou verificar e dou retorno."), None);
        assert_eq!(gerund_phrase("Manteremos contato; estou aguardando."), None);
    }

    #[test]
    fn dates_must_be_dd_mm_yyyy() {
        assert_eq!(bad_date("vence em 2026-12-05").as_deref(), Some("2026-12-05"));
        assert_eq!(bad_date("vence em 05/12/26.").as_deref(), Some("05/12/26"));
        assert_eq!(bad_date("vence em 05/12/2026"), None);
    }

    #[test]
    fn promises_need_a_commitment_and_a_time_in_one_sentence() {
        for promised in [
            "O Financeiro vai resolver em 2 dias",
            "resolve até amanhã",
            "retorna em 48 horas",
            "Amanhã o Financeiro libera",
            "O bug será corrigido até amanhã.",
            "O time de IO retornará hoje.",
            "Garanto que fica pronto em 3 dias.",
            "O suporte resolve em 24h.",
        ] {
            assert!(promise(promised).is_some(), "{promised}");
        }
        for fine in [
            "O bug será corrigido.",
            "O Financeiro vai resolver.",
            "O prazo padrão é de 4h a 24h comerciais",
            "Pagamento por boleto feito hoje compensa em até 5 dias úteis",
            "no PIX a liberação é automática",
            "O sistema só é bloqueado no sétimo dia após o vencimento.",
            "Encaminhei ao Financeiro. Amanhã é feriado.",
            "As 3 semanas de monitoramento após a entrega já passaram.",
        ] {
            assert!(promise(fine).is_none(), "{fine}");
        }
    }

    #[test]
    fn lone_braces_are_flagged() {
        assert!(lone_brace("Olá, {client.name}"));
        assert!(!lone_brace("Olá, {{ client.name }}"));
    }
}
