import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import {
  api,
  buildWorker,
  INGEST_SECRET,
  log,
  pendingDeliveries,
  root,
  sendPush,
  sleep,
  startReceiver,
  startRelay,
  workerdCpuMs,
} from "./harness.mjs";

const EVENTS = Number(process.env.CAPACITY_EVENTS ?? 400);
const RETENTION_DAYS = 0.0002; // 17 s: the scenarios' events are old enough by the end

const bundleKiB = buildWorker();
const persist = mkdtempSync(path.join(tmpdir(), "hookrelay-capacity-"));
let attempts = 0;
const { receiver, url: receiverUrl } = await startReceiver(() => attempts++);
const { relay, url, db } = await startRelay({
  persist,
  metered: true,
  vars: { RETENTION_DAYS: String(RETENTION_DAYS), DELIVERY_RETRY_SCHEDULE: "1", CIRCUIT_OPEN_AFTER_FAILURES: "0" },
});
const meter = async (method = "GET") => (await fetch(`${url}/__meter`, { method })).json();
const size = async () => (await db.prepare("SELECT 1").run()).meta.size_after;

async function repo(name, hooks, pathPrefix = "") {
  for (let i = 0; i < hooks; i++) {
    await api(url, "POST", `/repos/bench/${name}/hooks`, {
      events: ["push"],
      active: false,
      config: { url: `${receiverUrl}${pathPrefix}/${name}/${i}`, content_type: "json" },
    });
  }
  await db.prepare("UPDATE subscriptions SET active = 1 WHERE subject = ?").bind(`bench/${name}`).run();
  await api(url, "PUT", `/repos/bench/${name}/ingest`, { secret: INGEST_SECRET });
}

async function ingest(name, count) {
  const senders = Array.from({ length: 8 }, async (_, worker) => {
    for (let i = worker; i < count; i += 8) {
      await sendPush(url, name, i);
    }
  });
  await Promise.all(senders);
}

async function drain() {
  const deadline = Date.now() + 120_000;
  while ((await pendingDeliveries(db)) > 0 && Date.now() < deadline) await sleep(100);
}

const sum = (buckets, names, field) => names.reduce((total, name) => total + (buckets[name]?.[field] ?? 0), 0);
const INGEST = ["http", "ingest shard"];
const DELIVERY = ["queue consumer"];

/** Runs one scenario and returns its counts, split into the ingest side and the delivery side. */
async function scenario(label, name, hooks, pathPrefix = "") {
  await repo(name, hooks, pathPrefix);
  await meter("DELETE");
  attempts = 0;
  const bytesBefore = await size();
  const cpuBefore = workerdCpuMs();
  log(`${label}: ${EVENTS} events x ${hooks} subscription(s)`);
  await ingest(name, EVENTS);
  await drain();
  const cpuAfter = workerdCpuMs();
  const counts = await meter();
  const side = (names) =>
    Object.fromEntries(
      [
        "invocations",
        "transactions",
        "statements",
        "rowsRead",
        "rowsWritten",
        "sqlMs",
        "queueMessages",
        "objectCalls",
      ].map((field) => [field, sum(counts, names, field)]),
    );
  const { n: recorded } = await db
    .prepare(
      "SELECT count(*) AS n FROM delivery_attempts a JOIN deliveries d ON d.id = a.delivery_id JOIN events e ON e.id = d.event_id WHERE e.subject = ? AND e.type = 'push'",
    )
    .bind(`bench/${name}`)
    .first();
  return {
    label,
    events: EVENTS,
    subscriptions: hooks,
    attempts: recorded,
    ingest: side(INGEST),
    delivery: side(DELIVERY),
    bytes: (await size()) - bytesBefore,
    cpuMs: Object.entries(cpuAfter).reduce((total, [pid, ms]) => total + ms - (cpuBefore[pid] ?? 0), 0),
  };
}

const scenarios = [
  await scenario("no subscription", "plain", 0),
  await scenario("one subscription", "one", 1),
  await scenario("three subscriptions", "three", 3),
  await scenario("one subscription, first attempt refused", "retried", 1, "/fails-once"),
];

// Retention: everything above is older than RETENTION_DAYS by now; one cron run after
// another until retention has deleted it all, metered.
await sleep(RETENTION_DAYS * 86_400_000);
const { n: eventsBefore } = await db.prepare("SELECT count(*) AS n FROM events").first();
await meter("DELETE");
const worker = await relay.getWorker();
for (let run = 0; run < 50; run++) {
  await worker.scheduled({ cron: "* * * * *" });
  await sleep(300);
  const cursor = await db.prepare("SELECT cursor FROM job_cursors WHERE job = 'retention'").first();
  const { n } = await db.prepare("SELECT count(*) AS n FROM events").first();
  if (n === 0 && !cursor?.cursor) break;
}
const cron = (await meter()).cron ?? {};
const { n: eventsAfter } = await db.prepare("SELECT count(*) AS n FROM events").first();
const retention = {
  eventsDeleted: eventsBefore - eventsAfter,
  runs: cron.invocations ?? 0,
  rowsRead: cron.rowsRead ?? 0,
  rowsWritten: cron.rowsWritten ?? 0,
  sqlMs: cron.sqlMs ?? 0,
};

// ---- Per event, per delivery attempt ----
const byLabel = Object.fromEntries(scenarios.map((s) => [s.label, s]));
const per = (s, side, field, unit) => s[side][field] / unit;
const plain = byLabel["no subscription"];
const one = byLabel["one subscription"];
const three = byLabel["three subscriptions"];
const retried = byLabel["one subscription, first attempt refused"];
const perEvent = {
  rowsWritten: per(plain, "ingest", "rowsWritten", EVENTS),
  rowsRead: per(plain, "ingest", "rowsRead", EVENTS),
  sqlMs: per(plain, "ingest", "sqlMs", EVENTS),
  transactions: per(plain, "ingest", "transactions", EVENTS),
  objectCalls: per(plain, "ingest", "objectCalls", EVENTS),
  bytes: plain.bytes / EVENTS,
};
// A delivery's share of ingest (its row, written by the fan-out) is what three subscriptions
// add over one, per subscription.
const perDeliveryAtIngest = {
  rowsWritten: (three.ingest.rowsWritten - one.ingest.rowsWritten) / (2 * EVENTS),
  rowsRead: (three.ingest.rowsRead - one.ingest.rowsRead) / (2 * EVENTS),
  sqlMs: (three.ingest.sqlMs - one.ingest.sqlMs) / (2 * EVENTS),
  queueMessages: three.ingest.queueMessages / (3 * EVENTS),
};
const perAttempt = {
  rowsWritten: three.delivery.rowsWritten / three.attempts,
  rowsRead: three.delivery.rowsRead / three.attempts,
  sqlMs: three.delivery.sqlMs / three.attempts,
  transactions: three.delivery.transactions / three.attempts,
  consumerInvocations: three.delivery.invocations / three.attempts,
  queueMessages: three.delivery.queueMessages / three.attempts,
};
const perFailedAttempt = {
  rowsWritten: (retried.delivery.rowsWritten - one.delivery.rowsWritten) / (retried.attempts - one.attempts),
  rowsRead: (retried.delivery.rowsRead - one.delivery.rowsRead) / (retried.attempts - one.attempts),
  sqlMs: (retried.delivery.sqlMs - one.delivery.sqlMs) / (retried.attempts - one.attempts),
};
const bytesPerDelivery = (three.bytes - one.bytes) / (2 * EVENTS); // its row plus one attempt
const bytesPerAttempt = (retried.bytes - one.bytes) / (retried.attempts - one.attempts);
const perEventDeleted = {
  rowsWritten: retention.rowsWritten / retention.eventsDeleted,
  rowsRead: retention.rowsRead / retention.eventsDeleted,
  sqlMs: retention.sqlMs / retention.eventsDeleted,
};
const cpuMsPerEventWith3 = three.cpuMs / EVENTS;

// ---- The model: one D1 database's ceiling for this workload, and the price of a million deliveries ----
// Cloudflare's published prices beyond the Workers Paid plan's inclusions (late 2026):
const PRICES = {
  workersRequestPerM: 0.3, // https://developers.cloudflare.com/workers/platform/pricing/
  workersCpuMsPerM: 0.02, // same page
  d1RowsReadPerM: 0.001, // https://developers.cloudflare.com/d1/platform/pricing/
  d1RowsWrittenPerM: 1.0, // same page
  d1StoragePerGBMonth: 0.75, // same page
  queueOperationPerM: 0.4, // https://developers.cloudflare.com/queues/platform/pricing/ (write, read, delete: 3 per message)
  durableObjectRequestPerM: 0.15, // https://developers.cloudflare.com/durable-objects/platform/pricing/
};
const FANOUT = 3; // deliveries per event in the model, as in the bench
const RETENTION_MODEL_DAYS = 30; // the default RETENTION_DAYS
const D1_BYTES = 10e9; // one database's limit
const sqlMsPerEvent = perEvent.sqlMs + FANOUT * (perDeliveryAtIngest.sqlMs + perAttempt.sqlMs) + perEventDeleted.sqlMs;
const rowsWrittenPerEvent =
  perEvent.rowsWritten +
  FANOUT * (perDeliveryAtIngest.rowsWritten + perAttempt.rowsWritten) +
  perEventDeleted.rowsWritten;
const rowsReadPerEvent =
  perEvent.rowsRead + FANOUT * (perDeliveryAtIngest.rowsRead + perAttempt.rowsRead) + perEventDeleted.rowsRead;
const bytesPerEventStored = perEvent.bytes + FANOUT * bytesPerDelivery;
const ceilingEventsPerSecond = 1000 / sqlMsPerEvent;
const model = {
  fanout: FANOUT,
  sqlMsPerEvent,
  rowsWrittenPerEvent,
  rowsReadPerEvent,
  bytesPerEventStored,
  ceiling: {
    eventsPerSecond: ceilingEventsPerSecond,
    deliveriesPerSecond: ceilingEventsPerSecond * FANOUT,
    retentionDaysAtCeiling: D1_BYTES / (bytesPerEventStored * ceilingEventsPerSecond * 86_400),
    eventsPerSecondForRetention: D1_BYTES / (bytesPerEventStored * RETENTION_MODEL_DAYS * 86_400),
  },
};
const events = 1e6 / FANOUT;
const cost = {
  workersRequests: ((events + 1e6 * perAttempt.consumerInvocations) * PRICES.workersRequestPerM) / 1e6,
  durableObjectRequests: (events * perEvent.objectCalls * PRICES.durableObjectRequestPerM) / 1e6,
  d1RowsWritten: (events * rowsWrittenPerEvent * PRICES.d1RowsWrittenPerM) / 1e6,
  d1RowsRead: (events * rowsReadPerEvent * PRICES.d1RowsReadPerM) / 1e6,
  queueOperations: (1e6 * perDeliveryAtIngest.queueMessages * 3 * PRICES.queueOperationPerM) / 1e6,
  // Kept RETENTION_MODEL_DAYS: a million deliveries' bytes for one month.
  d1Storage: ((events * bytesPerEventStored) / 1e9) * PRICES.d1StoragePerGBMonth * (RETENTION_MODEL_DAYS / 30),
};
cost.total = Object.values(cost).reduce((a, b) => a + b, 0);

const results = {
  date: new Date().toISOString(),
  events: EVENTS,
  bundleKiB,
  scenarios,
  retention,
  perEvent,
  perDeliveryAtIngest,
  perAttempt,
  perFailedAttempt,
  perEventDeleted,
  bytes: { perEvent: perEvent.bytes, perDelivery: bytesPerDelivery, perExtraAttempt: bytesPerAttempt },
  cpuMsPerEventWith3,
  model,
  prices: PRICES,
  costPerMillionDeliveries: cost,
};
writeFileSync(path.join(root, "bench/capacity.json"), `${JSON.stringify(results, null, 2)}\n`);

const f = (n, digits = 2) => (Number.isFinite(n) ? n.toFixed(digits) : "n/a");
console.log(
  [
    `hookrelay capacity inputs (${EVENTS} events per scenario, ${new Date().toISOString()})`,
    "",
    "| scenario | side | transactions | statements | rows read | rows written | SQL ms | queue msgs | DO calls |",
    "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ...scenarios.flatMap((s) =>
      ["ingest", "delivery"].map(
        (side) =>
          `| ${s.label} | ${side} | ${s[side].transactions} | ${s[side].statements} | ${s[side].rowsRead} | ${s[side].rowsWritten} | ${f(s[side].sqlMs, 0)} | ${s[side].queueMessages} | ${s[side].objectCalls} |`,
      ),
    ),
    `| retention of ${retention.eventsDeleted} events | cron (${retention.runs} runs) | | | ${retention.rowsRead} | ${retention.rowsWritten} | ${f(retention.sqlMs, 0)} | | |`,
    "",
    "| per unit | rows read | rows written | SQL ms | other |",
    "| --- | ---: | ---: | ---: | --- |",
    `| ingested event (no subscription) | ${f(perEvent.rowsRead)} | ${f(perEvent.rowsWritten)} | ${f(perEvent.sqlMs, 3)} | ${f(perEvent.transactions)} D1 transactions, ${f(perEvent.objectCalls)} Durable Object calls, ${f(perEvent.bytes / 1024, 1)} KB stored |`,
    `| delivery, at ingest (its row) | ${f(perDeliveryAtIngest.rowsRead)} | ${f(perDeliveryAtIngest.rowsWritten)} | ${f(perDeliveryAtIngest.sqlMs, 3)} | ${f(perDeliveryAtIngest.queueMessages)} queue messages, ${f(bytesPerDelivery)} B stored with its attempt |`,
    `| delivery attempt, succeeded | ${f(perAttempt.rowsRead)} | ${f(perAttempt.rowsWritten)} | ${f(perAttempt.sqlMs, 3)} | ${f(perAttempt.transactions, 3)} D1 transactions, ${f(perAttempt.consumerInvocations, 3)} consumer invocations |`,
    `| delivery attempt, failed and retried | ${f(perFailedAttempt.rowsRead)} | ${f(perFailedAttempt.rowsWritten)} | ${f(perFailedAttempt.sqlMs, 3)} | ${f(bytesPerAttempt)} B stored |`,
    `| event deleted by retention (with its deliveries) | ${f(perEventDeleted.rowsRead)} | ${f(perEventDeleted.rowsWritten)} | ${f(perEventDeleted.sqlMs, 3)} | |`,
    "",
    `Model, ${FANOUT} deliveries per event, each succeeding first time, kept ${RETENTION_MODEL_DAYS} days:`,
    `- per event: ${f(rowsWrittenPerEvent, 1)} rows written, ${f(rowsReadPerEvent, 1)} rows read, ${f(sqlMsPerEvent, 3)} ms of SQL, ${f(bytesPerEventStored / 1024, 1)} KB stored`,
    `- one D1 database: ~${f(model.ceiling.eventsPerSecond, 0)} events/s (${f(model.ceiling.deliveriesPerSecond, 0)} deliveries/s) of SQL time; 10 GB holds ${f(model.ceiling.retentionDaysAtCeiling, 1)} days at that rate, or ${RETENTION_MODEL_DAYS} days at ${f(model.ceiling.eventsPerSecondForRetention, 1)} events/s`,
    `- per million deliveries: ${Object.entries(cost)
      .map(([k, v]) => `${k} $${f(v, 3)}`)
      .join(", ")}`,
    `workerd CPU per event with 3 deliveries (all local processes, not a production figure): ${f(cpuMsPerEventWith3)} ms`,
  ].join("\n"),
);

receiver.close();
await relay.dispose();
rmSync(persist, { recursive: true, force: true });
