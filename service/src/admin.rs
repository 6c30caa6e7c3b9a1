//! What only an admin may do over HTTP: manage tokens and export the
//! log's situations (personal facts masked unless asked, and then marked).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::Response;
use roteiro_auth::{Role, TokenError, Tokens};
use serde_json::{json, Value};

use crate::desk::Desk;
use crate::guard::Guard;
use crate::params::{self, Params};
use crate::reply::{self, ApiError};

/// The header an export with personal facts carries.
pub const PERSONAL_HEADER: &str = "x-dados-pessoais";

fn token_error(err: TokenError) -> ApiError {
    let status = match err {
        TokenError::Name(_) => StatusCode::BAD_REQUEST,
        TokenError::Duplicate(_) => StatusCode::CONFLICT,
        TokenError::NotFound(_) => StatusCode::NOT_FOUND,
        TokenError::Database(_) | TokenError::Random(_) => StatusCode::SERVICE_UNAVAILABLE,
    };
    ApiError::with_status(status, err.to_string())
}

/// Runs `job` on the tokens of the service's database, then rereads the
/// keyring so the change holds at once.
async fn on_tokens<T: Send + 'static>(
    desk: Arc<Desk>,
    guard: Arc<Guard>,
    job: impl FnOnce(&mut Tokens) -> Result<T, TokenError> + Send + 'static,
) -> Result<T, ApiError> {
    let pool = desk
        .pool()
        .ok_or_else(|| ApiError::unavailable("o serviço está sem banco de dados".into()))?;
    tokio::task::spawn_blocking(move || {
        let result = pool.take().map_err(TokenError::from).and_then(|mut tokens: Tokens| {
            let done = job(&mut tokens);
            if done.is_ok() {
                pool.give(tokens);
            }
            done
        });
        guard.refresh();
        result
    })
    .await
    .map_err(|err| ApiError::internal(err.to_string()))?
    .map_err(token_error)
}

/// `GET /v1/tokens`: every token, never a secret.
pub async fn list(State(desk): State<Arc<Desk>>, State(guard): State<Arc<Guard>>) -> Result<Response, ApiError> {
    let listed = on_tokens(desk, guard, |tokens| tokens.list()).await?;
    Ok(reply::json(StatusCode::OK, &listed))
}

/// `POST /v1/tokens` `{"name": "...", "role": "analista"}`: the new token,
/// shown this once.
pub async fn create(
    State(desk): State<Arc<Desk>>,
    State(guard): State<Arc<Guard>>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let given: Value = serde_json::from_slice(&body).map_err(|err| ApiError::unreadable(err.to_string()))?;
    let name = given.get("name").and_then(Value::as_str).unwrap_or("").to_string();
    let role_text = given.get("role").and_then(Value::as_str).unwrap_or("");
    let role: Role = role_text
        .parse()
        .map_err(|_| ApiError::bad_parameter("role", role_text, "analista, dono ou admin"))?;
    let (info, whole) = on_tokens(desk, guard, move |tokens| {
        tokens.create(&name, role, chrono::Utc::now())
    })
    .await?;
    Ok(reply::json(StatusCode::CREATED, &json!({"token": whole, "info": info})))
}

/// `POST /v1/tokens/{id}/revoke`.
pub async fn revoke(
    State(desk): State<Arc<Desk>>,
    State(guard): State<Arc<Guard>>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let revoked = on_tokens(desk, guard, move |tokens| tokens.revoke(&id, chrono::Utc::now())).await?;
    Ok(reply::json(StatusCode::OK, &revoked))
}

/// `GET /v1/log/export?since=AAAA-MM-DD&personal=true`: the logged
/// situations with the moment each was decided as of. Personal facts are
/// masked with the bundle in force unless `personal=true`, and then the
/// answer says so in a header.
pub async fn export(State(desk): State<Arc<Desk>>, Query(query): Params) -> Result<Response, ApiError> {
    let since = params::since(&query)?;
    let personal = query.get("personal").is_some_and(|value| value == "true");
    let served = desk.served();
    let reader = desk.clone();
    let records = tokio::task::spawn_blocking(move || {
        reader.read_log(&roteiro_decision_log::Filter {
            since,
            ..Default::default()
        })
    })
    .await
    .map_err(|err| ApiError::internal(err.to_string()))?
    .map_err(|err| ApiError::unavailable(err.to_string()))?;
    let exported: Vec<Value> = records
        .iter()
        .map(|record| {
            let situation = if personal {
                record.situation.clone()
            } else {
                masked(&served.bundle, &record.situation)
            };
            json!({"id": record.id, "decided_as_of": record.decided_as_of, "situation": situation})
        })
        .collect();
    let mut response = reply::json(StatusCode::OK, &exported);
    if personal {
        response.headers_mut().insert(
            PERSONAL_HEADER,
            HeaderValue::from_static("contem fatos pessoais (LGPD): guarde e apague conforme a politica de retencao"),
        );
    }
    Ok(response)
}

/// The situation with its personal facts masked by `bundle`'s vocabulary;
/// one it cannot read any more is left out rather than shown unmasked.
fn masked(bundle: &roteiro_engine::Bundle, situation: &Value) -> Value {
    bundle
        .parse_situation(situation.to_string(), "log")
        .ok()
        .and_then(|parsed| serde_json::from_str(&bundle.situation_json(&parsed, false)).ok())
        .unwrap_or(Value::Null)
}
