// Whether wrangler is logged in to Cloudflare, asked before any step that needs it, so that
// a missing login is said plainly instead of halfway through.
import { spawnSync } from "node:child_process";

export const LOGIN_HINT =
  "Log in with `npx wrangler login`, or set CLOUDFLARE_API_TOKEN (and CLOUDFLARE_ACCOUNT_ID) for an API token.";

/**
 * Runs `wrangler whoami --json`: `{ user }` (loggedIn, email, accounts, …) when logged in,
 * else `{ problem }`, a message saying what to do.
 */
export function whoami(wranglerBin, { cwd, env, extraArgs = [] } = {}) {
  const result = spawnSync(wranglerBin, ["whoami", "--json", ...extraArgs], { cwd, env, encoding: "utf8" });
  if (result.error) return { problem: `Could not run ${wranglerBin}: ${result.error.message}` };
  let user;
  try {
    user = JSON.parse(result.stdout.slice(result.stdout.indexOf("{")));
  } catch {
    user = undefined;
  }
  if (result.status === 0 && user?.loggedIn) return { user };
  const said = user ? "" : `\n\nwrangler whoami said:\n${`${result.stdout}${result.stderr}`.trim()}`;
  return { problem: `Not logged in to Cloudflare. ${LOGIN_HINT}${said}` };
}
