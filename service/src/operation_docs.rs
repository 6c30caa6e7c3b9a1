//! The OpenAPI words of the operations (`operations.rs`): their answers,
//! bodies and summaries, written once and shared by the table's entries.

use serde_json::{json, Value};

pub fn reference(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

pub fn answer(description: &str, schema: Value) -> Value {
    json!({"description": description, "content": {"application/json": {"schema": schema}}})
}

pub fn object_answer(description: &str) -> Value {
    answer(description, json!({"type": "object"}))
}

pub fn array_answer(description: &str) -> Value {
    answer(description, json!({"type": "array"}))
}

pub fn error_answer(description: &str) -> Value {
    answer(description, reference("Error"))
}

pub fn plain(description: &str, media: &str) -> Value {
    json!({"description": description, "content": {media: {"schema": {"type": "string"}}}})
}

/// A situation in the body; required unless the operation takes none.
pub fn situation_body(required: bool) -> Value {
    let mut body = json!({"content": {"application/json": {"schema": reference("Situation")}}});
    if required {
        body["required"] = json!(true);
    }
    body
}

/// A decision's answers: the document, or why not.
pub fn decided(ok: Value) -> Value {
    json!({
        "200": ok,
        "400": error_answer("Situação malformada (JSON/YAML quebrado, linha e coluna)"),
        "413": error_answer("Corpo acima de 64 KiB"),
        "422": error_answer("Situação que não cabe no vocabulário (campo, encontrado, permitido)"),
        "500": error_answer("Regra do pacote com defeito"),
    })
}

/// A case's answers, the case itself under `status`.
pub fn case_answers(status: &str) -> Value {
    let mut answers = json!({
        "400": {"description": "Número de ticket ou corpo inválido"},
        "404": {"description": "Não há caso para o ticket"},
        "409": {"description": "O caso já existe, está encerrado, ou mudou desde a versão respondida"},
    });
    answers[status] = object_answer("O caso, a decisão de agora e as pendências abertas");
    answers
}

pub fn summary(text: &str, responses: Value) -> Value {
    json!({"summary": text, "responses": responses})
}

pub fn with_body(text: &str, body: Value, responses: Value) -> Value {
    json!({"summary": text, "requestBody": body, "responses": responses})
}

/// A note in the body: why a release is approved or made active again.
pub fn note_body(required: bool) -> Value {
    json!({
        "required": required,
        "content": {"application/json": {"schema": {
            "type": "object",
            "properties": {"note": {"type": "string", "description": "Por quê (fica no histórico)"}},
        }}},
    })
}

/// The answers of a change to a release.
pub fn release_change() -> Value {
    json!({
        "200": object_answer("A versão, com o seu estado"),
        "400": error_answer("Falta dizer por quê (`note`)"),
        "403": error_answer("Ninguém aprova a própria versão"),
        "404": error_answer("Não há esta versão"),
        "409": error_answer("A versão não está esperando aprovação, ainda espera aprovação ou já é a ativa"),
    })
}
