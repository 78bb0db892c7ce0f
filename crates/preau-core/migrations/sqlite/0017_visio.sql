-- Lessons by visio: programmes run by a provider (a contractor company) at a price per
-- session held, weekly series of a class in its room with a remote speaker (a user with
-- the intervenant role), the sessions generated from them on the school's calendar, and
-- the days a school declared closed.
-- Side by side with postgres/0017_visio.sql: same tables, columns, constraints.

CREATE TABLE visio_programmes (
    id INTEGER PRIMARY KEY,
    collectivite_id INTEGER NOT NULL REFERENCES collectivites(id),
    name TEXT NOT NULL,
    provider_id INTEGER NOT NULL REFERENCES contractors(id),
    session_price_cents INTEGER,
    version INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (collectivite_id, name)
);

CREATE TABLE visio_series (
    id INTEGER PRIMARY KEY,
    programme_id INTEGER NOT NULL REFERENCES visio_programmes(id),
    school_id INTEGER NOT NULL REFERENCES schools(id),
    class_id INTEGER NOT NULL REFERENCES classes(id),
    room_id INTEGER NOT NULL REFERENCES rooms(id),
    intervenant_id INTEGER REFERENCES users(id),
    weekday INTEGER NOT NULL,
    start_time TEXT NOT NULL,
    duration_min INTEGER NOT NULL,
    starts_on TEXT NOT NULL,
    ends_on TEXT NOT NULL,
    link TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX visio_series_by_school ON visio_series (school_id);

-- `planned_on`: the series' day it stands for (a session moved keeps it, so that an edit
-- of the series does not plan that day twice); `detached`: moved alone, the series'
-- edits leave it.
CREATE TABLE visio_sessions (
    id INTEGER PRIMARY KEY,
    series_id INTEGER NOT NULL REFERENCES visio_series(id),
    school_id INTEGER NOT NULL REFERENCES schools(id),
    class_id INTEGER NOT NULL REFERENCES classes(id),
    room_id INTEGER NOT NULL REFERENCES rooms(id),
    intervenant_id INTEGER REFERENCES users(id),
    planned_on TEXT NOT NULL,
    starts_at TEXT NOT NULL,
    ends_at TEXT NOT NULL,
    link TEXT NOT NULL,
    status TEXT NOT NULL,
    reason TEXT,
    cancelled_by TEXT,
    note TEXT NOT NULL DEFAULT '',
    detached BOOLEAN NOT NULL DEFAULT FALSE,
    version INTEGER NOT NULL DEFAULT 1,
    updated_at TEXT NOT NULL
);
CREATE INDEX visio_sessions_by_school ON visio_sessions (school_id, starts_at);
CREATE INDEX visio_sessions_by_intervenant ON visio_sessions (intervenant_id, starts_at);
CREATE INDEX visio_sessions_by_series ON visio_sessions (series_id, starts_at);

CREATE TABLE school_closed_days (
    school_id INTEGER NOT NULL REFERENCES schools(id),
    day TEXT NOT NULL,
    reason TEXT NOT NULL,
    declared_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (school_id, day)
);
