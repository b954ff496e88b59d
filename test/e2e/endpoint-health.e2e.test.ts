// End to end: a receiver that is down while 20 events arrive. The relay (wrangler dev, real
// queues and cron-free probing) opens the circuit after a few failures instead of retrying
// every event, disables the hook once the window passes without a success, and after the
// operator enables it and recovers, every event arrives exactly once with its original GUID.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Receiver, startReceiver } from "./support/receiver";
import { type Relay, sendWebhook, startRelay } from "./support/relay";

const owner = "health-org";
const repo = "flaky-receiver";
const ingestSecret = "github-to-relay-secret";
const EVENTS = 20;
const RETRIES = 5;

let relay: Relay;
let receiver: Receiver;
let down = false;
/** GUIDs the receiver answered 2xx for, in order. */
const accepted: string[] = [];
/** GUIDs of every request that reached the receiver while it was down. */
const refused: string[] = [];

async function api<T = any>(method: string, path: string, json?: unknown): Promise<{ status: number; body: T }> {
  const response = await fetch(`${relay.url}${path}`, {
    method,
    headers: { authorization: `token ${relay.adminToken}`, "content-type": "application/json" },
    body: json === undefined ? undefined : JSON.stringify(json),
  });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : null) as T };
}

async function until<T>(what: string, check: () => Promise<T | undefined | null | false>, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

async function ingestPush(n: number): Promise<number> {
  const body = JSON.stringify({
    ref: "refs/heads/main",
    after: randomUUID(),
    n,
    repository: { full_name: `${owner}/${repo}` },
  });
  const response = await sendWebhook(relay.url, { owner, repo, secret: ingestSecret }, body);
  await response.arrayBuffer();
  return response.status;
}

beforeAll(async () => {
  [relay, receiver] = await Promise.all([
    startRelay({
      CIRCUIT_OPEN_AFTER_FAILURES: "3",
      CIRCUIT_PROBE_SECONDS: "1",
      // About 9 seconds without a success disables it.
      AUTO_DISABLE_AFTER_DAYS: "0.0001",
      DELIVERY_RETRY_SCHEDULE: Array(RETRIES).fill("1").join(","),
    }),
    startReceiver(),
  ]);
  receiver.respond("/hook", (request) => {
    const guid = String(request.headers["x-github-delivery"]);
    if (request.headers["x-github-event"] !== "push") return 200;
    (down ? refused : accepted).push(guid);
    return down ? 503 : 200;
  });
}, 120_000);

afterAll(async () => {
  await Promise.all([relay?.stop(), receiver?.close()]);
});

describe("a receiver that is down", () => {
  it("gets a bounded number of attempts, is disabled, and after enable + recover gets every event once", async () => {
    const hook = await api("POST", `/repos/${owner}/${repo}/hooks`, {
      events: ["push"],
      config: { url: `${receiver.url}/hook`, content_type: "json" },
    });
    expect(hook.status).toBe(201);
    await receiver.waitFor("/hook", 1); // the ping, answered 200
    expect((await api("PUT", `/repos/${owner}/${repo}/ingest`, { secret: ingestSecret })).status).toBe(200);

    down = true;
    const since = new Date(Date.now() - 1000).toISOString();
    for (let n = 0; n < EVENTS; n++) expect(await ingestPush(n)).toBe(202);

    // The window passes with every attempt failing: the relay disables the hook.
    const disabled = await until("the hook to be disabled", async () => {
      const { body } = await api("GET", `/relay/subscriptions/${hook.body.id}`);
      return body.active === false ? body : null;
    });
    expect(disabled.disabled_reason).toMatch(/no successful delivery/);
    expect(disabled.health.state).toBe("disabled");
    expect((await api("GET", `/repos/${owner}/${repo}/hooks/${hook.body.id}`)).body.active).toBe(false);

    // Without the breaker each event would have been tried 1 + RETRIES times.
    const tried = refused.length;
    expect(tried).toBeGreaterThanOrEqual(3);
    expect(tried).toBeLessThan((EVENTS * (1 + RETRIES)) / 2);
    const log = await api<any[]>("GET", `/relay/deliveries?subscription_id=${hook.body.id}&event=push&per_page=100`);
    expect(log.body).toHaveLength(EVENTS);
    // Every delivery ended failed: the ones still pending with the reason it was disabled for,
    // and a probe that used up its own retries (probes are real attempts) with that.
    expect(log.body.every((d) => d.state === "failed")).toBe(true);
    const reasons = new Set(log.body.map((d) => d.failure_reason as string));
    expect(reasons).toContain(disabled.disabled_reason);
    for (const reason of reasons) if (reason !== disabled.disabled_reason) expect(reason).toMatch(/^gave up after/);
    const guids = log.body.map((d) => d.guid as string).sort();

    // The receiver is fixed; the operator enables the hook and recovers the window.
    down = false;
    const enabled = await api("POST", `/relay/subscriptions/${hook.body.id}/enable`);
    expect(enabled.body).toMatchObject({ active: true, disabled_reason: null, health: { state: "healthy" } });
    const recovered = await api("POST", `/relay/subscriptions/${hook.body.id}/recover`, { since });
    expect(recovered).toEqual({ status: 202, body: { deliveries: EVENTS } });

    await until("every event to arrive", async () => new Set(accepted).size >= EVENTS);
    await until("every delivery to succeed", async () => {
      const { body } = await api<any[]>(
        "GET",
        `/relay/deliveries?subscription_id=${hook.body.id}&event=push&state=succeeded&per_page=100`,
      );
      return body.length === EVENTS;
    });
    expect([...accepted].sort()).toEqual(guids);
    // The GUIDs are the ones the receiver saw, and refused, while it was down.
    for (const guid of new Set(refused)) expect(guids).toContain(guid);
    expect((await api("GET", `/relay/subscriptions/${hook.body.id}`)).body.health).toMatchObject({
      state: "healthy",
      consecutive_failures: 0,
    });
  }, 150_000);
});
