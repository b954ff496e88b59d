/**
 * The top floor: every dialect's routes, the admin API, and what the queue consumer needs
 * to know of the dialects. To add a dialect, add its folder under src/dialects and one
 * entry to `dialects` below.
 */
import { Router } from "itty-router";
import { registerSubjectOwner } from "./access/owners";
import { tokenRoutes } from "./access/routes";
import { akkeris } from "./dialects/akkeris";
import { alauda } from "./dialects/alauda";
import type { Dialect } from "./dialects/dialect";
import { flightcontrol } from "./dialects/flightcontrol";
import { github } from "./dialects/github";
import { notFound, toGitHubError } from "./http/errors";
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

export function buildApp(): HttpRouter {
  // The relay's own routes speak GitHub's error shape.
  const router: HttpRouter = Router<IRequest, Args>({ catch: toGitHubError });
  router.get("/health", () => Response.json({ status: "ok", service: "hookrelay" }));
  tokenRoutes(router);
  for (const dialect of dialects) dialect.mount(router);
  router.all("*", () => {
    throw notFound();
  });
  return router;
}
