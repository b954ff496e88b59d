// Runs in workerd: rotating SECRETS_KEY. Secrets sealed under the old key keep signing
// deliveries and verifying webhooks while SECRETS_KEY_PREVIOUS holds it; the scheduled
// re-seal moves every sealed column to the new key, after which the old one can go.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { encryptSecret, fromBase64, toBase64 } from "../../src/relay/crypto";
import { resealSecrets } from "../../src/relay/reseal";
import { sealedHookSecrets } from "../../src/relay/subscriptions";
import { callJson, createHook, fakeGitHub, holdQueue } from "./helpers";
import { callWith, consumeWith, envWith, runScheduled } from "./with-env";

const KEY_A = env.SECRETS_KEY as string; // the key in vitest.config.ts
const KEY_B = toBase64(new Uint8Array(32).fill(7));
const KEY_C = toBase64(new Uint8Array(32).fill(9));

const rotating = envWith({ SECRETS_KEY: KEY_B, SECRETS_KEY_PREVIOUS: KEY_A });
const rotated = envWith({ SECRETS_KEY: KEY_B, SECRETS_KEY_PREVIOUS: undefined });

/** The key id, computed here rather than by the code under test. */
async function kidOf(base64Key: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", fromBase64(base64Key)));
  return [...digest.slice(0, 4)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

async function hmacHex(secret: string, body: string): Promise<string> {
  const key = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(body)));
  return [...mac].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** A secret sealed the way hookrelay did before key ids: `v1.<iv>.<ciphertext>`. */
async function sealV1(base64Key: string, secret: string): Promise<string> {
  const key = await crypto.subtle.importKey("raw", fromBase64(base64Key), "AES-GCM", false, ["encrypt"]);
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const sealed = await crypto.subtle.encrypt({ name: "AES-GCM", iv }, key, new TextEncoder().encode(secret));
  return `v1.${toBase64(iv)}.${toBase64(sealed)}`;
}

async function setHookSecret(id: number, sealed: string) {
  await env.DB.prepare("UPDATE subscriptions SET secret = ? WHERE id = ?").bind(sealed, id).run();
}

async function sealedValue(table: string, column: string, where: string, value: string | number) {
  const row = await env.DB.prepare(`SELECT ${column} AS sealed FROM ${table} WHERE ${where} = ?`)
    .bind(value)
    .first<{ sealed: string }>();
  return row?.sealed ?? "";
}

/** Publishes a push to the repository without the queue, and returns each hook's delivery id. */
async function pushTo(subject: string, hookIds: number[]): Promise<Map<number, number>> {
  const sendBatch = holdQueue();
  const { publish } = await import("../../src/relay/events");
  const published = await publish(env, {
    type: "push",
    subjectType: "repository",
    subject,
    source: "api",
    payload: JSON.stringify({ ref: "refs/heads/main", n: Math.random() }),
  });
  sendBatch.mockRestore();
  const deliveries = new Map<number, number>();
  for (const hookId of hookIds) {
    const row = await env.DB.prepare("SELECT id FROM deliveries WHERE subscription_id = ? AND event_id = ?")
      .bind(hookId, published.eventId)
      .first<{ id: number }>();
    deliveries.set(hookId, row?.id as number);
  }
  return deliveries;
}

async function signedRequest(secret: string, event: string, payload: unknown) {
  const body = JSON.stringify(payload);
  return {
    token: null,
    body,
    headers: {
      "content-type": "application/json",
      "x-github-event": event,
      "x-github-delivery": crypto.randomUUID(),
      "x-hub-signature-256": `sha256=${await hmacHex(secret, body)}`,
    },
  };
}

describe("rotating SECRETS_KEY", () => {
  it("keeps every secret working through the rotation, re-seals them all, then needs only the new key", async () => {
    const github = fakeGitHub();
    const kidA = await kidOf(KEY_A);
    const kidB = await kidOf(KEY_B);

    // Under key A: two hooks (one sealed as before key ids), an ingest secret, an auto build.
    const hook = await createHook("/repos/octo/rotation", {
      url: "https://receiver.example/new",
      secret: "hook-secret",
    });
    const legacy = await createHook("/repos/octo/rotation", { url: "https://receiver.example/old" });
    await setHookSecret(legacy.id, await sealV1(KEY_A, "legacy-secret"));
    expect((await callJson("PUT", "/repos/octo/rotation/ingest", { json: { secret: "ingest-secret" } })).status).toBe(
      200,
    );
    const app = (await callJson("POST", "/apps", { json: { name: "rotation", space: "default" } })).body;
    const created = await callJson("POST", "/apps/rotation-default/builds/auto", {
      json: { repo: "https://github.com/octo/rotation", branch: "main", username: "octocat", token: "gh-token" },
    });
    expect(created.status).toBe(201);
    const callbackSecret = github.hooks.at(-1)?.body.config.secret as string;

    expect(await sealedValue("subscriptions", "secret", "id", hook.id)).toMatch(new RegExp(`^v2\\.${kidA}\\.`));
    expect(await sealedValue("repositories", "ingest_secret", "full_name", "octo/rotation")).toMatch(
      new RegExp(`^v2\\.${kidA}\\.`),
    );
    expect(await sealedValue("auto_builds", "secret", "app_id", app.id)).toMatch(new RegExp(`^v2\\.${kidA}\\.`));

    // Rotated, with the old key as SECRETS_KEY_PREVIOUS: deliveries still carry the right HMAC.
    let deliveries = await pushTo("octo/rotation", [hook.id, legacy.id]);
    for (const [hookId, secret, url] of [
      [hook.id, "hook-secret", "https://receiver.example/new"],
      [legacy.id, "legacy-secret", "https://receiver.example/old"],
    ] as const) {
      expect((await consumeWith(rotating, deliveries.get(hookId) as number)).acked).toBe(true);
      const sent = github.receiver.to(url).at(-1);
      expect(sent?.headers["x-hub-signature-256"]).toBe(`sha256=${await hmacHex(secret, sent?.body ?? "")}`);
    }
    // New secrets are sealed under the new key at once.
    const fresh = await callWith(rotating, "POST", "/repos/octo/rotation/hooks", {
      json: { config: { url: "https://receiver.example/fresh", content_type: "json", secret: "fresh-secret" } },
    });
    expect(fresh.status).toBe(201);
    expect(await sealedValue("subscriptions", "secret", "id", fresh.body.id)).toMatch(new RegExp(`^v2\\.${kidB}\\.`));

    // The scheduled run re-seals every sealed column under the new key.
    await runScheduled(rotating);
    const leftOver = await env.DB.prepare(
      `SELECT 'subscriptions' AS t, secret AS s FROM subscriptions WHERE secret IS NOT NULL
       UNION ALL SELECT 'repositories', ingest_secret FROM repositories WHERE ingest_secret IS NOT NULL
       UNION ALL SELECT 'auto_builds', secret FROM auto_builds`,
    ).all<{ t: string; s: string }>();
    expect(leftOver.results.length).toBeGreaterThanOrEqual(5);
    expect(leftOver.results.filter((row) => !row.s.startsWith(`v2.${kidB}.`))).toEqual([]);

    // The old key is gone: deliveries, the ingest URL and the auto build's callback all still verify.
    deliveries = await pushTo("octo/rotation", [hook.id, legacy.id]);
    for (const [hookId, secret, url] of [
      [hook.id, "hook-secret", "https://receiver.example/new"],
      [legacy.id, "legacy-secret", "https://receiver.example/old"],
    ] as const) {
      expect((await consumeWith(rotated, deliveries.get(hookId) as number)).acked).toBe(true);
      const sent = github.receiver.to(url).at(-1);
      expect(sent?.headers["x-hub-signature-256"]).toBe(`sha256=${await hmacHex(secret, sent?.body ?? "")}`);
    }
    const ingested = await callWith(
      rotated,
      "POST",
      "/ingest/github/octo/rotation",
      await signedRequest("ingest-secret", "ping", { zen: "rotated" }),
    );
    expect(ingested.status).toBe(200);
    const called = await callWith(
      rotated,
      "POST",
      `/apps/${app.id}/builds/auto/github`,
      await signedRequest(callbackSecret, "ping", { zen: "rotated" }),
    );
    expect(called.status).toBe(200);
  });

  it("does not send, unsigned or otherwise, what no configured key opens: the attempt says why and is retried", async () => {
    const github = fakeGitHub();
    const hook = await createHook("/repos/octo/lost-key", { url: "https://receiver.example/lost", secret: "s" });
    await setHookSecret(hook.id, await encryptSecret(envWith({ SECRETS_KEY: KEY_C }), "sealed-under-c"));
    const deliveries = await pushTo("octo/lost-key", [hook.id]);
    const deliveryId = deliveries.get(hook.id) as number;
    const { retry } = await consumeWith(rotating, deliveryId);
    expect(retry).toHaveBeenCalledWith({ delaySeconds: 1 });
    expect(github.receiver.to("https://receiver.example/lost")).toHaveLength(0);
    const attempt = await env.DB.prepare("SELECT status, status_code FROM delivery_attempts WHERE delivery_id = ?")
      .bind(deliveryId)
      .first<{ status: string; status_code: number | null }>();
    expect(attempt?.status_code).toBeNull();
    expect(attempt?.status).toContain(`Not sent: A stored secret is sealed under key ${await kidOf(KEY_C)}`);
    expect(attempt?.status).toContain("SECRETS_KEY_PREVIOUS");
    const delivery = await env.DB.prepare("SELECT state FROM deliveries WHERE id = ?").bind(deliveryId).first();
    expect(delivery).toEqual({ state: "pending" });
    await env.DB.prepare("DELETE FROM subscriptions WHERE id = ?").bind(hook.id).run();
  });

  it("re-seals at most `limit` rows per column per run, resumes where it stopped, and skips what it cannot open", async () => {
    const keyD = toBase64(new Uint8Array(32).fill(11));
    const next = envWith({ SECRETS_KEY: keyD, SECRETS_KEY_PREVIOUS: KEY_B });
    const kidD = await kidOf(keyD);
    const ids: number[] = [];
    for (let i = 0; i < 5; i++) {
      const hook = await createHook("/repos/octo/batches", { url: `https://receiver.example/b${i}` });
      await setHookSecret(hook.id, await encryptSecret(rotated, `batch-secret-${i}`));
      ids.push(hook.id);
    }
    const unreadable = await createHook("/repos/octo/batches", { url: "https://receiver.example/unreadable" });
    await setHookSecret(unreadable.id, await sealV1(KEY_C, "nobody-has-this-key"));
    const notUnderD = async () =>
      (
        await env.DB.prepare("SELECT COUNT(*) AS n FROM subscriptions WHERE secret IS NOT NULL AND secret NOT LIKE ?")
          .bind(`v2.${kidD}.%`)
          .first<{ n: number }>()
      )?.n ?? 0;

    const before = await notUnderD();
    const first = await resealSecrets(next, [sealedHookSecrets], 2);
    expect(first).toMatchObject({ kid: kidD, resealed: 2, complete: false });
    expect(await notUnderD()).toBe(before - 2);

    let runs = 1;
    let report = first;
    while (!report?.complete) {
      report = await resealSecrets(next, [sealedHookSecrets], 2);
      expect(report?.resealed).toBeLessThanOrEqual(2);
      if (++runs > 20) throw new Error("the re-seal never completed");
    }
    expect(report?.unreadable).toBe(1);
    expect(await notUnderD()).toBe(1); // only the row no key opens
    const { decryptSecret } = await import("../../src/relay/crypto");
    const onlyD = envWith({ SECRETS_KEY: keyD, SECRETS_KEY_PREVIOUS: undefined });
    for (const [i, id] of ids.entries()) {
      expect(await decryptSecret(onlyD, await sealedValue("subscriptions", "secret", "id", id))).toBe(
        `batch-secret-${i}`,
      );
    }
    // Without SECRETS_KEY_PREVIOUS there is nothing to rotate from: the job does nothing.
    expect(await resealSecrets(onlyD, [sealedHookSecrets], 2)).toBeNull();
  });
});
