/**
 * hookrelay's Worker: the HTTP APIs (fetch), the delivery and dead-letter consumers
 * (queue) and the sweep that re-enqueues lost deliveries (scheduled).
 */
import type { DeliveryMessage, Env } from "./env";
import { buildRouter } from "./app";
import { consumeDeadLetters, consumeDeliveries } from "./relay/consumer";
import { sweep } from "./relay/sweep";

export { AppBuilds } from "./dialects/akkeris/app-builds";

const router = buildRouter();

export default {
  fetch: (request, env, ctx) => router.fetch(request, env, ctx),

  async queue(batch, env, _ctx) {
    // Queue names differ between deployments; the dead-letter queue's ends in "-dead-letters".
    if (batch.queue.endsWith("-dead-letters")) await consumeDeadLetters(batch, env);
    else await consumeDeliveries(batch, env);
  },

  async scheduled(_controller, env, ctx) {
    ctx.waitUntil(sweep(env));
  },
} satisfies ExportedHandler<Env, DeliveryMessage>;
