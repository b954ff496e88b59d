-- Flightcontrol-style environments and their deploy hooks (spec 002).

CREATE TABLE environments (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  preview_key   TEXT UNIQUE,                 -- set for preview environments: their id is preview-<key>
  name          TEXT NOT NULL,
  repo          TEXT NOT NULL,               -- owner/repo as given
  repo_subject  TEXT NOT NULL,               -- lower-cased owner/repo
  branch        TEXT NOT NULL,               -- the default branch deployed when a hook names none
  created_by    TEXT NOT NULL,
  created_at    TEXT NOT NULL,
  updated_at    TEXT NOT NULL
);

CREATE TABLE deploy_hooks (
  id              INTEGER PRIMARY KEY AUTOINCREMENT,
  environment_id  INTEGER NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
  name            TEXT NOT NULL,
  secret_hash     TEXT NOT NULL,             -- SHA-256 of the URL's secret; the secret itself is shown once
  created_by      TEXT NOT NULL,
  created_at      TEXT NOT NULL
);
CREATE INDEX deploy_hooks_by_environment ON deploy_hooks (environment_id);
