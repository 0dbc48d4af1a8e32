//! Order use cases: submit, remind, cancel, the merchant's actions, the scheduled sweeps,
//! 再来一单, and the reads of orders. Each change is a single transaction whose state change is
//! conditional on the current status; alerts it raises are rows of that same transaction,
//! handed to the relay only after the commit. (Paying is the `payments` group's.)

use std::time::Duration;

use rand::Rng;

use super::{Error, Result};
use crate::alerts::relay::Relay;
use crate::domain::alert::TYPE_REMINDER;
use crate::domain::cart::{self, CartItem, CartLine, NOTHING_TO_REPEAT};
use crate::domain::order::{
    self, BAD_STATUS, NOT_FOUND, Order, OrderFilter, OrderLine, OrderScope,
};
use crate::domain::shop::{IS_CLOSED, OPEN, ShopId};
use crate::domain::status::{self as state, Action, Status};
use crate::domain::{Refusal, address};
use crate::store::carts::Addition;
use crate::store::orders::{self as sql, NewOrder, Owner};
use crate::store::{Store, WriteTx, addresses, alerts, carts, customers, menu, shops};
use crate::time::Clock;

/// Submitting failed to draw a free order number five times.
const NO_NUMBER: Refusal = Refusal("下单失败，请重试");
/// Reminded again within the window.
const TOO_OFTEN: Refusal = Refusal("催单过于频繁，请稍后再试");
/// Most of one line that 再来一单 copies back.
const MAX_REPEAT_PER_LINE: i64 = 99;

/// What a customer submits (already parsed and range-checked by the adapter).
#[derive(Debug, Clone)]
pub struct SubmitInput {
    /// The chosen address (must be the customer's).
    pub address_book_id: i64,
    /// 1 WeChat, 2 Alipay.
    pub pay_method: i64,
    /// The customer's remark.
    pub remark: String,
    /// Asked delivery time, Unix ms.
    pub estimated_delivery_time: Option<i64>,
    /// 1 as soon as possible, 0 at the chosen time.
    pub delivery_status: i64,
    /// Sets of tableware.
    pub tableware_number: i64,
    /// 1 as many as dishes, 0 a given number.
    pub tableware_status: i64,
}

/// A submitted order.
#[derive(Debug, Clone)]
pub struct Submitted {
    /// Its id.
    pub id: i64,
    /// Its number.
    pub number: String,
    /// What it costs, in fen.
    pub amount: i64,
    /// When it was submitted, Unix ms.
    pub order_time: i64,
}

/// A page of orders with their lines.
#[derive(Debug, Clone)]
pub struct OrderPage {
    /// Count of all matches.
    pub total: i64,
    /// This page, newest first.
    pub orders: Vec<Order>,
    /// The lines of the page's orders.
    pub lines: Vec<OrderLine>,
}

/// The counts of the merchant's order board.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Statistics {
    /// Awaiting acceptance.
    pub to_be_confirmed: i64,
    /// Accepted.
    pub confirmed: i64,
    /// Out for delivery.
    pub delivery_in_progress: i64,
}

/// The order use cases. Cheap to clone.
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

    /// Turns the customer's cart into an unpaid order of the one shop all its lines belong to;
    /// the amount is computed here, from the prices the lines were added at. A line whose dish
    /// or set meal was taken off sale (or deleted) since is refused, naming it: the customer
    /// removes it and submits again, and never pays for what the shop no longer sells. Everything is read through the transaction, after the
    /// customer's row lock, so a cart change cannot slip between the read and the clear.
    #[tracing::instrument(skip_all, fields(user_id = user_id))]
    pub async fn submit(&self, user_id: i64, input: SubmitInput) -> Result<Submitted> {
        let now = self.clock.now_ms();
        let mut tx = self.store.begin().await?;
        if !customers::lock(&mut tx, user_id).await? {
            return Err(super::Error::SessionOver);
        }
        let address = addresses::address(tx.conn(), user_id, input.address_book_id)
            .await?
            .ok_or(address::NONE_FOR_ORDER)?;
        let lines = carts::cart(tx.conn(), user_id).await?;
        let shop_id = cart::shop_of(&lines)?;
        let items: Vec<CartItem> = lines.iter().map(CartLine::item).collect();
        let sold = menu::on_sale(&mut tx, &items).await?;
        if let Some(stale) = cart::unavailable(&lines, &sold) {
            return Err(Error::Refused(cart::no_longer_sold(stale)));
        }
        if shops::shop_status(tx.conn(), shop_id).await? != Some(OPEN) {
            return Err(IS_CLOSED.into());
        }
        let totals = order::totals(lines.iter().map(|l| (l.amount, l.number)))?;
        let mut new = NewOrder {
            shop_id,
            number: String::new(),
            user_id,
            address_book_id: address.id,
            order_time: now,
            pay_method: input.pay_method,
            amount: totals.amount,
            remark: input.remark,
            phone: address.phone.clone(),
            address: address.one_line(),
            user_name: customers::user_name(tx.conn(), user_id).await?,
            consignee: address.consignee.clone(),
            estimated_delivery_time: input.estimated_delivery_time,
            delivery_status: input.delivery_status,
            pack_amount: totals.pack_amount,
            tableware_number: input.tableware_number,
            tableware_status: input.tableware_status,
        };
        let id = insert_order(&mut tx, &mut new).await?;
        for l in &lines {
            sql::insert_line(tx.conn(), id, &order_line(l)).await?;
        }
        carts::clear(tx.conn(), user_id).await?;
        tx.commit().await?;
        Ok(Submitted {
            id,
            number: new.number,
            amount: totals.amount,
            order_time: now,
        })
    }

    /// A customer's reminder (催单): own order only, while the merchant owes something, at most
    /// once per window.
    #[tracing::instrument(skip_all, fields(user_id = user_id, order_id = order_id))]
    pub async fn remind(&self, user_id: i64, order_id: i64) -> Result<()> {
        let order = self.customer_order(user_id, order_id).await?;
        let status = Status::from_code(order.status).ok_or(BAD_STATUS)?;
        if !state::can_remind(status) {
            return Err(BAD_STATUS.into());
        }
        let now = self.clock.now_ms();
        let window = self.reminder_window.as_millis() as i64;
        let mut tx = self.store.begin().await?;
        if !sql::claim_reminder(tx.conn(), order_id, user_id, now, window).await? {
            return Err(TOO_OFTEN.into());
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
    pub async fn customer_order(&self, user_id: i64, order_id: i64) -> Result<Order> {
        match sql::by_id(self.store.pool(), order_id).await? {
            Some(o) if o.user_id == user_id => Ok(o),
            _ => Err(NOT_FOUND.into()),
        }
    }

    /// The shop's order, or 订单不存在.
    pub async fn shop_order(&self, shop_id: ShopId, order_id: i64) -> Result<Order> {
        let shop_id = shop_id.get();
        match sql::by_id(self.store.pool(), order_id).await? {
            Some(o) if o.shop_id == shop_id => Ok(o),
            _ => Err(NOT_FOUND.into()),
        }
    }

    /// The customer's order with its lines.
    pub async fn customer_order_lines(
        &self,
        user_id: i64,
        order_id: i64,
    ) -> Result<(Order, Vec<OrderLine>)> {
        let order = self.customer_order(user_id, order_id).await?;
        let lines = sql::lines(self.store.pool(), &[order.id]).await?;
        Ok((order, lines))
    }

    /// The shop's order with its lines.
    pub async fn shop_order_lines(
        &self,
        shop_id: ShopId,
        order_id: i64,
    ) -> Result<(Order, Vec<OrderLine>)> {
        let order = self.shop_order(shop_id, order_id).await?;
        let lines = sql::lines(self.store.pool(), &[order.id]).await?;
        Ok((order, lines))
    }

    /// A page of the customer's orders (optionally of one status), newest first.
    pub async fn history(
        &self,
        user_id: i64,
        status: Option<i64>,
        offset: i64,
        limit: i64,
    ) -> Result<OrderPage> {
        let filter = OrderFilter {
            status,
            ..Default::default()
        };
        self.page(OrderScope::Customer(user_id), &filter, offset, limit)
            .await
    }

    /// A page of the shop's orders matching `filter`.
    pub async fn search(
        &self,
        shop: ShopId,
        filter: OrderFilter,
        offset: i64,
        limit: i64,
    ) -> Result<OrderPage> {
        self.page(OrderScope::Shop(shop), &filter, offset, limit)
            .await
    }

    async fn page(
        &self,
        scope: OrderScope,
        filter: &OrderFilter,
        offset: i64,
        limit: i64,
    ) -> Result<OrderPage> {
        let (total, orders) = sql::search(self.store.pool(), scope, filter, offset, limit).await?;
        let ids: Vec<i64> = orders.iter().map(|o| o.id).collect();
        let lines = sql::lines(self.store.pool(), &ids).await?;
        Ok(OrderPage {
            total,
            orders,
            lines,
        })
    }

    /// How many of the shop's orders await acceptance, are accepted and are out for delivery.
    pub async fn statistics(&self, shop_id: ShopId) -> Result<Statistics> {
        let shop_id = shop_id.get();
        let (to_be_confirmed, confirmed, delivery_in_progress) =
            sql::statistics(self.store.pool(), shop_id).await?;
        Ok(Statistics {
            to_be_confirmed,
            confirmed,
            delivery_in_progress,
        })
    }

    /// The customer cancels (only before acceptance; refunds when paid).
    #[tracing::instrument(skip_all, fields(user_id = user_id, order_id = order_id))]
    pub async fn cancel_by_customer(&self, user_id: i64, order_id: i64) -> Result<()> {
        let order = self.customer_order(user_id, order_id).await?;
        let owner = Owner::User(user_id);
        self.change(order, owner, Action::CustomerCancel, Some("用户取消"), None)
            .await
    }

    /// A merchant action on the shop's order: confirm, reject, cancel, deliver or complete.
    #[tracing::instrument(skip_all, fields(shop_id = shop_id.get(), order_id = order_id))]
    pub async fn merchant_action(
        &self,
        shop_id: ShopId,
        employee_id: i64,
        order_id: i64,
        action: Action,
        reason: Option<&str>,
    ) -> Result<()> {
        let order = self.shop_order(shop_id, order_id).await?;
        let owner = Owner::Shop(shop_id);
        self.change(order, owner, action, reason, Some(employee_id))
            .await
    }

    /// Applies an action; an accepted, rejected or cancelled order's alerts become handled in
    /// the same transaction, and every screen is told of every action (`handled`, with the
    /// alerts it handled, possibly none), so other screens refresh their boards.
    async fn change(
        &self,
        order: Order,
        owner: Owner,
        action: Action,
        reason: Option<&str>,
        by: Option<i64>,
    ) -> Result<()> {
        let now = self.clock.now_ms();
        let mut tx = self.store.begin().await?;
        if !sql::apply(tx.conn(), order.id, owner, action, reason, now).await? {
            return Err(BAD_STATUS.into());
        }
        let handled = if action.handles_alerts() {
            alerts::handle_order(tx.conn(), order.id, by, now).await?
        } else {
            Vec::new()
        };
        tx.commit().await?;
        self.relay.order_changed(order.shop_id, order.id, handled);
        Ok(())
    }

    /// Cancels unpaid orders older than `timeout`. Returns how many.
    pub async fn cancel_unpaid(&self, timeout: Duration) -> Result<u64> {
        let now = self.clock.now_ms();
        let mut tx = self.store.begin().await?;
        let cutoff = now - timeout.as_millis() as i64;
        let n = sql::cancel_unpaid_before(tx.conn(), cutoff, now).await?;
        tx.commit().await?;
        Ok(n)
    }

    /// Completes orders out for delivery placed more than `after` ago. Returns how many.
    pub async fn complete_delivering(&self, after: Duration) -> Result<u64> {
        let now = self.clock.now_ms();
        let mut tx = self.store.begin().await?;
        let cutoff = now - after.as_millis() as i64;
        let n = sql::complete_delivering_before(tx.conn(), cutoff, now).await?;
        tx.commit().await?;
        Ok(n)
    }

    /// Copies an order's lines back into the customer's cart (再来一单), dishes and set meals,
    /// all or nothing, under the cart's rules (one shop, at most 999 items). Only what is on
    /// sale now is copied, at its name, picture and price now; 订单中的菜品和套餐均已停售 when
    /// nothing is. The items are share-locked while the lines are written.
    #[tracing::instrument(skip_all, fields(user_id = user_id, order_id = order_id))]
    pub async fn repeat(&self, user_id: i64, order_id: i64) -> Result<()> {
        let order = self.customer_order(user_id, order_id).await?;
        let now = self.clock.now_ms();
        let mut tx = self.store.begin().await?;
        if !customers::lock(&mut tx, user_id).await? {
            return Err(super::Error::SessionOver);
        }
        let lines = sql::lines(tx.conn(), &[order.id]).await?;
        let copies = still_sold(&mut tx, &lines).await?;
        if copies.is_empty() {
            return Err(NOTHING_TO_REPEAT.into());
        }
        let held = carts::cart(tx.conn(), user_id).await?;
        let adding = copies.iter().map(|c| c.count).sum();
        cart::check_add(&held, order.shop_id, adding)?;
        for c in &copies {
            let addition = Addition {
                item: c.item,
                shop_id: order.shop_id,
                name: &c.name,
                image: &c.image,
                price: c.price,
                flavor: &c.flavor,
            };
            carts::add(tx.conn(), user_id, &addition, c.count, now).await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

/// An order line to copy back into the cart, as its item is sold now.
struct Repeat {
    item: CartItem,
    name: String,
    image: String,
    price: i64,
    flavor: String,
    count: i64,
}

/// The order lines whose dish or set meal is on sale now, as they are now (name, picture,
/// price), each at most [`MAX_REPEAT_PER_LINE`] of it; two queries whatever the count.
async fn still_sold(tx: &mut WriteTx, lines: &[OrderLine]) -> Result<Vec<Repeat>> {
    let dish_ids: Vec<i64> = lines.iter().filter_map(|l| l.dish_id).collect();
    let setmeal_ids: Vec<i64> = lines.iter().filter_map(|l| l.setmeal_id).collect();
    let dishes = menu::dishes_for_share(tx, &dish_ids).await?;
    let setmeals = menu::setmeals_for_share(tx, &setmeal_ids).await?;
    let now_sold = |l: &OrderLine| match (l.dish_id, l.setmeal_id) {
        (Some(id), _) => dishes.iter().find(|d| d.id == id && d.on_sale()).map(|d| {
            (
                CartItem::Dish(id),
                &d.name,
                &d.image,
                d.price,
                l.dish_flavor.clone(),
            )
        }),
        (None, Some(id)) => setmeals
            .iter()
            .find(|s| s.id == id && s.on_sale())
            .map(|s| {
                (
                    CartItem::Setmeal(id),
                    &s.name,
                    &s.image,
                    s.price,
                    String::new(),
                )
            }),
        (None, None) => None,
    };
    Ok(lines
        .iter()
        .filter_map(|l| {
            let count = l.number.clamp(0, MAX_REPEAT_PER_LINE);
            let (item, name, image, price, flavor) = now_sold(l).filter(|_| count > 0)?;
            Some(Repeat {
                item,
                name: name.clone(),
                image: image.clone(),
                price,
                flavor,
                count,
            })
        })
        .collect())
}

/// Inserts the order under a fresh number: millisecond time plus random digits (the number is
/// WeChat's `out_trade_no`, at most 32 characters); a clash is rare and just draws again.
async fn insert_order(tx: &mut WriteTx, new: &mut NewOrder) -> Result<i64> {
    for _ in 0..5 {
        let random = rand::rng().random_range(0..10_000_000);
        new.number = format!("{}{random:07}", new.order_time);
        if let Some(id) = sql::insert(tx.conn(), new).await? {
            return Ok(id);
        }
    }
    Err(NO_NUMBER.into())
}

/// The order line a cart line becomes.
fn order_line(l: &CartLine) -> OrderLine {
    OrderLine {
        id: 0,
        order_id: 0,
        name: l.name.clone(),
        image: l.image.clone(),
        dish_id: l.dish_id,
        setmeal_id: l.setmeal_id,
        dish_flavor: l.dish_flavor.clone(),
        number: l.number,
        amount: l.amount,
    }
}
