//! The alert log over REST: the pages a client fetches beyond the replay bound, and
//! acknowledgement for clients that cannot use the socket (SSE).

use axum::extract::{FromRef, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use crate::alerts::service::Alerts;
use crate::auth::Tokens;
use crate::auth::identity::Merchant;
use crate::domain::alert::{AlertRecord, NOT_FOUND};
use crate::http::error::{ApiError, ApiResult, Envelope, ok};
use crate::http::extract::{PathParam, QueryParams};
use crate::time::fmt_seconds;

/// `/admin/alerts` and `/admin/alerts/{id}/ack`.
pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    Tokens: FromRef<S>,
    Alerts: FromRef<S>,
{
    Router::new()
        .route("/admin/alerts", get(list))
        .route("/admin/alerts/{id}/ack", post(ack))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
struct ListQuery {
    /// Only alerts with a smaller sequence (newest first); default: from the newest.
    before_seq: Option<i64>,
    /// Only unhandled ones.
    unhandled: Option<bool>,
    limit: Option<i64>,
}

/// An alert as REST shows it (the same fields as the socket's `alert` event).
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AlertView {
    seq: i64,
    id: i64,
    #[serde(rename = "type")]
    kind: i64,
    order_id: i64,
    order_number: String,
    content: String,
    time: String,
    realert: i64,
    handled: bool,
}

impl AlertView {
    fn new(a: AlertRecord, handled: bool) -> AlertView {
        AlertView {
            seq: a.seq,
            id: a.id,
            kind: a.kind,
            order_id: a.order_id,
            order_number: a.order_number,
            time: fmt_seconds(a.created_at),
            content: a.content,
            realert: a.realert,
            handled,
        }
    }
}

#[utoipa::path(
    get,
    path = "/admin/alerts",
    operation_id = "alerts_list",
    tag = "admin: alerts",
    params(ListQuery),
    security(("token" = []), ("session" = [])),
    responses(
        (status = 200, description = "`code: 1` and `data`, or `code: 0` and the refusal in `msg`", body = Envelope<Vec<AlertView>>),
        (status = 400, description = "malformed request: the envelope with `code: 0`", body = Envelope<utoipa::TupleUnit>),
        (status = 401, description = "missing, expired or revoked token"),
    )
)]
async fn list(
    State(alerts): State<Alerts>,
    m: Merchant,
    QueryParams(q): QueryParams<ListQuery>,
) -> ApiResult<Json<Envelope<Vec<AlertView>>>> {
    let limit = q.limit.unwrap_or(50).clamp(1, 500);
    let before = q.before_seq.unwrap_or(i64::MAX);
    let rows = alerts
        .page(m.shop_id, before, q.unhandled.unwrap_or(false), limit)
        .await
        .map_err(ApiError::internal)?;
    Ok(ok(rows
        .into_iter()
        .map(|(a, h)| AlertView::new(a, h))
        .collect()))
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
struct AckReply {
    handled_ids: Vec<i64>,
}

#[utoipa::path(
    post,
    path = "/admin/alerts/{id}/ack",
    operation_id = "alerts_ack",
    tag = "admin: alerts",
    params(("id" = i64, Path)),
    security(("token" = []), ("session" = [])),
    responses(
        (status = 200, description = "`code: 1` and `data`, or `code: 0` and the refusal in `msg`", body = Envelope<AckReply>),
        (status = 401, description = "missing, expired or revoked token"),
    )
)]
async fn ack(
    State(alerts): State<Alerts>,
    m: Merchant,
    PathParam(id): PathParam<i64>,
) -> ApiResult<Json<Envelope<AckReply>>> {
    let ids = alerts
        .acknowledge(m.shop_id, id, m.employee_id)
        .await
        .map_err(ApiError::internal)?
        .ok_or(NOT_FOUND)?;
    Ok(ok(AckReply { handled_ids: ids }))
}

/// The OpenAPI description of these routes.
#[derive(utoipa::OpenApi)]
#[openapi(paths(list, ack))]
pub struct Doc;
