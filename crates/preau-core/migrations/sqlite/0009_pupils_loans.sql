-- Pupils and tablets: the collectivité's choices (how pupils are labelled, how long labels
-- are kept, where the data lives), pupils reduced to a label in a class of one school year,
-- devices lent to a pupil, a teacher or a class, with the loan agreement's facts.
-- Side by side with postgres/0009_pupils_loans.sql: same tables, columns, constraints.

CREATE TABLE pupil_settings (
    collectivite_id INTEGER PRIMARY KEY REFERENCES collectivites(id),
    label_mode TEXT NOT NULL DEFAULT 'initiale',
    retention_months INTEGER NOT NULL DEFAULT 3,
    hosting TEXT NOT NULL DEFAULT '',
    dpo_contact TEXT NOT NULL DEFAULT '',
    key_secret TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 1,
    updated_at TEXT NOT NULL
);

-- At the first import of a new school year: the tablets lent to pupils follow them into
-- their new class (TRUE), or come back to the school's stock (FALSE).
ALTER TABLE schools ADD COLUMN tablets_follow_pupil BOOLEAN NOT NULL DEFAULT TRUE;

-- label and match_key are NULL once purged: the row stays so that loans still say
-- "élève (supprimé)".
CREATE TABLE pupils (
    id INTEGER PRIMARY KEY,
    collectivite_id INTEGER NOT NULL REFERENCES collectivites(id),
    school_id INTEGER NOT NULL REFERENCES schools(id),
    school_year_id INTEGER NOT NULL REFERENCES school_years(id),
    class_id INTEGER NOT NULL REFERENCES classes(id),
    label TEXT,
    match_key TEXT,
    arrived_on TEXT NOT NULL,
    left_on TEXT,
    purge_on TEXT NOT NULL,
    purged_at TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX pupils_by_class ON pupils (class_id, label);
CREATE INDEX pupils_by_school_year ON pupils (school_id, school_year_id, match_key);
CREATE INDEX pupils_to_purge ON pupils (collectivite_id, purge_on) WHERE purged_at IS NULL;

CREATE TABLE loans (
    id INTEGER PRIMARY KEY,
    collectivite_id INTEGER NOT NULL REFERENCES collectivites(id),
    school_id INTEGER NOT NULL REFERENCES schools(id),
    device_id INTEGER NOT NULL REFERENCES devices(id),
    kind TEXT NOT NULL,
    pupil_id INTEGER REFERENCES pupils(id),
    class_id INTEGER REFERENCES classes(id),
    holder_name TEXT,
    given_on TEXT NOT NULL,
    signed_on TEXT,
    accessories TEXT NOT NULL DEFAULT '',
    returned_on TEXT,
    return_state TEXT,
    return_note TEXT,
    ticket_id INTEGER REFERENCES tickets(id),
    created_by TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
-- A device is with one holder at a time.
CREATE UNIQUE INDEX loans_open_device ON loans (device_id) WHERE returned_on IS NULL;
CREATE INDEX loans_by_device ON loans (device_id, id);
CREATE INDEX loans_by_pupil ON loans (pupil_id);
CREATE INDEX loans_by_class ON loans (class_id);
CREATE INDEX loans_by_school ON loans (school_id, returned_on);

-- The signed agreement, scanned: optional, one per loan.
CREATE TABLE loan_documents (
    loan_id INTEGER PRIMARY KEY REFERENCES loans(id),
    file_name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size INTEGER NOT NULL,
    data BLOB NOT NULL,
    created_at TEXT NOT NULL
);
