// Starts the real Worker with `wrangler dev` (local D1, Queues, cron) on a free port,
// in a throwaway state directory, exactly as `npm start` would serve it.
import type { ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { sign } from "@octokit/webhooks-methods";
// @ts-expect-error: plain ESM helper shared with `npm start`.
import { applyMigrations, spawnWranglerDev } from "../../../scripts/relay.mjs";

export const ADMIN_TOKEN = "e2e-admin-token";

export interface Relay {
  url: string;
  adminToken: string;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}

export async function startRelay(vars: Record<string, string> = {}): Promise<Relay> {
  const persistTo = mkdtempSync(path.join(tmpdir(), "hookrelay-e2e-"));
  applyMigrations({ persistTo, stdio: "ignore" });
  const port = await freePort();
  let output = "";
  const child: ChildProcess = spawnWranglerDev({
    port,
    persistTo,
    stdio: "pipe",
    vars: {
      ADMIN_TOKEN,
      SECRETS_KEY: "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
      ALLOW_PRIVATE_TARGETS: "true",
      DELIVERY_RETRY_SCHEDULE: "1,1",
      DELIVERY_TIMEOUT_MS: "3000",
      ...vars,
    },
  });
  child.stdout?.on("data", (chunk) => {
    output += chunk;
  });
  child.stderr?.on("data", (chunk) => {
    output += chunk;
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited early:\n${output}`);
    try {
      const response = await fetch(`${url}/health`);
      if (response.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`relay did not start within 90 s:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return {
    url,
    adminToken: ADMIN_TOKEN,
    async stop() {
      if (child.exitCode === null && child.pid) {
        const exited = new Promise((resolve) => child.once("exit", resolve));
        try {
          process.kill(-child.pid, "SIGTERM");
        } catch {
          child.kill("SIGTERM");
        }
        await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5000))]);
        if (child.exitCode === null) {
          try {
            process.kill(-child.pid, "SIGKILL");
          } catch {
            child.kill("SIGKILL");
          }
        }
      }
      rmSync(persistTo, { recursive: true, force: true });
    },
  };
}

/**
 * Posts a webhook to a repository's ingest URL as GitHub does: signed with the ingest secret
 * (X-Hub-Signature-256), with a fresh X-GitHub-Delivery.
 */
export async function sendWebhook(
  relayUrl: string,
  target: { owner: string; repo: string; secret: string },
  body: string,
  event = "push",
): Promise<Response> {
  return fetch(`${relayUrl}/ingest/github/${target.owner}/${target.repo}`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "x-github-event": event,
      "x-github-delivery": randomUUID(),
      "x-hub-signature-256": await sign(target.secret, body),
    },
    body,
  });
}
