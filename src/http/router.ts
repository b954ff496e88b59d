/**
 * The HTTP surface. Each dialect registers its routes; errors from any of them are
 * shaped by the dialect's mapper. Today every route speaks GitHub's error shape.
 */
import { Router } from "itty-router";
import { tokenRoutes } from "../admin/tokens";
import { deliveryRoutes } from "../dialects/github/deliveries";
import { hookRoutes } from "../dialects/github/hooks";
import { hubRoutes } from "../dialects/github/hub";
import { ingestRoutes } from "../dialects/github/ingest";
import { notFound, toGitHubError } from "./errors";
import type { Args, HttpRouter, IRequest } from "./types";

export function buildRouter(): HttpRouter {
  const router: HttpRouter = Router<IRequest, Args>({ catch: toGitHubError });
  router.get("/health", () => Response.json({ status: "ok", service: "hookrelay" }));
  tokenRoutes(router);
  hookRoutes(router);
  deliveryRoutes(router);
  hubRoutes(router);
  ingestRoutes(router);
  router.all("*", () => {
    throw notFound();
  });
  return router;
}
