//! `/openapi.json`: an OpenAPI 3.1 document assembled from the JSON Schemas
//! the engine already generates from its Rust types (the decision) and from
//! the bundle's vocabulary (the situation). OpenAPI 3.1 takes JSON Schema
//! 2020-12 as it is, so the document cannot drift from the code, and no
//! second derive (utoipa) has to be kept beside schemars.

use roteiro_engine::{type_schemas, Bundle};
use serde_json::{json, Map, Value};

use crate::operations::{Access, OPERATIONS};
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

/// The whole document for the bundle being served: every declared
/// operation with its description, its path parameters, the role it needs
/// (`x-papel`, `security`) and an error answer for every status it does not
/// name (a 400, 404, 405, 408, 413, 415, 429 or 503 body is an `Error`).
pub fn document(bundle: &Bundle) -> Value {
    let error = json!({"description": "Erro em português: o campo, o que veio e o que é permitido", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}});
    let mut paths = Map::new();
    for op in OPERATIONS.iter() {
        let mut operation = (op.doc)();
        let Some(fields) = operation.as_object_mut() else {
            continue;
        };
        let parameters = path_parameters(op.path);
        if parameters.as_array().is_some_and(|list| !list.is_empty()) {
            fields.insert("parameters".into(), parameters);
        }
        let responses = fields.entry("responses").or_insert_with(|| json!({}));
        if let Some(responses) = responses.as_object_mut() {
            responses.insert("default".into(), error.clone());
            if let Access::Needs(role) = op.access {
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
        match op.access {
            Access::Public => {
                fields.insert("x-papel".into(), json!("público"));
                fields.insert("security".into(), json!([]));
            }
            Access::Needs(role) => {
                fields.insert("x-papel".into(), json!(role.name()));
                fields.insert("security".into(), json!([{"token": []}, {"sessao": []}]));
            }
        }
        let entry = paths.entry(op.path).or_insert_with(|| json!({}));
        entry[op.method.to_lowercase()] = operation;
    }
    let info = bundle.info();
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "roteiro",
            "description": "Decisões de atendimento a partir dos procedimentos da empresa.",
            "version": format!("{} {}", info.name, info.version),
        },
        "paths": Value::Object(paths),
        "components": {
            "schemas": Value::Object(components(bundle)),
            "securitySchemes": {
                "token": {"type": "http", "scheme": "bearer", "description": "Token de `roteiro token create`"},
                "sessao": {"type": "apiKey", "in": "cookie", "name": crate::guard::SESSION_COOKIE, "description": "Sessão da página (POST /v1/login); mudanças repetem o código anti-CSRF em X-CSRF-Token"},
            },
        },
    })
}

/// The schemas the operations point at: the situation (from the bundle's
/// vocabulary), the decision (from the engine's types), the error.
fn components(bundle: &Bundle) -> Map<String, Value> {
    let mut components = Map::new();
    hoist("Situation", bundle.situation_schema(), &mut components);
    if let Some((_, decision)) = type_schemas().into_iter().find(|(name, _)| *name == "decision") {
        hoist("Decision", decision, &mut components);
    }
    let error = serde_json::to_value(schemars::schema_for!(ErrorBody)).unwrap_or(Value::Null);
    hoist("Error", error, &mut components);
    components
}
