/**
 * The HTTP surface. Each dialect registers its routes; errors from any of them are
 * shaped by the dialect's mapper. Today every route speaks GitHub's error shape.
 */
import { Router } from "itty-router";
import { tokenRoutes } from "../admin/tokens";
import { appRoutes } from "../dialects/akkeris/apps";
import { autoBuildRoutes } from "../dialects/akkeris/auto-builds";
import { buildRoutes } from "../dialects/akkeris/builds";
import { callbackRoutes } from "../dialects/akkeris/callback";
import { alaudaRoutes } from "../dialects/alauda/hooks";
import { deployHookRoutes } from "../dialects/flightcontrol/deploy-hooks";
import { environmentRoutes } from "../dialects/flightcontrol/environments";
import { deliveryRoutes } from "../dialects/github/deliveries";
import { deploymentRoutes } from "../dialects/github/deployments";
import { hookRoutes } from "../dialects/github/hooks";
import { hubRoutes } from "../dialects/github/hub";
import { ingestRoutes } from "../dialects/github/ingest";
import { statusRoutes } from "../dialects/github/statuses";
import { ApiError, notFound, toAkkerisError, toAlaudaError, toFlightcontrolError, toGitHubError } from "./errors";
import type { Args, HttpRouter, IRequest } from "./types";

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

/** Akkeris' dialect: /apps and everything under it, with Akkeris' `{code, message}` errors. */
function akkerisRouter(): HttpRouter {
  const router: HttpRouter = Router<IRequest, Args>({ catch: toAkkerisError });
  callbackRoutes(router);
  autoBuildRoutes(router);
  buildRoutes(router);
  appRoutes(router);
  router.all("*", () => {
    throw new ApiError(404, "Not Found");
  });
  return router;
}

/** Flightcontrol's dialect: /api, with `{"success": "false", "error"}` errors. */
function flightcontrolRouter(): HttpRouter {
  const router: HttpRouter = Router<IRequest, Args>({ catch: toFlightcontrolError });
  deployHookRoutes(router);
  environmentRoutes(router);
  router.all("*", () => {
    throw new ApiError(404, "Not Found");
  });
  return router;
}

/** Alauda's dialect: /v1, with `{"errors": [...]}` errors. */
function alaudaRouter(): HttpRouter {
  const router: HttpRouter = Router<IRequest, Args>({ catch: toAlaudaError });
  alaudaRoutes(router);
  router.all("*", () => {
    throw new ApiError(404, "Not Found");
  });
  return router;
}

export function buildRouter(): HttpRouter {
  const router: HttpRouter = Router<IRequest, Args>({ catch: toGitHubError, finally: [echoMediaType] });
  router.get("/health", () => Response.json({ status: "ok", service: "hookrelay" }));
  const akkeris = akkerisRouter();
  router.all("/apps", akkeris.fetch).all("/apps/*", akkeris.fetch);
  router.all("/api/*", flightcontrolRouter().fetch);
  router.all("/v1/*", alaudaRouter().fetch);
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
