/**
 * Branch and tag heads as the relay has seen them: every relayed `push` moves its ref.
 * The relay holds no repository contents, so this is how a deployment of `main` finds
 * its sha.
 */
import type { Env } from "../env";
import { nowIso } from "../storage/db";

export const SHA = /^[0-9a-f]{40}$/i;
const ZERO_SHA = /^0{40}$/;

export interface PushPayload {
  ref?: unknown;
  after?: unknown;
  deleted?: unknown;
}

/**
 * The statement that moves (or removes) a ref for a relayed push. Guarded by the event's
 * existence, so a duplicate delivery of an old push never moves a ref back.
 */
export function refUpdateForPush(
  env: Env,
  subject: string,
  payload: PushPayload,
  eventId: string,
): D1PreparedStatement[] {
  if (typeof payload.ref !== "string" || typeof payload.after !== "string") return [];
  if (payload.deleted === true || ZERO_SHA.test(payload.after)) {
    return [
      env.DB.prepare(
        "DELETE FROM git_refs WHERE subject = ? AND ref = ? AND EXISTS (SELECT 1 FROM events WHERE id = ?)",
      ).bind(subject, payload.ref, eventId),
    ];
  }
  if (!SHA.test(payload.after)) return [];
  return [
    env.DB.prepare(
      `INSERT INTO git_refs (subject, ref, sha, updated_at) SELECT ?1, ?2, ?3, ?4
       WHERE EXISTS (SELECT 1 FROM events WHERE id = ?5)
       ON CONFLICT (subject, ref) DO UPDATE SET sha = excluded.sha, updated_at = excluded.updated_at`,
    ).bind(subject, payload.ref, payload.after.toLowerCase(), nowIso(), eventId),
  ];
}

/**
 * A sha for a ref: a 40-hex sha as is, else the latest pushed head of the branch or tag
 * (`main`, `v1.0`, `refs/heads/main`). Null when the relay has never seen it.
 */
export async function resolveRef(env: Env, subject: string, ref: string): Promise<string | null> {
  if (SHA.test(ref)) return ref.toLowerCase();
  const candidates = ref.startsWith("refs/") ? [ref] : [`refs/heads/${ref}`, `refs/tags/${ref}`];
  const row = await env.DB.prepare(
    `SELECT sha FROM git_refs WHERE subject = ?1 AND ref IN (?2, ?3)
     ORDER BY CASE WHEN ref = ?2 THEN 0 ELSE 1 END LIMIT 1`,
  )
    .bind(subject, candidates[0], candidates[1] ?? candidates[0])
    .first<{ sha: string }>();
  return row?.sha ?? null;
}
