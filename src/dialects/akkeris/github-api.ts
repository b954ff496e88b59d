/**
 * The little of GitHub's REST API the relay calls itself: registering and removing the
 * webhook an auto build needs. The caller's token is used for this one call and dropped.
 */
import type { Env } from "../../env";
import { ApiError } from "../../http/errors";

/** Where GitHub's API lives. Default https://api.github.com; GitHub Enterprise and tests point elsewhere. */
export const githubApiUrl = (env: Env) => (env.GITHUB_API_URL ?? "https://api.github.com").replace(/\/+$/, "");

function githubHeaders(token: string): Record<string, string> {
  return {
    authorization: `token ${token}`,
    accept: "application/vnd.github+json",
    "content-type": "application/json",
    "user-agent": "hookrelay",
  };
}

/** GitHub's answer for a repository the token cannot see; also the relay's for one the caller may not act on. */
export const repositoryNotFound = (repo: string) =>
  new ApiError(404, `GitHub has no repository ${repo} that this token can see (404).`);

/** GitHub's refusals as errors a user can act on. */
async function explain(response: Response, repo: string): Promise<ApiError> {
  const body = (await response.json().catch(() => ({}))) as { message?: string; errors?: { message?: string }[] };
  const said = [body.message, ...(body.errors ?? []).map((e) => e.message)].filter(Boolean).join(": ");
  switch (response.status) {
    case 401:
      return new ApiError(422, `GitHub refused the token (401 ${said || "Bad credentials"}).`);
    case 403:
      return new ApiError(
        422,
        `GitHub refused to manage hooks on ${repo} with this token (403): it needs the repo and admin:repo_hook scopes.`,
      );
    case 404:
      return repositoryNotFound(repo);
    case 422:
      if (/already exists/i.test(said)) return new ApiError(409, `A webhook for this app already exists on ${repo}.`);
      return new ApiError(422, `GitHub refused the webhook on ${repo} (422 ${said}).`);
    default:
      return new ApiError(502, `GitHub answered ${response.status} when registering the webhook on ${repo}.`);
  }
}

export interface WebhookRegistration {
  repo: string;
  token: string;
  url: string;
  secret: string;
  events: string[];
}

/** Creates the webhook; returns GitHub's hook id. */
export async function registerWebhook(env: Env, input: WebhookRegistration): Promise<number> {
  let response: Response;
  try {
    response = await fetch(`${githubApiUrl(env)}/repos/${input.repo}/hooks`, {
      method: "POST",
      headers: githubHeaders(input.token),
      body: JSON.stringify({
        name: "web",
        active: true,
        events: input.events,
        config: { url: input.url, content_type: "json", secret: input.secret, insecure_ssl: "0" },
      }),
    });
  } catch (error) {
    throw new ApiError(502, `GitHub could not be reached to register the webhook: ${String(error)}`);
  }
  if (!response.ok) throw await explain(response, input.repo);
  const hook = (await response.json().catch(() => ({}))) as { id?: number };
  return hook.id ?? 0;
}

/** Removes a webhook. A hook already gone counts as removed. */
export async function deleteWebhook(env: Env, repo: string, hookId: number, token: string): Promise<void> {
  const response = await fetch(`${githubApiUrl(env)}/repos/${repo}/hooks/${hookId}`, {
    method: "DELETE",
    headers: githubHeaders(token),
  }).catch((error: unknown) => {
    throw new ApiError(502, `GitHub could not be reached to remove the webhook: ${String(error)}`);
  });
  if (!response.ok && response.status !== 404) throw await explain(response, repo);
}
