/**
 * Inbound GitHub webhooks: what makes hookrelay a relay. A repository's owner points
 * GitHub's own webhook at POST /ingest/github/:owner/:repo with a shared secret; the
 * relay verifies, deduplicates, stores and answers 202, then fans the event out to the
 * repository's hooks by its X-GitHub-Event.
 */
import * as v from "valibot";
import { parseInput, readBody, readJson } from "../../http/body";
import { ApiError, badRequest, notFound } from "../../http/errors";
import { type HttpRouter, noContent, originOf } from "../../http/types";
import { publish } from "../../relay/events";
import { verifyHubSignature } from "../../relay/signing";
import { refUpdateForPush } from "../../repos/refs";
import { ingestSecret, repositorySubject, setIngestSecret, verifyWithIngestSecret } from "../../repos/repositories";
import { INGEST_BODY_LIMIT, readPayload } from "../../repos/webhooks";
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
      const sourceId = request.headers.get("x-github-delivery");
      const published = await publish(
        env,
        {
          type: event,
          subjectType: "repository",
          subject,
          source: "github",
          ...(sourceId ? { sourceId } : {}),
          payload: payload.text,
        },
        // A push moves its branch or tag; that write commits with the event.
        event === "push" ? { alongside: (eventId) => refUpdateForPush(env, subject, payload.parsed, eventId) } : {},
      );
      if (published.duplicate) {
        return Response.json({ message: "Already received: this X-GitHub-Delivery was relayed before" });
      }
      return Response.json(
        { message: "Accepted", event_id: published.eventId, deliveries: published.deliveryIds.length },
        { status: 202 },
      );
    });
}
