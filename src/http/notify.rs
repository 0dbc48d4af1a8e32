//! `POST /notify/paySuccess`: WeChat Pay API-v3 payment notifications. Verified (signature,
//! timestamp, merchant, amount), decrypted, then the one "payment succeeded" path; a repeat
//! changes nothing and still answers SUCCESS so WeChat stops retrying.

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::json;

use crate::app::AppState;
use crate::orders::OrderError;
use crate::payment::wechat::NotifyHeaders;

pub fn router() -> Router<AppState> {
    Router::new().route("/notify/paySuccess", post(pay_success))
}

fn reply(status: StatusCode, code: &str, message: &str) -> Response {
    (status, Json(json!({ "code": code, "message": message }))).into_response()
}

async fn pay_success(State(app): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let (Some(verifier), Some(wechat)) = (app.wechat.as_ref(), app.settings.wechat.as_ref()) else {
        return reply(StatusCode::NOT_FOUND, "FAIL", "wechat pay is not enabled");
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
    let now = app.clock.now_ms() / 1000;
    let tx = match verifier.verify_and_decrypt(&nh, &body, now) {
        Ok(tx) => tx,
        Err(e) => {
            tracing::warn!(error = %e, "payment notification refused");
            metrics::counter!("sky_payment_notifications_refused_total").increment(1);
            return reply(StatusCode::UNAUTHORIZED, "FAIL", "verification failed");
        }
    };
    if tx.mchid.as_deref().is_some_and(|m| m != wechat.mchid) {
        tracing::warn!(mchid = ?tx.mchid, "payment notification for another merchant");
        return reply(StatusCode::BAD_REQUEST, "FAIL", "wrong merchant");
    }
    if tx.trade_state != "SUCCESS" {
        // Not a payment: acknowledge so it is not retried, change nothing.
        return reply(StatusCode::OK, "SUCCESS", "SUCCESS");
    }
    match app
        .orders
        .payment_succeeded(
            &tx.out_trade_no,
            Some(&tx.transaction_id),
            Some(tx.amount_total),
        )
        .await
    {
        Ok(_) => reply(StatusCode::OK, "SUCCESS", "SUCCESS"),
        Err(OrderError::Rejected(msg)) => {
            tracing::warn!(
                number = tx.out_trade_no,
                msg,
                "payment notification rejected"
            );
            reply(StatusCode::BAD_REQUEST, "FAIL", "order does not match")
        }
        Err(OrderError::Store(e)) => {
            tracing::error!(error = %e, "payment notification failed; WeChat will retry");
            reply(StatusCode::INTERNAL_SERVER_ERROR, "FAIL", "internal error")
        }
    }
}
