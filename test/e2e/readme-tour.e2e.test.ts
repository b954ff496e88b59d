// The README's API tour is a test: its `sh` blocks between <!-- tour:start --> and
// <!-- tour:end --> run in order, in one `bash -euo pipefail`, against a relay started as
// `npm start` would, with a fake GitHub's port as GITHUB_API_URL. A failing command fails it.
import { spawn } from "node:child_process";
import { createHmac } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import pkg from "../../package.json";
import { freePort, type Relay, startRelay } from "./support/relay";

const root = path.resolve(import.meta.dirname, "..", "..");

/** The tour's shell blocks, in order. */
function tourBlocks(readme: string): string[] {
  const start = readme.indexOf("<!-- tour:start -->");
  const end = readme.indexOf("<!-- tour:end -->");
  if (start < 0 || end < start) throw new Error("README.md has no <!-- tour:start --> … <!-- tour:end -->");
  return [...readme.slice(start, end).matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map((match) => match[1] as string);
}

interface Received {
  path: string;
  headers: Record<string, string>;
  body: string;
}

const blocks = tourBlocks(readFileSync(path.join(root, "README.md"), "utf8"));

describe("the README's API tour", () => {
  it("has its blocks, and every curl in them fails on an HTTP error", () => {
    expect(blocks.length).toBeGreaterThanOrEqual(10);
    const curls = blocks.flatMap((block) => block.split("\n")).filter((line) => /\bcurl\s/.test(line));
    expect(curls.length).toBeGreaterThan(40);
    for (const line of curls) {
      // Either curl fails on an HTTP error, or the line checks the status code itself.
      const failsOnError = /--fail-with-body|\scurl\s+-[a-zA-Z]*f/.test(` ${line}`);
      const checksStatus = /^test "\$\(curl .* -w '%\{http_code\}'/.test(line.trim());
      expect(failsOnError || checksStatus, line).toBe(true);
    }
    // It talks to $RELAY, never to a port of its own choosing.
    expect(blocks.join("\n")).not.toMatch(/curl[^\n]*127\.0\.0\.1:8787/);
  });

  describe("run top to bottom", () => {
    let relay: Relay;
    let tour: string;
    let result: { code: number | null; stdout: string; stderr: string };

    beforeAll(async () => {
      tour = mkdtempSync(path.join(tmpdir(), "hookrelay-tour-"));
      const receiverPort = await freePort();
      const githubPort = await freePort();
      relay = await startRelay({ GITHUB_API_URL: `http://127.0.0.1:${githubPort}` });
      const script = blocks.map((block, i) => `echo "::tour block ${i + 1}::"\n${block}`).join("\n");
      writeFileSync(path.join(tour, "tour.sh"), script);
      result = await new Promise((resolve) => {
        const child = spawn("bash", ["-euo", "pipefail", path.join(tour, "tour.sh")], {
          cwd: root,
          detached: true,
          stdio: ["ignore", "pipe", "pipe"],
          env: {
            ...process.env,
            PATH: `${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH ?? ""}`,
            RELAY: relay.url,
            ADMIN: relay.adminToken,
            TOUR: tour,
            RECEIVER_PORT: String(receiverPort),
            GITHUB_PORT: String(githubPort),
          },
        });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (chunk) => {
          stdout += chunk;
        });
        child.stderr.on("data", (chunk) => {
          stderr += chunk;
        });
        const timer = setTimeout(() => child.kill("SIGKILL"), 150_000);
        child.on("exit", (code) => {
          clearTimeout(timer);
          // Whatever the tour left running in the background (its receivers, if it failed early).
          try {
            if (child.pid) process.kill(-child.pid, "SIGKILL");
          } catch {}
          resolve({ code, stdout, stderr });
        });
      });
    }, 240_000);

    afterAll(async () => {
      await relay?.stop();
      if (tour) rmSync(tour, { recursive: true, force: true });
    });

    function received(): Received[] {
      const file = path.join(tour, "received.jsonl");
      if (!existsSync(file)) return [];
      return readFileSync(file, "utf8")
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line) as Received);
    }

    it("succeeds, block after block", () => {
      const blocksRun = [...result.stdout.matchAll(/::tour block (\d+)::/g)].map((m) => Number(m[1]));
      const context = `exit ${result.code} in block ${blocksRun.at(-1)} of ${blocks.length}\n--- stdout (tail)\n${result.stdout.slice(-3000)}\n--- stderr\n${result.stderr.slice(-3000)}`;
      expect(result.code, context).toBe(0);
      expect(blocksRun.at(-1), context).toBe(blocks.length);
    });

    it("answered what the README says", () => {
      const out = result.stdout;
      expect(out).toContain('{"status":"ok","service":"hookrelay"}');
      expect(out).toContain(`{"service":"hookrelay","version":"${pkg.version}"`);
      expect(out).toMatch(/HTTP\/1\.1 200/); // curl -I on /health
      expect(out).toMatch(/"message":"Accepted","event_id":"[^"]+","deliveries":1/);
      expect(out).toContain(`${relay.url}/ingest/github/octo-org/app`);
      expect(out).toContain('{"status":"successful"}');
      expect(out).toContain('{"code":201,"message":"Roger that, message received."}');
      expect(out).toMatch(/\{"success":"true","deploymentId":"\d+"\}/);
      expect(out).toMatch(new RegExp(`${relay.url}/api/deploy-hook/\\d+/\\S+`));
    });

    it("delivered signed webhooks to the tour's receiver", () => {
      const all = received();
      const hook = all.filter((r) => r.path === "/ci");
      const events = hook.map((r) => r.headers["x-github-event"]);
      expect(events).toContain("ping");
      expect(events).toContain("push");
      for (const delivery of hook) {
        const expected = `sha256=${createHmac("sha256", "s3cret").update(delivery.body).digest("hex")}`;
        expect(delivery.headers["x-hub-signature-256"]).toBe(expected);
      }
      const push = hook.find((r) => r.headers["x-github-event"] === "push");
      expect(JSON.parse(push?.body ?? "{}")).toMatchObject({ ref: "refs/heads/main" });
      const jobs = all.filter((r) => r.path === "/jobs");
      expect(jobs.map((r) => r.headers["x-hookrelay-event"])).toEqual(["job:fail"]);
      expect(JSON.parse(jobs[0]?.body ?? "{}")).toMatchObject({ event: "job:fail", reason: "OOM" });
    });
  });
});
