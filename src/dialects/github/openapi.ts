/** GitHub's paths as hookrelay serves them. Bodies are GitHub's; see docs.github.com/rest for every field. */
import { type ApiArea, githubErrorSchema } from "../../http/openapi";
import { CreateDeployment, CreateStatus as CreateDeploymentStatus } from "./deployments";
import { CreateHook, HookConfigPatch, UpdateHook } from "./hooks";
import { HubRequest } from "./hub";
import { IngestSetup } from "./ingest";
import { CreateStatus as CreateCommitStatus } from "./statuses";

const object = { type: "object" } as const;
const list = { type: "array", items: object } as const;
const page = {
  page: { description: "Page number (1-based)", schema: { type: "integer", minimum: 1 } },
  per_page: { description: "Items per page, at most 100 (default 30)", schema: { type: "integer", minimum: 1 } },
};
const repo = "/repos/{owner}/{repo}";
const hook = `${repo}/hooks/{id}`;

export const githubApi: ApiArea = {
  name: "GitHub",
  description:
    "GitHub's repository hooks, hook deliveries, the PubSubHubbub hub, deployments, deployment statuses and commit statuses (specs 001 and 003), and the ingest URL that relays GitHub's own webhooks. Scoped tokens see only their owners' repositories.",
  errorSchema: githubErrorSchema,
  paths: {
    [`${repo}/hooks`]: {
      get: {
        summary: "List a repository's hooks",
        query: page,
        responses: { 200: { description: "Hooks", schema: list } },
      },
      post: {
        summary: "Create a hook (and send it a ping)",
        body: CreateHook,
        responses: { 201: { description: "The hook", schema: object }, 422: "Validation failed or duplicate" },
      },
    },
    [hook]: {
      get: {
        summary: "Get a hook",
        responses: { 200: { description: "The hook", schema: object }, 404: "No such hook" },
      },
      patch: {
        summary: "Update a hook",
        body: UpdateHook,
        responses: { 200: { description: "The hook", schema: object }, 404: "No such hook", 422: "Validation failed" },
      },
      delete: { summary: "Delete a hook", responses: { 204: "Deleted", 404: "No such hook" } },
    },
    [`${hook}/config`]: {
      get: { summary: "Get a hook's config", responses: { 200: { description: "The config", schema: object } } },
      patch: {
        summary: "Update a hook's config",
        body: HookConfigPatch,
        responses: { 200: { description: "The config", schema: object }, 422: "Validation failed" },
      },
    },
    [`${hook}/pings`]: { post: { summary: "Ping a hook", responses: { 204: "Ping sent", 404: "No such hook" } } },
    [`${hook}/tests`]: {
      post: { summary: "Re-send the latest push to a push hook", responses: { 204: "Sent", 404: "No such hook" } },
    },
    [`${hook}/test`]: { post: { summary: "Old path of /tests", responses: { 204: "Sent", 404: "No such hook" } } },
    [`${hook}/deliveries`]: {
      get: {
        summary: "List a hook's delivery attempts, newest first",
        query: {
          per_page: page.per_page,
          cursor: { description: "From the Link header's next URL" },
          status: { description: "success or failure", schema: { enum: ["success", "failure"] } },
        },
        responses: { 200: { description: "Attempts", schema: list } },
      },
    },
    [`${hook}/deliveries/{delivery_id}`]: {
      get: {
        summary: "Get one attempt with its request and response",
        responses: { 200: { description: "The attempt", schema: object }, 404: "No such delivery" },
      },
    },
    [`${hook}/deliveries/{delivery_id}/attempts`]: {
      post: {
        summary: "Redeliver, with the same X-GitHub-Delivery",
        responses: { 202: { description: "Queued", schema: object } },
      },
    },
    "/hub": {
      post: {
        summary: "PubSubHubbub: subscribe or unsubscribe a callback to a repository's events",
        body: HubRequest,
        bodyTypes: ["application/x-www-form-urlencoded", "multipart/form-data", "application/json"],
        responses: { 204: "Done", 422: "Bad topic or callback" },
      },
    },
    [`${repo}/ingest`]: {
      get: {
        summary: "The repository's ingest URL",
        responses: { 200: { description: "Ingest settings", schema: object }, 404: "Not set up" },
      },
      put: {
        summary: "Set up inbound relaying: the secret GitHub signs with",
        body: IngestSetup,
        responses: { 200: { description: "The URL to give GitHub", schema: object } },
      },
      delete: { summary: "Stop relaying GitHub's webhooks for this repository", responses: { 204: "Removed" } },
    },
    "/ingest/github/{owner}/{repo}": {
      post: {
        summary: "Receive one of GitHub's webhooks (verified by X-Hub-Signature-256), store it, fan it out",
        auth: "signature",
        bodyTypes: ["application/json", "application/x-www-form-urlencoded"],
        body: object,
        responses: {
          202: "Stored and fanned out (`event_id`, `deliveries`); or, while the database is unavailable, kept by the relay and committed later (`queued: true`)",
          400: "Malformed payload",
          401: "Bad or missing signature",
          404: "Ingest not set up",
          413: "Over 25 MB",
        },
      },
    },
    [`${repo}/deployments`]: {
      get: {
        summary: "List deployments",
        query: {
          ...page,
          sha: { description: "Filter by sha" },
          ref: { description: "Filter by ref" },
          task: { description: "Filter by task" },
          environment: { description: "Filter by environment" },
        },
        responses: { 200: { description: "Deployments", schema: list } },
      },
      post: {
        summary: "Create a deployment (Idempotency-Key honoured for 24 h)",
        body: CreateDeployment,
        responses: {
          201: { description: "The deployment", schema: object },
          409: "Required contexts are not successful",
          422: "Validation failed, or unknown ref",
        },
      },
    },
    [`${repo}/deployments/{id}`]: {
      get: {
        summary: "Get a deployment",
        responses: { 200: { description: "The deployment", schema: object }, 404: "No such deployment" },
      },
      delete: {
        summary: "Delete an inactive deployment",
        responses: { 204: "Deleted", 404: "No such deployment", 422: "Still active" },
      },
    },
    [`${repo}/deployments/{id}/statuses`]: {
      get: {
        summary: "List a deployment's statuses",
        query: page,
        responses: { 200: { description: "Statuses", schema: list } },
      },
      post: {
        summary: "Create a deployment status",
        body: CreateDeploymentStatus,
        responses: {
          201: { description: "The status", schema: object },
          404: "No such deployment",
          422: "Validation failed",
        },
      },
    },
    [`${repo}/deployments/{id}/statuses/{status_id}`]: {
      get: {
        summary: "Get a deployment status",
        responses: { 200: { description: "The status", schema: object }, 404: "Not found" },
      },
    },
    [`${repo}/statuses/{sha}`]: {
      post: {
        summary: "Create a commit status",
        body: CreateCommitStatus,
        responses: { 201: { description: "The status", schema: object }, 422: "Validation failed" },
      },
    },
    [`${repo}/commits/{ref}/statuses`]: {
      get: {
        summary: "List a ref's commit statuses, newest first",
        query: page,
        responses: { 200: { description: "Statuses", schema: list } },
      },
    },
    [`${repo}/commits/{ref}/status`]: {
      get: {
        summary: "A ref's combined status",
        responses: { 200: { description: "Combined status", schema: object }, 404: "Unknown ref" },
      },
    },
  },
};
