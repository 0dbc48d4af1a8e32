//! Order use cases. Each one is a single transaction whose state change is conditional on the
//! current status; alerts it raises are rows of that same transaction, handed to the relay
//! only after the commit.

use std::time::Duration;

use rand::Rng;

use super::state::{self, Action, Status};
use super::{BAD_STATUS, NOT_FOUND, OrderError};
use crate::alerts::relay::Relay;
use crate::domain::alert::{TYPE_NEW_ORDER, TYPE_REMINDER};
use crate::domain::cart::CartItem;
use crate::domain::order::{Order as OrderRow, OrderLine};
use crate::store::carts::{self, Addition};
use crate::store::orders::{self as sql, NewOrder, Owner};
use crate::store::{Store, addresses, alerts, customers, shops};
use crate::time::Clock;

/// Packing fee per item and the flat delivery fee, in fen; the mini-program shows the same
/// sum before submitting, but only this one counts.
pub const PACK_FEE_PER_ITEM: i64 = 100;
/// Flat delivery fee in fen.
pub const DELIVERY_FEE: i64 = 600;

/// What a customer submits (already parsed and range-checked by the HTTP layer).
#[derive(Debug, Clone)]
pub struct SubmitInput {
    pub address_book_id: i64,
    pub pay_method: i64,
    pub remark: String,
    pub estimated_delivery_time: Option<i64>,
    pub delivery_status: i64,
    pub tableware_number: i64,
    pub tableware_status: i64,
}

/// A submitted order.
#[derive(Debug, Clone)]
pub struct Submitted {
    pub id: i64,
    pub number: String,
    pub amount: i64,
    pub order_time: i64,
}

/// Result of a payment-succeeded notice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Paid {
    /// This call marked the order paid and raised its alert.
    Now,
    /// The order was already past payment: nothing changed (a retried notification).
    Already,
}

/// The order use cases.
#[derive(Clone)]
pub struct Orders {
    store: Store,
    clock: Clock,
    relay: Relay,
    reminder_window: Duration,
}

impl Orders {
    /// Use cases over this store, clock and relay.
    pub fn new(store: Store, clock: Clock, relay: Relay, reminder_window: Duration) -> Orders {
        Orders {
            store,
            clock,
            relay,
            reminder_window,
        }
    }

    /// Turns the customer's cart into an unpaid order; the amount is computed here.
    #[tracing::instrument(skip_all, fields(user_id))]
    pub async fn submit(&self, user_id: i64, input: SubmitInput) -> Result<Submitted, OrderError> {
        let now = self.clock.now_ms();
        let mut tx = self.store.begin().await?;
        let address = addresses::address(tx.conn(), user_id, input.address_book_id)
            .await?
            .ok_or(OrderError::Rejected("用户地址为空，不能下单"))?;
        let cart = carts::cart(tx.conn(), user_id).await?;
        let Some(first) = cart.first() else {
            return Err(OrderError::Rejected("购物车数据为空，不能下单"));
        };
        let shop_id = first.shop_id;
        if shops::shop_status(self.store.pool(), shop_id).await? != Some(1) {
            return Err(OrderError::Rejected("店铺已打烊"));
        }
        let mut items_total: i64 = 0;
        let mut count: i64 = 0;
        for line in &cart {
            let line_total = line
                .amount
                .checked_mul(line.number)
                .ok_or(OrderError::Rejected("购物车数量过大"))?;
            items_total = items_total
                .checked_add(line_total)
                .ok_or(OrderError::Rejected("购物车数量过大"))?;
            count += line.number;
        }
        let pack_amount = count.saturating_mul(PACK_FEE_PER_ITEM);
        let amount = items_total
            .saturating_add(pack_amount)
            .saturating_add(DELIVERY_FEE);
        let user_name = customers::user_name(self.store.pool(), user_id).await?;
        let mut order = NewOrder {
            shop_id,
            number: String::new(),
            user_id,
            address_book_id: address.id,
            order_time: now,
            pay_method: input.pay_method,
            amount,
            remark: input.remark,
            phone: address.phone.clone(),
            address: format!(
                "{}{}{}{}",
                address.province_name, address.city_name, address.district_name, address.detail
            ),
            user_name,
            consignee: address.consignee.clone(),
            estimated_delivery_time: input.estimated_delivery_time,
            delivery_status: input.delivery_status,
            pack_amount,
            tableware_number: input.tableware_number,
            tableware_status: input.tableware_status,
        };
        // Millisecond time plus random digits (the number is WeChat's out_trade_no, at most
        // 32 characters): a clash is rare and just draws again.
        let mut id = None;
        for _ in 0..5 {
            order.number = format!("{now}{:07}", rand::rng().random_range(0..10_000_000));
            id = sql::insert(tx.conn(), &order).await?;
            if id.is_some() {
                break;
            }
        }
        let id = id.ok_or(OrderError::Rejected("下单失败，请重试"))?;
        for line in &cart {
            let line = OrderLine {
                id: 0,
                order_id: id,
                name: line.name.clone(),
                image: line.image.clone(),
                dish_id: line.dish_id,
                setmeal_id: line.setmeal_id,
                dish_flavor: line.dish_flavor.clone(),
                number: line.number,
                amount: line.amount,
            };
            sql::insert_line(tx.conn(), id, &line).await?;
        }
        carts::clear(tx.conn(), user_id).await?;
        tx.commit().await?;
        Ok(Submitted {
            id,
            number: order.number,
            amount,
            order_time: now,
        })
    }

    /// Mock payment (`PUT /user/order/payment` in mock mode): checks the order is the
    /// customer's and unpaid, then goes through [`Orders::payment_succeeded`].
    #[tracing::instrument(skip_all, fields(user_id))]
    pub async fn pay_mock(&self, user_id: i64, number: &str) -> Result<OrderRow, OrderError> {
        let order = self.customer_order_by_number(user_id, number).await?;
        if order.pay_status == 1 {
            return Err(OrderError::Rejected("该订单已支付"));
        }
        if order.status != Status::PendingPayment.code() {
            return Err(OrderError::Rejected(BAD_STATUS));
        }
        // Another change (the timeout task, a cancel, a parallel payment) may win between the
        // check above and the conditional update: then this payment did not happen.
        match self.payment_succeeded(number, None, None).await? {
            Paid::Now => Ok(order),
            Paid::Already => Err(OrderError::Rejected(BAD_STATUS)),
        }
    }

    /// The customer's order with this number, or 订单不存在.
    pub async fn customer_order_by_number(
        &self,
        user_id: i64,
        number: &str,
    ) -> Result<OrderRow, OrderError> {
        match sql::by_number(self.store.pool(), number).await? {
            Some(o) if o.user_id == user_id => Ok(o),
            _ => Err(OrderError::Rejected(NOT_FOUND)),
        }
    }

    /// The one "payment succeeded" path, for mock payments and verified WeChat notifications.
    /// Idempotent: only the call that moves the order from unpaid to paid raises the alert.
    /// `paid_total` (fen), when given, must equal the order's amount.
    #[tracing::instrument(skip_all, fields(number))]
    pub async fn payment_succeeded(
        &self,
        number: &str,
        transaction_id: Option<&str>,
        paid_total: Option<i64>,
    ) -> Result<Paid, OrderError> {
        let now = self.clock.now_ms();
        let mut tx = self.store.begin().await?;
        let order = sql::by_number(tx.conn(), number)
            .await?
            .ok_or(OrderError::Rejected(NOT_FOUND))?;
        if let Some(total) = paid_total
            && total != order.amount
        {
            tracing::warn!(
                number,
                paid = total,
                due = order.amount,
                "payment amount does not match the order"
            );
            return Err(OrderError::Rejected("支付金额不符"));
        }
        let Some((order_id, shop_id)) =
            sql::mark_paid(tx.conn(), number, transaction_id, now).await?
        else {
            if order.status == Status::Cancelled.code() {
                tracing::warn!(
                    number,
                    "payment arrived for a cancelled order: refund it by hand"
                );
            }
            return Ok(Paid::Already);
        };
        let alert =
            alerts::insert(tx.conn(), shop_id, TYPE_NEW_ORDER, 0, order_id, number, now).await?;
        tx.commit().await?;
        self.relay.committed(vec![alert]);
        Ok(Paid::Now)
    }

    /// A customer's reminder (催单): own order only, status 2–4, at most once per window.
    #[tracing::instrument(skip_all, fields(user_id, order_id))]
    pub async fn remind(&self, user_id: i64, order_id: i64) -> Result<(), OrderError> {
        let order = self.customer_order(user_id, order_id).await?;
        let status = Status::from_code(order.status).ok_or(OrderError::Rejected(BAD_STATUS))?;
        if !state::can_remind(status) {
            return Err(OrderError::Rejected(BAD_STATUS));
        }
        let now = self.clock.now_ms();
        let mut tx = self.store.begin().await?;
        if !sql::claim_reminder(
            tx.conn(),
            order_id,
            user_id,
            now,
            self.reminder_window.as_millis() as i64,
        )
        .await?
        {
            return Err(OrderError::Rejected("催单过于频繁，请稍后再试"));
        }
        let alert = alerts::insert(
            tx.conn(),
            order.shop_id,
            TYPE_REMINDER,
            0,
            order_id,
            &order.number,
            now,
        )
        .await?;
        tx.commit().await?;
        self.relay.committed(vec![alert]);
        Ok(())
    }

    /// The customer's order, or 订单不存在 (also for someone else's: ids cannot be probed).
    pub async fn customer_order(
        &self,
        user_id: i64,
        order_id: i64,
    ) -> Result<OrderRow, OrderError> {
        match sql::by_id(self.store.pool(), order_id).await? {
            Some(o) if o.user_id == user_id => Ok(o),
            _ => Err(OrderError::Rejected(NOT_FOUND)),
        }
    }

    /// The shop's order, or 订单不存在.
    pub async fn shop_order(&self, shop_id: i64, order_id: i64) -> Result<OrderRow, OrderError> {
        match sql::by_id(self.store.pool(), order_id).await? {
            Some(o) if o.shop_id == shop_id => Ok(o),
            _ => Err(OrderError::Rejected(NOT_FOUND)),
        }
    }

    /// The customer cancels (only before acceptance; refunds when paid).
    pub async fn cancel_by_customer(&self, user_id: i64, order_id: i64) -> Result<(), OrderError> {
        let order = self.customer_order(user_id, order_id).await?;
        self.change(
            order,
            Owner::User(user_id),
            Action::CustomerCancel,
            Some("用户取消"),
            None,
        )
        .await
    }

    /// A merchant action on the shop's order: confirm, reject, cancel, deliver or complete.
    #[tracing::instrument(skip_all, fields(shop_id, order_id))]
    pub async fn merchant_action(
        &self,
        shop_id: i64,
        employee_id: i64,
        order_id: i64,
        action: Action,
        reason: Option<&str>,
    ) -> Result<(), OrderError> {
        let order = self.shop_order(shop_id, order_id).await?;
        self.change(
            order,
            Owner::Shop(shop_id),
            action,
            reason,
            Some(employee_id),
        )
        .await
    }

    /// Applies an action; an accepted, rejected or cancelled order's alerts become handled in
    /// the same transaction and every screen is told.
    async fn change(
        &self,
        order: OrderRow,
        owner: Owner,
        action: Action,
        reason: Option<&str>,
        by: Option<i64>,
    ) -> Result<(), OrderError> {
        let now = self.clock.now_ms();
        let mut tx = self.store.begin().await?;
        if !sql::apply(tx.conn(), order.id, owner, action, reason, now).await? {
            return Err(OrderError::Rejected(BAD_STATUS));
        }
        let handled = match action {
            Action::Confirm | Action::Reject | Action::CustomerCancel | Action::MerchantCancel => {
                alerts::handle_order(tx.conn(), order.id, by, now).await?
            }
            _ => Vec::new(),
        };
        tx.commit().await?;
        self.relay.handled(order.shop_id, order.id, handled);
        Ok(())
    }

    /// Cancels unpaid orders older than `timeout`. Returns how many.
    pub async fn cancel_unpaid(&self, timeout: Duration) -> Result<u64, OrderError> {
        let now = self.clock.now_ms();
        let mut tx = self.store.begin().await?;
        let n = sql::cancel_unpaid_before(tx.conn(), now - timeout.as_millis() as i64, now).await?;
        tx.commit().await?;
        Ok(n)
    }

    /// Completes orders out for delivery placed more than `after` ago. Returns how many.
    pub async fn complete_delivering(&self, after: Duration) -> Result<u64, OrderError> {
        let now = self.clock.now_ms();
        let mut tx = self.store.begin().await?;
        let n =
            sql::complete_delivering_before(tx.conn(), now - after.as_millis() as i64, now).await?;
        tx.commit().await?;
        Ok(n)
    }

    /// Copies an order's lines back into the customer's cart (再来一单).
    pub async fn repeat(&self, user_id: i64, order_id: i64) -> Result<(), OrderError> {
        let order = self.customer_order(user_id, order_id).await?;
        let lines = sql::lines(self.store.pool(), &[order.id]).await?;
        let now = self.clock.now_ms();
        let mut tx = self.store.begin().await?;
        let cart = carts::cart(tx.conn(), user_id).await?;
        if cart.iter().any(|l| l.shop_id != order.shop_id) {
            return Err(OrderError::Rejected("购物车中已有其他店铺的菜品"));
        }
        for l in lines {
            let Some(dish_id) = l.dish_id else { continue };
            let addition = Addition {
                item: CartItem::Dish(dish_id),
                shop_id: order.shop_id,
                name: &l.name,
                image: &l.image,
                price: l.amount,
                flavor: &l.dish_flavor,
            };
            let count = l.number.clamp(0, 99);
            if count > 0 {
                carts::add(tx.conn(), user_id, &addition, count, now).await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }
}
