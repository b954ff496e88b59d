/**
 * The one subscription store. GitHub hooks (REST and hub) and /v1/hooks are all rows
 * here; the `dialect` column only says which API made them and how deliveries look.
 */

import { subjectOwner } from "../access/owners";
import { config, type Env } from "../env";
import { ApiError, validationFailed } from "../http/errors";
import { isUniqueViolation, nowIso, pagedSelect, parseJsonColumn } from "../storage/db";
import { encryptSecret } from "./crypto";
import { type HealthState, healthCondition } from "./health-rules";
import type { SealedColumn } from "./reseal";
import { targetProblem } from "./targets";

/** The name of the dialect whose API made a subscription (`github`, `alauda`, ...): it decides how deliveries look. */
export type Dialect = string;
export type ContentType = "json" | "form";

export interface Subscription {
  id: number;
  dialect: Dialect;
  subjectType: string;
  subject: string;
  /** The subject's owner (src/access/owners.ts), stamped at creation; null: none the relay knows. */
  owner: string | null;
  name: string;
  events: string[];
  url: string;
  contentType: ContentType;
  hasSecret: boolean;
  insecureSsl: string;
  active: boolean;
  createdBy: string;
  createdAt: string;
  updatedAt: string;
  lastResponse: { code: number | null; status: string; message: string | null };
  /** Failed attempts since the last successful one (src/relay/health.ts). */
  consecutiveFailures: number;
  /** The first failed attempt since the last success; null while healthy. */
  failingSince: string | null;
  lastAttemptAt: string | null;
  /** Unix ms before which an open circuit sends no probe. */
  probeAt: number;
  /** Why the relay deactivated it (410 Gone, no success for days); null otherwise. */
  disabledReason: string | null;
}

export interface SubscriptionInput {
  dialect: Dialect;
  subjectType: string;
  subject: string;
  name?: string;
  events: string[];
  url: string;
  contentType: ContentType;
  /** Plain secret; encrypted before it is stored. Null or empty means unsigned. */
  secret?: string | null;
  insecureSsl?: string;
  active?: boolean;
  createdBy: string;
}

export interface SubscriptionRow {
  id: number;
  dialect: Dialect;
  subject_type: string;
  subject: string;
  owner: string | null;
  name: string;
  events: string;
  url: string;
  content_type: ContentType;
  secret: string | null;
  insecure_ssl: string;
  active: number;
  created_by: string;
  created_at: string;
  updated_at: string;
  last_response_code: number | null;
  last_response_status: string;
  last_response_message: string | null;
  consecutive_failures: number;
  failing_since: string | null;
  last_attempt_at: string | null;
  probe_at: number;
  disabled_reason: string | null;
}

export function toSubscription(row: SubscriptionRow): Subscription {
  return {
    id: row.id,
    dialect: row.dialect,
    subjectType: row.subject_type,
    subject: row.subject,
    owner: row.owner,
    name: row.name,
    events: parseJsonColumn<string[]>(row.events, []),
    url: row.url,
    contentType: row.content_type,
    hasSecret: row.secret !== null,
    insecureSsl: row.insecure_ssl,
    active: row.active === 1,
    createdBy: row.created_by,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    lastResponse: {
      code: row.last_response_code,
      status: row.last_response_status,
      message: row.last_response_message,
    },
    consecutiveFailures: row.consecutive_failures,
    failingSince: row.failing_since,
    lastAttemptAt: row.last_attempt_at,
    probeAt: row.probe_at,
    disabledReason: row.disabled_reason,
  };
}

/**
 * The SET clauses that reset a subscription's health when it goes from inactive to
 * active. SQLite reads the old row on the right-hand side, so `active` here is the old value.
 */
export const HEALTH_RESET_ON_ENABLE = `consecutive_failures = CASE WHEN active = 0 THEN 0 ELSE consecutive_failures END,
  failing_since = CASE WHEN active = 0 THEN NULL ELSE failing_since END,
  probe_at = CASE WHEN active = 0 THEN 0 ELSE probe_at END,
  probe_queued_at = CASE WHEN active = 0 THEN 0 ELSE probe_queued_at END,
  disabled_reason = NULL`;

const duplicate = () =>
  new ApiError(422, "Validation Failed", [
    { resource: "Hook", code: "custom", message: "Hook already exists on this repository" },
  ]);

/** Refuses URLs the relay must not post to (see targets.ts) before anything is written. */
function checkTarget(env: Env, url: string): void {
  const problem = targetProblem(url, config(env).allowPrivateTargets);
  if (problem) {
    throw validationFailed([{ resource: "Hook", field: "url", code: "custom", message: `url ${problem}` }]);
  }
}

/** Where hook secrets are sealed, for the re-seal job of a key rotation. */
export const sealedHookSecrets: SealedColumn = { table: "subscriptions", idColumn: "id", column: "secret" };

async function sealSecret(env: Env, secret: string | null | undefined): Promise<string | null> {
  return secret ? encryptSecret(env, secret) : null;
}

export async function createSubscription(env: Env, input: SubscriptionInput): Promise<Subscription> {
  checkTarget(env, input.url);
  const now = nowIso();
  const owner = await subjectOwner(env, input.subjectType, input.subject);
  try {
    const row = await env.DB.prepare(
      `INSERT INTO subscriptions
         (dialect, subject_type, subject, owner, name, events, url, content_type, secret, insecure_ssl,
          active, created_by, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *`,
    )
      .bind(
        input.dialect,
        input.subjectType,
        input.subject,
        owner,
        input.name ?? "web",
        JSON.stringify(input.events),
        input.url,
        input.contentType,
        await sealSecret(env, input.secret),
        input.insecureSsl ?? "0",
        input.active === false ? 0 : 1,
        input.createdBy,
        now,
        now,
      )
      .first<SubscriptionRow>();
    return toSubscription(row as SubscriptionRow);
  } catch (error) {
    if (isUniqueViolation(error)) throw duplicate();
    throw error;
  }
}

export interface SubjectScope {
  dialect: Dialect;
  subjectType: string;
  subject: string;
}

/** One subscription, or null when it does not exist within that scope. */
export async function getSubscription(env: Env, scope: SubjectScope, id: number): Promise<Subscription | null> {
  const row = await env.DB.prepare(
    "SELECT * FROM subscriptions WHERE id = ? AND dialect = ? AND subject_type = ? AND subject = ?",
  )
    .bind(id, scope.dialect, scope.subjectType, scope.subject)
    .first<SubscriptionRow>();
  return row ? toSubscription(row) : null;
}

/** One subscription of a dialect by id alone, for APIs whose paths carry no subject. */
export async function getSubscriptionById(env: Env, dialect: Dialect, id: number): Promise<Subscription | null> {
  const row = await env.DB.prepare("SELECT * FROM subscriptions WHERE id = ? AND dialect = ?")
    .bind(id, dialect)
    .first<SubscriptionRow>();
  return row ? toSubscription(row) : null;
}

export async function findSubscriptionByUrl(env: Env, scope: SubjectScope, url: string): Promise<Subscription | null> {
  const row = await env.DB.prepare(
    "SELECT * FROM subscriptions WHERE dialect = ? AND subject_type = ? AND subject = ? AND url = ?",
  )
    .bind(scope.dialect, scope.subjectType, scope.subject, url)
    .first<SubscriptionRow>();
  return row ? toSubscription(row) : null;
}

/**
 * Subscriptions of a dialect, optionally of one subject, and only those whose owner is in
 * `owners` when it is given (a scoped token's list).
 */
export async function listSubscriptions(
  env: Env,
  scope: Partial<SubjectScope> & { dialect: Dialect; owners?: readonly string[] | null },
  page: { limit: number; offset: number },
): Promise<{ items: Subscription[]; total: number }> {
  const clauses = ["dialect = ?"];
  const params: unknown[] = [scope.dialect];
  if (scope.owners) {
    clauses.push(`owner IN (${scope.owners.map(() => "?").join(", ") || "NULL"})`);
    params.push(...scope.owners);
  }
  if (scope.subjectType !== undefined) {
    clauses.push("subject_type = ?");
    params.push(scope.subjectType);
  }
  if (scope.subject !== undefined) {
    clauses.push("subject = ?");
    params.push(scope.subject);
  }
  const { items, total } = await pagedSelect<SubscriptionRow>(
    env.DB,
    `subscriptions WHERE ${clauses.join(" AND ")}`,
    params,
    "id",
    page,
  );
  return { items: items.map(toSubscription), total };
}

/** Every dialect's subscriptions, for the operator API. */
export async function findSubscription(env: Env, id: number): Promise<Subscription | null> {
  const row = await env.DB.prepare("SELECT * FROM subscriptions WHERE id = ?").bind(id).first<SubscriptionRow>();
  return row ? toSubscription(row) : null;
}

export interface SubscriptionFilters {
  /** A scoped token's owners; null: every owner. */
  owners: readonly string[] | null;
  dialect?: Dialect | undefined;
  active?: boolean | undefined;
  health?: HealthState | undefined;
}

/** Subscriptions of every dialect, oldest first, filtered as the operator API asks. */
export async function findSubscriptions(
  env: Env,
  filters: SubscriptionFilters,
  page: { limit: number; offset: number },
): Promise<{ items: Subscription[]; total: number }> {
  const clauses: string[] = [];
  const params: unknown[] = [];
  if (filters.owners) {
    params.push(JSON.stringify(filters.owners));
    clauses.push(`s.owner IN (SELECT value FROM json_each(?${params.length}))`);
  }
  if (filters.dialect !== undefined) {
    params.push(filters.dialect);
    clauses.push(`s.dialect = ?${params.length}`);
  }
  if (filters.active !== undefined) clauses.push(`s.active = ${filters.active ? 1 : 0}`);
  if (filters.health !== undefined) {
    const threshold = `?${params.length + 1}`;
    const condition = healthCondition(filters.health, threshold);
    if (condition.includes(threshold)) params.push(config(env).circuitOpenAfterFailures);
    clauses.push(condition);
  }
  const { items, total } = await pagedSelect<SubscriptionRow>(
    env.DB,
    `subscriptions s${clauses.length > 0 ? ` WHERE ${clauses.join(" AND ")}` : ""}`,
    params,
    "s.id",
    page,
  );
  return { items: items.map(toSubscription), total };
}

export interface SubscriptionChanges {
  events?: string[];
  url?: string;
  contentType?: ContentType;
  /** undefined leaves the secret alone; null or "" removes it. */
  secret?: string | null;
  insecureSsl?: string;
  active?: boolean;
  name?: string;
}

export async function updateSubscription(
  env: Env,
  scope: SubjectScope,
  id: number,
  changes: SubscriptionChanges,
): Promise<Subscription | null> {
  if (changes.url !== undefined) checkTarget(env, changes.url);
  const sets: string[] = [];
  const values: unknown[] = [];
  const set = (column: string, value: unknown) => {
    sets.push(`${column} = ?`);
    values.push(value);
  };
  if (changes.events !== undefined) set("events", JSON.stringify(changes.events));
  if (changes.url !== undefined) set("url", changes.url);
  if (changes.contentType !== undefined) set("content_type", changes.contentType);
  if (changes.secret !== undefined) set("secret", await sealSecret(env, changes.secret));
  if (changes.insecureSsl !== undefined) set("insecure_ssl", changes.insecureSsl);
  if (changes.active === true) {
    // Re-enabling a deactivated subscription starts its health afresh (src/relay/health.ts).
    sets.push(HEALTH_RESET_ON_ENABLE);
  } else if (changes.active === false) {
    // Deactivated by its owner, not by the relay: no relay reason applies.
    sets.push("disabled_reason = CASE WHEN active = 1 THEN NULL ELSE disabled_reason END");
  }
  if (changes.active !== undefined) set("active", changes.active ? 1 : 0);
  if (changes.name !== undefined) set("name", changes.name);
  set("updated_at", nowIso());
  try {
    const row = await env.DB.prepare(
      `UPDATE subscriptions SET ${sets.join(", ")}
       WHERE id = ? AND dialect = ? AND subject_type = ? AND subject = ? RETURNING *`,
    )
      .bind(...values, id, scope.dialect, scope.subjectType, scope.subject)
      .first<SubscriptionRow>();
    return row ? toSubscription(row) : null;
  } catch (error) {
    if (isUniqueViolation(error)) throw duplicate();
    throw error;
  }
}

/** Deletes a subscription with its deliveries and attempts (ON DELETE CASCADE). */
export async function deleteSubscription(env: Env, scope: SubjectScope, id: number): Promise<boolean> {
  const result = await env.DB.prepare(
    "DELETE FROM subscriptions WHERE id = ? AND dialect = ? AND subject_type = ? AND subject = ?",
  )
    .bind(id, scope.dialect, scope.subjectType, scope.subject)
    .run();
  return result.meta.changes > 0;
}

/**
 * Deletes every subscription of a subject that has ceased to exist (an Akkeris app's builds
 * and images when the app is deleted), with their deliveries. Their owner was the subject's
 * owner: they must not outlive it and hear of a new subject of the same name.
 */
export async function deleteSubjectSubscriptions(env: Env, subjectTypes: string[], subject: string): Promise<number> {
  const result = await env.DB.prepare(
    `DELETE FROM subscriptions WHERE subject = ? AND subject_type IN (${subjectTypes.map(() => "?").join(", ")})`,
  )
    .bind(subject, ...subjectTypes)
    .run();
  return result.meta.changes;
}

/** Whether a subscription's event filter takes an event type. */
export function takesEvent(events: string[], type: string): boolean {
  return events.includes("*") || events.includes(type);
}
