// The operator's dashboard in headless Chromium against the real relay (`wrangler dev`), with hooks
// made through the GitHub API and a real receiver that refuses every delivery.
import { mkdirSync } from "node:fs";
import path from "node:path";
import { Octokit } from "@octokit/rest";
import examples from "@octokit/webhooks-examples";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BrowserSession, launchBrowser } from "./support/browser";
import { type Receiver, startReceiver } from "./support/receiver";
import { type Relay, sendWebhook, startRelay } from "./support/relay";

const owner = "octo-org";
const repo = "dashboard-demo";
const ingestSecret = "github-to-relay-secret";
const markup = '<img src=x onerror="window.__pwned=1">';
const screenshots = path.resolve(import.meta.dirname, "../../docs/screenshots");

const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

let relay: Relay;
let session: BrowserSession;

beforeAll(async () => {
  [relay, session] = await Promise.all([startRelay(), launchBrowser()]);
}, 120_000);

afterAll(async () => {
  await Promise.all([session?.close(), relay?.stop()]);
});

async function until<T>(what: string, probe: () => Promise<T | undefined | null | false>, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function signIn(page: Page, token: string) {
  await page.goto(`${relay.url}/dashboard`);
  await page.getByLabel("Token").fill(token);
  await page.getByRole("button", { name: "Sign in" }).click();
}

describe("the dashboard's static files", () => {
  it("serves /dashboard and its script and styles with the security headers", async () => {
    for (const file of ["/dashboard", "/dashboard/app.js", "/dashboard/style.css"]) {
      const response = await fetch(`${relay.url}${file}`);
      expect(response.status, file).toBe(200);
      expect(response.headers.get("content-security-policy"), file).toBe(CSP);
      expect(response.headers.get("x-content-type-options"), file).toBe("nosniff");
      expect(response.headers.get("referrer-policy"), file).toBe("no-referrer");
      expect(response.headers.get("x-frame-options"), file).toBe("DENY");
      await response.arrayBuffer();
    }
    expect(await fetch(`${relay.url}/health`).then((r) => r.status)).toBe(200);
  });

  it("shows the sign-in form with no console error or policy violation", async () => {
    const page = await session.newPage();
    await page.goto(`${relay.url}/dashboard#/subscriptions`);
    await page.getByLabel("Token").waitFor();
    expect(await page.getByRole("button", { name: "Sign in" }).isVisible()).toBe(true);
    expect(await page.getByRole("button", { name: "Sign out" }).isVisible()).toBe(false);
    expect(session.errors()).toEqual([]);
    await page.close();
  });
});

describe("operating the relay from the dashboard", () => {
  let receiver: Receiver;
  let page: Page;
  let hookUrl: string;

  const pushes = () => receiver.on("/refuses").filter((r) => r.headers["x-github-event"] === "push");

  beforeAll(async () => {
    receiver = await startReceiver();
    receiver.respond("/refuses", () => ({ status: 500, body: "receiver says no" }));
    hookUrl = `${receiver.url}/refuses`;
    const { token } = await fetch(`${relay.url}/tokens`, {
      method: "POST",
      headers: { authorization: `Bearer ${relay.adminToken}`, "content-type": "application/json" },
      body: JSON.stringify({ login: "octocat", write: true, owners: [owner] }),
    }).then((r) => r.json() as Promise<{ token: string }>);
    const octokit = new Octokit({ baseUrl: relay.url, auth: token });
    await octokit.request("PUT /repos/{owner}/{repo}/ingest", { owner, repo, secret: ingestSecret });
    await octokit.rest.repos.createWebhook({
      owner,
      repo,
      events: ["push"],
      config: { url: hookUrl, content_type: "json", secret: "receiver-secret" },
    });

    // A push whose commit message is markup: the page must show it as text.
    const push = structuredClone(
      (examples as { name: string; examples: Record<string, unknown>[] }[]).find((e) => e.name === "push")
        ?.examples[0] ?? {},
    );
    push.head_commit = { ...(push.head_commit as object), message: markup };
    const body = JSON.stringify(push);
    const response = await sendWebhook(relay.url, { owner, repo, secret: ingestSecret }, body);
    expect(response.status).toBe(202);
    // The schedule is "1,1": three attempts, all refused.
    await until("three refused push attempts", async () => pushes().length >= 3);
    page = session.page;
  }, 120_000);

  afterAll(async () => {
    await receiver?.close();
  });

  it("says so when the token is refused, and signs in with the admin token", async () => {
    await signIn(page, "not-a-token");
    await page.getByText("did not accept the token").waitFor();
    expect(await page.getByLabel("Token").isVisible()).toBe(true);
    // The refused request is the one error the browser logs; nothing else may.
    expect(session.errors().every((e) => e.includes("401"))).toBe(true);
    session.consoleErrors.length = 0;

    await page.getByLabel("Token").fill(relay.adminToken);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { name: "Overview" }).waitFor();
  });

  it("lists the refused hook among the subscriptions needing attention", async () => {
    const link = page.getByRole("link", { name: hookUrl });
    await link.first().waitFor({ timeout: 20_000 });
    const row = page.getByRole("row").filter({ has: link });
    expect(await row.first().textContent()).toMatch(/Failing|Circuit open/);
    await link.first().click();
    await page.getByRole("heading", { name: /^Subscription \d+$/ }).waitFor();
  });

  it("opens a delivery and shows the receiver's answer and the payload as text", async () => {
    await page.getByLabel("Event").fill("push");
    await page.getByLabel("Event").press("Enter");
    const delivery = page.getByRole("link", { name: /^#\d+ push$/ }).first();
    await delivery.waitFor();
    await delivery.click();
    await page.getByRole("heading", { name: /^Delivery \d+ · push$/ }).waitFor();
    await page.getByText("receiver says no").first().waitFor();
    expect(await page.getByText("Invalid HTTP Response: 500").count()).toBeGreaterThan(0);

    const payload = (await page.getByLabel("Payload").textContent()) ?? "";
    expect(payload).toContain(JSON.stringify(markup));
    await page.getByText("<img src=x onerror=").first().waitFor();
    await page.waitForTimeout(500);
    // No element came out of the payload, and nothing in it ran.
    expect(await page.locator("main img").count()).toBe(0);
    expect(await page.evaluate(() => (window as { __pwned?: unknown }).__pwned)).toBeUndefined();
  });

  it("redelivers and shows the new attempt", async () => {
    const attempts = async () => {
      const text = (await page.getByRole("heading", { name: /^Attempts \(\d+\)$/ }).textContent()) ?? "";
      return Number(/\((\d+)\)/.exec(text)?.[1] ?? 0);
    };
    const before = await attempts();
    expect(before).toBeGreaterThanOrEqual(3);
    await page.getByRole("button", { name: "Redeliver" }).click();
    await page.getByText("Redelivery queued").waitFor();
    await until("the redelivered attempt on the page", async () => (await attempts()) > before);
    const newest = page.getByRole("listitem").filter({ hasText: `Attempt ${before + 1} ` });
    expect(await newest.first().textContent()).toContain("receiver says no");
  });

  it("recovers failed deliveries from a chosen time", async () => {
    await page.getByRole("button", { name: "Recover failed deliveries" }).first().click();
    const since = page.getByLabel("Recover failed deliveries since");
    expect(await since.inputValue()).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d$/);
    await page.getByRole("button", { name: "Recover", exact: true }).click();
    const confirmation = page.getByText(/^Recovering \d+ deliver(y|ies)$/);
    await confirmation.waitFor();
    expect(Number(/\d+/.exec((await confirmation.textContent()) ?? "")?.[0])).toBeGreaterThanOrEqual(1);
  });

  it("keeps the token out of the URL, localStorage and cookies", async () => {
    const storage = await page.evaluate(() => ({
      href: location.href,
      local: Object.values({ ...localStorage }),
      session: Object.values({ ...sessionStorage }),
      cookie: document.cookie,
    }));
    expect(storage.href).not.toContain(relay.adminToken);
    expect(storage.local.join("\n")).not.toContain(relay.adminToken);
    expect(storage.cookie).not.toContain(relay.adminToken);
    expect(storage.session).toContain(relay.adminToken);
  });

  it.runIf(process.env.SCREENSHOTS === "1")("takes the README's screenshots", async () => {
    mkdirSync(screenshots, { recursive: true });
    await page.setViewportSize({ width: 1280, height: 800 });
    const deliveryHash = new URL(page.url()).hash;
    await page.goto(`${relay.url}/dashboard#/`);
    await page.getByRole("heading", { name: "Overview" }).waitFor();
    await page.getByRole("link", { name: hookUrl }).first().waitFor();
    await page.screenshot({ path: path.join(screenshots, "overview.png") });
    await page.goto(`${relay.url}/dashboard${deliveryHash}`);
    await page.getByText("receiver says no").first().waitFor();
    await page.screenshot({ path: path.join(screenshots, "delivery.png") });
  });

  it("signs out, forgetting the token, with no console error on the way", async () => {
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByLabel("Token").waitFor();
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
    expect(session.errors()).toEqual([]);
  });
});
