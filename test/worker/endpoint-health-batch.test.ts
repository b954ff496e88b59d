// Runs in workerd: a batch's attempts are recorded in a fixed number of statements, each
// subscription's attempts folded into the values its row ends with. The reference is what
// the relay did before, one INSERT and two UPDATEs per attempt, applied in order: for every
// mix of successes, failures crossing the circuit threshold, attempts the relay never sent,
// and deactivations, both must leave the same subscriptions, deliveries and attempts.
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { type Config, config } from "../../src/env";
import {
  type AttemptEntry,
  type AttemptRecord,
  attemptStatements,
  type DeliveryOutcome,
  recordAttempts,
} from "../../src/relay/deliveries";
import { goneReason } from "../../src/relay/health-rules";
import { envWith } from "./with-env";

// ---- The reference: the per-attempt statements, as the relay ran them before ----

const RECORD_HEALTH = `UPDATE subscriptions SET last_response_code = ?1, last_response_status = ?2,
    last_response_message = ?3, last_attempt_at = ?4,
    consecutive_failures = CASE WHEN ?5 THEN 0 ELSE consecutive_failures + 1 END,
    failing_since = CASE WHEN ?5 THEN NULL ELSE COALESCE(failing_since, ?4) END,
    probe_at = CASE WHEN ?5 THEN 0
                    WHEN ?6 > 0 AND consecutive_failures + 1 >= ?6 AND probe_at <= ?7 THEN ?7 + ?8
                    ELSE probe_at END,
    probe_queued_at = CASE WHEN ?5 THEN 0 ELSE probe_queued_at END,
    active = CASE WHEN ?9 IS NOT NULL THEN 0 ELSE active END,
    disabled_reason = COALESCE(?9, disabled_reason)
  WHERE id = ?10`;

const RECORD_LAST_RESPONSE = `UPDATE subscriptions SET last_response_code = ?1, last_response_status = ?2,
    last_response_message = ?3, last_attempt_at = ?4,
    active = CASE WHEN ?9 IS NOT NULL THEN 0 ELSE active END,
    disabled_reason = COALESCE(?9, disabled_reason)
  WHERE id = ?10`;

function sequentialStatements(cfg: Config, now: number, { record, outcome }: AttemptEntry): D1PreparedStatement[] {
  const finished = outcome.state === "pending" ? null : record.deliveredAt;
  return [
    env.DB.prepare(
      `INSERT INTO delivery_attempts (delivery_id, subscription_id, attempt, delivered_at, duration_ms,
         succeeded, status_code, status, request_headers, response_headers, response_body)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).bind(
      record.deliveryId,
      record.subscriptionId,
      record.attempt,
      record.deliveredAt,
      record.durationMs,
      record.succeeded ? 1 : 0,
      record.statusCode,
      record.status,
      JSON.stringify(record.requestHeaders),
      record.responseHeaders ? JSON.stringify(record.responseHeaders) : null,
      record.responseBody,
    ),
    env.DB.prepare(
      `UPDATE deliveries SET state = ?, attempts = ?, next_attempt_at = ?, lease_until = 0,
         failure_reason = ?, completed_at = ? WHERE id = ?`,
    ).bind(
      outcome.state,
      record.attempt,
      outcome.state === "pending" ? outcome.nextAttemptAt : Date.now(),
      outcome.state === "failed" ? outcome.reason : null,
      finished,
      record.deliveryId,
    ),
    env.DB.prepare(record.endpointTried ? RECORD_HEALTH : RECORD_LAST_RESPONSE).bind(
      record.statusCode,
      record.succeeded ? "active" : "failed",
      record.status,
      record.deliveredAt,
      record.succeeded ? 1 : 0,
      cfg.circuitOpenAfterFailures,
      now,
      cfg.circuitProbeSeconds * 1000,
      outcome.state === "failed" ? outcome.deactivate : null,
      record.subscriptionId,
    ),
  ];
}

// ---- Scenarios ----

const NOW = Date.parse("2026-03-01T12:00:00Z");

interface Health {
  consecutive_failures?: number;
  failing_since?: string | null;
  probe_at?: number;
  probe_queued_at?: number;
  active?: number;
  disabled_reason?: string | null;
  last_response_code?: number | null;
  last_response_status?: string;
  last_response_message?: string | null;
  last_attempt_at?: string | null;
}

type Kind = "ok" | "fail" | "timeout" | "notsent" | "gone" | "disable" | "exhausted";

/** Each subscription's health before the batch, and its attempts in the batch. */
const scenarios: { name: string; before: Health; attempts: Kind[] }[] = [
  {
    name: "healthy; fails, recovers, then fails past the threshold, with an attempt the relay never sent",
    before: {},
    attempts: ["fail", "fail", "ok", "fail", "timeout", "fail", "notsent", "fail"],
  },
  {
    name: "failing; crosses the threshold, an unsent attempt, then 410 Gone, then a failure",
    before: { consecutive_failures: 2, failing_since: "2026-02-27T00:00:00Z" },
    attempts: ["fail", "notsent", "gone", "fail"],
  },
  {
    name: "circuit open with its probe still ahead: failures leave the probe where it is",
    before: {
      consecutive_failures: 5,
      failing_since: "2026-02-28T00:00:00Z",
      probe_at: NOW + 30_000,
      probe_queued_at: NOW + 30_000,
    },
    attempts: ["fail", "fail"],
  },
  {
    name: "circuit open whose probe slot has passed: the next failure arms the next probe",
    before: { consecutive_failures: 4, failing_since: "2026-02-28T00:00:00Z", probe_at: NOW - 1_000 },
    attempts: ["timeout", "fail"],
  },
  {
    name: "circuit open; the probe succeeds, then it fails again up to the threshold",
    before: {
      consecutive_failures: 7,
      failing_since: "2026-02-20T00:00:00Z",
      probe_at: NOW + 5_000,
      probe_queued_at: NOW + 5_000,
    },
    attempts: ["ok", "fail", "fail", "fail", "fail"],
  },
  {
    name: "only attempts the relay never sent",
    before: { consecutive_failures: 1, failing_since: "2026-02-28T00:00:00Z", probe_at: 17 },
    attempts: ["notsent", "notsent"],
  },
  {
    name: "auto-disabled, then a success and a failure recorded after it",
    before: { consecutive_failures: 9, failing_since: "2026-02-01T00:00:00Z", probe_at: NOW - 5 },
    attempts: ["disable", "ok", "fail"],
  },
  {
    name: "two deactivations: the last reason stays",
    before: { disabled_reason: "an older reason", active: 1 },
    attempts: ["gone", "exhausted", "disable", "notsent"],
  },
  {
    name: "a retry schedule used up, then successes",
    before: { consecutive_failures: 3, probe_at: NOW - 60_000 },
    attempts: ["exhausted", "ok", "ok"],
  },
];

let clock = 0;
/** An attempt at tick `tick` (a second apart); by default, the next tick. */
function attemptOf(kind: Kind, subscriptionId: number, deliveryId: number, tick = ++clock): AttemptEntry {
  const deliveredAt = new Date(NOW - 60_000 + tick * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
  const sent = kind !== "notsent";
  const statusCode = { ok: 200, fail: 500, timeout: null, notsent: null, gone: 410, disable: 502, exhausted: 503 }[
    kind
  ];
  const status =
    kind === "ok"
      ? "OK"
      : kind === "timeout"
        ? "Timed out after 10000 ms"
        : kind === "notsent"
          ? "Not sent: SECRETS_KEY is not set"
          : `Invalid HTTP Response: ${statusCode}`;
  const record: AttemptRecord = {
    deliveryId,
    subscriptionId,
    attempt: 1 + (tick % 3),
    deliveredAt,
    durationMs: tick * 7,
    succeeded: kind === "ok",
    statusCode,
    status,
    requestHeaders: { "content-type": "application/json", "x-hookrelay-delivery": `guid-${tick}` },
    responseHeaders: sent && statusCode !== null ? { "content-type": "text/plain" } : null,
    responseBody: sent && statusCode !== null ? `body ${tick} "quoted" \\ ünïcödé` : null,
    endpointTried: sent,
  };
  let outcome: DeliveryOutcome;
  switch (kind) {
    case "ok":
      outcome = { state: "succeeded" };
      break;
    case "gone":
      outcome = {
        state: "failed",
        reason: "410 Gone: the subscription was deactivated",
        deactivate: goneReason(deliveredAt),
      };
      break;
    case "disable": {
      const reason = `no successful delivery for 5 days (at ${deliveredAt})`;
      outcome = { state: "failed", reason, deactivate: reason };
      break;
    }
    case "exhausted":
      outcome = { state: "failed", reason: `gave up after 3 attempts: ${status}`, deactivate: null };
      break;
    default:
      outcome = { state: "pending", nextAttemptAt: NOW + tick * 1000 };
  }
  return { record, outcome };
}

/** An event the test's deliveries belong to. */
async function newEvent(): Promise<string> {
  const event = crypto.randomUUID();
  await env.DB.prepare(
    `INSERT INTO events (id, type, subject_type, subject, source, source_id, payload, created_at)
     VALUES (?1, 'push', 'repository', 'octo/fold', 'api', ?1, '{}', '2026-03-01T00:00:00Z')`,
  )
    .bind(event)
    .run();
  return event;
}

async function newSubscription(before: Health): Promise<number> {
  const row = await env.DB.prepare(
    `INSERT INTO subscriptions (dialect, subject_type, subject, events, url, content_type, created_by, created_at,
       updated_at) VALUES ('github', 'repository', 'octo/fold', '["*"]', ?, 'json', 'test', ?, ?) RETURNING id`,
  )
    .bind(`https://example.com/fold/${crypto.randomUUID()}`, "2026-01-01T00:00:00Z", "2026-01-01T00:00:00Z")
    .first<{ id: number }>();
  const id = row?.id as number;
  const columns = Object.keys(before);
  if (columns.length > 0) {
    await env.DB.prepare(
      `UPDATE subscriptions SET ${columns.map((c, i) => `${c} = ?${i + 2}`).join(", ")} WHERE id = ?1`,
    )
      .bind(id, ...Object.values(before))
      .run();
  }
  return id;
}

async function newDelivery(eventId: string, subscriptionId: number): Promise<number> {
  const row = await env.DB.prepare(
    `INSERT INTO deliveries (guid, event_id, subscription_id, next_attempt_at, lease_until, created_at)
     VALUES (?, ?, ?, 0, ?, '2026-03-01T00:00:00Z') RETURNING id`,
  )
    .bind(crypto.randomUUID(), eventId, subscriptionId, NOW + 100_000)
    .first<{ id: number }>();
  return row?.id as number;
}

const SUBSCRIPTION_COLUMNS = `active, disabled_reason, consecutive_failures, failing_since, probe_at, probe_queued_at,
  last_response_code, last_response_status, last_response_message, last_attempt_at`;

async function rows(sql: string, ids: number[]) {
  return Promise.all(ids.map(async (id) => env.DB.prepare(sql).bind(id).first()));
}

/**
 * Two copies of every scenario's subscriptions and deliveries: one recorded attempt by
 * attempt with the reference statements, one with recordAttempts, the scenarios' attempts
 * interleaved in one batch. Returns both sides' rows.
 */
async function recordBothWays(cfg: Config) {
  const event = await newEvent();
  const sides = { reference: [] as AttemptEntry[], folded: [] as AttemptEntry[] };
  const subscriptions = { reference: [] as number[], folded: [] as number[] };
  const deliveries = { reference: [] as number[], folded: [] as number[] };
  const queues: { kinds: Kind[]; reference: number; folded: number }[] = [];
  for (const scenario of scenarios) {
    const reference = await newSubscription(scenario.before);
    const folded = await newSubscription(scenario.before);
    subscriptions.reference.push(reference);
    subscriptions.folded.push(folded);
    queues.push({ kinds: [...scenario.attempts], reference, folded });
  }
  // Round robin over the scenarios, so every subscription's attempts are spread across the batch.
  for (let round = 0; queues.some((q) => q.kinds.length > 0); round++) {
    for (const queue of queues.slice(round % 2).concat(queues.slice(0, round % 2))) {
      const kind = queue.kinds.shift();
      if (!kind) continue;
      const [referenceDelivery, foldedDelivery] = [
        await newDelivery(event, queue.reference),
        await newDelivery(event, queue.folded),
      ];
      deliveries.reference.push(referenceDelivery);
      deliveries.folded.push(foldedDelivery);
      const tick = ++clock;
      sides.reference.push(attemptOf(kind, queue.reference, referenceDelivery, tick));
      sides.folded.push(attemptOf(kind, queue.folded, foldedDelivery, tick));
    }
  }

  vi.spyOn(Date, "now").mockReturnValue(NOW);
  await env.DB.batch(sides.reference.flatMap((entry) => sequentialStatements(cfg, NOW, entry)));
  await recordAttempts(env, cfg, sides.folded);
  vi.restoreAllMocks();

  const attemptSql = `SELECT attempt, delivered_at, duration_ms, succeeded, status_code, status, request_headers,
    response_headers, response_body FROM delivery_attempts WHERE delivery_id = ?`;
  const deliverySql = `SELECT state, attempts, next_attempt_at, lease_until, failure_reason, completed_at
    FROM deliveries WHERE id = ?`;
  const subscriptionSql = `SELECT ${SUBSCRIPTION_COLUMNS} FROM subscriptions WHERE id = ?`;
  return {
    reference: {
      subscriptions: await rows(subscriptionSql, subscriptions.reference),
      deliveries: await rows(deliverySql, deliveries.reference),
      attempts: await rows(attemptSql, deliveries.reference),
    },
    folded: {
      subscriptions: await rows(subscriptionSql, subscriptions.folded),
      deliveries: await rows(deliverySql, deliveries.folded),
      attempts: await rows(attemptSql, deliveries.folded),
    },
    attemptCount: sides.folded.length,
  };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe("recording a batch of attempts", () => {
  const settings = {
    "the circuit opening at 3 failures": { CIRCUIT_OPEN_AFTER_FAILURES: "3", CIRCUIT_PROBE_SECONDS: "60" },
    "the circuit opening at the first failure": { CIRCUIT_OPEN_AFTER_FAILURES: "1", CIRCUIT_PROBE_SECONDS: "30" },
    "the circuit breaker off": { CIRCUIT_OPEN_AFTER_FAILURES: "0", CIRCUIT_PROBE_SECONDS: "60" },
    "probes with no interval": { CIRCUIT_OPEN_AFTER_FAILURES: "2", CIRCUIT_PROBE_SECONDS: "0" },
  };

  for (const [name, vars] of Object.entries(settings)) {
    it(`leaves every subscription as the attempts recorded one by one would, with ${name}`, async () => {
      const cfg = config(envWith(vars));
      const { reference, folded } = await recordBothWays(cfg);
      for (const [index, scenario] of scenarios.entries()) {
        expect({ scenario: scenario.name, row: folded.subscriptions[index] }).toEqual({
          scenario: scenario.name,
          row: reference.subscriptions[index],
        });
      }
      expect(folded.deliveries).toEqual(reference.deliveries);
      expect(folded.attempts).toEqual(reference.attempts);
      // Not a vacuous comparison: the scenarios did open circuits, deactivate and count.
      const opened = reference.subscriptions.filter((row) => (row as { probe_at: number }).probe_at > NOW);
      if (cfg.circuitOpenAfterFailures > 0 && cfg.circuitProbeSeconds > 0) expect(opened.length).toBeGreaterThan(1);
      expect(reference.subscriptions.filter((row) => (row as { active: number }).active === 0).length).toBe(3);
    });
  }

  it("uses the same three statements for one attempt as for a hundred", () => {
    const cfg = config(env);
    const one = [attemptOf("ok", 1, 1)];
    const many = Array.from({ length: 100 }, (_, i) => attemptOf(i % 3 ? "fail" : "ok", 1 + (i % 7), 1 + i));
    expect(attemptStatements(env, cfg, one)).toHaveLength(3);
    expect(attemptStatements(env, cfg, many)).toHaveLength(3);
    expect(attemptStatements(env, cfg, [])).toHaveLength(0);
  });

  it("splits the attempts' JSON below D1's 2 MB string limit when responses are large", async () => {
    const cfg = config(env);
    const big = Array.from({ length: 100 }, (_, i) => {
      const entry = attemptOf("fail", 1, 1 + i);
      // 20 KB of multi-byte characters: 60 KB of UTF-8 each, 6 MB in all.
      entry.record.responseBody = "ü€".repeat(10 * 1024);
      return entry;
    });
    const statements = attemptStatements(env, cfg, big);
    expect(statements.length).toBeGreaterThan(6);
    expect(statements.length).toBeLessThan(12);
  });

  it("stores response bodies exactly, NUL characters and all", async () => {
    const event = await newEvent();
    const subscription = await newSubscription({});
    const delivery = await newDelivery(event, subscription);
    const entry = attemptOf("fail", subscription, delivery);
    const body = `binary\u0000in\u0001the middle\u007f, "quotes", \\ and emoji 🎉 and a lone \uFFFD`;
    entry.record.responseBody = body;
    entry.record.responseHeaders = { "x-odd": 'a "quoted" value' };
    await recordAttempts(env, config(env), [entry]);
    const stored = await env.DB.prepare(
      "SELECT response_body, response_headers, request_headers FROM delivery_attempts WHERE delivery_id = ?",
    )
      .bind(delivery)
      .first<{ response_body: string; response_headers: string; request_headers: string }>();
    expect(stored?.response_body).toBe(body);
    expect(stored?.response_headers).toBe(JSON.stringify(entry.record.responseHeaders));
    expect(stored?.request_headers).toBe(JSON.stringify(entry.record.requestHeaders));
  });
});
