/**
 * The report's renderings: the Markdown table, the self-contained and escaped HTML (also
 * written to a temporary file, as a person would open it), and the notification summary.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { buildEvaluationReport, EvaluationReportInput, PredictionRecord, renderNotificationSummary, renderReportHtml, renderReportMarkdown, reportImageOf } from '../../lambda/shared/report';
import { jpegImage, pngImage } from '../support/images';
import { HOSTILE_ANSWER, chartUri, sampleInput } from './report-fixtures';

/** The sample with every answer of both models exact. */
function allExactInput(): EvaluationReportInput {
  const input = sampleInput();
  const exact = (records: readonly PredictionRecord[]) => records.map((r) => ({ ...r, prediction: r.references[0] }));
  return { ...input, base: exact(input.fineTuned), fineTuned: exact(input.fineTuned) };
}

const report = buildEvaluationReport(sampleInput());
const f2 = (n: number) => n.toFixed(2);

describe('Markdown', () => {
  const markdown = renderReportMarkdown(report);

  it('has the base vs fine-tuned table with the report\'s F1 and exact match', () => {
    const lines = markdown.split('\n');
    const header = lines.indexOf('| Metric | Base model | Fine-tuned model | Change |');
    expect(header).toBeGreaterThan(0);
    expect(lines[header + 1]).toBe('|---|---:|---:|---:|');
    const sign = report.absoluteDelta.f1 >= 0 ? '+' : '-';
    expect(lines[header + 2]).toBe(
      `| F1 | ${f2(report.scores.base.f1)} | ${f2(report.scores.fineTuned.f1)} | ${sign}${f2(Math.abs(report.absoluteDelta.f1))} (+${report.relativeImprovementPercent!.toFixed(1)}%) |`,
    );
    expect(lines[header + 3]).toContain(`| Exact match | ${f2(report.scores.base.exactMatch)} | ${f2(report.scores.fineTuned.exactMatch)} |`);
    // Each row of the table has the header's cells.
    const cells = (line: string) => line.split(/(?<!\\)\|/).length;
    for (let i = header; i <= header + 4; i++) expect(cells(lines[i])).toBe(cells(lines[header]));
  });

  it('shows the gate, the training loss, costs and the lowest examples', () => {
    expect(markdown).toContain('## Quality gate\n\n**PASSED**');
    expect(markdown).toContain(`| Training | ${report.training!.training!.finalLoss.toFixed(4)} |`);
    expect(markdown).toContain('= 3.00 model-unit hours');
    for (const [i, record] of report.lowest.entries()) expect(markdown).toContain(`### ${i + 1}. Line ${record.line} (record ${record.recordId}): fine-tuned F1`);
    expect(markdown).toContain('_(no answer: inference failed)_');
  });

  it('lists only records that lost points, with their line and the images they show', () => {
    expect(markdown).toContain(`Only records that lost points: the 10 lowest of the ${report.lostPoints} record(s) where either model scored below F1 100`);
    expect(markdown).toContain('Lines refer to s3://datasets-bucket/data/test.jsonl.');
    expect(markdown).not.toContain('(record rec-000)');
    // Record 6 (line 9) shows a chart: named, since Markdown viewers do not show data: URIs.
    expect(markdown).toMatch(/### \d+\. Line 9 \(record rec-006\): [^\n]*\n\n- \*\*Image:\*\* s3:\/\/datasets-bucket\/data\/charts\/chart-6\.png\n- \*\*Question:\*\*/);
  });

  it('says every answer was exact instead of listing full-mark records', () => {
    const exact = renderReportMarkdown(buildEvaluationReport(allExactInput()));
    expect(exact).toContain('## Lowest-scoring examples (0 of 11)\n\nEvery answer was exact: both models scored F1 100 on all 11 record(s), so no example lost points.');
    expect(exact).not.toContain('### 1.');
  });

  it('marks the sections whose figures come from stand-ins only when the offline demo made the report', () => {
    expect(markdown).not.toMatch(/stand-in/i);
    const demo = renderReportMarkdown(buildEvaluationReport(sampleInput({ madeWithStandIns: true })));
    expect(demo.split('\n')[2]).toMatch(/^> \*\*Offline demo: these are not real model results\.\*\*/);
    for (const heading of ['## Scores (SQuAD F1 and exact match, 0–100)', '## Quality gate', '## Training loss', '## Latency, tokens and cost figures', '## Lowest-scoring examples (10 of 12)']) {
      expect(demo).toContain(`${heading} (stand-in)\n`);
    }
  });

  it('escapes answers so they cannot inject markup or break the layout', () => {
    expect(markdown).not.toContain('<script>');
    expect(markdown).toContain('\\<script\\>');
    expect(markdown).toContain('\\| \\*\\*bold\\*\\*');
    // No answer line holds an unescaped pipe or a line break that would split it.
    const answerLines = markdown.split('\n').filter((l) => l.startsWith('- **Base answer:**') || l.startsWith('- **Fine-tuned answer:**'));
    expect(answerLines).toHaveLength(2 * report.lowest.length);
    for (const line of answerLines) expect(line).not.toMatch(/(?<!\\)\|/);
  });
});

describe('HTML', () => {
  const html = renderReportHtml(report);

  it('is one self-contained document without scripts or external resources', () => {
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/<(link|img|iframe|object|embed|audio|video)\b|@import|url\(/i);
    expect(html).not.toMatch(/<[^>]+\s(src|href)=/i);
    expect(html.match(/<style>/g)).toHaveLength(1);
  });

  it('embeds images only as data: URIs, whatever the report shows', () => {
    const images = new Map([[chartUri(6), reportImageOf(chartUri(6), pngImage(64, 48), pngImage(64, 48).length, { maxImages: 10, maxBytesPerImage: 1 << 18 })]]);
    const out = renderReportHtml(report, { images });
    const sources = [...out.matchAll(/<img\b[^>]*\ssrc="([^"]*)"/g)].map((m) => m[1]);
    expect(sources).toEqual([`data:image/png;base64,${pngImage(64, 48).toString('base64')}`]);
    expect(out.replace(/<img\b[^>]*>/g, '')).not.toMatch(/<[^>]+\s(src|href)=|url\(|@import/i);
  });

  it('escapes every text from the input', () => {
    expect(html).toContain('&lt;script&gt;alert(&quot;pwned&quot;)&lt;/script&gt;');
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    const hostile = buildEvaluationReport(
      sampleInput({
        run: { ...sampleInput().run, requestName: '<b>name</b>', runId: '"><script>', environment: "o'neil" },
        fineTuned: sampleInput().fineTuned.map((r) => ({ ...r, question: `<script>${r.question}</script>` })),
      }),
    );
    const out = renderReportHtml(hostile);
    expect(out).not.toMatch(/<script|<b>name/);
    expect(out).toContain('&lt;b&gt;name&lt;/b&gt;');
    expect(out).toContain('&quot;&gt;&lt;script&gt;');
    expect(out).toContain('o&#39;neil');
    expect(HOSTILE_ANSWER).toContain('<script>');
  });

  it('has the score table, the gate, the loss chart and the lowest examples', () => {
    expect(html).toContain(`<tr><td>F1</td><td class="num">${f2(report.scores.base.f1)}</td><td class="num">${f2(report.scores.fineTuned.f1)}</td>`);
    expect(html).toContain('Quality gate PASSED');
    expect(html.match(/<svg /g)).toHaveLength(1);
    // One line per curve with every point of the training summary.
    const lines = [...html.matchAll(/<polyline points="([^"]*)"/g)].map((m) => m[1].split(' ').length);
    expect(lines).toEqual([report.training!.training!.curve.length, report.training!.validation!.curve.length]);
    expect(html.match(/<article class="example">/g)).toHaveLength(report.lowest.length);
  });

  it('shows each example\'s line, its image embedded, and a placeholder saying why for the others', () => {
    const jpeg = jpegImage(900, 300);
    const limits = { maxImages: 10, maxBytesPerImage: 1 << 18 };
    const all = buildEvaluationReport(sampleInput({ lowestCount: 20 }));
    // In example order the images are those of records 6 (line 9), 9 (line 12) and 3 (line 6).
    const images = new Map([
      [chartUri(6), reportImageOf(chartUri(6), jpeg, jpeg.length, limits)],
      [chartUri(9), reportImageOf(chartUri(9), pngImage(8, 8, { paddingBytes: 300_000 }).subarray(0, limits.maxBytesPerImage), 300_100, limits)],
    ]);
    const out = renderReportHtml(all, { images, imageLimits: limits });
    const titles = [...out.matchAll(/<h3>([^<]*(?:<code>[^<]*<\/code>)?)<\/h3>/g)].map((m) => m[1]);
    expect(titles).toHaveLength(all.lostPoints);
    expect(titles[0]).toBe(`1. Line ${all.lowest[0].line} of the test file, record <code>${all.lowest[0].recordId}</code>`);
    expect(out).toContain('Lines refer to <code>s3://datasets-bucket/data/test.jsonl</code>.');
    // The embedded JPEG is scaled into the 320 x 240 box by its attributes, aspect kept.
    expect(out).toContain(`<img src="data:image/jpeg;base64,${jpeg.toString('base64')}" width="320" height="107" alt="Image of line 9">`);
    expect(out).toContain('Image of line 12 not embedded: 293 KiB is over the 256 KiB an embedded image may have.');
    expect(out).toContain('Image of line 6 not embedded: the image was not read for this rendering.');
    // Past the count limit, a slot gets a placeholder even when its image was read.
    const one = renderReportHtml(all, { images, imageLimits: { ...limits, maxImages: 0 } });
    expect(one).not.toContain('<img');
    expect(one).toContain('Image of line 9 not embedded: the report embeds at most 0 images.');
  });

  it('says every answer was exact instead of listing full-mark records', () => {
    const out = renderReportHtml(buildEvaluationReport(allExactInput()));
    expect(out).toContain('<p class="note">Every answer was exact: both models scored F1 100 on all 11 record(s), so no example lost points.</p>');
    expect(out).not.toContain('<article class="example">');
  });

  it('marks every figure from the stand-ins, and the title, only when the offline demo made the report', () => {
    expect(html.replace(/<style>[\s\S]*<\/style>/, '')).not.toMatch(/stand-in|standin|Offline demo/i);
    const demo = renderReportHtml(buildEvaluationReport(sampleInput({ madeWithStandIns: true })));
    expect(demo).toContain('<title>[Offline demo, stand-in figures] Evaluation report: chartqa-11b</title>');
    expect(demo).toMatch(/<\/header>\n<div class="standin-banner" role="note"><strong>Offline demo: these are not real model results\.<\/strong>/);
    expect(demo.match(/<div class="label">[^<]*<span class="standin"/g)).toHaveLength(3);
    for (const heading of ['Scores', 'Quality gate', 'Training loss', 'Latency, tokens and cost figures']) expect(demo).toContain(`<h2>${heading}<span class="standin"`);
    expect(demo).toMatch(/<h2>Lowest-scoring examples \(10 of 12\)<span class="standin"/);
    expect(demo).toContain('<h2>Run</h2>');
  });

  it('says when there is no training data or no gate', () => {
    const bare = renderReportHtml(buildEvaluationReport(sampleInput({ training: undefined, qualityGate: undefined })));
    expect(bare).not.toContain('<svg');
    expect(bare).toContain('No training metrics were recorded.');
    expect(bare).toContain('Not configured');
  });

  it('can be written to a file and read back whole', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'report-html-'));
    try {
      const file = path.join(dir, 'report.html');
      writeFileSync(file, html, 'utf8');
      expect(existsSync(file)).toBe(true);
      expect(readFileSync(file, 'utf8')).toBe(html);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('notification summary', () => {
  it('gives the verdict and the figures in a few plain lines', () => {
    const text = renderNotificationSummary(report);
    const lines = text.split('\n');
    expect(lines.length).toBeLessThanOrEqual(8);
    expect(lines[0]).toContain('quality gate PASSED');
    expect(lines[1]).toBe(
      `F1: base ${f2(report.scores.base.f1)} -> fine-tuned ${f2(report.scores.fineTuned.f1)} (+${f2(report.absoluteDelta.f1)} points, +${report.relativeImprovementPercent!.toFixed(1)}%).`,
    );
    expect(text).toContain('Inference failed for 1 base-model and 1 fine-tuned-model answer(s)');
    expect(text).not.toMatch(/<\/?[a-z]|\*\*|\|/i);
  });

  it('opens with the stand-in warning when the offline demo made the report', () => {
    expect(renderNotificationSummary(report)).not.toMatch(/stand-in|demo/i);
    const lines = renderNotificationSummary(buildEvaluationReport(sampleInput({ madeWithStandIns: true }))).split('\n');
    expect(lines[0]).toBe('Offline demo: answers, scores and loss come from local stand-ins, not from Bedrock.');
    expect(lines[1]).toContain('quality gate PASSED');
  });

  it('lists the failed checks when the gate fails', () => {
    const failed = buildEvaluationReport(sampleInput({ qualityGate: { minF1: 99 } }));
    const text = renderNotificationSummary(failed);
    expect(text.split('\n')[0]).toContain('quality gate FAILED');
    expect(text).toContain(`FAIL: fine-tuned F1 ${f2(failed.scores.fineTuned.f1)} is below the minimum 99.00.`);
  });
});
