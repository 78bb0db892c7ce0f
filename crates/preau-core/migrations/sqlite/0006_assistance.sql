-- Assistance and contracts: the school week per school, contracts (marchés) with their
-- lots, perimeters (schools × device categories) and SLA grids, routing rules, tickets
-- with their devices, pauses, history and attachments.
-- Kept side by side with postgres/0006_assistance.sql: same tables, columns, constraints.

ALTER TABLE schools ADD COLUMN week TEXT NOT NULL DEFAULT '4';
ALTER TABLE collectivites ADD COLUMN ticket_seq INTEGER NOT NULL DEFAULT 0;
ALTER TABLE collectivites ADD COLUMN auto_close_days INTEGER NOT NULL DEFAULT 5;

CREATE TABLE contracts (
    id INTEGER PRIMARY KEY,
    collectivite_id INTEGER NOT NULL REFERENCES collectivites(id),
    contractor_id INTEGER NOT NULL REFERENCES contractors(id),
    reference TEXT NOT NULL,
    title TEXT NOT NULL,
    starts_on TEXT NOT NULL,
    ends_on TEXT NOT NULL,
    calendar TEXT NOT NULL,
    work_days TEXT NOT NULL,
    work_start TEXT NOT NULL,
    work_end TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (collectivite_id, reference)
);

CREATE TABLE lots (
    id INTEGER PRIMARY KEY,
    contract_id INTEGER NOT NULL REFERENCES contracts(id),
    number INTEGER NOT NULL,
    label TEXT NOT NULL,
    cap_ticket_cents INTEGER,
    cap_month_cents INTEGER,
    version INTEGER NOT NULL DEFAULT 1,
    UNIQUE (contract_id, number)
);

CREATE TABLE lot_perimeters (
    lot_id INTEGER NOT NULL REFERENCES lots(id) ON DELETE CASCADE,
    school_id INTEGER NOT NULL REFERENCES schools(id),
    category_id INTEGER NOT NULL REFERENCES device_categories(id),
    PRIMARY KEY (lot_id, school_id, category_id)
);
CREATE INDEX lot_perimeters_by_school ON lot_perimeters (school_id, category_id);

CREATE TABLE sla_lines (
    lot_id INTEGER NOT NULL REFERENCES lots(id) ON DELETE CASCADE,
    priority TEXT NOT NULL,
    gti TEXT,
    gtr TEXT,
    unit TEXT NOT NULL,
    gti_penalty_cents INTEGER NOT NULL,
    gtr_penalty_cents INTEGER NOT NULL,
    PRIMARY KEY (lot_id, priority)
);

CREATE TABLE routing_rules (
    id INTEGER PRIMARY KEY,
    collectivite_id INTEGER NOT NULL REFERENCES collectivites(id),
    school_id INTEGER REFERENCES schools(id),
    category TEXT,
    assignee_user_id INTEGER REFERENCES users(id),
    lot_id INTEGER REFERENCES lots(id),
    created_at TEXT NOT NULL
);
CREATE INDEX routing_rules_by_collectivite ON routing_rules (collectivite_id);

CREATE TABLE tickets (
    id INTEGER PRIMARY KEY,
    collectivite_id INTEGER NOT NULL REFERENCES collectivites(id),
    number INTEGER NOT NULL,
    school_id INTEGER NOT NULL REFERENCES schools(id),
    room_id INTEGER REFERENCES rooms(id),
    category TEXT NOT NULL,
    priority TEXT NOT NULL,
    status TEXT NOT NULL,
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    reporter_user_id INTEGER REFERENCES users(id),
    reporter_name TEXT NOT NULL,
    assignee_user_id INTEGER REFERENCES users(id),
    lot_id INTEGER REFERENCES lots(id),
    sla_gti TEXT,
    sla_gtr TEXT,
    sla_unit TEXT NOT NULL,
    sla_gti_penalty_cents INTEGER NOT NULL,
    sla_gtr_penalty_cents INTEGER NOT NULL,
    sla_cap_cents INTEGER,
    sla_calendar TEXT NOT NULL,
    sla_hours TEXT NOT NULL,
    opened_at TEXT NOT NULL,
    sla_start_at TEXT NOT NULL,
    taken_at TEXT,
    resolved_at TEXT,
    closed_at TEXT,
    gti_due_at TEXT,
    gtr_due_at TEXT,
    gti_breached BOOLEAN NOT NULL DEFAULT FALSE,
    gtr_breached BOOLEAN NOT NULL DEFAULT FALSE,
    at_risk BOOLEAN NOT NULL DEFAULT FALSE,
    escalated_at TEXT,
    search_key TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 1,
    updated_at TEXT NOT NULL,
    UNIQUE (collectivite_id, number)
);
CREATE INDEX tickets_by_collectivite ON tickets (collectivite_id, id);
CREATE INDEX tickets_by_status ON tickets (collectivite_id, status, id);
CREATE INDEX tickets_by_school ON tickets (school_id, id);
CREATE INDEX tickets_by_lot ON tickets (lot_id, id);
CREATE INDEX tickets_by_reporter ON tickets (reporter_user_id, id);
CREATE INDEX tickets_by_opened ON tickets (collectivite_id, opened_at);
CREATE INDEX tickets_by_lot_start ON tickets (lot_id, sla_start_at);

CREATE TABLE ticket_devices (
    ticket_id INTEGER NOT NULL REFERENCES tickets(id),
    device_id INTEGER NOT NULL REFERENCES devices(id),
    PRIMARY KEY (ticket_id, device_id)
);
CREATE INDEX ticket_devices_by_device ON ticket_devices (device_id);

CREATE TABLE ticket_pauses (
    id INTEGER PRIMARY KEY,
    ticket_id INTEGER NOT NULL REFERENCES tickets(id),
    started_at TEXT NOT NULL,
    ended_at TEXT,
    reason TEXT NOT NULL
);
CREATE INDEX ticket_pauses_by_ticket ON ticket_pauses (ticket_id);

CREATE TABLE ticket_events (
    id INTEGER PRIMARY KEY,
    ticket_id INTEGER NOT NULL REFERENCES tickets(id),
    occurred_at TEXT NOT NULL,
    actor_user_id INTEGER REFERENCES users(id),
    actor_name TEXT NOT NULL,
    kind TEXT NOT NULL,
    public BOOLEAN NOT NULL,
    body TEXT,
    detail TEXT NOT NULL
);
CREATE INDEX ticket_events_by_ticket ON ticket_events (ticket_id, id);

CREATE TABLE ticket_attachments (
    id INTEGER PRIMARY KEY,
    ticket_id INTEGER NOT NULL REFERENCES tickets(id),
    file_name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size INTEGER NOT NULL,
    data BLOB NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX ticket_attachments_by_ticket ON ticket_attachments (ticket_id);
