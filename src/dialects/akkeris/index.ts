/**
 * Akkeris (spec 000): apps, auto build/deploy hooks with their GitHub callback, and builds,
 * serialised per app by the AppBuilds Durable Object. Errors as `{code, message}`.
 */
import { dialectRouter } from "../../http/router";
import type { Dialect } from "../dialect";
import { appRoutes } from "./apps";
import { autoBuildRoutes } from "./auto-builds";
import { buildRoutes } from "./builds";
import { callbackRoutes } from "./callback";
import { toAkkerisError } from "./errors";
import { akkerisApi } from "./openapi";
import { appSubjectOwner } from "./owners";

export { AppBuilds } from "./app-builds";

export const akkeris: Dialect = {
  name: "akkeris",
  openapi: akkerisApi,
  mount(router) {
    // Auto builds register before builds, or `/builds/auto` would be taken for a build id.
    const akkeris = dialectRouter(toAkkerisError, {
      routes: [callbackRoutes, autoBuildRoutes, buildRoutes, appRoutes],
    });
    router.all("/apps", akkeris.fetch).all("/apps/*", akkeris.fetch);
    return akkeris;
  },
  subjectOwners: { build_repo: appSubjectOwner, image_repo: appSubjectOwner },
  // The GitHub callback's HMAC key of each auto build.
  sealedColumns: [{ table: "auto_builds", idColumn: "id", column: "secret" }],
};
