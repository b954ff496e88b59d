// Runs in workerd with real D1 and Queues: environments, deploy-hook URLs and polling.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, callJson, createHook, eventually, interceptDeliveries, mintToken } from "./helpers";

const sha = (n: number) => n.toString(16).padStart(40, "d");

async function environment(json: Record<string, unknown> = {}) {
  const { status, body } = await callJson("POST", "/api/environments", {
    json: { name: "production", repo: "octo/shop", branch: "main", ...json },
  });
  expect(status).toBe(201);
  return body as { id: string; name: string };
}

async function deployHook(envId: string, name = "CI") {
  const { status, body } = await callJson("POST", `/api/environments/${envId}/deploy-hooks`, { json: { name } });
  expect(status).toBe(201);
  return body as { id: number; name: string; url: string };
}

/** The hook URL's path: what `curl` would GET. */
const pathOf = (url: string) => new URL(url).pathname;

async function trigger(path: string, query = "", method = "GET") {
  return callJson(method, `${path}${query}`, { token: null });
}

describe("environments and deploy hooks", () => {
  it("creates an environment with an integer id, and a hook whose secret URL is shown once", async () => {
    const production = await environment();
    expect(production.id).toMatch(/^\d+$/);
    const hook = await deployHook(production.id, "Release button");
    expect(hook.url).toMatch(new RegExp(`^https://relay.test/api/deploy-hook/${production.id}/[A-Za-z0-9_-]{20,}$`));
    const secret = hook.url.split("/").pop() as string;
    const list = await callJson<any[]>("GET", `/api/environments/${production.id}/deploy-hooks`);
    expect(list.body).toEqual([expect.objectContaining({ id: hook.id, name: "Release button" })]);
    expect(JSON.stringify(list.body)).not.toContain(secret);
    const stored = await env.DB.prepare("SELECT * FROM deploy_hooks").all();
    expect(JSON.stringify(stored.results)).not.toContain(secret);
    expect((await callJson("GET", `/api/environments/${production.id}`)).body).toMatchObject({
      name: "production",
      repo: "octo/shop",
    });
    expect((await callJson<any[]>("GET", "/api/environments")).body.map((e) => e.id)).toContain(production.id);
  });

  it("gives preview environments preview- ids and per-PR URLs", async () => {
    const preview = await environment({ name: "preview", preview: true });
    expect(preview.id).toMatch(/^preview-[0-9a-f]+$/);
    const hook = await deployHook(preview.id);
    expect(hook.url).toMatch(/\/\{prNumber\}\/\{commitSha\}$/);
  });

  it("validates input, needs a token, and deletes hooks and environments", async () => {
    expect((await callJson("POST", "/api/environments", { json: { name: "x", repo: "not a repo" } })).status).toBe(422);
    const missing = await callJson("POST", "/api/environments", { json: { repo: "o/r" } });
    expect(missing.status).toBe(422);
    expect(missing.body).toMatchObject({ success: "false", error: "Validation Failed" });
    expect((await call("GET", "/api/environments", { token: null })).status).toBe(401);
    const reader = await mintToken({ login: "reader" });
    expect((await call("POST", "/api/environments", { token: reader, json: { name: "x", repo: "o/r" } })).status).toBe(
      403,
    );
    const staging = await environment({ name: "staging" });
    const hook = await deployHook(staging.id);
    expect((await call("DELETE", `/api/environments/${staging.id}/deploy-hooks/${hook.id}`)).status).toBe(204);
    expect((await call("DELETE", `/api/environments/${staging.id}/deploy-hooks/${hook.id}`)).status).toBe(404);
    expect((await trigger(pathOf(hook.url))).status).toBe(404);
    expect((await call("DELETE", `/api/environments/${staging.id}`)).status).toBe(204);
    expect((await call("GET", `/api/environments/${staging.id}`)).status).toBe(404);
  });
});

describe("GET /api/deploy-hook/:envId/:secret", () => {
  it("deploys the commit on the branch, answers Flightcontrol's body, and tells the repository's hooks", async () => {
    const receiver = interceptDeliveries();
    await createHook("/repos/octo/shop", { url: "https://example.com/shop-deploys" }, { events: ["deployment"] });
    const production = await environment();
    const hook = await deployHook(production.id);
    const { status, body } = await trigger(pathOf(hook.url), `?branch=main&commit=${sha(1)}&force=true`);
    expect(status).toBe(200);
    expect(body).toEqual({ success: "true", deploymentId: expect.stringMatching(/^\d+$/) });
    const deployment = await env.DB.prepare("SELECT * FROM deployments WHERE id = ?")
      .bind(Number(body.deploymentId))
      .first<{
        sha: string;
        environment: string;
        payload: string;
      }>();
    expect(deployment).toMatchObject({ sha: sha(1), environment: "production" });
    expect(JSON.parse(deployment?.payload ?? "{}")).toMatchObject({
      force: true,
      branch: "main",
      deploy_hook: { id: hook.id },
    });
    await eventually(() =>
      expect(
        receiver.to("https://example.com/shop-deploys").some((c) => c.headers["x-github-event"] === "deployment"),
      ).toBe(true),
    );
  });

  it("deploys the environment's branch when no commit or branch is given, and takes HEAD and POST", async () => {
    const staging = await environment({ name: "staging", branch: sha(2) });
    const hook = await deployHook(staging.id);
    for (const method of ["GET", "POST"]) {
      expect((await trigger(pathOf(hook.url), "", method)).body.success).toBe("true");
    }
    const head = await call("HEAD", pathOf(hook.url), { token: null });
    expect(head.status).toBe(200);
    const count = await env.DB.prepare("SELECT count(*) AS n FROM deployments WHERE sha = ?").bind(sha(2)).first();
    expect(count).toEqual({ n: 3 });
  });

  it("answers 400 to a commit without a branch or a non-boolean force", async () => {
    const production = await environment();
    const hook = await deployHook(production.id);
    const noBranch = await trigger(pathOf(hook.url), `?commit=${sha(3)}`);
    expect(noBranch.status).toBe(400);
    expect(noBranch.body).toEqual({ success: "false", error: "branch is required when commit is given" });
    const badForce = await trigger(pathOf(hook.url), "?force=maybe");
    expect(badForce.status).toBe(400);
    expect(badForce.body.error).toBe("force must be true or false");
  });

  it("answers the same 404 to a wrong secret and an unknown environment", async () => {
    const production = await environment();
    const hook = await deployHook(production.id);
    const before = await env.DB.prepare("SELECT count(*) AS n FROM deployments").first();
    const wrongSecret = await trigger(`/api/deploy-hook/${production.id}/not-the-secret`);
    const unknownEnv = await trigger(`/api/deploy-hook/999999/${hook.url.split("/").pop()}`);
    expect(wrongSecret.status).toBe(404);
    expect(unknownEnv.status).toBe(404);
    expect(wrongSecret.body).toEqual(unknownEnv.body);
    expect(await env.DB.prepare("SELECT count(*) AS n FROM deployments").first()).toEqual(before);
  });
});

describe("preview deploy hooks", () => {
  it("deploys a commit to a transient environment named for the PR", async () => {
    const preview = await environment({ name: "preview", preview: true });
    const hook = await deployHook(preview.id);
    const path = pathOf(hook.url).replace("/%7BprNumber%7D/%7BcommitSha%7D", "");
    const { status, body } = await trigger(`${path}/42/${sha(4)}`);
    expect(status).toBe(200);
    const deployment = await env.DB.prepare("SELECT * FROM deployments WHERE id = ?")
      .bind(Number(body.deploymentId))
      .first();
    expect(deployment).toMatchObject({ sha: sha(4), environment: "preview-pr-42", transient_environment: 1 });
    expect((await trigger(`${path}/abc/${sha(4)}`)).status).toBe(400);
    expect((await trigger(`${path}/42/xyz`)).status).toBe(400);
    // A standard environment's secret on the preview path, and the reverse, are unknown hooks.
    expect((await trigger(path)).status).toBe(404);
  });
});

describe("GET /api/deployments/:deploymentId", () => {
  it("maps the latest deployment status to Flightcontrol's", async () => {
    const production = await environment();
    const hook = await deployHook(production.id);
    const { body } = await trigger(pathOf(hook.url), `?branch=main&commit=${sha(5)}`);
    const poll = async () => (await callJson("GET", `/api/deployments/${body.deploymentId}`)).body;
    expect(await poll()).toEqual({
      deploymentId: body.deploymentId,
      createdAt: expect.any(String),
      environmentId: production.id,
      repoUrl: "https://github.com/octo/shop",
      gitCommit: sha(5),
      gitBranch: "main",
      status: "PENDING",
    });
    for (const [state, expected] of [
      ["queued", "PENDING"],
      ["in_progress", "INPROGRESS"],
      ["error", "ERROR"],
      ["failure", "ERROR"],
      ["inactive", "INACTIVE"],
      ["success", "SUCCESS"],
    ]) {
      await callJson("POST", `/repos/octo/shop/deployments/${body.deploymentId}/statuses`, { json: { state } });
      expect((await poll()).status).toBe(expected);
    }
    expect((await call("GET", `/api/deployments/${body.deploymentId}`, { token: null })).status).toBe(401);
    const elsewhere = await mintToken({ login: "other", owners: ["someone-else"] });
    expect((await call("GET", `/api/deployments/${body.deploymentId}`, { token: elsewhere })).status).toBe(404);
    expect((await call("GET", "/api/deployments/999999")).status).toBe(404);
  });
});
