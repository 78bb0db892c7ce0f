-- Steering: the collectivité's référentiel (its rules, checked by preau_domain::referentiel,
-- stored as one JSON document so that an edit replaces it whole; no row: the socle), the
-- unit prices a gap is costed at, what each school declared (an ENT…), and renewal.
-- Side by side with postgres/0010_referentiel.sql: same tables, columns, constraints.

CREATE TABLE referentiels (
    collectivite_id INTEGER PRIMARY KEY REFERENCES collectivites(id),
    rules TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 1,
    updated_at TEXT NOT NULL
);

-- Set by the administrator; without one, a category costs the average of the
-- collectivité's purchases of the last three years.
ALTER TABLE device_categories ADD COLUMN unit_price_cents INTEGER;

CREATE TABLE school_declarations (
    school_id INTEGER NOT NULL REFERENCES schools(id),
    key TEXT NOT NULL,
    declared_at TEXT NOT NULL,
    declared_by TEXT NOT NULL,
    PRIMARY KEY (school_id, key)
);

-- Renewal: how many years a category serves (NULL: Préau's default for it) and the
-- collectivité's yearly cap on replacements (NULL: none).
ALTER TABLE device_categories ADD COLUMN lifespan_years INTEGER;

CREATE TABLE renewal_settings (
    collectivite_id INTEGER PRIMARY KEY REFERENCES collectivites(id),
    yearly_cap_cents INTEGER,
    updated_at TEXT NOT NULL
);
