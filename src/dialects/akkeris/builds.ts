/** Builds of an app: listed and read from its Durable Object, and reported on by the builder. */
import * as v from "valibot";
import { authorizeReach } from "../../access/policy";
import { parseInput, readJson } from "../../http/body";
import { ApiError } from "../../http/errors";
import { type HttpRouter, originOf } from "../../http/types";
import { appFor } from "./apps";
import { appBuilds, appContext } from "./context";
import { renderBuild } from "./render";
import { getAutoBuild } from "./store";

export const BuildReport = v.object({
  status: v.picklist(["building", "succeeded", "failed"], "status must be building, succeeded or failed"),
  image: v.optional(v.pipe(v.string(), v.minLength(1, "image must not be empty"))),
  reason: v.optional(v.string()),
});

const buildNotFound = () => new ApiError(404, "The specified build was not found.");

export function buildRoutes(router: HttpRouter): void {
  router
    .get("/apps/:app/builds", async (request, env) => {
      const { app } = await appFor(request, env, "read");
      const builds = await appBuilds(env, app.id).listBuilds();
      return Response.json(builds.map((build) => renderBuild(build, app)));
    })
    .get("/apps/:app/builds/:id", async (request, env) => {
      const { app } = await appFor(request, env, "read");
      const build = await appBuilds(env, app.id).getBuild(request.params.id ?? "");
      if (!build) throw buildNotFound();
      return Response.json(renderBuild(build, app));
    })
    .patch("/apps/:app/builds/:id", async (request, env) => {
      const { app, principal } = await appFor(request, env, "write");
      const input = parseInput(BuildReport, await readJson(request), "Build");
      const autoBuild = await getAutoBuild(env, app.id);
      if (input.status === "succeeded" && autoBuild?.auto_deploy === 1) {
        // Success deploys to the auto build's repository: the reporter must be able to act there too.
        const [owner = null] = autoBuild.repo_subject.split("/");
        authorizeReach(principal, owner, `a successful build of this app deploys to ${autoBuild.repo_subject}`);
      }
      const result = await appBuilds(env, app.id).report(
        appContext(app, autoBuild, originOf(request)),
        request.params.id ?? "",
        input,
      );
      if (result.kind === "not_found") throw buildNotFound();
      if (result.kind === "conflict") throw new ApiError(409, result.message);
      return Response.json(renderBuild(result.build, app));
    });
}
