// A real HTTP receiver on 127.0.0.1 that records every delivery it gets.
import { createServer, type IncomingHttpHeaders } from "node:http";

export interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/**
 * Decides the answer to a request: a status (with a plain "thanks" or "nope" body), or a status
 * and the body to send. The default accepts everything with 200.
 */
export type Responder = (request: Received, countForPath: number) => number | { status: number; body: string };

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
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const request = { path: req.url ?? "/", headers: req.headers, body: Buffer.concat(chunks).toString("utf8") };
      received.push(request);
      const count = received.filter((r) => r.path === request.path).length;
      const answer = responders.get(request.path)?.(request, count) ?? 200;
      const { status, body } =
        typeof answer === "number" ? { status: answer, body: answer < 300 ? "thanks" : "nope" } : answer;
      res.writeHead(status, { "content-type": "text/plain" }).end(body);
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
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
