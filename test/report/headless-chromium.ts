/**
 * A headless Chromium for the report's browser tests, when one is installed: CHROMIUM_PATH,
 * else Debian's /usr/bin/chromium (or /usr/bin/chromium-browser). Launched with a fresh
 * profile, no sandbox (CI runs as root) and nothing fetched in the background.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { pathToFileURL } from 'url';
import { BrowserContext, Page, chromium } from 'playwright-core';

const CANDIDATES = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].filter((p): p is string => !!p);

/** The Chromium binary, or undefined when none is installed. */
export const chromiumPath = CANDIDATES.find((p) => existsSync(p));

/** Why browser tests are skipped here; undefined when a browser exists. */
export const noBrowserReason = chromiumPath
  ? undefined
  : `no Chromium found (looked at ${CANDIDATES.join(', ')}); install it (apt-get install chromium) or set CHROMIUM_PATH`;

const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** A browser with a fresh profile; `close()` removes the profile. */
export interface HeadlessBrowser {
  readonly context: BrowserContext;
  /** Opens a file (as a person opens a downloaded report), collecting console errors and warnings, page errors and failed requests. */
  open(file: string, problems: string[]): Promise<Page>;
  close(): Promise<void>;
}

export async function launchChromium(): Promise<HeadlessBrowser> {
  if (!chromiumPath) throw new Error(noBrowserReason);
  const profile = mkdtempSync(path.join(tmpdir(), 'chromium-profile-'));
  const context = await chromium.launchPersistentContext(profile, { executablePath: chromiumPath, args: ARGS, headless: true, viewport: { width: 1100, height: 900 } });
  return {
    context,
    async open(file, problems) {
      const page = await context.newPage();
      page.on('console', (m) => {
        if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
      });
      page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
      page.on('requestfailed', (r) => problems.push(`request failed: ${r.url().slice(0, 80)} ${r.failure()?.errorText}`));
      await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
      return page;
    },
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Pages of documents written to a temporary folder and opened in one browser per test file. */
export interface BrowserPages {
  /** Console errors and warnings, page errors and failed requests of every page opened so far. */
  readonly problems: string[];
  /** The temporary folder the documents are written to (for screenshots next to them). */
  folder(): string;
  /** Writes `document` as `name` in the folder and opens it as a person opens a downloaded file. */
  open(document: string, name: string): Promise<Page>;
}

/**
 * Launches Chromium before the enclosing describe's tests and closes it (and removes the
 * folder) after them. Call inside a describe that is skipped when {@link noBrowserReason} is set.
 */
export function useBrowserPages(folderPrefix: string): BrowserPages {
  let dir: string | undefined;
  let browser: HeadlessBrowser | undefined;
  const problems: string[] = [];
  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), folderPrefix));
    browser = await launchChromium();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  return {
    problems,
    folder: () => dir!,
    async open(document, name) {
      const file = path.join(dir!, name);
      writeFileSync(file, document, 'utf8');
      return browser!.open(file, problems);
    },
  };
}
