// Validates response bodies against GitHub's published OpenAPI description (@octokit/openapi).
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { Ajv, type ErrorObject } from "ajv";
import addFormatsModule from "ajv-formats";

const require = createRequire(import.meta.url);
const specPath = require.resolve("@octokit/openapi/generated/api.github.com.json");

interface ResponseObject {
  $ref?: string;
  content?: Record<string, { schema: unknown }>;
}

interface Spec {
  paths: Record<string, Record<string, { responses: Record<string, ResponseObject> }>>;
  components: { schemas: Record<string, unknown>; responses: Record<string, ResponseObject> };
}

let ajv: Ajv | undefined;
let spec: Spec | undefined;

function load(): { ajv: Ajv; spec: Spec } {
  if (!ajv || !spec) {
    spec = JSON.parse(readFileSync(specPath, "utf8")) as Spec;
    // OpenAPI 3.0 schemas: `nullable` is understood by ajv; `example` and x- keys are not schema.
    ajv = new Ajv({ strict: false, allErrors: true, validateFormats: true });
    const addFormats = addFormatsModule as unknown as (a: Ajv) => void;
    addFormats(ajv);
    ajv.addSchema({ $id: "github", components: spec.components });
  }
  return { ajv, spec };
}

/** Errors of `body` against GitHub's schema for `METHOD path` answering `status`; [] when it conforms. */
export function schemaErrors(method: string, path: string, status: number, body: unknown): ErrorObject[] | string {
  const { ajv: validator, spec: doc } = load();
  const operation = doc.paths[path]?.[method.toLowerCase()];
  if (!operation) return `GitHub's description has no ${method} ${path}`;
  let response = operation.responses[String(status)];
  // Shared answers (not_found, validation_failed, accepted) are references to components.responses.
  if (response?.$ref) response = doc.components.responses[response.$ref.split("/").pop() ?? ""];
  const schema = response?.content?.["application/json"]?.schema;
  if (!schema) return `GitHub's description has no JSON body for ${method} ${path} ${status}`;
  const rooted = JSON.parse(JSON.stringify(schema).replaceAll('"#/components/', '"github#/components/'));
  const validate = validator.compile(rooted);
  return validate(body) ? [] : (validate.errors ?? []);
}
