// Runs in workerd against real D1, Queues and Durable Objects: one authorization model on
// every route. For each row of route-table.ts, on a resource of VICTIM:
//   - no token (or a forged one), with a malformed body: 401, before the body is read;
//   - a write token limited to another owner: 404 in the dialect's shape, exactly what a
//     resource that does not exist gets, and nothing changes; lists leave the resource out;
//   - a read-only token limited to VICTIM: reads work, writes get 403 and change nothing;
//   - VICTIM's own write token: the request works (so the refusals above are authorization's).
// And every route registered on the app is in the table, or listed as exempt.
import { env } from "cloudflare:workers";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { appBuilds } from "../../src/dialects/akkeris/context";
import { hmac, toHex, utf8 } from "../../src/relay/crypto";
import { call, callJson, eventually, fakeGitHub, interceptDeliveries, mintToken } from "./helpers";
import { registeredRoutes } from "./registered-routes";
import {
  type Dialect,
  EXEMPT,
  type Fixture,
  GUARDS,
  OTHER,
  type Req,
  ROUTES,
  type RouteRow,
  VICTIM,
} from "./route-table";

const sha = "b".repeat(40);
let fx: Fixture;
const tokens = { other: "", reader: "", owner: "" };

function send(
  req: Req,
  token: string | null | undefined,
  extra: { headers?: Record<string, string>; body?: string } = {},
) {
  if (extra.body !== undefined)
    return callJson(req.method, req.path, { token, body: extra.body, headers: extra.headers });
  if (req.form) return callJson(req.method, req.path, { token, body: new URLSearchParams(req.form) });
  return callJson(req.method, req.path, { token, ...(req.json !== undefined ? { json: req.json } : {}) });
}

const ALAUDA_CODES: Record<number, string> = {
  401: "not_authenticated",
  403: "permission_denied",
  404: "resource_not_exist",
};

/** The error body each dialect answers with. */
function expectShape(dialect: Dialect, status: number, body: unknown) {
  const shapes: Record<Dialect, unknown> = {
    github: { message: expect.any(String), documentation_url: expect.any(String) },
    akkeris: { code: status, message: expect.any(String) },
    flightcontrol: { success: "false", error: expect.any(String) },
    alauda: { errors: [{ code: ALAUDA_CODES[status], message: expect.any(String) }] },
  };
  expect(body).toEqual(shapes[dialect]);
}

/** What a refused request must not have changed: every table the routes write, and the app's builds. */
async function snapshot() {
  const tables = [
    "api_tokens",
    "subscriptions",
    "events",
    "deliveries",
    "repositories",
    "deployments",
    "deployment_statuses",
    "commit_statuses",
    "idempotency_keys",
    "apps",
    "auto_builds",
    "environments",
    "deploy_hooks",
  ];
  const results = await env.DB.batch([
    ...tables.map((table) => env.DB.prepare(`SELECT '${table}' AS t, count(*) AS n FROM ${table}`)),
    env.DB.prepare(
      "SELECT group_concat(id || url || events || active || coalesce(secret, '') || name || content_type, ';') AS s FROM subscriptions",
    ),
    env.DB.prepare("SELECT group_concat(coalesce(ingest_secret, '-'), ';') AS s FROM repositories"),
    env.DB.prepare("SELECT group_concat(id || branch || updated_at, ';') AS s FROM auto_builds"),
  ]);
  const builds = await appBuilds(env, fx.app.id).listBuilds();
  return JSON.stringify([results.map((r) => r.results), builds]);
}

function signed(secret: string, payload: unknown) {
  const body = JSON.stringify(payload);
  return hmac(secret, "SHA-256", utf8(body)).then((mac) => ({
    body,
    headers: {
      "content-type": "application/json",
      "x-github-event": "push",
      "x-github-delivery": crypto.randomUUID(),
      "x-hub-signature-256": `sha256=${toHex(mac)}`,
    },
  }));
}

/** How many deliveries belong to an owner's subscriptions, as the relay stored them. */
async function deliveriesOf(owner: string): Promise<number> {
  const row = await env.DB.prepare(
    "SELECT count(*) AS n FROM deliveries d JOIN subscriptions s ON s.id = d.subscription_id WHERE s.owner = ?",
  )
    .bind(owner)
    .first<{ n: number }>();
  return row?.n ?? 0;
}

beforeAll(async () => {
  const github = fakeGitHub();
  tokens.other = await mintToken({ login: "mallory", write: true, owners: [OTHER] });
  tokens.reader = await mintToken({ login: "auditor", write: false, owners: [VICTIM] });
  tokens.owner = await mintToken({ login: "victim", write: true, owners: [VICTIM] });
  await mintToken({ login: "disposable" });
  const listed = await callJson<{ id: number; login: string }[]>("GET", "/tokens");
  const tokenId = listed.body.find((t) => t.login === "disposable")?.id as number;

  // VICTIM's repository: a hook with a delivery, an ingest secret, a deployment with a status, a commit status.
  const hook = await callJson("POST", `/repos/${VICTIM}/app/hooks`, {
    json: { config: { url: "https://receiver.example/victim", content_type: "json", secret: "hook-secret" } },
  });
  const attemptId = await eventually(async () => {
    const row = await env.DB.prepare("SELECT id FROM delivery_attempts WHERE subscription_id = ?")
      .bind(hook.body.id)
      .first<{ id: number }>();
    expect(row).not.toBeNull();
    return row?.id as number;
  });
  const deliveryId = (
    await env.DB.prepare("SELECT delivery_id FROM delivery_attempts WHERE id = ?")
      .bind(attemptId)
      .first<{ delivery_id: number }>()
  )?.delivery_id as number;
  await callJson("PUT", `/repos/${VICTIM}/app/ingest`, { json: { secret: "victim-ingest-secret" } });
  const deployment = await callJson("POST", `/repos/${VICTIM}/app/deployments`, {
    json: { ref: sha, required_contexts: [] },
  });
  const status = await callJson("POST", `/repos/${VICTIM}/app/deployments/${deployment.body.id}/statuses`, {
    json: { state: "error" },
  });
  await callJson("POST", `/repos/${VICTIM}/app/statuses/${sha}`, { json: { state: "success" } });

  // VICTIM's Akkeris app, with an auto build and a build.
  const app = await callJson("POST", "/apps", { json: { name: "victimapp", space: "default", organization: VICTIM } });
  await callJson("POST", "/apps/victimapp-default/builds/auto", {
    json: { repo: `https://github.com/${VICTIM}/app`, branch: "main", username: "victim", token: "gh-token" },
  });
  const secret = github.hooks.at(-1)?.body.config.secret as string;
  const push = await signed(secret, { ref: "refs/heads/main", after: sha, head_commit: { id: sha, message: "m" } });
  expect((await call("POST", "/apps/victimapp-default/builds/auto/github", { token: null, ...push })).status).toBe(201);
  const [build] = (await callJson<any[]>("GET", "/apps/victimapp-default/builds")).body;

  // VICTIM's environment with a deploy hook, and Alauda hooks on VICTIM's build subject.
  const environment = await callJson("POST", "/api/environments", { json: { name: "prod", repo: `${VICTIM}/app` } });
  const deployHook = await callJson("POST", `/api/environments/${environment.body.id}/deploy-hooks`, {
    json: { name: "CI" },
  });
  const alaudaHook = await callJson("POST", "/v1/hooks", {
    json: {
      subject_type: "build_repo",
      subject: "default/victimapp",
      events: ["build:complete"],
      url: "https://receiver.example/alauda",
      secret: "alauda-secret",
    },
  });

  // OTHER's own resources, which its lists must still show.
  await callJson("POST", `/repos/${OTHER}/app/hooks`, { json: { config: { url: "https://receiver.example/other" } } });
  await callJson("POST", "/apps", { json: { name: "otherapp", space: "default", organization: OTHER } });
  await callJson("POST", "/api/environments", { json: { name: "prod", repo: `${OTHER}/app` } });
  await callJson("POST", "/v1/hooks", {
    json: {
      subject_type: "build_repo",
      subject: "default/otherapp",
      events: ["build:complete"],
      url: "https://x.example/o",
    },
  });

  fx = {
    hookId: hook.body.id,
    attemptId,
    deliveryId,
    sha,
    deploymentId: deployment.body.id,
    statusId: status.body.id,
    app: { id: app.body.id, name: app.body.name },
    buildId: build.id,
    envId: environment.body.id,
    deployHookId: deployHook.body.id,
    alaudaHookId: alaudaHook.body.id,
    tokenId,
  };
  for (const [key, value] of Object.entries(fx)) expect(value, key).toBeDefined();
});

describe("the route table", () => {
  it("covers every route the app serves: a row for each token route, the others exempt with a reason", () => {
    const registered = registeredRoutes();
    const listed = [...ROUTES.map((row) => row.route), ...Object.keys(EXEMPT), ...Object.keys(GUARDS)];
    expect(
      registered.filter((route) => !listed.includes(route)),
      "routes with no row in route-table.ts",
    ).toEqual([]);
    expect(
      listed.filter((route) => !registered.includes(route)),
      "rows for routes that do not exist",
    ).toEqual([]);
    expect(new Set(listed).size).toBe(listed.length);
  });
});

// Destructive requests go last in every pass: one that wrongly succeeds must not hide what
// the others would show, and the owner's own must run after everything that needs what it removes.
const named = (rows: RouteRow[]) =>
  [...rows].sort((a, b) => (a.last ?? 0) - (b.last ?? 0)).map((row) => [row.route, row] as const);
const writes = ROUTES.filter((row) => row.access !== "read");
const nonGet = (row: RouteRow) => !["GET", "HEAD"].includes(row.route.split(" ")[0] as string);

describe("without a valid token", () => {
  it.each(named(ROUTES))("%s answers 401 before reading a malformed body", async (_route, row) => {
    const req = row.request(fx);
    const before = await snapshot();
    for (const token of [null, "hr_forged", "not-a-token"]) {
      const { status, body } = nonGet(row)
        ? await send(req, token, { body: '{"config": ', headers: { "content-type": "application/json" } })
        : await send(req, token);
      expect(status, String(token)).toBe(401);
      expectShape(row.dialect, 401, body);
    }
    if (req.form) {
      const garbage = await send(req, null, {
        body: "hub.mode=nonsense",
        headers: { "content-type": "application/x-www-form-urlencoded" },
      });
      expect(garbage.status).toBe(401);
    }
    expect(await snapshot()).toBe(before);
  });
});

describe(`a write token limited to ${OTHER}`, () => {
  beforeEach(() => {
    fakeGitHub();
  });

  it.each(named(ROUTES))("%s: VICTIM's resource is answered as if it did not exist", async (_route, row) => {
    const outbound = interceptDeliveries();
    const before = await snapshot();
    const { status, body } = await send(row.request(fx), tokens.other);
    if (row.access === "admin") {
      expect(status).toBe(403);
      expectShape(row.dialect, 403, body);
    } else if (row.shows) {
      expect(status).toBe(200);
      expect(row.shows(fx, body), "the list shows another owner's resource").toBe(false);
      expect(body.length, "the list still shows the caller's own").toBeGreaterThan(0);
    } else if (row.counts) {
      expect(status).toBe(200);
      expect(row.counts(body), "the figures count another owner's deliveries").toBe(await deliveriesOf(OTHER));
    } else {
      expect(status).toBe(404);
      expectShape(row.dialect, 404, body);
    }
    if (row.route.startsWith("GET ")) {
      // HEAD runs every GET route without the body: it must be refused alike.
      expect((await call("HEAD", row.request(fx).path, { token: tokens.other })).status).toBe(status);
    }
    expect(await snapshot()).toBe(before);
    expect(outbound.calls.filter((c) => c.url.startsWith("https://api.github.com"))).toEqual([]);
    if (row.absent) {
      const missing = await send(row.absent(fx), tokens.other);
      expect(missing.status).toBe(404);
      expect(body, "differs from the answer for a resource that does not exist").toEqual(missing.body);
    }
  });
});

describe(`a read-only token limited to ${VICTIM}`, () => {
  it.each(named(writes))("%s is refused with 403 and changes nothing", async (_route, row) => {
    const before = await snapshot();
    const { status, body } = await send(row.request(fx), tokens.reader);
    expect(status).toBe(403);
    expectShape(row.dialect, 403, body);
    expect(await snapshot()).toBe(before);
  });

  it.each(named(ROUTES.filter((row) => row.access === "read")))("%s works", async (_route, row) => {
    const { status, body } = await send(row.request(fx), tokens.reader);
    expect(status).toBe(row.ok);
    if (row.shows) expect(row.shows(fx, body)).toBe(true);
    if (row.counts) expect(row.counts(body)).toBe(await deliveriesOf(VICTIM));
  });
});

describe(`${VICTIM}'s own write token (the admin for admin routes)`, () => {
  beforeEach(() => {
    fakeGitHub();
  });

  it.each(named(ROUTES))("%s works", async (_route, row) => {
    const { status, body } = await send(row.request(fx), row.access === "admin" ? undefined : tokens.owner);
    expect(status, JSON.stringify(body)).toBe(row.ok);
    if (row.shows) expect(row.shows(fx, body)).toBe(true);
  });
});

describe("routes authenticated by a secret or an HMAC", () => {
  it("take no token in place of it, not even the admin's", async () => {
    const body = JSON.stringify({ ref: "refs/heads/main", after: sha });
    const headers = { "content-type": "application/json", "x-github-event": "push" };
    expect((await call("POST", `/ingest/github/${OTHER}/app`, { body, headers })).status).toBe(404);
    await callJson("PUT", `/repos/${OTHER}/app/ingest`, { json: { secret: "other-ingest-secret" } });
    expect((await call("POST", `/ingest/github/${OTHER}/app`, { body, headers })).status).toBe(401);
    fakeGitHub();
    await callJson("POST", "/apps/otherapp-default/builds/auto", {
      json: { repo: `https://github.com/${OTHER}/app`, branch: "main", username: "o", token: "t" },
    });
    expect((await call("POST", "/apps/otherapp-default/builds/auto/github", { body, headers })).status).toBe(403);
    expect((await call("GET", "/api/deploy-hook/1/not-the-secret")).status).toBe(404);
  });
});

describe("client mistakes", () => {
  const oddValues = ["%E0%A4%A", "%", "0", "-1", "99999999999999999999", "1e3", "..", "%00", "x".repeat(300), "é"];
  const oddBodies = ['{"', "[]", "null", '"text"', "12", '{"config": 5, "events": "x", "state": [], "name": {}}'];

  /** The route's path with every parameter replaced by `value`. */
  const pathWith = (route: string, value: string) =>
    (route.split(" ")[1] as string).replace(/:[a-z_A-Z]+/g, () => value);

  it.each(named([...ROUTES.map((row) => row), ...Object.keys(EXEMPT).map((route) => ({ route }) as RouteRow)]))(
    "%s never answers a 5xx to odd paths or bodies",
    async (route) => {
      fakeGitHub();
      const method = route.split(" ")[0] as string;
      const real = ROUTES.find((row) => row.route === route)?.request(fx);
      const failures: string[] = [];
      const attempts: { path: string; body?: string }[] = oddValues.map((value) => ({ path: pathWith(route, value) }));
      if (!["GET", "HEAD"].includes(method)) {
        for (const body of oddBodies) attempts.push({ path: real?.path ?? pathWith(route, "1"), body });
      }
      for (const { path, body } of attempts) {
        const response = await call(method, path, {
          ...(body === undefined ? {} : { body, headers: { "content-type": "application/json" } }),
        });
        if (response.status >= 500) failures.push(`${method} ${path} ${body ?? ""} → ${response.status}`);
      }
      expect(failures).toEqual([]);
    },
  );
});
