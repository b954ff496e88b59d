/**
 * The cron sweep: re-enqueues pending deliveries whose messages were lost, and queues the
 * probe of an open circuit whose probe message was lost.
 */

import { config, type Env } from "../env";
import { sweepStaleDeliveries } from "./deliveries";
import { rearmStalledProbes } from "./health";

export async function sweep(env: Env): Promise<number> {
  const cfg = config(env);
  const ids = await sweepStaleDeliveries(env, cfg.sweepStaleAfterSeconds, cfg.circuitOpenAfterFailures);
  if (ids.length > 0) console.warn(`sweep re-enqueued ${ids.length} stale deliveries`);
  const probes = await rearmStalledProbes(env, cfg, cfg.sweepStaleAfterSeconds);
  if (probes > 0) console.warn(`sweep queued ${probes} stalled circuit probes`);
  return ids.length;
}
