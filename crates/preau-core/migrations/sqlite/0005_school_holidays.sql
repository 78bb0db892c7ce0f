-- School holidays imported from the official fr-en-calendrier-scolaire export, for the
-- years after those bundled with Préau. National reference data, shared by every
-- collectivité.
CREATE TABLE school_holidays (
    id INTEGER PRIMARY KEY,
    zone TEXT NOT NULL,
    label TEXT NOT NULL,
    start_date TEXT NOT NULL,
    end_date TEXT NOT NULL,
    UNIQUE (zone, start_date, end_date)
);
