/**
 * Deployments and deployment statuses. Every write commits together with the event it
 * publishes (`deployment`, `deployment_status`), so a hook never misses one and never
 * hears of one that does not exist. Deploy hooks and auto-deploy create deployments here too.
 */

import type { Env } from "../env";
import { ApiError, validationFailed } from "../http/errors";
import { type NewEvent, publish, publishAll } from "../relay/events";
import { isUniqueViolation, nowIso, pagedSelect, reserveIds } from "../storage/db";
import { latestStatuses } from "./commit-statuses";
import { resolveRef } from "./refs";
import { renderDeployment, renderDeploymentStatus, renderRepository, renderUser } from "./shapes";
import type { DeploymentRow, DeploymentState, DeploymentStatusRow, RepoScope, RepositoryRef } from "./types";

/**
 * What a new deployment status means beyond the repository: a dialect that models
 * deployments as something else (Alauda's jobs) adds its own events here, and they commit
 * in the same transaction as the status and its `deployment_status` event.
 */
export type DeploymentStatusListener = (change: {
  deployment: DeploymentRow;
  status: DeploymentStatusRow;
  repository: RepositoryRef;
  /** The `deployment_status` payload, with the rendered deployment and status. */
  payload: { deployment: unknown; deployment_status: unknown };
}) => NewEvent[];

const statusListeners: DeploymentStatusListener[] = [];

/** Registered once per isolate by src/app.ts, from the dialects that listen. */
export function onDeploymentStatus(listener: DeploymentStatusListener): void {
  if (!statusListeners.includes(listener)) statusListeners.push(listener);
}

/** A repeated Idempotency-Key within this window returns the original deployment. */
export const IDEMPOTENCY_WINDOW_MS = 24 * 60 * 60 * 1000;

/** Deployments whose latest status is one of these are live, and GitHub will not delete them. */
const ACTIVE_STATES: ReadonlySet<string> = new Set(["success", "in_progress", "queued", "pending"]);

export interface NewDeployment {
  ref: string;
  task: string;
  /** undefined: every context with a status on the sha must be success. []: no check. */
  requiredContexts?: string[] | undefined;
  /** An object, or a string (stored as given). */
  payload: unknown;
  environment: string;
  description: string;
  transientEnvironment: boolean;
  productionEnvironment: boolean;
  idempotencyKey?: string | undefined;
}

export interface CreatedDeployment {
  deployment: DeploymentRow;
  /** True when an Idempotency-Key matched an earlier request: nothing new was made. */
  replayed: boolean;
}

const idempotencyScopeOf = (subject: string) => `deployments:${subject}`;

async function findByIdempotencyKey(env: Env, scope: string, key: string): Promise<DeploymentRow | null> {
  return env.DB.prepare(
    `SELECT d.* FROM idempotency_keys k JOIN deployments d ON d.id = k.resource_id
     WHERE k.scope = ? AND k.key = ? AND k.expires_at > ?`,
  )
    .bind(scope, key, Date.now())
    .first<DeploymentRow>();
}

/**
 * Deletes up to `limit` expired Idempotency-Keys (the cron job, with retention); returns how
 * many. Keys past `expires_at` are never read again, so they only take space.
 */
export async function purgeExpiredIdempotencyKeys(env: Env, limit = 1000): Promise<number> {
  const result = await env.DB.prepare(
    `DELETE FROM idempotency_keys WHERE rowid IN
       (SELECT rowid FROM idempotency_keys WHERE expires_at <= ? ORDER BY expires_at LIMIT ?)`,
  )
    .bind(Date.now(), limit)
    .run();
  return result.meta.changes;
}

/** The contexts that keep a sha from deploying: not success, or never reported. */
async function failingContexts(env: Env, subject: string, sha: string, required: string[] | undefined) {
  const latest = await latestStatuses(env, subject, sha);
  const byContext = new Map(latest.map((status) => [status.context, status.state]));
  const contexts = required ?? [...byContext.keys()];
  return contexts
    .map((context) => ({ context, state: byContext.get(context) ?? "missing" }))
    .filter((entry) => entry.state !== "success");
}

export async function createDeployment(env: Env, scope: RepoScope, input: NewDeployment): Promise<CreatedDeployment> {
  const idempotencyScope = idempotencyScopeOf(scope.subject);
  if (input.idempotencyKey) {
    const earlier = await findByIdempotencyKey(env, idempotencyScope, input.idempotencyKey);
    if (earlier) return { deployment: earlier, replayed: true };
  }

  const sha = await resolveRef(env, scope.subject, input.ref);
  if (!sha) {
    throw validationFailed(
      [{ resource: "Deployment", field: "ref", code: "invalid", message: `No ref found for: ${input.ref}` }],
      `No ref found for: ${input.ref}`,
    );
  }
  if (input.requiredContexts === undefined || input.requiredContexts.length > 0) {
    const failing = await failingContexts(env, scope.subject, sha, input.requiredContexts);
    if (failing.length > 0) {
      throw new ApiError(409, `Conflict: Commit status checks failed for ${input.ref}.`, [
        { contexts: failing, resource: "Deployment", field: "required_contexts", code: "invalid" },
      ]);
    }
  }

  const now = nowIso();
  const deployment: DeploymentRow = {
    id: await reserveIds(env.DB, "deployments"),
    subject: scope.subject,
    sha,
    ref: input.ref,
    task: input.task,
    payload: JSON.stringify(input.payload),
    environment: input.environment,
    original_environment: input.environment,
    description: input.description,
    creator: scope.login,
    transient_environment: input.transientEnvironment ? 1 : 0,
    production_environment: input.productionEnvironment ? 1 : 0,
    created_at: now,
    updated_at: now,
  };
  const event = {
    action: "created",
    deployment: renderDeployment(deployment, scope.urls),
    repository: renderRepository(scope.repository, scope.urls.origin),
    sender: renderUser(scope.login, scope.urls.origin),
  };
  try {
    await publish(
      env,
      {
        type: "deployment",
        subjectType: "repository",
        subject: scope.subject,
        source: "hookrelay",
        payload: JSON.stringify(event),
      },
      {
        alongside: () => [
          env.DB.prepare(
            `INSERT INTO deployments (id, subject, sha, ref, task, payload, environment, original_environment,
               description, creator, transient_environment, production_environment, created_at, updated_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          ).bind(...Object.values(deployment)),
          ...(input.idempotencyKey
            ? [
                // A key that expired, or whose deployment was deleted since, is free again.
                env.DB.prepare(
                  `DELETE FROM idempotency_keys WHERE scope = ?1 AND key = ?2
                   AND (expires_at <= ?3 OR NOT EXISTS (SELECT 1 FROM deployments WHERE id = idempotency_keys.resource_id))`,
                ).bind(idempotencyScope, input.idempotencyKey, Date.now()),
                // Fails the whole batch if a concurrent request with the same key won the race.
                env.DB.prepare(
                  "INSERT INTO idempotency_keys (scope, key, resource_id, expires_at) VALUES (?, ?, ?, ?)",
                ).bind(idempotencyScope, input.idempotencyKey, deployment.id, Date.now() + IDEMPOTENCY_WINDOW_MS),
              ]
            : []),
        ],
      },
    );
  } catch (error) {
    if (input.idempotencyKey && isUniqueViolation(error)) {
      const winner = await findByIdempotencyKey(env, idempotencyScope, input.idempotencyKey);
      if (winner) return { deployment: winner, replayed: true };
    }
    throw error;
  }
  return { deployment, replayed: false };
}

export async function getDeployment(env: Env, subject: string, id: number): Promise<DeploymentRow | null> {
  return env.DB.prepare("SELECT * FROM deployments WHERE id = ? AND subject = ?")
    .bind(id, subject)
    .first<DeploymentRow>();
}

export interface DeploymentFilters {
  sha?: string | undefined;
  ref?: string | undefined;
  task?: string | undefined;
  environment?: string | undefined;
}

export async function listDeployments(
  env: Env,
  subject: string,
  filters: DeploymentFilters,
  page: { limit: number; offset: number },
): Promise<{ items: DeploymentRow[]; total: number }> {
  const clauses = ["subject = ?"];
  const values: unknown[] = [subject];
  for (const column of ["sha", "ref", "task", "environment"] as const) {
    const value = filters[column];
    if (value !== undefined) {
      clauses.push(`${column} = ?`);
      values.push(value);
    }
  }
  return pagedSelect<DeploymentRow>(env.DB, `deployments WHERE ${clauses.join(" AND ")}`, values, "id DESC", page);
}

/**
 * Deletes a deployment, as GitHub allows: the repository's only deployment always, any
 * other only when it is not active. Returns false when there is no such deployment.
 */
export async function deleteDeployment(env: Env, subject: string, id: number): Promise<boolean> {
  const row = await env.DB.prepare(
    `SELECT (SELECT count(*) FROM deployments WHERE subject = ?1) AS total,
            (SELECT state FROM deployment_statuses WHERE deployment_id = ?2 ORDER BY id DESC LIMIT 1) AS latest,
            EXISTS (SELECT 1 FROM deployments WHERE id = ?2 AND subject = ?1) AS found`,
  )
    .bind(subject, id)
    .first<{ total: number; latest: string | null; found: number }>();
  if (!row?.found) return false;
  if (row.total > 1 && row.latest && ACTIVE_STATES.has(row.latest)) {
    throw validationFailed(
      [{ resource: "Deployment", field: "id", code: "invalid", message: `its latest status is ${row.latest}` }],
      "We cannot delete an active deployment unless it is the only deployment in a given environment.",
    );
  }
  await env.DB.batch([
    env.DB.prepare("DELETE FROM deployments WHERE id = ? AND subject = ?").bind(id, subject),
    // Its Idempotency-Keys answer nothing now: a repeated request makes a new deployment.
    env.DB.prepare("DELETE FROM idempotency_keys WHERE scope = ? AND resource_id = ?").bind(
      idempotencyScopeOf(subject),
      id,
    ),
  ]);
  return true;
}

export interface NewDeploymentStatus {
  state: DeploymentState;
  description: string;
  /** Moves the deployment to this environment; defaults to its current one. */
  environment?: string | undefined;
  targetUrl: string;
  logUrl: string;
  environmentUrl: string;
  /** On success, mark earlier successful deployments of the environment inactive. Default true. */
  autoInactive: boolean;
}

/** Earlier deployments of an environment whose latest status is success. */
async function liveDeployments(env: Env, subject: string, environment: string, except: number): Promise<number[]> {
  const { results } = await env.DB.prepare(
    `SELECT d.id FROM deployments d
     WHERE d.subject = ? AND d.environment = ? AND d.id != ?
       AND (SELECT state FROM deployment_statuses s WHERE s.deployment_id = d.id ORDER BY s.id DESC LIMIT 1) = 'success'`,
  )
    .bind(subject, environment, except)
    .all<{ id: number }>();
  return results.map((row) => row.id);
}

const INSERT_STATUS = `INSERT INTO deployment_statuses (id, deployment_id, state, description, environment, target_url,
  log_url, environment_url, creator, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;

/** Adds a status and publishes `deployment_status`. Null when the deployment does not exist. */
export async function createDeploymentStatus(
  env: Env,
  scope: RepoScope,
  deploymentId: number,
  input: NewDeploymentStatus,
): Promise<{ status: DeploymentStatusRow; deployment: DeploymentRow } | null> {
  const current = await getDeployment(env, scope.subject, deploymentId);
  if (!current) return null;
  const environment = input.environment ?? current.environment;
  const superseded =
    input.state === "success" && input.autoInactive
      ? await liveDeployments(env, scope.subject, environment, deploymentId)
      : [];
  const firstId = await reserveIds(env.DB, "deployment_statuses", 1 + superseded.length);
  const now = nowIso();
  const status: DeploymentStatusRow = {
    id: firstId,
    deployment_id: deploymentId,
    state: input.state,
    description: input.description,
    environment,
    target_url: input.targetUrl,
    log_url: input.logUrl,
    environment_url: input.environmentUrl,
    creator: scope.login,
    created_at: now,
    updated_at: now,
  };
  const deployment: DeploymentRow = { ...current, environment, updated_at: now };
  const event = {
    action: "created",
    deployment_status: renderDeploymentStatus(status, scope.urls),
    deployment: renderDeployment(deployment, scope.urls),
    repository: renderRepository(scope.repository, scope.urls.origin),
    sender: renderUser(scope.login, scope.urls.origin),
  };
  const events: NewEvent[] = [
    {
      type: "deployment_status",
      subjectType: "repository",
      subject: scope.subject,
      source: "hookrelay",
      payload: JSON.stringify(event),
    },
  ];
  for (const listener of statusListeners)
    events.push(...listener({ deployment, status, repository: scope.repository, payload: event }));
  await publishAll(env, events, {
    alongside: () => [
      env.DB.prepare(INSERT_STATUS).bind(...Object.values(status)),
      env.DB.prepare("UPDATE deployments SET environment = ?, updated_at = ? WHERE id = ?").bind(
        environment,
        now,
        deploymentId,
      ),
      ...superseded.map((id, index) =>
        env.DB.prepare(INSERT_STATUS).bind(
          firstId + 1 + index,
          id,
          "inactive",
          `Superseded by deployment ${deploymentId}`,
          environment,
          "",
          "",
          "",
          scope.login,
          now,
          now,
        ),
      ),
    ],
  });
  return { status, deployment };
}

export async function listDeploymentStatuses(
  env: Env,
  deploymentId: number,
  page: { limit: number; offset: number },
): Promise<{ items: DeploymentStatusRow[]; total: number }> {
  return pagedSelect<DeploymentStatusRow>(
    env.DB,
    "deployment_statuses WHERE deployment_id = ?",
    [deploymentId],
    "id DESC",
    page,
  );
}

export async function getDeploymentStatus(
  env: Env,
  deploymentId: number,
  statusId: number,
): Promise<DeploymentStatusRow | null> {
  return env.DB.prepare("SELECT * FROM deployment_statuses WHERE id = ? AND deployment_id = ?")
    .bind(statusId, deploymentId)
    .first<DeploymentStatusRow>();
}

/** A deployment found by id alone, with its latest status: what Flightcontrol's polling shows. */
export async function deploymentWithState(
  env: Env,
  id: number,
): Promise<(DeploymentRow & { latest_state: DeploymentState | null }) | null> {
  return env.DB.prepare(
    `SELECT d.*, (SELECT state FROM deployment_statuses s WHERE s.deployment_id = d.id ORDER BY s.id DESC LIMIT 1)
       AS latest_state FROM deployments d WHERE d.id = ?`,
  )
    .bind(id)
    .first();
}
