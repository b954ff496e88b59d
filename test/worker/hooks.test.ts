// Runs in workerd against real D1 and Queues: the GitHub repository hooks API.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, callJson, createHook, eventually, interceptDeliveries, ORIGIN } from "./helpers";

const hooksPath = "/repos/octo/hooks-api/hooks";

describe("creating hooks", () => {
  it("applies GitHub's defaults, masks the secret, answers 201 with Location, and pings", async () => {
    const receiver = interceptDeliveries();
    const { status, headers, body } = await callJson("POST", hooksPath, {
      json: { config: { url: "https://example.com/defaults", secret: "shh" } },
    });
    expect(status).toBe(201);
    expect(body).toMatchObject({
      type: "Repository",
      name: "web",
      active: true,
      events: ["push"],
      config: { url: "https://example.com/defaults", content_type: "form", insecure_ssl: "0", secret: "********" },
      last_response: { code: null, status: "unused", message: null },
      url: `${ORIGIN}${hooksPath}/${body.id}`,
      ping_url: `${ORIGIN}${hooksPath}/${body.id}/pings`,
      deliveries_url: `${ORIGIN}${hooksPath}/${body.id}/deliveries`,
    });
    expect(headers.get("location")).toBe(body.url);
    expect(JSON.stringify(body)).not.toContain("shh");

    await eventually(() => expect(receiver.to("https://example.com/defaults")).toHaveLength(1));
    const ping = receiver.to("https://example.com/defaults")[0];
    expect(ping?.headers["x-github-event"]).toBe("ping");
    const payload = JSON.parse(new URLSearchParams(ping?.body).get("payload") ?? "{}");
    expect(payload).toMatchObject({
      hook_id: body.id,
      hook: { id: body.id },
      repository: { full_name: "octo/hooks-api" },
    });
    expect(payload.zen).toEqual(expect.any(String));
  });

  it("accepts * and GitHub's event names, and refuses unknown events with 422", async () => {
    expect(
      (await createHook("/repos/octo/star", { url: "https://example.com/star" }, { events: ["*"] })).events,
    ).toEqual(["*"]);
    const { status, body } = await callJson("POST", hooksPath, {
      json: { events: ["push", "launch_rockets"], config: { url: "https://example.com/x" } },
    });
    expect(status).toBe(422);
    expect(body.message).toBe("Validation Failed");
    expect(body.errors[0]).toMatchObject({ resource: "Hook", field: "events.1", code: "invalid" });
    expect(body.errors[0].message).toContain("launch_rockets");
  });

  it("refuses a duplicate URL with GitHub's 422", async () => {
    await createHook("/repos/octo/dupe", { url: "https://example.com/same" });
    const { status, body } = await callJson("POST", "/repos/octo/dupe/hooks", {
      json: { config: { url: "https://example.com/same" } },
    });
    expect(status).toBe(422);
    expect(body.errors).toEqual([
      { resource: "Hook", code: "custom", message: "Hook already exists on this repository" },
    ]);
  });

  it.each([
    [{}, "config", "missing_field"],
    [{ config: {} }, "config.url", "missing_field"],
    [{ config: { url: "not a url" } }, "config.url", "invalid"],
    [{ config: { url: "https://example.com", content_type: "xml" } }, "config.content_type", "invalid"],
    [{ name: "campfire", config: { url: "https://example.com" } }, "name", "invalid"],
    [{ active: "yes", config: { url: "https://example.com" } }, "active", "invalid"],
  ])("answers 422 naming the field for %j", async (json, field, code) => {
    const { status, body } = await callJson("POST", hooksPath, { json });
    expect(status).toBe(422);
    expect(body.errors).toContainEqual(expect.objectContaining({ field, code }));
  });

  it("refuses private and loopback targets unless allowed", async () => {
    const { status, body } = await callJson("POST", hooksPath, { json: { config: { url: "http://127.0.0.1:9/x" } } });
    expect(status).toBe(422);
    expect(body.errors[0]).toMatchObject({ field: "url", message: expect.stringContaining("private") });
  });

  it("answers 400 for malformed JSON and 413 for oversize bodies, writing nothing", async () => {
    const before = await env.DB.prepare("SELECT count(*) AS n FROM subscriptions").first<{ n: number }>();
    const malformed = await callJson("POST", hooksPath, {
      body: '{"config": {',
      headers: { "content-type": "application/json" },
    });
    expect(malformed.status).toBe(400);
    expect(malformed.body.message).toBe("Problems parsing JSON");
    const huge = await call("POST", hooksPath, {
      body: JSON.stringify({ config: { url: "https://example.com/big" }, pad: "x".repeat(1024 * 1024) }),
      headers: { "content-type": "application/json" },
    });
    expect(huge.status).toBe(413);
    const after = await env.DB.prepare("SELECT count(*) AS n FROM subscriptions").first<{ n: number }>();
    expect(after?.n).toBe(before?.n);
  });
});

describe("reading, editing and deleting hooks", () => {
  it("gets a hook and 404s unknown or malformed ids", async () => {
    const hook = await createHook("/repos/octo/read", { url: "https://example.com/read" });
    expect((await callJson("GET", `/repos/octo/read/hooks/${hook.id}`)).body.id).toBe(hook.id);
    expect((await call("GET", "/repos/octo/read/hooks/999999")).status).toBe(404);
    expect((await call("GET", "/repos/octo/read/hooks/abc")).status).toBe(404);
    expect((await call("GET", `/repos/octo/elsewhere/hooks/${hook.id}`)).status).toBe(404);
  });

  it("PATCH replaces events, then adds and removes them", async () => {
    const hook = await createHook("/repos/octo/patch", { url: "https://example.com/patch" });
    const path = `/repos/octo/patch/hooks/${hook.id}`;
    expect((await callJson("PATCH", path, { json: { events: ["issues", "fork"] } })).body.events).toEqual([
      "issues",
      "fork",
    ]);
    const edited = await callJson("PATCH", path, { json: { add_events: ["push"], remove_events: ["fork"] } });
    expect(edited.body.events).toEqual(["issues", "push"]);
    const emptied = await callJson("PATCH", path, { json: { events: [] } });
    expect(emptied.status).toBe(422);
  });

  it("PATCH config replaces the whole config; PATCH active toggles delivery", async () => {
    const hook = await createHook("/repos/octo/cfg", {
      url: "https://example.com/a",
      secret: "s",
      content_type: "json",
    });
    const path = `/repos/octo/cfg/hooks/${hook.id}`;
    const { body } = await callJson("PATCH", path, {
      json: { config: { url: "https://example.com/b" }, active: false },
    });
    expect(body.config).toEqual({ url: "https://example.com/b", content_type: "form", insecure_ssl: "0" });
    expect(body.active).toBe(false);
  });

  it("GET and PATCH /config read and edit the config alone", async () => {
    const hook = await createHook("/repos/octo/cfg2", { url: "https://example.com/c" });
    const path = `/repos/octo/cfg2/hooks/${hook.id}/config`;
    expect((await callJson("GET", path)).body).toEqual({
      url: "https://example.com/c",
      content_type: "json",
      insecure_ssl: "0",
    });
    const { status, body } = await callJson("PATCH", path, { json: { secret: "new-secret", insecure_ssl: 1 } });
    expect(status).toBe(200);
    expect(body).toEqual({ url: "https://example.com/c", content_type: "json", insecure_ssl: "1", secret: "********" });
    expect((await callJson("PATCH", path, { json: { content_type: "yaml" } })).status).toBe(422);
  });

  it("deletes a hook with its deliveries, then 404s", async () => {
    const hook = await createHook("/repos/octo/del", { url: "https://example.com/del" });
    const path = `/repos/octo/del/hooks/${hook.id}`;
    expect((await call("DELETE", path)).status).toBe(204);
    expect((await call("GET", path)).status).toBe(404);
    expect((await call("DELETE", path)).status).toBe(404);
    const left = await env.DB.prepare("SELECT count(*) AS n FROM deliveries WHERE subscription_id = ?")
      .bind(hook.id)
      .first<{ n: number }>();
    expect(left?.n).toBe(0);
  });
});

describe("listing hooks", () => {
  it("paginates with GitHub's Link header and clamps per_page to 100", async () => {
    const repo = "/repos/octo/many";
    for (let i = 0; i < 5; i++) await createHook(repo, { url: `https://example.com/many/${i}` });
    const first = await callJson("GET", `${repo}/hooks?per_page=2`);
    expect(first.body).toHaveLength(2);
    expect(first.headers.get("link")).toBe(
      `<${ORIGIN}${repo}/hooks?per_page=2&page=2>; rel="next", <${ORIGIN}${repo}/hooks?per_page=2&page=3>; rel="last"`,
    );
    const last = await callJson("GET", `${repo}/hooks?per_page=2&page=3`);
    expect(last.body).toHaveLength(1);
    expect(last.headers.get("link")).toContain('rel="prev"');
    expect(last.headers.get("link")).not.toContain('rel="next"');
    const clamped = await callJson("GET", `${repo}/hooks?per_page=500`);
    expect(clamped.body).toHaveLength(5);
    expect(clamped.headers.get("link")).toBeNull();
    const beyond = await callJson("GET", `${repo}/hooks?page=9`);
    expect(beyond.body).toEqual([]);
  });
});

describe("pings and tests", () => {
  it("POST /pings answers 204 and sends a ping", async () => {
    const receiver = interceptDeliveries();
    const hook = await createHook("/repos/octo/pings", { url: "https://example.com/pings" });
    const url = "https://example.com/pings";
    await eventually(() => expect(receiver.to(url)).toHaveLength(1));
    expect((await call("POST", `/repos/octo/pings/hooks/${hook.id}/pings`)).status).toBe(204);
    await eventually(() => expect(receiver.to(url)).toHaveLength(2));
    expect(receiver.to(url)[1]?.headers["x-github-event"]).toBe("ping");
    expect((await call("POST", "/repos/octo/pings/hooks/424242/pings")).status).toBe(404);
  });
});
