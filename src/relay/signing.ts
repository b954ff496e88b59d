/**
 * The one signing module: what a receiver checks on every delivery, and what the
 * relay checks on every inbound GitHub webhook.
 *
 * Outbound, with a secret:
 *   X-Hub-Signature:     sha1=<hex HMAC-SHA1(secret, body)>
 *   X-Hub-Signature-256: sha256=<hex HMAC-SHA256(secret, body)>
 *   webhook-signature:   v1,<base64 HMAC-SHA256(secret bytes, "<webhook-id>.<webhook-timestamp>.<body>")>
 * and always `webhook-id` (stable across retries and redeliveries) and `webhook-timestamp`.
 * Standard Webhooks receivers verify with `new Webhook(secret, { format: "raw" })`.
 */
import { fromHex, hmac, hmacVerify, toBase64, toHex, utf8 } from "./crypto";

export interface SignatureInput {
  /** Stable delivery id: the same on every attempt and redelivery. */
  id: string;
  body: Uint8Array;
  secret: string | null;
  /** Unix seconds of this attempt. */
  timestamp: number;
}

export async function signatureHeaders({
  id,
  body,
  secret,
  timestamp,
}: SignatureInput): Promise<Record<string, string>> {
  const headers: Record<string, string> = {
    "webhook-id": id,
    "webhook-timestamp": String(timestamp),
  };
  if (!secret) return headers;
  const standardInput = concat(utf8(`${id}.${timestamp}.`), body);
  const [sha1, sha256, standard] = await Promise.all([
    hmac(secret, "SHA-1", body),
    hmac(secret, "SHA-256", body),
    hmac(secret, "SHA-256", standardInput),
  ]);
  headers["x-hub-signature"] = `sha1=${toHex(sha1)}`;
  headers["x-hub-signature-256"] = `sha256=${toHex(sha256)}`;
  headers["webhook-signature"] = `v1,${toBase64(standard)}`;
  return headers;
}

/**
 * Checks a GitHub-style signature: `X-Hub-Signature-256` when present, else the sha1
 * `X-Hub-Signature`. Comparison happens inside crypto.subtle.verify, in constant time.
 */
export async function verifyHubSignature(headers: Headers, body: Uint8Array, secret: string): Promise<boolean> {
  const sha256 = headers.get("x-hub-signature-256");
  if (sha256) return verifyPrefixed(sha256, "sha256=", "SHA-256", body, secret);
  const sha1 = headers.get("x-hub-signature");
  if (sha1) return verifyPrefixed(sha1, "sha1=", "SHA-1", body, secret);
  return false;
}

async function verifyPrefixed(
  header: string,
  prefix: string,
  hash: "SHA-1" | "SHA-256",
  body: Uint8Array,
  secret: string,
): Promise<boolean> {
  if (!header.startsWith(prefix)) return false;
  const signature = fromHex(header.slice(prefix.length));
  return signature !== null && hmacVerify(secret, hash, signature, body);
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const joined = new Uint8Array(a.byteLength + b.byteLength);
  joined.set(a, 0);
  joined.set(b, a.byteLength);
  return joined;
}
