-- The backups `preau backup` took: the administration page says when the last one was
-- and warns when it is more than two days old.
CREATE TABLE backups (
    id INTEGER PRIMARY KEY,
    taken_at TEXT NOT NULL,
    file_name TEXT NOT NULL,
    bytes INTEGER NOT NULL
);
