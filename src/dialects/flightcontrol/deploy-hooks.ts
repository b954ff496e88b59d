/**
 * Flightcontrol's deploy-hook URLs (spec 002): a plain GET of a secret URL starts a
 * deployment, through the same deployments core as GitHub's API, so the repository's
 * hooks hear `deployment`. HEAD and POST behave like GET, for tools that send them.
 */
import * as v from "valibot";
import { caller, loadOwned } from "../../access/guard";
import type { Env } from "../../env";
import { ApiError, badRequest } from "../../http/errors";
import { type HttpRouter, type IRequest, originOf } from "../../http/types";
import { createDeployment, deploymentWithState } from "../../repos/deployments";
import { SHA } from "../../repos/refs";
import { repoScopeFor } from "../../repos/scope";
import type { DeploymentState } from "../../repos/types";
import { type Environment, environmentId, findEnvironment, hookForSecret } from "./store";

const deploymentNotFound = () => new ApiError(404, "Deployment not found");
const numericIdOrNull = (raw: string | undefined) => (/^\d{1,15}$/.test(raw ?? "") ? Number(raw) : 0);

/** Wrong secret and unknown environment look the same, so the answer reveals neither. */
const hookNotFound = () => new ApiError(404, "Deploy hook not found");

const Force = v.optional(v.picklist(["true", "false"], "force must be true or false"));

const TriggerQuery = v.pipe(
  v.object({
    commit: v.optional(v.pipe(v.string(), v.minLength(1, "commit must not be empty"))),
    branch: v.optional(v.pipe(v.string(), v.minLength(1, "branch must not be empty"))),
    force: Force,
  }),
  v.check((q) => q.commit === undefined || q.branch !== undefined, "branch is required when commit is given"),
);

/** Flightcontrol's deployment statuses, from the deployment's latest GitHub-style state. */
const STATUS: Record<DeploymentState | "none", string> = {
  none: "PENDING",
  pending: "PENDING",
  queued: "PENDING",
  in_progress: "INPROGRESS",
  success: "SUCCESS",
  failure: "ERROR",
  error: "ERROR",
  inactive: "INACTIVE",
};

function parseQuery<S extends v.GenericSchema>(schema: S, request: IRequest): v.InferOutput<S> {
  const result = v.safeParse(schema, Object.fromEntries(new URL(request.url).searchParams));
  if (!result.success) throw badRequest(result.issues.map((issue) => issue.message).join("; "));
  return result.output;
}

async function hookFor(env: Env, request: IRequest, preview: boolean) {
  const environment = await findEnvironment(env, request.params.envId ?? "");
  const hook = environment ? await hookForSecret(env, environment.id, request.params.secret ?? "") : null;
  if (!environment || !hook || (environment.preview_key !== null) !== preview) throw hookNotFound();
  return { environment, hook };
}

async function trigger(
  env: Env,
  request: IRequest,
  environment: Environment,
  hook: { id: number; name: string; created_by: string },
  target: { ref: string; branch: string; environment: string; transient: boolean; force: boolean; prNumber?: number },
): Promise<Response> {
  const [owner = "", repo = ""] = environment.repo.split("/");
  const { deployment } = await createDeployment(
    env,
    await repoScopeFor(env, { owner, repo, origin: originOf(request), login: hook.created_by }),
    {
      ref: target.ref,
      task: "deploy",
      // A deploy hook is an explicit order to deploy: no commit status gate.
      requiredContexts: [],
      payload: {
        force: target.force,
        branch: target.branch,
        deploy_hook: { id: hook.id, name: hook.name },
        environment: { id: environmentId(environment), name: environment.name },
        ...(target.prNumber !== undefined ? { pr_number: target.prNumber } : {}),
      },
      environment: target.environment,
      description: `Deploy hook "${hook.name}"`,
      transientEnvironment: target.transient,
      productionEnvironment: target.environment === "production",
    },
  );
  const body = { success: "true", deploymentId: String(deployment.id) };
  return request.method === "HEAD" ? new Response(null, { status: 200 }) : Response.json(body);
}

export function deployHookRoutes(router: HttpRouter): void {
  for (const method of ["get", "head", "post"] as const) {
    router[method]("/api/deploy-hook/:envId/:secret", async (request: IRequest, env: Env) => {
      const { environment, hook } = await hookFor(env, request, false);
      const query = parseQuery(TriggerQuery, request);
      const branch = query.branch ?? environment.branch;
      return trigger(env, request, environment, hook, {
        ref: query.commit ?? branch,
        branch,
        environment: environment.name,
        transient: false,
        force: query.force === "true",
      });
    });
    router[method]("/api/deploy-hook/:envId/:secret/:prNumber/:commitSha", async (request: IRequest, env: Env) => {
      const { environment, hook } = await hookFor(env, request, true);
      const { prNumber, commitSha } = request.params as { prNumber: string; commitSha: string };
      if (!/^\d+$/.test(prNumber)) throw badRequest("prNumber must be a pull request number");
      if (!SHA.test(commitSha)) throw badRequest("commitSHA must be a full 40-character commit sha");
      const query = parseQuery(v.object({ force: Force }), request);
      return trigger(env, request, environment, hook, {
        ref: commitSha.toLowerCase(),
        branch: `pr-${prNumber}`,
        environment: `${environment.name}-pr-${prNumber}`,
        transient: true,
        force: query.force === "true",
        prNumber: Number(prNumber),
      });
    });
  }

  router.get("/api/deployments/:deploymentId", async (request, env) => {
    const principal = await caller(request, env, "read");
    // A deployment belongs to its repository's owner; one the caller may not see is not found.
    const deployment = await loadOwned(
      principal,
      "read",
      deploymentNotFound,
      () => deploymentWithState(env, numericIdOrNull(request.params.deploymentId)),
      (d) => d.subject.split("/")[0] ?? null,
    );
    let payload: { environment?: { id?: string }; branch?: string } = {};
    try {
      payload = JSON.parse(deployment.payload);
    } catch {
      // a string payload: no environment or branch in it
    }
    return Response.json({
      deploymentId: String(deployment.id),
      createdAt: deployment.created_at,
      environmentId: payload?.environment?.id ?? null,
      repoUrl: `https://github.com/${deployment.subject}`,
      gitCommit: deployment.sha,
      gitBranch: payload?.branch ?? (SHA.test(deployment.ref) ? null : deployment.ref),
      status: STATUS[deployment.latest_state ?? "none"],
    });
  });
}
