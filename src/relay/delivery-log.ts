/**
 * The delivery log as the operator API (`/relay/`) reads it: deliveries of every dialect,
 * filtered and paged, and one delivery with its payload and every attempt.
 */
import type { Env } from "../env";
import { parseJsonColumn } from "../storage/db";
import type { AttemptRecord } from "./deliveries";
import { loadPayload } from "./payloads";

export type DeliveryState = "pending" | "succeeded" | "failed";

export interface DeliveryView {
  id: number;
  guid: string;
  subscriptionId: number;
  /** The subscription's owner, for the caller's authorization. */
  owner: string | null;
  eventType: string;
  state: DeliveryState;
  attempts: number;
  /** Unix ms of the next attempt while pending; null once finished. */
  nextAttemptAt: number | null;
  failureReason: string | null;
  createdAt: string;
  completedAt: string | null;
}

/** One attempt as the log shows it: what was recorded, less the ids the delivery already carries. */
export type AttemptLogEntry = Omit<AttemptRecord, "deliveryId" | "subscriptionId" | "endpointTried">;

export interface DeliveryDetailView extends DeliveryView {
  url: string;
  /** The JSON text as delivered. */
  payload: string;
  /** Oldest first. */
  attemptLog: AttemptLogEntry[];
}

export interface DeliveryFilters {
  /** A scoped token's owners; null: every owner. */
  owners: readonly string[] | null;
  subscriptionId?: number | undefined;
  state?: DeliveryState | undefined;
  event?: string | undefined;
  /** ISO timestamps bounding `created_at`, inclusive. */
  since?: string | undefined;
  until?: string | undefined;
}

interface DeliveryRow {
  id: number;
  guid: string;
  subscription_id: number;
  owner: string | null;
  event_type: string;
  state: DeliveryState;
  attempts: number;
  next_attempt_at: number;
  failure_reason: string | null;
  created_at: string;
  completed_at: string | null;
}

const COLUMNS = `d.id, d.guid, d.subscription_id, s.owner, e.type AS event_type, d.state, d.attempts,
  d.next_attempt_at, d.failure_reason, d.created_at, d.completed_at`;
const FROM = `FROM deliveries d JOIN subscriptions s ON s.id = d.subscription_id JOIN events e ON e.id = d.event_id`;

function toView(row: DeliveryRow): DeliveryView {
  return {
    id: row.id,
    guid: row.guid,
    subscriptionId: row.subscription_id,
    owner: row.owner,
    eventType: row.event_type,
    state: row.state,
    attempts: row.attempts,
    nextAttemptAt: row.state === "pending" ? row.next_attempt_at : null,
    failureReason: row.failure_reason,
    createdAt: row.created_at,
    completedAt: row.completed_at,
  };
}

/** An owner filter for a scoped token, with its list as one JSON parameter (D1 binds at most 100). */
export function ownerClause(owners: readonly string[] | null, column: string, params: unknown[]): string | null {
  if (!owners) return null;
  params.push(JSON.stringify(owners));
  return `${column} IN (SELECT value FROM json_each(?${params.length}))`;
}

/** Deliveries, newest first, one page and the total. */
export async function listDeliveries(
  env: Env,
  filters: DeliveryFilters,
  page: { limit: number; offset: number },
): Promise<{ items: DeliveryView[]; total: number }> {
  const params: unknown[] = [];
  const clauses: string[] = [];
  const add = (clause: (n: number) => string, value: unknown) => {
    params.push(value);
    clauses.push(clause(params.length));
  };
  const owners = ownerClause(filters.owners, "s.owner", params);
  if (owners) clauses.push(owners);
  if (filters.subscriptionId !== undefined) add((n) => `d.subscription_id = ?${n}`, filters.subscriptionId);
  if (filters.state) add((n) => `d.state = ?${n}`, filters.state);
  if (filters.event) add((n) => `e.type = ?${n}`, filters.event);
  if (filters.since) add((n) => `d.created_at >= ?${n}`, filters.since);
  if (filters.until) add((n) => `d.created_at <= ?${n}`, filters.until);
  const where = clauses.length > 0 ? `WHERE ${clauses.join(" AND ")}` : "";
  const [rows, count] = await env.DB.batch([
    env.DB.prepare(
      `SELECT ${COLUMNS} ${FROM} ${where} ORDER BY d.id DESC LIMIT ?${params.length + 1} OFFSET ?${params.length + 2}`,
    ).bind(...params, page.limit, page.offset),
    env.DB.prepare(`SELECT count(*) AS total ${FROM} ${where}`).bind(...params),
  ]);
  return {
    items: ((rows?.results ?? []) as DeliveryRow[]).map(toView),
    total: (count?.results[0] as { total: number } | undefined)?.total ?? 0,
  };
}

export async function getDelivery(env: Env, id: number): Promise<DeliveryView | null> {
  const row = await env.DB.prepare(`SELECT ${COLUMNS} ${FROM} WHERE d.id = ?`).bind(id).first<DeliveryRow>();
  return row ? toView(row) : null;
}

interface AttemptLogRow {
  attempt: number;
  delivered_at: string;
  duration_ms: number;
  succeeded: number;
  status_code: number | null;
  status: string;
  request_headers: string;
  response_headers: string | null;
  response_body: string | null;
}

/** One delivery with its URL, payload and attempt log (oldest first). */
export async function getDeliveryDetail(env: Env, id: number): Promise<DeliveryDetailView | null> {
  const [head, attempts] = await env.DB.batch([
    env.DB.prepare(`SELECT ${COLUMNS}, s.url, e.payload, e.id AS event_id ${FROM} WHERE d.id = ?`).bind(id),
    env.DB.prepare(
      `SELECT attempt, delivered_at, duration_ms, succeeded, status_code, status, request_headers,
              response_headers, response_body
       FROM delivery_attempts WHERE delivery_id = ? ORDER BY id`,
    ).bind(id),
  ]);
  const row = head?.results[0] as (DeliveryRow & { url: string; payload: string | null; event_id: string }) | undefined;
  if (!row) return null;
  return {
    ...toView(row),
    url: row.url,
    payload: await loadPayload(env, row.event_id, row.payload),
    attemptLog: ((attempts?.results ?? []) as AttemptLogRow[]).map((a) => ({
      attempt: a.attempt,
      deliveredAt: a.delivered_at,
      durationMs: a.duration_ms,
      succeeded: a.succeeded === 1,
      statusCode: a.status_code,
      status: a.status,
      requestHeaders: parseJsonColumn<Record<string, string>>(a.request_headers, {}),
      responseHeaders: parseJsonColumn<Record<string, string> | null>(a.response_headers, null),
      responseBody: a.response_body,
    })),
  };
}
