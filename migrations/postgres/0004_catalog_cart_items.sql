-- Deleting a dish or a set meal also deletes the cart lines that still hold it (and, for a
-- dish, PostgreSQL checks the cart's foreign key): both look cart lines up by item, which the
-- cart's unique key (by customer first) cannot serve.
CREATE INDEX shopping_cart_dish ON shopping_cart(dish_id) WHERE dish_id IS NOT NULL;
CREATE INDEX shopping_cart_setmeal ON shopping_cart(setmeal_id) WHERE setmeal_id IS NOT NULL;
