// Runs in workerd with real D1 and Queues: deployments, deployment statuses and commit statuses.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { hmac, toHex, utf8 } from "../../src/relay/crypto";
import { call, callJson, createHook, eventually, interceptDeliveries, mintToken, ORIGIN } from "./helpers";

const repo = "/repos/octo/deploys";
const sha = (n: number) => n.toString(16).padStart(40, "a");

async function deploy(json: Record<string, unknown>, headers: Record<string, string> = {}, path = repo) {
  return callJson("POST", `${path}/deployments`, { json: { required_contexts: [], ...json }, headers });
}

async function commitStatus(commit: string, state: string, context?: string, path = repo) {
  return callJson("POST", `${path}/statuses/${commit}`, { json: { state, ...(context ? { context } : {}) } });
}

async function pushRef(ref: string, after: string, path = "octo/deploys") {
  const [owner, name] = path.split("/");
  await callJson("PUT", `/repos/${owner}/${name}/ingest`, { json: { secret: "ingest-secret" } });
  const body = JSON.stringify({ ref, after, deleted: false });
  const response = await callJson("POST", `/ingest/github/${owner}/${name}`, {
    token: null,
    body,
    headers: {
      "content-type": "application/json",
      "x-github-event": "push",
      "x-github-delivery": crypto.randomUUID(),
      "x-hub-signature-256": `sha256=${toHex(await hmac("ingest-secret", "SHA-256", utf8(body)))}`,
    },
  });
  expect(response.status).toBe(202);
}

/** Every item of a paged list, following each `rel="next"` Link as a client would. */
async function walkPages(path: string): Promise<any[]> {
  const items: any[] = [];
  let next: string | undefined = path;
  for (let pages = 0; next && pages < 50; pages++) {
    const page: { status: number; headers: Headers; body: any[] } = await callJson<any[]>("GET", next);
    expect(page.status).toBe(200);
    items.push(...page.body);
    const link: string | undefined = /<([^>]+)>; rel="next"/.exec(page.headers.get("link") ?? "")?.[1];
    next = link ? new URL(link).pathname + new URL(link).search : undefined;
  }
  return items;
}

describe("POST /deployments", () => {
  it("creates a deployment with GitHub's defaults and a Location", async () => {
    const { status, headers, body } = await deploy({ ref: sha(1) });
    expect(status).toBe(201);
    expect(headers.get("location")).toBe(`${ORIGIN}${repo}/deployments/${body.id}`);
    expect(body).toMatchObject({
      url: `${ORIGIN}${repo}/deployments/${body.id}`,
      sha: sha(1),
      ref: sha(1),
      task: "deploy",
      payload: "",
      environment: "production",
      original_environment: "production",
      description: "",
      creator: { login: "admin", type: "User" },
      statuses_url: `${ORIGIN}${repo}/deployments/${body.id}/statuses`,
      repository_url: `${ORIGIN}${repo}`,
      transient_environment: false,
      production_environment: true,
    });
  });

  it("takes payload as an object or a JSON string, and every other parameter", async () => {
    const asString = await deploy({ ref: sha(2), payload: '{"user":"atmos","room_id":123456}' });
    expect(asString.body.payload).toEqual({ user: "atmos", room_id: 123456 });
    const full = await deploy({
      ref: sha(2),
      task: "deploy:migrate",
      payload: { a: 1 },
      environment: "staging",
      description: "Deploying my sweet branch",
      transient_environment: true,
      auto_merge: false,
    });
    expect(full.body).toMatchObject({
      task: "deploy:migrate",
      payload: { a: 1 },
      environment: "staging",
      production_environment: false,
      transient_environment: true,
      description: "Deploying my sweet branch",
    });
    const explicit = await deploy({ ref: sha(2), environment: "prod-eu", production_environment: true });
    expect(explicit.body.production_environment).toBe(true);
  });

  it("resolves a branch or tag to the sha of the latest relayed push, and 422s refs it never saw", async () => {
    await pushRef("refs/heads/main", sha(10));
    await pushRef("refs/heads/main", sha(11));
    await pushRef("refs/tags/v1.0", sha(12));
    expect((await deploy({ ref: "main" })).body).toMatchObject({ ref: "main", sha: sha(11) });
    expect((await deploy({ ref: "v1.0" })).body.sha).toBe(sha(12));
    const unknown = await deploy({ ref: "feature/never-pushed" });
    expect(unknown.status).toBe(422);
    expect(unknown.body.message).toBe("No ref found for: feature/never-pushed");
  });

  it("checks every reported context when required_contexts is omitted, and answers GitHub's 409", async () => {
    await commitStatus(sha(20), "success", "ci/build");
    await commitStatus(sha(20), "pending", "ci/test");
    const { status, body } = await callJson("POST", `${repo}/deployments`, { json: { ref: sha(20) } });
    expect(status).toBe(409);
    expect(body).toEqual({
      message: `Conflict: Commit status checks failed for ${sha(20)}.`,
      errors: [
        {
          contexts: [{ context: "ci/test", state: "pending" }],
          resource: "Deployment",
          field: "required_contexts",
          code: "invalid",
        },
      ],
      documentation_url: expect.any(String),
    });
    await commitStatus(sha(20), "success", "ci/test");
    expect((await callJson("POST", `${repo}/deployments`, { json: { ref: sha(20) } })).status).toBe(201);
  });

  it("checks listed contexts, counting never-reported ones as missing; [] skips the check", async () => {
    await commitStatus(sha(21), "success", "ci/build");
    await commitStatus(sha(21), "failure", "ci/lint");
    const listed = await callJson("POST", `${repo}/deployments`, {
      json: { ref: sha(21), required_contexts: ["ci/build", "security/scan"] },
    });
    expect(listed.status).toBe(409);
    expect(listed.body.errors[0].contexts).toEqual([{ context: "security/scan", state: "missing" }]);
    const skipped = await callJson("POST", `${repo}/deployments`, { json: { ref: sha(21), required_contexts: [] } });
    expect(skipped.status).toBe(201);
    const onlyBuild = await callJson("POST", `${repo}/deployments`, {
      json: { ref: sha(21), required_contexts: ["ci/build"] },
    });
    expect(onlyBuild.status).toBe(201);
  });

  it("returns the original deployment for a repeated Idempotency-Key", async () => {
    const first = await deploy({ ref: sha(30) }, { "idempotency-key": "deploy-30" });
    const again = await deploy({ ref: sha(30) }, { "idempotency-key": "deploy-30" });
    expect(again.status).toBe(201);
    expect(again.body.id).toBe(first.body.id);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    const other = await deploy({ ref: sha(30) }, { "idempotency-key": "deploy-31" });
    expect(other.body.id).not.toBe(first.body.id);
    const count = await env.DB.prepare("SELECT count(*) AS n FROM deployments WHERE sha = ?").bind(sha(30)).first();
    expect(count).toEqual({ n: 2 });
  });

  it("makes a new deployment for a key whose deployment was deleted, and replays that one after", async () => {
    const keyRepo = "/repos/octo/rekeyed";
    const first = await deploy({ ref: sha(32) }, { "idempotency-key": "k" }, keyRepo);
    expect(first.status).toBe(201);
    expect((await call("DELETE", `${keyRepo}/deployments/${first.body.id}`)).status).toBe(204);
    const second = await deploy({ ref: sha(32) }, { "idempotency-key": "k" }, keyRepo);
    expect(second.status).toBe(201);
    expect(second.body.id).not.toBe(first.body.id);
    expect(second.headers.get("idempotent-replayed")).toBeNull();
    const third = await deploy({ ref: sha(32) }, { "idempotency-key": "k" }, keyRepo);
    expect(third.status).toBe(201);
    expect(third.body.id).toBe(second.body.id);
    expect(third.headers.get("idempotent-replayed")).toBe("true");
  });

  it("replaces a stale key whose deployment is gone, however it went", async () => {
    const keyRepo = "/repos/octo/stale-key";
    const first = await deploy({ ref: sha(33) }, { "idempotency-key": "gone" }, keyRepo);
    // A deployment removed without its key (as before keys were removed with their deployment).
    await env.DB.prepare("DELETE FROM deployments WHERE id = ?").bind(first.body.id).run();
    const again = await deploy({ ref: sha(33) }, { "idempotency-key": "gone" }, keyRepo);
    expect(again.status).toBe(201);
    expect(again.body.id).not.toBe(first.body.id);
    const keys = await env.DB.prepare("SELECT resource_id FROM idempotency_keys WHERE key = 'gone'").all();
    expect(keys.results).toEqual([{ resource_id: again.body.id }]);
  });

  it.each([
    [{}, "ref", "missing_field"],
    [{ ref: "" }, "ref", "invalid"],
    [{ ref: "x", payload: 5 }, "payload", "invalid"],
    [{ ref: "x", required_contexts: "ci" }, "required_contexts", "invalid"],
    [{ ref: "x", transient_environment: "no" }, "transient_environment", "invalid"],
  ])("answers 422 naming the field for %j", async (json, field, code) => {
    const { status, body } = await callJson("POST", `${repo}/deployments`, { json });
    expect(status).toBe(422);
    expect(body.errors).toContainEqual(expect.objectContaining({ field, code }));
  });

  it("honours the cannonball preview media type, and works without it", async () => {
    const preview = await call("GET", `${repo}/deployments`, {
      headers: { accept: "application/vnd.socialgateway.cannonball-preview+json" },
    });
    expect(preview.status).toBe(200);
    expect(preview.headers.get("x-github-media-type")).toBe("socialgateway.cannonball-preview; format=json");
    expect((await call("GET", `${repo}/deployments`)).headers.get("x-github-media-type")).toBe(
      "github.v3; format=json",
    );
  });

  it("needs write rights to create, read rights to list", async () => {
    const reader = await mintToken({ login: "reader" });
    expect((await call("GET", `${repo}/deployments`, { token: reader })).status).toBe(200);
    expect((await call("POST", `${repo}/deployments`, { token: reader, json: { ref: sha(1) } })).status).toBe(403);
    expect((await call("POST", `${repo}/deployments`, { token: null, json: { ref: sha(1) } })).status).toBe(401);
  });
});

describe("GET /deployments", () => {
  const listRepo = "/repos/octo/listing";

  it("filters by sha, ref, task and environment", async () => {
    await deploy({ ref: sha(40), task: "deploy", environment: "qa" }, {}, listRepo);
    await deploy({ ref: sha(41), task: "deploy:migrate", environment: "qa" }, {}, listRepo);
    await deploy({ ref: sha(41), task: "deploy", environment: "production" }, {}, listRepo);
    const list = async (query: string) =>
      (await callJson<any[]>("GET", `${listRepo}/deployments?${query}`)).body.map(
        (d) => `${d.sha.slice(-2)}:${d.task}:${d.environment}`,
      );
    expect(await list(`sha=${sha(41)}`)).toEqual(["29:deploy:production", "29:deploy:migrate:qa"]);
    expect(await list(`ref=${sha(40)}`)).toEqual(["28:deploy:qa"]);
    expect(await list("task=deploy:migrate")).toEqual(["29:deploy:migrate:qa"]);
    expect(await list("environment=qa&task=deploy")).toEqual(["28:deploy:qa"]);
    expect(await list("environment=nowhere")).toEqual([]);
  });

  it("keeps every filter when a Link header leads to the next pages", async () => {
    const filterRepo = "/repos/octo/filtered-pages";
    for (let i = 0; i < 6; i++) {
      await deploy({ ref: sha(140 + (i % 2)), environment: i % 3 === 0 ? "qa" : "production" }, {}, filterRepo);
    }
    for (const query of ["environment=qa", `sha=${sha(141)}`, `environment=production&sha=${sha(140)}`]) {
      const all = (await callJson<any[]>("GET", `${filterRepo}/deployments?${query}&per_page=100`)).body;
      expect(all.length, query).toBeGreaterThan(1);
      const walked = await walkPages(`${filterRepo}/deployments?${query}&per_page=1`);
      expect(
        walked.map((d) => d.id),
        query,
      ).toEqual(all.map((d) => d.id));
    }
    const { body: deployment } = await deploy({ ref: sha(142) }, {}, filterRepo);
    for (const state of ["queued", "in_progress", "success"]) {
      await callJson("POST", `${filterRepo}/deployments/${deployment.id}/statuses`, { json: { state } });
    }
    const statuses = await walkPages(`${filterRepo}/deployments/${deployment.id}/statuses?per_page=1`);
    expect(statuses.map((s) => s.state)).toEqual(["success", "in_progress", "queued"]);
  });

  it("pages newest first with Link headers; per_page over 100 is clamped", async () => {
    const pageRepo = "/repos/octo/paging";
    for (let i = 0; i < 5; i++) await deploy({ ref: sha(50 + i) }, {}, pageRepo);
    const first = await callJson<any[]>("GET", `${pageRepo}/deployments?per_page=2`);
    expect(first.body.map((d) => d.sha)).toEqual([sha(54), sha(53)]);
    expect(first.headers.get("link")).toContain('rel="next"');
    expect(first.headers.get("link")).toContain("page=3");
    const last = await callJson<any[]>("GET", `${pageRepo}/deployments?per_page=2&page=3`);
    expect(last.body.map((d) => d.sha)).toEqual([sha(50)]);
    expect(last.headers.get("link")).not.toContain('rel="next"');
    const all = await callJson<any[]>("GET", `${pageRepo}/deployments?per_page=1000`);
    expect(all.body).toHaveLength(5);
  });
});

describe("GET and DELETE /deployments/:id", () => {
  it("gets one, 404s unknown or foreign ids", async () => {
    const { body } = await deploy({ ref: sha(60) });
    expect((await callJson("GET", `${repo}/deployments/${body.id}`)).body.id).toBe(body.id);
    expect((await call("GET", `${repo}/deployments/987654`)).status).toBe(404);
    expect((await call("GET", `/repos/octo/elsewhere/deployments/${body.id}`)).status).toBe(404);
  });

  it("deletes an inactive deployment, refuses an active one with 422, and always the only one", async () => {
    const delRepo = "/repos/octo/deleting";
    const only = await deploy({ ref: sha(70) }, {}, delRepo);
    await callJson("POST", `${delRepo}/deployments/${only.body.id}/statuses`, { json: { state: "success" } });
    expect((await call("DELETE", `${delRepo}/deployments/${only.body.id}`)).status).toBe(204);

    const active = await deploy({ ref: sha(71) }, {}, delRepo);
    const other = await deploy({ ref: sha(72) }, {}, delRepo);
    await callJson("POST", `${delRepo}/deployments/${active.body.id}/statuses`, {
      json: { state: "success", auto_inactive: false },
    });
    const refused = await callJson("DELETE", `${delRepo}/deployments/${active.body.id}`);
    expect(refused.status).toBe(422);
    expect(refused.body.message).toMatch(/cannot delete an active deployment/);
    await callJson("POST", `${delRepo}/deployments/${active.body.id}/statuses`, { json: { state: "inactive" } });
    expect((await call("DELETE", `${delRepo}/deployments/${active.body.id}`)).status).toBe(204);
    expect((await call("GET", `${delRepo}/deployments/${active.body.id}`)).status).toBe(404);
    expect((await call("DELETE", `${delRepo}/deployments/${active.body.id}`)).status).toBe(404);
    expect((await call("DELETE", `${delRepo}/deployments/${other.body.id}`)).status).toBe(204);
  });
});

describe("deployment statuses", () => {
  it("creates each state, with log_url setting target_url and environment_url stored", async () => {
    const { body: deployment } = await deploy({ ref: sha(80), environment: "qa" });
    for (const state of ["queued", "in_progress", "pending", "error", "failure", "inactive", "success"]) {
      const { status, body } = await callJson("POST", `${repo}/deployments/${deployment.id}/statuses`, {
        json: { state, log_url: "https://ci.example.com/log/1", environment_url: "https://qa.example.com" },
      });
      expect(status).toBe(201);
      expect(body).toMatchObject({
        state,
        target_url: "https://ci.example.com/log/1",
        log_url: "https://ci.example.com/log/1",
        environment_url: "https://qa.example.com",
        environment: "qa",
        deployment_url: `${ORIGIN}${repo}/deployments/${deployment.id}`,
        creator: { login: "admin" },
      });
    }
    const list = await callJson<any[]>("GET", `${repo}/deployments/${deployment.id}/statuses?per_page=3`);
    expect(list.body.map((s) => s.state)).toEqual(["success", "inactive", "failure"]);
    expect(list.headers.get("link")).toContain('rel="next"');
    const one = await callJson("GET", `${repo}/deployments/${deployment.id}/statuses/${list.body[0].id}`);
    expect(one.body.id).toBe(list.body[0].id);
  });

  it("answers 422 to a bad state or a description over 140 characters, and 404 to unknown ids", async () => {
    const { body: deployment } = await deploy({ ref: sha(81) });
    const path = `${repo}/deployments/${deployment.id}/statuses`;
    const bad = await callJson("POST", path, { json: { state: "done" } });
    expect(bad.status).toBe(422);
    expect(bad.body.errors[0]).toMatchObject({ field: "state", code: "invalid" });
    const long = await callJson("POST", path, { json: { state: "success", description: "x".repeat(141) } });
    expect(long.status).toBe(422);
    expect(long.body.errors[0]).toMatchObject({ field: "description" });
    expect((await callJson("POST", path, { json: { state: "success", description: "x".repeat(140) } })).status).toBe(
      201,
    );
    expect((await call("POST", `${repo}/deployments/999999/statuses`, { json: { state: "success" } })).status).toBe(
      404,
    );
    expect((await call("GET", `${repo}/deployments/999999/statuses`)).status).toBe(404);
    expect((await call("GET", `${path}/999999`)).status).toBe(404);
  });

  it("marks earlier successful deployments of the environment inactive on success (auto_inactive)", async () => {
    const autoRepo = "/repos/octo/auto-inactive";
    const older = await deploy({ ref: sha(90), environment: "web" }, {}, autoRepo);
    const otherEnv = await deploy({ ref: sha(91), environment: "worker" }, {}, autoRepo);
    const newer = await deploy({ ref: sha(92), environment: "web" }, {}, autoRepo);
    for (const d of [older, otherEnv]) {
      await callJson("POST", `${autoRepo}/deployments/${d.body.id}/statuses`, { json: { state: "success" } });
    }
    await callJson("POST", `${autoRepo}/deployments/${newer.body.id}/statuses`, { json: { state: "success" } });
    const latest = async (id: number) =>
      (await callJson<any[]>("GET", `${autoRepo}/deployments/${id}/statuses`)).body[0].state;
    expect(await latest(older.body.id)).toBe("inactive");
    expect(await latest(otherEnv.body.id)).toBe("success");
    expect(await latest(newer.body.id)).toBe("success");

    const kept = await deploy({ ref: sha(93), environment: "web" }, {}, autoRepo);
    await callJson("POST", `${autoRepo}/deployments/${kept.body.id}/statuses`, {
      json: { state: "success", auto_inactive: false },
    });
    expect(await latest(newer.body.id)).toBe("success");
  });
});

describe("commit statuses", () => {
  it("records a status with the default context and lists them newest first", async () => {
    const created = await commitStatus(sha(100), "pending");
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ state: "pending", context: "default", creator: { login: "admin" } });
    await commitStatus(sha(100), "success", "ci/build");
    const list = await callJson<any[]>("GET", `${repo}/commits/${sha(100)}/statuses`);
    expect(list.body.map((s) => `${s.context}:${s.state}`)).toEqual(["ci/build:success", "default:pending"]);
  });

  it("combines the latest status of each context", async () => {
    const combined = async (ref: string) => (await callJson("GET", `${repo}/commits/${ref}/status`)).body;
    expect(await combined(sha(110))).toMatchObject({ state: "pending", total_count: 0, statuses: [] });
    await commitStatus(sha(110), "failure", "ci/a");
    expect((await combined(sha(110))).state).toBe("failure");
    await commitStatus(sha(110), "success", "ci/a");
    await commitStatus(sha(110), "pending", "ci/b");
    expect((await combined(sha(110))).state).toBe("pending");
    await commitStatus(sha(110), "success", "ci/b");
    const done = await combined(sha(110));
    expect(done).toMatchObject({ state: "success", sha: sha(110), total_count: 2 });
    expect(done.repository.full_name).toBe("octo/deploys");
    await commitStatus(sha(110), "error", "ci/c");
    expect((await combined(sha(110))).state).toBe("failure");
  });

  it("pages the statuses of a ref through its Link header", async () => {
    for (const context of ["a", "b", "c"]) await commitStatus(sha(150), "success", `ci/${context}`);
    const walked = await walkPages(`${repo}/commits/${sha(150)}/statuses?per_page=2`);
    expect(walked.map((s) => s.context)).toEqual(["ci/c", "ci/b", "ci/a"]);
  });

  it("answers 404, never 500, to a ref that is not even a valid escape", async () => {
    for (const ref of ["%E0%A4%A", "%", "%zz"]) {
      const combined = await callJson("GET", `${repo}/commits/${ref}/status`);
      expect(combined.status, ref).toBe(404);
      expect(combined.body.message).toMatch(/No commit found/);
      expect((await call("GET", `${repo}/commits/${ref}/statuses`)).status, ref).toBe(404);
    }
  });

  it("resolves branch names, 404s unknown refs, and 422s bad input", async () => {
    await pushRef("refs/heads/release", sha(120));
    await commitStatus(sha(120), "success", "ci");
    expect((await callJson("GET", `${repo}/commits/release/status`)).body.state).toBe("success");
    expect((await call("GET", `${repo}/commits/nope/statuses`)).status).toBe(404);
    expect((await commitStatus("abc123", "success")).status).toBe(422);
    expect((await commitStatus(sha(121), "done")).status).toBe(422);
  });
});

describe("events", () => {
  it("publishes deployment, deployment_status and status to the repository's hooks, in GitHub's shape", async () => {
    const eventsRepo = "/repos/octo/eventful";
    const receiver = interceptDeliveries();
    const url = "https://example.com/deploy-events";
    await createHook(eventsRepo, { url }, { events: ["deployment", "deployment_status", "status"] });
    const { body: deployment } = await deploy({ ref: sha(130), payload: { app: "web" } }, {}, eventsRepo);
    await callJson("POST", `${eventsRepo}/deployments/${deployment.id}/statuses`, { json: { state: "success" } });
    await commitStatus(sha(130), "success", "ci", eventsRepo);
    await eventually(() => expect(receiver.to(url)).toHaveLength(4));
    const byEvent = Object.fromEntries(
      receiver.to(url).map((c) => [c.headers["x-github-event"], JSON.parse(c.body) as Record<string, any>]),
    );
    expect(byEvent.deployment).toMatchObject({
      action: "created",
      deployment: { id: deployment.id, sha: sha(130), payload: { app: "web" } },
      repository: { full_name: "octo/eventful" },
      sender: { login: "admin" },
    });
    expect(byEvent.deployment_status).toMatchObject({
      action: "created",
      deployment_status: { state: "success" },
      deployment: { id: deployment.id },
    });
    expect(byEvent.status).toMatchObject({ sha: sha(130), state: "success", context: "ci" });
  });
});
