/** The tokens API's paths: only the admin (ADMIN_TOKEN) may call them. */
import { type ApiArea, githubErrorSchema } from "../http/openapi";
import { NewToken } from "./routes";

const token = {
  type: "object",
  required: ["id", "login", "write", "owners", "created_at"],
  properties: {
    id: { type: "integer" },
    login: { type: "string" },
    write: { type: "boolean" },
    owners: { anyOf: [{ type: "array", items: { type: "string" } }, { type: "null" }] },
    created_at: { type: "string" },
  },
} as const;

export const tokensApi: ApiArea = {
  name: "Tokens",
  description: "API tokens, minted by the admin: read-only or read-write, for every owner or some.",
  errorSchema: githubErrorSchema,
  paths: {
    "/tokens": {
      get: {
        summary: "List tokens (never the tokens themselves)",
        auth: "admin",
        responses: { 200: { description: "Tokens", schema: { type: "array", items: token } } },
      },
      post: {
        summary: "Mint a token; the token is shown only in this answer",
        auth: "admin",
        body: NewToken,
        responses: {
          201: {
            description: "The token",
            schema: {
              ...token,
              required: [...token.required, "token"],
              properties: { ...token.properties, token: { type: "string" } },
            },
          },
          403: "Not the admin",
        },
      },
    },
    "/tokens/{id}": {
      delete: {
        summary: "Revoke a token",
        auth: "admin",
        responses: { 204: "Revoked", 403: "Not the admin", 404: "No such token" },
      },
    },
  },
};
