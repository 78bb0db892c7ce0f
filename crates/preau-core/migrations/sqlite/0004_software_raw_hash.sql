-- A software set remembers the fingerprint of the raw agent text it was first built from:
-- a machine cloned from the same image sends the same text, and its list need not be
-- parsed again to be recognised.
ALTER TABLE software_sets ADD COLUMN raw_hash TEXT;
CREATE INDEX software_sets_by_raw_hash ON software_sets (raw_hash);
