//! The pages' errors, said in the visitor's language.
//!
//! A [`PageError`] is a status and a catalogue message with its arguments (ids, names,
//! counts, line numbers), chosen by the domain error's variant: one `From` per error type a
//! page can meet ([`domain`]), each an exhaustive `match`, so that a new variant does not
//! build until it says what a page shows. Where a variant carries free English text (a
//! co-design refusal the store words, a parser's reason), the page says a general sentence in
//! the visitor's language and adds the English text as a secondary line, under "technical
//! detail", marked `lang="en"`.
//!
//! A page says no more than the API: its status is the API's for the same error, its arguments
//! are fields the API's message already shows, its detail is (part of) that message, and a 5xx
//! says nothing of its cause. What does not exist and what is not the visitor's give the same
//! page, as they give the same API answer.
//!
//! May touch: nothing but the error.

mod domain;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::html;

use super::layout::page;
use super::locale::{Arg, L10n, Owned};
use crate::error::ApiError;

/// An error shown as a page: its status and what to tell the visitor.
#[derive(Debug)]
pub struct PageError {
    pub status: StatusCode,
    /// The catalogue message that says what went wrong.
    pub key: &'static str,
    pub args: Vec<(&'static str, Owned)>,
    /// The domain's own words (English), shown under the message, for a general message.
    pub detail: Option<String>,
    /// Seconds, sent as `Retry-After` (a 429).
    retry_after: Option<u64>,
}

impl PageError {
    /// An error whose text is the catalogue's message `key`, in the visitor's language.
    pub fn say(status: StatusCode, key: &'static str) -> Self {
        PageError {
            status,
            key,
            args: Vec::new(),
            detail: None,
            retry_after: None,
        }
    }

    pub fn say_with(status: StatusCode, key: &'static str, args: &[(&'static str, Arg)]) -> Self {
        let mut e = PageError::say(status, key);
        for (name, value) in args {
            e.args.push((
                name,
                match value {
                    Arg::Text(s) => Owned::Text(s.to_string()),
                    Arg::Count(n) => Owned::Count(*n),
                },
            ));
        }
        e
    }

    /// With the argument `name`, written as text (an id, a name: never grouped like a count).
    pub fn with(mut self, name: &'static str, value: impl ToString) -> Self {
        self.args.push((name, Owned::Text(value.to_string())));
        self
    }

    /// With the count `name` (it chooses a plural form, and is grouped the language's way).
    pub fn count(mut self, name: &'static str, n: impl TryInto<i64>) -> Self {
        let n = n.try_into().unwrap_or(i64::MAX);
        self.args.push((name, Owned::Count(n)));
        self
    }

    /// With the domain's own words as the technical detail.
    pub fn detail(mut self, text: impl ToString) -> Self {
        self.detail = Some(text.to_string());
        self
    }

    /// The host failed: logged, and said without its cause.
    pub fn internal(e: impl std::fmt::Display) -> Self {
        tracing::error!(error = %e, "page failed on the host");
        PageError::say(StatusCode::INTERNAL_SERVER_ERROR, "error-internal")
    }

    pub fn not_found() -> Self {
        PageError::say(StatusCode::NOT_FOUND, "error-not-found")
    }

    /// The message in `l`'s language; `Err` (with the text as shown) when the catalogue lacks
    /// it or an argument it names.
    pub fn try_message(&self, l: &L10n) -> Result<String, (String, String)> {
        let args: Vec<(&str, Arg)> = self.args.iter().map(|(n, v)| (*n, v.arg())).collect();
        l.try_ta(self.key, &args)
    }

    /// The message in `l`'s language.
    pub fn message(&self, l: &L10n) -> String {
        let args: Vec<(&str, Arg)> = self.args.iter().map(|(n, v)| (*n, v.arg())).collect();
        l.ta(self.key, &args)
    }
}

/// The general message for an error known only by its status (an [`ApiError`]: an extractor's
/// rejection, the rate limiter, the router).
fn general(status: StatusCode) -> &'static str {
    match status {
        StatusCode::UNAUTHORIZED => "error-unauthorized",
        StatusCode::FORBIDDEN => "error-forbidden",
        StatusCode::NOT_FOUND => "error-not-found",
        StatusCode::METHOD_NOT_ALLOWED => "error-method",
        StatusCode::REQUEST_TIMEOUT => "error-timeout",
        StatusCode::CONFLICT => "error-conflict",
        StatusCode::PAYLOAD_TOO_LARGE => "error-too-large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE | StatusCode::UNPROCESSABLE_ENTITY => "error-bad-form",
        StatusCode::TOO_MANY_REQUESTS => "error-too-many",
        s if s.is_server_error() => "error-internal",
        _ => "error-bad-request",
    }
}

/// An error that only has the API's words: a general message for its status, its words as
/// the detail (never a 5xx's, which the API does not show either).
impl From<ApiError> for PageError {
    fn from(e: ApiError) -> Self {
        let mut p = PageError::say(e.status, general(e.status));
        if let (StatusCode::TOO_MANY_REQUESTS, Some(wait)) = (e.status, e.retry_after) {
            p = PageError::say(e.status, "error-too-many-wait").count("seconds", wait);
            p.retry_after = Some(wait);
        }
        if !e.status.is_server_error() {
            p.detail = Some(e.message);
        }
        p
    }
}

/// A file upload's form that cannot be read: 413 over the upload limit, else 400.
impl From<axum::extract::multipart::MultipartError> for PageError {
    fn from(e: axum::extract::multipart::MultipartError) -> Self {
        let status = e.status();
        let key = if status == StatusCode::PAYLOAD_TOO_LARGE {
            "error-upload-too-large"
        } else if status.is_server_error() {
            "error-internal"
        } else {
            "error-bad-upload"
        };
        let p = PageError::say(status, key);
        if status.is_server_error() {
            p
        } else {
            p.detail(e.body_text())
        }
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let l = L10n::current();
        let heading = match self.status {
            StatusCode::BAD_REQUEST => "error-title-bad-request",
            StatusCode::UNAUTHORIZED => "error-title-unauthorized",
            StatusCode::FORBIDDEN => "error-title-forbidden",
            StatusCode::NOT_FOUND => "error-title-not-found",
            StatusCode::METHOD_NOT_ALLOWED => "error-title-method",
            StatusCode::CONFLICT => "error-title-conflict",
            StatusCode::PAYLOAD_TOO_LARGE => "error-title-too-large",
            StatusCode::TOO_MANY_REQUESTS => "error-title-too-many",
            s if s.is_server_error() => "error-title-server",
            _ => "error-title",
        };
        let body = html! {
            h1 { (l.t(heading)) }
            p role="alert" { (self.message(&l)) }
            @if let Some(detail) = &self.detail {
                details.detail {
                    summary { (l.t("error-detail")) }
                    p lang="en" { (detail) }
                }
            }
            p { a href="/" { (l.t("back-to-my-page")) } }
        };
        let mut response = (self.status, page(&l.t("error-title"), None, body)).into_response();
        if let Some(wait) = self.retry_after {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, wait.into());
        }
        response
    }
}
