-- The alert log's id is SQLite's rowid without AUTOINCREMENT (issue 14, BENCHMARKS.md §7
-- "Round seven"). AUTOINCREMENT reads and rewrites the table's row in `sqlite_sequence` on
-- every insert, one more page in every commit that raises an alert. Its only promise beyond
-- the rowid's own (one more than the largest id) is that the id of a deleted last row is never
-- given again; alert rows are never deleted (handling an alert marks it), so the ids stay
-- strictly increasing in commit order, which the relay's catch-up (`id` order) relies on.
-- Anything that ever deletes alert rows must keep the newest one. SQLite cannot drop
-- AUTOINCREMENT in place, so the table is rebuilt with the same columns, ids and indexes.
CREATE TABLE alert_log_rowid (
    id           INTEGER PRIMARY KEY,
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

INSERT INTO alert_log_rowid
    (id, shop_id, seq, type, realert, order_id, order_number, content, created_at,
     published_at, delivered_at, handled_at, handled_by)
SELECT id, shop_id, seq, type, realert, order_id, order_number, content, created_at,
       published_at, delivered_at, handled_at, handled_by
FROM alert_log;

DROP TABLE alert_log;
ALTER TABLE alert_log_rowid RENAME TO alert_log;

CREATE INDEX alert_log_unpublished ON alert_log(id) WHERE published_at IS NULL;
CREATE INDEX alert_log_order ON alert_log(order_id);
