/**
 * How a token-authenticated route applies the policy, so that none decides for itself:
 *
 * 1. `caller(request, env, access)` is its first step. It authenticates (401) and refuses a
 *    read-only token that writes (403) before anything of the request body is read.
 * 2. What the route acts on is found with `loadOwned` (or a dialect's loader built on it),
 *    which names the resource's owner and applies `authorizeOwner`; lists keep only what
 *    `visibleOwners` / `visibleOnly` allow.
 *
 * Routes authenticated by a secret in their URL or by an HMAC (ingest, the Akkeris
 * callback, deploy-hook URLs) use neither; test/worker/authorization.test.ts lists them.
 */
import type { Env } from "../env";
import { authenticate } from "./auth";
import { type Access, authorizeAccess, authorizeOwner, type Principal } from "./policy";

export async function caller(request: Request, env: Env, access: Access): Promise<Principal> {
  const principal = await authenticate(request, env);
  authorizeAccess(principal, access);
  return principal;
}

/**
 * Finds a resource for a caller. `find` looks it up (null: there is none); `ownerOf` names
 * its owner. One that does not exist and one the caller may not see both get `missing()`.
 */
export async function loadOwned<T>(
  principal: Principal,
  access: Access,
  missing: () => Error,
  find: () => Promise<T | null>,
  ownerOf: (resource: T) => string | null | Promise<string | null>,
): Promise<T> {
  const resource = await find();
  if (resource === null) throw missing();
  authorizeOwner(principal, await ownerOf(resource), access, missing);
  return resource;
}
