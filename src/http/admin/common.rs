//! `POST /admin/common/upload`: the stock app's el-upload sends one multipart field `file`.
//! The route has its own body limit (a picture of up to 2 MiB plus the multipart framing);
//! `app::routes` merges it after the global 64 KiB limit, which therefore does not cover it.
//!
//! The stock app stores `response.data` as the picture on any HTTP 200 (a `null` becomes the
//! text "null") and shows `图片上传失败` on any other status, so every refusal here is a 4xx
//! and a storage failure a 503, each with the envelope and a clear message for other clients:
//! 400 unreadable multipart, no `file` field or two; 413 over 2 MiB; 415 not a whole JPEG, PNG
//! or WebP (or empty); 503 `文件上传失败` when the store fails. Only a stored file gets a URL.

use axum::extract::multipart::{MultipartError, MultipartRejection};
use axum::extract::{DefaultBodyLimit, FromRef, Multipart, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use bytes::{Bytes, BytesMut};
use tower_http::limit::RequestBodyLimitLayer;

use crate::auth::Tokens;
use crate::auth::identity::Merchant;
use crate::domain::image::{MAX_BYTES, TOO_LARGE, UPLOAD_FAILED};
use crate::http::error::{ApiError, ApiResult, Envelope, ok};
use crate::usecases::images::Images;

/// Largest request body of the upload route: the picture and room for the multipart framing
/// (boundaries, part headers, a few small fields).
pub const UPLOAD_BODY_LIMIT: usize = MAX_BYTES + 16 * 1024;

/// `/admin/common/upload`, under its own body limit.
pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    Tokens: FromRef<S>,
    Images: FromRef<S>,
{
    Router::new()
        .route("/admin/common/upload", post(upload))
        .layer(DefaultBodyLimit::disable())
        .layer(RequestBodyLimitLayer::new(UPLOAD_BODY_LIMIT))
        .layer(axum::middleware::map_response(too_large))
        .layer(axum::middleware::from_fn(drain_announced_too_large))
}

/// Most bytes of an upload announced (Content-Length) over the limit that are read and thrown
/// away before its 413. The 413 closes the connection, and a socket closed with unread data
/// resets it: a client still sending its picture (the admin app, a browser) then saw a network
/// error instead of the refusal. Larger bodies are refused without being read, as before.
const DRAIN_LIMIT: u64 = 8 * 1024 * 1024;

/// Reads and discards (frame by frame, nothing kept) an announced-too-large upload of at most
/// [`DRAIN_LIMIT`] bytes, then lets the body limit refuse it as before.
async fn drain_announced_too_large(req: Request, next: Next) -> Response {
    use futures_util::StreamExt;
    let announced = req
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if !announced.is_some_and(|n| n > UPLOAD_BODY_LIMIT as u64 && n <= DRAIN_LIMIT) {
        return next.run(req).await;
    }
    let (parts, body) = req.into_parts();
    let mut frames = body.into_data_stream();
    while let Some(Ok(_)) = frames.next().await {}
    next.run(Request::from_parts(parts, axum::body::Body::empty()))
        .await
}

/// The upload's form, as the OpenAPI document shows it (the handler reads the multipart
/// stream itself, field by field).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
struct UploadForm {
    /// The picture: JPEG, PNG or WebP, up to 2 MiB.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

#[utoipa::path(
    post,
    path = "/admin/common/upload",
    operation_id = "common_upload",
    tag = "admin: images",
    request_body(content = UploadForm, content_type = "multipart/form-data"),
    security(("token" = []), ("session" = [])),
    responses(
        (status = 200, description = "`data`: the picture's absolute URL", body = Envelope<String>),
        (status = 400, description = "not multipart, no `file` field or two of them", body = Envelope<utoipa::TupleUnit>),
        (status = 401, description = "missing, expired or revoked token"),
        (status = 413, description = "`图片大小不能超过 2 MiB`", body = Envelope<utoipa::TupleUnit>),
        (status = 415, description = "not a whole JPEG, PNG or WebP picture (judged by content)", body = Envelope<utoipa::TupleUnit>),
        (status = 503, description = "`文件上传失败`: the storage failed", body = Envelope<utoipa::TupleUnit>),
    )
)]
async fn upload(
    State(images): State<Images>,
    _merchant: Merchant,
    multipart: Result<Multipart, MultipartRejection>,
) -> ApiResult<Json<Envelope<String>>> {
    let mut multipart = multipart.map_err(|e| {
        ApiError::BadRequest(format!(
            "需要 multipart/form-data 请求体 ({})",
            e.body_text()
        ))
    })?;
    let file = the_file(&mut multipart).await?;
    let url = images.upload(file).await.map_err(|e| match e.refusal() {
        Some(UPLOAD_FAILED) => ApiError::Unavailable(UPLOAD_FAILED.0.into()),
        Some(r) => ApiError::UnsupportedMedia(r.0.into()),
        None => e.into(),
    })?;
    Ok(ok(url))
}

/// The bytes of the one field named `file` (other fields are read and ignored; so are the
/// part's file name and Content-Type).
async fn the_file(multipart: &mut Multipart) -> ApiResult<Bytes> {
    let mut file: Option<BytesMut> = None;
    while let Some(mut field) = multipart.next_field().await.map_err(unreadable)? {
        if field.name() != Some("file") {
            while field.chunk().await.map_err(unreadable)?.is_some() {}
            continue;
        }
        if file.is_some() {
            return Err(ApiError::BadRequest(
                "只能上传一个文件 (file 字段出现了两次)".into(),
            ));
        }
        let mut buf = BytesMut::new();
        while let Some(chunk) = field.chunk().await.map_err(unreadable)? {
            if buf.len() + chunk.len() > MAX_BYTES {
                return Err(ApiError::TooLarge(TOO_LARGE.0.into()));
            }
            buf.extend_from_slice(&chunk);
        }
        file = Some(buf);
    }
    file.map(BytesMut::freeze)
        .ok_or_else(|| ApiError::BadRequest("缺少 file 字段".into()))
}

fn unreadable(e: MultipartError) -> ApiError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        return ApiError::TooLarge(TOO_LARGE.0.into());
    }
    ApiError::BadRequest(format!("multipart 请求体无法读取 ({})", e.body_text()))
}

/// The body limit's own 413 (announced by Content-Length) is plain text: the envelope.
async fn too_large(resp: Response) -> Response {
    let plain = resp.status() == StatusCode::PAYLOAD_TOO_LARGE
        && !crate::http::error::is_json(resp.headers());
    match plain {
        true => ApiError::TooLarge(TOO_LARGE.0.into()).into_response(),
        false => resp,
    }
}

/// The OpenAPI description of these routes.
#[derive(utoipa::OpenApi)]
#[openapi(paths(upload))]
pub struct Doc;
