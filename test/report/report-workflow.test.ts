/**
 * The report as the synthesized workflow writes it, offline: the score-evaluation function
 * reads the examples' images from the dataset bucket with its own role (checked by the IAM
 * check), embeds the small ones, puts a placeholder on the one over the size limit, names each
 * example's line in the test file, and marks the stand-in figures because the runner gives the
 * functions REPORT_MADE_WITH_STAND_INS, as the offline demo does. The report is then opened in
 * headless Chromium when one is installed.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { Duration } from 'aws-cdk-lib';
import { DEFAULT_REPORT_IMAGE_LIMITS, EvaluationReport } from '../../lambda/shared/report';
import { ConverseInvocation } from '../support/local-bedrock-runtime';
import { pngImage } from '../support/images';
import { TEST_PROPS, WorkflowHarness, arithmeticRecords, startHarness } from '../workflow/harness';
import { launchChromium, noBrowserReason } from './headless-chromium';

const TEST_RECORDS = 8;
/** Over the report's per-image limit, well under Bedrock's 10 MB, so validation accepts it. */
const BIG_IMAGE_BYTES = DEFAULT_REPORT_IMAGE_LIMITS.maxBytesPerImage + 40_000;

/** Line i + 1 asks "What is i plus i+1?" about chart-(i % 2): even lines show the big one. */
function testRecords(bucket: string): string {
  return Array.from({ length: TEST_RECORDS }, (_, i) =>
    JSON.stringify({
      schemaVersion: 'bedrock-conversation-2024',
      system: [{ text: 'Answer with a number only.' }],
      messages: [
        {
          role: 'user',
          content: [
            { text: `What is ${i} plus ${i + 1}?` },
            { image: { format: 'png', source: { s3Location: { uri: `s3://${bucket}/data/images/chart-${i % 2}.png`, bucketOwner: '111122223333' } } } },
          ],
        },
        { role: 'assistant', content: [{ text: String(2 * i + 1) }] },
      ],
    }),
  ).join('\n');
}

/** The fine-tuned model is right except on records 2 and 5; the base model always rambles. */
function respond(invocation: ConverseInvocation): string {
  const [a, b] = (/What is (\d+) plus (\d+)/.exec(invocation.lastUserText) ?? []).slice(1).map(Number);
  if (invocation.target.kind === 'provisioned-model') return a === 2 || a === 5 ? 'no idea' : String(a + b);
  return `The sum is ${a + b}.`;
}

describe('the report written by the workflow (offline, stand-ins flagged)', () => {
  let h: WorkflowHarness;
  let report: EvaluationReport;
  let html: string;
  const small = pngImage(300, 150);

  beforeAll(async () => {
    h = await startHarness(
      { ...TEST_PROPS, evaluation: { shardSize: 4, maxConcurrency: 2, provisioningPollInterval: Duration.minutes(1) } },
      { functionEnvironment: { REPORT_MADE_WITH_STAND_INS: 'true' } },
    );
    h.aws.runtime.respond = respond;
    h.aws.s3.putObject(h.datasets, 'data/train.jsonl', arithmeticRecords(120));
    h.aws.s3.putObject(h.datasets, 'data/images/chart-0.png', pngImage(200, 100, { paddingBytes: BIG_IMAGE_BYTES - pngImage(200, 100).length - 12 }));
    h.aws.s3.putObject(h.datasets, 'data/images/chart-1.png', small);
    h.aws.s3.putObject(h.datasets, 'data/test.jsonl', testRecords(h.datasets));
    const { executions } = await h.upload('requests/charts.json', { name: 'charts', model: 'llama3.2-11b', trainingData: 'data/train.jsonl', testData: 'data/test.jsonl', evaluation: { maxTokens: 16 } });
    const outcome = await executions[0].result;
    await h.runner.idle();
    if (outcome.status !== 'SUCCEEDED') throw new Error(`run ${outcome.status}: ${outcome.error} ${outcome.cause}`);
    const runId = h.runRecords()[0].runId;
    report = JSON.parse(h.aws.s3.getObject(h.artifacts, `runs/${runId}/report.json`)!.toString()) as EvaluationReport;
    html = h.aws.s3.getObject(h.artifacts, `runs/${runId}/report.html`)!.toString();
  }, 240_000);
  afterAll(async () => h?.stop());

  test('every record lost points (the base model never answers exactly), each example has its line and image', () => {
    expect(report.lostPoints).toBe(TEST_RECORDS);
    // Fine-tuned wrong first (lines 3 and 6), then the others in file order.
    expect(report.lowest.map((r) => r.line)).toEqual([3, 6, 1, 2, 4, 5, 7, 8]);
    for (const record of report.lowest) expect(record.imageUris).toEqual([`s3://${h.datasets}/data/images/chart-${(record.line! - 1) % 2}.png`]);
    expect(report.run.testDataUri).toBe(`s3://${h.datasets}/data/test.jsonl`);
  });

  test('the small image is embedded once per example, the big one is a placeholder with its size', () => {
    const embedded = `<img src="data:image/png;base64,${small.toString('base64')}" width="300" height="150" alt="Image of line `;
    expect(html.split(embedded)).toHaveLength(1 + TEST_RECORDS / 2);
    const placeholders = html.match(new RegExp(`Image of line \\d+ not embedded: ${Math.round(BIG_IMAGE_BYTES / 1024)} KiB is over the 256 KiB an embedded image may have\\.`, 'g')) ?? [];
    expect(placeholders).toHaveLength(TEST_RECORDS / 2);
    expect(html).toContain(`<h3>1. Line 3 of the test file</h3>`);
  });

  test('the stand-in figures are marked because the run\'s functions were told so', () => {
    expect(report.madeWithStandIns).toBe(true);
    expect(html).toContain('<div class="standin-banner" role="note"><strong>Offline demo: these are not real model results.</strong>');
  });

  test('the images were read by the scoring function with its own grants, one ranged read each', () => {
    const scorer = h.runner.functionLogicalId('score-evaluation');
    const reads = h.aws.callLog.entries({ principal: scorer, operation: 'GetObject' }).filter((c) => c.resources.some((r) => r.includes('/data/images/')));
    expect(reads.map((c) => c.resources[0].replace(/^.*\/data\//, 'data/')).sort()).toEqual(['data/images/chart-0.png', 'data/images/chart-1.png']);
    expect(h.runner.checkIam().denied).toEqual([]);
  });

  (noBrowserReason ? test.skip : test)('opens in headless Chromium with the images decoded and no console errors', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'workflow-report-'));
    const browser = await launchChromium();
    try {
      const file = path.join(dir, 'report.html');
      writeFileSync(file, html);
      const problems: string[] = [];
      const page = await browser.open(file, problems);
      const images = await page.$$eval('.example img', (imgs) => imgs.map((i) => (i as unknown as { naturalWidth: number }).naturalWidth));
      expect(images).toEqual(Array(TEST_RECORDS / 2).fill(300));
      for (const img of await page.locator('.example img').all()) expect(await img.isVisible()).toBe(true);
      expect(await page.locator('.image-placeholder .box').count()).toBe(TEST_RECORDS / 2);
      expect(await page.locator('.chart svg').isVisible()).toBe(true);
      expect(await page.locator('.standin-banner').isVisible()).toBe(true);
      expect(problems).toEqual([]);
    } finally {
      await browser.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
