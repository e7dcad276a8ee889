/**
 * The report's renderings: the Markdown table, the self-contained and escaped HTML (also
 * written to a temporary file, as a person would open it), and the notification summary.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { buildEvaluationReport, renderNotificationSummary, renderReportHtml, renderReportMarkdown } from '../../lambda/shared/report';
import { HOSTILE_ANSWER, sampleInput } from './report-fixtures';

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
    for (const record of report.lowest) expect(markdown).toContain(`Record ${record.recordId}`);
    expect(markdown).toContain('_(no answer: inference failed)_');
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

  it('lists the failed checks when the gate fails', () => {
    const failed = buildEvaluationReport(sampleInput({ qualityGate: { minF1: 99 } }));
    const text = renderNotificationSummary(failed);
    expect(text.split('\n')[0]).toContain('quality gate FAILED');
    expect(text).toContain(`FAIL: fine-tuned F1 ${f2(failed.scores.fineTuned.f1)} is below the minimum 99.00.`);
  });
});
