/**
 * Repositories the relay has seen: stable numeric ids for GitHub-shaped objects and
 * headers, and each repository's inbound (ingest) secret, encrypted at rest.
 */
import type { Env } from "../env";
import { decryptSecret, encryptSecret } from "../relay/crypto";
import type { SealedColumn } from "../relay/reseal";
import { nowIso } from "../storage/db";
import type { RepositoryRef } from "./types";

/** Subscriptions and events key repositories by lower-cased `owner/repo`, as GitHub is case-insensitive. */
export const repositorySubject = (owner: string, repo: string): string => `${owner}/${repo}`.toLowerCase();

/** A repository's id never changes once made, so each isolate remembers the ones it has seen. */
const knownRepositories = new Map<string, RepositoryRef>();

export async function ensureRepository(env: Env, owner: string, repo: string): Promise<RepositoryRef> {
  const key = `${owner}/${repo}`.toLowerCase();
  const known = knownRepositories.get(key);
  if (known) return known;
  const now = nowIso();
  const row = await env.DB.prepare(
    `INSERT INTO repositories (full_name, created_at, updated_at) VALUES (?, ?, ?)
     ON CONFLICT (full_name) DO UPDATE SET full_name = full_name RETURNING id, full_name`,
  )
    .bind(`${owner}/${repo}`, now, now)
    .first<{ id: number; full_name: string }>();
  if (!row) throw new Error("repository upsert returned nothing");
  if (knownRepositories.size > 10_000) knownRepositories.clear();
  const ref = { id: row.id, fullName: row.full_name };
  knownRepositories.set(key, ref);
  return ref;
}

/** A repository the relay already knows, by its `owner/repo` subject; null when it has none. */
export async function findRepository(env: Env, subject: string): Promise<RepositoryRef | null> {
  const key = subject.toLowerCase();
  const known = knownRepositories.get(key);
  if (known) return known;
  const row = await env.DB.prepare("SELECT id, full_name FROM repositories WHERE full_name = ?")
    .bind(subject)
    .first<{ id: number; full_name: string }>();
  if (!row) return null;
  const ref = { id: row.id, fullName: row.full_name };
  knownRepositories.set(key, ref);
  return ref;
}

/** Where ingest secrets are sealed, for the re-seal job of a key rotation. */
export const sealedIngestSecrets: SealedColumn = { table: "repositories", idColumn: "id", column: "ingest_secret" };

/**
 * Ingest secrets, decrypted, cached per isolate for a minute: the hot path then verifies
 * without touching D1. A rotated secret is picked up at once where it was set, and
 * elsewhere on the first signature the cached one fails (see `verifyWithIngestSecret`).
 */
const INGEST_SECRET_TTL_MS = 60_000;
const ingestSecrets = new Map<string, { secret: string | null; expires: number }>();

export async function setIngestSecret(env: Env, owner: string, repo: string, secret: string | null): Promise<void> {
  ingestSecrets.delete(`${owner}/${repo}`.toLowerCase());
  const now = nowIso();
  const sealed = secret ? await encryptSecret(env, secret) : null;
  await env.DB.prepare(
    `INSERT INTO repositories (full_name, ingest_secret, created_at, updated_at) VALUES (?, ?, ?, ?)
     ON CONFLICT (full_name) DO UPDATE SET ingest_secret = excluded.ingest_secret, updated_at = excluded.updated_at`,
  )
    .bind(`${owner}/${repo}`, sealed, now, now)
    .run();
}

/** The plain ingest secret, or null when inbound relaying is not set up for the repository. */
export async function ingestSecret(env: Env, owner: string, repo: string, fresh = false): Promise<string | null> {
  const key = `${owner}/${repo}`.toLowerCase();
  const cached = ingestSecrets.get(key);
  if (!fresh && cached && cached.expires > Date.now()) return cached.secret;
  const row = await env.DB.prepare("SELECT ingest_secret FROM repositories WHERE full_name = ?")
    .bind(`${owner}/${repo}`)
    .first<{ ingest_secret: string | null }>();
  const secret = row?.ingest_secret ? await decryptSecret(env, row.ingest_secret) : null;
  if (ingestSecrets.size > 10_000) ingestSecrets.clear();
  ingestSecrets.set(key, { secret, expires: Date.now() + INGEST_SECRET_TTL_MS });
  return secret;
}

/**
 * Whether a signature verifies against the repository's ingest secret. A failure with the
 * cached secret is retried with the stored one, so a secret rotated in another isolate is
 * never refused; a stale one may still be accepted for up to a minute.
 * Null when the repository has no ingest secret.
 */
export async function verifyWithIngestSecret(
  env: Env,
  owner: string,
  repo: string,
  verify: (secret: string) => Promise<boolean>,
): Promise<boolean | null> {
  const cached = await ingestSecret(env, owner, repo);
  if (cached && (await verify(cached))) return true;
  const stored = await ingestSecret(env, owner, repo, true);
  if (!stored) return null;
  return stored !== cached && verify(stored);
}
