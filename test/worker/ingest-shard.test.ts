// Runs in workerd with real D1, Queues and Durable Objects: GitHub's webhooks are committed
// through ingest shards, which share D1 transactions between concurrent webhooks and keep
// webhooks in their own storage while D1 cannot take them.
import { runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { ingestShard } from "../../src/dialects/github/ingest-shard";
import { hmac, toHex, utf8 } from "../../src/relay/crypto";
import { commitTogether } from "../../src/relay/events";
import { callJson, createHook } from "./helpers";

const secret = "shard-inbound-secret";

async function ingest(repo: string, body: string, delivery: string = crypto.randomUUID(), event = "push") {
  return callJson("POST", `/ingest/github/octo/${repo}`, {
    token: null,
    body,
    headers: {
      "content-type": "application/json",
      "x-github-event": event,
      "x-github-delivery": delivery,
      "x-hub-signature-256": `sha256=${toHex(await hmac(secret, "SHA-256", utf8(body)))}`,
    },
  });
}

async function setUp(repo: string, hooks: number) {
  await callJson("PUT", `/repos/octo/${repo}/ingest`, { json: { secret } });
  for (let i = 0; i < hooks; i++) {
    await createHook(`/repos/octo/${repo}`, { url: `https://example.com/${repo}/${i}` }, { events: ["push"] });
  }
}

const push = (sha: string, marker: number) =>
  JSON.stringify({ ref: "refs/heads/main", after: sha.repeat(40).slice(0, 40), marker });

async function eventRows(subject: string) {
  const { results } = await env.DB.prepare(
    "SELECT id, source_id, created_at, payload FROM events WHERE subject = ? AND type = 'push' ORDER BY rowid",
  )
    .bind(subject)
    .all<{ id: string; source_id: string; created_at: string; payload: string }>();
  return results;
}

async function deliveriesOf(eventId: string) {
  const { results } = await env.DB.prepare("SELECT id FROM deliveries WHERE event_id = ?")
    .bind(eventId)
    .all<{ id: number }>();
  return results.length;
}

describe("group commit", () => {
  it("gives concurrent webhooks shared commits, each its own answer, and drops a duplicate sent alongside", async () => {
    await setUp("busy", 2);
    const shard = ingestShard(env, "octo/busy");
    const before = await shard.stats();
    const duplicate = crypto.randomUUID();
    const answers = await Promise.all([
      ...Array.from({ length: 20 }, (_, i) => ingest("busy", push("b", i))),
      ingest("busy", push("c", 100), duplicate),
      ingest("busy", push("c", 100), duplicate),
    ]);
    const accepted = answers.filter((a) => a.status === 202);
    expect(accepted).toHaveLength(21);
    expect(answers.filter((a) => a.status === 200).map((a) => a.body.message)).toEqual([
      "Already received: this X-GitHub-Delivery was relayed before",
    ]);
    const events = await eventRows("octo/busy");
    expect(events).toHaveLength(21);
    // Every answer names an event D1 holds, with its two deliveries.
    expect(new Set(accepted.map((a) => a.body.event_id))).toEqual(new Set(events.map((e) => e.id)));
    for (const answer of accepted) {
      expect(answer.body.deliveries).toBe(2);
      expect(await deliveriesOf(answer.body.event_id)).toBe(2);
    }
    // 22 webhooks, far fewer D1 commits.
    const after = await shard.stats();
    expect(after.webhooks - before.webhooks).toBe(22);
    expect(after.commits - before.commits).toBeLessThan(11);
  });

  it("answers 202 only once the event is in D1", async () => {
    await setUp("durable", 1);
    for (let i = 0; i < 5; i++) {
      const { status, body } = await ingest("durable", push("d", i));
      expect(status).toBe(202);
      const row = await env.DB.prepare("SELECT id FROM events WHERE id = ?").bind(body.event_id).first();
      expect(row).not.toBeNull();
    }
  });

  it("keeps one publication's failure to its own caller", async () => {
    const event = (marker: number) => ({
      type: "push",
      subjectType: "repository",
      subject: "octo/isolated",
      source: "github",
      sourceId: crypto.randomUUID(),
      payload: JSON.stringify({ marker }),
    });
    const outcomes = await commitTogether(env, [
      { events: [event(1)] },
      { events: [event(2)], options: { alongside: () => [env.DB.prepare("INSERT INTO no_such_table VALUES (1)")] } },
      { events: [event(3)] },
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    const { results } = await env.DB.prepare(
      "SELECT payload FROM events WHERE subject = 'octo/isolated' ORDER BY rowid",
    ).all<{ payload: string }>();
    expect(results.map((r) => JSON.parse(r.payload).marker)).toEqual([1, 3]);
  });
});

describe("the shard's outbox", () => {
  it("accepts webhooks while D1 fails, then commits them in order, behind which new ones wait", async () => {
    await setUp("outage", 1);
    await env.DB.exec("ALTER TABLE events RENAME TO events_offline");
    let answers: Awaited<ReturnType<typeof ingest>>[];
    try {
      answers = [await ingest("outage", push("1", 1)), await ingest("outage", push("2", 2))];
    } finally {
      await env.DB.exec("ALTER TABLE events_offline RENAME TO events");
    }
    for (const answer of answers) expect(answer).toMatchObject({ status: 202, body: { queued: true } });
    expect(await eventRows("octo/outage")).toHaveLength(0);

    // D1 is back, but the outbox is not empty: a new webhook waits behind it.
    expect(await ingest("outage", push("3", 3))).toMatchObject({ status: 202, body: { queued: true } });

    const stub = ingestShard(env, "octo/outage");
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    const events = await eventRows("octo/outage");
    expect(events.map((e) => JSON.parse(e.payload).marker)).toEqual([1, 2, 3]);
    for (const event of events) expect(await deliveriesOf(event.id)).toBe(1);
    // The ref moved with each push, in order, ending at the last one.
    const ref = await env.DB.prepare(
      "SELECT sha FROM git_refs WHERE subject = 'octo/outage' AND ref = 'refs/heads/main'",
    ).first<{ sha: string }>();
    expect(ref?.sha).toBe("3".repeat(40));

    // Empty again: webhooks commit straight away and are answered with their event.
    const after = await ingest("outage", push("4", 4));
    expect(after).toMatchObject({ status: 202, body: { message: "Accepted", deliveries: 1 } });
  });

  it("never stores a retried webhook twice", async () => {
    await setUp("replayed", 1);
    const delivery = crypto.randomUUID();
    await env.DB.exec("ALTER TABLE events RENAME TO events_offline");
    try {
      expect((await ingest("replayed", push("5", 5), delivery)).body).toEqual({ message: "Accepted", queued: true });
      expect((await ingest("replayed", push("5", 5), delivery)).body).toEqual({ message: "Accepted", queued: true });
    } finally {
      await env.DB.exec("ALTER TABLE events_offline RENAME TO events");
    }
    await runDurableObjectAlarm(ingestShard(env, "octo/replayed"));
    const events = await eventRows("octo/replayed");
    expect(events.map((e) => e.source_id)).toEqual([delivery]);
  });
});
