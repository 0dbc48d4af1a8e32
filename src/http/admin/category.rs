//! 分类管理: the merchant's categories (`/admin/category…`), as the stock admin app calls them:
//! `type` and `sort` arrive as strings, the edit posts `{id,name,sort}`, the status call's
//! `id` is in the query.

use axum::extract::{FromRef, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use super::wire::Audit;
use crate::auth::Tokens;
use crate::auth::identity::Merchant;
use crate::domain::menu::Category;
use crate::http::error::{ApiError, ApiResult, Envelope, done, ok};
use crate::http::extract::{Body, PathParam, QueryParams};
use crate::http::views::{Page, paging};
use crate::usecases::catalog::{Catalog, CategoryInput};

/// `/admin/category`, `/admin/category/page`, `/admin/category/list`,
/// `/admin/category/status/{status}`.
pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    Tokens: FromRef<S>,
    Catalog: FromRef<S>,
{
    Router::new()
        .route("/admin/category", post(add).put(update).delete(delete_one))
        .route("/admin/category/page", get(page))
        .route("/admin/category/list", get(list))
        .route("/admin/category/status/{status}", post(set_status))
}

/// A category as the clients read it.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
struct CategoryView {
    id: i64,
    shop_id: i64,
    #[serde(rename = "type")]
    kind: i64,
    name: String,
    sort: i64,
    status: i64,
    #[serde(flatten)]
    audit: Audit,
}

impl From<Category> for CategoryView {
    fn from(c: Category) -> Self {
        CategoryView {
            audit: Audit::new((c.created_at, c.create_user), (c.updated_at, c.update_user)),
            id: c.id,
            shop_id: c.shop_id,
            kind: c.kind,
            name: c.name,
            sort: c.sort,
            status: c.status,
        }
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
struct CategoryReq {
    id: Option<i64>,
    #[serde(rename = "type")]
    kind: Option<i64>,
    name: Option<String>,
    sort: Option<i64>,
}

impl CategoryReq {
    fn input(self) -> CategoryInput {
        CategoryInput {
            kind: self.kind,
            name: self.name,
            sort: self.sort,
        }
    }
}

#[utoipa::path(
    post,
    path = "/admin/category",
    operation_id = "category_add",
    tag = "admin: categories",
    request_body = CategoryReq,
    security(("token" = []), ("session" = [])),
    responses(
        (status = 200, description = "`{code: 1, msg: null, data: null}`, or `code: 0` and the refusal in `msg`", body = Envelope<utoipa::TupleUnit>),
        (status = 400, description = "malformed request: the envelope with `code: 0`", body = Envelope<utoipa::TupleUnit>),
        (status = 401, description = "missing, expired or revoked token"),
    )
)]
async fn add(
    State(catalog): State<Catalog>,
    m: Merchant,
    Body(req): Body<CategoryReq>,
) -> ApiResult<Json<Envelope<()>>> {
    catalog
        .add_category(m.shop_id.get(), m.employee_id, req.input())
        .await?;
    Ok(done())
}

#[utoipa::path(
    put,
    path = "/admin/category",
    operation_id = "category_update",
    tag = "admin: categories",
    request_body = CategoryReq,
    security(("token" = []), ("session" = [])),
    responses(
        (status = 200, description = "`{code: 1, msg: null, data: null}`, or `code: 0` and the refusal in `msg`", body = Envelope<utoipa::TupleUnit>),
        (status = 400, description = "malformed request: the envelope with `code: 0`", body = Envelope<utoipa::TupleUnit>),
        (status = 401, description = "missing, expired or revoked token"),
    )
)]
async fn update(
    State(catalog): State<Catalog>,
    m: Merchant,
    Body(req): Body<CategoryReq>,
) -> ApiResult<Json<Envelope<()>>> {
    let id = req
        .id
        .ok_or_else(|| ApiError::BadRequest("id is required".into()))?;
    catalog
        .update_category(m.shop_id.get(), m.employee_id, id, req.input())
        .await?;
    Ok(done())
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
struct PageQuery {
    page: Option<i64>,
    page_size: Option<i64>,
    name: Option<String>,
    #[serde(rename = "type")]
    kind: Option<i64>,
}

#[utoipa::path(
    get,
    path = "/admin/category/page",
    operation_id = "category_page",
    tag = "admin: categories",
    params(PageQuery),
    security(("token" = []), ("session" = [])),
    responses(
        (status = 200, description = "`code: 1` and `data`, or `code: 0` and the refusal in `msg`", body = Envelope<Page<CategoryView>>),
        (status = 400, description = "malformed request: the envelope with `code: 0`", body = Envelope<utoipa::TupleUnit>),
        (status = 401, description = "missing, expired or revoked token"),
    )
)]
async fn page(
    State(catalog): State<Catalog>,
    m: Merchant,
    QueryParams(q): QueryParams<PageQuery>,
) -> ApiResult<Json<Envelope<Page<CategoryView>>>> {
    let name = q.name.as_deref().map(str::trim).filter(|n| !n.is_empty());
    let paging = paging(q.page, q.page_size);
    let found = catalog
        .category_page(m.shop_id.get(), name, q.kind, paging)
        .await?;
    Ok(ok(Page {
        total: found.total,
        records: found.items.into_iter().map(CategoryView::from).collect(),
    }))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    #[serde(rename = "type")]
    kind: Option<i64>,
}

#[utoipa::path(
    get,
    path = "/admin/category/list",
    operation_id = "category_list",
    tag = "admin: categories",
    params(ListQuery),
    security(("token" = []), ("session" = [])),
    responses(
        (status = 200, description = "`code: 1` and `data`, or `code: 0` and the refusal in `msg`", body = Envelope<Vec<CategoryView>>),
        (status = 400, description = "malformed request: the envelope with `code: 0`", body = Envelope<utoipa::TupleUnit>),
        (status = 401, description = "missing, expired or revoked token"),
    )
)]
async fn list(
    State(catalog): State<Catalog>,
    m: Merchant,
    QueryParams(q): QueryParams<ListQuery>,
) -> ApiResult<Json<Envelope<Vec<CategoryView>>>> {
    let rows = catalog.category_list(m.shop_id.get(), q.kind).await?;
    Ok(ok(rows.into_iter().map(CategoryView::from).collect()))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct IdQuery {
    id: i64,
}

#[utoipa::path(
    post,
    path = "/admin/category/status/{status}",
    operation_id = "category_set_status",
    tag = "admin: categories",
    params(IdQuery, ("status" = i64, Path)),
    security(("token" = []), ("session" = [])),
    responses(
        (status = 200, description = "`{code: 1, msg: null, data: null}`, or `code: 0` and the refusal in `msg`", body = Envelope<utoipa::TupleUnit>),
        (status = 400, description = "malformed request: the envelope with `code: 0`", body = Envelope<utoipa::TupleUnit>),
        (status = 401, description = "missing, expired or revoked token"),
    )
)]
async fn set_status(
    State(catalog): State<Catalog>,
    m: Merchant,
    PathParam(status): PathParam<i64>,
    QueryParams(q): QueryParams<IdQuery>,
) -> ApiResult<Json<Envelope<()>>> {
    catalog
        .category_status(m.shop_id.get(), m.employee_id, q.id, status)
        .await?;
    Ok(done())
}

#[utoipa::path(
    delete,
    path = "/admin/category",
    operation_id = "category_delete_one",
    tag = "admin: categories",
    params(IdQuery),
    security(("token" = []), ("session" = [])),
    responses(
        (status = 200, description = "`{code: 1, msg: null, data: null}`, or `code: 0` and the refusal in `msg`", body = Envelope<utoipa::TupleUnit>),
        (status = 400, description = "malformed request: the envelope with `code: 0`", body = Envelope<utoipa::TupleUnit>),
        (status = 401, description = "missing, expired or revoked token"),
    )
)]
async fn delete_one(
    State(catalog): State<Catalog>,
    m: Merchant,
    QueryParams(q): QueryParams<IdQuery>,
) -> ApiResult<Json<Envelope<()>>> {
    catalog.delete_category(m.shop_id.get(), q.id).await?;
    Ok(done())
}

/// The OpenAPI description of these routes.
#[derive(utoipa::OpenApi)]
#[openapi(paths(add, update, page, list, set_status, delete_one))]
pub struct Doc;
