//! `/openapi.json`: an OpenAPI 3.1 document assembled from the JSON Schemas
//! the engine already generates from its Rust types (the decision) and from
//! the bundle's vocabulary (the situation). OpenAPI 3.1 takes JSON Schema
//! 2020-12 as it is, so the document cannot drift from the code, and no
//! second derive (utoipa) has to be kept beside schemars.

use roteiro_engine::{type_schemas, Bundle};
use serde_json::{json, Map, Value};

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

/// The whole document for the bundle being served.
pub fn document(bundle: &Bundle) -> Value {
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
                "post": {"summary": "Abre o caso do ticket; o corpo é a situação inicial", "requestBody": situation_in_case.clone(), "responses": case_responses.clone()},
            },
            "/v1/cases/{ticket}/answers": {"post": {
                "summary": "Responde fatos do caso: `{\"answers\": {\"fato\": valor}, \"version\": N}`; 409 se o caso mudou",
                "responses": case_responses.clone(),
            }},
            "/v1/cases/{ticket}/close": {"post": {
                "summary": "Encerra o caso, ou uma pendência dele: `{\"reason\": \"...\", \"follow_up\": \"id\"}`",
                "responses": case_responses,
            }},
            "/healthz": {"get": {"summary": "Saúde; conta uma recarga recusada", "responses": {"200": {"description": "Servindo um pacote válido", "content": {"application/json": {"schema": {"type": "object"}}}}}}},
            "/metrics": {"get": {"summary": "Métricas no formato do Prometheus", "responses": {"200": {"description": "Texto do Prometheus", "content": {"text/plain": {"schema": {"type": "string"}}}}}}},
            "/": {"get": {"summary": "A página dos analistas", "responses": {"200": {"description": "HTML", "content": {"text/html": {"schema": {"type": "string"}}}}}}},
        },
        "components": {"schemas": Value::Object(components)},
    })
}
