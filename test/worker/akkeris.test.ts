// Runs in workerd with real D1, Queues and the per-app Durable Object: Akkeris apps,
// auto build hooks, the GitHub callback, builds and auto-deploy. GitHub's API is a fake
// served through the outbound fetch.
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { AppBuilds } from "../../src/dialects/akkeris/app-builds";
import { appBuilds } from "../../src/dialects/akkeris/context";
import { hmac, toHex, utf8 } from "../../src/relay/crypto";
import { call, callJson, fakeGitHub, mintToken } from "./helpers";

const sha = (n: number) => n.toString(16).padStart(40, "c");
let appCounter = 0;

async function newApp(extra: Record<string, unknown> = {}) {
  const name = `app${++appCounter}`;
  const { status, body } = await callJson("POST", "/apps", { json: { name, space: "default", ...extra } });
  expect(status).toBe(201);
  return body as { id: string; name: string };
}

async function autoBuild(app: string, fields: Record<string, unknown> = {}) {
  return callJson("POST", `/apps/${app}/builds/auto`, {
    json: {
      repo: "https://github.com/akkeris/demo",
      branch: "master",
      username: "trevor",
      token: "gh-token-123",
      ...fields,
    },
  });
}

async function callback(
  app: string,
  event: string,
  payload: unknown,
  secret: string,
  headers: Record<string, string> = {},
) {
  const body = JSON.stringify(payload);
  return call("POST", `/apps/${app}/builds/auto/github`, {
    token: null,
    body,
    headers: {
      "content-type": "application/json",
      "x-github-event": event,
      "x-github-delivery": crypto.randomUUID(),
      "x-hub-signature-256": `sha256=${toHex(await hmac(secret, "SHA-256", utf8(body)))}`,
      ...headers,
    },
  });
}

const push = (n: number, branch = "master") => ({
  ref: `refs/heads/${branch}`,
  after: sha(n),
  head_commit: { id: sha(n), message: `commit ${n}`, author: { username: "octocat" } },
});

async function builds(app: string) {
  return (await callJson<any[]>("GET", `/apps/${app}/builds`)).body;
}

describe("apps", () => {
  it("creates, lists, reads by name-space or id, and deletes", async () => {
    const app = await newApp();
    expect(app.name).toBe(`app${appCounter}-default`);
    expect((await callJson("GET", `/apps/${app.name}`)).body.id).toBe(app.id);
    expect((await callJson("GET", `/apps/${app.id}`)).body.name).toBe(app.name);
    expect((await callJson<any[]>("GET", "/apps")).body.map((a) => a.id)).toContain(app.id);
    expect((await call("DELETE", `/apps/${app.name}`)).status).toBe(200);
    const gone = await callJson("GET", `/apps/${app.name}`);
    expect(gone.status).toBe(404);
    expect(gone.body).toEqual({ code: 404, message: "The specified application was not found." });
  });

  it("refuses duplicates (409), bad names (422) and callers without rights", async () => {
    await callJson("POST", "/apps", { json: { name: "dupe", space: "default" } });
    expect((await callJson("POST", "/apps", { json: { name: "dupe", space: "default" } })).status).toBe(409);
    const bad = await callJson("POST", "/apps", { json: { name: "Bad Name!", space: "default" } });
    expect(bad.status).toBe(422);
    expect(bad.body.message).toContain("name");
    expect((await call("GET", "/apps", { token: null })).status).toBe(401);
    const reader = await mintToken({ login: "reader" });
    expect((await call("POST", "/apps", { token: reader, json: { name: "nope", space: "default" } })).status).toBe(403);
  });
});

describe("POST /apps/:app/builds/auto", () => {
  it("registers a webhook with the caller's token and a fresh secret, and keeps no token", async () => {
    const github = fakeGitHub();
    const app = await newApp();
    const { status, body } = await autoBuild(app.name, { status_check: true });
    expect(status).toBe(201);
    expect(body).toEqual({ status: "successful" });
    const [hook] = github.hooks;
    expect(hook).toMatchObject({
      repo: "akkeris/demo",
      token: "gh-token-123",
      body: {
        name: "web",
        active: true,
        events: ["push", "status", "check_suite"],
        config: { url: `https://relay.test/apps/${app.id}/builds/auto/github`, content_type: "json" },
      },
    });
    expect(hook?.body.config.secret.length).toBeGreaterThanOrEqual(32);
    const stored = await env.DB.prepare("SELECT * FROM auto_builds").all();
    expect(JSON.stringify(stored.results)).not.toContain("gh-token-123");
    expect(JSON.stringify(stored.results)).not.toContain(hook?.body.config.secret);

    for (const path of ["auto", "auto/github"]) {
      const view = await callJson("GET", `/apps/${app.name}/builds/auto${path === "auto" ? "" : "/github"}`);
      expect(view.status).toBe(200);
      expect(view.body).toMatchObject({
        app: { id: app.id, name: app.name },
        auto_deploy: true,
        branch: "master",
        repo: "https://github.com/akkeris/demo",
        site: "https://github.com",
        status_check: true,
        username: "trevor",
        space: { name: "default" },
        organization: { name: "default" },
      });
      expect(view.body.id).toEqual(expect.any(String));
    }
  });

  it("asks only for push without status_check, and replaces an earlier auto build", async () => {
    const github = fakeGitHub();
    const app = await newApp();
    await autoBuild(app.name);
    expect(github.hooks[0]?.body.events).toEqual(["push"]);
    await autoBuild(app.name, { branch: "develop", token: "gh-token-456" });
    expect(github.deleted).toEqual([{ repo: "akkeris/demo", id: github.hooks[0]?.id, token: "gh-token-456" }]);
    expect((await callJson("GET", `/apps/${app.name}/builds/auto`)).body.branch).toBe("develop");
    const rows = await env.DB.prepare("SELECT count(*) AS n FROM auto_builds WHERE app_id = ?").bind(app.id).first();
    expect(rows).toEqual({ n: 1 });
  });

  it.each([
    [{ repo: undefined }, "repo"],
    [{ repo: "http://github.com/a/b" }, "repo"],
    [{ repo: "https://gitlab.com/a/b" }, "repo"],
    [{ branch: "" }, "branch"],
    [{ username: undefined }, "username"],
    [{ token: undefined }, "token"],
    [{ status_check: "yes" }, "status_check"],
  ])("answers 422 naming the field for %j", async (fields, field) => {
    fakeGitHub();
    const app = await newApp();
    const { status, body } = await autoBuild(app.name, fields);
    expect(status).toBe(422);
    expect(body.code).toBe(422);
    expect(body.message).toContain(field);
  });

  it.each([
    [401, 422, /refused the token/],
    [403, 422, /admin:repo_hook/],
    [404, 404, /no repository akkeris\/demo/],
    [422, 409, /already exists/],
  ])("turns GitHub's %i into a clear %i", async (githubStatus, status, message) => {
    const github = fakeGitHub();
    const app = await newApp();
    github.state.refuse = githubStatus;
    const response = await autoBuild(app.name);
    expect(response.status).toBe(status);
    expect(response.body.message).toMatch(message);
    expect((await call("GET", `/apps/${app.name}/builds/auto`)).status).toBe(404);
  });

  it("404s an unknown app", async () => {
    expect((await autoBuild("nope-default")).status).toBe(404);
  });
});

describe("DELETE /apps/:app/builds/auto/github", () => {
  it("removes the entry, and says how to remove the webhook when no token is given", async () => {
    const github = fakeGitHub();
    const app = await newApp();
    await autoBuild(app.name);
    const { status, body } = await callJson("DELETE", `/apps/${app.name}/builds/auto/github`);
    expect(status).toBe(200);
    expect(body.status).toBe("successful");
    expect(body.webhook).toContain(`settings/hooks`);
    expect(github.deleted).toEqual([]);
    expect((await callJson("DELETE", `/apps/${app.name}/builds/auto/github`)).status).toBe(404);
  });

  it("removes the webhook on GitHub when given a token", async () => {
    const github = fakeGitHub();
    const app = await newApp();
    await autoBuild(app.name);
    const { body } = await callJson("DELETE", `/apps/${app.name}/builds/auto/github`, { json: { token: "gh-del" } });
    expect(body).toEqual({ status: "successful", webhook: "removed from GitHub" });
    expect(github.deleted).toEqual([{ repo: "akkeris/demo", id: github.hooks[0]?.id, token: "gh-del" }]);
  });
});

describe("the GitHub callback", () => {
  async function setup(fields: Record<string, unknown> = {}) {
    const github = fakeGitHub();
    const app = await newApp();
    await autoBuild(app.name, fields);
    return { app, secret: github.hooks.at(-1)?.body.config.secret as string };
  }

  const storedEvents = async (appId: string) =>
    (await env.DB.prepare("SELECT count(*) AS n FROM events WHERE subject = ?").bind(appId).first<{ n: number }>())?.n;

  it("accepts sha256, falls back to sha1, and answers 201 Roger that", async () => {
    const { app, secret } = await setup();
    const response = await callback(app.name, "push", push(1), secret);
    expect(response.status).toBe(201);
    expect(await response.json()).toEqual({ code: 201, message: "Roger that, message received." });
    const body = JSON.stringify(push(2));
    const sha1 = await call("POST", `/apps/${app.id}/builds/auto/github`, {
      token: null,
      body,
      headers: {
        "content-type": "application/json",
        "x-github-event": "push",
        "x-hub-signature": `sha1=${toHex(await hmac(secret, "SHA-1", utf8(body)))}`,
      },
    });
    expect(sha1.status).toBe(201);
    expect((await builds(app.name)).map((b) => b.source_blob.commit)).toEqual([sha(2), sha(1)]);
  });

  it.each([
    ["a wrong secret", { secret: "wrong" }],
    ["a missing signature", { headers: { "x-hub-signature-256": "" } }],
    ["a tampered body", { tamper: true }],
    ["another app's signature", { otherApp: true }],
    ["an empty sha256 and no sha1", { headers: { "x-hub-signature-256": "sha256=" } }],
    ["a truncated signature", { truncate: 2 }],
    ["a signature cut to an odd length", { truncate: 1 }],
    ["a bare prefix", { headers: { "x-hub-signature-256": "sha256" } }],
    ["an empty sha1", { headers: { "x-hub-signature-256": "", "x-hub-signature": "sha1=" } }],
  ])(
    "answers 403 to %s and stores nothing",
    async (_name, how: {
      secret?: string;
      headers?: Record<string, string>;
      tamper?: boolean;
      otherApp?: boolean;
      truncate?: number;
    }) => {
      const { app, secret } = await setup();
      const other = how.otherApp ? await setup() : null;
      const key = how.secret ?? other?.secret ?? secret;
      const body = JSON.stringify(push(3));
      const full = `sha256=${toHex(await hmac(key, "SHA-256", utf8(body)))}`;
      const signed = how.truncate ? full.slice(0, -how.truncate) : full;
      const response = await callJson("POST", `/apps/${app.name}/builds/auto/github`, {
        token: null,
        body: how.tamper ? body.replace("commit 3", "commit 4") : body,
        headers: {
          "content-type": "application/json",
          "x-github-event": "push",
          "x-hub-signature-256": signed,
          ...how.headers,
        },
      });
      expect(response.status).toBe(403);
      expect(response.body).toEqual({ code: 403, message: "Unauthorized (bad secret or incorrect repository)" });
      expect(await storedEvents(app.id)).toBe(0);
      expect(await builds(app.name)).toEqual([]);
    },
  );

  it("answers ping 200, other events 205, other branches 205, and 404 for unknown apps", async () => {
    const { app, secret } = await setup();
    const ping = await callback(app.name, "ping", { zen: "hi" }, secret);
    expect(ping.status).toBe(200);
    expect(((await ping.json()) as { message: string }).message).toMatch(/Pong/);
    const issues = await callback(app.name, "issues", { action: "opened" }, secret);
    expect(issues.status).toBe(205);
    expect(issues.headers.get("x-hookrelay-message")).toMatch(/not of interest/);
    const status = await callback(app.name, "status", { sha: sha(5), state: "success" }, secret);
    expect(status.status).toBe(205);
    const otherBranch = await callback(app.name, "push", push(5, "feature"), secret);
    expect(otherBranch.status).toBe(205);
    expect(otherBranch.headers.get("x-hookrelay-message")).toMatch(/feature ignored: this auto build watches master/);
    expect((await callback("ghost-default", "push", push(5), secret)).status).toBe(404);
    expect(await builds(app.name)).toEqual([]);
  });

  it("never builds a push that deletes the watched branch", async () => {
    const { app, secret } = await setup();
    const deletion = {
      ref: "refs/heads/master",
      before: sha(7),
      after: "0".repeat(40),
      deleted: true,
      head_commit: null,
    };
    const response = await callback(app.name, "push", deletion, secret);
    expect(response.status).toBe(205);
    expect(response.headers.get("x-hookrelay-message")).toMatch(/ignored/);
    expect(await builds(app.name)).toEqual([]);
    // The same auto build still builds a push that moves the branch.
    expect((await callback(app.name, "push", push(8), secret)).status).toBe(201);
    expect((await builds(app.name)).map((b) => b.source_blob.commit)).toEqual([sha(8)]);
  });

  it("deduplicates on X-GitHub-Delivery", async () => {
    const { app, secret } = await setup();
    const delivery = crypto.randomUUID();
    expect((await callback(app.name, "push", push(6), secret, { "x-github-delivery": delivery })).status).toBe(201);
    const again = await callback(app.name, "push", push(6), secret, { "x-github-delivery": delivery });
    expect(again.status).toBe(200);
    expect(await builds(app.name)).toHaveLength(1);
  });
});

describe("status checks", () => {
  async function setup() {
    const github = fakeGitHub();
    const app = await newApp();
    await autoBuild(app.name, { status_check: true });
    return { app, secret: github.hooks.at(-1)?.body.config.secret as string };
  }

  it("waits for every reported check, then builds", async () => {
    const { app, secret } = await setup();
    expect((await callback(app.name, "push", push(10), secret)).status).toBe(201);
    expect(await builds(app.name)).toEqual([]);
    await callback(app.name, "status", { sha: sha(10), context: "ci/test", state: "pending" }, secret);
    await callback(
      app.name,
      "check_suite",
      { check_suite: { head_sha: sha(10), status: "completed", conclusion: "success", app: { slug: "actions" } } },
      secret,
    );
    expect(await builds(app.name)).toEqual([]);
    const view = await callJson("GET", `/apps/${app.name}/builds/auto`);
    expect(view.body.waiting).toMatchObject({ sha: sha(10) });
    await callback(app.name, "status", { sha: sha(10), context: "ci/test", state: "success" }, secret);
    const [build] = await builds(app.name);
    expect(build).toMatchObject({
      status: "queued",
      source_blob: { commit: sha(10), branch: "master", author: "octocat", message: "commit 10" },
    });
  });

  it("cancels on a failed check, with the reason recorded", async () => {
    const { app, secret } = await setup();
    await callback(app.name, "push", push(11), secret);
    await callback(app.name, "status", { sha: sha(11), context: "ci/lint", state: "failure" }, secret);
    expect(await builds(app.name)).toEqual([]);
    const view = await callJson("GET", `/apps/${app.name}/builds/auto`);
    expect(view.body.waiting).toBeNull();
    expect(view.body.recent[0]).toMatchObject({
      commit: sha(11),
      outcome: "cancelled",
      reason: "status check failed: ci/lint",
    });
  });

  it("supersedes an older push still waiting", async () => {
    const { app, secret } = await setup();
    await callback(app.name, "push", push(12), secret);
    await callback(app.name, "push", push(13), secret);
    await callback(app.name, "status", { sha: sha(12), context: "ci", state: "success" }, secret);
    expect(await builds(app.name)).toEqual([]);
    await callback(app.name, "status", { sha: sha(13), context: "ci", state: "success" }, secret);
    expect((await builds(app.name)).map((b) => b.source_blob.commit)).toEqual([sha(13)]);
    const view = await callJson("GET", `/apps/${app.name}/builds/auto`);
    expect(view.body.recent[0]).toMatchObject({ commit: sha(12), outcome: "superseded" });
  });

  it("times out checks that never finish, by alarm", async () => {
    const { app, secret } = await setup();
    await callback(app.name, "push", push(14), secret);
    const stub = appBuilds(env, app.id);
    await runInDurableObject(stub, (instance: AppBuilds, state) => {
      void instance;
      state.storage.sql.exec("UPDATE waiting SET deadline = ?", Date.now() - 1);
    });
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    const view = await callJson("GET", `/apps/${app.name}/builds/auto`);
    expect(view.body.waiting).toBeNull();
    expect(view.body.recent[0]).toMatchObject({ commit: sha(14), outcome: "timed_out" });
    await callback(app.name, "status", { sha: sha(14), context: "ci", state: "success" }, secret);
    expect(await builds(app.name)).toEqual([]);
  });
});

describe("builds", () => {
  async function queuedBuild(fields: Record<string, unknown> = {}) {
    const github = fakeGitHub();
    const app = await newApp();
    await autoBuild(app.name, fields);
    const secret = github.hooks.at(-1)?.body.config.secret as string;
    await callback(app.name, "push", push(20 + appCounter), secret);
    const [build] = await builds(app.name);
    return { app, build };
  }

  it("moves queued → building → succeeded, and refuses illegal transitions with 409", async () => {
    const { app, build } = await queuedBuild({ auto_deploy: false });
    const path = `/apps/${app.name}/builds/${build.id}`;
    expect((await callJson("GET", path)).body.status).toBe("queued");
    expect((await callJson("PATCH", path, { json: { status: "building" } })).body.status).toBe("building");
    expect((await callJson("PATCH", path, { json: { status: "succeeded" } })).body.status).toBe("succeeded");
    const illegal = await callJson("PATCH", path, { json: { status: "building" } });
    expect(illegal.status).toBe(409);
    expect(illegal.body).toEqual({ code: 409, message: "A succeeded build cannot become building." });
    expect((await callJson("PATCH", path, { json: { status: "done" } })).status).toBe(422);
    expect((await callJson("PATCH", `/apps/${app.name}/builds/nope`, { json: { status: "failed" } })).status).toBe(404);
    expect((await callJson("GET", `/apps/${app.name}/builds/nope`)).status).toBe(404);
  });

  it("publishes build:queued, build:complete and image:push on space/app", async () => {
    const { app, build } = await queuedBuild({ auto_deploy: false });
    await callJson("PATCH", `/apps/${app.name}/builds/${build.id}`, {
      json: { status: "failed", image: "registry/app:1" },
    });
    const { results } = await env.DB.prepare(
      "SELECT type, subject_type, subject, payload FROM events WHERE subject = ? ORDER BY rowid",
    )
      .bind(`default/${app.name.replace(/-default$/, "")}`)
      .all<{ type: string; subject_type: string; payload: string }>();
    expect(results.map((e) => `${e.subject_type}:${e.type}`)).toEqual([
      "build_repo:build:queued",
      "image_repo:image:push",
      "build_repo:build:complete",
    ]);
    expect(JSON.parse(results[2]?.payload ?? "{}")).toMatchObject({
      outcome: "failed",
      build: { id: build.id, status: "failed" },
    });
  });

  it("auto-deploys exactly one deployment per successful build", async () => {
    const { app, build } = await queuedBuild();
    const path = `/apps/${app.name}/builds/${build.id}`;
    await callJson("PATCH", path, { json: { status: "succeeded" } });
    await callJson("PATCH", path, { json: { status: "succeeded" } });
    const { results } = await env.DB.prepare("SELECT * FROM deployments WHERE sha = ?")
      .bind(build.source_blob.commit)
      .all<{
        environment: string;
        payload: string;
        subject: string;
      }>();
    expect(results).toHaveLength(1);
    expect(results[0]).toMatchObject({ environment: app.name, subject: "akkeris/demo" });
    expect(JSON.parse(results[0]?.payload ?? "{}")).toEqual({
      app: { id: app.id, name: app.name },
      build: { id: build.id },
    });
  });

  it("never lets a failed build become succeeded (409), so it never deploys or announces success", async () => {
    const { app, build } = await queuedBuild();
    const path = `/apps/${app.name}/builds/${build.id}`;
    expect((await callJson("PATCH", path, { json: { status: "failed" } })).status).toBe(200);
    for (const status of ["succeeded", "building", "queued"]) {
      const refused = await callJson("PATCH", path, { json: { status } });
      expect(refused.status, status).toBe(status === "queued" ? 422 : 409);
    }
    expect((await callJson("GET", path)).body.status).toBe("failed");
    const deployments = await env.DB.prepare("SELECT count(*) AS n FROM deployments WHERE sha = ?")
      .bind(build.source_blob.commit)
      .first();
    expect(deployments).toEqual({ n: 0 });
    const outcomes = await env.DB.prepare(
      "SELECT json_extract(payload, '$.outcome') AS outcome FROM events WHERE type = 'build:complete' AND json_extract(payload, '$.build.id') = ?",
    )
      .bind(build.id)
      .all();
    expect(outcomes.results).toEqual([{ outcome: "failed" }]);
  });

  it("does not deploy failed builds, or when auto_deploy is off", async () => {
    const failed = await queuedBuild();
    await callJson("PATCH", `/apps/${failed.app.name}/builds/${failed.build.id}`, { json: { status: "failed" } });
    const off = await queuedBuild({ auto_deploy: false });
    await callJson("PATCH", `/apps/${off.app.name}/builds/${off.build.id}`, { json: { status: "succeeded" } });
    const count = await env.DB.prepare("SELECT count(*) AS n FROM deployments WHERE sha IN (?, ?)")
      .bind(failed.build.source_blob.commit, off.build.source_blob.commit)
      .first();
    expect(count).toEqual({ n: 0 });
  });
});

describe("owners", () => {
  it("lets an auto build point only at a repository whose owner the caller may act on", async () => {
    const github = fakeGitHub();
    await callJson("POST", "/apps", { json: { name: "teamapp", space: "default", organization: "team-a" } });
    const teamA = await mintToken({ login: "alice", write: true, owners: ["team-a"] });
    const fields = { branch: "main", username: "alice", token: "gh-alice" };
    const refused = await callJson("POST", "/apps/teamapp-default/builds/auto", {
      token: teamA,
      json: { repo: "https://github.com/team-b/app", ...fields },
    });
    // As GitHub answers a repository the token cannot see; GitHub itself is never asked.
    expect(refused.status).toBe(404);
    expect(refused.body).toEqual({
      code: 404,
      message: "GitHub has no repository team-b/app that this token can see (404).",
    });
    expect(github.receiver.calls).toEqual([]);
    expect((await call("GET", "/apps/teamapp-default/builds/auto", { token: teamA })).status).toBe(404);
    const allowed = await callJson("POST", "/apps/teamapp-default/builds/auto", {
      token: teamA,
      json: { repo: "https://github.com/Team-A/app", ...fields },
    });
    expect(allowed.status).toBe(201);
  });

  it("refuses a success report whose auto-deploy reaches a repository outside the token's owners", async () => {
    const github = fakeGitHub();
    await callJson("POST", "/apps", { json: { name: "reachapp", space: "default", organization: "team-a" } });
    // The admin may point team-a's app at team-b's repository; a team-a token may not deploy there.
    await callJson("POST", "/apps/reachapp-default/builds/auto", {
      json: { repo: "https://github.com/team-b/app", branch: "master", username: "bob", token: "gh-bob" },
    });
    const secret = github.hooks.at(-1)?.body.config.secret as string;
    await callback("reachapp-default", "push", push(90), secret);
    const [build] = await builds("reachapp-default");
    const path = `/apps/reachapp-default/builds/${build.id}`;
    const teamA = await mintToken({ login: "alice", write: true, owners: ["team-a"] });
    expect((await callJson("PATCH", path, { token: teamA, json: { status: "building" } })).status).toBe(200);
    const refused = await callJson("PATCH", path, { token: teamA, json: { status: "succeeded" } });
    expect(refused.status).toBe(403);
    expect(refused.body.message).toMatch(/deploys to team-b\/app/);
    expect((await callJson("GET", path)).body.status).toBe("building");
    const none = await env.DB.prepare("SELECT count(*) AS n FROM deployments WHERE subject = 'team-b/app'").first();
    expect(none).toEqual({ n: 0 });
    expect((await callJson("PATCH", path, { json: { status: "succeeded" } })).status).toBe(200);
    const one = await env.DB.prepare("SELECT creator FROM deployments WHERE subject = 'team-b/app'").all();
    expect(one.results).toEqual([{ creator: "bob" }]);
  });

  it("deletes an app's build and image subscriptions with it, so a new app of that name has none", async () => {
    await callJson("POST", "/apps", { json: { name: "shortlived", space: "default", organization: "team-a" } });
    const teamA = await mintToken({ login: "alice", write: true, owners: ["team-a"] });
    const made = await callJson("POST", "/v1/hooks", {
      token: teamA,
      json: {
        subject_type: "build_repo",
        subject: "default/shortlived",
        events: ["build:complete"],
        url: "https://team-a.example/builds",
      },
    });
    expect(made.status).toBe(201);
    expect((await call("DELETE", "/apps/shortlived-default", { token: teamA })).status).toBe(200);
    await callJson("POST", "/apps", { json: { name: "shortlived", space: "default", organization: "team-b" } });
    const left = await env.DB.prepare(
      "SELECT count(*) AS n FROM subscriptions WHERE subject = 'default/shortlived'",
    ).first();
    expect(left).toEqual({ n: 0 });
    expect((await call("GET", `/v1/hooks/${made.body.id}`, { token: teamA })).status).toBe(404);
  });
});
