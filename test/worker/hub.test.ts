// Runs in workerd against real D1: the PubSubHubbub hub.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { hmac, toBase64, toHex, utf8 } from "../../src/relay/crypto";
import { call, callJson, eventually, interceptDeliveries, mintToken } from "./helpers";

const form = (fields: Record<string, string>) => new URLSearchParams(fields);

async function hooksOf(repo: string) {
  return (await callJson<any[]>("GET", `/repos/octo/${repo}/hooks`)).body;
}

describe("POST /hub", () => {
  it("subscribes with a form body, creating a form-encoded hook signed with hub.secret", async () => {
    const receiver = interceptDeliveries();
    const response = await call("POST", "/hub", {
      body: form({
        "hub.mode": "subscribe",
        "hub.topic": "https://github.com/octo/hubbed/events/push",
        "hub.callback": "https://example.com/hub-callback",
        "hub.secret": "hub-secret",
      }),
    });
    expect(response.status).toBe(204);
    const [hook] = await hooksOf("hubbed");
    expect(hook).toMatchObject({
      events: ["push"],
      config: { url: "https://example.com/hub-callback", content_type: "form", secret: "********" },
    });
    await eventually(() => expect(receiver.to("https://example.com/hub-callback")).toHaveLength(1));
    // Byte for byte against HMACs of the body as received, keyed with hub.secret, and not with another key.
    const [ping] = receiver.to("https://example.com/hub-callback");
    const body = utf8(ping?.body ?? "");
    expect(ping?.headers["x-hub-signature"]).toBe(`sha1=${toHex(await hmac("hub-secret", "SHA-1", body))}`);
    expect(ping?.headers["x-hub-signature-256"]).toBe(`sha256=${toHex(await hmac("hub-secret", "SHA-256", body))}`);
    const signed = utf8(`${ping?.headers["webhook-id"]}.${ping?.headers["webhook-timestamp"]}.${ping?.body}`);
    expect(ping?.headers["webhook-signature"]).toBe(`v1,${toBase64(await hmac("hub-secret", "SHA-256", signed))}`);
    expect(ping?.headers["x-hub-signature-256"]).not.toBe(
      `sha256=${toHex(await hmac("another-secret", "SHA-256", body))}`,
    );
  });

  it("takes multipart bodies (curl -F) and JSON bodies too", async () => {
    const multipart = new FormData();
    multipart.set("hub.mode", "subscribe");
    multipart.set("hub.topic", "https://github.com/octo/multi/events/issues");
    multipart.set("hub.callback", "https://example.com/multi");
    expect((await call("POST", "/hub", { body: multipart })).status).toBe(204);
    const json = await call("POST", "/hub", {
      json: {
        "hub.mode": "subscribe",
        "hub.topic": "https://relay.test/octo/multi/events/fork",
        "hub.callback": "https://example.com/json",
      },
    });
    expect(json.status).toBe(204);
    expect((await hooksOf("multi")).map((h) => h.events)).toEqual([["issues"], ["fork"]]);
  });

  it("delivers raw JSON for a .json topic or Accept: application/json", async () => {
    await call("POST", "/hub", {
      body: form({
        "hub.mode": "subscribe",
        "hub.topic": "https://github.com/octo/raw/events/push.json",
        "hub.callback": "https://example.com/raw-suffix",
      }),
    });
    await call("POST", "/hub", {
      headers: { accept: "application/json" },
      body: form({
        "hub.mode": "subscribe",
        "hub.topic": "https://github.com/octo/raw/events/push",
        "hub.callback": "https://example.com/raw-accept",
      }),
    });
    expect((await hooksOf("raw")).map((h) => h.config.content_type)).toEqual(["json", "json"]);
  });

  it("updates the existing hook when repeated, and unsubscribes event by event", async () => {
    const subscribe = (event: string) =>
      call("POST", "/hub", {
        body: form({
          "hub.mode": "subscribe",
          "hub.topic": `https://github.com/octo/repeat/events/${event}`,
          "hub.callback": "https://example.com/repeat",
        }),
      });
    await subscribe("push");
    await subscribe("issues");
    await subscribe("issues");
    expect((await hooksOf("repeat")).map((h) => h.events)).toEqual([["push", "issues"]]);
    const unsubscribe = (event: string) =>
      call("POST", "/hub", {
        body: form({
          "hub.mode": "unsubscribe",
          "hub.topic": `https://github.com/octo/repeat/events/${event}`,
          "hub.callback": "https://example.com/repeat",
        }),
      });
    expect((await unsubscribe("push")).status).toBe(204);
    expect((await hooksOf("repeat")).map((h) => h.events)).toEqual([["issues"]]);
    expect((await unsubscribe("issues")).status).toBe(204);
    expect(await hooksOf("repeat")).toEqual([]);
  });

  it.each([
    [
      { "hub.mode": "publish", "hub.topic": "https://github.com/o/r/events/push", "hub.callback": "https://e.com" },
      422,
      "hub.mode",
    ],
    [
      { "hub.mode": "subscribe", "hub.topic": "https://github.com/o/r", "hub.callback": "https://e.com" },
      422,
      "hub.topic",
    ],
    [
      { "hub.mode": "subscribe", "hub.topic": "https://github.com/o/r/events/nope", "hub.callback": "https://e.com" },
      422,
      "hub.topic",
    ],
    [
      {
        "hub.mode": "subscribe",
        "hub.topic": "https://github.com/o/r/events/push",
        "hub.callback": "github://campfire?room=1",
      },
      422,
      "hub.callback",
    ],
    [{ "hub.mode": "subscribe", "hub.topic": "https://github.com/o/r/events/push" }, 422, "hub.callback"],
  ])("refuses %j with a clear %i", async (fields, status, field) => {
    const response = await callJson("POST", "/hub", { body: form(fields as Record<string, string>) });
    expect(response.status).toBe(status);
    expect(response.body.errors).toContainEqual(expect.objectContaining({ field }));
  });

  it("needs a write token for the topic's owner", async () => {
    const fields = {
      "hub.mode": "subscribe",
      "hub.topic": "https://github.com/octo/guarded/events/push",
      "hub.callback": "https://example.com/guarded",
    };
    expect((await call("POST", "/hub", { token: null, body: form(fields) })).status).toBe(401);
    const reader = await mintToken({ login: "reader" });
    expect((await call("POST", "/hub", { token: reader, body: form(fields) })).status).toBe(403);
    const elsewhere = await mintToken({ login: "elsewhere", write: true, owners: ["someone"] });
    expect((await call("POST", "/hub", { token: elsewhere, body: form(fields) })).status).toBe(404);
    const count = await env.DB.prepare(
      "SELECT count(*) AS n FROM subscriptions WHERE subject = 'octo/guarded'",
    ).first();
    expect(count).toEqual({ n: 0 });
  });
});
