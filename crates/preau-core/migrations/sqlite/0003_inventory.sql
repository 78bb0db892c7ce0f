-- Inventory: device categories (data, per collectivité), devices and their history,
-- components, a software catalogue shared by every device (grouped in sets, since a
-- school's machines mostly run the same image), agent credentials, school address ranges.
-- Kept side by side with the other backend's file: same tables, columns, constraints.

CREATE TABLE device_categories (
    id INTEGER PRIMARY KEY,
    collectivite_id INTEGER NOT NULL REFERENCES collectivites(id),
    code TEXT NOT NULL,
    label_fr TEXT NOT NULL,
    label_en TEXT NOT NULL,
    is_container INTEGER NOT NULL DEFAULT 0,
    has_wifi_switch INTEGER NOT NULL DEFAULT 0,
    position INTEGER NOT NULL DEFAULT 100,
    UNIQUE (collectivite_id, code)
);

CREATE TABLE software (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    publisher TEXT NOT NULL,
    version TEXT NOT NULL,
    search_key TEXT NOT NULL
);
CREATE INDEX software_by_search_key ON software (search_key);

CREATE TABLE software_sets (
    id INTEGER PRIMARY KEY,
    hash TEXT NOT NULL UNIQUE,
    size INTEGER NOT NULL
);

CREATE TABLE software_set_items (
    set_id INTEGER NOT NULL REFERENCES software_sets(id),
    software_id INTEGER NOT NULL REFERENCES software(id),
    PRIMARY KEY (set_id, software_id)
);
CREATE INDEX software_set_items_by_software ON software_set_items (software_id);

CREATE TABLE devices (
    id INTEGER PRIMARY KEY,
    collectivite_id INTEGER NOT NULL REFERENCES collectivites(id),
    category_id INTEGER NOT NULL REFERENCES device_categories(id),
    school_id INTEGER REFERENCES schools(id),
    room_id INTEGER REFERENCES rooms(id),
    parent_id INTEGER REFERENCES devices(id),
    name TEXT,
    state TEXT NOT NULL,
    state_since TEXT NOT NULL,
    brand TEXT,
    model TEXT,
    serial TEXT,
    asset_tag TEXT,
    purchase_date TEXT,
    price_cents INTEGER,
    supplier TEXT,
    order_ref TEXT,
    warranty_end TEXT,
    funding TEXT,
    notes TEXT,
    wifi_switchable INTEGER,
    agent_device_id TEXT,
    agent_tag TEXT,
    system_uuid TEXT,
    os_name TEXT,
    os_version TEXT,
    cpu TEXT,
    memory_mb INTEGER,
    bios TEXT,
    ips TEXT,
    software_set_id INTEGER REFERENCES software_sets(id),
    software_count INTEGER NOT NULL DEFAULT 0,
    last_inventory_at TEXT,
    inventory_source TEXT,
    agent_version TEXT,
    fingerprints TEXT,
    search_key TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (collectivite_id, asset_tag),
    UNIQUE (collectivite_id, agent_device_id)
);
CREATE INDEX devices_by_school ON devices (school_id, room_id);
CREATE INDEX devices_by_collectivite ON devices (collectivite_id, category_id);
CREATE INDEX devices_by_uuid ON devices (collectivite_id, system_uuid);
CREATE INDEX devices_by_serial ON devices (collectivite_id, serial);
CREATE INDEX devices_by_parent ON devices (parent_id);
CREATE INDEX devices_by_software_set ON devices (software_set_id);

CREATE TABLE device_components (
    id INTEGER PRIMARY KEY,
    device_id INTEGER NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    detail TEXT NOT NULL,
    serial TEXT
);
CREATE INDEX device_components_by_device ON device_components (device_id, kind);

CREATE TABLE device_events (
    id INTEGER PRIMARY KEY,
    device_id INTEGER NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
    occurred_at TEXT NOT NULL,
    kind TEXT NOT NULL,
    actor TEXT NOT NULL,
    detail TEXT NOT NULL
);
CREATE INDEX device_events_by_device ON device_events (device_id, id);

CREATE TABLE agent_credentials (
    id INTEGER PRIMARY KEY,
    collectivite_id INTEGER NOT NULL UNIQUE REFERENCES collectivites(id),
    login TEXT NOT NULL UNIQUE,
    secret_hash TEXT NOT NULL,
    created_at TEXT NOT NULL
);

ALTER TABLE schools ADD COLUMN ip_ranges TEXT;
