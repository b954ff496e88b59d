// GET /openapi.json is a valid OpenAPI 3.1 document (swagger-parser), its request bodies
// come from the handlers' valibot schemas, and every answer of the native /relay/ API, and
// of the tokens API, conforms to it (ajv), over HTTP against `wrangler dev`.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { answerErrors, loadDocument, type OpenApiDocument } from "./support/hookrelay-schema";
import { type Receiver, startReceiver } from "./support/receiver";
import { type Relay, startRelay } from "./support/relay";

let relay: Relay;
let receiver: Receiver;
let document: OpenApiDocument;

async function call(method: string, path: string, json?: unknown) {
  const response = await fetch(`${relay.url}${path}`, {
    method,
    headers: { authorization: `token ${relay.adminToken}`, "content-type": "application/json" },
    body: json === undefined ? undefined : JSON.stringify(json),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}

/** Calls the relay and checks the answer against hookrelay's own document for that operation. */
async function conforms(method: string, template: string, path: string, expected: number, json?: unknown) {
  const { status, body } = await call(method, path, json);
  expect(status, JSON.stringify(body)).toBe(expected);
  expect(answerErrors(document, method, template, status, body)).toEqual([]);
  return body;
}

beforeAll(async () => {
  [relay, receiver] = await Promise.all([startRelay(), startReceiver()]);
  document = await loadDocument(relay.url);
}, 120_000);

afterAll(async () => {
  await Promise.all([relay?.stop(), receiver?.close()]);
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
});

describe("answers conform to the document", () => {
  it("the tokens API", async () => {
    const token = await conforms("POST", "/tokens", "/tokens", 201, { login: "doc-reader" });
    await conforms("GET", "/tokens", "/tokens", 200);
    await conforms("DELETE", "/tokens/{id}", `/tokens/${token.id}`, 204);
  });

  it("the operator API under /relay/, for a subscription with a failed delivery", async () => {
    receiver.respond("/refuses", () => ({ status: 500, body: "receiver says no" }));
    const hook = await call("POST", "/repos/doc-org/app/hooks", {
      config: { url: `${receiver.url}/refuses`, content_type: "json", secret: "s" },
    });
    expect(hook.status).toBe(201);
    await receiver.waitFor("/refuses", 1);

    const id = hook.body.id;
    await conforms("GET", "/relay/subscriptions", "/relay/subscriptions", 200);
    await conforms("GET", "/relay/subscriptions/{id}", `/relay/subscriptions/${id}`, 200);
    const [delivery] = await conforms("GET", "/relay/deliveries", `/relay/deliveries?subscription_id=${id}`, 200);
    await conforms("GET", "/relay/deliveries/{id}", `/relay/deliveries/${delivery.id}`, 200);
    await conforms("POST", "/relay/deliveries/{id}/redeliver", `/relay/deliveries/${delivery.id}/redeliver`, 202);
    await conforms("POST", "/relay/subscriptions/{id}/recover", `/relay/subscriptions/${id}/recover`, 202, {
      since: new Date(Date.now() - 3_600_000).toISOString(),
    });
    await conforms("POST", "/relay/subscriptions/{id}/enable", `/relay/subscriptions/${id}/enable`, 200);
    await conforms("GET", "/relay/stats", "/relay/stats", 200);
    await conforms("GET", "/relay/subscriptions/{id}", "/relay/subscriptions/999999", 404);
  });
});
