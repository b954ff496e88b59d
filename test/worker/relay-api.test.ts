// Runs in workerd: the operator API under /relay/, as /work/notes/relay-api.md sets it out.
// Subscriptions of every dialect with their health, enable, recover, the delivery log with
// redelivery, stats; owner scope and read-only tokens on every route.
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { captureQueue, consumeBatch, deliveryState, pushes } from "./health-helpers";
import { call, callJson, createHook, interceptDeliveries, mintToken } from "./helpers";

const hourAgo = () => new Date(Date.now() - 3_600_000).toISOString();

/** Drives deliveries until they have used up the retry schedule (1,1 in the tests): failed. */
async function failAll(ids: number[]) {
  for (let round = 0; round < 3; round++) {
    await consumeBatch(ids);
    await env.DB.prepare("UPDATE deliveries SET next_attempt_at = 0 WHERE id IN (SELECT value FROM json_each(?))")
      .bind(JSON.stringify(ids))
      .run();
  }
  for (const id of ids) expect((await deliveryState(id))?.state).toBe("failed");
}

/** A GitHub hook with the queue captured and its ping dropped. */
async function quietHook(repo: string, url: string, config: Record<string, unknown> = {}) {
  const queue = captureQueue();
  const hook = await createHook(`/repos/${repo}`, { url, ...config }, { events: ["push"] });
  await env.DB.prepare("DELETE FROM deliveries WHERE subscription_id = ?").bind(hook.id).run();
  queue.clear();
  return { hook, queue };
}

describe("GET /relay/subscriptions", () => {
  it("lists every dialect's subscriptions in the contract's shape, masking secrets and URL passwords", async () => {
    const { hook } = await quietHook("octo/listed", "https://ci:hunter2@example.com/hook", { secret: "s3cret" });
    const alauda = await callJson("POST", "/v1/hooks", {
      json: { subject_type: "job", subject: "9", events: ["job:fail"], url: "https://example.com/job" },
    });
    const list = await callJson<any[]>("GET", "/relay/subscriptions?per_page=100");
    expect(list.status).toBe(200);
    const github = list.body.find((s) => s.id === hook.id);
    expect(github).toEqual({
      id: hook.id,
      dialect: "github",
      subject_type: "repository",
      subject: "octo/listed",
      url: "https://ci:********@example.com/hook",
      events: ["push"],
      content_type: "json",
      secret: "********",
      active: true,
      disabled_reason: null,
      health: {
        state: "healthy",
        circuit: "closed",
        consecutive_failures: 0,
        failing_since: null,
        last_attempt_at: null,
        last_status_code: null,
        last_status: null,
      },
      created_at: expect.any(String),
      updated_at: expect.any(String),
    });
    expect(JSON.stringify(list.body)).not.toContain("hunter2");
    expect(JSON.stringify(list.body)).not.toContain("s3cret");
    expect(list.body.find((s) => s.id === alauda.body.id)).toMatchObject({
      dialect: "alauda",
      subject_type: "job",
      secret: null,
    });
    const one = await callJson("GET", `/relay/subscriptions/${hook.id}`);
    expect(one.body).toEqual(github);
    expect((await callJson("GET", "/relay/subscriptions/999999")).status).toBe(404);
  });

  it("filters by dialect, active and health, and keeps the filters in the Link header", async () => {
    for (const n of [1, 2, 3]) await quietHook("octo/filtered", `https://example.com/filtered/${n}`);
    const { hook: off } = await quietHook("octo/filtered", "https://example.com/filtered/off");
    await call("PATCH", `/repos/octo/filtered/hooks/${off.id}`, { json: { active: false } });
    const { hook: failing } = await quietHook("octo/filtered", "https://example.com/filtered/failing");
    await env.DB.prepare("UPDATE subscriptions SET consecutive_failures = 2 WHERE id = ?").bind(failing.id).run();

    const alaudaOnly = await callJson<any[]>("GET", "/relay/subscriptions?dialect=alauda&per_page=100");
    expect(alaudaOnly.body.every((s) => s.dialect === "alauda")).toBe(true);
    const inactive = await callJson<any[]>("GET", "/relay/subscriptions?active=false&per_page=100");
    expect(inactive.body.map((s) => s.id)).toContain(off.id);
    expect(inactive.body.every((s) => s.active === false)).toBe(true);
    const disabled = await callJson<any[]>("GET", "/relay/subscriptions?health=disabled&per_page=100");
    expect(disabled.body.map((s) => s.id)).toEqual(inactive.body.map((s) => s.id));
    const failingList = await callJson<any[]>("GET", "/relay/subscriptions?health=failing&per_page=100");
    expect(failingList.body.map((s) => s.id)).toEqual([failing.id]);
    const healthy = await callJson<any[]>("GET", "/relay/subscriptions?health=healthy&per_page=100");
    expect(healthy.body.map((s) => s.id)).not.toContain(failing.id);
    expect(healthy.body.map((s) => s.id)).not.toContain(off.id);

    const page = await callJson<any[]>("GET", "/relay/subscriptions?dialect=github&active=true&per_page=2");
    expect(page.body).toHaveLength(2);
    const link = page.headers.get("link") ?? "";
    const next = /<([^>]+)>; rel="next"/.exec(link)?.[1] ?? "";
    expect(new URL(next).searchParams.get("dialect")).toBe("github");
    expect(new URL(next).searchParams.get("active")).toBe("true");
    expect(link).toContain('rel="last"');
    const second = await callJson<any[]>("GET", new URL(next).pathname + new URL(next).search);
    expect(second.body[0].id).not.toBe(page.body[0].id);
    expect(second.headers.get("link")).toContain('rel="prev"');

    expect((await callJson("GET", "/relay/subscriptions?health=sad")).status).toBe(422);
  });
});

describe("POST /relay/subscriptions/:id/recover", () => {
  it("sends every failed delivery of the window again, once, with its original guid; a second recover sends nothing", async () => {
    let status = 500;
    const receiver = interceptDeliveries(() => new Response("", { status }));
    const url = "https://example.com/recovered";
    const { hook, queue } = await quietHook("octo/recover", url);
    // Three deliveries failing three times each: nine failures in a row, below the breaker's ten.
    const ids = await pushes("octo/recover", hook.id, 3);
    await failAll(ids);
    // One failed long before the window.
    const [early, ...recent] = ids as [number, ...number[]];
    await env.DB.prepare("UPDATE deliveries SET created_at = '2020-01-01T00:00:00Z' WHERE id = ?").bind(early).run();
    const guids = new Map<number, string>();
    for (const id of ids) guids.set(id, (await deliveryState(id))?.guid as string);

    status = 200;
    queue.clear();
    const recovered = await callJson("POST", `/relay/subscriptions/${hook.id}/recover`, { json: { since: hourAgo() } });
    expect(recovered.status).toBe(202);
    expect(recovered.body).toEqual({ deliveries: recent.length });
    expect(queue.ids().sort()).toEqual([...recent].sort());

    // A second recover while they are pending sends none of them again.
    const again = await callJson("POST", `/relay/subscriptions/${hook.id}/recover`, { json: { since: hourAgo() } });
    expect(again.body).toEqual({ deliveries: 0 });
    expect(queue.ids()).toHaveLength(recent.length);

    const before = receiver.to(url).length;
    await consumeBatch(queue.ids());
    const arrived = receiver.to(url).slice(before);
    expect(arrived.map((c) => c.headers["x-github-delivery"]).sort()).toEqual(recent.map((id) => guids.get(id)).sort());
    expect(arrived.map((c) => c.headers["webhook-id"]).sort()).toEqual(recent.map((id) => guids.get(id)).sort());
    for (const id of recent) expect(await deliveryState(id)).toMatchObject({ state: "succeeded", attempts: 4 });
    expect(await deliveryState(early)).toMatchObject({ state: "failed" });

    // The attempt log keeps every attempt, numbered on.
    const detail = await callJson("GET", `/relay/deliveries/${recent[0]}`);
    expect(detail.body.attempt_log.map((a: { attempt: number }) => a.attempt)).toEqual([1, 2, 3, 4]);
  });

  it("starts the retry schedule afresh", async () => {
    interceptDeliveries(() => new Response("", { status: 502 }));
    const { hook, queue } = await quietHook("octo/afresh", "https://example.com/afresh");
    const [id] = (await pushes("octo/afresh", hook.id, 1)) as [number];
    await failAll([id]);
    queue.clear();
    await callJson("POST", `/relay/subscriptions/${hook.id}/recover`, { json: { since: hourAgo() } });
    // Three attempts used up the schedule before; after recovering, a failure is retried again.
    const [fate] = await consumeBatch([id]);
    expect(fate?.retry).toHaveBeenCalledWith({ delaySeconds: 1 });
    expect(await deliveryState(id)).toMatchObject({ state: "pending", attempts: 4 });
  });

  it("refuses an inactive subscription with 422 saying to enable it first, and a bad window", async () => {
    const { hook } = await quietHook("octo/recover-off", "https://example.com/off");
    await call("PATCH", `/repos/octo/recover-off/hooks/${hook.id}`, { json: { active: false } });
    const refused = await callJson("POST", `/relay/subscriptions/${hook.id}/recover`, { json: { since: hourAgo() } });
    expect(refused.status).toBe(422);
    expect(JSON.stringify(refused.body)).toContain("Enable the subscription first");
    expect(refused.body.documentation_url).toEqual(expect.any(String));
    await callJson("POST", `/relay/subscriptions/${hook.id}/enable`);
    expect((await callJson("POST", `/relay/subscriptions/${hook.id}/recover`, { json: {} })).status).toBe(422);
    expect(
      (await callJson("POST", `/relay/subscriptions/${hook.id}/recover`, { json: { since: "yesterday-ish" } })).status,
    ).toBe(422);
    const backwards = await callJson("POST", `/relay/subscriptions/${hook.id}/recover`, {
      json: { since: hourAgo(), until: "2020-01-01T00:00:00Z" },
    });
    expect(backwards.status).toBe(422);
  });
});

describe("the delivery log", () => {
  it("lists deliveries newest first, filtered, with the filters kept in the Link header", async () => {
    let status = 200;
    interceptDeliveries(() => new Response("", { status }));
    const { hook } = await quietHook("octo/log", "https://example.com/log");
    const ids = await pushes("octo/log", hook.id, 3);
    await consumeBatch([ids[0] as number]);
    status = 500;
    await consumeBatch([ids[1] as number]);

    const all = await callJson<any[]>("GET", `/relay/deliveries?subscription_id=${hook.id}`);
    expect(all.body.map((d) => d.id)).toEqual([...ids].reverse());
    expect(all.body[2]).toEqual({
      id: ids[0],
      guid: expect.any(String),
      subscription_id: hook.id,
      event: "push",
      state: "succeeded",
      attempts: 1,
      next_attempt_at: null,
      failure_reason: null,
      created_at: expect.any(String),
      completed_at: expect.any(String),
    });
    expect(all.body[1]).toMatchObject({ state: "pending", attempts: 1, next_attempt_at: expect.any(String) });

    const succeeded = await callJson<any[]>("GET", `/relay/deliveries?subscription_id=${hook.id}&state=succeeded`);
    expect(succeeded.body.map((d) => d.id)).toEqual([ids[0]]);
    const byEvent = await callJson<any[]>("GET", `/relay/deliveries?subscription_id=${hook.id}&event=ping`);
    expect(byEvent.body).toEqual([]);
    const future = new Date(Date.now() + 3_600_000).toISOString();
    const since = await callJson<any[]>("GET", `/relay/deliveries?subscription_id=${hook.id}&since=${future}`);
    expect(since.body).toEqual([]);
    const until = await callJson<any[]>(
      "GET",
      `/relay/deliveries?subscription_id=${hook.id}&until=${future}&since=${hourAgo()}`,
    );
    expect(until.body).toHaveLength(3);

    const page = await callJson<any[]>("GET", `/relay/deliveries?subscription_id=${hook.id}&per_page=1`);
    expect(page.body.map((d) => d.id)).toEqual([ids[2]]);
    const next = /<([^>]+)>; rel="next"/.exec(page.headers.get("link") ?? "")?.[1] ?? "";
    expect(new URL(next).searchParams.get("subscription_id")).toBe(String(hook.id));
    expect((await callJson("GET", "/relay/deliveries?state=lost")).status).toBe(422);
  });

  it("shows one delivery with its payload, masked URL and every attempt, oldest first", async () => {
    let status = 500;
    interceptDeliveries(() => new Response(status === 200 ? "thanks" : "broken", { status }));
    const { hook } = await quietHook("octo/detail", "https://u:pw@example.com/detail", { secret: "k" });
    const [id] = (await pushes("octo/detail", hook.id, 1)) as [number];
    await consumeBatch([id]);
    status = 200;
    await env.DB.prepare("UPDATE deliveries SET next_attempt_at = 0 WHERE id = ?").bind(id).run();
    await consumeBatch([id]);
    const detail = await callJson("GET", `/relay/deliveries/${id}`);
    expect(detail.body).toMatchObject({
      id,
      state: "succeeded",
      attempts: 2,
      url: "https://u:********@example.com/detail",
      payload: JSON.stringify({ ref: "refs/heads/main", n: 0 }),
    });
    expect(detail.body.attempt_log).toEqual([
      {
        attempt: 1,
        delivered_at: expect.any(String),
        duration_ms: expect.any(Number),
        succeeded: false,
        status_code: 500,
        status: "Invalid HTTP Response: 500",
        request_headers: expect.objectContaining({ "x-github-delivery": detail.body.guid }),
        response_headers: expect.any(Object),
        response_body: "broken",
      },
      expect.objectContaining({ attempt: 2, succeeded: true, status_code: 200, response_body: "thanks" }),
    ]);
    expect(JSON.stringify(detail.body)).not.toContain(":pw@");
    expect((await callJson("GET", "/relay/deliveries/999999")).status).toBe(404);
  });

  it("redelivers in place: same id and guid, back to pending, sent again", async () => {
    const receiver = interceptDeliveries(() => new Response("ok"));
    const url = "https://example.com/redeliver";
    const { hook, queue } = await quietHook("octo/redeliver", url);
    const [id] = (await pushes("octo/redeliver", hook.id, 1)) as [number];
    await consumeBatch([id]);
    queue.clear();
    const redelivered = await callJson("POST", `/relay/deliveries/${id}/redeliver`);
    expect(redelivered.status).toBe(202);
    expect(redelivered.body).toMatchObject({ id, state: "pending", attempts: 1, completed_at: null });
    expect(queue.ids()).toEqual([id]);
    await consumeBatch([id]);
    const [first, second] = receiver.to(url);
    expect(second?.headers["x-github-delivery"]).toBe(first?.headers["x-github-delivery"]);
    expect(await deliveryState(id)).toMatchObject({ state: "succeeded", attempts: 2 });
  });
});

describe("GET /relay/stats", () => {
  it("counts deliveries by state, events, the database's size, retention, and attempts per hour", async () => {
    let status = 200;
    interceptDeliveries(() => new Response("", { status }));
    const { hook } = await quietHook("octo/stats", "https://example.com/stats");
    const ids = await pushes("octo/stats", hook.id, 3);
    await consumeBatch([ids[0] as number]);
    status = 500;
    await consumeBatch([ids[1] as number]);
    const { body } = await callJson("GET", "/relay/stats");
    const counted = await env.DB.prepare(
      "SELECT sum(state = 'pending') AS pending, sum(state = 'succeeded') AS succeeded, sum(state = 'failed') AS failed FROM deliveries",
    ).first();
    expect(body.deliveries).toEqual(counted);
    const events = await env.DB.prepare("SELECT count(*) AS n, min(created_at) AS oldest FROM events").first<{
      n: number;
      oldest: string;
    }>();
    expect(body.events).toBe(events?.n);
    expect(body.oldest_event_at).toBe(events?.oldest);
    expect(body.storage_bytes).toBeGreaterThan(0);
    expect(body.retention_days).toEqual(expect.any(Number));
    expect(body.hourly).toHaveLength(24);
    const hours = body.hourly.map((h: { hour: string }) => Date.parse(h.hour));
    expect([...hours].sort((a, b) => a - b)).toEqual(hours);
    const attempts = await env.DB.prepare(
      "SELECT sum(succeeded) AS succeeded, sum(1 - succeeded) AS failed FROM delivery_attempts",
    ).first<{ succeeded: number; failed: number }>();
    const sum = (key: "succeeded" | "failed") =>
      body.hourly.reduce((total: number, h: Record<string, number>) => total + (h[key] ?? 0), 0);
    expect({ succeeded: sum("succeeded"), failed: sum("failed") }).toEqual(attempts);
  });
});

describe("owner scope and read-only tokens on every /relay/ route", () => {
  let scoped: string;
  let reader: string;
  let mine: { hook: { id: number }; delivery: number };
  let theirs: { hook: { id: number }; delivery: number };

  beforeAll(async () => {
    interceptDeliveries(() => new Response("", { status: 500 }));
    scoped = await mintToken({ login: "scoped", write: true, owners: ["mine-org"] });
    reader = await mintToken({ login: "reader", owners: ["mine-org"] });
    const a = await quietHook("mine-org/app", "https://example.com/mine");
    const b = await quietHook("their-org/app", "https://example.com/theirs");
    const [d1] = (await pushes("mine-org/app", a.hook.id, 1)) as [number];
    const [d2] = (await pushes("their-org/app", b.hook.id, 1)) as [number];
    await failAll([d1, d2]);
    mine = { hook: a.hook, delivery: d1 };
    theirs = { hook: b.hook, delivery: d2 };
  });

  it("answers 401 without a token, before anything else", async () => {
    const routes: [string, string][] = [
      ["GET", "/relay/subscriptions"],
      ["GET", "/relay/subscriptions/1"],
      ["POST", "/relay/subscriptions/1/enable"],
      ["POST", "/relay/subscriptions/1/recover"],
      ["GET", "/relay/deliveries"],
      ["GET", "/relay/deliveries/1"],
      ["POST", "/relay/deliveries/1/redeliver"],
      ["GET", "/relay/stats"],
    ];
    for (const [method, path] of routes) {
      const response = await callJson(method, path, { token: null });
      expect(response.status, `${method} ${path}`).toBe(401);
      expect(response.body).toMatchObject({ message: "Requires authentication" });
    }
  });

  it("a scoped token sees only its owners' subscriptions and deliveries; others are 404 and left out", async () => {
    const subs = await callJson<any[]>("GET", "/relay/subscriptions?per_page=100", { token: scoped });
    expect(subs.body.map((s) => s.id)).toContain(mine.hook.id);
    expect(subs.body.map((s) => s.id)).not.toContain(theirs.hook.id);
    expect(subs.body.every((s) => s.subject.startsWith("mine-org/"))).toBe(true);
    const deliveries = await callJson<any[]>("GET", "/relay/deliveries?per_page=100", { token: scoped });
    expect(deliveries.body.map((d) => d.id)).toContain(mine.delivery);
    expect(deliveries.body.map((d) => d.id)).not.toContain(theirs.delivery);
    const filtered = await callJson<any[]>("GET", `/relay/deliveries?subscription_id=${theirs.hook.id}`, {
      token: scoped,
    });
    expect(filtered.body).toEqual([]);

    const hidden: [string, string, unknown?][] = [
      ["GET", `/relay/subscriptions/${theirs.hook.id}`],
      ["POST", `/relay/subscriptions/${theirs.hook.id}/enable`],
      ["POST", `/relay/subscriptions/${theirs.hook.id}/recover`, { since: hourAgo() }],
      ["GET", `/relay/deliveries/${theirs.delivery}`],
      ["POST", `/relay/deliveries/${theirs.delivery}/redeliver`],
    ];
    for (const [method, path, json] of hidden) {
      const response = await callJson(method, path, { token: scoped, json });
      expect(response.status, `${method} ${path}`).toBe(404);
    }
    expect(await deliveryState(theirs.delivery)).toMatchObject({ state: "failed" });

    for (const [method, path] of [
      ["GET", `/relay/subscriptions/${mine.hook.id}`],
      ["GET", `/relay/deliveries/${mine.delivery}`],
    ] as const) {
      expect((await callJson(method, path, { token: scoped })).status, path).toBe(200);
    }

    // Stats count only what the token may see.
    const stats = await callJson("GET", "/relay/stats", { token: scoped });
    expect(stats.body.deliveries).toEqual({ pending: 0, succeeded: 0, failed: 1 });
    expect(stats.body.events).toBe(1);
    const failed = stats.body.hourly.reduce((total: number, h: { failed: number }) => total + h.failed, 0);
    expect(failed).toBe(3);
  });

  it("a read-only token reads, but gets 403 on every POST", async () => {
    expect((await callJson("GET", `/relay/subscriptions/${mine.hook.id}`, { token: reader })).status).toBe(200);
    expect((await callJson("GET", "/relay/deliveries", { token: reader })).status).toBe(200);
    expect((await callJson("GET", "/relay/stats", { token: reader })).status).toBe(200);
    const writes: [string, unknown?][] = [
      [`/relay/subscriptions/${mine.hook.id}/enable`],
      [`/relay/subscriptions/${mine.hook.id}/recover`, { since: hourAgo() }],
      [`/relay/deliveries/${mine.delivery}/redeliver`],
    ];
    for (const [path, json] of writes) {
      const response = await callJson("POST", path, { token: reader, json });
      expect(response.status, path).toBe(403);
      expect(response.body.documentation_url).toEqual(expect.any(String));
    }
    expect(await deliveryState(mine.delivery)).toMatchObject({ state: "failed" });
    // A read-only token is refused before anything is looked up, so another owner's
    // subscription gets the same 403 as one that does not exist: it reveals nothing.
    const theirsAnswer = await callJson("POST", `/relay/subscriptions/${theirs.hook.id}/enable`, { token: reader });
    const noneAnswer = await callJson("POST", "/relay/subscriptions/999999/enable", { token: reader });
    expect(theirsAnswer.status).toBe(403);
    expect(theirsAnswer.body).toEqual(noneAnswer.body);
  });
});
