/**
 * The delivery store: enqueueing, claiming, recording attempts, redelivery, the sweep,
 * and the attempt log that the deliveries APIs read. docs/lifecycle.md draws the states.
 */
import type { Config, DeliveryMessage, Env } from "../env";
import { nowIso, parseJsonColumn, SQL_UUID } from "../storage/db";
import { utf8 } from "./crypto";
import { loadPayload } from "./payloads";
import type { Dialect } from "./subscriptions";

/** `sendBatch` takes at most 100 messages. */
const SEND_BATCH_LIMIT = 100;

/**
 * Enqueues deliveries, in `sendBatch` calls of 100 sent concurrently. A failure here loses
 * nothing (the rows are already committed as pending), so it is logged, not thrown: the cron
 * sweep will enqueue them again.
 */
export async function enqueueDeliveries(env: Env, ids: number[]): Promise<void> {
  if (ids.length === 0) return;
  const chunks: number[][] = [];
  for (let start = 0; start < ids.length; start += SEND_BATCH_LIMIT)
    chunks.push(ids.slice(start, start + SEND_BATCH_LIMIT));
  await Promise.all(
    chunks.map(async (chunk) => {
      try {
        await env.DELIVERIES.sendBatch(chunk.map((deliveryId) => ({ body: { deliveryId } as DeliveryMessage })));
      } catch (error) {
        console.warn(`enqueue of ${chunk.length} deliveries failed; the sweep will retry`, String(error));
      }
    }),
  );
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

interface ClaimedEventRow {
  id: string;
  type: string;
  payload: string | null;
}

function toClaimed(row: ClaimRow, event: ClaimedEventRow): ClaimedDelivery {
  return {
    id: row.id,
    guid: row.guid,
    eventId: row.event_id,
    eventType: event.type,
    payload: event.payload,
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

/** The ids a statement reads with `json_each`: one bound parameter, however many. */
const IDS = "SELECT value FROM json_each(?1)";

/**
 * Takes a lease on the pending, due deliveries among `ids`, so two consumers holding
 * duplicate messages never send one twice at once, and loads what sending needs: ONE D1
 * batch of three statements, however many ids (bound as one JSON array). Each event's
 * payload is read once, however many of the deliveries carry it (a fan-out batch is many
 * deliveries of one event). Deliveries missing from the result need nothing: they already
 * succeeded or failed, another consumer holds them, or they are not due yet (a stale
 * duplicate message; the delivery's own scheduled message will come).
 */
export async function claimDeliveries(env: Env, ids: number[], leaseMs: number): Promise<Map<number, ClaimedDelivery>> {
  const claimed = new Map<number, ClaimedDelivery>();
  const unique = [...new Set(ids)];
  if (unique.length === 0) return claimed;
  const now = Date.now();
  const leaseUntil = now + leaseMs;
  const list = JSON.stringify(unique);
  // The loads read only rows carrying this claim's lease (the batch is one transaction, so
  // they see the claim); the RETURNING ids say which of those this claim won.
  const [claim, load, events] = await env.DB.batch([
    env.DB.prepare(
      `UPDATE deliveries SET lease_until = ?2
       WHERE id IN (${IDS}) AND state = 'pending' AND lease_until < ?3 AND next_attempt_at <= ?4 RETURNING id`,
    ).bind(list, leaseUntil, now, now + 5_000),
    env.DB.prepare(
      `SELECT d.id, d.guid, d.event_id, d.attempts, s.id AS subscription_id, s.dialect, s.url, s.content_type,
              s.secret, s.active, s.subject_type, s.subject, d.retry_base, s.consecutive_failures, s.failing_since,
              s.probe_at, s.disabled_reason
       FROM deliveries d JOIN subscriptions s ON s.id = d.subscription_id
       WHERE d.id IN (${IDS}) AND d.lease_until = ?2`,
    ).bind(list, leaseUntil),
    env.DB.prepare(
      `SELECT e.id, e.type, e.payload FROM events e
       WHERE e.id IN (SELECT d.event_id FROM deliveries d WHERE d.id IN (${IDS}) AND d.lease_until = ?2)`,
    ).bind(list, leaseUntil),
  ]);
  const won = new Set(((claim?.results ?? []) as { id: number }[]).map((row) => row.id));
  const byId = new Map(((events?.results ?? []) as ClaimedEventRow[]).map((event) => [event.id, event]));
  for (const row of (load?.results ?? []) as ClaimRow[]) {
    const event = byId.get(row.event_id);
    if (won.has(row.id) && event) claimed.set(row.id, toClaimed(row, event));
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

export interface AttemptEntry {
  record: AttemptRecord;
  outcome: DeliveryOutcome;
}

/**
 * D1 caps one string at 2 MB: the attempts' JSON is bound in parts below that. Attempts keep
 * at most 20 KB of a response body, so a batch of 100 needs one part unless its receivers
 * answer with large bodies.
 */
const ATTEMPTS_JSON_BYTES = 1_000_000;

const INSERT_ATTEMPTS = `INSERT INTO delivery_attempts (delivery_id, subscription_id, attempt, delivered_at,
    duration_ms, succeeded, status_code, status, request_headers, response_headers, response_body)
  SELECT value ->> 'delivery_id', value ->> 'subscription_id', value ->> 'attempt', value ->> 'delivered_at',
    value ->> 'duration_ms', value ->> 'succeeded', value ->> 'status_code', value ->> 'status',
    value ->> 'request_headers', value ->> 'response_headers', value ->> 'response_body'
  FROM json_each(?1) ORDER BY key`;

const UPDATE_DELIVERIES = `UPDATE deliveries SET state = j.state, attempts = j.attempts,
    next_attempt_at = j.next_attempt_at, lease_until = 0, failure_reason = j.failure_reason,
    completed_at = j.completed_at
  FROM (SELECT value ->> 'id' AS id, value ->> 'state' AS state, value ->> 'attempts' AS attempts,
          value ->> 'next_attempt_at' AS next_attempt_at, value ->> 'failure_reason' AS failure_reason,
          value ->> 'completed_at' AS completed_at
        FROM json_each(?1)) AS j
  WHERE deliveries.id = j.id`;

/**
 * Each subscription's attempts of the batch, folded (`foldHealth`), written as the attempts
 * one after another would have: a success clears the health; a failure counts, and the failure
 * that reaches the threshold (?2) opens the circuit with its first probe one interval (?4)
 * after now (?3), unless a probe is already set in the future.
 */
const UPDATE_SUBSCRIPTIONS = `UPDATE subscriptions SET last_response_code = j.code,
    last_response_status = j.status, last_response_message = j.message, last_attempt_at = j.at,
    consecutive_failures = (CASE WHEN j.succeeded THEN 0 ELSE consecutive_failures END) + j.failures,
    failing_since = CASE WHEN j.succeeded THEN j.failing_from ELSE COALESCE(failing_since, j.failing_from) END,
    probe_at = CASE
      WHEN j.failures > 0 AND ?2 > 0
        AND (CASE WHEN j.succeeded THEN 0 ELSE consecutive_failures END) + j.failures >= ?2
        AND (CASE WHEN j.succeeded THEN 0 ELSE probe_at END) <= ?3 THEN ?3 + ?4
      WHEN j.succeeded THEN 0
      ELSE probe_at END,
    probe_queued_at = CASE WHEN j.succeeded THEN 0 ELSE probe_queued_at END,
    active = CASE WHEN j.deactivate IS NOT NULL THEN 0 ELSE active END,
    disabled_reason = COALESCE(j.deactivate, disabled_reason)
  FROM (SELECT value ->> 'id' AS id, value ->> 'code' AS code, value ->> 'status' AS status,
          value ->> 'message' AS message, value ->> 'at' AS at, value ->> 'succeeded' AS succeeded,
          value ->> 'failures' AS failures, value ->> 'failing_from' AS failing_from,
          value ->> 'deactivate' AS deactivate
        FROM json_each(?1)) AS j
  WHERE subscriptions.id = j.id`;

/**
 * A subscription's attempts of one batch, in order, as the values its row ends with:
 * - `succeeded`: some attempt that reached the endpoint succeeded; the health restarts there;
 * - `failures`: the endpoint's failures after the last success (all of them, without one);
 * - `failing_from`: the first of those failures' time (`failing_since`, if it was clear);
 * - the last attempt's response, and the last deactivation reason given.
 * Attempts the relay never sent (`endpointTried` false) set only the last response and
 * deactivation: they say nothing of the endpoint's health.
 */
export interface HealthFold {
  id: number;
  code: number | null;
  status: "active" | "failed";
  message: string;
  at: string;
  succeeded: 0 | 1;
  failures: number;
  failing_from: string | null;
  deactivate: string | null;
}

export function foldHealth(entries: AttemptEntry[]): HealthFold[] {
  const folds = new Map<number, HealthFold>();
  for (const { record, outcome } of entries) {
    let fold = folds.get(record.subscriptionId);
    if (!fold) {
      fold = {
        id: record.subscriptionId,
        code: null,
        status: "failed",
        message: "",
        at: "",
        succeeded: 0,
        failures: 0,
        failing_from: null,
        deactivate: null,
      };
      folds.set(record.subscriptionId, fold);
    }
    fold.code = record.statusCode;
    fold.status = record.succeeded ? "active" : "failed";
    fold.message = record.status;
    fold.at = record.deliveredAt;
    if (outcome.state === "failed" && outcome.deactivate !== null) fold.deactivate = outcome.deactivate;
    if (!record.endpointTried) continue;
    if (record.succeeded) {
      fold.succeeded = 1;
      fold.failures = 0;
      fold.failing_from = null;
    } else {
      if (fold.failures === 0) fold.failing_from = record.deliveredAt;
      fold.failures++;
    }
  }
  return [...folds.values()];
}

/** Items as JSON arrays of at most `maxBytes` (UTF-8) each; one item is never split. */
function jsonArrays(items: unknown[], maxBytes: number): string[] {
  const arrays: string[] = [];
  let current: string[] = [];
  let size = 2;
  for (const item of items) {
    const json = JSON.stringify(item);
    const bytes = utf8(json).byteLength + 1;
    if (current.length > 0 && size + bytes > maxBytes) {
      arrays.push(`[${current.join(",")}]`);
      current = [];
      size = 2;
    }
    current.push(json);
    size += bytes;
  }
  if (current.length > 0) arrays.push(`[${current.join(",")}]`);
  return arrays;
}

/**
 * Writes a batch's attempts, each delivery's new state and each hook's last response and
 * health, with the batch's other writes (`alongside`: nulls are skipped), in one D1 batch: one
 * transaction, no round trip when there is nothing to write. See `attemptStatements`.
 */
export async function recordAttempts(
  env: Env,
  cfg: Config,
  entries: AttemptEntry[],
  alongside: (D1PreparedStatement | null)[] = [],
): Promise<void> {
  const statements = [
    ...attemptStatements(env, cfg, entries),
    ...alongside.filter((statement): statement is D1PreparedStatement => statement !== null),
  ];
  if (statements.length > 0) await env.DB.batch(statements);
}

/**
 * The statements that record a batch's attempts. However many attempts: one INSERT of the
 * attempts (one per MB of them), one UPDATE of the deliveries and one UPDATE of the
 * subscriptions, each reading its rows from one JSON array. None for no attempts.
 */
export function attemptStatements(
  env: Env,
  cfg: Config,
  entries: AttemptEntry[],
  now = Date.now(),
): D1PreparedStatement[] {
  if (entries.length === 0) return [];
  const attempts = entries.map(({ record }) => ({
    delivery_id: record.deliveryId,
    subscription_id: record.subscriptionId,
    attempt: record.attempt,
    delivered_at: record.deliveredAt,
    duration_ms: record.durationMs,
    succeeded: record.succeeded ? 1 : 0,
    status_code: record.statusCode,
    status: record.status,
    request_headers: JSON.stringify(record.requestHeaders),
    response_headers: record.responseHeaders ? JSON.stringify(record.responseHeaders) : null,
    response_body: record.responseBody,
  }));
  // One row per delivery; should a delivery come twice, its last attempt decides, as in order.
  const deliveries = new Map<number, Record<string, unknown>>();
  for (const { record, outcome } of entries) {
    deliveries.set(record.deliveryId, {
      id: record.deliveryId,
      state: outcome.state,
      attempts: record.attempt,
      next_attempt_at: outcome.state === "pending" ? outcome.nextAttemptAt : now,
      failure_reason: outcome.state === "failed" ? outcome.reason : null,
      completed_at: outcome.state === "pending" ? null : record.deliveredAt,
    });
  }
  return [
    ...jsonArrays(attempts, ATTEMPTS_JSON_BYTES).map((json) => env.DB.prepare(INSERT_ATTEMPTS).bind(json)),
    env.DB.prepare(UPDATE_DELIVERIES).bind(JSON.stringify([...deliveries.values()])),
    env.DB.prepare(UPDATE_SUBSCRIPTIONS).bind(
      JSON.stringify(foldHealth(entries)),
      cfg.circuitOpenAfterFailures,
      now,
      cfg.circuitProbeSeconds * 1000,
    ),
  ];
}

/**
 * Ends deliveries without an attempt (their subscription was deactivated meanwhile), each
 * with its reason: one statement for all of them, or none.
 */
export function endWithoutAttemptStatement(
  env: Env,
  ended: { deliveryId: number; reason: string }[],
): D1PreparedStatement | null {
  if (ended.length === 0) return null;
  return env.DB.prepare(
    `UPDATE deliveries SET state = 'failed', failure_reason = j.reason, completed_at = ?2, lease_until = 0
     FROM (SELECT value ->> 'id' AS id, value ->> 'reason' AS reason FROM json_each(?1)) AS j
     WHERE deliveries.id = j.id AND deliveries.state = 'pending'`,
  ).bind(JSON.stringify(ended.map(({ deliveryId, reason }) => ({ id: deliveryId, reason }))), nowIso());
}

/**
 * Gives up the lease on deliveries a batch claimed but could not attempt (the relay crashed
 * on them), so the queue's retry of their messages can claim them again: one statement, or none.
 */
export function releaseLeasesStatement(env: Env, ids: number[]): D1PreparedStatement | null {
  if (ids.length === 0) return null;
  return env.DB.prepare(
    "UPDATE deliveries SET lease_until = 0 WHERE id IN (SELECT value FROM json_each(?1)) AND state = 'pending'",
  ).bind(JSON.stringify(ids));
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
