import { notFound } from "./errors";

/** Numeric ids only; anything else cannot exist, so it is a 404 rather than a 500. */
export function numericId(raw: string | undefined): number {
  const id = Number(raw);
  if (!Number.isSafeInteger(id) || id <= 0) throw notFound();
  return id;
}
