//! Extractors: request bodies, paths and queries whose parse errors become the envelope.
//! (Who the request speaks for is `auth::identity`'s `Merchant` and `Customer`.)

use axum::body::Bytes;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use super::error::ApiError;

/// A JSON body; malformed or wrongly-typed JSON is a 400 in the envelope, and so is a NUL
/// character (`\u0000`) in any string: PostgreSQL cannot store or compare one.
pub struct Body<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let (parts, body) = req.into_parts();
        let bytes = Bytes::from_request(Request::from_parts(parts.clone(), body), state)
            .await
            .map_err(|e| ApiError::BadRequest(e.body_text()))?;
        let req = Request::from_parts(parts, axum::body::Body::from(bytes.clone()));
        let v = match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => v,
            Err(e) => return Err(ApiError::BadRequest(json_reason(&e))),
        };
        if has_nul(&bytes) {
            return Err(ApiError::BadRequest(
                "NUL character in the JSON body".into(),
            ));
        }
        Ok(Body(v))
    }
}

/// True when (syntactically valid) JSON text holds a NUL: a raw 0 byte or a `\u0000` escape.
/// Backslashes occur only inside strings, each starting an escape, so the scan is exact.
fn has_nul(json: &[u8]) -> bool {
    let mut i = 0;
    while i < json.len() {
        match json[i] {
            0 => return true,
            b'\\' if json[i + 1..].starts_with(b"u0000") => return true,
            b'\\' => i += 2,
            _ => i += 1,
        }
    }
    false
}

fn json_reason(e: &JsonRejection) -> String {
    match e {
        JsonRejection::MissingJsonContentType(_) => "Content-Type must be application/json".into(),
        other => other.body_text(),
    }
}

/// Path parameters; a non-numeric or out-of-range id is a 400 in the envelope.
pub struct PathParam<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for PathParam<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|p| PathParam(p.0))
            .map_err(|e: PathRejection| ApiError::BadRequest(e.body_text()))
    }
}

/// Query parameters; a bad value is a 400 in the envelope.
pub struct QueryParams<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for QueryParams<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        // `%00` is the only way a NUL reaches a query value, and PostgreSQL rejects NULs.
        if parts.uri.query().is_some_and(|q| q.contains("%00")) {
            return Err(ApiError::BadRequest(
                "NUL character in the query string".into(),
            ));
        }
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| QueryParams(q.0))
            .map_err(|e: QueryRejection| ApiError::BadRequest(e.body_text()))
    }
}
