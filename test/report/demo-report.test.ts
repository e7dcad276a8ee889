/**
 * `npm run demo` as a user runs it (a child process): its report says at a glance that the
 * figures come from the stand-ins (report.json, report.html, report.md), and shows the demo's
 * chart images. The demo writes its copies to DEMO_OUTPUT_DIR, a temporary folder here.
 */
import { spawnSync } from 'child_process';
import { mkdtempSync, readFileSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { EvaluationReport } from '../../lambda/shared/report';

const ROOT = path.join(__dirname, '..', '..');

describe('the offline demo\'s report', () => {
  let dir: string;
  let run: ReturnType<typeof spawnSync>;

  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'demo-report-'));
    // As `npm run demo` runs it (package.json).
    run = spawnSync(process.execPath, ['-r', path.join(ROOT, 'scripts', 'esbuild-register.js'), path.join(ROOT, 'demo', 'run-demo.ts')], {
      cwd: ROOT,
      env: { ...process.env, DEMO_OUTPUT_DIR: dir },
      encoding: 'utf8',
      timeout: 240_000,
    });
  }, 250_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('runs to the end and marks its figures as coming from the stand-ins', () => {
    expect({ status: run.status, stderr: String(run.stderr).slice(-2000) }).toEqual({ status: 0, stderr: expect.any(String) });
    const report = JSON.parse(readFileSync(path.join(dir, 'report.json'), 'utf8')) as EvaluationReport;
    expect(report.madeWithStandIns).toBe(true);
    const html = readFileSync(path.join(dir, 'report.html'), 'utf8');
    expect(html).toContain('<title>[Offline demo, stand-in figures] Evaluation report: demo-charts-11b</title>');
    expect(html).toContain('<div class="standin-banner" role="note"><strong>Offline demo: these are not real model results.</strong>');
    expect(readFileSync(path.join(dir, 'report.md'), 'utf8')).toContain('> **Offline demo: these are not real model results.**');
    // The demo's questions are about its charts: each example shows its (small) chart.
    expect(report.lowest.length).toBeGreaterThan(0);
    expect(html.match(/<img src="data:image\/png;base64,/g)).toHaveLength(report.lowest.length);
    for (const record of report.lowest) expect(html).toContain(`alt="Image of line ${record.line}"`);
  });
});
