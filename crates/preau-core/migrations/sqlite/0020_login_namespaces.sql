-- rebuilds tables: foreign keys off
-- Logins are unique within a collectivité, no longer across the deployment: a collectivité
-- creating a user or an agent login learns nothing of another's. Sign-in tells homonyms of
-- different collectivités apart by their password (see users::auth::check_credentials).
-- SQLite cannot drop a column's UNIQUE: the two tables are rebuilt (ids kept; the runner
-- turns foreign keys off for this migration and checks them before committing).
-- Side by side with postgres/0020_login_namespaces.sql.

CREATE TABLE users_new (
    id INTEGER PRIMARY KEY,
    collectivite_id INTEGER NOT NULL REFERENCES collectivites(id),
    login TEXT NOT NULL,
    display_name TEXT NOT NULL,
    email TEXT,
    password_hash TEXT NOT NULL,
    lang TEXT NOT NULL DEFAULT 'fr',
    active BOOLEAN NOT NULL DEFAULT TRUE,
    version INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (collectivite_id, login)
);
INSERT INTO users_new (id, collectivite_id, login, display_name, email, password_hash, lang, active, version, created_at, updated_at)
    SELECT id, collectivite_id, login, display_name, email, password_hash, lang, active, version, created_at, updated_at FROM users;
DROP TABLE users;
ALTER TABLE users_new RENAME TO users;
CREATE INDEX users_by_login ON users (login);

CREATE TABLE agent_credentials_new (
    id INTEGER PRIMARY KEY,
    collectivite_id INTEGER NOT NULL UNIQUE REFERENCES collectivites(id),
    login TEXT NOT NULL,
    secret_hash TEXT NOT NULL,
    created_at TEXT NOT NULL
);
INSERT INTO agent_credentials_new (id, collectivite_id, login, secret_hash, created_at)
    SELECT id, collectivite_id, login, secret_hash, created_at FROM agent_credentials;
DROP TABLE agent_credentials;
ALTER TABLE agent_credentials_new RENAME TO agent_credentials;
CREATE INDEX agent_credentials_by_login ON agent_credentials (login);
