/** Token management: only the admin (ADMIN_TOKEN) mints, lists and revokes API tokens. */
import * as v from "valibot";
import { parseInput, readJson } from "../http/body";
import { notFound } from "../http/errors";
import { numericId } from "../http/params";
import { type HttpRouter, noContent } from "../http/types";
import { authenticate, requireAdminToken } from "./auth";
import { authorizeAdmin } from "./policy";
import { listTokens, mintToken, revokeToken } from "./tokens";

export const NewToken = v.object({
  login: v.pipe(
    v.string("login is required"),
    v.regex(/^[A-Za-z0-9][A-Za-z0-9-_.]{0,38}$/, "login must be 1-39 letters, digits, - _ or ."),
  ),
  write: v.optional(v.boolean("write must be true or false"), false),
  owners: v.optional(v.pipe(v.array(v.pipe(v.string(), v.minLength(1))), v.minLength(1, "owners must not be empty"))),
});

export function tokenRoutes(router: HttpRouter): void {
  router
    // Only the admin may use these: without ADMIN_TOKEN they cannot work at all.
    .all("/tokens", requireAdminToken)
    .all("/tokens/*", requireAdminToken)
    .post("/tokens", async (request, env) => {
      authorizeAdmin(await authenticate(request, env));
      const input = parseInput(NewToken, await readJson(request), "Token");
      return Response.json(await mintToken(env, input), { status: 201 });
    })
    .get("/tokens", async (request, env) => {
      authorizeAdmin(await authenticate(request, env));
      return Response.json(await listTokens(env));
    })
    .delete("/tokens/:id", async (request, env) => {
      authorizeAdmin(await authenticate(request, env));
      if (!(await revokeToken(env, numericId(request.params.id)))) throw notFound();
      return noContent();
    });
}
