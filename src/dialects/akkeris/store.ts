/**
 * Akkeris apps and their auto build settings. An app is addressed as `name-space` or by
 * its id; builds hang off it and live in its Durable Object.
 */
import type { Env } from "../../env";
import { ApiError } from "../../http/errors";
import { decryptSecret, encryptSecret } from "../../relay/crypto";
import { isUniqueViolation, nowIso } from "../../storage/db";

export interface App {
  id: string;
  name: string;
  space: string;
  organization: string;
  created_by: string;
  created_at: string;
  updated_at: string;
}

/** `name-space`, Akkeris' way of naming an app. */
export const appKey = (app: Pick<App, "name" | "space">) => `${app.name}-${app.space}`;

/** Builds of an app are events on `space/app`, the subject /v1/hooks subscribes to. */
export const buildSubject = (app: Pick<App, "name" | "space">) => `${app.space}/${app.name}`;

export async function createApp(
  env: Env,
  input: { name: string; space: string; organization: string; createdBy: string },
): Promise<App> {
  const now = nowIso();
  const app: App = {
    id: crypto.randomUUID(),
    name: input.name,
    space: input.space,
    organization: input.organization,
    created_by: input.createdBy,
    created_at: now,
    updated_at: now,
  };
  try {
    await env.DB.prepare(
      "INSERT INTO apps (id, name, space, organization, created_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
    )
      .bind(app.id, app.name, app.space, app.organization, app.created_by, now, now)
      .run();
  } catch (error) {
    if (isUniqueViolation(error)) throw new ApiError(409, `The app ${appKey(app)} already exists.`);
    throw error;
  }
  return app;
}

/** Every app, or only those of `organizations` (lower-cased) when given: a scoped token's list. */
export async function listApps(env: Env, organizations: readonly string[] | null = null): Promise<App[]> {
  const where = organizations
    ? `WHERE lower(organization) IN (${organizations.map(() => "?").join(", ") || "NULL"})`
    : "";
  const { results } = await env.DB.prepare(`SELECT * FROM apps ${where} ORDER BY space, name`)
    .bind(...(organizations ?? []))
    .all<App>();
  return results;
}

/** An app by id or by `name-space` (the space is the part after the last dash). */
export async function findApp(env: Env, key: string): Promise<App | null> {
  const dash = key.lastIndexOf("-");
  return env.DB.prepare("SELECT * FROM apps WHERE id = ?1 OR (name = ?2 AND space = ?3) LIMIT 1")
    .bind(key, dash > 0 ? key.slice(0, dash) : key, dash > 0 ? key.slice(dash + 1) : "")
    .first<App>();
}

/** The app whose builds are published on a `space/name` subject (see `buildSubject`). */
export async function findAppBySubject(env: Env, subject: string): Promise<App | null> {
  const [space = "", name = ""] = subject.split("/");
  return env.DB.prepare("SELECT * FROM apps WHERE space = ? AND name = ?").bind(space, name).first<App>();
}

export async function deleteApp(env: Env, id: string): Promise<void> {
  await env.DB.prepare("DELETE FROM apps WHERE id = ?").bind(id).run();
}

export interface AutoBuild {
  id: string;
  app_id: string;
  repo: string;
  repo_subject: string;
  site: string;
  branch: string;
  username: string;
  status_check: number;
  auto_deploy: number;
  secret: string;
  github_hook_id: number | null;
  created_at: string;
  updated_at: string;
}

export async function getAutoBuild(env: Env, appId: string): Promise<AutoBuild | null> {
  return env.DB.prepare("SELECT * FROM auto_builds WHERE app_id = ?").bind(appId).first<AutoBuild>();
}

/** The plain webhook secret of an auto build, for verifying GitHub's callbacks. */
export async function autoBuildSecret(env: Env, autoBuild: AutoBuild): Promise<string> {
  return decryptSecret(env, autoBuild.secret);
}

/** Stores an app's auto build, replacing any earlier one (one per app). */
export async function saveAutoBuild(
  env: Env,
  input: Omit<AutoBuild, "id" | "secret" | "created_at" | "updated_at"> & { plainSecret: string },
): Promise<AutoBuild> {
  const now = nowIso();
  const row: AutoBuild = {
    id: crypto.randomUUID(),
    app_id: input.app_id,
    repo: input.repo,
    repo_subject: input.repo_subject,
    site: input.site,
    branch: input.branch,
    username: input.username,
    status_check: input.status_check,
    auto_deploy: input.auto_deploy,
    secret: await encryptSecret(env, input.plainSecret),
    github_hook_id: input.github_hook_id,
    created_at: now,
    updated_at: now,
  };
  await env.DB.prepare(
    `INSERT INTO auto_builds (id, app_id, repo, repo_subject, site, branch, username, status_check, auto_deploy,
       secret, github_hook_id, created_at, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (app_id) DO UPDATE SET id = excluded.id, repo = excluded.repo, repo_subject = excluded.repo_subject,
       site = excluded.site, branch = excluded.branch, username = excluded.username,
       status_check = excluded.status_check, auto_deploy = excluded.auto_deploy, secret = excluded.secret,
       github_hook_id = excluded.github_hook_id, updated_at = excluded.updated_at`,
  )
    .bind(...Object.values(row))
    .run();
  return row;
}

export async function deleteAutoBuild(env: Env, appId: string): Promise<boolean> {
  const result = await env.DB.prepare("DELETE FROM auto_builds WHERE app_id = ?").bind(appId).run();
  return result.meta.changes > 0;
}
