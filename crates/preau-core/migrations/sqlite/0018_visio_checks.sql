-- Each visio session's room checked the class day before at 16:00 (`checked_eve_at`) and
-- 30 minutes before (`checked_last_at`), and the ticket a room not ready opened (once).
-- Side by side with postgres/0018_visio_checks.sql.

ALTER TABLE visio_sessions ADD COLUMN checked_eve_at TEXT;
ALTER TABLE visio_sessions ADD COLUMN checked_last_at TEXT;
ALTER TABLE visio_sessions ADD COLUMN ticket_id INTEGER REFERENCES tickets(id);
CREATE INDEX visio_sessions_to_check ON visio_sessions (status, starts_at);
