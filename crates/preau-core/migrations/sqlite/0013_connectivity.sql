-- Connectivity: each school's links to the internet (operators are companies, as
-- contractors are), manual speed tests, whether each school reaches Préau and since when,
-- and its outages.
-- Side by side with postgres/0013_connectivity.sql: same tables, columns, constraints.

CREATE TABLE school_links (
    id INTEGER PRIMARY KEY,
    school_id INTEGER NOT NULL REFERENCES schools(id),
    technology TEXT NOT NULL,
    role TEXT NOT NULL,
    operator_id INTEGER REFERENCES contractors(id),
    contract_ref TEXT NOT NULL DEFAULT '',
    line_number TEXT NOT NULL DEFAULT '',
    down_kbps INTEGER NOT NULL,
    up_kbps INTEGER NOT NULL,
    monthly_cents INTEGER,
    commissioned_on TEXT,
    version INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX school_links_by_school ON school_links (school_id);

CREATE TABLE speed_tests (
    id INTEGER PRIMARY KEY,
    school_id INTEGER NOT NULL REFERENCES schools(id),
    tested_at TEXT NOT NULL,
    down_kbps INTEGER NOT NULL,
    up_kbps INTEGER NOT NULL,
    tested_by TEXT NOT NULL
);
CREATE INDEX speed_tests_by_school ON speed_tests (school_id, tested_at);

-- The last judgement of each school: `status` since `since`, its agents' last report.
CREATE TABLE school_connectivity (
    school_id INTEGER PRIMARY KEY REFERENCES schools(id),
    status TEXT NOT NULL,
    since TEXT NOT NULL,
    last_contact TEXT,
    checked_at TEXT NOT NULL
);

CREATE TABLE outages (
    id INTEGER PRIMARY KEY,
    school_id INTEGER NOT NULL REFERENCES schools(id),
    started_at TEXT NOT NULL,
    ended_at TEXT,
    class_minutes INTEGER
);
CREATE INDEX outages_by_school ON outages (school_id, started_at);
