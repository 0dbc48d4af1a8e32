//! Extractors: request bodies, paths and queries whose parse errors become the envelope.
//! (Who the request speaks for is `auth::identity`'s `Merchant` and `Customer`.)

use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use serde::de::DeserializeOwned;

use super::error::ApiError;

pub mod lenient;

/// A JSON body, read with Jackson's coercions ([`lenient`]: `"id":"123"` is the number 123,
/// `"label":1` the string "1"), since the stock clients rely on them. Malformed JSON, a wrong
/// content type, a repeated key, a wrongly-typed field or a NUL character (`\u0000`, which
/// PostgreSQL cannot store or compare) in any string is a 400 in the envelope.
pub struct Body<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !json_content_type(req.headers()) {
            return Err(ApiError::BadRequest(
                "Content-Type must be application/json".into(),
            ));
        }
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|e| ApiError::BadRequest(e.body_text()))?;
        let value = lenient::parse(&bytes).map_err(|e| {
            ApiError::BadRequest(format!("Failed to parse the request body as JSON: {e}"))
        })?;
        if has_nul(&bytes) {
            return Err(ApiError::BadRequest(
                "NUL character in the JSON body".into(),
            ));
        }
        let v = serde_path_to_error::deserialize(lenient::Lenient::new(value)).map_err(|e| {
            ApiError::BadRequest(format!(
                "Failed to deserialize the JSON body into the target type: {e}"
            ))
        })?;
        Ok(Body(v))
    }
}

/// `application/json` or any `application/*+json`, as axum's own `Json` requires.
fn json_content_type(headers: &HeaderMap) -> bool {
    let Some(ct) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || essence
            .strip_prefix("application/")
            .is_some_and(|sub| sub.ends_with("+json"))
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

/// Query parameters. As Spring binds them, an empty value (`status=`, which the stock pages
/// send for "any") means the parameter is absent; a bad value is a 400 in the envelope.
pub struct QueryParams<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for QueryParams<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or("");
        // `%00` is the only way a NUL reaches a query value, and PostgreSQL rejects NULs.
        if query.contains("%00") {
            return Err(ApiError::BadRequest(
                "NUL character in the query string".into(),
            ));
        }
        let present = without_empty_values(query);
        serde_urlencoded::from_str::<T>(&present)
            .map(QueryParams)
            .map_err(|e| ApiError::BadRequest(format!("Failed to deserialize query string: {e}")))
    }
}

/// The query string without the pairs whose value is empty (`a=&b=1` → `b=1`).
fn without_empty_values(query: &str) -> String {
    query
        .split('&')
        .filter(|pair| pair.split_once('=').is_some_and(|(_, v)| !v.is_empty()))
        .collect::<Vec<_>>()
        .join("&")
}

/// A comma-joined list of ids in a query (`ids=1,2,3`, as Spring's `List<Long>` reads it):
/// at least one, each a positive number, at most [`IdList::MAX`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdList(pub Vec<i64>);

impl IdList {
    /// Most ids in one list.
    pub const MAX: usize = 100;
}

impl<'de> serde::Deserialize<'de> for IdList {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        let ids = text
            .split(',')
            .map(|part| part.trim().parse::<i64>().ok().filter(|id| *id > 0))
            .collect::<Option<Vec<i64>>>()
            .filter(|ids| !ids.is_empty() && ids.len() <= IdList::MAX)
            .ok_or_else(|| {
                serde::de::Error::custom(format_args!(
                    "expected 1 to {} positive ids joined by commas",
                    IdList::MAX
                ))
            })?;
        Ok(IdList(ids))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_query_values_are_absent() {
        assert_eq!(
            without_empty_values("page=1&status=&pageSize=10"),
            "page=1&pageSize=10"
        );
        assert_eq!(without_empty_values("status="), "");
        assert_eq!(without_empty_values("flag&x=1"), "x=1");
        assert_eq!(without_empty_values(""), "");
        assert_eq!(without_empty_values("name=%20"), "name=%20");
    }

    #[derive(serde::Deserialize)]
    struct Ids {
        ids: IdList,
    }

    #[test]
    fn id_lists_are_comma_joined_positive_ids() {
        let q: Ids = serde_urlencoded::from_str("ids=1,2,%203").unwrap();
        assert_eq!(q.ids, IdList(vec![1, 2, 3]));
        for bad in [
            "ids=",
            "ids=1,,2",
            "ids=0",
            "ids=-1",
            "ids=a",
            "ids=1;2",
            "ids=99999999999999999999",
        ] {
            assert!(serde_urlencoded::from_str::<Ids>(bad).is_err(), "{bad}");
        }
        let many = (1..=101)
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join(",");
        assert!(serde_urlencoded::from_str::<Ids>(&format!("ids={many}")).is_err());
    }
}
