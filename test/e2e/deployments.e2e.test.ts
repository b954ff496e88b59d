// End to end: deployments driven by @octokit/rest against the Worker served by
// `wrangler dev`, with events arriving at a real HTTP receiver.
import { Octokit } from "@octokit/rest";
import { verify } from "@octokit/webhooks-methods";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Receiver, startReceiver } from "./support/receiver";
import { type Relay, startRelay } from "./support/relay";

const owner = "deploy-org";
const repo = "shipit";
const secret = "deploy-events-secret";
const sha = "9f8e7d6c5b4a39281706f5e4d3c2b1a098765432";

let relay: Relay;
let receiver: Receiver;
let octokit: Octokit;

beforeAll(async () => {
  [relay, receiver] = await Promise.all([startRelay(), startReceiver()]);
  octokit = new Octokit({ baseUrl: relay.url, auth: relay.adminToken });
  await octokit.rest.repos.createWebhook({
    owner,
    repo,
    events: ["deployment", "deployment_status"],
    config: { url: `${receiver.url}/deploys`, content_type: "json", secret },
  });
  await receiver.waitFor("/deploys", 1);
}, 120_000);

afterAll(async () => {
  await Promise.all([relay?.stop(), receiver?.close()]);
});

describe("deployments with @octokit/rest", () => {
  let deploymentId: number;

  it("refuses a deployment while a required context is pending, with GitHub's 409 body", async () => {
    await octokit.rest.repos.createCommitStatus({ owner, repo, sha, state: "success", context: "ci/build" });
    await octokit.rest.repos.createCommitStatus({ owner, repo, sha, state: "pending", context: "ci/test" });
    const error = await octokit.rest.repos
      .createDeployment({ owner, repo, ref: sha, required_contexts: ["ci/build", "ci/test"] })
      .then(() => null)
      .catch((e: { status: number; response: { data: unknown } }) => e);
    expect(error?.status).toBe(409);
    expect(error?.response.data).toMatchObject({
      message: `Conflict: Commit status checks failed for ${sha}.`,
      errors: [{ contexts: [{ context: "ci/test", state: "pending" }], field: "required_contexts", code: "invalid" }],
    });
  });

  it("creates it once the context succeeds, and the receiver gets a signed deployment event", async () => {
    await octokit.rest.repos.createCommitStatus({ owner, repo, sha, state: "success", context: "ci/test" });
    const { status, data } = await octokit.rest.repos.createDeployment({
      owner,
      repo,
      ref: sha,
      required_contexts: ["ci/build", "ci/test"],
      environment: "staging",
      payload: { app: "web" },
    });
    expect(status).toBe(201);
    deploymentId = (data as { id: number }).id;
    const [, event] = await receiver.waitFor("/deploys", 2);
    expect(event?.headers["x-github-event"]).toBe("deployment");
    expect(await verify(secret, event?.body ?? "", String(event?.headers["x-hub-signature-256"]))).toBe(true);
    expect(JSON.parse(event?.body ?? "{}")).toMatchObject({
      action: "created",
      deployment: { id: deploymentId, sha, environment: "staging", payload: { app: "web" } },
    });
  });

  it("sends deployment_status when a status is created", async () => {
    const { status } = await octokit.rest.repos.createDeploymentStatus({
      owner,
      repo,
      deployment_id: deploymentId,
      state: "success",
      log_url: "https://ci.example.com/runs/1",
    });
    expect(status).toBe(201);
    const [, , event] = await receiver.waitFor("/deploys", 3);
    expect(event?.headers["x-github-event"]).toBe("deployment_status");
    expect(JSON.parse(event?.body ?? "{}")).toMatchObject({
      deployment_status: { state: "success", target_url: "https://ci.example.com/runs/1" },
      deployment: { id: deploymentId },
    });
  });

  it("pages through 75 deployments with octokit.paginate, each exactly once", async () => {
    const pagedRepo = "paged";
    const created: number[] = [];
    for (let i = 0; i < 75; i++) {
      const { data } = await octokit.rest.repos.createDeployment({
        owner,
        repo: pagedRepo,
        ref: sha,
        required_contexts: [],
        description: `deployment ${i}`,
      });
      created.push((data as { id: number }).id);
    }
    const listed = await octokit.paginate(octokit.rest.repos.listDeployments, { owner, repo: pagedRepo, per_page: 20 });
    expect(listed).toHaveLength(75);
    expect(new Set(listed.map((d) => d.id))).toEqual(new Set(created));
  });
});
