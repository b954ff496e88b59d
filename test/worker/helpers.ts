// Shared helpers for the tests that run inside workerd.
import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { vi } from "vitest";
import type { DeliveryMessage } from "../../src/env";
import worker from "../../src/index";

export const ADMIN = "test-admin-token";
export const ORIGIN = "https://relay.test";

export interface CallOptions {
  token?: string | null;
  json?: unknown;
  body?: BodyInit;
  headers?: Record<string, string>;
}

/** Calls the Worker's fetch handler like an HTTP client would. Token defaults to the admin. */
export async function call(method: string, path: string, options: CallOptions = {}): Promise<Response> {
  const headers: Record<string, string> = { ...options.headers };
  const token = options.token === undefined ? ADMIN : options.token;
  if (token !== null) headers.authorization ??= `token ${token}`;
  let body = options.body;
  if (options.json !== undefined) {
    body = JSON.stringify(options.json);
    headers["content-type"] ??= "application/json";
  }
  return exports.default.fetch(new Request(`${ORIGIN}${path}`, { method, headers, body }));
}

export async function callJson<T = any>(method: string, path: string, options: CallOptions = {}) {
  const response = await call(method, path, options);
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: (text ? JSON.parse(text) : null) as T };
}

export async function mintToken(input: { login: string; write?: boolean; owners?: string[] }): Promise<string> {
  const { body } = await callJson<{ token: string }>("POST", "/tokens", { json: input });
  return body.token;
}

export interface OutboundCall {
  url: string;
  headers: Record<string, string>;
  body: string;
  /** The request's redirect mode: "manual" when the relay asked not to follow. */
  redirect: string;
}

/**
 * Replaces outbound fetch with a receiver. `respond` picks each answer; every request
 * the relay sends is recorded in `calls`. It keeps fetch's own rules where they matter
 * to the relay, so a test can catch a relay that breaks them: a 3xx with a Location is
 * followed unless the request said `redirect: "manual"` (or "error"), and an aborted
 * signal (a timeout) ends the request with the signal's reason.
 */
export function interceptDeliveries(
  respond: (call: OutboundCall, index: number) => Response | Promise<Response> = () => new Response("ok"),
) {
  const calls: OutboundCall[] = [];
  const spy = vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
    let request = new Request(input as RequestInfo, init as RequestInit);
    const signal = (init as RequestInit | undefined)?.signal ?? null;
    for (let hops = 0; ; hops++) {
      const bytes = new Uint8Array(await request.arrayBuffer());
      const recorded = {
        url: request.url,
        headers: Object.fromEntries(request.headers),
        body: new TextDecoder().decode(bytes),
        redirect: request.redirect,
      };
      calls.push(recorded);
      const response = await abortable(Promise.resolve(respond(recorded, calls.length - 1)), signal);
      const location = response.headers.get("location");
      const followed = (init as RequestInit | undefined)?.redirect ?? "follow";
      if (response.status < 300 || response.status >= 400 || !location || followed !== "follow" || hops >= 20) {
        return response;
      }
      request = new Request(new URL(location, request.url), { method: "GET", headers: request.headers });
    }
  });
  return { calls, spy, to: (url: string) => calls.filter((c) => c.url === url) };
}

/** A receiver's answer, unless the request's signal aborts first (fetch rejects with its reason). */
function abortable<T>(answer: Promise<T>, signal: AbortSignal | null): Promise<T> {
  if (!signal) return answer;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    answer.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}

/** Waits for queue-driven work; the local queue hands out batches about once a second. */
export const eventually = <T>(check: () => T | Promise<T>) => vi.waitFor(check, { timeout: 10_000, interval: 50 });

/** Stops publish from reaching the real queue, so a test can drive the consumer itself. */
export function holdQueue() {
  return vi.spyOn(env.DELIVERIES, "sendBatch").mockResolvedValue(undefined as never);
}

/** Runs the delivery consumer on one message, like the queue would, and reports ack/retry. */
export async function consume(deliveryId: number, queue = "hookrelay-deliveries", extra: { finished?: true } = {}) {
  const batch = createMessageBatch<DeliveryMessage>(queue, [
    { id: `msg-${deliveryId}-${Math.random()}`, timestamp: new Date(), attempts: 1, body: { deliveryId, ...extra } },
  ]);
  const message = batch.messages[0];
  const retry = message ? vi.spyOn(message, "retry") : undefined;
  const ctx = createExecutionContext();
  await worker.queue(batch, env, ctx);
  const result = await getQueueResult(batch, ctx);
  return { result, retry, acked: result.explicitAcks.length === 1 };
}

export async function deliveryRow(id: number) {
  return env.DB.prepare("SELECT * FROM deliveries WHERE id = ?").bind(id).first<{
    state: string;
    attempts: number;
    failure_reason: string | null;
    next_attempt_at: number;
  }>();
}

export async function createHook(path = "/repos/octo/repo", config: Record<string, unknown> = {}, extra: object = {}) {
  const { status, body } = await callJson("POST", `${path}/hooks`, {
    json: { config: { url: "https://receiver.example/hook", content_type: "json", ...config }, ...extra },
  });
  if (status !== 201) throw new Error(`hook not created: ${status} ${JSON.stringify(body)}`);
  return body as { id: number; [key: string]: any };
}

export interface FakeGitHubHook {
  id: number;
  repo: string;
  token: string;
  body: {
    name: string;
    active: boolean;
    events: string[];
    config: { url: string; content_type: string; secret: string };
  };
}

/**
 * A fake GitHub API at https://api.github.com (the relay's default GITHUB_API_URL): it
 * keeps the hooks registered on it and answers as GitHub does. `refuse` makes the next
 * hook creation fail with a status, as GitHub would for a bad token or repository.
 */
export function fakeGitHub() {
  const hooks: FakeGitHubHook[] = [];
  const deleted: { repo: string; id: number; token: string }[] = [];
  const state = { refuse: 0 as number, nextId: 1000 };
  const receiver = interceptDeliveries(async (call) => {
    const url = new URL(call.url);
    if (url.origin !== "https://api.github.com") return new Response("ok");
    const token = call.headers.authorization?.replace(/^token /, "") ?? "";
    const match = /^\/repos\/([^/]+\/[^/]+)\/hooks(?:\/(\d+))?$/.exec(url.pathname);
    if (!match) return Response.json({ message: "Not Found" }, { status: 404 });
    if (state.refuse) {
      const status = state.refuse;
      state.refuse = 0;
      const message = status === 422 ? "Validation Failed" : status === 401 ? "Bad credentials" : "Not Found";
      const errors =
        status === 422
          ? [{ resource: "Hook", code: "custom", message: "Hook already exists on this repository" }]
          : undefined;
      return Response.json({ message, errors }, { status });
    }
    if (match[2]) {
      deleted.push({ repo: match[1] as string, id: Number(match[2]), token });
      return new Response(null, { status: 204 });
    }
    const hook = { id: state.nextId++, repo: match[1] as string, token, body: JSON.parse(call.body) };
    hooks.push(hook);
    return Response.json({ id: hook.id, ...hook.body }, { status: 201 });
  });
  return { hooks, deleted, state, receiver };
}
