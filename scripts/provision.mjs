// `npm run provision`: creates what the relay needs in your Cloudflare account, once. Safe to
// rerun: it only creates what is missing.
//   - the D1 database `hookrelay`, whose id it writes into wrangler.toml ([[d1_databases]] DB)
//   - the queues `hookrelay-deliveries` and `hookrelay-dead-letters`
//   - the Worker secrets SECRETS_KEY and ADMIN_TOKEN, with fresh random values, when unset
//     (`--rotate-admin-token` replaces ADMIN_TOKEN). The admin token is printed once.
// Options: --config <path> (or $HOOKRELAY_WRANGLER_CONFIG) for another wrangler.toml;
// $WRANGLER for another wrangler binary.
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { flagValue } from "./args.mjs";
import { LOGIN_HINT, whoami } from "./login.mjs";

const root = path.resolve(import.meta.dirname, "..");

export const DATABASE = "hookrelay";
export const QUEUES = ["hookrelay-deliveries", "hookrelay-dead-letters"];

export const newAdminToken = () => `hr_admin_${randomBytes(18).toString("base64url")}`;
export const newSecretsKey = () => randomBytes(32).toString("base64");

const USAGE = "Usage: npm run provision [-- --rotate-admin-token] [--config wrangler.toml]";

class ProvisionError extends Error {
  constructor(message, exitCode = 1) {
    super(message);
    this.exitCode = exitCode;
  }
}

/**
 * `toml` with `database_id` of the [[d1_databases]] entry whose binding is `binding` set to
 * `id` (comments and everything else kept). `previous` is the id it had, if any.
 */
export function setDatabaseId(toml, id, binding = "DB") {
  const lines = toml.split("\n");
  const header = /^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(#.*)?$/;
  let start = -1;
  for (let i = 0; i <= lines.length; i++) {
    if (i < lines.length && !header.test(lines[i])) continue;
    if (start >= 0) {
      const section = lines.slice(start + 1, i);
      const bindingLine = section.findIndex((line) => new RegExp(`^\\s*binding\\s*=\\s*"${binding}"`).test(line));
      if (bindingLine >= 0) {
        const idLine = section.findIndex((line) => /^\s*database_id\s*=/.test(line));
        if (idLine >= 0) {
          const match = /^(\s*database_id\s*=\s*)"([^"]*)"(.*)$/.exec(section[idLine]);
          if (!match) throw new Error(`cannot read the line: ${section[idLine]}`);
          lines[start + 1 + idLine] = `${match[1]}"${id}"${match[3]}`;
          return { toml: lines.join("\n"), previous: match[2] };
        }
        lines.splice(start + 2 + bindingLine, 0, `database_id = "${id}"`);
        return { toml: lines.join("\n"), previous: undefined };
      }
    }
    start = i < lines.length && header.exec(lines[i])?.[1] === "d1_databases" ? i : -1;
  }
  throw new Error(`no [[d1_databases]] entry with binding = "${binding}"`);
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI colour codes
const ANSI_COLOUR = /\x1b\[[0-9;]*m/g;

/** The names in the `name` column of a table printed by `wrangler queues list`. */
export function queueNamesFromTable(text) {
  const rows = text
    .replace(ANSI_COLOUR, "")
    .split("\n")
    .filter((line) => line.trimStart().startsWith("│"))
    .map((line) =>
      line
        .trim()
        .slice(1, -1)
        .split("│")
        .map((cell) => cell.trim()),
    );
  const column = rows[0]?.indexOf("name") ?? -1;
  if (column < 0) return [];
  return rows.slice(1).map((row) => row[column] ?? "");
}

function parseArgs(argv) {
  const options = {
    rotateAdminToken: false,
    config: path.resolve(
      flagValue(argv, "--config") ?? process.env.HOOKRELAY_WRANGLER_CONFIG ?? path.join(root, "wrangler.toml"),
    ),
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--rotate-admin-token") options.rotateAdminToken = true;
    else if (arg === "--config") i++;
    else if (arg.startsWith("--config=")) continue;
    else if (arg === "--help" || arg === "-h") options.help = true;
    else throw new ProvisionError(`Unknown argument: ${arg}\n${USAGE}`, 2);
  }
  return options;
}

function main(argv) {
  const options = parseArgs(argv);
  if (options.help) {
    console.log(USAGE);
    return;
  }
  const wranglerBin = process.env.WRANGLER || path.join(root, "node_modules", ".bin", "wrangler");
  const env = { ...process.env, WRANGLER_SEND_METRICS: "false" };

  /** Runs wrangler with the config; its output is returned, and shown only when it fails. */
  function wrangler(args, { input, allowFailure = false } = {}) {
    const result = spawnSync(wranglerBin, [...args, "--config", options.config], {
      cwd: root,
      env,
      input,
      encoding: "utf8",
      stdio: ["pipe", "pipe", "pipe"],
    });
    if (result.error) throw new ProvisionError(`Could not run ${wranglerBin}: ${result.error.message}`);
    const ran = { ...result, args, output: `${result.stdout}${result.stderr}` };
    if (result.status !== 0 && !allowFailure) throw failed(ran);
    return ran;
  }

  function failed({ args, status, signal, output }) {
    const auth = /not authenticated|wrangler login|CLOUDFLARE_API_TOKEN|Authentication error|\b10000\b/i.test(output);
    return new ProvisionError(
      `\`wrangler ${args.join(" ")}\` failed (exit ${status ?? signal}):\n${output.trim()}${auth ? `\n\n${LOGIN_HINT}` : ""}`,
      status || 1,
    );
  }

  function json(args) {
    const { stdout } = wrangler(args);
    const start = stdout.search(/[[{]/);
    try {
      return JSON.parse(stdout.slice(start));
    } catch {
      throw new ProvisionError(`\`wrangler ${args.join(" ")}\` did not print JSON:\n${stdout}`);
    }
  }

  let toml;
  try {
    toml = readFileSync(options.config, "utf8");
  } catch (error) {
    throw new ProvisionError(`Cannot read the wrangler config ${options.config}: ${error.message}`);
  }

  // Who are we? Fails clearly when not logged in, before anything else runs.
  const { user, problem } = whoami(wranglerBin, { cwd: root, env, extraArgs: ["--config", options.config] });
  if (problem) throw new ProvisionError(problem);
  const accounts = user.accounts ?? [];
  if (accounts.length > 1 && !process.env.CLOUDFLARE_ACCOUNT_ID && !/^\s*account_id\s*=/m.test(toml)) {
    throw new ProvisionError(
      `You have access to ${accounts.length} Cloudflare accounts; say which one with CLOUDFLARE_ACCOUNT_ID (or account_id in wrangler.toml):\n${accounts.map((a) => `  ${a.id}  ${a.name}`).join("\n")}`,
    );
  }
  console.log(
    `Cloudflare: ${user.email ?? user.authType ?? "logged in"}${accounts.length === 1 ? ` (account ${accounts[0].name})` : ""}`,
  );

  // D1
  const findDatabase = () => json(["d1", "list", "--json"]).find((db) => db.name === DATABASE);
  let databaseId = findDatabase()?.uuid;
  if (databaseId) {
    console.log(`D1 database ${DATABASE}: exists (${databaseId})`);
  } else {
    const { stdout } = wrangler(["d1", "create", DATABASE]);
    databaseId = /"?database_id"?\s*[=:]\s*"([0-9a-f-]{36})"/i.exec(stdout)?.[1] ?? findDatabase()?.uuid;
    if (!databaseId) throw new ProvisionError(`Created D1 database ${DATABASE} but cannot find its id:\n${stdout}`);
    console.log(`D1 database ${DATABASE}: created (${databaseId})`);
  }
  const updated = setDatabaseId(toml, databaseId);
  const configName = path.relative(process.cwd(), options.config) || options.config;
  if (updated.previous === databaseId) {
    console.log(`${configName}: database_id already ${databaseId}`);
  } else {
    writeFileSync(options.config, updated.toml);
    console.log(`${configName}: database_id ${updated.previous ? `${updated.previous} → ` : ""}${databaseId}`);
  }

  // Queues
  const existing = new Set();
  for (let page = 1; page <= 100 && QUEUES.some((q) => !existing.has(q)); page++) {
    const names = queueNamesFromTable(wrangler(["queues", "list", "--page", String(page)]).stdout);
    const before = existing.size;
    for (const name of names) existing.add(name);
    if (names.length === 0 || existing.size === before) break;
  }
  for (const queue of QUEUES) {
    if (existing.has(queue)) {
      console.log(`Queue ${queue}: exists`);
    } else {
      wrangler(["queues", "create", queue]);
      console.log(`Queue ${queue}: created`);
    }
  }

  // Secrets. A Worker that was never deployed has none (and `secret put` creates it).
  const list = wrangler(["secret", "list", "--format", "json"], { allowFailure: true });
  let secrets = [];
  if (list.status === 0) {
    secrets = JSON.parse(list.stdout.slice(list.stdout.indexOf("[")));
  } else if (!/Worker "[^"]*".* not found/i.test(list.output)) {
    throw failed(list);
  }
  const isSet = (name) => secrets.some((secret) => secret.name === name);
  const put = (name, value) => wrangler(["secret", "put", name], { input: `${value}\n` });

  if (isSet("SECRETS_KEY")) {
    console.log("Secret SECRETS_KEY: set (kept)");
  } else {
    put("SECRETS_KEY", newSecretsKey());
    console.log("Secret SECRETS_KEY: set to a new random key");
  }
  if (isSet("ADMIN_TOKEN") && !options.rotateAdminToken) {
    console.log("Secret ADMIN_TOKEN: set (kept; `npm run provision -- --rotate-admin-token` replaces it)");
    return;
  }
  const adminToken = newAdminToken();
  put("ADMIN_TOKEN", adminToken);
  console.log(`Secret ADMIN_TOKEN: ${isSet("ADMIN_TOKEN") ? "rotated" : "set"}`);
  console.log(`\nYour admin token (shown only now; keep it somewhere safe):\n\n  ${adminToken}\n`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    main(process.argv.slice(2));
  } catch (error) {
    console.error(`\nprovision: ${error.message}`);
    process.exit(error instanceof ProvisionError ? error.exitCode : 1);
  }
}
