//! The workspace (工作台): today's figures of the merchant's shop, its orders since the day
//! began by status, and its menu on sale. "Today" is the shop's local day (`--time-zone`).

use super::Result;
use crate::domain::calendar::{DayRange, Tz, day_of};
use crate::domain::report::DayFigures;
use crate::store::Store;
use crate::store::reports::{self as sql, MenuTable};
use crate::time::Clock;

/// Today's orders by status (the 订单管理 panel).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OrderOverview {
    /// Awaiting acceptance (2).
    pub waiting: i64,
    /// Accepted, to be sent out (3).
    pub to_deliver: i64,
    /// Completed (5).
    pub completed: i64,
    /// Cancelled (6).
    pub cancelled: i64,
    /// Any status.
    pub all: i64,
}

/// Dishes or set meals on sale and not.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MenuOverview {
    /// On sale (status 1).
    pub sold: i64,
    /// Not on sale (status 0).
    pub discontinued: i64,
}

/// The workspace use cases. Cheap to clone.
#[derive(Clone)]
pub struct Workspace {
    store: Store,
    clock: Clock,
    zone: Tz,
}

impl Workspace {
    /// Use cases over this store and clock, with local days in `zone`.
    pub fn new(store: Store, clock: Clock, zone: Tz) -> Workspace {
        Workspace { store, clock, zone }
    }

    fn today(&self) -> DayRange {
        DayRange::single(day_of(self.zone, self.clock.now_ms()))
    }

    /// Today's figures: orders, valid orders, turnover and new users (so the completion rate
    /// and unit price).
    pub async fn business_data(&self, shop_id: i64) -> Result<DayFigures> {
        let today = self.today();
        let pool = self.store.pool();
        let orders = sql::order_days(pool, shop_id, self.zone, today).await?;
        let (_, new_users) = sql::first_orders(pool, shop_id, self.zone, today).await?;
        Ok(DayFigures {
            new_users: new_users.iter().sum(),
            ..orders.into_iter().sum::<DayFigures>()
        })
    }

    /// Today's orders, by status (the original counts from today's start on, with no end;
    /// there are no orders after today).
    pub async fn overview_orders(&self, shop_id: i64) -> Result<OrderOverview> {
        let today = self.today().bounds_ms(self.zone);
        let (waiting, to_deliver, completed, cancelled, all) =
            sql::status_counts_between(self.store.pool(), shop_id, today).await?;
        Ok(OrderOverview {
            waiting,
            to_deliver,
            completed,
            cancelled,
            all,
        })
    }

    /// The shop's dishes on sale and not.
    pub async fn overview_dishes(&self, shop_id: i64) -> Result<MenuOverview> {
        self.menu(shop_id, MenuTable::Dish).await
    }

    /// The shop's set meals on sale and not.
    pub async fn overview_setmeals(&self, shop_id: i64) -> Result<MenuOverview> {
        self.menu(shop_id, MenuTable::Setmeal).await
    }

    async fn menu(&self, shop_id: i64, table: MenuTable) -> Result<MenuOverview> {
        let (sold, discontinued) = sql::on_sale_counts(self.store.pool(), shop_id, table).await?;
        Ok(MenuOverview { sold, discontinued })
    }
}
