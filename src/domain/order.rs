//! Orders and their lines, what an order costs, and when it may be paid.

use super::Refusal;
use super::shop::ShopId;
use super::status::{PayStatus, Status};

/// 订单不存在 (also for someone else's order: ids cannot be probed).
pub const NOT_FOUND: Refusal = Refusal("订单不存在");
/// 订单状态错误
pub const BAD_STATUS: Refusal = Refusal("订单状态错误");
/// 该订单已支付
pub const ALREADY_PAID: Refusal = Refusal("该订单已支付");
/// 购物车数量过大: the amount would overflow.
pub const TOO_LARGE: Refusal = Refusal("购物车数量过大");

/// Packing fee per item, in fen; the mini-program shows the same sum before submitting, but
/// only this one counts.
pub const PACK_FEE_PER_ITEM: i64 = 100;
/// Flat delivery fee in fen.
pub const DELIVERY_FEE: i64 = 600;

/// An order: every column of `orders` the clients see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Order {
    /// Id.
    pub id: i64,
    /// The shop it was ordered from.
    pub shop_id: i64,
    /// Order number (WeChat's `out_trade_no`).
    pub number: String,
    /// A [`Status`] code.
    pub status: i64,
    /// The customer.
    pub user_id: i64,
    /// The address book entry it was sent to.
    pub address_book_id: i64,
    /// When it was submitted, Unix ms.
    pub order_time: i64,
    /// When it was paid, Unix ms.
    pub checkout_time: Option<i64>,
    /// 1 WeChat, 2 Alipay (as the customer chose).
    pub pay_method: i64,
    /// A [`PayStatus`] code.
    pub pay_status: i64,
    /// What the customer pays, in fen.
    pub amount: i64,
    /// The customer's remark.
    pub remark: String,
    /// Consignee's phone.
    pub phone: String,
    /// Delivery address, one line.
    pub address: String,
    /// The customer's name.
    pub user_name: String,
    /// Consignee.
    pub consignee: String,
    /// Why it was cancelled.
    pub cancel_reason: Option<String>,
    /// Why the merchant rejected it.
    pub rejection_reason: Option<String>,
    /// When it was cancelled or rejected, Unix ms.
    pub cancel_time: Option<i64>,
    /// Delivery time the customer asked for, Unix ms.
    pub estimated_delivery_time: Option<i64>,
    /// 1 as soon as possible, 0 at the chosen time.
    pub delivery_status: i64,
    /// When it was delivered, Unix ms.
    pub delivery_time: Option<i64>,
    /// Packing fee, in fen.
    pub pack_amount: i64,
    /// Sets of tableware.
    pub tableware_number: i64,
    /// 1 as many as dishes, 0 a given number.
    pub tableware_status: i64,
    /// The last reminder, Unix ms.
    pub last_reminder_at: Option<i64>,
}

/// One line of an order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderLine {
    /// Id.
    pub id: i64,
    /// Its order.
    pub order_id: i64,
    /// Dish or set meal name, as ordered.
    pub name: String,
    /// Image, as ordered.
    pub image: String,
    /// The dish, for a dish line.
    pub dish_id: Option<i64>,
    /// The set meal, for a set meal line.
    pub setmeal_id: Option<i64>,
    /// Chosen flavor.
    pub dish_flavor: String,
    /// How many.
    pub number: i64,
    /// Unit price, in fen.
    pub amount: i64,
}

/// Whose orders a search reads: always exactly one shop's or one customer's. There is no
/// "every order" scope, so no value of a filter can widen a search past its owner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderScope {
    /// A merchant's: this shop's orders.
    Shop(ShopId),
    /// A customer's: their own orders.
    Customer(i64),
}

/// Filters of an order search within its [`OrderScope`].
#[derive(Debug, Default, Clone)]
pub struct OrderFilter {
    /// Number contains this.
    pub number: Option<String>,
    /// Phone contains this.
    pub phone: Option<String>,
    /// Only this status.
    pub status: Option<i64>,
    /// Submitted at or after, Unix ms.
    pub begin: Option<i64>,
    /// Submitted at or before, Unix ms.
    pub end: Option<i64>,
}

/// What an order of these (unit price in fen, count) lines costs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Totals {
    /// Packing fee, in fen.
    pub pack_amount: i64,
    /// Everything: the lines, packing and delivery, in fen.
    pub amount: i64,
}

/// The totals of an order of these (unit price, count) lines; the amount is computed here,
/// never taken from the client. Refuses sums that would overflow.
pub fn totals(lines: impl IntoIterator<Item = (i64, i64)>) -> Result<Totals, Refusal> {
    let mut items_total: i64 = 0;
    let mut count: i64 = 0;
    for (price, number) in lines {
        let line_total = price.checked_mul(number).ok_or(TOO_LARGE)?;
        items_total = items_total.checked_add(line_total).ok_or(TOO_LARGE)?;
        count = count.saturating_add(number);
    }
    let pack_amount = count.saturating_mul(PACK_FEE_PER_ITEM);
    let amount = items_total
        .saturating_add(pack_amount)
        .saturating_add(DELIVERY_FEE);
    Ok(Totals {
        pack_amount,
        amount,
    })
}

/// The one precondition of every way to pay (mock or WeChat): the order is not paid yet and
/// still waits for its payment.
pub fn payable(order: &Order) -> Result<(), Refusal> {
    if order.pay_status == PayStatus::Paid.code() {
        return Err(ALREADY_PAID);
    }
    if order.status != Status::PendingPayment.code() {
        return Err(BAD_STATUS);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order(status: Status, pay: PayStatus) -> Order {
        Order {
            id: 1,
            shop_id: 1,
            number: "1".into(),
            status: status.code(),
            user_id: 1,
            address_book_id: 1,
            order_time: 0,
            checkout_time: None,
            pay_method: 1,
            pay_status: pay.code(),
            amount: 100,
            remark: String::new(),
            phone: String::new(),
            address: String::new(),
            user_name: String::new(),
            consignee: String::new(),
            cancel_reason: None,
            rejection_reason: None,
            cancel_time: None,
            estimated_delivery_time: None,
            delivery_status: 1,
            delivery_time: None,
            pack_amount: 0,
            tableware_number: 0,
            tableware_status: 1,
            last_reminder_at: None,
        }
    }

    #[test]
    fn totals_add_packing_per_item_and_delivery() {
        let t = totals([(3800, 2), (200, 1)]).unwrap();
        assert_eq!(t.pack_amount, 300);
        assert_eq!(t.amount, 3800 * 2 + 200 + 300 + DELIVERY_FEE);
    }

    #[test]
    fn totals_refuse_overflow() {
        assert_eq!(totals([(i64::MAX, 2)]), Err(TOO_LARGE));
        assert_eq!(totals([(i64::MAX, 1), (1, 1)]), Err(TOO_LARGE));
    }

    #[test]
    fn only_unpaid_pending_orders_are_payable() {
        assert_eq!(
            payable(&order(Status::PendingPayment, PayStatus::Unpaid)),
            Ok(())
        );
        assert_eq!(
            payable(&order(Status::AwaitingAcceptance, PayStatus::Paid)),
            Err(ALREADY_PAID)
        );
        assert_eq!(
            payable(&order(Status::Cancelled, PayStatus::Unpaid)),
            Err(BAD_STATUS)
        );
    }
}
