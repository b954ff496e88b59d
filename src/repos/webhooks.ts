/**
 * Webhooks as GitHub posts them, for every route that receives one (the relay's ingest
 * URL and Akkeris' auto-build callback): the size GitHub allows and the body's two forms.
 */

import { parseJsonText } from "../http/body";
import { badRequest } from "../http/errors";

/** GitHub caps webhook payloads at 25 MB. */
export const INGEST_BODY_LIMIT = 25 * 1024 * 1024;

/** The payload's JSON text (the raw body, or a form body's `payload` field) and its parse. */
export function readPayload(request: Request, body: Uint8Array): { text: string; parsed: object } {
  const text = new TextDecoder().decode(body);
  const type = request.headers.get("content-type") ?? "";
  const json = type.includes("application/x-www-form-urlencoded") ? new URLSearchParams(text).get("payload") : text;
  if (json === null) throw badRequest("Form body has no payload field");
  const parsed = parseJsonText(json);
  if (typeof parsed !== "object" || parsed === null) throw badRequest("Payload should be a JSON object");
  return { text: json, parsed };
}
