/**
 * hookrelay's own operator API, under /relay/: every dialect's subscriptions with their
 * health, enabling and bulk recovery, the delivery log with redelivery, and stats. Same
 * tokens and owner rules as everything else (access/policy.ts), GitHub's error shape and
 * pagination. Handlers parse with valibot, call the core and shape the answer.
 */
import * as v from "valibot";
import { caller, loadOwned } from "../../access/guard";
import { type Access, type Principal, visibleOwners } from "../../access/policy";
import { config, type Env } from "../../env";
import { parseInput, readJson } from "../../http/body";
import { notFound, validationFailed } from "../../http/errors";
import { pagedJson, readPage } from "../../http/pagination";
import { numericId } from "../../http/params";
import type { HttpRouter, IRequest } from "../../http/types";
import { getDelivery, getDeliveryDetail, listDeliveries } from "../delivery-log";
import { enableSubscription } from "../health";
import { recoverDeliveries, redeliverInPlace } from "../recovery";
import { relayStats } from "../stats";
import { findSubscription, findSubscriptions, type Subscription } from "../subscriptions";
import { renderDelivery, renderDeliveryDetail, renderStats, renderSubscription } from "./render";

/** An ISO-8601 timestamp, normalised to the relay's stored form (UTC, whole seconds). */
const Timestamp = (name: string) =>
  v.pipe(
    v.string(`${name} must be an ISO-8601 timestamp`),
    v.check((raw) => !Number.isNaN(Date.parse(raw)), `${name} must be an ISO-8601 timestamp`),
    v.transform((raw) => new Date(Date.parse(raw)).toISOString().replace(/\.\d{3}Z$/, "Z")),
  );

export const SubscriptionQuery = v.object({
  dialect: v.optional(v.pipe(v.string(), v.minLength(1, "dialect must not be empty"))),
  active: v.optional(
    v.pipe(
      v.picklist(["true", "false"], "active must be true or false"),
      v.transform((raw) => raw === "true"),
    ),
  ),
  health: v.optional(
    v.picklist(
      ["healthy", "failing", "circuit_open", "disabled"],
      "health must be healthy, failing, circuit_open or disabled",
    ),
  ),
});

export const DeliveryQuery = v.object({
  subscription_id: v.optional(
    v.pipe(v.string(), v.regex(/^\d+$/, "subscription_id must be a number"), v.transform(Number)),
  ),
  state: v.optional(v.picklist(["pending", "succeeded", "failed"], "state must be pending, succeeded or failed")),
  event: v.optional(v.pipe(v.string(), v.minLength(1, "event must not be empty"))),
  since: v.optional(Timestamp("since")),
  until: v.optional(Timestamp("until")),
});

export const Recover = v.object({
  since: Timestamp("since"),
  until: v.optional(Timestamp("until")),
});

const query = (request: IRequest) => Object.fromEntries(new URL(request.url).searchParams);

/** The subscription, if the caller may see it; one it may not see is answered as a missing one. */
const subscriptionFor = (env: Env, principal: Principal, rawId: string | undefined, access: Access) =>
  loadOwned(
    principal,
    access,
    notFound,
    () => findSubscription(env, numericId(rawId)),
    (sub) => sub.owner,
  );

function requireActive(sub: Subscription): void {
  if (!sub.active) {
    throw validationFailed(
      [{ resource: "Subscription", field: "active", code: "custom", message: "Enable the subscription first" }],
      "Enable the subscription first: it is inactive, so nothing would be sent.",
    );
  }
}

export function relayRoutes(router: HttpRouter): void {
  router
    .get("/relay/subscriptions", async (request, env) => {
      const principal = await caller(request, env, "read");
      const filters = parseInput(SubscriptionQuery, query(request), "Subscription");
      const page = readPage(request.query);
      const { items, total } = await findSubscriptions(env, { ...filters, owners: visibleOwners(principal) }, page);
      const cfg = config(env);
      return pagedJson(
        new URL(request.url),
        page,
        total,
        items.map((sub) => renderSubscription(cfg, sub)),
      );
    })
    .get("/relay/subscriptions/:id", async (request, env) => {
      const principal = await caller(request, env, "read");
      const sub = await subscriptionFor(env, principal, request.params.id, "read");
      return Response.json(renderSubscription(config(env), sub));
    })
    .post("/relay/subscriptions/:id/enable", async (request, env) => {
      const principal = await caller(request, env, "write");
      const sub = await subscriptionFor(env, principal, request.params.id, "write");
      await enableSubscription(env, sub.id);
      const enabled = await findSubscription(env, sub.id);
      if (!enabled) throw notFound();
      return Response.json(renderSubscription(config(env), enabled));
    })
    .post("/relay/subscriptions/:id/recover", async (request, env) => {
      const principal = await caller(request, env, "write");
      const sub = await subscriptionFor(env, principal, request.params.id, "write");
      const input = parseInput(Recover, await readJson(request), "Subscription");
      requireActive(sub);
      const until = input.until ?? new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
      if (until < input.since) {
        throw validationFailed([
          { resource: "Subscription", field: "until", code: "invalid", message: "until must not be before since" },
        ]);
      }
      const deliveries = await recoverDeliveries(env, sub.id, { since: input.since, until });
      return Response.json({ deliveries }, { status: 202 });
    })
    .get("/relay/deliveries", async (request, env) => {
      const principal = await caller(request, env, "read");
      const filters = parseInput(DeliveryQuery, query(request), "Delivery");
      const page = readPage(request.query);
      const { items, total } = await listDeliveries(
        env,
        {
          owners: visibleOwners(principal),
          subscriptionId: filters.subscription_id,
          state: filters.state,
          event: filters.event,
          since: filters.since,
          until: filters.until,
        },
        page,
      );
      return pagedJson(new URL(request.url), page, total, items.map(renderDelivery));
    })
    .get("/relay/deliveries/:id", async (request, env) => {
      const principal = await caller(request, env, "read");
      const delivery = await loadOwned(
        principal,
        "read",
        notFound,
        () => getDeliveryDetail(env, numericId(request.params.id)),
        (found) => found.owner,
      );
      return Response.json(renderDeliveryDetail(delivery));
    })
    .post("/relay/deliveries/:id/redeliver", async (request, env) => {
      const principal = await caller(request, env, "write");
      const id = numericId(request.params.id);
      const delivery = await loadOwned(
        principal,
        "write",
        notFound,
        () => getDelivery(env, id),
        (found) => found.owner,
      );
      const sub = await findSubscription(env, delivery.subscriptionId);
      if (!sub) throw notFound();
      requireActive(sub);
      await redeliverInPlace(env, id);
      const after = await getDelivery(env, id);
      if (!after) throw notFound();
      return Response.json(renderDelivery(after), { status: 202 });
    })
    .get("/relay/stats", async (request, env) => {
      const principal = await caller(request, env, "read");
      return Response.json(renderStats(await relayStats(env, visibleOwners(principal))));
    });
}
