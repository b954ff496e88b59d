/**
 * The top floor: every dialect's routes, the admin API, and what the queue consumer needs
 * to know of the dialects. To add a dialect, add its folder under src/dialects and one
 * entry to `dialects` below.
 */
import { Router } from "itty-router";
import { version } from "../package.json";
import { adminTokenProblem } from "./access/auth";
import { tokensApi } from "./access/openapi";
import { registerSubjectOwner } from "./access/owners";
import { tokenRoutes } from "./access/routes";
import { akkeris } from "./dialects/akkeris";
import { alauda } from "./dialects/alauda";
import type { Dialect } from "./dialects/dialect";
import { flightcontrol } from "./dialects/flightcontrol";
import { github } from "./dialects/github";
import type { Env } from "./env";
import { notFound, toGitHubError } from "./http/errors";
import { type ApiArea, githubErrorSchema, openApiDocument } from "./http/openapi";
import type { Args, HttpRouter, IRequest } from "./http/types";
import { relayApi } from "./relay/api/openapi";
import { relayRoutes } from "./relay/api/routes";
import { secretsKeyProblem } from "./relay/crypto";
import type { DeliveryHeadersByDialect } from "./relay/dispatch";
import type { SealedColumn } from "./relay/reseal";
import { sealedHookSecrets } from "./relay/subscriptions";
import { onDeploymentStatus } from "./repos/deployments";
import { jobOwner, repositoryOwner } from "./repos/owners";
import { sealedIngestSecrets } from "./repos/repositories";

export const dialects: readonly Dialect[] = [github, akkeris, flightcontrol, alauda];

/** Each dialect's delivery headers, by the name its subscriptions carry. */
export const deliveryHeaders: DeliveryHeadersByDialect = Object.fromEntries(
  dialects.flatMap((dialect) => (dialect.deliveryHeaders ? [[dialect.name, dialect.deliveryHeaders]] : [])),
);

/** Every column that holds a sealed secret: what a SECRETS_KEY rotation re-seals. */
export const sealedColumns: readonly SealedColumn[] = [
  sealedHookSecrets,
  sealedIngestSecrets,
  ...dialects.flatMap((dialect) => dialect.sealedColumns ?? []),
];

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
  description: "The service's name and links, its health, and this document.",
  errorSchema: githubErrorSchema,
  paths: {
    "/": { get: { summary: "The service, its version and links", auth: "none", responses: { 200: "Service" } } },
    "/health": {
      get: {
        summary: "Liveness; 503 naming any missing or malformed setting",
        auth: "none",
        responses: { 200: "Up", 503: "Misconfigured" },
      },
    },
    "/openapi.json": { get: { summary: "This document", auth: "none", responses: { 200: "OpenAPI 3.1" } } },
  },
};

export const apiAreas: readonly ApiArea[] = [
  serviceApi,
  tokensApi,
  relayApi,
  ...dialects.map((dialect) => dialect.openapi),
];

let openapi: unknown;

/** Settings the relay cannot work without, each named with what is wrong. */
export function configurationProblems(env: Env): string[] {
  return [adminTokenProblem(env), secretsKeyProblem(env.SECRETS_KEY)].filter((p): p is string => p !== null);
}

/**
 * HEAD is GET without the body, for every route at once (uptime checkers and link checkers
 * send it): the request runs as a GET and the answer keeps its status and headers.
 */
async function headAsGet(router: HttpRouter, request: IRequest, args: Args): Promise<Response | undefined> {
  if (request.method !== "HEAD") return undefined;
  const response: Response = await router.fetch(new Request(request, { method: "GET" }), ...args);
  const length = response.body ? (await response.arrayBuffer()).byteLength : 0;
  const headers = new Headers(response.headers);
  headers.set("content-length", String(length));
  return new Response(null, { status: response.status, statusText: response.statusText, headers });
}

export function buildApp(): HttpRouter {
  // The relay's own routes speak GitHub's error shape.
  const router: HttpRouter = Router<IRequest, Args>({
    catch: toGitHubError,
    before: [(request, ...args) => headAsGet(router, request, args)],
  });
  router.get("/", () =>
    Response.json({
      service: "hookrelay",
      version,
      links: { dashboard: "/dashboard", openapi: "/openapi.json", health: "/health" },
    }),
  );
  router.get("/health", (_request, env) => {
    const problems = configurationProblems(env);
    return problems.length === 0
      ? Response.json({ status: "ok", service: "hookrelay" })
      : Response.json({ status: "misconfigured", service: "hookrelay", problems }, { status: 503 });
  });
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
  relayRoutes(router);
  for (const dialect of dialects) dialect.mount(router);
  router.all("*", () => {
    throw notFound();
  });
  return router;
}
