-- Logins are unique within a collectivité, no longer across the deployment: a collectivité
-- creating a user or an agent login learns nothing of another's. Sign-in tells homonyms of
-- different collectivités apart by their password (see users::auth::check_credentials).
-- Side by side with sqlite/0020_login_namespaces.sql.

ALTER TABLE users DROP CONSTRAINT users_login_key;
ALTER TABLE users ADD CONSTRAINT users_collectivite_login UNIQUE (collectivite_id, login);
CREATE INDEX users_by_login ON users (login);

ALTER TABLE agent_credentials DROP CONSTRAINT agent_credentials_login_key;
CREATE INDEX agent_credentials_by_login ON agent_credentials (login);
