// A fake GitHub REST API on 127.0.0.1: it records the webhooks registered on it, as
// GitHub would, so a test can sign callbacks with the secret the relay chose.
import { createServer } from "node:http";

export interface RegisteredHook {
  id: number;
  repo: string;
  authorization: string;
  events: string[];
  config: { url: string; content_type: string; secret: string };
}

export interface FakeGitHub {
  url: string;
  hooks: RegisteredHook[];
  close(): Promise<void>;
}

export async function startFakeGitHub(): Promise<FakeGitHub> {
  const hooks: RegisteredHook[] = [];
  let nextId = 1;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const match = /^\/repos\/([^/]+\/[^/]+)\/hooks(?:\/(\d+))?$/.exec(req.url ?? "");
      const json = (status: number, body?: unknown) => {
        res
          .writeHead(status, { "content-type": "application/json" })
          .end(body === undefined ? undefined : JSON.stringify(body));
      };
      if (!match) return json(404, { message: "Not Found" });
      if (!req.headers.authorization?.startsWith("token ")) return json(401, { message: "Requires authentication" });
      if (req.method === "DELETE") return json(204);
      const body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
      const hook = { id: nextId++, repo: match[1] as string, authorization: req.headers.authorization, ...body };
      hooks.push(hook);
      return json(201, hook);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  return {
    url: `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`,
    hooks,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
