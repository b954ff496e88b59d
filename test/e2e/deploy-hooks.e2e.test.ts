// End to end: a Flightcontrol-style deploy hook triggered by a plain GET, followed by
// GitHub-style status reporting and an Alauda job subscription, over real HTTP.
import { Octokit } from "@octokit/rest";
import { verify } from "@octokit/webhooks-methods";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Receiver, startReceiver } from "./support/receiver";
import { type Relay, startRelay } from "./support/relay";

const sha = "1234567890abcdef1234567890abcdef12345678";
let relay: Relay;
let receiver: Receiver;
let octokit: Octokit;

async function api(method: string, path: string, json?: unknown) {
  const response = await fetch(`${relay.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${relay.adminToken}`, "content-type": "application/json" },
    body: json === undefined ? undefined : JSON.stringify(json),
  });
  return { status: response.status, body: await response.json() };
}

beforeAll(async () => {
  [relay, receiver] = await Promise.all([startRelay(), startReceiver()]);
  octokit = new Octokit({ baseUrl: relay.url, auth: relay.adminToken });
}, 120_000);

afterAll(async () => {
  await Promise.all([relay?.stop(), receiver?.close()]);
});

describe("deploy hooks", () => {
  it("a GET on the hook URL deploys, and the deployment's progress reaches every dialect", async () => {
    await octokit.rest.repos.createWebhook({
      owner: "acme",
      repo: "storefront",
      events: ["deployment"],
      config: { url: `${receiver.url}/github`, content_type: "json" },
    });

    // 1. An environment and a deploy hook.
    const environment = await api("POST", "/api/environments", {
      name: "production",
      repo: "acme/storefront",
      branch: "main",
    });
    expect(environment.status).toBe(201);
    const hook = await api("POST", `/api/environments/${environment.body.id}/deploy-hooks`, { name: "CI" });
    expect(hook.status).toBe(201);

    // 2. What `curl "$URL?branch=main&commit=$SHA"` does: a GET with no credentials.
    const triggered = await fetch(`${hook.body.url}?branch=main&commit=${sha}`);
    expect(triggered.status).toBe(200);
    const { success, deploymentId } = (await triggered.json()) as { success: string; deploymentId: string };
    expect(success).toBe("true");

    // 3. The repository's GitHub hook hears about the deployment of that sha.
    const [, deployment] = await receiver.waitFor("/github", 2);
    expect(deployment?.headers["x-github-event"]).toBe("deployment");
    expect(JSON.parse(deployment?.body ?? "{}").deployment).toMatchObject({ id: Number(deploymentId), sha });

    // An Alauda subscriber to this deployment's job.
    const subscription = await api("POST", "/v1/hooks", {
      subject_type: "job",
      subject: deploymentId,
      events: ["job:succeed"],
      url: `${receiver.url}/alauda`,
      secret: "alauda-secret",
      name: "job watcher",
    });
    expect(subscription.status).toBe(201);

    // 4. The deployer reports success.
    await octokit.rest.repos.createDeploymentStatus({
      owner: "acme",
      repo: "storefront",
      deployment_id: Number(deploymentId),
      state: "success",
    });

    // 5. Polling in Flightcontrol's shape.
    const polled = await api("GET", `/api/deployments/${deploymentId}`);
    expect(polled.body).toMatchObject({ deploymentId, gitCommit: sha, gitBranch: "main", status: "SUCCESS" });

    // 6. The job subscriber gets a signed job:succeed.
    const [jobEvent] = await receiver.waitFor("/alauda", 1);
    expect(jobEvent?.headers["x-hookrelay-event"]).toBe("job:succeed");
    expect(await verify("alauda-secret", jobEvent?.body ?? "", String(jobEvent?.headers["x-hub-signature-256"]))).toBe(
      true,
    );
    expect(JSON.parse(jobEvent?.body ?? "{}")).toMatchObject({ event: "job:succeed", subject: deploymentId });
  });
});
