// `npm start`: serve the relay locally with local D1, Queues and Durable Objects, on
// 127.0.0.1:8787 unless told otherwise. Every argument goes to `wrangler dev` as given, e.g.
// `npm start -- --ip 0.0.0.0 --port 9002 --var DELIVERY_TIMEOUT_MS:3000`.
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import path from "node:path";
import { pickFlags } from "./args.mjs";
import { applyMigrations, devAddress, signalGroup, spawnWranglerDev } from "./relay.mjs";

const root = path.resolve(import.meta.dirname, "..");
const devVars = path.join(root, ".dev.vars");
const userArgs = process.argv.slice(2);

// First run: make .dev.vars from the example with fresh secrets.
let adminToken;
let createdDevVars = false;
if (!existsSync(devVars)) {
  adminToken = `hr_admin_${randomBytes(18).toString("base64url")}`;
  const example = readFileSync(path.join(root, ".dev.vars.example"), "utf8");
  writeFileSync(
    devVars,
    example
      .replace(/^ADMIN_TOKEN=.*$/m, `ADMIN_TOKEN=${adminToken}`)
      .replace(/^SECRETS_KEY=.*$/m, `SECRETS_KEY=${randomBytes(32).toString("base64")}`),
  );
  createdDevVars = true;
} else {
  adminToken = /^ADMIN_TOKEN=(.*)$/m.exec(readFileSync(devVars, "utf8"))?.[1]?.trim();
}
// `--var ADMIN_TOKEN:…` overrides .dev.vars.
const varToken = userArgs.map((arg) => /^(?:--var=)?ADMIN_TOKEN:(.*)$/.exec(arg)?.[1]).findLast((v) => v !== undefined);
if (varToken !== undefined) adminToken = varToken;

// Migrations go to the same state directory, config and environment as the server. Their
// output is only shown when they fail.
try {
  applyMigrations({ stdio: "pipe", extraArgs: pickFlags(userArgs, ["--persist-to", "--config", "-c", "--env", "-e"]) });
} catch (error) {
  process.stderr.write(error.output ?? "");
  console.error(`\n${error.message}`);
  process.exit(1);
}

const child = spawnWranglerDev({ extraArgs: userArgs });
const { url, ip, wildcard } = devAddress(userArgs);

// Ctrl-C, kill, or the terminal closing: stop wrangler's whole process group (wrangler and
// workerd), so nothing keeps holding the port, then leave.
let stopping = false;
function stop() {
  if (stopping) return;
  stopping = true;
  // After a hangup the terminal is gone; writing to it must not crash us before the kill.
  for (const stream of [process.stdout, process.stderr]) stream.on("error", () => {});
  signalGroup(child, "SIGTERM");
  setTimeout(() => signalGroup(child, "SIGKILL"), 5000);
}
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) process.on(signal, stop);
child.on("error", (error) => {
  console.error(`Could not run wrangler: ${error.message}`);
  process.exit(1);
});
child.on("exit", (code) => {
  signalGroup(child, "SIGKILL"); // whatever wrangler left behind in its group
  process.exit(stopping ? 0 : (code ?? 1));
});
process.on("exit", () => {
  if (child.exitCode === null && child.signalCode === null) signalGroup(child, "SIGTERM");
});

/** Whether `target` answers 200 (any certificate accepted: this is the local server). */
function answers(target) {
  return new Promise((resolve) => {
    const client = target.startsWith("https:") ? https : http;
    const request = client.get(target, { timeout: 2000, rejectUnauthorized: false }, (response) => {
      response.resume();
      resolve(response.statusCode === 200);
    });
    request.on("timeout", () => request.destroy());
    request.on("error", () => resolve(false));
  });
}

function box(lines) {
  const width = Math.max(...lines.map((line) => line.length));
  return [
    `┌${"─".repeat(width + 2)}┐`,
    ...lines.map((line) => `│ ${line.padEnd(width)} │`),
    `└${"─".repeat(width + 2)}┘`,
  ].join("\n");
}

// The address and token last, once the server answers, so they are not buried under
// wrangler's banner.
const deadline = Date.now() + 120_000;
let serving = false;
while (!stopping && child.exitCode === null && Date.now() < deadline) {
  serving = await answers(`${url}/health`);
  if (serving) break;
  await new Promise((resolve) => setTimeout(resolve, 250));
}
if (!stopping && child.exitCode === null) {
  const lines = [`hookrelay on ${url}`];
  if (wildcard) lines.push(`listening on ${ip} (all interfaces)`);
  lines.push(`admin token: ${adminToken || "(none: set ADMIN_TOKEN in .dev.vars)"}`);
  if (createdDevVars) lines.push("(new: saved in .dev.vars)");
  if (!serving) lines.push(`(${url}/health is not answering yet)`);
  console.log(`\n${box(lines)}\n`);
}
