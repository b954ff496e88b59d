/**
 * Alauda's /v1/hooks (spec 004): subscriptions to build, image and job events, kept in
 * the same subscription store as GitHub's hooks and delivered by the same pipeline.
 * Also POST /v1/events, for other systems to publish to these subscriptions.
 */
import * as v from "valibot";
import { caller, loadOwned } from "../../access/guard";
import { subjectOwner } from "../../access/owners";
import { type Access, authorizeOwner, type Principal, visibleOwners } from "../../access/policy";
import type { Env } from "../../env";
import { parseInput, readJson } from "../../http/body";
import { ApiError, validationFailed } from "../../http/errors";
import { type HttpRouter, noContent } from "../../http/types";
import { publish } from "../../relay/events";
import {
  createSubscription,
  deleteSubscription,
  getSubscriptionById,
  listSubscriptions,
  type Subscription,
  updateSubscription,
} from "../../relay/subscriptions";
import { keepCredentials, maskUrl } from "../../relay/url-credentials";

/** Each subject type takes only its own events (`build:queued` is hookrelay's addition). */
export const SUBJECT_EVENTS: Record<string, readonly string[]> = {
  build_repo: ["build:complete", "build:queued"],
  image_repo: ["image:push"],
  job: ["job:succeed", "job:fail"],
};
const SUBJECT_TYPES = Object.keys(SUBJECT_EVENTS) as [string, ...string[]];

const SubjectType = v.picklist(SUBJECT_TYPES, `subject_type must be one of ${SUBJECT_TYPES.join(", ")}`);
const Subject = v.pipe(v.string("subject is required"), v.trim(), v.minLength(1, "subject is required"));
const Url = v.pipe(v.string("url is required"), v.url("url must be a valid URL"));
const Events = v.pipe(v.array(v.string(), "events must be an array"), v.minLength(1, "events must not be empty"));

export const NewHook = v.object({
  subject_type: SubjectType,
  subject: Subject,
  events: Events,
  secret: v.optional(v.nullable(v.string())),
  url: Url,
  name: v.optional(v.string(), ""),
});

export const HookUpdate = v.object({
  events: v.optional(Events),
  secret: v.optional(v.nullable(v.string())),
  url: v.optional(Url),
  name: v.optional(v.string()),
  is_active: v.optional(v.boolean("is_active must be true or false")),
});

export const NewEvent = v.object({
  subject_type: SubjectType,
  subject: Subject,
  event: v.string("event is required"),
  payload: v.optional(v.record(v.string(), v.unknown(), "payload must be an object"), {}),
});

function checkEvents(subjectType: string, events: string[]): void {
  const allowed = SUBJECT_EVENTS[subjectType] ?? [];
  const wrong = events.filter((event) => !allowed.includes(event));
  if (wrong.length > 0) {
    throw validationFailed([
      {
        resource: "Hook",
        field: "events",
        code: "invalid",
        message: `${wrong.join(", ")} is not an event of ${subjectType}; allowed: ${allowed.join(", ")}`,
      },
    ]);
  }
}

/**
 * A subject belongs to the owner of what it names (src/access/owners.ts); one that names
 * nothing the relay knows has no owner, and only tokens without an owner limit may use it.
 */
async function authorizeSubject(
  env: Env,
  principal: Principal,
  subjectType: string,
  subject: string,
  access: Access,
): Promise<void> {
  authorizeOwner(principal, await subjectOwner(env, subjectType, subject), access, subjectNotFound);
}

export function renderAlaudaHook(hook: Subscription) {
  return {
    id: hook.id,
    subject: hook.subject,
    subject_type: hook.subjectType,
    events: hook.events,
    name: hook.name,
    secret: hook.hasSecret ? "********" : null,
    url: maskUrl(hook.url),
    is_active: hook.active,
    created_by: hook.createdBy,
    created_at: hook.createdAt,
    updated_at: hook.updatedAt,
  };
}

const hookNotFound = () => new ApiError(404, "Hook not found");
const subjectNotFound = () => new ApiError(404, "Subject not found");

/**
 * The loader of every /v1/hooks/:id route. A hook belongs to its subject's owner, recorded
 * when it was made (the `owner` its list is filtered by, too).
 */
async function hookFor(env: Env, principal: Principal, rawId: string | undefined, access: Access) {
  return loadOwned(
    principal,
    access,
    hookNotFound,
    () => getSubscriptionById(env, "alauda", numericIdOrZero(rawId)),
    (hook) => hook.owner,
  );
}

const numericIdOrZero = (raw: string | undefined) => (/^\d{1,15}$/.test(raw ?? "") ? Number(raw) : 0);

export function alaudaRoutes(router: HttpRouter): void {
  router
    .post("/v1/hooks", async (request, env) => {
      const principal = await caller(request, env, "write");
      const input = parseInput(NewHook, await readJson(request), "Hook");
      await authorizeSubject(env, principal, input.subject_type, input.subject, "write");
      checkEvents(input.subject_type, input.events);
      const hook = await createSubscription(env, {
        dialect: "alauda",
        subjectType: input.subject_type,
        subject: input.subject,
        name: input.name,
        events: [...new Set(input.events)],
        url: input.url,
        contentType: "json",
        secret: input.secret ?? null,
        createdBy: principal.login,
      });
      return Response.json(renderAlaudaHook(hook), { status: 201 });
    })
    .get("/v1/hooks", async (request, env) => {
      const principal = await caller(request, env, "read");
      const url = new URL(request.url);
      const subjectType = url.searchParams.get("subject_type") ?? undefined;
      const subject = url.searchParams.get("subject") ?? undefined;
      const { items } = await listSubscriptions(
        env,
        { dialect: "alauda", subjectType, subject, owners: visibleOwners(principal) },
        { limit: 1000, offset: 0 },
      );
      return Response.json(items.map(renderAlaudaHook));
    })
    .get("/v1/hooks/:id", async (request, env) => {
      const principal = await caller(request, env, "read");
      return Response.json(renderAlaudaHook(await hookFor(env, principal, request.params.id, "read")));
    })
    .put("/v1/hooks/:id", async (request, env) => {
      const principal = await caller(request, env, "write");
      const hook = await hookFor(env, principal, request.params.id, "write");
      const input = parseInput(HookUpdate, await readJson(request), "Hook");
      if (input.events) checkEvents(hook.subjectType, input.events);
      const updated = await updateSubscription(env, hook, hook.id, {
        ...(input.events ? { events: [...new Set(input.events)] } : {}),
        ...(input.secret !== undefined ? { secret: input.secret } : {}),
        ...(input.url !== undefined ? { url: keepCredentials(input.url, hook.url) } : {}),
        ...(input.name !== undefined ? { name: input.name } : {}),
        ...(input.is_active !== undefined ? { active: input.is_active } : {}),
      });
      if (!updated) throw hookNotFound();
      return Response.json(renderAlaudaHook(updated));
    })
    .delete("/v1/hooks/:id", async (request, env) => {
      const principal = await caller(request, env, "write");
      const hook = await hookFor(env, principal, request.params.id, "write");
      await deleteSubscription(env, hook, hook.id);
      return noContent();
    })
    .post("/v1/events", async (request, env) => {
      const principal = await caller(request, env, "write");
      const input = parseInput(NewEvent, await readJson(request), "Event");
      await authorizeSubject(env, principal, input.subject_type, input.subject, "write");
      checkEvents(input.subject_type, [input.event]);
      const published = await publish(env, {
        type: input.event,
        subjectType: input.subject_type,
        subject: input.subject,
        source: "api",
        payload: JSON.stringify({
          ...input.payload,
          event: input.event,
          subject_type: input.subject_type,
          subject: input.subject,
        }),
      });
      return Response.json({ event_id: published.eventId, deliveries: published.deliveryIds.length }, { status: 202 });
    });
}
