/**
 * Build policy for auto builds: pure rules, so they read plainly and test without storage.
 *
 * A build is `queued` when the relay accepts a push, then the external builder reports
 * `building`, then `succeeded` or `failed`. Finished builds never change again.
 */
export type BuildStatus = "queued" | "building" | "succeeded" | "failed";

// Types, not interfaces: SqlStorage rows need an implicit index signature.
export type BuildRow = {
  id: string;
  status: BuildStatus;
  commit_sha: string;
  branch: string;
  repo: string;
  author: string;
  message: string;
  image: string | null;
  reason: string | null;
  created_at: string;
  updated_at: string;
};

const NEXT: Record<BuildStatus, readonly BuildStatus[]> = {
  queued: ["building", "succeeded", "failed"],
  building: ["succeeded", "failed"],
  succeeded: [],
  failed: [],
};

export function canTransition(from: BuildStatus, to: BuildStatus): boolean {
  return NEXT[from].includes(to);
}

/** Where a commit's checks stand: every reported check must succeed; none reported means wait. */
export type ChecksVerdict = { kind: "waiting" } | { kind: "passed" } | { kind: "failed"; reason: string };

export type CheckState = "success" | "pending" | "failure";

export function checksVerdict(checks: { context: string; state: CheckState }[]): ChecksVerdict {
  const failed = checks.filter((check) => check.state === "failure");
  if (failed.length > 0) {
    return { kind: "failed", reason: `status check failed: ${failed.map((c) => c.context).join(", ")}` };
  }
  if (checks.length === 0 || checks.some((check) => check.state === "pending")) return { kind: "waiting" };
  return { kind: "passed" };
}

/** A commit status state (`status` event) as a check state. */
export function commitStatusCheck(state: string): CheckState {
  if (state === "success") return "success";
  if (state === "pending") return "pending";
  return "failure";
}

/**
 * A check suite (`check_suite` event) as a check state: unfinished suites are pending;
 * finished ones pass on success, neutral or skipped, and fail on anything else.
 */
export function checkSuiteCheck(status: string | undefined, conclusion: string | null | undefined): CheckState {
  if (status !== "completed") return "pending";
  return conclusion === "success" || conclusion === "neutral" || conclusion === "skipped" ? "success" : "failure";
}
