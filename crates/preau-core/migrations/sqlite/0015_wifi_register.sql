-- The Wi-Fi register of each school (loi Abeille, art. 7): how each access point is
-- switched off, the rooms it covers, and when the conseil d'école was told of it.
-- Side by side with postgres/0015_wifi_register.sql.

ALTER TABLE devices ADD COLUMN wifi_switch_method TEXT;
ALTER TABLE devices ADD COLUMN council_informed_on TEXT;

CREATE TABLE access_point_rooms (
    device_id INTEGER NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
    room_id INTEGER NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,
    PRIMARY KEY (device_id, room_id)
);
