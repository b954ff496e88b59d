/** Small helpers shared by every D1 store (relay, access, repos and the dialects). */

export function nowIso(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
}

/**
 * A UUID v4 built inside SQLite, for rows made by INSERT ... SELECT where JavaScript
 * never sees each row before it is written.
 */
export const SQL_UUID = `lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4' ||
  substr(lower(hex(randomblob(2))), 2) || '-' || substr('89ab', 1 + (abs(random()) % 4), 1) ||
  substr(lower(hex(randomblob(2))), 2) || '-' || lower(hex(randomblob(6)))`;

export function parseJsonColumn<T>(value: string | null, fallback: T): T {
  if (value === null) return fallback;
  try {
    return JSON.parse(value) as T;
  } catch {
    return fallback;
  }
}

/** True when a D1 error is a UNIQUE constraint violation (a duplicate, not a fault). */
export function isUniqueViolation(error: unknown): boolean {
  return error instanceof Error && /UNIQUE constraint failed/i.test(error.message);
}

/**
 * Reserves `count` consecutive ids from a named sequence and returns the first. Used where
 * a row's id must go into an event payload written in the same transaction as the row.
 */
export async function reserveIds(db: D1Database, name: string, count = 1): Promise<number> {
  const row = await db
    .prepare(
      `INSERT INTO sequences (name, value) VALUES (?1, ?2)
       ON CONFLICT (name) DO UPDATE SET value = value + ?2 RETURNING value`,
    )
    .bind(name, count)
    .first<{ value: number }>();
  if (!row) throw new Error(`sequence ${name} returned nothing`);
  return row.value - count + 1;
}

/**
 * One page of rows and the total count, in one round trip. `from` is everything after
 * SELECT ... (table, WHERE); `order` orders the page.
 */
export async function pagedSelect<Row>(
  db: D1Database,
  from: string,
  params: unknown[],
  order: string,
  page: { limit: number; offset: number },
): Promise<{ items: Row[]; total: number }> {
  const [rows, count] = await db.batch([
    db.prepare(`SELECT * FROM ${from} ORDER BY ${order} LIMIT ? OFFSET ?`).bind(...params, page.limit, page.offset),
    db.prepare(`SELECT count(*) AS total FROM ${from}`).bind(...params),
  ]);
  return {
    items: (rows?.results ?? []) as Row[],
    total: (count?.results[0] as { total: number } | undefined)?.total ?? 0,
  };
}
