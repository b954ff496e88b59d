/**
 * Ingest shards: the Durable Objects that GitHub's webhooks are committed through. A
 * repository always maps to the same shard, so its webhooks are committed in the order
 * they arrive; concurrent webhooks of a shard share one D1 transaction (relay/commit-group.ts)
 * instead of paying one each. The answer (202) waits for the commit; when D1 fails, the
 * shard keeps the webhook in its own storage and commits it later (its outbox).
 *
 * The shard count bounds how many commits run at once against the one D1 database; it can
 * change between deployments (a repository then moves shard, which only matters for
 * webhooks in flight during the deploy).
 */
import { DurableObject } from "cloudflare:workers";
import type { Env } from "../../env";
import { CommitGroup } from "../../relay/commit-group";
import type { Published } from "../../relay/events";
import { type PushPayload, refUpdateForPush } from "../../repos/refs";

export const INGEST_SHARD_COUNT = 16;

/** A verified GitHub webhook, as the ingest route hands it to its shard. */
export interface VerifiedWebhook {
  /** `owner/repo`, the event's subject. */
  subject: string;
  /** X-GitHub-Event. */
  event: string;
  /** X-GitHub-Delivery, when GitHub sent one: duplicates of it are dropped. */
  sourceId: string | null;
  /** The payload's JSON text, relayed byte for byte. */
  payload: string;
  /** For a push: the ref it moves, committed with the event. */
  push: PushPayload | null;
}

/** What the shard did with a webhook: committed to D1, or kept in its outbox for now. */
export type ShardAnswer = { stored: "committed"; published: Published } | { stored: "outbox" };

/** Outbox entries retried per alarm, and the longest wait between retries. */
const OUTBOX_BATCH = 32;
const OUTBOX_MAX_BACKOFF_MS = 600_000;

export class IngestShard extends DurableObject<Env> {
  readonly #group = new CommitGroup(this.env);
  readonly #sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#sql = ctx.storage.sql;
    // Webhooks verified and answered while D1 could not take them, in arrival order.
    this.#sql.exec(`CREATE TABLE IF NOT EXISTS outbox (
      seq INTEGER PRIMARY KEY AUTOINCREMENT, webhook TEXT NOT NULL, received_at INTEGER NOT NULL,
      attempts INTEGER NOT NULL DEFAULT 0, last_error TEXT)`);
  }

  /**
   * Commits a webhook with the others in flight. If D1 fails, the webhook is kept in the
   * shard's own storage (durable before the answer leaves) and committed by the alarm, so
   * an accepted webhook is never lost. While the outbox holds anything, new webhooks queue
   * behind it: a repository's events reach D1 in the order they arrived.
   */
  async publish(webhook: VerifiedWebhook): Promise<ShardAnswer> {
    if (this.#outboxSize() > 0) return this.#keep(webhook);
    try {
      return { stored: "committed", published: await this.#commit(webhook) };
    } catch (error) {
      console.error("committing a webhook failed; the ingest shard keeps it and retries", String(error));
      return this.#keep(webhook);
    }
  }

  /** How well webhooks share commits, and what the outbox holds: for operators and the bench. */
  async stats(): Promise<{ commits: number; webhooks: number; outbox: number }> {
    const { commits, publications } = this.#group.counts;
    return { commits, webhooks: publications, outbox: this.#outboxSize() };
  }

  /** Commits what the outbox holds, oldest first; what fails waits for the next alarm. */
  override async alarm(): Promise<void> {
    const rows = this.#sql
      .exec<{ seq: number; webhook: string; attempts: number }>(
        "SELECT seq, webhook, attempts FROM outbox ORDER BY seq LIMIT ?",
        OUTBOX_BATCH,
      )
      .toArray();
    // Submitted together, they share one commit, in order.
    const outcomes = await Promise.allSettled(rows.map((row) => this.#commit(JSON.parse(row.webhook))));
    let retryIn = 0;
    rows.forEach((row, index) => {
      const outcome = outcomes[index];
      if (outcome?.status === "fulfilled") {
        this.#sql.exec("DELETE FROM outbox WHERE seq = ?", row.seq);
        return;
      }
      this.#sql.exec(
        "UPDATE outbox SET attempts = attempts + 1, last_error = ? WHERE seq = ?",
        String(outcome?.reason).slice(0, 500),
        row.seq,
      );
      retryIn = Math.max(retryIn, Math.min(1000 * 2 ** row.attempts, OUTBOX_MAX_BACKOFF_MS));
    });
    if (retryIn > 0) console.error(`ingest shard outbox: ${outcomes.length} webhooks, some still failing`);
    if (this.#outboxSize() > 0) await this.ctx.storage.setAlarm(Date.now() + retryIn);
  }

  #commit(webhook: VerifiedWebhook): Promise<Published> {
    return this.#group
      .submit({
        events: [
          {
            type: webhook.event,
            subjectType: "repository",
            subject: webhook.subject,
            source: "github",
            ...(webhook.sourceId ? { sourceId: webhook.sourceId } : {}),
            payload: webhook.payload,
          },
        ],
        options: webhook.push
          ? { alongside: (eventId) => refUpdateForPush(this.env, webhook.subject, webhook.push ?? {}, eventId) }
          : {},
      })
      .then((published) => published[0] as Published);
  }

  async #keep(webhook: VerifiedWebhook): Promise<ShardAnswer> {
    // A webhook without an X-GitHub-Delivery gets an id of its own here, so a commit that
    // reached D1 although it seemed to fail is not stored twice when the alarm retries it.
    const kept: VerifiedWebhook = { ...webhook, sourceId: webhook.sourceId ?? crypto.randomUUID() };
    this.#sql.exec("INSERT INTO outbox (webhook, received_at) VALUES (?, ?)", JSON.stringify(kept), Date.now());
    if ((await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(Date.now() + 1000);
    return { stored: "outbox" };
  }

  #outboxSize(): number {
    return this.#sql.exec<{ n: number }>("SELECT count(*) AS n FROM outbox").one().n;
  }
}

/** FNV-1a over the lowercased subject: stable across isolates and deployments. */
function shardOf(subject: string): number {
  let hash = 0x811c9dc5;
  for (const char of subject.toLowerCase()) {
    hash ^= char.charCodeAt(0);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % INGEST_SHARD_COUNT;
}

export function ingestShard(env: Env, subject: string): DurableObjectStub<IngestShard> {
  const namespace = env.INGEST_SHARDS as DurableObjectNamespace<IngestShard>;
  return namespace.get(namespace.idFromName(`ingest-${shardOf(subject)}`));
}
