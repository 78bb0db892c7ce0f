-- Collectivités become editable from the UI: optimistic concurrency like every other record.
ALTER TABLE collectivites ADD COLUMN version BIGINT NOT NULL DEFAULT 1;
