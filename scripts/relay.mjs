// Starts the relay locally with wrangler: local D1 (migrations applied first), Queues
// and Durable Objects, persisted on disk. Used by `npm start` and the end-to-end tests.
import { spawn, spawnSync } from "node:child_process";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "..");
const wrangler = path.join(root, "node_modules", ".bin", "wrangler");

/** wrangler phones home on every start unless told not to; the relay needs no network. */
export const offlineEnv = {
  ...process.env,
  WRANGLER_SEND_METRICS: "false",
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
  CI: "true",
};

export function applyMigrations({ persistTo, stdio = "inherit" } = {}) {
  const args = ["d1", "migrations", "apply", "DB", "--local"];
  if (persistTo) args.push("--persist-to", persistTo);
  const result = spawnSync(wrangler, args, { cwd: root, env: offlineEnv, stdio });
  if (result.status !== 0) throw new Error(`wrangler d1 migrations apply failed (${result.status})`);
}

/**
 * Spawns `wrangler dev`. `vars` become `--var` flags (they override .dev.vars and
 * wrangler.toml); `extraArgs` are passed through untouched.
 */
export function spawnWranglerDev({ port, persistTo, vars = {}, extraArgs = [], stdio = "inherit" }) {
  const args = [
    "dev",
    "--ip",
    "127.0.0.1",
    "--port",
    String(port),
    "--test-scheduled",
    "--show-interactive-dev-session=false",
  ];
  if (persistTo) args.push("--persist-to", persistTo);
  for (const [key, value] of Object.entries(vars)) args.push("--var", `${key}:${value}`);
  args.push(...extraArgs);
  return spawn(wrangler, args, { cwd: root, env: offlineEnv, stdio, detached: process.platform !== "win32" });
}
