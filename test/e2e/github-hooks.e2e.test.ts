// End to end: the Worker served by `wrangler dev`, driven by @octokit/rest, delivering
// to a real HTTP receiver. Every check goes over the network, as a user's would.
import { Octokit } from "@octokit/rest";
import examples from "@octokit/webhooks-examples";
import { verify } from "@octokit/webhooks-methods";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Receiver, startReceiver } from "./support/receiver";
import { type Relay, sendWebhook, startRelay } from "./support/relay";

const owner = "octo-org";
const repo = "relay-demo";
const hookSecret = "receiver-shared-secret";
const ingestSecret = "github-to-relay-secret";

let relay: Relay;
let receiver: Receiver;
let octokit: Octokit;

const pushExample = (examples as { name: string; examples: unknown[] }[]).find((e) => e.name === "push")
  ?.examples[0] as object;

async function createHook(path: string, events: string[], contentType: "json" | "form" = "json") {
  const { data } = await octokit.rest.repos.createWebhook({
    owner,
    repo,
    events,
    config: { url: `${receiver.url}${path}`, content_type: contentType, secret: hookSecret },
  });
  await receiver.waitFor(path, 1); // the ping
  return data;
}

async function ingestPush(): Promise<Response> {
  const body = JSON.stringify(pushExample);
  return sendWebhook(relay.url, { owner, repo, secret: ingestSecret }, body);
}

async function waitForState(hookId: number, state: string) {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const { data } = await octokit.rest.repos.listWebhookDeliveries({ owner, repo, hook_id: hookId });
    const push = data.filter((d) => d.event === "push");
    if (push.length > 0 && push.every((d) => (d as { delivery_state?: string }).delivery_state === state)) return push;
    if (Date.now() > deadline) throw new Error(`deliveries of hook ${hookId} never became ${state}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

beforeAll(async () => {
  [relay, receiver] = await Promise.all([startRelay(), startReceiver()]);
  const token = await fetch(`${relay.url}/tokens`, {
    method: "POST",
    headers: { authorization: `Bearer ${relay.adminToken}`, "content-type": "application/json" },
    body: JSON.stringify({ login: "octocat", write: true, owners: [owner] }),
  }).then((r) => r.json() as Promise<{ token: string }>);
  octokit = new Octokit({ baseUrl: relay.url, auth: token.token });
  await octokit.request("PUT /repos/{owner}/{repo}/ingest", { owner, repo, secret: ingestSecret });
}, 120_000);

afterAll(async () => {
  await Promise.all([relay?.stop(), receiver?.close()]);
});

describe("GitHub hooks through the relay", () => {
  it("pings a new hook with signatures GitHub's and Standard Webhooks' libraries verify", async () => {
    const hook = await createHook("/ping", ["push"]);
    const [ping] = receiver.on("/ping");
    expect(ping?.headers["x-github-event"]).toBe("ping");
    expect(ping?.headers["x-github-hook-id"]).toBe(String(hook.id));
    expect(JSON.parse(ping?.body ?? "{}")).toMatchObject({ hook_id: hook.id, hook: { id: hook.id } });
    expect(await verify(hookSecret, ping?.body ?? "", String(ping?.headers["x-hub-signature-256"]))).toBe(true);
    const standard = new Webhook(hookSecret, { format: "raw" });
    expect(() => standard.verify(ping?.body ?? "", ping?.headers as Record<string, string>)).not.toThrow();
    expect(() =>
      new Webhook("some-other-secret", { format: "raw" }).verify(
        ping?.body ?? "",
        ping?.headers as Record<string, string>,
      ),
    ).toThrow();
    expect(hook.config.secret).toBe("********");
  });

  it("relays a signed push to the hooks that take push, and not to one that does not", async () => {
    await createHook("/push-json", ["push"]);
    await createHook("/push-form", ["push", "issues"], "form");
    const issuesOnly = await createHook("/issues-only", ["issues"]);

    const response = await ingestPush();
    expect(response.status).toBe(202);
    // /ping also takes push, so the event fans out to three hooks in all.
    expect(await response.json()).toMatchObject({ deliveries: 3 });

    const [, json] = await receiver.waitFor("/push-json", 2);
    expect(json?.headers["x-github-event"]).toBe("push");
    expect(JSON.parse(json?.body ?? "{}")).toEqual(pushExample);
    expect(await verify(hookSecret, json?.body ?? "", String(json?.headers["x-hub-signature-256"]))).toBe(true);

    const [, form] = await receiver.waitFor("/push-form", 2);
    expect(form?.headers["content-type"]).toBe("application/x-www-form-urlencoded");
    expect(JSON.parse(new URLSearchParams(form?.body).get("payload") ?? "{}")).toEqual(pushExample);

    const { data } = await octokit.rest.repos.listWebhookDeliveries({ owner, repo, hook_id: issuesOnly.id });
    expect(data.map((d) => d.event)).toEqual(["ping"]);
  });

  it("retries a receiver that fails twice, and lists all three attempts", async () => {
    // The ping (request 1) succeeds; the push fails twice (requests 2 and 3), then succeeds.
    receiver.respond("/flaky", (_request, count) => (count === 2 || count === 3 ? 500 : 200));
    const hook = await createHook("/flaky", ["push"]);
    expect((await ingestPush()).status).toBe(202);
    await receiver.waitFor("/flaky", 4);

    const attempts = await waitForState(hook.id, "succeeded");
    expect(attempts.map((a) => a.status_code)).toEqual([200, 500, 500]);
    expect(new Set(attempts.map((a) => a.guid)).size).toBe(1);
    const deliveries = receiver.on("/flaky").slice(1);
    expect(new Set(deliveries.map((d) => d.headers["x-github-delivery"])).size).toBe(1);
  });

  it("redelivers with the same X-GitHub-Delivery", async () => {
    const { data: hooks } = await octokit.rest.repos.listWebhooks({ owner, repo });
    const hook = hooks.find((h) => h.config.url?.endsWith("/push-json"));
    const { data: deliveries } = await octokit.rest.repos.listWebhookDeliveries({
      owner,
      repo,
      hook_id: hook?.id ?? 0,
    });
    const push = deliveries.find((d) => d.event === "push");
    const before = receiver.on("/push-json").length;
    const { status } = await octokit.rest.repos.redeliverWebhookDelivery({
      owner,
      repo,
      hook_id: hook?.id ?? 0,
      delivery_id: push?.id ?? 0,
    });
    expect(status).toBe(202);
    const all = await receiver.waitFor("/push-json", before + 1);
    expect(all[before]?.headers["x-github-delivery"]).toBe(push?.guid);
    const { data: after } = await octokit.rest.repos.listWebhookDeliveries({ owner, repo, hook_id: hook?.id ?? 0 });
    expect(after.some((d) => d.redelivery && d.guid === push?.guid)).toBe(true);
  });

  it("dead-letters a receiver that always fails, visibly as failed", async () => {
    receiver.respond("/down", (_request, count) => (count === 1 ? 200 : 503));
    const hook = await createHook("/down", ["push"]);
    expect((await ingestPush()).status).toBe(202);
    await receiver.waitFor("/down", 4);
    const attempts = await waitForState(hook.id, "failed");
    expect(attempts).toHaveLength(3);
    expect((attempts[0] as { failure_reason?: string }).failure_reason).toMatch(/gave up after 3 attempts/);
  });
});
