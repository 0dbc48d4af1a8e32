//! Customer orders: submit, pay, history, details, cancel, repeat and remind.

use axum::extract::{FromRef, State};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use crate::auth::Tokens;
use crate::auth::identity::Customer;
use crate::domain::money::yuan;
use crate::domain::order::NOT_FOUND;
use crate::http::error::{ApiError, ApiResult, Envelope, done, ok};
use crate::http::extract::{Body, PathParam, QueryParams};
use crate::http::views::{OrderView, Page, paging};
use crate::time::{fmt_minutes, parse_local};
use crate::usecases::orders::{Orders, SubmitInput};
use crate::usecases::payments::Payments;

/// Not a pay method of the contract (1 WeChat, 2 Alipay).
const BAD_PAY_METHOD: &str = "支付方式错误";
/// Longest order number (WeChat's `out_trade_no`).
const MAX_NUMBER: usize = 32;

/// `/user/order/…`.
pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    Tokens: FromRef<S>,
    Orders: FromRef<S>,
    Payments: FromRef<S>,
{
    Router::new()
        .route("/user/order/submit", post(submit))
        .route("/user/order/payment", put(payment))
        .route("/user/order/historyOrders", get(history))
        .route("/user/order/orderDetail/{id}", get(detail))
        .route("/user/order/cancel/{id}", put(cancel))
        .route("/user/order/repetition/{id}", post(repetition))
        .route("/user/order/reminder/{id}", get(reminder))
}

/// The submit body. `amount` and `packAmount` are accepted and ignored: the server computes them.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
struct SubmitReq {
    address_book_id: i64,
    pay_method: i64,
    #[serde(default)]
    remark: Option<String>,
    #[serde(default)]
    estimated_delivery_time: Option<String>,
    #[serde(default)]
    delivery_status: Option<i64>,
    #[serde(default)]
    tableware_number: Option<i64>,
    #[serde(default)]
    tableware_status: Option<i64>,
}

impl SubmitReq {
    fn parse(self) -> Result<SubmitInput, ApiError> {
        if !(1..=2).contains(&self.pay_method) {
            return Err(ApiError::business(BAD_PAY_METHOD));
        }
        let remark = self.remark.unwrap_or_default();
        if remark.chars().count() > 200 {
            return Err(ApiError::business("备注不能超过200字"));
        }
        let estimated = match self.estimated_delivery_time.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(s) => Some(parse_local(s).ok_or_else(|| {
                ApiError::BadRequest("estimatedDeliveryTime must be yyyy-MM-dd HH:mm:ss".into())
            })?),
        };
        let tableware_number = self.tableware_number.unwrap_or(0);
        if !(0..=99).contains(&tableware_number) {
            return Err(ApiError::business("餐具数量错误"));
        }
        Ok(SubmitInput {
            address_book_id: self.address_book_id,
            pay_method: self.pay_method,
            remark,
            estimated_delivery_time: estimated,
            delivery_status: self.delivery_status.unwrap_or(1).clamp(0, 1),
            tableware_number,
            tableware_status: self.tableware_status.unwrap_or(1).clamp(0, 1),
        })
    }
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
struct SubmitReply {
    id: i64,
    order_number: String,
    #[schema(value_type = f64)]
    order_amount: serde_json::Number,
    order_time: String,
}

#[utoipa::path(
    post,
    path = "/user/order/submit",
    operation_id = "order_submit",
    tag = "user: orders",
    request_body = SubmitReq,
    security(("authentication" = [])),
    responses(
        (status = 200, description = "`code: 1` and `data`, or `code: 0` and the refusal in `msg`", body = Envelope<SubmitReply>),
        (status = 400, description = "malformed request: the envelope with `code: 0`", body = Envelope<utoipa::TupleUnit>),
        (status = 401, description = "missing, expired or revoked token"),
    )
)]
async fn submit(
    State(orders): State<Orders>,
    c: Customer,
    Body(req): Body<SubmitReq>,
) -> ApiResult<Json<Envelope<SubmitReply>>> {
    let s = orders.submit(c.user_id, req.parse()?).await?;
    Ok(ok(SubmitReply {
        id: s.id,
        order_number: s.number,
        order_amount: yuan(s.amount),
        order_time: fmt_minutes(s.order_time),
    }))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
struct PaymentReq {
    order_number: String,
    #[serde(default)]
    pay_method: Option<i64>,
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
struct PaymentReply {
    nonce_str: String,
    pay_sign: String,
    time_stamp: String,
    sign_type: String,
    package_str: String,
}

/// Mock mode pays at once through the same path as a WeChat notification. Wechat mode creates
/// a WeChat Pay JSAPI order and answers the signed `wx.requestPayment` parameters; the order is
/// paid only later, by a verified `POST /notify/paySuccess`.
#[utoipa::path(
    put,
    path = "/user/order/payment",
    operation_id = "order_payment",
    tag = "user: orders",
    request_body = PaymentReq,
    security(("authentication" = [])),
    responses(
        (status = 200, description = "`code: 1` and `data`, or `code: 0` and the refusal in `msg`", body = Envelope<PaymentReply>),
        (status = 400, description = "malformed request: the envelope with `code: 0`", body = Envelope<utoipa::TupleUnit>),
        (status = 401, description = "missing, expired or revoked token"),
    )
)]
async fn payment(
    State(payments): State<Payments>,
    c: Customer,
    Body(req): Body<PaymentReq>,
) -> ApiResult<Json<Envelope<PaymentReply>>> {
    if req.order_number.is_empty() || req.order_number.len() > MAX_NUMBER {
        return Err(NOT_FOUND.into());
    }
    if let Some(m) = req.pay_method
        && !(1..=2).contains(&m)
    {
        return Err(ApiError::business(BAD_PAY_METHOD));
    }
    let p = payments.pay(c.user_id, &req.order_number).await?;
    Ok(ok(PaymentReply {
        nonce_str: p.nonce_str,
        pay_sign: p.pay_sign,
        time_stamp: p.time_stamp,
        sign_type: p.sign_type,
        package_str: p.package,
    }))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
struct HistoryQuery {
    page: Option<i64>,
    page_size: Option<i64>,
    status: Option<i64>,
}

#[utoipa::path(
    get,
    path = "/user/order/historyOrders",
    operation_id = "order_history",
    tag = "user: orders",
    params(HistoryQuery),
    security(("authentication" = [])),
    responses(
        (status = 200, description = "`code: 1` and `data`, or `code: 0` and the refusal in `msg`", body = Envelope<Page<OrderView>>),
        (status = 400, description = "malformed request: the envelope with `code: 0`", body = Envelope<utoipa::TupleUnit>),
        (status = 401, description = "missing, expired or revoked token"),
    )
)]
async fn history(
    State(orders): State<Orders>,
    c: Customer,
    QueryParams(q): QueryParams<HistoryQuery>,
) -> ApiResult<Json<Envelope<Page<OrderView>>>> {
    let (offset, limit) = paging(q.page, q.page_size);
    let page = orders.history(c.user_id, q.status, offset, limit).await?;
    Ok(ok(Page {
        total: page.total,
        records: OrderView::many(page.orders, page.lines, false),
    }))
}

#[utoipa::path(
    get,
    path = "/user/order/orderDetail/{id}",
    operation_id = "order_detail",
    tag = "user: orders",
    params(("id" = i64, Path)),
    security(("authentication" = [])),
    responses(
        (status = 200, description = "`code: 1` and `data`, or `code: 0` and the refusal in `msg`", body = Envelope<OrderView>),
        (status = 401, description = "missing, expired or revoked token"),
    )
)]
async fn detail(
    State(orders): State<Orders>,
    c: Customer,
    PathParam(id): PathParam<i64>,
) -> ApiResult<Json<Envelope<OrderView>>> {
    let (order, lines) = orders.customer_order_lines(c.user_id, id).await?;
    Ok(ok(OrderView::new(order, lines, false)))
}

#[utoipa::path(
    put,
    path = "/user/order/cancel/{id}",
    operation_id = "order_cancel",
    tag = "user: orders",
    params(("id" = i64, Path)),
    security(("authentication" = [])),
    responses(
        (status = 200, description = "`{code: 1, msg: null, data: null}`, or `code: 0` and the refusal in `msg`", body = Envelope<utoipa::TupleUnit>),
        (status = 401, description = "missing, expired or revoked token"),
    )
)]
async fn cancel(
    State(orders): State<Orders>,
    c: Customer,
    PathParam(id): PathParam<i64>,
) -> ApiResult<Json<Envelope<()>>> {
    orders.cancel_by_customer(c.user_id, id).await?;
    Ok(done())
}

#[utoipa::path(
    post,
    path = "/user/order/repetition/{id}",
    operation_id = "order_repetition",
    tag = "user: orders",
    params(("id" = i64, Path)),
    security(("authentication" = [])),
    responses(
        (status = 200, description = "`{code: 1, msg: null, data: null}`, or `code: 0` and the refusal in `msg`", body = Envelope<utoipa::TupleUnit>),
        (status = 401, description = "missing, expired or revoked token"),
    )
)]
async fn repetition(
    State(orders): State<Orders>,
    c: Customer,
    PathParam(id): PathParam<i64>,
) -> ApiResult<Json<Envelope<()>>> {
    orders.repeat(c.user_id, id).await?;
    Ok(done())
}

#[utoipa::path(
    get,
    path = "/user/order/reminder/{id}",
    operation_id = "order_reminder",
    tag = "user: orders",
    params(("id" = i64, Path)),
    security(("authentication" = [])),
    responses(
        (status = 200, description = "`{code: 1, msg: null, data: null}`, or `code: 0` and the refusal in `msg`", body = Envelope<utoipa::TupleUnit>),
        (status = 401, description = "missing, expired or revoked token"),
    )
)]
async fn reminder(
    State(orders): State<Orders>,
    c: Customer,
    PathParam(id): PathParam<i64>,
) -> ApiResult<Json<Envelope<()>>> {
    orders.remind(c.user_id, id).await?;
    Ok(done())
}

/// The OpenAPI description of these routes.
#[derive(utoipa::OpenApi)]
#[openapi(paths(submit, payment, history, detail, cancel, repetition, reminder))]
pub struct Doc;
