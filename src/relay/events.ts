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

// Fan-out happens inside SQLite, for a whole group of new events (a JSON array, in order).
// The EXISTS on each new event id makes a duplicate (whose insert did nothing) produce no
// deliveries, without another round trip. Rows are inserted event by event, subscription by
// subscription, so delivery ids keep the events' order.
const FAN_OUT = `INSERT INTO deliveries (guid, event_id, subscription_id, next_attempt_at, created_at)
  SELECT ${SQL_UUID}, e.value ->> 'id', s.id, ?2, ?3
  FROM json_each(?1) e JOIN subscriptions s
    ON s.subject_type = e.value ->> 'subjectType' AND s.subject = e.value ->> 'subject' AND s.active = 1
  WHERE EXISTS (SELECT 1 FROM json_each(s.events) WHERE value = e.value ->> 'type' OR value = '*')
    AND EXISTS (SELECT 1 FROM events WHERE id = e.value ->> 'id')
  ORDER BY e.key, s.id
  RETURNING id, event_id`;

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
  const [outcome] = await publishTogether(env, [{ events, options }]);
  if (outcome?.status !== "fulfilled") throw outcome?.reason;
  return outcome.value;
}

/** What one caller publishes: events that commit together, with their options. */
export interface Publication {
  events: NewEvent[];
  options?: PublishOptions;
}

/**
 * Commits many callers' publications in one D1 transaction (a group commit: see
 * src/relay/commit-group.ts), then enqueues all their deliveries at once. Outcomes are in
 * the order of `publications`.
 */
export async function publishTogether(
  env: Env,
  publications: Publication[],
): Promise<PromiseSettledResult<Published[]>[]> {
  const outcomes = await commitTogether(env, publications);
  await enqueueDeliveries(env, deliveryIdsOf(outcomes));
  return outcomes;
}

/**
 * The commit half of `publishTogether`: nothing is enqueued, so a caller that answers as
 * soon as its events are durable can enqueue afterwards. Each publication is independent:
 * a duplicate in one changes nothing for the others. If the shared transaction fails, each
 * publication is committed alone, so a bad one fails only its own caller.
 */
export async function commitTogether(
  env: Env,
  publications: Publication[],
): Promise<PromiseSettledResult<Published[]>[]> {
  try {
    const committed = await commit(env, publications);
    return committed.map((value) => ({ status: "fulfilled", value }));
  } catch (error) {
    if (publications.length === 1) return [{ status: "rejected", reason: error }];
    return Promise.allSettled(
      publications.map(async (publication) => (await commit(env, [publication]))[0] as Published[]),
    );
  }
}

/** The deliveries that committed publications created, to enqueue. */
export function deliveryIdsOf(outcomes: PromiseSettledResult<Published[]>[]): number[] {
  return outcomes.flatMap((outcome) =>
    outcome.status === "fulfilled" ? outcome.value.flatMap((published) => published.deliveryIds) : [],
  );
}

/**
 * The event rows and fan-out of publications, in one D1 batch; nothing is enqueued. Each
 * event is inserted by its own statement (its payload is bound as is), then one statement
 * fans all of them out, in event order, so a group costs one statement per event, not two.
 */
async function commit(env: Env, publications: Publication[]): Promise<Published[][]> {
  const createdAt = nowIso();
  const nowMs = Date.now();
  const statements: D1PreparedStatement[] = [];
  const fanOut: { id: string; subjectType: string; subject: string; type: string }[] = [];
  const plans = publications.map(({ events, options = {} }) =>
    events.map((event, index) => {
      const eventId = crypto.randomUUID();
      const parts = payloadParts(env, eventId, event.payload);
      const insertAt = statements.length;
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
      // A ping or test goes to one subscription, whatever its filter: a statement of its own.
      const toOneAt = options.onlySubscriptionId === undefined ? -1 : statements.length;
      if (options.onlySubscriptionId === undefined) {
        fanOut.push({ id: eventId, subjectType: event.subjectType, subject: event.subject, type: event.type });
      } else {
        statements.push(env.DB.prepare(FAN_OUT_TO_ONE).bind(eventId, nowMs, createdAt, options.onlySubscriptionId));
      }
      return { eventId, insertAt, toOneAt };
    }),
  );
  const fanOutAt = statements.length;
  if (fanOut.length > 0) {
    statements.push(env.DB.prepare(FAN_OUT).bind(JSON.stringify(fanOut), nowMs, createdAt));
  }
  const results = await env.DB.batch<{ id: number; event_id?: string }>(statements);
  const fannedOut = new Map<string, number[]>();
  for (const row of results[fanOutAt]?.results ?? []) {
    if (row.event_id === undefined) continue;
    const ids = fannedOut.get(row.event_id) ?? [];
    ids.push(row.id);
    fannedOut.set(row.event_id, ids);
  }
  return plans.map((plan) =>
    plan.map(({ eventId, insertAt, toOneAt }) => ({
      eventId,
      duplicate: (results[insertAt]?.meta.changes ?? 0) === 0,
      deliveryIds:
        toOneAt >= 0 ? (results[toOneAt]?.results ?? []).map((row) => row.id) : (fannedOut.get(eventId) ?? []),
    })),
  );
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
