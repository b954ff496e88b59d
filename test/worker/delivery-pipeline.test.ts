// Runs in workerd: the delivery consumer, retry schedule, 410, dead-lettering and the sweep.
// Publishing is held back from the real queue so each test drives the consumer itself.
import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import worker from "../../src/index";
import { publish } from "../../src/relay/events";
import { callJson, consume, createHook, deliveryRow, holdQueue, interceptDeliveries } from "./helpers";

async function pendingDelivery(url: string, extra: Record<string, unknown> = {}) {
  // Held from the hook's creation on: its ping must not reach the receiver through the real
  // queue (which hands a message over at once) while the test counts what arrived.
  const sendBatch = holdQueue();
  const hook = await createHook(
    "/repos/octo/pipeline",
    { url, secret: "pipeline-secret", ...extra },
    { events: ["push"] },
  );
  const published = await publish(env, {
    type: "push",
    subjectType: "repository",
    subject: "octo/pipeline",
    source: "api",
    payload: JSON.stringify({ ref: "refs/heads/main" }),
  });
  sendBatch.mockRestore();
  // Other hooks on this repository get the push too; pick this hook's delivery.
  const row = await env.DB.prepare("SELECT id FROM deliveries WHERE subscription_id = ? AND event_id = ?")
    .bind(hook.id, published.eventId)
    .first<{ id: number }>();
  expect(row).not.toBeNull();
  return { hook, deliveryId: row?.id as number };
}

describe("a delivery attempt", () => {
  it("succeeds on 2xx: acks, records the attempt, and is not sent again for a duplicate message", async () => {
    const receiver = interceptDeliveries(() => new Response("fine", { status: 201 }));
    const { deliveryId } = await pendingDelivery("https://example.com/ok");
    const first = await consume(deliveryId);
    expect(first.acked).toBe(true);
    expect(await deliveryRow(deliveryId)).toMatchObject({ state: "succeeded", attempts: 1 });
    const duplicate = await consume(deliveryId);
    expect(duplicate.acked).toBe(true);
    expect(receiver.to("https://example.com/ok")).toHaveLength(1);
  });

  it("retries a 500 with the first delay of the schedule, then succeeds", async () => {
    let status = 500;
    interceptDeliveries(() => new Response("", { status }));
    const { deliveryId } = await pendingDelivery("https://example.com/flaky");
    const failed = await consume(deliveryId);
    expect(failed.retry).toHaveBeenCalledWith({ delaySeconds: 1 });
    const row = await deliveryRow(deliveryId);
    expect(row).toMatchObject({ state: "pending", attempts: 1 });
    // The retry is due when its delay has passed; make it due now rather than sleeping.
    await env.DB.prepare("UPDATE deliveries SET next_attempt_at = 0 WHERE id = ?").bind(deliveryId).run();
    status = 200;
    expect((await consume(deliveryId)).acked).toBe(true);
    expect(await deliveryRow(deliveryId)).toMatchObject({ state: "succeeded", attempts: 2 });
  });

  it("does not send a retry before it is due (a stale duplicate message)", async () => {
    const receiver = interceptDeliveries(() => new Response("", { status: 500 }));
    const { deliveryId } = await pendingDelivery("https://example.com/early");
    await consume(deliveryId);
    await env.DB.prepare("UPDATE deliveries SET next_attempt_at = ? WHERE id = ?")
      .bind(Date.now() + 60_000, deliveryId)
      .run();
    expect((await consume(deliveryId)).acked).toBe(true);
    expect(receiver.to("https://example.com/early")).toHaveLength(1);
  });

  it("honours Retry-After when it asks for longer than the schedule", async () => {
    interceptDeliveries(() => new Response("slow down", { status: 429, headers: { "retry-after": "120" } }));
    const { deliveryId } = await pendingDelivery("https://example.com/throttled");
    const { retry } = await consume(deliveryId);
    expect(retry).toHaveBeenCalledWith({ delaySeconds: 120 });
  });

  it("treats a redirect as a failure and never follows it", async () => {
    // The interceptor follows a Location as fetch does, unless the relay asks it not to.
    const receiver = interceptDeliveries((call) =>
      call.url === "https://example.com/moved"
        ? new Response(null, { status: 302, headers: { location: "https://example.com/elsewhere" } })
        : new Response("followed"),
    );
    const { deliveryId } = await pendingDelivery("https://example.com/moved");
    const { retry } = await consume(deliveryId);
    expect(retry).toHaveBeenCalled();
    expect(receiver.to("https://example.com/moved")).toHaveLength(1);
    expect(receiver.to("https://example.com/elsewhere")).toEqual([]);
    expect(await deliveryRow(deliveryId)).toMatchObject({ state: "pending", attempts: 1 });
    const attempt = await env.DB.prepare("SELECT status_code, status FROM delivery_attempts WHERE delivery_id = ?")
      .bind(deliveryId)
      .first();
    expect(attempt).toEqual({ status_code: 302, status: "Invalid HTTP Response: 302" });
  });

  it("deactivates the hook on 410 Gone and fails the delivery without retrying", async () => {
    interceptDeliveries(() => new Response("gone", { status: 410 }));
    const { hook, deliveryId } = await pendingDelivery("https://example.com/gone");
    const { acked, retry } = await consume(deliveryId);
    expect(acked).toBe(true);
    expect(retry).not.toHaveBeenCalled();
    expect(await deliveryRow(deliveryId)).toMatchObject({
      state: "failed",
      failure_reason: expect.stringContaining("410"),
    });
    const stored = await env.DB.prepare("SELECT active FROM subscriptions WHERE id = ?").bind(hook.id).first();
    expect(stored).toEqual({ active: 0 });
  });

  it("fails and dead-letters a delivery once the schedule is used up", async () => {
    interceptDeliveries(() => new Response("down", { status: 503 }));
    const deadLetters = vi.spyOn(env.DEAD_LETTERS, "send");
    const { deliveryId } = await pendingDelivery("https://example.com/down");
    for (let attempt = 1; attempt <= 2; attempt++) {
      const { retry } = await consume(deliveryId);
      expect(retry).toHaveBeenCalled();
      await env.DB.prepare("UPDATE deliveries SET next_attempt_at = 0 WHERE id = ?").bind(deliveryId).run();
    }
    const last = await consume(deliveryId);
    expect(last.acked).toBe(true);
    expect(deadLetters).toHaveBeenCalledWith({ deliveryId, finished: true });
    expect(await deliveryRow(deliveryId)).toMatchObject({
      state: "failed",
      attempts: 3,
      failure_reason: expect.stringContaining("gave up after 3 attempts"),
    });
    const attempts = await env.DB.prepare("SELECT status_code FROM delivery_attempts WHERE delivery_id = ?")
      .bind(deliveryId)
      .all();
    expect(attempts.results).toEqual([{ status_code: 503 }, { status_code: 503 }, { status_code: 503 }]);
  });

  it("never lets the dead-letter copy of a failed delivery fail it again after it was recovered", async () => {
    interceptDeliveries(() => new Response("down", { status: 503 }));
    const deadLetters = vi.spyOn(env.DEAD_LETTERS, "send");
    const { hook, deliveryId } = await pendingDelivery("https://example.com/down-then-recovered");
    for (let attempt = 1; attempt <= 3; attempt++) {
      await consume(deliveryId);
      await env.DB.prepare("UPDATE deliveries SET next_attempt_at = 0 WHERE id = ?").bind(deliveryId).run();
    }
    expect(await deliveryRow(deliveryId)).toMatchObject({ state: "failed" });
    const copy = deadLetters.mock.calls.find(([body]) => body.deliveryId === deliveryId)?.[0];
    expect(copy).toBeDefined();

    const sendBatch = holdQueue();
    const recovered = await callJson("POST", `/relay/subscriptions/${hook.id}/recover`, {
      json: { since: "2000-01-01T00:00:00Z" },
    });
    sendBatch.mockRestore();
    expect(recovered.status).toBe(202);
    expect(await deliveryRow(deliveryId)).toMatchObject({ state: "pending" });

    // The copy reaches the dead-letter consumer after the recovery: the delivery stays pending.
    await consume(deliveryId, "hookrelay-dead-letters", copy?.finished ? { finished: true } : {});
    expect(await deliveryRow(deliveryId)).toMatchObject({ state: "pending", failure_reason: null });
  });

  it("records a connection failure as a failed attempt with no status code", async () => {
    interceptDeliveries(() => {
      throw new TypeError("Network connection lost.");
    });
    const { deliveryId } = await pendingDelivery("https://example.com/unreachable");
    const { retry } = await consume(deliveryId);
    expect(retry).toHaveBeenCalled();
    const attempt = await env.DB.prepare("SELECT status_code, status FROM delivery_attempts WHERE delivery_id = ?")
      .bind(deliveryId)
      .first();
    expect(attempt).toEqual({ status_code: null, status: "Failed to connect: Network connection lost." });
  });

  it("gives up on a receiver that does not answer within DELIVERY_TIMEOUT_MS (2000 ms here)", async () => {
    // This receiver would answer 200, but only after 6 s: only the relay's timeout can fail it.
    interceptDeliveries(
      () => new Promise<Response>((resolve) => setTimeout(() => resolve(new Response("late")), 6000)),
    );
    const { deliveryId } = await pendingDelivery("https://example.com/slow");
    const started = Date.now();
    const { retry } = await consume(deliveryId);
    const elapsed = Date.now() - started;
    expect(retry).toHaveBeenCalled();
    expect(elapsed).toBeGreaterThanOrEqual(1900);
    expect(elapsed).toBeLessThan(5000);
    const attempt = await env.DB.prepare(
      "SELECT status_code, status, duration_ms, succeeded FROM delivery_attempts WHERE delivery_id = ?",
    )
      .bind(deliveryId)
      .first<{ status_code: number | null; status: string; duration_ms: number; succeeded: number }>();
    expect(attempt).toMatchObject({ status_code: null, status: "Timed out after 2000 ms", succeeded: 0 });
    expect(attempt?.duration_ms).toBeGreaterThanOrEqual(1900);
    expect(await deliveryRow(deliveryId)).toMatchObject({ state: "pending", attempts: 1 });
  });

  it("sends a delivery once when two consumers hold it at the same time (the lease)", async () => {
    // A slow receiver keeps the first send in flight while the second consumer tries to claim.
    const receiver = interceptDeliveries(
      () => new Promise<Response>((resolve) => setTimeout(() => resolve(new Response("ok")), 300)),
    );
    const { deliveryId } = await pendingDelivery("https://example.com/leased");
    const [first, second] = await Promise.all([consume(deliveryId), consume(deliveryId)]);
    expect(receiver.to("https://example.com/leased")).toHaveLength(1);
    expect(first.acked && second.acked).toBe(true);
    expect(await deliveryRow(deliveryId)).toMatchObject({ state: "succeeded", attempts: 1 });
    const attempts = await env.DB.prepare("SELECT count(*) AS n FROM delivery_attempts WHERE delivery_id = ?")
      .bind(deliveryId)
      .first();
    expect(attempts).toEqual({ n: 1 });
  });

  it("sends a URL's basic-auth credentials as Authorization, and records them masked", async () => {
    const receiver = interceptDeliveries();
    const { deliveryId } = await pendingDelivery("https://hook-user:hook%20pass@example.com/basic");
    expect((await consume(deliveryId)).acked).toBe(true);
    const [sent] = receiver.calls.filter((c) => c.url.endsWith("/basic"));
    expect(sent?.url).toBe("https://example.com/basic");
    expect(sent?.headers.authorization).toBe(`Basic ${btoa("hook-user:hook pass")}`);
    const attempt = await env.DB.prepare("SELECT request_headers, status FROM delivery_attempts WHERE delivery_id = ?")
      .bind(deliveryId)
      .first<{ request_headers: string; status: string }>();
    expect(JSON.parse(attempt?.request_headers ?? "{}").authorization).toBe("Basic ********");
    expect(JSON.stringify(attempt)).not.toContain("hook pass");
    expect(JSON.stringify(attempt)).not.toContain("hook%20pass");
    expect(JSON.stringify(attempt)).not.toContain(btoa("hook-user:hook pass"));
  });

  it("lets the queue retry when the relay itself crashes, so nothing is lost", async () => {
    const { deliveryId } = await pendingDelivery("https://example.com/crash");
    vi.spyOn(env.DB, "batch").mockRejectedValueOnce(new Error("D1 is having a moment"));
    const { retry, acked } = await consume(deliveryId);
    expect(acked).toBe(false);
    expect(retry).toHaveBeenCalledWith();
    expect(await deliveryRow(deliveryId)).toMatchObject({ state: "pending", attempts: 0 });
  });
});

describe("the dead-letter consumer", () => {
  it("marks a still-pending delivery failed, and leaves finished ones alone", async () => {
    interceptDeliveries(() => new Response("ok"));
    const { deliveryId } = await pendingDelivery("https://example.com/dlq");
    expect((await consume(deliveryId, "hookrelay-dead-letters")).acked).toBe(true);
    expect(await deliveryRow(deliveryId)).toMatchObject({
      state: "failed",
      failure_reason: expect.stringContaining("dead-lettered"),
    });

    const { deliveryId: done } = await pendingDelivery("https://example.com/dlq-done");
    await consume(done);
    await consume(done, "hookrelay-dead-letters");
    expect(await deliveryRow(done)).toMatchObject({ state: "succeeded" });
  });
});

describe("the cron sweep", () => {
  it("re-enqueues pending deliveries whose message was lost, and only those", async () => {
    const { deliveryId: lost } = await pendingDelivery("https://example.com/lost");
    const { deliveryId: fresh } = await pendingDelivery("https://example.com/fresh");
    // `lost` has been pending for an hour; `fresh` was just made.
    await env.DB.prepare("UPDATE deliveries SET next_attempt_at = ? WHERE id = ?")
      .bind(Date.now() - 3_600_000, lost)
      .run();
    const sendBatch = holdQueue();
    const ctx = createExecutionContext();
    await worker.scheduled(createScheduledController({ cron: "* * * * *" }), env, ctx);
    await waitOnExecutionContext(ctx);
    const sent = sendBatch.mock.calls.flatMap(([messages]) => [...messages].map((m) => m.body));
    expect(sent).toContainEqual({ deliveryId: lost });
    expect(sent).not.toContainEqual({ deliveryId: fresh });
  });

  it("publish still stores the event when the enqueue fails, so the sweep can deliver it", async () => {
    await createHook("/repos/octo/pipeline", { url: "https://example.com/enqueue-fails" }, { events: ["push"] });
    vi.spyOn(env.DELIVERIES, "sendBatch").mockRejectedValueOnce(new Error("queue unavailable"));
    const published = await publish(env, {
      type: "push",
      subjectType: "repository",
      subject: "octo/pipeline",
      source: "api",
      payload: "{}",
    });
    expect(published.deliveryIds.length).toBeGreaterThan(0);
    for (const id of published.deliveryIds) expect(await deliveryRow(id)).toMatchObject({ state: "pending" });
  });
});

describe("deliveries to inactive hooks", () => {
  it("end failed without an attempt", async () => {
    const { hook, deliveryId } = await pendingDelivery("https://example.com/paused");
    await env.DB.prepare("UPDATE subscriptions SET active = 0 WHERE id = ?").bind(hook.id).run();
    expect((await consume(deliveryId)).acked).toBe(true);
    expect(await deliveryRow(deliveryId)).toMatchObject({ state: "failed", attempts: 0 });
  });
});
