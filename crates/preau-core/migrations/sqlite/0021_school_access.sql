-- How to get into a school, for those who come to work there (the gate, the code, who
-- opens, where to park): written by the school or the collectivité, read by technicians
-- and by the contractors whose lots cover the school.
ALTER TABLE schools ADD COLUMN access_notes TEXT;
