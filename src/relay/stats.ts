/**
 * The relay at a glance, for operators: deliveries by state, events kept and the oldest,
 * the D1 database's size, the retention period, and attempts per hour over the last day.
 * A scoped token's figures count only its owners' subscriptions (the size is the database's).
 */
import { config, type Env } from "../env";
import { ownerClause } from "./delivery-log";

export interface Stats {
  deliveries: { pending: number; succeeded: number; failed: number };
  events: number;
  oldestEventAt: string | null;
  /** The D1 database's size in bytes, as D1 reports it with every result (`meta.size_after`). */
  storageBytes: number;
  retentionDays: number;
  /** Attempts per hour, the last 24 hours, oldest first. */
  hourly: { hour: string; succeeded: number; failed: number }[];
}

const HOUR_MS = 3_600_000;

function hourKey(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 13)}:00:00Z`;
}

export async function relayStats(env: Env, owners: readonly string[] | null): Promise<Stats> {
  const currentHour = Math.floor(Date.now() / HOUR_MS) * HOUR_MS;
  const firstHour = currentHour - 23 * HOUR_MS;
  const since = hourKey(firstHour);

  const byState: unknown[] = [];
  const stateOwners = ownerClause(owners, "s.owner", byState);
  const eventParams: unknown[] = [];
  const eventOwners = ownerClause(owners, "s.owner", eventParams);
  const hourParams: unknown[] = [since];
  const hourOwners = ownerClause(owners, "s.owner", hourParams);

  const [states, events, hours] = await env.DB.batch([
    env.DB.prepare(
      stateOwners
        ? `SELECT d.state, count(*) AS n FROM deliveries d JOIN subscriptions s ON s.id = d.subscription_id
           WHERE ${stateOwners} GROUP BY d.state`
        : "SELECT state, count(*) AS n FROM deliveries GROUP BY state",
    ).bind(...byState),
    env.DB.prepare(
      eventOwners
        ? `SELECT count(*) AS n, min(e.created_at) AS oldest FROM events e WHERE EXISTS (
             SELECT 1 FROM deliveries d JOIN subscriptions s ON s.id = d.subscription_id
             WHERE d.event_id = e.id AND ${eventOwners})`
        : "SELECT count(*) AS n, min(created_at) AS oldest FROM events",
    ).bind(...eventParams),
    // Attempt ids grow with time: the newest attempt older than the window bounds the scan,
    // found by walking back from the newest, so only the last day's rows are read.
    env.DB.prepare(
      `SELECT substr(a.delivered_at, 1, 13) AS hour, sum(a.succeeded) AS succeeded, sum(1 - a.succeeded) AS failed
       FROM delivery_attempts a ${hourOwners ? "JOIN subscriptions s ON s.id = a.subscription_id" : ""}
       WHERE a.id > coalesce((SELECT id FROM delivery_attempts WHERE delivered_at < ?1 ORDER BY id DESC LIMIT 1), 0)
         AND a.delivered_at >= ?1 ${hourOwners ? `AND ${hourOwners}` : ""}
       GROUP BY hour`,
    ).bind(...hourParams),
  ]);

  const deliveries = { pending: 0, succeeded: 0, failed: 0 };
  for (const row of (states?.results ?? []) as { state: keyof typeof deliveries; n: number }[]) {
    if (row.state in deliveries) deliveries[row.state] = row.n;
  }
  const eventRow = events?.results[0] as { n: number; oldest: string | null } | undefined;
  const perHour = new Map(
    ((hours?.results ?? []) as { hour: string; succeeded: number; failed: number }[]).map((row) => [
      `${row.hour}:00:00Z`,
      row,
    ]),
  );
  const hourly = Array.from({ length: 24 }, (_, i) => {
    const hour = hourKey(firstHour + i * HOUR_MS);
    const row = perHour.get(hour);
    return { hour, succeeded: row?.succeeded ?? 0, failed: row?.failed ?? 0 };
  });
  return {
    deliveries,
    events: eventRow?.n ?? 0,
    oldestEventAt: eventRow?.oldest ?? null,
    storageBytes: states?.meta.size_after ?? 0,
    retentionDays: config(env).retentionDays,
    hourly,
  };
}
