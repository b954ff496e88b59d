/**
 * The re-seal job of a SECRETS_KEY rotation. While SECRETS_KEY_PREVIOUS is set, each
 * scheduled run moves sealed secrets that are not under SECRETS_KEY yet (`v1.` rows, and
 * `v2.` rows under the previous key) to SECRETS_KEY, at most `limit` rows per column per
 * run. It is resumable by construction: it only ever selects rows not under the current
 * key, so a run that stops anywhere leaves the rest for the next one. Once a run finds
 * nothing left, it logs `"complete":true` and SECRETS_KEY_PREVIOUS can be removed (until
 * then every run scans the columns for what is left, so remove it).
 *
 * The relay does not know every table that holds a sealed secret (dialects keep their own):
 * the caller passes the list (src/app.ts gathers it).
 */
import type { Env } from "../env";
import { currentKeyId, decryptSecret, encryptSecret, sealedUnder } from "./crypto";

/** A column of sealed secrets: the table, its primary key, the column. */
export interface SealedColumn {
  table: string;
  idColumn: string;
  column: string;
}

export interface ResealReport {
  kid: string;
  resealed: number;
  /** Rows no configured key opens: they stay as they are and are named in the log. */
  unreadable: number;
  /** Whether no row that could be re-sealed is left. */
  complete: boolean;
}

/** Rows examined per column per run, besides `limit` re-sealed: unreadable rows cannot stall it. */
const EXAMINE_FACTOR = 5;
const IDENTIFIER = /^[a-z_][a-z0-9_]*$/;

export async function resealSecrets(
  env: Env,
  columns: readonly SealedColumn[],
  limit = 200,
): Promise<ResealReport | null> {
  if (!env.SECRETS_KEY_PREVIOUS?.trim()) return null;
  let kid: string;
  try {
    kid = await currentKeyId(env);
  } catch (error) {
    const problem = error instanceof Error ? error.message : String(error);
    console.error(JSON.stringify({ msg: "secrets.reseal", skipped: problem }));
    return null;
  }
  const report: ResealReport = { kid, resealed: 0, unreadable: 0, complete: true };
  for (const sealed of columns) {
    let result: Awaited<ReturnType<typeof resealColumn>>;
    try {
      result = await resealColumn(env, sealed, kid, limit);
    } catch (error) {
      // D1 trouble: this column waits for the next run; the others go on.
      console.error(JSON.stringify({ msg: "secrets.reseal.error", table: sealed.table, error: String(error) }));
      report.complete = false;
      continue;
    }
    report.resealed += result.resealed;
    report.unreadable += result.unreadable.length;
    if (!result.complete) report.complete = false;
    if (result.resealed > 0 || result.unreadable.length > 0) {
      console.log(
        JSON.stringify({
          msg: "secrets.reseal.column",
          table: sealed.table,
          column: sealed.column,
          kid,
          resealed: result.resealed,
          // Ids only: never a sealed value, never a secret.
          unreadable_ids: result.unreadable.slice(0, 20),
          complete: result.complete,
        }),
      );
    }
  }
  console.log(JSON.stringify({ msg: "secrets.reseal", ...report }));
  return report;
}

async function resealColumn(
  env: Env,
  { table, idColumn, column }: SealedColumn,
  kid: string,
  limit: number,
): Promise<{ resealed: number; unreadable: (string | number)[]; complete: boolean }> {
  for (const name of [table, idColumn, column]) {
    if (!IDENTIFIER.test(name)) throw new Error(`not a column name: ${name}`);
  }
  const select = env.DB.prepare(
    `SELECT ${idColumn} AS id, ${column} AS sealed FROM ${table}
     WHERE ${column} IS NOT NULL AND ${column} NOT LIKE ?1 AND (?2 IS NULL OR ${idColumn} > ?2)
     ORDER BY ${idColumn} LIMIT ?3`,
  );
  // Only where the row still holds what was read: a secret changed meanwhile is left as written.
  const update = env.DB.prepare(`UPDATE ${table} SET ${column} = ?1 WHERE ${idColumn} = ?2 AND ${column} = ?3`);

  let resealed = 0;
  let examined = 0;
  let cursor: string | number | null = null;
  const unreadable: (string | number)[] = [];
  while (resealed < limit && examined < limit * EXAMINE_FACTOR) {
    const { results }: D1Result<{ id: string | number; sealed: string }> = await select
      .bind(`v2.${kid}.%`, cursor, limit - resealed)
      .all();
    if (results.length === 0) return { resealed, unreadable, complete: true };
    examined += results.length;
    const writes: D1PreparedStatement[] = [];
    for (const row of results) {
      cursor = row.id;
      if (sealedUnder(row.sealed, kid)) continue;
      try {
        const plain = await decryptSecret(env, row.sealed);
        writes.push(update.bind(await encryptSecret(env, plain), row.id, row.sealed));
      } catch {
        unreadable.push(row.id);
      }
    }
    if (writes.length > 0) await env.DB.batch(writes);
    resealed += writes.length;
  }
  return { resealed, unreadable, complete: false };
}
