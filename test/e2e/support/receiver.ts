// A real HTTP receiver on 127.0.0.1 that records every delivery it gets.
import { createServer, type IncomingHttpHeaders } from "node:http";

export interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** The body's bytes exactly as they arrived, for byte-for-byte signature checks. */
  raw: Buffer;
  /** When the request's body had fully arrived (ms since the epoch). */
  at: number;
}

/**
 * An answer: a status (with a plain "thanks" or "nope" body), or a status with the body and
 * headers to send, sent after `delayMs`.
 */
export type Answer = number | { status: number; body?: string; headers?: Record<string, string>; delayMs?: number };

/** Decides the answer to a request. The default accepts everything with 200. */
export type Responder = (request: Received, countForPath: number) => Answer;

export interface Receiver {
  url: string;
  received: Received[];
  on(path: string): Received[];
  /** Sets how a path answers; countForPath is 1 for the first request to that path. */
  respond(path: string, responder: Responder): void;
  waitFor(path: string, count: number, timeoutMs?: number): Promise<Received[]>;
  close(): Promise<void>;
}

export async function startReceiver(): Promise<Receiver> {
  const received: Received[] = [];
  const responders = new Map<string, Responder>();
  const timers = new Set<NodeJS.Timeout>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const raw = Buffer.concat(chunks);
      const request = { path: req.url ?? "/", headers: req.headers, body: raw.toString("utf8"), raw, at: Date.now() };
      received.push(request);
      const count = received.filter((r) => r.path === request.path).length;
      const answer = responders.get(request.path)?.(request, count) ?? 200;
      const { status, body, headers = {}, delayMs = 0 } = typeof answer === "number" ? { status: answer } : answer;
      const send = () => {
        if (res.destroyed) return;
        res
          .writeHead(status, { "content-type": "text/plain", ...headers })
          .end(body ?? (status < 300 ? "thanks" : "nope"));
      };
      if (delayMs <= 0) return send();
      const timer = setTimeout(() => {
        timers.delete(timer);
        send();
      }, delayMs);
      timers.add(timer);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  const on = (path: string) => received.filter((r) => r.path === path);
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    on,
    respond: (path, responder) => responders.set(path, responder),
    async waitFor(path, count, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      while (on(path).length < count) {
        if (Date.now() > deadline) {
          throw new Error(`${path} got ${on(path).length} of ${count} expected deliveries`);
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      return on(path);
    },
    close: () =>
      new Promise((resolve) => {
        for (const timer of timers) clearTimeout(timer);
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
