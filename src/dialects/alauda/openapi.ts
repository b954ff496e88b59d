/** Alauda's /v1/hooks (spec 004) as hookrelay serves them. */
import type { ApiArea } from "../../http/openapi";
import { HookUpdate, NewEvent, NewHook } from "./hooks";

const hook = {
  type: "object",
  required: ["id", "subject", "subject_type", "events", "url", "is_active"],
  properties: {
    id: { type: "integer" },
    subject: { type: "string" },
    subject_type: { enum: ["build_repo", "image_repo", "job"] },
    events: { type: "array", items: { type: "string" } },
    name: { type: "string" },
    secret: { anyOf: [{ const: "********" }, { type: "null" }] },
    url: { type: "string" },
    is_active: { type: "boolean" },
    created_by: { type: "string" },
    created_at: { type: "string" },
    updated_at: { type: "string" },
  },
} as const;

export const alaudaApi: ApiArea = {
  name: "Alauda",
  description:
    "/v1/hooks: subscriptions to build, image and job events, and /v1/events to publish them. A subject belongs to the owner of what it names.",
  errorSchema: {
    type: "object",
    required: ["errors"],
    properties: {
      errors: {
        type: "array",
        items: {
          type: "object",
          properties: { code: { type: "string" }, message: { type: "string" }, source: { type: "string" } },
        },
      },
    },
  },
  paths: {
    "/v1/hooks": {
      get: {
        summary: "List hooks",
        query: {
          subject_type: { description: "Filter by subject type" },
          subject: { description: "Filter by subject" },
        },
        responses: { 200: { description: "Hooks", schema: { type: "array", items: hook } } },
      },
      post: {
        summary: "Create a hook",
        body: NewHook,
        responses: { 201: { description: "The hook", schema: hook }, 422: "Invalid" },
      },
    },
    "/v1/hooks/{id}": {
      get: { summary: "Get a hook", responses: { 200: { description: "The hook", schema: hook }, 404: "Not found" } },
      put: {
        summary: "Update a hook",
        body: HookUpdate,
        responses: { 200: { description: "The hook", schema: hook }, 404: "Not found" },
      },
      delete: { summary: "Delete a hook", responses: { 204: "Deleted", 404: "Not found" } },
    },
    "/v1/events": {
      post: {
        summary: "Publish an event to a subject's hooks",
        body: NewEvent,
        responses: {
          202: {
            description: "Stored and fanned out",
            schema: { type: "object", properties: { event_id: { type: "string" }, deliveries: { type: "integer" } } },
          },
        },
      },
    },
  },
};
