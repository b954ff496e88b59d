/**
 * hookrelay's Worker: the HTTP APIs (fetch), the delivery and dead-letter consumers
 * (queue) and the relay's scheduled jobs (scheduled).
 */
import { buildApp, deliveryHeaders, sealedColumns } from "./app";
import type { DeliveryMessage, Env } from "./env";
import { consumeDeadLetters, consumeDeliveries } from "./relay/consumer";
import { resealSecrets } from "./relay/reseal";
import { retention } from "./relay/retention";
import { sweep } from "./relay/sweep";
import { purgeExpiredIdempotencyKeys } from "./repos/deployments";

export { AppBuilds } from "./dialects/akkeris";
export { IngestShard } from "./dialects/github";

const app = buildApp();

export default {
  fetch: (request, env, ctx) => app.fetch(request, env, ctx),

  async queue(batch, env, _ctx) {
    // Queue names differ between deployments; the dead-letter queue's ends in "-dead-letters".
    if (batch.queue.endsWith("-dead-letters")) await consumeDeadLetters(batch, env);
    else await consumeDeliveries(batch, env, deliveryHeaders);
  },

  // The cron trigger (wrangler.toml, every minute) runs the sweep, the reseal, and retention
  // in bounded chunks; each job's failure is logged and the next run goes on where it left off.
  async scheduled(_controller, env, ctx) {
    ctx.waitUntil(sweep(env));
    // A SECRETS_KEY rotation: moves a bounded batch of sealed secrets to the new key per run.
    ctx.waitUntil(resealSecrets(env, sealedColumns));
    ctx.waitUntil(
      retention(env)
        .then(() => purgeExpiredIdempotencyKeys(env))
        .catch((error: unknown) => console.error("retention failed; the next run retries", String(error))),
    );
  },
} satisfies ExportedHandler<Env, DeliveryMessage>;
