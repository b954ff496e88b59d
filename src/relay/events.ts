/**
 * The one publish path. Every dialect turns what happened into an event and calls
 * `publish`: the event and one delivery per matching active subscription are written
 * in a single D1 batch (one transaction), then the deliveries are enqueued. Once the
 * batch commits the event is durable; if the enqueue fails, the cron sweep re-enqueues.
 */
import type { Env } from "../env";
import { nowIso, SQL_UUID } from "../storage/db";
import { enqueueDeliveries } from "./deliveries";
import { payloadParts } from "./payloads";

export interface NewEvent {
  type: string;
  subjectType: string;
  subject: string;
  /** Who produced it: `github` (inbound webhooks), `hookrelay` (the relay itself), `api`. */
  source: string;
  /** The source's own id, used to drop duplicates (X-GitHub-Delivery). Defaults to a fresh UUID. */
  sourceId?: string;
  /** The payload as JSON text, stored and delivered byte for byte. */
  payload: string;
}

export interface Published {
  eventId: string;
  /** True when this source id was seen before: nothing new was stored or sent. */
  duplicate: boolean;
  deliveryIds: number[];
}

const INSERT_EVENT = `INSERT INTO events (id, type, subject_type, subject, source, source_id, payload, created_at)
  VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT (source, source_id) DO NOTHING`;

// Fan-out happens inside SQLite. The EXISTS on the new event id makes a duplicate (whose
// insert above did nothing) produce no deliveries, without another round trip.
const FAN_OUT = `INSERT INTO deliveries (guid, event_id, subscription_id, next_attempt_at, created_at)
  SELECT ${SQL_UUID}, ?1, s.id, ?2, ?3 FROM subscriptions s
  WHERE s.subject_type = ?4 AND s.subject = ?5 AND s.active = 1
    AND EXISTS (SELECT 1 FROM json_each(s.events) WHERE value = ?6 OR value = '*')
    AND EXISTS (SELECT 1 FROM events WHERE id = ?1)
  RETURNING id`;

const FAN_OUT_TO_ONE = `INSERT INTO deliveries (guid, event_id, subscription_id, next_attempt_at, created_at)
  SELECT ${SQL_UUID}, ?1, s.id, ?2, ?3 FROM subscriptions s
  WHERE s.id = ?4 AND EXISTS (SELECT 1 FROM events WHERE id = ?1)
  RETURNING id`;

export interface PublishOptions {
  /** Deliver to this one subscription only, whatever its event filter (pings, tests). */
  onlySubscriptionId?: number;
  /**
   * Writes that belong to the event and must commit with it (the deployment a `deployment`
   * event announces, the ref a `push` moves). They run in the same batch, after the event.
   */
  alongside?: (eventId: string) => D1PreparedStatement[];
}

export async function publish(env: Env, event: NewEvent, options: PublishOptions = {}): Promise<Published> {
  const [published] = await publishAll(env, [event], options);
  return published as Published;
}

/**
 * Publishes several events in one transaction: a deployment status is both a
 * `deployment_status` on its repository and a `job:succeed` on its job, and neither may
 * exist without the other. `alongside` receives the first event's id.
 */
export async function publishAll(env: Env, events: NewEvent[], options: PublishOptions = {}): Promise<Published[]> {
  const createdAt = nowIso();
  const nowMs = Date.now();
  const statements: D1PreparedStatement[] = [];
  const plan = events.map((event) => ({ event, eventId: crypto.randomUUID(), insertAt: 0, fanOutAt: 0 }));
  plan.forEach((entry, index) => {
    const { event, eventId } = entry;
    const parts = payloadParts(env, eventId, event.payload);
    entry.insertAt = statements.length;
    statements.push(
      env.DB.prepare(INSERT_EVENT).bind(
        eventId,
        event.type,
        event.subjectType,
        event.subject,
        event.source,
        event.sourceId ?? eventId,
        parts.length > 0 ? null : event.payload,
        createdAt,
      ),
    );
    statements.push(...parts);
    if (index === 0 && options.alongside) statements.push(...options.alongside(eventId));
    entry.fanOutAt = statements.length;
    statements.push(
      options.onlySubscriptionId === undefined
        ? env.DB.prepare(FAN_OUT).bind(eventId, nowMs, createdAt, event.subjectType, event.subject, event.type)
        : env.DB.prepare(FAN_OUT_TO_ONE).bind(eventId, nowMs, createdAt, options.onlySubscriptionId),
    );
  });
  const results = await env.DB.batch<{ id: number }>(statements);
  const published = plan.map(({ eventId, insertAt, fanOutAt }) => ({
    eventId,
    duplicate: (results[insertAt]?.meta.changes ?? 0) === 0,
    deliveryIds: (results[fanOutAt]?.results ?? []).map((row) => row.id),
  }));
  await enqueueDeliveries(
    env,
    published.flatMap((p) => p.deliveryIds),
  );
  return published;
}

/** The newest event of a type on a subject, e.g. a repository's latest push. */
export async function latestEvent(
  env: Env,
  subjectType: string,
  subject: string,
  type: string,
): Promise<{ id: string } | null> {
  return env.DB.prepare(
    `SELECT id FROM events WHERE subject_type = ? AND subject = ? AND type = ?
     ORDER BY created_at DESC, rowid DESC LIMIT 1`,
  )
    .bind(subjectType, subject, type)
    .first<{ id: string }>();
}
