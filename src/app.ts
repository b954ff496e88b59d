/**
 * The HTTP surface. Each dialect registers its routes; errors from any of them are
 * shaped by the dialect's mapper. Today every route speaks GitHub's error shape.
 */
import { Router } from "itty-router";
import { tokenRoutes } from "./access/routes";
import { appRoutes } from "./dialects/akkeris/apps";
import { autoBuildRoutes } from "./dialects/akkeris/auto-builds";
import { buildRoutes } from "./dialects/akkeris/builds";
import { callbackRoutes } from "./dialects/akkeris/callback";
import { alaudaRoutes } from "./dialects/alauda/hooks";
import { deployHookRoutes } from "./dialects/flightcontrol/deploy-hooks";
import { environmentRoutes } from "./dialects/flightcontrol/environments";
import { deliveryRoutes } from "./dialects/github/deliveries";
import { deploymentRoutes } from "./dialects/github/deployments";
import { hookRoutes } from "./dialects/github/hooks";
import { hubRoutes } from "./dialects/github/hub";
import { ingestRoutes } from "./dialects/github/ingest";
import { statusRoutes } from "./dialects/github/statuses";
import { ApiError, notFound, toAkkerisError, toAlaudaError, toFlightcontrolError, toGitHubError } from "./http/errors";
import type { Args, HttpRouter, IRequest } from "./http/types";

/**
 * Clients that ask for a preview media type (`application/vnd.socialgateway.cannonball-preview+json`)
 * are told which one they got, as GitHub does with X-GitHub-Media-Type. Requests without one work the same.
 */
function echoMediaType(response: Response, request: IRequest): Response {
  const match = /application\/vnd\.([a-z0-9.-]+)\+json/i.exec(request.headers.get("accept") ?? "");
  if (response instanceof Response && !response.headers.has("x-github-media-type")) {
    try {
      response.headers.set("x-github-media-type", `${match?.[1] ?? "github.v3"}; format=json`);
      // Clients log it (Octokit does), and it ties a report to the relay's own logs.
      response.headers.set("x-github-request-id", request.headers.get("cf-ray") ?? crypto.randomUUID());
    } catch {
      // Immutable headers (a proxied response): leave them be.
    }
  }
  return response;
}

/**
 * A dialect's own router: its routes, and its error shape for everything they throw,
 * including the 404 for a path it does not know.
 */
function dialectRouter(toError: (error: unknown) => Response, ...register: ((router: HttpRouter) => void)[]) {
  const router: HttpRouter = Router<IRequest, Args>({ catch: toError });
  for (const routes of register) routes(router);
  router.all("*", () => {
    throw new ApiError(404, "Not Found");
  });
  return router;
}

export function buildRouter(): HttpRouter {
  const router: HttpRouter = Router<IRequest, Args>({ catch: toGitHubError, finally: [echoMediaType] });
  router.get("/health", () => Response.json({ status: "ok", service: "hookrelay" }));
  // Akkeris: /apps, with `{code, message}` errors. Auto builds register before builds,
  // or `/builds/auto` would be taken for a build id.
  const akkeris = dialectRouter(toAkkerisError, callbackRoutes, autoBuildRoutes, buildRoutes, appRoutes);
  router.all("/apps", akkeris.fetch).all("/apps/*", akkeris.fetch);
  // Flightcontrol: /api, with `{"success": "false", "error"}` errors.
  router.all("/api/*", dialectRouter(toFlightcontrolError, deployHookRoutes, environmentRoutes).fetch);
  // Alauda: /v1, with `{"errors": [...]}` errors.
  router.all("/v1/*", dialectRouter(toAlaudaError, alaudaRoutes).fetch);
  tokenRoutes(router);
  hookRoutes(router);
  deliveryRoutes(router);
  hubRoutes(router);
  ingestRoutes(router);
  deploymentRoutes(router);
  statusRoutes(router);
  router.all("*", () => {
    throw notFound();
  });
  return router;
}
