-- Probes: an address the server checks for a school every few minutes (tcp://host:port or
-- http://host[:port]/path); a probed school is judged by its probe alone. `failures` counts
-- the failed checks in a row since `failing_since`.
-- Side by side with postgres/0016_probes.sql: same tables, columns, constraints.

CREATE TABLE school_probes (
    school_id INTEGER PRIMARY KEY REFERENCES schools(id),
    target TEXT NOT NULL,
    last_checked_at TEXT,
    last_ok_at TEXT,
    failures INTEGER NOT NULL DEFAULT 0,
    failing_since TEXT,
    last_error TEXT,
    updated_at TEXT NOT NULL
);

-- The status pass reads each school's latest agent report.
CREATE INDEX devices_last_report ON devices (school_id, last_inventory_at);

-- A category's unit price falls back on the average of its last three years' purchases:
-- read from the priced devices only, not the whole fleet.
CREATE INDEX devices_priced ON devices (category_id, purchase_date, price_cents) WHERE price_cents IS NOT NULL;
