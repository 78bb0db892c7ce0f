-- Failed sign-ins per key (a login at an address, an address), in the database so that
-- every node of a deployment counts them together. The key is kept as its SHA-256: no
-- login or address is stored. Side by side with sqlite/0026_sign_in_failures.sql.
CREATE TABLE sign_in_failures (
    key_hash TEXT PRIMARY KEY,
    count BIGINT NOT NULL,
    since_at TIMESTAMPTZ NOT NULL,
    last_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX sign_in_failures_by_last ON sign_in_failures (last_at);
