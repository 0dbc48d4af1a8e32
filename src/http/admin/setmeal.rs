//! 套餐管理: the merchant's set meals (`/admin/setmeal…`), as the stock admin app calls them:
//! `price` arrives as a string (or the number an untouched edit posts back), the form's
//! extras (`idType`, `dishList`, `code`…) are ignored, each dish comes as
//! `{copies,dishId,name,price}` (name and price are taken from the dish itself).

use axum::extract::{FromRef, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use super::wire::{Audit, IdsQuery, Price, StatusQuery};
use crate::auth::Tokens;
use crate::auth::identity::Merchant;
use crate::domain::menu::SetmealDish;
use crate::domain::money::yuan;
use crate::http::error::{ApiError, ApiResult, Envelope, done, ok};
use crate::http::extract::{Body, PathParam, QueryParams};
use crate::http::views::{Page, paging};
use crate::usecases::catalog::{Catalog, SetmealDetail, SetmealFilter, SetmealInput};

/// `/admin/setmeal`, `/admin/setmeal/page`, `/admin/setmeal/{id}`,
/// `/admin/setmeal/status/{status}`.
pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    Tokens: FromRef<S>,
    Catalog: FromRef<S>,
{
    Router::new()
        .route("/admin/setmeal", post(add).put(update).delete(delete_many))
        .route("/admin/setmeal/page", get(page))
        .route("/admin/setmeal/{id}", get(one))
        .route("/admin/setmeal/status/{status}", post(set_status))
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
struct SetmealDishView {
    id: i64,
    setmeal_id: i64,
    dish_id: i64,
    name: String,
    #[schema(value_type = f64)]
    price: serde_json::Number,
    copies: i64,
}

impl From<SetmealDish> for SetmealDishView {
    fn from(d: SetmealDish) -> Self {
        SetmealDishView {
            id: d.id,
            setmeal_id: d.setmeal_id,
            dish_id: d.dish_id,
            name: d.name,
            price: yuan(d.price),
            copies: d.copies,
        }
    }
}

/// `SetmealVO`: the set meal with its category's name and dishes.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
struct SetmealView {
    id: i64,
    category_id: i64,
    name: String,
    #[schema(value_type = f64)]
    price: serde_json::Number,
    status: i64,
    description: String,
    image: String,
    #[serde(flatten)]
    audit: Audit,
    category_name: Option<String>,
    setmeal_dishes: Vec<SetmealDishView>,
}

impl From<SetmealDetail> for SetmealView {
    fn from(d: SetmealDetail) -> Self {
        let s = d.setmeal;
        SetmealView {
            audit: Audit::new((s.created_at, s.create_user), (s.updated_at, s.update_user)),
            id: s.id,
            category_id: s.category_id,
            name: s.name,
            price: yuan(s.price),
            status: s.status,
            description: s.description,
            image: s.image,
            category_name: d.category_name,
            setmeal_dishes: d.dishes.into_iter().map(SetmealDishView::from).collect(),
        }
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
struct SetmealDishReq {
    dish_id: Option<i64>,
    copies: Option<i64>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
struct SetmealReq {
    id: Option<i64>,
    name: Option<String>,
    category_id: Option<i64>,
    /// Yuan, at most two decimals; a number or a numeric string (`"12.5"`).
    #[schema(value_type = Option<f64>)]
    price: Option<Price>,
    image: Option<String>,
    description: Option<String>,
    status: Option<i64>,
    setmeal_dishes: Option<Vec<SetmealDishReq>>,
}

impl SetmealReq {
    fn input(self) -> Result<SetmealInput, ApiError> {
        let dishes = self
            .setmeal_dishes
            .map(|ds| {
                ds.into_iter()
                    .map(|d| match d.dish_id {
                        Some(id) => Ok((id, d.copies.unwrap_or(1))),
                        None => Err(ApiError::BadRequest(
                            "setmealDishes[].dishId is required".into(),
                        )),
                    })
                    .collect::<Result<Vec<_>, _>>()
            })
            .transpose()?;
        Ok(SetmealInput {
            name: self.name,
            category_id: self.category_id,
            price: self.price.map(|p| p.0),
            image: self.image,
            description: self.description,
            status: self.status,
            dishes,
        })
    }
}

#[utoipa::path(
    post,
    path = "/admin/setmeal",
    operation_id = "setmeal_add",
    tag = "admin: set meals",
    request_body = SetmealReq,
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
    Body(req): Body<SetmealReq>,
) -> ApiResult<Json<Envelope<()>>> {
    catalog
        .add_setmeal(m.shop_id.get(), m.employee_id, req.input()?)
        .await?;
    Ok(done())
}

#[utoipa::path(
    put,
    path = "/admin/setmeal",
    operation_id = "setmeal_update",
    tag = "admin: set meals",
    request_body = SetmealReq,
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
    Body(req): Body<SetmealReq>,
) -> ApiResult<Json<Envelope<()>>> {
    let id = req
        .id
        .ok_or_else(|| ApiError::BadRequest("id is required".into()))?;
    catalog
        .update_setmeal(m.shop_id.get(), m.employee_id, id, req.input()?)
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
    path = "/admin/setmeal/page",
    operation_id = "setmeal_page",
    tag = "admin: set meals",
    params(PageQuery),
    security(("token" = []), ("session" = [])),
    responses(
        (status = 200, description = "`code: 1` and `data`, or `code: 0` and the refusal in `msg`", body = Envelope<Page<SetmealView>>),
        (status = 400, description = "malformed request: the envelope with `code: 0`", body = Envelope<utoipa::TupleUnit>),
        (status = 401, description = "missing, expired or revoked token"),
    )
)]
async fn page(
    State(catalog): State<Catalog>,
    m: Merchant,
    QueryParams(q): QueryParams<PageQuery>,
) -> ApiResult<Json<Envelope<Page<SetmealView>>>> {
    let filter = SetmealFilter {
        name: q
            .name
            .map(|n| n.trim().to_string())
            .filter(|n| !n.is_empty()),
        category_id: q.category_id,
        status: q.status,
    };
    let paging = paging(q.page, q.page_size);
    let found = catalog
        .setmeal_page(m.shop_id.get(), &filter, paging)
        .await?;
    Ok(ok(Page {
        total: found.total,
        records: found.items.into_iter().map(SetmealView::from).collect(),
    }))
}

#[utoipa::path(
    get,
    path = "/admin/setmeal/{id}",
    operation_id = "setmeal_one",
    tag = "admin: set meals",
    params(("id" = i64, Path)),
    security(("token" = []), ("session" = [])),
    responses(
        (status = 200, description = "`code: 1` and `data`, or `code: 0` and the refusal in `msg`", body = Envelope<SetmealView>),
        (status = 401, description = "missing, expired or revoked token"),
    )
)]
async fn one(
    State(catalog): State<Catalog>,
    m: Merchant,
    PathParam(id): PathParam<i64>,
) -> ApiResult<Json<Envelope<SetmealView>>> {
    Ok(ok(catalog.setmeal(m.shop_id.get(), id).await?.into()))
}

#[utoipa::path(
    post,
    path = "/admin/setmeal/status/{status}",
    operation_id = "setmeal_set_status",
    tag = "admin: set meals",
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
        .setmeal_status(m.shop_id.get(), m.employee_id, &q.id.0, status)
        .await?;
    Ok(done())
}

#[utoipa::path(
    delete,
    path = "/admin/setmeal",
    operation_id = "setmeal_delete_many",
    tag = "admin: set meals",
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
    catalog.delete_setmeals(m.shop_id.get(), &q.ids.0).await?;
    Ok(done())
}

/// The OpenAPI description of these routes.
#[derive(utoipa::OpenApi)]
#[openapi(paths(add, update, page, one, set_status, delete_many))]
pub struct Doc;
