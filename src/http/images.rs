//! `GET /images/{name}`: stored images, without a token (the clients put the URLs in `<img>`
//! and `<image>` tags). Only names this service gives are looked up (32 hex digits and a known
//! extension), so no path from the request reaches the file system or the bucket; anything
//! else is a 404. Served with the type of the stored kind, `nosniff` and a year of caching
//! (names are never reused for other bytes).

use axum::Router;
use axum::extract::{FromRef, Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::blobs::{CACHE_CONTROL, SERVE_PATH};
use crate::usecases::images::Images;

/// `/images/{name}`.
pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    Images: FromRef<S>,
{
    Router::new().route(&format!("{SERVE_PATH}/{{name}}"), get(serve))
}

#[utoipa::path(
    get,
    path = "/images/{name}",
    operation_id = "images_serve",
    tag = "images",
    params(("name" = String, Path)),
    responses(
        (status = 200, description = "the stored picture, with its type (JPEG, PNG or WebP), `nosniff` and a year of `Cache-Control`; no token", content_type = "image/*", body = Vec<u8>),
        (status = 404, description = "no picture of that name"),
    )
)]
async fn serve(
    State(images): State<Images>,
    name: Result<Path<String>, axum::extract::rejection::PathRejection>,
) -> Response {
    let Ok(Path(name)) = name else {
        return StatusCode::NOT_FOUND.into_response();
    };
    match images.open(&name).await {
        Ok(Some((bytes, kind))) => (
            [
                (header::CONTENT_TYPE, kind.content_type()),
                (header::CACHE_CONTROL, CACHE_CONTROL),
                (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
                (
                    header::CONTENT_SECURITY_POLICY,
                    "default-src 'none'; sandbox",
                ),
            ],
            bytes,
        )
            .into_response(),
        Ok(None) => StatusCode::NOT_FOUND.into_response(),
        Err(e) => {
            tracing::error!(error = %e, "reading a stored image failed");
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    }
}

/// The OpenAPI description of these routes.
#[derive(utoipa::OpenApi)]
#[openapi(paths(serve))]
pub struct Doc;
