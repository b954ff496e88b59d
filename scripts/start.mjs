// `npm start`: serve the relay on 127.0.0.1:8787 with local D1, Queues and Durable Objects.
// Extra arguments go to `wrangler dev` (e.g. `npm start -- --port 9000`).
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { applyMigrations, spawnWranglerDev } from "./relay.mjs";

const root = path.resolve(import.meta.dirname, "..");
const devVars = path.join(root, ".dev.vars");
const extraArgs = process.argv.slice(2);

// First run: make .dev.vars from the example with fresh secrets, and say so.
if (!existsSync(devVars)) {
  const adminToken = `hr_admin_${randomBytes(18).toString("base64url")}`;
  const example = readFileSync(path.join(root, ".dev.vars.example"), "utf8");
  writeFileSync(
    devVars,
    example
      .replace(/^ADMIN_TOKEN=.*$/m, `ADMIN_TOKEN=${adminToken}`)
      .replace(/^SECRETS_KEY=.*$/m, `SECRETS_KEY=${randomBytes(32).toString("base64")}`),
  );
  console.log(`\nCreated .dev.vars. Your local admin token:\n\n  ${adminToken}\n`);
} else {
  const token = /^ADMIN_TOKEN=(.*)$/m.exec(readFileSync(devVars, "utf8"))?.[1];
  if (token) console.log(`\nLocal admin token (from .dev.vars): ${token}\n`);
}

applyMigrations();

const portIndex = extraArgs.indexOf("--port");
const port = portIndex >= 0 ? Number(extraArgs[portIndex + 1]) : 8787;
const passThrough = portIndex >= 0 ? extraArgs.filter((_, i) => i !== portIndex && i !== portIndex + 1) : extraArgs;
const child = spawnWranglerDev({ port, extraArgs: passThrough });
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => child.kill(signal));
}
child.on("exit", (code) => process.exit(code ?? 0));
