/**
 * Deploy environments and their deploy hooks: secret URLs that start a deployment when
 * fetched. Only a hash of each secret is kept, and it is compared in constant time.
 */
import type { Env } from "../../env";
import { randomToken, sha256Hex, toHex } from "../../relay/crypto";
import { nowIso } from "../../storage/db";

export interface Environment {
  id: number;
  preview_key: string | null;
  name: string;
  repo: string;
  repo_subject: string;
  branch: string;
  created_by: string;
  created_at: string;
  updated_at: string;
}

export interface DeployHook {
  id: number;
  environment_id: number;
  name: string;
  created_by: string;
  created_at: string;
}

/** The id clients see: the number, or `preview-<key>` for a preview environment. */
export const environmentId = (env: Pick<Environment, "id" | "preview_key">) =>
  env.preview_key ? `preview-${env.preview_key}` : String(env.id);

export async function createEnvironment(
  env: Env,
  input: { name: string; repo: string; branch: string; preview: boolean; createdBy: string },
): Promise<Environment> {
  const now = nowIso();
  const previewKey = input.preview ? toHex(crypto.getRandomValues(new Uint8Array(6))) : null;
  const row = await env.DB.prepare(
    `INSERT INTO environments (preview_key, name, repo, repo_subject, branch, created_by, created_at, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING *`,
  )
    .bind(previewKey, input.name, input.repo, input.repo.toLowerCase(), input.branch, input.createdBy, now, now)
    .first<Environment>();
  if (!row) throw new Error("environment insert returned nothing");
  return row;
}

export async function listEnvironments(env: Env): Promise<Environment[]> {
  const { results } = await env.DB.prepare("SELECT * FROM environments ORDER BY id").all<Environment>();
  return results;
}

/** By the id clients see (`12` or `preview-…`). */
export async function findEnvironment(env: Env, publicId: string): Promise<Environment | null> {
  if (publicId.startsWith("preview-")) {
    return env.DB.prepare("SELECT * FROM environments WHERE preview_key = ?")
      .bind(publicId.slice("preview-".length))
      .first<Environment>();
  }
  if (!/^\d+$/.test(publicId)) return null;
  return env.DB.prepare("SELECT * FROM environments WHERE id = ? AND preview_key IS NULL")
    .bind(Number(publicId))
    .first<Environment>();
}

export async function deleteEnvironment(env: Env, id: number): Promise<void> {
  await env.DB.prepare("DELETE FROM environments WHERE id = ?").bind(id).run();
}

/** Creates a hook; its secret is returned here once and only its hash is stored. */
export async function createDeployHook(
  env: Env,
  environment: Environment,
  input: { name: string; createdBy: string },
): Promise<{ hook: DeployHook; secret: string }> {
  const secret = randomToken(24);
  const hook = await env.DB.prepare(
    `INSERT INTO deploy_hooks (environment_id, name, secret_hash, created_by, created_at) VALUES (?, ?, ?, ?, ?)
     RETURNING id, environment_id, name, created_by, created_at`,
  )
    .bind(environment.id, input.name, await sha256Hex(secret), input.createdBy, nowIso())
    .first<DeployHook>();
  if (!hook) throw new Error("deploy hook insert returned nothing");
  return { hook, secret };
}

export async function listDeployHooks(env: Env, environmentId: number): Promise<DeployHook[]> {
  const { results } = await env.DB.prepare(
    "SELECT id, environment_id, name, created_by, created_at FROM deploy_hooks WHERE environment_id = ? ORDER BY id",
  )
    .bind(environmentId)
    .all<DeployHook>();
  return results;
}

export async function deleteDeployHook(env: Env, environmentId: number, id: number): Promise<boolean> {
  const result = await env.DB.prepare("DELETE FROM deploy_hooks WHERE id = ? AND environment_id = ?")
    .bind(id, environmentId)
    .run();
  return result.meta.changes > 0;
}

/**
 * The hook of an environment whose secret this is, or null. Every hook's hash is
 * compared, in constant time, so timing says nothing about which part matched.
 */
export async function hookForSecret(env: Env, environmentId: number, secret: string): Promise<DeployHook | null> {
  const { results } = await env.DB.prepare(
    "SELECT id, environment_id, name, created_by, created_at, secret_hash FROM deploy_hooks WHERE environment_id = ?",
  )
    .bind(environmentId)
    .all<DeployHook & { secret_hash: string }>();
  const presented = new TextEncoder().encode(await sha256Hex(secret));
  let found: DeployHook | null = null;
  for (const { secret_hash, ...hook } of results) {
    if (crypto.subtle.timingSafeEqual(presented, new TextEncoder().encode(secret_hash))) found = hook;
  }
  return found;
}
