-- Endpoint health (circuit breaker, auto-disable), recovery and retention.
-- docs/schema.md describes the columns; docs/lifecycle.md how they move.

-- Health of a subscription, written with every attempt it records (src/relay/deliveries.ts).
ALTER TABLE subscriptions ADD COLUMN consecutive_failures INTEGER NOT NULL DEFAULT 0;
ALTER TABLE subscriptions ADD COLUMN failing_since TEXT;        -- first failed attempt since the last success
ALTER TABLE subscriptions ADD COLUMN last_attempt_at TEXT;
ALTER TABLE subscriptions ADD COLUMN probe_at INTEGER NOT NULL DEFAULT 0;        -- unix ms: next probe of an open circuit
ALTER TABLE subscriptions ADD COLUMN probe_queued_at INTEGER NOT NULL DEFAULT 0; -- unix ms: the probe slot a message is queued for
ALTER TABLE subscriptions ADD COLUMN disabled_reason TEXT;      -- why the relay deactivated it (410, no success for days)

-- The attempt count at the last redeliver/recover: the retry schedule restarts from there,
-- while `attempts` keeps counting for the log.
ALTER TABLE deliveries ADD COLUMN retry_base INTEGER NOT NULL DEFAULT 0;

-- Retention walks events by age and deletes their deliveries, without scanning.
CREATE INDEX events_by_created ON events (created_at, id);
CREATE INDEX deliveries_by_event ON deliveries (event_id);
-- A subscription's pending deliveries: held ones to probe or release, ones to end on auto-disable.
CREATE INDEX deliveries_pending_by_subscription ON deliveries (subscription_id, next_attempt_at) WHERE state = 'pending';
CREATE INDEX idempotency_keys_by_expiry ON idempotency_keys (expires_at);

-- Where a chunked job stopped, so the next cron run resumes there (retention walks events
-- oldest first; without it, old events held by pending deliveries would be re-read each run).
CREATE TABLE job_cursors (
  job         TEXT PRIMARY KEY,             -- e.g. retention
  cursor      TEXT,                         -- the job's own resume point; NULL = from the start
  updated_at  TEXT NOT NULL
);
