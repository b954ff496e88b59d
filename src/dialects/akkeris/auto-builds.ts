/**
 * Auto build/deploy hooks (spec 000): register a GitHub webhook for an app's repository
 * and branch, then build on each push to it, optionally after its status checks pass.
 */
import * as v from "valibot";
import { authorizeOwner } from "../../access/policy";
import type { Env } from "../../env";
import { parseInput, readJson } from "../../http/body";
import { ApiError } from "../../http/errors";
import { type HttpRouter, originOf } from "../../http/types";
import { assertCanSeal, randomToken } from "../../relay/crypto";
import { appFor } from "./apps";
import { appBuilds } from "./context";
import { deleteWebhook, registerWebhook, repositoryNotFound } from "./github-api";
import { renderAutoBuild } from "./render";
import { type App, type AutoBuild, deleteAutoBuild, getAutoBuild, saveAutoBuild } from "./store";

const GITHUB_REPO = /^https:\/\/github\.com\/([A-Za-z0-9-_.]+)\/([A-Za-z0-9-_.]+?)(?:\.git)?\/?$/;

export const NewAutoBuild = v.object({
  repo: v.pipe(
    v.string("repo is required"),
    v.regex(GITHUB_REPO, "repo must be an https GitHub repository URL, like https://github.com/owner/repo"),
  ),
  branch: v.pipe(v.string("branch is required"), v.minLength(1, "branch is required")),
  username: v.pipe(v.string("username is required"), v.minLength(1, "username is required")),
  token: v.pipe(v.string("token is required"), v.minLength(1, "token is required")),
  status_check: v.optional(v.boolean("status_check must be true or false"), false),
  auto_deploy: v.optional(v.boolean("auto_deploy must be true or false"), true),
});

export const RemoveAutoBuild = v.object({ token: v.optional(v.pipe(v.string(), v.minLength(1))) });

/** The events the flow needs: pushes, plus the checks when it waits for them. */
export const autoBuildEvents = (statusCheck: boolean) => (statusCheck ? ["push", "status", "check_suite"] : ["push"]);

export const callbackUrl = (origin: string, app: App) => `${origin}/apps/${app.id}/builds/auto/github`;

const noAutoBuild = () => new ApiError(404, "This app has no auto build.");

async function autoBuildOr404(env: Env, app: App): Promise<AutoBuild> {
  const autoBuild = await getAutoBuild(env, app.id);
  if (!autoBuild) throw noAutoBuild();
  return autoBuild;
}

export function autoBuildRoutes(router: HttpRouter): void {
  router.post("/apps/:app/builds/auto", async (request, env) => {
    const { app, principal } = await appFor(request, env, "write");
    const input = parseInput(NewAutoBuild, await readJson(request), "AutoBuild");
    const [, owner = "", name = ""] = GITHUB_REPO.exec(input.repo) ?? [];
    const repo = `${owner}/${name}`;
    // Builds of this app will deploy to the repository: the caller must be able to act on
    // its owner too. One it may not is answered as GitHub answers a repository it cannot see.
    authorizeOwner(principal, owner, "write", () => repositoryNotFound(repo));
    // The secret must be storable before a webhook is registered on GitHub with it.
    await assertCanSeal(env);
    const previous = await getAutoBuild(env, app.id);
    // Re-assigning on the same repository: drop our old webhook first, with the new token,
    // so GitHub does not refuse the new one as a duplicate.
    if (previous?.github_hook_id && previous.repo_subject === repo.toLowerCase()) {
      await deleteWebhook(env, repo, previous.github_hook_id, input.token).catch(() => {});
    }
    const secret = randomToken(32);
    const hookId = await registerWebhook(env, {
      repo,
      token: input.token,
      url: callbackUrl(originOf(request), app),
      secret,
      events: autoBuildEvents(input.status_check),
    });
    await saveAutoBuild(env, {
      app_id: app.id,
      repo: `https://github.com/${repo}`,
      repo_subject: repo.toLowerCase(),
      site: "https://github.com",
      branch: input.branch,
      username: input.username,
      status_check: input.status_check ? 1 : 0,
      auto_deploy: input.auto_deploy ? 1 : 0,
      plainSecret: secret,
      github_hook_id: hookId,
    });
    return Response.json({ status: "successful" }, { status: 201 });
  });

  // The spec's prose says /builds/auto, its example /builds/auto/github: both answer.
  for (const path of ["/apps/:app/builds/auto", "/apps/:app/builds/auto/github"]) {
    router.get(path, async (request, env) => {
      const { app } = await appFor(request, env, "read");
      const autoBuild = await autoBuildOr404(env, app);
      const checks = await appBuilds(env, app.id).checksState();
      return Response.json({ ...renderAutoBuild(app, autoBuild), ...checks });
    });
  }

  router.delete("/apps/:app/builds/auto/github", async (request, env) => {
    const { app } = await appFor(request, env, "write");
    const autoBuild = await autoBuildOr404(env, app);
    const input = parseInput(RemoveAutoBuild, await readJson(request), "AutoBuild");
    const token = input.token ?? request.headers.get("x-github-token") ?? undefined;
    const repo = autoBuild.repo.replace("https://github.com/", "");
    let webhook: string;
    if (autoBuild.github_hook_id && token) {
      await deleteWebhook(env, repo, autoBuild.github_hook_id, token);
      webhook = "removed from GitHub";
    } else {
      webhook = autoBuild.github_hook_id
        ? `left on GitHub: the token was not kept. Delete hook ${autoBuild.github_hook_id} at https://github.com/${repo}/settings/hooks, or repeat this call with {"token": "..."}; until then its callbacks are refused.`
        : "none was registered";
    }
    await deleteAutoBuild(env, app.id);
    return Response.json({ status: "successful", webhook });
  });
}
