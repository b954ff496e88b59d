/**
 * Queue consumers. Delivery is at-least-once, so every step is idempotent: a message
 * for a delivery that already succeeded, failed, or is held by another consumer does
 * nothing but ack.
 */

import { type Config, config, type DeliveryMessage, type Env } from "../env";
import {
  type ClaimedDelivery,
  claimDeliveries,
  endWithoutAttemptStatement,
  markDeadLettered,
  recordAttempts,
  releaseLeasesStatement,
} from "./deliveries";
import {
  type Attempted,
  attemptContext,
  attemptDelivery,
  type DeliveryHeadersByDialect,
  OUTBOUND_CONNECTIONS,
} from "./dispatch";
import { armProbes, endPendingDeliveries, gateByCircuit, parkHeldStatement, releaseHeld } from "./health";
import { circuitOpen } from "./health-rules";

/** Extra lease beyond the sends, covering signing, the D1 writes and a slow isolate. */
const LEASE_MARGIN_MS = 30_000;

/**
 * How long a batch holds its deliveries. Its requests go out OUTBOUND_CONNECTIONS at a time,
 * each given the receiver timeout once sent, so the last of `count` may go out only after
 * ceil(count / 6) - 1 timeouts and end one timeout later; the margin covers the rest. Until
 * then no other consumer can claim a delivery this batch may still send.
 */
export function batchLeaseMs(cfg: Config, count: number): number {
  return Math.max(1, Math.ceil(count / OUTBOUND_CONNECTIONS)) * cfg.deliveryTimeoutMs + LEASE_MARGIN_MS;
}

type Step =
  | { message: Message<DeliveryMessage>; kind: "nothing" }
  | { message: Message<DeliveryMessage>; kind: "inactive"; deliveryId: number; reason: string }
  | { message: Message<DeliveryMessage>; kind: "held" }
  | { message: Message<DeliveryMessage>; kind: "attempted"; attempted: Attempted }
  | { message: Message<DeliveryMessage>; kind: "crashed"; deliveryId: number };

/**
 * A batch (up to 100 messages) is claimed in one D1 batch, sent through one limiter of
 * OUTBOUND_CONNECTIONS (one slow receiver holds up one connection, not the batch), and
 * recorded in one D1 batch. Deliveries of a subscription whose circuit is open are held
 * instead of sent (health.ts), except its probe.
 */
export async function consumeDeliveries(
  batch: MessageBatch<DeliveryMessage>,
  env: Env,
  dialectHeaders: DeliveryHeadersByDialect,
): Promise<void> {
  const cfg = config(env);
  const ids = batch.messages.map((message) => message.body.deliveryId);
  let claimed: Map<number, ClaimedDelivery>;
  try {
    claimed = await claimDeliveries(env, ids, batchLeaseMs(cfg, new Set(ids).size));
  } catch (error) {
    // The relay's own fault (D1), not a receiver's: the queue retries, then dead-letters.
    console.error("claiming a delivery batch failed", String(error));
    for (const message of batch.messages) message.retry();
    return;
  }

  let gate: Awaited<ReturnType<typeof gateByCircuit>>;
  try {
    gate = await gateByCircuit(env, cfg, [...claimed.values()]);
  } catch (error) {
    console.error("checking circuits for a delivery batch failed", String(error));
    for (const message of batch.messages) message.retry();
    return;
  }
  const held = new Set(gate.hold.map((delivery) => delivery.id));

  const context = attemptContext(env);
  const taken = new Set<number>();
  const steps: Step[] = await Promise.all(
    batch.messages.map(async (message): Promise<Step> => {
      const delivery = claimed.get(message.body.deliveryId);
      // Duplicate messages in one batch: the first one sends, the rest have nothing to do.
      if (!delivery || taken.has(delivery.id)) return { message, kind: "nothing" };
      taken.add(delivery.id);
      if (!delivery.active) {
        // The relay's reason when it disabled the subscription, as its other pending deliveries got.
        const reason = delivery.disabledReason ?? "the subscription is inactive";
        return { message, kind: "inactive", deliveryId: delivery.id, reason };
      }
      if (held.has(delivery.id)) return { message, kind: "held" };
      try {
        const attempted = await attemptDelivery(env, cfg, delivery, dialectHeaders, context);
        return { message, kind: "attempted", attempted };
      } catch (error) {
        console.error(`delivery ${delivery.id} crashed`, String(error));
        return { message, kind: "crashed", deliveryId: delivery.id };
      }
    }),
  );

  // Attempts, deliveries ended without one, held deliveries parked, and the leases of crashed
  // ones released (so the queue's retry can claim them): one D1 batch, one transaction.
  const attempted = steps.flatMap((step) => (step.kind === "attempted" ? [step.attempted] : []));
  try {
    await recordAttempts(env, cfg, attempted, [
      endWithoutAttemptStatement(
        env,
        steps.flatMap((step) =>
          step.kind === "inactive" ? [{ deliveryId: step.deliveryId, reason: step.reason }] : [],
        ),
      ),
      parkHeldStatement(env, gate.hold),
      releaseLeasesStatement(
        env,
        steps.flatMap((step) => (step.kind === "crashed" ? [step.deliveryId] : [])),
      ),
    ]);
  } catch (error) {
    console.error("recording a delivery batch failed", String(error));
    for (const message of batch.messages) message.retry();
    return;
  }

  try {
    await afterRecording(env, cfg, claimed, attempted, gate.hold);
  } catch (error) {
    // Nothing is lost: held deliveries stay pending, and the sweep re-arms stalled probes.
    console.error("updating circuits after a delivery batch failed", String(error));
  }

  const deadLetters: Promise<void>[] = [];
  for (const step of steps) {
    if (step.kind === "crashed") {
      step.message.retry();
    } else if (step.kind === "attempted" && step.attempted.verdict.kind === "retry") {
      step.message.retry({ delaySeconds: step.attempted.verdict.delaySeconds });
    } else if (step.kind === "attempted" && step.attempted.verdict.kind === "failed") {
      // Already marked failed in D1; the dead-letter copy is for operators and alerting.
      const deliveryId = step.message.body.deliveryId;
      deadLetters.push(
        env.DEAD_LETTERS.send({ deliveryId, finished: true }).then(
          () => {},
          (error: unknown) => {
            console.warn(`delivery ${deliveryId} failed, and its dead-letter send failed too`, String(error));
          },
        ),
      );
      step.message.ack();
    } else {
      step.message.ack();
    }
  }
  await Promise.all(deadLetters);
}

/**
 * What a batch's attempts mean for their subscriptions: a probe that succeeded releases
 * the deliveries its circuit held; a deactivation ends the subscription's pending deliveries;
 * an open circuit gets its next probe queued.
 */
async function afterRecording(
  env: Env,
  cfg: Config,
  claimed: Map<number, { consecutiveFailures: number }>,
  attempted: Attempted[],
  hold: { subscriptionId: number }[],
): Promise<void> {
  const released = new Set<number>();
  const deactivated = new Map<number, string>();
  const open = new Set(hold.map((delivery) => delivery.subscriptionId));
  const failures = new Map<number, number>();
  for (const { record, outcome } of attempted) {
    const before = claimed.get(record.deliveryId)?.consecutiveFailures ?? 0;
    if (outcome.state === "failed" && outcome.deactivate) deactivated.set(record.subscriptionId, outcome.deactivate);
    else if (record.succeeded) {
      if (circuitOpen(cfg, before)) released.add(record.subscriptionId);
    } else if (record.endpointTried) {
      const count = (failures.get(record.subscriptionId) ?? 0) + 1;
      failures.set(record.subscriptionId, count);
      if (circuitOpen(cfg, before + count)) open.add(record.subscriptionId);
    }
  }
  for (const [subscriptionId, reason] of deactivated) await endPendingDeliveries(env, subscriptionId, reason);
  for (const subscriptionId of released) await releaseHeld(env, subscriptionId);
  await armProbes(
    env,
    cfg,
    [...open].filter((id) => !deactivated.has(id) && !released.has(id)),
  );
}

/** Everything in the dead-letter queue ends failed, and stays visible in the delivery log. */
export async function consumeDeadLetters(batch: MessageBatch<DeliveryMessage>, env: Env): Promise<void> {
  for (const message of batch.messages) {
    // A message the queue gave up on (the relay crashed on it again and again) ends its
    // delivery; the copy of a delivery that had already failed is only a record.
    if (!message.body.finished) await markDeadLettered(env, message.body.deliveryId);
    console.warn(`delivery ${message.body.deliveryId} is dead-lettered`);
    message.ack();
  }
}
