-- Deployments, deployment statuses and commit statuses (GitHub's API), and the refs the
-- relay learns from relayed pushes. docs/schema.md describes the tables.

-- Id allocation for rows whose id must be known before the batch that writes them
-- (their event payloads carry it), so row and event commit together.
CREATE TABLE sequences (
  name   TEXT PRIMARY KEY,
  value  INTEGER NOT NULL
);

-- Branch and tag heads, from the `push` events relayed through /ingest.
CREATE TABLE git_refs (
  subject     TEXT NOT NULL,                 -- lower-cased owner/repo
  ref         TEXT NOT NULL,                 -- refs/heads/main, refs/tags/v1.0
  sha         TEXT NOT NULL,
  updated_at  TEXT NOT NULL,
  PRIMARY KEY (subject, ref)
);

CREATE TABLE commit_statuses (
  id           INTEGER PRIMARY KEY,
  subject      TEXT NOT NULL,
  sha          TEXT NOT NULL,
  state        TEXT NOT NULL,                -- error, failure, pending, success
  context      TEXT NOT NULL,
  description  TEXT,
  target_url   TEXT,
  creator      TEXT NOT NULL,
  created_at   TEXT NOT NULL,
  updated_at   TEXT NOT NULL
);
CREATE INDEX commit_statuses_by_sha ON commit_statuses (subject, sha, context, id);

CREATE TABLE deployments (
  id                      INTEGER PRIMARY KEY,
  subject                 TEXT    NOT NULL,
  sha                     TEXT    NOT NULL,
  ref                     TEXT    NOT NULL,
  task                    TEXT    NOT NULL,
  payload                 TEXT    NOT NULL,  -- JSON: an object, or a string
  environment             TEXT    NOT NULL,
  original_environment    TEXT    NOT NULL,
  description             TEXT    NOT NULL,
  creator                 TEXT    NOT NULL,
  transient_environment   INTEGER NOT NULL,
  production_environment  INTEGER NOT NULL,
  created_at              TEXT    NOT NULL,
  updated_at              TEXT    NOT NULL
);
CREATE INDEX deployments_by_subject ON deployments (subject, id);

CREATE TABLE deployment_statuses (
  id               INTEGER PRIMARY KEY,
  deployment_id    INTEGER NOT NULL REFERENCES deployments (id) ON DELETE CASCADE,
  state            TEXT    NOT NULL,         -- error, failure, inactive, in_progress, queued, pending, success
  description      TEXT    NOT NULL,
  environment      TEXT    NOT NULL,
  target_url       TEXT    NOT NULL,
  log_url          TEXT    NOT NULL,
  environment_url  TEXT    NOT NULL,
  creator          TEXT    NOT NULL,
  created_at       TEXT    NOT NULL,
  updated_at       TEXT    NOT NULL
);
CREATE INDEX deployment_statuses_by_deployment ON deployment_statuses (deployment_id, id);

-- Idempotency-Key on POST: a repeat within the window returns the original resource.
CREATE TABLE idempotency_keys (
  scope        TEXT    NOT NULL,             -- e.g. deployments:octo/repo
  key          TEXT    NOT NULL,
  resource_id  INTEGER NOT NULL,
  expires_at   INTEGER NOT NULL,             -- unix ms
  PRIMARY KEY (scope, key)
);
