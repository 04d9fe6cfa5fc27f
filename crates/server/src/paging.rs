//! Cursor pages for the API's listings (runs, requests, grants, receptions, invitations,
//! tokens): the
//! query `after` (the last id of the previous page) and `limit`, and the answer, still a JSON
//! array, with a `Link: <path?after=N&limit=M>; rel="next"` header when there is a next page.
//!
//! Every listing is newest first, keyed on ids, and read from the store's index on its owner
//! ([`insitu_core::store::Owner`]), so a request reads one page, never a whole table. A cursor
//! is an id of a row the caller was shown: an organisation's pages hold only its own rows, so
//! their boundaries, cursors and order tell it nothing about rows it may not see.
//!
//! May touch: nothing but the query and the answer it shapes.

use axum::Json;
use axum::http::header::LINK;
use axum::response::{IntoResponse, Response};
use insitu_core::store::Page;
use serde::{Deserialize, Serialize};
use utoipa::IntoParams;

/// Rows in a page when the query names no `limit`.
pub const DEFAULT_LIMIT: usize = 100;
/// The most rows in a page: a larger `limit` is taken as this one.
pub const MAX_LIMIT: usize = 500;

/// Which page of a listing to answer. A value that is not a number answers 400 `bad_request`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// The cursor: the last id of the previous page, as its `Link` header gives it. This page
    /// holds the rows after it, newest first (smaller ids). Absent: the newest page.
    #[param(minimum = 0)]
    pub after: Option<u64>,
    /// At most this many rows: default 100, at most 500 (a larger value is taken as 500, 0 as
    /// 1).
    #[param(minimum = 0)]
    pub limit: Option<u64>,
}

impl PageQuery {
    /// The page size asked for, clamped to 1..=[`MAX_LIMIT`].
    pub fn limit(&self) -> usize {
        self.limit
            .map_or(DEFAULT_LIMIT, |l| usize::try_from(l).unwrap_or(MAX_LIMIT))
            .clamp(1, MAX_LIMIT)
    }

    /// The store page to read: one row more than the limit, to know whether a next page exists.
    pub fn page(&self) -> Page {
        Page {
            before: self.after,
            limit: self.limit() + 1,
        }
    }

    /// `rows` (read with [`PageQuery::page`]) cut to the limit, with the link to the next page
    /// of `path` if there is one.
    pub fn take<T>(
        &self,
        path: &str,
        mut rows: Vec<T>,
        id: impl Fn(&T) -> u64,
    ) -> (Vec<T>, Option<String>) {
        let limit = self.limit();
        let more = rows.len() > limit;
        rows.truncate(limit);
        let next = rows
            .last()
            .filter(|_| more)
            .map(|last| format!("<{path}?after={}&limit={limit}>; rel=\"next\"", id(last)));
        (rows, next)
    }
}

/// A page of a listing: a JSON array, with the `Link` to the next page if there is one.
pub struct Paged<T> {
    pub rows: Vec<T>,
    pub next: Option<String>,
}

impl<T: Serialize> IntoResponse for Paged<T> {
    fn into_response(self) -> Response {
        let mut r = Json(self.rows).into_response();
        if let Some(link) = self.next.and_then(|l| l.parse().ok()) {
            r.headers_mut().insert(LINK, link);
        }
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_are_clamped_and_the_link_names_the_last_row() {
        let q = |after, limit| PageQuery { after, limit };
        assert_eq!(q(None, None).limit(), DEFAULT_LIMIT);
        assert_eq!(q(None, Some(0)).limit(), 1);
        assert_eq!(q(None, Some(u64::MAX)).limit(), MAX_LIMIT);
        assert_eq!(
            q(Some(9), Some(2)).page(),
            Page {
                before: Some(9),
                limit: 3
            }
        );
        let (rows, next) = q(None, Some(2)).take("/api/runs", vec![8u64, 7, 6], |r| *r);
        assert_eq!(rows, vec![8, 7]);
        assert_eq!(
            next.as_deref(),
            Some("</api/runs?after=7&limit=2>; rel=\"next\"")
        );
        let (rows, next) = q(None, Some(2)).take("/api/runs", vec![8u64, 7], |r| *r);
        assert_eq!((rows.len(), next), (2, None), "the last page links nowhere");
    }
}
