// Every JSON answer of the hooks, deployments and statuses APIs, checked against the
// schema GitHub publishes for the same operation (@octokit/openapi, validated with ajv).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { schemaErrors } from "./support/github-schema";
import { type Receiver, startReceiver } from "./support/receiver";
import { type Relay, sendWebhook, startRelay } from "./support/relay";

let relay: Relay;
let receiver: Receiver;
const owner = "schema-org";
const repo = "conformance";
const base = () => `${relay.url}/repos/${owner}/${repo}`;
const sha = "0123456789abcdef0123456789abcdef01234567";

async function call(method: string, path: string, json?: unknown) {
  const response = await fetch(`${base()}${path}`, {
    method,
    headers: { authorization: `token ${relay.adminToken}`, "content-type": "application/json" },
    body: json === undefined ? undefined : JSON.stringify(json),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}

/** Calls the relay and checks the answer against GitHub's schema for that operation. */
async function conforms(method: string, template: string, path: string, expected: number, json?: unknown) {
  const { status, body } = await call(method, path, json);
  expect(status, JSON.stringify(body)).toBe(expected);
  expect(schemaErrors(method, `/repos/{owner}/{repo}${template}`, status, body)).toEqual([]);
  return body;
}

beforeAll(async () => {
  [relay, receiver] = await Promise.all([startRelay(), startReceiver()]);
}, 120_000);

afterAll(async () => {
  await Promise.all([relay?.stop(), receiver?.close()]);
});

describe("the hooks API conforms to GitHub's OpenAPI description", () => {
  let hookId: number;

  it("create, list, get, update, config", async () => {
    const hook = await conforms("POST", "/hooks", "/hooks", 201, {
      events: ["push", "deployment"],
      config: { url: `${receiver.url}/schema`, content_type: "json", secret: "s" },
    });
    hookId = hook.id;
    await conforms("GET", "/hooks", "/hooks", 200);
    await conforms("GET", "/hooks/{hook_id}", `/hooks/${hookId}`, 200);
    await conforms("PATCH", "/hooks/{hook_id}", `/hooks/${hookId}`, 200, { add_events: ["status"] });
    await conforms("GET", "/hooks/{hook_id}/config", `/hooks/${hookId}/config`, 200);
    await conforms("PATCH", "/hooks/{hook_id}/config", `/hooks/${hookId}/config`, 200, { content_type: "json" });
  });

  it("deliveries, one delivery, redelivery", async () => {
    await receiver.waitFor("/schema", 1);
    let deliveries: { id: number }[] = [];
    for (let i = 0; i < 100 && deliveries.length === 0; i++) {
      deliveries = (await call("GET", `/hooks/${hookId}/deliveries`)).body;
      if (deliveries.length === 0) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await conforms("GET", "/hooks/{hook_id}/deliveries", `/hooks/${hookId}/deliveries`, 200);
    const id = deliveries[0]?.id;
    await conforms("GET", "/hooks/{hook_id}/deliveries/{delivery_id}", `/hooks/${hookId}/deliveries/${id}`, 200);
    await conforms(
      "POST",
      "/hooks/{hook_id}/deliveries/{delivery_id}/attempts",
      `/hooks/${hookId}/deliveries/${id}/attempts`,
      202,
    );
  });

  it("errors: 404 and 422", async () => {
    await conforms("GET", "/hooks/{hook_id}", "/hooks/999999", 404);
    await conforms("POST", "/hooks", "/hooks", 422, { events: ["nope"], config: { url: "https://example.com" } });
  });
});

describe("the deployments and statuses APIs conform to GitHub's OpenAPI description", () => {
  it("commit statuses: create, list, combined", async () => {
    await conforms("POST", "/statuses/{sha}", `/statuses/${sha}`, 201, { state: "pending", context: "ci" });
    await conforms("GET", "/commits/{ref}/statuses", `/commits/${sha}/statuses`, 200);
    await conforms("GET", "/commits/{ref}/status", `/commits/${sha}/status`, 200);
  });

  it("deployments: 409, create, list, get, statuses, delete", async () => {
    // GitHub describes no body for this 409; its shape is checked exactly in the workerd tests.
    const conflict = await call("POST", "/deployments", { ref: sha });
    expect(conflict.status).toBe(409);
    expect(conflict.body.message).toBe(`Conflict: Commit status checks failed for ${sha}.`);
    await call("POST", `/statuses/${sha}`, { state: "success", context: "ci" });
    const deployment = await conforms("POST", "/deployments", "/deployments", 201, {
      ref: sha,
      payload: { app: "web" },
      environment: "staging",
    });
    await conforms("GET", "/deployments", "/deployments", 200);
    await conforms("GET", "/deployments/{deployment_id}", `/deployments/${deployment.id}`, 200);
    const status = await conforms(
      "POST",
      "/deployments/{deployment_id}/statuses",
      `/deployments/${deployment.id}/statuses`,
      201,
      { state: "success", log_url: "https://ci.example.com/1", environment_url: "https://staging.example.com" },
    );
    await conforms("GET", "/deployments/{deployment_id}/statuses", `/deployments/${deployment.id}/statuses`, 200);
    await conforms(
      "GET",
      "/deployments/{deployment_id}/statuses/{status_id}",
      `/deployments/${deployment.id}/statuses/${status.id}`,
      200,
    );
    await conforms("POST", "/deployments", "/deployments", 422, { ref: "never-pushed", required_contexts: [] });
    await conforms("GET", "/deployments/{deployment_id}", "/deployments/424242", 404);
    expect((await call("DELETE", `/deployments/${deployment.id}`)).status).toBe(204);
  });

  it("webhook payloads carry GitHub's shapes too", async () => {
    // A relayed push (ingest) must keep GitHub's payload byte for byte; ours must parse as GitHub's objects.
    await call("PUT", "/ingest", { secret: "schema-ingest" });
    const body = JSON.stringify({ ref: "refs/heads/main", after: sha });
    const response = await sendWebhook(relay.url, { owner, repo, secret: "schema-ingest" }, body);
    expect(response.status).toBe(202);
    const deadline = Date.now() + 20_000;
    while (!receiver.on("/schema").some((d) => d.headers["x-github-event"] === "deployment") && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const deployment = receiver.on("/schema").find((d) => d.headers["x-github-event"] === "deployment");
    const payload = JSON.parse(deployment?.body ?? "{}");
    expect(schemaErrors("GET", "/repos/{owner}/{repo}/deployments/{deployment_id}", 200, payload.deployment)).toEqual(
      [],
    );
  });
});
