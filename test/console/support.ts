// The console's browser tests (npm run test:console): Debian's Chromium driven by playwright-core, against a real
// coordinator and real workers (apps/worker/test/support.ts starts them from the built CLI) on the real broker and
// Postgres. Screenshots of every page land in test-results/console/ (CI artifacts, gitignored).
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { chromium, type BrowserContext, type Page } from "playwright-core";

export const ROOT = resolve(__dirname, "..", "..");
export const SCREENSHOTS = join(ROOT, "test-results", "console");

/** Debian's package (`apt-get install -y chromium`); OMNIDAEMON_CHROMIUM points elsewhere. */
export function chromiumPath(): string {
  const path = process.env.OMNIDAEMON_CHROMIUM ?? "/usr/bin/chromium";
  if (!existsSync(path)) {
    throw new Error(
      `no Chromium at ${path}: install Debian's (apt-get install -y chromium; .ci/run does) or set OMNIDAEMON_CHROMIUM`,
    );
  }
  return path;
}

/**
 * The flags of every browser test: headless, no sandbox (root in CI), and nothing that talks to the network on its
 * own, so the only requests are the page's (a test asserts they all go to the coordinator).
 */
export const CHROMIUM_FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export interface ConsoleBrowser {
  context: BrowserContext;
  page: Page;
  /** Every URL the page requested, and every error it logged (CSP violations show up here). */
  requests: string[];
  problems: string[];
  close(): Promise<void>;
}

/** Chromium with a fresh profile (its own --user-data-dir, removed on close) and one page. */
export async function launchConsoleBrowser(): Promise<ConsoleBrowser> {
  const profile = mkdtempSync(join(tmpdir(), "omnidaemon-console-chromium-"));
  let context: BrowserContext;
  try {
    // launchPersistentContext is playwright's way to pass --user-data-dir (launch() refuses the flag).
    context = await chromium.launchPersistentContext(profile, {
      executablePath: chromiumPath(),
      headless: true,
      args: CHROMIUM_FLAGS,
      viewport: { width: 1400, height: 900 },
      timeout: 60_000,
    });
  } catch (error) {
    rmSync(profile, { recursive: true, force: true });
    throw error;
  }
  const page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(30_000);
  const requests: string[] = [];
  const problems: string[] = [];
  page.on("request", (request) => requests.push(request.url()));
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  page.on("console", (message) => {
    if (message.type() === "error") problems.push(`console error: ${message.text()}`);
  });
  return {
    context,
    page,
    requests,
    problems,
    close: async () => {
      await context.close().catch(() => undefined);
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** A full-page screenshot in test-results/console/<name>.png. */
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}
