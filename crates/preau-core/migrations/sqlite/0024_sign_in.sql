-- Sign-in with the accounts people already have: per collectivité, whether local
-- passwords (beyond its administrators') and e-mail links are allowed; its directories
-- and identity providers (LDAP/AD, OpenID Connect, CAS), their settings a checked JSON
-- document; the identities matched to users; one-time e-mail links (their SHA-256 only);
-- and the access requests of people a provider knows and Préau does not.
-- Side by side with postgres/0024_sign_in.sql.
CREATE TABLE sign_in_settings (
    collectivite_id INTEGER PRIMARY KEY REFERENCES collectivites(id),
    local_passwords BOOLEAN NOT NULL DEFAULT TRUE,
    email_links BOOLEAN NOT NULL DEFAULT TRUE,
    version INTEGER NOT NULL DEFAULT 1,
    updated_at TEXT NOT NULL
);
CREATE TABLE identity_providers (
    id INTEGER PRIMARY KEY,
    collectivite_id INTEGER NOT NULL REFERENCES collectivites(id),
    kind TEXT NOT NULL,
    label TEXT NOT NULL,
    config TEXT NOT NULL,
    match_by TEXT NOT NULL,
    enabled BOOLEAN NOT NULL DEFAULT TRUE,
    version INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX identity_providers_by_collectivite ON identity_providers (collectivite_id);
CREATE TABLE user_identities (
    id INTEGER PRIMARY KEY,
    provider_id INTEGER NOT NULL REFERENCES identity_providers(id),
    subject TEXT NOT NULL,
    user_id INTEGER NOT NULL REFERENCES users(id),
    created_at TEXT NOT NULL,
    last_used_at TEXT,
    UNIQUE (provider_id, subject)
);
CREATE INDEX user_identities_by_user ON user_identities (user_id);
CREATE TABLE sign_in_links (
    token_hash TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id),
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at TEXT
);
CREATE INDEX sign_in_links_by_user ON sign_in_links (user_id, created_at);
CREATE TABLE access_requests (
    id INTEGER PRIMARY KEY,
    collectivite_id INTEGER NOT NULL REFERENCES collectivites(id),
    provider_id INTEGER NOT NULL REFERENCES identity_providers(id),
    subject TEXT NOT NULL,
    display_name TEXT NOT NULL,
    email TEXT,
    status TEXT NOT NULL DEFAULT 'en_attente',
    user_id INTEGER REFERENCES users(id),
    decided_by INTEGER REFERENCES users(id),
    decided_at TEXT,
    version INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX access_requests_by_collectivite ON access_requests (collectivite_id, status, id);
CREATE UNIQUE INDEX access_requests_pending ON access_requests (provider_id, subject) WHERE status = 'en_attente';
