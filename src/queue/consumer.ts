/**
 * Queue consumers. Delivery is at-least-once, so every step is idempotent: a message
 * for a delivery that already succeeded, failed, or is held by another consumer does
 * nothing but ack.
 */

import { claimDelivery, failWithoutAttempt, markDeadLettered } from "../core/deliveries";
import { attemptDelivery } from "../core/dispatch";
import { config, type DeliveryMessage, type Env } from "../env";

/** Extra lease beyond the receiver timeout, covering signing and the D1 writes. */
const LEASE_MARGIN_MS = 30_000;

export async function consumeDeliveries(batch: MessageBatch<DeliveryMessage>, env: Env): Promise<void> {
  const cfg = config(env);
  // Receivers are independent, so a batch is sent concurrently: one slow receiver
  // does not hold up the others.
  await Promise.all(
    batch.messages.map(async (message) => {
      try {
        const delivery = await claimDelivery(env, message.body.deliveryId, cfg.deliveryTimeoutMs + LEASE_MARGIN_MS);
        if (!delivery) return message.ack();
        if (!delivery.active) {
          await failWithoutAttempt(env, delivery.id, "the subscription is inactive");
          return message.ack();
        }
        const verdict = await attemptDelivery(env, cfg, delivery);
        if (verdict.kind === "retry") return message.retry({ delaySeconds: verdict.delaySeconds });
        if (verdict.kind === "failed") {
          // Already marked failed in D1; the DLQ copy is for operators and alerting.
          await env.DEAD_LETTERS.send(message.body).catch((error: unknown) => {
            console.warn(`delivery ${delivery.id} failed, and its dead-letter send failed too`, String(error));
          });
        }
        return message.ack();
      } catch (error) {
        // An infrastructure fault (D1, crypto), not a receiver failure: let the queue
        // retry it; after max_retries it lands in the dead-letter queue.
        console.error(`delivery ${message.body.deliveryId} crashed`, String(error));
        return message.retry();
      }
    }),
  );
}

/** Everything in the dead-letter queue ends failed, and stays visible in the delivery log. */
export async function consumeDeadLetters(batch: MessageBatch<DeliveryMessage>, env: Env): Promise<void> {
  for (const message of batch.messages) {
    await markDeadLettered(env, message.body.deliveryId);
    console.warn(`delivery ${message.body.deliveryId} is dead-lettered`);
    message.ack();
  }
}
