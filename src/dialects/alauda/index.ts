/**
 * Alauda (spec 004): `/v1/hooks` subscriptions to build, image and job events, and
 * `/v1/events`. Deployments are its jobs. Errors as `{"errors": [...]}`.
 */
import { dialectRouter } from "../../http/router";
import type { Dialect } from "../dialect";
import { toAlaudaError } from "./errors";
import { alaudaRoutes } from "./hooks";
import { jobEvents } from "./jobs";
import { alaudaApi } from "./openapi";

export const alauda: Dialect = {
  name: "alauda",
  openapi: alaudaApi,
  mount(router) {
    const alauda = dialectRouter(toAlaudaError, { routes: [alaudaRoutes] });
    router.all("/v1/*", alauda.fetch);
    return alauda;
  },
  onDeploymentStatus: jobEvents,
};
