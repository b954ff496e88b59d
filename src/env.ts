/** Bindings, secrets and vars the Worker runs with (see wrangler.toml and .dev.vars.example). */
export interface Env {
  DB: D1Database;
  /** Producer for outbound deliveries; its consumer is `src/relay/consumer.ts`. */
  DELIVERIES: Queue<DeliveryMessage>;
  /** Producer for deliveries that exhausted their retries. */
  DEAD_LETTERS: Queue<DeliveryMessage>;
  /**
   * One Durable Object per app: serialises its auto builds. Typed where it is used
   * (src/dialects/akkeris/context.ts), so this file imports no dialect.
   */
  APP_BUILDS: DurableObjectNamespace;
  /**
   * The shards GitHub's inbound webhooks are committed through, so concurrent ones share a
   * D1 transaction. Typed where it is used (src/dialects/github/ingest-shard.ts).
   */
  INGEST_SHARDS: DurableObjectNamespace;

  /** Secret. Bootstrap credential: acts as an admin on every endpoint and mints API tokens. */
  ADMIN_TOKEN?: string;
  /**
   * Secret. 32 random bytes, base64 (44 characters). Seals hook, ingest and auto-build
   * secrets at rest. Missing or malformed: /health and every route that needs it answer 503.
   */
  SECRETS_KEY?: string;
  /**
   * Secret, set only while rotating SECRETS_KEY: the key before it. Secrets sealed under it
   * are still read, and the scheduled re-seal moves them to SECRETS_KEY; then remove it.
   */
  SECRETS_KEY_PREVIOUS?: string;

  DELIVERY_RETRY_SCHEDULE?: string;
  DELIVERY_TIMEOUT_MS?: string;
  SWEEP_STALE_AFTER_SECONDS?: string;
  ALLOW_PRIVATE_TARGETS?: string;
  GITHUB_API_URL?: string;
  AUTO_BUILD_CHECK_TIMEOUT_SECONDS?: string;
  RETENTION_DAYS?: string;
  CIRCUIT_OPEN_AFTER_FAILURES?: string;
  CIRCUIT_PROBE_SECONDS?: string;
  AUTO_DISABLE_AFTER_DAYS?: string;
}

/** The one message shape on both queues: the delivery row carries everything else. */
export interface DeliveryMessage {
  deliveryId: number;
  /**
   * Set on the dead-letter copy of a delivery that had already failed when it was sent: a
   * record for operators and alerting. It changes nothing, so a stale copy can never fail
   * the delivery after an operator recovered or redelivered it.
   */
  finished?: true;
}

export interface Config {
  /**
   * Seconds to wait before each retry; its length is the number of retries.
   * Default `5,300,1800,7200,18000,36000,36000,36000` (~37 h, at least 30 h with jitter), after
   * Svix's schedule stretched past a full day: long enough
   * to ride out a receiver's bad day, short enough that a dead endpoint fails within two days.
   */
  retrySchedule: number[];
  /** Milliseconds a receiver has to answer. Default 10000, as GitHub waits 10 s. */
  deliveryTimeoutMs: number;
  /**
   * Seconds after which a pending delivery nobody is working on is re-enqueued by the
   * cron sweep. Default 600: well past a queue's normal latency, so the sweep only
   * catches messages that were lost (e.g. an enqueue that failed after the D1 write).
   */
  sweepStaleAfterSeconds: number;
  /**
   * Whether hooks may target loopback and private addresses. Default false: a relay
   * that posts anywhere it is told is an SSRF tool. Local development turns it on.
   */
  allowPrivateTargets: boolean;
  /**
   * Seconds an auto build with `status_check` waits for a commit's checks before it gives
   * up on that commit. Default 3600: CI that has not finished in an hour is stuck.
   */
  autoBuildCheckTimeoutSeconds: number;
  /**
   * Days an event and its finished deliveries and attempts are kept; decimals allowed; 0
   * keeps everything. Default 30: the span in which anyone still asks "what happened to
   * that webhook?", as Svix keeps 30-90 days, and short enough that D1's 10 GB lasts.
   */
  retentionDays: number;
  /**
   * Consecutive failed attempts after which a subscription's circuit opens and its
   * deliveries are held, with one probe per `circuitProbeSeconds`; 0 never opens it.
   * Default 10, as Convoy and hookpipe: a handful of failures is a bad minute, ten in a
   * row is an endpoint that is down.
   */
  circuitOpenAfterFailures: number;
  /** Seconds between probes of an open circuit. Default 60: a recovered endpoint flows again within a minute. */
  circuitProbeSeconds: number;
  /**
   * Days without a successful attempt, while attempts kept failing, after which a
   * subscription is deactivated; decimals allowed; 0 never does. Default 5, as Svix's 120 h:
   * longer than the retry schedule, so only an endpoint that is gone for good is disabled.
   */
  autoDisableAfterDays: number;
}

const DEFAULT_SCHEDULE = [5, 300, 1800, 7200, 18000, 36000, 36000, 36000];

function positiveNumber(raw: string | undefined, fallback: number): number {
  const value = Number(raw);
  return raw !== undefined && raw !== "" && Number.isFinite(value) && value >= 0 ? value : fallback;
}

function parseSchedule(raw: string | undefined): number[] {
  if (!raw) return DEFAULT_SCHEDULE;
  const steps = raw.split(",").map((step) => Number(step.trim()));
  return steps.every((step) => Number.isFinite(step) && step >= 0) ? steps : DEFAULT_SCHEDULE;
}

// Vars are fixed for an isolate's life, so parse them once per env object.
const configs = new WeakMap<Env, Config>();

export function config(env: Env): Config {
  let parsed = configs.get(env);
  if (!parsed) {
    parsed = {
      retrySchedule: parseSchedule(env.DELIVERY_RETRY_SCHEDULE),
      deliveryTimeoutMs: positiveNumber(env.DELIVERY_TIMEOUT_MS, 10_000),
      sweepStaleAfterSeconds: positiveNumber(env.SWEEP_STALE_AFTER_SECONDS, 600),
      allowPrivateTargets: env.ALLOW_PRIVATE_TARGETS === "true",
      autoBuildCheckTimeoutSeconds: positiveNumber(env.AUTO_BUILD_CHECK_TIMEOUT_SECONDS, 3600),
      retentionDays: positiveNumber(env.RETENTION_DAYS, 30),
      circuitOpenAfterFailures: Math.floor(positiveNumber(env.CIRCUIT_OPEN_AFTER_FAILURES, 10)),
      circuitProbeSeconds: positiveNumber(env.CIRCUIT_PROBE_SECONDS, 60),
      autoDisableAfterDays: positiveNumber(env.AUTO_DISABLE_AFTER_DAYS, 5),
    };
    configs.set(env, parsed);
  }
  return parsed;
}
