// Runs in workerd: the consumer on whole batches. Six requests at a time (the outbound
// connections one invocation may hold), each attempt's timeout counted from its own send, a
// lease that covers every wave of the batch, one claim and one record per batch, each
// event's payload read once, and an enqueue that sends its chunks side by side.
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { config } from "../../src/env";
import { batchLeaseMs } from "../../src/relay/consumer";
import { enqueueDeliveries } from "../../src/relay/deliveries";
import { OUTBOUND_CONNECTIONS } from "../../src/relay/dispatch";
import { publish } from "../../src/relay/events";
import { PAYLOAD_PART_CHARS } from "../../src/relay/payloads";
import { captureQueue, consumeBatch, deliveryState, pushes } from "./health-helpers";
import { createHook, interceptDeliveries } from "./helpers";
import { envWith } from "./with-env";

afterEach(() => {
  vi.restoreAllMocks();
});

/** A hook on its own repository with the queue captured and its ping dropped. */
async function quietHook(repo: string, url: string) {
  const queue = captureQueue();
  const hook = await createHook(`/repos/octo/${repo}`, { url, secret: "batch-secret" }, { events: ["push"] });
  await env.DB.prepare("DELETE FROM deliveries WHERE subscription_id = ?").bind(hook.id).run();
  queue.clear();
  return { hook, queue };
}

/** A receiver that answers each request only when the test lets it, counting those in flight. */
function heldReceiver() {
  const held: (() => void)[] = [];
  const state = { inFlight: 0, most: 0, hold: true };
  const receiver = interceptDeliveries(async () => {
    state.inFlight++;
    state.most = Math.max(state.most, state.inFlight);
    if (state.hold) await new Promise<void>((resolve) => held.push(resolve));
    state.inFlight--;
    return new Response("ok");
  });
  return {
    receiver,
    state,
    release() {
      state.hold = false;
      for (const resolve of held.splice(0)) resolve();
    },
  };
}

describe("a batch's requests", () => {
  it(`go out at most ${OUTBOUND_CONNECTIONS} at a time, each with its whole timeout from when it is sent`, async () => {
    // Each answer takes 1.2 s and the timeout is 2 s (vitest.config.ts): the seventh request
    // goes out when a first one is answered, 1.2 s in, and must still get its 2 s from then.
    const state = { inFlight: 0, most: 0 };
    const receiver = interceptDeliveries(async () => {
      state.inFlight++;
      state.most = Math.max(state.most, state.inFlight);
      await new Promise((resolve) => setTimeout(resolve, 1200));
      state.inFlight--;
      return new Response("ok");
    });
    const url = "https://example.com/waves";
    const { hook } = await quietHook("waves", url);
    const ids = await pushes("octo/waves", hook.id, OUTBOUND_CONNECTIONS + 1);
    const started = Date.now();
    const fates = await consumeBatch(ids);
    expect(Date.now() - started).toBeGreaterThanOrEqual(2300);
    expect(state.most).toBe(OUTBOUND_CONNECTIONS);
    expect(receiver.to(url)).toHaveLength(ids.length);
    for (const fate of fates) expect(fate.acked).toBe(true);
    for (const id of ids) expect(await deliveryState(id)).toMatchObject({ state: "succeeded", attempts: 1 });
  });

  it("are leased for every wave: a second consumer never takes one the batch may still send", async () => {
    // A 60 s receiver timeout: 13 deliveries go out in 3 waves, so the batch may still be
    // sending its last one 3 x 60 s after its claim. A second consumer holding the same
    // messages (at-least-once queues) at that moment must find nothing to send.
    const slow = envWith({ DELIVERY_TIMEOUT_MS: "60000" });
    const { receiver, state, release } = heldReceiver();
    const url = "https://example.com/leased-waves";
    const { hook } = await quietHook("leasedwaves", url);
    const ids = await pushes("octo/leasedwaves", hook.id, 2 * OUTBOUND_CONNECTIONS + 1);
    const claimedAt = Date.now();
    const first = consumeBatch(ids, slow);
    await vi.waitFor(() => expect(state.inFlight).toBe(OUTBOUND_CONNECTIONS), { timeout: 5_000 });

    const waves = Math.ceil(ids.length / OUTBOUND_CONNECTIONS);
    const lastSendMayEnd = claimedAt + waves * config(slow).deliveryTimeoutMs;
    state.hold = false; // whatever a second consumer sends is answered at once
    vi.spyOn(Date, "now").mockReturnValue(lastSendMayEnd);
    const second = await consumeBatch(ids, slow);
    vi.mocked(Date.now).mockRestore();
    expect(receiver.to(url)).toHaveLength(OUTBOUND_CONNECTIONS);
    for (const fate of second) expect(fate.acked).toBe(true);

    release();
    await first;
    expect(receiver.to(url)).toHaveLength(ids.length);
    const guids = receiver.to(url).map((call) => call.headers["x-hookrelay-delivery"]);
    expect(new Set(guids).size).toBe(ids.length);
    for (const id of ids) expect(await deliveryState(id)).toMatchObject({ state: "succeeded", attempts: 1 });
  });

  it("lease a batch for ceil(n / 6) receiver timeouts and a margin", () => {
    const cfg = config(env);
    expect(batchLeaseMs(cfg, 1)).toBe(cfg.deliveryTimeoutMs + 30_000);
    expect(batchLeaseMs(cfg, 6)).toBe(cfg.deliveryTimeoutMs + 30_000);
    expect(batchLeaseMs(cfg, 7)).toBe(2 * cfg.deliveryTimeoutMs + 30_000);
    expect(batchLeaseMs(cfg, 100)).toBe(17 * cfg.deliveryTimeoutMs + 30_000);
  });

  it("that crashed give their lease back, so the queue's retry sends them", async () => {
    const receiver = interceptDeliveries();
    const url = "https://example.com/crash-release";
    const { hook } = await quietHook("crashrelease", url);
    const [id] = (await pushes("octo/crashrelease", hook.id, 1)) as [number];
    vi.spyOn(crypto.subtle, "sign").mockRejectedValueOnce(new Error("the isolate is having a moment"));
    const [crashed] = await consumeBatch([id]);
    expect(crashed?.acked).toBe(false);
    expect(crashed?.retry).toHaveBeenCalledWith();
    expect(
      await env.DB.prepare("SELECT state, attempts, lease_until FROM deliveries WHERE id = ?").bind(id).first(),
    ).toEqual({
      state: "pending",
      attempts: 0,
      lease_until: 0,
    });
    const [retried] = await consumeBatch([id]);
    expect(retried?.acked).toBe(true);
    expect(receiver.to(url)).toHaveLength(1);
    expect(await deliveryState(id)).toMatchObject({ state: "succeeded", attempts: 1 });
  });
});

describe("a fan-out batch", () => {
  it("claims in one round trip, reads a split payload once, and sends every hook the whole body", async () => {
    const receiver = interceptDeliveries();
    const queue = captureQueue();
    const hooks = [];
    for (let i = 0; i < 8; i++) {
      hooks.push(
        await createHook("/repos/octo/fanbatch", { url: `https://example.com/fan/${i}` }, { events: ["push"] }),
      );
    }
    queue.clear();
    // Bigger than one D1 row holds: stored in parts beside the event.
    const payload = JSON.stringify({ ref: "refs/heads/main", filler: "x".repeat(PAYLOAD_PART_CHARS + 1000) });
    const published = await publish(env, {
      type: "push",
      subjectType: "repository",
      subject: "octo/fanbatch",
      source: "api",
      payload,
    });
    expect(published.deliveryIds).toHaveLength(hooks.length);

    const batches = vi.spyOn(env.DB, "batch");
    const prepared = vi.spyOn(env.DB, "prepare");
    // Duplicated messages too: a batch can hold the same delivery twice.
    const fates = await consumeBatch([...published.deliveryIds, ...published.deliveryIds.slice(0, 3)]);
    for (const fate of fates) expect(fate.acked).toBe(true);
    const sql = prepared.mock.calls.map(([statement]) => statement);
    expect(sql.filter((statement) => statement.includes("event_payload_parts"))).toHaveLength(1);
    // One claim and one record, whatever the batch's size.
    expect(batches).toHaveBeenCalledTimes(2);
    expect(batches.mock.calls.map(([statements]) => statements.length)).toEqual([3, 3]);
    for (let i = 0; i < hooks.length; i++) {
      const sent = receiver.to(`https://example.com/fan/${i}`);
      expect(sent).toHaveLength(1);
      expect(sent[0]?.body).toBe(payload);
    }
  });

  it("of a hundred messages is claimed and recorded in as many statements as one", async () => {
    interceptDeliveries();
    const { hook } = await quietHook("hundred", "https://example.com/hundred");
    const ids = await pushes("octo/hundred", hook.id, 100);
    const batches = vi.spyOn(env.DB, "batch");
    const fates = await consumeBatch(ids);
    for (const fate of fates) expect(fate.acked).toBe(true);
    expect(batches.mock.calls.map(([statements]) => statements.length)).toEqual([3, 3]);
    for (const id of ids) expect(await deliveryState(id)).toMatchObject({ state: "succeeded", attempts: 1 });
  });

  it("with nothing to send makes no round trip beyond its claim", async () => {
    interceptDeliveries();
    const { hook, queue } = await quietHook("nothingtodo", "https://example.com/nothing-to-do");
    const ids = await pushes("octo/nothingtodo", hook.id, 3);
    await consumeBatch(ids);
    const batches = vi.spyOn(env.DB, "batch");
    const prepared = vi.spyOn(env.DB, "prepare");
    queue.clear();
    // Duplicates of finished deliveries: claimed by nobody, so nothing to record or queue.
    const fates = await consumeBatch(ids);
    for (const fate of fates) expect(fate.acked).toBe(true);
    expect(batches).toHaveBeenCalledTimes(1);
    expect(prepared).toHaveBeenCalledTimes(3);
    expect(queue.sent).toEqual([]);
    expect(queue.deadLetters).not.toHaveBeenCalled();
  });
});

describe("enqueueing", () => {
  it("sends its chunks of 100 side by side, and a failed chunk only logs (the sweep resends it)", async () => {
    const state = { inFlight: 0, most: 0, calls: 0 };
    const sendBatch = vi.spyOn(env.DELIVERIES, "sendBatch").mockImplementation(async (messages) => {
      const call = ++state.calls;
      state.inFlight++;
      state.most = Math.max(state.most, state.inFlight);
      await new Promise((resolve) => setTimeout(resolve, 50));
      state.inFlight--;
      if (call === 1) throw new Error("queue unavailable");
      expect([...messages].length).toBeLessThanOrEqual(100);
      return undefined as never;
    });
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    const ids = Array.from({ length: 250 }, (_, i) => 1_000_000 + i);
    await enqueueDeliveries(env, ids);
    expect(sendBatch).toHaveBeenCalledTimes(3);
    expect(state.most).toBe(3);
    const sent = sendBatch.mock.calls.flatMap(([messages]) => [...messages].map((m) => m.body.deliveryId));
    expect(sent.sort()).toEqual(ids);
    expect(warn).toHaveBeenCalledWith(expect.stringContaining("the sweep will retry"), expect.any(String));
  });

  it("makes no call for no deliveries", async () => {
    const sendBatch = vi.spyOn(env.DELIVERIES, "sendBatch");
    await enqueueDeliveries(env, []);
    expect(sendBatch).not.toHaveBeenCalled();
  });
});
