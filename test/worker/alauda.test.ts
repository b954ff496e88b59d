// Runs in workerd with real D1, Queues and Durable Objects: /v1/hooks and its four events.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { hmac, toHex, utf8 } from "../../src/relay/crypto";
import { call, callJson, eventually, fakeGitHub, interceptDeliveries, mintToken } from "./helpers";

async function hook(json: Record<string, unknown>) {
  return callJson("POST", "/v1/hooks", {
    json: { url: "https://example.com/alauda", name: "test hook", secret: "123456", ...json },
  });
}

describe("/v1/hooks", () => {
  it("creates (201), lists by subject, gets, updates (200) and deletes (204), in spec 004's shape", async () => {
    const created = await hook({
      subject_type: "build_repo",
      subject: "alaudauser/docker_images_test",
      events: ["build:complete"],
    });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({
      id: expect.any(Number),
      subject: "alaudauser/docker_images_test",
      subject_type: "build_repo",
      events: ["build:complete"],
      name: "test hook",
      secret: "********",
      url: "https://example.com/alauda",
      is_active: true,
      created_by: "admin",
      created_at: expect.any(String),
      updated_at: expect.any(String),
    });
    const id = created.body.id;
    await hook({ subject_type: "job", subject: "42", events: ["job:fail"], url: "https://example.com/job" });
    const filtered = await callJson<any[]>(
      "GET",
      "/v1/hooks?subject_type=build_repo&subject=alaudauser/docker_images_test",
    );
    expect(filtered.body.map((h) => h.id)).toEqual([id]);
    expect((await callJson<any[]>("GET", "/v1/hooks")).body).toHaveLength(2);
    expect((await callJson("GET", `/v1/hooks/${id}`)).body.id).toBe(id);
    const updated = await callJson("PUT", `/v1/hooks/${id}`, {
      json: {
        events: ["build:complete", "build:queued"],
        secret: "alaudadoc",
        url: "https://example.com/v2",
        name: "build hook",
        is_active: false,
      },
    });
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({
      events: ["build:complete", "build:queued"],
      name: "build hook",
      url: "https://example.com/v2",
      is_active: false,
      secret: "********",
    });
    expect((await call("DELETE", `/v1/hooks/${id}`)).status).toBe(204);
    const gone = await callJson("GET", `/v1/hooks/${id}`);
    expect(gone.status).toBe(404);
    expect(gone.body).toEqual({ errors: [{ code: "resource_not_exist", message: "Hook not found" }] });
  });

  it.each([
    ["build_repo", ["image:push"]],
    ["image_repo", ["build:complete"]],
    ["job", ["job:succeed", "build:queued"]],
  ])("refuses %s with events %j, naming the allowed ones", async (subjectType, events) => {
    const { status, body } = await hook({ subject_type: subjectType, subject: "ns/repo", events });
    expect(status).toBe(422);
    expect(body.errors[0].message).toMatch(/allowed: /);
    expect(body.errors[0]).toMatchObject({ code: "invalid_args", source: "events" });
  });

  it("validates subject types, urls and updates, and needs a token with rights", async () => {
    expect((await hook({ subject_type: "repo", subject: "a/b", events: ["image:push"] })).status).toBe(422);
    expect((await hook({ subject_type: "image_repo", subject: "", events: ["image:push"] })).status).toBe(422);
    expect(
      (await hook({ subject_type: "image_repo", subject: "a/b", events: ["image:push"], url: "nope" })).status,
    ).toBe(422);
    expect((await hook({ subject_type: "image_repo", subject: "a/b", events: [] })).status).toBe(422);
    const { body } = await hook({ subject_type: "image_repo", subject: "a/b", events: ["image:push"] });
    expect((await callJson("PUT", `/v1/hooks/${body.id}`, { json: { events: ["job:fail"] } })).status).toBe(422);
    expect((await call("GET", "/v1/hooks", { token: null })).status).toBe(401);
    const reader = await mintToken({ login: "reader" });
    expect((await call("DELETE", `/v1/hooks/${body.id}`, { token: reader })).status).toBe(403);
    const scoped = await mintToken({ login: "scoped", write: true, owners: ["mine"] });
    expect((await call("GET", `/v1/hooks/${body.id}`, { token: scoped })).status).toBe(404);
    expect((await callJson<any[]>("GET", "/v1/hooks", { token: scoped })).body).toEqual([]);
  });
});

describe("the four Alauda events", () => {
  it("reach only matching subscriptions, signed with each hook's secret", async () => {
    const github = fakeGitHub();
    const receiver = github.receiver;
    const subscribe = async (path: string, subjectType: string, subject: string, events: string[]) => {
      const { body } = await hook({
        subject_type: subjectType,
        subject,
        events,
        url: `https://example.com${path}`,
        secret: `secret${path}`,
      });
      return body;
    };
    // An app whose builds feed build_repo / image_repo on default/shop.
    await callJson("POST", "/apps", { json: { name: "shop", space: "default" } });
    await callJson("POST", "/apps/shop-default/builds/auto", {
      json: { repo: "https://github.com/octo/shop", branch: "main", username: "octo", token: "t", auto_deploy: false },
    });
    await subscribe("/built", "build_repo", "default/shop", ["build:complete"]);
    await subscribe("/queued", "build_repo", "default/shop", ["build:queued"]);
    await subscribe("/other-app", "build_repo", "default/other", ["build:complete", "build:queued"]);
    await subscribe("/images", "image_repo", "default/shop", ["image:push"]);

    const secret = github.hooks.at(-1)?.body.config.secret as string;
    const push = JSON.stringify({ ref: "refs/heads/main", after: "e".repeat(40), head_commit: { message: "m" } });
    await call("POST", "/apps/shop-default/builds/auto/github", {
      token: null,
      body: push,
      headers: {
        "content-type": "application/json",
        "x-github-event": "push",
        "x-hub-signature-256": `sha256=${toHex(await hmac(secret, "SHA-256", utf8(push)))}`,
      },
    });
    const [build] = (await callJson<any[]>("GET", "/apps/shop-default/builds")).body;
    await callJson("PATCH", `/apps/shop-default/builds/${build.id}`, {
      json: { status: "succeeded", image: "registry/shop:1" },
    });

    // A deployment is a job: subscribe to it, then finish it.
    const { body: deployment } = await callJson("POST", "/repos/octo/shop/deployments", {
      json: { ref: "f".repeat(40), required_contexts: [] },
    });
    await subscribe("/job-ok", "job", String(deployment.id), ["job:succeed"]);
    await subscribe("/job-failed", "job", String(deployment.id), ["job:fail"]);
    await callJson("POST", `/repos/octo/shop/deployments/${deployment.id}/statuses`, { json: { state: "success" } });

    const expected: Record<string, string> = {
      "/built": "build:complete",
      "/queued": "build:queued",
      "/images": "image:push",
      "/job-ok": "job:succeed",
    };
    for (const [path, event] of Object.entries(expected)) {
      await eventually(() => expect(receiver.to(`https://example.com${path}`)).toHaveLength(1));
      const [delivery] = receiver.to(`https://example.com${path}`);
      expect(delivery?.headers["x-hookrelay-event"]).toBe(event);
      expect(delivery?.headers["x-github-event"]).toBeUndefined();
      expect(delivery?.headers["x-hub-signature-256"]).toBe(
        `sha256=${toHex(await hmac(`secret${path}`, "SHA-256", utf8(delivery?.body ?? "")))}`,
      );
      expect(JSON.parse(delivery?.body ?? "{}").event).toBe(event);
    }
    expect(receiver.to("https://example.com/other-app")).toEqual([]);
    expect(receiver.to("https://example.com/job-failed")).toEqual([]);
  });

  it("announces a job by how its deployment ended: failure and error are job:fail, never job:succeed", async () => {
    const receiver = interceptDeliveries();
    const outcomes: [string, string | null][] = [
      ["failure", "job:fail"],
      ["error", "job:fail"],
      ["success", "job:succeed"],
      ["in_progress", null],
      ["inactive", null],
    ];
    for (const [state, expected] of outcomes) {
      const { body: deployment } = await callJson("POST", "/repos/octo/jobs/deployments", {
        json: { ref: "c".repeat(40), required_contexts: [], environment: `env-${state}` },
      });
      for (const event of ["job:succeed", "job:fail"]) {
        await hook({
          subject_type: "job",
          subject: String(deployment.id),
          events: [event],
          url: `https://example.com/${state}/${event}`,
        });
      }
      await callJson("POST", `/repos/octo/jobs/deployments/${deployment.id}/statuses`, { json: { state } });
      const { results } = await env.DB.prepare("SELECT type FROM events WHERE subject_type = 'job' AND subject = ?")
        .bind(String(deployment.id))
        .all<{ type: string }>();
      expect(
        results.map((e) => e.type),
        state,
      ).toEqual(expected ? [expected] : []);
      if (expected) {
        await eventually(() => expect(receiver.to(`https://example.com/${state}/${expected}`)).toHaveLength(1));
      }
    }
    expect(receiver.to("https://example.com/failure/job:succeed")).toEqual([]);
    expect(receiver.to("https://example.com/error/job:succeed")).toEqual([]);
    expect(receiver.to("https://example.com/success/job:fail")).toEqual([]);
  });

  it("POST /v1/events publishes to matching subscriptions, with the same rules", async () => {
    const receiver = interceptDeliveries();
    await hook({ subject_type: "job", subject: "job-7", events: ["job:fail"], url: "https://example.com/external" });
    const published = await callJson("POST", "/v1/events", {
      json: { subject_type: "job", subject: "job-7", event: "job:fail", payload: { reason: "OOM" } },
    });
    expect(published.status).toBe(202);
    expect(published.body.deliveries).toBe(1);
    await eventually(() => expect(receiver.to("https://example.com/external")).toHaveLength(1));
    expect(JSON.parse(receiver.to("https://example.com/external")[0]?.body ?? "{}")).toEqual({
      reason: "OOM",
      event: "job:fail",
      subject_type: "job",
      subject: "job-7",
    });
    const wrong = await callJson("POST", "/v1/events", {
      json: { subject_type: "job", subject: "x", event: "image:push" },
    });
    expect(wrong.status).toBe(422);
    const reader = await mintToken({ login: "reader" });
    expect(
      (
        await call("POST", "/v1/events", {
          token: reader,
          json: { subject_type: "job", subject: "x", event: "job:fail" },
        })
      ).status,
    ).toBe(403);
    const count = await env.DB.prepare("SELECT count(*) AS n FROM events WHERE subject = 'x'").first();
    expect(count).toEqual({ n: 0 });
  });
});
