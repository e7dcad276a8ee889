/**
 * The HTML report in a real headless browser (Chromium through playwright-core), opened from a
 * file as a person would: it renders without console errors or failed requests, and the loss
 * chart, the examples' images, their placeholders and the stand-in marks are visible.
 *
 * Needs a Chromium binary (see headless-chromium.ts; .ci/run installs Debian's). Without one the
 * tests are skipped and the reason is printed.
 */
import * as path from 'path';
import { REPORT_IMAGE_BOX, ReportImage, buildEvaluationReport, imagePlaceholder, renderReportHtml, reportImageOf } from '../../lambda/shared/report';
import { gifImage, jpegImage, pngImage } from '../support/images';
import { noBrowserReason, useBrowserPages } from './headless-chromium';
import { chartUri, sampleInput } from './report-fixtures';

if (noBrowserReason) process.stdout.write(`report-browser.test.ts: skipped, ${noBrowserReason}.\n`);
const describeInBrowser = noBrowserReason ? describe.skip : describe;

describeInBrowser('the HTML report in headless Chromium', () => {
  const pages = useBrowserPages('report-browser-');
  const { problems } = pages;

  // Records 0, 3, 6 and 9 show a chart; record 0 has full marks, so with room for every example
  // the images come in example order: record 6 (line 9), 9 (line 12), 3 (line 6).
  const images = new Map<string, ReportImage>([
    [chartUri(3), reportImageOf(chartUri(3), pngImage(800, 400), pngImage(800, 400).length, { maxImages: 10, maxBytesPerImage: 256 * 1024 })],
    [chartUri(6), reportImageOf(chartUri(6), jpegImage(120, 90), jpegImage(120, 90).length, { maxImages: 10, maxBytesPerImage: 256 * 1024 })],
    [chartUri(9), imagePlaceholder(chartUri(9), '3.2 MiB is over the 256 KiB an embedded image may have')],
  ]);
  const report = buildEvaluationReport(sampleInput({ madeWithStandIns: true, lowestCount: 20 }));
  const html = renderReportHtml(report, { images });

  const open = (document: string, name: string) => pages.open(document, name);

  it('renders with no console errors, the chart drawn and the demo banner on top', async () => {
    const page = await open(html, 'report.html');
    expect(await page.title()).toBe('[Offline demo, stand-in figures] Evaluation report: chartqa-11b');
    const chart = page.locator('.chart svg');
    expect(await chart.isVisible()).toBe(true);
    const box = (await chart.boundingBox())!;
    expect(box.width).toBeGreaterThan(300);
    expect(box.height).toBeGreaterThan(100);
    // Both loss curves are drawn with real length.
    const lengths = await page.$$eval('.chart svg polyline', (lines) => lines.map((l) => (l as unknown as { getTotalLength(): number }).getTotalLength()));
    expect(lengths).toHaveLength(2);
    for (const length of lengths) expect(length).toBeGreaterThan(50);

    const banner = page.locator('.standin-banner');
    expect(await banner.isVisible()).toBe(true);
    expect(await banner.innerText()).toContain('Offline demo: these are not real model results.');
    // The banner comes before the first figure, and every headline figure carries the mark.
    const bannerTop = (await banner.boundingBox())!.y;
    expect((await page.locator('.headline').boundingBox())!.y).toBeGreaterThan(bannerTop);
    expect(await page.locator('.headline .figure .standin').count()).toBe(3);
    for (const heading of ['Scores', 'Quality gate', 'Training loss', 'Lowest-scoring examples', 'Latency, tokens and cost figures']) {
      expect(await page.locator('h2', { hasText: heading }).locator('.standin').isVisible()).toBe(true);
    }
    await page.screenshot({ path: path.join(pages.folder(), 'report.png'), fullPage: true });
    await page.close();
    expect(problems).toEqual([]);
  }, 60_000);

  it('shows the examples\' images decoded, scaled down into the box, and a visible placeholder for the one not embedded', async () => {
    const page = await open(html, 'report-images.html');
    const shown = await page.$$eval('.example img', (imgs) =>
      imgs.map((img) => {
        const i = img as unknown as { alt: string; complete: boolean; naturalWidth: number; naturalHeight: number };
        const r = img.getBoundingClientRect();
        return { alt: i.alt, complete: i.complete, naturalWidth: i.naturalWidth, naturalHeight: i.naturalHeight, width: r.width, height: r.height };
      }),
    );
    expect(shown).toEqual([
      { alt: 'Image of line 9', complete: true, naturalWidth: 120, naturalHeight: 90, width: 120, height: 90 },
      { alt: 'Image of line 6', complete: true, naturalWidth: 800, naturalHeight: 400, width: REPORT_IMAGE_BOX.width, height: 160 },
    ]);
    for (const img of await page.locator('.example img').all()) expect(await img.isVisible()).toBe(true);
    const placeholder = page.locator('.example .image-placeholder .box');
    expect(await placeholder.isVisible()).toBe(true);
    expect(await placeholder.innerText()).toBe('Image of line 12 not embedded: 3.2 MiB is over the 256 KiB an embedded image may have.');
    expect((await placeholder.boundingBox())!.height).toBeGreaterThan(50);
    await page.close();
    expect(problems).toEqual([]);
  }, 60_000);

  it('fits a narrow phone screen: an image never overflows its example', async () => {
    const page = await open(renderReportHtml(report, { images: new Map([[chartUri(3), reportImageOf(chartUri(3), gifImage(2000, 300), gifImage(2000, 300).length, { maxImages: 10, maxBytesPerImage: 256 * 1024 })]]) }), 'narrow.html');
    await page.setViewportSize({ width: 360, height: 800 });
    const fits = await page.$$eval('.example img', (imgs) =>
      imgs.map((img) => img.getBoundingClientRect().right <= img.closest('.example')!.getBoundingClientRect().right + 0.5),
    );
    expect(fits).toEqual([true]);
    await page.close();
    expect(problems).toEqual([]);
  }, 60_000);
});
