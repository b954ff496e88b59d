// Runs in workerd with real D1 and Queues: the hook deliveries API and redelivery.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, callJson, createHook, eventually, interceptDeliveries } from "./helpers";

const repoPath = "/repos/octo/logged";

async function attemptsOf(hookId: number, query = "") {
  return callJson<any[]>("GET", `${repoPath}/hooks/${hookId}/deliveries${query}`);
}

describe("GET /hooks/:id/deliveries", () => {
  it("lists attempts newest first, in GitHub's shape, filtered by status and paged by cursor", async () => {
    let answer = 500;
    const receiver = interceptDeliveries(() => new Response("body", { status: answer }));
    const hook = await createHook(repoPath, { url: "https://example.com/logged" });
    await eventually(() => expect(receiver.to("https://example.com/logged")).toHaveLength(2)); // ping fails, retried
    answer = 200;
    await eventually(async () => expect((await attemptsOf(hook.id)).body).toHaveLength(3));

    const { body } = await attemptsOf(hook.id);
    expect(body.map((d) => d.status_code)).toEqual([200, 500, 500]);
    expect(body[0]).toMatchObject({
      id: expect.any(Number),
      guid: body[2].guid,
      delivered_at: expect.any(String),
      redelivery: false,
      duration: expect.any(Number),
      status: "OK",
      event: "ping",
      action: null,
      installation_id: null,
      repository_id: expect.any(Number),
      delivery_state: "succeeded",
    });
    expect(body[1].status).toBe("Invalid HTTP Response: 500");

    expect((await attemptsOf(hook.id, "?status=failure")).body.map((d) => d.status_code)).toEqual([500, 500]);
    expect((await attemptsOf(hook.id, "?status=success")).body).toHaveLength(1);
    expect((await attemptsOf(hook.id, "?status=bogus")).status).toBe(422);

    const page1 = await attemptsOf(hook.id, "?per_page=2");
    expect(page1.body).toHaveLength(2);
    const next = /<([^>]+)>; rel="next"/.exec(page1.headers.get("link") ?? "")?.[1];
    expect(next).toBeDefined();
    const page2 = await callJson<any[]>("GET", new URL(next as string).pathname + new URL(next as string).search);
    expect(page2.body.map((d) => d.id)).toEqual([body[2].id]);

    // The status filter survives the cursor: page 2 of the failures holds the other failure.
    const failures1 = await attemptsOf(hook.id, "?status=failure&per_page=1");
    const failuresNext = /<([^>]+)>; rel="next"/.exec(failures1.headers.get("link") ?? "")?.[1] as string;
    expect(new URL(failuresNext).searchParams.get("status")).toBe("failure");
    const failures2 = await callJson<any[]>("GET", new URL(failuresNext).pathname + new URL(failuresNext).search);
    expect([...failures1.body, ...failures2.body].map((d) => d.status_code)).toEqual([500, 500]);
  });

  it("shows one attempt with its request and response, with the secret nowhere", async () => {
    interceptDeliveries(() => new Response("receiver says hi", { headers: { "x-receiver": "yes" } }));
    const hook = await createHook(repoPath, { url: "https://example.com/detail", secret: "detail-secret" });
    await eventually(async () => expect((await attemptsOf(hook.id)).body).toHaveLength(1));
    const [attempt] = (await attemptsOf(hook.id)).body;
    const { status, body } = await callJson("GET", `${repoPath}/hooks/${hook.id}/deliveries/${attempt.id}`);
    expect(status).toBe(200);
    expect(body.request.headers).toMatchObject({ "x-github-event": "ping", "x-github-delivery": attempt.guid });
    expect(body.request.payload).toMatchObject({ hook_id: hook.id });
    expect(body.response).toMatchObject({ headers: { "x-receiver": "yes" }, payload: "receiver says hi" });
    expect(JSON.stringify(body)).not.toContain("detail-secret");
  });

  it("redelivers with the same guid, marked as a redelivery", async () => {
    const receiver = interceptDeliveries();
    const hook = await createHook(repoPath, { url: "https://example.com/again" });
    await eventually(async () => expect((await attemptsOf(hook.id)).body).toHaveLength(1));
    const [attempt] = (await attemptsOf(hook.id)).body;
    const { status, body } = await callJson("POST", `${repoPath}/hooks/${hook.id}/deliveries/${attempt.id}/attempts`);
    expect(status).toBe(202);
    expect(body).toEqual({});
    await eventually(() => expect(receiver.to("https://example.com/again")).toHaveLength(2));
    const [first, second] = receiver.to("https://example.com/again");
    expect(second?.headers["x-github-delivery"]).toBe(first?.headers["x-github-delivery"]);
    await eventually(async () => expect((await attemptsOf(hook.id)).body[0].redelivery).toBe(true));
  });

  it("answers 404 for unknown hooks and deliveries, or deliveries of another hook", async () => {
    const hook = await createHook(repoPath, { url: "https://example.com/own" });
    const other = await createHook(repoPath, { url: "https://example.com/other" });
    await eventually(async () => expect((await attemptsOf(other.id)).body).toHaveLength(1));
    const [foreign] = (await attemptsOf(other.id)).body;
    expect((await call("GET", `${repoPath}/hooks/999/deliveries`)).status).toBe(404);
    expect((await call("GET", `${repoPath}/hooks/${hook.id}/deliveries/999999`)).status).toBe(404);
    expect((await call("GET", `${repoPath}/hooks/${hook.id}/deliveries/${foreign.id}`)).status).toBe(404);
    expect((await call("POST", `${repoPath}/hooks/${hook.id}/deliveries/${foreign.id}/attempts`)).status).toBe(404);
    const count = await env.DB.prepare(
      "SELECT count(*) AS n FROM deliveries WHERE redelivery = 1 AND subscription_id = ?",
    )
      .bind(hook.id)
      .first();
    expect(count).toEqual({ n: 0 });
  });
});
