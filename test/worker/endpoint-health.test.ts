// Runs in workerd: each subscription's health. The circuit breaker (open after N failures in
// a row, hold without spending retries, one probe per interval, close on success and
// release what it held), auto-disable after a window without success, 410's reason, and
// re-enabling through every API. The consumer is driven batch by batch; time passing is
// simulated by making stored times due, as the delivery tests do.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { config } from "../../src/env";
import type { ClaimedDelivery } from "../../src/relay/deliveries";
import { gateByCircuit } from "../../src/relay/health";
import { captureQueue, consumeBatch, deliveryState, pushes, subscriptionRow, timePasses } from "./health-helpers";
import { call, callJson, createHook, interceptDeliveries } from "./helpers";
import { callWith, envWith, runScheduled } from "./with-env";

// Three failures open the circuit; plenty of retries, so only the breaker limits attempts.
const breaker = envWith({
  CIRCUIT_OPEN_AFTER_FAILURES: "3",
  CIRCUIT_PROBE_SECONDS: "60",
  AUTO_DISABLE_AFTER_DAYS: "5",
  DELIVERY_RETRY_SCHEDULE: "1,1,1,1,1,1,1,1,1,1",
});

/** A hook with the queue captured; its ping is dropped, so only the test's pushes count. */
async function hookOn(repo: string, url: string) {
  const queue = captureQueue();
  const hook = await createHook(`/repos/octo/${repo}`, { url }, { events: ["push"] });
  await env.DB.prepare("DELETE FROM deliveries WHERE subscription_id = ?").bind(hook.id).run();
  queue.clear();
  return { hook, queue };
}

/** Opens the circuit of a fresh hook: three deliveries fail one after another. */
async function openCircuit(repo: string, url: string, extra: number) {
  const { hook, queue } = await hookOn(repo, url);
  const ids = await pushes(`octo/${repo}`, hook.id, 3 + extra);
  for (const id of ids.slice(0, 3)) await consumeBatch([id], breaker);
  return { hook, queue, opening: ids.slice(0, 3), held: ids.slice(3) };
}

/** The messages the relay queued with a delay: probes (first sends are batched, without one). */
function probesIn(queue: ReturnType<typeof captureQueue>) {
  return queue.sent.filter((m) => m.delaySeconds !== undefined);
}

describe("the circuit breaker", () => {
  it("opens after N consecutive failures; then deliveries are held, not attempted, and not retried", async () => {
    const receiver = interceptDeliveries(() => new Response("down", { status: 500 }));
    const url = "https://example.com/opens";
    const { hook, queue, opening, held } = await openCircuit("opens", url, 3);
    expect(receiver.to(url)).toHaveLength(3);

    const fates = await consumeBatch(held, breaker);
    // Nothing reached the receiver; each message was acked, none retried (no queue retry used up).
    expect(receiver.to(url)).toHaveLength(3);
    for (const fate of fates) {
      expect(fate.acked).toBe(true);
      expect(fate.retry).not.toHaveBeenCalled();
    }
    for (const id of held) expect(await deliveryState(id)).toMatchObject({ state: "pending", attempts: 0 });
    // One message carries the next probe, however many deliveries are held.
    expect(probesIn(queue)).toHaveLength(1);
    expect([...opening, ...held]).toContain(probesIn(queue)[0]?.deliveryId);
    expect(probesIn(queue)[0]?.delaySeconds).toBeGreaterThan(0);

    const view = await callWith(breaker, "GET", `/relay/subscriptions/${hook.id}`);
    expect(view.body.health).toMatchObject({
      state: "circuit_open",
      circuit: "open",
      consecutive_failures: 3,
      last_status_code: 500,
      last_status: "Invalid HTTP Response: 500",
    });
    expect(view.body.health.failing_since).toEqual(expect.any(String));
  });

  it("stays closed while failures are not consecutive", async () => {
    const statuses = [500, 500, 200, 500, 500, 500];
    const receiver = interceptDeliveries((_call, index) => new Response("", { status: statuses[index] }));
    const url = "https://example.com/flaky-but-alive";
    const { hook } = await hookOn("flaky", url);
    const ids = await pushes("octo/flaky", hook.id, 6);
    // Fail, fail, succeed, fail, fail: never three in a row, so every delivery is attempted.
    for (const id of ids) await consumeBatch([id], breaker);
    expect(receiver.to(url)).toHaveLength(6);
    // The sixth made three in a row: now it is open.
    expect((await subscriptionRow(hook.id))?.consecutive_failures).toBe(3);
  });

  it("lets one probe through per interval; a failed probe keeps it open, a successful one closes it and releases the held deliveries", async () => {
    let status = 500;
    const receiver = interceptDeliveries(() => new Response("", { status }));
    const url = "https://example.com/probed";
    const { hook, queue, opening, held } = await openCircuit("probed", url, 4);
    await consumeBatch(held, breaker);
    expect(receiver.to(url)).toHaveLength(3);

    // The probe slot comes: of a whole batch, exactly one delivery is sent. It fails.
    await timePasses(hook.id);
    await consumeBatch(held, breaker);
    expect(receiver.to(url)).toHaveLength(4);
    // Before the next slot, nothing more goes out.
    await consumeBatch(held, breaker);
    expect(receiver.to(url)).toHaveLength(4);
    expect((await callWith(breaker, "GET", `/relay/subscriptions/${hook.id}`)).body.health.state).toBe("circuit_open");

    // Next slot: the receiver is back. One probe succeeds and the circuit closes...
    status = 200;
    await timePasses(hook.id);
    queue.clear();
    await consumeBatch(held, breaker);
    expect(receiver.to(url)).toHaveLength(5);
    expect((await callWith(breaker, "GET", `/relay/subscriptions/${hook.id}`)).body.health).toMatchObject({
      state: "healthy",
      circuit: "closed",
      consecutive_failures: 0,
      failing_since: null,
    });
    // ...and every delivery still pending is enqueued again at once, without waiting for its retry.
    const pending = [];
    for (const id of [...opening, ...held]) if ((await deliveryState(id))?.state === "pending") pending.push(id);
    expect(pending.length).toBeGreaterThan(0);
    expect(new Set(queue.ids())).toEqual(new Set(pending));
    await consumeBatch(queue.ids(), breaker);
    for (const id of [...opening, ...held]) expect(await deliveryState(id)).toMatchObject({ state: "succeeded" });
    // Each delivery reached the receiver successfully exactly once.
    const guids = await Promise.all([...opening, ...held].map(async (id) => (await deliveryState(id))?.guid));
    const okGuids = receiver
      .to(url)
      .slice(4)
      .map((c) => c.headers["x-github-delivery"]);
    expect(okGuids.sort()).toEqual([...guids].sort());
  });

  it("lets at most one probe through per interval however often batches come, even a 1 s interval", async () => {
    // The queue hands over each message as it comes, so batches can follow each other within
    // milliseconds; a probe message may also arrive up to a second early. Neither may let a
    // second probe through before the interval has passed.
    const quick = envWith({
      CIRCUIT_OPEN_AFTER_FAILURES: "3",
      CIRCUIT_PROBE_SECONDS: "1",
      AUTO_DISABLE_AFTER_DAYS: "5",
      DELIVERY_RETRY_SCHEDULE: "1,1,1,1,1,1,1,1,1,1",
    });
    const receiver = interceptDeliveries(() => new Response("", { status: 500 }));
    const url = "https://example.com/quick-probes";
    const { hook } = await hookOn("quickprobes", url);
    const ids = await pushes("octo/quickprobes", hook.id, 8);
    for (const id of ids.slice(0, 3)) await consumeBatch([id], quick);
    expect(receiver.to(url)).toHaveLength(3);
    await timePasses(hook.id);
    for (const id of ids.slice(3)) {
      await env.DB.prepare("UPDATE deliveries SET next_attempt_at = 0 WHERE id = ?").bind(id).run();
      await consumeBatch([id], quick);
    }
    expect(receiver.to(url)).toHaveLength(4);
  });

  it("two consumers that both see a probe due send only one probe", async () => {
    const { hook } = await hookOn("race", "https://example.com/race");
    await env.DB.prepare("UPDATE subscriptions SET consecutive_failures = 5, probe_at = 0 WHERE id = ?")
      .bind(hook.id)
      .run();
    // What each consumer loaded with its claim: the circuit open and its probe due.
    const claimed = (id: number): ClaimedDelivery => ({
      id,
      guid: `guid-${id}`,
      eventId: "event",
      eventType: "push",
      payload: "{}",
      attempts: 0,
      subscriptionId: hook.id,
      dialect: "github",
      url: "https://example.com/race",
      contentType: "json",
      sealedSecret: null,
      active: true,
      subjectType: "repository",
      subject: "octo/race",
      retryBase: 0,
      consecutiveFailures: 5,
      failingSince: null,
      probeAt: 0,
      disabledReason: null,
    });
    const cfg = config(breaker);
    const first = await gateByCircuit(breaker, cfg, [claimed(1)]);
    const second = await gateByCircuit(breaker, cfg, [claimed(2)]);
    expect(first.send.map((d) => d.id)).toEqual([1]);
    expect(second.send).toEqual([]);
    expect(second.hold.map((d) => d.id)).toEqual([2]);
  });

  it("never uses up a held delivery's retries nor sends it to the dead-letter queue, however long it is held", async () => {
    const receiver = interceptDeliveries(() => new Response("", { status: 503 }));
    const url = "https://example.com/held-long";
    const { hook, queue, held } = await openCircuit("heldlong", url, 1);
    const [id] = held as [number];
    // Many more holds than the retry schedule has steps, and than the queue's max_retries (20).
    for (let i = 0; i < 25; i++) {
      const [fate] = await consumeBatch([id], breaker);
      expect(fate?.acked).toBe(true);
      expect(fate?.retry).not.toHaveBeenCalled();
      await env.DB.prepare("UPDATE deliveries SET next_attempt_at = 0 WHERE id = ?").bind(id).run();
    }
    expect(await deliveryState(id)).toMatchObject({ state: "pending", attempts: 0, failure_reason: null });
    expect(queue.deadLetters).not.toHaveBeenCalled();
    expect(receiver.to(url)).toHaveLength(3);
    expect((await subscriptionRow(hook.id))?.active).toBe(1);
  });

  it("the sweep leaves held deliveries alone but queues a probe that was lost", async () => {
    interceptDeliveries(() => new Response("", { status: 500 }));
    const { hook, queue, opening, held } = await openCircuit("sweepheld", "https://example.com/sweep-held", 2);
    await consumeBatch(held, breaker);
    // An hour passes and the probe message never came (lost in a queue outage).
    await env.DB.batch([
      env.DB.prepare("UPDATE deliveries SET next_attempt_at = ? WHERE subscription_id = ? AND state = 'pending'").bind(
        Date.now() - 3_600_000,
        hook.id,
      ),
      env.DB.prepare("UPDATE subscriptions SET probe_at = ? WHERE id = ?").bind(Date.now() - 3_600_000, hook.id),
    ]);
    queue.clear();
    await runScheduled(breaker);
    // One message, for the probe; not one per held delivery.
    const mine = queue.sent.filter((m) => [...opening, ...held].includes(m.deliveryId));
    expect(mine).toHaveLength(1);
  });
});

describe("auto-disable", () => {
  const window = envWith({
    CIRCUIT_OPEN_AFTER_FAILURES: "100",
    AUTO_DISABLE_AFTER_DAYS: "2.5",
    DELIVERY_RETRY_SCHEDULE: "1,1,1,1,1",
  });

  it("deactivates a subscription that had no success for the window while attempts kept failing, and ends its pending deliveries with the reason", async () => {
    const receiver = interceptDeliveries(() => new Response("", { status: 500 }));
    const url = "https://example.com/dead";
    const { hook } = await hookOn("dead", url);
    const ids = await pushes("octo/dead", hook.id, 4);
    await consumeBatch([ids[0] as number], window);
    // Two days of failing is inside the window: still active.
    await env.DB.prepare("UPDATE subscriptions SET failing_since = ? WHERE id = ?")
      .bind(new Date(Date.now() - 2 * 86_400_000).toISOString(), hook.id)
      .run();
    const [within] = await consumeBatch([ids[1] as number], window);
    expect(within?.retry).toHaveBeenCalled();
    expect((await subscriptionRow(hook.id))?.active).toBe(1);

    // Three days: the next failed attempt disables it.
    await env.DB.prepare("UPDATE subscriptions SET failing_since = ? WHERE id = ?")
      .bind(new Date(Date.now() - 3 * 86_400_000).toISOString(), hook.id)
      .run();
    const [last] = await consumeBatch([ids[2] as number], window);
    expect(last?.acked).toBe(true);
    expect(last?.retry).not.toHaveBeenCalled();
    expect(receiver.to(url)).toHaveLength(3);

    const stored = await subscriptionRow(hook.id);
    expect(stored?.active).toBe(0);
    expect(stored?.disabled_reason).toMatch(/no successful delivery/);
    // Shown in its own dialect and in the operator API.
    expect((await callJson("GET", `/repos/octo/dead/hooks/${hook.id}`)).body.active).toBe(false);
    const view = await callWith(window, "GET", `/relay/subscriptions/${hook.id}`);
    expect(view.body).toMatchObject({ active: false, disabled_reason: stored?.disabled_reason });
    expect(view.body.health.state).toBe("disabled");
    // Every pending delivery ended failed with the reason, so it can be recovered later.
    for (const id of ids) {
      expect(await deliveryState(id)).toMatchObject({ state: "failed", failure_reason: stored?.disabled_reason });
    }
  });

  it("records a reason for 410 Gone too, and ends the pending deliveries with it", async () => {
    interceptDeliveries(() => new Response("gone", { status: 410 }));
    const { hook } = await hookOn("gone", "https://example.com/gone-for-good");
    const ids = await pushes("octo/gone", hook.id, 3);
    await consumeBatch([ids[0] as number], window);
    const stored = await subscriptionRow(hook.id);
    expect(stored?.active).toBe(0);
    expect(stored?.disabled_reason).toMatch(/410/);
    expect((await callWith(window, "GET", `/relay/subscriptions/${hook.id}`)).body.disabled_reason).toBe(
      stored?.disabled_reason,
    );
    for (const id of ids.slice(1)) {
      expect(await deliveryState(id)).toMatchObject({ state: "failed", failure_reason: stored?.disabled_reason });
    }
  });
});

describe("attempts the relay itself could not send", () => {
  it("say nothing of the endpoint: no circuit, no auto-disable", async () => {
    const receiver = interceptDeliveries(() => new Response("ok"));
    const queue = captureQueue();
    const hook = await createHook(
      "/repos/octo/nokey",
      { url: "https://example.com/nokey", secret: "s" },
      {
        events: ["push"],
      },
    );
    await env.DB.prepare("DELETE FROM deliveries WHERE subscription_id = ?").bind(hook.id).run();
    queue.clear();
    const noKey = envWith({
      SECRETS_KEY: undefined,
      CIRCUIT_OPEN_AFTER_FAILURES: "2",
      AUTO_DISABLE_AFTER_DAYS: "0.0001",
      DELIVERY_RETRY_SCHEDULE: "1,1,1,1,1",
    });
    await env.DB.prepare("UPDATE subscriptions SET failing_since = '2020-01-01T00:00:00Z' WHERE id = ?")
      .bind(hook.id)
      .run();
    const ids = await pushes("octo/nokey", hook.id, 4);
    for (const id of ids) await consumeBatch([id], noKey);
    expect(receiver.to("https://example.com/nokey")).toHaveLength(0);
    const attempts = await env.DB.prepare(
      "SELECT count(*) AS n FROM delivery_attempts WHERE subscription_id = ? AND status LIKE 'Not sent:%'",
    )
      .bind(hook.id)
      .first<{ n: number }>();
    expect(attempts?.n).toBe(4);
    expect(await subscriptionRow(hook.id)).toMatchObject({ active: 1, consecutive_failures: 0, disabled_reason: null });
    for (const id of ids) expect((await deliveryState(id))?.state).toBe("pending");
  });
});

describe("re-enabling resets the health", () => {
  async function disabledHook(path: string, id: number) {
    await env.DB.prepare(
      `UPDATE subscriptions SET active = 0, consecutive_failures = 40, failing_since = '2026-01-01T00:00:00Z',
         probe_at = 1, disabled_reason = 'no successful delivery for 5 days' WHERE id = ?`,
    )
      .bind(id)
      .run();
    expect((await callJson("GET", `/relay/subscriptions/${id}`)).body.health.state).toBe("disabled");
    return path;
  }

  const reset = {
    active: true,
    disabled_reason: null,
    health: expect.objectContaining({
      state: "healthy",
      circuit: "closed",
      consecutive_failures: 0,
      failing_since: null,
    }),
  };

  it("through GitHub's PATCH active: true", async () => {
    const hook = await createHook("/repos/octo/reenable", { url: "https://example.com/re1" });
    await disabledHook("/repos/octo/reenable", hook.id);
    const patched = await call("PATCH", `/repos/octo/reenable/hooks/${hook.id}`, { json: { active: true } });
    expect(patched.status).toBe(200);
    expect((await callWith(breaker, "GET", `/relay/subscriptions/${hook.id}`)).body).toMatchObject(reset);
  });

  it("but not by a PATCH that leaves it active", async () => {
    const hook = await createHook("/repos/octo/reenable", { url: "https://example.com/re-active" });
    await env.DB.prepare("UPDATE subscriptions SET consecutive_failures = 40 WHERE id = ?").bind(hook.id).run();
    await call("PATCH", `/repos/octo/reenable/hooks/${hook.id}`, { json: { active: true } });
    expect((await subscriptionRow(hook.id))?.consecutive_failures).toBe(40);
  });

  it("through /v1/hooks PUT is_active: true", async () => {
    const created = await callJson("POST", "/v1/hooks", {
      json: { subject_type: "job", subject: "7", events: ["job:fail"], url: "https://example.com/re2" },
    });
    await disabledHook("/v1/hooks", created.body.id);
    const put = await callJson("PUT", `/v1/hooks/${created.body.id}`, { json: { is_active: true } });
    expect(put.body.is_active).toBe(true);
    expect((await callJson("GET", `/relay/subscriptions/${created.body.id}`)).body).toMatchObject(reset);
  });

  it("through POST /relay/subscriptions/:id/enable", async () => {
    const hook = await createHook("/repos/octo/reenable", { url: "https://example.com/re3" });
    await disabledHook("/repos/octo/reenable", hook.id);
    const enabled = await callJson("POST", `/relay/subscriptions/${hook.id}/enable`);
    expect(enabled.status).toBe(200);
    expect(enabled.body).toMatchObject(reset);
    expect((await callJson("GET", `/repos/octo/reenable/hooks/${hook.id}`)).body.active).toBe(true);
  });
});
