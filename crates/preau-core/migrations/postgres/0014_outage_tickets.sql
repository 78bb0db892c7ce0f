-- The ticket an outage opened (category réseau, routed like any other), resolved when the
-- school is heard from again.
-- Side by side with sqlite/0014_outage_tickets.sql.

ALTER TABLE outages ADD COLUMN ticket_id BIGINT REFERENCES tickets(id);
