// End to end: an Akkeris auto build with status checks, against the Worker served by
// `wrangler dev`, a fake GitHub API that records the webhook, and a real receiver.
import { randomUUID } from "node:crypto";
import { Octokit } from "@octokit/rest";
import examples from "@octokit/webhooks-examples";
import { sign } from "@octokit/webhooks-methods";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FakeGitHub, startFakeGitHub } from "./support/fake-github";
import { type Receiver, startReceiver } from "./support/receiver";
import { type Relay, startRelay } from "./support/relay";

const all = examples as { name: string; examples: Record<string, any>[] }[];
const pushExample = all.find((e) => e.name === "push")?.examples.find((p) => p.ref === "refs/heads/master") as Record<
  string,
  any
>;
const statusExample = all.find((e) => e.name === "status")?.examples[0] as Record<string, any>;
const sha: string = pushExample.after;

let relay: Relay;
let github: FakeGitHub;
let receiver: Receiver;
let octokit: Octokit;

async function admin(method: string, path: string, json?: unknown) {
  const response = await fetch(`${relay.url}${path}`, {
    method,
    headers: { authorization: `token ${relay.adminToken}`, "content-type": "application/json" },
    body: json === undefined ? undefined : JSON.stringify(json),
  });
  return { status: response.status, body: await response.json() };
}

async function sendCallback(url: string, event: string, payload: unknown, secret: string) {
  const body = JSON.stringify(payload);
  return fetch(url, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "x-github-event": event,
      "x-github-delivery": randomUUID(),
      "x-hub-signature-256": await sign(secret, body),
    },
    body,
  });
}

beforeAll(async () => {
  [github, receiver] = await Promise.all([startFakeGitHub(), startReceiver()]);
  relay = await startRelay({ GITHUB_API_URL: github.url });
  octokit = new Octokit({ baseUrl: relay.url, auth: relay.adminToken });
}, 120_000);

afterAll(async () => {
  await Promise.all([relay?.stop(), receiver?.close(), github?.close()]);
});

describe("Akkeris auto build and deploy", () => {
  it("builds a pushed commit only once its checks pass, then auto-deploys it", async () => {
    // A hook on the repository hears about the deployment.
    await octokit.rest.repos.createWebhook({
      owner: "Codertocat",
      repo: "Hello-World",
      events: ["deployment"],
      config: { url: `${receiver.url}/deployments`, content_type: "json" },
    });

    // 1. An app and an auto build with status_check, registered on the fake GitHub.
    expect((await admin("POST", "/apps", { name: "hello", space: "default" })).status).toBe(201);
    const created = await admin("POST", "/apps/hello-default/builds/auto", {
      repo: "https://github.com/Codertocat/Hello-World",
      branch: "master",
      username: "codertocat",
      token: "ghp_e2e_token",
      status_check: true,
    });
    expect(created).toEqual({ status: 201, body: { status: "successful" } });
    const [hook] = github.hooks;
    expect(hook).toMatchObject({ repo: "Codertocat/Hello-World", authorization: "token ghp_e2e_token" });
    expect(hook?.events).toEqual(["push", "status", "check_suite"]);
    const callback = hook?.config.url ?? "";
    const secret = hook?.config.secret ?? "";

    // 2. A real push payload, signed with the secret the relay registered.
    const pushed = await sendCallback(callback, "push", pushExample, secret);
    expect(pushed.status).toBe(201);
    expect(await pushed.json()).toEqual({ code: 201, message: "Roger that, message received." });

    // 3-4. Checks: pending holds the build back; success lets it through.
    await sendCallback(callback, "status", { ...statusExample, sha, state: "pending" }, secret);
    expect((await admin("GET", "/apps/hello-default/builds")).body).toEqual([]);
    await sendCallback(callback, "status", { ...statusExample, sha, state: "success" }, secret);
    const { body: builds } = await admin("GET", "/apps/hello-default/builds");
    expect(builds).toHaveLength(1);
    expect(builds[0]).toMatchObject({ status: "queued", source_blob: { commit: sha, branch: "master" } });

    // 5. The builder reports success.
    const done = await admin("PATCH", `/apps/hello-default/builds/${builds[0].id}`, { status: "succeeded" });
    expect(done.body.status).toBe("succeeded");

    // 6. A deployment of that sha exists, and the repository's hook got the event.
    const { data: deployments } = await octokit.rest.repos.listDeployments({
      owner: "Codertocat",
      repo: "Hello-World",
      sha,
    });
    expect(deployments).toHaveLength(1);
    expect(deployments[0]).toMatchObject({ sha, environment: "hello-default" });
    const [, event] = await receiver.waitFor("/deployments", 2); // the hook's ping, then the deployment
    expect(event?.headers["x-github-event"]).toBe("deployment");
    expect(JSON.parse(event?.body ?? "{}").deployment).toMatchObject({ id: deployments[0]?.id, sha });
  });
});
