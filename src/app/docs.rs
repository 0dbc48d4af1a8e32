//! The API's OpenAPI 3 document and its browsable page, served by the binary itself, offline:
//! the JSON at `/v3/api-docs` (springdoc's path) and Swagger UI at `/doc.html` (where the
//! original ships knife4j), its files embedded at build time (`utoipa-swagger-ui`'s `vendored`)
//! under `/swagger-ui/`. The document is derived from the handlers' `#[utoipa::path]`
//! annotations and the wire types' `ToSchema`/`IntoParams` derives, assembled here because only
//! `app` sees every adapter (REST, sockets, operations). `tests/openapi.rs` compares it with
//! the routes the router serves, both ways. Left out, on purpose: the dashboard's own pages
//! (`/`, `/websocket.html`, `/static/…`), which are HTML for a browser, not API.

use std::sync::Arc;

use axum::extract::{Extension, Path};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use utoipa::OpenApi;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};

use super::ops;
use super::state::AppState;
use crate::{http, ws};

/// Where the JSON document is served.
pub const JSON_PATH: &str = "/v3/api-docs";
/// Where the browsable page is served.
pub const PAGE_PATH: &str = "/doc.html";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "sky-takeout",
        description = "The Sky Take-Out (苍穹外卖) backend: the merchant's `/admin` API (header \
                       `token` or the `sky_session` cookie), the customer's `/user` API (header \
                       `authentication`), WeChat Pay's notification, the stored images, the \
                       alert sockets and the operations endpoints. Every REST reply is the \
                       envelope `{code, msg, data}`: `code` 1 with `data`, or 0 with the \
                       refusal in `msg`. Times are `yyyy-MM-dd HH:mm[:ss]` in the shop's zone \
                       (`--time-zone`), money is yuan as a JSON number."
    ),
    paths(api_docs, page, asset)
)]
struct Own;

/// The whole document.
pub fn document() -> utoipa::openapi::OpenApi {
    let mut doc = Own::openapi();
    doc.merge(http::openapi());
    doc.merge(ws::openapi());
    doc.merge(ops::Doc::openapi());
    let components = doc.components.get_or_insert_with(Default::default);
    for (name, scheme) in [
        ("token", ApiKey::Header(ApiKeyValue::new("token"))),
        (
            "authentication",
            ApiKey::Header(ApiKeyValue::new("authentication")),
        ),
        ("session", ApiKey::Cookie(ApiKeyValue::new("sky_session"))),
    ] {
        components.add_security_scheme(name, SecurityScheme::ApiKey(scheme));
    }
    doc
}

struct Docs {
    json: Arc<utoipa::openapi::OpenApi>,
    ui: Arc<utoipa_swagger_ui::Config<'static>>,
}

/// `/v3/api-docs`, `/doc.html` and `/swagger-ui/{file}`.
pub fn router() -> Router<AppState> {
    let docs = Arc::new(Docs {
        json: Arc::new(document()),
        ui: Arc::new(utoipa_swagger_ui::Config::from(JSON_PATH)),
    });
    Router::new()
        .route(JSON_PATH, get(api_docs))
        .route(PAGE_PATH, get(page))
        .route("/swagger-ui/{*file}", get(asset))
        .layer(Extension(docs))
}

#[utoipa::path(
    get,
    path = "/v3/api-docs",
    operation_id = "docs_json",
    tag = "documentation",
    responses((status = 200, description = "this document (OpenAPI 3.1)", content_type = "application/json", body = Object))
)]
async fn api_docs(Extension(docs): Extension<Arc<Docs>>) -> Json<Arc<utoipa::openapi::OpenApi>> {
    Json(docs.json.clone())
}

/// Swagger UI's page. Its files are relative to a folder, and the server trims trailing
/// slashes (`/doc.html/` is `/doc.html`), so the page says where they are with a `<base>`.
#[utoipa::path(
    get,
    path = "/doc.html",
    operation_id = "docs_page",
    tag = "documentation",
    responses((status = 200, description = "Swagger UI over `/v3/api-docs`, no network needed", content_type = "text/html", body = String))
)]
async fn page(Extension(docs): Extension<Arc<Docs>>) -> Response {
    match swagger_file("index.html", &docs) {
        Some((bytes, _, _)) => {
            let html = String::from_utf8_lossy(&bytes).replacen(
                "<head>",
                "<head><base href=\"/swagger-ui/\">",
                1,
            );
            ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response()
        }
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

#[utoipa::path(
    get,
    path = "/swagger-ui/{file}",
    operation_id = "docs_asset",
    tag = "documentation",
    params(("file" = String, Path, description = "a Swagger UI file, e.g. `swagger-ui-bundle.js`")),
    responses(
        (status = 200, description = "the file, with its type", body = Vec<u8>),
        (status = 404, description = "no such file")
    )
)]
async fn asset(Extension(docs): Extension<Arc<Docs>>, Path(file): Path<String>) -> Response {
    match swagger_file(&file, &docs) {
        Some((bytes, content_type, gzipped)) => {
            let mut resp = ([(header::CONTENT_TYPE, content_type)], bytes).into_response();
            if gzipped {
                resp.headers_mut().insert(
                    header::CONTENT_ENCODING,
                    header::HeaderValue::from_static("gzip"),
                );
            }
            resp
        }
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

fn swagger_file(file: &str, docs: &Docs) -> Option<(Vec<u8>, String, bool)> {
    match utoipa_swagger_ui::serve(file, docs.ui.clone()) {
        Ok(Some(f)) => Some((f.bytes.into_owned(), f.content_type, f.gzpipped)),
        Ok(None) => None,
        Err(e) => {
            tracing::warn!(file, error = %e, "swagger ui file");
            None
        }
    }
}
