//! Answers: JSON bodies, and errors in Portuguese with the field, what was
//! found and what is allowed, like the command line's.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use roteiro_engine::{RuleError, SituationError};
use serde::Serialize;

/// Most characters of a bad parameter echoed in its error.
const MAX_ECHOED: usize = 64;

/// A JSON answer, pretty-printed with a final newline: byte for byte what
/// `roteiro decide --format json` prints.
pub fn json<T: Serialize>(status: StatusCode, value: &T) -> Response {
    match serde_json::to_string_pretty(value) {
        Ok(text) => (status, [(header::CONTENT_TYPE, "application/json")], text + "\n").into_response(),
        Err(err) => ApiError::internal(format!("não foi possível escrever a resposta: {err}")).into_response(),
    }
}

/// An error body.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct ErrorBody {
    /// The whole message, as the command line prints it.
    pub error: String,
    /// The field at fault, dotted (`client.plan`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// What was found there.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub found: Option<String>,
    /// What is allowed there.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allowed: Option<String>,
    /// Line in the body.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    /// Column in the body.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<usize>,
}

/// An error with its HTTP status.
#[derive(Debug, Clone)]
pub struct ApiError {
    status: StatusCode,
    body: ErrorBody,
    /// Seconds to wait before asking again (429).
    retry_after: Option<u64>,
}

impl ApiError {
    fn plain(status: StatusCode, message: String) -> Self {
        Self {
            status,
            body: ErrorBody {
                error: message,
                field: None,
                found: None,
                allowed: None,
                line: None,
                column: None,
            },
            retry_after: None,
        }
    }

    /// No identity presented, or one that is not known (401).
    pub fn unauthorized(message: &str) -> Self {
        Self::plain(StatusCode::UNAUTHORIZED, format!("não autenticado: {message}"))
    }

    /// An identity that may not do this (403).
    pub fn forbidden(message: &str) -> Self {
        Self::plain(StatusCode::FORBIDDEN, format!("não permitido: {message}"))
    }

    /// A budget is spent (429); `seconds` to wait, said in the body and in
    /// `Retry-After`.
    pub fn too_many(seconds: u64, whose: &str) -> Self {
        let mut error = Self::plain(
            StatusCode::TOO_MANY_REQUESTS,
            format!("requisições demais para {whose}; tente de novo em {seconds} s"),
        );
        error.retry_after = Some(seconds);
        error
    }

    /// The body did not arrive in time (408).
    pub fn slow_client() -> Self {
        Self::plain(
            StatusCode::REQUEST_TIMEOUT,
            "o corpo da requisição não chegou a tempo".into(),
        )
    }

    /// The situation is malformed (400) or does not fit the vocabulary (422).
    pub fn situation(err: &SituationError) -> Self {
        let status = if err.field.is_some() {
            StatusCode::UNPROCESSABLE_ENTITY
        } else {
            StatusCode::BAD_REQUEST
        };
        Self {
            status,
            body: ErrorBody {
                error: err.to_string(),
                field: err.field.clone(),
                found: err.found.clone(),
                allowed: err.allowed.clone(),
                line: err.location.line,
                column: err.location.column,
            },
            retry_after: None,
        }
    }

    /// A rule failed: the bundle's fault, not the request's.
    pub fn rule(err: &RuleError) -> Self {
        Self::plain(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("pacote de políticas inválido: {err}"),
        )
    }

    /// The body is over `limit` bytes.
    pub fn too_large(limit: usize) -> Self {
        Self::plain(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("corpo grande demais: o limite é {limit} bytes"),
        )
    }

    /// The body could not be read.
    pub fn unreadable(message: String) -> Self {
        Self::plain(
            StatusCode::BAD_REQUEST,
            format!("não foi possível ler o corpo: {message}"),
        )
    }

    /// A body of a type the route does not read (415).
    pub fn unsupported_media(wanted: &str) -> Self {
        Self::plain(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("tipo de corpo não aceito; envie Content-Type: {wanted}"),
        )
    }

    /// A method the route does not have (405).
    pub fn method_not_allowed(allowed: &str) -> Self {
        Self::plain(
            StatusCode::METHOD_NOT_ALLOWED,
            format!("método não aceito nesta rota; aceitos: {allowed}"),
        )
    }

    /// No route for `path`.
    /// No such route.
    pub fn not_found(path: &str) -> Self {
        Self::plain(
            StatusCode::NOT_FOUND,
            format!("rota desconhecida `{path}`; veja /openapi.json para as rotas do serviço"),
        )
    }

    /// The request ran out of its time budget.
    pub fn timeout() -> Self {
        Self::plain(
            StatusCode::SERVICE_UNAVAILABLE,
            "a decisão passou do tempo limite da requisição".into(),
        )
    }

    /// A query parameter is malformed.
    pub fn bad_parameter(name: &str, found: &str, allowed: &str) -> Self {
        let mut error = Self::plain(StatusCode::BAD_REQUEST, format!("parâmetro `{name}` inválido"));
        error.body.field = Some(name.to_string());
        // Bounded: a parameter is echoed so the caller sees its mistake,
        // never at a length that would carry a body back.
        let shown: String = found.chars().take(MAX_ECHOED).collect();
        let cut = if found.chars().count() > MAX_ECHOED { "…" } else { "" };
        error.body.found = Some(format!("`{shown}{cut}`"));
        error.body.allowed = Some(allowed.to_string());
        error
    }

    /// Something the service depends on is not there now (503).
    pub fn unavailable(message: String) -> Self {
        Self::plain(StatusCode::SERVICE_UNAVAILABLE, message)
    }

    /// A plain message with its status (cases: 404, 409...).
    pub fn with_status(status: StatusCode, message: String) -> Self {
        Self::plain(status, message)
    }

    /// Something of the service itself failed.
    pub fn internal(message: String) -> Self {
        Self::plain(StatusCode::INTERNAL_SERVER_ERROR, message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = match serde_json::to_string_pretty(&self.body) {
            Ok(text) => (self.status, [(header::CONTENT_TYPE, "application/json")], text + "\n").into_response(),
            Err(_) => self.status.into_response(),
        };
        let headers = response.headers_mut();
        if let Some(seconds) = self.retry_after {
            headers.insert(header::RETRY_AFTER, header::HeaderValue::from(seconds));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            headers.insert(header::WWW_AUTHENTICATE, header::HeaderValue::from_static("Bearer"));
        }
        response
    }
}
