// The maintainer's scripts: `npm start` (arguments through to `wrangler dev`, the address and
// token shown last, a clean stop on hangup), `npm run provision` and `npm run deploy`, each
// driven against a stub wrangler that records its calls.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
// @ts-expect-error: plain ESM helper shared with `npm start`.
import { devAddress, wranglerDevArgs } from "../../scripts/relay.mjs";
import { freePort } from "./support/relay";
import { createStubWrangler, type StubWrangler } from "./support/stub-wrangler";

const root = path.resolve(import.meta.dirname, "../..");
const PLACEHOLDER_ID = "00000000-0000-0000-0000-000000000000";
const ADMIN_TOKEN = /hr_admin_[A-Za-z0-9_-]{24}/g;

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function tempDir(prefix: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function stubWrangler(state: Parameters<typeof createStubWrangler>[0] = {}): StubWrangler {
  const stub = createStubWrangler(state);
  cleanups.push(() => rmSync(stub.dir, { recursive: true, force: true }));
  return stub;
}

/** Runs one of the scripts with node, as `npm run` would, against the stub. */
function run(script: string, args: string[], stub: StubWrangler, env: Record<string, string> = {}) {
  const result = spawnSync(process.execPath, [path.join(root, "scripts", script), ...args], {
    cwd: root,
    env: { ...process.env, ...stub.env, ...env },
    encoding: "utf8",
    timeout: 30_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr, output: result.stdout + result.stderr };
}

const count = (args: string[], flag: string) => args.filter((arg) => arg === flag || arg.startsWith(`${flag}=`)).length;

describe("npm start: wrangler dev arguments", () => {
  const defaults = ["--ip", "127.0.0.1", "--port", "8787", "--test-scheduled", "--show-interactive-dev-session=false"];

  it("listens on 127.0.0.1:8787 when told nothing", () => {
    expect(wranglerDevArgs([])).toEqual(["dev", ...defaults]);
  });

  it.each([
    [["--ip", "0.0.0.0"], "--ip"],
    [["--ip=0.0.0.0"], "--ip"],
    [["--port", "9002"], "--port"],
    [["--port=9002"], "--port"],
  ])("%j replaces the default %s, which is given once", (userArgs, flag) => {
    const args: string[] = wranglerDevArgs(userArgs);
    expect(count(args, flag)).toBe(1);
    expect(args.slice(-userArgs.length)).toEqual(userArgs);
    const other = flag === "--ip" ? ["--port", "8787"] : ["--ip", "127.0.0.1"];
    expect(args.join(" ")).toContain(other.join(" "));
  });

  it("takes --ip and --port together, in either spelling", () => {
    const args: string[] = wranglerDevArgs(["--ip", "0.0.0.0", "--port=9002"]);
    expect(args).toEqual([
      "dev",
      "--test-scheduled",
      "--show-interactive-dev-session=false",
      "--ip",
      "0.0.0.0",
      "--port=9002",
    ]);
    expect(devAddress(args)).toMatchObject({ ip: "0.0.0.0", port: 9002, url: "http://127.0.0.1:9002" });
  });

  it("passes --var and flags it does not know through untouched, keeping its defaults", () => {
    const userArgs = ["--var", "A:B", "--inspector-port", "9229", "--log-level=debug", "--some-future-flag", "x"];
    expect(wranglerDevArgs(userArgs)).toEqual(["dev", ...defaults, ...userArgs]);
  });

  it("leaves --persist-to, --test-scheduled and the interactive session to the user when given", () => {
    const userArgs = ["--persist-to", "/tmp/state", "--show-interactive-dev-session", "--test-scheduled=false"];
    const args: string[] = wranglerDevArgs(userArgs, { persistTo: "/tmp/default", port: 1234 });
    expect(args).toEqual(["dev", "--ip", "127.0.0.1", "--port", "1234", ...userArgs]);
    expect(wranglerDevArgs([], { persistTo: "/tmp/default" })).toEqual([
      "dev",
      ...defaults,
      "--persist-to",
      "/tmp/default",
    ]);
  });

  it("puts vars first, so an array flag never swallows the user's positional arguments", () => {
    expect(wranglerDevArgs(["src/other.ts"], { vars: { K: "V" } })).toEqual([
      "dev",
      "--var",
      "K:V",
      ...defaults,
      "src/other.ts",
    ]);
  });
});

describe("npm run provision", () => {
  function setUp(state: Parameters<typeof createStubWrangler>[0] = {}) {
    const stub = stubWrangler(state);
    const config = path.join(tempDir("hookrelay-provision-"), "wrangler.toml");
    copyFileSync(path.join(root, "wrangler.toml"), config);
    const original = readFileSync(config, "utf8");
    expect(original).toContain(`database_id = "${PLACEHOLDER_ID}"`);
    return { stub, config, original };
  }

  it("creates the database, both queues and both secrets, and records the database id", () => {
    const { stub, config, original } = setUp();
    const result = run("provision.mjs", ["--config", config], stub);
    expect(result.status, result.output).toBe(0);

    expect(stub.callsOf("d1", "create")).toHaveLength(1);
    expect(stub.callsOf("d1", "create", "hookrelay")).toHaveLength(1);
    expect(stub.callsOf("queues", "create").map((call) => call.argv[2])).toEqual([
      "hookrelay-deliveries",
      "hookrelay-dead-letters",
    ]);
    // Every call reads the given config, never the repository's.
    for (const call of stub.calls()) expect(call.argv.slice(-2)).toEqual(["--config", config]);

    // Only database_id changed, to the created database's id.
    const [database] = stub.state().databases;
    const written = readFileSync(config, "utf8").split("\n");
    const before = original.split("\n");
    const changed = written.flatMap((line, i) => (line === before[i] ? [] : [line]));
    expect(written).toHaveLength(before.length);
    expect(changed).toEqual([`database_id = "${database?.uuid}"`]);

    // Fresh secrets of the right shape, on stdin.
    const puts = stub.callsOf("secret", "put");
    expect(puts.map((call) => call.argv[2]).sort()).toEqual(["ADMIN_TOKEN", "SECRETS_KEY"]);
    const { ADMIN_TOKEN: adminToken = "", SECRETS_KEY: secretsKey = "" } = stub.state().secrets;
    expect(adminToken).toMatch(/^hr_admin_[A-Za-z0-9_-]{24}$/);
    expect(Buffer.from(adminToken.slice("hr_admin_".length), "base64url")).toHaveLength(18);
    expect(secretsKey).toMatch(/^[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(secretsKey, "base64")).toHaveLength(32);
    expect(puts.every((call) => !call.argv.some((arg) => arg.includes("hr_admin_") || arg === secretsKey))).toBe(true);

    // The admin token is printed, once; the secrets key never.
    expect(result.output.match(ADMIN_TOKEN)).toEqual([adminToken]);
    expect(result.output).not.toContain(secretsKey);
  });

  it("is idempotent: a second run creates nothing, sets no secret and prints no token", () => {
    const { stub, config } = setUp();
    expect(run("provision.mjs", ["--config", config], stub).status).toBe(0);
    const afterFirst = readFileSync(config, "utf8");
    const secrets = stub.state().secrets;
    const firstCalls = stub.calls().length;

    const second = run("provision.mjs", [], stub, { HOOKRELAY_WRANGLER_CONFIG: config });
    expect(second.status, second.output).toBe(0);
    const calls = stub.calls().slice(firstCalls);
    expect(calls.length).toBeGreaterThan(0);
    expect(calls.filter((call) => call.argv.includes("create") || call.argv.includes("put"))).toEqual([]);
    expect(stub.state().databases).toHaveLength(1);
    expect(stub.state().queues).toHaveLength(2);
    expect(stub.state().secrets).toEqual(secrets);
    expect(readFileSync(config, "utf8")).toBe(afterFirst);
    expect(second.output).not.toMatch(ADMIN_TOKEN);
  });

  it("creates only what is missing, and replaces a stale database id", () => {
    const uuid = "5f0c6f3a-8d2e-4c1b-9a7e-2b3c4d5e6f70";
    const { stub, config, original } = setUp({
      databases: [
        { uuid: "11111111-2222-3333-4444-555555555555", name: "other" },
        { uuid, name: "hookrelay" },
      ],
      queues: ["unrelated", "hookrelay-dead-letters"],
      workerExists: true,
      secrets: { SECRETS_KEY: "kept", OTHER: "x" },
    });
    writeFileSync(config, original.replace(PLACEHOLDER_ID, "99999999-9999-9999-9999-999999999999"));
    const result = run("provision.mjs", ["--config", config], stub);
    expect(result.status, result.output).toBe(0);
    expect(stub.callsOf("d1", "create")).toEqual([]);
    expect(stub.callsOf("queues", "create").map((call) => call.argv[2])).toEqual(["hookrelay-deliveries"]);
    expect(stub.callsOf("secret", "put").map((call) => call.argv[2])).toEqual(["ADMIN_TOKEN"]);
    expect(stub.state().secrets.SECRETS_KEY).toBe("kept");
    expect(readFileSync(config, "utf8")).toBe(original.replace(PLACEHOLDER_ID, uuid));
  });

  it("--rotate-admin-token replaces the admin token (only), and prints the new one once", () => {
    const { stub, config } = setUp();
    expect(run("provision.mjs", ["--config", config], stub).status).toBe(0);
    const before = stub.state().secrets;
    const putsBefore = stub.callsOf("secret", "put").length;

    const result = run("provision.mjs", ["--config", config, "--rotate-admin-token"], stub);
    expect(result.status, result.output).toBe(0);
    const puts = stub.callsOf("secret", "put").slice(putsBefore);
    expect(puts.map((call) => call.argv[2])).toEqual(["ADMIN_TOKEN"]);
    const after = stub.state().secrets;
    expect(after.SECRETS_KEY).toBe(before.SECRETS_KEY);
    expect(after.ADMIN_TOKEN).toMatch(/^hr_admin_[A-Za-z0-9_-]{24}$/);
    expect(after.ADMIN_TOKEN).not.toBe(before.ADMIN_TOKEN);
    expect(result.output.match(ADMIN_TOKEN)).toEqual([after.ADMIN_TOKEN]);
  });

  it("says how to log in when wrangler is not logged in, and touches nothing", () => {
    const { stub, config, original } = setUp({ loggedIn: false });
    const result = run("provision.mjs", ["--config", config], stub);
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain("Not logged in");
    expect(result.stderr).toContain("wrangler login");
    expect(result.stderr).toContain("CLOUDFLARE_API_TOKEN");
    expect(stub.calls().map((call) => call.argv[0])).toEqual(["whoami"]);
    expect(readFileSync(config, "utf8")).toBe(original);
  });

  it("asks for CLOUDFLARE_ACCOUNT_ID when the login reaches several accounts", () => {
    const { stub, config } = setUp({
      accounts: [
        { id: "a".repeat(32), name: "One" },
        { id: "b".repeat(32), name: "Two" },
      ],
    });
    const result = run("provision.mjs", ["--config", config], stub, { CLOUDFLARE_ACCOUNT_ID: "" });
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain("CLOUDFLARE_ACCOUNT_ID");
    expect(result.stderr).toContain("Two");
    expect(stub.calls()).toHaveLength(1);
  });

  it("stops with wrangler's exit code and message when a step fails", () => {
    const { stub, config } = setUp({ fail: { "queues create": 3 } });
    const result = run("provision.mjs", ["--config", config], stub);
    expect(result.status).toBe(3);
    expect(result.stderr).toContain("wrangler queues create hookrelay-deliveries");
    expect(result.stderr).toContain("queues create failed in the stub");
    expect(stub.callsOf("secret")).toEqual([]);
  });
});

describe("npm run deploy", () => {
  it("applies the migrations to the remote database, then deploys with the extra arguments", () => {
    const stub = stubWrangler();
    const result = run("deploy.mjs", ["--minify", "--env", "staging", "--var=K:V"], stub);
    expect(result.status, result.output).toBe(0);
    expect(stub.calls().map((call) => call.argv)).toEqual([
      ["whoami", "--json"],
      ["d1", "migrations", "apply", "DB", "--remote", "--env", "staging"],
      ["deploy", "--minify", "--env", "staging", "--var=K:V"],
    ]);
  });

  it("does not deploy when the migrations fail, and exits with their code", () => {
    const stub = stubWrangler({ fail: { "d1 migrations apply": 7 } });
    const result = run("deploy.mjs", [], stub);
    expect(result.status).toBe(7);
    expect(result.stderr).toContain("d1 migrations apply failed in the stub");
    expect(stub.calls().map((call) => call.argv[0])).toEqual(["whoami", "d1"]);
  });

  it("exits with the deploy's code when it fails", () => {
    const stub = stubWrangler({ fail: { deploy: 4 } });
    const result = run("deploy.mjs", [], stub);
    expect(result.status).toBe(4);
    expect(stub.calls().map((call) => call.argv[0])).toEqual(["whoami", "d1", "deploy"]);
  });

  it("says how to log in, and runs nothing, when wrangler is not logged in", () => {
    const stub = stubWrangler({ loggedIn: false });
    const result = run("deploy.mjs", ["--config", "other.toml"], stub);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("wrangler login");
    expect(result.stderr).toContain("CLOUDFLARE_API_TOKEN");
    expect(stub.calls().map((call) => call.argv)).toEqual([["whoami", "--json", "--config", "other.toml"]]);
  });
});

describe("npm start", () => {
  /** A throwaway copy of the project's start scripts, so .dev.vars is made there, not here. */
  function project() {
    const dir = tempDir("hookrelay-start-");
    mkdirSync(path.join(dir, "scripts"));
    for (const file of ["start.mjs", "relay.mjs", "args.mjs"]) {
      copyFileSync(path.join(root, "scripts", file), path.join(dir, "scripts", file));
    }
    copyFileSync(path.join(root, ".dev.vars.example"), path.join(dir, ".dev.vars.example"));
    return dir;
  }

  function start(dir: string, args: string[], stub: StubWrangler) {
    const child = spawn(process.execPath, [path.join(dir, "scripts", "start.mjs"), ...args], {
      cwd: dir,
      env: { ...process.env, ...stub.env },
    });
    let output = "";
    child.stdout?.on("data", (chunk) => {
      output += chunk;
    });
    child.stderr?.on("data", (chunk) => {
      output += chunk;
    });
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    cleanups.push(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      const pids = stub.devPids();
      for (const pid of pids ? [pids.server, pids.wrangler] : []) {
        try {
          process.kill(pid, "SIGKILL");
        } catch {
          // gone
        }
      }
    });
    return { child, exited, output: () => output };
  }

  async function until(condition: () => boolean, what: () => string, ms = 20_000) {
    const deadline = Date.now() + ms;
    while (!condition()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting: ${what()}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** Alive and not a zombie (a reparented child may wait a while to be reaped). */
  function alive(pid: number): boolean {
    if (existsSync("/proc")) {
      try {
        return readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.[0] !== "Z";
      } catch {
        return false;
      }
    }
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  }

  async function portIsFree(port: number): Promise<boolean> {
    return new Promise((resolve) => {
      const server = createServer();
      server.once("error", () => resolve(false));
      server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
    });
  }

  it("runs the migrations quietly, serves with the user's flags, shows address and token last; SIGHUP stops it all", async () => {
    const dir = project();
    const stub = stubWrangler({ devStartDelayMs: 1000 });
    const port = await freePort();
    const relay = start(dir, [`--port=${port}`, "--var", "A:B"], stub);
    const { child, exited, output } = relay;
    await until(() => output().includes("└"), output);

    // Migrations first, locally, then wrangler dev with the user's flags in place of ours.
    const calls = stub.calls().map((call) => call.argv);
    expect(calls[0]?.slice(0, 5)).toEqual(["d1", "migrations", "apply", "DB", "--local"]);
    const dev = calls[1] ?? [];
    expect(dev[0]).toBe("dev");
    expect(count(dev, "--port")).toBe(1);
    expect(dev).toContain(`--port=${port}`);
    expect(dev.slice(-2)).toEqual(["--var", "A:B"]);
    expect(output()).not.toContain("migrations applied");

    // The box comes after the server said it is ready, with the address and .dev.vars' token.
    const token = /^ADMIN_TOKEN=(.*)$/m.exec(readFileSync(path.join(dir, ".dev.vars"), "utf8"))?.[1] ?? "";
    expect(token).toMatch(/^hr_admin_[A-Za-z0-9_-]{24}$/);
    const text = output();
    const ready = text.indexOf("Ready on");
    const box = text.indexOf("┌");
    expect(ready).toBeGreaterThanOrEqual(0);
    expect(box).toBeGreaterThan(ready);
    const boxText = text.slice(box);
    expect(boxText).toContain(`hookrelay on http://127.0.0.1:${port}`);
    expect(boxText).toContain(`admin token: ${token}`);
    expect(text.match(ADMIN_TOKEN)).toEqual([token]);
    expect((await fetch(`http://127.0.0.1:${port}/health`)).status).toBe(200);

    // The terminal closes: wrangler and its server child go, and the port is free.
    const pids = stub.devPids();
    expect(pids && alive(pids.wrangler) && alive(pids.server)).toBe(true);
    (child as ChildProcess).kill("SIGHUP");
    expect(await exited).toBe(0);
    await until(
      () => !!pids && !alive(pids.wrangler) && !alive(pids.server),
      () => `still running: ${JSON.stringify(pids)}`,
      5000,
    );
    expect(await portIsFree(port)).toBe(true);
  });

  it("shows the migrations' output, and starts nothing, when they fail", async () => {
    const dir = project();
    writeFileSync(path.join(dir, ".dev.vars"), "ADMIN_TOKEN=hr_admin_kept\nSECRETS_KEY=x\n");
    const stub = stubWrangler({ fail: { "d1 migrations apply": 5 } });
    const { exited, output } = start(dir, ["--ip", "0.0.0.0"], stub);
    expect(await exited).toBe(1);
    expect(output()).toContain("d1 migrations apply failed in the stub");
    expect(output()).not.toContain("hr_admin_kept");
    expect(stub.callsOf("dev")).toEqual([]);
  });
});
