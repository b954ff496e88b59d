/**
 * The OpenAPI 3.1 document, assembled from each area's path specs. Request and response
 * bodies are given as the valibot schemas the handlers parse with, converted to JSON Schema
 * here, so the document cannot drift from what the routes accept.
 */
import { toJsonSchema } from "@valibot/to-json-schema";
import type { GenericSchema } from "valibot";

export type Method = "get" | "head" | "post" | "put" | "patch" | "delete";

/** How a caller authenticates: an API token (default), the admin token, or a secret the URL or signature carries. */
export type Auth = "token" | "admin" | "signature" | "url-secret" | "none";

/** A JSON Schema written out, where no valibot schema exists (GitHub-shaped answers). */
export type JsonSchema = Readonly<Record<string, unknown>>;
type Schema = GenericSchema | JsonSchema;

export interface OperationSpec {
  summary: string;
  description?: string;
  auth?: Auth;
  /** The JSON body; `form` also accepts urlencoded and multipart forms with the same fields. */
  body?: Schema;
  bodyTypes?: readonly string[];
  query?: Readonly<Record<string, { description: string; schema?: JsonSchema; required?: boolean }>>;
  /** Status → description, or a description and the body's schema. */
  responses: Readonly<Record<number, string | { description: string; schema?: Schema }>>;
}

export type PathSpecs = Readonly<Record<string, Partial<Record<Method, OperationSpec>>>>;

export interface ApiArea {
  /** A tag: the dialect or area the paths belong to. */
  name: string;
  description: string;
  paths: PathSpecs;
  /** The body of this area's error answers. */
  errorSchema: JsonSchema;
}

const isValibot = (schema: Schema): schema is GenericSchema =>
  typeof (schema as GenericSchema)["~standard"] === "object";

export function jsonSchema(schema: Schema): JsonSchema {
  if (!isValibot(schema)) return schema;
  const { $schema: _, ...converted } = toJsonSchema(schema, {
    target: "draft-2020-12",
    typeMode: "input",
    errorMode: "ignore",
  }) as Record<string, unknown>;
  return converted;
}

const SECURITY: Record<Auth, unknown[] | undefined> = {
  token: [{ token: [] }],
  admin: [{ token: [] }],
  signature: [],
  "url-secret": [],
  none: [],
};

function operation(area: ApiArea, method: string, path: string, spec: OperationSpec): Record<string, unknown> {
  const errorRef = { $ref: `#/components/schemas/${area.name}Error` };
  const parameters: unknown[] = [...path.matchAll(/\{([^}]+)\}/g)].map(([, name]) => ({
    name,
    in: "path",
    required: true,
    schema: { type: "string" },
  }));
  for (const [name, query] of Object.entries(spec.query ?? {})) {
    parameters.push({
      name,
      in: "query",
      required: query.required ?? false,
      description: query.description,
      schema: query.schema ?? { type: "string" },
    });
  }
  const responses: Record<string, unknown> = {};
  for (const [status, answer] of Object.entries(spec.responses)) {
    const { description, schema } = typeof answer === "string" ? { description: answer, schema: undefined } : answer;
    const isError = Number(status) >= 400;
    const body = schema ? jsonSchema(schema) : isError ? errorRef : undefined;
    responses[status] = body ? { description, content: { "application/json": { schema: body } } } : { description };
  }
  const auth = spec.auth ?? "token";
  if (auth === "token" || auth === "admin") {
    responses["401"] ??= {
      description: "No valid token",
      content: { "application/json": { schema: errorRef } },
    };
  }
  return {
    tags: [area.name],
    summary: spec.summary,
    ...(spec.description ? { description: spec.description } : {}),
    operationId: `${method} ${path}`,
    security: SECURITY[auth],
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(spec.body
      ? {
          requestBody: {
            required: true,
            content: Object.fromEntries(
              (spec.bodyTypes ?? ["application/json"]).map((type) => [
                type,
                { schema: jsonSchema(spec.body as Schema) },
              ]),
            ),
          },
        }
      : {}),
    responses,
  };
}

export function openApiDocument(info: { title: string; version: string; description: string }, areas: ApiArea[]) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const area of areas) {
    for (const [path, methods] of Object.entries(area.paths)) {
      const entry = paths[path] ?? {};
      for (const [method, spec] of Object.entries(methods))
        entry[method] = operation(area, method, path, spec as OperationSpec);
      paths[path] = entry;
    }
  }
  return {
    openapi: "3.1.0",
    info,
    tags: areas.map((area) => ({ name: area.name, description: area.description })),
    paths,
    components: {
      securitySchemes: {
        token: {
          type: "http",
          scheme: "bearer",
          description:
            "An API token (`hr_…`) or ADMIN_TOKEN, as `Authorization: token T`, `Bearer T`, or Basic auth with T as the password.",
        },
      },
      schemas: Object.fromEntries(areas.map((area) => [`${area.name}Error`, area.errorSchema])),
    },
  };
}

/** GitHub's error body, which is also the relay's own. */
export const githubErrorSchema: JsonSchema = {
  type: "object",
  required: ["message", "documentation_url"],
  properties: {
    message: { type: "string" },
    documentation_url: { type: "string" },
    errors: { type: "array", items: { type: "object" } },
  },
};
