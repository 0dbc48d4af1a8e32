-- Catalog and back office (issue 11): employee management fields, set meals, per-shop unique
-- names, audit users. Times are Unix milliseconds; money is integer fen.

-- Employees: the course's fields, audit columns, and a session generation: bumping it ends
-- every token and socket issued before (disable, password change).
ALTER TABLE employee ADD COLUMN sex TEXT NOT NULL DEFAULT '1';
ALTER TABLE employee ADD COLUMN id_number TEXT NOT NULL DEFAULT '';
ALTER TABLE employee ADD COLUMN updated_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE employee ADD COLUMN create_user INTEGER;
ALTER TABLE employee ADD COLUMN update_user INTEGER;
ALTER TABLE employee ADD COLUMN session_gen INTEGER NOT NULL DEFAULT 0;
UPDATE employee SET updated_at = created_at;
CREATE INDEX employee_shop ON employee(shop_id, created_at);

ALTER TABLE category ADD COLUMN create_user INTEGER;
ALTER TABLE category ADD COLUMN update_user INTEGER;
CREATE UNIQUE INDEX category_shop_name ON category(shop_id, name);
CREATE INDEX category_shop_sort ON category(shop_id, status, sort);

ALTER TABLE dish ADD COLUMN create_user INTEGER;
ALTER TABLE dish ADD COLUMN update_user INTEGER;
CREATE UNIQUE INDEX dish_shop_name ON dish(shop_id, name);
CREATE INDEX dish_shop_time ON dish(shop_id, created_at);

CREATE TABLE setmeal (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    shop_id     INTEGER NOT NULL REFERENCES shop(id),
    category_id INTEGER NOT NULL REFERENCES category(id),
    name        TEXT    NOT NULL,
    price       INTEGER NOT NULL,
    status      INTEGER NOT NULL DEFAULT 0,
    description TEXT    NOT NULL DEFAULT '',
    image       TEXT    NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    create_user INTEGER,
    update_user INTEGER
);
CREATE UNIQUE INDEX setmeal_shop_name ON setmeal(shop_id, name);
CREATE INDEX setmeal_category ON setmeal(category_id, status);
CREATE INDEX setmeal_shop_time ON setmeal(shop_id, created_at);

-- A set meal's dishes; name and price are copied from the dish when the set meal is saved.
CREATE TABLE setmeal_dish (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    setmeal_id INTEGER NOT NULL REFERENCES setmeal(id),
    dish_id    INTEGER NOT NULL REFERENCES dish(id),
    name       TEXT    NOT NULL,
    price      INTEGER NOT NULL,
    copies     INTEGER NOT NULL
);
CREATE INDEX setmeal_dish_setmeal ON setmeal_dish(setmeal_id);
CREATE INDEX setmeal_dish_dish ON setmeal_dish(dish_id);
