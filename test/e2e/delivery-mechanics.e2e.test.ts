// End to end: how the relay sends, against a real receiver on 127.0.0.1, with the Worker
// served by `wrangler dev` (DELIVERY_TIMEOUT_MS 3000, retries after 1 s and 1 s).
// Redirects, timeouts, signatures and URL credentials are checked on the wire.
import { createHmac } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Receiver, startReceiver } from "./support/receiver";
import { type Relay, startRelay } from "./support/relay";

const repo = "/repos/e2e-org/mechanics";
let relay: Relay;
let receiver: Receiver;

async function api<T = any>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const response = await fetch(`${relay.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${relay.adminToken}`, "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : null) as T };
}

async function createHook(url: string, config: Record<string, unknown> = {}) {
  const { status, body } = await api("POST", `${repo}/hooks`, {
    events: ["push"],
    config: { url, content_type: "json", ...config },
  });
  expect(status).toBe(201);
  return body as { id: number; config: { url: string } };
}

/** The hook's attempts, oldest first, once `done` says they are complete. */
async function attemptsOf(hookId: number, done: (attempts: any[]) => boolean, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { body } = await api<any[]>("GET", `${repo}/hooks/${hookId}/deliveries`);
    const attempts = [...body].reverse();
    if (done(attempts)) return attempts;
    if (Date.now() > deadline) throw new Error(`hook ${hookId}: attempts never complete: ${JSON.stringify(body)}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

beforeAll(async () => {
  [relay, receiver] = await Promise.all([startRelay(), startReceiver()]);
}, 120_000);

afterAll(async () => {
  await Promise.all([relay?.stop(), receiver?.close()]);
});

describe("deliveries on the wire", () => {
  it("never follow a redirect: a 302 is a failed attempt, and its Location is never fetched", async () => {
    receiver.respond("/moved", () => ({ status: 302, headers: { location: `${receiver.url}/elsewhere` } }));
    const hook = await createHook(`${receiver.url}/moved`);
    // The ping: the first attempt and the schedule's two retries, all 302.
    const attempts = await attemptsOf(hook.id, (a) => a.length === 3 && a[0].delivery_state === "failed");
    expect(attempts.map((a) => a.status_code)).toEqual([302, 302, 302]);
    expect(attempts[0].failure_reason).toBe("gave up after 3 attempts: Invalid HTTP Response: 302");
    expect(receiver.on("/moved")).toHaveLength(3);
    expect(receiver.on("/elsewhere")).toEqual([]);
  });

  it("give up on a receiver that does not answer within DELIVERY_TIMEOUT_MS", async () => {
    // It would answer 200, 8 s after the request arrives: only the relay's 3 s timeout can fail it.
    receiver.respond("/slow", () => ({ status: 200, delayMs: 8000 }));
    const hook = await createHook(`${receiver.url}/slow`);
    const [first] = await attemptsOf(hook.id, (a) => a.length >= 1, 20_000);
    expect(receiver.on("/slow").length).toBeGreaterThanOrEqual(1);
    expect(first).toMatchObject({ status: "Timed out after 3000 ms", status_code: 0 });
    expect(first.duration).toBeGreaterThanOrEqual(2.9);
    expect(first.duration).toBeLessThan(6);
    expect(["pending", "failed"]).toContain(first.delivery_state);
    // Stop the retries, so the test ends in bounded time.
    expect((await api("DELETE", `${repo}/hooks/${hook.id}`)).status).toBe(204);
  });

  it("carry signatures equal, byte for byte, to HMACs computed over the body received", async () => {
    const secret = "e2e signing secret ✓";
    await createHook(`${receiver.url}/signed-json`, { secret });
    await createHook(`${receiver.url}/signed-form`, { secret, content_type: "form" });
    for (const path of ["/signed-json", "/signed-form"]) {
      const [ping] = await receiver.waitFor(path, 1);
      const raw = ping?.raw as Buffer;
      const headers = ping?.headers ?? {};
      const mac = (hash: string, ...parts: (string | Buffer)[]) =>
        parts.reduce((h, part) => h.update(part), createHmac(hash, Buffer.from(secret, "utf8")));
      expect(headers["x-hub-signature-256"], path).toBe(`sha256=${mac("sha256", raw).digest("hex")}`);
      expect(headers["x-hub-signature"], path).toBe(`sha1=${mac("sha1", raw).digest("hex")}`);
      const standard = mac("sha256", `${headers["webhook-id"]}.${headers["webhook-timestamp"]}.`, raw).digest("base64");
      expect(headers["webhook-signature"], path).toBe(`v1,${standard}`);
      expect(headers["x-hub-signature-256"]).not.toBe(
        `sha256=${createHmac("sha256", "another secret").update(raw).digest("hex")}`,
      );
    }
    expect(receiver.on("/signed-form")[0]?.headers["content-type"]).toBe("application/x-www-form-urlencoded");
  });

  it("send a URL's credentials as Basic auth, and show them nowhere", async () => {
    const password = "p@ss:word/1";
    const url = `${receiver.url.replace("http://", `http://hookuser:${encodeURIComponent(password)}@`)}/basic`;
    const hook = await createHook(url);
    const masked = `${receiver.url.replace("http://", "http://hookuser:********@")}/basic`;
    expect(hook.config.url).toBe(masked);
    const [ping] = await receiver.waitFor("/basic", 1);
    expect(ping?.headers.authorization).toBe(`Basic ${Buffer.from(`hookuser:${password}`).toString("base64")}`);
    const [attempt] = await attemptsOf(hook.id, (a) => a.length >= 1);
    const detail = await api("GET", `${repo}/hooks/${hook.id}/deliveries/${attempt.id}`);
    expect(detail.body.url).toBe(masked);
    expect(detail.body.request.headers.authorization).toBe("Basic ********");
    const everything = JSON.stringify([
      detail.body,
      (await api("GET", `${repo}/hooks`)).body,
      (await api("GET", `${repo}/hooks/${hook.id}/config`)).body,
    ]);
    for (const leak of [password, encodeURIComponent(password), ping?.headers.authorization as string]) {
      expect(everything).not.toContain(leak);
    }
  });
});
