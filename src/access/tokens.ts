/**
 * The API-token store. Tokens are random, so a plain SHA-256 is a safe lookup key: the
 * database never holds a usable token, and lookup by hash reveals nothing by timing.
 */
import type { Env } from "../env";
import { randomToken, sha256Hex } from "../relay/crypto";
import { nowIso } from "../storage/db";

export const TOKEN_PREFIX = "hr_";

export interface TokenRow {
  login: string;
  can_write: number;
  owners: string | null;
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
