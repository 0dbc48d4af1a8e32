//! REST adapters: one module per resource group, each exposing `router::<S>()` with the
//! substates it needs (`FromRef` bounds; `app::state` provides them). A handler parses the
//! request, calls one use case and renders the contract's envelope; it never reaches the
//! store. Also the reply envelope and its error mapping, the body/path/query extractors,
//! shared views, the stored images (`images`, no token) and the embedded dashboard (`web`).

pub mod admin;
pub mod error;
pub mod extract;
pub mod images;
pub mod notify;
pub mod user;
pub mod views;
pub mod web;

/// The OpenAPI description of every REST route (merchant, customer, WeChat Pay, images). The
/// dashboard's pages (`web`) are not API and are left out.
pub fn openapi() -> utoipa::openapi::OpenApi {
    use utoipa::OpenApi;
    let mut doc = admin::openapi();
    doc.merge(user::openapi());
    doc.merge(notify::Doc::openapi());
    doc.merge(images::Doc::openapi());
    doc
}
