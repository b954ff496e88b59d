/**
 * Repositories the relay has seen: stable numeric ids for GitHub-shaped objects and
 * headers, and each repository's inbound (ingest) secret, encrypted at rest.
 */
import type { Env } from "../env";
import { nowIso } from "../storage/db";
import { decryptSecret, encryptSecret } from "./crypto";

export interface RepositoryRef {
  id: number;
  fullName: string;
}

/** Subscriptions and events key repositories by lower-cased `owner/repo`, as GitHub is case-insensitive. */
export const repositorySubject = (owner: string, repo: string): string => `${owner}/${repo}`.toLowerCase();

export async function ensureRepository(env: Env, owner: string, repo: string): Promise<RepositoryRef> {
  const now = nowIso();
  const row = await env.DB.prepare(
    `INSERT INTO repositories (full_name, created_at, updated_at) VALUES (?, ?, ?)
     ON CONFLICT (full_name) DO UPDATE SET full_name = full_name RETURNING id, full_name`,
  )
    .bind(`${owner}/${repo}`, now, now)
    .first<{ id: number; full_name: string }>();
  if (!row) throw new Error("repository upsert returned nothing");
  return { id: row.id, fullName: row.full_name };
}

export async function setIngestSecret(env: Env, owner: string, repo: string, secret: string | null): Promise<void> {
  const now = nowIso();
  const sealed = secret ? await encryptSecret(env.SECRETS_KEY, secret) : null;
  await env.DB.prepare(
    `INSERT INTO repositories (full_name, ingest_secret, created_at, updated_at) VALUES (?, ?, ?, ?)
     ON CONFLICT (full_name) DO UPDATE SET ingest_secret = excluded.ingest_secret, updated_at = excluded.updated_at`,
  )
    .bind(`${owner}/${repo}`, sealed, now, now)
    .run();
}

/** The plain ingest secret, or null when inbound relaying is not set up for the repository. */
export async function ingestSecret(env: Env, owner: string, repo: string): Promise<string | null> {
  const row = await env.DB.prepare("SELECT ingest_secret FROM repositories WHERE full_name = ?")
    .bind(`${owner}/${repo}`)
    .first<{ ingest_secret: string | null }>();
  return row?.ingest_secret ? decryptSecret(env.SECRETS_KEY, row.ingest_secret) : null;
}
