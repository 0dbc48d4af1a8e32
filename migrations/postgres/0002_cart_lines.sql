-- The shopping cart, ready for set meals: a line holds a dish or a set meal (exactly one of
-- the two), and one line per (customer, item, flavor), so adding one more is a single upsert
-- and two concurrent adds never make two lines. Lines an older version duplicated are merged
-- (their numbers added up) into the oldest one. `setmeal_id` has no foreign key: the set meal
-- table comes later, and the cart's use case checks the item exists and is on sale.
UPDATE shopping_cart c SET number = d.total
FROM (SELECT MIN(id) AS keep, SUM(number) AS total FROM shopping_cart
      GROUP BY user_id, dish_id, dish_flavor HAVING COUNT(*) > 1) d
WHERE c.id = d.keep;

DELETE FROM shopping_cart c USING shopping_cart k
WHERE c.user_id = k.user_id AND c.dish_id = k.dish_id AND c.dish_flavor = k.dish_flavor
  AND c.id > k.id;

ALTER TABLE shopping_cart ALTER COLUMN dish_id DROP NOT NULL;
ALTER TABLE shopping_cart ADD COLUMN setmeal_id BIGINT;
ALTER TABLE shopping_cart ADD CONSTRAINT shopping_cart_one_item
    CHECK ((dish_id IS NULL) <> (setmeal_id IS NULL));

-- Also serves the lookups by customer (its first column), so the old index goes.
DROP INDEX shopping_cart_user;
CREATE UNIQUE INDEX shopping_cart_line
    ON shopping_cart (user_id, COALESCE(dish_id, 0), COALESCE(setmeal_id, 0), dish_flavor);
