-- The shopping cart, ready for set meals: a line holds a dish or a set meal (exactly one of
-- the two), and one line per (customer, item, flavor), so adding one more is a single upsert
-- and two concurrent adds never make two lines. Lines an older version duplicated are merged
-- (their numbers added up) into the oldest one. SQLite cannot change a column's NOT NULL, so
-- the table is rebuilt. `setmeal_id` has no foreign key: the set meal table comes later, and
-- the cart's use case checks the item exists and is on sale.
CREATE TABLE shopping_cart_lines (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id     INTEGER NOT NULL REFERENCES "user"(id),
    shop_id     INTEGER NOT NULL REFERENCES shop(id),
    dish_id     INTEGER REFERENCES dish(id),
    setmeal_id  INTEGER,
    dish_flavor TEXT    NOT NULL DEFAULT '',
    name        TEXT    NOT NULL,
    image       TEXT    NOT NULL DEFAULT '',
    number      INTEGER NOT NULL,
    amount      INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    CHECK ((dish_id IS NULL) <> (setmeal_id IS NULL))
);

INSERT INTO shopping_cart_lines
    (id, user_id, shop_id, dish_id, setmeal_id, dish_flavor, name, image, number, amount, created_at)
SELECT c.id, c.user_id, c.shop_id, c.dish_id, NULL, c.dish_flavor, c.name, c.image,
       (SELECT SUM(d.number) FROM shopping_cart d
         WHERE d.user_id = c.user_id AND d.dish_id = c.dish_id AND d.dish_flavor = c.dish_flavor),
       c.amount, c.created_at
FROM shopping_cart c
WHERE c.id = (SELECT MIN(d.id) FROM shopping_cart d
               WHERE d.user_id = c.user_id AND d.dish_id = c.dish_id AND d.dish_flavor = c.dish_flavor);

DROP TABLE shopping_cart;
ALTER TABLE shopping_cart_lines RENAME TO shopping_cart;

-- Also serves the lookups by customer (its first column), so the old index is not rebuilt.
CREATE UNIQUE INDEX shopping_cart_line
    ON shopping_cart (user_id, COALESCE(dish_id, 0), COALESCE(setmeal_id, 0), dish_flavor);
