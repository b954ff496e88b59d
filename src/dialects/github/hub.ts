/**
 * GitHub's PubSubHubbub hub: POST /hub with hub.mode, hub.topic, hub.callback and
 * hub.secret. A subscription is an ordinary GitHub hook, so it shows up in the hooks API.
 */
import * as v from "valibot";
import { caller } from "../../access/guard";
import { parseInput, readFormOrJson } from "../../http/body";
import { validationFailed } from "../../http/errors";
import { type HttpRouter, noContent } from "../../http/types";
import {
  createSubscription,
  deleteSubscription,
  findSubscriptionByUrl,
  updateSubscription,
} from "../../relay/subscriptions";
import { ensureRepository } from "../../repos/repositories";
import { isGitHubEvent } from "./events";
import { pingHook } from "./hooks";
import { repoContext } from "./scope";

export const HubRequest = v.object({
  "hub.mode": v.picklist(["subscribe", "unsubscribe"], "hub.mode must be subscribe or unsubscribe"),
  "hub.topic": v.string("hub.topic is required"),
  "hub.callback": v.pipe(
    v.string("hub.callback is required"),
    v.url("hub.callback must be an http or https URL"),
    v.regex(/^https?:\/\//i, "hub.callback must be an http or https URL (github:// services are not supported)"),
  ),
  "hub.secret": v.optional(v.string()),
});

/** `https://github.com/:owner/:repo/events/:event[.json]`; the relay's own host works too. */
const TOPIC = /^https?:\/\/[^/]+\/([^/]+)\/([^/]+)\/events\/([a-z_*]+?)(\.json)?$/i;

export function hubRoutes(router: HttpRouter): void {
  router.post("/hub", async (request, env) => {
    // The caller is known before the body is read; the repository it names is checked after.
    const principal = await caller(request, env, "write");
    const input = parseInput(HubRequest, await readFormOrJson(request), "Hook");
    const match = TOPIC.exec(input["hub.topic"]);
    const event = match?.[3]?.toLowerCase();
    if (!match || !event || !isGitHubEvent(event)) {
      throw validationFailed(
        [{ resource: "Hook", field: "hub.topic", code: "invalid" }],
        `Invalid topic: expected https://github.com/:owner/:repo/events/:event, with a known event`,
      );
    }
    request.params = { owner: match[1] as string, repo: match[2] as string };
    const ctx = await repoContext(request, env, "write", principal);
    const rawJson = match[4] !== undefined || (request.headers.get("accept") ?? "").includes("application/json");
    const callback = input["hub.callback"];
    const existing = await findSubscriptionByUrl(env, ctx.scope, callback);

    if (input["hub.mode"] === "unsubscribe") {
      if (existing) {
        const events = existing.events.filter((name) => name !== event);
        if (events.length === 0) await deleteSubscription(env, ctx.scope, existing.id);
        else await updateSubscription(env, ctx.scope, existing.id, { events });
      }
      return noContent();
    }

    const secret = input["hub.secret"];
    if (existing) {
      await updateSubscription(env, ctx.scope, existing.id, {
        events: [...new Set([...existing.events, event])],
        contentType: rawJson ? "json" : "form",
        active: true,
        ...(secret !== undefined ? { secret } : {}),
      });
      return noContent();
    }
    await ensureRepository(env, ctx.owner, ctx.repo);
    const hook = await createSubscription(env, {
      ...ctx.scope,
      events: [event],
      url: callback,
      contentType: rawJson ? "json" : "form",
      secret: secret ?? null,
      createdBy: ctx.principal.login,
    });
    await pingHook(env, request, ctx, hook);
    return noContent();
  });
}
