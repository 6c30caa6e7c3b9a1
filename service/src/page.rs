//! The analysts' page: its HTML, scripts and style, embedded in the
//! binary (no build step), served as they are.

use axum::http::{header, Uri};
use axum::response::{IntoResponse, Response};

/// One file of the page.
pub struct PageFile {
    /// Where it is served.
    pub path: &'static str,
    content_type: &'static str,
    text: &'static str,
}

/// Every file of the page. The scripts are plain scripts sharing one
/// scope, loaded in the order index.html names them.
pub const FILES: [PageFile; 5] = [
    PageFile {
        path: "/",
        content_type: "text/html; charset=utf-8",
        text: include_str!("page/index.html"),
    },
    // The zone, the dates and "agora".
    PageFile {
        path: "/relogio.js",
        content_type: "text/javascript",
        text: include_str!("page/relogio.js"),
    },
    // The "Versões" view.
    PageFile {
        path: "/versoes.js",
        content_type: "text/javascript",
        text: include_str!("page/versoes.js"),
    },
    PageFile {
        path: "/app.js",
        content_type: "text/javascript",
        text: include_str!("page/app.js"),
    },
    PageFile {
        path: "/style.css",
        content_type: "text/css",
        text: include_str!("page/style.css"),
    },
];

/// Whether `path` is one of the page's files.
pub fn is_page_file(path: &str) -> bool {
    FILES.iter().any(|file| file.path == path)
}

/// `GET` of a page file, by its path.
pub async fn file(uri: Uri) -> Response {
    match FILES.iter().find(|file| file.path == uri.path()) {
        Some(file) => ([(header::CONTENT_TYPE, file.content_type)], file.text).into_response(),
        None => axum::http::StatusCode::NOT_FOUND.into_response(),
    }
}
