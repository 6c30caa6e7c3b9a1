//! The headers every answer carries, so a browser holds the page to what
//! it is: a strict Content-Security-Policy (scripts and styles from this
//! service only, nothing inline; no frame may embed it), no MIME sniffing,
//! no referrer sent elsewhere, API answers never stored by a cache, and
//! HSTS when the service speaks TLS.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;

use crate::guard::Guard;

/// The page loads its scripts and `/style.css`, talks to `/v1` and sets
/// widths through the CSSOM (which CSP allows); nothing else.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; connect-src 'self'; font-src 'self'; form-action 'self'; \
     frame-ancestors 'none'; base-uri 'none'";

/// A year, the usual HSTS lifetime.
const STRICT_TRANSPORT_SECURITY: &str = "max-age=31536000";

/// Adds the headers to whatever the inner layers answered.
pub async fn secure(State(guard): State<Arc<Guard>>, request: Request, next: Next) -> Response {
    // The page's own files: revalidated, never served stale after an
    // upgrade.
    let page_file = crate::page::is_page_file(request.uri().path());
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    let mut set = |name: HeaderName, value: &'static str| {
        headers.insert(name, HeaderValue::from_static(value));
    };
    set(header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY);
    set(header::X_FRAME_OPTIONS, "DENY");
    set(header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(header::REFERRER_POLICY, "no-referrer");
    set(header::CACHE_CONTROL, if page_file { "no-cache" } else { "no-store" });
    if guard.secure_cookies {
        set(header::STRICT_TRANSPORT_SECURITY, STRICT_TRANSPORT_SECURITY);
    }
    response
}
