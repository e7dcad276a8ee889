/** The history of a request name (pure): key layout, entries of runs, merge, ordering and bounds, and its renderings. */
import {
  MAX_RUN_HISTORY_LENGTH,
  buildRunHistory,
  mergeRunHistory,
  renderRunHistoryHtml,
  renderRunHistoryMarkdown,
  runHistoryEntriesPrefix,
  runHistoryEntryKey,
  runHistoryEntryOf,
  runHistoryFileKeys,
  runsPrefixOf,
} from '../../lambda/shared/leaderboard/run-history';
import { historyBoard, historyEntry } from './history-fixtures';
import { variantRecord } from './leaderboard-fixtures';

describe('run history layout', () => {
  it('keys sort newest start first, so one bounded listing finds the latest runs', () => {
    const keys = [0, 5, 2, 9].map((i) => runHistoryEntryKey('runs/', historyEntry(i)));
    expect(keys[0]).toMatch(/^runs\/history\/chartqa\/runs\/\d{13}-chartqa-000000000000\.json$/);
    expect([...keys].sort()).toEqual([keys[3], keys[1], keys[2], keys[0]]);
    expect(runHistoryEntriesPrefix('runs/', 'chartqa')).toBe('runs/history/chartqa/runs/');
    expect(runHistoryFileKeys('runs/', 'chartqa')).toEqual({ json: 'runs/history/chartqa/leaderboard.json', markdown: 'runs/history/chartqa/leaderboard.md', html: 'runs/history/chartqa/leaderboard.html' });
  });

  it('finds the runs prefix of a run, and refuses names that cannot be a folder', () => {
    expect(runsPrefixOf({ runId: 'a-0123456789ab', artifacts: { bucket: 'b', prefix: 'team/runs/a-0123456789ab/' } })).toBe('team/runs/');
    expect(() => runsPrefixOf({ runId: 'a-1', artifacts: { bucket: 'b', prefix: 'runs/other/' } })).toThrow(/does not end with "a-1\/"/);
    expect(() => runHistoryFileKeys('runs/', '../x')).toThrow(/is not 1-40 letters, digits or hyphens/);
  });

  it('keeps what the leaderboard shows of a run record, failed runs with their error', () => {
    const ok = runHistoryEntryOf(variantRecord('exp-000000000000', { name: 'a', f1: 75, em: 60, gate: { evaluated: true, passed: true } }));
    expect(ok).toMatchObject({
      runId: 'exp-000000000000-a',
      requestName: 'sweep',
      startedAt: '2026-12-01T10:00:00.000Z',
      finishedAt: '2026-12-01T12:00:00.000Z',
      status: 'SUCCEEDED',
      model: 'llama3.2-11b',
      hyperParameters: { epochCount: 2, learningRate: 0.0001 },
      scores: { fineTunedF1: 75, fineTunedExactMatch: 60, baseF1: 50 },
      gate: { evaluated: true, passed: true },
      error: null,
    });
    const failed = runHistoryEntryOf(variantRecord('exp-000000000000', { name: 'b', error: { name: 'Boom', cause: 'x'.repeat(5000) } }));
    expect(failed.scores).toBeNull();
    expect(failed.error!.startsWith('Boom: xxx')).toBe(true);
    expect(failed.error!.length).toBeLessThanOrEqual(1000);
  });
});

describe('mergeRunHistory', () => {
  it('orders by start, oldest first, keeps the last N, and one entry per run (the one that finished last)', () => {
    const entries = [7, 1, 4, 0, 9, 3].map((i) => historyEntry(i));
    const rewritten = historyEntry(4, { finishedAt: '2026-12-03T00:00:00.000Z', status: 'FAILED' });
    const merged = mergeRunHistory([...entries, rewritten, historyEntry(4)], 4);
    expect(merged.map((e) => e.runId.slice(-2))).toEqual(['03', '04', '07', '09']);
    expect(merged[1].status).toBe('FAILED');
    expect(mergeRunHistory(entries, 100)).toHaveLength(6);
    expect(mergeRunHistory([], 5)).toEqual([]);
  });

  it('refuses a length outside 1..1,000', () => {
    expect(() => mergeRunHistory([], 0)).toThrow(`The run history length must be a whole number of runs from 1 to ${MAX_RUN_HISTORY_LENGTH}, got 0.`);
    expect(() => mergeRunHistory([], MAX_RUN_HISTORY_LENGTH + 1)).toThrow(/from 1 to 1000/);
  });
});

describe('buildRunHistory and its renderings', () => {
  it('names the highest F1 run and how F1 moved from the first to the latest scored run shown', () => {
    const entries = Array.from({ length: 8 }, (_, i) => historyEntry(i));
    const history = buildRunHistory({ requestName: 'chartqa', environment: 'dev', generatedAt: '2026-12-02T00:00:00Z', limit: 5, entries: [...entries, historyEntry(99, { requestName: 'other' })] });
    expect(history.runs.map((r) => r.runId.slice(-1))).toEqual(['3', '4', '5', '6', '7']);
    expect(history.bestRunId).toBe('chartqa-000000000006');
    // Runs 3 and 7 failed: the first scored run shown is 4 (F1 68), the latest 6 (F1 72).
    expect(history.f1Change).toEqual({ fromRunId: 'chartqa-000000000004', toRunId: 'chartqa-000000000006', points: 4 });
    const single = buildRunHistory({ requestName: 'chartqa', environment: 'dev', generatedAt: 'x', limit: 5, entries: [historyEntry(0)] });
    expect(single.f1Change).toBeNull();
  });

  it('Markdown: a row per run with the documented columns, untrusted text escaped', () => {
    const history = buildRunHistory({
      requestName: 'chartqa',
      environment: 'dev',
      generatedAt: '2026-12-02T00:00:00Z',
      limit: 5,
      entries: [historyEntry(0), historyEntry(3, { error: 'Boom: <script>x</script> | \u001b[2J' })],
    });
    const md = renderRunHistoryMarkdown(history);
    expect(md).toContain('| # | Run | Started | Status | Model | Hyperparameters | Fine-tuned F1 | Exact match | Base F1 | F1 vs base | Quality gate |');
    expect(md).toContain('| 1 | chartqa-000000000000 | 2026-12-01T00:00:00.000Z | succeeded | llama3.2-11b | epochCount=2, learningRate=0.0001 | 60.00 | 50.00 | 50.00 | +20.0% | failed |');
    expect(md).toContain('| 2 | chartqa-000000000003 | 2026-12-01T03:00:00.000Z | failed: Boom: \\<script\\>x\\</script\\> \\| \\\\u001b\\[2J | llama3.2-11b |');
    expect(md).not.toContain('\u001b');
  });

  it('HTML: the F1-over-runs chart has a fine-tuned and a base line with a point per scored run, names escaped', () => {
    const html = renderRunHistoryHtml(historyBoard(5));
    const polylines = [...html.matchAll(/<polyline points="([^"]*)"/g)].map((m) => m[1].split(' ').length);
    expect(polylines).toEqual([5, 5]);
    expect(html).toContain('Fine-tuned F1');
    expect(html.match(/<tr data-run-id=/g)).toHaveLength(5);
    const hostile = renderRunHistoryHtml(buildRunHistory({ requestName: 'chartqa', environment: '<b>dev</b>', generatedAt: 'x', limit: 5, entries: [historyEntry(3, { error: '<img src=x>' })] }));
    expect(hostile).not.toContain('<img');
    expect(hostile).not.toContain('<b>dev');
    expect(hostile).toContain('&lt;img src=x&gt;');
  });
});
