/**
 * Sending finished deliveries again, in place: the same delivery row (same id, same guid,
 * so `X-GitHub-Delivery` and `webhook-id` are unchanged) goes back to pending. Its attempts
 * keep counting in the log, while its retry schedule starts afresh (`retry_base`).
 *
 * GitHub's own redelivery (deliveries.ts, `redeliver`) adds a row instead, as GitHub does;
 * these are the operator API's (`/relay/`): bulk recovery of what failed, Svix's
 * `recover`, and a redeliver of one delivery.
 */
import type { Env } from "../env";
import { enqueueDeliveries } from "./deliveries";

/** Deliveries re-enqueued per statement, and at once per recover; the sweep sends the rest. */
const RECOVER_CHUNK = 500;
const RECOVER_ENQUEUE_LIMIT = 10_000;

const BACK_TO_PENDING = `state = 'pending', failure_reason = NULL, completed_at = NULL, retry_base = attempts,
  lease_until = 0`;

/**
 * Every failed delivery of the subscription created within [since, until] goes back to
 * pending and is enqueued once. Pending ones are not touched, so a second recover sends
 * nothing twice. Returns how many were recovered.
 */
export async function recoverDeliveries(
  env: Env,
  subscriptionId: number,
  window: { since: string; until: string },
): Promise<number> {
  let recovered = 0;
  const select = `SELECT id FROM deliveries WHERE subscription_id = ?2 AND state = 'failed'
    AND created_at >= ?3 AND created_at <= ?4 ORDER BY id`;
  while (recovered < RECOVER_ENQUEUE_LIMIT) {
    const { results } = await env.DB.prepare(
      `UPDATE deliveries SET ${BACK_TO_PENDING}, next_attempt_at = ?1
       WHERE id IN (${select} LIMIT ?5) RETURNING id`,
    )
      .bind(Date.now(), subscriptionId, window.since, window.until, RECOVER_CHUNK)
      .all<{ id: number }>();
    const ids = results.map((row) => row.id);
    await enqueueDeliveries(env, ids);
    recovered += ids.length;
    if (ids.length < RECOVER_CHUNK) return recovered;
  }
  // A very large recovery: the rest are made due long ago, so the cron sweep sends them,
  // a bounded number a minute, instead of this request enqueueing without end.
  const rest = await env.DB.prepare(
    `UPDATE deliveries SET ${BACK_TO_PENDING}, next_attempt_at = 0 WHERE id IN (${select})`,
  )
    .bind(0, subscriptionId, window.since, window.until)
    .run();
  return recovered + rest.meta.changes;
}

/**
 * One delivery back to pending and enqueued, whatever its state; one being attempted right
 * now is left to that attempt. Returns false when there is no such delivery.
 */
export async function redeliverInPlace(env: Env, deliveryId: number): Promise<boolean> {
  const now = Date.now();
  const [updated, exists] = await env.DB.batch([
    env.DB.prepare(
      `UPDATE deliveries SET ${BACK_TO_PENDING}, next_attempt_at = ?1
       WHERE id = ?2 AND NOT (state = 'pending' AND lease_until >= ?1) RETURNING id`,
    ).bind(now, deliveryId),
    env.DB.prepare("SELECT id FROM deliveries WHERE id = ?").bind(deliveryId),
  ]);
  if ((updated?.results.length ?? 0) > 0) await enqueueDeliveries(env, [deliveryId]);
  return (exists?.results.length ?? 0) > 0;
}
