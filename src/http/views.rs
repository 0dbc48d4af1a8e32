//! JSON shapes shared by several resources (camelCase, contract time formats, money as a
//! decimal number computed from integer fen).

use serde::Serialize;

use crate::domain::money::yuan;
use crate::domain::order::{Order, OrderLine};
use crate::time::fmt_minutes;

fn minutes(ms: Option<i64>) -> Option<String> {
    ms.map(fmt_minutes)
}

/// An order line.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DetailView {
    id: i64,
    name: String,
    image: String,
    order_id: i64,
    dish_id: Option<i64>,
    setmeal_id: Option<i64>,
    dish_flavor: String,
    number: i64,
    #[schema(value_type = f64)]
    amount: serde_json::Number,
}

impl From<OrderLine> for DetailView {
    fn from(d: OrderLine) -> Self {
        DetailView {
            id: d.id,
            name: d.name,
            image: d.image,
            order_id: d.order_id,
            dish_id: d.dish_id,
            setmeal_id: d.setmeal_id,
            dish_flavor: d.dish_flavor,
            number: d.number,
            amount: yuan(d.amount),
        }
    }
}

/// An order as the clients read it.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrderView {
    id: i64,
    shop_id: i64,
    number: String,
    status: i64,
    user_id: i64,
    address_book_id: i64,
    order_time: String,
    checkout_time: Option<String>,
    pay_method: i64,
    pay_status: i64,
    #[schema(value_type = f64)]
    amount: serde_json::Number,
    remark: String,
    phone: String,
    address: String,
    user_name: String,
    consignee: String,
    cancel_reason: Option<String>,
    rejection_reason: Option<String>,
    cancel_time: Option<String>,
    estimated_delivery_time: Option<String>,
    delivery_status: i64,
    delivery_time: Option<String>,
    #[schema(value_type = f64)]
    pack_amount: serde_json::Number,
    tableware_number: i64,
    tableware_status: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    order_dishes: Option<String>,
    order_detail_list: Vec<DetailView>,
}

impl OrderView {
    /// An order with its lines; `with_dishes` adds the merchant list's `orderDishes` summary.
    pub fn new(o: Order, details: Vec<OrderLine>, with_dishes: bool) -> OrderView {
        let order_dishes = with_dishes.then(|| {
            details
                .iter()
                .map(|d| format!("{}*{};", d.name, d.number))
                .collect()
        });
        OrderView {
            id: o.id,
            shop_id: o.shop_id,
            number: o.number,
            status: o.status,
            user_id: o.user_id,
            address_book_id: o.address_book_id,
            order_time: fmt_minutes(o.order_time),
            checkout_time: minutes(o.checkout_time),
            pay_method: o.pay_method,
            pay_status: o.pay_status,
            amount: yuan(o.amount),
            remark: o.remark,
            phone: o.phone,
            address: o.address,
            user_name: o.user_name,
            consignee: o.consignee,
            cancel_reason: o.cancel_reason,
            rejection_reason: o.rejection_reason,
            cancel_time: minutes(o.cancel_time),
            estimated_delivery_time: minutes(o.estimated_delivery_time),
            delivery_status: o.delivery_status,
            delivery_time: minutes(o.delivery_time),
            pack_amount: yuan(o.pack_amount),
            tableware_number: o.tableware_number,
            tableware_status: o.tableware_status,
            order_dishes,
            order_detail_list: details.into_iter().map(DetailView::from).collect(),
        }
    }

    /// Views of a page of orders, each with its own lines.
    pub fn many(rows: Vec<Order>, details: Vec<OrderLine>, with_dishes: bool) -> Vec<OrderView> {
        let mut by_order: std::collections::HashMap<i64, Vec<OrderLine>> =
            std::collections::HashMap::new();
        for d in details {
            by_order.entry(d.order_id).or_default().push(d);
        }
        rows.into_iter()
            .map(|o| {
                let mine = by_order.remove(&o.id).unwrap_or_default();
                OrderView::new(o, mine, with_dishes)
            })
            .collect()
    }
}

/// `PageResult { total, records }`.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Page<T: Serialize> {
    /// Count of all matches.
    pub total: i64,
    /// This page.
    pub records: Vec<T>,
}

/// Turns the clients' 1-based `page` / `pageSize` into (offset, limit), bounded.
pub fn paging(page: Option<i64>, page_size: Option<i64>) -> (i64, i64) {
    let size = page_size.unwrap_or(10).clamp(1, 100);
    let page = page.unwrap_or(1).clamp(1, 1_000_000);
    ((page - 1) * size, size)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paging_is_bounded() {
        assert_eq!(paging(None, None), (0, 10));
        assert_eq!(paging(Some(0), Some(0)), (0, 1));
        assert_eq!(paging(Some(3), Some(1000)), (200, 100));
        assert_eq!(paging(Some(-5), Some(-5)), (0, 1));
    }
}
