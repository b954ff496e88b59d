// `npm run deploy`: applies the D1 migrations to the remote database, then deploys the
// Worker, so new code never runs against an old schema. Extra arguments go to
// `wrangler deploy` (`--config`/`--env` also to the migrations). Stops at the first failure,
// with its exit code.
import { spawnSync } from "node:child_process";
import path from "node:path";
import { pickFlags } from "./args.mjs";
import { whoami } from "./login.mjs";

const root = path.resolve(import.meta.dirname, "..");
const wrangler = process.env.WRANGLER || path.join(root, "node_modules", ".bin", "wrangler");
const deployArgs = process.argv.slice(2);

const { problem } = whoami(wrangler, { cwd: root, extraArgs: pickFlags(deployArgs, ["--config", "-c"]) });
if (problem) {
  console.error(`deploy: ${problem}`);
  process.exit(1);
}

const steps = [
  // stdin is not a terminal: running `npm run deploy` is the confirmation, so wrangler does
  // not ask (a declined prompt would exit 0 and the deploy would go ahead unmigrated).
  {
    args: ["d1", "migrations", "apply", "DB", "--remote", ...pickFlags(deployArgs, ["--config", "-c", "--env", "-e"])],
    stdio: ["ignore", "inherit", "inherit"],
  },
  { args: ["deploy", ...deployArgs], stdio: "inherit" },
];

for (const { args, stdio } of steps) {
  const result = spawnSync(wrangler, args, { cwd: root, stdio });
  if (result.status !== 0) {
    const reason = result.error ? result.error.message : `exit ${result.status ?? result.signal}`;
    console.error(`\ndeploy: \`wrangler ${args.join(" ")}\` failed (${reason}); stopping.`);
    process.exit(result.status || 1);
  }
}
