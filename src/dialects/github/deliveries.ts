/** GitHub's hook deliveries API: the attempt log, and redelivery. */
import * as v from "valibot";
import { parseInput } from "../../http/body";
import { notFound } from "../../http/errors";
import { DEFAULT_PER_PAGE, MAX_PER_PAGE } from "../../http/pagination";
import { numericId } from "../../http/params";
import type { HttpRouter } from "../../http/types";
import { getAttempt, listAttempts, redeliver } from "../../relay/deliveries";
import { getSubscription } from "../../relay/subscriptions";
import { renderDelivery, renderDeliveryDetail } from "./render";
import { repoContext } from "./scope";

const ListQuery = v.object({
  per_page: v.optional(
    v.pipe(
      v.string(),
      v.transform(Number),
      v.number("per_page must be a number"),
      v.transform((n) => Math.min(Math.max(Math.trunc(n), 1), MAX_PER_PAGE)),
    ),
  ),
  cursor: v.optional(v.pipe(v.string(), v.regex(/^\d+$/, "cursor must come from a Link header"), v.transform(Number))),
  status: v.optional(v.picklist(["success", "failure"], "status must be success or failure")),
});

export function deliveryRoutes(router: HttpRouter): void {
  router
    .get("/repos/:owner/:repo/hooks/:id/deliveries", async (request, env) => {
      const ctx = await repoContext(request, env, "read");
      const hook = await getSubscription(env, ctx.scope, numericId(request.params.id));
      if (!hook) throw notFound();
      const url = new URL(request.url);
      const query = parseInput(ListQuery, Object.fromEntries(url.searchParams), "HookDelivery");
      const limit = query.per_page ?? DEFAULT_PER_PAGE;
      const attempts = await listAttempts(env, hook.id, { limit, before: query.cursor, outcome: query.status });
      const headers: Record<string, string> = {};
      const last = attempts[attempts.length - 1];
      if (attempts.length === limit && last) {
        const next = new URL(url);
        next.searchParams.set("cursor", String(last.id));
        next.searchParams.set("per_page", String(limit));
        headers.link = `<${next}>; rel="next"`;
      }
      return Response.json(attempts.map(renderDelivery), { headers });
    })
    .get("/repos/:owner/:repo/hooks/:id/deliveries/:delivery_id", async (request, env) => {
      const ctx = await repoContext(request, env, "read");
      const hook = await getSubscription(env, ctx.scope, numericId(request.params.id));
      if (!hook) throw notFound();
      const attempt = await getAttempt(env, hook.id, numericId(request.params.delivery_id));
      if (!attempt) throw notFound();
      return Response.json(renderDeliveryDetail(attempt));
    })
    .post("/repos/:owner/:repo/hooks/:id/deliveries/:delivery_id/attempts", async (request, env) => {
      const ctx = await repoContext(request, env, "write");
      const hook = await getSubscription(env, ctx.scope, numericId(request.params.id));
      if (!hook) throw notFound();
      const redelivery = await redeliver(env, hook.id, numericId(request.params.delivery_id));
      if (redelivery === null) throw notFound();
      return Response.json({}, { status: 202 });
    });
}
