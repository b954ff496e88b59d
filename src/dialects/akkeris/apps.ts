/** A small apps API in Akkeris' image: /apps. Auto builds and builds hang off an app. */
import * as v from "valibot";
import { caller, loadOwned } from "../../access/guard";
import { type Access, authorizeOwner, type Principal, visibleOwners } from "../../access/policy";
import type { Env } from "../../env";
import { parseInput, readJson } from "../../http/body";
import { ApiError } from "../../http/errors";
import type { HttpRouter, IRequest } from "../../http/types";
import { deleteSubjectSubscriptions } from "../../relay/subscriptions";
import { renderApp } from "./render";
import { type App, buildSubject, createApp, deleteApp, findApp, listApps } from "./store";

const Name = v.pipe(v.string(), v.regex(/^[a-z][a-z0-9]{1,29}$/, "must be 2-30 lower-case letters and digits"));

export const NewApp = v.object({
  name: Name,
  space: Name,
  organization: v.optional(v.pipe(v.string(), v.minLength(1)), "default"),
});

export const appNotFound = () => new ApiError(404, "The specified application was not found.");
const organizationNotFound = () => new ApiError(404, "The specified organization was not found.");

/** An app belongs to its organization. */
export const appOwner = (app: Pick<App, "organization">) => app.organization;

/**
 * The loader of every app route: authenticates (before the body is read), finds the app
 * named in the path, and checks the caller may act on its organization. An app the caller
 * may not see is answered as an app that does not exist.
 */
export async function appFor(
  request: IRequest,
  env: Env,
  access: Access,
): Promise<{ app: App; login: string; principal: Principal }> {
  const principal = await caller(request, env, access);
  const app = await loadOwned(principal, access, appNotFound, () => findApp(env, request.params.app ?? ""), appOwner);
  return { app, login: principal.login, principal };
}

export function appRoutes(router: HttpRouter): void {
  router
    .post("/apps", async (request, env) => {
      const principal = await caller(request, env, "write");
      const input = parseInput(NewApp, await readJson(request), "App");
      authorizeOwner(principal, input.organization, "write", organizationNotFound);
      const app = await createApp(env, { ...input, createdBy: principal.login });
      return Response.json(renderApp(app), { status: 201 });
    })
    .get("/apps", async (request, env) => {
      const principal = await caller(request, env, "read");
      return Response.json((await listApps(env, visibleOwners(principal))).map(renderApp));
    })
    .get("/apps/:app", async (request, env) => {
      const { app } = await appFor(request, env, "read");
      return Response.json(renderApp(app));
    })
    .delete("/apps/:app", async (request, env) => {
      const { app } = await appFor(request, env, "write");
      await deleteApp(env, app.id);
      // Its build and image subscriptions go with it: a new app of the same name may have another owner.
      await deleteSubjectSubscriptions(env, ["build_repo", "image_repo"], buildSubject(app));
      return Response.json(renderApp(app));
    });
}
