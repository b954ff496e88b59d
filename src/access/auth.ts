/**
 * Authentication: turns an Authorization header into a Principal, and the API-token
 * store behind it. Tokens are random, so a plain SHA-256 is a safe lookup key: the
 * database never holds a usable token, and lookup by hash reveals nothing by timing.
 */
import type { Env } from "../env";
import { unauthorized } from "../http/errors";
import { nowIso } from "../storage/db";
import { randomToken, sha256Hex, timingSafeEqualStrings } from "../relay/crypto";
import type { Principal } from "./policy";

export const ADMIN_LOGIN = "admin";
const TOKEN_PREFIX = "hr_";

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

interface TokenRow {
  login: string;
  can_write: number;
  owners: string | null;
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

export interface ApiToken {
  id: number;
  login: string;
  write: boolean;
  owners: string[] | null;
  created_at: string;
}

interface ApiTokenRow extends TokenRow {
  id: number;
  created_at: string;
}

function toApiToken(row: ApiTokenRow): ApiToken {
  return {
    id: row.id,
    login: row.login,
    write: row.can_write === 1,
    owners: row.owners ? (JSON.parse(row.owners) as string[]) : null,
    created_at: row.created_at,
  };
}

/** Mints a token. The plain token is returned here once and never stored. */
export async function mintToken(
  env: Env,
  input: { login: string; write: boolean; owners?: string[] | undefined },
): Promise<ApiToken & { token: string }> {
  const token = `${TOKEN_PREFIX}${randomToken(24)}`;
  const owners = input.owners ? JSON.stringify([...new Set(input.owners.map((o) => o.toLowerCase()))]) : null;
  const row = await env.DB.prepare(
    `INSERT INTO api_tokens (login, token_hash, can_write, owners, created_at)
     VALUES (?, ?, ?, ?, ?) RETURNING id, login, can_write, owners, created_at`,
  )
    .bind(input.login, await sha256Hex(token), input.write ? 1 : 0, owners, nowIso())
    .first<ApiTokenRow>();
  return { ...toApiToken(row as ApiTokenRow), token };
}

export async function listTokens(env: Env): Promise<ApiToken[]> {
  const { results } = await env.DB.prepare(
    "SELECT id, login, can_write, owners, created_at FROM api_tokens ORDER BY id",
  ).all<ApiTokenRow>();
  return results.map(toApiToken);
}

export async function revokeToken(env: Env, id: number): Promise<boolean> {
  const result = await env.DB.prepare("DELETE FROM api_tokens WHERE id = ?").bind(id).run();
  return result.meta.changes > 0;
}
