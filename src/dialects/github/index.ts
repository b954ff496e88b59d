/**
 * GitHub (specs 001 and 003): repository hooks and their deliveries, the PubSubHubbub hub,
 * deployments and statuses, commit statuses, and the ingest URL that relays GitHub's own
 * webhooks. Errors in GitHub's shape.
 */
import { toGitHubError } from "../../http/errors";
import { dialectRouter } from "../../http/router";
import type { IRequest } from "../../http/types";
import type { Dialect } from "../dialect";
import { deliveryRoutes } from "./deliveries";
import { githubDeliveryHeaders } from "./delivery-headers";
import { deploymentRoutes } from "./deployments";
import { hookRoutes } from "./hooks";
import { hubRoutes } from "./hub";
import { ingestRoutes } from "./ingest";
import { githubApi } from "./openapi";
import { statusRoutes } from "./statuses";

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

export { IngestShard } from "./ingest-shard";

export const github: Dialect = {
  name: "github",
  openapi: githubApi,
  mount(router) {
    const github = dialectRouter(toGitHubError, {
      routes: [hookRoutes, deliveryRoutes, hubRoutes, ingestRoutes, deploymentRoutes, statusRoutes],
      finally: [echoMediaType],
    });
    router.all("/repos/*", github.fetch).all("/hub", github.fetch).all("/ingest/*", github.fetch);
    return github;
  },
  deliveryHeaders: githubDeliveryHeaders,
};
