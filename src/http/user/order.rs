//! Customer orders: submit, pay, history, details, cancel, repeat and remind.

use axum::extract::State;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use crate::app::AppState;
use crate::config::PayMode;
use crate::domain::order::OrderFilter as Search;
use crate::http::error::{ApiError, ApiResult, Envelope, done, ok};
use crate::http::extract::{Body, Customer, PathParam, QueryParams};
use crate::http::views::{OrderView, Page, money, paging};
use crate::orders::service::SubmitInput;
use crate::orders::state::Status;
use crate::payment::wechat_api::Prepay;
use crate::store::customers;
use crate::store::orders as sql;
use crate::time::{fmt_minutes, parse_local};

pub fn router() -> Router<AppState> {
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
#[derive(Deserialize)]
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
            return Err(ApiError::business("支付方式错误"));
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

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SubmitReply {
    id: i64,
    order_number: String,
    order_amount: serde_json::Number,
    order_time: String,
}

async fn submit(
    State(app): State<AppState>,
    c: Customer,
    Body(req): Body<SubmitReq>,
) -> ApiResult<Json<Envelope<SubmitReply>>> {
    let s = app.orders.submit(c.user_id, req.parse()?).await?;
    Ok(ok(SubmitReply {
        id: s.id,
        order_number: s.number,
        order_amount: money(s.amount),
        order_time: fmt_minutes(s.order_time),
    }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PaymentReq {
    order_number: String,
    #[serde(default)]
    pay_method: Option<i64>,
}

#[derive(Serialize)]
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
async fn payment(
    State(app): State<AppState>,
    c: Customer,
    Body(req): Body<PaymentReq>,
) -> ApiResult<Json<Envelope<PaymentReply>>> {
    if req.order_number.is_empty() || req.order_number.len() > 32 {
        return Err(ApiError::business(crate::orders::NOT_FOUND));
    }
    if let Some(m) = req.pay_method
        && !(1..=2).contains(&m)
    {
        return Err(ApiError::business("支付方式错误"));
    }
    match app.settings.pay_mode {
        PayMode::Mock => {
            app.orders.pay_mock(c.user_id, &req.order_number).await?;
            let nonce = crate::auth::random_string(32);
            Ok(ok(PaymentReply {
                time_stamp: (app.clock.now_ms() / 1000).to_string(),
                package_str: format!("prepay_id=mock-{}", req.order_number),
                pay_sign: "mock".into(),
                sign_type: "RSA".into(),
                nonce_str: nonce,
            }))
        }
        PayMode::Wechat => pay_wechat(&app, c.user_id, &req.order_number).await,
    }
}

/// WeChat Pay refused, failed or could not be reached.
const PREPAY_FAILED: &str = "微信支付下单失败";

/// The same checks as a mock payment (the customer's order, unpaid, pending payment), then the
/// JSAPI order at WeChat Pay for the order's amount, paid by the customer's openid.
async fn pay_wechat(
    app: &AppState,
    user_id: i64,
    number: &str,
) -> ApiResult<Json<Envelope<PaymentReply>>> {
    let Some(wechat) = app.wechat_api.as_ref() else {
        return Err(ApiError::business(PREPAY_FAILED));
    };
    let order = app.orders.customer_order_by_number(user_id, number).await?;
    if order.pay_status == 1 {
        return Err(ApiError::business("该订单已支付"));
    }
    if order.status != Status::PendingPayment.code() {
        return Err(ApiError::business(crate::orders::BAD_STATUS));
    }
    let Some(openid) = customers::openid(app.store.pool(), user_id).await? else {
        return Err(ApiError::business(crate::orders::NOT_FOUND));
    };
    let now = app.clock.now_ms() / 1000;
    let prepay = Prepay {
        order_number: &order.number,
        total_fen: order.amount,
        openid: &openid,
    };
    let prepay_id = match wechat.jsapi_prepay(prepay, now).await {
        Ok(id) => id,
        Err(e) => {
            tracing::warn!(number, error = %e, "WeChat Pay JSAPI order failed");
            return Err(ApiError::business(PREPAY_FAILED));
        }
    };
    let p = wechat.pay_params(&prepay_id, now);
    Ok(ok(PaymentReply {
        nonce_str: p.nonce_str,
        pay_sign: p.pay_sign,
        time_stamp: p.time_stamp,
        sign_type: p.sign_type.into(),
        package_str: p.package,
    }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct HistoryQuery {
    page: Option<i64>,
    page_size: Option<i64>,
    status: Option<i64>,
}

async fn history(
    State(app): State<AppState>,
    c: Customer,
    QueryParams(q): QueryParams<HistoryQuery>,
) -> ApiResult<Json<Envelope<Page<OrderView>>>> {
    let (offset, limit) = paging(q.page, q.page_size);
    let filter = Search {
        user_id: Some(c.user_id),
        status: q.status,
        ..Default::default()
    };
    let (total, rows) = sql::search(app.store.pool(), &filter, offset, limit).await?;
    let ids: Vec<i64> = rows.iter().map(|o| o.id).collect();
    let details = sql::lines(app.store.pool(), &ids).await?;
    Ok(ok(Page {
        total,
        records: OrderView::many(rows, details, false),
    }))
}

async fn detail(
    State(app): State<AppState>,
    c: Customer,
    PathParam(id): PathParam<i64>,
) -> ApiResult<Json<Envelope<OrderView>>> {
    let order = app.orders.customer_order(c.user_id, id).await?;
    let details = sql::lines(app.store.pool(), &[order.id]).await?;
    Ok(ok(OrderView::new(order, details, false)))
}

async fn cancel(
    State(app): State<AppState>,
    c: Customer,
    PathParam(id): PathParam<i64>,
) -> ApiResult<Json<Envelope<()>>> {
    app.orders.cancel_by_customer(c.user_id, id).await?;
    Ok(done())
}

async fn repetition(
    State(app): State<AppState>,
    c: Customer,
    PathParam(id): PathParam<i64>,
) -> ApiResult<Json<Envelope<()>>> {
    app.orders.repeat(c.user_id, id).await?;
    Ok(done())
}

async fn reminder(
    State(app): State<AppState>,
    c: Customer,
    PathParam(id): PathParam<i64>,
) -> ApiResult<Json<Envelope<()>>> {
    app.orders.remind(c.user_id, id).await?;
    Ok(done())
}
