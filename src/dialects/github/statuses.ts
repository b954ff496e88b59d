/** GitHub's commit statuses: report per sha and context, list, and the combined status. */
import * as v from "valibot";
import type { Env } from "../../env";
import { parseInput, readJson } from "../../http/body";
import { ApiError, validationFailed } from "../../http/errors";
import { pagedJson, readPage } from "../../http/pagination";
import type { HttpRouter } from "../../http/types";
import { combinedState, createCommitStatus, latestStatuses, listCommitStatuses } from "../../repos/commit-statuses";
import { resolveRef, SHA } from "../../repos/refs";
import type { CommitState } from "../../repos/types";
import { renderCommitStatus, renderRepository } from "./render";
import { repoContext, repoScope } from "./scope";

const COMMIT_STATES: CommitState[] = ["error", "failure", "pending", "success"];

export const CreateStatus = v.object({
  state: v.picklist(COMMIT_STATES, `state must be one of ${COMMIT_STATES.join(", ")}`),
  target_url: v.optional(v.nullable(v.string())),
  description: v.optional(v.nullable(v.string())),
  context: v.optional(v.pipe(v.string(), v.minLength(1)), "default"),
});

/** The sha a ref in the path names; a ref it cannot name (even a malformed escape) is a 404. */
async function shaOr404(env: Env, subject: string, rawRef: string): Promise<string> {
  let ref: string;
  try {
    ref = decodeURIComponent(rawRef);
  } catch {
    throw new ApiError(404, `No commit found for SHA: ${rawRef}`);
  }
  const sha = await resolveRef(env, subject, ref);
  if (!sha) throw new ApiError(404, `No commit found for SHA: ${ref}`);
  return sha;
}

export function statusRoutes(router: HttpRouter): void {
  router
    .post("/repos/:owner/:repo/statuses/:sha", async (request, env) => {
      const ctx = await repoContext(request, env, "write");
      const sha = request.params.sha ?? "";
      if (!SHA.test(sha)) {
        throw validationFailed(
          [
            {
              resource: "Status",
              field: "sha",
              code: "invalid",
              message: "sha must be a full 40-character commit sha",
            },
          ],
          `No commit found for SHA: ${sha}`,
        );
      }
      const input = parseInput(CreateStatus, await readJson(request), "Status");
      const scope = await repoScope(env, ctx);
      const row = await createCommitStatus(env, scope, sha.toLowerCase(), {
        state: input.state,
        context: input.context,
        description: input.description ?? null,
        targetUrl: input.target_url ?? null,
      });
      const body = renderCommitStatus(row, scope.urls);
      return Response.json(body, { status: 201, headers: { location: body.url } });
    })
    .get("/repos/:owner/:repo/commits/:ref/statuses", async (request, env) => {
      const ctx = await repoContext(request, env, "read");
      const sha = await shaOr404(env, ctx.scope.subject, request.params.ref ?? "");
      const page = readPage(request.query);
      const { items, total } = await listCommitStatuses(env, ctx.scope.subject, sha, page);
      const { urls } = ctx;
      return pagedJson(
        new URL(request.url),
        page,
        total,
        items.map((row) => renderCommitStatus(row, urls)),
      );
    })
    .get("/repos/:owner/:repo/commits/:ref/status", async (request, env) => {
      const ctx = await repoContext(request, env, "read");
      const sha = await shaOr404(env, ctx.scope.subject, request.params.ref ?? "");
      const scope = await repoScope(env, ctx);
      const latest = await latestStatuses(env, ctx.scope.subject, sha);
      return Response.json({
        state: combinedState(latest),
        statuses: latest.map((row) => {
          const { creator: _creator, ...simple } = renderCommitStatus(row, scope.urls);
          return simple;
        }),
        sha,
        total_count: latest.length,
        repository: renderRepository(scope.repository, scope.urls.origin),
        commit_url: `${ctx.apiBase}/commits/${sha}`,
        url: `${ctx.apiBase}/commits/${sha}/status`,
      });
    });
}
