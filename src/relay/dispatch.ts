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

/**
 * Cloudflare lets one invocation hold 6 outbound connections at once; further fetches wait
 * inside the runtime while their timeout already runs. So the consumer sends through a
 * limiter of 6, and each attempt's timeout starts when its request is actually sent.
 */
export const OUTBOUND_CONNECTIONS = 6;

/** Runs tasks at most `concurrency` at a time, in the order they asked. */
export type Limiter = <T>(task: () => Promise<T>) => Promise<T>;

export function limiter(concurrency: number): Limiter {
  let running = 0;
  const waiting: (() => void)[] = [];
  return async (task) => {
    if (running < concurrency) running++;
    else await new Promise<void>((resolve) => waiting.push(resolve));
    try {
      return await task();
    } finally {
      // The slot passes straight to the next waiting task, if any.
      const next = waiting.shift();
      if (next) next();
      else running--;
    }
  };
}

type OpenedSecret = { secret: string | null; secretProblem: string | null };

/**
 * What one batch's attempts share: the outbound connections, and what many deliveries of a
 * batch have in common, worked out once (a fan-out batch is many deliveries of one event; a
 * busy hook has many deliveries in one batch).
 */
export interface AttemptContext {
  /** Where a request waits for an outbound connection: signing, sending and reading the answer. */
  slot: Limiter;
  /** The request body: the event's payload (a split one read from its parts), encoded. */
  body: (delivery: ClaimedDelivery) => Promise<Uint8Array>;
  /** The hook's secret, opened. */
  secret: (sealed: string | null) => Promise<OpenedSecret>;
}

/** A context for one batch: OUTBOUND_CONNECTIONS at a time, each body and secret prepared once. */
export function attemptContext(env: Env): AttemptContext {
  const bodies = new Map<string, Promise<Uint8Array>>();
  const secrets = new Map<string, Promise<OpenedSecret>>();
  return {
    slot: limiter(OUTBOUND_CONNECTIONS),
    body: (delivery) => {
      const key = `${delivery.contentType}:${delivery.eventId}`;
      let body = bodies.get(key);
      if (!body) {
        body = loadPayload(env, delivery.eventId, delivery.payload).then((payload) =>
          utf8(delivery.contentType === "form" ? new URLSearchParams({ payload }).toString() : payload),
        );
        bodies.set(key, body);
      }
      return body;
    },
    secret: (sealed) => {
      if (!sealed) return Promise.resolve({ secret: null, secretProblem: null });
      let opened = secrets.get(sealed);
      if (!opened) {
        opened = openSecret(env, sealed);
        secrets.set(sealed, opened);
      }
      return opened;
    },
  };
}

export async function attemptDelivery(
  env: Env,
  cfg: Config,
  delivery: ClaimedDelivery,
  dialectHeaders: DeliveryHeadersByDialect,
  context: AttemptContext = attemptContext(env),
): Promise<Attempted> {
  const [body, { secret, secretProblem }] = await Promise.all([
    context.body(delivery),
    context.secret(delivery.sealedSecret),
  ]);

  // Credentials in the hook URL travel as an Authorization header, as GitHub sends them.
  const target = splitCredentials(delivery.url);
  const unsigned: Record<string, string> = {
    "content-type": delivery.contentType === "form" ? "application/x-www-form-urlencoded" : "application/json",
    "user-agent": USER_AGENT,
    "x-hookrelay-event": delivery.eventType,
    "x-hookrelay-delivery": delivery.guid,
    ...(await dialectHeaders[delivery.dialect]?.(env, delivery)),
  };
  // Signed when the request goes out, so webhook-timestamp says when it was sent.
  const signed = async (): Promise<Record<string, string>> => ({
    ...unsigned,
    ...(await signatureHeaders({ id: delivery.guid, body, secret, timestamp: Math.floor(Date.now() / 1000) })),
    ...(target.authorization ? { authorization: target.authorization } : {}),
  });

  const attempt = delivery.attempts + 1;
  const blocked = targetProblem(delivery.url, cfg.allowPrivateTargets);
  let sent: Sent;
  if (blocked || secretProblem) {
    // Never sent unsigned: it waits on the retry schedule for the key to be fixed, and says why.
    sent = {
      headers: await signed(),
      started: Date.now(),
      statusCode: null,
      status: blocked ? `Blocked: the URL ${blocked}` : `Not sent: ${secretProblem}`,
      responseHeaders: null,
      responseBody: null,
      retryAfterSeconds: null,
    };
  } else {
    sent = await context.slot(async () => send(target.url, await signed(), body, cfg.deliveryTimeoutMs, delivery.url));
  }
  const { headers, started, statusCode, status, responseHeaders, responseBody, retryAfterSeconds } = sent;
  const deliveredAt = new Date(started).toISOString().replace(/\.\d{3}Z$/, "Z");

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

interface Sent {
  headers: Record<string, string>;
  /** When the request went out (or, not sent, when that was decided). */
  started: number;
  statusCode: number | null;
  status: string;
  responseHeaders: Record<string, string> | null;
  responseBody: string | null;
  retryAfterSeconds: number | null;
}

/**
 * One POST, redirects not followed, and its answer read. The timeout starts here, when the
 * request has its connection: time spent waiting for one is not the receiver's.
 */
async function send(
  url: string,
  headers: Record<string, string>,
  body: Uint8Array,
  timeoutMs: number,
  hookUrl: string,
): Promise<Sent> {
  const started = Date.now();
  try {
    const response = await fetch(url, {
      method: "POST",
      headers,
      body,
      redirect: "manual",
      signal: AbortSignal.timeout(timeoutMs),
    });
    const statusCode = response.status;
    return {
      headers,
      started,
      statusCode,
      status: statusCode >= 200 && statusCode < 300 ? "OK" : `Invalid HTTP Response: ${statusCode}`,
      responseHeaders: Object.fromEntries(response.headers),
      responseBody: await readTruncated(response, RESPONSE_BODY_LIMIT),
      retryAfterSeconds: parseRetryAfter(response.headers.get("retry-after")),
    };
  } catch (error) {
    const status =
      error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError")
        ? `Timed out after ${timeoutMs} ms`
        : `Failed to connect: ${redactCredentials(error instanceof Error ? error.message : String(error), hookUrl)}`;
    return {
      headers,
      started,
      statusCode: null,
      status,
      responseHeaders: null,
      responseBody: null,
      retryAfterSeconds: null,
    };
  }
}

/**
 * The hook's secret, opened. A secret the configured keys cannot open (SECRETS_KEY missing,
 * malformed or rotated without SECRETS_KEY_PREVIOUS) is a problem to report on the attempt,
 * not a crash: the delivery stays visible and retryable instead of dead-lettering unexplained.
 */
async function openSecret(env: Env, sealed: string): Promise<OpenedSecret> {
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
  // The usual short answer, whose declared length is within the limit, is read in one go. A
  // compressed body is read in chunks: its declared length says nothing of its decoded size.
  const declared = Number(response.headers.get("content-length") ?? Number.NaN);
  const encoding = response.headers.get("content-encoding");
  if (Number.isInteger(declared) && declared <= limit && (!encoding || encoding === "identity")) {
    return response.text();
  }
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  let ended = false;
  while (size < limit) {
    const { done, value } = await reader.read();
    if (done) {
      ended = true;
      break;
    }
    chunks.push(value);
    size += value.byteLength;
  }
  if (ended) reader.releaseLock();
  else await reader.cancel().catch(() => {});
  const decoder = new TextDecoder();
  if (chunks.length === 1 && size <= limit) return decoder.decode(chunks[0]);
  const joined = new Uint8Array(Math.min(size, limit));
  let offset = 0;
  for (const chunk of chunks) {
    const take = chunk.subarray(0, joined.length - offset);
    joined.set(take, offset);
    offset += take.byteLength;
    if (offset >= joined.length) break;
  }
  return decoder.decode(joined);
}
