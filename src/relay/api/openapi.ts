/** The operator API (/relay/) as the OpenAPI document describes it. */
import { type ApiArea, githubErrorSchema, type JsonSchema } from "../../http/openapi";
import { Recover } from "./routes";

const nullable = (schema: JsonSchema): JsonSchema => ({ anyOf: [schema, { type: "null" }] });
const time = { type: "string", format: "date-time" } as const;

const subscription: JsonSchema = {
  type: "object",
  required: [
    "id",
    "dialect",
    "subject_type",
    "subject",
    "url",
    "events",
    "content_type",
    "secret",
    "active",
    "disabled_reason",
    "health",
    "created_at",
    "updated_at",
  ],
  properties: {
    id: { type: "integer" },
    dialect: { type: "string", description: "github, alauda: the API that made it" },
    subject_type: { type: "string" },
    subject: { type: "string" },
    url: { type: "string", description: "A basic-auth password shows as ********" },
    events: { type: "array", items: { type: "string" } },
    content_type: { enum: ["json", "form"] },
    secret: nullable({ const: "********" }),
    active: { type: "boolean" },
    disabled_reason: nullable({ type: "string" }),
    health: {
      type: "object",
      required: [
        "state",
        "circuit",
        "consecutive_failures",
        "failing_since",
        "last_attempt_at",
        "last_status_code",
        "last_status",
      ],
      properties: {
        state: { enum: ["healthy", "failing", "circuit_open", "disabled"] },
        circuit: { enum: ["closed", "open"] },
        consecutive_failures: { type: "integer" },
        failing_since: nullable(time),
        last_attempt_at: nullable(time),
        last_status_code: nullable({ type: "integer" }),
        last_status: nullable({ type: "string" }),
      },
    },
    created_at: time,
    updated_at: time,
  },
};

const deliveryProperties = {
  id: { type: "integer" },
  guid: { type: "string", description: "X-GitHub-Delivery and webhook-id; kept by redeliver and recover" },
  subscription_id: { type: "integer" },
  event: { type: "string" },
  state: { enum: ["pending", "succeeded", "failed"] },
  attempts: { type: "integer" },
  next_attempt_at: nullable(time),
  failure_reason: nullable({ type: "string" }),
  created_at: time,
  completed_at: nullable(time),
} as const;

const delivery: JsonSchema = {
  type: "object",
  required: Object.keys(deliveryProperties),
  properties: deliveryProperties,
};

const deliveryDetail: JsonSchema = {
  type: "object",
  required: [...Object.keys(deliveryProperties), "url", "payload", "attempt_log"],
  properties: {
    ...deliveryProperties,
    url: { type: "string" },
    payload: { type: "string", description: "The JSON text as delivered" },
    attempt_log: {
      type: "array",
      description: "Oldest first",
      items: {
        type: "object",
        required: ["attempt", "delivered_at", "duration_ms", "succeeded", "status_code", "status"],
        properties: {
          attempt: { type: "integer" },
          delivered_at: time,
          duration_ms: { type: "integer" },
          succeeded: { type: "boolean" },
          status_code: nullable({ type: "integer" }),
          status: { type: "string" },
          request_headers: { type: "object", additionalProperties: { type: "string" } },
          response_headers: nullable({ type: "object", additionalProperties: { type: "string" } }),
          response_body: nullable({ type: "string" }),
        },
      },
    },
  },
};

const counts = {
  type: "object",
  required: ["pending", "succeeded", "failed"],
  properties: { pending: { type: "integer" }, succeeded: { type: "integer" }, failed: { type: "integer" } },
} as const;

const stats: JsonSchema = {
  type: "object",
  required: ["deliveries", "events", "oldest_event_at", "storage_bytes", "retention_days", "hourly"],
  properties: {
    deliveries: counts,
    events: { type: "integer" },
    oldest_event_at: nullable(time),
    storage_bytes: { type: "integer", description: "The D1 database's size" },
    retention_days: { type: "number" },
    hourly: {
      type: "array",
      description: "Attempts per hour, the last 24 hours, oldest first",
      items: {
        type: "object",
        required: ["hour", "succeeded", "failed"],
        properties: { hour: time, succeeded: { type: "integer" }, failed: { type: "integer" } },
      },
    },
  },
};

const page = {
  page: { description: "Page number, from 1", schema: { type: "integer", minimum: 1 } },
  per_page: { description: "Results per page (default 30, at most 100)", schema: { type: "integer", maximum: 100 } },
} as const;

export const relayApi: ApiArea = {
  name: "Relay",
  description:
    "hookrelay's own operator API: every dialect's subscriptions with their health (circuit breaker, auto-disable), enable and recover, the delivery log with redelivery, and stats. A scoped token sees only its owners' subscriptions; a read-only one cannot POST.",
  errorSchema: githubErrorSchema,
  paths: {
    "/relay/subscriptions": {
      get: {
        summary: "List subscriptions of every dialect, with their health",
        query: {
          ...page,
          dialect: { description: "github, alauda, …" },
          active: { description: "true or false", schema: { enum: ["true", "false"] } },
          health: {
            description: "The health state",
            schema: { enum: ["healthy", "failing", "circuit_open", "disabled"] },
          },
        },
        responses: {
          200: { description: "Subscriptions", schema: { type: "array", items: subscription } },
          422: "Bad filter",
        },
      },
    },
    "/relay/subscriptions/{id}": {
      get: {
        summary: "Get a subscription",
        responses: { 200: { description: "The subscription", schema: subscription }, 404: "Not found" },
      },
    },
    "/relay/subscriptions/{id}/enable": {
      post: {
        summary: "Enable a subscription and reset its health",
        responses: {
          200: { description: "The subscription", schema: subscription },
          403: "Read-only token",
          404: "Not found",
        },
      },
    },
    "/relay/subscriptions/{id}/recover": {
      post: {
        summary: "Send again every failed delivery created in a window, each once, with its original GUID",
        body: Recover,
        responses: {
          202: {
            description: "How many deliveries went back to pending",
            schema: { type: "object", required: ["deliveries"], properties: { deliveries: { type: "integer" } } },
          },
          403: "Read-only token",
          404: "Not found",
          422: "Inactive subscription (enable it first), or a bad window",
        },
      },
    },
    "/relay/deliveries": {
      get: {
        summary: "List deliveries, newest first",
        query: {
          ...page,
          subscription_id: { description: "One subscription's", schema: { type: "integer" } },
          state: { description: "pending, succeeded or failed", schema: { enum: ["pending", "succeeded", "failed"] } },
          event: { description: "The event name" },
          since: { description: "Created at or after (ISO 8601)", schema: time },
          until: { description: "Created at or before (ISO 8601)", schema: time },
        },
        responses: {
          200: { description: "Deliveries", schema: { type: "array", items: delivery } },
          422: "Bad filter",
        },
      },
    },
    "/relay/deliveries/{id}": {
      get: {
        summary: "Get a delivery with its payload and every attempt",
        responses: { 200: { description: "The delivery", schema: deliveryDetail }, 404: "Not found" },
      },
    },
    "/relay/deliveries/{id}/redeliver": {
      post: {
        summary: "Send a delivery again: same id and GUID, back to pending",
        responses: {
          202: { description: "The delivery", schema: delivery },
          403: "Read-only token",
          404: "Not found",
          422: "Inactive subscription",
        },
      },
    },
    "/relay/stats": {
      get: {
        summary: "Deliveries by state, events, storage and attempts per hour",
        responses: { 200: { description: "Stats", schema: stats } },
      },
    },
  },
};
