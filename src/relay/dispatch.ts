/**
 * One delivery attempt: sign and send, and say what to record. Everything it needs was
 * loaded with the claim, and the consumer records a whole batch's attempts in one D1
 * batch, so the hot path is one HTTP request per delivery and two D1 round trips per batch.
 */
import type { Config, Env } from "../env";
import { ApiError } from "../http/errors";
import { decryptSecret, utf8 } from "./crypto";
import type { AttemptRecord, ClaimedDelivery, DeliveryOutcome } from "./deliveries";
import { autoDisableReason, goneReason } from "./health-rules";
import { loadPayload } from "./payloads";
import { decide, parseRetryAfter } from "./retry";
import { signatureHeaders } from "./signing";
import { targetProblem } from "./targets";
import { MASK, redactCredentials, splitCredentials } from "./url-credentials";

/** Kept of a receiver's answer, as Svix does: enough to debug, never enough to bloat D1. */
export const RESPONSE_BODY_LIMIT = 20 * 1024;
export const USER_AGENT = "GitHub-Hookshot/hookrelay";

export type AttemptVerdict =
  | { kind: "succeeded" }
  | { kind: "retry"; delaySeconds: number }
  | { kind: "failed"; reason: string };

/**
 * The headers a dialect adds to its own deliveries (GitHub's `X-GitHub-*`), keyed by
 * dialect name. Every delivery also carries the relay's own and the signature headers.
 */
export type DeliveryHeaders = (
  env: Env,
  delivery: ClaimedDelivery,
) => Record<string, string> | Promise<Record<string, string>>;
export type DeliveryHeadersByDialect = Readonly<Record<string, DeliveryHeaders>>;

export interface Attempted {
  verdict: AttemptVerdict;
  record: AttemptRecord;
  outcome: DeliveryOutcome;
}

export async function attemptDelivery(
  env: Env,
  cfg: Config,
  delivery: ClaimedDelivery,
  dialectHeaders: DeliveryHeadersByDialect,
): Promise<Attempted> {
  const payload = await loadPayload(env, delivery.eventId, delivery.payload);
  const body = utf8(delivery.contentType === "form" ? new URLSearchParams({ payload }).toString() : payload);
  const { secret, secretProblem } = await openSecret(env, delivery.sealedSecret);
  const timestamp = Math.floor(Date.now() / 1000);

  // Credentials in the hook URL travel as an Authorization header, as GitHub sends them.
  const target = splitCredentials(delivery.url);
  const headers: Record<string, string> = {
    "content-type": delivery.contentType === "form" ? "application/x-www-form-urlencoded" : "application/json",
    "user-agent": USER_AGENT,
    "x-hookrelay-event": delivery.eventType,
    "x-hookrelay-delivery": delivery.guid,
    ...(await dialectHeaders[delivery.dialect]?.(env, delivery)),
    ...(await signatureHeaders({ id: delivery.guid, body, secret, timestamp })),
    ...(target.authorization ? { authorization: target.authorization } : {}),
  };

  const attempt = delivery.attempts + 1;
  const started = Date.now();
  const deliveredAt = new Date(started).toISOString().replace(/\.\d{3}Z$/, "Z");
  const blocked = targetProblem(delivery.url, cfg.allowPrivateTargets);
  let statusCode: number | null = null;
  let status: string;
  let responseHeaders: Record<string, string> | null = null;
  let responseBody: string | null = null;
  let retryAfterSeconds: number | null = null;

  if (blocked) {
    status = `Blocked: the URL ${blocked}`;
  } else if (secretProblem) {
    // Never sent unsigned: it waits on the retry schedule for the key to be fixed, and says why.
    status = `Not sent: ${secretProblem}`;
  } else {
    try {
      const response = await fetch(target.url, {
        method: "POST",
        headers,
        body,
        redirect: "manual",
        signal: AbortSignal.timeout(cfg.deliveryTimeoutMs),
      });
      statusCode = response.status;
      responseHeaders = Object.fromEntries(response.headers);
      responseBody = await readTruncated(response, RESPONSE_BODY_LIMIT);
      retryAfterSeconds = parseRetryAfter(response.headers.get("retry-after"));
      status = statusCode >= 200 && statusCode < 300 ? "OK" : `Invalid HTTP Response: ${statusCode}`;
    } catch (error) {
      status =
        error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError")
          ? `Timed out after ${cfg.deliveryTimeoutMs} ms`
          : `Failed to connect: ${redactCredentials(error instanceof Error ? error.message : String(error), delivery.url)}`;
    }
  }

  const verdict = blocked
    ? ({ kind: "exhausted" } as const)
    : decide({ statusCode, retryAfterSeconds }, attempt - delivery.retryBase, cfg.retrySchedule);
  // A failure that ends a long enough run of failures deactivates the subscription instead;
  // one the relay caused (a secret it cannot open) says nothing of the endpoint.
  const disabled =
    !secretProblem && (verdict.kind === "retry" || verdict.kind === "exhausted")
      ? autoDisableReason(cfg, delivery.failingSince, started, status)
      : null;
  let outcome: DeliveryOutcome;
  let result: AttemptVerdict;
  switch (verdict.kind) {
    case "succeeded":
      outcome = { state: "succeeded" };
      result = verdict;
      break;
    case "retry":
      outcome = { state: "pending", nextAttemptAt: Date.now() + verdict.delaySeconds * 1000 };
      result = verdict;
      break;
    case "gone":
      outcome = {
        state: "failed",
        reason: "410 Gone: the subscription was deactivated",
        deactivate: goneReason(deliveredAt),
      };
      result = { kind: "failed", reason: outcome.reason };
      break;
    case "exhausted": {
      const reason = blocked ? status : `gave up after ${attempt} attempts: ${status}`;
      outcome = { state: "failed", reason, deactivate: null };
      result = { kind: "failed", reason };
      break;
    }
  }
  if (disabled) {
    outcome = { state: "failed", reason: disabled, deactivate: disabled };
    result = { kind: "failed", reason: disabled };
  }

  const durationMs = Date.now() - started;
  logAttempt(delivery, attempt, statusCode, result.kind, durationMs, blocked || secretProblem ? status : null);
  return {
    verdict: result,
    outcome,
    record: {
      deliveryId: delivery.id,
      subscriptionId: delivery.subscriptionId,
      attempt,
      deliveredAt,
      durationMs,
      succeeded: verdict.kind === "succeeded",
      statusCode,
      status,
      // The log shows what was sent, except the URL's credentials.
      requestHeaders: target.authorization ? { ...headers, authorization: `Basic ${MASK}` } : headers,
      responseHeaders,
      responseBody,
      endpointTried: !secretProblem,
    },
  };
}

/**
 * The hook's secret, opened. A secret the configured keys cannot open (SECRETS_KEY missing,
 * malformed or rotated without SECRETS_KEY_PREVIOUS) is a problem to report on the attempt,
 * not a crash: the delivery stays visible and retryable instead of dead-lettering unexplained.
 */
async function openSecret(
  env: Env,
  sealed: string | null,
): Promise<{ secret: string | null; secretProblem: string | null }> {
  if (!sealed) return { secret: null, secretProblem: null };
  try {
    return { secret: await decryptSecret(env, sealed), secretProblem: null };
  } catch (error) {
    if (error instanceof ApiError) return { secret: null, secretProblem: error.message };
    throw error;
  }
}

/**
 * One structured line per attempt (Workers Logs keeps it; `wrangler tail` shows it live).
 * Never a secret, never a whole URL: only the target's origin, since paths and query strings
 * of webhook URLs often carry credentials (Slack, Discord, deploy hooks) and userinfo is one.
 */
function logAttempt(
  delivery: ClaimedDelivery,
  attempt: number,
  statusCode: number | null,
  outcome: AttemptVerdict["kind"],
  durationMs: number,
  notSent: string | null,
): void {
  console.log(
    JSON.stringify({
      msg: "delivery.attempt",
      delivery_id: delivery.id,
      subscription_id: delivery.subscriptionId,
      dialect: delivery.dialect,
      event: delivery.eventType,
      attempt,
      status_code: statusCode,
      outcome,
      duration_ms: durationMs,
      target: safeOrigin(delivery.url),
      ...(notSent ? { reason: notSent } : {}),
    }),
  );
}

/** scheme://host[:port] of a URL: no userinfo, path, query or fragment. */
export function safeOrigin(url: string): string | null {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}`;
  } catch {
    return null;
  }
}

/** Reads at most `limit` bytes of a body as text, then lets the rest go. */
async function readTruncated(response: Response, limit: number): Promise<string | null> {
  if (!response.body) return null;
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  while (size < limit) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    size += value.byteLength;
  }
  await reader.cancel().catch(() => {});
  const joined = new Uint8Array(Math.min(size, limit));
  let offset = 0;
  for (const chunk of chunks) {
    const take = chunk.subarray(0, joined.length - offset);
    joined.set(take, offset);
    offset += take.byteLength;
    if (offset >= joined.length) break;
  }
  return new TextDecoder().decode(joined);
}
