/**
 * Endpoint health rules: pure functions of a subscription's counters and the config, so
 * they are easy to read and test. health.ts applies them; docs/lifecycle.md draws them.
 */
import type { Config } from "../env";

export type HealthState = "healthy" | "failing" | "circuit_open" | "disabled";

export function circuitOpen(cfg: Config, consecutiveFailures: number): boolean {
  return cfg.circuitOpenAfterFailures > 0 && consecutiveFailures >= cfg.circuitOpenAfterFailures;
}

export function healthState(cfg: Config, sub: { active: boolean; consecutiveFailures: number }): HealthState {
  if (!sub.active) return "disabled";
  if (circuitOpen(cfg, sub.consecutiveFailures)) return "circuit_open";
  return sub.consecutiveFailures > 0 ? "failing" : "healthy";
}

/** The SQL condition for a health state, on `subscriptions` aliased `s`; `?T` is the threshold. */
export function healthCondition(state: HealthState, threshold: string): string {
  const open = `(${threshold} > 0 AND s.consecutive_failures >= ${threshold})`;
  switch (state) {
    case "disabled":
      return "s.active = 0";
    case "circuit_open":
      return `s.active = 1 AND ${open}`;
    case "failing":
      return `s.active = 1 AND s.consecutive_failures > 0 AND NOT ${open}`;
    case "healthy":
      return "s.active = 1 AND s.consecutive_failures = 0";
  }
}

/**
 * The reason a failed attempt at `now` deactivates its subscription, or null: only when it
 * has been failing (no success) for at least `autoDisableAfterDays`.
 */
export function autoDisableReason(
  cfg: Config,
  failingSince: string | null,
  now: number,
  lastStatus: string,
): string | null {
  if (cfg.autoDisableAfterDays <= 0 || failingSince === null) return null;
  const since = Date.parse(failingSince);
  if (Number.isNaN(since) || now - since < cfg.autoDisableAfterDays * 86_400_000) return null;
  return `no successful delivery for ${cfg.autoDisableAfterDays} days: every attempt since ${failingSince} failed (last: ${lastStatus}); the subscription was disabled`;
}

export function goneReason(at: string): string {
  return `the receiver answered 410 Gone at ${at}; the subscription was disabled`;
}
