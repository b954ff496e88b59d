/**
 * Primitive crypto shared by auth and signing. Everything is WebCrypto; keys are
 * imported once per isolate and cached, since importKey is the costly part of an HMAC.
 */
import { ApiError } from "../http/errors";

const encoder = new TextEncoder();

export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}

export function toHex(bytes: ArrayBuffer | Uint8Array): string {
  const view = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  let hex = "";
  for (const byte of view) hex += byte.toString(16).padStart(2, "0");
  return hex;
}

export function fromHex(hex: string): Uint8Array | null {
  if (hex.length % 2 !== 0 || !/^[0-9a-f]*$/i.test(hex)) return null;
  const bytes = new Uint8Array(hex.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return bytes;
}

export function toBase64(bytes: ArrayBuffer | Uint8Array): string {
  const view = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  let binary = "";
  for (const byte of view) binary += String.fromCharCode(byte);
  return btoa(binary);
}

export function fromBase64(text: string): Uint8Array {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

export function randomToken(bytes = 24): string {
  return toBase64(crypto.getRandomValues(new Uint8Array(bytes)))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "");
}

export async function sha256Hex(text: string): Promise<string> {
  return toHex(await crypto.subtle.digest("SHA-256", utf8(text)));
}

/** Constant-time string comparison: both sides are hashed first so lengths never leak. */
export async function timingSafeEqualStrings(a: string, b: string): Promise<boolean> {
  const [da, db] = await Promise.all([
    crypto.subtle.digest("SHA-256", utf8(a)),
    crypto.subtle.digest("SHA-256", utf8(b)),
  ]);
  return crypto.subtle.timingSafeEqual(da, db);
}

type HmacHash = "SHA-1" | "SHA-256";
const hmacKeys = new Map<string, Promise<CryptoKey>>();
const HMAC_KEY_CACHE_LIMIT = 1000;

/** An HMAC key for a secret, cached per isolate (bounded, oldest evicted first). */
export function hmacKey(secret: string | Uint8Array, hash: HmacHash): Promise<CryptoKey> {
  const cacheKey = `${hash}:${typeof secret === "string" ? secret : toHex(secret)}`;
  let key = hmacKeys.get(cacheKey);
  if (!key) {
    const raw = typeof secret === "string" ? utf8(secret) : secret;
    key = crypto.subtle.importKey("raw", raw, { name: "HMAC", hash }, false, ["sign", "verify"]);
    if (hmacKeys.size >= HMAC_KEY_CACHE_LIMIT) {
      const oldest = hmacKeys.keys().next().value;
      if (oldest !== undefined) hmacKeys.delete(oldest);
    }
    hmacKeys.set(cacheKey, key);
  }
  return key;
}

export async function hmac(secret: string | Uint8Array, hash: HmacHash, data: Uint8Array): Promise<ArrayBuffer> {
  return crypto.subtle.sign("HMAC", await hmacKey(secret, hash), data);
}

/** Verifies an HMAC in constant time (crypto.subtle.verify compares internally). */
export async function hmacVerify(
  secret: string,
  hash: HmacHash,
  signature: Uint8Array,
  data: Uint8Array,
): Promise<boolean> {
  return crypto.subtle.verify("HMAC", await hmacKey(secret, hash), signature, data);
}

// ---- Secrets at rest ----
//
// Sealed with AES-256-GCM and stored as `v2.<kid>.<iv>.<ciphertext>`, where kid is the first
// 8 hex characters of SHA-256 over the raw key, so a row names the key it needs. Rows
// written before key ids are `v1.<iv>.<ciphertext>`: they are tried under every key known.
// SECRETS_KEY seals and opens; SECRETS_KEY_PREVIOUS only opens, during a rotation, until the
// re-seal job (reseal.ts) has moved every row to SECRETS_KEY.

/** The settings secrets at rest depend on. */
export interface SecretsKeyEnv {
  SECRETS_KEY?: string;
  SECRETS_KEY_PREVIOUS?: string;
}

const KEY_RULE = "32 random bytes, base64 (openssl rand -base64 32)";
const STRICT_KEY = /^[A-Za-z0-9+/]{43}=?$/;

/**
 * What is wrong with SECRETS_KEY, or null. The rule: standard base64 of exactly 32 bytes
 * (44 characters ending in `=`, which may be left off); whitespace around it is ignored.
 * Anything else is refused rather than stretched into a key, so a typo or a truncated paste
 * is caught before a secret is sealed under it.
 */
export function secretsKeyProblem(value: string | undefined): string | null {
  if (value === undefined || value.trim() === "") {
    return `SECRETS_KEY is not set: hook, ingest and auto-build secrets can be neither sealed nor read. Set it to ${KEY_RULE}.`;
  }
  if (!STRICT_KEY.test(value.trim())) {
    let found: string;
    try {
      found = `decodes to ${fromBase64(value.trim()).length} bytes`;
    } catch {
      found = "is not base64";
    }
    return `SECRETS_KEY is malformed: it must be ${KEY_RULE}, one line of 44 characters; the value set ${found}.`;
  }
  return null;
}

/** A misconfiguration, in every dialect's error shape: 503, naming the setting. */
const misconfigured = (message: string) => new ApiError(503, message);

interface SealingKey {
  kid: string;
  key: CryptoKey;
}

interface KeyRing {
  current: SealingKey;
  previous: SealingKey | null;
}

async function sealingKey(raw: Uint8Array): Promise<SealingKey> {
  const kid = toHex(await crypto.subtle.digest("SHA-256", raw)).slice(0, 8);
  return { kid, key: await crypto.subtle.importKey("raw", raw, "AES-GCM", false, ["encrypt", "decrypt"]) };
}

/**
 * SECRETS_KEY_PREVIOUS may also be a key from before this rule, which hookrelay used to
 * stretch with SHA-256 when it was not 32 base64 bytes: it is derived the same way here, so
 * what was sealed under it can still be read and re-sealed under a proper SECRETS_KEY.
 */
async function previousKeyBytes(value: string): Promise<Uint8Array> {
  let raw: Uint8Array;
  try {
    raw = fromBase64(value);
  } catch {
    raw = new Uint8Array();
  }
  return raw.length === 32 ? raw : new Uint8Array(await crypto.subtle.digest("SHA-256", utf8(value)));
}

const keyRings = new Map<string, Promise<KeyRing>>();

/** The keys in force, imported once per isolate; a 503 ApiError when SECRETS_KEY is unusable. */
function keyRing(env: SecretsKeyEnv): Promise<KeyRing> {
  const problem = secretsKeyProblem(env.SECRETS_KEY);
  if (problem) return Promise.reject(misconfigured(problem));
  const current = (env.SECRETS_KEY as string).trim();
  const previous = env.SECRETS_KEY_PREVIOUS?.trim() || null;
  const cacheKey = `${current}\n${previous ?? ""}`;
  let ring = keyRings.get(cacheKey);
  if (!ring) {
    ring = (async () => ({
      current: await sealingKey(fromBase64(current)),
      previous: previous ? await sealingKey(await previousKeyBytes(previous)) : null,
    }))();
    if (keyRings.size >= 16) keyRings.clear();
    keyRings.set(cacheKey, ring);
  }
  return ring;
}

/** The key id secrets are sealed under now; throws the 503 when SECRETS_KEY is unusable. */
export async function currentKeyId(env: SecretsKeyEnv): Promise<string> {
  return (await keyRing(env)).current.kid;
}

/** Throws the 503 unless secrets can be sealed: for callers that must know before acting. */
export async function assertCanSeal(env: SecretsKeyEnv): Promise<void> {
  await keyRing(env);
}

export async function encryptSecret(env: SecretsKeyEnv, secret: string): Promise<string> {
  const { current } = await keyRing(env);
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const sealed = await crypto.subtle.encrypt({ name: "AES-GCM", iv }, current.key, utf8(secret));
  return `v2.${current.kid}.${toBase64(iv)}.${toBase64(sealed)}`;
}

async function open(key: CryptoKey, iv: string, sealed: string): Promise<string | null> {
  try {
    const plain = await crypto.subtle.decrypt({ name: "AES-GCM", iv: fromBase64(iv) }, key, fromBase64(sealed));
    return new TextDecoder().decode(plain);
  } catch {
    return null;
  }
}

/**
 * Opens a sealed secret with whichever key it was sealed under. A secret no configured key
 * opens is a misconfiguration (503 naming the key it needs), never a silent failure.
 */
export async function decryptSecret(env: SecretsKeyEnv, stored: string): Promise<string> {
  const ring = await keyRing(env);
  const keys = [ring.current, ...(ring.previous ? [ring.previous] : [])];
  const known = keys.map((k) => k.kid).join(", ");
  const parts = stored.split(".");
  if (parts[0] === "v2" && parts.length === 4) {
    const [, kid, iv = "", sealed = ""] = parts;
    const key = keys.find((k) => k.kid === kid);
    if (!key) {
      throw misconfigured(
        `A stored secret is sealed under key ${kid}, which is neither SECRETS_KEY nor SECRETS_KEY_PREVIOUS (keys in force: ${known}). Set SECRETS_KEY_PREVIOUS to the key it was sealed under.`,
      );
    }
    const plain = await open(key.key, iv, sealed);
    if (plain === null) throw misconfigured(`A stored secret sealed under key ${kid} is damaged and cannot be opened.`);
    return plain;
  }
  if (parts[0] === "v1" && parts.length === 3) {
    const [, iv = "", sealed = ""] = parts;
    for (const key of keys) {
      const plain = await open(key.key, iv, sealed);
      if (plain !== null) return plain;
    }
    throw misconfigured(
      `A stored secret (sealed before key ids) opens under neither SECRETS_KEY nor SECRETS_KEY_PREVIOUS (keys in force: ${known}). Set SECRETS_KEY_PREVIOUS to the key it was sealed under.`,
    );
  }
  throw misconfigured("A stored secret is in no format this relay knows and cannot be opened.");
}

/** Whether a sealed value is already under the key with this id. */
export const sealedUnder = (stored: string, kid: string): boolean => stored.startsWith(`v2.${kid}.`);
