import * as v from "valibot";
import { ApiError, badRequest, type FieldError, payloadTooLarge, validationFailed } from "./errors";

/** Management API bodies are small; anything bigger is a mistake or an attack. */
export const API_BODY_LIMIT = 1024 * 1024;

/**
 * Reads the raw body, refusing more than `limit` bytes without buffering them: the
 * declared Content-Length is checked first, then the stream is counted as it arrives.
 */
export async function readBody(request: Request, limit: number): Promise<Uint8Array> {
  const declared = Number(request.headers.get("content-length"));
  if (declared > limit) throw payloadTooLarge(limit);
  if (!request.body) return new Uint8Array();
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = request.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      throw payloadTooLarge(limit);
    }
    chunks.push(value);
  }
  if (chunks.length === 1) return chunks[0] as Uint8Array;
  const body = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return body;
}

const decoder = new TextDecoder();

export function parseJsonText(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw badRequest("Problems parsing JSON");
  }
}

/** A JSON body, or `{}` when there is none (GitHub treats an empty body as no fields). */
export async function readJson(request: Request): Promise<unknown> {
  const text = decoder.decode(await readBody(request, API_BODY_LIMIT));
  return text.trim() === "" ? {} : parseJsonText(text);
}

/** Form fields (urlencoded or multipart) or a JSON object, whichever the client sent. */
export async function readFormOrJson(request: Request): Promise<Record<string, unknown>> {
  const type = request.headers.get("content-type") ?? "";
  if (type.includes("application/json")) {
    const body = await readJson(request);
    if (typeof body !== "object" || body === null || Array.isArray(body)) {
      throw badRequest("Body should be a JSON object");
    }
    return body as Record<string, unknown>;
  }
  const raw = await readBody(request, API_BODY_LIMIT);
  try {
    const form = await new Response(raw, { headers: { "content-type": type } }).formData();
    return Object.fromEntries([...form.entries()].filter(([, value]) => typeof value === "string"));
  } catch {
    throw badRequest("Problems parsing form body");
  }
}

/**
 * Validates input with a valibot schema. Failures become GitHub's 422 list: a missing
 * field is `missing_field`, anything else `invalid`, each naming the field.
 */
export function parseInput<S extends v.GenericSchema>(schema: S, input: unknown, resource: string): v.InferOutput<S> {
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    throw badRequest("Body should be a JSON object");
  }
  const result = v.safeParse(schema, input);
  if (result.success) return result.output;
  const errors: FieldError[] = result.issues.map((issue) => {
    const field = v.getDotPath(issue) ?? undefined;
    const missing = issue.input === undefined && issue.kind === "schema";
    return {
      resource,
      ...(field ? { field } : {}),
      code: missing ? "missing_field" : "invalid",
      message: field ? `${field}: ${issue.message}` : issue.message,
    };
  });
  throw validationFailed(errors);
}

export { ApiError };
