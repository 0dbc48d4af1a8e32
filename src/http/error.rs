//! The reply envelope `Result { code, msg, data }` and the one place that picks status codes.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::usecases::Error;

/// The contract's envelope: `code` 1 success, 0 business error.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Envelope<T: Serialize> {
    /// 1 or 0.
    pub code: i32,
    /// Chinese message on errors, `null` on success.
    pub msg: Option<String>,
    /// The payload or `null`.
    pub data: Option<T>,
}

/// A successful reply with data.
pub fn ok<T: Serialize>(data: T) -> Json<Envelope<T>> {
    Json(Envelope {
        code: 1,
        msg: None,
        data: Some(data),
    })
}

/// A successful reply with `data: null`.
pub fn done() -> Json<Envelope<()>> {
    Json(Envelope {
        code: 1,
        msg: None,
        data: None,
    })
}

/// Every way a request can fail.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Missing, malformed, forged or expired token: bare 401 (the clients go to login).
    #[error("unauthorized")]
    Unauthorized,
    /// A business rule said no: HTTP 200, `code: 0`.
    #[error("{0}")]
    Business(String),
    /// The request could not be parsed: HTTP 400 in the envelope.
    #[error("bad request: {0}")]
    BadRequest(String),
    /// The body is over a route's own limit: HTTP 413 with this message.
    #[error("too large: {0}")]
    TooLarge(String),
    /// The body is not of a kind the route takes (an upload that is not a picture): 415.
    #[error("unsupported: {0}")]
    UnsupportedMedia(String),
    /// A service we depend on failed (the cause is logged where it happened): 503 with this
    /// message.
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// Something broke on our side: opaque 500, cause logged.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl ApiError {
    /// A business refusal with this message.
    pub fn business(msg: impl Into<String>) -> ApiError {
        ApiError::Business(msg.into())
    }

    /// A failure on our side (an opaque 500, the cause logged), from any error type.
    pub fn internal(e: impl std::error::Error + Send + Sync + 'static) -> ApiError {
        ApiError::Internal(e.into())
    }
}

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        match e {
            Error::Rejected(msg) => ApiError::Business(msg.to_string()),
            Error::Refused(msg) => ApiError::Business(msg),
            Error::SessionOver => ApiError::Unauthorized,
            Error::Store(s) if s.is_unavailable() => {
                tracing::warn!(error = %s, "database unavailable");
                ApiError::Unavailable(DB_UNAVAILABLE.to_string())
            }
            Error::Store(s) => ApiError::Internal(s.into()),
        }
    }
}

impl From<crate::domain::Refusal> for ApiError {
    fn from(r: crate::domain::Refusal) -> Self {
        ApiError::Business(r.0.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let envelope = |msg: String| {
            Json(Envelope::<()> {
                code: 0,
                msg: Some(msg),
                data: None,
            })
        };
        match self {
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED.into_response(),
            ApiError::Business(msg) => (StatusCode::OK, envelope(msg)).into_response(),
            ApiError::BadRequest(msg) => (
                StatusCode::BAD_REQUEST,
                envelope(format!("请求参数错误: {msg}")),
            )
                .into_response(),
            ApiError::TooLarge(msg) => {
                (StatusCode::PAYLOAD_TOO_LARGE, envelope(msg)).into_response()
            }
            ApiError::UnsupportedMedia(msg) => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, envelope(msg)).into_response()
            }
            ApiError::Unavailable(msg) => {
                (StatusCode::SERVICE_UNAVAILABLE, envelope(msg)).into_response()
            }
            ApiError::Internal(e) => {
                tracing::error!(error = format!("{e:#}"), "request failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    envelope("服务器内部错误".to_string()),
                )
                    .into_response()
            }
        }
    }
}

/// What a request answers (503) while the database cannot be reached.
pub const DB_UNAVAILABLE: &str = "数据库暂不可用，请稍后再试";

/// Shorthand for handler results.
pub type ApiResult<T> = Result<T, ApiError>;

/// The body limit's 413 (announced by Content-Length) is plain text; clients read the
/// envelope, so it becomes one, saying `Connection: close`: the server does not read the rest
/// of the body, so the connection cannot be reused. A 413 that already is JSON (WeChat's shape,
/// from the notification endpoint) is kept as it is. A plain function, used as a tower
/// `MapResponse` layer over every route (axum's `map_response` would box a future for every
/// request).
pub fn too_large_as_envelope(resp: Response) -> Response {
    if resp.status() != StatusCode::PAYLOAD_TOO_LARGE || is_json(resp.headers()) {
        return resp;
    }
    let envelope = Envelope::<()> {
        code: 0,
        msg: Some(format!(
            "请求参数错误: 请求体超过 {} KiB",
            BODY_LIMIT / 1024
        )),
        data: None,
    };
    let mut out = (StatusCode::PAYLOAD_TOO_LARGE, Json(envelope)).into_response();
    out.headers_mut().insert(
        axum::http::header::CONNECTION,
        axum::http::HeaderValue::from_static("close"),
    );
    out
}

/// True when a reply's Content-Type is JSON (an envelope).
pub fn is_json(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get(axum::http::header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"))
}

/// Largest request body, in bytes (the upload route has its own limit).
pub const BODY_LIMIT: usize = 64 * 1024;
