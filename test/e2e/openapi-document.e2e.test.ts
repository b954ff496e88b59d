// GET /openapi.json is a valid OpenAPI 3.1 document that describes the routes the Worker
// serves, with request bodies generated from the handlers' own valibot schemas.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { answerErrors, loadDocument, type OpenApiDocument } from "./support/hookrelay-schema";
import { type Relay, startRelay } from "./support/relay";

let relay: Relay;
let document: OpenApiDocument;

beforeAll(async () => {
  relay = await startRelay();
  document = await loadDocument(relay.url);
}, 120_000);

afterAll(async () => {
  await relay?.stop();
});

describe("GET /openapi.json", () => {
  it("is a valid OpenAPI 3.1 document", () => {
    expect(document.openapi).toBe("3.1.0");
  });

  it("describes request bodies with the schemas the handlers validate against", () => {
    const create = document.paths["/repos/{owner}/{repo}/hooks"]?.post as unknown as {
      requestBody: {
        content: Record<string, { schema: { properties: Record<string, unknown>; required?: string[] } }>;
      };
    };
    const schema = create.requestBody.content["application/json"]?.schema;
    expect(Object.keys(schema?.properties ?? {})).toEqual(expect.arrayContaining(["config", "events", "active"]));
    expect(schema?.required).toEqual(["config"]);
  });

  it("answers a request it describes, as it describes: POST /tokens", async () => {
    const response = await fetch(`${relay.url}/tokens`, {
      method: "POST",
      headers: { authorization: `token ${relay.adminToken}`, "content-type": "application/json" },
      body: JSON.stringify({ login: "doc-reader" }),
    });
    expect(answerErrors(document, "POST", "/tokens", response.status, await response.json())).toEqual([]);
  });
});
