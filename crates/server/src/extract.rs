//! axum's extractors, refused in our formats. Each type has the name and the shape of the axum
//! extractor it wraps, so a handler reads the same (`Path(id): Path<u64>`), but where axum
//! answers a bad request in plain text, these answer:
//! - at the top level, for the API: an [`ApiError`], JSON with the code for the status (400
//!   bad syntax, 413 over the body limit, 415 wrong content type, 422 wrong shape);
//! - in [`page`], for the web pages: an error page with the same status and explanation.
//!
//! A handler takes these, never axum's own: a plain-text error breaks the API's one format.
//!
//! May touch: nothing but the request.

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use super::error::ApiError;

/// Defines `$name<T>`, a [`FromRequestParts`] extractor wrapping axum's `$inner<T>`, refused
/// with `$rejection` (anything an [`ApiError`] converts into).
macro_rules! from_parts {
    ($(#[$doc:meta])* $name:ident, $inner:ty, $rejection:ty) => {
        $(#[$doc])*
        pub struct $name<T>(pub T);

        impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for $name<T> {
            type Rejection = $rejection;

            async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
                match <$inner>::from_request_parts(parts, state).await {
                    Ok(v) => Ok($name(v.0)),
                    Err(e) => Err(ApiError::from(e).into()),
                }
            }
        }
    };
}

/// Defines `$name<T>`, a [`FromRequest`] extractor (it reads the body) wrapping axum's
/// `$inner<T>`, refused with `$rejection`.
macro_rules! from_body {
    ($(#[$doc:meta])* $name:ident, $inner:ty, $rejection:ty) => {
        $(#[$doc])*
        pub struct $name<T>(pub T);

        impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for $name<T> {
            type Rejection = $rejection;

            async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
                match <$inner>::from_request(req, state).await {
                    Ok(v) => Ok($name(v.0)),
                    Err(e) => Err(ApiError::from(e).into()),
                }
            }
        }
    };
}

from_parts!(
    /// Path parameters; a segment that does not parse is a 400 `bad_request`.
    Path, axum::extract::Path<T>, ApiError
);
from_parts!(
    /// The query string; one that does not parse is a 400 `bad_request`.
    Query, axum::extract::Query<T>, ApiError
);
from_body!(
    /// A JSON body: 415 without `Content-Type: application/json`, 400 if it is not JSON, 422
    /// if it is JSON of another shape, 413 over the body limit.
    Json, axum::Json<T>, ApiError
);

/// The raw body (an upload); 413 over the body limit. Reads as the bytes (`&body` is a
/// `&[u8]`).
pub struct Bytes(pub axum::body::Bytes);

impl<S: Send + Sync> FromRequest<S> for Bytes {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        axum::body::Bytes::from_request(req, state)
            .await
            .map(Bytes)
            .map_err(ApiError::from)
    }
}

impl std::ops::Deref for Bytes {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        &self.0
    }
}

/// The same extractors for the web pages: refused with an error page, not JSON.
pub mod page {
    use super::*;
    use crate::pages::PageError;

    from_parts!(
        /// Path parameters; a segment that does not parse is a 400 page.
        Path, axum::extract::Path<T>, PageError
    );
    from_parts!(
        /// The query string; one that does not parse is a 400 page.
        Query, axum::extract::Query<T>, PageError
    );
    from_body!(
        /// A form body: 415 for another content type, 422 for fields of the wrong shape.
        Form, axum::Form<T>, PageError
    );

    /// A `multipart/form-data` body (a file upload); 400 without a boundary. Reads as axum's
    /// [`axum::extract::Multipart`].
    pub struct Multipart(pub axum::extract::Multipart);

    impl<S: Send + Sync> FromRequest<S> for Multipart {
        type Rejection = PageError;

        async fn from_request(req: Request, state: &S) -> Result<Self, PageError> {
            axum::extract::Multipart::from_request(req, state)
                .await
                .map(Multipart)
                .map_err(|e| ApiError::from(e).into())
        }
    }

    impl std::ops::Deref for Multipart {
        type Target = axum::extract::Multipart;

        fn deref(&self) -> &Self::Target {
            &self.0
        }
    }

    impl std::ops::DerefMut for Multipart {
        fn deref_mut(&mut self) -> &mut Self::Target {
            &mut self.0
        }
    }
}
