// Pure policies (retry, signing, targets, pagination), run in workerd for its WebCrypto.
import { describe, expect, it } from "vitest";
import readme from "../../README.md?raw";
import { config, type Env } from "../../src/env";
import { linkHeader, readPage } from "../../src/http/pagination";
import { hmac, toBase64, toHex, utf8 } from "../../src/relay/crypto";
import { decide, MAX_QUEUE_DELAY_SECONDS, parseRetryAfter } from "../../src/relay/retry";
import { signatureHeaders, verifyHubSignature } from "../../src/relay/signing";
import { targetProblem } from "../../src/relay/targets";
import wranglerToml from "../../wrangler.toml?raw";

// The relay's own default schedule (src/env.ts), as a deployment without DELIVERY_RETRY_SCHEDULE runs it.
const schedule = config({} as Env).retrySchedule;

describe("retry policy", () => {
  it("succeeds on 2xx and only 2xx", () => {
    expect(decide({ statusCode: 204 }, 1, schedule)).toEqual({ kind: "succeeded" });
    expect(decide({ statusCode: 301 }, 1, schedule, 0.5).kind).toBe("retry");
  });

  it("follows the schedule with ±20% jitter, reaching past 24 hours in all", () => {
    expect(schedule).toEqual([5, 300, 1800, 7200, 18000, 36000, 36000, 36000]);
    expect(decide({ statusCode: 500 }, 2, schedule, 0)).toEqual({ kind: "retry", delaySeconds: 240 });
    expect(decide({ statusCode: 500 }, 2, schedule, 0.999)).toEqual({ kind: "retry", delaySeconds: 360 });
    // The shortest the whole schedule can be, every delay jittered down by 20%, as decide computes them.
    const shortest = schedule.reduce((sum, _base, i) => {
      const verdict = decide({ statusCode: 500 }, i + 1, schedule, 0);
      return sum + (verdict.kind === "retry" ? verdict.delaySeconds : Number.NaN);
    }, 0);
    expect(shortest).toBeGreaterThan(24 * 3600);
    expect(decide({ statusCode: null }, schedule.length + 1, schedule)).toEqual({ kind: "exhausted" });
  });

  it("ships the same schedule in wrangler.toml as the default, and the README says so", () => {
    const shipped = /^DELIVERY_RETRY_SCHEDULE = "([^"]+)"/m.exec(wranglerToml)?.[1];
    expect(shipped?.split(",").map(Number)).toEqual(schedule);
    expect(readme).toContain(`\`${shipped}\``);
  });

  it("waits at least as long as Retry-After, capped at the queue's maximum delay", () => {
    expect(decide({ statusCode: 429, retryAfterSeconds: 90 }, 1, schedule, 0.5)).toEqual({
      kind: "retry",
      delaySeconds: 90,
    });
    expect(decide({ statusCode: 503, retryAfterSeconds: 999_999 }, 1, schedule)).toEqual({
      kind: "retry",
      delaySeconds: MAX_QUEUE_DELAY_SECONDS,
    });
    expect(parseRetryAfter("120")).toBe(120);
    expect(parseRetryAfter(new Date(Date.now() + 30_000).toUTCString())).toBeGreaterThanOrEqual(29);
    expect(parseRetryAfter("soon")).toBeNull();
  });

  it("stops on 410 Gone", () => {
    expect(decide({ statusCode: 410 }, 1, schedule)).toEqual({ kind: "gone" });
  });
});

describe("signing", () => {
  const body = utf8('{"hello":"world"}');

  it("signs GitHub-style and Standard Webhooks-style with the secret", async () => {
    const headers = await signatureHeaders({ id: "msg_1", body, secret: "k", timestamp: 1700000000 });
    expect(headers["x-hub-signature-256"]).toBe(`sha256=${toHex(await hmac("k", "SHA-256", body))}`);
    expect(headers["x-hub-signature"]).toBe(`sha1=${toHex(await hmac("k", "SHA-1", body))}`);
    const standard = await hmac("k", "SHA-256", utf8('msg_1.1700000000.{"hello":"world"}'));
    expect(headers["webhook-signature"]).toBe(`v1,${toBase64(standard)}`);
    expect(headers).toMatchObject({ "webhook-id": "msg_1", "webhook-timestamp": "1700000000" });
  });

  it("sends ids and timestamps but no signatures without a secret", async () => {
    const headers = await signatureHeaders({ id: "msg_2", body, secret: null, timestamp: 1 });
    expect(Object.keys(headers).sort()).toEqual(["webhook-id", "webhook-timestamp"]);
  });

  it("verifies sha256 first, then sha1, and rejects anything else", async () => {
    const sha256 = `sha256=${toHex(await hmac("k", "SHA-256", body))}`;
    const sha1 = `sha1=${toHex(await hmac("k", "SHA-1", body))}`;
    expect(await verifyHubSignature(new Headers({ "x-hub-signature-256": sha256 }), body, "k")).toBe(true);
    expect(await verifyHubSignature(new Headers({ "x-hub-signature": sha1 }), body, "k")).toBe(true);
    expect(await verifyHubSignature(new Headers({ "x-hub-signature-256": sha256 }), body, "other")).toBe(false);
    expect(await verifyHubSignature(new Headers({ "x-hub-signature-256": sha1 }), body, "k")).toBe(false);
    expect(await verifyHubSignature(new Headers(), body, "k")).toBe(false);
  });
});

describe("outbound targets", () => {
  it.each([
    ["http://localhost:8080/x", "private"],
    ["http://127.0.0.1/x", "private"],
    ["http://10.1.2.3/x", "private"],
    ["http://192.168.0.1/x", "private"],
    ["http://169.254.169.254/latest/meta-data", "private"],
    ["http://[::1]/x", "private"],
    ["ftp://example.com/x", "http or https"],
  ])("refuses %s", (url, problem) => {
    expect(targetProblem(url, false)).toContain(problem);
  });

  it("allows public hosts, and private ones when configured to", () => {
    expect(targetProblem("https://hooks.example.com/x", false)).toBeNull();
    expect(targetProblem("http://127.0.0.1:9000/x", true)).toBeNull();
  });
});

describe("pagination", () => {
  it("clamps per_page and ignores nonsense", () => {
    expect(readPage({ per_page: "500", page: "2" })).toMatchObject({ perPage: 100, page: 2, offset: 100 });
    expect(readPage({ per_page: "-1", page: "x" })).toMatchObject({ perPage: 30, page: 1 });
  });

  it("omits prev and first on page 1, and next and last on the last page", () => {
    const url = new URL("https://relay.test/repos/o/r/hooks");
    expect(linkHeader(url, readPage({}), 30)).toBeNull();
    expect(linkHeader(url, readPage({ page: "1" }), 31)).toBe(
      '<https://relay.test/repos/o/r/hooks?page=2&per_page=30>; rel="next", <https://relay.test/repos/o/r/hooks?page=2&per_page=30>; rel="last"',
    );
    expect(linkHeader(url, readPage({ page: "2" }), 31)).toBe(
      '<https://relay.test/repos/o/r/hooks?page=1&per_page=30>; rel="first", <https://relay.test/repos/o/r/hooks?page=1&per_page=30>; rel="prev"',
    );
  });
});
