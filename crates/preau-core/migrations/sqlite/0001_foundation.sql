-- Foundation: collectivités, schools, rooms, school years, classes, users and roles,
-- sessions, API tokens, audit log. Kept side by side with postgres/0001_foundation.sql:
-- same tables, same columns, same constraints; only the types' spelling differs.

CREATE TABLE collectivites (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    insee_code TEXT,
    created_at TEXT NOT NULL,
    UNIQUE (name)
);

CREATE TABLE schools (
    id INTEGER PRIMARY KEY,
    collectivite_id INTEGER NOT NULL REFERENCES collectivites(id),
    uai TEXT NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    address TEXT,
    postal_code TEXT,
    city TEXT,
    holiday_zone TEXT NOT NULL,
    status TEXT NOT NULL,
    search_key TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (collectivite_id, uai)
);
CREATE INDEX schools_by_collectivite ON schools (collectivite_id, search_key);

CREATE TABLE rooms (
    id INTEGER PRIMARY KEY,
    school_id INTEGER NOT NULL REFERENCES schools(id),
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    building TEXT,
    floor TEXT,
    version INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (school_id, name)
);

CREATE TABLE school_years (
    id INTEGER PRIMARY KEY,
    collectivite_id INTEGER NOT NULL REFERENCES collectivites(id),
    label TEXT NOT NULL,
    starts_on TEXT NOT NULL,
    ends_on TEXT NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (collectivite_id, label)
);

CREATE TABLE classes (
    id INTEGER PRIMARY KEY,
    school_id INTEGER NOT NULL REFERENCES schools(id),
    school_year_id INTEGER NOT NULL REFERENCES school_years(id),
    label TEXT NOT NULL,
    levels TEXT NOT NULL,
    head_count INTEGER NOT NULL,
    teacher_name TEXT,
    room_id INTEGER REFERENCES rooms(id),
    version INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (school_id, school_year_id, label)
);
CREATE INDEX classes_by_room ON classes (room_id);

CREATE TABLE contractors (
    id INTEGER PRIMARY KEY,
    collectivite_id INTEGER NOT NULL REFERENCES collectivites(id),
    name TEXT NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (collectivite_id, name)
);

CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    collectivite_id INTEGER NOT NULL REFERENCES collectivites(id),
    login TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    email TEXT,
    password_hash TEXT NOT NULL,
    lang TEXT NOT NULL DEFAULT 'fr',
    active BOOLEAN NOT NULL DEFAULT TRUE,
    version INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE role_assignments (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role TEXT NOT NULL,
    school_id INTEGER REFERENCES schools(id),
    contractor_id INTEGER REFERENCES contractors(id),
    created_at TEXT NOT NULL,
    UNIQUE (user_id, role, school_id, contractor_id)
);
CREATE INDEX role_assignments_by_school ON role_assignments (school_id);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);

CREATE TABLE api_tokens (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    last_used_at TEXT,
    revoked_at TEXT
);

CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY,
    collectivite_id INTEGER NOT NULL REFERENCES collectivites(id),
    occurred_at TEXT NOT NULL,
    actor_user_id INTEGER,
    actor_login TEXT NOT NULL,
    action TEXT NOT NULL,
    object_type TEXT NOT NULL,
    object_id INTEGER NOT NULL,
    object_label TEXT NOT NULL,
    changes TEXT NOT NULL
);
CREATE INDEX audit_by_collectivite ON audit_log (collectivite_id, id);
