//! Merchant order management: search, statistics, details and the status actions.

use axum::extract::{FromRef, State};
use axum::routing::{get, put};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use crate::auth::Tokens;
use crate::auth::identity::Merchant;
use crate::domain::order::OrderFilter;
use crate::domain::status::Action;
use crate::http::error::{ApiError, ApiResult, Envelope, done, ok};
use crate::http::extract::{Body, PathParam, QueryParams};
use crate::http::views::{OrderView, Page, paging};
use crate::time::parse_local;
use crate::usecases::orders::Orders;

/// `/admin/order/…`.
pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    Tokens: FromRef<S>,
    Orders: FromRef<S>,
{
    Router::new()
        .route("/admin/order/conditionSearch", get(search))
        .route("/admin/order/statistics", get(statistics))
        .route("/admin/order/details/{id}", get(details))
        .route("/admin/order/confirm", put(confirm))
        .route("/admin/order/rejection", put(reject))
        .route("/admin/order/cancel", put(cancel))
        .route("/admin/order/delivery/{id}", put(deliver))
        .route("/admin/order/complete/{id}", put(complete))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
struct SearchQuery {
    page: Option<i64>,
    page_size: Option<i64>,
    number: Option<String>,
    phone: Option<String>,
    status: Option<i64>,
    begin_time: Option<String>,
    end_time: Option<String>,
}

fn time_param(v: Option<String>, name: &str) -> Result<Option<i64>, ApiError> {
    match v.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(s) => parse_local(s)
            .map(Some)
            .ok_or_else(|| ApiError::BadRequest(format!("{name} must be yyyy-MM-dd HH:mm:ss"))),
    }
}

fn text_param(v: Option<String>) -> Option<String> {
    v.map(|s| s.trim().chars().take(32).collect::<String>())
        .filter(|s| !s.is_empty())
}

#[utoipa::path(
    get,
    path = "/admin/order/conditionSearch",
    operation_id = "order_search",
    tag = "admin: orders",
    params(SearchQuery),
    security(("token" = []), ("session" = [])),
    responses(
        (status = 200, description = "`code: 1` and `data`, or `code: 0` and the refusal in `msg`", body = Envelope<Page<OrderView>>),
        (status = 400, description = "malformed request: the envelope with `code: 0`", body = Envelope<utoipa::TupleUnit>),
        (status = 401, description = "missing, expired or revoked token"),
    )
)]
async fn search(
    State(orders): State<Orders>,
    m: Merchant,
    QueryParams(q): QueryParams<SearchQuery>,
) -> ApiResult<Json<Envelope<Page<OrderView>>>> {
    let (offset, limit) = paging(q.page, q.page_size);
    let filter = OrderFilter {
        number: text_param(q.number),
        phone: text_param(q.phone),
        status: q.status,
        begin: time_param(q.begin_time, "beginTime")?,
        end: time_param(q.end_time, "endTime")?,
    };
    let page = orders.search(m.shop_id, filter, offset, limit).await?;
    Ok(ok(Page {
        total: page.total,
        records: OrderView::many(page.orders, page.lines, true),
    }))
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
struct Statistics {
    to_be_confirmed: i64,
    confirmed: i64,
    delivery_in_progress: i64,
}

#[utoipa::path(
    get,
    path = "/admin/order/statistics",
    operation_id = "order_statistics",
    tag = "admin: orders",
    security(("token" = []), ("session" = [])),
    responses(
        (status = 200, description = "`code: 1` and `data`, or `code: 0` and the refusal in `msg`", body = Envelope<Statistics>),
        (status = 401, description = "missing, expired or revoked token"),
    )
)]
async fn statistics(
    State(orders): State<Orders>,
    m: Merchant,
) -> ApiResult<Json<Envelope<Statistics>>> {
    let s = orders.statistics(m.shop_id).await?;
    Ok(ok(Statistics {
        to_be_confirmed: s.to_be_confirmed,
        confirmed: s.confirmed,
        delivery_in_progress: s.delivery_in_progress,
    }))
}

#[utoipa::path(
    get,
    path = "/admin/order/details/{id}",
    operation_id = "order_details",
    tag = "admin: orders",
    params(("id" = i64, Path)),
    security(("token" = []), ("session" = [])),
    responses(
        (status = 200, description = "`code: 1` and `data`, or `code: 0` and the refusal in `msg`", body = Envelope<OrderView>),
        (status = 401, description = "missing, expired or revoked token"),
    )
)]
async fn details(
    State(orders): State<Orders>,
    m: Merchant,
    PathParam(id): PathParam<i64>,
) -> ApiResult<Json<Envelope<OrderView>>> {
    let (order, lines) = orders.shop_order_lines(m.shop_id, id).await?;
    Ok(ok(OrderView::new(order, lines, true)))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
struct ActionReq {
    id: i64,
    #[serde(default)]
    rejection_reason: Option<String>,
    #[serde(default)]
    cancel_reason: Option<String>,
}

fn reason(r: Option<String>, what: &'static str) -> Result<String, ApiError> {
    let r = r.unwrap_or_default();
    let r = r.trim();
    if r.is_empty() {
        return Err(ApiError::business(what));
    }
    if r.chars().count() > 100 {
        return Err(ApiError::business("原因不能超过100字"));
    }
    Ok(r.to_string())
}

async fn act(
    orders: &Orders,
    m: Merchant,
    id: i64,
    action: Action,
    why: Option<&str>,
) -> ApiResult<Json<Envelope<()>>> {
    orders
        .merchant_action(m.shop_id, m.employee_id, id, action, why)
        .await?;
    Ok(done())
}

#[utoipa::path(
    put,
    path = "/admin/order/confirm",
    operation_id = "order_confirm",
    tag = "admin: orders",
    request_body = ActionReq,
    security(("token" = []), ("session" = [])),
    responses(
        (status = 200, description = "`{code: 1, msg: null, data: null}`, or `code: 0` and the refusal in `msg`", body = Envelope<utoipa::TupleUnit>),
        (status = 400, description = "malformed request: the envelope with `code: 0`", body = Envelope<utoipa::TupleUnit>),
        (status = 401, description = "missing, expired or revoked token"),
    )
)]
async fn confirm(
    State(orders): State<Orders>,
    m: Merchant,
    Body(r): Body<ActionReq>,
) -> ApiResult<Json<Envelope<()>>> {
    act(&orders, m, r.id, Action::Confirm, None).await
}

#[utoipa::path(
    put,
    path = "/admin/order/rejection",
    operation_id = "order_reject",
    tag = "admin: orders",
    request_body = ActionReq,
    security(("token" = []), ("session" = [])),
    responses(
        (status = 200, description = "`{code: 1, msg: null, data: null}`, or `code: 0` and the refusal in `msg`", body = Envelope<utoipa::TupleUnit>),
        (status = 400, description = "malformed request: the envelope with `code: 0`", body = Envelope<utoipa::TupleUnit>),
        (status = 401, description = "missing, expired or revoked token"),
    )
)]
async fn reject(
    State(orders): State<Orders>,
    m: Merchant,
    Body(r): Body<ActionReq>,
) -> ApiResult<Json<Envelope<()>>> {
    let why = reason(r.rejection_reason, "请填写拒单原因")?;
    act(&orders, m, r.id, Action::Reject, Some(&why)).await
}

#[utoipa::path(
    put,
    path = "/admin/order/cancel",
    operation_id = "order_cancel",
    tag = "admin: orders",
    request_body = ActionReq,
    security(("token" = []), ("session" = [])),
    responses(
        (status = 200, description = "`{code: 1, msg: null, data: null}`, or `code: 0` and the refusal in `msg`", body = Envelope<utoipa::TupleUnit>),
        (status = 400, description = "malformed request: the envelope with `code: 0`", body = Envelope<utoipa::TupleUnit>),
        (status = 401, description = "missing, expired or revoked token"),
    )
)]
async fn cancel(
    State(orders): State<Orders>,
    m: Merchant,
    Body(r): Body<ActionReq>,
) -> ApiResult<Json<Envelope<()>>> {
    let why = reason(r.cancel_reason, "请填写取消原因")?;
    act(&orders, m, r.id, Action::MerchantCancel, Some(&why)).await
}

#[utoipa::path(
    put,
    path = "/admin/order/delivery/{id}",
    operation_id = "order_deliver",
    tag = "admin: orders",
    params(("id" = i64, Path)),
    security(("token" = []), ("session" = [])),
    responses(
        (status = 200, description = "`{code: 1, msg: null, data: null}`, or `code: 0` and the refusal in `msg`", body = Envelope<utoipa::TupleUnit>),
        (status = 401, description = "missing, expired or revoked token"),
    )
)]
async fn deliver(
    State(orders): State<Orders>,
    m: Merchant,
    PathParam(id): PathParam<i64>,
) -> ApiResult<Json<Envelope<()>>> {
    act(&orders, m, id, Action::Deliver, None).await
}

#[utoipa::path(
    put,
    path = "/admin/order/complete/{id}",
    operation_id = "order_complete",
    tag = "admin: orders",
    params(("id" = i64, Path)),
    security(("token" = []), ("session" = [])),
    responses(
        (status = 200, description = "`{code: 1, msg: null, data: null}`, or `code: 0` and the refusal in `msg`", body = Envelope<utoipa::TupleUnit>),
        (status = 401, description = "missing, expired or revoked token"),
    )
)]
async fn complete(
    State(orders): State<Orders>,
    m: Merchant,
    PathParam(id): PathParam<i64>,
) -> ApiResult<Json<Envelope<()>>> {
    act(&orders, m, id, Action::Complete, None).await
}

/// The OpenAPI description of these routes.
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    search, statistics, details, confirm, reject, cancel, deliver, complete
))]
pub struct Doc;
