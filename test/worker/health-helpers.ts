// Helpers for the endpoint-health, retention and /relay/ API tests: drive the delivery
// consumer on whole batches (with changed vars: with-env.ts), and see what it queued.
import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { expect, vi } from "vitest";
import type { DeliveryMessage, Env } from "../../src/env";
import worker from "../../src/index";
import { publish } from "../../src/relay/events";

/**
 * Keeps messages off the real queue and records them: `ids()` lists every delivery the
 * relay enqueued since (sendBatch and send alike), `delays()` the delays it asked for.
 */
export function captureQueue() {
  const sent: { deliveryId: number; delaySeconds?: number | undefined }[] = [];
  vi.spyOn(env.DELIVERIES, "sendBatch").mockImplementation(async (messages) => {
    for (const m of messages) sent.push({ deliveryId: m.body.deliveryId, delaySeconds: m.delaySeconds });
    return undefined as never;
  });
  vi.spyOn(env.DELIVERIES, "send").mockImplementation(async (body, options) => {
    sent.push({ deliveryId: body.deliveryId, delaySeconds: options?.delaySeconds });
    return undefined as never;
  });
  const deadLetters = vi.spyOn(env.DEAD_LETTERS, "send").mockResolvedValue(undefined as never);
  return {
    sent,
    ids: () => sent.map((m) => m.deliveryId),
    clear: () => {
      sent.length = 0;
    },
    deadLetters,
  };
}

/** Runs the delivery consumer on one batch of messages and reports each one's fate. */
export async function consumeBatch(ids: number[], testEnv: Env = env) {
  const batch = createMessageBatch<DeliveryMessage>(
    "hookrelay-deliveries",
    ids.map((deliveryId, i) => ({
      id: `msg-${deliveryId}-${i}-${Math.random()}`,
      timestamp: new Date(),
      attempts: 1,
      body: { deliveryId },
    })),
  );
  const retries = batch.messages.map((message) => vi.spyOn(message, "retry"));
  const ctx = createExecutionContext();
  await worker.queue(batch, testEnv, ctx);
  const result = await getQueueResult(batch, ctx);
  return ids.map((deliveryId, i) => ({
    deliveryId,
    acked: result.explicitAcks.includes(batch.messages[i]?.id as string),
    retry: retries[i],
  }));
}

/** Publishes `count` pushes to a repository and returns the deliveries made for one hook. */
export async function pushes(subject: string, hookId: number, count: number): Promise<number[]> {
  const ids: number[] = [];
  for (let i = 0; i < count; i++) {
    const published = await publish(env, {
      type: "push",
      subjectType: "repository",
      subject,
      source: "api",
      payload: JSON.stringify({ ref: "refs/heads/main", n: i }),
    });
    const row = await env.DB.prepare("SELECT id FROM deliveries WHERE subscription_id = ? AND event_id = ?")
      .bind(hookId, published.eventId)
      .first<{ id: number }>();
    expect(row).not.toBeNull();
    ids.push(row?.id as number);
  }
  return ids;
}

export async function deliveryState(id: number) {
  return env.DB.prepare("SELECT state, attempts, failure_reason, guid, next_attempt_at FROM deliveries WHERE id = ?")
    .bind(id)
    .first<{ state: string; attempts: number; failure_reason: string | null; guid: string; next_attempt_at: number }>();
}

export async function subscriptionRow(id: number) {
  return env.DB.prepare(
    "SELECT active, consecutive_failures, failing_since, disabled_reason, probe_at FROM subscriptions WHERE id = ?",
  )
    .bind(id)
    .first<{
      active: number;
      consecutive_failures: number;
      failing_since: string | null;
      disabled_reason: string | null;
      probe_at: number;
    }>();
}

/** Makes every pending delivery of a subscription due now, and its next probe due: time passing, without the wait. */
export async function timePasses(subscriptionId: number) {
  await env.DB.batch([
    env.DB.prepare("UPDATE deliveries SET next_attempt_at = 0 WHERE subscription_id = ? AND state = 'pending'").bind(
      subscriptionId,
    ),
    env.DB.prepare("UPDATE subscriptions SET probe_at = 0 WHERE id = ? AND probe_at > 0").bind(subscriptionId),
  ]);
}
