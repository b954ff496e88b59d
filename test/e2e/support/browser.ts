// Headless Chromium (Debian's /usr/bin/chromium) driven by playwright-core, for the dashboard's
// browser tests. Every console error and uncaught page error is collected, so a test can assert none.
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

export interface BrowserSession {
  browser: Browser;
  context: BrowserContext;
  page: Page;
  /** Console messages of type "error", as "text (url:line)". */
  consoleErrors: string[];
  /** Uncaught exceptions thrown in the page. */
  pageErrors: string[];
  /** Both kinds together, for `expect(session.errors()).toEqual([])`. */
  errors(): string[];
  /** Opens another page in the same context, collecting its errors too. */
  newPage(): Promise<Page>;
  close(): Promise<void>;
}

export interface LaunchOptions {
  viewport?: { width: number; height: number };
  baseURL?: string;
}

export async function launchBrowser(options: LaunchOptions = {}): Promise<BrowserSession> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  const consoleErrors: string[] = [];
  const pageErrors: string[] = [];
  try {
    const context = await browser.newContext({
      viewport: options.viewport ?? { width: 1280, height: 800 },
      ...(options.baseURL ? { baseURL: options.baseURL } : {}),
    });
    const watch = (page: Page) => {
      page.on("console", (message) => {
        if (message.type() !== "error") return;
        const { url, lineNumber } = message.location();
        consoleErrors.push(url ? `${message.text()} (${url}:${lineNumber})` : message.text());
      });
      page.on("pageerror", (error) => pageErrors.push(error.stack ?? String(error)));
      return page;
    };
    const page = watch(await context.newPage());
    return {
      browser,
      context,
      page,
      consoleErrors,
      pageErrors,
      errors: () => [...consoleErrors, ...pageErrors],
      newPage: async () => watch(await context.newPage()),
      close: () => browser.close(),
    };
  } catch (error) {
    await browser.close();
    throw error;
  }
}
