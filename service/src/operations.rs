//! Every operation of the service, declared once: its method and path,
//! the least role that opens it, its handler and its description. The
//! router ([`crate::router`]), the access layer (`access.rs`) and the API
//! document (`openapi.rs`) are all read from this one table, so a path is
//! written in one place and none of the three can disagree.

use std::sync::LazyLock;

use axum::routing::{get, post, MethodRouter};
use roteiro_auth::Role;
use serde_json::{json, Value};

use crate::app::App;
use crate::limits::Weight;
use crate::operation_docs::*;
use crate::{admin, cases, decisions, login, page, pushes, releases, replay, status};

/// Who may use an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone: the page's files, health, the API document, logging in.
    Public,
    /// This role or a higher one.
    Needs(Role),
}

use Access::{Needs, Public};

/// One operation.
pub struct Operation {
    /// `GET`, `POST`.
    pub method: &'static str,
    /// As the router matches it (`/v1/cases/{ticket}`).
    pub path: &'static str,
    /// Who may use it.
    pub access: Access,
    /// What answers it.
    pub handler: Handler,
    /// How large its body and how long its work may be.
    pub weight: Weight,
    /// Its OpenAPI operation: summary, body and answers (what the table
    /// says of it, its parameters, roles and error answers, are added by
    /// `openapi.rs`).
    pub doc: fn() -> Value,
}

/// What answers an operation.
#[derive(Clone, Copy)]
pub enum Handler {
    /// A handler, routed for the operation's method.
    Route(fn() -> MethodRouter<App>),
    /// The API document of this very table, which the router answers
    /// itself (`openapi.rs` reads the table; the table cannot point back
    /// at it).
    Document,
}

/// The table.
pub static OPERATIONS: LazyLock<Vec<Operation>> = LazyLock::new(table);

/// Who may use `method` on `path` (as the router matched it), and how
/// much it may take; `None` when no operation is declared so.
pub fn access(method: &str, path: &str) -> Option<(Access, Weight)> {
    OPERATIONS
        .iter()
        .find(|op| op.method == method && op.path == path)
        .map(|op| (op.access, op.weight))
}

/// The methods declared for `path`, in table order.
pub fn methods_of(path: &str) -> Vec<&'static str> {
    OPERATIONS
        .iter()
        .filter(|op| op.path == path)
        .map(|op| op.method)
        .collect()
}

/// An operation, as the table writes it.
fn op(
    method: &'static str,
    path: &'static str,
    access: Access,
    handler: fn() -> MethodRouter<App>,
    doc: fn() -> Value,
) -> Operation {
    Operation {
        method,
        path,
        access,
        handler: Handler::Route(handler),
        weight: Weight::Request,
        doc,
    }
}

/// `GET /openapi.json`, answered by the router from this very table.
fn api_document() -> Operation {
    Operation {
        method: "GET",
        path: "/openapi.json",
        access: Public,
        handler: Handler::Document,
        weight: Weight::Request,
        doc: || summary("Este documento", json!({"200": object_answer("OpenAPI 3.1")})),
    }
}

impl Operation {
    /// The same operation, taking a whole bundle.
    fn publishing(self) -> Self {
        Self {
            weight: Weight::Publication,
            ..self
        }
    }
}

fn table() -> Vec<Operation> {
    [
        public(),
        page_files(),
        deciding(),
        casework(),
        pushing(),
        owners(),
        releasing(),
        admins(),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// The page's files: anyone.
fn page_files() -> Vec<Operation> {
    let doc = || {
        summary(
            "A página dos analistas: HTML, scripts e estilo",
            json!({"200": {"description": "O arquivo"}}),
        )
    };
    page::FILES
        .iter()
        .map(|file| op("GET", file.path, Public, || get(page::file), doc))
        .collect()
}

/// Health, the API document and logging in: anyone.
fn public() -> Vec<Operation> {
    vec![
        op(
            "GET",
            "/healthz",
            Public,
            || get(status::health),
            || {
                summary(
                    "Saúde: o pacote em uso e a última edição recusada, arquivo e linha",
                    json!({"200": object_answer("Servindo um pacote válido")}),
                )
            },
        ),
        api_document(),
        op(
            "POST",
            "/v1/login",
            Public,
            || post(login::login),
            || {
                summary(
                    "Entra com um token: `{\"token\": \"rot_...\"}`; abre a sessão da página num cookie HttpOnly",
                    json!({"200": object_answer("Quem entrou, o papel e o código anti-CSRF"), "401": {"description": "Token desconhecido ou revogado"}, "429": {"description": "Tentativas demais deste endereço"}}),
                )
            },
        ),
        op(
            "GET",
            "/v1/session",
            Public,
            || get(login::session),
            || {
                summary(
                    "Quem está na sessão do cookie",
                    json!({"200": object_answer("Quem, o papel e o código anti-CSRF"), "401": {"description": "Sem sessão"}}),
                )
            },
        ),
        op(
            "POST",
            "/v1/logout",
            Public,
            || post(login::logout),
            || {
                summary(
                    "Sai: encerra a sessão e apaga o cookie",
                    json!({"204": {"description": "Sessão encerrada"}}),
                )
            },
        ),
    ]
}

/// Deciding and what the page reads of the bundle: analysts.
fn deciding() -> Vec<Operation> {
    vec![
        op(
            "POST",
            "/v1/decide",
            Needs(Role::Analista),
            || post(decisions::decide),
            || {
                with_body(
                    "Decide os próximos passos para uma situação",
                    situation_body(true),
                    decided(answer(
                        "A decisão, igual a `roteiro decide --format json`",
                        reference("Decision"),
                    )),
                )
            },
        ),
        op(
            "POST",
            "/v1/explain",
            Needs(Role::Analista),
            || post(decisions::explain),
            || {
                with_body(
                    "Explica a decisão regra a regra",
                    situation_body(true),
                    decided(object_answer("A explicação")),
                )
            },
        ),
        op(
            "GET",
            "/v1/vocabulary",
            Needs(Role::Analista),
            || get(decisions::vocabulary),
            || {
                summary(
                    "Fatos, tipos, valores, perguntas e padrões",
                    json!({"200": object_answer("O vocabulário")}),
                )
            },
        ),
        op(
            "GET",
            "/v1/rules",
            Needs(Role::Analista),
            || get(decisions::rules),
            || {
                summary(
                    "Cada regra em palavras: o procedimento e a seção que ela segue, o que faz e a sua condição (o \"Por quê?\" da página)",
                    json!({"200": array_answer("As regras, na ordem dos arquivos")}),
                )
            },
        ),
    ]
}

/// Cases: analysts.
fn casework() -> Vec<Operation> {
    vec![
        op(
            "GET",
            "/v1/cases",
            Needs(Role::Analista),
            || get(cases::due),
            || {
                summary(
                    "Pendências abertas de todos os casos, a mais próxima primeiro (`?due=true&team=io&now=...`)",
                    json!({"200": array_answer("As pendências, cada uma com `overdue`")}),
                )
            },
        ),
        op(
            "GET",
            "/v1/cases/{ticket}",
            Needs(Role::Analista),
            || get(cases::show),
            || {
                summary(
                    "O caso do ticket, decidido de novo com o pacote em uso (`?now=`); ler não muda o caso",
                    case_answers("200"),
                )
            },
        ),
        op(
            "POST",
            "/v1/cases/{ticket}",
            Needs(Role::Analista),
            || post(cases::open),
            || {
                with_body(
                    "Abre o caso do ticket; o corpo é a situação inicial",
                    situation_body(false),
                    case_answers("201"),
                )
            },
        ),
        op(
            "POST",
            "/v1/cases/{ticket}/answers",
            Needs(Role::Analista),
            || post(cases::answer),
            || {
                summary(
                    "Responde fatos do caso: `{\"answers\": {\"fato\": valor}, \"version\": N}`; 409 se o caso mudou",
                    case_answers("200"),
                )
            },
        ),
        op(
            "POST",
            "/v1/cases/{ticket}/close",
            Needs(Role::Analista),
            || post(cases::close),
            || {
                summary(
                    "Encerra o caso, ou uma pendência dele: `{\"reason\": \"...\", \"follow_up\": \"id\"}`",
                    case_answers("200"),
                )
            },
        ),
    ]
}

/// A case written into its helpdesk ticket: analysts.
fn pushing() -> Vec<Operation> {
    vec![
        op(
            "GET",
            "/v1/cases/{ticket}/push",
            Needs(Role::Analista),
            || get(pushes::show),
            || {
                summary(
                    "Prévia exata da ação que o caso escreveria no ticket do helpdesk (`?public=true`)",
                    json!({"200": object_answer("O texto, com o marcador no fim"), "503": {"description": "Sem helpdesk configurado"}}),
                )
            },
        ),
        op(
            "POST",
            "/v1/cases/{ticket}/push",
            Needs(Role::Analista),
            || post(pushes::push),
            || {
                summary(
                "Envia a ação da prévia mostrada: `{\"marker\": \"...\"}`; fica na fila até o helpdesk aceitar; 409 se o caso mudou desde a prévia",
                json!({"202": object_answer("O envio, na fila")}),
            )
            },
        ),
        op(
            "GET",
            "/v1/cases/{ticket}/pushes",
            Needs(Role::Analista),
            || get(pushes::list),
            || {
                summary(
                    "Os envios do ticket ao helpdesk: fila, feito (com o id da ação) ou falhou",
                    json!({"200": array_answer("Os envios")}),
                )
            },
        ),
    ]
}

/// The bundle and the impact of an edit: process owners.
fn owners() -> Vec<Operation> {
    vec![
        op(
            "GET",
            "/v1/bundle",
            Needs(Role::Dono),
            || get(decisions::bundle),
            || {
                summary(
                    "Nome, versão, digest, regras e quando foi carregado",
                    json!({"200": object_answer("O pacote em uso")}),
                )
            },
        ),
        op(
            "GET",
            "/v1/diff",
            Needs(Role::Dono),
            || get(replay::diff),
            || {
                summary(
                "Decide de novo as situações do log (as últimas 5.000, `?since=AAAA-MM-DD`) com o pacote em uso e diz quais saídas mudaram",
                json!({"200": object_answer("Comparadas, iguais, mudaram e as mudanças (até 100)")}),
            )
            },
        ),
    ]
}

/// The published versions of the bundle: owners and admins.
fn releasing() -> Vec<Operation> {
    let mut operations = reading_releases();
    operations.extend(changing_releases());
    operations
}

/// The releases, one of them, and what changed between two.
fn reading_releases() -> Vec<Operation> {
    vec![
        op(
            "GET",
            "/v1/releases",
            Needs(Role::Dono),
            || get(releases::list),
            || {
                summary(
                    "As versões publicadas (a mais nova primeiro), o que foi feito com cada uma e as réplicas com a versão que servem",
                    json!({"200": object_answer("Versões, eventos e réplicas")}),
                )
            },
        ),
        op(
            "GET",
            "/v1/releases/{version}",
            Needs(Role::Dono),
            || get(releases::show),
            || {
                summary(
                    "Uma versão: autor, nota, portões, impacto e estado",
                    json!({"200": object_answer("A versão"), "404": error_answer("Não há esta versão")}),
                )
            },
        ),
        op(
            "GET",
            "/v1/releases/{version}/diff/{other}",
            Needs(Role::Dono),
            || get(releases::diff),
            || {
                summary(
                    "O que mudou de uma versão para outra, em palavras: regras novas e removidas, condições, textos e valores",
                    json!({"200": object_answer("As mudanças, uma por linha"), "404": error_answer("Não há uma das versões")}),
                )
            },
        ),
    ]
}

/// Publishing, approving and going back to a release.
fn changing_releases() -> Vec<Operation> {
    vec![
        op(
            "POST",
            "/v1/releases",
            Needs(Role::Dono),
            || post(releases::publish).layer(axum::extract::DefaultBodyLimit::max(Weight::Publication.body_bytes())),
            || {
                with_body(
                    "Publica um pacote enviado arquivo por arquivo (`{\"note\": ..., \"files\": {\"bundle.yaml\": ...}}`), pelos mesmos portões de `roteiro publish`",
                    json!({"required": true, "content": {"application/json": {"schema": {"type": "object"}}}}),
                    json!({
                        "201": object_answer("A versão guardada (proposta, quando o pacote pede aprovação)"),
                        "409": error_answer("Nada mudou em relação à versão ativa"),
                        "413": error_answer("Pacote acima de 8 MiB"),
                        "422": object_answer("Um portão falhou: cada portão com o que falhou; nada foi guardado"),
                    }),
                )
            },
        )
        .publishing(),
        op(
            "POST",
            "/v1/releases/{version}/approve",
            Needs(Role::Dono),
            || post(releases::approve),
            || {
                with_body(
                    "Aprova a versão proposta por outra pessoa; ela passa a ser a ativa",
                    note_body(false),
                    release_change(),
                )
            },
        ),
        op(
            "POST",
            "/v1/releases/{version}/activate",
            Needs(Role::Dono),
            || post(releases::activate),
            || {
                with_body(
                    "Volta a uma versão anterior, dizendo por quê (fica registrado)",
                    note_body(true),
                    release_change(),
                )
            },
        ),
    ]
}

/// The log, the tokens and the metrics: admins.
fn admins() -> Vec<Operation> {
    vec![
        op(
            "GET",
            "/v1/stats",
            Needs(Role::Admin),
            || get(status::stats),
            || {
                summary(
                    "Números do log de decisões (`?since=AAAA-MM-DD`)",
                    json!({"200": object_answer("Os números de `roteiro stats`")}),
                )
            },
        ),
        op(
            "GET",
            "/v1/log/export",
            Needs(Role::Admin),
            || get(admin::export),
            || {
                summary(
                "Situações do log (`?since=AAAA-MM-DD`); fatos pessoais mascarados, ou com `personal=true` marcados no cabeçalho X-Dados-Pessoais",
                json!({"200": array_answer("As situações, cada uma com o momento da decisão")}),
            )
            },
        ),
        op(
            "GET",
            "/v1/tokens",
            Needs(Role::Admin),
            || get(admin::list),
            || {
                summary(
                    "Os tokens de acesso, nunca o segredo",
                    json!({"200": array_answer("Os tokens")}),
                )
            },
        ),
        op(
            "POST",
            "/v1/tokens",
            Needs(Role::Admin),
            || post(admin::create),
            || {
                summary(
                    "Cria um token: `{\"name\": \"...\", \"role\": \"analista\"}`; o segredo aparece só nesta resposta",
                    json!({"201": object_answer("O token criado")}),
                )
            },
        ),
        op(
            "POST",
            "/v1/tokens/{id}/revoke",
            Needs(Role::Admin),
            || post(admin::revoke),
            || {
                summary(
                    "Revoga um token pelo id ou nome",
                    json!({"200": object_answer("O token revogado")}),
                )
            },
        ),
        op(
            "GET",
            "/metrics",
            Needs(Role::Admin),
            || get(status::metrics),
            || {
                summary(
                    "Métricas no formato do Prometheus",
                    json!({"200": plain("Texto do Prometheus", "text/plain")}),
                )
            },
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_operation_is_declared_twice() {
        let mut seen = std::collections::BTreeSet::new();
        for op in OPERATIONS.iter() {
            assert!(seen.insert((op.method, op.path)), "{} {} twice", op.method, op.path);
        }
    }
}
