// Starts the relay locally with wrangler: local D1 (migrations applied first), Queues
// and Durable Objects, persisted on disk. Used by `npm start` and the end-to-end tests.
import { spawn, spawnSync } from "node:child_process";
import path from "node:path";
import { flagValue, hasFlag } from "./args.mjs";

const root = path.resolve(import.meta.dirname, "..");
/** The wrangler binary: $WRANGLER if set, else the project's own. */
const wrangler = process.env.WRANGLER || path.join(root, "node_modules", ".bin", "wrangler");

/** wrangler phones home on every start unless told not to; the relay needs no network. */
export const offlineEnv = {
  ...process.env,
  WRANGLER_SEND_METRICS: "false",
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
  CI: "true",
};

export const DEFAULT_IP = "127.0.0.1";
export const DEFAULT_PORT = 8787;

/**
 * Applies the D1 migrations to the local database. `extraArgs` go to wrangler as well
 * (e.g. `--env staging`). With `stdio: "pipe"` wrangler's output is kept, and is on the
 * thrown error's `output` when it fails.
 */
export function applyMigrations({ persistTo, stdio = "inherit", extraArgs = [] } = {}) {
  const args = ["d1", "migrations", "apply", "DB", "--local"];
  if (persistTo) args.push("--persist-to", persistTo);
  args.push(...extraArgs);
  const result = spawnSync(wrangler, args, { cwd: root, env: offlineEnv, stdio, encoding: "utf8" });
  if (result.status !== 0) {
    const reason = result.error ? result.error.message : `exit ${result.status ?? result.signal}`;
    const error = new Error(`wrangler d1 migrations apply failed (${reason})`);
    error.output = `${result.stdout ?? ""}${result.stderr ?? ""}`;
    throw error;
  }
  return result;
}

/**
 * The arguments for `wrangler dev`: `vars` as `--var` flags, then our defaults (listen on
 * `ip`:`port`, cron testing, no interactive hotkeys, `persistTo`), each left out when
 * `userArgs` set that flag themselves in any spelling, then `userArgs` untouched.
 */
export function wranglerDevArgs(userArgs = [], { ip = DEFAULT_IP, port = DEFAULT_PORT, persistTo, vars = {} } = {}) {
  const args = ["dev"];
  // First, so that `--var` (an array flag) can never swallow a positional argument of the user's.
  for (const [key, value] of Object.entries(vars)) args.push("--var", `${key}:${value}`);
  if (!hasFlag(userArgs, "--ip")) args.push("--ip", ip);
  if (!hasFlag(userArgs, "--port")) args.push("--port", String(port));
  if (!hasFlag(userArgs, "--test-scheduled")) args.push("--test-scheduled");
  if (!hasFlag(userArgs, "--show-interactive-dev-session")) args.push("--show-interactive-dev-session=false");
  if (persistTo && !hasFlag(userArgs, "--persist-to")) args.push("--persist-to", persistTo);
  args.push(...userArgs);
  return args;
}

/**
 * Where `wrangler dev` run with these arguments listens: `url` reaches it from this machine
 * (a wildcard `ip` such as 0.0.0.0 is reached on loopback); `ip` and `port` as given.
 */
export function devAddress(devArgs = []) {
  const ip = flagValue(devArgs, "--ip") ?? DEFAULT_IP;
  const port = Number(flagValue(devArgs, "--port") ?? DEFAULT_PORT);
  const protocol = flagValue(devArgs, "--local-protocol") === "https" ? "https" : "http";
  const wildcard = ip === "0.0.0.0" || ip === "::" || ip === "*";
  const host = wildcard ? (ip === "::" ? "::1" : "127.0.0.1") : ip;
  return { ip, port, wildcard, url: `${protocol}://${host.includes(":") ? `[${host}]` : host}:${port}` };
}

/**
 * Spawns `wrangler dev` in its own process group (so it can be stopped as a whole, workerd
 * included). `vars` become `--var` flags (they override .dev.vars and wrangler.toml);
 * `extraArgs` are passed through untouched and win over `ip`, `port` and `persistTo`.
 */
export function spawnWranglerDev({ port, ip, persistTo, vars = {}, extraArgs = [], stdio = "inherit" } = {}) {
  const args = wranglerDevArgs(extraArgs, { ip, port, persistTo, vars });
  return spawn(wrangler, args, { cwd: root, env: offlineEnv, stdio, detached: process.platform !== "win32" });
}

/** Sends `signal` to the child's whole process group (falling back to the child alone). */
export function signalGroup(child, signal) {
  if (!child.pid) return;
  try {
    if (process.platform === "win32") child.kill(signal);
    else process.kill(-child.pid, signal);
  } catch {
    // the group is already gone
  }
}
