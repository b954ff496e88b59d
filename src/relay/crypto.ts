/**
 * Primitive crypto shared by auth and signing. Everything is WebCrypto; keys are
 * imported once per isolate and cached, since importKey is the costly part of an HMAC.
 */
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

// ---- Secrets at rest: AES-256-GCM under SECRETS_KEY, stored as "v1.<iv>.<ciphertext>". ----

const aesKeys = new Map<string, Promise<CryptoKey>>();

function aesKey(base64Key: string): Promise<CryptoKey> {
  let key = aesKeys.get(base64Key);
  if (!key) {
    key = (async () => {
      let raw: Uint8Array;
      try {
        raw = fromBase64(base64Key);
      } catch {
        raw = new Uint8Array();
      }
      // A key that is not 32 base64 bytes is still usable: stretch it, so a hand-set
      // passphrase works, but never silently store secrets unencrypted.
      if (raw.length !== 32) raw = new Uint8Array(await crypto.subtle.digest("SHA-256", utf8(base64Key)));
      return crypto.subtle.importKey("raw", raw, "AES-GCM", false, ["encrypt", "decrypt"]);
    })();
    aesKeys.set(base64Key, key);
  }
  return key;
}

function requireKey(base64Key: string | undefined): string {
  if (!base64Key) throw new Error("SECRETS_KEY is not set: hook secrets cannot be stored");
  return base64Key;
}

export async function encryptSecret(base64Key: string | undefined, secret: string): Promise<string> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const sealed = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv },
    await aesKey(requireKey(base64Key)),
    utf8(secret),
  );
  return `v1.${toBase64(iv)}.${toBase64(sealed)}`;
}

export async function decryptSecret(base64Key: string | undefined, stored: string): Promise<string> {
  const [version, iv, sealed] = stored.split(".");
  if (version !== "v1" || !iv || !sealed) throw new Error("unreadable stored secret");
  const plain = await crypto.subtle.decrypt(
    { name: "AES-GCM", iv: fromBase64(iv) },
    await aesKey(requireKey(base64Key)),
    fromBase64(sealed),
  );
  return new TextDecoder().decode(plain);
}
