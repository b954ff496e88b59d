// The peer: how Node users usually receive GitHub webhooks — @octokit/webhooks'
// verify-and-respond middleware on node:http. Started as its own process by bench/run.mjs.
import { createServer } from "node:http";
import { createNodeMiddleware, Webhooks } from "@octokit/webhooks";

const webhooks = new Webhooks({ secret: process.env.PEER_SECRET ?? "" });
webhooks.onAny(() => {});
const middleware = createNodeMiddleware(webhooks, { path: "/" });
const server = createServer((req, res) => {
  middleware(req, res).then((handled) => {
    if (!handled) res.writeHead(404).end();
  });
});
server.listen(0, "127.0.0.1", () => {
  process.send?.({ port: server.address().port });
});
