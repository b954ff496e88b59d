/**
 * Authentication: turns an Authorization header into a Principal. API tokens are looked
 * up by their SHA-256 (see tokens.ts); ADMIN_TOKEN is compared in constant time.
 */
import type { Env } from "../env";
import { unauthorized } from "../http/errors";
import { sha256Hex, timingSafeEqualStrings } from "../relay/crypto";
import type { Principal } from "./policy";
import { TOKEN_PREFIX, type TokenRow } from "./tokens";

export const ADMIN_LOGIN = "admin";

/** Accepts `token T`, `Bearer T`, and Basic auth with T as the password (as curl -u sends). */
export function credentialFrom(request: Request): string | null {
  const header = request.headers.get("authorization");
  if (!header) return null;
  const space = header.indexOf(" ");
  if (space < 0) return null;
  const scheme = header.slice(0, space).toLowerCase();
  const value = header.slice(space + 1).trim();
  if (scheme === "token" || scheme === "bearer") return value || null;
  if (scheme === "basic") {
    try {
      const decoded = atob(value);
      const colon = decoded.indexOf(":");
      return colon >= 0 ? decoded.slice(colon + 1) || null : null;
    } catch {
      return null;
    }
  }
  return null;
}

export async function authenticate(request: Request, env: Env): Promise<Principal> {
  const credential = credentialFrom(request);
  if (!credential) throw unauthorized();
  if (env.ADMIN_TOKEN && (await timingSafeEqualStrings(credential, env.ADMIN_TOKEN))) {
    return { login: ADMIN_LOGIN, admin: true, canWrite: true, owners: null };
  }
  if (!credential.startsWith(TOKEN_PREFIX)) throw unauthorized();
  const row = await env.DB.prepare("SELECT login, can_write, owners FROM api_tokens WHERE token_hash = ?")
    .bind(await sha256Hex(credential))
    .first<TokenRow>();
  if (!row) throw unauthorized();
  return {
    login: row.login,
    admin: false,
    canWrite: row.can_write === 1,
    owners: row.owners ? (JSON.parse(row.owners) as string[]) : null,
  };
}
