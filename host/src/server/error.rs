//! API errors: JSON `{"code": "...", "message": "..."}` with a stable code. Bad input is a 4xx;
//! a 5xx means the host failed, and its message names no internals beyond the kind of failure.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::account::AccountError;
use crate::import::ImportError;
use crate::request::RequestError;
use crate::sandbox::InstallError;
use crate::store::StoreError;

/// The body of every error response.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// Stable, machine-readable: `unauthenticated`, `forbidden`, `not_found`, `bad_request`,
    /// `conflict`, `payload_too_large`, `rate_limited`, `internal`.
    pub code: &'static str,
    /// For a person to read.
    pub message: String,
}

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
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
        (self.status, Json(body)).into_response()
    }
}

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
            | StoreError::NoReception(_)
            | StoreError::NoJob(_)
            | StoreError::NoInvitation { .. } => ApiError::not_found(e.to_string()),
            StoreError::Answered { .. } | StoreError::JobClosed(_) => {
                ApiError::conflict(e.to_string())
            }
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

impl From<InstallError> for ApiError {
    fn from(e: InstallError) -> Self {
        match e {
            InstallError::Store(s) => s.into(),
            InstallError::Io { .. } => ApiError::internal(e),
            other => ApiError::bad_request(other.to_string()),
        }
    }
}
