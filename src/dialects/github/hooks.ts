/** GitHub's repository hooks API: /repos/:owner/:repo/hooks[...] */
import * as v from "valibot";
import type { Env } from "../../env";
import { parseInput, readJson } from "../../http/body";
import { notFound, validationFailed } from "../../http/errors";
import { pagedJson, readPage } from "../../http/pagination";
import { numericId } from "../../http/params";
import { type HttpRouter, type IRequest, noContent, originOf } from "../../http/types";
import { deliverEvent } from "../../relay/deliveries";
import { latestEvent, publish } from "../../relay/events";
import {
  type ContentType,
  createSubscription,
  deleteSubscription,
  getSubscription,
  listSubscriptions,
  type Subscription,
  type SubscriptionChanges,
  takesEvent,
  updateSubscription,
} from "../../relay/subscriptions";
import { keepCredentials } from "../../relay/url-credentials";
import { ensureRepository } from "../../repos/repositories";
import { isGitHubEvent } from "./events";
import { renderHook, renderHookConfig, renderRepository, renderUser, zen } from "./render";
import { type RepoContext, repoContext } from "./scope";

const EventName = v.pipe(
  v.string(),
  v.check(isGitHubEvent, (issue) => `${JSON.stringify(issue.input)} is not a valid event name`),
);
const EventList = v.array(EventName);

const InsecureSsl = v.pipe(
  v.union([v.picklist(["0", "1"]), v.picklist([0, 1])]),
  v.transform((value) => String(value)),
);

const ConfigFields = {
  url: v.pipe(v.string(), v.url("url must be a valid URL")),
  content_type: v.optional(v.picklist(["json", "form"], "content_type must be json or form")),
  secret: v.optional(v.nullable(v.string())),
  insecure_ssl: v.optional(InsecureSsl),
};
const HookConfig = v.object(ConfigFields);
export const HookConfigPatch = v.partial(v.object(ConfigFields));

export const CreateHook = v.object({
  name: v.optional(v.literal("web", 'name must be "web": only web hooks are supported'), "web"),
  config: HookConfig,
  events: v.optional(EventList, ["push"]),
  active: v.optional(v.boolean(), true),
});

export const UpdateHook = v.object({
  config: v.optional(HookConfig),
  events: v.optional(EventList),
  add_events: v.optional(EventList),
  remove_events: v.optional(EventList),
  active: v.optional(v.boolean()),
});

async function hookOr404(env: Env, ctx: RepoContext, rawId: string | undefined): Promise<Subscription> {
  const hook = await getSubscription(env, ctx.scope, numericId(rawId));
  if (!hook) throw notFound();
  return hook;
}

/** Sends a `ping` to one hook, as GitHub does on create and on POST .../pings. */
export async function pingHook(env: Env, request: IRequest, ctx: RepoContext, hook: Subscription): Promise<void> {
  const repository = await ensureRepository(env, ctx.owner, ctx.repo);
  const payload = {
    zen: zen(),
    hook_id: hook.id,
    hook: renderHook(hook, ctx.apiBase),
    repository: renderRepository(repository, originOf(request)),
    sender: renderUser(ctx.principal.login, originOf(request)),
  };
  await publish(
    env,
    {
      type: "ping",
      subjectType: "repository",
      subject: ctx.scope.subject,
      source: "hookrelay",
      payload: JSON.stringify(payload),
    },
    { onlySubscriptionId: hook.id },
  );
}

/** `hook`'s config edited; a URL sent back masked as it was shown keeps its stored credentials. */
function configChanges(hook: Subscription, config: v.InferOutput<typeof HookConfigPatch>): SubscriptionChanges {
  return {
    ...(config.url !== undefined ? { url: keepCredentials(config.url, hook.url) } : {}),
    ...(config.content_type !== undefined ? { contentType: config.content_type as ContentType } : {}),
    ...(config.secret !== undefined ? { secret: config.secret } : {}),
    ...(config.insecure_ssl !== undefined ? { insecureSsl: config.insecure_ssl } : {}),
  };
}

export function hookRoutes(router: HttpRouter): void {
  router
    .get("/repos/:owner/:repo/hooks", async (request, env) => {
      const ctx = await repoContext(request, env, "read");
      const page = readPage(request.query);
      const { items, total } = await listSubscriptions(env, ctx.scope, page);
      return pagedJson(
        new URL(request.url),
        page,
        total,
        items.map((hook) => renderHook(hook, ctx.apiBase)),
      );
    })
    .post("/repos/:owner/:repo/hooks", async (request, env) => {
      const ctx = await repoContext(request, env, "write");
      const input = parseInput(CreateHook, await readJson(request), "Hook");
      await ensureRepository(env, ctx.owner, ctx.repo);
      const hook = await createSubscription(env, {
        ...ctx.scope,
        name: input.name,
        events: [...new Set(input.events)],
        url: input.config.url,
        contentType: input.config.content_type ?? "form",
        secret: input.config.secret ?? null,
        insecureSsl: input.config.insecure_ssl ?? "0",
        active: input.active,
        createdBy: ctx.principal.login,
      });
      await pingHook(env, request, ctx, hook);
      const body = renderHook(hook, ctx.apiBase);
      return Response.json(body, { status: 201, headers: { location: body.url } });
    })
    .get("/repos/:owner/:repo/hooks/:id", async (request, env) => {
      const ctx = await repoContext(request, env, "read");
      return Response.json(renderHook(await hookOr404(env, ctx, request.params.id), ctx.apiBase));
    })
    .patch("/repos/:owner/:repo/hooks/:id", async (request, env) => {
      const ctx = await repoContext(request, env, "write");
      const hook = await hookOr404(env, ctx, request.params.id);
      const input = parseInput(UpdateHook, await readJson(request), "Hook");
      const changes: SubscriptionChanges = {};
      if (input.config) {
        // GitHub: a config replaces the whole config, so omitted keys go back to their defaults.
        Object.assign(
          changes,
          configChanges(hook, { content_type: "form", secret: null, insecure_ssl: "0", ...input.config }),
        );
      }
      if (input.events || input.add_events || input.remove_events) {
        const events = new Set(input.events ?? hook.events);
        for (const event of input.add_events ?? []) events.add(event);
        for (const event of input.remove_events ?? []) events.delete(event);
        if (events.size === 0) {
          throw validationFailed([
            { resource: "Hook", field: "events", code: "invalid", message: "a hook needs at least one event" },
          ]);
        }
        changes.events = [...events];
      }
      if (input.active !== undefined) changes.active = input.active;
      const updated = await updateSubscription(env, ctx.scope, hook.id, changes);
      if (!updated) throw notFound();
      return Response.json(renderHook(updated, ctx.apiBase));
    })
    .delete("/repos/:owner/:repo/hooks/:id", async (request, env) => {
      const ctx = await repoContext(request, env, "write");
      if (!(await deleteSubscription(env, ctx.scope, numericId(request.params.id)))) throw notFound();
      return noContent();
    })
    .get("/repos/:owner/:repo/hooks/:id/config", async (request, env) => {
      const ctx = await repoContext(request, env, "read");
      return Response.json(renderHookConfig(await hookOr404(env, ctx, request.params.id)));
    })
    .patch("/repos/:owner/:repo/hooks/:id/config", async (request, env) => {
      const ctx = await repoContext(request, env, "write");
      const hook = await hookOr404(env, ctx, request.params.id);
      const input = parseInput(HookConfigPatch, await readJson(request), "Hook");
      const updated = await updateSubscription(env, ctx.scope, hook.id, configChanges(hook, input));
      if (!updated) throw notFound();
      return Response.json(renderHookConfig(updated));
    })
    .post("/repos/:owner/:repo/hooks/:id/pings", async (request, env) => {
      const ctx = await repoContext(request, env, "write");
      await pingHook(env, request, ctx, await hookOr404(env, ctx, request.params.id));
      return noContent();
    });

  // GitHub's current path is /tests; the 2012 spec's is /test. Both re-send the latest push.
  for (const path of ["/repos/:owner/:repo/hooks/:id/tests", "/repos/:owner/:repo/hooks/:id/test"]) {
    router.post(path, async (request, env) => {
      const ctx = await repoContext(request, env, "write");
      const hook = await hookOr404(env, ctx, request.params.id);
      if (takesEvent(hook.events, "push")) {
        const push = await latestEvent(env, "repository", ctx.scope.subject, "push");
        if (push) await deliverEvent(env, push.id, hook.id);
      }
      return noContent();
    });
  }
}
