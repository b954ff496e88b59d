// Runs in workerd with real D1, Queues and Durable Objects: secrets are set once and never
// shown again. Every secret the relay keeps is set, then every read path (and the answers
// of writes) is asserted not to contain it, in any form a leak could take.
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { toBase64, utf8 } from "../../src/relay/crypto";
import { keepCredentials, maskUrl, redactCredentials, splitCredentials } from "../../src/relay/url-credentials";
import { call, callJson, eventually, fakeGitHub, interceptDeliveries, mintToken } from "./helpers";

const repo = "/repos/octo/secretive";
const SECRETS = {
  hook: "hook-secret-value-1",
  hookUrlPassword: "url-pass-value-2",
  ingest: "ingest-secret-value-3",
  alauda: "alauda-secret-value-4",
  alaudaUrlPassword: "alauda-pass-value-5",
  githubToken: "gh-token-value-6",
  hub: "hub-secret-value-7",
  hubUrlPassword: "hub-pass-value-8",
};
const HOOK_URL = `https://hookuser:${SECRETS.hookUrlPassword}@receiver.example/gh`;
const ALAUDA_URL = `https://alaudauser:${SECRETS.alaudaUrlPassword}@receiver.example/alauda`;
const HUB_URL = `https://hubuser:${SECRETS.hubUrlPassword}@receiver.example/hub`;

/** Every form a secret could leak in: as is, URL-encoded, and inside a Basic Authorization. */
const leaks = (text: string, secrets: string[]) =>
  secrets.filter(
    (secret) =>
      text.includes(secret) ||
      text.includes(encodeURIComponent(secret)) ||
      text.includes(toBase64(utf8(`hookuser:${secret}`))) ||
      text.includes(toBase64(utf8(`alaudauser:${secret}`))) ||
      text.includes(toBase64(utf8(`hubuser:${secret}`))),
  );

const fx = {
  hookId: 0,
  hubHookId: 0,
  attemptId: 0,
  alaudaId: 0,
  envId: "",
  deployHookSecret: "",
  token: "",
  autoBuildSecret: "",
};
const creates: { name: string; body: string }[] = [];

beforeAll(async () => {
  const github = fakeGitHub();
  const hook = await callJson("POST", `${repo}/hooks`, {
    json: { config: { url: HOOK_URL, content_type: "json", secret: SECRETS.hook } },
  });
  creates.push({ name: "POST hooks", body: JSON.stringify(hook.body) });
  fx.hookId = hook.body.id;
  const hub = await call("POST", "/hub", {
    body: new URLSearchParams({
      "hub.mode": "subscribe",
      "hub.topic": "https://github.com/octo/secretive/events/push",
      "hub.callback": HUB_URL,
      "hub.secret": SECRETS.hub,
    }),
  });
  expect(hub.status).toBe(204);
  const ingest = await callJson("PUT", `${repo}/ingest`, { json: { secret: SECRETS.ingest } });
  creates.push({ name: "PUT ingest", body: JSON.stringify(ingest.body) });
  const alauda = await callJson("POST", "/v1/hooks", {
    json: { subject_type: "job", subject: "job-1", events: ["job:fail"], url: ALAUDA_URL, secret: SECRETS.alauda },
  });
  creates.push({ name: "POST /v1/hooks", body: JSON.stringify(alauda.body) });
  fx.alaudaId = alauda.body.id;
  const environment = await callJson("POST", "/api/environments", { json: { name: "prod", repo: "octo/secretive" } });
  fx.envId = environment.body.id;
  const deployHook = await callJson("POST", `/api/environments/${fx.envId}/deploy-hooks`, { json: { name: "CI" } });
  fx.deployHookSecret = deployHook.body.url.split("/").pop();
  fx.token = await mintToken({ login: "holder", write: true });
  await callJson("POST", "/apps", { json: { name: "secretapp", space: "default" } });
  const auto = await callJson("POST", "/apps/secretapp-default/builds/auto", {
    json: { repo: "https://github.com/octo/secretive", branch: "main", username: "u", token: SECRETS.githubToken },
  });
  creates.push({ name: "POST builds/auto", body: JSON.stringify(auto.body) });
  fx.autoBuildSecret = github.hooks.at(-1)?.body.config.secret as string;

  const hooks = (await callJson<any[]>("GET", `${repo}/hooks`)).body;
  fx.hubHookId = hooks.find((h) => h.config.url.includes("hubuser"))?.id;
  fx.attemptId = await eventually(async () => {
    const row = await env.DB.prepare("SELECT id FROM delivery_attempts WHERE subscription_id = ?")
      .bind(fx.hookId)
      .first<{ id: number }>();
    expect(row).not.toBeNull();
    return row?.id as number;
  });
});

const everySecret = () => [...Object.values(SECRETS), fx.deployHookSecret, fx.token, fx.autoBuildSecret];

describe("no read path shows a secret", () => {
  const reads: [string, () => string][] = [
    ["GET hooks (list)", () => `${repo}/hooks`],
    ["GET a hook", () => `${repo}/hooks/${fx.hookId}`],
    ["GET a hook made through the hub", () => `${repo}/hooks/${fx.hubHookId}`],
    ["GET a hook's config", () => `${repo}/hooks/${fx.hookId}/config`],
    ["GET a hook's deliveries", () => `${repo}/hooks/${fx.hookId}/deliveries`],
    ["GET a delivery, with its request", () => `${repo}/hooks/${fx.hookId}/deliveries/${fx.attemptId}`],
    ["GET the ingest setup", () => `${repo}/ingest`],
    ["GET /v1/hooks (list)", () => "/v1/hooks"],
    ["GET a /v1/hooks hook", () => `/v1/hooks/${fx.alaudaId}`],
    ["GET environments", () => "/api/environments"],
    ["GET an environment", () => `/api/environments/${fx.envId}`],
    ["GET an environment's deploy hooks", () => `/api/environments/${fx.envId}/deploy-hooks`],
    ["GET tokens", () => "/tokens"],
    ["GET an app", () => "/apps/secretapp-default"],
    ["GET an auto build", () => "/apps/secretapp-default/builds/auto"],
    ["GET an auto build (/github)", () => "/apps/secretapp-default/builds/auto/github"],
  ];

  it.each(reads)("%s", async (_name, path) => {
    const response = await call("GET", path());
    expect(response.status).toBe(200);
    const text = await response.text();
    expect(leaks(text, everySecret())).toEqual([]);
  });

  it("shows the secrets set as ******** and the URLs' credentials masked, so the checks above see them", async () => {
    const hook = (await callJson("GET", `${repo}/hooks/${fx.hookId}`)).body;
    expect(hook.config).toMatchObject({ url: "https://hookuser:********@receiver.example/gh", secret: "********" });
    const hub = (await callJson("GET", `${repo}/hooks/${fx.hubHookId}`)).body;
    expect(hub.config).toMatchObject({ url: "https://hubuser:********@receiver.example/hub", secret: "********" });
    expect((await callJson("GET", `/v1/hooks/${fx.alaudaId}`)).body).toMatchObject({
      url: "https://alaudauser:********@receiver.example/alauda",
      secret: "********",
    });
    expect((await callJson("GET", `${repo}/ingest`)).body.secret).toBe("********");
    const detail = (await callJson("GET", `${repo}/hooks/${fx.hookId}/deliveries/${fx.attemptId}`)).body;
    expect(detail.url).toBe("https://hookuser:********@receiver.example/gh");
    expect(detail.request.headers.authorization).toBe("Basic ********");
    expect(detail.request.payload.hook.config.url).toBe("https://hookuser:********@receiver.example/gh");
  });

  it("nor does the answer of any write", async () => {
    const writes = [
      await call("PATCH", `${repo}/hooks/${fx.hookId}`, { json: { active: true } }),
      await call("PATCH", `${repo}/hooks/${fx.hookId}/config`, { json: { secret: SECRETS.hook } }),
      await call("PUT", `/v1/hooks/${fx.alaudaId}`, { json: { secret: SECRETS.alauda, url: ALAUDA_URL } }),
    ];
    for (const response of writes) {
      expect(response.status).toBe(200);
      expect(leaks(await response.text(), everySecret())).toEqual([]);
    }
    for (const { name, body } of creates) expect(leaks(body, everySecret()), name).toEqual([]);
  });

  it("nor an error about a URL with credentials", async () => {
    const duplicate = await call("POST", `${repo}/hooks`, { json: { config: { url: HOOK_URL } } });
    expect(duplicate.status).toBe(422);
    const blocked = await call("POST", `${repo}/hooks`, {
      json: { config: { url: `http://hookuser:${SECRETS.hookUrlPassword}@127.0.0.1/x` } },
    });
    expect(blocked.status).toBe(422);
    const malformed = await call("POST", "/v1/hooks", {
      json: { subject_type: "job", subject: "j", events: ["job:fail"], url: `nope://a:${SECRETS.alaudaUrlPassword}@` },
    });
    expect(malformed.status).toBe(422);
    for (const response of [duplicate, blocked, malformed]) {
      expect(leaks(await response.text(), everySecret())).toEqual([]);
    }
  });

  it("keeps the stored credentials when a config is sent back as it was shown", async () => {
    const receiver = interceptDeliveries();
    const path = `${repo}/hooks/${fx.hookId}/config`;
    const shown = (await callJson("GET", path)).body;
    expect((await callJson("PATCH", path, { json: { url: shown.url, content_type: "json" } })).status).toBe(200);
    const row = await env.DB.prepare("SELECT url FROM subscriptions WHERE id = ?").bind(fx.hookId).first();
    expect(row).toEqual({ url: HOOK_URL });
    expect((await call("POST", `${repo}/hooks/${fx.hookId}/pings`)).status).toBe(204);
    await eventually(() => expect(receiver.to("https://receiver.example/gh")).toHaveLength(1));
    expect(receiver.to("https://receiver.example/gh")[0]?.headers.authorization).toBe(
      `Basic ${btoa(`hookuser:${SECRETS.hookUrlPassword}`)}`,
    );
  });

  it("writes no secret to the logs while relaying", async () => {
    const levels = ["log", "info", "warn", "error", "debug"] as const;
    const spies = levels.map((level) => vi.spyOn(console, level));
    interceptDeliveries(() => {
      throw new TypeError(`connection refused by hookuser:${SECRETS.hookUrlPassword}@receiver.example`);
    });
    expect((await call("POST", `${repo}/hooks/${fx.hookId}/pings`)).status).toBe(204);
    await eventually(async () => {
      const { body } = await callJson<any[]>("GET", `${repo}/hooks/${fx.hookId}/deliveries?status=failure`);
      expect(body.length).toBeGreaterThan(0);
      expect(body[0].status).toContain("hookuser:********@receiver.example");
      expect(leaks(JSON.stringify(body), everySecret())).toEqual([]);
    });
    const logged = spies.flatMap((spy) => spy.mock.calls.map((args) => args.map(String).join(" ")));
    expect(leaks(logged.join("\n"), everySecret())).toEqual([]);
  });
});

describe("URL credentials", () => {
  it.each([
    ["https://user:pass@host/path", "https://user:********@host/path"],
    ["https://user:p@ss@host/path?q=1", "https://user:********@host/path?q=1"],
    ["https://token@host/path", "https://********@host/path"],
    ["https://user:@host/path", "https://user:@host/path"],
    ["https://host/path@elsewhere", "https://host/path@elsewhere"],
    ["https://host/path", "https://host/path"],
    ["not a url", "not a url"],
  ])("masks %s as %s", (url, shown) => {
    expect(maskUrl(url)).toBe(shown);
  });

  it("sends them as Basic auth, decoded, on a URL without them", () => {
    expect(splitCredentials("https://us%40er:p%3Ass@host:8443/p?q")).toEqual({
      url: "https://host:8443/p?q",
      authorization: `Basic ${btoa("us@er:p:ss")}`,
    });
    expect(splitCredentials("https://host/p")).toEqual({ url: "https://host/p", authorization: null });
  });

  it("keeps stored credentials only for the URL exactly as it was shown", () => {
    const stored = "https://user:pass@host/path";
    expect(keepCredentials("https://user:********@host/path", stored)).toBe(stored);
    expect(keepCredentials("https://user:********@host/other", stored)).toBe("https://user:********@host/other");
    expect(keepCredentials("https://user:new@host/path", stored)).toBe("https://user:new@host/path");
  });

  it("redacts them from text that quotes the URL", () => {
    expect(redactCredentials("failed: https://user:p%40ss@host", "https://user:p%40ss@host")).toBe(
      "failed: https://user:********@host",
    );
    expect(redactCredentials("the password p@ss was refused", "https://user:p%40ss@host")).toBe(
      "the password ******** was refused",
    );
  });
});
