// The routes the app registers, walked from its routers: what the authorization table and
// the OpenAPI document must both cover.
import { buildApp, dialects } from "../../src/app";
import type { HttpRouter } from "../../src/http/types";
import { OTHER_ROUTERS } from "./route-table";

export /** Every route the app serves, as "METHOD /pattern": the app's own and each mounted router's. */
function registeredRoutes(): string[] {
  const mounts: string[] = [];
  const recorder: HttpRouter = new Proxy({} as HttpRouter, {
    get: (_target, method: string) => (path: string) => {
      mounts.push(`${method.toUpperCase()} ${path}`);
      return recorder;
    },
  });
  const others = OTHER_ROUTERS.map((other) => {
    mounts.push(...other.mounts);
    return other.router();
  });
  const routers = [buildApp(), ...dialects.map((dialect) => dialect.mount(recorder)), ...others];
  return routers
    .flatMap((router) => router.routes.map(([method, , , path]) => `${method} ${path || "/"}`))
    .filter((route) => route !== "ALL *" && !mounts.includes(route));
}
