-- The sign-ins under way at an OpenID Connect or CAS provider: their state's SHA-256, the
-- nonce and PKCE verifier, where to go once signed in; ten minutes at most, used once.
-- In the database, so that any node of a deployment finishes a sign-in another started.
-- Side by side with postgres/0025_sign_in_flows.sql.
CREATE TABLE sign_in_flows (
    state_hash TEXT PRIMARY KEY,
    provider_id INTEGER NOT NULL REFERENCES identity_providers(id),
    nonce TEXT NOT NULL,
    verifier TEXT NOT NULL,
    next TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX sign_in_flows_by_expiry ON sign_in_flows (expires_at);
