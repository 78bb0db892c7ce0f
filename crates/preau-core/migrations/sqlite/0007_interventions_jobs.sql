-- Interventions planned on tickets (one visit may group several tickets of a school),
-- private calendar feeds, and the job queue (e-mails) kept in the database.
-- Kept side by side with postgres/0007_interventions_jobs.sql.

CREATE TABLE interventions (
    id INTEGER PRIMARY KEY,
    collectivite_id INTEGER NOT NULL REFERENCES collectivites(id),
    school_id INTEGER NOT NULL REFERENCES schools(id),
    starts_at TEXT NOT NULL,
    ends_at TEXT NOT NULL,
    technician_user_id INTEGER REFERENCES users(id),
    lot_id INTEGER REFERENCES lots(id),
    status TEXT NOT NULL,
    notes TEXT NOT NULL,
    planned_by TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX interventions_by_time ON interventions (collectivite_id, starts_at);
CREATE INDEX interventions_by_school ON interventions (school_id, starts_at);

CREATE TABLE intervention_tickets (
    intervention_id INTEGER NOT NULL REFERENCES interventions(id),
    ticket_id INTEGER NOT NULL REFERENCES tickets(id),
    PRIMARY KEY (intervention_id, ticket_id)
);
CREATE INDEX intervention_tickets_by_ticket ON intervention_tickets (ticket_id);

CREATE TABLE calendar_feeds (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL
);

CREATE TABLE jobs (
    id INTEGER PRIMARY KEY,
    collectivite_id INTEGER REFERENCES collectivites(id),
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    run_at TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    locked_until TEXT,
    last_error TEXT,
    done_at TEXT,
    failed BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TEXT NOT NULL
);
CREATE INDEX jobs_pending ON jobs (done_at, run_at);
