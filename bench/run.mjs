// `npm run bench [-- --quick]`: hookrelay's throughput and latency under workerd (through
// Miniflare's API, not `wrangler dev`), as ratios against a bare Worker and against the
// usual Node.js receiver, all measured in the same run. Only 127.0.0.1 is ever loaded, and
// every load phase is bounded in time and request count.
import { fork } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import path from "node:path";
import autocannon from "autocannon";
import { convertV4MiniflareOptions, Miniflare } from "miniflare";
import {
  ADMIN,
  buildWorker,
  HOOK_SECRET,
  INGEST_SECRET,
  log,
  pendingDeliveries,
  pushBody,
  api as relayApi,
  root,
  sendPush,
  sign,
  sleep,
  startReceiver,
  startRelay,
  workerdCpuMs,
  wranglerWorkerOptions,
} from "./harness.mjs";

const quick = process.argv.includes("--quick");
// `--only=throughput,delivery,storage` runs some phases; the report marks the rest n/a.
const phases = new Set(
  (process.argv.find((arg) => arg.startsWith("--only="))?.slice(7) ?? "throughput,delivery,storage").split(","),
);
const settings = quick
  ? {
      rounds: 1,
      seconds: 3,
      ingestRequests: 1500,
      deployRequests: 800,
      latencyEvents: 60,
      sustained3: 300,
      sustained100: 15,
      mixedSeconds: 5,
      storageEvents: 300,
      storageRounds: 4,
      storageRoundSeconds: 5,
    }
  : {
      rounds: 3,
      seconds: 8,
      ingestRequests: 3000,
      deployRequests: 2000,
      latencyEvents: 300,
      sustained3: 1000,
      sustained100: 40,
      mixedSeconds: 10,
      storageEvents: 1000,
      storageRounds: 12,
      storageRoundSeconds: 10,
    };

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length ? sorted[Math.floor((sorted.length - 1) / 2)] : Number.NaN;
};
const percentile = (values, p) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] : Number.NaN;
};

// ---- Build the Worker exactly as `wrangler deploy` would, and read its size ----
const bundleKiB = buildWorker();

// ---- Serve the relay and the ceiling under workerd ----
const persist = mkdtempSync(path.join(tmpdir(), "hookrelay-bench-"));
const workerOptions = wranglerWorkerOptions();
// Profiling aid: BENCH_NO_CONSUMER=1 measures ingest with nothing consuming the queue.
const {
  relay,
  url: relayUrl,
  db,
} = await startRelay({
  persist,
  without: process.env.BENCH_NO_CONSUMER ? ["queueConsumers"] : [],
});
const ceiling = new Miniflare(
  convertV4MiniflareOptions({
    host: "127.0.0.1",
    port: 0,
    modules: true,
    scriptPath: path.join(root, "bench/ceiling-worker.mjs"),
    compatibilityDate: workerOptions.compatibilityDate,
  }),
);
const floor = new Miniflare(
  convertV4MiniflareOptions({
    host: "127.0.0.1",
    port: 0,
    ...(process.env.BENCH_MEMORY ? {} : { resourcePersistencePath: path.join(persist, "floor") }),
    modules: true,
    scriptPath: path.join(root, "bench/floor-worker.mjs"),
    compatibilityDate: workerOptions.compatibilityDate,
    d1Databases: ["DB"],
    queueProducers: { QUEUE: { queueName: "floor" } },
    queueConsumers: { floor: { maxBatchSize: 10, maxBatchTimeout: 1, maxRetries: 1 } },
  }),
);
const ceilingUrl = (await ceiling.ready).origin;
const floorUrl = (await floor.ready).origin;
await (await floor.getD1Database("DB")).exec("CREATE TABLE floor (id INTEGER PRIMARY KEY, body TEXT)");
// ---- The peer: @octokit/webhooks on node:http, in its own process ----
const peer = fork(path.join(root, "bench/peer-server.mjs"), [], {
  env: { ...process.env, PEER_SECRET: INGEST_SECRET },
});
// Never left behind, even when a phase throws.
process.on("exit", () => peer.kill());
const peerUrl = `http://127.0.0.1:${(await new Promise((resolve) => peer.once("message", resolve))).port}`;

// ---- Receivers: one local server, a path per subscription ----
const arrivals = new Map(); // path -> [{ at, guid, marker }]
let arrivalCount = 0;
const { receiver, url: receiverUrl } = await startReceiver((url, body, at) => {
  const marker = /"bench_marker":(\d+)/.exec(body)?.[1];
  const list = arrivals.get(url) ?? [];
  list.push({ at, marker: marker === undefined ? undefined : Number(marker) });
  arrivals.set(url, list);
  arrivalCount++;
});
const api = (method, route, json) => relayApi(relayUrl, method, route, json);

/** Hooks that receive locally. Created inactive (so no pings), then switched on in one statement. */
async function subscribe(repo, count, events = ["push"], target = { url: relayUrl, db }) {
  const ids = [];
  for (let i = 0; i < count; i++) {
    const hook = await relayApi(target.url, "POST", `/repos/bench/${repo}/hooks`, {
      events,
      active: false,
      config: { url: `${receiverUrl}/${repo}/${i}`, content_type: "json", secret: HOOK_SECRET },
    });
    ids.push(hook.id);
  }
  await target.db.prepare(`UPDATE subscriptions SET active = 1 WHERE subject = ?`).bind(`bench/${repo}`).run();
  await relayApi(target.url, "PUT", `/repos/bench/${repo}/ingest`, { secret: INGEST_SECRET });
  return ids;
}

async function drain(label, timeoutMs = 120_000) {
  if (process.env.BENCH_NO_CONSUMER) return;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const n = await pendingDeliveries(db);
    if (n === 0) return;
    if (Date.now() > deadline) {
      log(`${label}: ${n} deliveries still pending after ${timeoutMs / 1000} s`);
      return;
    }
    await sleep(250);
  }
}

function load({ url, connections, body, headers, amount, seconds, method = "POST", uniqueDelivery = false }) {
  return new Promise((resolve, reject) => {
    const options = {
      url,
      connections,
      method,
      body,
      headers: { "content-type": "application/json", ...headers },
      ...(amount ? { amount } : { duration: seconds }),
      timeout: 10,
    };
    if (uniqueDelivery) {
      options.requests = [
        { setupRequest: (req) => ({ ...req, headers: { ...req.headers, "x-github-delivery": randomUUID() } }) },
      ];
    }
    const started = performance.now();
    const cpuBefore = process.env.BENCH_CPU ? workerdCpuMs() : {};
    let lastResponse = started;
    const instance = autocannon(options, (error, result) => {
      if (error) return reject(error);
      const ok = result["2xx"];
      // Timed to the last response: autocannon stops on a one-second tick, too coarse for bounded runs.
      const elapsed = (lastResponse - started) / 1000;
      if (process.env.BENCH_CPU) {
        const after = workerdCpuMs();
        const per = Object.entries(after).map(
          ([pid, ms]) => `${pid}:${((ms - (cpuBefore[pid] ?? 0)) / result.requests.total).toFixed(2)}`,
        );
        log(`  ${url} cpu ms/request by workerd pid ${per.join(" ")}`);
      }
      log(`  ${Math.round(ok / elapsed)} req/s, p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms`);
      resolve({
        rps: ok / elapsed,
        p50: result.latency.p50,
        p99: result.latency.p99,
        errors: result.errors + result.timeouts + result.non2xx,
        requests: result.requests.total,
      });
    });
    instance.on("response", () => {
      lastResponse = performance.now();
    });
  });
}

// ---- Setup ----
log(`relay ${relayUrl}, ceiling ${ceilingUrl}, peer ${peerUrl}, receivers ${receiverUrl}`);
await subscribe("ingest", 3);
await api("POST", "/repos/bench/deploys/hooks", { events: ["status"], config: { url: `${receiverUrl}/none` } });

const ingestTarget = `${relayUrl}/ingest/github/bench/ingest`;
const ingestHeaders = { "x-github-event": "push", "x-hub-signature-256": sign(pushBody) };
const peerHeaders = { ...ingestHeaders, "x-github-delivery": randomUUID() };
const deployBody = JSON.stringify({ ref: "6113728f27ae82c7b1a177c8d03f9e96e0adf246", required_contexts: [] });

// ---- Throughput: interleave ceiling, relay and peer, A B C A B C ... ----
const runs = {
  ceiling16: [],
  floorD1: [],
  floorD1Queue: [],
  ingest16: [],
  ingestShared16: [],
  peer16: [],
  ceiling64: [],
  ingest64: [],
  peer64: [],
  deploy16: [],
};
for (let round = 1; phases.has("throughput") && round <= settings.rounds; round++) {
  for (const connections of [16, 64]) {
    log(`round ${round}: ceiling @${connections}`);
    runs[`ceiling${connections}`].push(
      await load({ url: ceilingUrl, connections, body: pushBody, headers: ingestHeaders, seconds: settings.seconds }),
    );
    // On Cloudflare the queue consumer runs in invocations of its own, not on the thread that
    // answers webhooks: ingest is measured on a relay without a local consumer (a fresh one per
    // load, so its queue stays below the local queue's 10,000-message limit), and again below
    // with the consumer sharing the thread.
    log(`round ${round}: ingest @${connections}`);
    const ingestOnly = await startRelay({
      persist: path.join(persist, `ingest-${round}-${connections}`),
      without: ["queueConsumers"],
    });
    await subscribe("ingest", 3, ["push"], ingestOnly);
    runs[`ingest${connections}`].push(
      await load({
        url: `${ingestOnly.url}/ingest/github/bench/ingest`,
        connections,
        body: pushBody,
        headers: ingestHeaders,
        amount: settings.ingestRequests,
        uniqueDelivery: true,
      }),
    );
    await ingestOnly.relay.dispose();
    if (connections === 16) {
      log(`round ${round}: ingest @16, the consumer on the same workerd thread`);
      runs.ingestShared16.push(
        await load({
          url: ingestTarget,
          connections,
          body: pushBody,
          headers: ingestHeaders,
          amount: settings.ingestRequests,
          uniqueDelivery: true,
        }),
      );
    }
    log(`round ${round}: peer @${connections}`);
    runs[`peer${connections}`].push(
      await load({ url: peerUrl, connections, body: pushBody, headers: peerHeaders, seconds: settings.seconds }),
    );
    await drain(`round ${round} ingest @${connections}`);
  }
  log(`round ${round}: floor, one D1 write @16`);
  runs.floorD1.push(
    await load({ url: `${floorUrl}/d1`, connections: 16, body: pushBody, amount: settings.ingestRequests }),
  );
  log(`round ${round}: floor, one D1 write + one enqueue @16`);
  runs.floorD1Queue.push(
    await load({ url: `${floorUrl}/d1-queue`, connections: 16, body: pushBody, amount: settings.ingestRequests }),
  );
  log(`round ${round}: deployments API @16`);
  runs.deploy16.push(
    await load({
      url: `${relayUrl}/repos/bench/deploys/deployments`,
      connections: 16,
      body: deployBody,
      headers: { authorization: `token ${ADMIN}` },
      amount: settings.deployRequests,
    }),
  );
  await drain(`round ${round} deployments`);
}
const summary = Object.fromEntries(
  Object.entries(runs).map(([name, list]) => [
    name,
    {
      rps: median(list.map((r) => r.rps)),
      p50: median(list.map((r) => r.p50)),
      p99: median(list.map((r) => r.p99)),
      errors: list.reduce((sum, r) => sum + r.errors, 0),
    },
  ]),
);

// ---- Delivery latency at a sustainable rate: ingest 202 -> receiver arrival ----
const ingestMarked = (repo, marker) => sendPush(relayUrl, repo, marker);

async function waitForArrivals(expected, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (arrivalCount < expected && Date.now() < deadline) await sleep(10);
  return arrivalCount >= expected;
}

const latencies = [];
let sustained3 = { perSecond: Number.NaN, deliveries: 0, seconds: Number.NaN };
let sustained100 = sustained3;
let fanOutSeconds = Number.NaN;
let fanComplete = false;
const mixedRate = 100;
let mixed = { ingest: {}, delivery: {}, complete: false };
if (phases.has("delivery")) {
  log("delivery latency at ~20 events/s, 3 subscriptions");
  await subscribe("latency", 3);
  arrivals.clear();
  arrivalCount = 0;
  const accepted = [];
  for (let i = 0; i < settings.latencyEvents; i++) {
    accepted[i] = await ingestMarked("latency", i);
    await sleep(50);
  }
  await waitForArrivals(settings.latencyEvents * 3);

  for (const [, list] of arrivals)
    for (const a of list) if (a.marker !== undefined) latencies.push(a.at - accepted[a.marker]);

  async function sustained(repo, subscriptions, events) {
    await subscribe(repo, subscriptions);
    arrivals.clear();
    arrivalCount = 0;
    const started = performance.now();
    // As many senders as the ingest phase's connections: fewer, and ingest latency, not the
    // delivery pipeline, sets the rate.
    const senders = Array.from({ length: 16 }, async (_, worker) => {
      for (let i = worker; i < events; i += 16) await ingestMarked(repo, i);
    });
    await Promise.all(senders);
    const complete = await waitForArrivals(events * subscriptions, 120_000);
    const elapsed = (performance.now() - started) / 1000;
    return { deliveries: arrivalCount, seconds: elapsed, perSecond: arrivalCount / elapsed, complete };
  }
  log(`sustained deliveries: ${settings.sustained3} events x 3 subscriptions`);
  sustained3 = await sustained("sustained3", 3, settings.sustained3);
  log(`sustained deliveries: ${settings.sustained100} events x 100 subscriptions`);
  sustained100 = await sustained("sustained100", 100, settings.sustained100);

  // Ingest and deliveries at once, at a rate the relay sustains: both latencies under load.
  log(`mixed: ${mixedRate} events/s x 3 subscriptions for ${settings.mixedSeconds} s`);
  await subscribe("mixed", 3);
  arrivals.clear();
  arrivalCount = 0;
  const mixedTotal = mixedRate * settings.mixedSeconds;
  const answeredAt = [];
  const ingestMs = [];
  const mixedStart = performance.now();
  await Promise.all(
    Array.from({ length: 16 }, async (_, worker) => {
      for (let i = worker; i < mixedTotal; i += 16) {
        const due = mixedStart + (i * 1000) / mixedRate;
        if (due > performance.now()) await sleep(due - performance.now());
        const sentAt = performance.now();
        answeredAt[i] = await ingestMarked("mixed", i);
        ingestMs.push(answeredAt[i] - sentAt);
      }
    }),
  );
  const mixedComplete = await waitForArrivals(mixedTotal * 3, 60_000);
  const mixedDelivery = [...arrivals.values()]
    .flat()
    .filter((a) => a.marker !== undefined)
    .map((a) => a.at - answeredAt[a.marker]);
  mixed = {
    ingest: { p50: percentile(ingestMs, 50), p99: percentile(ingestMs, 99) },
    delivery: { p50: percentile(mixedDelivery, 50), p99: percentile(mixedDelivery, 99) },
    complete: mixedComplete,
  };

  log("fan-out: one event to 1,000 subscriptions");
  await subscribe("fanout", 1000);
  arrivals.clear();
  arrivalCount = 0;
  const fanStart = await ingestMarked("fanout", 0);
  fanComplete = await waitForArrivals(1000, 60_000);
  fanOutSeconds = (Math.max(...[...arrivals.values()].flat().map((a) => a.at)) - fanStart) / 1000;
}

// ---- Storage: bytes per event, delivery and attempt; D1's size under retention ----
// A second relay on a fresh database, so sizes are not hidden by pages the phases above
// freed. D1 reports the database's size with every result (`meta.size_after`); SQLite
// reuses freed pages, so under retention the size should stop growing.
const RETENTION_DAYS = 0.0001; // 8.64 s, so a few rounds of load outlive it
const steadyRate = 40;
const steadyRounds = [];
let bytesPerEvent = Number.NaN;
let bytesPerAttempt = Number.NaN;
let bytesPerDelivery = Number.NaN;
let steadyGrowth = Number.NaN;
let withoutRetention = Number.NaN;
let half = [];
if (phases.has("storage")) {
  log(`storage: a relay with RETENTION_DAYS=${RETENTION_DAYS}`);
  const {
    relay: storageRelay,
    url: storageUrl,
    db: sdb,
  } = await startRelay({
    persist: path.join(persist, "storage"),
    vars: {
      RETENTION_DAYS: String(RETENTION_DAYS),
      DELIVERY_RETRY_SCHEDULE: "1",
      // A receiver that refuses every first attempt would open the circuit (each probe is
      // some delivery's first attempt); the breaker is not what this phase measures.
      CIRCUIT_OPEN_AFTER_FAILURES: "0",
    },
  });
  const dbBytes = async () => (await sdb.prepare("SELECT 1").run()).meta.size_after;
  const storageApi = (method, route, json) => relayApi(storageUrl, method, route, json);

  async function storageRepo(repo, hooks, pathPrefix = "") {
    for (let i = 0; i < hooks; i++) {
      await storageApi("POST", `/repos/bench/${repo}/hooks`, {
        events: ["push"],
        active: false,
        config: { url: `${receiverUrl}${pathPrefix}/${repo}/${i}`, content_type: "json", secret: HOOK_SECRET },
      });
    }
    await sdb.prepare("UPDATE subscriptions SET active = 1 WHERE subject = ?").bind(`bench/${repo}`).run();
    await storageApi("PUT", `/repos/bench/${repo}/ingest`, { secret: INGEST_SECRET });
  }

  async function storageIngest(repo, count, perSecond = 0) {
    const started = performance.now();
    // Paced: one sender at `perSecond`; otherwise as fast as 8 senders go.
    const workers = perSecond ? 1 : 8;
    const senders = Array.from({ length: workers }, async (_, worker) => {
      for (let i = worker; i < count; i += workers) {
        if (perSecond) {
          const due = started + (i * 1000) / perSecond;
          if (due > performance.now()) await sleep(due - performance.now());
        }
        await sendPush(storageUrl, repo, i);
      }
    });
    await Promise.all(senders);
  }

  async function storageDrain(label, timeoutMs = 120_000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const n = await pendingDeliveries(sdb);
      if (n === 0) return;
      if (Date.now() > deadline) {
        log(`${label}: ${n} deliveries still pending after ${timeoutMs / 1000} s`);
        return;
      }
      await sleep(100);
    }
  }

  /** Growth of the database while `work` runs, in bytes. */
  async function growth(work) {
    const before = await dbBytes();
    await work();
    return (await dbBytes()) - before;
  }

  const N = settings.storageEvents;
  await storageRepo("plain", 0);
  await storageRepo("stored", 1);
  await storageRepo("retried", 1, "/fails-once");
  log(`storage: ${N} events with no subscription, with one, and with one that fails each first attempt`);
  const eventsOnly = await growth(() => storageIngest("plain", N));
  const withDelivery = await growth(async () => {
    await storageIngest("stored", N);
    await storageDrain("storage, one subscription");
  });
  const withRetry = await growth(async () => {
    await storageIngest("retried", N);
    await storageDrain("storage, retried once");
  });
  bytesPerEvent = eventsOnly / N;
  bytesPerAttempt = (withRetry - withDelivery) / N;
  bytesPerDelivery = withDelivery / N - bytesPerEvent - bytesPerAttempt;

  // Steady load: events at a fixed rate to 3 subscriptions, round after round, with the
  // scheduled handler (sweep and retention) run after each round as the cron would.
  const scheduledWorker = await storageRelay.getWorker();
  async function runRetention() {
    const lastRun = async () =>
      (await sdb.prepare("SELECT updated_at, cursor FROM job_cursors WHERE job = 'retention'").first()) ?? {};
    for (let run = 0; run < 20; run++) {
      const before = (await lastRun()).updated_at;
      await scheduledWorker.scheduled({ cron: "* * * * *" });
      const deadline = Date.now() + 60_000;
      let after = await lastRun();
      while (after.updated_at === before && Date.now() < deadline) {
        await sleep(100);
        after = await lastRun();
      }
      if (!after.cursor) return;
    }
  }

  const steadyPerRound = steadyRate * settings.storageRoundSeconds;
  await storageRepo("steady", 3);
  await runRetention(); // the three phases above are older than the retention period by now

  for (let round = 1; round <= settings.storageRounds; round++) {
    log(`storage: steady load round ${round}/${settings.storageRounds}, ${steadyRate} events/s x 3 subscriptions`);
    await storageIngest("steady", steadyPerRound, steadyRate);
    await storageDrain(`storage round ${round}`);
    await runRetention();
    const { n: events } = await sdb.prepare("SELECT count(*) AS n FROM events").first();
    steadyRounds.push({ round, ingested: round * steadyPerRound, eventsKept: events, bytes: await dbBytes() });
  }
  half = steadyRounds.slice(Math.floor(steadyRounds.length / 2));
  steadyGrowth = half.length > 1 ? half.at(-1).bytes / half[0].bytes - 1 : Number.NaN;
  withoutRetention =
    steadyRounds.at(-1).bytes +
    (steadyRounds.at(-1).ingested - steadyRounds.at(-1).eventsKept) *
      (bytesPerEvent + 3 * (bytesPerDelivery + bytesPerAttempt));
  await storageRelay.dispose();
}

// ---- Report ----
const results = {
  date: new Date().toISOString(),
  machine: { cores: cpus().length, cpu: cpus()[0]?.model, node: process.version },
  mode: quick ? "quick" : "full",
  rounds: settings.rounds,
  throughput: summary,
  ratios: {
    ingest16_vs_ceiling: summary.ingest16.rps / summary.ceiling16.rps,
    ingestShared16_vs_ceiling: summary.ingestShared16.rps / summary.ceiling16.rps,
    floorD1_vs_ceiling: summary.floorD1.rps / summary.ceiling16.rps,
    floorD1Queue_vs_ceiling: summary.floorD1Queue.rps / summary.ceiling16.rps,
    ingest16_vs_floor: summary.ingest16.rps / summary.floorD1Queue.rps,
    ingest64_vs_ceiling: summary.ingest64.rps / summary.ceiling64.rps,
    deploy16_vs_ceiling: summary.deploy16.rps / summary.ceiling16.rps,
    ingest16_vs_peer: summary.ingest16.rps / summary.peer16.rps,
    ingest64_vs_peer: summary.ingest64.rps / summary.peer64.rps,
  },
  delivery: {
    latencyMs: { p50: percentile(latencies, 50), p99: percentile(latencies, 99), samples: latencies.length },
    sustained3,
    sustained100,
    fanOut1000: { seconds: fanOutSeconds, complete: fanComplete },
    mixed: { eventsPerSecond: mixedRate, subscriptions: 3, ...mixed },
  },
  storage: {
    payloadBytes: Buffer.byteLength(pushBody),
    bytesPerEvent,
    bytesPerDelivery,
    bytesPerAttempt,
    retentionDays: RETENTION_DAYS,
    steadyRate,
    steadyRounds,
    secondHalfGrowth: steadyGrowth,
    withoutRetentionBytes: withoutRetention,
  },
  bundleKiB,
};
writeFileSync(path.join(root, "bench/results.json"), `${JSON.stringify(results, null, 2)}\n`);

const f = (n, digits = 0) => (Number.isFinite(n) ? n.toFixed(digits) : "n/a");
const rows = [
  [
    "ceiling (bare Worker) @16",
    f(summary.ceiling16.rps),
    f(summary.ceiling16.p50),
    f(summary.ceiling16.p99),
    summary.ceiling16.errors,
  ],
  [
    "floor: bare Worker + 1 D1 write @16",
    f(summary.floorD1.rps),
    f(summary.floorD1.p50),
    f(summary.floorD1.p99),
    summary.floorD1.errors,
  ],
  [
    "floor: + 1 D1 write + 1 enqueue @16",
    f(summary.floorD1Queue.rps),
    f(summary.floorD1Queue.p50),
    f(summary.floorD1Queue.p99),
    summary.floorD1Queue.errors,
  ],
  ["ingest @16", f(summary.ingest16.rps), f(summary.ingest16.p50), f(summary.ingest16.p99), summary.ingest16.errors],
  [
    "ingest @16, consumer on the same thread",
    f(summary.ingestShared16.rps),
    f(summary.ingestShared16.p50),
    f(summary.ingestShared16.p99),
    summary.ingestShared16.errors,
  ],
  [
    "peer @octokit/webhooks @16",
    f(summary.peer16.rps),
    f(summary.peer16.p50),
    f(summary.peer16.p99),
    summary.peer16.errors,
  ],
  [
    "ceiling (bare Worker) @64",
    f(summary.ceiling64.rps),
    f(summary.ceiling64.p50),
    f(summary.ceiling64.p99),
    summary.ceiling64.errors,
  ],
  ["ingest @64", f(summary.ingest64.rps), f(summary.ingest64.p50), f(summary.ingest64.p99), summary.ingest64.errors],
  [
    "peer @octokit/webhooks @64",
    f(summary.peer64.rps),
    f(summary.peer64.p50),
    f(summary.peer64.p99),
    summary.peer64.errors,
  ],
  [
    "POST deployments @16",
    f(summary.deploy16.rps),
    f(summary.deploy16.p50),
    f(summary.deploy16.p99),
    summary.deploy16.errors,
  ],
];
const table = [
  `hookrelay bench (${results.mode}, ${results.rounds} round(s), medians) on ${results.machine.cores} cores, ${results.machine.cpu}`,
  "",
  "| load | req/s | p50 ms | p99 ms | errors |",
  "| --- | ---: | ---: | ---: | ---: |",
  ...rows.map((r) => `| ${r.join(" | ")} |`),
  "",
  "| ratio | value |",
  "| --- | ---: |",
  `| ingest / ceiling @16 | ${f(results.ratios.ingest16_vs_ceiling * 100)}% |`,
  `| ingest / ceiling @64 | ${f(results.ratios.ingest64_vs_ceiling * 100)}% |`,
  `| ingest, consumer on the same thread / ceiling @16 | ${f(results.ratios.ingestShared16_vs_ceiling * 100)}% |`,
  `| floor (1 D1 write) / ceiling @16 | ${f(results.ratios.floorD1_vs_ceiling * 100)}% |`,
  `| floor (1 D1 write + 1 enqueue) / ceiling @16 | ${f(results.ratios.floorD1Queue_vs_ceiling * 100)}% |`,
  `| ingest / floor (1 D1 write + 1 enqueue) @16 | ${f(results.ratios.ingest16_vs_floor * 100)}% |`,
  `| deployments API / ceiling @16 | ${f(results.ratios.deploy16_vs_ceiling * 100)}% |`,
  `| ingest / @octokit/webhooks peer @16 | ${f(results.ratios.ingest16_vs_peer, 2)}x |`,
  `| ingest / @octokit/webhooks peer @64 | ${f(results.ratios.ingest64_vs_peer, 2)}x |`,
  "",
  "| delivery | value |",
  "| --- | ---: |",
  `| ingest 202 -> arrival p50 / p99 (3 subs, ~20 events/s) | ${f(results.delivery.latencyMs.p50)} / ${f(results.delivery.latencyMs.p99)} ms |`,
  `| sustained, 3 subscriptions (16 senders) | ${f(sustained3.perSecond)} deliveries/s (${sustained3.deliveries} in ${f(sustained3.seconds, 1)} s) |`,
  `| sustained, 100 subscriptions (16 senders) | ${f(sustained100.perSecond)} deliveries/s (${sustained100.deliveries} in ${f(sustained100.seconds, 1)} s) |`,
  `| mixed, ${mixedRate} events/s x 3 subs: ingest p50 / p99 | ${f(mixed.ingest.p50)} / ${f(mixed.ingest.p99)} ms |`,
  `| mixed, ${mixedRate} events/s x 3 subs: 202 -> arrival p50 / p99 | ${f(mixed.delivery.p50)} / ${f(mixed.delivery.p99)} ms${mixed.complete ? "" : " (INCOMPLETE)"} |`,
  `| fan-out, 1 event -> 1,000 subscriptions | all arrived in ${f(fanOutSeconds, 2)} s${fanComplete ? "" : " (INCOMPLETE)"} |`,
  `| bundle (wrangler deploy --dry-run) | ${bundleKiB.raw} KiB, ${bundleKiB.gzip} KiB gzip |`,
  "",
  "| storage (D1 `meta.size_after`) | value |",
  "| --- | ---: |",
  `| per event (${f(Buffer.byteLength(pushBody) / 1024, 1)} KB push payload) | ${f(bytesPerEvent / 1024, 1)} KB |`,
  `| per delivery (its row and indexes) | ${f(bytesPerDelivery)} B |`,
  `| per delivery attempt (headers, response, indexes) | ${f(bytesPerAttempt)} B |`,
  `| size after each retention run, ${steadyRate} events/s x 3 subs, RETENTION_DAYS=${RETENTION_DAYS} | ${steadyRounds.map((r) => f(r.bytes / 1048576, 1)).join(" → ")} MB |`,
  `| growth over the last ${half.length} runs | ${f(steadyGrowth * 100, 1)}% (${steadyRounds.at(-1)?.ingested} events ingested, ${steadyRounds.at(-1)?.eventsKept} kept) |`,
  `| the same load without retention | ~${f(withoutRetention / 1048576, 1)} MB |`,
].join("\n");
console.log(table);

peer.kill();
receiver.close();
await Promise.all([relay.dispose(), ceiling.dispose(), floor.dispose()]);
rmSync(persist, { recursive: true, force: true });
