/** Environments and their deploy hooks: the management side of deploy-hook URLs (token required). */
import * as v from "valibot";
import { caller, loadOwned } from "../../access/guard";
import { type Access, authorizeOwner, type Principal, visibleOnly } from "../../access/policy";
import type { Env } from "../../env";
import { parseInput, readJson } from "../../http/body";
import { ApiError } from "../../http/errors";
import { numericId } from "../../http/params";
import { type HttpRouter, type IRequest, noContent, originOf } from "../../http/types";
import {
  createDeployHook,
  createEnvironment,
  deleteDeployHook,
  deleteEnvironment,
  type Environment,
  environmentId,
  findEnvironment,
  listDeployHooks,
  listEnvironments,
} from "./store";

export const NewEnvironment = v.object({
  name: v.pipe(v.string("name is required"), v.minLength(1, "name is required"), v.maxLength(64)),
  repo: v.pipe(v.string("repo is required"), v.regex(/^[A-Za-z0-9-_.]+\/[A-Za-z0-9-_.]+$/, "repo must be owner/repo")),
  branch: v.optional(v.pipe(v.string(), v.minLength(1, "branch must not be empty")), "main"),
  preview: v.optional(v.boolean("preview must be true or false"), false),
});

export const NewDeployHook = v.object({
  name: v.pipe(v.string("name is required"), v.minLength(1, "name is required"), v.maxLength(100)),
});

export const environmentNotFound = () => new ApiError(404, "Environment not found");
const repositoryNotFound = () => new ApiError(404, "Repository not found");

/** An environment, and its deploy hooks, belong to the owner of its repository. */
const ownerOf = (environment: Pick<Environment, "repo">) => environment.repo.split("/")[0] ?? null;

export function renderEnvironment(environment: Environment) {
  return {
    id: environmentId(environment),
    name: environment.name,
    repo: environment.repo,
    branch: environment.branch,
    preview: environment.preview_key !== null,
    createdAt: environment.created_at,
    updatedAt: environment.updated_at,
  };
}

export function hookUrl(origin: string, environment: Environment, secret: string): string {
  const base = `${origin}/api/deploy-hook/${environmentId(environment)}/${secret}`;
  return environment.preview_key ? `${base}/{prNumber}/{commitSha}` : base;
}

/** The loader of every environment route: the environment in the path, if the caller may act on it. */
async function environmentFor(
  request: IRequest,
  env: Env,
  access: Access,
): Promise<{ environment: Environment; principal: Principal }> {
  const principal = await caller(request, env, access);
  const environment = await loadOwned(
    principal,
    access,
    environmentNotFound,
    () => findEnvironment(env, request.params.envId ?? ""),
    ownerOf,
  );
  return { environment, principal };
}

export function environmentRoutes(router: HttpRouter): void {
  router
    .post("/api/environments", async (request, env) => {
      const principal = await caller(request, env, "write");
      const input = parseInput(NewEnvironment, await readJson(request), "Environment");
      authorizeOwner(principal, ownerOf(input), "write", repositoryNotFound);
      const environment = await createEnvironment(env, { ...input, createdBy: principal.login });
      return Response.json(renderEnvironment(environment), { status: 201 });
    })
    .get("/api/environments", async (request, env) => {
      const principal = await caller(request, env, "read");
      return Response.json(visibleOnly(principal, await listEnvironments(env), ownerOf).map(renderEnvironment));
    })
    .get("/api/environments/:envId", async (request, env) => {
      const { environment } = await environmentFor(request, env, "read");
      return Response.json(renderEnvironment(environment));
    })
    .delete("/api/environments/:envId", async (request, env) => {
      const { environment } = await environmentFor(request, env, "write");
      await deleteEnvironment(env, environment.id);
      return noContent();
    })
    .post("/api/environments/:envId/deploy-hooks", async (request, env) => {
      const { environment, principal } = await environmentFor(request, env, "write");
      const input = parseInput(NewDeployHook, await readJson(request), "DeployHook");
      const { hook, secret } = await createDeployHook(env, environment, {
        name: input.name,
        createdBy: principal.login,
      });
      // The URL holds the secret: this is the only time it is shown.
      return Response.json(
        {
          id: hook.id,
          name: hook.name,
          url: hookUrl(originOf(request), environment, secret),
          createdAt: hook.created_at,
        },
        { status: 201 },
      );
    })
    .get("/api/environments/:envId/deploy-hooks", async (request, env) => {
      const { environment } = await environmentFor(request, env, "read");
      const hooks = await listDeployHooks(env, environment.id);
      return Response.json(
        hooks.map((h) => ({ id: h.id, name: h.name, createdAt: h.created_at, createdBy: h.created_by })),
      );
    })
    .delete("/api/environments/:envId/deploy-hooks/:id", async (request, env) => {
      const { environment } = await environmentFor(request, env, "write");
      if (!(await deleteDeployHook(env, environment.id, numericId(request.params.id)))) {
        throw new ApiError(404, "Deploy hook not found");
      }
      return noContent();
    });
}
