/** Flightcontrol's paths (spec 002) as hookrelay serves them. */
import type { ApiArea, OperationSpec } from "../../http/openapi";
import { NewDeployHook, NewEnvironment } from "./environments";

const object = { type: "object" } as const;
const triggered = {
  description: "Deploying",
  schema: {
    type: "object",
    required: ["success", "deploymentId"],
    properties: { success: { const: "true" }, deploymentId: { type: "string" } },
  },
};

const trigger = (summary: string, query: OperationSpec["query"]): OperationSpec => ({
  summary,
  auth: "url-secret",
  query,
  responses: { 200: triggered, 400: "Bad query", 404: "Unknown environment or secret", 422: "Unknown ref" },
});

const force = { force: { description: "true to deploy even if nothing changed", schema: { enum: ["true", "false"] } } };
const full = {
  commit: { description: "The sha to deploy; needs branch" },
  branch: { description: "The branch (default: the environment's)" },
  ...force,
};

export const flightcontrolApi: ApiArea = {
  name: "Flightcontrol",
  description:
    "Environments, deploy-hook URLs triggered by a plain GET (the secret is in the URL), and deployment polling. An environment belongs to its repository's owner.",
  errorSchema: {
    type: "object",
    required: ["success", "error"],
    properties: { success: { const: "false" }, error: { type: "string" }, errors: { type: "array" } },
  },
  paths: {
    "/api/environments": {
      get: {
        summary: "List environments",
        responses: { 200: { description: "Environments", schema: { type: "array", items: object } } },
      },
      post: {
        summary: "Create an environment",
        body: NewEnvironment,
        responses: { 201: { description: "The environment", schema: object } },
      },
    },
    "/api/environments/{envId}": {
      get: {
        summary: "Get an environment",
        responses: { 200: { description: "The environment", schema: object }, 404: "Not found" },
      },
      delete: { summary: "Delete an environment and its hooks", responses: { 204: "Deleted", 404: "Not found" } },
    },
    "/api/environments/{envId}/deploy-hooks": {
      get: {
        summary: "List deploy hooks (never their secrets)",
        responses: { 200: { description: "Hooks", schema: { type: "array", items: object } } },
      },
      post: {
        summary: "Create a deploy hook; its URL, which holds the secret, is shown only here",
        body: NewDeployHook,
        responses: { 201: { description: "The hook and its URL", schema: object } },
      },
    },
    "/api/environments/{envId}/deploy-hooks/{id}": {
      delete: { summary: "Delete a deploy hook", responses: { 204: "Deleted", 404: "Not found" } },
    },
    "/api/deploy-hook/{envId}/{secret}": {
      get: trigger("Deploy (curl the URL)", full),
      head: trigger("Deploy", full),
      post: trigger("Deploy", full),
    },
    "/api/deploy-hook/{envId}/{secret}/{prNumber}/{commitSha}": {
      get: trigger("Deploy a pull request's commit to its preview environment", force),
      head: trigger("Deploy a preview", force),
      post: trigger("Deploy a preview", force),
    },
    "/api/deployments/{deploymentId}": {
      get: {
        summary: "Poll a deployment (PENDING, INPROGRESS, SUCCESS, ERROR, …)",
        responses: { 200: { description: "The deployment", schema: object }, 404: "Not found" },
      },
    },
  },
};
