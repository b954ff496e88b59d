import { caller } from "../../access/guard";
import { type Access, authorizeOwner, type Principal } from "../../access/policy";
import type { Env } from "../../env";
import { type IRequest, originOf } from "../../http/types";
import type { SubjectScope } from "../../relay/subscriptions";
import { repositorySubject } from "../../repos/repositories";
import { repoScopeFor } from "../../repos/scope";
import type { RepoScope, RepoUrls } from "../../repos/types";

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

/**
 * The loader of every repository route: authenticates the caller (before the body is read)
 * and checks they may read or write this repository, which belongs to its GitHub owner.
 * `principal` is given when the caller was authenticated already (the hub reads the
 * repository from the body, after authenticating).
 */
export async function repoContext(
  request: IRequest,
  env: Env,
  access: Access,
  principal?: Principal,
): Promise<RepoContext> {
  const who = principal ?? (await caller(request, env, access));
  const { owner, repo } = request.params as { owner: string; repo: string };
  authorizeOwner(who, owner, access);
  const apiBase = `${originOf(request)}/repos/${owner}/${repo}`;
  return {
    principal: who,
    owner,
    repo,
    scope: { dialect: "github", subjectType: "repository", subject: repositorySubject(owner, repo) },
    apiBase,
    urls: { apiBase, origin: originOf(request) },
  };
}

/** The repository model's view of the request: its stable id and the URLs objects are rendered with. */
export function repoScope(env: Env, ctx: RepoContext): Promise<RepoScope> {
  return repoScopeFor(env, { owner: ctx.owner, repo: ctx.repo, origin: ctx.urls.origin, login: ctx.principal.login });
}
