//! Payments: `PUT /user/order/payment` in mock mode (pays at once) or WeChat mode (creates a
//! JSAPI order and answers the signed `wx.requestPayment` parameters), and WeChat Pay's
//! payment notifications. Both modes check the same precondition (`domain::order::payable`),
//! and both end in the one "payment succeeded" path, [`Payments::succeeded`], which marks the
//! order paid and raises its alert in one transaction.

use std::sync::Arc;

use super::Result;
use crate::alerts::relay::Relay;
use crate::auth::random_string;
use crate::config::PayMode;
use crate::domain::Refusal;
use crate::domain::alert::{TYPE_NEW_ORDER, content_for};
use crate::domain::order::{self, BAD_STATUS, NOT_FOUND, Order};
use crate::domain::status::Status;
use crate::payment::wechat::{NotifyHeaders, Verifier};
use crate::payment::wechat_api::{Prepay, WechatClient};
use crate::store::orders::{self as sql, Payment};
use crate::store::{Store, customers};
use crate::time::Clock;

/// WeChat Pay refused, failed or could not be reached.
pub const PREPAY_FAILED: Refusal = Refusal("微信支付下单失败");
/// The amount WeChat reports does not match the order.
const WRONG_AMOUNT: Refusal = Refusal("支付金额不符");

/// Result of a payment-succeeded notice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Paid {
    /// This call marked the order paid and raised its alert.
    Now,
    /// The order was already past payment: nothing changed (a retried notification).
    Already,
}

/// What `wx.requestPayment` needs (in mock mode, stand-ins of the same shape).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentData {
    /// Unix seconds, as a string.
    pub time_stamp: String,
    /// Random string.
    pub nonce_str: String,
    /// `prepay_id=…`.
    pub package: String,
    /// `RSA`.
    pub sign_type: String,
    /// The merchant key's signature (`mock` in mock mode).
    pub pay_sign: String,
}

/// What became of a payment notification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notified {
    /// WeChat Pay is not enabled (mock mode).
    Disabled,
    /// Signature, timestamp or shape did not verify.
    Refused,
    /// Authentic, but for another merchant.
    WrongMerchant,
    /// Authentic, but not a successful payment: nothing to do.
    NotPaid,
    /// The order is paid (now, or already before: a retried notification).
    Paid,
    /// Authentic, but it does not match the order (unknown number, wrong amount).
    Mismatch,
    /// Storage failed; WeChat retries.
    Failed,
}

/// WeChat Pay's side of the payments: the API client and the notification verifier.
#[derive(Clone)]
pub struct WechatPay {
    /// Calls WeChat Pay.
    pub client: Arc<WechatClient>,
    /// Checks notifications.
    pub verifier: Arc<Verifier>,
    /// Our merchant id, which notifications must name.
    pub mchid: String,
}

/// The payment use cases. Cheap to clone.
#[derive(Clone)]
pub struct Payments {
    store: Store,
    clock: Clock,
    relay: Relay,
    mode: PayMode,
    wechat: Option<WechatPay>,
}

impl Payments {
    /// Use cases over this store, clock and relay, paying as `mode` says (`wechat` is
    /// present in wechat mode).
    pub fn new(
        store: Store,
        clock: Clock,
        relay: Relay,
        mode: PayMode,
        wechat: Option<WechatPay>,
    ) -> Payments {
        Payments {
            store,
            clock,
            relay,
            mode,
            wechat,
        }
    }

    /// The customer pays an order. Mock mode pays at once through [`Payments::succeeded`];
    /// wechat mode creates the JSAPI order at WeChat Pay and answers the signed parameters,
    /// and the order is paid only later, by a verified notification.
    #[tracing::instrument(skip_all, fields(user_id = user_id, number = number))]
    pub async fn pay(&self, user_id: i64, number: &str) -> Result<PaymentData> {
        match self.mode {
            PayMode::Mock => {
                // One conditional write checks the precondition and pays; only when it
                // changed nothing is the order read, to say why (after the write, never
                // inside it).
                let payment = Payment {
                    number,
                    user_id: Some(user_id),
                    amount: None,
                    transaction_id: None,
                    now: self.clock.now_ms(),
                };
                if self.record(&payment).await? == Paid::Already {
                    self.payable_order(user_id, number).await?;
                    // Payable when read again: another change (the timeout task, a cancel,
                    // a parallel payment) won and was undone in between; this payment did
                    // not happen.
                    return Err(BAD_STATUS.into());
                }
                Ok(PaymentData {
                    time_stamp: (payment.now / 1000).to_string(),
                    nonce_str: random_string(32),
                    package: format!("prepay_id=mock-{number}"),
                    sign_type: "RSA".into(),
                    pay_sign: "mock".into(),
                })
            }
            PayMode::Wechat => {
                let order = self.payable_order(user_id, number).await?;
                self.prepay(user_id, &order).await
            }
        }
    }

    /// Marks the order paid and raises its new-order alert in one atomic write (see
    /// [`sql::mark_paid_alerting`]), then hands the alert to the relay. `Already` when
    /// nothing matched.
    async fn record(&self, payment: &Payment<'_>) -> Result<Paid> {
        let content = content_for(payment.number);
        match sql::mark_paid_alerting(&self.store, payment, TYPE_NEW_ORDER, &content).await? {
            Some(alert) => {
                self.relay.committed(vec![alert]);
                Ok(Paid::Now)
            }
            None => Ok(Paid::Already),
        }
    }

    /// The one precondition of every payment: the customer's own order, not paid yet and
    /// still pending payment.
    async fn payable_order(&self, user_id: i64, number: &str) -> Result<Order> {
        let order = match sql::by_number(self.store.pool(), number).await? {
            Some(o) if o.user_id == user_id => o,
            _ => return Err(NOT_FOUND.into()),
        };
        order::payable(&order)?;
        Ok(order)
    }

    /// The JSAPI order at WeChat Pay for the order's amount, paid by the customer's openid.
    async fn prepay(&self, user_id: i64, order: &Order) -> Result<PaymentData> {
        let wechat = self.wechat.as_ref().ok_or(PREPAY_FAILED)?;
        let openid = customers::openid(self.store.pool(), user_id)
            .await?
            .ok_or(NOT_FOUND)?;
        let now = self.clock.now_ms() / 1000;
        let prepay = Prepay {
            order_number: &order.number,
            total_fen: order.amount,
            openid: &openid,
        };
        let prepay_id = wechat.client.jsapi_prepay(prepay, now).await.map_err(|e| {
            tracing::warn!(number = order.number, error = %e, "WeChat Pay JSAPI order failed");
            PREPAY_FAILED
        })?;
        let p = wechat.client.pay_params(&prepay_id, now);
        Ok(PaymentData {
            time_stamp: p.time_stamp,
            nonce_str: p.nonce_str,
            package: p.package,
            sign_type: p.sign_type.into(),
            pay_sign: p.pay_sign,
        })
    }

    /// The one "payment succeeded" path, for mock payments and verified WeChat notifications.
    /// Idempotent: only the call that moves the order from unpaid to paid raises the alert.
    /// `paid_total` (fen), when given, must equal the order's amount.
    #[tracing::instrument(skip_all, fields(number = number))]
    pub async fn succeeded(
        &self,
        number: &str,
        transaction_id: Option<&str>,
        paid_total: Option<i64>,
    ) -> Result<Paid> {
        let payment = Payment {
            number,
            user_id: None,
            amount: paid_total,
            transaction_id,
            now: self.clock.now_ms(),
        };
        if self.record(&payment).await? == Paid::Now {
            return Ok(Paid::Now);
        }
        // Nothing changed: say why, from the order as it is now.
        let order = sql::by_number(self.store.pool(), number)
            .await?
            .ok_or(NOT_FOUND)?;
        if let Some(total) = paid_total
            && total != order.amount
        {
            tracing::warn!(
                number,
                paid = total,
                due = order.amount,
                "payment amount does not match the order"
            );
            return Err(WRONG_AMOUNT.into());
        }
        if order.status == Status::Cancelled.code() {
            tracing::warn!(
                number,
                "payment arrived for a cancelled order: refund it by hand"
            );
        }
        Ok(Paid::Already)
    }

    /// A WeChat Pay notification (`POST /notify/paySuccess`): verified (signature, timestamp,
    /// merchant), decrypted, then [`Payments::succeeded`] with WeChat's amount. A repeat
    /// changes nothing and still counts as paid, so WeChat stops retrying.
    pub async fn notified(&self, headers: &NotifyHeaders, body: &[u8]) -> Notified {
        let Some(wechat) = self.wechat.as_ref() else {
            return Notified::Disabled;
        };
        let now = self.clock.now_ms() / 1000;
        let tx = match wechat.verifier.verify_and_decrypt(headers, body, now) {
            Ok(tx) => tx,
            Err(e) => {
                tracing::warn!(error = %e, "payment notification refused");
                metrics::counter!("sky_payment_notifications_refused_total").increment(1);
                return Notified::Refused;
            }
        };
        if tx.mchid.as_deref().is_some_and(|m| m != wechat.mchid) {
            tracing::warn!(mchid = ?tx.mchid, "payment notification for another merchant");
            return Notified::WrongMerchant;
        }
        if tx.trade_state != "SUCCESS" {
            return Notified::NotPaid;
        }
        let total = Some(tx.amount_total);
        match self
            .succeeded(&tx.out_trade_no, Some(&tx.transaction_id), total)
            .await
        {
            Ok(_) => Notified::Paid,
            Err(e @ (super::Error::Rejected(_) | super::Error::Refused(_))) => {
                let (number, msg) = (tx.out_trade_no, e.to_string());
                tracing::warn!(number, msg, "payment notification rejected");
                Notified::Mismatch
            }
            Err(super::Error::Store(e)) => {
                tracing::error!(error = %e, "payment notification failed; WeChat will retry");
                Notified::Failed
            }
            Err(super::Error::SessionOver) => Notified::Mismatch,
        }
    }
}
