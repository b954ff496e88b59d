/** A small apps API in Akkeris' image: /apps. Auto builds and builds hang off an app. */
import * as v from "valibot";
import { authenticate } from "../../access/auth";
import { type Access, authorizeWrite } from "../../access/policy";
import type { Env } from "../../env";
import { parseInput, readJson } from "../../http/body";
import { ApiError } from "../../http/errors";
import type { HttpRouter, IRequest } from "../../http/types";
import { renderApp } from "./render";
import { type App, createApp, deleteApp, findApp, listApps } from "./store";

const Name = v.pipe(v.string(), v.regex(/^[a-z][a-z0-9]{1,29}$/, "must be 2-30 lower-case letters and digits"));

export const NewApp = v.object({
  name: Name,
  space: Name,
  organization: v.optional(v.pipe(v.string(), v.minLength(1)), "default"),
});

export const appNotFound = () => new ApiError(404, "The specified application was not found.");

/** Authenticates, checks rights, and finds the app named in the path. */
export async function appFor(request: IRequest, env: Env, access: Access): Promise<{ app: App; login: string }> {
  const principal = await authenticate(request, env);
  if (access === "write") authorizeWrite(principal);
  const app = await findApp(env, request.params.app ?? "");
  if (!app) throw appNotFound();
  return { app, login: principal.login };
}

export function appRoutes(router: HttpRouter): void {
  router
    .post("/apps", async (request, env) => {
      const principal = await authenticate(request, env);
      authorizeWrite(principal);
      const input = parseInput(NewApp, await readJson(request), "App");
      const app = await createApp(env, { ...input, createdBy: principal.login });
      return Response.json(renderApp(app), { status: 201 });
    })
    .get("/apps", async (request, env) => {
      await authenticate(request, env);
      return Response.json((await listApps(env)).map(renderApp));
    })
    .get("/apps/:app", async (request, env) => {
      const { app } = await appFor(request, env, "read");
      return Response.json(renderApp(app));
    })
    .delete("/apps/:app", async (request, env) => {
      const { app } = await appFor(request, env, "write");
      await deleteApp(env, app.id);
      return Response.json(renderApp(app));
    });
}
