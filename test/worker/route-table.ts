// Every route the Worker serves, and how authorization must treat it. authorization.test.ts
// fails when a registered route is missing here, so a new route cannot skip its check:
//
// - a token-authenticated route gets a row in ROUTES: a valid request on a resource of
//   VICTIM (so that only authorization can refuse it), the status VICTIM's own write token
//   gets, and for routes that name a resource, the same request for one that does not exist
//   (another owner's resource must be answered exactly like it);
// - a route authenticated by a secret in its URL or an HMAC, or open to all, is in EXEMPT,
//   with the reason; a handler that only guards other routes (registered with `all`) is in
//   GUARDS.
//
// Routes are named as registered: "METHOD /pattern". `ALL *` catch-alls are not routes. The
// dialects' routers are found through `Dialect.mount`; any other router mounted on the app
// (say a `/relay/` API mounted with `router.all("/relay/*", relay.fetch)`) goes in
// OTHER_ROUTERS, so that its routes are checked too and its mount is not taken for a route.
import type { HttpRouter } from "../../src/http/types";

export const VICTIM = "victim-org";
export const OTHER = "evil-org";

/** What beforeAll made for VICTIM (see authorization.test.ts). */
export interface Fixture {
  hookId: number;
  attemptId: number;
  /** The delivery that attempt belongs to (the /relay/ API's id). */
  deliveryId: number;
  sha: string;
  deploymentId: number;
  statusId: number;
  app: { id: string; name: string };
  buildId: string;
  envId: string;
  deployHookId: number;
  alaudaHookId: number;
  tokenId: number;
}

export interface Req {
  method: string;
  path: string;
  json?: unknown;
  form?: Record<string, string>;
}

export type Dialect = "github" | "akkeris" | "flightcontrol" | "alauda";

export interface RouteRow {
  route: string;
  /** Whose error shape the route answers in (tokens and anything else the relay's own: GitHub's). */
  dialect: Dialect;
  /** admin: only ADMIN_TOKEN, whatever a token's owners. */
  access: "read" | "write" | "admin";
  request: (fx: Fixture) => Req;
  /** What VICTIM's own write token (or the admin, for admin routes) gets for `request`. */
  ok: number;
  /** The same request for a resource that does not exist. */
  absent?: (fx: Fixture) => Req;
  /** For lists that span owners: whether a response body shows VICTIM's resource. */
  shows?: (fx: Fixture, body: any) => boolean;
  /** For figures over the caller's owners: how many deliveries a response body counts. */
  counts?: (body: any) => number;
  /** The owner's request destroys what others need: run it last, in this order. */
  last?: number;
}

const repo = `/repos/${VICTIM}/app`;
const nowhere = `/repos/${OTHER}/app`;
const hook = (fx: Fixture) => `${repo}/hooks/${fx.hookId}`;
const app = (fx: Fixture) => `/apps/${fx.app.name}`;
const NO_APP = "/apps/nosuchapp-default";
const get = (path: string): Req => ({ method: "GET", path });

export const ROUTES: RouteRow[] = [
  // ---- the relay's own: tokens ----
  {
    route: "POST /tokens",
    dialect: "github",
    access: "admin",
    ok: 201,
    request: () => ({ method: "POST", path: "/tokens", json: { login: "minted" } }),
  },
  { route: "GET /tokens", dialect: "github", access: "admin", ok: 200, request: () => get("/tokens") },
  {
    route: "DELETE /tokens/:id",
    dialect: "github",
    access: "admin",
    ok: 204,
    last: 1,
    request: (fx) => ({ method: "DELETE", path: `/tokens/${fx.tokenId}` }),
  },

  // ---- GitHub: hooks, deliveries, hub, ingest ----
  {
    route: "GET /repos/:owner/:repo/hooks",
    dialect: "github",
    access: "read",
    ok: 200,
    request: () => get(`${repo}/hooks`),
  },
  {
    route: "POST /repos/:owner/:repo/hooks",
    dialect: "github",
    access: "write",
    ok: 201,
    request: () => ({
      method: "POST",
      path: `${repo}/hooks`,
      json: { config: { url: "https://receiver.example/made-by-owner" } },
    }),
  },
  {
    route: "GET /repos/:owner/:repo/hooks/:id",
    dialect: "github",
    access: "read",
    ok: 200,
    request: (fx) => get(hook(fx)),
    absent: () => get(`${nowhere}/hooks/999999`),
  },
  {
    route: "PATCH /repos/:owner/:repo/hooks/:id",
    dialect: "github",
    access: "write",
    ok: 200,
    request: (fx) => ({ method: "PATCH", path: hook(fx), json: { active: true } }),
    absent: () => ({ method: "PATCH", path: `${nowhere}/hooks/999999`, json: { active: true } }),
  },
  {
    route: "DELETE /repos/:owner/:repo/hooks/:id",
    dialect: "github",
    access: "write",
    ok: 204,
    last: 2,
    request: (fx) => ({ method: "DELETE", path: hook(fx) }),
    absent: () => ({ method: "DELETE", path: `${nowhere}/hooks/999999` }),
  },
  {
    route: "GET /repos/:owner/:repo/hooks/:id/config",
    dialect: "github",
    access: "read",
    ok: 200,
    request: (fx) => get(`${hook(fx)}/config`),
    absent: () => get(`${nowhere}/hooks/999999/config`),
  },
  {
    route: "PATCH /repos/:owner/:repo/hooks/:id/config",
    dialect: "github",
    access: "write",
    ok: 200,
    request: (fx) => ({ method: "PATCH", path: `${hook(fx)}/config`, json: { content_type: "json" } }),
    absent: () => ({ method: "PATCH", path: `${nowhere}/hooks/999999/config`, json: { content_type: "json" } }),
  },
  {
    route: "POST /repos/:owner/:repo/hooks/:id/pings",
    dialect: "github",
    access: "write",
    ok: 204,
    request: (fx) => ({ method: "POST", path: `${hook(fx)}/pings` }),
    absent: () => ({ method: "POST", path: `${nowhere}/hooks/999999/pings` }),
  },
  {
    route: "POST /repos/:owner/:repo/hooks/:id/tests",
    dialect: "github",
    access: "write",
    ok: 204,
    request: (fx) => ({ method: "POST", path: `${hook(fx)}/tests` }),
    absent: () => ({ method: "POST", path: `${nowhere}/hooks/999999/tests` }),
  },
  {
    route: "POST /repos/:owner/:repo/hooks/:id/test",
    dialect: "github",
    access: "write",
    ok: 204,
    request: (fx) => ({ method: "POST", path: `${hook(fx)}/test` }),
    absent: () => ({ method: "POST", path: `${nowhere}/hooks/999999/test` }),
  },
  {
    route: "GET /repos/:owner/:repo/hooks/:id/deliveries",
    dialect: "github",
    access: "read",
    ok: 200,
    request: (fx) => get(`${hook(fx)}/deliveries`),
    absent: () => get(`${nowhere}/hooks/999999/deliveries`),
  },
  {
    route: "GET /repos/:owner/:repo/hooks/:id/deliveries/:delivery_id",
    dialect: "github",
    access: "read",
    ok: 200,
    request: (fx) => get(`${hook(fx)}/deliveries/${fx.attemptId}`),
    absent: () => get(`${nowhere}/hooks/999999/deliveries/999999`),
  },
  {
    route: "POST /repos/:owner/:repo/hooks/:id/deliveries/:delivery_id/attempts",
    dialect: "github",
    access: "write",
    ok: 202,
    request: (fx) => ({ method: "POST", path: `${hook(fx)}/deliveries/${fx.attemptId}/attempts` }),
    absent: () => ({ method: "POST", path: `${nowhere}/hooks/999999/deliveries/999999/attempts` }),
  },
  {
    route: "POST /hub",
    dialect: "github",
    access: "write",
    ok: 204,
    request: () => ({
      method: "POST",
      path: "/hub",
      form: {
        "hub.mode": "subscribe",
        "hub.topic": `https://github.com/${VICTIM}/app/events/push`,
        "hub.callback": "https://receiver.example/hub-by-owner",
      },
    }),
  },
  {
    route: "PUT /repos/:owner/:repo/ingest",
    dialect: "github",
    access: "write",
    ok: 200,
    request: () => ({ method: "PUT", path: `${repo}/ingest`, json: { secret: "a-new-ingest-secret" } }),
  },
  {
    route: "GET /repos/:owner/:repo/ingest",
    dialect: "github",
    access: "read",
    ok: 200,
    request: () => get(`${repo}/ingest`),
    absent: () => get(`${nowhere}/ingest`),
  },
  {
    route: "DELETE /repos/:owner/:repo/ingest",
    dialect: "github",
    access: "write",
    ok: 204,
    last: 2,
    request: () => ({ method: "DELETE", path: `${repo}/ingest` }),
  },

  // ---- GitHub: deployments and statuses ----
  {
    route: "GET /repos/:owner/:repo/deployments",
    dialect: "github",
    access: "read",
    ok: 200,
    request: () => get(`${repo}/deployments`),
  },
  {
    route: "POST /repos/:owner/:repo/deployments",
    dialect: "github",
    access: "write",
    ok: 201,
    request: (fx) => ({ method: "POST", path: `${repo}/deployments`, json: { ref: fx.sha, required_contexts: [] } }),
  },
  {
    route: "GET /repos/:owner/:repo/deployments/:id",
    dialect: "github",
    access: "read",
    ok: 200,
    request: (fx) => get(`${repo}/deployments/${fx.deploymentId}`),
    absent: () => get(`${nowhere}/deployments/999999`),
  },
  {
    route: "DELETE /repos/:owner/:repo/deployments/:id",
    dialect: "github",
    access: "write",
    ok: 204,
    last: 2,
    request: (fx) => ({ method: "DELETE", path: `${repo}/deployments/${fx.deploymentId}` }),
    absent: () => ({ method: "DELETE", path: `${nowhere}/deployments/999999` }),
  },
  {
    route: "GET /repos/:owner/:repo/deployments/:id/statuses",
    dialect: "github",
    access: "read",
    ok: 200,
    request: (fx) => get(`${repo}/deployments/${fx.deploymentId}/statuses`),
    absent: () => get(`${nowhere}/deployments/999999/statuses`),
  },
  {
    route: "POST /repos/:owner/:repo/deployments/:id/statuses",
    dialect: "github",
    access: "write",
    ok: 201,
    request: (fx) => ({
      method: "POST",
      path: `${repo}/deployments/${fx.deploymentId}/statuses`,
      json: { state: "error" },
    }),
    absent: () => ({ method: "POST", path: `${nowhere}/deployments/999999/statuses`, json: { state: "error" } }),
  },
  {
    route: "GET /repos/:owner/:repo/deployments/:id/statuses/:status_id",
    dialect: "github",
    access: "read",
    ok: 200,
    request: (fx) => get(`${repo}/deployments/${fx.deploymentId}/statuses/${fx.statusId}`),
    absent: () => get(`${nowhere}/deployments/999999/statuses/999999`),
  },
  {
    route: "POST /repos/:owner/:repo/statuses/:sha",
    dialect: "github",
    access: "write",
    ok: 201,
    request: (fx) => ({
      method: "POST",
      path: `${repo}/statuses/${fx.sha}`,
      json: { state: "success", context: "ci/owner" },
    }),
  },
  {
    route: "GET /repos/:owner/:repo/commits/:ref/statuses",
    dialect: "github",
    access: "read",
    ok: 200,
    request: (fx) => get(`${repo}/commits/${fx.sha}/statuses`),
  },
  {
    route: "GET /repos/:owner/:repo/commits/:ref/status",
    dialect: "github",
    access: "read",
    ok: 200,
    request: (fx) => get(`${repo}/commits/${fx.sha}/status`),
  },

  // ---- Akkeris ----
  {
    route: "POST /apps",
    dialect: "akkeris",
    access: "write",
    ok: 201,
    request: () => ({
      method: "POST",
      path: "/apps",
      json: { name: "ownermade", space: "default", organization: VICTIM },
    }),
    absent: () => ({
      method: "POST",
      path: "/apps",
      json: { name: "ownermade", space: "default", organization: "nobody-org" },
    }),
  },
  {
    route: "GET /apps",
    dialect: "akkeris",
    access: "read",
    ok: 200,
    request: () => get("/apps"),
    shows: (fx, body) => body.some((a: any) => a.id === fx.app.id),
  },
  {
    route: "GET /apps/:app",
    dialect: "akkeris",
    access: "read",
    ok: 200,
    request: (fx) => get(app(fx)),
    absent: () => get(NO_APP),
  },
  {
    route: "DELETE /apps/:app",
    dialect: "akkeris",
    access: "write",
    ok: 200,
    last: 3,
    request: (fx) => ({ method: "DELETE", path: app(fx) }),
    absent: () => ({ method: "DELETE", path: NO_APP }),
  },
  {
    route: "POST /apps/:app/builds/auto",
    dialect: "akkeris",
    access: "write",
    ok: 201,
    request: (fx) => ({
      method: "POST",
      path: `${app(fx)}/builds/auto`,
      json: {
        repo: `https://github.com/${VICTIM}/app`,
        branch: "main",
        username: "victim",
        token: "gh-victim-token",
        auto_deploy: false,
      },
    }),
    absent: () => ({
      method: "POST",
      path: `${NO_APP}/builds/auto`,
      json: { repo: `https://github.com/${VICTIM}/app`, branch: "main", username: "victim", token: "gh-victim-token" },
    }),
  },
  {
    route: "GET /apps/:app/builds/auto",
    dialect: "akkeris",
    access: "read",
    ok: 200,
    request: (fx) => get(`${app(fx)}/builds/auto`),
    absent: () => get(`${NO_APP}/builds/auto`),
  },
  {
    route: "GET /apps/:app/builds/auto/github",
    dialect: "akkeris",
    access: "read",
    ok: 200,
    request: (fx) => get(`${app(fx)}/builds/auto/github`),
    absent: () => get(`${NO_APP}/builds/auto/github`),
  },
  {
    route: "DELETE /apps/:app/builds/auto/github",
    dialect: "akkeris",
    access: "write",
    ok: 200,
    last: 2,
    request: (fx) => ({ method: "DELETE", path: `${app(fx)}/builds/auto/github` }),
    absent: () => ({ method: "DELETE", path: `${NO_APP}/builds/auto/github` }),
  },
  {
    route: "GET /apps/:app/builds",
    dialect: "akkeris",
    access: "read",
    ok: 200,
    request: (fx) => get(`${app(fx)}/builds`),
    absent: () => get(`${NO_APP}/builds`),
  },
  {
    route: "GET /apps/:app/builds/:id",
    dialect: "akkeris",
    access: "read",
    ok: 200,
    request: (fx) => get(`${app(fx)}/builds/${fx.buildId}`),
    absent: () => get(`${NO_APP}/builds/${crypto.randomUUID()}`),
  },
  {
    route: "PATCH /apps/:app/builds/:id",
    dialect: "akkeris",
    access: "write",
    ok: 200,
    request: (fx) => ({ method: "PATCH", path: `${app(fx)}/builds/${fx.buildId}`, json: { status: "building" } }),
    absent: () => ({ method: "PATCH", path: `${NO_APP}/builds/${crypto.randomUUID()}`, json: { status: "building" } }),
  },

  // ---- Flightcontrol ----
  {
    route: "GET /api/deployments/:deploymentId",
    dialect: "flightcontrol",
    access: "read",
    ok: 200,
    request: (fx) => get(`/api/deployments/${fx.deploymentId}`),
    absent: () => get("/api/deployments/999999"),
  },
  {
    route: "POST /api/environments",
    dialect: "flightcontrol",
    access: "write",
    ok: 201,
    request: () => ({ method: "POST", path: "/api/environments", json: { name: "owner-env", repo: `${VICTIM}/app` } }),
    absent: () => ({ method: "POST", path: "/api/environments", json: { name: "owner-env", repo: "nobody-org/app" } }),
  },
  {
    route: "GET /api/environments",
    dialect: "flightcontrol",
    access: "read",
    ok: 200,
    request: () => get("/api/environments"),
    shows: (fx, body) => body.some((e: any) => e.id === fx.envId),
  },
  {
    route: "GET /api/environments/:envId",
    dialect: "flightcontrol",
    access: "read",
    ok: 200,
    request: (fx) => get(`/api/environments/${fx.envId}`),
    absent: () => get("/api/environments/999999"),
  },
  {
    route: "DELETE /api/environments/:envId",
    dialect: "flightcontrol",
    access: "write",
    ok: 204,
    last: 3,
    request: (fx) => ({ method: "DELETE", path: `/api/environments/${fx.envId}` }),
    absent: () => ({ method: "DELETE", path: "/api/environments/999999" }),
  },
  {
    route: "POST /api/environments/:envId/deploy-hooks",
    dialect: "flightcontrol",
    access: "write",
    ok: 201,
    request: (fx) => ({
      method: "POST",
      path: `/api/environments/${fx.envId}/deploy-hooks`,
      json: { name: "owner-hook" },
    }),
    absent: () => ({ method: "POST", path: "/api/environments/999999/deploy-hooks", json: { name: "owner-hook" } }),
  },
  {
    route: "GET /api/environments/:envId/deploy-hooks",
    dialect: "flightcontrol",
    access: "read",
    ok: 200,
    request: (fx) => get(`/api/environments/${fx.envId}/deploy-hooks`),
    absent: () => get("/api/environments/999999/deploy-hooks"),
  },
  {
    route: "DELETE /api/environments/:envId/deploy-hooks/:id",
    dialect: "flightcontrol",
    access: "write",
    ok: 204,
    last: 2,
    request: (fx) => ({ method: "DELETE", path: `/api/environments/${fx.envId}/deploy-hooks/${fx.deployHookId}` }),
    absent: () => ({ method: "DELETE", path: "/api/environments/999999/deploy-hooks/999999" }),
  },

  // ---- Alauda ----
  {
    route: "POST /v1/hooks",
    dialect: "alauda",
    access: "write",
    ok: 201,
    request: (fx) => ({
      method: "POST",
      path: "/v1/hooks",
      json: {
        subject_type: "build_repo",
        subject: `default/${fx.app.name.replace(/-default$/, "")}`,
        events: ["build:complete"],
        url: "https://receiver.example/alauda-by-owner",
      },
    }),
    absent: () => ({
      method: "POST",
      path: "/v1/hooks",
      json: {
        subject_type: "build_repo",
        subject: "default/nosuchapp",
        events: ["build:complete"],
        url: "https://receiver.example/alauda-by-owner",
      },
    }),
  },
  {
    route: "GET /v1/hooks",
    dialect: "alauda",
    access: "read",
    ok: 200,
    request: () => get("/v1/hooks"),
    shows: (fx, body) => body.some((h: any) => h.id === fx.alaudaHookId),
  },
  {
    route: "GET /v1/hooks/:id",
    dialect: "alauda",
    access: "read",
    ok: 200,
    request: (fx) => get(`/v1/hooks/${fx.alaudaHookId}`),
    absent: () => get("/v1/hooks/999999"),
  },
  {
    route: "PUT /v1/hooks/:id",
    dialect: "alauda",
    access: "write",
    ok: 200,
    request: (fx) => ({ method: "PUT", path: `/v1/hooks/${fx.alaudaHookId}`, json: { name: "renamed by owner" } }),
    absent: () => ({ method: "PUT", path: "/v1/hooks/999999", json: { name: "renamed by owner" } }),
  },
  {
    route: "DELETE /v1/hooks/:id",
    dialect: "alauda",
    access: "write",
    ok: 204,
    last: 2,
    request: (fx) => ({ method: "DELETE", path: `/v1/hooks/${fx.alaudaHookId}` }),
    absent: () => ({ method: "DELETE", path: "/v1/hooks/999999" }),
  },
  {
    route: "POST /v1/events",
    dialect: "alauda",
    access: "write",
    ok: 202,
    request: (fx) => ({
      method: "POST",
      path: "/v1/events",
      json: { subject_type: "job", subject: String(fx.deploymentId), event: "job:fail", payload: {} },
    }),
    absent: () => ({
      method: "POST",
      path: "/v1/events",
      json: { subject_type: "job", subject: "999999", event: "job:fail", payload: {} },
    }),
  },

  // ---- the operator API, /relay/ (GitHub's error shape) ----
  {
    route: "GET /relay/subscriptions",
    dialect: "github",
    access: "read",
    ok: 200,
    request: () => get("/relay/subscriptions"),
    shows: (fx, body) => Array.isArray(body) && body.some((s: { id: number }) => s.id === fx.hookId),
  },
  {
    route: "GET /relay/subscriptions/:id",
    dialect: "github",
    access: "read",
    ok: 200,
    request: (fx) => get(`/relay/subscriptions/${fx.hookId}`),
    absent: () => get("/relay/subscriptions/999999"),
  },
  {
    route: "POST /relay/subscriptions/:id/enable",
    dialect: "github",
    access: "write",
    ok: 200,
    request: (fx) => ({ method: "POST", path: `/relay/subscriptions/${fx.hookId}/enable` }),
    absent: () => ({ method: "POST", path: "/relay/subscriptions/999999/enable" }),
  },
  {
    route: "POST /relay/subscriptions/:id/recover",
    dialect: "github",
    access: "write",
    ok: 202,
    request: (fx) => ({
      method: "POST",
      path: `/relay/subscriptions/${fx.hookId}/recover`,
      json: { since: "2000-01-01T00:00:00Z" },
    }),
    absent: () => ({
      method: "POST",
      path: "/relay/subscriptions/999999/recover",
      json: { since: "2000-01-01T00:00:00Z" },
    }),
  },
  {
    route: "GET /relay/deliveries",
    dialect: "github",
    access: "read",
    ok: 200,
    request: () => get("/relay/deliveries"),
    shows: (fx, body) => Array.isArray(body) && body.some((d: { id: number }) => d.id === fx.deliveryId),
  },
  {
    route: "GET /relay/deliveries/:id",
    dialect: "github",
    access: "read",
    ok: 200,
    request: (fx) => get(`/relay/deliveries/${fx.deliveryId}`),
    absent: () => get("/relay/deliveries/999999"),
  },
  {
    route: "POST /relay/deliveries/:id/redeliver",
    dialect: "github",
    access: "write",
    ok: 202,
    request: (fx) => ({ method: "POST", path: `/relay/deliveries/${fx.deliveryId}/redeliver` }),
    absent: () => ({ method: "POST", path: "/relay/deliveries/999999/redeliver" }),
  },
  {
    route: "GET /relay/stats",
    dialect: "github",
    access: "read",
    ok: 200,
    request: () => get("/relay/stats"),
    counts: (body) => body.deliveries.pending + body.deliveries.succeeded + body.deliveries.failed,
  },
];

/** Routers mounted on the app besides the dialects': the mounts they answer on, and the router. */
export const OTHER_ROUTERS: { mounts: string[]; router: () => HttpRouter }[] = [];

/** Handlers registered as routes that only guard the routes above (they answer or pass through). */
export const GUARDS: Record<string, string> = {
  "ALL /tokens": "503 when ADMIN_TOKEN is not set, in front of the /tokens rows",
  "ALL /tokens/*": "503 when ADMIN_TOKEN is not set, in front of the /tokens rows",
};

/** Routes that take no token, and why that is safe. */
export const EXEMPT: Record<string, string> = {
  "GET /": "names the service and links its documents",
  "GET /health": "says only whether the Worker is up and configured",
  "GET /openapi.json": "the public description of the APIs",
  "POST /ingest/github/:owner/:repo": "GitHub's HMAC (X-Hub-Signature-256) with the repository's ingest secret",
  "POST /apps/:app/builds/auto/github": "GitHub's HMAC with the auto build's secret",
  "GET /api/deploy-hook/:envId/:secret": "the secret in the URL",
  "HEAD /api/deploy-hook/:envId/:secret": "the secret in the URL",
  "POST /api/deploy-hook/:envId/:secret": "the secret in the URL",
  "GET /api/deploy-hook/:envId/:secret/:prNumber/:commitSha": "the secret in the URL",
  "HEAD /api/deploy-hook/:envId/:secret/:prNumber/:commitSha": "the secret in the URL",
  "POST /api/deploy-hook/:envId/:secret/:prNumber/:commitSha": "the secret in the URL",
};
