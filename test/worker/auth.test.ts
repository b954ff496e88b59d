// Runs in workerd against real D1: tokens, and who may call what.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, callJson, createHook, mintToken } from "./helpers";

describe("token management", () => {
  it("mints a token shown once, lists it without the secret, and stores only its hash", async () => {
    const minted = await callJson("POST", "/tokens", { json: { login: "octocat", write: true, owners: ["Octo"] } });
    expect(minted.status).toBe(201);
    expect(minted.body).toMatchObject({ login: "octocat", write: true, owners: ["octo"] });
    expect(minted.body.token).toMatch(/^hr_/);

    const list = await callJson("GET", "/tokens");
    expect(list.status).toBe(200);
    expect(JSON.stringify(list.body)).not.toContain(minted.body.token);

    const stored = await env.DB.prepare("SELECT * FROM api_tokens").all();
    expect(JSON.stringify(stored.results)).not.toContain(minted.body.token);
  });

  it("revokes a token, after which it is refused", async () => {
    const token = await mintToken({ login: "temp" });
    const { body } = await callJson<{ id: number; login: string }[]>("GET", "/tokens");
    const id = body.find((t) => t.login === "temp")?.id;
    expect((await call("GET", "/repos/octo/repo/hooks", { token })).status).toBe(200);
    expect((await call("DELETE", `/tokens/${id}`)).status).toBe(204);
    expect((await call("GET", "/repos/octo/repo/hooks", { token })).status).toBe(401);
    expect((await call("DELETE", `/tokens/${id}`)).status).toBe(404);
  });

  it("lets only the admin manage tokens", async () => {
    const token = await mintToken({ login: "writer", write: true });
    expect((await call("GET", "/tokens", { token })).status).toBe(403);
    expect((await call("POST", "/tokens", { token, json: { login: "x" } })).status).toBe(403);
    expect((await call("GET", "/tokens", { token: null })).status).toBe(401);
  });

  it("validates new tokens", async () => {
    const bad = await callJson("POST", "/tokens", { json: { login: "", write: "yes" } });
    expect(bad.status).toBe(422);
    expect(bad.body.errors.map((e: { field: string }) => e.field).sort()).toEqual(["login", "write"]);
  });
});

describe("authentication and authorization", () => {
  it("answers 401 Requires authentication without a token or with a wrong one", async () => {
    for (const token of [null, "nope", "hr_forged"]) {
      const { status, body } = await callJson("GET", "/repos/octo/repo/hooks", { token });
      expect(status).toBe(401);
      expect(body).toEqual({ message: "Requires authentication", documentation_url: expect.any(String) });
    }
  });

  it("accepts token, Bearer and Basic credentials", async () => {
    const token = await mintToken({ login: "reader" });
    for (const authorization of [`token ${token}`, `Bearer ${token}`, `Basic ${btoa(`reader:${token}`)}`]) {
      expect((await call("GET", "/repos/octo/repo/hooks", { headers: { authorization } })).status).toBe(200);
    }
  });

  it("gives a read-only token 403 on writes", async () => {
    const token = await mintToken({ login: "reader" });
    const { status, body } = await callJson("POST", "/repos/octo/repo/hooks", {
      token,
      json: { config: { url: "https://example.com/hook" } },
    });
    expect(status).toBe(403);
    expect(body.message).toMatch(/read-only/);
  });

  it("hides repositories outside a token's owners as 404", async () => {
    const token = await mintToken({ login: "scoped", write: true, owners: ["mine"] });
    const hook = await createHook("/repos/other/repo");
    expect((await call("GET", "/repos/other/repo/hooks", { token })).status).toBe(404);
    expect((await call("GET", `/repos/other/repo/hooks/${hook.id}`, { token })).status).toBe(404);
    expect((await call("GET", "/repos/MINE/repo/hooks", { token })).status).toBe(200);
  });

  it("records the token's login as the hook's creator and the ping's sender", async () => {
    const token = await mintToken({ login: "hubot", write: true });
    const { body } = await callJson("POST", "/repos/octo/creator/hooks", {
      token,
      json: { config: { url: "https://example.com/creator" } },
    });
    const row = await env.DB.prepare("SELECT created_by FROM subscriptions WHERE id = ?").bind(body.id).first();
    expect(row).toEqual({ created_by: "hubot" });
    const ping = await env.DB.prepare("SELECT payload FROM events WHERE type = 'ping' ORDER BY rowid DESC").first<{
      payload: string;
    }>();
    expect(JSON.parse(ping?.payload ?? "{}").sender).toMatchObject({ login: "hubot", type: "User" });
  });
});

describe("health", () => {
  it("answers 200 JSON without a token", async () => {
    const { status, body } = await callJson("GET", "/health", { token: null });
    expect(status).toBe(200);
    expect(body.status).toBe("ok");
  });

  it("answers unknown paths with GitHub's 404", async () => {
    const { status, body } = await callJson("GET", "/nope");
    expect(status).toBe(404);
    expect(body.message).toBe("Not Found");
  });
});
