//! The answers every operation of the OpenAPI document can give besides its own, added to each
//! from the operation's shape. They come from code every route shares, so they are documented
//! once, here, and a new route gets them by being declared:
//! - any operation: 408 (the request timeout, `conn::ServerLimits::request`), 429 (the rate
//!   limiter, `limit.rs`) and 500 (the host failed);
//! - one with `security`: 401 (the [`super::auth::Caller`] extractor);
//! - one with path or query parameters: 400 (a segment or query string that does not parse);
//! - one with a JSON body: 400 (not JSON), 413 (over [`super::MAX_BODY`]), 415 (another
//!   content type), 422 (JSON of another shape), from [`super::extract::Json`];
//! - one with another body (an upload): 413 (over [`super::MAX_UPLOAD`]).
//!
//! What an operation answers because of what it does (403 for a role or scope, 404 for an id,
//! 409, a 400 for input it refuses) is in its own `#[utoipa::path]`; where it documents a
//! status listed here too, the shared reasons are added to its description.

use std::collections::BTreeMap;
use std::collections::btree_map::Entry;

use axum::http::StatusCode;
use utoipa::openapi::path::{Operation, PathItem};
use utoipa::openapi::{Content, Ref, RefOr, Response};

use super::error::code_for;
use super::{MAX_BODY, MAX_UPLOAD};

/// The [`utoipa::Modify`] adding the shared answers to every operation.
pub struct SharedAnswers;

impl utoipa::Modify for SharedAnswers {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        for item in doc.paths.paths.values_mut() {
            for op in operations(item) {
                for (status, why) in shared(op) {
                    let code = code_for(StatusCode::from_u16(status).unwrap_or_default());
                    match op.responses.responses.entry(status.to_string()) {
                        // The operation's own reasons first, then the shared ones.
                        Entry::Occupied(mut e) => {
                            if let RefOr::T(r) = e.get_mut()
                                && !r.description.contains(&why)
                            {
                                r.description = format!("{}; {why}", r.description);
                            }
                        }
                        Entry::Vacant(e) => {
                            e.insert(error_response(format!("`{code}`: {why}")).into());
                        }
                    }
                }
            }
        }
    }
}

/// The bytes of a file as they are: an upload, an archive.
#[derive(utoipa::ToSchema)]
#[schema(value_type = String, format = Binary)]
pub struct File(pub Vec<u8>);

fn operations(item: &mut PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        &mut item.get,
        &mut item.put,
        &mut item.post,
        &mut item.delete,
        &mut item.options,
        &mut item.head,
        &mut item.patch,
        &mut item.trace,
    ]
    .into_iter()
    .filter_map(Option::as_mut)
}

/// The shared answers of `op`, each status once, with the reasons for it.
fn shared(op: &Operation) -> BTreeMap<u16, String> {
    let mut out: Vec<(u16, String)> = vec![
        (
            429,
            "over the rate limit; `Retry-After` says when to retry".into(),
        ),
        (500, "the host failed; nothing was changed".into()),
        (
            408,
            "the request took longer than the server's request timeout".into(),
        ),
    ];
    if op.security.is_some() {
        out.push((
            401,
            "no bearer token, or an unknown, expired or revoked one".into(),
        ));
    }
    if op.parameters.as_ref().is_some_and(|p| !p.is_empty()) {
        out.push((
            400,
            "a path segment or query string that does not parse".into(),
        ));
    }
    if let Some(body) = &op.request_body {
        if body.content.contains_key("application/json") {
            out.extend([
                (400, "a body that is not JSON".into()),
                (413, format!("a body over {} KiB", MAX_BODY >> 10)),
                (415, "a body not sent as `application/json`".into()),
                (
                    422,
                    "JSON of another shape (a missing field, a wrong type)".into(),
                ),
            ]);
        } else {
            out.push((413, format!("an upload over {} MiB", MAX_UPLOAD >> 20)));
        }
    }
    let mut merged: BTreeMap<u16, String> = BTreeMap::new();
    for (status, why) in out {
        merged
            .entry(status)
            .and_modify(|w| *w = format!("{w}; {why}"))
            .or_insert(why);
    }
    merged
}

fn error_response(description: String) -> Response {
    let mut r = Response::new(description);
    r.content.insert(
        "application/json".into(),
        Content::new(Some(Ref::from_schema_name("ErrorBody"))),
    );
    r
}
