// Runs the Worker's handlers with a changed env: a secret removed, a key rotated. The
// bindings stay the real ones (same D1, same queues); only the vars and secrets differ.
import {
  createExecutionContext,
  createMessageBatch,
  createScheduledController,
  getQueueResult,
  waitOnExecutionContext,
} from "cloudflare:test";
import { env } from "cloudflare:workers";
import { vi } from "vitest";
import type { DeliveryMessage, Env } from "../../src/env";
import worker from "../../src/index";
import { ADMIN, type CallOptions, ORIGIN } from "./helpers";

/** The test env with some settings replaced; `undefined` removes one. */
export function envWith(changes: Partial<Record<keyof Env, string | undefined>>): Env {
  return { ...env, ...changes } as Env;
}

/** Calls the Worker's fetch with `testEnv`, like `call` does with the configured one. */
export async function callWith(testEnv: Env, method: string, path: string, options: CallOptions = {}) {
  const headers: Record<string, string> = { ...options.headers };
  const token = options.token === undefined ? ADMIN : options.token;
  if (token !== null) headers.authorization ??= `token ${token}`;
  let body = options.body;
  if (options.json !== undefined) {
    body = JSON.stringify(options.json);
    headers["content-type"] ??= "application/json";
  }
  const ctx = createExecutionContext();
  const request = new Request(`${ORIGIN}${path}`, { method, headers, body });
  const response = await worker.fetch(request as Parameters<typeof worker.fetch>[0], testEnv, ctx);
  await waitOnExecutionContext(ctx);
  const text = await response.text();
  let json: any = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = text;
  }
  return { status: response.status, headers: response.headers, text, body: json };
}

/** Runs the delivery consumer on one message with `testEnv`, and reports ack/retry. */
export async function consumeWith(testEnv: Env, deliveryId: number) {
  const batch = createMessageBatch<DeliveryMessage>("hookrelay-deliveries", [
    { id: `msg-${deliveryId}-${Math.random()}`, timestamp: new Date(), attempts: 1, body: { deliveryId } },
  ]);
  const message = batch.messages[0];
  const retry = message ? vi.spyOn(message, "retry") : undefined;
  const ctx = createExecutionContext();
  await worker.queue(batch, testEnv, ctx);
  const result = await getQueueResult(batch, ctx);
  return { result, retry, acked: result.explicitAcks.length === 1 };
}

/** Runs the scheduled handler once (the sweep and the re-seal job) with `testEnv`. */
export async function runScheduled(testEnv: Env): Promise<void> {
  const ctx = createExecutionContext();
  await worker.scheduled(createScheduledController({ cron: "* * * * *", scheduledTime: Date.now() }), testEnv, ctx);
  await waitOnExecutionContext(ctx);
}
