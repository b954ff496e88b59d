// Runs in workerd: every delivery attempt writes one structured JSON log line, with no
// secret in it and no URL beyond the target's origin (no userinfo, path or query string).
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { publish } from "../../src/relay/events";
import { consume, createHook, holdQueue, interceptDeliveries } from "./helpers";

const SECRET = "log-test-hook-secret";
const URL_WITH_CREDENTIALS = "https://hook-user:hook-password@receiver.example/private/path?token=query-token";

async function deliveryTo(url: string) {
  const hook = await createHook("/repos/octo/logs", { url, secret: SECRET }, { events: ["push"] });
  const sendBatch = holdQueue();
  const published = await publish(env, {
    type: "push",
    subjectType: "repository",
    subject: "octo/logs",
    source: "api",
    payload: JSON.stringify({ ref: "refs/heads/main" }),
  });
  sendBatch.mockRestore();
  const row = await env.DB.prepare("SELECT id FROM deliveries WHERE subscription_id = ? AND event_id = ?")
    .bind(hook.id, published.eventId)
    .first<{ id: number }>();
  return { hookId: hook.id, deliveryId: row?.id as number };
}

function attemptLines(log: { mock: { calls: unknown[][] } }) {
  return log.mock.calls
    .map((args) => args.map(String).join(" "))
    .filter((line) => line.includes('"delivery.attempt"'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe("the delivery log", () => {
  it("writes one JSON line per attempt, with the outcome, and never a secret or a credential", async () => {
    let status = 500;
    interceptDeliveries(() => new Response("", { status }));
    const { hookId, deliveryId } = await deliveryTo(URL_WITH_CREDENTIALS);
    const log = vi.spyOn(console, "log");

    await consume(deliveryId);
    await env.DB.prepare("UPDATE deliveries SET next_attempt_at = 0 WHERE id = ?").bind(deliveryId).run();
    status = 200;
    await consume(deliveryId);

    const lines = attemptLines(log);
    expect(lines).toEqual([
      {
        msg: "delivery.attempt",
        delivery_id: deliveryId,
        subscription_id: hookId,
        dialect: "github",
        event: "push",
        attempt: 1,
        status_code: 500,
        outcome: "retry",
        duration_ms: expect.any(Number),
        target: "https://receiver.example",
      },
      expect.objectContaining({ attempt: 2, status_code: 200, outcome: "succeeded" }),
    ]);
    const everything = log.mock.calls.flat().map(String).join("\n");
    for (const leak of [SECRET, "hook-user", "hook-password", "query-token", "/private/path"]) {
      expect(everything).not.toContain(leak);
    }
  });

  it("says `failed` when the delivery is given up, and why when it was not sent", async () => {
    interceptDeliveries(() => new Response("gone", { status: 410 }));
    const gone = await deliveryTo("https://receiver.example/gone");
    const log = vi.spyOn(console, "log");
    await consume(gone.deliveryId);
    expect(attemptLines(log)).toEqual([expect.objectContaining({ status_code: 410, outcome: "failed" })]);

    const blocked = await deliveryTo("https://receiver.example/blocked");
    await env.DB.prepare("UPDATE subscriptions SET url = 'http://127.0.0.1:9/x?token=query-token' WHERE id = ?")
      .bind(blocked.hookId)
      .run();
    log.mockClear();
    await consume(blocked.deliveryId);
    expect(attemptLines(log)).toEqual([
      expect.objectContaining({
        status_code: null,
        outcome: "failed",
        target: "http://127.0.0.1:9",
        reason: expect.stringContaining("Blocked"),
      }),
    ]);
  });
});
