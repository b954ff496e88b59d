/**
 * Group commit for a hot publish path. Publications that arrive together share one D1
 * transaction and one round of enqueues, instead of paying one each. Each caller resolves
 * once its own events are committed, so an answer is never given for an event D1 does not
 * hold; its deliveries are enqueued right after (an enqueue that fails loses nothing: the
 * rows are pending, and the cron sweep enqueues them).
 *
 * It lives inside a Durable Object (one object serialises its callers and can hold a
 * promise for each); src/dialects/github/ingest-shard.ts is the user.
 */
import type { Env } from "../env";
import { enqueueDeliveries } from "./deliveries";
import { commitTogether, deliveryIdsOf, type Publication, type Published } from "./events";

/** Bounds on one shared transaction: its publications and its payload characters. */
const MAX_PUBLICATIONS = 32;
const MAX_PAYLOAD_CHARS = 1_000_000;
/**
 * How long the first publication of a group waits for others. A commit costs about the same
 * for one event as for several, so a few milliseconds of waiting under load buys far fewer
 * commits; alone, a webhook is answered that much later, well inside GitHub's 10 s.
 */
const LINGER_MS = 4;

interface Waiting {
  publication: Publication;
  resolve: (published: Published[]) => void;
  reject: (error: unknown) => void;
}

export class CommitGroup {
  readonly #env: Env;
  #waiting: Waiting[] = [];
  #committing = false;
  /** Since the object started: D1 commits made, and the publications they carried. */
  readonly counts = { commits: 0, publications: 0 };

  constructor(env: Env) {
    this.#env = env;
  }

  /** Resolves with the publication's events once they are committed (see `publishAll`). */
  submit(publication: Publication): Promise<Published[]> {
    return new Promise((resolve, reject) => {
      this.#waiting.push({ publication, resolve, reject });
      if (!this.#committing) void this.#drain();
    });
  }

  async #drain(): Promise<void> {
    this.#committing = true;
    try {
      while (this.#waiting.length > 0) {
        if (this.#waiting.length < MAX_PUBLICATIONS) await new Promise((wake) => setTimeout(wake, LINGER_MS));
        const group = this.#take();
        this.counts.commits++;
        this.counts.publications += group.length;
        let outcomes: PromiseSettledResult<Published[]>[];
        try {
          outcomes = await commitTogether(
            this.#env,
            group.map((waiting) => waiting.publication),
          );
        } catch (error) {
          for (const waiting of group) waiting.reject(error);
          continue;
        }
        group.forEach((waiting, index) => {
          const outcome = outcomes[index];
          if (outcome?.status === "fulfilled") waiting.resolve(outcome.value);
          else waiting.reject(outcome?.reason);
        });
        await enqueueDeliveries(this.#env, deliveryIdsOf(outcomes));
      }
    } finally {
      this.#committing = false;
    }
  }

  /** The next group: in arrival order, within the bounds, and never empty. */
  #take(): Waiting[] {
    let chars = 0;
    let count = 0;
    for (const waiting of this.#waiting) {
      const size = waiting.publication.events.reduce((sum, event) => sum + event.payload.length, 0);
      if (count > 0 && (count >= MAX_PUBLICATIONS || chars + size > MAX_PAYLOAD_CHARS)) break;
      chars += size;
      count++;
    }
    return this.#waiting.splice(0, count);
  }
}
