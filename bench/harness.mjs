// What `npm run bench` and `npm run bench:capacity` share: building the Worker as
// `wrangler deploy` does, serving it under workerd through Miniflare with wrangler.toml's
// bindings, applying migrations, signing webhooks, and a local receiver.
import { execFileSync } from "node:child_process";
import { createHmac, randomUUID } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { createServer } from "node:http";
import path from "node:path";
import examples from "@octokit/webhooks-examples" with { type: "json" };
import { convertV4MiniflareOptions, Miniflare } from "miniflare";
import { unstable_getMiniflareWorkerOptions, unstable_splitSqlQuery } from "wrangler";

export const root = path.resolve(import.meta.dirname, "..");
export const ADMIN = "bench-admin-token";
export const INGEST_SECRET = "bench-ingest-secret";
export const HOOK_SECRET = "bench-hook-secret";
export const SECRETS_KEY = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
export const pushBody = JSON.stringify(examples.find((e) => e.name === "push").examples[0]);
export const sign = (body, secret = INGEST_SECRET) =>
  `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
export const log = (...args) => console.error("·", ...args);
export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Builds dist/ with `wrangler deploy --dry-run` and returns the bundle's size. */
export function buildWorker() {
  log("building with wrangler deploy --dry-run");
  const dryRun = execFileSync(
    path.join(root, "node_modules/.bin/wrangler"),
    ["deploy", "--dry-run", "--outdir", "dist"],
    {
      cwd: root,
      env: { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false" },
      encoding: "utf8",
    },
  );
  const bundle = /Total Upload: ([\d.]+) KiB \/ gzip: ([\d.]+) KiB/.exec(dryRun);
  return { raw: Number(bundle?.[1]), gzip: Number(bundle?.[2]) };
}

/** Bindings, queue consumer settings and Durable Objects, as wrangler.toml declares them. */
export function wranglerWorkerOptions() {
  const { workerOptions } = unstable_getMiniflareWorkerOptions(path.join(root, "wrangler.toml"));
  return Object.fromEntries(
    [
      "compatibilityDate",
      "compatibilityFlags",
      "bindings",
      "d1Databases",
      "queueProducers",
      "queueConsumers",
      "durableObjects",
    ]
      .filter((key) => workerOptions[key] !== undefined)
      .map((key) => [key, workerOptions[key]]),
  );
}

/**
 * The relay under workerd, storage persisted under `persist` (as `npm start` does) unless
 * BENCH_MEMORY is set, with migrations applied: the built Worker, or with `metered` the same
 * Worker wrapped by bench/metered-worker.mjs. `without` drops wrangler.toml options by name.
 */
export async function startRelay({ persist, vars = {}, metered = false, without = [] }) {
  const workerOptions = wranglerWorkerOptions();
  for (const key of without) delete workerOptions[key];
  const relay = new Miniflare(
    convertV4MiniflareOptions({
      host: "127.0.0.1",
      port: 0,
      ...(process.env.BENCH_MEMORY ? {} : { resourcePersistencePath: persist }),
      ...workerOptions,
      name: "hookrelay",
      modulesRoot: root,
      modules: [
        ...(metered ? [{ type: "ESModule", path: path.join(root, "bench/metered-worker.mjs") }] : []),
        { type: "ESModule", path: path.join(root, "dist/index.js") },
      ],
      bindings: {
        ...workerOptions.bindings,
        ADMIN_TOKEN: ADMIN,
        SECRETS_KEY,
        ALLOW_PRIVATE_TARGETS: "true",
        ...vars,
      },
    }),
  );
  const url = (await relay.ready).origin;
  const db = await relay.getD1Database("DB");
  for (const file of readdirSync(path.join(root, "migrations")).sort()) {
    const statements = unstable_splitSqlQuery(readFileSync(path.join(root, "migrations", file), "utf8"));
    await db.batch(statements.map((sql) => db.prepare(sql)));
  }
  return { relay, url, db };
}

/** An authenticated JSON call to a relay's API. */
export async function api(relayUrl, method, route, json) {
  const response = await fetch(`${relayUrl}${route}`, {
    method,
    headers: { authorization: `token ${ADMIN}`, "content-type": "application/json" },
    body: json === undefined ? undefined : JSON.stringify(json),
  });
  if (response.status >= 300) throw new Error(`${method} ${route}: ${response.status} ${await response.text()}`);
  return response.status === 204 ? null : response.json();
}

/**
 * One local receiver, a path per subscription. Paths under /fails-once/ refuse each
 * delivery's first attempt, so it is attempted twice. `onArrival` sees every 2xx.
 */
export async function startReceiver(onArrival = () => {}) {
  const refusedOnce = new Set();
  const receiver = createServer((req, res) => {
    const chunks = [];
    req.on("data", (chunk) => chunks.push(chunk));
    req.on("end", () => {
      const guid = req.headers["x-hookrelay-delivery"];
      if (req.url.startsWith("/fails-once/") && !refusedOnce.has(guid)) {
        refusedOnce.add(guid);
        res.writeHead(500).end("not yet");
        return;
      }
      onArrival(req.url, Buffer.concat(chunks).toString("utf8"), performance.now());
      res.writeHead(200).end("ok");
    });
  });
  await new Promise((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  return { receiver, url: `http://127.0.0.1:${receiver.address().port}` };
}

/**
 * Sends GitHub's push payload, marked with `bench_marker` (receivers read it back), signed
 * and with a fresh X-GitHub-Delivery, to a repository's ingest URL; resolves when the 202
 * has been read, with that moment's `performance.now()`.
 */
export async function sendPush(relayUrl, repo, marker) {
  const body = pushBody.replace(/^\{/, `{"bench_marker":${marker},`);
  const response = await fetch(`${relayUrl}/ingest/github/bench/${repo}`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "x-github-event": "push",
      "x-github-delivery": randomUUID(),
      "x-hub-signature-256": sign(body),
    },
    body,
  });
  await response.arrayBuffer();
  if (response.status !== 202) throw new Error(`ingest answered ${response.status}`);
  return performance.now();
}

/** Pending deliveries left in a relay's database. */
export async function pendingDeliveries(db) {
  return (await db.prepare("SELECT count(*) AS n FROM deliveries WHERE state = 'pending'").first()).n;
}

/** CPU milliseconds used so far by each running workerd process, by pid. */
export function workerdCpuMs() {
  const out = {};
  for (const pid of readdirSync("/proc").filter((name) => /^\d+$/.test(name))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      if (!stat.includes("(workerd)")) continue;
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      out[pid] = (Number(fields[11]) + Number(fields[12])) * 10; // utime + stime, in 10 ms ticks
    } catch {
      // The process ended meanwhile.
    }
  }
  return out;
}
