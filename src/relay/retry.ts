/**
 * Retry policy: pure functions from an attempt's result to what happens next.
 *
 * - 2xx is success. Redirects are failures: they are never followed, since a hook
 *   URL that moved is a configuration to fix, not a hop to take with a signed body.
 * - 410 Gone means the receiver wants no more: the subscription is deactivated.
 * - Anything else (other statuses, timeouts, network errors) is retried on the
 *   schedule, with ±20% jitter so failed receivers are not hit by a synchronized herd,
 *   and never sooner than a `Retry-After` the receiver asked for.
 * - When the schedule is used up the delivery has failed and goes to the dead-letter queue.
 */

/** Queues accept a delay of at most 12 hours on every plan; longer asks are clamped. */
export const MAX_QUEUE_DELAY_SECONDS = 12 * 60 * 60;

export type Verdict =
  | { kind: "succeeded" }
  | { kind: "retry"; delaySeconds: number }
  | { kind: "gone" }
  | { kind: "exhausted" };

export interface AttemptResult {
  /** HTTP status, or null when no response arrived (timeout, refused, blocked). */
  statusCode: number | null;
  /** Seconds the receiver asked us to wait, from Retry-After. */
  retryAfterSeconds?: number | null;
}

/**
 * @param attemptNumber 1 for the first attempt of the delivery.
 * @param schedule      delays before retry 1, 2, ...; its length is the number of retries.
 * @param random        a number in [0, 1), injectable so tests are deterministic.
 */
export function decide(
  result: AttemptResult,
  attemptNumber: number,
  schedule: readonly number[],
  random: number = Math.random(),
): Verdict {
  const status = result.statusCode;
  if (status !== null && status >= 200 && status < 300) return { kind: "succeeded" };
  if (status === 410) return { kind: "gone" };
  const base = schedule[attemptNumber - 1];
  if (base === undefined) return { kind: "exhausted" };
  const jittered = base * (0.8 + 0.4 * random);
  const delay = Math.max(jittered, result.retryAfterSeconds ?? 0);
  return { kind: "retry", delaySeconds: Math.min(Math.round(delay), MAX_QUEUE_DELAY_SECONDS) };
}

/** Retry-After as seconds: either delta-seconds or an HTTP date. Null when absent or unreadable. */
export function parseRetryAfter(header: string | null, now: number = Date.now()): number | null {
  if (!header) return null;
  const trimmed = header.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? null : Math.max(0, Math.ceil((date - now) / 1000));
}
