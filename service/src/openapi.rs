//! `/openapi.json`: an OpenAPI 3.1 document assembled from the JSON Schemas
//! the engine already generates from its Rust types (the decision) and from
//! the bundle's vocabulary (the situation). OpenAPI 3.1 takes JSON Schema
//! 2020-12 as it is, so the document cannot drift from the code, and no
//! second derive (utoipa) has to be kept beside schemars.

use roteiro_engine::{type_schemas, Bundle};
use serde_json::{json, Map, Value};

use crate::access::{Access, ROUTES};
use crate::reply::ErrorBody;

/// Moves a schema's `$defs` into `components/schemas` and points its
/// references there.
fn hoist(name: &str, mut schema: Value, components: &mut Map<String, Value>) {
    if let Value::Object(map) = &mut schema {
        map.remove("$schema");
        if let Some(Value::Object(defs)) = map.remove("$defs") {
            for (def, value) in defs {
                components.insert(def, pointed(&value));
            }
        }
    }
    components.insert(name.to_string(), pointed(&schema));
}

/// The schema with its `#/$defs/` references pointing into components.
fn pointed(schema: &Value) -> Value {
    let text = schema.to_string().replace("#/$defs/", "#/components/schemas/");
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

/// A path's parameters (`{ticket}`, `{id}`), declared as the router reads
/// them.
fn path_parameters(path: &str) -> Value {
    let parameters: Vec<Value> = path
        .split('/')
        .filter_map(|segment| segment.strip_prefix('{')?.strip_suffix('}'))
        .map(|name| {
            let schema = match name {
                "ticket" => json!({"type": "string", "pattern": "^[0-9]{1,20}$"}),
                _ => json!({"type": "string"}),
            };
            json!({"name": name, "in": "path", "required": true, "schema": schema})
        })
        .collect();
    Value::Array(parameters)
}

/// The whole document for the bundle being served, each operation
/// marked with the role it needs (`x-papel`) from the routes' table, with
/// its path parameters and an error answer for every status it does not
/// name (a 400, 404, 405, 408, 413, 415, 429 or 503 body is an `Error`).
pub fn document(bundle: &Bundle) -> Value {
    let mut document = operations(bundle);
    let error = json!({"description": "Erro em português: o campo, o que veio e o que é permitido", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}});
    for (method, path, access) in ROUTES {
        let Some(operation) = document
            .pointer_mut(&format!(
                "/paths/{}/{}",
                path.replace('~', "~0").replace('/', "~1"),
                method.to_lowercase()
            ))
            .and_then(Value::as_object_mut)
        else {
            continue;
        };
        let parameters = path_parameters(path);
        if parameters.as_array().is_some_and(|list| !list.is_empty()) {
            operation.insert("parameters".into(), parameters);
        }
        if let Some(Value::Object(responses)) = operation.get_mut("responses") {
            responses.insert("default".into(), error.clone());
        }
        match access {
            Access::Public => {
                operation.insert("x-papel".into(), json!("público"));
                operation.insert("security".into(), json!([]));
            }
            Access::Needs(role) => {
                operation.insert("x-papel".into(), json!(role.name()));
                operation.insert("security".into(), json!([{"token": []}, {"sessao": []}]));
                if let Some(Value::Object(responses)) = operation.get_mut("responses") {
                    responses.insert("401".into(), json!({"description": "Sem token ou sessão válidos"}));
                    responses.insert(
                        "403".into(),
                        json!({"description": format!("Pede o papel `{role}` ou acima")}),
                    );
                    responses.insert(
                        "429".into(),
                        json!({"description": "Requisições demais; veja Retry-After"}),
                    );
                }
            }
        }
    }
    document
}

/// The operations, as written for each route.
fn operations(bundle: &Bundle) -> Value {
    let mut components = Map::new();
    hoist("Situation", bundle.situation_schema(), &mut components);
    if let Some((_, decision)) = type_schemas().into_iter().find(|(name, _)| *name == "decision") {
        hoist("Decision", decision, &mut components);
    }
    let error = serde_json::to_value(schemars::schema_for!(ErrorBody)).unwrap_or(Value::Null);
    hoist("Error", error, &mut components);
    let info = bundle.info();
    let reference = |name: &str| json!({"$ref": format!("#/components/schemas/{name}")});
    let json_body = |name: &str| json!({"content": {"application/json": {"schema": reference(name)}}});
    let error_response = |description: &str| json!({"description": description, "content": {"application/json": {"schema": reference("Error")}}});
    let situation_in = json!({"required": true, "content": {"application/json": {"schema": reference("Situation")}}});
    let errors = json!({
        "400": error_response("Situação malformada (JSON/YAML quebrado, linha e coluna)"),
        "413": error_response("Corpo acima de 64 KiB"),
        "422": error_response("Situação que não cabe no vocabulário (campo, encontrado, permitido)"),
        "500": error_response("Regra do pacote com defeito"),
    });
    let with_errors = |ok: Value| {
        let mut responses = Map::new();
        responses.insert("200".into(), ok);
        if let Value::Object(errors) = errors.clone() {
            responses.extend(errors);
        }
        Value::Object(responses)
    };
    let case_responses = json!({
        "200": {"description": "O caso, a decisão de agora e as pendências abertas", "content": {"application/json": {"schema": {"type": "object"}}}},
        "400": {"description": "Número de ticket ou corpo inválido"},
        "404": {"description": "Não há caso para o ticket"},
        "409": {"description": "O caso já existe, está encerrado, ou mudou desde a versão respondida"},
    });
    let mut opened_responses = case_responses.clone();
    if let Some(responses) = opened_responses.as_object_mut() {
        if let Some(case) = responses.remove("200") {
            responses.insert("201".into(), case);
        }
    }
    let object_answer = |description: &str| json!({"description": description, "content": {"application/json": {"schema": {"type": "object"}}}});
    let array_answer = |description: &str| json!({"description": description, "content": {"application/json": {"schema": {"type": "array"}}}});
    let situation_in_case = json!({"content": {"application/json": {"schema": reference("Situation")}}});
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "roteiro",
            "description": "Decisões de atendimento a partir dos procedimentos da empresa.",
            "version": format!("{} {}", info.name, info.version),
        },
        "paths": {
            "/v1/decide": {"post": {
                "summary": "Decide os próximos passos para uma situação",
                "requestBody": situation_in.clone(),
                "responses": with_errors(json!({"description": "A decisão, igual a `roteiro decide --format json`", "content": json_body("Decision")["content"].clone()})),
            }},
            "/v1/explain": {"post": {
                "summary": "Explica a decisão regra a regra",
                "requestBody": situation_in,
                "responses": with_errors(json!({"description": "A explicação", "content": {"application/json": {"schema": {"type": "object"}}}})),
            }},
            "/v1/vocabulary": {"get": {"summary": "Fatos, tipos, valores, perguntas e padrões", "responses": {"200": {"description": "O vocabulário", "content": {"application/json": {"schema": {"type": "object"}}}}}}},
            "/v1/bundle": {"get": {"summary": "Nome, versão, digest, regras e quando foi carregado", "responses": {"200": {"description": "O pacote em uso", "content": {"application/json": {"schema": {"type": "object"}}}}}}},
            "/v1/cases": {"get": {
                "summary": "Pendências abertas de todos os casos, a mais próxima primeiro (`?due=true&team=io&now=...`)",
                "responses": {"200": {"description": "As pendências, cada uma com `overdue`", "content": {"application/json": {"schema": {"type": "array"}}}}},
            }},
            "/v1/cases/{ticket}": {
                "get": {"summary": "O caso do ticket, decidido de novo com o pacote em uso (`?now=`)", "responses": case_responses.clone()},
                "post": {"summary": "Abre o caso do ticket; o corpo é a situação inicial", "requestBody": situation_in_case.clone(), "responses": opened_responses},
            },
            "/v1/cases/{ticket}/answers": {"post": {
                "summary": "Responde fatos do caso: `{\"answers\": {\"fato\": valor}, \"version\": N}`; 409 se o caso mudou",
                "responses": case_responses.clone(),
            }},
            "/v1/cases/{ticket}/close": {"post": {
                "summary": "Encerra o caso, ou uma pendência dele: `{\"reason\": \"...\", \"follow_up\": \"id\"}`",
                "responses": case_responses,
            }},
            "/v1/cases/{ticket}/push": {
                "get": {"summary": "Prévia exata da ação que o caso escreveria no ticket do helpdesk (`?public=true`)", "responses": {"200": object_answer("O texto, com o marcador no fim"), "503": {"description": "Sem helpdesk configurado"}}},
                "post": {"summary": "Envia a ação da prévia mostrada: `{\"marker\": \"...\"}`; fica na fila até o helpdesk aceitar; 409 se o caso mudou desde a prévia", "responses": {"202": object_answer("O envio, na fila")}},
            },
            "/v1/cases/{ticket}/pushes": {"get": {"summary": "Os envios do ticket ao helpdesk: fila, feito (com o id da ação) ou falhou", "responses": {"200": array_answer("Os envios")}}},
            "/healthz": {"get": {"summary": "Saúde: o pacote em uso e a última edição recusada, arquivo e linha", "responses": {"200": {"description": "Servindo um pacote válido", "content": {"application/json": {"schema": {"type": "object"}}}}}}},
            "/v1/diff": {"get": {"summary": "Decide de novo as situações do log (as últimas 5.000, `?since=AAAA-MM-DD`) com o pacote em uso e diz quais saídas mudaram", "responses": {"200": object_answer("Comparadas, iguais, mudaram e as mudanças (até 100)")}}},
            "/v1/stats": {"get": {"summary": "Números do log de decisões (`?since=AAAA-MM-DD`)", "responses": {"200": object_answer("Os números de `roteiro stats`")}}},
            "/v1/log/export": {"get": {"summary": "Situações do log (`?since=AAAA-MM-DD`); fatos pessoais mascarados, ou com `personal=true` marcados no cabeçalho X-Dados-Pessoais", "responses": {"200": array_answer("As situações, cada uma com o momento da decisão")}}},
            "/v1/tokens": {
                "get": {"summary": "Os tokens de acesso, nunca o segredo", "responses": {"200": array_answer("Os tokens")}},
                "post": {"summary": "Cria um token: `{\"name\": \"...\", \"role\": \"analista\"}`; o segredo aparece só nesta resposta", "responses": {"201": object_answer("O token criado")}},
            },
            "/v1/tokens/{id}/revoke": {"post": {"summary": "Revoga um token pelo id ou nome", "responses": {"200": object_answer("O token revogado")}}},
            "/v1/login": {"post": {"summary": "Entra com um token: `{\"token\": \"rot_...\"}`; abre a sessão da página num cookie HttpOnly", "responses": {"200": object_answer("Quem entrou, o papel e o código anti-CSRF"), "401": {"description": "Token desconhecido ou revogado"}, "429": {"description": "Tentativas demais deste endereço"}}}},
            "/v1/session": {"get": {"summary": "Quem está na sessão do cookie", "responses": {"200": object_answer("Quem, o papel e o código anti-CSRF"), "401": {"description": "Sem sessão"}}}},
            "/v1/logout": {"post": {"summary": "Sai: encerra a sessão e apaga o cookie", "responses": {"204": {"description": "Sessão encerrada"}}}},
            "/app.js": {"get": {"summary": "O script da página", "responses": {"200": {"description": "JavaScript"}}}},
            "/style.css": {"get": {"summary": "O estilo da página", "responses": {"200": {"description": "CSS"}}}},
            "/openapi.json": {"get": {"summary": "Este documento", "responses": {"200": object_answer("OpenAPI 3.1")}}},
            "/metrics": {"get": {"summary": "Métricas no formato do Prometheus", "responses": {"200": {"description": "Texto do Prometheus", "content": {"text/plain": {"schema": {"type": "string"}}}}}}},
            "/": {"get": {"summary": "A página dos analistas", "responses": {"200": {"description": "HTML", "content": {"text/html": {"schema": {"type": "string"}}}}}}},
        },
        "components": {
            "schemas": Value::Object(components),
            "securitySchemes": {
                "token": {"type": "http", "scheme": "bearer", "description": "Token de `roteiro token create`"},
                "sessao": {"type": "apiKey", "in": "cookie", "name": crate::access::SESSION_COOKIE, "description": "Sessão da página (POST /v1/login); mudanças repetem o código anti-CSRF em X-CSRF-Token"},
            },
        },
    })
}
