/** Small helpers shared by the D1 stores in src/core. */

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
