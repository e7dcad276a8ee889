/**
 * A headless Chromium for the report's browser tests, when one is installed: CHROMIUM_PATH,
 * else Debian's /usr/bin/chromium (or /usr/bin/chromium-browser). Launched with a fresh
 * profile, no sandbox (CI runs as root) and nothing fetched in the background.
 */
import { existsSync, mkdtempSync, rmSync } from 'fs';
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
