// Runs in workerd: a missing or malformed SECRETS_KEY or a missing ADMIN_TOKEN is named, with
// a 503, by /health and by every route that needs it, in that route's dialect's error shape.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createHook, fakeGitHub, holdQueue, mintToken } from "./helpers";
import { callWith, consumeWith, envWith } from "./with-env";

const noKey = envWith({ SECRETS_KEY: undefined });
const noAdmin = envWith({ ADMIN_TOKEN: undefined });

describe("GET /health", () => {
  it("answers 200 ok when every setting is right", async () => {
    const { status, body } = await callWith(env, "GET", "/health", { token: null });
    expect(status).toBe(200);
    expect(body).toEqual({ status: "ok", service: "hookrelay" });
  });

  it("answers 503 naming SECRETS_KEY when it is missing", async () => {
    const { status, body } = await callWith(noKey, "GET", "/health", { token: null });
    expect(status).toBe(503);
    expect(body.status).toBe("misconfigured");
    expect(body.problems).toEqual([expect.stringMatching(/^SECRETS_KEY is not set: /)]);
  });

  it("answers 503 naming SECRETS_KEY when it is not 32 bytes of base64", async () => {
    for (const [value, found] of [
      ["c2hvcnQ=", "decodes to 5 bytes"],
      ["correct horse battery staple", "is not base64"],
      // 32 bytes, but base64url: the rule is the standard alphabet openssl prints.
      ["_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-", "is not base64"],
    ]) {
      const { status, body } = await callWith(envWith({ SECRETS_KEY: value }), "GET", "/health", { token: null });
      expect(status).toBe(503);
      expect(body.problems).toEqual([expect.stringContaining(`SECRETS_KEY is malformed`)]);
      expect(body.problems[0]).toContain(found);
      expect(body.problems[0]).not.toContain(value);
    }
    // 32 bytes of standard base64 with the padding left off, or a trailing newline, are fine.
    for (const value of ["MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY", `${env.SECRETS_KEY}\n`]) {
      expect((await callWith(envWith({ SECRETS_KEY: value }), "GET", "/health", { token: null })).status).toBe(200);
    }
  });

  it("answers 503 naming ADMIN_TOKEN when it is missing, and lists every problem", async () => {
    const { status, body } = await callWith(noAdmin, "GET", "/health", { token: null });
    expect(status).toBe(503);
    expect(body.problems).toEqual([expect.stringMatching(/^ADMIN_TOKEN is not set: /)]);
    const both = await callWith(envWith({ ADMIN_TOKEN: undefined, SECRETS_KEY: undefined }), "GET", "/health", {
      token: null,
    });
    expect(both.body.problems).toHaveLength(2);
  });
});

describe("routes that need a missing setting", () => {
  it("answer 503 in GitHub's shape when a hook secret cannot be sealed, and store nothing", async () => {
    const { status, body } = await callWith(noKey, "POST", "/repos/octo/nokey/hooks", {
      json: { config: { url: "https://receiver.example/nokey", content_type: "json", secret: "s3cret" } },
    });
    expect(body.message).toMatch(/^SECRETS_KEY is not set: /);
    expect(status).toBe(503);
    expect(body.documentation_url).toBeDefined();
    const count = await env.DB.prepare("SELECT COUNT(*) AS n FROM subscriptions WHERE subject = 'octo/nokey'").first();
    expect(count).toEqual({ n: 0 });
    // A malformed key is refused the same way.
    const malformed = await callWith(envWith({ SECRETS_KEY: "c2hvcnQ=" }), "PUT", "/repos/octo/nokey/ingest", {
      json: { secret: "ingest-s3cret" },
    });
    expect(malformed.status).toBe(503);
    expect(malformed.body.message).toMatch(/^SECRETS_KEY is malformed: /);
  });

  it("answer 503 to a signed webhook whose ingest secret cannot be opened", async () => {
    await callWith(env, "PUT", "/repos/octo/nokey-ingest/ingest", { json: { secret: "ingest-s3cret" } });
    const { status, body } = await callWith(noKey, "POST", "/ingest/github/octo/nokey-ingest", {
      token: null,
      body: "{}",
      headers: { "x-github-event": "ping", "x-hub-signature-256": `sha256=${"0".repeat(64)}` },
    });
    expect(body.message).toMatch(/^SECRETS_KEY is not set: /);
    expect(status).toBe(503);
  });

  it("answer 503 in Akkeris' shape, before any webhook is registered on GitHub", async () => {
    const github = fakeGitHub();
    await callWith(env, "POST", "/apps", { json: { name: "nokey", space: "default" } });
    const { status, body } = await callWith(noKey, "POST", "/apps/nokey-default/builds/auto", {
      json: { repo: "https://github.com/octo/nokey", branch: "main", username: "octocat", token: "gh-token" },
    });
    expect(status).toBe(503);
    expect(body).toEqual({ code: 503, message: expect.stringMatching(/^SECRETS_KEY is not set: /) });
    expect(github.hooks).toHaveLength(0);
  });

  it("answer 503 in Alauda's shape", async () => {
    const { status, body } = await callWith(noKey, "POST", "/v1/hooks", {
      json: {
        subject_type: "build_repo",
        subject: "default/nokey",
        events: ["build:complete"],
        url: "https://receiver.example/alauda",
        secret: "123456",
      },
    });
    expect(status).toBe(503);
    expect(body.errors).toEqual([
      expect.objectContaining({ message: expect.stringMatching(/^SECRETS_KEY is not set/) }),
    ]);
  });

  it("answer 503 naming ADMIN_TOKEN on the token API, and to a credential that is no API token", async () => {
    const token = await mintToken({ login: "still-works", write: true });
    const tokens = await callWith(noAdmin, "GET", "/tokens", { token });
    expect(tokens.status).toBe(503);
    expect(tokens.body.message).toMatch(/^ADMIN_TOKEN is not set: /);
    const minted = await callWith(noAdmin, "POST", "/tokens", { token: "what-the-admin-thinks-it-is", json: {} });
    expect(minted.status).toBe(503);
    const elsewhere = await callWith(noAdmin, "GET", "/apps", { token: "what-the-admin-thinks-it-is" });
    expect(elsewhere.status).toBe(503);
    expect(elsewhere.body).toEqual({ code: 503, message: expect.stringMatching(/^ADMIN_TOKEN is not set: /) });
    // API tokens minted before keep working, and no credential at all is still a 401.
    expect((await callWith(noAdmin, "GET", "/apps", { token })).status).toBe(200);
    expect((await callWith(noAdmin, "GET", "/apps", { token: null })).status).toBe(401);
  });
});

describe("a delivery whose secret cannot be opened", () => {
  it("is not sent, records why, stays pending on the retry schedule, and fails with that reason at its end", async () => {
    const github = fakeGitHub();
    const hook = await createHook("/repos/octo/nokey-delivery", {
      url: "https://receiver.example/nokey",
      secret: "s3cret",
    });
    const sendBatch = holdQueue();
    const { publish } = await import("../../src/relay/events");
    const published = await publish(env, {
      type: "push",
      subjectType: "repository",
      subject: "octo/nokey-delivery",
      source: "api",
      payload: "{}",
    });
    sendBatch.mockRestore();
    const row = await env.DB.prepare("SELECT id FROM deliveries WHERE subscription_id = ? AND event_id = ?")
      .bind(hook.id, published.eventId)
      .first<{ id: number }>();
    const deliveryId = row?.id as number;

    // The schedule in vitest.config.ts is "1,1": two retries, then the delivery has failed.
    for (let attempt = 1; attempt <= 2; attempt++) {
      const { retry } = await consumeWith(noKey, deliveryId);
      expect(retry).toHaveBeenCalledWith({ delaySeconds: 1 });
      const delivery = await env.DB.prepare("SELECT state FROM deliveries WHERE id = ?").bind(deliveryId).first();
      expect(delivery).toEqual({ state: "pending" });
      await env.DB.prepare("UPDATE deliveries SET next_attempt_at = 0 WHERE id = ?").bind(deliveryId).run();
    }
    await consumeWith(noKey, deliveryId);
    expect(github.receiver.to("https://receiver.example/nokey")).toHaveLength(0);
    const attempts = await env.DB.prepare("SELECT status FROM delivery_attempts WHERE delivery_id = ?")
      .bind(deliveryId)
      .all<{ status: string }>();
    expect(attempts.results).toHaveLength(3);
    for (const attempt of attempts.results) expect(attempt.status).toMatch(/^Not sent: SECRETS_KEY is not set: /);
    const failed = await env.DB.prepare("SELECT state, failure_reason FROM deliveries WHERE id = ?")
      .bind(deliveryId)
      .first<{ state: string; failure_reason: string }>();
    expect(failed?.state).toBe("failed");
    expect(failed?.failure_reason).toMatch(/gave up after 3 attempts: Not sent: SECRETS_KEY is not set/);
  });
});
