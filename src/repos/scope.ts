/** The one way to build the scope the repository model's writes act in. */
import type { Env } from "../env";
import { ensureRepository, repositorySubject } from "./repositories";
import type { RepoScope } from "./types";

/** `owner/repo` as addressed, the relay origin that objects' URLs are built on, and who acts. */
export async function repoScopeFor(
  env: Env,
  target: { owner: string; repo: string; origin: string; login: string },
): Promise<RepoScope> {
  const { owner, repo, origin, login } = target;
  return {
    subject: repositorySubject(owner, repo),
    repository: await ensureRepository(env, owner, repo),
    urls: { apiBase: `${origin}/repos/${owner}/${repo}`, origin },
    login,
  };
}
