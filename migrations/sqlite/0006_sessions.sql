-- Employees and sessions (issue 11). `employee.session_gen` (0003) takes its values from one
-- instance-wide counter: every status or password change draws the next value, so "what
-- changed since N" is one indexed query, which every instance runs every second to end the
-- sessions another instance ended. The counter's row lock makes the values commit in order.
-- `session_keep` is the one login a password change keeps (the merchant who changed it stays
-- logged in, as the stock app expects); 0 keeps none.
CREATE TABLE session_clock (
    id  BIGINT PRIMARY KEY,
    seq BIGINT NOT NULL
);
INSERT INTO session_clock (id, seq) VALUES (1, 0);
ALTER TABLE employee ADD COLUMN session_keep BIGINT NOT NULL DEFAULT 0;
CREATE INDEX employee_session_gen ON employee(session_gen);
-- Accounts created after 0003 by the seed or `shops add` were left without `updated_at`
-- (shown as 最后操作时间 1970-01-01): it is their creation time.
UPDATE employee SET updated_at = created_at WHERE updated_at = 0;
