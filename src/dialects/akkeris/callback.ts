/**
 * The GitHub callback of an auto build: POST /apps/:app/builds/auto/github. No token:
 * the HMAC is the authentication, checked against the auto build's secret before the
 * body is parsed. Answers as Akkeris does: ping 200, events of no interest 205, a push to
 * another branch 205, accepted 201 "Roger that, message received.".
 */

import { readBody } from "../../http/body";
import { ApiError } from "../../http/errors";
import { type HttpRouter, originOf } from "../../http/types";
import { publish } from "../../relay/events";
import { verifyHubSignature } from "../../relay/signing";
import { INGEST_BODY_LIMIT, readPayload } from "../../repos/webhooks";
import { appNotFound } from "./apps";
import { type CheckState, checkSuiteCheck, commitStatusCheck } from "./build-rules";
import { appBuilds, appContext } from "./context";
import { autoBuildSecret, findApp, getAutoBuild } from "./store";

const answer = (code: number, message: string) => Response.json({ code, message }, { status: code });

/**
 * 205 Reset Content may not carry a body (the Fetch standard; workerd enforces it), so
 * the reason travels in a header instead of Akkeris' JSON message.
 */
const notOfInterest = (message: string) =>
  new Response(null, { status: 205, headers: { "x-hookrelay-message": message } });

const accepted = () => answer(201, "Roger that, message received.");

interface PushPayload {
  ref?: string;
  after?: string;
  deleted?: boolean;
  head_commit?: { id?: string; message?: string; author?: { username?: string; name?: string } } | null;
  pusher?: { name?: string };
}

interface StatusPayload {
  sha?: string;
  context?: string;
  state?: string;
}

interface CheckSuitePayload {
  check_suite?: { head_sha?: string; status?: string; conclusion?: string | null; app?: { slug?: string } };
}

export function callbackRoutes(router: HttpRouter): void {
  router.post("/apps/:app/builds/auto/github", async (request, env) => {
    const app = await findApp(env, request.params.app ?? "");
    if (!app) throw appNotFound();
    const autoBuild = await getAutoBuild(env, app.id);
    if (!autoBuild) throw new ApiError(404, "This app has no auto build.");
    const body = await readBody(request, INGEST_BODY_LIMIT);
    if (!(await verifyHubSignature(request.headers, body, await autoBuildSecret(env, autoBuild)))) {
      throw new ApiError(403, "Unauthorized (bad secret or incorrect repository)");
    }

    const event = request.headers.get("x-github-event") ?? "";
    if (event === "ping") return answer(200, "Pong: the auto build hook is set up.");
    const watched = autoBuild.status_check === 1 ? ["push", "status", "check_suite"] : ["push"];
    if (!watched.includes(event)) {
      return notOfInterest(`The ${event || "unnamed"} event is not of interest to this auto build.`);
    }
    const payload = readPayload(request, body);
    const parsed = payload.parsed as PushPayload & StatusPayload & CheckSuitePayload;
    if (event === "push") {
      const branch = parsed.ref?.replace(/^refs\/heads\//, "") ?? "";
      if (branch !== autoBuild.branch || parsed.deleted) {
        return notOfInterest(
          `Push to ${branch || "an unknown ref"} ignored: this auto build watches ${autoBuild.branch}.`,
        );
      }
    }

    // Store first (it deduplicates on X-GitHub-Delivery), then act.
    const sourceId = request.headers.get("x-github-delivery");
    const stored = await publish(env, {
      type: event,
      subjectType: "app",
      subject: app.id,
      source: `akkeris:${app.id}`,
      ...(sourceId ? { sourceId } : {}),
      payload: payload.text,
    });
    if (stored.duplicate) return answer(200, "Already received: this X-GitHub-Delivery was handled before.");

    const builds = appBuilds(env, app.id);
    if (event === "push") {
      const sha = parsed.after ?? parsed.head_commit?.id ?? "";
      await builds.push(appContext(app, autoBuild, originOf(request)), {
        sha,
        branch: autoBuild.branch,
        repo: autoBuild.repo,
        author: parsed.head_commit?.author?.username ?? parsed.head_commit?.author?.name ?? parsed.pusher?.name ?? "",
        message: parsed.head_commit?.message ?? "",
      });
      return accepted();
    }
    let check: { sha: string; context: string; state: CheckState };
    if (event === "status") {
      check = {
        sha: parsed.sha ?? "",
        context: parsed.context ?? "default",
        state: commitStatusCheck(parsed.state ?? ""),
      };
    } else {
      const suite = parsed.check_suite ?? {};
      check = {
        sha: suite.head_sha ?? "",
        context: `check_suite:${suite.app?.slug ?? "app"}`,
        state: checkSuiteCheck(suite.status, suite.conclusion),
      };
    }
    await builds.check(check.sha, check.context, check.state);
    return accepted();
  });
}
