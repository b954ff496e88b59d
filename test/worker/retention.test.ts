// Runs in workerd: retention. Old events whose deliveries all finished go, with their
// deliveries, attempts and payload parts, in bounded chunks that resume; pending work and
// young events stay; expired idempotency keys go; the per-app object bounds its history.
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { AppBuilds, AppContext } from "../../src/dialects/akkeris/app-builds";
import { appBuilds } from "../../src/dialects/akkeris/context";
import { publish } from "../../src/relay/events";
import { purgeExpired, retention } from "../../src/relay/retention";
import { captureQueue, consumeBatch } from "./health-helpers";
import { callJson, createHook, interceptDeliveries } from "./helpers";
import { envWith, runScheduled } from "./with-env";

const DAY = 86_400_000;
const thirtyDays = envWith({ RETENTION_DAYS: "30" });

const isoAgo = (ms: number) => new Date(Date.now() - ms).toISOString().replace(/\.\d{3}Z$/, "Z");

async function count(sql: string, ...params: unknown[]): Promise<number> {
  const row = await env.DB.prepare(sql)
    .bind(...params)
    .first<{ n: number }>();
  return row?.n ?? 0;
}

/** What is stored for some events: events, deliveries, attempts and payload parts. */
async function stored(eventIds: string[]) {
  const ids = JSON.stringify(eventIds);
  const inList = "(SELECT value FROM json_each(?))";
  return {
    events: await count(`SELECT count(*) AS n FROM events WHERE id IN ${inList}`, ids),
    deliveries: await count(`SELECT count(*) AS n FROM deliveries WHERE event_id IN ${inList}`, ids),
    attempts: await count(
      `SELECT count(*) AS n FROM delivery_attempts WHERE delivery_id IN (SELECT id FROM deliveries WHERE event_id IN ${inList})`,
      ids,
    ),
    parts: await count(`SELECT count(*) AS n FROM event_payload_parts WHERE event_id IN ${inList}`, ids),
  };
}

/**
 * A repository with two hooks and `old` events from 40 days ago, every delivery attempted
 * and succeeded (one of them with a payload big enough to be stored in parts), plus one old
 * event with a delivery still pending and one young event.
 */
async function history(repo: string, old: number) {
  interceptDeliveries(() => new Response("ok"));
  const queue = captureQueue();
  const subject = `octo/${repo}`;
  await createHook(`/repos/${subject}`, { url: `https://example.com/${repo}/a` }, { events: ["push"] });
  await createHook(`/repos/${subject}`, { url: `https://example.com/${repo}/b` }, { events: ["push"] });
  const publishOne = async (payload: string) => {
    const published = await publish(env, { type: "push", subjectType: "repository", subject, source: "api", payload });
    return published;
  };
  const events: { eventId: string; deliveryIds: number[] }[] = [];
  for (let i = 0; i < old; i++) events.push(await publishOne(JSON.stringify({ n: i })));
  events.push(await publishOne(JSON.stringify({ big: "x".repeat(600 * 1024) })));
  const pinned = await publishOne(JSON.stringify({ pinned: true }));
  const young = await publishOne(JSON.stringify({ young: true }));
  await consumeBatch([...events, pinned, young].flatMap((e) => e.deliveryIds));
  // One delivery of the pinned event is pending again (a retry due, or an attempt in flight).
  await env.DB.prepare("UPDATE deliveries SET state = 'pending', lease_until = ? WHERE id = ?")
    .bind(Date.now() + 60_000, pinned.deliveryIds[0])
    .run();
  const backdate = [...events, pinned].map((e) => e.eventId);
  await env.DB.prepare("UPDATE events SET created_at = ? WHERE id IN (SELECT value FROM json_each(?))")
    .bind(isoAgo(40 * DAY), JSON.stringify(backdate))
    .run();
  queue.clear();
  return { old: events.map((e) => e.eventId), pinned: pinned.eventId, young: young.eventId };
}

describe("retention", () => {
  it("deletes old finished events with their deliveries, attempts and parts, over several chunks", async () => {
    const { old, pinned, young } = await history("retained", 6);
    const before = await stored(old);
    expect(before).toMatchObject({ events: 7, deliveries: 14, attempts: 14 });
    expect(before.parts).toBeGreaterThan(1);
    const keptBefore = await stored([pinned, young]);

    const run = await retention(thirtyDays, { chunk: 2 });
    expect(run.chunks).toBeGreaterThan(1);
    expect(run).toMatchObject({ events: 7, deliveries: 14, attempts: 14, more: false });
    expect(await stored(old)).toEqual({ events: 0, deliveries: 0, attempts: 0, parts: 0 });
    // The pinned event keeps everything, its finished delivery's attempt too; the young one stays.
    expect(await stored([pinned, young])).toEqual(keptBefore);
    // Hooks stay.
    expect((await callJson<any[]>("GET", "/repos/octo/retained/hooks")).body).toHaveLength(2);
  });

  it("works a backlog off over successive runs, each bounded, resuming where the last stopped", async () => {
    const { old, pinned } = await history("backlog", 5);
    let runs = 0;
    for (;;) {
      runs++;
      // A budget of zero: one chunk per run, as a run that ran out of time would.
      const run = await retention(thirtyDays, { chunk: 2, budgetMs: 0 });
      expect(run.chunks).toBe(1);
      expect(run.events).toBeLessThanOrEqual(2);
      if (!run.more) break;
      expect(runs).toBeLessThan(20);
    }
    expect(runs).toBeGreaterThan(2);
    expect((await stored(old)).events).toBe(0);
    expect((await stored([pinned])).events).toBe(1);
  });

  it("purgeExpired takes a limit and a cursor", async () => {
    const { old } = await history("cursor", 3);
    const before = isoAgo(30 * DAY);
    const first = await purgeExpired(env, { before, limit: 1 });
    expect(first.cursor).not.toBeNull();
    let cursor = first.cursor;
    let deleted = first.events;
    while (cursor) {
      const next = await purgeExpired(env, { before, limit: 1, cursor });
      deleted += next.events;
      cursor = next.cursor;
    }
    expect((await stored(old)).events).toBe(0);
    expect(deleted).toBeGreaterThanOrEqual(old.length);
  });

  it("never deletes an event whose delivery became pending after the chunk was read", async () => {
    const { old } = await history("race", 2);
    const [target] = old as [string];
    // Between reading the chunk and deleting it, an operator recovers one of its deliveries.
    const realBatch = env.DB.batch.bind(env.DB);
    const raced = envWith({ RETENTION_DAYS: "30" });
    let once = false;
    raced.DB = new Proxy(env.DB, {
      get(target_, prop) {
        if (prop === "batch") {
          return async (statements: D1PreparedStatement[]) => {
            if (!once) {
              once = true;
              await env.DB.prepare(
                "UPDATE deliveries SET state = 'pending' WHERE id = (SELECT min(id) FROM deliveries WHERE event_id = ?)",
              )
                .bind(target)
                .run();
            }
            return realBatch(statements);
          };
        }
        const value = Reflect.get(target_, prop);
        return typeof value === "function" ? value.bind(target_) : value;
      },
    });
    await retention(raced, { chunk: 10 });
    expect(await stored([target])).toMatchObject({ events: 1, deliveries: 2, attempts: 2 });
  });

  it("takes decimals: 0.5 days keeps 11 hours and deletes 13", async () => {
    const { old, pinned } = await history("halfday", 2);
    const [recent, older] = old as [string, string];
    await env.DB.batch([
      env.DB.prepare("UPDATE events SET created_at = ? WHERE id = ?").bind(isoAgo(11 * 3_600_000), recent),
      env.DB.prepare("UPDATE events SET created_at = ? WHERE id = ?").bind(isoAgo(13 * 3_600_000), older),
    ]);
    await retention(envWith({ RETENTION_DAYS: "0.5" }), { chunk: 5 });
    expect((await stored([recent])).events).toBe(1);
    expect((await stored([older])).events).toBe(0);
    expect((await stored([pinned])).events).toBe(1);
  });

  it("runs from the cron trigger, and deletes expired idempotency keys with it", async () => {
    const { old } = await history("cron", 2);
    await env.DB.batch([
      env.DB.prepare(
        "INSERT INTO idempotency_keys (scope, key, resource_id, expires_at) VALUES ('t', 'spent', 1, ?), ('t', 'live', 2, ?)",
      ).bind(Date.now() - 1000, Date.now() + DAY),
    ]);
    await runScheduled(thirtyDays);
    expect((await stored(old)).events).toBe(0);
    const keys = await env.DB.prepare("SELECT key FROM idempotency_keys WHERE scope = 't'").all<{ key: string }>();
    expect(keys.results.map((row) => row.key)).toEqual(["live"]);
  });
});

describe("the per-app Durable Object", () => {
  const ctx = (statusCheck: boolean): AppContext => ({
    app: { id: "retention-app", name: "web", space: "default" },
    statusCheck,
    autoDeploy: false,
    repoFullName: "octo/app",
    username: "octocat",
    origin: "https://relay.test",
  });
  const sha = (n: number) => n.toString(16).padStart(40, "0");

  it("keeps its outcomes and check states bounded, and deletes outbox entries once flushed", async () => {
    captureQueue();
    const stub = appBuilds(env, "retention-app");
    // 300 pushes that each supersede the last, and checks reported for 2,000 commits.
    for (let n = 1; n <= 300; n++) {
      await stub.push(ctx(true), { sha: sha(n), branch: "main", repo: "octo/app", author: "a", message: "m" });
    }
    for (let n = 0; n < 2_000; n++) await stub.check(sha(10_000 + n), "ci", "pending");
    await stub.push(ctx(false), { sha: sha(99_999), branch: "main", repo: "octo/app", author: "a", message: "m" });
    await runInDurableObject(stub, (_instance: AppBuilds, state) => {
      const rows = (table: string) =>
        state.storage.sql.exec<{ n: number }>(`SELECT count(*) AS n FROM ${table}`).one().n;
      expect(rows("outcomes")).toBeGreaterThanOrEqual(10); // what the auto build view shows
      expect(rows("outcomes")).toBeLessThan(299 / 2);
      expect(rows("checks")).toBeLessThan(2_000 / 1.5);
      expect(rows("outbox")).toBe(0);
      // The newest are the ones kept.
      const newest = state.storage.sql.exec<{ c: string }>(
        "SELECT commit_sha AS c FROM outcomes ORDER BY id DESC LIMIT 1",
      );
      expect(newest.one().c).toBe(sha(299));
    });
  });
});
