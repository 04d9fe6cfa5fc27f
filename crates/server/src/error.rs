//! API errors: JSON `{"code": "...", "message": "..."}` with a stable code. Bad input is a 4xx;
//! a 5xx means the host failed, and its message names no internals beyond the kind of failure.
//!
//! Every error the API answers has this form, whoever refuses: a handler, an extractor
//! (axum's rejections are converted here, [`super::extract`]), the rate limiter, or the router
//! itself (an unknown path, a method the path does not take).

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use insitu_core::account::AccountError;
use insitu_core::import::ImportError;
use insitu_core::request::RequestError;
use insitu_core::sandbox::{ComponentError, InstallError};
use insitu_core::store::StoreError;

/// The body of every error response. Its `code` follows from the status alone:
///
/// | status | `code` | when |
/// |---|---|---|
/// | 400 | `bad_request` | malformed JSON, a bad path segment or query string, input the operation refuses |
/// | 401 | `unauthenticated` | no token, or an unknown, expired or revoked one; a wrong password |
/// | 403 | `forbidden` | the account's role or the token's scopes do not allow the operation |
/// | 404 | `not_found` | no such path, or a resource that does not exist or is not the caller's |
/// | 405 | `method_not_allowed` | the path exists, not with this method (`Allow` lists those it takes) |
/// | 408 | `request_timeout` | the request took longer than the server's request timeout (600 s) |
/// | 409 | `conflict` | the resource's state forbids it (already decided, name taken, ...) |
/// | 413 | `payload_too_large` | the body is over its limit ([`super::MAX_BODY`], [`super::MAX_UPLOAD`]) |
/// | 415 | `unsupported_media_type` | a JSON body without `Content-Type: application/json` |
/// | 422 | `unprocessable` | well-formed JSON of the wrong shape (a missing field, a wrong type) |
/// | 429 | `rate_limited` | over the rate limit; `Retry-After` says when to retry |
/// | 500 | `internal` | the host failed; nothing was changed |
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// Stable, machine-readable; one per status (see the table above).
    #[schema(example = "not_found")]
    pub code: &'static str,
    /// For a person to read.
    pub message: String,
}

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    /// Seconds, sent as `Retry-After` (a 429).
    pub retry_after: Option<u64>,
}

/// The stable code of an error answered with `status`: the table of [`ErrorBody`].
pub fn code_for(status: StatusCode) -> &'static str {
    match status {
        StatusCode::UNAUTHORIZED => "unauthenticated",
        StatusCode::FORBIDDEN => "forbidden",
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::REQUEST_TIMEOUT => "request_timeout",
        StatusCode::CONFLICT => "conflict",
        StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        StatusCode::UNPROCESSABLE_ENTITY => "unprocessable",
        StatusCode::TOO_MANY_REQUESTS => "rate_limited",
        s if s.is_server_error() => "internal",
        _ => "bad_request",
    }
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            retry_after: None,
        }
    }

    pub fn unauthenticated() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "send a valid token: `Authorization: Bearer ins_...` (POST /api/tokens issues one)",
        )
    }

    pub fn forbidden(why: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", why)
    }

    /// Also the answer for what exists but is not the caller's: a refusal reveals nothing.
    pub fn not_found(what: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", what)
    }

    pub fn bad_request(why: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", why)
    }

    pub fn conflict(why: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, "conflict", why)
    }

    /// An error with `status` and its code from [`code_for`]. A 5xx is logged and its message
    /// replaced, like [`ApiError::internal`]'s.
    pub fn with_status(status: StatusCode, message: impl Into<String>) -> Self {
        if status.is_server_error() {
            let message = message.into();
            tracing::error!(error = %message, status = status.as_u16(), "request failed on the host");
            return Self::new(
                status,
                "internal",
                "the server failed; nothing was changed by this request",
            );
        }
        Self::new(status, code_for(status), message)
    }

    /// The router's answer for a path that exists, called with a method it does not take
    /// (axum adds the `Allow` header).
    pub fn method_not_allowed() -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "this path does not take this method; `Allow` lists those it takes",
        )
    }

    pub fn internal(why: impl std::fmt::Display) -> Self {
        tracing::error!(error = %why, "request failed on the host");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "the server failed; nothing was changed by this request",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            code: self.code,
            message: self.message,
        };
        let mut resp = (self.status, Json(body)).into_response();
        if let Some(wait) = self.retry_after {
            resp.headers_mut()
                .insert(axum::http::header::RETRY_AFTER, wait.into());
        }
        resp
    }
}

/// axum's extractor rejections, answered in our format: the status axum chose (400 for bad
/// syntax, 413 over the body limit, 415 for a wrong content type, 422 for a wrong shape), the
/// code for it, and axum's explanation as the message.
macro_rules! from_rejection {
    ($($rejection:ty),* $(,)?) => {$(
        impl From<$rejection> for ApiError {
            fn from(e: $rejection) -> Self {
                ApiError::with_status(e.status(), e.body_text())
            }
        }
    )*};
}

from_rejection!(
    axum::extract::rejection::JsonRejection,
    axum::extract::rejection::QueryRejection,
    axum::extract::rejection::PathRejection,
    axum::extract::rejection::FormRejection,
    axum::extract::rejection::BytesRejection,
    axum::extract::multipart::MultipartRejection,
    axum::extract::multipart::MultipartError,
);

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NoPerson(_)
            | StoreError::NoCollection(_)
            | StoreError::NoPlugin(_)
            | StoreError::NoPublisher(_)
            | StoreError::NoRequest(_)
            | StoreError::NoGrant(_)
            | StoreError::NoRun(_)
            | StoreError::NoToken(_)
            | StoreError::NoAccount(_)
            | StoreError::NoReception(_)
            | StoreError::NoJob(_)
            | StoreError::NoProposal(_)
            | StoreError::NoPledge { .. }
            | StoreError::NoInvitation { .. } => ApiError::not_found(e.to_string()),
            StoreError::Codesign(_)
            | StoreError::Answered { .. }
            | StoreError::JobClosed(_)
            | StoreError::NotRunning(_)
            | StoreError::CheckpointTaken(_) => ApiError::conflict(e.to_string()),
            StoreError::SchemaConflict(_) | StoreError::NameTaken(_) => {
                ApiError::conflict(e.to_string())
            }
            StoreError::Schema(_) => ApiError::bad_request(e.to_string()),
            StoreError::Corrupt(_) | StoreError::Db(_) => ApiError::internal(e),
        }
    }
}

impl From<AccountError> for ApiError {
    fn from(e: AccountError) -> Self {
        match e {
            AccountError::BadCredentials => {
                ApiError::new(StatusCode::UNAUTHORIZED, "unauthenticated", e.to_string())
            }
            AccountError::ScopeNotAllowed { .. } => ApiError::forbidden(e.to_string()),
            AccountError::WeakPassword | AccountError::BadName { .. } => {
                ApiError::bad_request(e.to_string())
            }
            AccountError::NameTaken { .. } => ApiError::conflict(e.to_string()),
            AccountError::Entropy(_) => ApiError::internal(e),
            AccountError::Store(s) => s.into(),
        }
    }
}

impl From<RequestError> for ApiError {
    fn from(e: RequestError) -> Self {
        match e {
            RequestError::Decided(_) => ApiError::conflict(e.to_string()),
            RequestError::Widening(_) | RequestError::NoManifest(_) => {
                ApiError::bad_request(e.to_string())
            }
            RequestError::Store(s) => s.into(),
        }
    }
}

impl From<ImportError> for ApiError {
    fn from(e: ImportError) -> Self {
        match e {
            ImportError::Store(s) => s.into(),
            ImportError::Io { .. } => ApiError::internal(e),
            other => ApiError::bad_request(other.to_string()),
        }
    }
}

impl From<insitu_core::rights::ExportError> for ApiError {
    fn from(e: insitu_core::rights::ExportError) -> Self {
        match e {
            insitu_core::rights::ExportError::Store(s) => s.into(),
            other => ApiError::internal(other),
        }
    }
}

impl From<InstallError> for ApiError {
    fn from(e: InstallError) -> Self {
        match e {
            InstallError::Store(s) => s.into(),
            InstallError::Component(ComponentError::Io { .. }) => ApiError::internal(e),
            other => ApiError::bad_request(other.to_string()),
        }
    }
}

impl From<insitu_core::codesign::CodesignError> for ApiError {
    fn from(e: insitu_core::codesign::CodesignError) -> Self {
        use insitu_core::codesign::CodesignError as E;
        match e {
            E::Invalid(_) => ApiError::bad_request(e.to_string()),
            // The same answer whether it does not exist or is not the caller's to see.
            E::NoProposal(_) => ApiError::not_found(e.to_string()),
            // The caller sees it (it is public) but it is another party's to change or prove.
            E::NotYours(_) => ApiError::forbidden(e.to_string()),
            E::Refused(_) => ApiError::conflict(e.to_string()),
            E::Noise(_) => ApiError::internal(e),
            E::Store(s) => s.into(),
        }
    }
}
