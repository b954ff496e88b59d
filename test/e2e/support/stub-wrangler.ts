// A stand-in for the wrangler CLI, for testing the scripts that drive it. It is a small
// executable Node script in a temp directory: every call is appended to calls.jsonl (argv,
// and stdin for `secret put`), and the answers come from state.json, which the calls change
// (`d1 create` adds a database that `d1 list` then shows), so reruns see what earlier runs
// made. Outputs follow wrangler 4.164's shapes. `dev` behaves like a server: it starts a
// child process (as wrangler starts workerd) that listens on --ip/--port and answers /health.
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

export interface StubState {
  loggedIn: boolean;
  accounts: { id: string; name: string }[];
  databases: { uuid: string; name: string }[];
  queues: string[];
  /** Whether the Worker exists (`secret list` fails with "not found" until it does). */
  workerExists: boolean;
  secrets: Record<string, string>;
  /** Exit codes to fail with, by command ("d1 migrations apply", "deploy", …). */
  fail: Record<string, number>;
  /** How long `dev` waits before listening, in ms. */
  devStartDelayMs: number;
}

export interface StubCall {
  argv: string[];
  stdin?: string;
}

export interface StubWrangler {
  dir: string;
  bin: string;
  env: Record<string, string>;
  state(): StubState;
  setState(patch: Partial<StubState>): void;
  calls(): StubCall[];
  /** Calls whose argv starts with these words. */
  callsOf(...words: string[]): StubCall[];
  /** The pids `dev` wrote: the stub itself and its server child. */
  devPids(): { wrangler: number; server: number } | undefined;
}

const SOURCE = String.raw`
const fs = require("node:fs");
const path = require("node:path");
const http = require("node:http");
const { spawn } = require("node:child_process");
const { randomUUID } = require("node:crypto");

const dir = __dirname;
const statePath = path.join(dir, "state.json");
const state = JSON.parse(fs.readFileSync(statePath, "utf8"));
const save = () => fs.writeFileSync(statePath, JSON.stringify(state, null, 2));
const argv = process.argv.slice(2);
const call = { argv };
if (argv[0] === "secret" && argv[1] === "put") call.stdin = fs.readFileSync(0, "utf8");
fs.appendFileSync(path.join(dir, "calls.jsonl"), JSON.stringify(call) + "\n");

const words = [];
for (const arg of argv) {
  if (arg.startsWith("-")) break;
  words.push(arg);
}
function option(name) {
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === name) return argv[i + 1];
    if (argv[i].startsWith(name + "=")) return argv[i].slice(name.length + 1);
  }
}
const command = words.slice(0, 3).join(" ");
const failWith = Object.entries(state.fail).find(([prefix]) => words.join(" ").startsWith(prefix));
if (failWith) {
  console.error("✘ [ERROR] " + failWith[0] + " failed in the stub");
  process.exit(failWith[1]);
}
const banner = () => console.log(" ⛅️ wrangler 4.164.0 (stub)\n────────────────────");
function table(rows) {
  if (rows.length === 0) return "";
  const head = Object.keys(rows[0]);
  const width = head.map((key) => Math.max(key.length, ...rows.map((row) => String(row[key]).length)));
  const line = (l, m, r) => l + width.map((w) => "─".repeat(w + 2)).join(m) + r;
  const row = (cells) => "│" + cells.map((cell, i) => " " + String(cell).padEnd(width[i]) + " ").join("│") + "│";
  return [line("┌", "┬", "┐"), row(head), line("├", "┼", "┤"), ...rows.map((r) => row(head.map((k) => r[k]))), line("└", "┴", "┘")].join("\n");
}

if (words[0] === "whoami") {
  if (!state.loggedIn) {
    console.log(JSON.stringify({ loggedIn: false }));
    process.exit(1);
  }
  console.log(JSON.stringify({ loggedIn: true, authType: "OAuth Token", email: "ops@example.com", accounts: state.accounts }, null, 4));
} else if (command.startsWith("d1 list")) {
  console.log(JSON.stringify(state.databases.map((db) => ({ ...db, created_at: "2026-11-01T00:00:00.000Z", version: "production", num_tables: 0, file_size: 0 })), null, 2));
} else if (command.startsWith("d1 create")) {
  const db = { uuid: randomUUID(), name: words[2] };
  state.databases.push(db);
  save();
  banner();
  console.log("✅ Successfully created DB '" + db.name + "' in region WEUR\nCreated your new D1 database.\n");
  console.log("To access your new D1 Database in your Worker, add the following snippet to your configuration file:");
  console.log('[[d1_databases]]\nbinding = "' + db.name + '"\ndatabase_name = "' + db.name + '"\ndatabase_id = "' + db.uuid + '"');
} else if (command.startsWith("d1 migrations apply")) {
  banner();
  console.log("Migrations to be applied:\n│ 0001_init.sql │\n🌀 Executing on " + (argv.includes("--remote") ? "remote" : "local") + " database DB\n✅ migrations applied (stub)");
} else if (command.startsWith("queues list")) {
  banner();
  const page = Number(option("--page") ?? 1);
  const rows = page === 1 ? state.queues : [];
  console.log(table(rows.map((name, i) => ({ id: (i + 1).toString(16).padStart(32, "0"), name, created_on: "2026-11-01T00:00:00Z", modified_on: "2026-11-01T00:00:00Z", producers: "0", consumers: "0" }))));
} else if (command.startsWith("queues create")) {
  state.queues.push(words[2]);
  save();
  banner();
  console.log("🌀 Creating queue '" + words[2] + "'\n✅ Created queue '" + words[2] + "'");
} else if (command.startsWith("secret list")) {
  if (!state.workerExists) {
    console.error('✘ [ERROR] Worker "hookrelay" not found.\n\nIf this is a new Worker, run wrangler deploy first to create it.');
    process.exit(1);
  }
  console.log(JSON.stringify(Object.keys(state.secrets).map((name) => ({ name, type: "secret_text" })), null, "  "));
} else if (command.startsWith("secret put")) {
  state.secrets[words[2]] = call.stdin.replace(/\s+$/, "");
  state.workerExists = true;
  save();
  banner();
  console.log("✨ Success! Uploaded secret " + words[2]);
} else if (words[0] === "deploy") {
  banner();
  console.log("Uploaded hookrelay (stub)");
} else if (words[0] === "dev") {
  const ip = option("--ip") ?? "127.0.0.1";
  const port = option("--port") ?? "8787";
  // Like workerd: a child in wrangler's process group that holds the port.
  const server = spawn(process.execPath, [path.join(dir, "server.js"), ip, port, String(state.devStartDelayMs)], {
    stdio: "inherit",
  });
  fs.writeFileSync(path.join(dir, "dev-pids.json"), JSON.stringify({ wrangler: process.pid, server: server.pid }));
  banner();
  server.on("exit", (code) => process.exit(code ?? 1));
} else {
  console.error("stub wrangler: unexpected command " + JSON.stringify(argv));
  process.exit(99);
}
`;

const SERVER = `
const http = require("node:http");
const [ip, port, delay] = process.argv.slice(2);
const server = http.createServer((request, response) => {
  response.writeHead(request.url === "/health" ? 200 : 404, { "content-type": "application/json" });
  response.end('{"status":"ok"}');
});
setTimeout(() => {
  server.listen(Number(port), ip, () => console.log("[wrangler:info] Ready on http://" + ip + ":" + port));
}, Number(delay));
`;

export function createStubWrangler(initial: Partial<StubState> = {}): StubWrangler {
  const dir = mkdtempSync(path.join(tmpdir(), "hookrelay-stub-wrangler-"));
  const bin = path.join(dir, "wrangler");
  writeFileSync(bin, `#!${process.execPath}\n${SOURCE}`);
  chmodSync(bin, 0o755);
  writeFileSync(path.join(dir, "server.js"), SERVER);
  const statePath = path.join(dir, "state.json");
  const state: StubState = {
    loggedIn: true,
    accounts: [{ id: "0123456789abcdef0123456789abcdef", name: "Example" }],
    databases: [],
    queues: [],
    workerExists: false,
    secrets: {},
    fail: {},
    devStartDelayMs: 0,
    ...initial,
  };
  writeFileSync(statePath, JSON.stringify(state, null, 2));
  const read = (): StubState => JSON.parse(readFileSync(statePath, "utf8"));
  const calls = (): StubCall[] => {
    const file = path.join(dir, "calls.jsonl");
    if (!existsSync(file)) return [];
    return readFileSync(file, "utf8")
      .split("\n")
      .filter(Boolean)
      .map((line) => JSON.parse(line));
  };
  return {
    dir,
    bin,
    env: { WRANGLER: bin },
    state: read,
    setState(patch) {
      writeFileSync(statePath, JSON.stringify({ ...read(), ...patch }, null, 2));
    },
    calls,
    callsOf: (...words) => calls().filter((call) => words.every((word, i) => call.argv[i] === word)),
    devPids() {
      const file = path.join(dir, "dev-pids.json");
      return existsSync(file) ? JSON.parse(readFileSync(file, "utf8")) : undefined;
    },
  };
}
