-- Steering, continued: the schools' needs campaigns (recensement des besoins) and their
-- requests, the subsidy dossiers with the purchases (orders) and plan lines (accepted
-- requests) they fund, and what a maintenance contract costs a year.
-- Side by side with postgres/0012_needs_subsidies.sql: same tables, columns, constraints.

CREATE TABLE needs_campaigns (
    id INTEGER PRIMARY KEY,
    collectivite_id INTEGER NOT NULL REFERENCES collectivites(id),
    title TEXT NOT NULL,
    opens_on TEXT NOT NULL,
    closes_on TEXT NOT NULL,
    plan_year INTEGER NOT NULL,
    version INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX needs_campaigns_by_collectivite ON needs_campaigns (collectivite_id, opens_on);

CREATE TABLE needs_requests (
    id INTEGER PRIMARY KEY,
    campaign_id INTEGER NOT NULL REFERENCES needs_campaigns(id),
    school_id INTEGER NOT NULL REFERENCES schools(id),
    category_id INTEGER REFERENCES device_categories(id),
    item TEXT NOT NULL,
    quantity INTEGER NOT NULL,
    reason TEXT NOT NULL,
    priority TEXT NOT NULL,
    status TEXT NOT NULL,
    decision_reason TEXT,
    plan_year INTEGER,
    opinion TEXT,
    opinion_by TEXT,
    requested_by TEXT NOT NULL,
    decided_at TEXT,
    version INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX needs_requests_by_campaign ON needs_requests (campaign_id, school_id);

CREATE TABLE subsidies (
    id INTEGER PRIMARY KEY,
    collectivite_id INTEGER NOT NULL REFERENCES collectivites(id),
    funder TEXT NOT NULL,
    title TEXT NOT NULL,
    year INTEGER NOT NULL,
    rate_percent INTEGER,
    cap_cents INTEGER,
    other_eligible_cents INTEGER NOT NULL DEFAULT 0,
    status TEXT NOT NULL,
    deposit_due TEXT,
    justify_due TEXT,
    requested_cents INTEGER NOT NULL DEFAULT 0,
    granted_cents INTEGER,
    received_cents INTEGER NOT NULL DEFAULT 0,
    notes TEXT NOT NULL DEFAULT '',
    version INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX subsidies_by_collectivite ON subsidies (collectivite_id, year);

-- Eligible spending: the devices bought on an order, and accepted requests (plan lines).
CREATE TABLE subsidy_orders (
    subsidy_id INTEGER NOT NULL REFERENCES subsidies(id) ON DELETE CASCADE,
    order_ref TEXT NOT NULL,
    PRIMARY KEY (subsidy_id, order_ref)
);
CREATE TABLE subsidy_requests (
    subsidy_id INTEGER NOT NULL REFERENCES subsidies(id) ON DELETE CASCADE,
    request_id INTEGER NOT NULL REFERENCES needs_requests(id),
    PRIMARY KEY (subsidy_id, request_id)
);

-- What a maintenance contract costs a year (spread over the months it runs).
ALTER TABLE contracts ADD COLUMN yearly_cents INTEGER;
