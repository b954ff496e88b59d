/** Akkeris' paths (spec 000) as hookrelay serves them. */
import type { ApiArea } from "../../http/openapi";
import { NewApp } from "./apps";
import { NewAutoBuild, RemoveAutoBuild } from "./auto-builds";
import { BuildReport } from "./builds";

const object = { type: "object" } as const;

export const akkerisApi: ApiArea = {
  name: "Akkeris",
  description:
    "Akkeris apps, auto build/deploy hooks with their GitHub callback (verified by HMAC), and builds. An app belongs to its organization.",
  errorSchema: {
    type: "object",
    required: ["code", "message"],
    properties: { code: { type: "integer" }, message: { type: "string" } },
  },
  paths: {
    "/apps": {
      get: {
        summary: "List apps",
        responses: { 200: { description: "Apps", schema: { type: "array", items: object } } },
      },
      post: {
        summary: "Create an app",
        body: NewApp,
        responses: { 201: { description: "The app", schema: object }, 409: "It exists" },
      },
    },
    "/apps/{app}": {
      get: {
        summary: "Get an app by `name-space` or id",
        responses: { 200: { description: "The app", schema: object }, 404: "No such app" },
      },
      delete: {
        summary: "Delete an app",
        responses: { 200: { description: "The deleted app", schema: object }, 404: "No such app" },
      },
    },
    "/apps/{app}/builds/auto": {
      get: {
        summary: "The app's auto build, with the push waiting on checks and recent outcomes",
        responses: { 200: { description: "Auto build", schema: object }, 404: "None" },
      },
      post: {
        summary:
          "Set up an auto build: registers a webhook on the GitHub repository with the caller's GitHub token (not stored)",
        body: NewAutoBuild,
        responses: {
          201: { description: "Created", schema: object },
          409: "A hook already exists on the repository",
          422: "GitHub refused",
        },
      },
    },
    "/apps/{app}/builds/auto/github": {
      get: {
        summary: "Same as /builds/auto (the spec's example path)",
        responses: { 200: { description: "Auto build", schema: object }, 404: "None" },
      },
      post: {
        summary: "GitHub's callback: push, status and check_suite events, verified by X-Hub-Signature-256 (or sha1)",
        auth: "signature",
        body: object,
        responses: {
          200: "ping, or a duplicate delivery",
          201: { description: "Roger that, message received.", schema: object },
          205: "Not of interest (reason in X-Hookrelay-Message)",
          403: "Bad or missing signature",
          404: "No such app or auto build",
        },
      },
      delete: {
        summary: "Remove the auto build (and its GitHub webhook, given a token)",
        body: RemoveAutoBuild,
        responses: { 200: { description: "Removed", schema: object }, 404: "None" },
      },
    },
    "/apps/{app}/builds": {
      get: {
        summary: "List the app's builds",
        responses: { 200: { description: "Builds", schema: { type: "array", items: object } } },
      },
    },
    "/apps/{app}/builds/{id}": {
      get: {
        summary: "Get a build",
        responses: { 200: { description: "The build", schema: object }, 404: "No such build" },
      },
      patch: {
        summary: "The builder reports progress: building, succeeded (with image) or failed",
        body: BuildReport,
        responses: {
          200: { description: "The build", schema: object },
          404: "No such build",
          409: "Not a legal transition",
        },
      },
    },
  },
};
