/**
 * Queue consumers. Delivery is at-least-once, so every step is idempotent: a message
 * for a delivery that already succeeded, failed, or is held by another consumer does
 * nothing but ack.
 */

import { config, type DeliveryMessage, type Env } from "../env";
import { claimDeliveries, failWithoutAttempt, markDeadLettered, recordAttempts } from "./deliveries";
import { type Attempted, attemptDelivery, type DeliveryHeadersByDialect } from "./dispatch";

/** Extra lease beyond the receiver timeout, covering signing and the D1 writes. */
const LEASE_MARGIN_MS = 30_000;

type Step =
  | { message: Message<DeliveryMessage>; kind: "nothing" }
  | { message: Message<DeliveryMessage>; kind: "inactive"; deliveryId: number }
  | { message: Message<DeliveryMessage>; kind: "attempted"; attempted: Attempted }
  | { message: Message<DeliveryMessage>; kind: "crashed" };

/**
 * A batch is claimed in one D1 batch, sent concurrently (one slow receiver does not hold
 * up the others), and recorded in one D1 batch.
 */
export async function consumeDeliveries(
  batch: MessageBatch<DeliveryMessage>,
  env: Env,
  dialectHeaders: DeliveryHeadersByDialect,
): Promise<void> {
  const cfg = config(env);
  let claimed: Awaited<ReturnType<typeof claimDeliveries>>;
  try {
    claimed = await claimDeliveries(
      env,
      batch.messages.map((message) => message.body.deliveryId),
      cfg.deliveryTimeoutMs + LEASE_MARGIN_MS,
    );
  } catch (error) {
    // The relay's own fault (D1), not a receiver's: the queue retries, then dead-letters.
    console.error("claiming a delivery batch failed", String(error));
    for (const message of batch.messages) message.retry();
    return;
  }

  const taken = new Set<number>();
  const steps: Step[] = await Promise.all(
    batch.messages.map(async (message): Promise<Step> => {
      const delivery = claimed.get(message.body.deliveryId);
      // Duplicate messages in one batch: the first one sends, the rest have nothing to do.
      if (!delivery || taken.has(delivery.id)) return { message, kind: "nothing" };
      taken.add(delivery.id);
      if (!delivery.active) return { message, kind: "inactive", deliveryId: delivery.id };
      try {
        return { message, kind: "attempted", attempted: await attemptDelivery(env, cfg, delivery, dialectHeaders) };
      } catch (error) {
        console.error(`delivery ${delivery.id} crashed`, String(error));
        return { message, kind: "crashed" };
      }
    }),
  );

  try {
    await recordAttempts(
      env,
      steps.flatMap((step) => (step.kind === "attempted" ? [step.attempted] : [])),
    );
    for (const step of steps) {
      if (step.kind === "inactive") await failWithoutAttempt(env, step.deliveryId, "the subscription is inactive");
    }
  } catch (error) {
    console.error("recording a delivery batch failed", String(error));
    for (const message of batch.messages) message.retry();
    return;
  }

  for (const step of steps) {
    if (step.kind === "crashed") {
      step.message.retry();
    } else if (step.kind === "attempted" && step.attempted.verdict.kind === "retry") {
      step.message.retry({ delaySeconds: step.attempted.verdict.delaySeconds });
    } else if (step.kind === "attempted" && step.attempted.verdict.kind === "failed") {
      // Already marked failed in D1; the dead-letter copy is for operators and alerting.
      const deliveryId = step.message.body.deliveryId;
      await env.DEAD_LETTERS.send(step.message.body).catch((error: unknown) => {
        console.warn(`delivery ${deliveryId} failed, and its dead-letter send failed too`, String(error));
      });
      step.message.ack();
    } else {
      step.message.ack();
    }
  }
}

/** Everything in the dead-letter queue ends failed, and stays visible in the delivery log. */
export async function consumeDeadLetters(batch: MessageBatch<DeliveryMessage>, env: Env): Promise<void> {
  for (const message of batch.messages) {
    await markDeadLettered(env, message.body.deliveryId);
    console.warn(`delivery ${message.body.deliveryId} is dead-lettered`);
    message.ack();
  }
}
