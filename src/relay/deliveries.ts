/**
 * The delivery store: enqueueing, claiming, recording attempts, redelivery, the sweep,
 * and the attempt log that the deliveries APIs read. docs/lifecycle.md draws the states.
 */
import type { Config, DeliveryMessage, Env } from "../env";
import { nowIso, parseJsonColumn, SQL_UUID } from "../storage/db";
import { loadPayload } from "./payloads";
import type { Dialect } from "./subscriptions";

/** `sendBatch` takes at most 100 messages. */
const SEND_BATCH_LIMIT = 100;

/**
 * Enqueues deliveries. A failure here loses nothing (the rows are already committed
 * as pending), so it is logged, not thrown: the cron sweep will enqueue them again.
 */
export async function enqueueDeliveries(env: Env, ids: number[]): Promise<void> {
  for (let start = 0; start < ids.length; start += SEND_BATCH_LIMIT) {
    const chunk = ids.slice(start, start + SEND_BATCH_LIMIT);
    try {
      await env.DELIVERIES.sendBatch(chunk.map((deliveryId) => ({ body: { deliveryId } as DeliveryMessage })));
    } catch (error) {
      console.warn(`enqueue of ${chunk.length} deliveries failed; the sweep will retry`, String(error));
    }
  }
}

/** What the consumer needs to send one delivery, loaded in the same round trip as its claim. */
export interface ClaimedDelivery {
  id: number;
  guid: string;
  eventId: string;
  eventType: string;
  payload: string | null;
  attempts: number;
  subscriptionId: number;
  dialect: Dialect;
  url: string;
  contentType: "json" | "form";
  sealedSecret: string | null;
  active: boolean;
  subjectType: string;
  subject: string;
  /** The attempt count at the last redeliver/recover: the retry schedule counts from there. */
  retryBase: number;
  /** The subscription's health when the delivery was claimed (src/relay/health.ts). */
  consecutiveFailures: number;
  failingSince: string | null;
  probeAt: number;
  disabledReason: string | null;
}

interface ClaimRow {
  id: number;
  guid: string;
  event_id: string;
  event_type: string;
  payload: string | null;
  attempts: number;
  subscription_id: number;
  dialect: Dialect;
  url: string;
  content_type: "json" | "form";
  secret: string | null;
  active: number;
  subject_type: string;
  subject: string;
  retry_base: number;
  consecutive_failures: number;
  failing_since: string | null;
  probe_at: number;
  disabled_reason: string | null;
}

/** D1 binds at most 100 parameters per statement; claims go in chunks below that. */
const CLAIM_CHUNK = 90;

function toClaimed(row: ClaimRow): ClaimedDelivery {
  return {
    id: row.id,
    guid: row.guid,
    eventId: row.event_id,
    eventType: row.event_type,
    payload: row.payload,
    attempts: row.attempts,
    subscriptionId: row.subscription_id,
    dialect: row.dialect,
    url: row.url,
    contentType: row.content_type,
    sealedSecret: row.secret,
    active: row.active === 1,
    subjectType: row.subject_type,
    subject: row.subject,
    retryBase: row.retry_base,
    consecutiveFailures: row.consecutive_failures,
    failingSince: row.failing_since,
    probeAt: row.probe_at,
    disabledReason: row.disabled_reason,
  };
}

/**
 * Takes a lease on the pending, due deliveries among `ids`, so two consumers holding
 * duplicate messages never send one twice at once, and loads what sending needs, all in
 * one D1 batch. Deliveries missing from the result need nothing: they already succeeded or
 * failed, another consumer holds them, or they are not due yet (a stale duplicate message;
 * the delivery's own scheduled message will come).
 */
export async function claimDeliveries(env: Env, ids: number[], leaseMs: number): Promise<Map<number, ClaimedDelivery>> {
  const claimed = new Map<number, ClaimedDelivery>();
  const unique = [...new Set(ids)];
  for (let start = 0; start < unique.length; start += CLAIM_CHUNK) {
    const chunk = unique.slice(start, start + CLAIM_CHUNK);
    const now = Date.now();
    const list = chunk.map(() => "?").join(", ");
    const [claim, load] = await env.DB.batch([
      env.DB.prepare(
        `UPDATE deliveries SET lease_until = ?
         WHERE id IN (${list}) AND state = 'pending' AND lease_until < ? AND next_attempt_at <= ? RETURNING id`,
      ).bind(now + leaseMs, ...chunk, now, now + 5_000),
      env.DB.prepare(
        `SELECT d.id, d.guid, d.event_id, e.type AS event_type, e.payload, d.attempts,
                s.id AS subscription_id, s.dialect, s.url, s.content_type, s.secret, s.active,
                s.subject_type, s.subject, d.retry_base, s.consecutive_failures, s.failing_since, s.probe_at,
                s.disabled_reason
         FROM deliveries d
         JOIN events e ON e.id = d.event_id
         JOIN subscriptions s ON s.id = d.subscription_id
         WHERE d.id IN (${list})`,
      ).bind(...chunk),
    ]);
    const won = new Set(((claim?.results ?? []) as { id: number }[]).map((row) => row.id));
    for (const row of (load?.results ?? []) as ClaimRow[]) {
      if (won.has(row.id)) claimed.set(row.id, toClaimed(row));
    }
  }
  return claimed;
}

export interface AttemptRecord {
  deliveryId: number;
  subscriptionId: number;
  attempt: number;
  deliveredAt: string;
  durationMs: number;
  succeeded: boolean;
  statusCode: number | null;
  status: string;
  requestHeaders: Record<string, string>;
  responseHeaders: Record<string, string> | null;
  responseBody: string | null;
  /**
   * False when the relay itself kept the request from being sent (a secret it cannot open):
   * the attempt is logged, but says nothing of the endpoint's health.
   */
  endpointTried: boolean;
}

export type DeliveryOutcome =
  | { state: "succeeded" }
  | { state: "pending"; nextAttemptAt: number }
  /** `deactivate`: the reason the subscription is deactivated with (410, auto-disable), or null. */
  | { state: "failed"; reason: string; deactivate: string | null };

/**
 * Writes attempts, each delivery's new state and each hook's last response and health, in
 * one transaction for the whole batch of messages.
 */
export async function recordAttempts(
  env: Env,
  cfg: Config,
  entries: { record: AttemptRecord; outcome: DeliveryOutcome }[],
): Promise<void> {
  if (entries.length === 0) return;
  const now = Date.now();
  await env.DB.batch(entries.flatMap(({ record, outcome }) => attemptStatements(env, cfg, now, record, outcome)));
}

const RECORD_HEALTH = `UPDATE subscriptions SET last_response_code = ?1, last_response_status = ?2,
    last_response_message = ?3, last_attempt_at = ?4,
    consecutive_failures = CASE WHEN ?5 THEN 0 ELSE consecutive_failures + 1 END,
    failing_since = CASE WHEN ?5 THEN NULL ELSE COALESCE(failing_since, ?4) END,
    probe_at = CASE WHEN ?5 THEN 0
                    WHEN ?6 > 0 AND consecutive_failures + 1 >= ?6 AND probe_at <= ?7 THEN ?7 + ?8
                    ELSE probe_at END,
    probe_queued_at = CASE WHEN ?5 THEN 0 ELSE probe_queued_at END,
    active = CASE WHEN ?9 IS NOT NULL THEN 0 ELSE active END,
    disabled_reason = COALESCE(?9, disabled_reason)
  WHERE id = ?10`;

/** The same parameters (?5 to ?8 unused); the health columns are left as they are. */
const RECORD_LAST_RESPONSE = `UPDATE subscriptions SET last_response_code = ?1, last_response_status = ?2,
    last_response_message = ?3, last_attempt_at = ?4,
    active = CASE WHEN ?9 IS NOT NULL THEN 0 ELSE active END,
    disabled_reason = COALESCE(?9, disabled_reason)
  WHERE id = ?10`;

function attemptStatements(
  env: Env,
  cfg: Config,
  now: number,
  record: AttemptRecord,
  outcome: DeliveryOutcome,
): D1PreparedStatement[] {
  const finished = outcome.state === "pending" ? null : record.deliveredAt;
  return [
    env.DB.prepare(
      `INSERT INTO delivery_attempts (delivery_id, subscription_id, attempt, delivered_at, duration_ms,
         succeeded, status_code, status, request_headers, response_headers, response_body)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).bind(
      record.deliveryId,
      record.subscriptionId,
      record.attempt,
      record.deliveredAt,
      record.durationMs,
      record.succeeded ? 1 : 0,
      record.statusCode,
      record.status,
      JSON.stringify(record.requestHeaders),
      record.responseHeaders ? JSON.stringify(record.responseHeaders) : null,
      record.responseBody,
    ),
    env.DB.prepare(
      `UPDATE deliveries SET state = ?, attempts = ?, next_attempt_at = ?, lease_until = 0,
         failure_reason = ?, completed_at = ? WHERE id = ?`,
    ).bind(
      outcome.state,
      record.attempt,
      outcome.state === "pending" ? outcome.nextAttemptAt : Date.now(),
      outcome.state === "failed" ? outcome.reason : null,
      finished,
      record.deliveryId,
    ),
    // Health (src/relay/health.ts): a success clears it; a failure counts, and the failure
    // that reaches the threshold opens the circuit with its first probe one interval away.
    // An attempt the relay never sent (endpointTried false) leaves the health as it was.
    env.DB.prepare(record.endpointTried ? RECORD_HEALTH : RECORD_LAST_RESPONSE).bind(
      record.statusCode,
      record.succeeded ? "active" : "failed",
      record.status,
      record.deliveredAt,
      record.succeeded ? 1 : 0,
      cfg.circuitOpenAfterFailures,
      now,
      cfg.circuitProbeSeconds * 1000,
      outcome.state === "failed" ? outcome.deactivate : null,
      record.subscriptionId,
    ),
  ];
}

/** Ends a delivery without an attempt (its subscription was deactivated meanwhile). */
export async function failWithoutAttempt(env: Env, id: number, reason: string): Promise<void> {
  await env.DB.prepare(
    `UPDATE deliveries SET state = 'failed', failure_reason = ?, completed_at = ?, lease_until = 0
     WHERE id = ? AND state = 'pending'`,
  )
    .bind(reason, nowIso(), id)
    .run();
}

/** The dead-letter consumer's write: a delivery that reached the DLQ is failed, visibly. */
export async function markDeadLettered(env: Env, id: number): Promise<void> {
  await env.DB.prepare(
    `UPDATE deliveries SET state = 'failed', lease_until = 0, completed_at = COALESCE(completed_at, ?),
       failure_reason = COALESCE(failure_reason, 'dead-lettered: the queue gave up on it')
     WHERE id = ? AND state = 'pending'`,
  )
    .bind(nowIso(), id)
    .run();
}

/**
 * Finds pending deliveries nobody has touched for `staleAfterSeconds` (their message
 * was lost, or never sent) and re-enqueues them. Bumping next_attempt_at keeps the
 * next sweep from sending them again while this round's messages are in flight.
 */
export async function sweepStaleDeliveries(
  env: Env,
  staleAfterSeconds: number,
  circuitOpenAfterFailures: number,
  limit = 1000,
): Promise<number[]> {
  const now = Date.now();
  // Deliveries held by an open circuit are not stale: its probes release them (health.ts).
  const { results } = await env.DB.prepare(
    `UPDATE deliveries SET next_attempt_at = ?1
     WHERE id IN (SELECT d.id FROM deliveries d JOIN subscriptions s ON s.id = d.subscription_id
                  WHERE d.state = 'pending' AND d.next_attempt_at <= ?2 AND d.lease_until < ?1
                    AND NOT (s.active = 1 AND ?4 > 0 AND s.consecutive_failures >= ?4)
                  ORDER BY d.next_attempt_at LIMIT ?3)
     RETURNING id`,
  )
    .bind(now, now - staleAfterSeconds * 1000, limit, circuitOpenAfterFailures)
    .all<{ id: number }>();
  const ids = results.map((row) => row.id);
  await enqueueDeliveries(env, ids);
  return ids;
}

/** A new delivery of an existing event to one subscription: GitHub's "test" re-send. */
export async function deliverEvent(env: Env, eventId: string, subscriptionId: number): Promise<number | null> {
  const row = await env.DB.prepare(
    `INSERT INTO deliveries (guid, event_id, subscription_id, next_attempt_at, created_at)
     VALUES (${SQL_UUID}, ?, ?, ?, ?) RETURNING id`,
  )
    .bind(eventId, subscriptionId, Date.now(), nowIso())
    .first<{ id: number }>();
  if (row) await enqueueDeliveries(env, [row.id]);
  return row?.id ?? null;
}

/**
 * Redelivers the delivery an attempt belongs to: a new delivery row with the same guid
 * (GitHub keeps X-GitHub-Delivery on redelivery) and `redelivery` set.
 */
export async function redeliver(env: Env, subscriptionId: number, attemptId: number): Promise<number | null> {
  const row = await env.DB.prepare(
    `INSERT INTO deliveries (guid, event_id, subscription_id, redelivery, next_attempt_at, created_at)
     SELECT d.guid, d.event_id, d.subscription_id, 1, ?, ?
     FROM delivery_attempts a JOIN deliveries d ON d.id = a.delivery_id
     WHERE a.id = ? AND a.subscription_id = ? RETURNING id`,
  )
    .bind(Date.now(), nowIso(), attemptId, subscriptionId)
    .first<{ id: number }>();
  if (row) await enqueueDeliveries(env, [row.id]);
  return row?.id ?? null;
}

// ---- The attempt log, as the deliveries APIs show it ----

export interface AttemptView {
  id: number;
  deliveryId: number;
  guid: string;
  attempt: number;
  deliveredAt: string;
  durationMs: number;
  succeeded: boolean;
  statusCode: number | null;
  status: string;
  redelivery: boolean;
  eventType: string;
  action: string | null;
  deliveryState: "pending" | "succeeded" | "failed";
  failureReason: string | null;
  repositoryId: number | null;
}

export interface AttemptDetail extends AttemptView {
  requestHeaders: Record<string, string>;
  payload: string;
  responseHeaders: Record<string, string> | null;
  responseBody: string | null;
  url: string;
}

interface AttemptRow {
  id: number;
  delivery_id: number;
  guid: string;
  attempt: number;
  delivered_at: string;
  duration_ms: number;
  succeeded: number;
  status_code: number | null;
  status: string;
  redelivery: number;
  event_type: string;
  action: string | null;
  state: "pending" | "succeeded" | "failed";
  failure_reason: string | null;
  repository_id: number | null;
}

const ATTEMPT_COLUMNS = `a.id, a.delivery_id, d.guid, a.attempt, a.delivered_at, a.duration_ms, a.succeeded,
  a.status_code, a.status, d.redelivery, e.type AS event_type,
  CASE WHEN e.payload IS NOT NULL AND json_valid(e.payload) THEN json_extract(e.payload, '$.action') END AS action,
  d.state, d.failure_reason, r.id AS repository_id`;

const ATTEMPT_FROM = `FROM delivery_attempts a
  JOIN deliveries d ON d.id = a.delivery_id
  JOIN events e ON e.id = d.event_id
  LEFT JOIN repositories r ON e.subject_type = 'repository' AND r.full_name = e.subject`;

function toAttemptView(row: AttemptRow): AttemptView {
  return {
    id: row.id,
    deliveryId: row.delivery_id,
    guid: row.guid,
    attempt: row.attempt,
    deliveredAt: row.delivered_at,
    durationMs: row.duration_ms,
    succeeded: row.succeeded === 1,
    statusCode: row.status_code,
    status: row.status,
    redelivery: row.redelivery === 1,
    eventType: row.event_type,
    action: typeof row.action === "string" ? row.action : null,
    deliveryState: row.state,
    failureReason: row.failure_reason,
    repositoryId: row.repository_id,
  };
}

/** Attempts for a subscription, newest first, keyset-paginated by attempt id. */
export async function listAttempts(
  env: Env,
  subscriptionId: number,
  options: { limit: number; before?: number | undefined; outcome?: "success" | "failure" | undefined },
): Promise<AttemptView[]> {
  const clauses = ["a.subscription_id = ?1"];
  if (options.before !== undefined) clauses.push("a.id < ?2");
  if (options.outcome) clauses.push(`a.succeeded = ${options.outcome === "success" ? 1 : 0}`);
  const { results } = await env.DB.prepare(
    `SELECT ${ATTEMPT_COLUMNS} ${ATTEMPT_FROM} WHERE ${clauses.join(" AND ")} ORDER BY a.id DESC LIMIT ?3`,
  )
    .bind(subscriptionId, options.before ?? null, options.limit)
    .all<AttemptRow>();
  return results.map(toAttemptView);
}

export async function getAttempt(env: Env, subscriptionId: number, attemptId: number): Promise<AttemptDetail | null> {
  const row = await env.DB.prepare(
    `SELECT ${ATTEMPT_COLUMNS}, a.request_headers, a.response_headers, a.response_body, e.payload, e.id AS event_id,
            s.url
     ${ATTEMPT_FROM} JOIN subscriptions s ON s.id = a.subscription_id
     WHERE a.id = ? AND a.subscription_id = ?`,
  )
    .bind(attemptId, subscriptionId)
    .first<
      AttemptRow & {
        request_headers: string;
        response_headers: string | null;
        response_body: string | null;
        payload: string | null;
        event_id: string;
        url: string;
      }
    >();
  if (!row) return null;
  return {
    ...toAttemptView(row),
    requestHeaders: parseJsonColumn<Record<string, string>>(row.request_headers, {}),
    payload: await loadPayload(env, row.event_id, row.payload),
    responseHeaders: parseJsonColumn<Record<string, string> | null>(row.response_headers, null),
    responseBody: row.response_body,
    url: row.url,
  };
}
