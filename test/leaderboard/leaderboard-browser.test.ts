/**
 * The leaderboards' HTML in a real headless browser (Chromium through playwright-core), opened
 * from a file: no console errors or failed requests, the chart drawn with one line per variant
 * (or per series over runs), and hostile names shown as text.
 *
 * Needs a Chromium binary (see test/report/headless-chromium.ts). Without one the tests are
 * skipped and the reason is printed.
 */
import { buildLeaderboard, renderLeaderboardHtml } from '../../lambda/shared/leaderboard';
import { noBrowserReason, useBrowserPages } from '../report/headless-chromium';
import { variantRecord, variantRunId } from './leaderboard-fixtures';
import { historyBoard } from './history-fixtures';
import { renderRunHistoryHtml } from '../../lambda/shared/leaderboard/run-history';

if (noBrowserReason) process.stdout.write(`leaderboard-browser.test.ts: skipped, ${noBrowserReason}.\n`);
const describeInBrowser = noBrowserReason ? describe.skip : describe;

const EXPERIMENT = 'sweep-0123456789ab';
const HOSTILE = '<img src=x onerror="console.error(1)">';

describeInBrowser('the leaderboards in headless Chromium', () => {
  const pages = useBrowserPages('leaderboard-browser-');
  const { problems } = pages;

  const open = (document: string, name: string) => pages.open(document, name);

  it('the experiment leaderboard renders with no console errors and one drawn line per variant', async () => {
    const names = ['lr-high', 'lr-low', 'epochs-3', 'big', 'small', 'v6', 'v7', HOSTILE];
    const variants = names.map((name, i) => ({ name, runId: variantRunId(EXPERIMENT, `v${i}`), record: { ...variantRecord(EXPERIMENT, { name: `v${i}`, f1: 60 + i, loss: [2 + i / 5, 0.3 + i / 10] }) } }));
    const board = buildLeaderboard({ experimentRunId: EXPERIMENT, requestName: 'sweep', variants, generatedAt: '2026-12-01T12:00:00Z' });
    const page = await open(renderLeaderboardHtml(board), 'leaderboard.html');
    expect(await page.title()).toBe('Leaderboard: sweep');
    const chart = page.locator('.chart svg');
    expect(await chart.isVisible()).toBe(true);
    const lengths = await page.$$eval('.chart svg polyline', (lines) => lines.map((l) => (l as unknown as { getTotalLength(): number }).getTotalLength()));
    expect(lengths).toHaveLength(names.length);
    for (const length of lengths) expect(length).toBeGreaterThan(50);
    // The hostile name is text in the table and the legend, not an element.
    expect(await page.locator('img').count()).toBe(0);
    expect(await page.locator('table.leaderboard tbody tr').count()).toBe(names.length);
    expect(await page.locator('table.leaderboard tbody tr').first().locator('td').nth(1).innerText()).toContain(HOSTILE);
    expect(await page.locator('.best').innerText()).toContain(`Best variant: ${HOSTILE}`);
    // Every legend entry lies inside the picture.
    const svgBox = (await chart.boundingBox())!;
    const legend = await page.locator('.chart svg text', { hasText: /^(lr-|epochs|big|small|v6|v7|<img)/ }).all();
    expect(legend).toHaveLength(names.length);
    for (const text of legend) {
      const box = (await text.boundingBox())!;
      expect(box.x + box.width).toBeLessThanOrEqual(svgBox.x + svgBox.width + 1);
      expect(box.y).toBeGreaterThanOrEqual(svgBox.y);
    }
    await page.close();
    expect(problems).toEqual([]);
  }, 60_000);

  it('the history of a request name renders with no console errors and its F1-over-runs chart drawn', async () => {
    const page = await open(renderRunHistoryHtml(historyBoard(6)), 'history.html');
    expect(await page.title()).toBe('Runs of chartqa: F1 over time');
    const lengths = await page.$$eval('.chart svg polyline', (lines) => lines.map((l) => (l as unknown as { getTotalLength(): number }).getTotalLength()));
    expect(lengths).toHaveLength(2);
    for (const length of lengths) expect(length).toBeGreaterThan(50);
    expect(await page.locator('table.history tbody tr').count()).toBe(6);
    await page.close();
    expect(problems).toEqual([]);
  }, 60_000);
});
