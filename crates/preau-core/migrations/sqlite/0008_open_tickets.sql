-- Whether a ticket is still open, derived from its status, with an index in ticket order:
-- the queue (open tickets, newest first) is then a range of one index, however long the
-- history. Side by side with postgres/0008_open_tickets.sql (a stored column there:
-- PostgreSQL has no virtual generated columns; SQLite cannot add stored ones).
ALTER TABLE tickets ADD COLUMN is_open BOOLEAN GENERATED ALWAYS AS (status NOT IN ('resolu', 'clos')) VIRTUAL;
CREATE INDEX tickets_open ON tickets (collectivite_id, is_open, id);
