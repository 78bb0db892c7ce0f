-- Whether a ticket is still open, derived from its status, with an index in ticket order:
-- the queue (open tickets, newest first) is then a range of one index, however long the
-- history. Side by side with sqlite/0008_open_tickets.sql (a virtual column there:
-- SQLite cannot add stored generated columns; PostgreSQL has no virtual ones).
ALTER TABLE tickets ADD COLUMN is_open BOOLEAN GENERATED ALWAYS AS (status NOT IN ('resolu', 'clos')) STORED;
CREATE INDEX tickets_open ON tickets (collectivite_id, is_open, id);
