-- Shared kits and rooms booked by slot of the school day. A bookable is one device (a
-- classe mobile, a visio kit, a set of robots — with the devices under it) or one room of
-- its home school, possibly shared with other schools (`bookable_schools`) that need
-- `move_minutes` to bring it over. `feed_token` is the secret address of its iCalendar
-- feed. A booking holds one slot of one class day for one school; the bookings of a
-- weekly repeat share `repeat_id` (the first one's id). A school's own slots
-- (`booking_slots`, e.g. `08:30-09:30, 09:30-10:30`) replace the halves of its class days.
-- Side by side with postgres/0019_bookings.sql: same tables, columns, constraints.

ALTER TABLE schools ADD COLUMN booking_slots TEXT NOT NULL DEFAULT '';

CREATE TABLE bookables (
    id INTEGER PRIMARY KEY,
    collectivite_id INTEGER NOT NULL REFERENCES collectivites(id),
    school_id INTEGER NOT NULL REFERENCES schools(id),
    device_id INTEGER REFERENCES devices(id),
    room_id INTEGER REFERENCES rooms(id),
    name TEXT NOT NULL,
    move_minutes INTEGER NOT NULL DEFAULT 0,
    feed_token TEXT NOT NULL UNIQUE,
    active BOOLEAN NOT NULL DEFAULT TRUE,
    version INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    CHECK ((device_id IS NULL) <> (room_id IS NULL)),
    UNIQUE (device_id),
    UNIQUE (room_id)
);
CREATE INDEX bookables_by_school ON bookables (school_id);

CREATE TABLE bookable_schools (
    bookable_id INTEGER NOT NULL REFERENCES bookables(id),
    school_id INTEGER NOT NULL REFERENCES schools(id),
    PRIMARY KEY (bookable_id, school_id)
);
CREATE INDEX bookable_schools_by_school ON bookable_schools (school_id);

CREATE TABLE bookings (
    id INTEGER PRIMARY KEY,
    bookable_id INTEGER NOT NULL REFERENCES bookables(id),
    school_id INTEGER NOT NULL REFERENCES schools(id),
    class_id INTEGER REFERENCES classes(id),
    day TEXT NOT NULL,
    starts_at TEXT NOT NULL,
    ends_at TEXT NOT NULL,
    repeat_id INTEGER,
    note TEXT NOT NULL DEFAULT '',
    booked_by INTEGER REFERENCES users(id),
    booked_by_name TEXT NOT NULL,
    cancelled_at TEXT,
    cancelled_by TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX bookings_by_bookable ON bookings (bookable_id, starts_at) WHERE cancelled_at IS NULL;
CREATE INDEX bookings_by_school ON bookings (school_id, starts_at) WHERE cancelled_at IS NULL;
CREATE INDEX bookings_by_repeat ON bookings (repeat_id) WHERE repeat_id IS NOT NULL;
