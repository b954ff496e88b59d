/**
 * Routers. Each dialect builds its own with `dialectRouter`: its routes, and its error shape
 * for everything they throw, including the 404 for a path it does not know.
 */
import { Router } from "itty-router";
import { ApiError } from "./errors";
import type { Args, HttpRouter, IRequest } from "./types";

export type Routes = (router: HttpRouter) => void;

export function dialectRouter(
  toError: (error: unknown) => Response,
  options: { routes: Routes[]; finally?: ((response: Response, request: IRequest) => Response)[] },
): HttpRouter {
  const router: HttpRouter = Router<IRequest, Args>({ catch: toError, finally: options.finally ?? [] });
  for (const routes of options.routes) routes(router);
  router.all("*", () => {
    throw new ApiError(404, "Not Found");
  });
  return router;
}
