// Runs in workerd: GET /openapi.json describes exactly the routes the app registers, every
// method of every one, and nothing it does not serve.
import { describe, expect, it } from "vitest";
import { callJson } from "./helpers";
import { registeredRoutes } from "./registered-routes";
import { GUARDS } from "./route-table";

/** "GET /repos/:owner/:repo" → "get /repos/{owner}/{repo}" (OpenAPI's path template). */
const asOperation = (route: string) => {
  const [method = "", path = ""] = route.split(" ");
  return `${method.toLowerCase()} ${path.replace(/:([A-Za-z_]+)/g, "{$1}")}`;
};

describe("GET /openapi.json", () => {
  it("describes every route the app serves, and only those", async () => {
    const { status, body } = await callJson<{ paths: Record<string, Record<string, unknown>> }>(
      "GET",
      "/openapi.json",
      { token: null },
    );
    expect(status).toBe(200);
    const documented = Object.entries(body.paths)
      .flatMap(([path, methods]) => Object.keys(methods).map((method) => `${method} ${path}`))
      .sort();
    const served = registeredRoutes()
      .filter((route) => !(route in GUARDS))
      .map(asOperation)
      .sort();
    expect(documented).toEqual([...new Set(served)]);
  });

  it("takes request bodies from the handlers' valibot schemas", async () => {
    const { body } = await callJson<any>("GET", "/openapi.json", { token: null });
    const schema = body.paths["/relay/subscriptions/{id}/recover"].post.requestBody.content["application/json"].schema;
    expect(schema.required).toEqual(["since"]);
    expect(Object.keys(schema.properties)).toEqual(["since", "until"]);
  });
});
