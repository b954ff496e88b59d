/**
 * Event payloads at rest. D1 caps a row at about 2 MB while GitHub sends up to 25 MB, so
 * a big payload is stored in ordered parts beside its event, and read back as one text.
 */
import type { Env } from "../env";

/** Parts stay well below D1's row and statement limits. */
export const PAYLOAD_PART_CHARS = 512 * 1024;

/**
 * The statements that store a payload's parts, or none when it fits the event row. Each
 * is guarded by the event's existence, so a duplicate event (whose insert did nothing)
 * stores no parts.
 */
export function payloadParts(env: Env, eventId: string, payload: string): D1PreparedStatement[] {
  if (payload.length <= PAYLOAD_PART_CHARS) return [];
  const statements: D1PreparedStatement[] = [];
  for (let part = 0; part * PAYLOAD_PART_CHARS < payload.length; part++) {
    const data = payload.slice(part * PAYLOAD_PART_CHARS, (part + 1) * PAYLOAD_PART_CHARS);
    statements.push(
      env.DB.prepare(
        "INSERT INTO event_payload_parts (event_id, part, data) SELECT ?1, ?2, ?3 WHERE EXISTS (SELECT 1 FROM events WHERE id = ?1)",
      ).bind(eventId, part, data),
    );
  }
  return statements;
}

/** The payload's JSON text, reassembled from its parts when it was split. */
export async function loadPayload(env: Env, eventId: string, inline: string | null): Promise<string> {
  if (inline !== null) return inline;
  const { results } = await env.DB.prepare("SELECT data FROM event_payload_parts WHERE event_id = ? ORDER BY part")
    .bind(eventId)
    .all<{ data: string }>();
  return results.map((row) => row.data).join("");
}
