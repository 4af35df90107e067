-- The id of the API request that caused an event (X-Request-Id), sent with
-- its webhook deliveries as X-Clausum-Request-Id so a receiver's logs and
-- ours meet. Empty for events no request caused (a worker, a recovery).
ALTER TABLE outbox_events ADD COLUMN request_id TEXT;
