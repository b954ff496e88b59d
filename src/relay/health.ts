/**
 * Endpoint health, per subscription: the circuit breaker and auto-disable.
 *
 * - Every recorded attempt updates the subscription (deliveries.ts, `recordAttempts`): a
 *   success clears `consecutive_failures` and `failing_since`; a failure counts.
 * - **Circuit.** At `circuitOpenAfterFailures` consecutive failures the circuit is open: the
 *   consumer holds the subscription's deliveries instead of sending them. A held delivery
 *   is acked and parked (pending, no lease, due at the next probe), so it uses up neither
 *   its retries nor the queue's `max_retries`, and never reaches the dead-letter queue.
 *   At most one probe per `circuitProbeSeconds` is let through (`probe_at` is taken atomically),
 *   carried by one queued message per probe slot (`probe_queued_at`). A successful probe
 *   closes the circuit and re-enqueues the held deliveries at once; a failed one keeps it
 *   open and arms the next probe. The cron sweep re-arms probes whose message was lost.
 * - **Auto-disable.** A failed attempt when the subscription has had no success for
 *   `autoDisableAfterDays` (since `failing_since`) deactivates it with a reason, and its
 *   pending deliveries end failed with that reason, so `recover` can send them later. 410
 *   Gone deactivates the same way. Re-enabling resets the health (subscriptions.ts).
 */
import type { Config, Env } from "../env";
import { nowIso } from "../storage/db";
import { type ClaimedDelivery, enqueueDeliveries } from "./deliveries";
import { circuitOpen } from "./health-rules";
import { MAX_QUEUE_DELAY_SECONDS } from "./retry";

/** A probe message may arrive this early (queue timers are coarse) and still probe. */
const PROBE_EARLY_MS = 1_000;
/** Held deliveries re-enqueued at once when a circuit closes; the sweep takes any beyond. */
const RELEASE_LIMIT = 1_000;
/** Pending deliveries ended per statement when a subscription is deactivated. */
const END_CHUNK = 5_000;

/**
 * Splits claimed deliveries into those to send and those to hold. A delivery of an open
 * circuit is sent only as its subscription's probe: one per subscription and probe slot,
 * won atomically, so concurrent consumers never probe twice. A slot may be taken up to
 * PROBE_EARLY_MS before it is due, so taking one moves the next that much further out too:
 * probes are never closer than the interval, however often batches come.
 */
export async function gateByCircuit(
  env: Env,
  cfg: Config,
  deliveries: ClaimedDelivery[],
): Promise<{ send: ClaimedDelivery[]; hold: ClaimedDelivery[] }> {
  const send: ClaimedDelivery[] = [];
  const candidates = new Map<number, ClaimedDelivery>();
  const hold: ClaimedDelivery[] = [];
  const now = Date.now();
  for (const delivery of deliveries) {
    if (!delivery.active || !circuitOpen(cfg, delivery.consecutiveFailures)) send.push(delivery);
    else if (delivery.probeAt <= now + PROBE_EARLY_MS && !candidates.has(delivery.subscriptionId)) {
      candidates.set(delivery.subscriptionId, delivery);
    } else hold.push(delivery);
  }
  if (candidates.size === 0) return { send, hold };
  const next = now + cfg.circuitProbeSeconds * 1000 + PROBE_EARLY_MS;
  const { results: won } = await env.DB.prepare(
    `UPDATE subscriptions SET probe_at = ?1
     WHERE id IN (SELECT value FROM json_each(?2)) AND probe_at <= ?3 RETURNING id`,
  )
    .bind(next, JSON.stringify([...candidates.keys()]), now + PROBE_EARLY_MS)
    .all<{ id: number }>();
  const winners = new Set(won.map((row) => row.id));
  for (const [subscriptionId, delivery] of candidates) {
    (winners.has(subscriptionId) ? send : hold).push(delivery);
  }
  return { send, hold };
}

/**
 * Parks held deliveries: pending, unleased, due at their subscription's next probe. Their
 * messages are acked by the caller; `armProbes` queues the one message a probe needs. The
 * consumer writes this statement in the batch's one transaction with its attempts; none
 * when nothing is held.
 */
export function parkHeldStatement(env: Env, held: ClaimedDelivery[]): D1PreparedStatement | null {
  if (held.length === 0) return null;
  return env.DB.prepare(
    `UPDATE deliveries SET lease_until = 0,
       next_attempt_at = (SELECT probe_at FROM subscriptions s WHERE s.id = deliveries.subscription_id)
     WHERE id IN (SELECT value FROM json_each(?1)) AND state = 'pending'`,
  ).bind(JSON.stringify(held.map((delivery) => delivery.id)));
}

/**
 * Makes sure each open circuit among `subscriptionIds` has one message queued for its next
 * probe: the oldest pending delivery due by then, sent with a delay up to the probe time.
 * `probe_queued_at` records the slot, so holding many deliveries queues one message.
 */
export async function armProbes(env: Env, cfg: Config, subscriptionIds: Iterable<number>): Promise<number> {
  const ids = [...new Set(subscriptionIds)];
  if (ids.length === 0 || cfg.circuitOpenAfterFailures <= 0) return 0;
  const now = Date.now();
  const armed = await env.DB.batch<{ probe_at: number; delivery_id: number | null }>(
    ids.map((id) =>
      env.DB.prepare(
        `UPDATE subscriptions SET probe_queued_at = probe_at
         WHERE id = ?1 AND active = 1 AND consecutive_failures >= ?2 AND probe_queued_at < probe_at
           AND EXISTS (SELECT 1 FROM deliveries d WHERE d.subscription_id = ?1 AND d.state = 'pending'
                         AND d.lease_until < ?3 AND d.next_attempt_at <= subscriptions.probe_at)
         RETURNING probe_at,
           (SELECT d.id FROM deliveries d WHERE d.subscription_id = ?1 AND d.state = 'pending'
              AND d.lease_until < ?3 AND d.next_attempt_at <= subscriptions.probe_at
            ORDER BY d.next_attempt_at, d.id LIMIT 1) AS delivery_id`,
      ).bind(id, cfg.circuitOpenAfterFailures, now),
    ),
  );
  let count = 0;
  for (const result of armed) {
    const row = result.results?.[0];
    if (!row || row.delivery_id === null) continue;
    const delaySeconds = Math.min(Math.max(0, Math.ceil((row.probe_at - now) / 1000)), MAX_QUEUE_DELAY_SECONDS);
    try {
      await env.DELIVERIES.send({ deliveryId: row.delivery_id }, { delaySeconds });
      count++;
    } catch (error) {
      // The sweep re-arms a probe whose message never made it (rearmStalledProbes).
      console.warn(`probe message for delivery ${row.delivery_id} failed to enqueue`, String(error));
    }
  }
  return count;
}

/**
 * A successful probe closed the circuit: its held deliveries (and any waiting on a retry)
 * are due now and re-enqueued. Beyond `RELEASE_LIMIT` the sweep takes them, as they are due.
 */
export async function releaseHeld(env: Env, subscriptionId: number): Promise<number[]> {
  const now = Date.now();
  const { results } = await env.DB.prepare(
    `UPDATE deliveries SET next_attempt_at = ?1
     WHERE id IN (SELECT id FROM deliveries WHERE subscription_id = ?2 AND state = 'pending' AND lease_until < ?1
                  ORDER BY next_attempt_at, id LIMIT ?3)
     RETURNING id`,
  )
    .bind(now, subscriptionId, RELEASE_LIMIT)
    .all<{ id: number }>();
  const ids = results.map((row) => row.id);
  await enqueueDeliveries(env, ids);
  return ids;
}

/**
 * Ends a deactivated subscription's pending deliveries as failed with its reason, so they
 * are visible and recoverable. Bounded per call; any left are ended by the consumer when
 * the sweep hands them over (an inactive subscription's delivery fails without an attempt).
 */
export async function endPendingDeliveries(env: Env, subscriptionId: number, reason: string): Promise<number> {
  let ended = 0;
  for (let round = 0; round < 4; round++) {
    const result = await env.DB.prepare(
      `UPDATE deliveries SET state = 'failed', failure_reason = ?1, completed_at = ?2, lease_until = 0
       WHERE id IN (SELECT id FROM deliveries WHERE subscription_id = ?3 AND state = 'pending' LIMIT ?4)`,
    )
      .bind(reason, nowIso(), subscriptionId, END_CHUNK)
      .run();
    ended += result.meta.changes;
    if (result.meta.changes < END_CHUNK) break;
  }
  return ended;
}

/**
 * For the cron sweep: open circuits whose probe slot passed long ago without a probe (its
 * message was lost) get a probe queued again.
 */
export async function rearmStalledProbes(env: Env, cfg: Config, staleAfterSeconds: number): Promise<number> {
  if (cfg.circuitOpenAfterFailures <= 0) return 0;
  const { results } = await env.DB.prepare(
    `UPDATE subscriptions SET probe_queued_at = 0
     WHERE active = 1 AND consecutive_failures >= ?1 AND probe_at < ?2
       AND EXISTS (SELECT 1 FROM deliveries d WHERE d.subscription_id = subscriptions.id AND d.state = 'pending')
     RETURNING id`,
  )
    .bind(cfg.circuitOpenAfterFailures, Date.now() - staleAfterSeconds * 1000)
    .all<{ id: number }>();
  return armProbes(
    env,
    cfg,
    results.map((row) => row.id),
  );
}

/** Re-enables a subscription and resets its health (the operator API's `enable`). */
export async function enableSubscription(env: Env, id: number): Promise<boolean> {
  const result = await env.DB.prepare(
    `UPDATE subscriptions SET consecutive_failures = 0, failing_since = NULL, probe_at = 0, probe_queued_at = 0,
       disabled_reason = NULL, active = 1, updated_at = ? WHERE id = ?`,
  )
    .bind(nowIso(), id)
    .run();
  return result.meta.changes > 0;
}
