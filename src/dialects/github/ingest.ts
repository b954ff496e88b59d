/**
 * Inbound GitHub webhooks: what makes hookrelay a relay. A repository's owner points
 * GitHub's own webhook at POST /ingest/github/:owner/:repo with a shared secret; the
 * relay verifies the signature, then its ingest shard (ingest-shard.ts) deduplicates, stores
 * and fans the event out to the repository's hooks by its X-GitHub-Event; the answer (202)
 * comes once that is committed.
 */
import * as v from "valibot";
import { parseInput, readBody, readJson } from "../../http/body";
import { ApiError, badRequest, notFound } from "../../http/errors";
import { type HttpRouter, noContent, originOf } from "../../http/types";
import { verifyHubSignature } from "../../relay/signing";
import type { PushPayload } from "../../repos/refs";
import { ingestSecret, repositorySubject, setIngestSecret, verifyWithIngestSecret } from "../../repos/repositories";
import { INGEST_BODY_LIMIT, readPayload } from "../../repos/webhooks";
import { ingestShard } from "./ingest-shard";
import { repoContext } from "./scope";

export const IngestSetup = v.object({
  secret: v.pipe(v.string("secret is required"), v.minLength(8, "secret must be at least 8 characters")),
});

const ingestUrl = (request: Request, owner: string, repo: string) =>
  `${originOf(request)}/ingest/github/${owner}/${repo}`;

export function ingestRoutes(router: HttpRouter): void {
  router
    .put("/repos/:owner/:repo/ingest", async (request, env) => {
      const ctx = await repoContext(request, env, "write");
      const input = parseInput(IngestSetup, await readJson(request), "Ingest");
      await setIngestSecret(env, ctx.owner, ctx.repo, input.secret);
      return Response.json({ url: ingestUrl(request, ctx.owner, ctx.repo), content_type: "json", secret: "********" });
    })
    .get("/repos/:owner/:repo/ingest", async (request, env) => {
      const ctx = await repoContext(request, env, "read");
      if (!(await ingestSecret(env, ctx.owner, ctx.repo))) throw notFound();
      return Response.json({ url: ingestUrl(request, ctx.owner, ctx.repo), content_type: "json", secret: "********" });
    })
    .delete("/repos/:owner/:repo/ingest", async (request, env) => {
      const ctx = await repoContext(request, env, "write");
      await setIngestSecret(env, ctx.owner, ctx.repo, null);
      return noContent();
    })
    .post("/ingest/github/:owner/:repo", async (request, env) => {
      const { owner, repo } = request.params as { owner: string; repo: string };
      const body = await readBody(request, INGEST_BODY_LIMIT);
      const verified = await verifyWithIngestSecret(env, owner, repo, (secret) =>
        verifyHubSignature(request.headers, body, secret),
      );
      if (verified === null) throw notFound();
      if (!verified) {
        throw new ApiError(401, "Bad or missing signature: X-Hub-Signature-256 must be the HMAC of the body");
      }
      const event = request.headers.get("x-github-event");
      if (!event || !/^[a-z_]+$/.test(event)) throw badRequest("X-GitHub-Event header is missing or invalid");
      const payload = readPayload(request, body);
      if (event === "ping") return Response.json({ message: "pong: signature verified, nothing relayed" });
      const subject = repositorySubject(owner, repo);
      // A push moves its branch or tag; that write commits with the event.
      const push = event === "push" ? (payload.parsed as PushPayload) : null;
      const answer = await ingestShard(env, subject).publish({
        subject,
        event,
        sourceId: request.headers.get("x-github-delivery"),
        payload: payload.text,
        push: push ? { ref: push.ref, after: push.after, deleted: push.deleted } : null,
      });
      if (answer.stored === "outbox") {
        // Stored in the shard; its event id and deliveries exist once D1 takes it.
        return Response.json({ message: "Accepted", queued: true }, { status: 202 });
      }
      const { published } = answer;
      if (published.duplicate) {
        return Response.json({ message: "Already received: this X-GitHub-Delivery was relayed before" });
      }
      return Response.json(
        { message: "Accepted", event_id: published.eventId, deliveries: published.deliveryIds.length },
        { status: 202 },
      );
    });
}
