/** The cron sweep: re-enqueues pending deliveries whose messages were lost. */

import { config, type Env } from "../env";
import { sweepStaleDeliveries } from "./deliveries";

export async function sweep(env: Env): Promise<number> {
  const ids = await sweepStaleDeliveries(env, config(env).sweepStaleAfterSeconds);
  if (ids.length > 0) console.warn(`sweep re-enqueued ${ids.length} stale deliveries`);
  return ids.length;
}
