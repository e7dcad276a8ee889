/** The experiment leaderboard (pure): ranking, ties, failed variants, the best-variant rule, escaping, renderers and the summary. */
import {
  BEST_VARIANT_RULE,
  LEADERBOARD_SUMMARY_MAX_CHARS,
  buildLeaderboard,
  renderLeaderboardHtml,
  renderLeaderboardMarkdown,
  renderLeaderboardSummary,
} from '../../lambda/shared/leaderboard';
import { LeaderboardVariantInput } from '../../lambda/shared/leaderboard/leaderboard-model';
import { VariantFixture, variantRecord, variantRunId } from './leaderboard-fixtures';

const EXPERIMENT = 'sweep-0123456789ab';
const GENERATED = '2026-12-01T12:30:00.000Z';

function board(variants: VariantFixture[], missing: string[] = []) {
  const inputs: LeaderboardVariantInput[] = variants.map((v) => ({ name: v.name, runId: variantRunId(EXPERIMENT, v.name), record: variantRecord(EXPERIMENT, v) }));
  for (const name of missing) inputs.push({ name, runId: variantRunId(EXPERIMENT, name), missing: `no run record at s3://b/runs/${name}/run.json` });
  return buildLeaderboard({ experimentRunId: EXPERIMENT, requestName: 'sweep', variants: inputs, generatedAt: GENERATED });
}

describe('buildLeaderboard', () => {
  it('ranks by fine-tuned F1, then exact match, and lists failed variants last with their error', () => {
    const b = board([
      { name: 'broken', error: { name: 'ModelCustomizationJobFailed', cause: 'Bedrock: data invalid' } },
      { name: 'low', f1: 60 },
      { name: 'high-em', f1: 80, em: 70 },
      { name: 'high', f1: 80, em: 60 },
      { name: 'best-f1', f1: 85, em: 10 },
    ]);
    expect(b.entries.map((e) => [e.name, e.rank, e.standing])).toEqual([
      ['best-f1', 1, 'RANKED'],
      ['high-em', 2, 'RANKED'],
      ['high', 3, 'RANKED'],
      ['low', 4, 'RANKED'],
      ['broken', null, 'FAILED'],
    ]);
    expect(b.entries[4].error).toBe('ModelCustomizationJobFailed: Bedrock: data invalid');
    expect(b.best).toEqual({ name: 'best-f1', runId: variantRunId(EXPERIMENT, 'best-f1') });
    expect(b.ties).toEqual([]);
    expect(b.baseline).toEqual({ f1: 50, exactMatch: 40, shared: true });
    expect(b.entries[0].scores!.relativeImprovementPercent).toBeCloseTo(70);
    expect(b.entries[0].finalTrainingLoss).toBe(0.5);
    expect(b.entries[0].finalValidationLoss).toBeCloseTo(0.6);
    expect(b.entries[0].cost).toEqual({ estimatedTokens: 30_000, estimatedDollars: 1.5, provisionedThroughputHours: 1.2, modelUnits: 1, provisionedThroughputDollars: 40 });
    expect(b.totals).toEqual({ variants: 5, ranked: 4, failed: 1, estimatedTokens: 150_000, estimatedDollars: 7.5 });
    expect(b.bestRule).toBe(BEST_VARIANT_RULE);
  });

  it('states ties: equal F1 and exact match at two decimals share a rank and keep request order', () => {
    const b = board([
      { name: 'first', f1: 70.001, em: 50 },
      { name: 'top', f1: 90, em: 50 },
      { name: 'second', f1: 69.999, em: 50 },
      { name: 'last', f1: 10 },
    ]);
    expect(b.entries.map((e) => [e.name, e.rank, e.tiedWith])).toEqual([
      ['top', 1, []],
      ['first', 2, ['second']],
      ['second', 2, ['first']],
      ['last', 4, []],
    ]);
    expect(b.ties).toEqual([['first', 'second']]);
    const md = renderLeaderboardMarkdown(b);
    expect(md).toContain('| =2 | first |');
    expect(md).toContain('Tie: first, second have the same fine-tuned F1 and exact match');
  });

  it('names the first of tied best variants and says so', () => {
    const b = board([
      { name: 'a', f1: 80, em: 50 },
      { name: 'b', f1: 80, em: 50 },
    ]);
    expect(b.best!.name).toBe('a');
    expect(b.bestReason).toMatch(/ties with b and comes first in the request/);
  });

  it('skips variants whose gate failed when naming the best', () => {
    const b = board([
      { name: 'top-failed-gate', f1: 90, gate: { evaluated: true, passed: false } },
      { name: 'passed', f1: 70, gate: { evaluated: true, passed: true } },
      { name: 'no-gate', f1: 60 },
    ]);
    expect(b.entries[0].name).toBe('top-failed-gate');
    expect(b.best!.name).toBe('passed');
  });

  it('names no best when no variant was evaluated, or every evaluated one failed its gate', () => {
    const none = board([{ name: 'x', error: { name: 'Boom', cause: 'job failed' } }, { name: 'y' }], ['z']);
    expect(none.best).toBeNull();
    expect(none.bestReason).toBe('No variant was evaluated successfully, so none is named best.');
    expect(none.baseline).toBeNull();
    expect(none.entries.map((e) => [e.name, e.standing, e.status])).toEqual([
      ['y', 'NOT_EVALUATED', 'SUCCEEDED'],
      ['x', 'FAILED', 'FAILED'],
      ['z', 'FAILED', 'MISSING'],
    ]);
    expect(none.entries[2].error).toBe('no run record at s3://b/runs/z/run.json');
    expect(renderLeaderboardSummary(none)).toContain('No best variant: No variant was evaluated successfully');

    const gated = board([{ name: 'a', f1: 80, gate: { evaluated: true, passed: false } }]);
    expect(gated.best).toBeNull();
    expect(gated.bestReason).toBe('All 1 evaluated variant(s) failed their quality gate, so none is named best.');
  });

  it('says when the variants were not scored against one shared baseline', () => {
    const b = board([
      { name: 'a', f1: 80, baseF1: 50 },
      { name: 'b', f1: 70, baseF1: 40 },
    ]);
    expect(b.baseline!.shared).toBe(false);
    expect(renderLeaderboardMarkdown(b)).toContain('no shared baseline');
  });

  it('refuses duplicate names, duplicate run ids and a record of another run', () => {
    const record = variantRecord(EXPERIMENT, { name: 'a', f1: 1 });
    const make = (variants: LeaderboardVariantInput[]) => () => buildLeaderboard({ experimentRunId: EXPERIMENT, requestName: 'sweep', variants, generatedAt: GENERATED });
    expect(make([])).toThrow(/at least one variant/);
    expect(make([{ name: 'a', runId: 'r1' }, { name: 'a', runId: 'r2' }])).toThrow(/variants\[1\]\.name "a" is given twice/);
    expect(make([{ name: 'a', runId: 'r1' }, { name: 'b', runId: 'r1' }])).toThrow(/variants\[1\]\.runId "r1" is given twice/);
    expect(make([{ name: 'a', runId: 'other', record }])).toThrow(/names run "other" but its record is of run "sweep-0123456789ab-a"/);
  });
});

describe('leaderboard renderers', () => {
  const hostile = '<img src=x onerror=alert(1)>|**x**';
  const b = board([
    { name: 'good', f1: 80, hyperParameters: { epochCount: 3 } },
    { name: hostile, f1: 70 },
    { name: 'bad', error: { name: 'Failed', cause: '<script>alert(2)</script> | `rm -rf` \u001b[31m\u202e' } },
  ]);

  it('Markdown: one row per variant in rank order, columns as documented, untrusted text escaped', () => {
    const md = renderLeaderboardMarkdown(b);
    expect(md).toContain('| Rank | Variant | Status | Model | Hyperparameters | Fine-tuned F1 | Exact match | F1 vs base | Final training loss | Final validation loss | Quality gate | Cost |');
    const rows = md.split('\n').filter((l) => /^\| (\d|=|–)/.test(l));
    expect(rows).toHaveLength(3);
    expect(rows[0]).toMatch(/^\| 1 \| good \| evaluated \| llama3\.2-11b \| epochCount=3 \| 80\.00 \| 40\.00 \| \+60\.0% \| 0\.5000 \| 0\.6000 \| no gate \| \$1\.50 estimated; Provisioned Throughput 1\.20 h x 1 MU \(\$40\.00\) \|$/);
    expect(rows[2]).toContain('failed: Failed: ');
    // Every < of untrusted text is backslash-escaped, so no viewer reads it as HTML.
    expect(md).not.toMatch(/(?<!\\)<(img|script)/);
    expect(md).toContain('\\<img src=x onerror=alert(1)\\>\\|\\*\\*x\\*\\*');
    expect(md).not.toContain('\u001b');
    expect(md).not.toContain('\u202e');
    expect(md).toContain('**Best variant: good');
    expect(md).toContain(BEST_VARIANT_RULE.slice(0, 40));
  });

  it('HTML: self-contained, escaped, best named, one chart line per variant with a loss curve', () => {
    const html = renderLeaderboardHtml(b);
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toContain('<img');
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(html).toContain('&lt;script&gt;alert(2)&lt;/script&gt;');
    expect(html).not.toMatch(/(src|href)="https?:/);
    expect(html).toContain('Best variant: good');
    expect(html.match(/<tr class="(ranked|failed|not-evaluated)"/g)).toHaveLength(3);
    // The failed variant has no loss curve: two lines, and its legend says "(no data)".
    expect(html.match(/<polyline /g)).toHaveLength(2);
    expect(html).toContain('bad (no data)');
  });

  it('the chart keeps up to 8 variants apart: 8 lines, legend rows inside the picture', () => {
    const eight = board(Array.from({ length: 8 }, (_, i) => ({ name: `variant-number-${i + 1}`, f1: 50 + i, loss: [2 + i / 10, 0.4 + i / 10] as [number, number] })));
    const html = renderLeaderboardHtml(eight);
    const lines = [...html.matchAll(/<polyline [^>]*stroke="([^"]+)"[^>]*?( stroke-dasharray="6 4")?\/>/g)];
    expect(lines).toHaveLength(8);
    expect(new Set(lines.map((l) => l[1])).size).toBe(8);
    expect(lines.filter((l) => l[2]).length).toBe(4);
    const legendYs = [...html.matchAll(/<text x="\d+(?:\.\d+)?" y="(\d+)" dominant-baseline="middle" fill="#24292f">variant-number/g)].map((m) => Number(m[1]));
    expect(legendYs).toHaveLength(8);
    expect(Math.max(...legendYs)).toBeGreaterThan(16);
    expect(Math.max(...legendYs)).toBeLessThan(100);
  });

  it('summary: best, ranking and failures in at most 1,000 characters, control characters shown escaped', () => {
    const summary = renderLeaderboardSummary(b);
    expect(summary).toMatch(/^Experiment sweep \(run sweep-0123456789ab\): 3 variant\(s\), 2 ranked, 1 failed\. Best: good, fine-tuned F1 80\.00 \(exact match 40\.00, \+60\.0% vs base F1 50\.00\), gate no gate\. Ranking: 1\. good F1 80\.00; 2\. /);
    expect(summary).toContain('Failed: bad (Failed: <script>');
    expect(summary).not.toContain('\u001b');
    expect(summary).toContain('\\u001b');
    const long = board(Array.from({ length: 8 }, (_, i) => ({ name: `v${i}`, error: { name: 'Failed', cause: 'x'.repeat(5000) } })));
    const cut = renderLeaderboardSummary(long);
    expect(cut.length).toBeLessThanOrEqual(LEADERBOARD_SUMMARY_MAX_CHARS);
    expect(cut.endsWith('…')).toBe(true);
  });
});
