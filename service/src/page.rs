//! The analysts' page: its HTML, script and style, embedded in the
//! binary (no build step), served as they are.

use axum::http::header;
use axum::response::{Html, IntoResponse, Response};

const PAGE: &str = include_str!("page/index.html");
const SCRIPT: &str = include_str!("page/app.js");
const STYLE: &str = include_str!("page/style.css");

/// `GET /`.
pub async fn index() -> Response {
    Html(PAGE).into_response()
}

/// `GET /app.js`.
pub async fn script() -> Response {
    ([(header::CONTENT_TYPE, "text/javascript")], SCRIPT).into_response()
}

/// `GET /style.css`.
pub async fn style() -> Response {
    ([(header::CONTENT_TYPE, "text/css")], STYLE).into_response()
}
