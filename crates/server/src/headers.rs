//! Security headers on every answer, set only where a handler has not set its own
//! (tower-http's `SetResponseHeaderLayer::if_not_present`).
//!
//! - `Content-Security-Policy`: nothing may load but the pages' one `<style>` element, named
//!   by its SHA-256; no script at all; forms post only to this server; no framing; no `<base>`.
//! - `X-Content-Type-Options: nosniff`, `X-Frame-Options: DENY`.
//! - `Referrer-Policy: same-origin`, not `no-referrer`: under `no-referrer` a browser sends
//!   `Origin: null` with a form's POST, and the sign-in form, which has no session to derive a
//!   CSRF token from, is refused unless its `Origin` is this server (`pages::same_origin`).
//! - `Cache-Control: no-store` on the personal answers ([`personal`]): pages and the API.
//!
//! May touch: response headers only.

use axum::Router;
use axum::http::HeaderValue;
use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS,
    X_FRAME_OPTIONS,
};
use base64ct::{Base64, Encoding};
use sha2::{Digest, Sha256};
use tower_http::set_header::SetResponseHeaderLayer;

/// The policy of every answer. The pages' style is inline; its hash, computed from the same
/// constant the pages write, allows it and nothing else.
pub fn content_security_policy() -> String {
    let style = Base64::encode_string(&Sha256::digest(super::pages::STYLE.as_bytes()));
    format!(
        "default-src 'none'; style-src 'sha256-{style}'; form-action 'self'; \
         frame-ancestors 'none'; base-uri 'none'"
    )
}

/// Adds the headers every answer carries.
pub fn secure(router: Router) -> Router {
    let csp = HeaderValue::from_str(&content_security_policy())
        .unwrap_or_else(|_| HeaderValue::from_static("default-src 'none'"));
    router
        .layer(SetResponseHeaderLayer::if_not_present(
            CONTENT_SECURITY_POLICY,
            csp,
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
}

/// Adds `Cache-Control: no-store` to answers that may be personal: neither a browser nor a
/// proxy keeps a page, a run's output or an export after it is shown.
pub fn personal<S: Clone + Send + Sync + 'static>(router: Router<S>) -> Router<S> {
    router.layer(SetResponseHeaderLayer::if_not_present(
        CACHE_CONTROL,
        HeaderValue::from_static("no-store"),
    ))
}
