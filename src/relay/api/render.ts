/** The operator API's JSON shapes; README "Operating the relay" shows them. */
import type { Config } from "../../env";
import type { DeliveryDetailView, DeliveryView } from "../delivery-log";
import { circuitOpen, healthState } from "../health-rules";
import type { Stats } from "../stats";
import type { Subscription } from "../subscriptions";

export const MASK = "********";

/** A URL as shown: a basic-auth password is masked, as secrets are. */
export function maskUrl(raw: string): string {
  try {
    const url = new URL(raw);
    if (!url.password) return raw;
    url.password = "";
    const [scheme, rest] = url.toString().split("//", 2) as [string, string];
    const at = rest.indexOf("@");
    return `${scheme}//${rest.slice(0, at)}:${MASK}${rest.slice(at)}`;
  } catch {
    return raw;
  }
}

const iso = (ms: number | null): string | null =>
  ms === null ? null : new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");

export function renderSubscription(cfg: Config, sub: Subscription) {
  return {
    id: sub.id,
    dialect: sub.dialect,
    subject_type: sub.subjectType,
    subject: sub.subject,
    url: maskUrl(sub.url),
    events: sub.events,
    content_type: sub.contentType,
    secret: sub.hasSecret ? MASK : null,
    active: sub.active,
    disabled_reason: sub.disabledReason,
    health: {
      state: healthState(cfg, sub),
      circuit: circuitOpen(cfg, sub.consecutiveFailures) ? "open" : "closed",
      consecutive_failures: sub.consecutiveFailures,
      failing_since: sub.failingSince,
      last_attempt_at: sub.lastAttemptAt,
      last_status_code: sub.lastAttemptAt === null ? null : sub.lastResponse.code,
      last_status: sub.lastAttemptAt === null ? null : sub.lastResponse.message,
    },
    created_at: sub.createdAt,
    updated_at: sub.updatedAt,
  };
}

export function renderDelivery(delivery: DeliveryView) {
  return {
    id: delivery.id,
    guid: delivery.guid,
    subscription_id: delivery.subscriptionId,
    event: delivery.eventType,
    state: delivery.state,
    attempts: delivery.attempts,
    next_attempt_at: iso(delivery.nextAttemptAt),
    failure_reason: delivery.failureReason,
    created_at: delivery.createdAt,
    completed_at: delivery.completedAt,
  };
}

export function renderDeliveryDetail(delivery: DeliveryDetailView) {
  return {
    ...renderDelivery(delivery),
    url: maskUrl(delivery.url),
    payload: delivery.payload,
    attempt_log: delivery.attemptLog.map((attempt) => ({
      attempt: attempt.attempt,
      delivered_at: attempt.deliveredAt,
      duration_ms: attempt.durationMs,
      succeeded: attempt.succeeded,
      status_code: attempt.statusCode,
      status: attempt.status,
      request_headers: attempt.requestHeaders,
      response_headers: attempt.responseHeaders,
      response_body: attempt.responseBody,
    })),
  };
}

export function renderStats(stats: Stats) {
  return {
    deliveries: stats.deliveries,
    events: stats.events,
    oldest_event_at: stats.oldestEventAt,
    storage_bytes: stats.storageBytes,
    retention_days: stats.retentionDays,
    hourly: stats.hourly,
  };
}
