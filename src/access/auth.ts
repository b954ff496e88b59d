/**
 * Authentication: turns an Authorization header into a Principal. API tokens are looked
 * up by their SHA-256 (see tokens.ts); ADMIN_TOKEN is compared in constant time.
 */
import type { Env } from "../env";
import { ApiError, unauthorized } from "../http/errors";
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

/** What is wrong with ADMIN_TOKEN, or null. */
export function adminTokenProblem(env: Env): string | null {
  return env.ADMIN_TOKEN?.trim()
    ? null
    : "ADMIN_TOKEN is not set: no one can mint or manage API tokens. Set it with `wrangler secret put ADMIN_TOKEN` (npm start writes one to .dev.vars).";
}

/** For routes only the admin can use: a 503 naming the setting while ADMIN_TOKEN is missing. */
export function requireAdminToken(_request: Request, env: Env): undefined {
  const problem = adminTokenProblem(env);
  if (problem) throw new ApiError(503, problem);
  return undefined;
}

/** Without ADMIN_TOKEN an unknown credential may well be the admin's: say what is wrong. */
function unknownCredential(env: Env): ApiError {
  const problem = adminTokenProblem(env);
  return problem ? new ApiError(503, problem) : unauthorized();
}

export async function authenticate(request: Request, env: Env): Promise<Principal> {
  const credential = credentialFrom(request);
  if (!credential) throw unauthorized();
  if (env.ADMIN_TOKEN && (await timingSafeEqualStrings(credential, env.ADMIN_TOKEN))) {
    return { login: ADMIN_LOGIN, admin: true, canWrite: true, owners: null };
  }
  if (!credential.startsWith(TOKEN_PREFIX)) throw unknownCredential(env);
  const row = await env.DB.prepare("SELECT login, can_write, owners FROM api_tokens WHERE token_hash = ?")
    .bind(await sha256Hex(credential))
    .first<TokenRow>();
  if (!row) throw unknownCredential(env);
  return {
    login: row.login,
    admin: false,
    canWrite: row.can_write === 1,
    owners: row.owners ? (JSON.parse(row.owners) as string[]) : null,
  };
}
