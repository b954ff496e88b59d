import { authenticate } from "../../access/auth";
import type { RepoScope } from "../../repos/deployments";
import { type Access, authorizeOwner, type Principal } from "../../access/policy";
import { ensureRepository, repositorySubject } from "../../repos/repositories";
import type { SubjectScope } from "../../relay/subscriptions";
import type { Env } from "../../env";
import { type IRequest, originOf } from "../../http/types";
import type { RepoUrls } from "./render";

/** A request's repository, its caller, and where its API objects live. */
export interface RepoContext {
  principal: Principal;
  owner: string;
  repo: string;
  scope: SubjectScope;
  /** `https://relay/repos/:owner/:repo`, the prefix of every URL in the objects we return. */
  apiBase: string;
  /** apiBase and the relay's origin, as renderers take them. */
  urls: RepoUrls;
}

/** Authenticates the caller and checks they may read or write this repository. */
export async function repoContext(request: IRequest, env: Env, access: Access): Promise<RepoContext> {
  const principal = await authenticate(request, env);
  const { owner, repo } = request.params as { owner: string; repo: string };
  authorizeOwner(principal, owner, access);
  return {
    principal,
    owner,
    repo,
    scope: { dialect: "github", subjectType: "repository", subject: repositorySubject(owner, repo) },
    apiBase: `${originOf(request)}/repos/${owner}/${repo}`,
    urls: { apiBase: `${originOf(request)}/repos/${owner}/${repo}`, origin: originOf(request) },
  };
}

/** The core's view of the repository: its stable id and the URLs objects are rendered with. */
export async function repoScope(env: Env, ctx: RepoContext): Promise<RepoScope> {
  return {
    subject: ctx.scope.subject,
    repository: await ensureRepository(env, ctx.owner, ctx.repo),
    urls: ctx.urls,
    login: ctx.principal.login,
  };
}
