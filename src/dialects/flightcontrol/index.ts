/**
 * Flightcontrol (spec 002): environments, deploy-hook URLs triggered by a plain GET, and
 * deployment polling. Errors as `{"success": "false", "error"}`.
 */
import { dialectRouter } from "../../http/router";
import type { Dialect } from "../dialect";
import { deployHookRoutes } from "./deploy-hooks";
import { environmentRoutes } from "./environments";
import { toFlightcontrolError } from "./errors";
import { flightcontrolApi } from "./openapi";

export const flightcontrol: Dialect = {
  name: "flightcontrol",
  openapi: flightcontrolApi,
  mount(router) {
    const flightcontrol = dialectRouter(toFlightcontrolError, { routes: [deployHookRoutes, environmentRoutes] });
    router.all("/api/*", flightcontrol.fetch);
    return flightcontrol;
  },
};
