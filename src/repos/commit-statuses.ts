/** Commit statuses: what CI reports per sha and context, and the combined state. */

import type { Env } from "../env";
import { publish } from "../relay/events";
import { nowIso, pagedSelect, reserveIds } from "../storage/db";
import { renderRepository, renderUser } from "./shapes";
import type { CommitState, CommitStatusRow, RepoScope } from "./types";

export interface NewCommitStatus {
  state: CommitState;
  context: string;
  description: string | null;
  targetUrl: string | null;
}

/** Records a status and publishes GitHub's `status` event with it, in one transaction. */
export async function createCommitStatus(
  env: Env,
  scope: RepoScope,
  sha: string,
  input: NewCommitStatus,
): Promise<CommitStatusRow> {
  const now = nowIso();
  const row: CommitStatusRow = {
    id: await reserveIds(env.DB, "commit_statuses"),
    subject: scope.subject,
    sha,
    state: input.state,
    context: input.context,
    description: input.description,
    target_url: input.targetUrl,
    creator: scope.login,
    created_at: now,
    updated_at: now,
  };
  const payload = {
    id: row.id,
    sha,
    name: scope.repository.fullName,
    target_url: row.target_url,
    avatar_url: null,
    context: row.context,
    description: row.description,
    state: row.state,
    commit: { sha, url: `${scope.urls.apiBase}/commits/${sha}` },
    branches: [],
    created_at: now,
    updated_at: now,
    repository: renderRepository(scope.repository, scope.urls.origin),
    sender: renderUser(scope.login, scope.urls.origin),
  };
  await publish(
    env,
    {
      type: "status",
      subjectType: "repository",
      subject: scope.subject,
      source: "hookrelay",
      payload: JSON.stringify(payload),
    },
    {
      alongside: () => [
        env.DB.prepare(
          `INSERT INTO commit_statuses (id, subject, sha, state, context, description, target_url, creator, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        ).bind(
          row.id,
          row.subject,
          sha,
          row.state,
          row.context,
          row.description,
          row.target_url,
          row.creator,
          now,
          now,
        ),
      ],
    },
  );
  return row;
}

export async function listCommitStatuses(
  env: Env,
  subject: string,
  sha: string,
  page: { limit: number; offset: number },
): Promise<{ items: CommitStatusRow[]; total: number }> {
  return pagedSelect<CommitStatusRow>(
    env.DB,
    "commit_statuses WHERE subject = ? AND sha = ?",
    [subject, sha],
    "id DESC",
    page,
  );
}

/** The newest status of each context on a sha. */
export async function latestStatuses(env: Env, subject: string, sha: string): Promise<CommitStatusRow[]> {
  const { results } = await env.DB.prepare(
    `SELECT * FROM commit_statuses WHERE id IN (
       SELECT max(id) FROM commit_statuses WHERE subject = ? AND sha = ? GROUP BY context)
     ORDER BY id DESC`,
  )
    .bind(subject, sha)
    .all<CommitStatusRow>();
  return results;
}

/** GitHub's combined state: failure if any context failed or errored, pending if any is pending or none exist. */
export function combinedState(latest: CommitStatusRow[]): CommitState {
  if (latest.some((s) => s.state === "error" || s.state === "failure")) return "failure";
  if (latest.length === 0 || latest.some((s) => s.state === "pending")) return "pending";
  return "success";
}
