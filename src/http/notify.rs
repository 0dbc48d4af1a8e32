//! `POST /notify/paySuccess`: WeChat Pay API-v3 payment notifications. The payments use case
//! verifies, decrypts and pays; this answers WeChat in its own JSON (`{code, message}`), with
//! SUCCESS for a repeat too so WeChat stops retrying, and FAIL (400) for a body that cannot
//! be read at all.

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRef, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::json;

use crate::payment::wechat::NotifyHeaders;
use crate::usecases::payments::{Notified, Payments};

/// `/notify/paySuccess`.
pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    Payments: FromRef<S>,
{
    Router::new().route("/notify/paySuccess", post(pay_success))
}

fn reply(status: StatusCode, code: &str, message: &str) -> Response {
    (status, Json(json!({ "code": code, "message": message }))).into_response()
}

#[utoipa::path(
    post,
    path = "/notify/paySuccess",
    operation_id = "notify_pay_success",
    tag = "WeChat Pay",
    request_body(content = Object, description = "WeChat Pay's signed notification (`Wechatpay-*` headers, AES-GCM resource)", content_type = "application/json"),
    responses(
        (status = 200, description = "accepted (also for a retry of a notification already applied): WeChat's `{code: SUCCESS}`", body = Object),
        (status = 400, description = "refused (bad signature, unknown order, wrong amount): WeChat retries", body = Object),
    )
)]
async fn pay_success(
    State(payments): State<Payments>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    // A body that cannot be read (broken chunked encoding, cut short of its Content-Length,
    // over the limit while streaming) is answered in WeChat's shape too, not as axum's text.
    let body = match body {
        Ok(b) => b,
        Err(e) => {
            tracing::warn!(error = %e.body_text(), "unreadable payment notification body");
            return reply(e.status(), "FAIL", "malformed or truncated body");
        }
    };
    let h = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    let nh = NotifyHeaders {
        timestamp: h("wechatpay-timestamp"),
        nonce: h("wechatpay-nonce"),
        signature: h("wechatpay-signature"),
        serial: h("wechatpay-serial"),
    };
    match payments.notified(&nh, &body).await {
        Notified::Disabled => reply(StatusCode::NOT_FOUND, "FAIL", "wechat pay is not enabled"),
        Notified::Refused => reply(StatusCode::UNAUTHORIZED, "FAIL", "verification failed"),
        Notified::WrongMerchant => reply(StatusCode::BAD_REQUEST, "FAIL", "wrong merchant"),
        // Not a payment: acknowledged so it is not retried; nothing changed.
        Notified::NotPaid | Notified::Paid => reply(StatusCode::OK, "SUCCESS", "SUCCESS"),
        Notified::Mismatch => reply(StatusCode::BAD_REQUEST, "FAIL", "order does not match"),
        Notified::Failed => reply(StatusCode::INTERNAL_SERVER_ERROR, "FAIL", "internal error"),
    }
}

/// The OpenAPI description of these routes.
#[derive(utoipa::OpenApi)]
#[openapi(paths(pay_success))]
pub struct Doc;
