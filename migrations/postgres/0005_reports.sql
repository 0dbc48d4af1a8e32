-- Workspace and reports (issue 12): each series is one grouped query over a shop's orders.
-- A shop's orders by time, covering what the daily figures read (status, amount), so a range
-- of days is an index-only range scan: orders, valid orders and turnover per local day, and
-- the workspace's counts since the day began.
CREATE INDEX orders_shop_time ON orders(shop_id, order_time, status, amount);
-- A shop's customers with their orders in time order: each customer's first order in the
-- shop (the per-shop "new user") is the first entry of its group, read from the index alone.
CREATE INDEX orders_shop_user ON orders(shop_id, user_id, order_time);
