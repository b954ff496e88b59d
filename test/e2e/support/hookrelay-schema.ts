// hookrelay's own OpenAPI document (GET /openapi.json): validated as OpenAPI 3.1 with
// swagger-parser, then used to check answers with ajv (JSON Schema 2020-12).
import SwaggerParser from "@apidevtools/swagger-parser";
import { Ajv2020 } from "ajv/dist/2020.js";

type Operation = { responses: Record<string, { content?: Record<string, { schema: unknown }> }> };
export interface OpenApiDocument {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: Record<string, unknown>;
}

/** Fetches the document and validates it; throws with swagger-parser's reasons when it is not valid. */
export async function loadDocument(relayUrl: string): Promise<OpenApiDocument> {
  const response = await fetch(`${relayUrl}/openapi.json`);
  if (!response.ok) throw new Error(`GET /openapi.json answered ${response.status}`);
  const document = (await response.json()) as OpenApiDocument;
  // validate() dereferences in place: give it a copy.
  await SwaggerParser.validate(structuredClone(document) as never);
  return document;
}

/** Schema errors of a body against the document's answer for that operation and status. */
export function answerErrors(
  document: OpenApiDocument,
  method: string,
  template: string,
  status: number,
  body: unknown,
): string[] {
  const operation = document.paths[template]?.[method.toLowerCase()];
  if (!operation) return [`${method} ${template} is not in the document`];
  const answer = operation.responses[String(status)];
  if (!answer) return [`${method} ${template} does not document ${status}`];
  const schema = answer.content?.["application/json"]?.schema;
  if (!schema) return body === null || body === "" ? [] : [`${method} ${template} ${status} documents no body`];
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  ajv.addSchema({ $id: "doc", components: document.components });
  const validate = ajv.compile(rewriteRefs(schema));
  return validate(body) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
}

/** `#/components/...` refs, pointed at the document added to ajv under $id "doc". */
function rewriteRefs(schema: unknown): object {
  return JSON.parse(JSON.stringify(schema).replaceAll('"#/components/', '"doc#/components/'));
}
