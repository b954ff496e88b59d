// Runs in workerd with real D1 and Queues: inbound GitHub webhooks, relayed to hooks.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { hmac, toHex, utf8 } from "../../src/relay/crypto";
import { call, callJson, createHook, eventually, interceptDeliveries, mintToken } from "./helpers";

const secret = "inbound-secret";
const repoPath = "/repos/octo/ingested";

async function signature(body: string, key = secret, hash: "SHA-1" | "SHA-256" = "SHA-256") {
  return `${hash === "SHA-1" ? "sha1" : "sha256"}=${toHex(await hmac(key, hash, utf8(body)))}`;
}

async function ingest(body: string, headers: Record<string, string> = {}, path = "/ingest/github/octo/ingested") {
  return callJson("POST", path, {
    token: null,
    body,
    headers: {
      "content-type": "application/json",
      "x-github-event": "push",
      "x-github-delivery": crypto.randomUUID(),
      "x-hub-signature-256": await signature(body),
      ...headers,
    },
  });
}

const eventCount = async () =>
  (await env.DB.prepare("SELECT count(*) AS n FROM events WHERE source = 'github'").first<{ n: number }>())?.n;

describe("setting up inbound relaying", () => {
  it("PUT stores the secret and answers with the ingest URL, never the secret", async () => {
    const { status, body } = await callJson("PUT", `${repoPath}/ingest`, { json: { secret } });
    expect(status).toBe(200);
    expect(body).toEqual({
      url: "https://relay.test/ingest/github/octo/ingested",
      content_type: "json",
      secret: "********",
    });
    expect((await callJson("GET", `${repoPath}/ingest`)).body.url).toBe(body.url);
    const stored = await env.DB.prepare("SELECT ingest_secret FROM repositories").all();
    expect(JSON.stringify(stored.results)).not.toContain(secret);
  });

  it("validates the secret and needs write access", async () => {
    expect((await callJson("PUT", `${repoPath}/ingest`, { json: {} })).status).toBe(422);
    expect((await callJson("PUT", `${repoPath}/ingest`, { json: { secret: "short" } })).status).toBe(422);
    const reader = await mintToken({ login: "reader" });
    expect((await call("PUT", `${repoPath}/ingest`, { token: reader, json: { secret } })).status).toBe(403);
    expect((await call("PUT", `${repoPath}/ingest`, { token: null, json: { secret } })).status).toBe(401);
  });
});

describe("POST /ingest/github/:owner/:repo", () => {
  it("verifies, stores, answers 202 and fans out by X-GitHub-Event", async () => {
    await callJson("PUT", `${repoPath}/ingest`, { json: { secret } });
    const receiver = interceptDeliveries();
    await createHook(repoPath, { url: "https://example.com/in-push" }, { events: ["push"] });
    await createHook(repoPath, { url: "https://example.com/in-all" }, { events: ["*"] });
    await createHook(repoPath, { url: "https://example.com/in-issues" }, { events: ["issues"] });
    const payload = JSON.stringify({ ref: "refs/heads/main", after: "a".repeat(40) });
    const { status, body } = await ingest(payload);
    expect(status).toBe(202);
    expect(body).toMatchObject({ message: "Accepted", deliveries: 2 });
    await eventually(() => {
      expect(receiver.to("https://example.com/in-push").some((c) => c.body === payload)).toBe(true);
      expect(receiver.to("https://example.com/in-all").some((c) => c.body === payload)).toBe(true);
    });
    expect(receiver.to("https://example.com/in-issues").every((c) => c.headers["x-github-event"] === "ping")).toBe(
      true,
    );
  });

  it("falls back to the sha1 X-Hub-Signature", async () => {
    const payload = JSON.stringify({ zen: "sha1" });
    const { status } = await ingest(payload, {
      "x-hub-signature-256": "",
      "x-hub-signature": await signature(payload, secret, "SHA-1"),
    });
    expect(status).toBe(202);
  });

  it.each([
    ["a wrong secret", async (b: string) => ({ "x-hub-signature-256": await signature(b, "not-the-secret") })],
    ["no signature", async () => ({ "x-hub-signature-256": "" })],
    ["a tampered body", async (b: string) => ({ "x-hub-signature-256": await signature(`${b} `) })],
    ["a malformed signature", async () => ({ "x-hub-signature-256": "sha256=zz" })],
    ["an empty sha256 value", async () => ({ "x-hub-signature-256": "sha256=" })],
    ["a bare prefix", async () => ({ "x-hub-signature-256": "sha256" })],
    ["a signature cut short", async (b: string) => ({ "x-hub-signature-256": (await signature(b)).slice(0, -2) })],
    ["a signature cut to half", async (b: string) => ({ "x-hub-signature-256": (await signature(b)).slice(0, 39) })],
    [
      "a signature cut to an odd length",
      async (b: string) => ({ "x-hub-signature-256": (await signature(b)).slice(0, -1) }),
    ],
    ["a signature with a byte too many", async (b: string) => ({ "x-hub-signature-256": `${await signature(b)}00` })],
    ["an empty sha1 and no sha256", async () => ({ "x-hub-signature-256": "", "x-hub-signature": "sha1=" })],
    [
      "a truncated sha1",
      async (b: string) => ({
        "x-hub-signature-256": "",
        "x-hub-signature": (await signature(b, secret, "SHA-1")).slice(0, -2),
      }),
    ],
    [
      "a sha1 value under the sha256 header",
      async (b: string) => ({ "x-hub-signature-256": `sha256=${(await signature(b, secret, "SHA-1")).slice(5)}` }),
    ],
  ])("answers 401 to %s and stores nothing", async (_name, headers) => {
    const before = await eventCount();
    const payload = JSON.stringify({ ref: "refs/heads/evil" });
    const { status, body } = await ingest(payload, await headers(payload));
    expect(status).toBe(401);
    expect(body.message).toMatch(/signature/i);
    expect(await eventCount()).toBe(before);
  });

  it("deduplicates on X-GitHub-Delivery", async () => {
    const payload = JSON.stringify({ ref: "refs/heads/dedupe" });
    const guid = crypto.randomUUID();
    expect((await ingest(payload, { "x-github-delivery": guid })).status).toBe(202);
    const before = await eventCount();
    const again = await ingest(payload, { "x-github-delivery": guid });
    expect(again.status).toBe(200);
    expect(again.body.message).toMatch(/Already received/);
    expect(await eventCount()).toBe(before);
  });

  it("accepts form-encoded payloads, signed over the raw body", async () => {
    const payload = JSON.stringify({ ref: "refs/heads/form" });
    const body = new URLSearchParams({ payload }).toString();
    const { status } = await ingest(body, {
      "content-type": "application/x-www-form-urlencoded",
      "x-hub-signature-256": await signature(body),
    });
    expect(status).toBe(202);
    const stored = await env.DB.prepare("SELECT payload FROM events ORDER BY rowid DESC").first<{ payload: string }>();
    expect(stored?.payload).toBe(payload);
  });

  it("accepts a secret rotated elsewhere at once, though this isolate cached the old one", async () => {
    const payload = JSON.stringify({ ref: "refs/heads/rotation" });
    expect((await ingest(payload)).status).toBe(202); // caches the current secret
    // Another isolate rotates the secret: only D1 changes, this isolate's cache does not.
    const { encryptSecret } = await import("../../src/relay/crypto");
    await env.DB.prepare("UPDATE repositories SET ingest_secret = ? WHERE full_name = 'octo/ingested'")
      .bind(await encryptSecret(env, "rotated-secret"))
      .run();
    const rotated = await ingest(payload, { "x-hub-signature-256": await signature(payload, "rotated-secret") });
    expect(rotated.status).toBe(202);
    expect((await ingest(payload, { "x-hub-signature-256": await signature(payload, "wrong") })).status).toBe(401);
    await callJson("PUT", `${repoPath}/ingest`, { json: { secret } });
  });

  it("answers ping with 200 and relays nothing", async () => {
    const before = await eventCount();
    const { status } = await ingest("{}", { "x-github-event": "ping" });
    expect(status).toBe(200);
    expect(await eventCount()).toBe(before);
  });

  it("answers 400 to malformed JSON or a missing event header, 404 to an unknown repo, 413 to oversize bodies", async () => {
    const before = await eventCount();
    expect((await ingest("{not json")).status).toBe(400);
    expect((await ingest("{}", { "x-github-event": "" })).status).toBe(400);
    expect((await ingest("{}", {}, "/ingest/github/octo/unknown")).status).toBe(404);
    const oversize = await call("POST", "/ingest/github/octo/ingested", {
      token: null,
      headers: { "content-length": String(26 * 1024 * 1024), "x-github-event": "push" },
      body: "{}",
    });
    expect(oversize.status).toBe(413);
    expect(await eventCount()).toBe(before);
  });

  it("stores payloads too big for one D1 row in parts, and delivers them whole", async () => {
    const receiver = interceptDeliveries();
    const payload = JSON.stringify({ ref: "refs/heads/big", blob: "b".repeat(1_200_000) });
    const { status } = await ingest(payload);
    expect(status).toBe(202);
    await eventually(() =>
      expect(receiver.to("https://example.com/in-push").some((c) => c.body === payload)).toBe(true),
    );
  });
});

describe("POST /hooks/:id/tests", () => {
  it("re-sends the repository's latest push to a hook that takes push", async () => {
    const receiver = interceptDeliveries();
    const hook = await createHook(repoPath, { url: "https://example.com/tested" }, { events: ["push"] });
    const latest = JSON.stringify({ ref: "refs/heads/latest" });
    await ingest(latest);
    await eventually(() => expect(receiver.to("https://example.com/tested").some((c) => c.body === latest)).toBe(true));
    const before = receiver.to("https://example.com/tested").length;
    for (const path of ["tests", "test"]) {
      expect((await call("POST", `${repoPath}/hooks/${hook.id}/${path}`)).status).toBe(204);
    }
    await eventually(() => expect(receiver.to("https://example.com/tested")).toHaveLength(before + 2));
    expect(
      receiver
        .to("https://example.com/tested")
        .slice(-2)
        .map((c) => c.body),
    ).toEqual([latest, latest]);
  });

  it("answers 204 and sends nothing to a hook that does not take push", async () => {
    const hook = await createHook(repoPath, { url: "https://example.com/untested" }, { events: ["issues"] });
    expect((await call("POST", `${repoPath}/hooks/${hook.id}/tests`)).status).toBe(204);
    const rows = await env.DB.prepare(
      "SELECT count(*) AS n FROM deliveries d JOIN events e ON e.id = d.event_id WHERE d.subscription_id = ? AND e.type = 'push'",
    )
      .bind(hook.id)
      .first();
    expect(rows).toEqual({ n: 0 });
  });
});
