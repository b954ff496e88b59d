import { env, exports } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";

describe("smoke", () => {
  it("health", async () => {
    const res = await exports.default.fetch("http://relay.test/health");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "ok", service: "hookrelay" });
  });
  it("creates a hook and pings it", async () => {
    const spy = vi.spyOn(globalThis, "fetch").mockImplementation(async () => new Response("ok"));
    const res = await exports.default.fetch("http://relay.test/repos/o/r/hooks", {
      method: "POST",
      headers: { authorization: "token test-admin-token", "content-type": "application/json" },
      body: JSON.stringify({ config: { url: "https://receiver.example/hook", secret: "s3cret" } }),
    });
    const body = await res.json();
    console.log(res.status, body);
    await vi.waitFor(() => expect(spy).toHaveBeenCalled(), { timeout: 5000 });
    console.log(spy.mock.calls[0]);
    const rows = await env.DB.prepare("select * from deliveries").all();
    console.log(rows.results);
  });
});
