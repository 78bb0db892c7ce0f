-- API tokens expire (a year after they are made, unless another date is chosen); tokens
-- made before this have none stored and count from their creation.
-- Side by side with sqlite/0011_token_expiry.sql.

ALTER TABLE api_tokens ADD COLUMN expires_at TIMESTAMPTZ;
