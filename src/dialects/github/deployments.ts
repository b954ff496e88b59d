/** GitHub's Deployments and Deployment Statuses API (spec 003, plus today's GitHub fields). */
import * as v from "valibot";
import { parseInput, readJson } from "../../http/body";
import { notFound } from "../../http/errors";
import { pagedJson, readPage } from "../../http/pagination";
import { numericId } from "../../http/params";
import { type HttpRouter, noContent } from "../../http/types";
import {
  createDeployment,
  createDeploymentStatus,
  deleteDeployment,
  getDeployment,
  getDeploymentStatus,
  listDeploymentStatuses,
  listDeployments,
} from "../../repos/deployments";
import type { DeploymentState } from "../../repos/types";
import { renderDeployment, renderDeploymentStatus } from "./render";
import { repoContext, repoScope } from "./scope";

const DEPLOYMENT_STATES: DeploymentState[] = [
  "error",
  "failure",
  "inactive",
  "in_progress",
  "queued",
  "pending",
  "success",
];

/** A JSON string that holds an object is stored as that object, as GitHub does. */
function normalizePayload(payload: string | Record<string, unknown>): unknown {
  if (typeof payload !== "string" || payload.trim() === "") return payload;
  try {
    const parsed = JSON.parse(payload);
    return typeof parsed === "object" && parsed !== null ? parsed : payload;
  } catch {
    return payload;
  }
}

export const CreateDeployment = v.object({
  ref: v.pipe(v.string("ref is required"), v.minLength(1, "ref must not be empty")),
  task: v.optional(v.pipe(v.string(), v.minLength(1)), "deploy"),
  auto_merge: v.optional(v.boolean("auto_merge must be true or false"), true),
  required_contexts: v.optional(v.array(v.string(), "required_contexts must be an array of strings")),
  payload: v.optional(
    v.union([v.record(v.string(), v.unknown()), v.string()], "payload must be an object or a string"),
    "",
  ),
  environment: v.optional(v.pipe(v.string(), v.minLength(1)), "production"),
  description: v.optional(v.nullable(v.string()), ""),
  transient_environment: v.optional(v.boolean("transient_environment must be true or false"), false),
  production_environment: v.optional(v.boolean("production_environment must be true or false")),
});

export const CreateStatus = v.object({
  state: v.picklist(DEPLOYMENT_STATES, `state must be one of ${DEPLOYMENT_STATES.join(", ")}`),
  target_url: v.optional(v.nullable(v.string()), ""),
  log_url: v.optional(v.nullable(v.string())),
  description: v.optional(
    v.nullable(v.pipe(v.string(), v.maxLength(140, "description is too long (maximum is 140 characters)"))),
    "",
  ),
  environment: v.optional(v.pipe(v.string(), v.minLength(1))),
  environment_url: v.optional(v.nullable(v.string()), ""),
  auto_inactive: v.optional(v.boolean("auto_inactive must be true or false"), true),
});

const single = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value);

export function deploymentRoutes(router: HttpRouter): void {
  router
    .get("/repos/:owner/:repo/deployments", async (request, env) => {
      const ctx = await repoContext(request, env, "read");
      const page = readPage(request.query);
      const { query } = request;
      const { items, total } = await listDeployments(
        env,
        ctx.scope.subject,
        {
          sha: single(query.sha),
          ref: single(query.ref),
          task: single(query.task),
          environment: single(query.environment),
        },
        page,
      );
      const { urls } = ctx;
      return pagedJson(
        new URL(request.url),
        page,
        total,
        items.map((row) => renderDeployment(row, urls)),
      );
    })
    .post("/repos/:owner/:repo/deployments", async (request, env) => {
      const ctx = await repoContext(request, env, "write");
      const input = parseInput(CreateDeployment, await readJson(request), "Deployment");
      const scope = await repoScope(env, ctx);
      // The relay holds no repository contents, so auto_merge never merges anything: the
      // deployment is of the sha the ref points to now (see README, "auto_merge").
      const { deployment, replayed } = await createDeployment(env, scope, {
        ref: input.ref,
        task: input.task,
        requiredContexts: input.required_contexts,
        payload: normalizePayload(input.payload),
        environment: input.environment,
        description: input.description ?? "",
        transientEnvironment: input.transient_environment,
        productionEnvironment: input.production_environment ?? input.environment === "production",
        idempotencyKey: request.headers.get("idempotency-key") ?? undefined,
      });
      const body = renderDeployment(deployment, scope.urls);
      const headers: Record<string, string> = { location: body.url };
      if (replayed) headers["idempotent-replayed"] = "true";
      return Response.json(body, { status: 201, headers });
    })
    .get("/repos/:owner/:repo/deployments/:id", async (request, env) => {
      const ctx = await repoContext(request, env, "read");
      const row = await getDeployment(env, ctx.scope.subject, numericId(request.params.id));
      if (!row) throw notFound();
      return Response.json(renderDeployment(row, ctx.urls));
    })
    .delete("/repos/:owner/:repo/deployments/:id", async (request, env) => {
      const ctx = await repoContext(request, env, "write");
      if (!(await deleteDeployment(env, ctx.scope.subject, numericId(request.params.id)))) throw notFound();
      return noContent();
    })
    .get("/repos/:owner/:repo/deployments/:id/statuses", async (request, env) => {
      const ctx = await repoContext(request, env, "read");
      const deployment = await getDeployment(env, ctx.scope.subject, numericId(request.params.id));
      if (!deployment) throw notFound();
      const page = readPage(request.query);
      const { items, total } = await listDeploymentStatuses(env, deployment.id, page);
      const { urls } = ctx;
      return pagedJson(
        new URL(request.url),
        page,
        total,
        items.map((row) => renderDeploymentStatus(row, urls)),
      );
    })
    .post("/repos/:owner/:repo/deployments/:id/statuses", async (request, env) => {
      const ctx = await repoContext(request, env, "write");
      const deploymentId = numericId(request.params.id);
      const input = parseInput(CreateStatus, await readJson(request), "DeploymentStatus");
      const scope = await repoScope(env, ctx);
      // GitHub: log_url is the newer name of target_url; setting it sets both.
      const targetUrl = input.log_url ?? input.target_url ?? "";
      const created = await createDeploymentStatus(env, scope, deploymentId, {
        state: input.state,
        description: input.description ?? "",
        environment: input.environment,
        targetUrl,
        logUrl: input.log_url ?? targetUrl,
        environmentUrl: input.environment_url ?? "",
        autoInactive: input.auto_inactive,
      });
      if (!created) throw notFound();
      const body = renderDeploymentStatus(created.status, scope.urls);
      return Response.json(body, { status: 201, headers: { location: body.url } });
    })
    .get("/repos/:owner/:repo/deployments/:id/statuses/:status_id", async (request, env) => {
      const ctx = await repoContext(request, env, "read");
      const deployment = await getDeployment(env, ctx.scope.subject, numericId(request.params.id));
      if (!deployment) throw notFound();
      const status = await getDeploymentStatus(env, deployment.id, numericId(request.params.status_id));
      if (!status) throw notFound();
      return Response.json(renderDeploymentStatus(status, ctx.urls));
    });
}
