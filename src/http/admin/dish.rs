//! 菜品管理: the merchant's dishes and their flavors (`/admin/dish…`), as the stock admin app
//! calls them: `price` arrives as a string, the edit posts the whole dish back with its
//! flavors rebuilt (`value` a JSON-encoded array), deletes send `ids=1,2`, the page sends
//! `status=` empty.

use axum::extract::{FromRef, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use super::wire::{Audit, IdsQuery, Price, StatusQuery};
use crate::auth::Tokens;
use crate::auth::identity::Merchant;
use crate::domain::menu::{Dish, Flavor};
use crate::domain::money::yuan;
use crate::http::error::{ApiError, ApiResult, Envelope, done, ok};
use crate::http::extract::{Body, PathParam, QueryParams};
use crate::http::views::{Page, paging};
use crate::usecases::catalog::{Catalog, DishDetail, DishFilter, DishInput};

/// `/admin/dish`, `/admin/dish/page`, `/admin/dish/list`, `/admin/dish/{id}`,
/// `/admin/dish/status/{status}`.
pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    Tokens: FromRef<S>,
    Catalog: FromRef<S>,
{
    Router::new()
        .route("/admin/dish", post(add).put(update).delete(delete_many))
        .route("/admin/dish/page", get(page))
        .route("/admin/dish/list", get(list))
        .route("/admin/dish/{id}", get(one))
        .route("/admin/dish/status/{status}", post(set_status))
}

/// A dish's own fields (`Dish` of the course: what `/admin/dish/list` answers).
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
struct DishRow {
    id: i64,
    name: String,
    category_id: i64,
    #[schema(value_type = f64)]
    price: serde_json::Number,
    image: String,
    description: String,
    status: i64,
    #[serde(flatten)]
    audit: Audit,
}

impl From<Dish> for DishRow {
    fn from(d: Dish) -> Self {
        DishRow {
            audit: Audit::new((d.created_at, d.create_user), (d.updated_at, d.update_user)),
            id: d.id,
            name: d.name,
            category_id: d.category_id,
            price: yuan(d.price),
            image: d.image,
            description: d.description,
            status: d.status,
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
struct FlavorView {
    id: i64,
    dish_id: i64,
    name: String,
    value: String,
}

impl From<Flavor> for FlavorView {
    fn from(f: Flavor) -> Self {
        FlavorView {
            id: f.id,
            dish_id: f.dish_id,
            name: f.name,
            value: f.value,
        }
    }
}

/// `DishVO`: the dish with its category's name and flavors (the page and the edit form).
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
struct DishView {
    #[serde(flatten)]
    dish: DishRow,
    category_name: Option<String>,
    flavors: Vec<FlavorView>,
}

impl From<DishDetail> for DishView {
    fn from(d: DishDetail) -> Self {
        DishView {
            dish: d.dish.into(),
            category_name: d.category_name,
            flavors: d.flavors.into_iter().map(FlavorView::from).collect(),
        }
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
struct FlavorReq {
    name: Option<String>,
    value: Option<String>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
struct DishReq {
    id: Option<i64>,
    name: Option<String>,
    category_id: Option<i64>,
    /// Yuan, at most two decimals; a number or a numeric string (`"12.5"`).
    #[schema(value_type = Option<f64>)]
    price: Option<Price>,
    image: Option<String>,
    description: Option<String>,
    status: Option<i64>,
    flavors: Option<Vec<FlavorReq>>,
}

impl DishReq {
    fn input(self) -> DishInput {
        let flavors = self.flavors.map(|fs| {
            fs.into_iter()
                .map(|f| (f.name.unwrap_or_default(), f.value.unwrap_or_default()))
                .collect()
        });
        DishInput {
            name: self.name,
            category_id: self.category_id,
            price: self.price.map(|p| p.0),
            image: self.image,
            description: self.description,
            status: self.status,
            flavors,
        }
    }
}

#[utoipa::path(
    post,
    path = "/admin/dish",
    operation_id = "dish_add",
    tag = "admin: dishes",
    request_body = DishReq,
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
    Body(req): Body<DishReq>,
) -> ApiResult<Json<Envelope<()>>> {
    catalog
        .add_dish(m.shop_id.get(), m.employee_id, req.input())
        .await?;
    Ok(done())
}

#[utoipa::path(
    put,
    path = "/admin/dish",
    operation_id = "dish_update",
    tag = "admin: dishes",
    request_body = DishReq,
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
    Body(req): Body<DishReq>,
) -> ApiResult<Json<Envelope<()>>> {
    let id = req
        .id
        .ok_or_else(|| ApiError::BadRequest("id is required".into()))?;
    catalog
        .update_dish(m.shop_id.get(), m.employee_id, id, req.input())
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
    category_id: Option<i64>,
    status: Option<i64>,
}

#[utoipa::path(
    get,
    path = "/admin/dish/page",
    operation_id = "dish_page",
    tag = "admin: dishes",
    params(PageQuery),
    security(("token" = []), ("session" = [])),
    responses(
        (status = 200, description = "`code: 1` and `data`, or `code: 0` and the refusal in `msg`", body = Envelope<Page<DishView>>),
        (status = 400, description = "malformed request: the envelope with `code: 0`", body = Envelope<utoipa::TupleUnit>),
        (status = 401, description = "missing, expired or revoked token"),
    )
)]
async fn page(
    State(catalog): State<Catalog>,
    m: Merchant,
    QueryParams(q): QueryParams<PageQuery>,
) -> ApiResult<Json<Envelope<Page<DishView>>>> {
    let filter = DishFilter {
        name: q
            .name
            .map(|n| n.trim().to_string())
            .filter(|n| !n.is_empty()),
        category_id: q.category_id,
        status: q.status,
    };
    let paging = paging(q.page, q.page_size);
    let found = catalog.dish_page(m.shop_id.get(), &filter, paging).await?;
    Ok(ok(Page {
        total: found.total,
        records: found.items.into_iter().map(DishView::from).collect(),
    }))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
struct ListQuery {
    category_id: Option<i64>,
}

/// The dishes on sale of a category, or of the whole shop when no category is given (the
/// set-meal form's search sends only `name`, which the course ignores too).
#[utoipa::path(
    get,
    path = "/admin/dish/list",
    operation_id = "dish_list",
    tag = "admin: dishes",
    params(ListQuery),
    security(("token" = []), ("session" = [])),
    responses(
        (status = 200, description = "`code: 1` and `data`, or `code: 0` and the refusal in `msg`", body = Envelope<Vec<DishRow>>),
        (status = 400, description = "malformed request: the envelope with `code: 0`", body = Envelope<utoipa::TupleUnit>),
        (status = 401, description = "missing, expired or revoked token"),
    )
)]
async fn list(
    State(catalog): State<Catalog>,
    m: Merchant,
    QueryParams(q): QueryParams<ListQuery>,
) -> ApiResult<Json<Envelope<Vec<DishRow>>>> {
    let rows = catalog
        .dishes_on_sale(m.shop_id.get(), q.category_id)
        .await?;
    Ok(ok(rows.into_iter().map(DishRow::from).collect()))
}

#[utoipa::path(
    get,
    path = "/admin/dish/{id}",
    operation_id = "dish_one",
    tag = "admin: dishes",
    params(("id" = i64, Path)),
    security(("token" = []), ("session" = [])),
    responses(
        (status = 200, description = "`code: 1` and `data`, or `code: 0` and the refusal in `msg`", body = Envelope<DishView>),
        (status = 401, description = "missing, expired or revoked token"),
    )
)]
async fn one(
    State(catalog): State<Catalog>,
    m: Merchant,
    PathParam(id): PathParam<i64>,
) -> ApiResult<Json<Envelope<DishView>>> {
    Ok(ok(catalog.dish(m.shop_id.get(), id).await?.into()))
}

#[utoipa::path(
    post,
    path = "/admin/dish/status/{status}",
    operation_id = "dish_set_status",
    tag = "admin: dishes",
    params(StatusQuery, ("status" = i64, Path)),
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
    QueryParams(q): QueryParams<StatusQuery>,
) -> ApiResult<Json<Envelope<()>>> {
    catalog
        .dish_status(m.shop_id.get(), m.employee_id, &q.id.0, status)
        .await?;
    Ok(done())
}

#[utoipa::path(
    delete,
    path = "/admin/dish",
    operation_id = "dish_delete_many",
    tag = "admin: dishes",
    params(IdsQuery),
    security(("token" = []), ("session" = [])),
    responses(
        (status = 200, description = "`{code: 1, msg: null, data: null}`, or `code: 0` and the refusal in `msg`", body = Envelope<utoipa::TupleUnit>),
        (status = 400, description = "malformed request: the envelope with `code: 0`", body = Envelope<utoipa::TupleUnit>),
        (status = 401, description = "missing, expired or revoked token"),
    )
)]
async fn delete_many(
    State(catalog): State<Catalog>,
    m: Merchant,
    QueryParams(q): QueryParams<IdsQuery>,
) -> ApiResult<Json<Envelope<()>>> {
    catalog.delete_dishes(m.shop_id.get(), &q.ids.0).await?;
    Ok(done())
}

/// The OpenAPI description of these routes.
#[derive(utoipa::OpenApi)]
#[openapi(paths(add, update, page, list, one, set_status, delete_many))]
pub struct Doc;
