-- What a person was told by e-mail, also kept for them in Préau (the bell): one row per
-- user an e-mail was addressed to, read when they open it.
-- Side by side with postgres/0022_notifications.sql.
CREATE TABLE notifications (
    id INTEGER PRIMARY KEY,
    collectivite_id INTEGER NOT NULL REFERENCES collectivites(id),
    user_id INTEGER NOT NULL REFERENCES users(id),
    subject TEXT NOT NULL,
    link TEXT,
    created_at TEXT NOT NULL,
    read_at TEXT
);
CREATE INDEX notifications_by_user ON notifications (user_id, id);
CREATE INDEX notifications_unread ON notifications (user_id) WHERE read_at IS NULL;
