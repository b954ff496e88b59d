-- Akkeris apps and their auto build/deploy hooks (spec 000). Build state itself lives in
-- one Durable Object per app (src/dialects/akkeris/app-builds.ts), which serialises it.

CREATE TABLE apps (
  id            TEXT PRIMARY KEY,            -- UUID
  name          TEXT NOT NULL,
  space         TEXT NOT NULL,
  organization  TEXT NOT NULL,
  created_by    TEXT NOT NULL,
  created_at    TEXT NOT NULL,
  updated_at    TEXT NOT NULL,
  UNIQUE (name, space)
);

-- At most one auto build per app: a new one replaces the old.
CREATE TABLE auto_builds (
  id            TEXT PRIMARY KEY,            -- UUID
  app_id        TEXT NOT NULL UNIQUE REFERENCES apps (id) ON DELETE CASCADE,
  repo          TEXT NOT NULL,               -- https://github.com/owner/repo
  repo_subject  TEXT NOT NULL,               -- lower-cased owner/repo
  site          TEXT NOT NULL,               -- https://github.com
  branch        TEXT NOT NULL,
  username      TEXT NOT NULL,
  status_check  INTEGER NOT NULL,
  auto_deploy   INTEGER NOT NULL,
  secret        TEXT NOT NULL,               -- encrypted webhook secret; the GitHub token is never kept
  github_hook_id INTEGER,                    -- the webhook registered on the repository
  created_at    TEXT NOT NULL,
  updated_at    TEXT NOT NULL
);
