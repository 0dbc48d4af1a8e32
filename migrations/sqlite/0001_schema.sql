-- sky-takeout schema (SQLite). Times are Unix milliseconds; money is integer fen (cents).
CREATE TABLE app_setting (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE shop (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    name          TEXT    NOT NULL,
    status        INTEGER NOT NULL DEFAULT 1,
    -- last alert sequence number given out for this shop (gapless, in commit order)
    alert_seq     INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL
);

CREATE TABLE employee (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    shop_id       INTEGER NOT NULL REFERENCES shop(id),
    username      TEXT    NOT NULL UNIQUE,
    name          TEXT    NOT NULL,
    password_hash TEXT    NOT NULL,
    phone         TEXT    NOT NULL DEFAULT '',
    status        INTEGER NOT NULL DEFAULT 1,
    created_at    INTEGER NOT NULL
);

CREATE TABLE "user" (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    openid     TEXT    NOT NULL UNIQUE,
    name       TEXT,
    phone      TEXT,
    created_at INTEGER NOT NULL
);

CREATE TABLE category (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    shop_id    INTEGER NOT NULL REFERENCES shop(id),
    type       INTEGER NOT NULL,
    name       TEXT    NOT NULL,
    sort       INTEGER NOT NULL DEFAULT 0,
    status     INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

CREATE TABLE dish (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    shop_id     INTEGER NOT NULL REFERENCES shop(id),
    category_id INTEGER NOT NULL REFERENCES category(id),
    name        TEXT    NOT NULL,
    price       INTEGER NOT NULL,
    image       TEXT    NOT NULL DEFAULT '',
    description TEXT    NOT NULL DEFAULT '',
    status      INTEGER NOT NULL DEFAULT 1,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
CREATE INDEX dish_category ON dish(category_id);

CREATE TABLE dish_flavor (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    dish_id INTEGER NOT NULL REFERENCES dish(id),
    name    TEXT    NOT NULL,
    value   TEXT    NOT NULL
);
CREATE INDEX dish_flavor_dish ON dish_flavor(dish_id);

CREATE TABLE address_book (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id       INTEGER NOT NULL REFERENCES "user"(id),
    consignee     TEXT    NOT NULL DEFAULT '',
    sex           TEXT    NOT NULL DEFAULT '',
    phone         TEXT    NOT NULL DEFAULT '',
    province_code TEXT    NOT NULL DEFAULT '',
    province_name TEXT    NOT NULL DEFAULT '',
    city_code     TEXT    NOT NULL DEFAULT '',
    city_name     TEXT    NOT NULL DEFAULT '',
    district_code TEXT    NOT NULL DEFAULT '',
    district_name TEXT    NOT NULL DEFAULT '',
    detail        TEXT    NOT NULL DEFAULT '',
    label         TEXT    NOT NULL DEFAULT '',
    is_default    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX address_book_user ON address_book(user_id);

CREATE TABLE shopping_cart (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id     INTEGER NOT NULL REFERENCES "user"(id),
    shop_id     INTEGER NOT NULL REFERENCES shop(id),
    dish_id     INTEGER NOT NULL REFERENCES dish(id),
    dish_flavor TEXT    NOT NULL DEFAULT '',
    name        TEXT    NOT NULL,
    image       TEXT    NOT NULL DEFAULT '',
    number      INTEGER NOT NULL,
    amount      INTEGER NOT NULL,
    created_at  INTEGER NOT NULL
);
CREATE INDEX shopping_cart_user ON shopping_cart(user_id);

CREATE TABLE orders (
    id                      INTEGER PRIMARY KEY AUTOINCREMENT,
    shop_id                 INTEGER NOT NULL REFERENCES shop(id),
    number                  TEXT    NOT NULL UNIQUE,
    status                  INTEGER NOT NULL,
    user_id                 INTEGER NOT NULL REFERENCES "user"(id),
    address_book_id         INTEGER NOT NULL,
    order_time              INTEGER NOT NULL,
    checkout_time           INTEGER,
    pay_method              INTEGER NOT NULL,
    pay_status              INTEGER NOT NULL,
    amount                  INTEGER NOT NULL,
    remark                  TEXT    NOT NULL DEFAULT '',
    phone                   TEXT    NOT NULL DEFAULT '',
    address                 TEXT    NOT NULL DEFAULT '',
    user_name               TEXT    NOT NULL DEFAULT '',
    consignee               TEXT    NOT NULL DEFAULT '',
    cancel_reason           TEXT,
    rejection_reason        TEXT,
    cancel_time             INTEGER,
    estimated_delivery_time INTEGER,
    delivery_status         INTEGER NOT NULL DEFAULT 1,
    delivery_time           INTEGER,
    pack_amount             INTEGER NOT NULL DEFAULT 0,
    tableware_number        INTEGER NOT NULL DEFAULT 0,
    tableware_status        INTEGER NOT NULL DEFAULT 1,
    transaction_id          TEXT,
    last_reminder_at        INTEGER,
    -- re-alert bookkeeping: when the last type-1 alert was raised and how many re-alerts
    last_alert_at           INTEGER,
    realert_count           INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX orders_shop_status ON orders(shop_id, status, order_time);
CREATE INDEX orders_user ON orders(user_id, id);
CREATE INDEX orders_status_time ON orders(status, order_time);

CREATE TABLE order_detail (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    order_id    INTEGER NOT NULL REFERENCES orders(id),
    name        TEXT    NOT NULL,
    image       TEXT    NOT NULL DEFAULT '',
    dish_id     INTEGER,
    setmeal_id  INTEGER,
    dish_flavor TEXT    NOT NULL DEFAULT '',
    number      INTEGER NOT NULL,
    amount      INTEGER NOT NULL
);
CREATE INDEX order_detail_order ON order_detail(order_id);

-- The durable alert log: one row per alert, written in the transaction that causes it.
CREATE TABLE alert_log (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    shop_id      INTEGER NOT NULL REFERENCES shop(id),
    seq          INTEGER NOT NULL,
    type         INTEGER NOT NULL,
    realert      INTEGER NOT NULL DEFAULT 0,
    order_id     INTEGER NOT NULL REFERENCES orders(id),
    order_number TEXT    NOT NULL,
    content      TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    published_at INTEGER,
    delivered_at INTEGER,
    handled_at   INTEGER,
    handled_by   INTEGER,
    UNIQUE (shop_id, seq)
);
CREATE INDEX alert_log_unpublished ON alert_log(id) WHERE published_at IS NULL;
CREATE INDEX alert_log_order ON alert_log(order_id);
