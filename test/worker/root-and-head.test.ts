// Runs in workerd: GET / names the service and where to go next, and HEAD answers every GET
// route as GET would, without the body (uptime and link checkers send HEAD).
import { describe, expect, it } from "vitest";
import pkg from "../../package.json";
import { call, callJson, createHook } from "./helpers";

describe("GET /", () => {
  it("names the service, its version and its links, without a token", async () => {
    const { status, body } = await callJson("GET", "/", { token: null });
    expect(status).toBe(200);
    expect(body).toEqual({
      service: "hookrelay",
      version: pkg.version,
      links: { dashboard: "/dashboard", openapi: "/openapi.json", health: "/health" },
    });
  });
});

describe("HEAD", () => {
  async function headLikeGet(path: string, token: string | null | undefined = undefined) {
    const get = await call("GET", path, { token });
    const getBody = new Uint8Array(await get.arrayBuffer());
    const head = await call("HEAD", path, { token });
    const headBody = new Uint8Array(await head.arrayBuffer());
    expect(head.status).toBe(get.status);
    expect(headBody.byteLength).toBe(0);
    expect(head.headers.get("content-type")).toBe(get.headers.get("content-type"));
    expect(head.headers.get("content-length")).toBe(String(getBody.byteLength));
    return { get, head, getBody };
  }

  it("answers the relay's own routes as GET does, with no body", async () => {
    const { head } = await headLikeGet("/health", null);
    expect(head.status).toBe(200);
    expect((await headLikeGet("/", null)).head.status).toBe(200);
    expect((await headLikeGet("/tokens")).head.status).toBe(200);
  });

  it("answers GitHub's routes with their headers (Link, X-GitHub-Media-Type)", async () => {
    for (let i = 0; i < 3; i++) await createHook("/repos/octo/head", { url: `https://receiver.example/head${i}` });
    const { get, head } = await headLikeGet("/repos/octo/head/hooks?per_page=1");
    expect(head.status).toBe(200);
    expect(head.headers.get("link")).toBe(get.headers.get("link"));
    expect(head.headers.get("link")).toContain('rel="next"');
    expect(head.headers.get("x-github-media-type")).toBe("github.v3; format=json");
  });

  it("answers Akkeris', Flightcontrol's and Alauda's routes", async () => {
    expect((await headLikeGet("/apps")).head.status).toBe(200);
    expect((await headLikeGet("/api/environments")).head.status).toBe(200);
    expect((await headLikeGet("/v1/hooks?subject_type=build_repo&subject=default/web")).head.status).toBe(200);
  });

  it("answers errors with their status and no body: 401, 404", async () => {
    expect((await headLikeGet("/repos/octo/head/hooks", null)).head.status).toBe(401);
    expect((await headLikeGet("/apps/no-such-app")).head.status).toBe(404);
    expect((await headLikeGet("/nowhere", null)).head.status).toBe(404);
  });
});
