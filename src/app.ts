/**
 * The top floor: every dialect's routes, the admin API, and what the queue consumer needs
 * to know of the dialects. To add a dialect, add its folder under src/dialects and one
 * entry to `dialects` below.
 */
import { Router } from "itty-router";
import { version } from "../package.json";
import { tokensApi } from "./access/openapi";
import { registerSubjectOwner } from "./access/owners";
import { tokenRoutes } from "./access/routes";
import { akkeris } from "./dialects/akkeris";
import { alauda } from "./dialects/alauda";
import type { Dialect } from "./dialects/dialect";
import { flightcontrol } from "./dialects/flightcontrol";
import { github } from "./dialects/github";
import { notFound, toGitHubError } from "./http/errors";
import { type ApiArea, githubErrorSchema, openApiDocument } from "./http/openapi";
import type { Args, HttpRouter, IRequest } from "./http/types";
import type { DeliveryHeadersByDialect } from "./relay/dispatch";
import { onDeploymentStatus } from "./repos/deployments";
import { jobOwner, repositoryOwner } from "./repos/owners";

export const dialects: readonly Dialect[] = [github, akkeris, flightcontrol, alauda];

/** Each dialect's delivery headers, by the name its subscriptions carry. */
export const deliveryHeaders: DeliveryHeadersByDialect = Object.fromEntries(
  dialects.flatMap((dialect) => (dialect.deliveryHeaders ? [[dialect.name, dialect.deliveryHeaders]] : [])),
);

registerSubjectOwner("repository", repositoryOwner);
registerSubjectOwner("job", jobOwner);
for (const dialect of dialects) {
  if (dialect.onDeploymentStatus) onDeploymentStatus(dialect.onDeploymentStatus);
  for (const [subjectType, resolver] of Object.entries(dialect.subjectOwners ?? {})) {
    registerSubjectOwner(subjectType, resolver);
  }
}

/** The service's own paths, beside the tokens API and each dialect's. */
const serviceApi: ApiArea = {
  name: "Service",
  description: "Health and this document.",
  errorSchema: githubErrorSchema,
  paths: {
    "/health": { get: { summary: "Liveness", auth: "none", responses: { 200: "Up" } } },
    "/openapi.json": { get: { summary: "This document", auth: "none", responses: { 200: "OpenAPI 3.1" } } },
  },
};

export const apiAreas: readonly ApiArea[] = [serviceApi, tokensApi, ...dialects.map((dialect) => dialect.openapi)];

let openapi: unknown;

export function buildApp(): HttpRouter {
  // The relay's own routes speak GitHub's error shape.
  const router: HttpRouter = Router<IRequest, Args>({ catch: toGitHubError });
  router.get("/health", () => Response.json({ status: "ok", service: "hookrelay" }));
  router.get("/openapi.json", () => {
    openapi ??= openApiDocument(
      {
        title: "hookrelay",
        version,
        description: "A webhook relay on Cloudflare Workers: five HTTP API dialects over one event core.",
      },
      [...apiAreas],
    );
    return Response.json(openapi, { headers: { "access-control-allow-origin": "*" } });
  });
  tokenRoutes(router);
  for (const dialect of dialects) dialect.mount(router);
  router.all("*", () => {
    throw notFound();
  });
  return router;
}
