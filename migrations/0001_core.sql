-- hookrelay core schema. docs/schema.md explains each table; docs/lifecycle.md the delivery lifecycle.

-- API tokens minted by an admin. Only the SHA-256 of a token is kept.
CREATE TABLE api_tokens (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  login       TEXT    NOT NULL,
  token_hash  TEXT    NOT NULL UNIQUE,
  can_write   INTEGER NOT NULL,
  owners      TEXT,                      -- JSON array of lower-cased owners; NULL = every owner
  created_at  TEXT    NOT NULL
);

-- Repositories the relay knows: gives them stable numeric ids and holds the inbound secret.
CREATE TABLE repositories (
  id             INTEGER PRIMARY KEY AUTOINCREMENT,
  full_name      TEXT NOT NULL UNIQUE COLLATE NOCASE,
  ingest_secret  TEXT,                   -- encrypted; NULL = inbound relaying not set up
  created_at     TEXT NOT NULL,
  updated_at     TEXT NOT NULL
);

-- Every event the relay accepted, from any dialect.
CREATE TABLE events (
  id            TEXT PRIMARY KEY,        -- UUID
  type          TEXT NOT NULL,           -- push, ping, deployment, build:complete, ...
  subject_type  TEXT NOT NULL,           -- repository, build_repo, image_repo, job
  subject       TEXT NOT NULL,           -- lower-cased owner/repo, namespace/name or job id
  source        TEXT NOT NULL,           -- github, hookrelay, api
  source_id     TEXT NOT NULL,           -- the source's id (X-GitHub-Delivery) or a fresh UUID
  payload       TEXT,                    -- JSON; NULL when it is split into event_payload_parts
  created_at    TEXT NOT NULL,
  UNIQUE (source, source_id)             -- deduplicates redelivered inbound webhooks
);
CREATE INDEX events_by_subject ON events (subject_type, subject, type, created_at);

-- Payloads too big for one D1 row (GitHub sends up to 25 MB) are stored in ordered parts.
CREATE TABLE event_payload_parts (
  event_id  TEXT    NOT NULL REFERENCES events (id) ON DELETE CASCADE,
  part      INTEGER NOT NULL,
  data      TEXT    NOT NULL,
  PRIMARY KEY (event_id, part)
);

-- Subscriptions of every dialect: GitHub hooks (API and hub) and /v1/hooks.
CREATE TABLE subscriptions (
  id                     INTEGER PRIMARY KEY AUTOINCREMENT,
  dialect                TEXT    NOT NULL,          -- github, alauda
  subject_type           TEXT    NOT NULL,
  subject                TEXT    NOT NULL,
  name                   TEXT    NOT NULL DEFAULT 'web',
  events                 TEXT    NOT NULL,          -- JSON array; "*" matches every event
  url                    TEXT    NOT NULL,
  content_type           TEXT    NOT NULL,          -- json, form
  secret                 TEXT,                      -- encrypted; NULL = unsigned
  insecure_ssl           TEXT    NOT NULL DEFAULT '0',
  active                 INTEGER NOT NULL DEFAULT 1,
  created_by             TEXT    NOT NULL,
  created_at             TEXT    NOT NULL,
  updated_at             TEXT    NOT NULL,
  last_response_code     INTEGER,
  last_response_status   TEXT    NOT NULL DEFAULT 'unused',
  last_response_message  TEXT
);
CREATE INDEX subscriptions_by_subject ON subscriptions (subject_type, subject, active);
-- GitHub refuses a second hook with the same URL on one repository.
CREATE UNIQUE INDEX subscriptions_github_url ON subscriptions (subject_type, subject, url) WHERE dialect = 'github';

-- One row per event x subscription (plus one per redelivery). See docs/lifecycle.md for states.
CREATE TABLE deliveries (
  id               INTEGER PRIMARY KEY AUTOINCREMENT,
  guid             TEXT    NOT NULL,               -- X-GitHub-Delivery / webhook-id; kept on redelivery
  event_id         TEXT    NOT NULL REFERENCES events (id),
  subscription_id  INTEGER NOT NULL REFERENCES subscriptions (id) ON DELETE CASCADE,
  redelivery       INTEGER NOT NULL DEFAULT 0,
  state            TEXT    NOT NULL DEFAULT 'pending', -- pending, succeeded, failed
  attempts         INTEGER NOT NULL DEFAULT 0,
  next_attempt_at  INTEGER NOT NULL,               -- unix ms
  lease_until      INTEGER NOT NULL DEFAULT 0,     -- unix ms; a consumer holds it while sending
  failure_reason   TEXT,
  created_at       TEXT    NOT NULL,
  completed_at     TEXT
);
CREATE INDEX deliveries_pending ON deliveries (next_attempt_at) WHERE state = 'pending';
CREATE INDEX deliveries_by_subscription ON deliveries (subscription_id, id);

-- Each HTTP attempt of a delivery: what was sent and what came back (body truncated).
CREATE TABLE delivery_attempts (
  id                INTEGER PRIMARY KEY AUTOINCREMENT,
  delivery_id       INTEGER NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
  subscription_id   INTEGER NOT NULL,
  attempt           INTEGER NOT NULL,
  delivered_at      TEXT    NOT NULL,
  duration_ms       INTEGER NOT NULL,
  succeeded         INTEGER NOT NULL,
  status_code       INTEGER,                        -- NULL when no response came back
  status            TEXT    NOT NULL,               -- "OK", "Invalid HTTP Response: 500", "timed out"
  request_headers   TEXT    NOT NULL,               -- JSON
  response_headers  TEXT,                           -- JSON
  response_body     TEXT
);
CREATE INDEX delivery_attempts_by_subscription ON delivery_attempts (subscription_id, id);
CREATE INDEX delivery_attempts_by_delivery ON delivery_attempts (delivery_id);
