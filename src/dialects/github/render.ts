/**
 * GitHub's JSON shapes for the relay's objects. Secrets are always shown as `********`, and
 * so are credentials in a hook URL.
 */

import { parseJsonText } from "../../http/body";
import type { AttemptDetail, AttemptView } from "../../relay/deliveries";
import type { Subscription } from "../../relay/subscriptions";
import { MASK, maskUrl } from "../../relay/url-credentials";

// The objects that event payloads carry too live in src/repos/shapes.ts; they are re-exported here
// so the dialect's handlers find every GitHub shape in one place.
export {
  renderCommitStatus,
  renderDeployment,
  renderDeploymentStatus,
  renderRepository,
  renderUser,
} from "../../repos/shapes";

export function renderHookConfig(hook: Subscription) {
  return {
    content_type: hook.contentType,
    insecure_ssl: hook.insecureSsl,
    url: maskUrl(hook.url),
    ...(hook.hasSecret ? { secret: MASK } : {}),
  };
}

export function renderHook(hook: Subscription, apiBase: string) {
  const url = `${apiBase}/hooks/${hook.id}`;
  return {
    type: "Repository",
    id: hook.id,
    name: hook.name,
    active: hook.active,
    events: hook.events,
    config: renderHookConfig(hook),
    updated_at: hook.updatedAt,
    created_at: hook.createdAt,
    url,
    test_url: `${url}/test`,
    ping_url: `${url}/pings`,
    deliveries_url: `${url}/deliveries`,
    last_response: hook.lastResponse,
  };
}

export function renderDelivery(attempt: AttemptView) {
  return {
    id: attempt.id,
    guid: attempt.guid,
    delivered_at: attempt.deliveredAt,
    redelivery: attempt.redelivery,
    duration: attempt.durationMs / 1000,
    status: attempt.status,
    status_code: attempt.statusCode ?? 0,
    event: attempt.eventType,
    action: attempt.action,
    installation_id: null,
    repository_id: attempt.repositoryId,
    throttled_at: null,
    // hookrelay's additions: where the delivery as a whole stands, across its attempts.
    attempt: attempt.attempt,
    delivery_state: attempt.deliveryState,
    failure_reason: attempt.failureReason,
  };
}

export function renderDeliveryDetail(attempt: AttemptDetail) {
  let payload: unknown;
  try {
    payload = parseJsonText(attempt.payload);
  } catch {
    payload = attempt.payload;
  }
  return {
    ...renderDelivery(attempt),
    url: maskUrl(attempt.url),
    request: { headers: attempt.requestHeaders, payload },
    response: { headers: attempt.responseHeaders ?? {}, payload: attempt.responseBody },
  };
}

const ZEN = [
  "Design for failure.",
  "Keep it logically awesome.",
  "Anything added dilutes everything else.",
  "Responsive is better than fast.",
  "Non-blocking is better than blocking.",
  "Approachable is better than simple.",
  "Mind your words, they are important.",
  "Speak like a human.",
  "Half measures are as bad as nothing at all.",
  "Encourage flow.",
  "Favor focus over features.",
  "Avoid administrative distraction.",
  "Practicality beats purity.",
  "It's not fully shipped until it's fast.",
];

export const zen = (): string => ZEN[Math.floor(Math.random() * ZEN.length)] as string;
