/**
 * Retention: events older than `RETENTION_DAYS` whose deliveries have all finished are
 * deleted with their deliveries, attempts and payload parts. Pending work is never touched:
 * an event with a pending delivery stays, and so does everything an attempt in flight will
 * record into (a delivery is only pending while an attempt may still record).
 *
 * Work goes in chunks that each fit D1's limits (one bound parameter carries a chunk's ids
 * as JSON; each chunk's deletes are one batch, so one transaction), and `purgeExpired`
 * resumes from a cursor, as workers-oauth-provider's `purgeExpired({limit, cursor})` does.
 * The cron job runs chunks for a bounded time and saves the cursor (`job_cursors`), so a
 * backlog of millions is worked off over successive runs, each starting where the last one
 * stopped, and no run comes near D1's 30 s per query. At the newest old event the cursor
 * goes back to the start, where events whose deliveries have finished since are found.
 */
import { config, type Env } from "../env";
import { nowIso } from "../storage/db";

export interface PurgeOptions {
  /** ISO timestamp: events created before it may go. */
  before: string;
  /** Events examined per chunk. */
  limit?: number;
  /** Where the previous chunk stopped; null or absent starts from the oldest event. */
  cursor?: string | null;
}

export interface PurgeResult {
  events: number;
  deliveries: number;
  attempts: number;
  /** Pass it back to continue; null when no older events remain past it. */
  cursor: string | null;
}

export const DEFAULT_CHUNK = 500;

/** Events are walked by (created_at, id); the cursor is the last one examined. */
function encodeCursor(createdAt: string, id: string): string {
  return `${createdAt}|${id}`;
}

function decodeCursor(cursor: string | null | undefined): { createdAt: string; id: string } {
  const bar = cursor?.indexOf("|") ?? -1;
  return cursor && bar > 0 ? { createdAt: cursor.slice(0, bar), id: cursor.slice(bar + 1) } : { createdAt: "", id: "" };
}

// Every statement re-checks, inside the transaction, that the event has no pending
// delivery, so a delivery that became pending since the chunk was read (a redelivery,
// a recover) keeps its event, deliveries and attempts.
const FINISHED = `SELECT j.value FROM json_each(?1) j
  WHERE NOT EXISTS (SELECT 1 FROM deliveries p WHERE p.event_id = j.value AND p.state = 'pending')`;

/** One chunk: examines up to `limit` events older than `before`, deletes the finished ones. */
export async function purgeExpired(env: Env, options: PurgeOptions): Promise<PurgeResult> {
  const limit = Math.max(1, Math.floor(options.limit ?? DEFAULT_CHUNK));
  const after = decodeCursor(options.cursor);
  const { results } = await env.DB.prepare(
    `SELECT id, created_at FROM events
     WHERE created_at < ?1 AND (created_at > ?2 OR (created_at = ?2 AND id > ?3))
     ORDER BY created_at, id LIMIT ?4`,
  )
    .bind(options.before, after.createdAt, after.id, limit)
    .all<{ id: string; created_at: string }>();
  const last = results[results.length - 1];
  if (!last) return { events: 0, deliveries: 0, attempts: 0, cursor: null };
  const ids = JSON.stringify(results.map((row) => row.id));
  const [attempts, deliveries, , events] = await env.DB.batch([
    env.DB.prepare(
      `DELETE FROM delivery_attempts WHERE delivery_id IN (SELECT d.id FROM deliveries d WHERE d.event_id IN (${FINISHED}))`,
    ).bind(ids),
    env.DB.prepare(`DELETE FROM deliveries WHERE event_id IN (${FINISHED})`).bind(ids),
    env.DB.prepare(`DELETE FROM event_payload_parts WHERE event_id IN (${FINISHED})`).bind(ids),
    env.DB.prepare(
      `DELETE FROM events WHERE id IN (SELECT value FROM json_each(?1))
         AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = events.id)`,
    ).bind(ids),
  ]);
  return {
    events: events?.meta.changes ?? 0,
    deliveries: deliveries?.meta.changes ?? 0,
    attempts: attempts?.meta.changes ?? 0,
    cursor: results.length < limit ? null : encodeCursor(last.created_at, last.id),
  };
}

export interface RetentionOptions {
  /** Events per chunk; default 500. */
  chunk?: number;
  /** Stop starting new chunks after this long; the next run goes on. Default 10 s. */
  budgetMs?: number;
  /** Unix ms to count the retention period back from; default now. */
  now?: number;
}

export interface RetentionRun {
  events: number;
  deliveries: number;
  attempts: number;
  chunks: number;
  /** True when it stopped at the time budget with older events left to examine. */
  more: boolean;
}

const JOB = "retention";

/**
 * The cron job: chunks of `purgeExpired` within a time budget, from where the previous run
 * stopped (or the oldest event).
 */
export async function retention(env: Env, options: RetentionOptions = {}): Promise<RetentionRun> {
  const run: RetentionRun = { events: 0, deliveries: 0, attempts: 0, chunks: 0, more: false };
  const days = config(env).retentionDays;
  if (days <= 0) return run;
  const started = Date.now();
  const before = new Date((options.now ?? started) - days * 86_400_000).toISOString().replace(/\.\d{3}Z$/, "Z");
  const budget = options.budgetMs ?? 10_000;
  const saved = await env.DB.prepare("SELECT cursor FROM job_cursors WHERE job = ?")
    .bind(JOB)
    .first<{ cursor: string | null }>();
  let cursor: string | null = saved?.cursor ?? null;
  do {
    const chunk = await purgeExpired(env, { before, limit: options.chunk ?? DEFAULT_CHUNK, cursor });
    run.events += chunk.events;
    run.deliveries += chunk.deliveries;
    run.attempts += chunk.attempts;
    run.chunks++;
    cursor = chunk.cursor;
  } while (cursor !== null && Date.now() - started < budget);
  run.more = cursor !== null;
  await env.DB.prepare(
    `INSERT INTO job_cursors (job, cursor, updated_at) VALUES (?1, ?2, ?3)
     ON CONFLICT (job) DO UPDATE SET cursor = ?2, updated_at = ?3`,
  )
    .bind(JOB, cursor, nowIso())
    .run();
  if (run.events > 0) {
    console.log(
      `retention deleted ${run.events} events, ${run.deliveries} deliveries and ${run.attempts} attempts in ${run.chunks} chunks${run.more ? "; more next run" : ""}`,
    );
  }
  return run;
}
